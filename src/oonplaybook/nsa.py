"""No Surprises Act engine: which claims the NSA protects, its clocks, IDR eligibility and batching.

Everything here is provider-side and federal unless a state table row says a specified state
law governs. Clocks run on the federal business-day calendar of
:mod:`oonplaybook.reference.calendar` (start day counts as day 1 when it is a business day).
Sources are cited next to each constant; DOMAIN.md section numbers refer to
/work/shared/docs/DOMAIN.md (the project's domain brief).

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

from oonplaybook.reference import calendar as bd

# --- clock constants (DOMAIN.md §1.5, §1.6, §1.9, §4.3) -------------------------------------

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
