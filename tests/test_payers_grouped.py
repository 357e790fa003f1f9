"""Payer models on grouped data equal the line-level fits (100k simulated lines).

Stated tolerances (docs/scale.md): the denial logit on exact cells (``billed_bin=0``) and the
payment model on (regime, family) cells equal the line fits to 1e-9 relative; the denial logit
with log billed binned by 0.01 moves log odds ratios by < 1e-3 and CI widths by < 0.1%.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oonplaybook.payers import InsufficientDataError, claim_table
from oonplaybook.payers.denial import denial_cells, fit_denial, improper_er_denials
from oonplaybook.payers.payment import fit_payment, paid_lines
from oonplaybook.payers.simulate import simulate_portfolio


@pytest.fixture(scope="module")
def sim():  # type: ignore[no-untyped-def]
    """100k simulated lines (50k claims, 1-3 lines each) from the demo DGP."""
    s = simulate_portfolio(n_claims=50_000, seed=11)
    assert 95_000 < len(s.claim_lines) < 105_000
    return s


@pytest.fixture(scope="module")
def claims(sim) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The claim table of the simulated lines."""
    return claim_table(sim.claim_lines)


def _log_ci_width(t: pd.DataFrame) -> np.ndarray:
    """Width of each 95% CI on the link (log) scale."""
    return np.log(t["ci_high"].to_numpy()) - np.log(t["ci_low"].to_numpy())


def test_denial_exact_cells_equal_the_claim_fit(claims: pd.DataFrame) -> None:
    er = improper_er_denials(claims).flagged
    line = fit_denial(claims, er)
    cell = fit_denial(claims, er, grouped=True, billed_bin=0.0)
    a, b = line.table.set_index("term"), cell.table.set_index("term")
    assert list(a.index) == list(b.index)
    for col in ("estimate", "ci_low", "ci_high"):
        np.testing.assert_allclose(b[col], a[col], rtol=1e-9)
    np.testing.assert_allclose(b["p_value"], a["p_value"], rtol=1e-6, atol=1e-12)
    pd.testing.assert_frame_equal(cell.payer_table, line.payer_table, check_exact=False, rtol=1e-9)
    assert cell.n_obs == line.n_obs and cell.excluded == line.excluded


def test_denial_binned_cells_within_stated_tolerance(claims: pd.DataFrame) -> None:
    er = improper_er_denials(claims).flagged
    line = fit_denial(claims, er)
    cell = fit_denial(claims, er, grouped=True)  # log billed binned by 0.01
    a, b = line.table.set_index("term"), cell.table.set_index("term")
    assert np.max(np.abs(np.log(b["estimate"]) - np.log(a["estimate"]))) < 1e-3
    assert np.max(np.abs(_log_ci_width(b) / _log_ci_width(a) - 1)) < 1e-3
    np.testing.assert_allclose(
        cell.payer_table["adjusted_denial_rate"],
        line.payer_table["adjusted_denial_rate"],
        atol=1e-5,
    )
    cells = denial_cells(claims)
    assert len(cells) < 0.6 * line.n_obs  # the grouping does compress
    assert any("covariate cells" in m for m in cell.messages)


def test_denial_cells_from_partitions_add_up(claims: pd.DataFrame) -> None:
    whole = denial_cells(claims)
    parts = [denial_cells(g) for _, g in claims.groupby(claims.index % 3)]
    key = [c for c in whole.columns if c not in ("n", "k", "lb_sum")]
    summed = pd.concat(parts).groupby(key, sort=True, observed=True).sum().reset_index()
    pd.testing.assert_frame_equal(summed[key + ["n", "k"]], whole[key + ["n", "k"]])
    np.testing.assert_allclose(summed["lb_sum"], whole["lb_sum"], rtol=1e-12, atol=1e-9)
    assert int(whole["n"].sum()) == int(claims["adjudicated"].sum())


def test_denial_grouped_keeps_the_insufficient_data_error(claims: pd.DataFrame) -> None:
    one = claims[claims["payer"] == claims["payer"].iloc[0]]
    with pytest.raises(InsufficientDataError, match="at least 2 payers"):
        fit_denial(one, grouped=True)


@pytest.mark.parametrize("with_break", [False, True])
def test_payment_cells_equal_the_line_fit(sim, with_break: bool) -> None:  # type: ignore[no-untyped-def]
    paid = paid_lines(sim.claim_lines)
    assert paid["capped"].any()  # the censored-normal EM is exercised
    breaks = {sorted(paid["payer"].unique())[0]: "2025-06"} if with_break else {}
    line = fit_payment(paid, breaks)
    cell = fit_payment(paid, breaks, grouped=True)
    a, b = line.table.set_index("term"), cell.table.set_index("term")
    assert list(a.index) == list(b.index)
    for col in ("estimate", "ci_low", "ci_high"):
        np.testing.assert_allclose(b[col], a[col], rtol=1e-9)
    np.testing.assert_allclose(b["p_value"], a["p_value"], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(cell.y_used, line.y_used, rtol=1e-9)
    for reg, v in line.smear.items():
        assert cell.smear[reg] == pytest.approx(v, rel=1e-9)
        assert cell.resid_q[reg] == pytest.approx(line.resid_q[reg], rel=1e-9, abs=1e-12)
    assert cell.breaks == line.breaks and cell.excluded == line.excluded


def test_fit_all_grouped_gives_the_same_scorecard(sim) -> None:  # type: ignore[no-untyped-def]
    """The whole stage on grouped fits: same scorecard ranks and flags, payer estimates within
    the stated tolerance, and the grouped fits say so in their messages."""
    from oonplaybook.payers import fit_all

    cut = sim.truth["cutoff_date"]
    line = fit_all(sim.claim_lines, sim.appeals, cutoff_date=cut, seed=3)
    cell = fit_all(sim.claim_lines, sim.appeals, cutoff_date=cut, seed=3, grouped=True)
    assert line.denial is not None and cell.denial is not None
    assert any("covariate cells" in m for m in cell.denial.messages)
    assert not any("covariate cells" in m for m in line.denial.messages)
    a, b = line.denial.payer_table, cell.denial.payer_table
    assert list(a["payer"]) == list(b["payer"])
    assert np.max(np.abs(np.log(b["odds_ratio"]) - np.log(a["odds_ratio"]))) < 1e-3
    pa, pb = line.payment.table.set_index("term"), cell.payment.table.set_index("term")
    np.testing.assert_allclose(pb["estimate"], pa["estimate"], rtol=1e-9)
    sa, sb = line.scorecard(), cell.scorecard()
    assert list(sa["payer"]) == list(sb["payer"])
    assert list(sa["rank"]) == list(sb["rank"])


@pytest.mark.parametrize(
    ("mode", "lines", "expected"),
    [
        ("auto", 999_999, False),
        ("auto", 1_000_000, True),
        ("lines", 10**8, False),
        ("grouped", 10, True),
    ],
)
def test_scale_settings_choose_grouped_fits(mode: str, lines: int, expected: bool) -> None:
    from oonplaybook.config import ScaleSettings

    assert ScaleSettings(payer_models=mode).grouped_fits(lines) is expected


@pytest.mark.parametrize("grouped", [False, True])
def test_a_level_that_predicts_the_outcome_is_left_out_not_fatal(
    claims: pd.DataFrame, grouped: bool
) -> None:
    """A 3-claim specialty whose claims are all paid has no finite MLE (at 3M demo lines it made
    the grouped Newton's matrix singular): its claims are left out and said so, and the fit
    equals the fit without them."""
    adj = claims[claims["adjudicated"]]
    few = adj[~adj["denied"]].index[:3]
    odd = claims.copy()
    odd["specialty"] = odd["specialty"].astype("str")
    odd.loc[few, "specialty"] = "rare_specialty"
    er = improper_er_denials(claims).flagged
    got = fit_denial(odd, er, grouped=grouped, billed_bin=0.0)
    want = fit_denial(odd.drop(index=few), er, grouped=grouped, billed_bin=0.0)
    assert any("'rare_specialty': its 3 claims are all paid" in m for m in got.messages)
    assert got.n_obs == want.n_obs == int(adj.shape[0]) - 3
    pd.testing.assert_frame_equal(got.table, want.table)
