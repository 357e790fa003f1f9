"""Time to pay without claim-received dates: the clock falls back to the date of service."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from oonplaybook.payers import fit_all, survival_table
from oonplaybook.payers.figures import km_plot, readings, scorecard_view
from oonplaybook.payers.survival import CLOCK_LABELS

from .conftest import ensure_demo_data


def _claims(n: int, submitted: int) -> pd.DataFrame:
    """n claims served on Jan 1, received on Jan 11 (the first ``submitted``), paid Feb 10."""
    return pd.DataFrame(
        {
            "claim_id": [f"C{i}" for i in range(n)],
            "payer": ["A"] * n,
            "service_date": pd.Timestamp("2025-01-01"),
            "submitted_date": [pd.Timestamp("2025-01-11")] * submitted + [pd.NaT] * (n - submitted),
            "remit_date": pd.Timestamp("2025-02-10"),
            "adjudicated": True,
        }
    )


def test_clock_is_the_received_date_when_most_claims_have_one() -> None:
    surv, msgs = survival_table(_claims(10, 6), pd.Timestamp("2025-06-30"))
    assert surv.attrs["clock"] == "submitted"
    assert len(surv) == 6 and surv["days"].eq(30).all()
    assert any("4 claims without a submitted date" in m for m in msgs)


def test_clock_falls_back_to_the_date_of_service() -> None:
    surv, msgs = survival_table(_claims(10, 4), pd.Timestamp("2025-06-30"))
    assert surv.attrs["clock"] == "service"
    assert len(surv) == 10 and surv["days"].eq(40).all(), "every claim, counted from service"
    assert any("counted from the date of service" in m and "only 4 of 10" in m for m in msgs)


@pytest.fixture(scope="module")
def no_submitted_fit():
    """The demo portfolio with every claim-received date removed, fitted."""
    d = ensure_demo_data()
    truth = json.loads((d / "truth.json").read_text())
    lines = pd.read_parquet(d / "portfolio.parquet").assign(submitted_date=pd.NaT)
    pm = fit_all(lines, None, cutoff_date=truth["cutoff_date"], seed=0)
    return truth, pm


def test_slowest_payer_is_still_named_without_submitted_dates(no_submitted_fit) -> None:
    truth, pm = no_submitted_fit
    slow = next(p for p, t in truth["payers"].items() if t["behaviour"] == "slow")
    assert "time_to_pay" not in pm.errors
    ttp = pm.time_to_pay
    assert ttp.clock == "service" and ttp.clock_label == CLOCK_LABELS["service"]
    km = ttp.payer_table.set_index("payer")
    assert km["median_days"].idxmax() == slow
    hr = ttp.table.assign(payer=ttp.table["term"].str.slice(6, -1)).set_index("payer")
    assert hr["estimate"].idxmin() == slow and hr.loc[slow, "ci_high"] < 1
    sc = pm.scorecard()
    assert sc["days_to_pay_clock"].eq(CLOCK_LABELS["service"]).all()
    view = scorecard_view(sc)
    assert "median days from service" in view.columns and "median days" not in view.columns
    findings = " ".join(readings(pm))
    assert f"Half of {slow}'s claims are remitted within" in findings
    assert "of the date of service" in findings and "of receipt" not in findings
    assert json.loads(pm.to_json())["time_to_pay_clock"] == "service"
    fig = km_plot(pm.km_curves())
    assert "date of service" in fig.axes[0].get_xlabel()


def test_executive_summary_says_days_from_service(no_submitted_fit) -> None:
    from oonplaybook.executive import payer_findings as executive_findings

    truth, pm = no_submitted_fit
    slow = next(p for p, t in truth["payers"].items() if t["behaviour"] == "slow")
    lines = [x for x in executive_findings(pm.scorecard()) if x.startswith(f"{slow} pays")]
    assert lines and "days to pay from the date of service" in lines[0], lines
