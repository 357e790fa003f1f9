"""Appeal ladders, rung deadlines and prompt-pay interest: hand-computed cases."""

from __future__ import annotations

import pandas as pd
import pytest

from oonplaybook.playbook import appeal_ladder, denial_group, prompt_pay_interest
from oonplaybook.playbook.appeals import add_months, roll_to_business_day, rung_deadlines


@pytest.mark.parametrize(
    ("carc", "group"),
    [("CO-50", "medical_necessity"), ("CO-197", "authorization"), ("CO-97", "coding_bundling"),
     ("CO-29", "timely_filing"), ("CO-22", "eligibility_cob"), ("CO-45", "underpayment"),
     ("PR-1", "patient_cost_share"), ("", "none"), ("CO-999", "other"), ("OA-18", "duplicate")],
)  # fmt: skip
def test_denial_groups(carc: str, group: str) -> None:
    assert denial_group(carc) == group


def test_ladders_by_group() -> None:
    assert appeal_ladder({"carc": "CO-50"}) == ["appeal_l1", "appeal_l2", "external_review"]
    assert appeal_ladder({"carc": "CO-4"})[0] == "corrected_claim"
    assert appeal_ladder({"carc": "CO-97"})[0] == "appeal_l1"  # bundling: appeal with modifiers
    assert appeal_ladder({"carc": "CO-226"}) == ["appeal_l1"]  # send the requested records
    assert appeal_ladder({"carc": "CO-45"})[0] == "payer_negotiation"
    assert appeal_ladder({"carc": "OA-18"}) == ["write_off"]
    assert appeal_ladder({"carc": "CO-50", "plan_type": "self_pay"}) == ["patient_bill"]


def test_external_review_month_rule_and_holiday_roll() -> None:
    d = pd.Series(pd.to_datetime(["2025-10-31", "2025-01-15", "2025-07-27"]))
    # Oct 31 + 4 months has no Feb 31 -> first day of the fifth month (29 CFR 2590.715-2719(d)(2)(i))
    assert list(add_months(d, 4)) == list(
        pd.to_datetime(["2026-03-01", "2025-05-15", "2025-11-27"])
    )
    # 2025-11-27 is Thanksgiving -> Friday 28th; 2026-03-01 is a Sunday -> Monday 2nd
    rolled = roll_to_business_day(add_months(d, 4))
    assert list(rolled) == list(pd.to_datetime(["2026-03-02", "2025-05-15", "2025-11-28"]))


def test_rung_deadlines() -> None:
    lines = pd.DataFrame(
        {
            "plan_type": [
                "self_funded_erisa",
                "medicare_advantage",
                "fully_insured",
                "self_funded_erisa",
            ],
            "remit_date": pd.to_datetime(["2025-01-10"] * 4),
            "service_date": pd.to_datetime(["2025-01-02"] * 4),
        }
    )
    route = pd.Series(["appeal_l1", "appeal_l1", "corrected_claim", "external_review"])
    decided = pd.Series(pd.to_datetime([None, None, None, "2025-07-27"]))
    dl = rung_deadlines(
        lines, route, contract_appeal_days=90, corrected_claim_days=120, last_decision=decided
    )
    assert dl[0] == pd.Timestamp(
        "2025-04-10"
    )  # ERISA 180 days, but the 90-day contract window binds
    assert dl[1] == pd.Timestamp("2025-04-10")  # contract window
    assert dl[2] == pd.Timestamp("2025-05-02")  # timely filing 120 days from service
    assert dl[3] == pd.Timestamp(
        "2025-11-28"
    )  # 4 months after the final decision, Thanksgiving rolled


def test_prompt_pay_interest_hand_computed() -> None:
    lines = pd.DataFrame(
        {
            "state": ["CA", "CA", "NY", "CA"],
            "plan_type": ["fully_insured", "self_funded_erisa", "fully_insured", "fully_insured"],
            "submitted_date": pd.to_datetime(["2025-01-01"] * 4),
            "paid_date": pd.to_datetime(["2025-03-02", "2025-03-02", "2025-03-02", "2025-01-20"]),
            "paid": [1000.0, 1000.0, 1000.0, 1000.0],
        }
    )
    table = {"CA": {"electronic_days": 30, "paper_days": 30, "annual_interest_rate": 0.10}}
    pp = prompt_pay_interest(lines, table)
    # CA fully insured: paid 60 days after receipt, 30 allowed -> 30 days x 10%/yr on $1,000
    assert pp.loc[0, "days_late"] == 30 and pp.loc[0, "prompt_pay_interest"] == pytest.approx(8.22)
    assert pp.loc[1, "prompt_pay_interest"] == 0.0  # ERISA self-funded: outside state law
    assert not pp.loc[2, "prompt_pay_state"]  # NY not in the given table
    assert pp.loc[3, "days_late"] == 0  # paid on time
