"""NSA claim assessment, batching, appeal deadlines and the CARC/RARC reference (hand-built cases)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from oonplaybook import nsa
from oonplaybook.reference import codes as rc

D = date
AS_OF = D(2025, 12, 1)


def _line(claim_id: str, **kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "claim_id": claim_id,
        "line_no": 1,
        "payer": "Acme Health",
        "payer_id": "ACM01",
        "plan_type": "fully_insured",
        "provider_npi": "1234567893",
        "provider_tin": "123456789",
        "specialty": "emergency_medicine",
        "state": "FL",
        "service_date": "2025-11-03",
        "remit_date": "2025-11-17",
        "cpt": "99285",
        "modifiers": "",
        "billed": 500.0,
        "allowed": 200.0,
        "paid": 150.0,
        "patient_resp": 50.0,
        "qpa": 200.0,
        "claim_status": "paid",
        "carc": "CO-45",
        "rarc": "N864:N869:N877",
        "emergency": True,
        "facility_in_network": True,
        "air_ambulance": False,
        "notice_consent": False,
    }
    base.update(kw)
    return base


@pytest.fixture(scope="module")
def assessed() -> pd.DataFrame:
    rows = [
        _line("A"),
        _line("B", carc="CO-197", rarc="N54", claim_status="denied", paid=0.0, allowed=0.0,
              patient_resp=0.0, plan_type="self_funded_erisa", state="TX"),
        _line("C", specialty="orthopedic_surgery", cpt="27447", emergency=False,
              notice_consent=True, rarc=""),
        _line("D", specialty="anesthesiology", cpt="01402", emergency=False, notice_consent=True),
        _line("E", specialty="radiology", cpt="70450", emergency=False, state="NY"),
        _line("F", specialty="behavioral_health", cpt="90837", emergency=False,
              facility_in_network=False, qpa=float("nan"), rarc=""),
        _line("G", plan_type="self_pay", payer="Self Pay", claim_status="pending",
              remit_date=None, emergency=False, facility_in_network=False),
        _line("H", claim_status="pending", remit_date=None, paid=float("nan")),
        _line("I", remit_date="2025-06-02", service_date="2025-05-20"),
        _line("J", specialty="generic", cpt="A0431", emergency=False, facility_in_network=False),
        _line("K", plan_type="self_funded_erisa", state="NJ", state_law_opt_in=True),
        _line("L", plan_type="medicare_advantage"),
        _line("M", specialty="orthopedic_surgery", cpt="27447", modifiers="80",
              emergency=False, notice_consent=True),
        _line("N", line_no=1, cpt="99285", qpa=120.0, billed=300.0),
        _line("N", line_no=2, cpt="12002", qpa=80.0, billed=60.0, carc="PR-45"),
    ]  # fmt: skip
    df = pd.DataFrame(rows)
    for c in ("service_date", "remit_date"):
        df[c] = pd.to_datetime(df[c])
    df = df.sample(frac=1.0, random_state=3)  # order must not matter
    return nsa.assess_claims(df, as_of=AS_OF).set_index("claim_id")


def test_one_row_per_claim_sorted_nothing_dropped(assessed: pd.DataFrame) -> None:
    assert list(assessed.index) == sorted("ABCDEFGHIJKLMN")
    assert assessed.loc["N", "n_lines"] == 2


def test_emergency_claim_clocks_and_cap(assessed: pd.DataFrame) -> None:
    a = assessed.loc["A"]
    assert a["nsa_basis"] == "emergency" and a["nsa_applies"] and a["idr_eligible"]
    assert a["idr_ineligible_reasons"] == ""
    # remit Mon 2025-11-17: 30 BD -> Tue 2025-12-30 (Thanksgiving and Christmas skipped)
    assert a["open_negotiation_initiate_by"] == pd.Timestamp("2025-12-30")
    assert a["next_deadline_kind"] == "open_negotiation_notice"
    assert a["days_left"] == 29  # Dec 1 -> Dec 30
    # business days after Dec 1 through Dec 30: Dec 2-5 (4), 8-12 (9), 15-19 (14), 22-24 (17),
    # [25], 26 (18), 29 (19), 30 (20)
    assert a["business_days_left"] == 20
    assert not a["deadline_passed"]
    assert a["recognized_amount"] == 200.0  # lesser of QPA 200 and billed 500
    assert a["patient_cost_share_cap"] == 200.0 and not a["patient_resp_exceeds_cap"]
    assert not a["balance_bill_allowed"]


def test_improper_prior_auth_denial_on_emergency(assessed: pd.DataFrame) -> None:
    b = assessed.loc["B"]
    assert b["improper_under_nsa"] and "prior authorization" in b["improper_reason"]
    assert not b["idr_eligible"] and "improper denial" in b["idr_ineligible_reasons"]
    assert not b["state_law_governs"]  # self-funded ERISA in TX stays federal
    assert b["denial_reason_group"] == "authorization"


def test_notice_and_consent(assessed: pd.DataFrame) -> None:
    c, d, m = assessed.loc["C"], assessed.loc["D"], assessed.loc["M"]
    assert c["notice_consent_valid"] and not c["nsa_applies"] and c["balance_bill_allowed"]
    assert "valid notice and consent" in c["idr_ineligible_reasons"]
    assert d["nsa_basis"] == "ancillary_at_in_network_facility"
    assert not d["notice_consent_valid"] and d["nsa_applies"]
    assert d["notice_consent_reason"].startswith("invalid: ancillary")
    assert m["nsa_basis"] == "ancillary_at_in_network_facility"  # assistant surgeon (mod 80)
    assert not m["notice_consent_valid"]


def test_state_law_and_plan_types(assessed: pd.DataFrame) -> None:
    e = assessed.loc["E"]
    assert e["state_law_governs"] and e["state_law"].startswith("NY:")
    assert not e["idr_eligible"] and e["next_deadline_kind"] == "state_process"
    assert pd.isna(e["open_negotiation_initiate_by"]) and pd.isna(e["recognized_amount"])
    k = assessed.loc["K"]
    assert k["state_law_governs"] and k["state_law"].startswith("NJ:")  # opted-in self-funded
    f = assessed.loc["F"]
    assert f["nsa_basis"] == "none" and f["balance_bill_allowed"]
    assert f["next_deadline_kind"] == "appeal"
    assert f["appeal_by"] == pd.Timestamp("2026-05-16")  # remit 2025-11-17 + 180 days
    g = assessed.loc["G"]
    assert not g["nsa_applies"] and g["balance_bill_reason"].startswith("yes: self-pay")
    ma = assessed.loc["L"]
    assert not ma["nsa_applies"] and not ma["balance_bill_allowed"]
    assert "public program" in ma["idr_ineligible_reasons"]
    assert assessed.loc["J", "nsa_basis"] == "air_ambulance"


def test_pending_and_passed_deadlines_are_kept(assessed: pd.DataFrame) -> None:
    h = assessed.loc["H"]
    assert h["next_deadline_kind"] == "awaiting_remit" and not h["idr_eligible"]
    assert "no initial payment" in h["idr_ineligible_reasons"]
    i = assessed.loc["I"]
    # remit Mon 2025-06-02: Jun 2-6 (5), 9-13 (10), 16-18 (13), [19 Juneteenth], 20 (14),
    # 23-27 (19), Jun 30-Jul 3 (23), [4], 7-11 (28), 14 (29), Tue Jul 15 (30)
    assert i["open_negotiation_initiate_by"] == pd.Timestamp("2025-07-15")
    assert i["deadline_passed"] and i["days_left"] < 0 and i["idr_eligible"]


def test_multi_line_claim_cap_and_pr45(assessed: pd.DataFrame) -> None:
    n = assessed.loc["N"]
    # recognized per line: min(120, 300) + min(80, 60) = 180
    assert n["recognized_amount"] == pytest.approx(180.0)
    assert n["improper_under_nsa"] and "balance billing" in n["improper_reason"]


def test_coinsurance_cap() -> None:
    df = pd.DataFrame([_line("A")])
    for c in ("service_date", "remit_date"):
        df[c] = pd.to_datetime(df[c])
    a = nsa.assess_claims(df, as_of=AS_OF, in_network_coinsurance=0.2).iloc[0]
    assert a["patient_cost_share_cap"] == pytest.approx(40.0)  # 20% of 200
    assert a["patient_resp_exceeds_cap"] and a["patient_resp_excess"] == pytest.approx(10.0)


def test_notice_date_column_drives_idr_clock() -> None:
    df = pd.DataFrame([_line("A", open_negotiation_notice_date="2025-12-01")])
    for c in ("service_date", "remit_date", "open_negotiation_notice_date"):
        df[c] = pd.to_datetime(df[c])
    a = nsa.assess_claims(df, as_of=AS_OF).iloc[0]
    assert a["next_deadline_kind"] == "idr_initiation"
    assert a["open_negotiation_period_end"] == pd.Timestamp("2026-01-13")
    assert a["idr_initiate_by"] == pd.Timestamp("2026-01-20")


# --- batching ------------------------------------------------------------------------------------


def _disputes() -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "claim_id": ["a", "b", "c", "d", "e", "f", "g", "h"],
            "line_no": [1] * 8,
            "provider_tin": ["111111111"] * 7 + ["222222222"],
            "payer": ["P"] * 5 + ["Q", "P", "P"],
            "cpt": ["70450", "71046", "99285", "72125", "74177", "70450", "70486", "70450"],
            "service_date": pd.to_datetime(
                ["2025-11-03", "2025-11-20", "2025-11-04", "2025-12-16", "2025-12-17",
                 "2025-11-05", "2025-11-06", "2025-11-07"]
            ),
            "idr_eligible": [True, True, True, True, True, True, False, True],
        }
    )  # fmt: skip
    return df


def test_batching_hand_computed() -> None:
    out = nsa.batch_disputes(_disputes()).set_index("claim_id")
    # 30 BD from Mon 2025-11-03: Nov 3-7 (5), 10 (6), [11 Veterans Day], 12-14 (9), 17-21 (14),
    # 24-26 (17), [27], 28 (18), Dec 1-5 (23), 8-12 (28), 15 (29), Tue Dec 16 (30).
    assert out.loc["a", "batch_window_end"] == pd.Timestamp("2025-12-16")
    assert out.loc["a", "batch_id"] == out.loc["b", "batch_id"] == out.loc["d", "batch_id"]
    assert out.loc["e", "batch_id"] not in ("", out.loc["a", "batch_id"])  # Dec 17: new window
    assert out.loc["c", "idr_code_group"] == "em_emergency_department"
    assert out.loc["c", "batch_id"] != out.loc["a", "batch_id"]  # other code group
    assert out.loc["f", "batch_id"] != out.loc["a", "batch_id"]  # other payer
    assert out.loc["h", "batch_id"] != out.loc["a", "batch_id"]  # other TIN
    assert out.loc["g", "batch_id"] == "" and "not IDR-eligible" in out.loc["g", "batch_note"]
    assert out.loc["a", "batch_lines"] == 3
    assert list(out.loc[["a", "b", "d"], "batch_seq"]) == [1, 2, 3]
    again = nsa.batch_disputes(_disputes().sample(frac=1, random_state=1)).set_index("claim_id")
    assert again.sort_index()["batch_id"].equals(out.sort_index()["batch_id"])  # deterministic


def test_batching_line_limit() -> None:
    out = nsa.batch_disputes(_disputes(), max_lines=2).set_index("claim_id")
    assert out.loc["a", "batch_id"] == out.loc["b", "batch_id"]
    assert out.loc["d", "batch_id"] != out.loc["a", "batch_id"]
    # d opens a new window on Dec 16 that also takes e (Dec 17)
    assert out.loc["d", "batch_id"] == out.loc["e", "batch_id"]


@pytest.mark.parametrize(
    ("code", "group"),
    [
        ("00790", "anesthesia"),
        ("27447", "surgery_musculoskeletal"),
        ("70450", "radiology_diagnostic"),
        ("71555", "radiology_diagnostic"),
        ("76705", "radiology_ultrasound"),
        ("88305", "pathology_anatomic_surgical"),
        ("95940", "neurology_neuromuscular"),
        ("G0453", "neurology_neuromuscular"),
        ("99285", "em_emergency_department"),
        ("99291", "em_critical_care"),
        ("99468", "em_neonatal_pediatric_critical_care"),
        ("A0431", "air_ambulance"),
        ("A0436", "air_ambulance"),
        ("R0075", "radiology_diagnostic"),
        ("J1100", "hcpcs_other"),
        ("123", "unknown"),
    ],
)
def test_idr_code_group(code: str, group: str) -> None:
    assert nsa.idr_code_group(code) == group


# --- appeal deadlines ------------------------------------------------------------------------------


def test_appeal_deadlines_erisa_contract_external_and_prompt_pay() -> None:
    a = nsa.appeal_deadlines(D(2025, 10, 31), "fully_insured", contract_days=90, state="GA",
                             claim_received_date=D(2025, 9, 1))  # fmt: skip
    assert a.internal_appeal_by == D(2026, 4, 29)  # Oct 31 + 180
    assert a.contract_appeal_by == D(2026, 1, 29)  # Oct 31 + 90
    assert a.appeal_by == D(2026, 1, 29)  # the earlier
    # 4 months: no Feb 31 -> Sun 2026-03-01 -> next business day Mon 03-02
    assert a.external_review_by == D(2026, 3, 2)
    # GA electronic: 15 *working* days (O.C.G.A. 33-24-59.14(b)(1)); received Mon 09-01 (Labor
    # Day): 09-02..09-05 = 4, ..09-12 = 9, ..09-19 = 14, Mon 09-22 = 15
    assert a.prompt_pay_due == D(2025, 9, 22)
    assert a.prompt_pay_interest_annual == 0.12
    ma = nsa.appeal_deadlines(D(2025, 10, 31), "medicare_advantage", contract_days=60)
    assert ma.internal_appeal_by == D(2025, 12, 30) and ma.external_review_by is None
    erisa = nsa.appeal_deadlines(D(2025, 10, 31), "self_funded_erisa", state="GA",
                                 claim_received_date=D(2025, 9, 1))  # fmt: skip
    assert erisa.prompt_pay_due is None  # state prompt pay does not reach self-funded plans
    assert nsa.prompt_pay_interest(1000.0, D(2025, 9, 16), D(2025, 10, 16), 0.12) == 9.86


def test_state_table_loads_and_validates(tmp_path: object) -> None:
    t = nsa.load_state_table()
    assert t["surprise_billing"]["NY"]["verified"] is True
    assert t["surprise_billing"]["VA"]["enabled"] is True  # Virginia SCC (audit F9)
    assert all("source" in row for row in t["surprise_billing"].values())
    assert all("covers" in row for row in t["surprise_billing"].values())


# --- CARC / RARC ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("carc", "rarc", "group"),
    [
        ("CO-45", "", "underpayment"),
        ("CO-131", "", "underpayment"),
        ("CO-50", "", "medical_necessity"),
        ("CO-197", "", "authorization"),
        ("CO-A1", "N54", "authorization"),
        ("CO-97", "M15", "coding_bundling"),
        ("CO-16", "MA130", "coding_bundling"),
        ("CO-29", "", "timely_filing"),
        ("CO-22", "", "eligibility_cob"),
        ("CO-27", "", "eligibility_cob"),
        ("OA-18", "", "duplicate"),
        ("CO-204", "", "non_covered"),  # one mapping with playbook.appeals (audit E9)
        ("PR-1", "", "not_a_denial"),
        ("CO-2", "", "other"),
        ("CO-999", "", "other"),
    ],
)
def test_denial_reason_group(carc: str, rarc: str, group: str) -> None:
    assert rc.denial_reason_group(carc, rarc) == group


def test_code_reference_and_improper_patterns() -> None:
    assert set(rc.DENIAL_GROUPS) >= {g for _, g in rc.CARC.values() if g != rc.NOT_A_DENIAL}
    assert rc.carc_description("CO-45").startswith("charge exceeds")
    assert rc.carc_description("CO-999") == "unknown CARC 999"
    assert rc.rarc_descriptions("N864:N877")[0].startswith("No Surprises Act emergency")
    assert rc.CLAIM_STATUS["22"].startswith("reversal")
    assert rc.improper_under_nsa("CO-197", "", "emergency")
    assert rc.improper_under_nsa("CO-16", "N54", "emergency")
    assert rc.improper_under_nsa("CO-197", "", "non_emergency_at_in_network_facility") == ""
    assert rc.improper_under_nsa("CO-242", "", "ancillary_at_in_network_facility")
    assert rc.improper_under_nsa("CO-242", "", "none") == ""
    s = rc.denial_reason_groups(pd.Series(["CO-45", "CO-50", "CO-45"]))
    assert s.tolist() == ["underpayment", "medical_necessity", "underpayment"]


def test_empty_inputs_give_empty_typed_outputs() -> None:
    from oonplaybook import schema

    a = nsa.assess_claims(schema.empty_claim_lines(), as_of=AS_OF)
    assert a.empty and list(a.columns) == list(nsa.ASSESSMENT_COLUMNS)
    b = nsa.batch_disputes(schema.empty_claim_lines())
    assert b.empty and "batch_id" in b.columns
    with pytest.raises(KeyError, match="cpt"):
        nsa.assess_claims(pd.DataFrame({"claim_id": ["x"]}), as_of=AS_OF)
