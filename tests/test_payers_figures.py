"""Figures and plain-English readings are produced from the results (nothing typed in)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from oonplaybook.payers import figures as pf
from oonplaybook.payers import fit_all, paid_lines
from oonplaybook.payers.simulate import simulate_portfolio


@pytest.fixture(scope="module")
def pm_sim():
    s = simulate_portfolio(4000, seed=31)
    return s, fit_all(s.claim_lines, s.appeals, cutoff_date=s.truth["cutoff_date"])


def test_readings_follow_the_numbers(pm_sim):
    s, pm = pm_sim
    text = "\n".join(pf.readings(pm))
    e = pm.payer_effects().set_index(["model", "payer"])
    hd = next(p for p, t in s.truth["payers"].items() if t["behaviour"] == "high_denial")
    r = e.loc[("denial_odds_ratio", hd)]
    assert f"{hd} denies {r['estimate']:.2f} times the odds" in text
    assert f"95% CI {r['ci_low']:.2f}-{r['ci_high']:.2f}" in text
    cut = next(p for p, t in s.truth["payers"].items() if t["behaviour"] == "cut")
    assert f"{cut} cut its payment level" in text
    rep = next(p for p, t in s.truth["payers"].items() if t["behaviour"] == "repricer")
    assert f"{rep} looks repriced" in text
    er = next(p for p, t in s.truth["payers"].items() if t["behaviour"] == "er_prior_auth")
    assert f"{er} denied" in text and "149.110" in text
    assert text.count("First payer to work") == 1


def test_figures_render(pm_sim):
    s, pm = pm_sim
    for fig in (
        pf.forest_plot(pm.payer_effects()),
        pf.km_plot(pm.km_curves()),
        pf.drift_plot(pm.drift_index(), pm.scorecard()),
        pf.payment_spread_plot(paid_lines(s.claim_lines)),
    ):
        assert fig.axes
        plt.close(fig)


def test_scorecard_view_sorted_by_rank(pm_sim):
    _, pm = pm_sim
    v = pf.scorecard_view(pm.scorecard())
    assert list(v["rank"]) == sorted(v["rank"])
    assert "drift month" in v.columns and "repricer" in v.columns
