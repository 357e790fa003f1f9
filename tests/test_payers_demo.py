"""Parameter recovery on the demo portfolio's planted truth (data/demo, see demo.py's DGP)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from oonplaybook.payers import fit_all

from .conftest import ensure_demo_data


@pytest.fixture(scope="module")
def demo_fit():
    """The demo portfolio, its truth and the fitted payer models."""
    d = ensure_demo_data()
    truth = json.loads((d / "truth.json").read_text())
    lines = pd.read_parquet(d / "portfolio.parquet")
    appeals = pd.read_csv(d / "appeals.csv", dtype={"claim_id": "str"})
    pm = fit_all(lines, appeals, cutoff_date=truth["cutoff_date"], seed=0)
    return truth, lines, pm


def _by_payer(pm, model: str) -> pd.DataFrame:
    e = pm.payer_effects()
    return e[e["model"] == model].set_index("payer")


def _inside(row: pd.Series, value: float) -> bool:
    return bool(row["ci_low"] <= value <= row["ci_high"])


def test_every_payer_modelled(demo_fit):
    truth, _, pm = demo_fit
    assert pm.payers == sorted(truth["payers"])  # Self Pay left out
    assert not pm.errors
    assert pm.payer_effects()["estimate"].notna().all()


def test_denial_odds_ratios_inside_95ci(demo_fit):
    truth, _, pm = demo_fit
    e = _by_payer(pm, "denial_odds_ratio")
    for payer, t in truth["payers"].items():
        if t["behaviour"] == "er_prior_auth":
            continue  # its planted behaviour is the improper ER rate (next test)
        assert _inside(e.loc[payer], t["denial_odds_ratio"]), (
            payer,
            t["denial_odds_ratio"],
            e.loc[payer].to_dict(),
        )
    hd = next(p for p, t in truth["payers"].items() if t["behaviour"] == "high_denial")
    assert e.loc[hd, "ci_low"] > 1.5


def test_improper_er_denials_found_at_planted_rate(demo_fit):
    truth, _, pm = demo_fit
    it = pm.improper_er.table.set_index("term")
    for payer, t in truth["payers"].items():
        if t["behaviour"] == "er_prior_auth":
            rate = t["er_prior_auth_denial_rate"]
            assert it.loc[payer, "flagged"]
            assert it.loc[payer, "auth_ci_low"] <= rate <= it.loc[payer, "auth_ci_high"]
        else:
            assert not it.loc[payer, "flagged"], payer


def test_payment_multiples_inside_95ci(demo_fit):
    truth, _, pm = demo_fit
    e = _by_payer(pm, "paid_multiple_of_medicare")
    for payer, t in truth["payers"].items():
        assert _inside(e.loc[payer], t["paid_multiple_of_medicare"]), (
            payer,
            e.loc[payer].to_dict(),
        )


def test_slow_payer_hazard_ratio_inside_95ci(demo_fit):
    truth, _, pm = demo_fit
    e = _by_payer(pm, "payment_hazard_ratio")
    slow = next(p for p, t in truth["payers"].items() if t["behaviour"] == "slow")
    assert _inside(e.loc[slow], truth["payers"][slow]["payment_hazard_ratio"])
    assert e.loc[slow, "ci_high"] < 1
    misses = [
        p for p, t in truth["payers"].items() if not _inside(e.loc[p], t["payment_hazard_ratio"])
    ]
    assert len(misses) <= 1, misses  # 7 independent 95% CIs


def test_cut_month_and_size_found(demo_fit):
    truth, _, pm = demo_fit
    sc = pm.scorecard().set_index("payer")
    cut = next(p for p, t in truth["payers"].items() if t["behaviour"] == "cut")
    t = truth["payers"][cut]
    assert sc.loc[cut, "drift_flag"]
    diff = pd.Period(sc.loc[cut, "drift_month"], "M") - pd.Period(t["cut_month"], "M")
    assert abs(diff.n) <= 1
    assert sc.loc[cut, "drift_ci_low"] <= t["cut_factor"] <= sc.loc[cut, "drift_ci_high"]


def test_repricer_found_and_fair_payers_not_flagged(demo_fit):
    truth, _, pm = demo_fit
    sc = pm.scorecard().set_index("payer")
    for payer, t in truth["payers"].items():
        is_rep = t["behaviour"] == "repricer"
        assert bool(sc.loc[payer, "repricer_flag"]) == is_rep, payer
        if is_rep:
            assert t["repricer"] in sc.loc[payer, "repricer_evidence"]
        if t["behaviour"] == "fair":
            assert not sc.loc[payer, "drift_flag"]
            assert not sc.loc[payer, "repricer_flag"]
            assert not sc.loc[payer, "improper_er_flag"]
        if t["behaviour"] != "cut":
            assert not sc.loc[payer, "drift_flag"], payer


def test_appeal_odds_ratios_mostly_inside_95ci(demo_fit):
    truth, _, pm = demo_fit
    assert pm.appeals is not None and pm.appeals.modelled
    e = _by_payer(pm, "appeal_odds_ratio")
    misses = [
        p for p, t in truth["payers"].items() if not _inside(e.loc[p], t["appeal_odds_ratio"])
    ]
    assert len(misses) <= 1, misses  # few appeals per payer; 7 independent 95% CIs


def test_outputs_carry_no_phi(demo_fit):
    _, lines, pm = demo_fit
    text = pm.to_json() + pm.scorecard().to_csv() + pm.payer_effects().to_csv()
    for key in lines["patient_key"].drop_duplicates().head(200):
        assert key not in text
    for col in ("patient_key", "patient_name", "member_id", "birth_date"):
        assert col not in text
