"""Monte-Carlo coverage of the denial and payment models' 95% CIs (slow: ~200 portfolios)."""

from __future__ import annotations

import pytest

from oonplaybook.payers.simulate import coverage_study


@pytest.mark.slow
def test_denial_and_payment_ci_coverage_between_92_and_98_percent():
    res = coverage_study(n_portfolios=200, n_claims=3000, seed=0)
    cov = res.groupby("model")["covered"].mean()
    assert res["fitted"].all()
    for model in ("denial_odds_ratio", "paid_multiple_of_medicare"):
        assert 0.92 <= cov[model] <= 0.98, (model, cov[model])


def test_coverage_study_counts_each_interval():
    res = coverage_study(n_portfolios=2, n_claims=1500, seed=100)
    # 6 payers x 4 models x 2 portfolios, minus the er_prior_auth payer's denial OR
    assert len(res) == 2 * (6 * 4 - 1)
    assert set(res["covered"].unique()) <= {True, False}
    assert (res.loc[res["fitted"], "estimate"] > 0).all()
