"""The columnar fast path of the 835 reader gives exactly what the scalar walk gives.

The scalar walk is the reference (every reject and warning rule lives there); the fast path
(:mod:`oonplaybook.ingest.x12_columnar`) must produce identical claim lines, adjustments, PLB,
rejects, balance failures, stats, warnings and payer contacts on every input, taking the fast
route on regular files and handing irregular ones back to the scalar walk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oonplaybook.ingest import IngestError, x12_columnar
from oonplaybook.ingest.x12 import Remit835Reader
from tests._ingest_samples import make_835

CLEAN = make_835(8)


def _two_transactions() -> str:
    """One interchange holding two 835 transactions (two payments), the second with D-claims."""
    a, b = make_835(3), make_835(2, payer=False)
    second = b[b.index("ST*835") : b.index("GE*")].replace("CLP*C00", "CLP*D00")
    return a.replace("GE*1*1~", second + "GE*1*1~")


#: name -> (file text, whether the fast path can take it)
VARIANTS: dict[str, tuple[str, bool]] = {
    "clean": (CLEAN, True),
    "pipe_delimiters": (make_835(6, elem="|", comp="\\", term="^"), True),
    "crlf": (make_835(5, sep_after="\r\n"), True),
    "indented": (make_835(5, sep_after="\n    "), True),
    "bom": ("\ufeff" + make_835(4), True),
    "4010": (make_835(4, version="004010X091A1", isa_version="00401"), True),
    "no_payer": (make_835(4, payer=False), True),
    "se_count": (make_835(4, se_count=7), True),
    "unbalanced": (make_835(5, clp03={3: "210.00"}), True),
    "unknown_segment": (make_835(5, extra_in_claim={3: ["ZZZ*1*2"]}), True),
    "moa_mia": (
        make_835(5, extra_in_claim={2: ["MOA***MA01*MA18"], 4: ["MIA*0***4*****N1*N2"]}),
        True,
    ),
    "lq_repeated": (
        CLEAN.replace("LQ*HE*N130~", "LQ*HE*N130~LQ*HE*M15~LQ*HE*N130~LQ*RX*X1~"),
        True,
    ),
    "repricer_in_claim": (
        make_835(
            5,
            extra_in_claim={
                1: ["PER*CX*MULTIPLAN INC*TE*8005551212"],
                3: ["REF*0K*ZELIS NETWORK"],
            },
        ),
        True,
    ),
    "per_nm1_in_line": (
        CLEAN.replace("REF*6R*2~", "REF*6R*2~PER*CX*DATA ISIGHT~NM1*PR*2*ZELIS~", 1),
        True,
    ),
    "claim_dates": (
        CLEAN.replace("DTM*050*20250103~", "DTM*472*20250102~DTM*232*20250101~DTM*472*20250109~"),
        True,
    ),
    "line_dates": (
        CLEAN.replace(
            "DTM*472*20250101~CAS*CO*45*20",
            "DTM*472*20250101~DTM*150*20241231~DTM*472*~DTM*472*20250105~CAS*CO*45*20",
        ),
        True,
    ),
    "claim_without_lines": (
        CLEAN.replace(
            "SVC*HC:99214*80.00*50.00**1~DTM*472*20250101~CAS*CO*45*25.00~CAS*PR*3*5.00~"
            "REF*6R*2~AMT*B6*55.00~",
            "",
        ).replace("SVC*HC:99213:25*120.00*70.00**1~", "", 1),
        True,
    ),
    "cas_rejects": (
        CLEAN.replace("CAS*PR*3*5.00~", "CAS*PR*3~CAS*PR**4.00~CAS*CO*45*1.234~", 1),
        True,
    ),
    "modifiers_units_svc06": (
        CLEAN.replace("SVC*HC:99214*80.00*50.00**1", "SVC*HC:99214*80.00*50.00**2*HC:99215", 2)
        .replace("SVC*HC:99213:25*120.00", "SVC*HC:99213:25:59: :XU:QQ*120.00", 1)
        .replace("SVC*HC:99213:25*120.00*70.00**1", "SVC*HC:99213:25*120.00*70.00*", 1),
        True,
    ),
    "units_forms": (
        CLEAN.replace("50.00**1~", "50.00**2.5~", 1)
        .replace("50.00**1~", "50.00** 3 ~", 1)
        .replace("50.00**1~", "50.00**+1.50~", 1)
        .replace("50.00**1~", "50.00**.5~", 1)
        .replace("50.00**1~", "50.00**4.~", 1)
        .replace("50.00**1~", "50.00**-2~", 1),
        True,
    ),
    "units_invalid": (
        CLEAN.replace("50.00**1~", "50.00**1X~", 1)
        .replace("50.00**1~", "50.00**1e309~", 1)
        .replace("50.00**1~", "50.00**\u00b2~", 1),
        False,
    ),
    "plb": (CLEAN.replace("SE*", "PLB*1234567893*20251231*L6:ABC*-10.00*WO*5.00~SE*", 1), True),
    "reversal": (
        CLEAN.replace("CLP*C002*1*200.00*120.00", "CLP*C001*22*-200.00*-120.00", 1),
        True,
    ),
    "trailing_whitespace": (CLEAN + "\n\n  \n", True),
    "two_transactions": (_two_transactions(), True),
    "two_interchanges": (make_835(3) + "\n" + make_835(3), True),
    "interchanges_with_other_delimiters": (
        make_835(3) + make_835(3, elem="|", comp="\\", term="^") + make_835(2),
        True,
    ),
    # issue 10 rules, both routes alike
    "predetermination_and_pr32": (
        CLEAN.replace("CLP*C001*1*200.00*120.00", "CLP*C001*25*200.00*120.00", 1).replace(
            "CAS*PR*3*5.00", "CAS*PR*32*5.00", 2
        ),
        True,
    ),
    "cas_seven_triplets": (
        CLEAN.replace(
            "CAS*CO*45*20.00**253*5.00",
            "CAS*CO*45*1.00**45*1.00**45*1.00**45*1.00**45*1.00**45*1.00**94*19.00",
            2,
        ),
        True,
    ),
    "cas_reason_not_carc_and_huge_amount": (
        CLEAN.replace("CAS*PR*1*10.00**2*15.00", "CAS*PR*MI*10.00**2*33344555510", 1),
        True,
    ),
    "plb_many_pairs": (
        CLEAN.replace("SE*", "PLB*1234567893*20251231" + "*WO*1.00" * 8 + "~SE*", 1),
        True,
    ),
    "clp_run_in": (CLEAN.replace("AMT*B6*55.00~CLP*C003", "AMT*B6*55.00CLP*C003", 1), False),
    "svc_huge_amount": (CLEAN.replace("SVC*HC:99214*80.00", "SVC*HC:99214*80000000.00", 1), False),
    "svc_empty_code": (CLEAN.replace("SVC*HC:99214*", "SVC*HC:*", 1), False),
    "bad_dates": (
        CLEAN.replace("DTM*472*20250101", "DTM*472*2025011", 1).replace(
            "DTM*050*20250103", "DTM*050*18990103", 1
        ),
        True,
    ),
    # irregular: the scalar walk reads these (rejects, warnings, order-dependent rules)
    "newline_terminator": (make_835(5, term="\n"), False),
    "no_envelope": (make_835(5, envelope=False), False),
    "other_component_separator": (make_835(5, comp=":", data_comp=">"), False),
    "not_835_transaction": (CLEAN.replace("ST*835*0001", "ST*999*0001"), False),
    "bad_claim_amount": (make_835(6, clp03={5: "12O.00"}), False),
    "claim_cas_odd_group": (make_835(5, extra_in_claim={3: ["CAS*co *45*1"]}), False),
    "line_cas_odd_group": (CLEAN.replace("CAS*PR*3*5.00", "CAS*pr *3*5.00", 1), False),
    "moa_after_line": (CLEAN.replace("LQ*HE*N130~", "LQ*HE*N130~MOA***MA01~", 2), False),
    "svc_bad_amount": (CLEAN.replace("SVC*HC:99214*80.00", "SVC*HC:99214*8O.00", 1), False),
    "svc_empty_amount": (CLEAN.replace("SVC*HC:99214*80.00", "SVC*HC:99214*", 1), False),
    "svc_no_composite": (CLEAN.replace("SVC*HC:99214*", "SVC*99214*", 1), False),
    "svc_outside_claim": (CLEAN.replace("N1*PE*GOOD", "SVC*HC:99213*1*1~N1*PE*GOOD", 1), False),
    "amt_not_a_number": (CLEAN.replace("AMT*B6*55.00", "AMT*B6*5X.00", 1), False),
    "money_odd_form": (CLEAN.replace("80.00*50.00", "80.000*+50.00", 1), False),
    "bare_tags": (CLEAN.replace("LQ*HE*N130~", "LQ~CAS~DTM~REF~AMT~", 1), False),
    "control_character_delimiters": (make_835(4, elem="\x1d", comp=":", term="\x1c"), False),
    "non_ascii": (CLEAN.replace("DOE*JANE", "DOË*JANE", 1), False),
    "data_after_iea": (CLEAN + "XYZ*1~", False),
    "irregular_second_interchange": (CLEAN + make_835(2, term="\n"), False),
}


def read(files: list[tuple[str, bytes]], fast: bool, monkeypatch: Any) -> dict[str, Any]:
    """Everything a reader produces for ``files``, with the fast path forced on or off."""
    monkeypatch.setattr(x12_columnar, "FAST_MIN_BYTES", 0 if fast else 1 << 62)
    r = Remit835Reader("salt")
    stats = []
    for name, data in files:
        try:
            stats.append(r.add(data, name))
        except IngestError as e:
            stats.append({"error": f"{type(e).__name__}: {e}"})
    out = r.build()
    return {
        "fast_files": r.fast_files,
        "lines": out.claim_lines,
        "adjustments": out.adjustments,
        "plb": out.provider_adjustments,
        "rejects": out.rejects,
        "balance": out.balance_failures,
        "stats": stats,
        "warnings": r.warnings,
        "contacts": r.contacts,
    }


def assert_same(files: list[tuple[str, bytes]], monkeypatch: Any) -> int:
    """Fast and scalar readings are identical; returns how many files took the fast path."""
    fast = read(files, True, monkeypatch)
    slow = read(files, False, monkeypatch)
    assert slow["fast_files"] == 0
    for k in ("lines", "adjustments", "plb"):
        pd.testing.assert_frame_equal(fast[k], slow[k], obj=k)
    for k in ("rejects", "balance", "stats", "warnings", "contacts"):
        assert fast[k] == slow[k], k
    return int(fast["fast_files"])


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variant_same_both_ways(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    text, regular = VARIANTS[name]
    used = assert_same([(f"{name}.835", text.encode())], monkeypatch)
    assert used == int(regular), "fast path taken" if used else "fast path not taken"


def test_many_files_mixed_in_one_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fast and scalar files interleaved in one reader: line and CAS indices stay global."""
    files = [(f"{k}.835", t.encode()) for k, (t, _) in sorted(VARIANTS.items())]
    assert assert_same(files, monkeypatch) == sum(r for _, r in VARIANTS.values())


def test_real_remits_same_both_ways(shared_real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = [(p.name, p.read_bytes()) for p in sorted(shared_real.glob("*.835"))]
    # EmedNY, UHC legacy, managed care and the multi-interchange Nebraska file are regular
    assert assert_same(files, monkeypatch) >= 4


def test_demo_remits_same_both_ways(demo_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = sorted((demo_data / "remits").iterdir())[:40]
    files = [(p.name, p.read_bytes()) for p in paths]
    assert assert_same(files, monkeypatch) >= 35  # the demo's damaged resend is irregular


def test_large_regular_file_takes_the_fast_path_by_default() -> None:
    """Above FAST_MIN_BYTES the fast path is the default; small files take the scalar walk."""
    big = make_835(400).encode()
    assert len(big) >= x12_columnar.FAST_MIN_BYTES > len(CLEAN)
    r = Remit835Reader("salt")
    r.add(big, "big.835")
    r.add(CLEAN.encode(), "small.835")
    out = r.build()
    assert r.fast_files == 1
    assert len(out.claim_lines) == 2 * 408 and len(out.adjustments) == 6 * 408


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(
    base=st.sampled_from([VARIANTS[k][0] for k in ("clean", "moa_mia", "plb", "crlf")]),
    kind=st.sampled_from(["truncate", "flip", "duplicate", "delete"]),
    picks=st.lists(st.floats(0, 1, exclude_max=True), min_size=1, max_size=4),
    byte=st.integers(0, 255),
)
def test_damaged_files_same_both_ways(base: str, kind: str, picks: list[float], byte: int) -> None:
    """Random damage: whichever route the reader takes, the result is the scalar walk's."""
    data = bytearray(base.encode())
    if kind == "truncate":
        data = data[: int(picks[0] * len(data))]
    elif kind == "flip":
        for p in picks:
            data[int(p * len(data))] = byte
    else:
        segs = bytes(data).split(b"~")
        for p in picks:
            j = int(p * len(segs))
            if kind == "duplicate":
                segs.insert(j, segs[j])
            elif len(segs) > 1:
                del segs[j]
        data = bytearray(b"~".join(segs))
    with pytest.MonkeyPatch.context() as mp:
        assert_same([("damaged.835", bytes(data))], mp)
