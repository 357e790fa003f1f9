"""Rules current to December 2026 (issue 11): one test per fixed item, each citing its source.

Dates are hand-computed on the federal business-day calendar (Mon-Fri less the federal holidays
as observed): 2026 holidays used below are Labor Day Mon 2026-09-07 and Columbus Day Mon
2026-10-12; 2025 Labor Day Mon 2025-09-01.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date as D

import pandas as pd
import pytest
from typer.testing import CliRunner

from oonplaybook import idr, nsa, rules
from oonplaybook.cli import app
from oonplaybook.playbook import appeals as ap
from oonplaybook.reference import codes as rc
from oonplaybook.reference.code_families import code_family

# --- item 1: batch cap -------------------------------------------------------------------------


def _disputes(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "claim_id": [f"C{i:03d}" for i in range(n)],
            "line_no": 1,
            "cpt": "71046",
            "service_date": pd.Timestamp("2026-03-02"),
            "provider_tin": "111",
            "payer_id": "P1",
        }
    )


def test_batch_has_no_cap_under_2022_rules_and_50_under_cms_9897f() -> None:
    """Reed Smith (Nov 2023): "there is currently no limit on the number of services that may be
    batched"; 25 is only where the batched IDRE fee tiers start (CMS-9890-F, "beginning with the
    26th line item"). CMS-9897-F "allows up to 50 items and services ... in a single dispute
    batch" (Altitude Intel)."""
    before = nsa.batch_disputes(_disputes(60), rule_date=D(2026, 6, 1))
    assert before["batch_id"].nunique() == 1 and set(before["batch_lines"]) == {60}
    after = nsa.batch_disputes(_disputes(60), rule_date=D(2026, 12, 2))
    assert sorted(after.groupby("batch_id").size()) == [10, 50]
    # no rule date and no cap: one batch (the default is no cap)
    assert nsa.batch_disputes(_disputes(60))["batch_id"].nunique() == 1
    # an explicit cap still wins; the params default is None
    assert sorted(nsa.batch_disputes(_disputes(60), max_lines=25).groupby("batch_id").size()) == [
        10,
        25,
        25,
    ]
    from oonplaybook.config import PlaybookSettings

    assert PlaybookSettings().idr_batch_max_lines is None
    # the override moves the CMS-9897-F batching date: a December 2026 batch under 2022 rules
    late = nsa.batch_disputes(
        _disputes(60), rule_date=D(2026, 12, 2), rule_overrides={"batching": "2027-01-01"}
    )
    assert late["batch_id"].nunique() == 1


# --- item 2: state table ---------------------------------------------------------------------------


def test_state_table_turns_on_va_ga_co_me_and_adds_ak_mi() -> None:
    """Virginia SCC balance-billing page (fully insured, state employee plan, self-funded opt-in;
    arbitration); HHS applicability chart ("a state IDR process applies in four states: Alaska,
    Georgia, Maine, and Michigan. In another 18 states, a 'bifurcated' process applies", via
    hallbenefitslaw.com); Colorado DOI arbitration program (HB19-1174, Reg 4-2-65); 24-A M.R.S.
    §4303-E (self-insured opt-in §4303-E(2), Rule 365 §6(7))."""
    sb = nsa.load_state_table()
    rows = sb["surprise_billing"]
    for st in ("VA", "GA", "CO", "ME", "AK", "MI"):
        assert rows[st]["enabled"] is True, st
    for st in ("VA", "GA", "ME"):
        assert rows[st]["self_funded_opt_in"] is True, st
    assert "4303-E" in rows["ME"]["law"] and "38.2-3445.01" in rows["VA"]["law"]
    for st, row in rows.items():
        assert row.get("covers") and row.get("source"), st
    bif = sb["bifurcated_states"]
    assert bif["count_per_chart"] == 18
    assert len(bif["confirmed"]) + len(bif["unverified"]) == 18
    assert "unverified" in bif["source"]


def test_bifurcated_state_claims_assessed_federal_say_to_confirm() -> None:
    """HHS applicability chart: in 18 "bifurcated" states the state process applies to some
    plans/services and the federal IDR to the rest (hallbenefitslaw.com); Triage Cancer marks
    Florida "Mixed". A federal assessment there says to confirm it; a non-bifurcated state
    (Alabama, "Federal" on the same chart) does not."""
    lines = pd.DataFrame(
        {
            "claim_id": ["F1", "A1"],
            "cpt": "99285",
            "emergency": True,
            "state": ["FL", "AL"],
            "plan_type": "self_funded_erisa",
            "service_date": pd.Timestamp("2026-05-01"),
            "remit_date": pd.Timestamp("2026-06-01"),
        }
    )
    a = nsa.assess_claims(lines, as_of=D(2026, 6, 2)).set_index("claim_id")
    assert "bifurcated state" in a.loc["F1", "nsa_note"]
    assert "bifurcated" not in a.loc["A1", "nsa_note"]


# --- item 3: ground ambulance -----------------------------------------------------------------


def test_a0427_is_ground_ambulance_outside_the_nsa() -> None:
    """Noridian JE Part B, Ground Ambulance: "A0427: ALS1 emergency transport"; Naviguard: NSA
    protections cover "all emergency services (except ground ambulance)"."""
    assert code_family("A0427") == "ground_ambulance"
    assert code_family("A0431") == "air_ambulance"
    lines = pd.DataFrame(
        {
            "claim_id": ["G1", "A1"],
            "cpt": ["A0427", "A0431"],
            "emergency": [True, False],
            "plan_type": "self_funded_erisa",
            "service_date": pd.Timestamp("2026-05-01"),
            "remit_date": pd.Timestamp("2026-06-01"),
            "state": "OH",
        }
    )
    a = nsa.assess_claims(lines, as_of=D(2026, 6, 15)).set_index("claim_id")
    assert a.loc["G1", "nsa_basis"] == "none" and not a.loc["G1", "nsa_applies"]
    assert "ground ambulance" in a.loc["G1", "nsa_note"]
    assert a.loc["A1", "nsa_basis"] == "air_ambulance" and a.loc["A1", "nsa_applies"]


# --- item 5: remark codes ---------------------------------------------------------------------


def test_nsa_and_state_law_remark_codes() -> None:
    """RPMS/IHS RARC table and the X12 RARC list: N876 "This item or service is covered under the
    plan. This is a notice of denial of payment provided in accordance with the No Surprises
    Act"; N874/N875 final payment; N878/N879 notice and consent; N872 final payment under a
    specified state law; N883 "Processed according to state law"."""
    for code in ("N874", "N875", "N876", "N878", "N879", "N884", "N885"):
        assert code in rc.NSA_RARCS and code in rc.RARC, code
    assert {"N872", "N883"} <= rc.STATE_LAW_RARCS
    # a denial carrying only N876 is seen as processed under the NSA
    lines = pd.DataFrame(
        {
            "claim_id": ["D1"],
            "cpt": ["99285"],
            "emergency": [True],
            "rarc": ["N876"],
            "claim_status": ["denied"],
            "service_date": pd.Timestamp("2026-05-01"),
            "remit_date": pd.Timestamp("2026-06-01"),
        }
    )
    assert bool(nsa.assess_claims(lines, as_of=D(2026, 6, 2))["qpa_disclosed"].iloc[0])


# --- items 6 and 8: external review, CARC 119 -----------------------------------------------------


def test_external_review_one_set_with_nsa_compliance_ground() -> None:
    """29 CFR 2590.715-2719(d)(1)(i)(A): external review covers determinations "that involve[]
    medical judgment ... as determined by the external reviewer" and excludes eligibility; since
    the NSA it also considers "whether an insurer is complying with the No Surprises Act"
    (Commonwealth Fund glossary). Blanket non-covered denials are not eligible."""
    assert nsa.EXTERNAL_REVIEW_GROUPS is ap.EXTERNAL_REVIEW_GROUPS is rc.EXTERNAL_REVIEW_GROUPS
    assert "nsa_compliance" in rc.EXTERNAL_REVIEW_GROUPS
    assert not rc.external_review_eligible("non_covered")
    assert rc.external_review_eligible("non_covered", medical_judgment=True)
    assert rc.external_review_eligible("authorization", nsa_compliance=True)
    assert not rc.external_review_eligible("eligibility_cob", nsa_compliance=True)
    assert "external_review" not in ap.appeal_ladder({"carc": "CO-96"})
    assert "external_review" in ap.appeal_ladder({"carc": "CO-96", "medical_judgment": True})
    assert "external_review" in ap.appeal_ladder({"carc": "CO-50"})
    assert "external_review" in ap.appeal_ladder({"carc": "CO-197", "improper_under_nsa": True})
    assert "external_review" not in ap.appeal_ladder({"carc": "CO-197"})


def test_carc_119_has_one_group() -> None:
    """Audit E9: CARC 119 (benefit maximum reached) was `non_covered` in playbook/appeals.py and
    `other` in reference/codes.py; one mapping now (reference.codes.NON_COVERED_CARCS)."""
    assert rc.denial_reason_group("CO-119") == "non_covered" == ap.denial_group("CO-119")
    assert {"96", "204", "119"} == set(rc.NON_COVERED_CARCS)
    for c in rc.NON_COVERED_CARCS:
        assert ap.CARC_GROUPS[c] == "non_covered"


# --- item 7: prompt pay ----------------------------------------------------------------------------


def _pp_line(state: str, sub: str, paid_on: str, **extra: object) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "state": [state],
            "plan_type": ["fully_insured"],
            "submitted_date": [pd.Timestamp(sub)],
            "paid_date": [pd.Timestamp(paid_on)],
            "paid": [1000.0],
            **{k: [v] for k, v in extra.items()},
        }
    )


def test_prompt_pay_day_units_ca_dmhc_cdi_and_ga_working_days() -> None:
    """Cal. H&S §1371.35 (DMHC plans): "30 working days ... HMO, 45 working days", "15 percent
    per annum"; Cal. Ins. Code §10123.13 (CDI insurers): 30 working days, 10%/yr; O.C.G.A.
    33-24-59.14(b)(1): "15 working days for electronic claims or 30 calendar days for paper"."""
    # GA: received Mon 2025-09-01 (Labor Day); 15 working days -> Mon 2025-09-22; paid 10-22 = 30
    # days late; 1000 x 12% x 30/365 = 9.86
    r = ap.prompt_pay_interest(_pp_line("GA", "2025-09-01", "2025-10-22"))
    assert int(r["days_late"].iloc[0]) == 30 and r["prompt_pay_interest"].iloc[0] == 9.86
    # GA paper: 30 calendar days -> 2025-10-01; paid 10-22 = 21 days late
    paper = ap.prompt_pay_interest(_pp_line("GA", "2025-09-01", "2025-10-22"), electronic=False)
    assert int(paper["days_late"].iloc[0]) == 21
    # CA received Thu 2026-10-01; "30 working days after receipt" (receipt day not counted):
    # Oct 2 (1), 5-9 (6), Columbus Day 10-12 off, 13-16 (10), 19-23 (15), 26-30 (20), Nov 2-6
    # (25), 9 (26), 10 (27), Veterans Day 11-11 off, 12 (28), 13 (29), Mon 16 (30) -> 11-16.
    # Paid 2026-12-13: 27 days late.
    cdi = ap.prompt_pay_interest(_pp_line("CA", "2026-10-01", "2026-12-13"))
    assert int(cdi["days_late"].iloc[0]) == 27
    assert cdi["prompt_pay_interest"].iloc[0] == 7.40  # 1000 x 10% x 27/365 (CDI)
    dmhc = ap.prompt_pay_interest(_pp_line("CA", "2026-10-01", "2026-12-13", regulator="DMHC"))
    assert dmhc["prompt_pay_interest"].iloc[0] == 11.10  # 1000 x 15% x 27/365 (DMHC)
    # DMHC HMO: 45 working days -> Nov 17-20 (34), 23-25 (37), Thanksgiving 11-26 off, 27 (38),
    # Nov 30-Dec 4 (43), 7 (44), Tue 12-08 (45); paid 12-13 = 5 days late
    hmo = ap.prompt_pay_interest(
        _pp_line("CA", "2026-10-01", "2026-12-13", regulator="dmhc", hmo=True)
    )
    assert int(hmo["days_late"].iloc[0]) == 5
    a = nsa.appeal_deadlines(
        D(2026, 12, 1), "fully_insured", state="CA", claim_received_date=D(2026, 10, 1)
    )
    assert a.prompt_pay_due == D(2026, 11, 16) and a.prompt_pay_interest_annual == 0.10
    with pytest.raises(ValueError, match="calendar, working or business"):
        ap.prompt_pay_due(D(2026, 1, 2), 5, "fortnights")


# --- item 9: rule versions keyed by date ---------------------------------------------------------


def test_deadlines_before_cms_9897f_hand_computed() -> None:
    """45 CFR 149.510(b)(1)(ii)(B) (30-BD period from the notice), (b)(2)(i) (4-BD window from
    the 31st BD), (c)(1)(i) (IDRE selection 3 BD); 2022 rules: eligibility 3 BD after selection.
    Payment and notice Mon 2026-03-02: period Mar 2-6 (5), 9-13 (10), 16-20 (15), 23-27 (20),
    Mar 30-Apr 3 (25), Apr 6-10 (30) -> Fri 04-10; window opens Mon 04-13, day 4 Thu 04-16;
    selection 04-17, 20, 21 -> 04-21; eligibility 22, 23, 24 -> 04-24."""
    e = rules.explain(
        state="OH", plan_type="self_funded_erisa", service_date="2026-02-20",
        initial_payment_date="2026-03-02", notice_date="2026-03-02", emergency=True,
    )  # fmt: skip
    assert e.rule_version == "2022"
    due = {s.step.split(" (")[0]: s.due for s in e.steps}
    assert due["open negotiation period ends"] == D(2026, 4, 10)
    assert due["initiate federal IDR"] == D(2026, 4, 16)
    assert due["parties select the certified IDR entity"] == D(2026, 4, 21)
    assert due["IDR entity's eligibility determination"] == D(2026, 4, 24)
    assert not any("response" in s.step for s in e.steps)
    # first step: notice due 30 BD beginning on the payment day 03-02 -> 04-10 (as above)
    assert e.initiate_by == D(2026, 4, 10)


def test_deadlines_after_cms_9897f_hand_computed_and_override() -> None:
    """CMS-9897-F (FR doc. 2026-11140; effective 2026-08-03, Holland & Hart): portal open
    negotiation with a response notice by the 15th BD (Rivet Health Law), 3-BD response after
    IDR initiation and 5 BD for eligibility (insurasales.com). Same facts as before, Tue
    2026-09-01: period Sep 1-4 (4), 8-11 (8; Labor Day 09-07 off), 14-18 (13), 21-25 (18),
    Sep 28-Oct 2 (23), Oct 5-9 (28), Columbus Day 10-12 off, 13 (29), 14 (30) -> Wed 10-14;
    response notice day 15 = Tue 09-22; window Thu 10-15, day 4 Tue 10-20; response/selection
    21, 22, 23 -> 10-23; eligibility 26, 27, 28, 29, 30 -> Fri 10-30."""
    kw = dict(
        state="OH", plan_type="self_funded_erisa", service_date="2026-08-20",
        initial_payment_date="2026-09-01", notice_date="2026-09-01", emergency=True,
    )  # fmt: skip
    e = rules.explain(**kw)  # type: ignore[arg-type]
    assert e.rule_version == "CMS-9897-F"
    assert "[unverified" in e.rule_note
    due = {s.step.split(" (")[0]: s.due for s in e.steps}
    assert e.steps[0].step.endswith("through the federal IDR portal and to the payer")
    assert due["payer's open negotiation response notice due"] == D(2026, 9, 22)
    assert due["open negotiation period ends"] == D(2026, 10, 14)
    assert due["initiate federal IDR"] == D(2026, 10, 20)
    assert due["non-initiating party's response to the IDR initiation"] == D(2026, 10, 23)
    assert due["IDR entity's eligibility determination"] == D(2026, 10, 30)
    # the same facts with the applicability moved past them: counted under the 2022 rules
    late = {p: "2027-01-01" for p in rules.PROVISIONS}
    old = rules.explain(**kw, overrides=late)  # type: ignore[arg-type]
    assert old.rule_version == "2022"
    due_old = {s.step.split(" (")[0]: s.due for s in old.steps}
    assert due_old["IDR entity's eligibility determination"] == D(2026, 10, 28)
    assert "[unverified" not in rules.rule_version("2026-12-02", late).note()
    with pytest.raises(ValueError, match="unknown CMS-9897-F provision"):
        rules.applicability({"batch_size": "2026-09-01"})


def test_notice_before_and_idr_after_the_applicability_date() -> None:
    """CMS-9897-F applies from 2026-08-03 (Holland & Hart; default applicability [unverified]):
    open negotiation provisions by the notice date, IDR-stage ones (3-BD response, 5-BD
    eligibility; insurasales.com) by the initiation date. Payment and notice Mon 2026-06-15:
    Juneteenth Fri 06-19 and Independence Day observed Fri 07-03 are off, so Jun 15-18 (4),
    22-26 (9), Jun 29-Jul 2 (13), Jul 6-10 (18), 13-17 (23), 20-24 (28), 27 (29), Tue 28 (30);
    window Wed 07-29, day 4 Mon 08-03 (the effective date); response/selection 08-04, 05, 06 ->
    08-06; eligibility 07, 10, 11, 12, 13 -> 08-13; no portal (notice under the 2022 rules)."""
    e = rules.explain(
        state="OH", plan_type="self_funded_erisa", service_date="2026-06-01",
        initial_payment_date="2026-06-15", notice_date="2026-06-15", emergency=True,
    )  # fmt: skip
    assert e.rule_version == "2022 (IDR stage: CMS-9897-F)"
    due = {s.step.split(" (")[0]: s.due for s in e.steps}
    assert due["open negotiation period ends"] == D(2026, 7, 28)
    assert due["initiate federal IDR"] == D(2026, 8, 3)
    assert due["non-initiating party's response to the IDR initiation"] == D(2026, 8, 6)
    assert due["IDR entity's eligibility determination"] == D(2026, 8, 13)
    assert "portal" not in e.steps[0].step


def test_batch_cooling_off_shorter_after_cms_9897f() -> None:
    """45 CFR 149.510(c)(4)(vii)(B): 90 calendar days; CMS-9897-F shortened the cooling-off for
    batched disputes to 30 business days (IndeMedAction on the final rule, secondary).
    Batched determination Tue 2026-09-01: Sep 2-4 (3), 8-11 (7), 14-18 (12), 21-25 (17),
    Sep 28-Oct 2 (22), Oct 5-9 (27), 13 (28), 14 (29), 15 (30) -> Thu 10-15; a single one
    90 CD -> 11-30; a batched one on 2026-03-02 (2022 rules) 90 CD -> 05-31."""
    d = pd.Series(pd.to_datetime(["2026-09-01", "2026-09-01", "2026-03-02"]))
    ends = nsa.cooling_off_ends(d, pd.Series([True, False, True]))
    assert list(ends.dt.date) == [D(2026, 10, 15), D(2026, 11, 30), D(2026, 5, 31)]


def test_fees_after_cms_9897f_verified_and_15_dollar_admin_fee() -> None:
    """Sidley on CMS-9897-F: "there were no changes to IDR entity (IDRE) fees"; the $15 fee
    "applies to disputes initiated on or after June 11, 2026" (Sidley; Holland & Hart)."""
    f = idr.fees(D(2026, 6, 11), batched=False)
    assert f.admin_fee == 15.0 and f.verified and (f.idre_fee_low, f.idre_fee_high) == (200, 840)
    assert idr.fees(D(2026, 6, 10), batched=False).admin_fee == 115.0


# --- item 10: state dispute clocks -----------------------------------------------------------------


def test_state_dispute_clocks_tx_ny_and_not_encoded() -> None:
    """Tex. Ins. Code §1467.084(a): arbitration requested within 90 days of the initial payment;
    N.Y. FIS §601: IDR within three years of the original payment. Others: not encoded, said so.
    TX 2026-10-01 + 90 CD = 2026-12-30; NY 2025-03-15 + 3 years = 2028-03-15."""
    assert rules.state_dispute_deadline("TX", D(2026, 10, 1))[0] == D(2026, 12, 30)
    assert rules.state_dispute_deadline("NY", D(2025, 3, 15))[0] == D(2028, 3, 15)
    due, rule = rules.state_dispute_deadline("GA", D(2026, 10, 1))
    assert due is None and rule.startswith("state deadline not encoded; check")
    lines = pd.DataFrame(
        {
            "state": ["TX", "GA"],
            "plan_type": "fully_insured",
            "remit_date": pd.to_datetime(["2026-10-01", "2026-10-01"]),
            "service_date": pd.to_datetime(["2026-09-01", "2026-09-01"]),
        }
    )
    dl = ap.rung_deadlines(
        lines, pd.Series(["state_idr", "state_idr"]), contract_appeal_days=180,
        corrected_claim_days=365,
    )  # fmt: skip
    assert dl.iloc[0] == pd.Timestamp("2026-12-30") and pd.isna(dl.iloc[1])


# --- item 11: NY interest, 2023 admin fee, plan year, IONM ---------------------------------------


def test_ny_prompt_pay_interest_floor() -> None:
    """N.Y. Ins. Law §3224-a(c)(1): interest at "the greater of the rate ... set by the
    commissioner of taxation and finance for corporate taxes ... or twelve percent per annum".
    Received 2026-03-02 electronic: due +30 = 04-01; paid 05-01 = 30 days late; 12.0% floor:
    1000 x 0.12 x 30/365 = 9.86."""
    r = ap.prompt_pay_interest(_pp_line("NY", "2026-03-02", "2026-05-01"))
    assert r["prompt_pay_interest"].iloc[0] == 9.86
    assert nsa.load_state_table()["prompt_pay"]["NY"]["annual_interest_rate"] == 0.12


def test_2023_admin_fee_unpaid_by_aug_3_is_50() -> None:
    """CHA FAQ (calhospital.org): the fee is "$50 for disputes initiated on or after Aug. 3,
    2023"; one initiated Jan 1-Aug 2, 2023 that had paid before Aug. 3 "remains $350"."""
    assert idr.fees(D(2023, 5, 1), batched=False).admin_fee == 350.0
    assert idr.fees(D(2023, 5, 1), batched=False, fee_paid_before_2023_08_03=False).admin_fee == 50
    assert idr.fees(D(2024, 5, 1), batched=False, fee_paid_before_2023_08_03=False).admin_fee == 115


def test_nsa_effective_by_plan_year() -> None:
    """Marsh McLennan Agency (2021-11-23): protections apply "as of the first plan year beginning
    on or after January 1, 2022"; a July plan year was first covered 2022-07-01."""
    assert rules.nsa_effective_date(None) == D(2022, 1, 1)
    assert rules.nsa_effective_date(D(2021, 7, 1)) == D(2022, 7, 1)
    assert rules.nsa_effective_date(D(2020, 1, 1)) == D(2022, 1, 1)
    lines = pd.DataFrame(
        {
            "claim_id": ["J", "K"],
            "cpt": "99285",
            "emergency": True,
            "plan_year_start": ["2021-07-01", ""],
            "service_date": pd.Timestamp("2022-03-01"),
            "remit_date": pd.Timestamp("2022-04-01"),
        }
    )
    a = nsa.assess_claims(lines, as_of=D(2022, 4, 2)).set_index("claim_id")
    assert not a.loc["J", "nsa_applies"] and a.loc["K", "nsa_applies"]
    assert "first NSA plan year" in a.loc["J", "nsa_note"]


def test_ionm_units_in_the_specialty_profile() -> None:
    """codingahead / hcpcsdata: 95941 is reported per hour and is not payable by Medicare (G0453,
    "each 15 minutes", replaces it); 95940 each 15 minutes."""
    from oonplaybook.specialties import load_profile

    units = {u.code: u for u in load_profile("neurosurgery_ionm").code_units}
    assert units["95941"].unit == "per hour" and not units["95941"].medicare_payable
    assert units["G0453"].unit == "each 15 minutes" and units["G0453"].medicare_payable


# --- item 16: rules explain ------------------------------------------------------------------------


def _in_scope_kwargs(row: dict) -> dict:
    scope = row.get("scope") or []
    if "emergency" in scope:
        return {"emergency": True}
    return {"facility_in_network": True, "hcpcs": "99213"}


_TABLE = nsa.load_state_table()["surprise_billing"]
_ON = sorted(s for s, r in _TABLE.items() if r.get("enabled") and r.get("scope"))


@pytest.mark.parametrize("state", _ON)
def test_explain_every_state_the_table_turns_on(state: str) -> None:
    """Each enabled state-table row (with its statute in `law`): a fully insured plan is governed
    by the state law and its process; a self-funded ERISA plan stays federal (ERISA pre-emption);
    an opted-in self-funded plan follows the state only where the state allows opting in."""
    row = _TABLE[state]
    kw = dict(state=state, service_date="2026-09-01", initial_payment_date="2026-10-01")
    kw.update(_in_scope_kwargs(row))
    fi = rules.explain(plan_type="fully_insured", **kw)  # type: ignore[arg-type]
    assert (fi.governing_law, fi.dispute_process, fi.nsa_applies) == (
        f"state:{state}", "state_idr", True,
    )  # fmt: skip
    assert any(row["law"] in w for w in fi.why)
    first = fi.steps[0]
    clock = row.get("dispute_clock") or {}
    if clock.get("from") == "initial_payment":
        assert first.due is not None and fi.initiate_by == first.due
    elif clock:  # NJ: 90 days from the final offer, a date the claim data do not carry
        assert first.due is None and "final offer" in first.citation
    else:
        assert first.due is None and "state deadline not encoded; check" in first.citation
    erisa = rules.explain(plan_type="self_funded_erisa", **kw)  # type: ignore[arg-type]
    assert (erisa.governing_law, erisa.dispute_process) == ("federal", "federal_idr")
    opt = rules.explain(plan_type="self_funded_opt_in", **kw)  # type: ignore[arg-type]
    expect = f"state:{state}" if row.get("self_funded_opt_in") else "federal"
    assert opt.governing_law == expect


def test_explain_maryland_professional_claims_stay_federal() -> None:
    """45 CFR 149.30: an All-Payer Model Agreement sets the recognized amount first, but
    Maryland's reaches regulated hospital facility services only; a professional claim in MD
    goes to the federal IDR (state table row MD, scope empty)."""
    e = rules.explain(state="MD", plan_type="fully_insured", service_date="2026-09-01",
                      initial_payment_date="2026-10-01", emergency=True)  # fmt: skip
    assert (e.governing_law, e.dispute_process) == ("federal", "federal_idr")


def test_nj_clock_runs_from_the_final_offer() -> None:
    """N.J.S.A. 26:2SS-10 as amended by S1177 (2022): arbitration within 90 days of the final
    offer (healthcareperspectivesblog.com): stated, never dated from the initial payment."""
    due, rule = rules.state_dispute_deadline("NJ", D(2026, 10, 1))
    assert due is None and "90 calendar days from the final offer" in rule


def test_explain_ground_vs_air_ambulance() -> None:
    """Ground ambulance is outside the NSA (Naviguard; Noridian: A0427 is ground ALS1 emergency);
    air ambulance is NSA-protected (42 U.S.C. 300gg-112) and goes to the federal IDR."""
    kw = dict(state="NY", plan_type="fully_insured", service_date="2026-09-01",
              initial_payment_date="2026-10-01", emergency=True)  # fmt: skip
    g = rules.explain(hcpcs="A0427", **kw)  # type: ignore[arg-type]
    assert (g.nsa_applies, g.governing_law, g.dispute_process) == (False, "none", "appeal_only")
    a = rules.explain(hcpcs="A0431", **kw)  # type: ignore[arg-type]
    assert (a.nsa_applies, a.nsa_basis, a.governing_law) == (True, "air_ambulance", "federal")
    assert a.dispute_process == "federal_idr"


@pytest.mark.parametrize(
    ("plan_type", "governing", "process"),
    [
        ("fully_insured", "state:TX", "state_idr"),
        ("self_funded_erisa", "federal", "federal_idr"),
        ("self_funded_opt_in", "federal", "federal_idr"),  # Texas has no opt-in in the table
        ("government", "none", "appeal_only"),
        ("medicare_advantage", "none", "appeal_only"),
        ("medicaid", "none", "appeal_only"),
    ],
)
def test_explain_each_plan_type(plan_type: str, governing: str, process: str) -> None:
    """Tex. Ins. Code ch. 1467 reaches fully insured plans; ERISA self-funded plans stay federal;
    the federal IDR does not apply to Medicare, Medicaid, CHIP or TRICARE (HHS applicability
    chart), so the last three are outside the commercial NSA process and say so."""
    e = rules.explain(state="TX", plan_type=plan_type, service_date="2026-09-01",
                      initial_payment_date="2026-10-01", emergency=True)  # fmt: skip
    assert (e.governing_law, e.dispute_process) == (governing, process)
    if process == "appeal_only":
        assert not e.nsa_applies and "outside the commercial NSA process" in e.why[0]


def test_rules_explain_cli_json_and_errors() -> None:
    """The `oonplaybook rules explain --json` contract of issue 11 item 16."""
    r = CliRunner().invoke(app, [
        "rules", "explain", "--state", "TX", "--plan-type", "fully_insured",
        "--service-date", "2026-09-01", "--initial-payment-date", "2026-10-01",
        "--emergency", "--json",
    ])  # fmt: skip
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    for key in ("nsa_applies", "governing_law", "dispute_process", "rule_version", "steps"):
        assert key in data
    assert data["initiate_by"] == "2026-12-30"
    assert set(data["steps"][0]) == {"step", "due", "citation"}
    # the table view keeps the "[unverified ...]" note (not eaten as rich markup)
    txt = CliRunner().invoke(app, [
        "rules", "explain", "--state", "OH", "--plan-type", "self_funded_erisa",
        "--service-date", "2026-09-01", "--initial-payment-date", "2026-10-01", "--emergency",
    ], env={"COLUMNS": "250"})  # fmt: skip
    assert txt.exit_code == 0 and "[unverified; override with playbook.rule_applicability]" in (
        txt.output
    )
    bad = CliRunner().invoke(app, ["rules", "explain", "--state", "TX", "--plan-type", "hmo",
                                   "--service-date", "2026-09-01"])  # fmt: skip
    assert bad.exit_code == 2 and "--plan-type" in bad.output
    bad = CliRunner().invoke(app, ["rules", "explain", "--state", "TX", "--plan-type",
                                   "medicaid", "--service-date", "09/01/2026"])  # fmt: skip
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output


# --- item 17: imports run one way ------------------------------------------------------------------


@pytest.mark.parametrize(
    "module",
    [
        "oonplaybook.reference.idr_groups",
        "oonplaybook.reference.rule_versions",
        "oonplaybook.reference.state_table",
        "oonplaybook.specialties",
        "oonplaybook.nsa",
        "oonplaybook.rules",
        "oonplaybook.playbook.appeals",
    ],
)
def test_each_module_imports_alone(module: str) -> None:
    """Issue 11 item 17: the nsa <-> specialties circle is gone (IDR code groups live in
    reference/idr_groups.py); rule versions and the state table sit below nsa, rules and
    playbook.appeals; each module imports in a fresh interpreter on its own."""
    r = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    from oonplaybook.reference import idr_groups

    assert nsa.IDR_CODE_GROUPS is idr_groups.IDR_CODE_GROUPS


def test_params_rule_applicability_override_and_errors(tmp_path: object) -> None:
    """Issue 11 item 9: applicability dates that could not be confirmed are a params override
    (``playbook.rule_applicability``); a bad provision or date names the key and the fix."""
    from pathlib import Path

    from oonplaybook.config import ParamsError, PlaybookSettings, load_config

    ok = PlaybookSettings(rule_applicability={"batching": "2026-10-01"})
    assert rules.batch_max_lines("2026-09-15", ok.rule_applicability) is None
    assert rules.batch_max_lines("2026-10-01", ok.rule_applicability) == 50
    base = Path(str(tmp_path))
    for bad, words in (
        ("{batch_size: '2026-10-01'}", "unknown CMS-9897-F provision"),
        ("{batching: 'October 2026'}", "not an ISO date"),
    ):
        p = base / "p.yaml"
        p.write_text(
            "client: acme\ninputs: [x.835]\nstate: TX\nlocality: '04412-99'\n"
            f"playbook:\n  rule_applicability: {bad}\n"
        )
        with pytest.raises(ParamsError) as e:
            load_config(p, check_inputs=False)
        assert "playbook.rule_applicability" in str(e.value) and words in str(e.value)
