"""US federal business-day calendar and the day-counting rules the NSA and appeal clocks use.

Business day: Monday to Friday except the legal public holidays of 5 U.S.C. 6103(a), on the
day they are observed (5 U.S.C. 6103(b) and Executive Order 11582: a holiday on a Saturday is
observed the Friday before, one on a Sunday the Monday after). Neither 42 U.S.C. 300gg-111(c)
nor 45 CFR 149.510 defines "business day" (docs/domain.md §1.6, §8); this Monday-to-Friday-
less-federal-holidays reading is the common one (e.g. 45 CFR 30.2 "Business day means Monday
through Friday", with federal holidays rolled forward) and is what the CMS IDR portal
calculators apply. One-off executive-order closures (e.g. 2024-12-24, 2025-01-09) are *not*
statutory holidays and are not excluded; pass them as ``extra_closures`` to
:func:`set_extra_closures` if a dispute turns on one.

Counting conventions (used by every NSA clock, see ``nsa.py``):

* ``business_day_period_end(start, n)`` -- last day of an *n*-business-day period that begins
  on ``start``. The day the period begins counts as day 1 when it is a business day; when it is
  not (weekend/holiday), day 1 is the next business day. 45 CFR 149.510(b)(1)(ii)(B): the open
  negotiation notice is due "within 30 business days beginning on the day" the initial payment
  or denial is received, and "the day on which the open negotiation notice is first sent ... is
  the date the 30-business-day open negotiation period begins". Example: a notice sent Monday
  2025-03-03 starts a 30-BD period whose day 1 is 03-03 and whose day 30 is Friday 2025-04-11.
* ``add_business_days(start, n)`` -- the *n*-th business day *after* ``start`` (``start`` itself
  never counts). Monday + 1 = Tuesday; Friday + 1 = Monday; Saturday + 1 = Monday.
* ``next_business_day(d)`` -- the first business day strictly after ``d`` (e.g. the 31st business
  day after the start of a 30-BD open negotiation period = the day the IDR window opens).
* ``add_calendar_days(start, n)`` -- plain calendar arithmetic (the 90-CD cooling-off period, the
  180-day ERISA appeal window); no weekend roll unless the rule says so (``roll_forward``).
"""

from __future__ import annotations

import calendar as _cal
from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache

import holidays as _holidays
import numpy as np
import pandas as pd

#: Years covered by the cached calendar; dates outside raise a clear error instead of silently
#: counting a holiday as a business day.
CALENDAR_FIRST_YEAR = 1990
CALENDAR_LAST_YEAR = 2080

#: The statutory legal public holidays (5 U.S.C. 6103(a)); Juneteenth from 2021 (Pub. L. 117-17).
FEDERAL_HOLIDAY_NAMES = (
    "New Year's Day",
    "Martin Luther King Jr. Day",
    "Washington's Birthday",
    "Memorial Day",
    "Juneteenth National Independence Day",
    "Independence Day",
    "Labor Day",
    "Columbus Day",
    "Veterans Day",
    "Thanksgiving Day",
    "Christmas Day",
)

_EXTRA_CLOSURES: tuple[date, ...] = ()


def _as_date(d: date | str | pd.Timestamp | np.datetime64) -> date:
    """Coerce a date-like value to :class:`datetime.date` (raise on NaT/None)."""
    if d is None or (isinstance(d, float) and d != d):
        raise ValueError("date is missing (None/NaN)")
    if isinstance(d, pd.Timestamp | np.datetime64):
        ts = pd.Timestamp(d)
        if pd.isna(ts):
            raise ValueError("date is missing (NaT)")
        return ts.date()
    if isinstance(d, str):
        return date.fromisoformat(d)
    if hasattr(d, "date") and callable(d.date):  # datetime
        return d.date()
    return d


def federal_holidays(years: Iterable[int]) -> set[date]:
    """Federal holidays of ``years`` as observed (and their actual dates), per 5 U.S.C. 6103."""
    ys = sorted({int(y) for y in years})
    if not ys:
        return set()
    hol = _holidays.country_holidays("US", years=ys, observed=True)
    out: set[date] = set()
    for d, name in hol.items():
        base = name.replace(" (observed)", "")
        if any(base.startswith(n) for n in FEDERAL_HOLIDAY_NAMES):
            out.add(d)
    return out


@lru_cache(maxsize=4)
def _busdaycal(extra: tuple[date, ...]) -> np.busdaycalendar:
    """The numpy business-day calendar over the supported years (cached)."""
    hol = federal_holidays(range(CALENDAR_FIRST_YEAR - 1, CALENDAR_LAST_YEAR + 2))
    hol |= set(extra)
    arr = np.array(sorted(hol), dtype="datetime64[D]")
    return np.busdaycalendar(weekmask="1111100", holidays=arr)


def _cal_now() -> np.busdaycalendar:
    return _busdaycal(_EXTRA_CLOSURES)


def set_extra_closures(days: Iterable[date]) -> None:
    """Treat extra one-off federal closures (executive orders) as non-business days."""
    global _EXTRA_CLOSURES
    _EXTRA_CLOSURES = tuple(sorted({_as_date(d) for d in days}))


def _check(d: date) -> np.datetime64:
    if not CALENDAR_FIRST_YEAR <= d.year <= CALENDAR_LAST_YEAR:
        raise ValueError(
            f"{d.isoformat()} is outside the business-day calendar "
            f"({CALENDAR_FIRST_YEAR}-{CALENDAR_LAST_YEAR}); check the date for a typo"
        )
    return np.datetime64(d, "D")


def _to_date(x: np.datetime64) -> date:
    return date.fromisoformat(str(np.datetime64(x, "D")))


def is_business_day(d: date) -> bool:
    """True when ``d`` is a Monday-Friday that is not an observed federal holiday."""
    d = _as_date(d)
    return bool(np.is_busday(_check(d), busdaycal=_cal_now()))


def roll_forward(d: date) -> date:
    """``d`` if it is a business day, else the next business day (29 CFR 2590.715-2719(d)(2)(i))."""
    d = _as_date(d)
    return _to_date(np.busday_offset(_check(d), 0, roll="forward", busdaycal=_cal_now()))


def next_business_day(d: date) -> date:
    """The first business day strictly after ``d``."""
    return add_business_days(d, 1)


def add_business_days(start: date, n: int) -> date:
    """The ``n``-th business day after ``start`` (start never counts; n=0 rolls forward; n<0 back)."""
    start = _as_date(start)
    x = _check(start)
    cal = _cal_now()
    if n > 0:
        res = np.busday_offset(x, n, roll="backward", busdaycal=cal)
    elif n == 0:
        res = np.busday_offset(x, 0, roll="forward", busdaycal=cal)
    else:
        res = np.busday_offset(x, n, roll="forward", busdaycal=cal)
    return _to_date(res)


def business_day_period_end(start: date, n: int) -> date:
    """Last day of an ``n``-business-day period beginning on ``start`` (start = day 1 if a BD)."""
    if n < 1:
        raise ValueError(f"a business-day period needs n >= 1, got {n}")
    start = _as_date(start)
    return _to_date(np.busday_offset(_check(start), n - 1, roll="forward", busdaycal=_cal_now()))


def business_days_between(start: date, end: date) -> int:
    """Business days in ``[start, end)`` (negative when end < start), like numpy.busday_count."""
    start, end = _as_date(start), _as_date(end)
    return int(np.busday_count(_check(start), _check(end), busdaycal=_cal_now()))


def add_calendar_days(start: date, n: int) -> date:
    """``start`` plus ``n`` calendar days (no weekend or holiday adjustment)."""
    return _as_date(start) + timedelta(days=int(n))


def add_months(start: date, months: int) -> date:
    """Same day-of-month ``months`` later; if that day does not exist, the 1st of the next month.

    This is the external-review rule of 29 CFR 2590.715-2719(d)(2)(i) ("if there is no
    corresponding date four months after ..., the request must be filed by the first day of
    the fifth month"), not the end-of-month clamp some libraries use.
    """
    start = _as_date(start)
    total = start.month - 1 + months
    y, m = start.year + total // 12, total % 12 + 1
    last = _cal.monthrange(y, m)[1]
    if start.day <= last:
        return date(y, m, start.day)
    total += 1
    return date(start.year + total // 12, total % 12 + 1, 1)


# --- vectorised helpers (one numpy call per column; NaT stays NaT) ---------------------------


def _vector(dates: pd.Series, fn: str, n: int) -> pd.Series:
    s = pd.to_datetime(dates)
    mask = s.notna().to_numpy()
    out = np.full(len(s), np.datetime64("NaT"), dtype="datetime64[D]")
    if mask.any():
        vals = s.to_numpy()[mask].astype("datetime64[D]")
        years = vals.astype("datetime64[Y]").astype(int) + 1970
        bad = (years < CALENDAR_FIRST_YEAR) | (years > CALENDAR_LAST_YEAR)
        if bad.any():
            first = str(vals[bad][0])
            raise ValueError(f"{first} is outside the business-day calendar; check the dates")
        cal = _cal_now()
        if fn == "period_end":
            res = np.busday_offset(vals, n - 1, roll="forward", busdaycal=cal)
        elif fn == "add":
            roll = "backward" if n > 0 else "forward"
            res = np.busday_offset(vals, n, roll=roll, busdaycal=cal)
        else:  # pragma: no cover - internal
            raise ValueError(fn)
        out[mask] = res
    return pd.Series(out.astype("datetime64[us]"), index=dates.index)


def period_end_series(starts: pd.Series, n: int) -> pd.Series:
    """Vectorised :func:`business_day_period_end` over a datetime Series."""
    if n < 1:
        raise ValueError(f"a business-day period needs n >= 1, got {n}")
    return _vector(starts, "period_end", n)


def add_business_days_series(starts: pd.Series, n: int) -> pd.Series:
    """Vectorised :func:`add_business_days` over a datetime Series."""
    return _vector(starts, "add", n)


def business_days_between_series(starts: pd.Series, ends: pd.Series) -> pd.Series:
    """Vectorised :func:`business_days_between`; NaN where either date is missing."""
    a, b = pd.to_datetime(starts), pd.to_datetime(ends)
    mask = (a.notna() & b.notna()).to_numpy()
    out = np.full(len(a), np.nan)
    if mask.any():
        av = a.to_numpy()[mask].astype("datetime64[D]")
        bv = b.to_numpy()[mask].astype("datetime64[D]")
        out[mask] = np.busday_count(av, bv, busdaycal=_cal_now())
    return pd.Series(out, index=starts.index)
