"""The demo's planted data-quality paths: ED E/M downcoding and defects ingest must reject.

After write_demo + ingest_paths the rejects are exactly the planted defects (file and row /
segment), the accepted lines are the portfolio's lines plus the damaged resend's accepted
claims, the unbalanced claims are reported, and the recoded lines are the planted downcodes
with their dollars. The planting uses its own RNG streams: switching it off changes nothing else.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oonplaybook import demo

pytest.importorskip("oonplaybook.ingest.x12_writer")

LINES, SEED = 6000, 20251


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[demo.DemoPortfolio, Path, object]:
    from oonplaybook.ingest import core

    port = demo.generate(LINES, seed=SEED)
    out = tmp_path_factory.mktemp("demo_defects")
    demo.write_demo(port, out, remits=True, claims_per_file=1000)
    res = core.ingest_paths([out / "claims_export.csv", out / "remits"], salt=demo.DEMO_SALT)
    return port, out, res


def _keys(df: pd.DataFrame) -> set[tuple[str, int]]:
    return set(zip(df["claim_id"].astype("str"), df["line_no"].astype(int), strict=True))


def test_rejects_are_exactly_the_planted_defects(run: tuple) -> None:
    port, _, res = run
    d = port.truth["defects"]
    planted = d["export_rejects"] + d["remit_rejects"]
    got = res.rejects.assign(file=res.rejects["file"].map(lambda f: Path(f).name))
    assert sorted(zip(got["file"], got["location"], strict=True)) == sorted(
        (p["file"], p["location"]) for p in planted
    )
    by_place = got.set_index(["file", "location"])
    for p in planted:
        row = by_place.loc[(p["file"], p["location"])]
        assert p["reason_contains"] in row["reason"], p
        if p["claim_id"]:
            assert p["claim_id"] in row["record"], p
    # export rows sit after the portfolio's lines; the 835 ones point at the damaged segment
    rows = [int(p["location"].split()[1]) for p in d["export_rejects"]]
    assert rows == list(range(LINES + 2, LINES + 2 + len(rows)))
    segs = (Path(run[1]) / "remits" / d["remit_file"]).read_text().split("~\n")
    for p in d["remit_rejects"]:
        seg = segs[int(p["location"].split()[1]) - 1]
        assert seg.startswith(("CLP*", "CAS*")), (p, seg)
        if p["claim_id"]:
            assert p["claim_id"] in seg or seg.startswith("CAS*")
    assert res.report["rejected"] == len(planted)


def test_accepted_lines_are_the_portfolio_plus_the_accepted_resend(run: tuple) -> None:
    port, _, res = run
    acc = port.truth["defects"]["remit_accepted_claims"]
    expected = _keys(port.claim_lines) | {(c, 1) for c in acc["claim_ids"]}
    assert _keys(res.claim_lines) == expected
    assert res.report["accepted_lines"] == LINES + len(acc["claim_ids"])
    extra = res.claim_lines[res.claim_lines["claim_id"].isin(acc["claim_ids"])]
    assert (extra["payer"] == acc["payer"]).all()
    assert extra["paid"].tolist() == pytest.approx([acc["paid_each"]] * len(extra))
    # the SVC written with ">" instead of the ISA16 ":" is read with its code, not lost
    for cid in acc["component_separator_mismatch"]:
        assert extra.loc[extra["claim_id"] == cid, "cpt"].tolist() == ["99283"]
    # the resend's cash reconciles with its BPR (rejected claims carry no payment)
    assert res.report["payments_reconcile"] is True


def test_unbalanced_claims_are_reported_not_dropped(run: tuple) -> None:
    port, _, res = run
    d = port.truth["defects"]
    bf = res.balance_failures
    assert set(bf["claim_id"]) == {u["claim_id"] for u in d["unbalanced_claims"]}
    assert res.report["unbalanced_claims"] == len(d["unbalanced_claims"])
    assert set(bf["file"].map(lambda f: Path(f).name)) == {d["remit_file"]}
    for u in d["unbalanced_claims"]:
        rows = bf[bf["claim_id"] == u["claim_id"]]
        assert set(rows["line_no"]) == {0, 1}  # the line check and the claim check
        assert rows["difference"].tolist() == pytest.approx([u["difference"]] * 2)
        assert u["claim_id"] in set(res.claim_lines["claim_id"])


def test_recoded_lines_are_the_planted_downcodes(run: tuple) -> None:
    port, _, res = run
    cl, truth = port.claim_lines, port.truth["downcoding"]
    rec = cl[cl["recoded"]]
    got = res.claim_lines[res.claim_lines["recoded"]]
    assert _keys(got) == _keys(rec)
    assert len(rec) == sum(t["lines"] for t in truth.values()) > 0
    assert (got["cpt"] == demo.DOWNCODE_TO).all() and (got["billed_cpt"] == "99285").all()
    assert set(rec["payer"]) <= set(demo.DOWNCODE_PAYERS)
    a = rec.set_index(["claim_id", "line_no"]).sort_index()
    b = got.set_index(["claim_id", "line_no"]).sort_index()
    for col in ("billed", "allowed", "paid", "patient_resp"):
        np.testing.assert_allclose(a[col], b[col], atol=0.005, err_msg=col)
    for payer, t in truth.items():
        mine = rec[rec["payer"] == payer]
        assert sorted(mine["claim_id"]) == t["claim_ids"]
        assert mine["allowed"].sum() == pytest.approx(t["allowed"], abs=0.01)
        assert mine["paid"].sum() == pytest.approx(t["paid"], abs=0.01)
        assert t["allowed"] < t["allowed_as_billed"] and t["lines"] <= t["eligible_lines"]
    # CAS balance on every downcoded line: billed - paid = sum of its adjustments
    for adj in (port.adjustments, res.adjustments):
        s = adj.groupby(["claim_id", "line_no"])["amount"].sum()
        np.testing.assert_allclose(
            (a["billed"] - a["paid"]).to_numpy(), s.reindex(a.index).to_numpy(), atol=0.005
        )
    assert res.report["recoded_lines"] == len(rec)
    assert res.balance_failures["claim_id"].isin(rec["claim_id"]).sum() == 0


def test_planting_moves_nothing_else(monkeypatch: pytest.MonkeyPatch) -> None:
    """Separate RNG streams: without downcoding every other value and the truth are identical."""
    with_dc = demo.generate(3000, seed=SEED)
    monkeypatch.setattr(demo, "DOWNCODE_PAYERS", {})
    without = demo.generate(3000, seed=SEED)
    a, b = with_dc.claim_lines, without.claim_lines
    rec = a["recoded"].to_numpy()
    assert rec.any() and not b["recoded"].any()
    changed = {"cpt", "billed_cpt", "recoded", "allowed", "paid", "patient_resp", "qpa",
               "medicare_allowed", "carc", "rarc"}  # fmt: skip
    for col in a.columns:
        same = a[col].astype("str").fillna("") == b[col].astype("str").fillna("")
        assert same[~rec].all(), col
        if col not in changed:
            assert same.all(), col
    # allowed / medicare_allowed keeps its value (same eps): the payment-model truth holds
    ra = (a["allowed"] / a["medicare_allowed"])[rec].to_numpy()
    rb = (b["allowed"] / b["medicare_allowed"])[rec].to_numpy()
    np.testing.assert_allclose(ra, rb, rtol=2e-4)
    assert (a.loc[rec, "billed"].to_numpy() == b.loc[rec, "billed"].to_numpy()).all()
    ta = {k: v for k, v in with_dc.truth.items() if k != "downcoding"}
    tb = {k: v for k, v in without.truth.items() if k != "downcoding"}
    assert ta == tb
    pd.testing.assert_frame_equal(with_dc.appeals, without.appeals)
