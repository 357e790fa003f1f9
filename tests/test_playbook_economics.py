"""Negotiation economics: hand-computed walk-away, target and EV; batch fees; interval coverage; demo."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy.stats import beta as beta_dist

from oonplaybook import idr
from oonplaybook.playbook import targets as tg

PRIORS = idr.IdrPriors.packaged()
WORK = 57.23  # PlaybookSettings().work_cost_per_claim
R_IDR = 1.08 ** (-(idr.DAYS_TO_IDR_PAYMENT - tg.DAYS_TO_SETTLEMENT_PAYMENT) / 365)
R_APPEAL = 1.08 ** (-(tg.DAYS_TO_APPEAL_PAYMENT - tg.DAYS_TO_SETTLEMENT_PAYMENT) / 365)
P_2025Q2 = 532614 / 603757  # Table 12, 2025Q2 OON provider-prevailing / determinations


def test_nsa_emergency_claim_hand_computed() -> None:
    # ED visit: Medicare $150, QPA $250 (band $100-$500), the payer allowed $277.50 (1.85x)
    cell = PRIORS.cell("emergency_medicine", 250.0)
    assert cell.quarter == "2025Q2" and cell.band == "$100-$500"
    assert cell.win_probability == pytest.approx(P_2025Q2)
    # Table 14 ED 312% x Table 13 band 345% / the all-specialty value
    assert cell.award_multiple_of_qpa == pytest.approx(
        3.12 * 3.45 / PRIORS.cell("generic").award_multiple_of_qpa, rel=2e-3
    )
    p, m = cell.win_probability, cell.award_multiple_of_qpa
    f = idr.fees(date(2026, 12, 2), batched=False)  # CMS-9897-F: admin $15, IDRE $840
    assert (f.admin_fee, f.idre_fee) == (15.0, 840.0)
    pts = tg.nsa_points(
        current_x=1.85,
        qpa_x=250 / 150,
        medicare=150.0,
        p_win=p,
        award_x_qpa=m,
        fees=f,
        work_cost=WORK,
    )
    award_x = 250 / 150 * m
    assert pts.target_x == pytest.approx(p * award_x + (1 - p) * 1.85)
    gain = p * (award_x - 1.85) * 150 - (15 + (1 - p) * 840) - WORK
    assert pts.walk_away_x == pytest.approx(1.85 + R_IDR * gain / 150)
    assert pts.opening_x == pytest.approx(award_x)
    assert pts.opening_x > pts.target_x > pts.walk_away_x > 1.85
    # the dispute's expected value: p x (award - have) - admin - (1 - p) x IDRE fee
    ev = idr.expected_value(250 * m, 277.5, p, fees=f)
    assert ev.expected_value == pytest.approx(p * (250 * m - 277.5) - 15 - (1 - p) * 840)
    assert f"{p:.1%}" in pts.walk_away_rationale and "$840" in pts.walk_away_rationale


@pytest.mark.parametrize(
    ("qpa", "band", "band_median"),
    [
        (50.0, "<$100", 5.91),
        (250.0, "$100-$500", 3.45),
        (750.0, "$500-$1,000", 3.00),
        (2500.0, "$1,000-$5,000", 2.49),
        (7500.0, "$5,000-$10,000", 2.38),
        (15000.0, ">=$10,000", 1.73),
    ],
)
def test_radiology_claim_in_each_qpa_band(qpa: float, band: str, band_median: float) -> None:
    cell = PRIORS.cell("radiology", qpa)
    allx = PRIORS.cell("generic").award_multiple_of_qpa
    assert cell.band == band
    assert cell.award_multiple_of_qpa == pytest.approx(5.12 * band_median / allx, rel=2e-3)
    p, m = cell.win_probability, cell.award_multiple_of_qpa
    medicare, current = qpa / 1.3, 1.4  # QPA 1.3x Medicare; the payer allows 1.4x
    f = idr.fees(date(2026, 12, 2), batched=True, n_lines=25)  # one 25-line batch
    assert f.idre_fee == 1173.0
    pts = tg.nsa_points(
        current_x=current,
        qpa_x=1.3,
        medicare=medicare,
        p_win=p,
        award_x_qpa=m,
        fees=f,
        work_cost=WORK,
        billed_x=6.0,
    )
    award_x = min(1.3 * m, 6.0)  # the offer never exceeds billed (6x Medicare)
    t = p * award_x + (1 - p) * current
    gain = p * (award_x - current) * medicare - (15 + (1 - p) * 1173) / 25 - WORK / 25
    walk = max(current, current + R_IDR * gain / medicare)
    assert pts.walk_away_x == pytest.approx(walk)
    ask = min(award_x, 6.0)
    if ask < t:  # capped at billed below the expected settlement: ask = target, said
        assert pts.opening_x == pytest.approx(pts.target_x) and "ask = target" in pts.room_note
    else:
        assert pts.opening_x == pytest.approx(ask)
        assert pts.target_x == pytest.approx(t)
    assert pts.opening_x >= pts.target_x >= pts.walk_away_x >= current


def test_radiology_award_falls_with_the_qpa_band() -> None:
    awards = [
        PRIORS.cell("radiology", q).award_multiple_of_qpa for q in (50, 250, 750, 2500, 7500, 15000)
    ]
    assert awards == sorted(awards, reverse=True)


def test_non_nsa_appeal_hand_computed() -> None:
    pts = tg.appeal_points(
        current_x=1.2,
        market_x=2.0,
        market_p75_x=2.6,
        medicare=500.0,
        p_appeal=0.543,
        work_cost=WORK,
    )
    gain = 0.543 * (2.0 - 1.2) * 500 - WORK  # 217.20 - 57.23 = 159.97
    assert pts.walk_away_x == pytest.approx(1.2 + R_APPEAL * gain / 500)
    assert pts.target_x == pytest.approx(2.0)
    assert pts.opening_x == pytest.approx(2.6)
    assert "other payers' p75 allowed" in pts.opening_rationale
    # FAIR Health p80 above the market: the ask; the practice's billed charges cap it
    capped = tg.appeal_points(
        current_x=1.2,
        market_x=2.0,
        market_p75_x=2.6,
        medicare=500.0,
        p_appeal=0.543,
        work_cost=WORK,
        fair_health_p80_x=3.0,
        billed_x=2.8,
    )
    assert (
        capped.opening_x == pytest.approx(2.8)
        and "capped at the practice's billed" in capped.opening_rationale
    )
    # a small line: the appeal costs more than it can add -> walk-away = current payment, said
    small = tg.appeal_points(
        current_x=1.2, market_x=2.0, market_p75_x=2.6, medicare=50.0, p_appeal=0.543, work_cost=WORK
    )
    assert (
        small.walk_away_x == pytest.approx(1.2) and "walk-away = current payment" in small.room_note
    )


def test_points_are_ordered_and_never_below_current_payment() -> None:
    rng = np.random.default_rng(7)
    f = idr.fees(date(2026, 12, 2), batched=True, n_lines=10)
    for _ in range(400):
        cur = float(rng.uniform(0.2, 6.0))
        med = float(rng.uniform(20, 3000))
        billed = float(rng.choice([np.nan, rng.uniform(0.5, 10)]))
        for pts in (
            tg.nsa_points(
                current_x=cur,
                qpa_x=float(rng.uniform(0.5, 4)),
                medicare=med,
                p_win=float(rng.uniform(0, 1)),
                award_x_qpa=float(rng.uniform(0.8, 15)),
                fees=f,
                work_cost=WORK,
                billed_x=billed,
            ),
            tg.appeal_points(
                current_x=cur,
                market_x=float(rng.uniform(0.2, 6)),
                market_p75_x=float(rng.uniform(0.2, 8)),
                medicare=med,
                p_appeal=float(rng.uniform(0, 1)),
                work_cost=WORK,
                billed_x=billed,
            ),
        ):
            assert pts.walk_away_x >= cur - 1e-12
            assert pts.opening_x >= pts.target_x - 1e-12 >= pts.walk_away_x - 2e-12
            if np.isclose(pts.target_x, pts.walk_away_x):
                assert "target = walk-away" in pts.room_note
            if np.isclose(pts.opening_x, pts.target_x):
                assert "ask = target" in pts.room_note
            if np.isclose(pts.walk_away_x, cur) and pts.alternative_value_x < cur:
                assert "walk-away = current payment" in pts.room_note


def _batch(n: int, p: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "batch_id": ["B"] * n,
            "offer": [600.0] * n,
            "paid": [200.0] * n,
            "win_probability": [p] * n,
            "initiation_date": [pd.Timestamp("2026-12-02")] * n,
        }
    )


def test_batch_fee_expected_cost_is_loss_probability_times_fee() -> None:
    # one entity decides the 10-line batch: P(provider bears the $1,173 fee) = P(batch lost) = 0.3
    sim = idr.simulate_recovery(_batch(10, 0.7), n_sims=40000, split_share=0.0, seed=3)
    b = sim.batches.iloc[0]
    assert b["idre_fee"] == 1173.0
    se = 1173 * np.sqrt(0.3 * 0.7 / 40000)
    assert b["expected_fee_cost"] == pytest.approx(0.3 * 1173, abs=4 * se)
    assert b["p_provider_bears_idre_fee"] == pytest.approx(0.3, abs=0.01)
    # the closed form used by the worklist agrees (entity rule, no split)
    ev = idr.expected_value_frame(_batch(10, 0.7), batch_fee_rule="entity")
    s = idr.SPLIT_SHARE_DEFAULT
    assert ev["p_provider_bears_idre_fee"].iloc[0] == pytest.approx(
        (1 - s) * 0.3 + s * 0.0473, abs=1e-3
    )
    # independent lines (the old model) would put the fee on the provider ~5% of the time
    maj = idr.expected_value_frame(_batch(10, 0.7), batch_fee_rule="majority")
    assert maj["p_provider_bears_idre_fee"].iloc[0] < 0.11
    # the EV is discounted over the days to payment and its interval brackets it
    disc = float(idr.discount_factor(idr.DAYS_TO_IDR_PAYMENT))
    hand = disc * (0.7 * 10 * 400 - 15 - 0.3 * 1173)
    assert b["expected_value"] == pytest.approx(hand, rel=0.02)
    assert b["ev_low"] < hand < b["ev_high"]


def _portfolio(rng: np.random.Generator, k_idr: float) -> tuple[pd.DataFrame, float]:
    """A worklist with known outcomes drawn from the same model: (worklist, realised total)."""
    rows, realised = [], 0.0
    th_idr = rng.beta(k_idr * 0.88, k_idr * 0.12)
    for b in range(12):  # 12 IDR batches of 3 claims: one outcome per batch
        win = rng.random() < th_idr
        for _ in range(3):
            a = float(rng.uniform(200, 900))
            cost = 20.0
            rows.append(("open_negotiation", "P0", f"B{b}", 0.88, a, 0.88 * a - cost))
            realised += (a if win else 0.0) - cost
    for payer in ("P1", "P2", "P3"):
        th = rng.beta(20 * 0.5, 20 * 0.5)
        for _ in range(10):
            a = float(rng.uniform(100, 600))
            rows.append(("appeal_level_1", payer, "", 0.5, a, 0.5 * a - WORK))
            realised += (a if rng.random() < th else 0.0) - WORK
    w = pd.DataFrame(
        rows, columns=["route", "payer", "batch_id", "probability", "at_stake", "expected_recovery"]
    )
    w["status"] = "open"
    return w, realised


def _coverage(n_portfolios: int, n_sims: int) -> float:
    k_idr = PRIORS.win_concentration(PRIORS.quarters[-1])
    rng = np.random.default_rng(11)
    hit = 0
    for i in range(n_portfolios):
        w, realised = _portfolio(rng, k_idr)
        ri = tg.recovery_interval(w, n_sims=n_sims, seed=1000 + i, priors=PRIORS)
        hit += ri.low <= realised <= ri.high
    return hit / n_portfolios


def test_interval_coverage_on_simulated_portfolios() -> None:
    cov = _coverage(300, 800)
    assert 0.86 <= cov <= 0.94, cov


@pytest.mark.slow
def test_interval_coverage_on_simulated_portfolios_long() -> None:
    cov = _coverage(2000, 2000)
    assert 0.88 <= cov <= 0.92, cov


def test_recovery_columns_bracket_the_row_expected_recovery() -> None:
    w, _ = _portfolio(np.random.default_rng(1), 328.0)
    w.loc[0, "status"] = "lost"
    rc = tg.recovery_columns(w, priors=PRIORS)
    er = w["expected_recovery"]
    assert (rc["expected_recovery_low"] <= er + 0.01).all() and (
        rc["expected_recovery_high"] >= er - 0.01
    ).all()
    # an appeal row's interval is the Beta(20 p, 20 (1 - p)) 90% range of p times its amount
    r = w.index[w["route"].eq("appeal_level_1")][0]
    lo = beta_dist.ppf(0.05, 10, 10)
    assert rc.loc[r, "expected_recovery_low"] == pytest.approx(
        er[r] + (lo - 0.5) * w.loc[r, "at_stake"], abs=0.01
    )
    assert (
        rc.loc[0, "expected_recovery_low"]
        == rc.loc[0, "expected_recovery_high"]
        == pytest.approx(er[0], abs=0.01)
    )
    # IDR rows are much tighter (CMS's quarter-to-quarter spread) than appeal rows
    width = (rc["expected_recovery_high"] - rc["expected_recovery_low"]) / w["at_stake"]
    assert width[w["route"].eq("open_negotiation") & w["status"].eq("open")].max() < width[r]


def test_cli_expected_value_json() -> None:
    from typer.testing import CliRunner

    from oonplaybook.cli import app

    res = CliRunner().invoke(
        app,
        [
            "idr",
            "expected-value",
            "--specialty",
            "radiology",
            "--qpa",
            "250",
            "--paid",
            "300",
            "--lines",
            "3",
            "--initiation-date",
            "2026-12-02",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    for k in (
        "win_probability",
        "award_multiple_of_qpa",
        "prior_quarter",
        "prior_source",
        "expected_value",
        "expected_value_low",
        "expected_value_high",
        "fees",
    ):
        assert k in out
    assert out["prior_quarter"] == "2025Q2" and "vintage 2025Q2" in out["prior_source"]
    p, m = out["win_probability"], out["award_multiple_of_qpa"]
    assert out["offer"] == pytest.approx(250 * m, abs=0.5)  # m is rounded in the output
    disc = float(idr.discount_factor(idr.DAYS_TO_IDR_PAYMENT))
    hand = disc * (p * 3 * (out["offer"] - 300) - 15 - (1 - p) * 1173)
    assert out["expected_value"] == pytest.approx(hand, rel=0.02)
    assert out["expected_value_low"] < out["expected_value"] < out["expected_value_high"]
    assert out["fees"]["provider_pays_if_loses"] == 15 + 1173
    older = CliRunner().invoke(
        app,
        [
            "idr",
            "expected-value",
            "--specialty",
            "radiology",
            "--qpa",
            "250",
            "--paid",
            "300",
            "--quarter",
            "2024Q2",
            "--json",
        ],
    )
    assert json.loads(older.output)["prior_quarter"] == "2024Q2"
    bad = CliRunner().invoke(
        app, ["idr", "expected-value", "--specialty", "radiology", "--qpa", "0", "--paid", "1"]
    )
    assert bad.exit_code == 2 and "--qpa must be > 0" in bad.output


@pytest.fixture(scope="module")
def demo_plan() -> dict:
    from oonplaybook import benchmark, demo
    from oonplaybook import playbook as pb
    from oonplaybook.config import PlaybookSettings
    from oonplaybook.specialties import load_profiles

    s = PlaybookSettings()
    p = demo.generate(lines=20000, seed=20251)
    cl = p.claim_lines.drop(columns=["medicare_allowed"])
    as_of = pd.Timestamp(p.truth["cutoff_date"]).date()
    bench = benchmark.build_benchmarks(cl, year=2025, default_locality="13202-01")
    profiles = load_profiles(sorted(set(cl["specialty"]) - {""}))
    nsa = pb.assess_nsa(cl, as_of=as_of)
    t = pb.build_targets(bench, None, None, profiles, s, claim_lines=cl, nsa_assessment=nsa)
    wl = pb.build_worklist(
        cl, bench, nsa, t, None, as_of=as_of, settings=s, profiles=profiles, appeals=p.appeals
    )
    d = pb.idr_disputes(cl, bench, nsa, wl, t, as_of=as_of)
    b = pb.build_idr_batches(d, as_of=as_of, settings=s)
    wl = pb.link_idr_batches(wl, d, b)
    return {"targets": t, "worklist": wl, "batches": b, "disputes": d}


def test_demo_targets_by_specialty_follow_the_priors(demo_plan: dict) -> None:
    t = demo_plan["targets"]
    nsa = t[t["alternative"].eq("IDR (NSA)")]
    by = nsa.groupby("specialty")["idr_award_x_qpa"].median()
    # CMS Table 14: radiology's median prevailing offer (512%) is above emergency medicine's (312%)
    assert by["radiology"] > by["emergency_medicine"]
    assert (nsa["idr_prior_quarter"] == "2025Q2").all()
    cur = t["current_x"].fillna(0.0)
    assert (t["walk_away_x"] >= cur - 1e-9).all()
    assert (t["opening_ask_x"] >= t["target_x"] - 1e-9).all() and (
        t["target_x"] >= t["walk_away_x"] - 1e-9
    ).all()
    # NSA walk-aways are the value of IDR, above what the payer pays now, not the status quo
    assert (nsa["walk_away_x"] > nsa["current_x"]).mean() > 0.9
    assert t["room_note"].str.len().gt(0).all()
    assert not nsa["opening_rationale"].str.contains("UCR p80 =").any()  # own charges only cap


def test_demo_recoveries_carry_their_intervals(demo_plan: dict) -> None:
    wl, b = demo_plan["worklist"], demo_plan["batches"]
    er = wl["expected_recovery"]
    assert (wl["expected_recovery_low"] <= er + 0.01).all() and (
        wl["expected_recovery_high"] >= er - 0.01
    ).all()
    open_ = wl[wl["status"].eq("open")]
    assert (open_["expected_recovery_high"] > open_["expected_recovery_low"]).mean() > 0.5
    ri = tg.recovery_interval(wl)
    assert ri.expected == pytest.approx(float(open_["expected_recovery"].sum()))
    assert ri.low < ri.expected < ri.high
    # the worklist read back from its CSV gives the same interval (blank batch ids stay blank)
    again = tg.recovery_interval(pd.read_csv(pd.io.common.StringIO(wl.to_csv(index=False))))
    assert again.low == pytest.approx(ri.low, rel=1e-6) and again.high == pytest.approx(
        ri.high, rel=1e-6
    )
    assert (
        len(b) > 10
        and (b["ev_low"] <= b["ev_net_pv"] + 1).all()
        and (b["ev_net_pv"] <= b["ev_high"] + 1).all()
    )
    # one entity decides each batch: the expected IDRE fee cost is about (1 - p) x the fee
    assert b["expected_idre_fee_cost"].sum() == pytest.approx(
        ((1 - b["p_win"]) * b["idre_fee"]).sum(), rel=0.1
    )


def test_gap_on_one_basis() -> None:
    lines = pd.DataFrame(
        {"paid": [80.0, 100.0], "patient_resp": [20.0, float("nan")], "allowed": [100.0, 100.0]}
    )
    g = tg.gap_on_one_basis(lines, pd.Series([150.0, 150.0]))
    # the benchmark is allowed-level: the gap is to paid + patient share (50), not to paid alone (70)
    assert g["gap_allowed"].tolist() == [50.0, 50.0]
    assert g["plan_payment_gap"].tolist() == [70.0, 50.0]
    assert g["patient_share_in_gap"].tolist() == [20.0, 0.0]
