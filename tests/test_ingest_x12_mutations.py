"""Property test (issue 10, "Must show"): mutated 835s lose nothing and leak no patient data.

Valid 835s carrying planted patient names and member ids are damaged at random (byte flips,
deletions and insertions after the ISA, truncation, lost terminators, duplicated, deleted and
swapped segments, junk element values). For every mutant the reader either raises its own
:class:`IngestError` or returns, and then:

* every CLP segment in the bytes (the tag after a segment terminator) is an accepted claim or a
  claim reject;
* every CAS triplet and PLB pair the reader's segments hold is in a table or a reject (or
  belongs to a claim, line or transaction that was rejected as a whole);
* no planted patient value (or a 4-character piece of one) appears in any reject, warning,
  balance report or stats, nor in the ingest report of :func:`ingest_paths`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oonplaybook.ingest import IngestError, ingest_paths, read_835, tokenize, x12_columnar
from tests._ingest_samples import make_835

#: Planted patient values: unusual letter runs so a 4-character piece is not ordinary text.
NAMES = ("QUIZBYWEX", "ZYGMUNTOV", "MZ99887766", "XQ55443322")


def _with_patients(text: str) -> str:
    """Every claim's patient (NM1*QC) replaced by a planted name and member id, plus N3/N4/DMG."""
    out = []
    for i, part in enumerate(text.split("NM1*QC*1*DOE*JANE****MI*")):
        if i:
            mid = NAMES[2] if i % 2 else NAMES[3]
            part = re.sub(r"^M[0-9]{4}", "", part)
            part = f"NM1*QC*1*{NAMES[0]}*{NAMES[1]}****MI*{mid}" + part
        out.append(part)
    return "".join(out)


BASES: list[tuple[bytes, str, str]] = [  # (bytes, element separator, terminator)
    (_with_patients(make_835(4)).encode(), "*", "~"),
    (_with_patients(make_835(3, sep_after="\r\n")).encode(), "*", "~"),
    (_with_patients(make_835(3, term="\n")).encode(), "*", "\n"),
    (
        _with_patients(make_835(3)).replace("*", "|").replace(":", "\\").replace("~", "^").encode(),
        "|",
        "^",
    ),
    (
        _with_patients(
            make_835(3).replace("SE*", "PLB*1234567893*20251231*WO*5.00*L6:R1*-2.00~SE*", 1)
        ).encode(),
        "*",
        "~",
    ),
]
ISA_LEN = 107  # mutations start after the ISA: its damage has explicit tests of its own
JUNK = ["NaN", "inf", "1e309", "\uff11\uff12", "\u00b2", "BUDD", "", "-", "99999999999", "1.234"]
SETTINGS = settings(
    max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)


def _segments(data: bytes, term: str) -> list[bytes]:
    return data.split(term.encode())


def mutate(base: bytes, term: str, sep: str, ops: list[tuple[str, float, int]]) -> bytes:
    """Apply the mutation operations (kind, position in [0, 1), a byte or an index)."""
    b = bytearray(base)
    for kind, pos, val in ops:
        at = ISA_LEN + int(pos * max(1, len(b) - ISA_LEN))
        at = min(at, len(b) - 1)
        if kind == "flip":
            b[at] = val
        elif kind == "delete":
            del b[at]
        elif kind == "insert":
            b.insert(at, val)
        elif kind == "truncate":
            del b[at:]
        elif kind == "lose_terminator":
            j = b.find(term.encode(), at)
            if j > 0:
                del b[j]
        elif kind == "junk_element":
            j = b.find(sep.encode(), at)
            k = b.find(sep.encode(), j + 1) if j >= 0 else -1
            t = b.find(term.encode(), j + 1) if j >= 0 else -1
            end = min(x for x in (k, t, len(b)) if x >= 0)
            if j >= 0:
                b[j + 1 : end] = JUNK[val % len(JUNK)].encode()
        else:  # segment-level: duplicate, drop, swap
            segs = _segments(bytes(b), term)
            i = max(1, min(len(segs) - 1, int(pos * len(segs))))
            if kind == "duplicate":
                segs.insert(i, segs[i])
            elif kind == "drop" and len(segs) > 2:
                del segs[i]
            elif kind == "swap" and i + 1 < len(segs):
                segs[i], segs[i + 1] = segs[i + 1], segs[i]
            b = bytearray(term.encode().join(segs))
    return bytes(b)


def clp_segments_in_bytes(data: bytes, term: str, sep: str) -> int:
    """CLP segments in the bytes, counted without the reader: every ``CLP`` + separator
    (at a segment start, or run into another segment by a lost terminator), plus a truncated
    bare ``CLP`` tag at the very end."""
    n = data.count(b"CLP" + sep.encode())
    t = re.escape(term.encode())
    return n + len(re.findall(t + rb"[ \t\r\n]*CLP(?:" + t + rb"|[ \t\r\n]*\Z)", data))


def _leaks(text: str) -> list[str]:
    """Planted values (or 4-character pieces of them) found in ``text``."""
    found = []
    for v in NAMES:
        for i in range(len(v) - 3):
            if v[i : i + 4] in text:
                found.append(v[i : i + 4])
    return found


def _seg_no(location: str) -> int:
    m = re.search(r"segment (\d+)$", location)
    return int(m.group(1)) if m else -1


def check(data: bytes, term: str, sep: str) -> None:
    """The invariants for one mutant."""
    try:
        r = read_835(data, "mutant.835", salt="s")
    except IngestError as e:
        assert not _leaks(str(e)), str(e)
        return
    s = r.stats
    assert s["claims"] + s["claims_rejected"] == s["claims_in_file"]
    assert s["claims_in_file"] == clp_segments_in_bytes(data, term, sep)
    assert r.claim_lines["_clp"].nunique() == s["claims"]
    out = repr(r.rejects) + repr(s) + repr(r.balance_failures)
    assert not _leaks(out), _leaks(out)

    rejected_at = Counter(_seg_no(j["location"]) for j in r.rejects)
    adj_at = Counter(_seg_no(x) for x in r.adjustments["source"])
    plb_at = Counter(_seg_no(x) for x in r.provider_adjustments["source"])
    other_tx = False  # inside a transaction that is not an 835 (its CLPs are rejected)
    clp = svc = -1  # the claim and line owning the next CAS
    for no, el, _ in tokenize(data, "m").iter_segments():
        tag = el[0]
        if tag == "ST":
            other_tx = el[1:2] != ["835"]
        elif tag == "SE":
            other_tx = False
        elif tag == "CLP":
            clp, svc = no, -1
        elif tag == "SVC":
            svc = no
        elif tag in ("N1", "PLB"):
            clp = svc = -1
        if tag in ("CAS", "PLB"):
            step, first = (3, 2) if tag == "CAS" else (2, 3)
            items = [el[k : k + step] for k in range(first, len(el), step)]
            present = sum(1 for it in items if any(x.strip() for x in it[:2]))
            got = (adj_at if tag == "CAS" else plb_at).get(no, 0) + rejected_at.get(no, 0)
            covered = (
                got == present
                or (rejected_at.get(no, 0) >= 1 and got <= present)  # the segment rejected
                or (tag == "CAS" and rejected_at.get(clp, 0) + rejected_at.get(svc, 0) >= 1)
                or other_tx
            )
            assert covered, (no, tag, present, got, clp, svc)


OPS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "flip",
                "delete",
                "insert",
                "truncate",
                "lose_terminator",
                "junk_element",
                "duplicate",
                "drop",
                "swap",
            ]
        ),
        st.floats(0, 1, exclude_max=True),
        st.integers(0, 255),
    ),
    min_size=1,
    max_size=5,
)


@SETTINGS
@given(base=st.sampled_from(range(len(BASES))), ops=OPS, fast=st.booleans())
def test_mutated_835_loses_nothing_and_leaks_nothing(base: int, ops: list, fast: bool) -> None:
    """``fast``: the columnar route is offered every file (it takes the regular ones)."""
    data, sep, term = BASES[base]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(x12_columnar, "FAST_MIN_BYTES", 0 if fast else 1 << 62)
        check(mutate(data, term, sep, ops), term, sep)


def test_bases_are_clean() -> None:
    """The unmutated bases read fully (so the property's invariants are not vacuous)."""
    for data, sep, term in BASES:
        r = read_835(data, "base.835", salt="s")
        assert r.rejects == [] and r.stats["claims"] == clp_segments_in_bytes(data, term, sep) > 0
        assert not _leaks(repr(r.stats))
    assert b"QUIZBYWEX" in BASES[0][0] and b"MZ99887766" in BASES[0][0]


@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(base=st.sampled_from(range(len(BASES))), ops=OPS)
def test_ingest_report_of_a_mutant_leaks_nothing(base: int, ops: list, tmp_path_factory) -> None:
    """The whole ingest report (unknown segments, reasons by kind, warnings) carries no planted
    patient value either."""
    data, sep, term = BASES[base]
    folder: Path = tmp_path_factory.mktemp("mut")
    (folder / "m.835").write_bytes(mutate(data, term, sep, ops))
    try:
        res = ingest_paths([folder], salt="s")
    except IngestError as e:
        assert not _leaks(str(e))
        return
    text = json.dumps(res.report, default=str) + res.rejects.to_csv()
    assert not _leaks(text), _leaks(text)
