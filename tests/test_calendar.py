"""Federal business-day calendar: hand-computed cases (day counting shown in the comments)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from oonplaybook.reference import calendar as bd

D = date


def test_federal_holidays_observed_rules() -> None:
    h21 = bd.federal_holidays([2021])
    # Christmas 2021 fell on a Saturday -> observed Friday 2021-12-24 (5 U.S.C. 6103(b)).
    assert D(2021, 12, 24) in h21
    # New Year's Day 2022 fell on a Saturday -> observed Friday 2021-12-31.
    assert D(2021, 12, 31) in h21
    # Juneteenth exists from 2021 (Pub. L. 117-17); 2021-06-19 Sat -> observed Fri 06-18.
    assert D(2021, 6, 18) in h21
    assert not any(d.month == 6 and d.day in (18, 19) for d in bd.federal_holidays([2020]))
    # Sunday holidays move to Monday: Christmas 2022 -> Mon 12-26; New Year 2023 -> Mon 01-02.
    assert {D(2022, 12, 26), D(2023, 1, 2)} <= bd.federal_holidays([2022, 2023])
    # Eleven statutory holidays a year, no state holidays (e.g. no Good Friday, no Election Day).
    h25 = bd.federal_holidays([2025])
    assert len(h25) == 11
    assert D(2025, 4, 18) not in h25


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (D(2025, 11, 27), False),  # Thanksgiving (Thu)
        (D(2025, 11, 28), True),  # day after Thanksgiving is not a federal holiday
        (D(2026, 7, 3), False),  # July 4 2026 is a Saturday -> observed Friday 07-03
        (D(2026, 7, 4), False),  # Saturday
        (D(2023, 11, 10), False),  # Veterans Day 2023 (Sat) observed Friday 11-10
        (D(2022, 6, 20), False),  # Juneteenth 2022 (Sun) observed Monday 06-20
        (D(2024, 12, 24), True),  # executive-order closure, not a statutory holiday
    ],
)
def test_is_business_day(d: date, expected: bool) -> None:
    assert bd.is_business_day(d) is expected


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # 1. No holiday: Thu 11-20(1) Fri 21(2) Mon 24(3) Tue 25(4) Wed 26(5).
        (D(2025, 11, 20), 5, D(2025, 11, 26)),
        # 2. Thanksgiving: ... Wed 26(5), Thu 27 holiday, Fri 28(6).
        (D(2025, 11, 20), 6, D(2025, 11, 28)),
        # 3. Mon 11-24(1) Tue 25(2) Wed 26(3) [27 Thanksgiving] Fri 28(4) Dec 1-5(5-9) Mon 8(10).
        (D(2025, 11, 24), 10, D(2025, 12, 8)),
        # 4. Christmas + New Year: Mon 12-22(1) 23(2) 24(3) [25] Fri 26(4) 29(5) 30(6) 31(7)
        #    [Jan 1] Fri 2026-01-02(8).
        (D(2025, 12, 22), 8, D(2026, 1, 2)),
        # 5. Christmas 2022 observed Monday: Wed 12-21(1) Thu 22(2) Fri 23(3) [Mon 26] Tue 27(4)
        #    Wed 28(5).
        (D(2022, 12, 21), 5, D(2022, 12, 28)),
        # 6. New Year 2023 observed Monday: Wed 12-28(1) 29(2) 30(3) [Mon 01-02] Tue 3(4) Wed 4(5).
        (D(2022, 12, 28), 5, D(2023, 1, 4)),
        # 7. Christmas 2021 observed Friday: Mon 12-20(1)..Thu 23(4) [Fri 24] Mon 27(5).
        (D(2021, 12, 20), 5, D(2021, 12, 27)),
        # 8. New Year 2022 observed Friday 2021-12-31: Mon 27(1)..Thu 30(4) [Fri 31] Mon 01-03(5).
        (D(2021, 12, 27), 5, D(2022, 1, 3)),
        # 9. Independence Day 2026 observed Friday: Mon 06-29(1) 30(2) 07-01(3) 02(4) [Fri 3]
        #    Mon 07-06(5).
        (D(2026, 6, 29), 5, D(2026, 7, 6)),
        # 10. Start on a Saturday: day 1 is the next business day, Mon 2025-12-01.
        (D(2025, 11, 29), 1, D(2025, 12, 1)),
        # 11. Start on Thanksgiving: day 1 is Fri 11-28.
        (D(2025, 11, 27), 1, D(2025, 11, 28)),
        # 12. Thanksgiving 2023: Mon 11-20(1) 21(2) 22(3) [Thu 23] Fri 24(4) Mon 27(5).
        (D(2023, 11, 20), 5, D(2023, 11, 27)),
        # 13. 30 BD from Thanksgiving 2024 (received on the holiday): Fri 11-29(1); Dec 2-6(2-6);
        #     9-13(7-11); 16-20(12-16); 23,24(17,18) [25]; 26,27(19,20); 30,31(21,22) [Jan 1];
        #     Jan 2,3(23,24); 6-10(25-29); Mon 2025-01-13(30).
        (D(2024, 11, 28), 30, D(2025, 1, 13)),
        # 14. 30 BD from Mon 2025-03-03, no holiday: Mar 3-31 = 21 BD; Apr 1-4 (22-25);
        #     Apr 7-11 (26-30) -> Fri 04-11.
        (D(2025, 3, 3), 30, D(2025, 4, 11)),
    ],
)
def test_business_day_period_end(start: date, n: int, expected: date) -> None:
    assert bd.business_day_period_end(start, n) == expected


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (D(2025, 11, 26), 1, D(2025, 11, 28)),  # Wed + 1 skips Thanksgiving -> Fri
        (D(2025, 11, 29), 1, D(2025, 12, 1)),  # Sat + 1 -> Mon
        (D(2023, 11, 9), 1, D(2023, 11, 13)),  # Thu + 1 skips Fri 11-10 (Veterans obs.) and weekend
        (
            D(2022, 6, 17),
            1,
            D(2022, 6, 21),
        ),  # Fri + 1 skips weekend and Mon 06-20 (Juneteenth obs.)
        (D(2024, 12, 24), 1, D(2024, 12, 26)),  # Tue + 1 skips Christmas (Wed)
        (D(2024, 12, 31), 1, D(2025, 1, 2)),  # Tue + 1 skips New Year (Wed)
        (D(2025, 12, 1), -1, D(2025, 11, 28)),  # Mon - 1 -> Fri after Thanksgiving
        (D(2025, 12, 1), -2, D(2025, 11, 26)),  # Mon - 2 skips Thanksgiving -> Wed
        (D(2025, 11, 29), 0, D(2025, 12, 1)),  # n = 0 rolls a weekend forward
        (D(2025, 11, 28), 0, D(2025, 11, 28)),  # n = 0 on a business day is that day
    ],
)
def test_add_business_days(start: date, n: int, expected: date) -> None:
    assert bd.add_business_days(start, n) == expected


def test_business_days_between_and_calendar_days() -> None:
    # [Mon 11-24, Mon 12-01): Mon 24, Tue 25, Wed 26, (Thu 27 holiday), Fri 28 = 4.
    assert bd.business_days_between(D(2025, 11, 24), D(2025, 12, 1)) == 4
    assert bd.business_days_between(D(2025, 12, 1), D(2025, 11, 24)) == -4
    assert bd.add_calendar_days(D(2025, 10, 1), 90) == D(2025, 12, 30)
    assert bd.roll_forward(D(2025, 12, 25)) == D(2025, 12, 26)
    assert bd.roll_forward(D(2025, 12, 26)) == D(2025, 12, 26)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (D(2025, 10, 31), 4, D(2026, 3, 1)),  # no Feb 31 -> first day of the fifth month
        (D(2024, 10, 31), 4, D(2025, 3, 1)),
        (D(2025, 1, 15), 4, D(2025, 5, 15)),
        (D(2025, 11, 30), 3, D(2026, 3, 1)),  # no Feb 30 -> Mar 1 (not a Feb 28 clamp)
    ],
)
def test_add_months(start: date, months: int, expected: date) -> None:
    assert bd.add_months(start, months) == expected


def test_vectorised_helpers_match_scalar_and_keep_nat() -> None:
    starts = pd.Series(pd.to_datetime(["2025-11-17", None, "2024-11-28", "2025-12-27"]))
    ends = bd.period_end_series(starts, 30)
    assert pd.isna(ends.iloc[1])
    for s, e in zip(starts, ends, strict=True):
        if pd.notna(s):
            assert e.date() == bd.business_day_period_end(s.date(), 30)
    nxt = bd.add_business_days_series(starts, 1)
    assert nxt.iloc[0].date() == D(2025, 11, 18)
    assert nxt.iloc[3].date() == D(2025, 12, 29)  # Sat + 1 -> Mon
    cnt = bd.business_days_between_series(starts, ends)
    assert cnt.iloc[0] == 29 and pd.isna(cnt.iloc[1])


def test_out_of_range_dates_raise_clearly() -> None:
    with pytest.raises(ValueError, match="outside the business-day calendar"):
        bd.is_business_day(D(1900, 1, 2))
    with pytest.raises(ValueError, match="n >= 1"):
        bd.business_day_period_end(D(2025, 1, 2), 0)


def test_extra_closures_are_configurable() -> None:
    try:
        bd.set_extra_closures([D(2024, 12, 24)])
        assert not bd.is_business_day(D(2024, 12, 24))
        assert bd.add_business_days(D(2024, 12, 23), 1) == D(2024, 12, 26)
    finally:
        bd.set_extra_closures([])
    assert bd.is_business_day(D(2024, 12, 24))
