"""On the demo portfolio the planted behaviours lead to the right NSA findings."""

from __future__ import annotations

import pandas as pd
import pytest

from oonplaybook import demo, idr, nsa


@pytest.fixture(scope="module")
def portfolio() -> tuple[demo.DemoPortfolio, pd.DataFrame]:
    d = demo.generate(6000, seed=7)
    asof = pd.Timestamp(d.truth["cutoff_date"]).date()
    return d, nsa.assess_claims(d.claim_lines, as_of=asof)


def _payer(d: demo.DemoPortfolio, behaviour: str) -> str:
    return next(p for p, v in d.truth["payers"].items() if v["behaviour"] == behaviour)


def test_every_claim_assessed(portfolio: tuple[demo.DemoPortfolio, pd.DataFrame]) -> None:
    d, a = portfolio
    assert len(a) == d.claim_lines["claim_id"].nunique() == d.truth["claims"]
    assert a["claim_status"].value_counts().to_dict() == d.truth["claims_by_status"]


def test_improper_er_prior_auth_denials_found(
    portfolio: tuple[demo.DemoPortfolio, pd.DataFrame],
) -> None:
    d, a = portfolio
    era = _payer(d, "er_prior_auth")
    imp = a[a["improper_under_nsa"]]
    assert set(imp["payer"]) == {era}  # no other payer is flagged
    assert len(imp) == d.truth["payers"][era]["er_prior_auth_denials"]  # every planted one
    assert (imp["nsa_basis"] == "emergency").all()
    assert imp["idr_ineligible_reasons"].str.contains("improper denial").all()


def test_repricer_nsa_claims_are_positive_ev_idr_candidates(
    portfolio: tuple[demo.DemoPortfolio, pd.DataFrame],
) -> None:
    d, a = portfolio
    rep = _payer(d, "repricer")
    el = a[(a["payer"] == rep) & a["idr_eligible"]]
    assert len(el) > 50
    lines = d.claim_lines.merge(el[["claim_id"]], on="claim_id")
    lines = lines[lines["claim_status"] == "paid"]
    disputes = pd.DataFrame(
        {
            "claim_id": lines["claim_id"],
            "line_no": lines["line_no"],
            "provider_tin": lines["provider_tin"],
            "payer": lines["payer"],
            "cpt": lines["cpt"],
            "service_date": lines["service_date"],
            "paid": lines["paid"] + lines["patient_resp"],  # netted against the award
            "qpa": lines["qpa"],
            "offer": float("nan"),  # offer = QPA x published award multiple (priors)
            "specialty": lines["specialty"],
            "year": lines["service_date"].dt.year,
            "initiation_date": lines["remit_date"],
        }
    )
    batched = nsa.batch_disputes(disputes)
    ev = idr.expected_value_frame(batched, batch_col="batch_id")
    per_batch = ev.groupby("batch_id")["expected_value"].sum()
    assert per_batch.sum() > 0
    assert (per_batch > 0).mean() > 0.5
