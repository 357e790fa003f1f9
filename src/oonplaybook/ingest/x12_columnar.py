"""Columnar fast path of the 835 reader: a regular file's service lines read with pyarrow.

Why: the scalar walk (:func:`oonplaybook.ingest.x12._walk_835`) spends ~1.9 us per segment in
Python, and four segments in five of a remittance belong to service lines (SVC and the CAS, DTM,
REF, AMT and LQ under it). For a file that is *regular* (ASCII; ISA..IEA interchanges
throughout, each with a non-whitespace terminator; every SVC under a claim, with plain amounts
and composites; every line-level CAS group one of CO/CR/OA/PI/PR; every line-level AMT*B6
plain; no MOA/MIA after a claim's first SVC) this module:

1. cuts the interchanges and splits and trims their segments in pyarrow (the scalar
   tokenizer's rules: each interchange with its own delimiters, ``str.strip`` whitespace, empty
   segments dropped, segments numbered from 1 across the file) and classifies each segment by
   its tag from its first four bytes (numpy);
2. finds each segment's context as the scalar walk would (a line is open from its SVC until the
   next CLP, SVC, N1, PLB, ST, SE or ISA): the line-level segments are read here, vectorised,
   and **every other segment** (envelope, header, CLP, NM1, claim-level CAS/DTM/REF, PLB...)
   still goes through the scalar walk, so claim and header rules live in one place;
3. after the walk, :func:`assemble` merges the walk's claim-level lines and CAS with the
   vectorised ones in segment order into one chunk of arrays.

Anything irregular returns ``None`` from :func:`plan` (or makes the walk raise
:class:`FastPathFallback` on a rejected claim or a non-835 transaction); the reader then reads
the whole file with the scalar walk, which owns every reject and warning. Equality with the
scalar walk (tables, rejects, balance report, stats, warnings) is tested on the real remits,
the demo, the X12.md variants and randomly damaged files (``tests/test_ingest_columnar.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from oonplaybook.ingest import x12_tokens as tok
from oonplaybook.ingest.errors import NotX12Error

#: Files smaller than this take the scalar walk: the columnar route has ~3 ms of fixed cost
#: (about a hundred pyarrow calls). Measured per file, read and build, 20 files a reader: 14.6 KB
#: 2.4 vs 4.9 ms, 71 KB 6.9 vs 8.2 ms, 142 KB 12.6 vs 12.1 ms, 565 KB 47 vs 34 ms (scalar vs
#: columnar), so the routes cross near 130 KB.
FAST_MIN_BYTES = 131_072

#: What ``str.strip()`` removes from ASCII text (the scalar tokenizer's trim).
WS = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"

_LSTR = pa.large_string()
_PLAIN_UNITS_RE = r"^[0-9]{1,6}(\.[0-9]+)?$"  # within MAX_QUANTITY: cast directly

# segment kinds (0 = any other tag)
SVC, CAS, DTM, REF, AMT, LQ, MOA, MIA, CLP, N1, PLB, ST, SE, ISA = range(1, 15)
_TAGS = {
    "SVC": SVC,
    "CAS": CAS,
    "DTM": DTM,
    "REF": REF,
    "AMT": AMT,
    "LQ": LQ,
    "MOA": MOA,
    "MIA": MIA,
    "CLP": CLP,
    "N1": N1,
    "PLB": PLB,
    "ST": ST,
    "SE": SE,
    "ISA": ISA,
}
_LINE_CLOSERS = (SVC, CLP, N1, PLB, ST, SE, ISA)  # close_line / close_claim in the walk
_CLAIM_CLOSERS = (CLP, N1, PLB, ST, SE, ISA)
_LINE_LEVEL = (CAS, DTM, REF, AMT, LQ)  # read from the open line in the walk
_MASK = np.array([0, 0xFF, 0xFFFF, 0xFFFFFF, 0xFFFFFFFF], dtype=np.uint32)


class FastPathFallback(Exception):  # noqa: N818 (a control-flow signal, not an error)
    """Raised by the walk in fast mode when the file needs the scalar path after all."""


@dataclass
class Plan:
    """A regular file, split: what the scalar walk reads and the vectorised service lines."""

    chunks: list[tuple[tok.Delimiters, Any, list[str]]]  # per interchange: delimiters, and the
    # numbers and texts of the segments the scalar walk reads (numbers: file-wide, from 1)
    starts: list[int]  # the first segment number of each interchange
    svc_counts: Any  # SVC lines per CLP, in CLP order (the walk's claim["nlines"])
    lines: dict[str, Any]  # per SVC line, in segment order
    lq_owner: np.ndarray  # LQ*HE codes: owning line (SVC ordinal) and code, segment order
    lq_code: pa.Array
    cas_seg: pa.Array  # line-level CAS segments, raw
    cas_segno: np.ndarray
    cas_line: np.ndarray  # owning line (SVC ordinal)


def _code(s: str) -> int:
    """The little-endian uint32 of up to four ASCII characters (zero padded)."""
    return int.from_bytes(s.encode("ascii").ljust(4, b"\0"), "little")


def _offsets(arr: pa.Array) -> np.ndarray:
    """The int64 offsets (length + 1) of a large_string array into its data buffer."""
    o = np.frombuffer(arr.buffers()[1], dtype=np.int64)
    return o[arr.offset : arr.offset + len(arr) + 1]


def _split(arr: pa.Array, sep: str) -> tuple[np.ndarray, pa.Array, np.ndarray]:
    """Elements of each string: (list offsets, flat values, element counts)."""
    lst = pc.split_pattern(arr, pattern=sep)
    offs = np.asarray(lst.offsets, dtype=np.int64)
    return offs, lst.flatten(), np.diff(offs)


def _el(parts: tuple[np.ndarray, pa.Array, np.ndarray], j: int) -> pa.Array:
    """Element ``j`` of each split string, "" where the string has fewer elements."""
    offs, vals, cnt = parts
    present = cnt > j
    idx = np.where(present, offs[:-1] + j, 0)
    if present.all():
        return vals.take(pa.array(idx))
    return pc.fill_null(vals.take(pa.array(idx, mask=~present)), "")


def _strip(a: pa.Array) -> pa.Array:
    return pc.utf8_trim(a, characters=WS)


def _all(mask: Any) -> bool:
    return bool(np.all(np.asarray(mask.to_numpy(zero_copy_only=False))))


def _last(owner: np.ndarray, values: pa.Array, n: int) -> pa.Array:
    """Per owner 0..n-1 the value of its last row ("" without rows): the walk's last-wins."""
    out = np.full(n, -1, dtype=np.int64)
    if len(owner):
        rev = owner[::-1]
        u, first = np.unique(rev, return_index=True)
        out[u] = len(owner) - 1 - first
    return pc.fill_null(values.take(pa.array(np.maximum(out, 0), mask=out < 0)), "")


def _units(e5: pa.Array) -> np.ndarray | None:
    """SVC05 as the walk reads it: empty is 1 unit (X221A1), a number is its float value (plain
    forms cast by pyarrow, the rare others by the shared strict rule); None when any value is
    not a valid quantity (the walk rejects that line)."""
    units = np.ones(len(e5), dtype=np.float64)
    plain = pc.match_substring_regex(e5, _PLAIN_UNITS_RE).to_numpy(zero_copy_only=False)
    idx = np.flatnonzero(plain)
    if len(idx):
        units[idx] = pc.cast(e5.take(pa.array(idx)), pa.float64()).to_numpy(zero_copy_only=False)
    odd = np.flatnonzero(~plain & pc.not_equal(e5, "").to_numpy(zero_copy_only=False))
    for i, u in zip(odd.tolist(), e5.take(pa.array(odd)).to_pylist(), strict=True):
        try:
            units[i] = tok.parse_quantity(u, "SVC05 units")
        except tok.InvalidValue:
            return None
    return units


_NON_SPACE = re.compile(r"\S")


def _chunks(data: bytes, name: str) -> list[tuple[tok.Delimiters, pa.Array]] | None:
    """Per interchange (ISA..IEA), its delimiters and trimmed non-empty segments, cut exactly
    as :func:`x12.tokenize` cuts them; None if the file is not ASCII interchanges throughout."""
    if data.startswith(tok.BOM):
        data = data[3:]
    if len(data) < FAST_MIN_BYTES or not data.isascii():
        return None
    text = data.decode("ascii").lstrip()
    n = len(text)
    out: list[tuple[tok.Delimiters, pa.Array]] = []
    pos = 0
    while pos < n:
        if not text.startswith("ISA", pos):
            return None  # envelope-less, or data after an IEA: the tokenizer's warnings
        try:
            d, note = tok.isa_delimiters(text, pos, name)
        except NotX12Error:
            return None
        if note:
            return None  # a repaired ISA: the tokenizer's warning
        sep, comp, term = d.element, d.component, d.segment
        if len({sep, comp, term}) < 3 or any(c in WS or c == "\0" for c in (sep, comp, term)):
            return None  # a newline terminator (CR handling) or odd delimiters
        end, no_iea = tok.interchange_end(text, pos, d)
        if no_iea:
            return None  # an interchange cut short by the next ISA: the walk warns about it
        whole = pa.array([text if (pos, end) == (0, n) else text[pos:end]], type=_LSTR)
        segs = _strip(pc.split_pattern(whole, pattern=term).flatten())
        length = np.diff(_offsets(segs))
        keep = np.flatnonzero(length > 0)
        if len(keep) == 0:
            return None
        if len(keep) < len(segs):
            if keep[-1] - keep[0] + 1 == len(keep):
                segs = segs.slice(int(keep[0]), len(keep))
            else:
                segs = segs.take(pa.array(keep))
        out.append((d, segs))
        nxt = _NON_SPACE.search(text, end)
        pos = nxt.start() if nxt else n
    return out or None


def _kinds(segs: pa.Array, sep: str) -> np.ndarray:
    """Each segment's kind from its tag: ``T`` + separator, or exactly ``T``."""
    offs = _offsets(segs)
    buf = np.frombuffer(segs.buffers()[2], dtype=np.uint8)
    s = offs[:-1]
    length = np.diff(offs)
    pad = np.zeros(len(buf) + 4, dtype=np.uint8)
    pad[: len(buf)] = buf
    # every position's next four bytes as one little-endian uint32 (an unaligned strided view)
    u32 = np.ndarray(shape=(len(buf) + 1,), dtype="<u4", buffer=pad, strides=(1,))
    u = u32[s] & _MASK[np.minimum(length, 4)]
    kind = np.zeros(len(s), dtype=np.int8)
    for tag, k in _TAGS.items():
        with_sep = np.uint32(_code(tag + sep))
        if len(tag) == 3:
            m = u == with_sep
        else:
            m = (u & np.uint32(0xFFFFFF)) == with_sep
        m |= (u == np.uint32(_code(tag))) & (length == len(tag))
        kind[m] = k
    return kind


def _prev(mask: np.ndarray) -> np.ndarray:
    """For each position, the last position strictly before it where ``mask`` holds (-1: none)."""
    idx = np.arange(len(mask), dtype=np.int64)
    last = np.maximum.accumulate(np.where(mask, idx, -1))
    prev = np.empty_like(last)
    prev[:1] = -1
    prev[1:] = last[:-1]
    return prev


def plan(data: bytes, name: str) -> Plan | None:
    """Split a regular 835 into the scalar walk's segments and vectorised service lines.

    None when the file is small or irregular in any way the vectorised rules do not cover (the
    scalar walk then reads it whole, with its rejects and warnings).
    """
    got = _chunks(data, name)
    if got is None:
        return None
    parts: list[Plan] = []
    base = 0
    for d, segs in got:
        p = _plan_interchange(d, segs)
        if p is None:
            return None
        if base:  # segment numbers are file-wide
            p.chunks = [(d, p.chunks[0][1] + base, p.chunks[0][2])]
            p.starts = [base + 1]
            p.lines["segno"] = p.lines["segno"] + base
            p.cas_segno = p.cas_segno + base
        parts.append(p)
        base += len(segs)
    if sum(len(p.lines["segno"]) for p in parts) == 0:
        return None  # no service lines: nothing for the columnar route to gain
    out = parts[0] if len(parts) == 1 else _combine(parts)
    out.chunks = [(d, nos.tolist(), segs) for d, nos, segs in out.chunks]
    out.svc_counts = out.svc_counts.tolist()
    return out


def _combine(parts: list[Plan]) -> Plan:
    """One plan from the plans of consecutive interchanges (claim and line ordinals shifted)."""
    clp_base = np.cumsum([0] + [len(p.svc_counts) for p in parts])[:-1]
    svc_base = np.cumsum([0] + [len(p.lines["segno"]) for p in parts])[:-1]
    lines: dict[str, Any] = {}
    for k, v in parts[0].lines.items():
        if k == "claim":
            lines[k] = np.concatenate(
                [p.lines[k] + b for p, b in zip(parts, clp_base, strict=True)]
            )
        elif isinstance(v, np.ndarray):
            lines[k] = np.concatenate([p.lines[k] for p in parts])
        else:
            lines[k] = pa.concat_arrays([p.lines[k].cast(_LSTR) for p in parts])
    return Plan(
        chunks=[c for p in parts for c in p.chunks],
        starts=[s for p in parts for s in p.starts],
        svc_counts=np.concatenate([p.svc_counts for p in parts]),
        lines=lines,
        lq_owner=np.concatenate([p.lq_owner + b for p, b in zip(parts, svc_base, strict=True)]),
        lq_code=pa.concat_arrays([p.lq_code.cast(_LSTR) for p in parts]),
        cas_seg=pa.concat_arrays([p.cas_seg.cast(_LSTR) for p in parts]),
        cas_segno=np.concatenate([p.cas_segno for p in parts]),
        cas_line=np.concatenate([p.cas_line + b for p, b in zip(parts, svc_base, strict=True)]),
    )


def _plan_interchange(d: tok.Delimiters, segs: pa.Array) -> Plan | None:  # noqa: C901
    """The plan of one interchange (segment numbers from 1), None if it is irregular."""
    sep, comp = d.element, d.component
    money_re = f"^{tok.MONEY_PATTERN}$"  # the walk's _MONEY, anchored for RE2
    kind = _kinds(segs, sep)
    prev = _prev(np.isin(kind, _LINE_CLOSERS))
    prev_kind = np.where(prev >= 0, kind[np.maximum(prev, 0)], 0)
    line_ctx = prev_kind == SVC
    is_svc = kind == SVC
    svc_pos = np.flatnonzero(is_svc)
    prevc = _prev(np.isin(kind, _CLAIM_CLOSERS))[svc_pos]
    if (prevc < 0).any() or (kind[np.maximum(prevc, 0)] != CLP).any():
        return None  # an SVC outside a claim: a reject, the scalar walk's business
    if (line_ctx & ((kind == MOA) | (kind == MIA))).any():
        return None  # claim remarks after a line opened: order-dependent in the walk
    is_clp = kind == CLP
    clp_ord = np.cumsum(is_clp) - 1
    svc_ord = np.cumsum(is_svc) - 1
    n_l = len(svc_pos)
    svc_claim = clp_ord[prevc]
    svc_counts = np.bincount(svc_claim, minlength=int(is_clp.sum()))

    # SVC elements: composite (qualifier:code:mod...), charge, payment, -, units, original code
    svc = segs.take(pa.array(svc_pos))
    e = _split(svc, sep)
    e1, e2, e3, e5, e6 = (_el(e, j) for j in (1, 2, 3, 5, 6))
    if not _all(pc.greater_equal(pc.find_substring(e1, comp), 0)):
        return None
    svc_re = "^-?[0-9]{1,7}(?:\\.[0-9]{1,2})?$"  # the walk's form, under the $10M bound
    money = pc.and_(pc.match_substring_regex(e2, svc_re), pc.match_substring_regex(e3, svc_re))
    if not _all(money):
        return None
    no_orig = pc.equal(e6, "")
    if not _all(pc.or_(no_orig, pc.greater_equal(pc.find_substring(e6, comp), 0))):
        return None
    units = _units(e5)
    if units is None:
        return None  # an invalid SVC05: the walk rejects that line
    parts = _split(e1, comp)
    cpt = pc.ascii_upper(_strip(_el(parts, 1)))
    if not _all(pc.not_equal(cpt, "")):
        return None  # an SVC01 without a procedure code: the walk warns about it
    mods = _strip(_el(parts, 2))
    for j in (3, 4, 5):
        m = _strip(_el(parts, j))
        joined = pc.binary_join_element_wise(mods, m, pa.scalar(":", _LSTR))
        mods = pc.if_else(pc.equal(mods, ""), m, pc.if_else(pc.equal(m, ""), mods, joined))
    orig = pc.ascii_upper(_strip(_el(_split(e6, comp), 1)))
    orig = pc.if_else(pc.not_equal(orig, cpt), orig, "")
    first = np.ones(n_l, dtype=bool)
    first[1:] = svc_claim[1:] != svc_claim[:-1]
    starts = np.flatnonzero(first)
    run = np.cumsum(first) - 1
    line_no = np.arange(n_l, dtype=np.int64) - starts[run] + 1

    # line-level DTM / REF / AMT / LQ: their qualifier and value, last one wins per line
    def sub(k: int) -> tuple[np.ndarray, pa.Array, pa.Array, np.ndarray]:
        pos = np.flatnonzero(line_ctx & (kind == k))
        p = _split(segs.take(pa.array(pos)), sep)
        return svc_ord[prev[pos]], _el(p, 1), _strip(_el(p, 2)), p[2]

    o, q, v, _ = sub(DTM)
    m472 = pc.equal(q, "472").to_numpy(zero_copy_only=False)
    m150 = pc.equal(q, "150").to_numpy(zero_copy_only=False)
    d472 = _last(o[m472], v.filter(pa.array(m472)), n_l)
    d150 = _last(o[m150], v.filter(pa.array(m150)), n_l)
    o, q, v, _ = sub(REF)
    m6r = pc.equal(q, "6R").to_numpy(zero_copy_only=False)
    ctl = _last(o[m6r], v.filter(pa.array(m6r)), n_l)
    o, q, v, cnt = sub(AMT)
    mb6 = pc.equal(q, "B6").to_numpy(zero_copy_only=False) & (cnt > 2)
    b6v = v.filter(pa.array(mb6))
    if not _all(pc.match_substring_regex(b6v, money_re)):
        return None  # an AMT*B6 that is not a plain number: the walk warns about it
    b6 = _last(o[mb6], b6v, n_l)
    o, q, v, cnt = sub(LQ)
    mhe = pc.equal(q, "HE").to_numpy(zero_copy_only=False) & (cnt > 2)
    mhe &= pc.not_equal(v, "").to_numpy(zero_copy_only=False)

    # line-level CAS: kept raw (split after the walk with the rest); CAS01 must be a known group
    cas_pos = np.flatnonzero(line_ctx & (kind == CAS))
    offs = _offsets(segs)
    buf = np.frombuffer(segs.buffers()[2], dtype=np.uint8)
    s = offs[:-1][cas_pos]
    ln = np.diff(offs)[cas_pos]
    if (ln < 6).any():
        return None
    g = buf[s + 4].astype(np.uint32) | (buf[s + 5].astype(np.uint32) << np.uint32(8))
    after = np.where(ln > 6, buf[np.minimum(s + 6, len(buf) - 1)], ord(sep))
    groups = np.array([_code(x) for x in tok.CAS_GROUPS], dtype=np.uint32)
    if not (np.isin(g, groups).all() and (after == ord(sep)).all()):
        return None

    rest = np.flatnonzero(~(is_svc | (line_ctx & np.isin(kind, _LINE_LEVEL))))
    return Plan(
        chunks=[(d, rest + 1, segs.take(pa.array(rest)).to_pylist())],
        starts=[1],
        svc_counts=svc_counts,
        lines={
            "segno": svc_pos + 1,
            "claim": svc_claim,
            "l_no": line_no,
            "l_cpt": cpt,
            "l_mods": mods,
            "l_orig": orig,
            "l_billed": e2,
            "l_paid": e3,
            "l_b6": b6,
            "l_units": units,
            "l_d472": d472,
            "l_d150": d150,
            "l_ctl": ctl,
        },
        lq_owner=o[mhe],
        lq_code=v.filter(pa.array(mhe)),
        cas_seg=segs.take(pa.array(cas_pos)),
        cas_segno=cas_pos + 1,
        cas_line=svc_ord[prev[cas_pos]],
    )


def _line_rarc(p: Plan, n_l: int, claim_rarc: dict[int, list[str]], claim_idx: np.ndarray) -> Any:
    """Each line's remarks as the walk's close_line joins them: its LQ*HE codes (first
    occurrence order) then the claim's MOA/MIA codes it does not already have."""
    owner = p.lq_owner
    _, counts = np.unique(owner, return_counts=True)
    if not claim_rarc and (counts <= 1).all():
        return _last(owner, p.lq_code, n_l)  # one code per line: no join needed
    rarc: list[str] = _last(owner, p.lq_code, n_l).to_pylist()
    codes: dict[int, list[str]] = {}
    for o, c in zip(owner.tolist(), p.lq_code.to_pylist(), strict=True):
        lst = codes.setdefault(o, [])
        if c not in lst:
            lst.append(c)
    for o, lst in codes.items():
        rarc[o] = ":".join(lst)
    if claim_rarc:
        for i in np.flatnonzero(np.isin(claim_idx, list(claim_rarc))).tolist():
            crarc = claim_rarc[int(claim_idx[i])]
            own = codes.get(i, [])
            rarc[i] = ":".join(own + [r for r in crarc if r not in own])
    return pa.array(rarc, type=_LSTR)


#: Line and CAS columns of a sealed chunk and their kind: int, float or string.
INT_COLUMNS = ("l_claim", "l_no", "l_src", "x_owner", "x_src")
FLOAT_COLUMNS = ("l_units",)


def chunk_from_lists(buf: dict[str, list[Any]], keys: tuple[str, ...]) -> dict[str, Any]:
    """The walk's Python line/CAS buffers as arrays (numpy for numbers, pyarrow for strings)."""
    out: dict[str, Any] = {}
    for k in keys:
        v = buf[k]
        if k in INT_COLUMNS:
            out[k] = np.fromiter(v, dtype=np.int64, count=len(v))
        elif k in FLOAT_COLUMNS:
            out[k] = np.fromiter(v, dtype=np.float64, count=len(v))
        else:
            out[k] = pa.array(v, type=_LSTR)
    return out


def concat_chunks(chunks: list[dict[str, Any]], keys: tuple[str, ...]) -> dict[str, Any]:
    """One chunk from several, in order."""
    if len(chunks) == 1:
        return chunks[0]
    out: dict[str, Any] = {}
    for k in keys:
        parts = [c[k] for c in chunks]
        if k in INT_COLUMNS or k in FLOAT_COLUMNS:
            out[k] = np.concatenate(parts)
        else:
            out[k] = pa.concat_arrays([x.cast(_LSTR) for x in parts])
    return out


def assemble(
    p: Plan,
    walked: dict[str, Any],
    *,
    file_base: int,
    c0: int,
    l_off: int,
    claim_rarc: dict[int, list[str]],
) -> dict[str, Any]:
    """The file's line and CAS columns: the walk's claim-level lines and CAS (``walked``, from
    :func:`chunk_from_lists`) merged with the vectorised ones in segment order, line indices
    global (``l_off`` lines precede this file)."""
    li = p.lines
    n_l = len(li["segno"])
    claim_idx = li["claim"] + c0
    vec = {
        "l_claim": claim_idx,
        "l_no": li["l_no"],
        "l_src": li["segno"] + file_base,
        "l_units": li["l_units"],
        "l_rarc": _line_rarc(p, n_l, claim_rarc, claim_idx),
    }
    for k in ("l_cpt", "l_mods", "l_orig", "l_billed", "l_paid", "l_b6"):
        vec[k] = li[k]
    for k in ("l_d472", "l_d150", "l_ctl"):
        vec[k] = li[k]
    n_w = len(walked["l_src"])
    src = np.concatenate([walked["l_src"], vec["l_src"]])
    order = np.argsort(src, kind="stable")
    pos = np.empty_like(order)
    pos[order] = np.arange(len(order))
    out: dict[str, Any] = {}
    take = pa.array(order)
    for k, v in vec.items():
        w = walked[k]
        if isinstance(v, np.ndarray):
            out[k] = np.concatenate([w, v])[order]
        else:
            out[k] = pa.concat_arrays([w, v.cast(_LSTR)]).take(take)
    line_global = l_off + pos[n_w:]  # SVC ordinal -> global line index
    xs = np.concatenate([walked["x_src"], p.cas_segno + file_base])
    xo = np.argsort(xs, kind="stable")
    out["x_src"] = xs[xo]
    out["x_owner"] = np.concatenate([walked["x_owner"], line_global[p.cas_line]])[xo]
    out["x_seg"] = pa.concat_arrays([walked["x_seg"], p.cas_seg]).take(pa.array(xo))
    return out
