"""No Surprises Act engine: which claims the NSA protects, its clocks, IDR eligibility and batching.

Everything here is provider-side and federal unless a state table row says a specified state
law governs. Clocks run on the federal business-day calendar of
:mod:`oonplaybook.reference.calendar` (start day counts as day 1 when it is a business day).
Sources are cited next to each constant: the regulation itself, or a section of the
project's domain notes, docs/domain.md.

Public API (stable; the playbook builds on it):

* :func:`deadlines` -> :class:`NsaDeadlines` -- the open negotiation / IDR / cooling-off / ERISA
  clocks for one claim.
* :func:`appeal_deadlines` -> :class:`AppealDeadlines` -- internal appeal, external review,
  contract window and state prompt-pay clock for a denial.
* :func:`assess_claims` -- one row per claim: NSA basis, notice-and-consent validity, state law,
  IDR eligibility (+ reasons), deadlines, days left, patient cost-share cap.
* :func:`idr_code_group` / :func:`batch_disputes` -- the IDR batching groups and batch ids.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from oonplaybook.reference import calendar as bd
from oonplaybook.reference import codes as rc
from oonplaybook.reference.code_families import code_families
from oonplaybook.reference.idr_groups import (  # noqa: F401  (re-exported: nsa's public API)
    IDR_CODE_GROUP_HCPCS,
    IDR_CODE_GROUP_RANGES,
    IDR_CODE_GROUPS,
    idr_code_group,
    idr_code_groups,
)
from oonplaybook.reference.rule_versions import batch_max_lines, nsa_effective_date, rule_version
from oonplaybook.reference.state_table import (  # noqa: F401  (re-exported: nsa's public API)
    NSA_BASES,
    STATE_DEADLINE_NOT_ENCODED,
    load_state_table,
    prompt_pay_due,
    prompt_pay_row,
    state_dispute_deadlines,
)
from oonplaybook.specialties import ancillary_specialties

# --- clock constants (docs/domain.md §1.5, §1.6, §1.9, §4.3) -------------------------------------

#: Open negotiation notice due within 30 BD beginning on the day the initial payment or denial
#: is received (45 CFR 149.510(b)(1)(ii)(B); 42 U.S.C. 300gg-111(c)(1)(A)).
OPEN_NEGOTIATION_INITIATE_BD = 30
#: The open negotiation period is 30 BD beginning on the day the notice is first sent
#: (45 CFR 149.510(b)(1)(ii)(B)).
OPEN_NEGOTIATION_PERIOD_BD = 30
#: IDR may be initiated "during the 4-business-day period beginning on the 31st business day
#: after the start of the open negotiation period" (45 CFR 149.510(b)(2)(i);
#: 42 U.S.C. 300gg-111(c)(1)(B)).
IDR_INITIATION_WINDOW_BD = 4
#: No new IDR against the same party for the same/similar items for 90 calendar days after a
#: determination (45 CFR 149.510(c)(4)(vii)(B); 42 U.S.C. 300gg-111(c)(5)(E)(ii)).
COOLING_OFF_CD = 90
#: Items whose open negotiation ended during cooling-off may be submitted "during the
#: 30-business-day period beginning on the day after the last day of the 90-calendar-day
#: suspension period" (45 CFR 149.510(c)(4)(vii)(C); 42 U.S.C. 300gg-111(c)(5)(E)(iii)).
COOLING_OFF_SUBMIT_BD = 30
#: ERISA group health plans must allow at least 180 days after receipt of an adverse benefit
#: determination to appeal (29 CFR 2560.503-1(h)(3)(i)). Counted in calendar days with no
#: weekend roll (the regulation gives none; an earlier date is the safe reading).
ERISA_INTERNAL_APPEAL_DAYS = 180
#: External review request due 4 months after receipt of the (final) adverse determination;
#: no corresponding date -> 1st of the 5th month; weekend/federal holiday -> next business day
#: (29 CFR 2590.715-2719(d)(2)(i); 45 CFR 147.136(d)(2)(i)). States must allow >= 4 months
#: (29 CFR 2590.715-2719(c)(2)(vi)).
EXTERNAL_REVIEW_MONTHS = 4


@dataclass(frozen=True)
class NsaDeadlines:
    """The NSA clocks for one claim (dates; ``to_dict`` gives ISO strings).

    ``notice_date_assumed`` is True when no notice date was given and the period was computed
    from the latest allowed notice date (``open_negotiation_initiate_by``): the outer bound.
    """

    open_negotiation_initiate_by: date
    open_negotiation_period_end: date
    idr_window_start: date
    idr_initiate_by: date
    notice_date_assumed: bool = True
    cooling_off_end: date | None = None
    cooling_off_idr_initiate_by: date | None = None
    erisa_internal_appeal_by: date | None = None

    def to_dict(self) -> dict[str, str]:
        """ISO-formatted dates; optional clocks only when their input was given."""
        out: dict[str, str] = {}
        for k, v in asdict(self).items():
            if isinstance(v, date):
                out[k] = v.isoformat()
        return out


def deadlines(
    initial_payment_date: date,
    notice_date: date | None = None,
    determination_date: date | None = None,
    denial_date: date | None = None,
) -> NsaDeadlines:
    """The open negotiation, IDR, cooling-off and ERISA appeal dates for one claim.

    * ``open_negotiation_initiate_by`` = day 30 of the 30-BD period beginning on the day the
      initial payment (or denial) is received.
    * ``open_negotiation_period_end`` = day 30 of the 30-BD period beginning on ``notice_date``
      (or, when not given, on ``open_negotiation_initiate_by``: the latest possible schedule).
    * ``idr_window_start`` = the 31st business day = the business day after the period end;
      ``idr_initiate_by`` = day 4 of the window.
    * ``cooling_off_end`` = determination + 90 calendar days (last suspended day);
      ``cooling_off_idr_initiate_by`` = day 30 of the 30-BD period beginning the day after.
    * ``erisa_internal_appeal_by`` = denial + 180 calendar days.
    """
    ipd = bd._as_date(initial_payment_date)
    initiate_by = bd.business_day_period_end(ipd, OPEN_NEGOTIATION_INITIATE_BD)
    if notice_date is not None:
        nd = bd._as_date(notice_date)
        if nd < ipd:
            raise ValueError(
                f"notice date {nd} is before the initial payment/denial date {ipd}; "
                "open negotiation starts after the payment or denial is received"
            )
        assumed = False
    else:
        nd, assumed = initiate_by, True
    period_end = bd.business_day_period_end(nd, OPEN_NEGOTIATION_PERIOD_BD)
    window_start = bd.next_business_day(period_end)
    idr_by = bd.business_day_period_end(window_start, IDR_INITIATION_WINDOW_BD)
    cool_end = cool_by = erisa = None
    if determination_date is not None:
        det = bd._as_date(determination_date)
        cool_end = bd.add_calendar_days(det, COOLING_OFF_CD)
        cool_by = bd.business_day_period_end(
            bd.add_calendar_days(cool_end, 1), COOLING_OFF_SUBMIT_BD
        )
    if denial_date is not None:
        erisa = bd.add_calendar_days(bd._as_date(denial_date), ERISA_INTERNAL_APPEAL_DAYS)
    return NsaDeadlines(
        open_negotiation_initiate_by=initiate_by,
        open_negotiation_period_end=period_end,
        idr_window_start=window_start,
        idr_initiate_by=idr_by,
        notice_date_assumed=assumed,
        cooling_off_end=cool_end,
        cooling_off_idr_initiate_by=cool_by,
        erisa_internal_appeal_by=erisa,
    )


@dataclass(frozen=True)
class IdrTimeline:
    """Clocks after IDR initiation (45 CFR 149.510(c); docs/domain.md §1.6), as dates."""

    initiation_date: date
    idre_selection_by: date  # parties jointly select within 3 BD after initiation
    departments_select_by: date  # random selection if they fail: within 6 BD of initiation
    offers_due_by: date | None  # 10 BD after IDRE selection
    determination_by: date | None  # 30 BD after IDRE selection
    payment_due_by: date | None  # 30 CD after the determination
    idre_fee_refund_by: date | None  # 30 BD after the determination (prevailing party)

    def to_dict(self) -> dict[str, str | None]:
        """ISO dates (None when the triggering date is not known yet)."""
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(self).items()}


def idr_timeline(
    initiation_date: date,
    idre_selected_date: date | None = None,
    determination_date: date | None = None,
) -> IdrTimeline:
    """Post-initiation IDR clocks: selection, offers, determination, payment, fee refund.

    Selection: 3 BD after initiation (45 CFR 149.510(c)(1)(i)), else the Departments select
    within 6 BD of initiation ((c)(1)(iv)). Offers: not later than 10 BD after selection
    ((c)(4)(i)); determination: 30 BD after selection ((c)(4)(ii)); payment 30 CD after the
    determination ((c)(4)(ix)); IDRE fee refund 30 BD after it ((d)(1)(ii)). "After" counts
    from the next business day (:func:`calendar.add_business_days`). Whether CMS-9897-F re-keys
    the offer/decision clocks is [unverified] (docs/domain.md §8).
    """
    init = bd._as_date(initiation_date)
    sel = bd._as_date(idre_selected_date) if idre_selected_date else None
    det = bd._as_date(determination_date) if determination_date else None
    return IdrTimeline(
        initiation_date=init,
        idre_selection_by=bd.add_business_days(init, 3),
        departments_select_by=bd.add_business_days(init, 6),
        offers_due_by=bd.add_business_days(sel, 10) if sel else None,
        determination_by=bd.add_business_days(sel, 30) if sel else None,
        payment_due_by=bd.add_calendar_days(det, 30) if det else None,
        idre_fee_refund_by=bd.add_business_days(det, 30) if det else None,
    )


# --- IDR batching code groups: see oonplaybook.reference.idr_groups (re-exported here) ---------


def batch_disputes(
    disputes: pd.DataFrame,
    *,
    max_lines: int | None = None,
    window_business_days: int = 30,
    rule_date: date | None = None,
    rule_overrides: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Assign IDR ``batch_id`` to dispute lines: same provider, payer, code group and window.

    Lines batch together when they share the billing TIN (else the NPI), the payer
    (``payer_id``, else ``payer``; plus ``plan_id`` when given, since for self-funded business
    the "same payer" is the same group health plan, docs/domain.md §1.8-1.9), the :func:`idr_code_group` of ``cpt``, and their
    ``service_date`` falls within ``window_business_days`` business days beginning on the
    earliest item of the batch (day 1 = that item's date; 45 CFR 149.510(c)(3)(i)(D)). Line
    limit: ``max_lines`` when given; else the rule version in force on ``rule_date`` (the
    dispute date): no limit under the 2022 rules (Reed Smith, Nov 2023: "there is currently no
    limit on the number of services that may be batched"; 25 is only where the batched IDRE fee
    tiers start, CMS-9890-F), 50 once CMS-9897-F batching applies (:mod:`oonplaybook.rules`;
    ``rule_overrides`` moves its applicability date). Rows with ``idr_eligible == False``
    are kept with an empty ``batch_id`` and the reason in ``batch_note`` (never dropped).
    Deterministic: batch ids follow the sorted keys and dates. Adds batch_id, batch_key,
    idr_code_group, batch_window_end, batch_lines, batch_seq, batch_note.
    """
    if max_lines is None and rule_date is not None:
        max_lines = batch_max_lines(rule_date, rule_overrides)
    if (max_lines is not None and max_lines < 1) or window_business_days < 1:
        raise ValueError("max_lines and window_business_days must be >= 1")
    cap = max_lines if max_lines is not None else np.iinfo(np.int64).max // 4
    need = {"cpt", "service_date"}
    missing = need - set(disputes.columns)
    if missing:
        raise KeyError(f"batch_disputes needs columns {sorted(missing)}")
    out = disputes.copy()
    n = len(out)

    def _col(name: str) -> pd.Series:
        if name in out.columns:
            return out[name].astype("str").fillna("")
        return pd.Series([""] * n, index=out.index, dtype="str")

    tin, npi = _col("provider_tin"), _col("provider_npi")
    prov = ("TIN:" + tin).where(tin.ne(""), "NPI:" + npi)
    pid, pname = _col("payer_id"), _col("payer")
    payer = pid.where(pid.ne(""), pname)
    if "plan_id" in out.columns:  # self-funded: the same group health plan, not just the TPA
        plan = _col("plan_id")
        payer = payer + ("/" + plan).where(plan.ne(""), "")
    out["idr_code_group"] = idr_code_groups(out["cpt"])
    out["batch_key"] = (prov + "|" + payer + "|" + out["idr_code_group"]).astype("str")
    sd = pd.to_datetime(out["service_date"])
    eligible = pd.Series(True, index=out.index)
    if "idr_eligible" in out.columns:
        eligible = out["idr_eligible"].fillna(False).astype(bool)
    eligible &= sd.notna()
    out["batch_id"] = ""
    out["batch_note"] = ""
    out.loc[~eligible & sd.isna(), "batch_note"] = "no service date: cannot place in a window"
    if "idr_eligible" in out.columns:
        out.loc[~out["idr_eligible"].fillna(False).astype(bool), "batch_note"] = (
            "not IDR-eligible: see idr_ineligible_reasons"
        )
    out["batch_window_end"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[us]")
    # sort eligible rows by (key, date, claim, line) with integer codes, then walk the batch
    # starts only (one step per batch, not per line) using searchsorted on each key segment
    pos = np.flatnonzero(eligible.to_numpy())
    kcodes, _ = pd.factorize(out["batch_key"].to_numpy()[pos], sort=True)
    dnum = sd.to_numpy("datetime64[us]")[pos].astype(np.int64)
    tie = [np.arange(len(pos))]
    if "line_no" in out.columns:
        tie.insert(0, out["line_no"].to_numpy()[pos])
    if "claim_id" in out.columns:
        tie.insert(0, pd.factorize(out["claim_id"].astype("str").to_numpy()[pos], sort=True)[0])
    srt = np.lexsort(tuple(reversed([kcodes, dnum, *tie])))
    rows, kk, dd = pos[srt], kcodes[srt], dnum[srt]
    wend = bd.period_end_series(pd.Series(dd.astype("datetime64[us]")), window_business_days)
    wend = wend.to_numpy("datetime64[us]").astype(np.int64)
    seg_start = np.flatnonzero(np.r_[True, kk[1:] != kk[:-1]]) if len(kk) else np.array([], int)
    seg_end = np.r_[seg_start[1:], len(kk)] if len(kk) else np.array([], int)
    starts: list[int] = []
    for a, z in zip(seg_start.tolist(), seg_end.tolist(), strict=True):
        i = a
        while i < z:
            starts.append(i)
            last = int(np.searchsorted(dd[i:z], wend[i], side="right")) + i
            i = min(last, i + cap)
    starts_arr = np.array(starts, dtype=np.int64)
    sizes = np.diff(np.r_[starts_arr, len(kk)]).astype(np.int64)
    batch_no = np.repeat(np.arange(len(starts_arr)), sizes)
    labels = pd.array([f"IDR-{b + 1:06d}" for b in range(len(starts_arr))], dtype="str")
    bid = np.full(len(out), -1, dtype=np.int64)
    bid[rows] = batch_no
    ids = pd.Series(pd.array([""], dtype="str").take(np.zeros(len(out), dtype=np.int64)))
    if len(rows):
        ids.iloc[rows] = labels.take(batch_no)
    out["batch_id"] = ids.set_axis(out.index).astype("str")
    ends = np.full(len(out), np.iinfo(np.int64).min, dtype=np.int64)
    ends[rows] = wend[starts_arr][batch_no] if len(rows) else ends[rows]
    out["batch_window_end"] = pd.Series(ends.astype("datetime64[us]"), index=out.index)
    lines_per = np.zeros(len(out), dtype=np.int64)
    lines_per[rows] = sizes[batch_no] if len(rows) else lines_per[rows]
    out["batch_lines"] = lines_per
    seq = np.zeros(len(out), dtype=np.int64)
    if len(rows):
        seq[rows] = np.arange(len(rows)) - np.repeat(starts_arr, sizes) + 1
    out["batch_seq"] = seq
    return out


# --- state table ------------------------------------------------------------------------------

# NSA_BASES, load_state_table: see oonplaybook.reference.state_table (re-exported above)


# --- appeal deadlines (docs/domain.md §4.3) ---------------------------------------------------------

#: Plan types whose internal appeals follow 29 CFR 2560.503-1 (ERISA employer plans, insured
#: or self-funded) or the same 180-day floor via 45 CFR 147.136(b) (individual market and
#: non-federal governmental plans).
ERISA_ACA_PLAN_TYPES = frozenset({"fully_insured", "self_funded_erisa", "self_funded_non_erisa"})

#: Denial groups where federal external review is available: the one shared set of
#: ``reference.codes`` (medical judgment, rescission, NSA compliance; 29 CFR
#: 2590.715-2719(d)(1)); see ``rc.external_review_eligible`` for the argued-only groups.
EXTERNAL_REVIEW_GROUPS = rc.EXTERNAL_REVIEW_GROUPS


@dataclass(frozen=True)
class AppealDeadlines:
    """Appeal clocks for one adverse determination, with the rule behind each."""

    denial_date: date
    plan_type: str
    internal_appeal_by: date
    internal_appeal_rule: str
    contract_appeal_by: date
    appeal_by: date  # the earlier of the two: the date to work to
    external_review_by: date | None
    external_review_rule: str
    prompt_pay_due: date | None
    prompt_pay_interest_annual: float | None
    prompt_pay_rule: str

    def to_dict(self) -> dict[str, Any]:
        """Plain types (ISO dates) for JSON/CSV."""
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(self).items()}


def appeal_deadlines(
    denial_date: date,
    plan_type: str,
    *,
    contract_days: int = 180,
    state: str | None = None,
    claim_received_date: date | None = None,
    electronic: bool = True,
    state_table: dict[str, Any] | None = None,
    regulator: str = "",
    hmo: bool = False,
) -> AppealDeadlines:
    """Internal appeal, contract, external review and prompt-pay dates for one denial.

    * ERISA/ACA plans: internal appeal within 180 calendar days of receipt of the adverse
      determination (29 CFR 2560.503-1(h)(3)(i); 45 CFR 147.136(b)); other plan types use the
      plan/contract window ``contract_days``.
    * ``appeal_by`` = the earlier of that and ``contract_days`` (provider contract / plan
      document window, configurable; commonly 90-365 days, docs/domain.md §4.3).
    * External review: 4 months after the final internal adverse determination, computed here
      from ``denial_date`` as if it were final (29 CFR 2590.715-2719(d)(2)(i); no
      corresponding day -> 1st of the 5th month; weekend/holiday -> next business day).
    * Prompt pay (fully insured plans only; ERISA self-funded plans are outside state law):
      ``claim_received_date`` + the state's clean-claim days in the row's day unit (calendar,
      working or business), with its interest rate; ``regulator`` picks a variant (CA
      ``dmhc``; ``hmo`` for its 45 working days), else the row itself (CA: CDI insurers).
    """
    den = bd._as_date(denial_date)
    if contract_days < 1:
        raise ValueError(f"contract_days must be >= 1, got {contract_days}")
    if plan_type in ERISA_ACA_PLAN_TYPES:
        internal = bd.add_calendar_days(den, ERISA_INTERNAL_APPEAL_DAYS)
        rule = "180 calendar days (29 CFR 2560.503-1(h)(3)(i); 45 CFR 147.136(b))"
    else:
        internal = bd.add_calendar_days(den, contract_days)
        rule = f"plan/contract window of {contract_days} days ({plan_type}: not an ERISA/ACA plan)"
    contract = bd.add_calendar_days(den, contract_days)
    ext_by, ext_rule = None, "not available for this plan type"
    if plan_type in ERISA_ACA_PLAN_TYPES:
        ext_by = bd.roll_forward(bd.add_months(den, EXTERNAL_REVIEW_MONTHS))
        ext_rule = (
            "4 months after the final internal adverse determination, next business day if "
            "it falls on a weekend/holiday (29 CFR 2590.715-2719(d)(2)(i)); medical-judgment "
            "denials only"
        )
    pp_due, pp_rate, pp_rule = None, None, "no prompt-pay clock (not a fully insured plan)"
    if plan_type == "fully_insured" and state:
        table = (state_table or load_state_table())["prompt_pay"]
        row = table.get(state)
        if row is None:
            pp_rule = f"{state}: not in the prompt-pay table; add it to state_surprise_billing.yaml"
        elif claim_received_date is None:
            pp_rule = f"{state}: give claim_received_date to compute the prompt-pay due date"
        else:
            row = prompt_pay_row(table, state, regulator) or row
            kind = "electronic" if electronic else "paper"
            days = int(row["hmo_days"] if hmo and row.get("hmo_days") else row[f"{kind}_days"])
            unit = str(row.get(f"{kind}_unit") or "calendar")
            pp_due = prompt_pay_due(bd._as_date(claim_received_date), days, unit)
            pp_rate = row.get("annual_interest_rate")
            pp_rule = (
                f"{state}{'/' + regulator if regulator else ''}: {days} {unit} days for a clean "
                f"{kind} claim; interest {row.get('interest') or 'not captured'}"
                + ("" if row.get("verified") else " [partly verified: check the state statute]")
            )
    return AppealDeadlines(
        denial_date=den,
        plan_type=plan_type,
        internal_appeal_by=internal,
        internal_appeal_rule=rule,
        contract_appeal_by=contract,
        appeal_by=min(internal, contract),
        external_review_by=ext_by,
        external_review_rule=ext_rule,
        prompt_pay_due=pp_due,
        prompt_pay_interest_annual=pp_rate,
        prompt_pay_rule=pp_rule,
    )


def prompt_pay_interest(amount: float, due: date, paid_on: date, annual_rate: float) -> float:
    """Simple interest on a late clean-claim payment from the day after ``due`` to ``paid_on``."""
    days = (bd._as_date(paid_on) - bd._as_date(due)).days
    return round(max(days, 0) * float(amount) * float(annual_rate) / 365.0, 2)


# --- per-claim assessment ---------------------------------------------------------------------

#: Plan types the NSA balance-billing and IDR provisions reach: group health plans and health
#: insurance issuers (42 U.S.C. 300gg-111; 29 U.S.C. 1185e; 26 U.S.C. 9816). Medicare
#: Advantage and Medicaid managed care have their own balance-billing rules; self-pay patients
#: get good-faith estimates instead (45 CFR 149.610). "unknown" is assessed as commercial and
#: flagged.
NSA_PLAN_TYPES = frozenset(
    {"fully_insured", "self_funded_erisa", "self_funded_non_erisa", "unknown"}
)
#: NSA protections apply for plan years beginning on or after 2022-01-01 (Marsh McLennan
#: Agency 2021-11-23; Naviguard). With a ``plan_year_start`` column the claim's own first NSA
#: plan year is used (:func:`oonplaybook.rules.nsa_effective_date`); without it, this date.
NSA_EFFECTIVE = pd.Timestamp("2022-01-01")


def _plan_year_effective(plan_year_start: str) -> date:
    """First NSA day for a plan-year start text ("" or unparseable -> 2022-01-01)."""
    txt = str(plan_year_start or "").strip()
    if not txt or txt.lower() in ("nan", "nat", "none"):
        return nsa_effective_date(None)
    try:
        return nsa_effective_date(pd.Timestamp(txt).date())
    except (ValueError, TypeError):
        return nsa_effective_date(None)


#: Code families whose services are ancillary under 42 U.S.C. 300gg-132(b)(2): anesthesiology,
#: radiology, pathology/laboratory and other diagnostic services, neonatology, intensivists
#: (critical care). Assistant surgeons are caught by modifiers 80/81/82/AS.
ANCILLARY_FAMILIES = frozenset(
    {
        "anesthesia",
        "radiology_diagnostic",
        "radiology_ultrasound",
        "radiology_other",
        "pathology_lab",
        "neonatal_critical_care",
        "critical_care",
        "neuro_monitoring",
        "neurology_testing",
        "em_emergency",
    }
)
ASSISTANT_SURGEON_MODIFIERS = ("80", "81", "82", "AS")

ASSESSMENT_COLUMNS = (
    "claim_id", "payer", "payer_id", "plan_type", "provider_npi", "provider_tin", "specialty",
    "state", "service_date", "remit_date", "n_lines", "billed", "allowed", "paid",
    "patient_resp", "qpa", "claim_status", "primary_carc", "primary_rarc", "denial_reason_group",
    "nsa_basis", "ancillary", "nsa_applies", "nsa_note", "notice_consent",
    "notice_consent_valid", "notice_consent_reason", "state_law_governs", "state_law",
    "idr_eligible", "idr_ineligible_reasons", "improper_under_nsa", "improper_reason",
    "qpa_disclosed", "open_negotiation_initiate_by", "open_negotiation_period_end",
    "idr_window_start", "idr_initiate_by", "appeal_by", "next_deadline", "next_deadline_kind",
    "days_left", "business_days_left", "deadline_passed", "recognized_amount",
    "patient_cost_share_cap", "patient_resp_exceeds_cap", "patient_resp_excess",
    "balance_bill_allowed", "balance_bill_reason",
)  # fmt: skip


def _col(df: pd.DataFrame, name: str, default: Any) -> pd.Series:
    if name in df.columns:
        return df[name]
    return pd.Series([default] * len(df), index=df.index)


def _str_codes(codes: np.ndarray, cats: np.ndarray) -> pd.Series:
    """A ``str`` Series from integer codes into a small array of texts (fast for 1M rows)."""
    uniq, inv = np.unique(np.asarray(cats, dtype=object).astype(str), return_inverse=True)
    codes = np.asarray(codes, dtype=np.int64)
    return pd.Series(pd.array(uniq, dtype="str").take(inv[codes]))


def _choose(conds: list[Any], choices: list[str], default: str) -> pd.Series:
    """Like ``np.select`` for texts, without building a wide unicode array per row."""
    idx = np.select(
        [np.asarray(c, dtype=bool) for c in conds], list(range(len(choices))), len(choices)
    )
    cats = list(dict.fromkeys(choices + [default]))
    remap = np.array([cats.index(t) for t in choices + [default]])
    return _str_codes(remap[idx], np.array(cats, dtype=object))


def _reasons(conds: list[tuple[Any, str]], n: int) -> pd.Series:
    """Row-wise '; '-joined texts of the true conditions (bitmask, one join per combination)."""
    mask = np.zeros(n, dtype=np.int64)
    for bit, (cond, _) in enumerate(conds):
        mask |= np.asarray(cond, dtype=bool).astype(np.int64) << bit
    uniq, inv = np.unique(mask, return_inverse=True)
    texts = ["; ".join(t for b, (_, t) in enumerate(conds) if (u >> b) & 1) for u in uniq]
    cats = list(dict.fromkeys(texts))
    return _str_codes(np.array([cats.index(t) for t in texts])[inv], np.array(cats, dtype=object))


def _pick(values: pd.Series, rows: np.ndarray) -> np.ndarray:
    return values.to_numpy()[rows]


def assess_claims(
    claim_lines: pd.DataFrame,
    *,
    state_table: dict[str, Any] | None = None,
    as_of: date,
    in_network_coinsurance: float | None = None,
    contract_days: int = 180,
) -> pd.DataFrame:
    """One row per claim: NSA protection, consent, state law, IDR eligibility, clocks, patient cap.

    * ``nsa_basis``: ``air_ambulance`` > ``emergency`` > at an in-network facility
      (``ancillary_at_in_network_facility`` when any line is an ancillary service, else
      ``non_emergency_at_in_network_facility``) > ``none`` (42 U.S.C. 300gg-111(a), (b);
      300gg-131, 300gg-132). The basis describes the situation; ``nsa_applies`` adds plan
      type, effective date and consent.
    * ``notice_consent_valid`` only for non-emergency, non-ancillary services at an in-network
      facility without an unforeseen urgent need (300gg-132(b)-(c); 45 CFR 149.420); a signed
      consent elsewhere is reported as invalid with the reason.
    * ``state_law_governs``: fully insured plan (or an opted-in self-funded plan, column
      ``state_law_opt_in``) in an enabled state whose law covers the basis (state table).
    * ``idr_eligible`` with ``idr_ineligible_reasons`` (all that apply, "; "-joined).
    * Clocks from ``remit_date`` (:func:`deadlines`; notice date from column
      ``open_negotiation_notice_date`` when present, else the latest schedule), ``appeal_by``
      (:func:`appeal_deadlines` rule), ``next_deadline`` (for ``state_process`` claims the
      state's filing clock, :func:`oonplaybook.rules.state_dispute_deadline`; NaT with
      "state deadline not encoded; check" in ``nsa_note`` where the table has none), ``days_left``
      (calendar days from
      ``as_of``), ``business_days_left`` (business days after ``as_of`` through the deadline),
      ``deadline_passed``. Nothing is dropped: passed deadlines stay with their dates.
    * Patient protection: ``recognized_amount`` = lesser of QPA and billed (45 CFR 149.30)
      unless state law governs; ``patient_cost_share_cap`` = recognized amount x in-network
      coinsurance when known (argument or column ``in_network_coinsurance``), else the
      recognized amount itself (an upper bound: cost sharing never exceeds it).
    """
    need = {"claim_id", "cpt"}
    missing = need - set(claim_lines.columns)
    if missing:
        raise KeyError(f"assess_claims needs claim-line columns {sorted(missing)}")
    asof = pd.Timestamp(as_of)
    table = state_table if state_table is not None else load_state_table()
    sb = table.get("surprise_billing", table)
    # sort lines by (claim, line) and give each claim an integer key 0..n-1 (claim_id order);
    # columns are reordered one at a time (never the whole frame) to keep 1M-line runs fast
    cl_all = claim_lines
    kc, claim_ids = pd.factorize(cl_all["claim_id"].astype("str"), sort=True)
    line_no = _col(cl_all, "line_no", 0).to_numpy()
    order = np.lexsort((line_no, kc))
    k = kc[order]
    n = len(claim_ids)
    first = np.flatnonzero(np.r_[True, k[1:] != k[:-1]]) if len(k) else np.array([], int)
    first_rows = order[first]  # original row of each claim's first line

    def line(name: str, default: Any) -> pd.Series:
        """Column ``name`` in (claim, line) order (default when absent)."""
        col = _col(cl_all, name, default)
        return col.iloc[order].reset_index(drop=True)

    def head(name: str, default: str) -> pd.Series:
        """Column ``name`` at each claim's first line, as str."""
        return _col(cl_all, name, default).astype("str").iloc[first_rows].reset_index(drop=True)

    def flag(name: str) -> np.ndarray:
        return _col(cl_all, name, False).fillna(False).to_numpy(bool)[order]

    cpt_codes, cpt_uniq = rc.factorize_str(cl_all["cpt"])
    fam_uniq = code_families(pd.Series(cpt_uniq, dtype="str")).to_numpy(dtype=object)
    fam = fam_uniq[cpt_codes[order]] if len(cpt_uniq) else np.array([], dtype=object)
    mod_codes, mod_uniq = rc.factorize_str(_col(cl_all, "modifiers", ""))
    assist_u = np.array(
        [bool(set(str(m).split(":")) & set(ASSISTANT_SURGEON_MODIFIERS)) for m in mod_uniq]
    )
    assistant = assist_u[mod_codes[order]] if len(mod_uniq) else np.zeros(len(k), bool)
    spec_codes, spec_uniq = rc.factorize_str(_col(cl_all, "specialty", ""))
    anc_spec = np.isin(spec_uniq, list(ancillary_specialties()))
    anc = np.isin(fam, list(ANCILLARY_FAMILIES)) | assistant | anc_spec[spec_codes[order]]
    air = flag("air_ambulance") | (fam == "air_ambulance")
    st_codes, st_uniq = rc.factorize_str(_col(cl_all, "claim_status", ""))
    status = st_uniq[st_codes[order]]
    carc_codes, carc_uniq = rc.factorize_str(_col(cl_all, "carc", ""))
    rarc_codes, rarc_uniq = rc.factorize_str(_col(cl_all, "rarc", ""))
    carc_k, rarc_k = carc_codes[order], rarc_codes[order]
    nsa_rarc_u = np.array([bool(set(str(r).split(":")) & rc.NSA_RARCS) for r in rarc_uniq])
    nsa_rarc = nsa_rarc_u[rarc_k] if len(rarc_uniq) else np.zeros(len(k), bool)

    def b_any(x: np.ndarray) -> np.ndarray:
        return np.bincount(k, weights=x.astype(np.float64), minlength=n) > 0

    def b_sum(x: pd.Series) -> np.ndarray:
        v = pd.to_numeric(x).to_numpy(np.float64)
        tot = np.bincount(k, weights=np.nan_to_num(v), minlength=n)
        cnt = np.bincount(k, weights=(~np.isnan(v)).astype(np.float64), minlength=n)
        return np.where(cnt > 0, tot, np.nan)

    def b_min_date(x: pd.Series) -> pd.Series:
        big = np.iinfo(np.int64).max
        nat = np.iinfo(np.int64).min
        v = pd.to_datetime(x).to_numpy("datetime64[us]").astype(np.int64)
        v = np.where(v == nat, big, v)
        out = np.full(n, big, dtype=np.int64)
        np.minimum.at(out, k, v)
        out = np.where(out == big, nat, out)
        return pd.Series(out.astype("datetime64[us]"))

    def b_first_code(codes: np.ndarray, uniq: np.ndarray) -> np.ndarray:
        """Per claim, the first line's code whose text is non-empty (-1 when none)."""
        empty = np.flatnonzero(uniq == "")
        ok = ~np.isin(codes, empty)
        res = np.full(n, -1, dtype=np.int64)
        idx = np.flatnonzero(ok)
        if len(idx):
            kk, pos = np.unique(k[idx], return_index=True)
            res[kk] = codes[idx[pos]]
        return res

    def texts(codes: np.ndarray, uniq: np.ndarray) -> pd.Series:
        cats = np.append(uniq, "").astype(object)
        return _str_codes(np.where(codes < 0, len(uniq), codes), cats)

    n_lines = np.bincount(k, minlength=n)
    carc_first = b_first_code(carc_k, carc_uniq)
    rarc_first = b_first_code(rarc_k, rarc_uniq)
    c = pd.DataFrame(
        {
            "claim_id": pd.Series(pd.array(np.asarray(claim_ids, dtype=object), dtype="str")),
            "payer": head("payer", ""),
            "payer_id": head("payer_id", ""),
            "plan_type": head("plan_type", "unknown"),
            "provider_npi": head("provider_npi", ""),
            "provider_tin": head("provider_tin", ""),
            "specialty": head("specialty", ""),
            "state": head("state", ""),
            "n_lines": n_lines,
            # ground ambulance is outside the NSA even in an emergency (Naviguard; docs/domain.md §1.1)
            "emergency": b_any(flag("emergency") & (fam != "ground_ambulance")),
            "ground": ~b_any(fam != "ground_ambulance"),
            "fin": b_any(flag("facility_in_network")),
            "air": b_any(air),
            "anc": b_any(anc),
            "notice_consent": ~b_any(~flag("notice_consent")),
            "urgent": b_any(flag("unforeseen_urgent")),
            "opt_in": b_any(flag("state_law_opt_in")),
            "n_denied": np.bincount(k, weights=(status == "denied").astype(float), minlength=n),
            "any_paid": b_any(status == "paid"),
            "all_pending": ~b_any(status != "pending"),
            "nsa_rarc": b_any(nsa_rarc),
            "coins": b_sum(line("in_network_coinsurance", np.nan)) / np.maximum(n_lines, 1),
            "primary_carc": texts(carc_first, carc_uniq),
            "primary_rarc": texts(rarc_first, rarc_uniq),
        }
    )
    c["service_date"] = b_min_date(line("service_date", pd.NaT))
    c["remit_date"] = b_min_date(line("remit_date", pd.NaT))
    c["notice_date"] = b_min_date(line("open_negotiation_notice_date", pd.NaT))
    for m in ("billed", "allowed", "paid", "patient_resp", "qpa"):
        c[m] = b_sum(line(m, np.nan))
    # recognized amount per line (lesser of QPA and billed, 45 CFR 149.30), summed per claim;
    # NaN when any line lacks a QPA (the cap is then unknown, not guessed)
    qpa_l = pd.to_numeric(line("qpa", np.nan)).to_numpy(np.float64)
    billed_l = pd.to_numeric(line("billed", np.nan)).to_numpy(np.float64)
    rec_l = np.fmin(qpa_l, billed_l)
    c["recognized"] = np.where(
        b_any(np.isnan(qpa_l)), np.nan, np.bincount(k, weights=np.nan_to_num(rec_l), minlength=n)
    )
    c["claim_status"] = _choose(
        [c["n_denied"].eq(c["n_lines"]), c["any_paid"], c["all_pending"]],
        ["denied", "paid", "pending"],
        "other",
    )
    c["denial_reason_group"] = rc.denial_reason_groups(
        c["primary_carc"].astype("str"), c["primary_rarc"].astype("str")
    ).to_numpy()

    # --- basis, consent, applicability -------------------------------------------------------
    c["nsa_basis"] = _choose(
        [c["air"], c["emergency"], c["fin"] & c["anc"], c["fin"]],
        [
            "air_ambulance",
            "emergency",
            "ancillary_at_in_network_facility",
            "non_emergency_at_in_network_facility",
        ],
        "none",
    )
    c["ancillary"] = c["anc"]
    basis = c["nsa_basis"]
    consent = c["notice_consent"]
    c["notice_consent_valid"] = (
        consent & basis.eq("non_emergency_at_in_network_facility") & ~c["urgent"]
    )
    c["notice_consent_reason"] = _choose(
        [
            ~consent,
            c["notice_consent_valid"],
            basis.eq("emergency"),
            basis.eq("air_ambulance"),
            basis.eq("ancillary_at_in_network_facility"),
            c["urgent"],
        ],
        [
            "",
            "valid: non-emergency, non-ancillary service at an in-network facility "
            "(45 CFR 149.420(c)); keep the signed form 7 years (42 U.S.C. 300gg-132(e))",
            "invalid: consent cannot waive protection for emergency services (42 U.S.C. 300gg-132(a))",
            "invalid: no notice-and-consent exception for air ambulance (42 U.S.C. 300gg-112)",
            "invalid: ancillary service (emergency medicine, anesthesiology, pathology, radiology, "
            "neonatology, assistant surgeon, hospitalist, intensivist, diagnostics; "
            "42 U.S.C. 300gg-132(b)(2))",
            "invalid: unforeseen urgent need (42 U.S.C. 300gg-132(c))",
        ],
        "not needed: the service is not NSA-protected",
    )
    plan_ok = c["plan_type"].isin(NSA_PLAN_TYPES)
    # NSA reaches a plan from its first plan year beginning on/after 2022-01-01 (rules.
    # nsa_effective_date); without a plan_year_start column, 2022-01-01
    pys = head("plan_year_start", "")
    eff_map = {v: pd.Timestamp(_plan_year_effective(v)) for v in pd.unique(pys)}
    c["nsa_effective"] = pys.map(eff_map).astype("datetime64[us]")
    effective = c["service_date"].isna() | (c["service_date"] >= c["nsa_effective"])
    c["nsa_applies"] = basis.ne("none") & plan_ok & effective & ~c["notice_consent_valid"]
    c["nsa_note"] = _reasons(
        [
            (c["plan_type"].eq("unknown") & basis.ne("none"),
             "plan type unknown: assessed as commercial; confirm funding"),
            (~effective, "service before the plan's first NSA plan year (plan years "
             "beginning on or after 2022-01-01)"),
            (c["ground"], "ground ambulance: outside the NSA (state law may protect)"),
        ],
        n,
    )  # fmt: skip

    # --- state law -----------------------------------------------------------------------------
    def _law(st: str, b: str, pt: str, oi: str) -> str:
        row = sb.get(st)
        if not row or not row.get("enabled", False) or b not in (row.get("scope") or []):
            return ""
        if pt in (row.get("plan_types") or []) or (
            pt == "self_funded_erisa" and row.get("self_funded_opt_in") and oi == "True"
        ):
            return f"{st}: {row.get('law', '')}"
        return ""

    law = rc.map_unique(_law, c["state"], c["nsa_basis"], c["plan_type"], c["opt_in"].astype("str"))
    law = np.where(c["nsa_applies"], law, "")
    lc, lu = pd.factorize(law)
    c["state_law"] = _str_codes(lc, np.asarray(lu, dtype=object))
    c["state_law_governs"] = c["state_law"].str.len() > 0
    # bifurcated states (HHS applicability chart): the state process for some plans/services,
    # the federal IDR for the rest; a claim assessed as federal there says to confirm it
    bif = table.get("bifurcated_states") or {}
    bif_states = set(bif.get("confirmed") or []) | set(bif.get("unverified") or [])
    in_bif = c["state"].isin(sorted(bif_states)) & c["nsa_applies"] & ~c["state_law_governs"]
    c["nsa_note"] = (
        c["nsa_note"]
        .where(
            ~in_bif,
            (c["nsa_note"] + "; ").where(c["nsa_note"].ne(""), "")
            + "bifurcated state (HHS applicability chart): confirm the federal process applies",
        )
        .astype("str")
    )

    # --- improper denials, QPA disclosure ------------------------------------------------------
    basis_codes, basis_uniq = rc.factorize_str(basis.where(c["nsa_applies"], "none"))
    imp_line = rc.map_unique(
        rc.improper_under_nsa,
        (carc_k, carc_uniq),
        (rarc_k, rarc_uniq),
        (basis_codes[k], basis_uniq),
    )
    imp_codes, imp_uniq = pd.factorize(imp_line)
    imp_uniq = np.asarray(imp_uniq, dtype=object)
    c["improper_reason"] = texts(b_first_code(imp_codes.astype(np.int64), imp_uniq), imp_uniq)
    c["improper_under_nsa"] = c["improper_reason"].str.len() > 0
    c["qpa_disclosed"] = c["qpa"].notna() | c["nsa_rarc"]

    # --- IDR eligibility -----------------------------------------------------------------------
    has_remit = c["remit_date"].notna()
    denied_cov = c["claim_status"].eq("denied") & ~c["denial_reason_group"].isin(
        ["underpayment", rc.NOT_A_DENIAL]
    )
    nsa_ok = c["nsa_applies"]
    c["idr_ineligible_reasons"] = _reasons(
        [
            (basis.eq("none"), "not an NSA-protected service (non-emergency, not at an "
             "in-network facility, not air ambulance)"),
            (basis.ne("none") & ~plan_ok, "plan type outside the NSA's IDR (public program or "
             "self-pay; self-pay uses patient-provider dispute resolution, 45 CFR 149.620)"),
            (basis.ne("none") & ~effective, "service before the NSA took effect for the plan "
             "(first plan year beginning on or after 2022-01-01)"),
            (c["notice_consent_valid"], "valid notice and consent waived NSA protection "
             "(45 CFR 149.420(c))"),
            (c["state_law_governs"], "specified state law governs payment: use the state "
             "process (see state_law)"),
            (nsa_ok & ~has_remit, "no initial payment or denial yet: the open negotiation "
             "clock has not started"),
            (nsa_ok & denied_cov & c["improper_under_nsa"], "improper denial under the NSA: "
             "contest it (appeal citing the rule; No Surprises Help Desk complaint) before "
             "disputing the amount"),
            (nsa_ok & denied_cov & ~c["improper_under_nsa"], "claim denied (see "
             "denial_reason_group): IDR sets the amount of a covered claim; resolve the denial "
             "first"),
        ],
        n,
    )  # fmt: skip
    c["idr_eligible"] = nsa_ok & (c["idr_ineligible_reasons"] == "")

    # --- clocks ----------------------------------------------------------------------------------
    fed = nsa_ok & ~c["state_law_governs"] & has_remit
    rem = c["remit_date"].where(fed)
    on_by = bd.period_end_series(rem, OPEN_NEGOTIATION_INITIATE_BD)
    notice = c["notice_date"].where(fed & c["notice_date"].notna(), on_by)
    period_end = bd.period_end_series(notice, OPEN_NEGOTIATION_PERIOD_BD)
    window = bd.add_business_days_series(period_end, 1)
    idr_by = bd.period_end_series(window, IDR_INITIATION_WINDOW_BD)
    c["open_negotiation_initiate_by"] = on_by
    c["open_negotiation_period_end"] = period_end
    c["idr_window_start"] = window
    c["idr_initiate_by"] = idr_by
    erisa = c["plan_type"].isin(ERISA_ACA_PLAN_TYPES)
    app_days = np.where(erisa, min(ERISA_INTERNAL_APPEAL_DAYS, contract_days), contract_days)
    c["appeal_by"] = (c["remit_date"] + pd.to_timedelta(app_days, unit="D")).astype(
        "datetime64[us]"
    )
    notice_known = c["notice_date"].notna()
    kind = _choose(
        [~has_remit, c["idr_eligible"] & notice_known, c["idr_eligible"], c["state_law_governs"]],
        ["awaiting_remit", "idr_initiation", "open_negotiation_notice", "state_process"],
        "appeal",
    )
    c["next_deadline_kind"] = kind
    # state processes: the state's own filing clock (TX 90 days, Tex. Ins. Code §1467.084(a);
    # NY 3 years, N.Y. FIS §601); NaT and a note where it is not encoded, never the contract
    # window standing in
    state_dl = pd.Series(pd.NaT, index=c.index, dtype="datetime64[us]")
    sp = kind.eq("state_process").to_numpy()
    if sp.any():
        due_sp, _ = state_dispute_deadlines(
            c.loc[sp, "state"], c.loc[sp, "remit_date"], state_table=table
        )
        state_dl[sp] = due_sp.to_numpy()
        no_clock = pd.Series(sp, index=c.index) & state_dl.isna()
        c["nsa_note"] = (
            c["nsa_note"]
            .where(
                ~no_clock,
                (c["nsa_note"] + "; ").where(c["nsa_note"].ne(""), "")
                + STATE_DEADLINE_NOT_ENCODED
                + " ("
                + c["state_law"]
                + ")",
            )
            .astype("str")
        )
    nd = np.where(kind.eq("idr_initiation"), c["idr_initiate_by"].to_numpy("datetime64[us]"),
                  np.where(kind.eq("open_negotiation_notice"),
                           c["open_negotiation_initiate_by"].to_numpy("datetime64[us]"),
                           np.where(kind.eq("appeal"),
                                    c["appeal_by"].to_numpy("datetime64[us]"),
                                    state_dl.to_numpy("datetime64[us]"))))  # fmt: skip
    c["next_deadline"] = pd.Series(nd.astype("datetime64[us]"), index=c.index)
    c["days_left"] = (c["next_deadline"] - asof).dt.days.astype("float64")
    one = pd.Timedelta(days=1)
    c["business_days_left"] = bd.business_days_between_series(
        pd.Series(asof + one, index=c.index), c["next_deadline"] + one
    )
    c["deadline_passed"] = c["days_left"].lt(0).fillna(False).astype(bool)

    # --- patient protections --------------------------------------------------------------------
    c["recognized_amount"] = c["recognized"].where(nsa_ok & ~c["state_law_governs"])
    coins = c["coins"].fillna(
        in_network_coinsurance if in_network_coinsurance is not None else np.nan
    )
    cap = (c["recognized_amount"] * coins).where(coins.notna(), c["recognized_amount"])
    c["patient_cost_share_cap"] = cap
    over = c["patient_resp"] - cap
    c["patient_resp_exceeds_cap"] = (over > 0.005).fillna(False).astype(bool)
    c["patient_resp_excess"] = over.where(c["patient_resp_exceeds_cap"], 0.0).round(2)
    public = c["plan_type"].isin(["medicare_advantage", "medicaid_managed_care"])
    c["balance_bill_allowed"] = ~nsa_ok & ~public
    c["balance_bill_reason"] = _choose(
        [c["state_law_governs"], nsa_ok, public, c["plan_type"].eq("self_pay"),
         c["notice_consent_valid"]],
        ["no: NSA protection applies and state law sets payment (patient owes in-network cost "
         "sharing only)",
         "no: NSA-protected (patient owes in-network cost sharing on the recognized amount; "
         "45 CFR 149.410/149.420)",
         "no: public-program plan (Medicare Advantage / Medicaid balance-billing limits)",
         "yes: self-pay; bill within the good-faith estimate (+$400 triggers patient-provider "
         "dispute eligibility, 45 CFR 149.620)",
         "yes: valid notice and consent on file"],
        "yes: not NSA-protected (check the payer contract and state law)",
    )  # fmt: skip
    out = c[list(ASSESSMENT_COLUMNS)].copy()
    for col in (
        "service_date",
        "remit_date",
        "open_negotiation_initiate_by",
        "open_negotiation_period_end",
        "idr_window_start",
        "idr_initiate_by",
        "appeal_by",
        "next_deadline",
    ):
        out[col] = pd.to_datetime(out[col]).astype("datetime64[us]")
    for col in (
        "claim_id",
        "payer",
        "payer_id",
        "plan_type",
        "provider_npi",
        "provider_tin",
        "specialty",
        "state",
        "claim_status",
        "primary_carc",
        "primary_rarc",
        "denial_reason_group",
        "nsa_basis",
        "nsa_note",
        "notice_consent_reason",
        "state_law",
        "idr_ineligible_reasons",
        "improper_reason",
        "next_deadline_kind",
        "balance_bill_reason",
    ):
        out[col] = out[col].astype("str")
    for col in (
        "ancillary",
        "nsa_applies",
        "notice_consent",
        "notice_consent_valid",
        "state_law_governs",
        "idr_eligible",
        "improper_under_nsa",
        "qpa_disclosed",
        "deadline_passed",
        "patient_resp_exceeds_cap",
        "balance_bill_allowed",
    ):
        out[col] = out[col].astype(bool)
    out["n_lines"] = out["n_lines"].astype("int64")
    return out.reset_index(drop=True)


# --- cooling-off (docs/domain.md §1.9) -------------------------------------------------------------


def cooling_off_ends(
    determination_dates: pd.Series,
    batched: pd.Series | None = None,
    rule_overrides: dict[str, Any] | None = None,
) -> pd.Series:
    """Last suspended day after each determination, under the rule version of its date.

    90 calendar days (45 CFR 149.510(c)(4)(vii)(B)); for a batched determination once the
    CMS-9897-F batch cooling-off applies, 30 business days (IndeMedAction on the final rule:
    "shortened the cooling-off period for batched disputes from 90 to 30 business days";
    secondary source [unverified against the rule text]).
    """
    d = pd.to_datetime(determination_dates).astype("datetime64[us]")
    out = (d + pd.Timedelta(days=COOLING_OFF_CD)).astype("datetime64[us]")
    if batched is None:
        return out
    b = pd.Series(batched, index=d.index).fillna(False).astype(bool)
    short_from = None
    for dt in sorted(set(d[b & d.notna()].dt.date)):
        if rule_version(dt, rule_overrides).has("batch_cooling_off"):
            short_from = dt
            break
    if short_from is None:
        return out
    m = b & d.notna() & (d >= pd.Timestamp(short_from))
    out[m] = bd.add_business_days_series(d[m], 30).astype("datetime64[us]")
    return out


def _party_key(df: pd.DataFrame) -> pd.Series:
    """Provider | payer(/plan) | IDR code group key used for cooling-off matching."""
    n = len(df)

    def col(name: str) -> pd.Series:
        if name in df.columns:
            return df[name].astype("str").fillna("")
        return pd.Series([""] * n, index=df.index, dtype="str")

    tin, npi = col("provider_tin"), col("provider_npi")
    prov = tin.where(tin.ne(""), npi)
    pid, pname = col("payer_id"), col("payer")
    payer = pid.where(pid.ne(""), pname)
    plan = col("plan_id")
    payer = payer + ("/" + plan).where(plan.ne(""), "")
    if "idr_code_group" in df.columns:
        grp = col("idr_code_group")
    elif "cpt" in df.columns:
        grp = idr_code_groups(df["cpt"])
    else:
        raise KeyError("give idr_code_group or cpt to match same or similar items")
    return (prov + "|" + payer + "|" + grp).astype("str")


def apply_cooling_off(
    disputes: pd.DataFrame,
    determinations: pd.DataFrame,
    *,
    period_end_col: str = "open_negotiation_period_end",
    rule_overrides: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Flag disputes whose open negotiation ends inside a cooling-off period and re-time them.

    Cooling-off length per determination: :func:`cooling_off_ends` (90 calendar days; 30
    business days after a batched determination once CMS-9897-F applies on its date).

    After a payment determination, the initiating party may not start a new IDR against the
    same other party for the same or similar items for 90 calendar days; claims whose open
    negotiation period ends in that suspension may be submitted during the 30 business days
    beginning the day after it ends (45 CFR 149.510(c)(4)(vii)(B)-(C); 42 U.S.C.
    300gg-111(c)(5)(E)). Same party and similar item = same provider (TIN, else NPI), payer
    (and ``plan_id`` when given) and :func:`idr_code_group`. ``determinations`` needs those
    columns (or ``cpt``) and ``determination_date``. Adds cooling_off_determination_date,
    cooling_off_end, cooling_off_idr_initiate_by, blocked_by_cooling_off and
    idr_initiate_by_effective (the cooling-off window's last day when blocked, else
    ``idr_initiate_by`` when present). Rows are never dropped; order is preserved.
    """
    if period_end_col not in disputes.columns:
        raise KeyError(
            f"apply_cooling_off needs {period_end_col!r} (e.g. from assess_claims) on disputes"
        )
    if "determination_date" not in determinations.columns:
        raise KeyError("determinations need a 'determination_date' column")
    out = disputes.copy()
    left = pd.DataFrame(
        {
            "_row": np.arange(len(out)),
            "_key": _party_key(out).to_numpy(),
            "_end": pd.to_datetime(out[period_end_col]).astype("datetime64[us]").to_numpy(),
        }
    )
    det_dates = pd.to_datetime(determinations["determination_date"]).astype("datetime64[us]")
    right = pd.DataFrame(
        {
            "_key": _party_key(determinations).to_numpy(),
            "_det": det_dates.to_numpy(),
            "_cend": cooling_off_ends(
                det_dates,
                determinations["batched"] if "batched" in determinations.columns else None,
                rule_overrides,
            ).to_numpy(),
        }
    ).dropna(subset=["_det"])
    has_end = left["_end"].notna()
    m = pd.merge_asof(
        left[has_end].sort_values("_end"),
        right.sort_values("_det"),
        left_on="_end",
        right_on="_det",
        by="_key",
        direction="backward",
        allow_exact_matches=False,  # the suspension is the 90 days *following* the determination
    ).set_index("_row")
    det = pd.Series(pd.NaT, index=range(len(out)), dtype="datetime64[us]")
    det.loc[m.index] = m["_det"].to_numpy()
    cool_end = pd.Series(pd.NaT, index=range(len(out)), dtype="datetime64[us]")
    cool_end.loc[m.index] = m["_cend"].to_numpy()
    ends = pd.Series(left["_end"].to_numpy())
    blocked = det.notna() & (ends <= cool_end)
    det = det.where(blocked)
    cool_end = cool_end.where(blocked)
    submit_by = bd.period_end_series(cool_end + pd.Timedelta(days=1), COOLING_OFF_SUBMIT_BD)
    out["cooling_off_determination_date"] = det.to_numpy()
    out["cooling_off_end"] = cool_end.astype("datetime64[us]").to_numpy()
    out["cooling_off_idr_initiate_by"] = submit_by.to_numpy()
    out["blocked_by_cooling_off"] = blocked.to_numpy()
    if "idr_initiate_by" in out.columns:
        base = pd.to_datetime(out["idr_initiate_by"]).astype("datetime64[us]").to_numpy()
        out["idr_initiate_by_effective"] = np.where(blocked.to_numpy(), submit_by.to_numpy(), base)
    else:
        out["idr_initiate_by_effective"] = submit_by.to_numpy()
    return out
