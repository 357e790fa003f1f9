"""Patient protections: what the client may and may not bill its patients, per claim.

- **Balance billing.** NSA-protected claims (emergency; OON provider at an in-network facility;
  air ambulance) may be billed only the in-network cost share (docs/domain.md §1.1; RARC N830: only PR
  amounts collectable). Notice-and-consent can lift that only for non-emergency, non-ancillary
  services (42 U.S.C. 300gg-132(b)(2); docs/domain.md §1.3).
- **Cost-share cap.** Patient responsibility above the NSA cap (in-network cost sharing on the
  recognized amount) is flagged with the excess.
- **Self-pay / uninsured.** A bill at least $400 above the good-faith estimate is "substantially
  in excess" and the patient may start patient-provider dispute resolution within 120 calendar
  days of the initial bill (45 CFR 149.620(a)(2)(ii), (c); CMS guidance).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pandas as pd

from oonplaybook.playbook._adapters import join_assessment, run_reduce

#: "Substantially in excess": billed at least $400 above the good-faith estimate
#: (45 CFR 149.620(a)(2)(ii)).
PPDR_THRESHOLD = 400.0
#: The patient has 120 calendar days from receipt of the initial bill to start PPDR
#: (45 CFR 149.620(c)(1)).
PPDR_WINDOW_DAYS = 120

#: Specialties whose services are "ancillary": notice-and-consent can never waive NSA protection
#: (42 U.S.C. 300gg-132(b)(2)(A)-(B); 45 CFR 149.420; docs/domain.md §1.3).
ANCILLARY_SPECIALTIES = frozenset(
    {"emergency_medicine", "anesthesiology", "pathology", "radiology", "neonatology"}
)

PROTECTION_COLUMNS = [
    "claim_id",
    "payer",
    "specialty",
    "plan_type",
    "patient_key",
    "service_date",
    "nsa_applies",
    "notice_consent",
    "consent_valid",
    "balance_bill_allowed",
    "billed",
    "paid",
    "patient_resp",
    "patient_cost_share_cap",
    "patient_resp_exceeds_cap",
    "excess_over_cap",
    "gfe_amount",
    "bill_over_gfe",
    "ppdr_eligible",
    "ppdr_window_end",
    "may_bill_patient",
    "max_patient_bill",
    "explanation",
]


def _claim_frame(
    claim_lines: pd.DataFrame,
    nsa_assessment: pd.DataFrame | None,
    *,
    first: tuple[str, ...] = ("payer", "specialty", "plan_type", "patient_key"),
    extra_sum: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Lines reduced to one row per claim with the flags every protection rule reads.

    ``nsa_applies`` and ``balance_bill_allowed`` come from the NSA assessment when it has them;
    without one, protection is derived from the line flags (emergency, in-network facility, air
    ambulance) and a valid notice-and-consent (non-emergency, non-ancillary) lifts it.
    """
    lines = join_assessment(claim_lines, nsa_assessment)
    if not (
        nsa_assessment is not None
        and len(nsa_assessment)
        and "nsa_applies" in lines
        and lines["nsa_applies"].any()
    ):
        protected = lines["emergency"] | lines["facility_in_network"] | lines["air_ambulance"]
        lines["nsa_applies"] = protected & ~lines["plan_type"].astype("str").isin(
            ["self_pay", "medicare_advantage", "medicaid_managed_care"]
        )
    extra_any = tuple(c for c in ("patient_resp_exceeds_cap",) if c in lines.columns)
    extra_all = tuple(c for c in ("balance_bill_allowed",) if c in lines.columns)
    extra_max = tuple(c for c in ("patient_cost_share_cap",) if c in lines.columns)
    agg = run_reduce(
        lines.sort_values(["claim_id", "line_no"], kind="stable"),
        ["claim_id"],
        first=tuple(dict.fromkeys((*first, "specialty", "plan_type"))),
        sum=("billed", "paid", "patient_resp", *extra_sum),
        any=("nsa_applies", "emergency", *extra_any),
        all=("notice_consent", *extra_all),
        min=("service_date", "remit_date"),
        max=("gfe_amount", *extra_max),
    )
    # nsa.assess_claims is claim-level: its cap repeats on every line, so max() keeps it once
    ancillary = agg["specialty"].astype("str").isin(ANCILLARY_SPECIALTIES)
    agg["consent_valid"] = agg["notice_consent"] & ~agg["emergency"] & ~ancillary
    if "balance_bill_allowed" not in agg.columns:
        agg["balance_bill_allowed"] = ~agg["nsa_applies"] | agg["consent_valid"]
    if "patient_cost_share_cap" not in agg.columns:
        agg["patient_cost_share_cap"] = np.nan
    self_pay = agg["plan_type"].astype("str").eq("self_pay")
    agg["bill_over_gfe"] = (agg["billed"] - agg["gfe_amount"]).where(
        self_pay & agg["gfe_amount"].notna()
    )
    agg["ppdr_eligible"] = (agg["bill_over_gfe"] >= PPDR_THRESHOLD).fillna(False).astype("bool")
    agg["max_patient_bill"] = _max_patient_bill(agg, self_pay)
    return agg


def _max_patient_bill(agg: pd.DataFrame, self_pay: pd.Series) -> pd.Series:
    """The most the practice may bill the patient on each claim.

    Self-pay: the charges, but at most the good-faith estimate + $399.99 (a bill $400 or more
    over it is "substantially in excess", 45 CFR 149.620(a)(2)(ii)). Protected claims (no
    balance billing): the patient's cost share on the remit, capped at the NSA cost-share cap
    when known. Otherwise the balance after the plan's payment.
    """
    billed = agg["billed"].astype("float64")
    paid = agg["paid"].fillna(0.0).astype("float64")
    gfe_limit = agg["gfe_amount"].astype("float64") + (PPDR_THRESHOLD - 0.01)
    self_pay_max = np.fmin(billed, gfe_limit.where(agg["ppdr_eligible"]))
    cost_share = agg["patient_resp"].fillna(0.0).astype("float64")
    cost_share = np.fmin(cost_share, agg["patient_cost_share_cap"].astype("float64"))
    balance = (billed - paid).clip(lower=0.0)
    out = np.where(
        self_pay, self_pay_max, np.where(agg["balance_bill_allowed"], balance, cost_share)
    )
    return pd.Series(out, index=agg.index, dtype="float64").clip(lower=0.0).round(2)


def patient_bill_limits(
    claim_lines: pd.DataFrame, nsa_assessment: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per claim: ``balance_bill_allowed`` and ``max_patient_bill``, exactly as the protections
    table states them, for the worklist (which never bills a patient more than this)."""
    cols = [
        c
        for c in (
            "claim_id",
            "line_no",
            "plan_type",
            "specialty",
            "billed",
            "paid",
            "patient_resp",
            "emergency",
            "facility_in_network",
            "air_ambulance",
            "notice_consent",
            "service_date",
            "remit_date",
            "gfe_amount",
        )
        if c in claim_lines.columns
    ]
    agg = _claim_frame(claim_lines[cols], nsa_assessment, first=("plan_type",))
    return agg[["claim_id", "balance_bill_allowed", "ppdr_eligible", "max_patient_bill"]]


def patient_protections(
    claim_lines: pd.DataFrame, nsa_assessment: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per claim: may the patient be balance-billed, is patient responsibility above the NSA cap,
    and for self-pay claims with a good-faith estimate, is the bill $400+ over it (PPDR-eligible).

    Uses the NSA assessment's ``balance_bill_allowed`` / ``patient_cost_share_cap`` /
    ``patient_resp_exceeds_cap`` when given; otherwise derives balance billing from the line flags
    and leaves the cap unknown (NaN) rather than guessing a benefit design. ``max_patient_bill``
    is the most the practice may bill the patient (the worklist's patient bills never exceed it).
    """
    agg = _claim_frame(claim_lines, nsa_assessment)
    cap = agg["patient_cost_share_cap"].astype("float64")
    excess = (agg["patient_resp"] - cap).where(agg["nsa_applies"] & cap.notna())
    if "patient_resp_exceeds_cap" not in agg.columns:
        agg["patient_resp_exceeds_cap"] = excess > 0.005
    agg["patient_resp_exceeds_cap"] = agg["patient_resp_exceeds_cap"].fillna(False).astype("bool")
    agg["excess_over_cap"] = excess.clip(lower=0).fillna(0.0).round(2)
    self_pay = agg["plan_type"].astype("str").eq("self_pay")
    bill_date = pd.to_datetime(agg["remit_date"]).fillna(pd.to_datetime(agg["service_date"]))
    agg["ppdr_window_end"] = (
        (bill_date + pd.Timedelta(days=PPDR_WINDOW_DAYS))
        .where(agg["ppdr_eligible"])
        .astype("datetime64[us]")
    )
    agg["may_bill_patient"] = np.where(
        self_pay,
        np.where(
            agg["ppdr_eligible"],
            "GFE + $399.99 at most before a dispute can be filed",
            "billed amount",
        ),
        np.where(
            agg["balance_bill_allowed"],
            "balance after plan payment",
            "in-network cost share (PR amounts) only",
        ),
    )
    # only the seven fields the sentence reads, as plain arrays (itertuples over every column,
    # datetimes included, boxed 3.7M values at 1M lines)
    fields = agg[list(_EXPLAIN_FIELDS)].astype({"plan_type": "str"})
    agg["explanation"] = [
        _explain(_ExplainRow(*v))
        for v in zip(*(fields[c].to_numpy(dtype=object) for c in _EXPLAIN_FIELDS), strict=True)
    ]
    return agg[PROTECTION_COLUMNS].sort_values("claim_id", kind="stable").reset_index(drop=True)


_EXPLAIN_FIELDS = (
    "plan_type",
    "ppdr_eligible",
    "bill_over_gfe",
    "nsa_applies",
    "balance_bill_allowed",
    "patient_resp_exceeds_cap",
    "excess_over_cap",
    "max_patient_bill",
)
_ExplainRow = namedtuple("_ExplainRow", _EXPLAIN_FIELDS)


def _explain(r: object) -> str:
    """One plain-language sentence per claim (no names; the claim id is the reference)."""
    if r.plan_type == "self_pay":
        if r.ppdr_eligible:
            return (
                f"The charges are ${r.bill_over_gfe:,.2f} above the good-faith estimate: bill at most "
                f"${r.max_patient_bill:,.2f} (the estimate + $399.99). A bill $400 or more over the "
                "estimate lets the patient start patient-provider dispute resolution within 120 days "
                "of receiving it (45 CFR 149.620)."
            )
        return "Self-pay: bill the charges; the bill is within $400 of any good-faith estimate."
    if r.nsa_applies and not r.balance_bill_allowed:
        extra = (
            f" Patient responsibility is ${r.excess_over_cap:,.2f} above the NSA cap: refund or re-bill."
            if r.patient_resp_exceeds_cap
            else ""
        )
        return (
            "No Surprises Act protects this visit: bill the patient only the in-network cost share shown on the remit."
            + extra
        )
    if r.nsa_applies and r.balance_bill_allowed:
        return "The patient signed a valid notice-and-consent for non-emergency, non-ancillary care: balance billing is allowed."
    return "Not protected by the No Surprises Act: the balance after the plan's payment may be billed, subject to state law."
