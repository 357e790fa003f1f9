"""Worklist coherence (issue 15 item 8), on hand-built claims: one route per row, its next step
and letter type agree with it, patient bills follow the protections table (never on a claim
that may not be balance-billed, never above the estimate + $399.99 for a dispute-eligible
self-pay bill, with the practice's own billing deadline), and write-offs are not open items."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from oonplaybook.config import PlaybookSettings
from oonplaybook.playbook import appeals as ap
from oonplaybook.playbook import build_targets, build_worklist, patient_protections
from oonplaybook.playbook.worklist import (
    ROUTE_LETTER_TYPE,
    ROUTE_NEXT,
    STATUSES,
    coherence_problems,
)
from oonplaybook.schema import conform
from tests._playbook_fixtures import AS_OF, PRIORS, _row, appeals, assessment, portfolio

S = PlaybookSettings()


def _lines() -> pd.DataFrame:
    """The shared portfolio plus the claims the coherence rules are about."""
    extra = [
        # coordination-of-benefits denial on an NSA-protected emergency claim, remitted in 2024:
        # the corrected-claim window (365 days from service) closed on 2025-05-01
        _row(
            "P1",
            claim_status="denied",
            allowed=0.0,
            paid=0.0,
            carc="CO-22",
            service_date=pd.Timestamp("2024-05-01"),
            submitted_date=pd.Timestamp("2024-05-05"),
            remit_date=pd.Timestamp("2024-06-01"),
        ),
        # the same denial on an unprotected office visit, its corrected-claim window closed on
        # 2025-06-15: the patient may be billed, within 300 days of the remit
        _row(
            "P2",
            payer="Beta",
            plan_type="fully_insured",
            specialty="orthopedic_surgery",
            cpt="99213",
            emergency=False,
            billed=700.0,
            allowed=0.0,
            paid=0.0,
            claim_status="denied",
            carc="CO-22",
            qpa=float("nan"),
            medicare_allowed=90.0,
            service_date=pd.Timestamp("2024-06-15"),
            submitted_date=pd.Timestamp("2024-06-20"),
            remit_date=pd.Timestamp("2024-12-01"),
        ),
        # self-pay, billed $1,000 against an estimate of $900: under $400 over, billed in full
        _row(
            "S2",
            payer="SELF PAY",
            plan_type="self_pay",
            specialty="orthopedic_surgery",
            cpt="99214",
            emergency=False,
            billed=1000.0,
            allowed=0.0,
            paid=0.0,
            claim_status="pending",
            carc="",
            qpa=float("nan"),
            medicare_allowed=130.0,
            gfe_amount=900.0,
            service_date=pd.Timestamp("2025-05-01"),
            remit_date=pd.NaT,
        ),
        # a $40 underpayment at Beta: less than the $57.23 it costs to work
        _row(
            "W1",
            payer="Beta",
            plan_type="fully_insured",
            specialty="orthopedic_surgery",
            cpt="27447",
            emergency=False,
            billed=6000.0,
            allowed=2360.0,
            paid=2360.0,
            carc="CO-45",
            qpa=float("nan"),
            medicare_allowed=1500.0,
            ucr_p80=float("nan"),
            remit_date=pd.Timestamp("2025-06-10"),
        ),
    ]
    base = portfolio()
    new = pd.DataFrame(extra)
    new["paid_date"] = new["remit_date"].where(new["paid"] > 0)
    return conform(pd.concat([base, conform(new)], ignore_index=True))


def _build(
    settings: PlaybookSettings = S, as_of: date = AS_OF
) -> tuple[pd.DataFrame, pd.DataFrame]:
    lines = _lines()
    a = assessment(lines)
    t = build_targets(lines, None, None, None, settings, nsa_assessment=a, priors=PRIORS)
    w = build_worklist(
        lines, None, a, t, None, as_of=as_of, settings=settings, appeals=appeals(), priors=PRIORS
    )
    return w, patient_protections(lines, a)


@pytest.fixture(scope="module")
def built() -> tuple[pd.DataFrame, pd.DataFrame]:
    return _build()


@pytest.fixture(scope="module")
def wl(built: tuple[pd.DataFrame, pd.DataFrame]) -> pd.DataFrame:
    return built[0].set_index("claim_id")


def test_the_worklist_is_coherent(built: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    w, prot = built
    assert coherence_problems(w, prot).empty
    assert set(w["status"]) <= set(STATUSES)


def test_no_patient_bill_on_a_claim_that_may_not_be_balance_billed(wl: pd.DataFrame) -> None:
    p1 = wl.loc["P1"]
    # the protected claim keeps only the corrected claim (to the right payer), now closed: lost
    assert p1["route"] == "corrected_claim" and p1["status"] == "lost"
    assert p1["next_step"] == "" and p1["letter_type"] == ""
    assert "deadline passed" in p1["action"]


def test_unprotected_patient_bill_has_the_practice_billing_deadline(wl: pd.DataFrame) -> None:
    p2 = wl.loc["P2"]
    assert p2["route"] == "patient_bill" and p2["status"] == "open"
    assert p2["at_stake"] == pytest.approx(700.0)  # the balance after the plan's $0 payment
    assert p2["deadline"] == pd.Timestamp("2024-12-01") + pd.Timedelta(days=S.patient_billing_days)
    assert p2["letter_type"] == "patient_explanation" and p2["next_step"] == ""


def test_dispute_eligible_self_pay_bill_is_capped_at_estimate_plus_399_99(
    wl: pd.DataFrame,
) -> None:
    s1 = wl.loc["S1"]  # billed $1,000 against an estimate of $500
    assert s1["route"] == "patient_bill"
    assert s1["at_stake"] == pytest.approx(899.99)
    assert s1["expected_recovery"] == pytest.approx(
        round(899.99 * S.patient_collection_rate - S.work_cost_per_claim, 2), abs=0.01
    )
    assert "$899.99" in s1["action"]
    s2 = wl.loc["S2"]  # $100 over its estimate: not dispute-eligible, billed in full
    assert s2["at_stake"] == pytest.approx(1000.0)


def test_protections_table_states_the_same_limits(
    built: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    prot = built[1].set_index("claim_id")
    assert prot.loc["S1", "max_patient_bill"] == pytest.approx(899.99)
    assert prot.loc["S2", "max_patient_bill"] == pytest.approx(1000.0)
    assert not bool(prot.loc["P1", "balance_bill_allowed"])
    assert prot.loc["P1", "max_patient_bill"] == pytest.approx(0.0)  # cost share on the remit
    assert prot.loc["P2", "max_patient_bill"] == pytest.approx(700.0)
    assert "$899.99" in prot.loc["S1", "explanation"]


def test_patient_bill_past_the_practice_deadline_is_lost() -> None:
    w, prot = _build(PlaybookSettings(patient_billing_days=30))
    w = w.set_index("claim_id")
    # S1 (self-pay) served 2025-06-01, as of 2025-06-30: 29 days, still open; P2 (remit
    # 2024-12-01) is lost
    assert w.loc["S1", "status"] == "open"
    assert w.loc["S1", "deadline"] == pd.Timestamp("2025-07-01")
    assert w.loc["P2", "status"] == "lost" and w.loc["P2", "expected_recovery"] == 0.0
    # every rung closed: shown on its first rung (the corrected claim), its value as lost
    assert w.loc["P2", "route"] == "corrected_claim" and w.loc["P2", "lost_revenue"] > 0
    assert coherence_problems(w.reset_index(), prot).empty


def test_write_off_is_not_an_open_item(wl: pd.DataFrame) -> None:
    w1 = wl.loc["W1"]
    assert w1["route"] == "write_off" and w1["status"] == "write_off"
    assert w1["route_if_worked"] == "payer_negotiation"
    assert w1["next_step"] == "" and w1["letter_type"] == "" and w1["letter"] == ""
    assert w1["expected_recovery"] == 0.0 and w1["priority"] == 0.0
    assert "does not cover the cost" in w1["action"]
    ranks = wl["rank"]
    assert ranks[wl["status"].eq("open")].max() < ranks["W1"]  # open rows come first


def test_next_step_and_letter_follow_the_route(wl: pd.DataFrame) -> None:
    e1 = wl.loc["E1"]
    assert (e1["route"], e1["next_step"], e1["letter_type"]) == (
        "open_negotiation",
        "idr",
        "open_negotiation_notice",
    )
    m2 = wl.loc["M2"]
    assert (m2["route"], m2["next_step"], m2["letter_type"]) == (
        "appeal_l2",
        "external_review",
        "appeal",
    )
    assert "File a level-2 appeal by" in m2["action"] and "external review" in m2["action"]
    e2 = wl.loc["E2"]  # lost: nothing to send, nothing next
    assert (e2["status"], e2["next_step"], e2["letter_type"]) == ("lost", "", "")


def test_state_law_route_has_the_state_notice_and_nothing_after_it() -> None:
    lines = _lines()
    a = assessment(lines)
    a["state_law_governs"] = a["claim_id"].eq("E3")
    a["state_law"] = a["state_law_governs"].map({True: "NY: FIS Art. 6", False: ""})
    t = build_targets(lines, None, None, None, S, nsa_assessment=a, priors=PRIORS)
    w = build_worklist(
        lines, None, a, t, None, as_of=AS_OF, settings=S, appeals=appeals(), priors=PRIORS
    )
    e3 = w.set_index("claim_id").loc["E3"]
    assert e3["route"] == "state_idr" and e3["status"] == "open"
    assert e3["next_step"] == "" and e3["letter_type"] == "state_dispute_notice"
    assert coherence_problems(w, patient_protections(lines, a)).empty


def test_coherence_check_names_each_broken_rule(built: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    w, prot = built
    bad = w.copy()
    i_e1 = bad.index[bad["claim_id"].eq("E1")][0]
    bad.loc[i_e1, "letter_type"] = "payer_negotiation"  # a second route named by the letter
    i_m1 = bad.index[bad["claim_id"].eq("M1")][0]
    bad.loc[i_m1, "next_step"] = "idr"  # not on M1's ladder
    i_e2 = bad.index[bad["claim_id"].eq("E2")][0]
    bad.loc[i_e2, ["route", "status"]] = ["patient_bill", "open"]  # bill a protected patient
    bad.loc[i_e2, ["next_step", "letter_type"]] = ["", "patient_explanation"]
    i_s1 = bad.index[bad["claim_id"].eq("S1")][0]
    bad.loc[i_s1, "at_stake"] = 1000.0  # above the estimate + $399.99
    rules = set(coherence_problems(bad, prot)["rule"])
    assert rules == {
        "letter type is not the route's",
        "next step does not follow the route",
        "patient bill where balance billing is not allowed",
        "patient bill above the most the patient may be billed",
    }


def test_route_next_covers_every_ladder() -> None:
    """Every consecutive pair of rungs on every ladder is an allowed (route, next step)."""
    for group, ladder in ap.LADDERS.items():
        for a, b in zip(ladder, ladder[1:], strict=False):
            assert b in ROUTE_NEXT[a], (group, a, b)
    assert set(ROUTE_NEXT) == set(ap.ROUTES) == set(ROUTE_LETTER_TYPE)
    letters = {v for v in ROUTE_LETTER_TYPE.values() if v}
    assert not letters & (set(ap.ROUTES) - {"payer_negotiation"})  # a letter never names a route
