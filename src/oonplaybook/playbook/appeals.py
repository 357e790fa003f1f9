"""Appeal ladders for denied and underpaid claims outside (or lost to) the No Surprises Act route.

A denial's CARC puts it in a *denial-reason group*; each group has a ladder of routes (corrected
claim, level-1 and level-2 appeal, external review, payer negotiation) with the deadline rule of
each rung. Deadlines are calendar-day windows from the adverse determination (the remit date),
computed vectorised so a million-line portfolio routes in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from oonplaybook.nsa import ERISA_ACA_PLAN_TYPES
from oonplaybook.reference import calendar as bd
from oonplaybook.reference import codes as rc
from oonplaybook.reference.state_table import (  # noqa: F401  (prompt_pay_*: re-exported)
    load_state_table,
    prompt_pay_due,
    prompt_pay_row,
    state_dispute_deadlines,
)

# --- denial-reason groups ----------------------------------------------------------------------

#: CARC -> denial-reason group. Meanings from the WPC CARC list (docs/domain.md §4.2); grouping is
#: the practice grouping of docs/domain.md §4.2's "usual action" column.
CARC_GROUPS: dict[str, str] = {
    # medical necessity / level of care / frequency (docs/domain.md §4.2: "Appeal with records")
    "50": "medical_necessity",
    "150": "medical_necessity",
    "151": "medical_necessity",
    "55": "medical_necessity",  # experimental/investigational: medical judgment (29 CFR 2590.715-2719(d)(1))
    # authorization (docs/domain.md §4.2: "Retro-auth or appeal. Improper for NSA emergency services")
    "197": "authorization",
    "198": "authorization",
    "284": "authorization",
    "296": "authorization",
    "15": "authorization",
    # network (docs/domain.md §4.2: "Improper for NSA emergency services and ancillary services at
    # in-network facilities")
    "242": "network",
    "243": "network",
    "279": "network",
    # coding / bundling (docs/domain.md §4.2: corrected claim, or appeal with modifier documentation)
    "4": "coding_bundling",
    "5": "coding_bundling",
    "11": "coding_bundling",
    "97": "coding_bundling",
    "59": "coding_bundling",
    "234": "coding_bundling",
    "236": "coding_bundling",
    # missing information / records requested (docs/domain.md §4.2: "Correct and resubmit" / "Send records")
    "16": "missing_info",
    "226": "missing_info",
    "252": "missing_info",
    # timely filing (docs/domain.md §4.2: "Appeal only with proof of timely filing")
    "29": "timely_filing",
    # eligibility and coordination of benefits (docs/domain.md §4.2)
    "22": "eligibility_cob",
    "23": "eligibility_cob",
    "26": "eligibility_cob",
    "27": "eligibility_cob",
    "109": "eligibility_cob",
    "200": "eligibility_cob",
    # coverage (docs/domain.md §4.2; IDR cannot resolve coverage): 96, 204, 119 come from
    # reference.codes.NON_COVERED_CARCS, the one mapping, added below
    # duplicates (docs/domain.md §4.2: "Usually not appealable")
    "18": "duplicate",
    # credentialing (docs/domain.md §4.2)
    "170": "credentialing",
    "185": "credentialing",
    "B7": "credentialing",
    # price reductions (docs/domain.md §4.2: CO-45 is the core OON underpayment line; 131 repricer discount)
    "45": "underpayment",
    "131": "underpayment",
    # patient cost sharing (PR-1/2/3) is not a denial
    "1": "patient_cost_share",
    "2": "patient_cost_share",
    "3": "patient_cost_share",
}

CARC_GROUPS.update(dict.fromkeys(sorted(rc.NON_COVERED_CARCS), "non_covered"))

DENIAL_GROUPS: tuple[str, ...] = tuple(sorted(set(CARC_GROUPS.values()) | {"other", "none"}))

#: External-review eligibility: the one shared set (``reference.codes``; 29 CFR
#: 2590.715-2719(d)(1)): medical judgment, rescission and NSA compliance always; network,
#: authorization and non-covered denials only when argued as medical judgment or NSA compliance.
EXTERNAL_REVIEW_GROUPS = rc.EXTERNAL_REVIEW_GROUPS


def denial_group(carc: str) -> str:
    """Denial-reason group of one ``"GROUP-CODE"`` CARC (``"none"`` when empty, never a guess)."""
    carc = str(carc or "").strip().upper()
    if not carc:
        return "none"
    code = carc.split("-", 1)[1] if "-" in carc else carc
    return CARC_GROUPS.get(code.lstrip("0") or "0", CARC_GROUPS.get(code, "other"))


def denial_groups(carcs: pd.Series) -> pd.Series:
    """Vectorised :func:`denial_group` (each distinct CARC mapped once)."""
    s = carcs.astype("str").fillna("")
    lookup = {c: denial_group(c) for c in pd.unique(s)}
    return s.map(lookup).astype("str")


# --- the ladder --------------------------------------------------------------------------------

ROUTES: tuple[str, ...] = (
    "corrected_claim",
    "appeal_l1",
    "appeal_l2",
    "external_review",
    "payer_negotiation",
    "open_negotiation",
    "idr",
    "state_idr",
    "patient_bill",
    "write_off",
)

#: Letter template sent with each route (templates in ``oonplaybook/letters/templates``).
ROUTE_LETTER: dict[str, str] = {
    "corrected_claim": "",  # a corrected 837 (CLM05-3 = 7, REF*F8 original claim no.), not a letter
    "appeal_l1": "appeal",
    "appeal_l2": "appeal",
    "external_review": "appeal",
    "payer_negotiation": "payer_negotiation",
    "open_negotiation": "open_negotiation_notice",
    "idr": "idr_offer_brief",
    "state_idr": "payer_negotiation",  # negotiate under the state law first; benchmarks may be cited
    "patient_bill": "patient_explanation",
    "write_off": "",
}

#: Documents each route needs, before the specialty checklist is added.
ROUTE_DOCUMENTS: dict[str, tuple[str, ...]] = {
    "corrected_claim": ("corrected claim (frequency code 7, original payer claim number)",),
    "appeal_l1": (
        "remittance/EOB showing the denial",
        "signed assignment of benefits or authorized-representative form (29 CFR 2560.503-1(b)(4))",
    ),
    "appeal_l2": ("level-1 appeal decision letter", "remittance/EOB showing the denial"),
    "external_review": ("final internal adverse benefit determination", "medical records"),
    "payer_negotiation": (
        "remittance/EOB",
        "benchmark evidence (Medicare multiple, UCR percentile, QPA)",
    ),
    "open_negotiation": (
        "remittance/EOB with the QPA and initial payment date",
        "open negotiation notice (CMS standard form)",
    ),
    "idr": (
        "open negotiation notice and proof of delivery",
        "additional-circumstances evidence (45 CFR 149.510(c)(4)(iii)(B))",
    ),
    "patient_bill": (
        "itemized statement",
        "good-faith estimate (self-pay)",
        "NSA notice-and-consent if signed",
    ),
    "write_off": ("write-off approval",),
}

#: Extra documents by denial-reason group (docs/domain.md §4.2 "usual action").
GROUP_DOCUMENTS: dict[str, tuple[str, ...]] = {
    "medical_necessity": (
        "medical records",
        "letter of medical necessity from the treating physician",
    ),
    "authorization": ("authorization record or retro-authorization request",),
    "network": ("network adequacy / no in-network provider available evidence",),
    "coding_bundling": (
        "operative/procedure note supporting the modifier (59/XS/XU)",
        "NCCI edit analysis",
    ),
    "missing_info": ("requested records or attachment (PWK)",),
    "timely_filing": ("proof of timely filing (clearinghouse 999/277CA acceptance report)",),
    "eligibility_cob": ("eligibility verification (270/271)", "primary payer EOB"),
    "non_covered": ("plan document / summary of benefits excerpt", "medical records"),
    "credentialing": ("credentialing/enrollment confirmation",),
    "underpayment": ("benchmark evidence (Medicare multiple, UCR percentile, QPA)",),
}


@dataclass(frozen=True)
class Rung:
    """One step of an appeal ladder: the route and what its deadline counts from."""

    route: str
    clock: str  # "remit" (from the adverse determination), "service" (timely filing), "none"


#: Ladder per denial-reason group for claims outside the NSA route. First rung that is still
#: open is the one to work; later rungs follow when it fails. ``external_review`` is dropped by
#: :func:`appeal_ladder` when the claim is not eligible (``rc.external_review_eligible``). Sources: docs/domain.md §4.2 usual actions,
#: §4.3 (ERISA two-level limit 29 CFR 2560.503-1(c)(2); external review 2590.715-2719(d)).
LADDERS: dict[str, tuple[str, ...]] = {
    "medical_necessity": ("appeal_l1", "appeal_l2", "external_review"),
    "authorization": ("appeal_l1", "appeal_l2", "external_review"),
    "network": ("appeal_l1", "appeal_l2", "external_review"),
    "coding_bundling": ("corrected_claim", "appeal_l1", "appeal_l2"),
    "missing_info": ("corrected_claim", "appeal_l1"),
    "timely_filing": ("appeal_l1",),
    "eligibility_cob": ("corrected_claim", "patient_bill"),
    "non_covered": ("appeal_l1", "appeal_l2", "external_review"),
    "duplicate": ("write_off",),
    "credentialing": ("corrected_claim", "appeal_l1"),
    "underpayment": ("payer_negotiation", "appeal_l1", "appeal_l2"),
    "patient_cost_share": ("patient_bill",),
    "other": ("appeal_l1", "appeal_l2"),
    "none": ("payer_negotiation", "appeal_l1"),
}

#: CARCs within coding_bundling that are fixed by a corrected claim rather than an appeal
#: (docs/domain.md §4.2: CARC 4 "Corrected claim", 16 "Correct and resubmit").
CORRECTED_CLAIM_CARCS = frozenset({"4", "5", "11", "16"})

#: ERISA group-health internal appeal window: at least 180 days after the adverse benefit
#: determination (29 CFR 2560.503-1(h)(3)(i)).
ERISA_APPEAL_DAYS = 180

#: External review request window: 4 months after the final internal adverse determination,
#: rolled to the next day that is not a weekend or Federal holiday (29 CFR 2590.715-2719(d)(2)(i)).
EXTERNAL_REVIEW_MONTHS = 4


def appeal_ladder(claim: pd.Series | dict) -> list[str]:
    """The ordered routes for one denied/underpaid claim outside the NSA route."""
    carc = str(claim.get("carc", "") or "")
    group = str(claim.get("denial_group", "") or denial_group(carc))
    ladder = list(LADDERS.get(group, LADDERS["other"]))
    code = carc.split("-", 1)[-1].upper()
    if group == "coding_bundling" and code not in CORRECTED_CLAIM_CARCS:
        ladder = [
            r for r in ladder if r != "corrected_claim"
        ]  # 97/59/234/236: appeal with modifiers
    if group == "missing_info" and code in ("226", "252"):
        ladder = ["appeal_l1"]  # records requested: send them with a level-1 reconsideration
    if "external_review" in ladder and not rc.external_review_eligible(
        group,
        medical_judgment=_flag(claim.get("medical_judgment")),
        nsa_compliance=_flag(claim.get("improper_under_nsa")),
    ):
        ladder = [r for r in ladder if r != "external_review"]
    if str(claim.get("plan_type", "")) == "self_pay":
        ladder = ["patient_bill"]
    return ladder


def _flag(v: object) -> bool:
    """A claim flag that may be missing, NaN or a string ("True")."""
    return v is True or (isinstance(v, str) and v.strip().lower() == "true") or v == 1


def _federal_holidays(years: range) -> set[np.datetime64]:
    import holidays as hol

    days = hol.US(years=list(years), observed=True)  # 5 U.S.C. 6103 federal holidays, as observed
    return {np.datetime64(d, "D") for d in days}


def roll_to_business_day(dates: pd.Series) -> pd.Series:
    """Move dates on a weekend or Federal holiday (observed) to the next day that is neither.

    Rule of 29 CFR 2590.715-2719(d)(2)(i) for the external-review deadline.
    """
    d = pd.to_datetime(dates)
    valid = d.dropna()
    if valid.empty:
        return d.astype("datetime64[us]")
    years = range(int(valid.dt.year.min()), int(valid.dt.year.max()) + 2)
    hol = np.array(sorted(_federal_holidays(years)), dtype="datetime64[D]")
    arr = valid.to_numpy().astype("datetime64[D]")
    rolled = np.busday_offset(arr, 0, roll="forward", holidays=hol)
    out = pd.Series(pd.NaT, index=d.index, dtype="datetime64[us]")
    out.loc[valid.index] = pd.to_datetime(rolled).astype("datetime64[us]")
    return out


def add_months(dates: pd.Series, months: int) -> pd.Series:
    """Same day ``months`` later; when that day does not exist, the first day of the month after.

    The 29 CFR 2590.715-2719(d)(2)(i) rule ("if there is no corresponding date four months after
    ..., the deadline is the first day of the fifth month").
    """
    d = pd.to_datetime(dates)
    shifted = d + pd.DateOffset(months=months)
    clipped = shifted.dt.day != d.dt.day  # pandas clips to month end when the day is missing
    first_next = (shifted + pd.offsets.MonthBegin(1)).dt.normalize()
    return shifted.where(~clipped, first_next).astype("datetime64[us]")


def rung_deadlines(
    lines: pd.DataFrame,
    route: pd.Series,
    *,
    contract_appeal_days: int,
    corrected_claim_days: int,
    last_decision: pd.Series | None = None,
) -> pd.Series:
    """Deadline of each line's route (NaT when the route has no clock).

    - appeal L1 / payer negotiation: ERISA/ACA plans allow 180 days from the adverse
      determination (29 CFR 2560.503-1(h)(3)(i); 45 CFR 147.136(b)), other plans the plan/contract
      window; the earlier of that and ``contract_appeal_days`` binds (as ``nsa.appeal_deadlines``).
    - appeal L2: the same window, counted from the level-1 decision on record; without one the
      claim must go through level 1 first, so level 1's deadline applies.
    - external review: 4 months from the final internal decision on record, rolled past
      weekends/holidays (29 CFR 2590.715-2719(d)(2)(i)); without one, level 1's deadline.
    - state IDR: the state's filing clock from the remit (``rules.state_dispute_deadline``);
      NaT where the table does not encode one.
    - corrected claim: the payer's timely-filing window from the date of service
      (``corrected_claim_days``; contract limits are commonly 90-365 days, docs/domain.md §4.3).
    """
    remit = pd.to_datetime(lines["remit_date"])
    service = pd.to_datetime(lines["service_date"])
    # ERISA/ACA plans: 180 days (29 CFR 2560.503-1(h)(3)(i); 45 CFR 147.136(b)); others the plan/
    # contract window; the earlier of that and the contract window binds (nsa.appeal_deadlines)
    erisa = lines["plan_type"].astype("str").isin(list(ERISA_ACA_PLAN_TYPES))
    window = pd.Series(
        np.where(erisa, min(ERISA_APPEAL_DAYS, contract_appeal_days), contract_appeal_days),
        index=lines.index,
    )
    window_td = pd.to_timedelta(window, unit="D")
    decided = last_decision if last_decision is not None else pd.Series(pd.NaT, index=lines.index)
    decided = pd.to_datetime(decided).astype("datetime64[us]")
    l1_by = remit + window_td
    out = pd.Series(pd.NaT, index=lines.index, dtype="datetime64[us]")
    r = route.astype("str")
    m = r.isin(["appeal_l1", "payer_negotiation"])
    out[m] = l1_by[m]
    # state surprise-billing processes: the state's own filing clock from the initial payment
    # (TX 90 days, Tex. Ins. Code §1467.084(a); NY 3 years, N.Y. FIS §601); NaT where the clock
    # is not encoded (the worklist then says "state deadline not encoded; check", never a guess)
    m = r.eq("state_idr")
    if m.any():
        states = (
            lines.loc[m, "state"] if "state" in lines.columns else pd.Series("", index=r.index[m])
        )
        due, _ = state_dispute_deadlines(states, remit[m])
        out[m] = due.to_numpy()
    # a later level opens only after the earlier one is decided; with no decision on record the
    # claim must first go through level 1, so the later rung shares level 1's deadline
    m = r.eq("appeal_l2")
    out[m] = (decided + window_td).fillna(l1_by)[m]
    m = r.eq("external_review")
    if m.any():
        er = roll_to_business_day(add_months(decided[m], EXTERNAL_REVIEW_MONTHS))
        out[m] = er.fillna(l1_by[m])
    m = r.eq("corrected_claim")
    out[m] = (service + pd.Timedelta(days=corrected_claim_days))[m]
    return out.astype("datetime64[us]")


# --- state prompt pay ---------------------------------------------------------------------------


def prompt_pay_interest(
    lines: pd.DataFrame,
    table: dict[str, dict] | None = None,
    *,
    electronic: bool = True,
) -> pd.DataFrame:
    """Days late and simple interest owed per paid line of a fully insured plan under state prompt pay.

    ``table``: state -> {electronic_days, paper_days, electronic_unit, paper_unit,
    annual_interest_rate, variants}; default the ``prompt_pay`` table of
    ``reference.state_table.load_state_table()``. The clock counts in the row's day unit (calendar, working or
    business days; GA electronic claims 15 working days, CA 30 working days); a ``regulator``
    column picks a variant (CA ``dmhc``: 15%/yr, 45 working days for an HMO when column
    ``hmo`` is true; otherwise the CDI row, 10%/yr).

    Late = paid after the due date (received ``submitted_date`` + the clean-claim days);
    days late are calendar days past the due date; interest = paid x annual rate x days late /
    365. Lines of other plan types, states without an entry, or without dates get 0 days late
    and 0 interest (and ``prompt_pay_state`` False).
    """
    if table is None:
        table = load_state_table()["prompt_pay"]

    st = lines["state"].astype("str")
    reg = (
        lines["regulator"].fillna("").astype("str").str.strip().str.lower()
        if "regulator" in lines.columns
        else pd.Series("", index=lines.index)
    )
    hmo = (
        lines["hmo"].fillna(False).astype("bool")
        if "hmo" in lines.columns
        else pd.Series(False, index=lines.index)
    )
    known = st.isin(list(table)) & lines["plan_type"].astype("str").eq("fully_insured")
    sub = pd.to_datetime(lines["submitted_date"])
    paid_on = pd.to_datetime(lines["paid_date"])
    days_allowed = pd.Series(np.nan, index=lines.index)
    rate = pd.Series(0.0, index=lines.index)
    due = pd.Series(pd.NaT, index=lines.index, dtype="datetime64[us]")
    kind = "electronic" if electronic else "paper"
    for (state, regulator, is_hmo), idx in (
        pd.DataFrame({"s": st, "r": reg, "h": hmo})[known].groupby(["s", "r", "h"]).groups.items()
    ):
        row = prompt_pay_row(table, state, regulator)
        if row is None:
            continue
        n = int(row["hmo_days"] if is_hmo and row.get("hmo_days") else row[f"{kind}_days"])
        unit = str(row.get(f"{kind}_unit") or "calendar")
        days_allowed[idx] = n
        rate[idx] = float(row.get("annual_interest_rate") or 0.0)
        if unit == "calendar":
            due[idx] = (sub[idx] + pd.Timedelta(days=n)).astype("datetime64[us]")
        elif unit in ("working", "business"):
            due[idx] = bd.add_business_days_series(sub[idx], n).astype("datetime64[us]")
        else:
            raise ValueError(
                f"state_surprise_billing.yaml: prompt_pay.{state}.{kind}_unit {unit!r} is not "
                "calendar, working or business"
            )
    late = (paid_on - due).dt.days.where(known & (lines["paid"] > 0)).fillna(0).clip(lower=0)
    interest = (lines["paid"].fillna(0.0) * rate.fillna(0.0) * late / 365.0).round(2)
    return pd.DataFrame(
        {
            "prompt_pay_state": known,
            "prompt_pay_days": days_allowed.where(known),
            "days_late": late.astype("int64"),
            "prompt_pay_interest": interest.where(known, 0.0).astype("float64"),
        },
        index=lines.index,
    )
