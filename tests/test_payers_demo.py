"""Parameter recovery on the demo portfolio's planted truth (data/demo, see demo.py's DGP).

Two levels of claim, because one realised demo is one draw of 28 intervals:
* each payer's **planted behaviour** (the high-denial odds ratio, the slow payer's hazard ratio,
  the repricer's multiple, the cut payer's level, month and size, the improper ER rate) must lie
  inside its own 95% CI;
* every payer's effect in every model must lie inside the **simultaneous** 95% band over the
  payers (Bonferroni: each interval at 1 - 0.05/k), which is what "all of these are right at
  once" means statistically. Individual 95% CIs over 7 payers all cover only 0.95^7 = 70% of the
  time even for a perfect model; the Monte-Carlo coverage test checks the individual level.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

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


def _inside_simultaneous(row: pd.Series, value: float, k: int) -> bool:
    """Inside the Bonferroni band: the reported 95% CI widened to level 1 - 0.05/k (log scale)."""
    lo, hi, est = np.log(row["ci_low"]), np.log(row["ci_high"]), np.log(row["estimate"])
    se = (hi - lo) / (2 * stats.norm.ppf(0.975))
    z = stats.norm.ppf(1 - 0.025 / k)
    return bool(abs(np.log(value) - est) <= z * se)


def _behaviour(truth: dict, behaviour: str) -> str:
    return next(p for p, t in truth["payers"].items() if t["behaviour"] == behaviour)


@pytest.mark.parametrize(
    "model", ["denial_odds_ratio", "paid_multiple_of_medicare", "payment_hazard_ratio"]
)
def test_all_payers_inside_simultaneous_95_band(demo_fit, model):
    truth, _, pm = demo_fit
    e = _by_payer(pm, model)
    k = len(truth["payers"])
    misses = [
        (p, t[model], e.loc[p, "estimate"])
        for p, t in truth["payers"].items()
        if not (model == "denial_odds_ratio" and t["behaviour"] == "er_prior_auth")
        and not _inside_simultaneous(e.loc[p], t[model], k)
    ]
    assert not misses, misses


def test_every_payer_modelled(demo_fit):
    truth, _, pm = demo_fit
    assert pm.payers == sorted(truth["payers"])  # Self Pay left out
    assert not pm.errors
    assert pm.payer_effects()["estimate"].notna().all()


def test_high_denial_odds_ratio_inside_95ci(demo_fit):
    truth, _, pm = demo_fit
    e = _by_payer(pm, "denial_odds_ratio")
    hd = _behaviour(truth, "high_denial")
    assert _inside(e.loc[hd], truth["payers"][hd]["denial_odds_ratio"]), e.loc[hd].to_dict()
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


def test_repricer_and_cut_payer_multiples_inside_95ci(demo_fit):
    truth, _, pm = demo_fit
    e = _by_payer(pm, "paid_multiple_of_medicare")
    rep, cut = _behaviour(truth, "repricer"), _behaviour(truth, "cut")
    assert _inside(e.loc[rep], truth["payers"][rep]["repricer_multiple"]), e.loc[rep].to_dict()
    assert _inside(e.loc[cut], truth["payers"][cut]["paid_multiple_of_medicare"]), e.loc[
        cut
    ].to_dict()


def test_slow_payer_hazard_ratio_inside_95ci(demo_fit):
    truth, _, pm = demo_fit
    e = _by_payer(pm, "payment_hazard_ratio")
    slow = next(p for p, t in truth["payers"].items() if t["behaviour"] == "slow")
    assert _inside(e.loc[slow], truth["payers"][slow]["payment_hazard_ratio"])
    assert e.loc[slow, "ci_high"] < 1


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


def test_appeal_odds_ratios_inside_simultaneous_95_band(demo_fit):
    truth, _, pm = demo_fit
    assert pm.appeals is not None and pm.appeals.modelled
    e = _by_payer(pm, "appeal_odds_ratio")
    k = len(truth["payers"])
    misses = [
        p
        for p, t in truth["payers"].items()
        if not _inside_simultaneous(e.loc[p], t["appeal_odds_ratio"], k)
    ]
    assert not misses, misses


def test_outputs_carry_no_phi(demo_fit):
    _, lines, pm = demo_fit
    text = pm.to_json() + pm.scorecard().to_csv() + pm.payer_effects().to_csv()
    for key in lines["patient_key"].drop_duplicates().head(200):
        assert key not in text
    for col in ("patient_key", "patient_name", "member_id", "birth_date"):
        assert col not in text
