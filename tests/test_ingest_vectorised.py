"""The vectorised 835 post-walk (CAS expansion, cents, derived line values) against the scalar
reference rules kept in x12.py (_cents, _line_status, _primary_carc, _allowed)."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oonplaybook.ingest import x12
from oonplaybook.ingest.x12 import read_835
from tests._ingest_samples import make_835

TRICKY = [
    "12.30", "1.", ".", "-", "-.5", "1.234", "1.230", "", "00000000000001", "12", "1.5 ", " 3",
    "+4", "+-4", "1.2", "-0", "0.00", "9999999999999.99", "99999999999999", "1e3", "abc",
    " ", "1..2", "١٢", "5.000", "-86.76", "1175.4", ".50",
]  # fmt: skip


def _vec(values: list[str]) -> list[int | None]:
    cents, ok = x12._cents_array(pa.array(values, type=pa.large_string()))
    return [int(c) if k else None for c, k in zip(cents, ok, strict=True)]


def test_cents_array_equals_scalar_rule_on_tricky_values() -> None:
    assert _vec(TRICKY) == [x12._cents(s) for s in TRICKY]
    assert x12._cents("1.234") is None and _vec(["1.234"]) == [None]  # refused, not rounded


@settings(max_examples=20, deadline=None)
@given(st.lists(st.from_regex(r"\A[-+ ]?[0-9]{0,15}(\.[0-9]{0,4})?[ ]?\Z"), max_size=40))
def test_cents_array_equals_scalar_rule_property(values: list[str]) -> None:
    assert _vec(values) == [x12._cents(s) for s in values]


def _damaged_835(seed: int) -> str:
    """A clean sample with random CAS damage (odd amounts, empty reasons, unknown groups)."""
    rng = random.Random(seed)
    amts = ["5.00", "-3.1", "", " 2.00", "+4.00", "1.234", "abc", ".5", "12", "0"]
    segs = make_835(4).split("~")
    out = []
    for s in segs:
        if s.startswith("CAS") and rng.random() < 0.5:
            parts = [rng.choice(["CO", "PR", "OA", "PI", "XX"])]
            for _ in range(rng.randint(1, 6)):
                parts += [rng.choice(["45", "", "23", "1", "A2"]), rng.choice(amts), ""]
            s = "CAS*" + "*".join(parts)
        out.append(s)
    return "~".join(out)


def test_derived_line_values_equal_scalar_rules() -> None:
    for seed in range(8):
        r = read_835(_damaged_835(seed).encode(), f"d{seed}.835", salt="s")
        lines, adj = r.claim_lines, r.adjustments
        assert len(lines) and len(adj)
        for (cid, no), ln in lines.groupby(["claim_id", "line_no"], sort=False):
            row = ln.iloc[0]
            a = adj[(adj["claim_id"] == cid) & (adj["line_no"] == no)]
            cas = [
                (g, rs, round(v * 100))
                for g, rs, v in zip(a["group"], a["reason"], a["amount"], strict=True)
            ]
            claim_cas = adj[(adj["claim_id"] == cid) & (adj["line_no"] == 0)]
            ccas = [
                (g, rs, round(v * 100))
                for g, rs, v in zip(
                    claim_cas["group"], claim_cas["reason"], claim_cas["amount"], strict=True
                )
            ]
            paid = None if np.isnan(row["paid"]) else round(row["paid"] * 100)
            assert row["claim_status"] == x12._line_status(row["claim_status_code"], paid, cas)
            assert row["carc"] == (x12._primary_carc(cas) or x12._primary_carc(ccas))
            assert round(row["patient_resp"] * 100) == sum(v for g, _, v in cas if g == "PR")


def test_every_cas_triplet_is_an_adjustment_or_a_reject() -> None:
    text = make_835(1).replace(
        "CAS*CO*45*25.00", "CAS*CO*45*25.00**A2*1.234**3*x*1*23*-2.00*abc**7.00"
    )
    r = read_835(text.encode(), "t.835", salt="s")
    cas_rej = [j for j in r.rejects if "CAS" in j["record"]]
    assert [j["reason"][:5] for j in cas_rej] == ["CAS06", "CAS09", "CAS a"]
    a = r.adjustments[r.adjustments["line_no"] == 2]
    assert sorted(zip(a["group"], a["reason"], a["amount"], strict=True)) == [
        ("CO", "23", -2.0),
        ("CO", "45", 25.0),
        ("PR", "3", 5.0),
    ]
    assert np.isnan(a.loc[a["reason"] == "23", "quantity"]).all()  # "abc" is not a quantity


def test_group_reductions_match_the_scatter_fallback() -> None:
    rng = np.random.default_rng(3)
    sizes = rng.integers(1, 6, size=300)
    g = np.repeat(rng.permutation(400)[:300], sizes)  # contiguous runs, unsorted keys
    amt = rng.integers(-5_000, 5_000, size=len(g)) * rng.integers(0, 2, size=len(g))
    is_pr = rng.random(len(g)) < 0.3
    red = ~is_pr & (rng.random(len(g)) < 0.8)
    deny = ~is_pr & (amt > 0)
    fast = x12._group_cas(g, 400, amt, is_pr, red, deny)
    # the same rows with one run split in two: not contiguous, so the scatter/sort path runs
    i = int(np.flatnonzero(sizes >= 2)[0])
    cut = int(sizes[:i].sum())
    perm = np.r_[cut, np.arange(cut), np.arange(cut + 1, len(g))]
    slow = x12._group_cas(g[perm], 400, amt[perm], is_pr[perm], red[perm], deny[perm])
    for f, s in zip(fast[:5], slow[:5], strict=True):
        assert np.array_equal(f, s)
    has = fast[5] >= 0
    assert np.array_equal(has, slow[5] >= 0)
    # the primary row: same group, same amount class (the fallback's row index is permuted)
    assert np.array_equal(amt[fast[5][has]], amt[perm][slow[5][has]])
    assert np.array_equal(g[fast[5][has]], np.flatnonzero(has))


def test_build_twice_gives_the_same_tables_and_stats() -> None:
    text = make_835(2).replace("CAS*CO*45*25.00", "CAS*CO*45*25.00**A2*x")
    reader = x12.Remit835Reader("s")
    st = reader.add(text.encode(), "a.835")
    one = reader.build()
    st1 = dict(st)
    two = reader.build()
    assert one.rejects == two.rejects and len(one.rejects) == 2
    assert st == st1 and st["adjustments_rejected"] == 2 and st["adjustments"] == 12
    assert one.balance_failures == two.balance_failures


def test_consuming_build_gives_the_same_tables_then_refuses_reuse() -> None:
    text = make_835(3).replace("CAS*CO*45*25.00", "CAS*CO*45*25.00**A2*x").encode()
    keep = x12.Remit835Reader("s")
    keep.add(text, "a.835")
    ref = keep.build()
    spent = x12.Remit835Reader("s")
    spent.add(text, "a.835")
    got = spent.build(consume=True)
    pd.testing.assert_frame_equal(ref.claim_lines, got.claim_lines)
    pd.testing.assert_frame_equal(ref.adjustments, got.adjustments)
    pd.testing.assert_frame_equal(ref.provider_adjustments, got.provider_adjustments)
    assert ref.rejects == got.rejects and ref.balance_failures == got.balance_failures
    assert spent.buf["l_cpt"] == [] and spent.buf["x_seg"] == []
    with pytest.raises(RuntimeError, match="use a new one"):
        spent.build()
    with pytest.raises(RuntimeError, match="use a new one"):
        spent.add(text, "b.835")
