"""Property tests: damaged 835s give only the project's own errors or rejects, never lose claims.

For truncation, byte flips, duplicated and deleted segments of valid 835s: the reader either
raises an :class:`IngestError` (its own type) or returns, and then every CLP segment in the
damaged file is either a claim read or a claim rejected (claims read + rejected = claims in file).
"""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oonplaybook.ingest import IngestError, read_835, tokenize
from oonplaybook.ingest.x12 import Remit835Reader
from tests._ingest_samples import make_835

BASES = [
    make_835(6).encode(),
    make_835(5, term="\n").encode(),
    make_835(4, elem="|", comp="\\", term="^").encode(),
    (make_835(3, sep_after="\r\n")).encode(),
    make_835(3, envelope=False).encode(),
]
SETTINGS = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


def clp_segments(data: bytes) -> int:
    """CLP segments in the file, counted with the tokenizer (tag only)."""
    tok = tokenize(data, "x")
    return sum(
        1 for ch in tok.chunks for s in ch.segments if s.split(ch.delimiters.element)[0] == "CLP"
    )


def check(data: bytes) -> None:
    try:
        r = read_835(data, "mutant.835", salt="s")
    except IngestError:
        return
    st_ = r.stats
    assert st_["claims"] + st_["claims_rejected"] == st_["claims_in_file"]
    # CLP segments, plus CLPs run into another segment (accounted as rejected by their bytes)
    assert st_["claims_in_file"] == clp_segments(data) + st_["claims_run_in"]
    cl = r.claim_lines
    # every accepted claim has at least one line; lines never belong to a rejected claim
    assert cl["_clp"].nunique() == st_["claims"]
    assert set(r.adjustments["_clp"]) <= set(cl["_clp"])
    for rec in r.rejects:
        assert set(rec) == {"file", "location", "record", "reason"} and rec["reason"]
    assert isinstance(cl, pd.DataFrame)


@SETTINGS
@given(base=st.sampled_from(BASES), frac=st.floats(0, 1))
def test_random_truncation(base: bytes, frac: float) -> None:
    check(base[: int(len(base) * frac)])


@SETTINGS
@given(
    base=st.sampled_from(BASES),
    flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), min_size=1, max_size=8),
)
def test_random_byte_flips(base: bytes, flips: list[tuple[float, int]]) -> None:
    b = bytearray(base)
    for pos, val in flips:
        b[min(int(pos * len(b)), len(b) - 1)] = val
    check(bytes(b))


def _segments(base: bytes) -> tuple[list[str], str]:
    tok = tokenize(base, "x")
    ch = tok.chunks[0]
    return ch.segments, ch.delimiters.segment


@SETTINGS
@given(base=st.sampled_from(BASES), picks=st.lists(st.floats(0, 1), min_size=1, max_size=5))
def test_duplicated_segments(base: bytes, picks: list[float]) -> None:
    segs, term = _segments(base)
    segs = list(segs)
    for p in picks:
        i = min(int(p * len(segs)), len(segs) - 1)
        segs.insert(i, segs[i])
    check((term.join(segs) + term).encode())


@SETTINGS
@given(base=st.sampled_from(BASES), picks=st.lists(st.floats(0, 1), min_size=1, max_size=5))
def test_deleted_segments(base: bytes, picks: list[float]) -> None:
    segs, term = _segments(base)
    segs = list(segs)
    for p in picks:
        if len(segs) > 1:
            del segs[min(int(p * len(segs)), len(segs) - 1)]
    check((term.join(segs) + term).encode())


@SETTINGS
@given(junk=st.binary(max_size=300))
def test_arbitrary_bytes(junk: bytes) -> None:
    check(junk)
    check(b"ISA" + junk)
    check(b"ST*835*1~" + junk)


def test_many_files_one_reader_equals_file_by_file() -> None:
    """Reading files into one buffer set gives the same rows as reading each alone."""
    reader = Remit835Reader("s")
    singles = []
    for i, b in enumerate(BASES):
        reader.add(b, f"f{i}")
        singles.append(read_835(b, f"f{i}", salt="s").claim_lines)
    together = reader.build().claim_lines.drop(columns="_clp")
    alone = pd.concat(singles, ignore_index=True).drop(columns="_clp")
    pd.testing.assert_frame_equal(together, alone)


@SETTINGS
@given(
    frac=st.floats(0, 1),
    flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=4),
)
def test_837p_damage_is_accounted(frac: float, flips: list[tuple[float, int]]) -> None:
    from oonplaybook.ingest import read_837p
    from tests.test_ingest_merge import BILLED_837

    b = bytearray(BILLED_837.encode()[: max(1, int(len(BILLED_837) * frac))])
    for pos, val in flips:
        b[min(int(pos * len(b)), len(b) - 1)] = val
    try:
        c = read_837p(bytes(b), "m.837", salt="s")
    except IngestError:
        return
    tok = tokenize(bytes(b), "m")
    n_clm = sum(
        1 for ch in tok.chunks for s in ch.segments if s.split(ch.delimiters.element)[0] == "CLM"
    )
    assert c.stats["claims"] + c.stats["claims_rejected"] == n_clm == c.stats["claims_in_file"]
