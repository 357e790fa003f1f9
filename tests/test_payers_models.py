"""Payer models on simulated portfolios (the agreed DGP): recovery, edge cases, contracts."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from oonplaybook.payers import (
    EFFECT_COLUMNS,
    EFFECT_MODELS,
    TIDY_COLUMNS,
    InsufficientDataError,
    claim_table,
    drift_scan,
    fit_all,
    fit_appeals,
    fit_payment,
    paid_lines,
    prepare_appeals,
)
from oonplaybook.payers._base import clopper_pearson, holm, reason_groups, sum_code, sum_contrasts
from oonplaybook.payers.simulate import DEFAULT_PAYERS, SimPayer, simulate_portfolio
from oonplaybook.payers.survival import _quantile_ci

TRUTH_KEYS = {
    "denial_odds_ratio": "denial_odds_ratio",
    "paid_multiple_of_medicare": "paid_multiple_of_medicare",
    "payment_hazard_ratio": "payment_hazard_ratio",
    "appeal_odds_ratio": "appeal_odds_ratio",
}


@pytest.fixture(scope="module")
def sim():
    """One medium portfolio and its fitted models (shared by the recovery tests)."""
    s = simulate_portfolio(12000, seed=7)
    pm = fit_all(s.claim_lines, s.appeals, cutoff_date=s.truth["cutoff_date"], seed=0)
    return s, pm


# --- building blocks ----------------------------------------------------------------------------


def test_sum_coding_last_level_is_minus_sum():
    x, names = sum_code(pd.Series(["b", "a", "c", "c"]), ["a", "b", "c"], "payer")
    assert names == ["payer[S.a]", "payer[S.b]"]
    np.testing.assert_array_equal(x, [[0, 1], [1, 0], [-1, -1], [-1, -1]])
    c = sum_contrasts(3)
    beta = np.array([0.4, -0.1])
    effects = c @ beta
    assert effects.sum() == pytest.approx(0.0)
    assert effects[2] == pytest.approx(-0.3)


def test_holm_matches_statsmodels():
    p = np.array([0.01, 0.04, 0.03, 0.5, np.nan])
    ours = holm(p)
    ref = multipletests(p[:4], method="holm")[1]
    np.testing.assert_allclose(ours[:4], ref)
    assert np.isnan(ours[4])


def test_clopper_pearson_matches_statsmodels():
    k, n = np.array([0, 3, 10, 20]), np.array([20, 20, 20, 20])
    lo, hi = clopper_pearson(k, n)
    for i in range(4):
        rl, rh = proportion_confint(k[i], n[i], method="beta")
        assert lo[i] == pytest.approx(rl, abs=1e-9)
        assert hi[i] == pytest.approx(rh, abs=1e-9)


def test_reason_groups_from_carc():
    g = reason_groups(pd.Series(["CO-197", "CO-50", "PR-1", "", "CO-97", "OA-18", "CO-242"]))
    assert g.tolist() == [
        "authorization",
        "medical_necessity",
        "other",
        "none",
        "coding_bundling",
        "duplicate",
        "network",
    ]


def test_claim_denied_only_when_every_adjudicated_line_denied():
    s = simulate_portfolio(200, seed=3)
    cl = s.claim_lines.copy()
    cid = cl.loc[cl["claim_status"].eq("denied"), "claim_id"].iloc[0]
    sel = cl["claim_id"].eq(cid)
    first = cl.index[sel][0]
    cl.loc[first, "claim_status"] = "paid"
    ct = claim_table(cl).set_index("claim_id")
    assert not ct.loc[cid, "denied"]
    assert ct["denied"].sum() == claim_table(s.claim_lines)["denied"].sum() - 1


def test_km_median_ci_defined_on_big_samples():
    from statsmodels.duration.survfunc import SurvfuncRight

    rng = np.random.default_rng(0)
    t = np.ceil(rng.exponential(20, 100_000))
    sf = SurvfuncRight(t, np.ones_like(t))
    med, lo, hi = _quantile_ci(sf)
    assert lo <= med <= hi
    assert np.isfinite(lo) and np.isfinite(hi)
    assert med == pytest.approx(20 * np.log(2), abs=1.5)


# --- recovery on a simulated portfolio ----------------------------------------------------------


@pytest.mark.parametrize("model", EFFECT_MODELS)
def test_planted_effects_inside_95ci(sim, model):
    s, pm = sim
    eff = pm.payer_effects()
    e = eff[eff["model"] == model].set_index("payer")
    misses = []
    for payer, t in s.truth["payers"].items():
        if model == "denial_odds_ratio" and t["behaviour"] == "er_prior_auth":
            continue  # its planted behaviour is tested by the improper-ER test
        truth = t[TRUTH_KEYS[model]]
        r = e.loc[payer]
        assert r["ci_low"] < r["estimate"] < r["ci_high"]
        if not r["ci_low"] <= truth <= r["ci_high"]:
            misses.append((payer, truth, r["ci_low"], r["ci_high"]))
    # 6 payers x 95% CIs: allow at most one miss per model (P(>=2 misses) ~ 3%)
    assert len(misses) <= 1, misses


def test_cut_month_found_and_fair_payers_not_flagged(sim):
    s, pm = sim
    sc = pm.scorecard().set_index("payer")
    for payer, t in s.truth["payers"].items():
        if t["behaviour"] == "cut":
            assert sc.loc[payer, "drift_flag"]
            got = pd.Period(sc.loc[payer, "drift_month"], "M")
            assert abs((got - pd.Period(t["cut_month"], "M")).n) <= 1
            assert (
                sc.loc[payer, "drift_ci_low"] <= t["cut_factor"] <= sc.loc[payer, "drift_ci_high"]
            )
            assert (
                sc.loc[payer, "drift_month_low"]
                <= t["cut_month"]
                <= sc.loc[payer, "drift_month_high"]
            )
        else:
            assert not sc.loc[payer, "drift_flag"], payer
            assert sc.loc[payer, "drift_month"] == ""


def test_repricer_found_and_only_it(sim):
    s, pm = sim
    sc = pm.scorecard().set_index("payer")
    for payer, t in s.truth["payers"].items():
        assert bool(sc.loc[payer, "repricer_flag"]) == (t["behaviour"] == "repricer"), payer
        if t["behaviour"] == "repricer":
            assert "MultiPlan" in sc.loc[payer, "repricer_evidence"]
            rt = pm.repricer.table.set_index("term").loc[payer]
            assert rt["ci_low"] <= t["repricer_multiple"] <= rt["ci_high"]
            assert "x Medicare" in sc.loc[payer, "repricer_evidence"]


def test_improper_er_denials_at_planted_rate(sim):
    s, pm = sim
    it = pm.improper_er.table.set_index("term")
    for payer, t in s.truth["payers"].items():
        if t["behaviour"] == "er_prior_auth":
            assert it.loc[payer, "flagged"]
            assert (
                it.loc[payer, "auth_ci_low"]
                <= t["er_prior_auth_denial_rate"]
                <= it.loc[payer, "auth_ci_high"]
            )
        else:
            assert not it.loc[payer, "flagged"]
            assert it.loc[payer, "auth_denials"] == 0


def test_slow_payer_is_slowest_with_longest_median(sim):
    s, pm = sim
    sc = pm.scorecard().set_index("payer")
    slow = next(p for p, t in s.truth["payers"].items() if t["behaviour"] == "slow")
    assert sc["payment_hazard_ratio"].idxmin() == slow
    assert sc["median_days_to_pay"].idxmax() == slow
    assert sc.loc[slow, "payment_hazard_ratio_ci_high"] < 1


def test_high_denial_payer_has_highest_adjusted_rate(sim):
    s, pm = sim
    sc = pm.scorecard().set_index("payer")
    hd = next(p for p, t in s.truth["payers"].items() if t["behaviour"] == "high_denial")
    assert sc["adjusted_denial_rate"].idxmax() == hd
    assert sc.loc[hd, "denial_odds_ratio_ci_low"] > 1


# --- contracts ------------------------------------------------------------------------------------


def test_tables_follow_the_contract(sim):
    _, pm = sim
    eff = pm.payer_effects()
    assert list(eff.columns) == list(EFFECT_COLUMNS)
    assert set(eff["model"]) == set(EFFECT_MODELS)
    assert eff["estimate"].notna().all()
    for r in pm.results().values():
        assert list(r.tidy().columns[:6]) == list(TIDY_COLUMNS)
        assert r.summary().startswith("==")
    sc = pm.scorecard()
    assert sc["payer"].is_unique and len(sc) == 6
    assert sorted(sc["rank"]) == list(range(1, 7))
    for col in ("drift_month", "drift_size", "repricer_flag", "repricer_evidence", "rank", "notes"):
        assert col in sc.columns


def test_to_json_is_deterministic_and_timestamp_free(sim):
    s, pm = sim
    again = fit_all(s.claim_lines, s.appeals, cutoff_date=s.truth["cutoff_date"], seed=0)
    a, b = pm.to_json(), again.to_json()
    assert a == b
    assert "Date:" not in a and "Time:" not in a
    d = json.loads(a)
    assert set(d) >= {"payer_effects", "scorecard", "models", "errors", "cutoff_date"}


def test_expected_payment_targets_the_payer_mean(sim):
    s, pm = sim
    lines = s.claim_lines
    ep = pm.expected_payment(lines)
    assert len(ep) == len(lines)
    paid = lines["claim_status"].eq("paid").to_numpy()
    ratio = lines.loc[paid, "allowed"].sum() / ep.loc[paid, "expected_allowed"].sum()
    assert ratio == pytest.approx(1.0, abs=0.02)  # capping at billed pulls actual slightly down
    inside = (
        lines.loc[paid, "allowed"].to_numpy() >= ep.loc[paid, "expected_allowed_low"].to_numpy()
    ) & (
        lines.loc[paid, "allowed"].to_numpy()
        <= ep.loc[paid, "expected_allowed_high"].to_numpy() + 0.01
    )
    assert 0.92 < inside.mean() < 0.99
    other = lines.head(3).assign(payer="Unknown Payer")
    assert set(pm.expected_payment(other)["basis"]) == {"portfolio_average"}
    nomed = lines.head(2).assign(medicare_allowed=np.nan)
    assert set(pm.expected_payment(nomed)["basis"]) == {"no_medicare_benchmark"}


# --- thin data: clear messages, never a crash or silent NaN ------------------------------------------


def test_tiny_portfolio_reports_why_not_crash():
    s = simulate_portfolio(40, seed=11)
    pm = fit_all(s.claim_lines, s.appeals.head(3))
    eff = pm.payer_effects()
    missing = eff[eff["estimate"].isna()]
    assert len(missing) > 0
    assert (missing["note"].str.len() > 10).all()
    sc = pm.scorecard()
    assert (sc["notes"].str.len() > 0).all()
    assert "appeals" in pm.summary() or pm.appeals is not None


def test_small_payer_excluded_with_reason():
    payers = (*DEFAULT_PAYERS[:3], SimPayer("Tiny Plan", "fair", weight=0.003))
    s = simulate_portfolio(4000, seed=5, payers=payers)
    pm = fit_all(s.claim_lines, s.appeals)
    eff = pm.payer_effects()
    tiny = eff[(eff["payer"] == "Tiny Plan") & (eff["model"] == "denial_odds_ratio")].iloc[0]
    assert np.isnan(tiny["estimate"])
    assert "claims" in tiny["note"]


def test_no_medicare_benchmark_skips_payment_with_message():
    s = simulate_portfolio(1500, seed=2)
    pm = fit_all(s.claim_lines.drop(columns="medicare_allowed"), None)
    assert "payment" in pm.errors and "benchmark" in pm.errors["payment"]
    assert pm.denial is not None and pm.time_to_pay is not None
    eff = pm.payer_effects()
    pay = eff[eff["model"] == "paid_multiple_of_medicare"]
    assert pay["estimate"].isna().all() and pay["note"].str.contains("medicare_allowed").all()
    with pytest.raises(InsufficientDataError):
        pm.expected_payment(s.claim_lines)


def test_few_appeals_gives_raw_rates_with_exact_ci():
    s = simulate_portfolio(1500, seed=4)
    a = prepare_appeals(s.appeals.head(40), claim_table(s.claim_lines))
    r = fit_appeals(a)
    assert not r.modelled
    assert "Clopper-Pearson" in r.messages[0]
    t = r.payer_table
    lo, hi = clopper_pearson(t["overturned"].to_numpy(), t["appeals"].to_numpy())
    np.testing.assert_allclose(t["rate_ci_low"], lo)
    np.testing.assert_allclose(t["rate_ci_high"], hi)


def test_appeal_reason_group_filled_from_claim_carc():
    s = simulate_portfolio(3000, seed=6)
    a = s.appeals.assign(denial_reason_group="")
    prep = prepare_appeals(a, claim_table(s.claim_lines))
    assert (prep["reason_group"] != "unknown").all()


# --- payment level details --------------------------------------------------------------------------


def test_censored_em_removes_capping_bias():
    payers = (
        SimPayer("High Payer", "fair", multiple=2.8, sigma=0.3),
        SimPayer("Low Payer", "fair", multiple=1.5),
    )
    s = simulate_portfolio(6000, seed=9, payers=payers)
    paid = paid_lines(s.claim_lines)
    assert paid["capped"].mean() > 0.05
    r = fit_payment(paid)
    t = r.payer_table.set_index("payer")
    assert t.loc["High Payer", "ci_low"] <= 2.8 <= t.loc["High Payer", "ci_high"]
    naive = np.exp(paid.loc[paid["payer"] == "High Payer", "y"].mean())
    assert naive < t.loc["High Payer", "ci_low"]  # ignoring the cap would understate the level


def test_drift_scan_detects_constructed_break_and_not_noise():
    rng = np.random.default_rng(1)
    months = pd.period_range("2024-01", periods=18, freq="M").astype(str)
    rows = []
    for payer, cut in (("A", None), ("B", 9), ("C", None)):
        for i, m in enumerate(months):
            level = np.log(1.8) + (np.log(0.85) if cut is not None and i >= cut else 0.0)
            n = 300
            rows.append(
                {
                    "payer": payer,
                    "month": m,
                    "n": n,
                    "log_mean": level + rng.normal(0, 0.2 / np.sqrt(n)),
                    "sd": 0.2,
                    "log_se": 0.2 / np.sqrt(n),
                }
            )
    idx = pd.DataFrame(rows)
    idx["index"] = np.exp(idx["log_mean"])
    r = drift_scan(idx, seed=0)
    t = r.table.set_index("term")
    assert t.loc["B", "flagged"] and t.loc["B", "break_month"] == months[9]
    assert t.loc["B", "ci_low"] <= 0.85 <= t.loc["B", "ci_high"]
    assert not t.loc["A", "flagged"] and not t.loc["C", "flagged"]
    assert r.breaks == {"B": months[9]}


def test_grouped_time_cox_matches_phreg_efron():
    from oonplaybook.payers import fit_time_to_pay, survival_table

    s = simulate_portfolio(6000, seed=12)
    sv, _ = survival_table(claim_table(s.claim_lines), pd.Timestamp(s.truth["cutoff_date"]))
    cox = fit_time_to_pay(sv).tidy()
    grouped = fit_time_to_pay(sv, cox_max_claims=10)
    assert "grouped-time" in " ".join(grouped.messages)
    g = grouped.tidy()
    np.testing.assert_allclose(np.log(cox["estimate"]), np.log(g["estimate"]), atol=2e-3)
    np.testing.assert_allclose(
        np.log(cox["ci_high"] / cox["ci_low"]), np.log(g["ci_high"] / g["ci_low"]), rtol=0.02
    )


def test_ols_cluster_matches_statsmodels():
    import statsmodels.api as sm

    from oonplaybook.payers._base import ols_cluster

    rng = np.random.default_rng(3)
    n = 3000
    g = rng.integers(0, 900, n)
    x = np.column_stack([np.ones(n), rng.normal(size=n), rng.integers(0, 2, n)])
    y = x @ np.array([1.0, 0.5, -0.2]) + rng.normal(size=900)[g] * 0.3 + rng.normal(size=n)
    params, cov, _ = ols_cluster(x, y, g)
    ref = sm.OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": g})
    np.testing.assert_allclose(params, ref.params, rtol=1e-10)
    np.testing.assert_allclose(cov, ref.cov_params(), rtol=1e-8)
