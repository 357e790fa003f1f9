"""NSA clocks: hand-computed open negotiation, IDR window, cooling-off and ERISA dates; the CLI."""

from __future__ import annotations

import json
from datetime import date

import pytest
from typer.testing import CliRunner

from oonplaybook import nsa
from oonplaybook.cli import app

D = date


def test_deadlines_across_thanksgiving_christmas_new_year_and_mlk() -> None:
    r = nsa.deadlines(D(2025, 11, 17), notice_date=D(2025, 12, 1))
    # Initiate by: Nov 17-21 (1-5), 24-26 (6-8), [27 Thanksgiving], 28 (9), Dec 1-5 (10-14),
    # 8-12 (15-19), 15-19 (20-24), 22-24 (25-27), [25 Christmas], 26 (28), 29 (29), 30 (30).
    assert r.open_negotiation_initiate_by == D(2025, 12, 30)
    # Period from the notice (Mon Dec 1 = day 1): Dec 1-5 (1-5), 8-12 (6-10), 15-19 (11-15),
    # 22-24 (16-18), 26 (19), 29-31 (20-22), [Jan 1], Jan 2 (23), 5-9 (24-28), 12 (29), 13 (30).
    assert r.open_negotiation_period_end == D(2026, 1, 13)
    # IDR window = 31st business day onward: Wed Jan 14 (1), 15 (2), 16 (3), [Mon 19 MLK], Tue 20 (4).
    assert r.idr_window_start == D(2026, 1, 14)
    assert r.idr_initiate_by == D(2026, 1, 20)
    assert r.notice_date_assumed is False
    assert r.cooling_off_end is None and r.erisa_internal_appeal_by is None


def test_deadlines_without_notice_assume_latest_schedule_memorial_day() -> None:
    r = nsa.deadlines(D(2025, 3, 3))
    assert r.open_negotiation_initiate_by == D(2025, 4, 11)  # Mar 3 .. Apr 11 = 30 BD
    # Notice assumed Fri Apr 11 (1); Apr 14-18 (2-6), 21-25 (7-11), Apr 28-May 2 (12-16),
    # May 5-9 (17-21), 12-16 (22-26), 19-22 (27-30) -> Thu May 22.
    assert r.open_negotiation_period_end == D(2025, 5, 22)
    # Window: Fri May 23 (1), [Mon 26 Memorial Day], Tue 27 (2), Wed 28 (3), Thu 29 (4).
    assert r.idr_window_start == D(2025, 5, 23)
    assert r.idr_initiate_by == D(2025, 5, 29)
    assert r.notice_date_assumed is True


def test_notice_on_weekend_starts_next_business_day_presidents_day() -> None:
    r = nsa.deadlines(D(2025, 12, 1), notice_date=D(2025, 12, 27))
    # Initiate by from Mon Dec 1: Dec 1-5 (1-5), 8-12 (6-10), 15-19 (11-15), 22-24 (16-18),
    # 26 (19), 29-31 (20-22), Jan 2 (23), 5-9 (24-28), 12 (29), 13 (30).
    assert r.open_negotiation_initiate_by == D(2026, 1, 13)
    # Notice Sat Dec 27 -> day 1 Mon Dec 29: 29-31 (1-3), Jan 2 (4), 5-9 (5-9), 12-16 (10-14),
    # [19 MLK] 20-23 (15-18), 26-30 (19-23), Feb 2-6 (24-28), 9 (29), Tue Feb 10 (30).
    assert r.open_negotiation_period_end == D(2026, 2, 10)
    # Window: Wed Feb 11 (1), 12 (2), 13 (3), [Mon 16 Washington's Birthday], Tue Feb 17 (4).
    assert r.idr_initiate_by == D(2026, 2, 17)


def test_friday_observed_holiday_in_idr_window() -> None:
    # Notice Mon 2026-05-18 (1): May 18-22 (1-5), [25 Memorial], 26-29 (6-9), Jun 1-5 (10-14),
    # 8-12 (15-19), 15-18 (20-23), [Fri 19 Juneteenth], 22-26 (24-28), 29 (29), Tue 30 (30).
    r = nsa.deadlines(D(2026, 5, 15), notice_date=D(2026, 5, 18))
    assert r.open_negotiation_period_end == D(2026, 6, 30)
    # Window: Wed Jul 1 (1), Thu 2 (2), [Fri Jul 3 = Independence Day observed], Mon 6 (3), Tue 7 (4).
    assert r.idr_window_start == D(2026, 7, 1)
    assert r.idr_initiate_by == D(2026, 7, 7)


def test_cooling_off_and_erisa() -> None:
    r = nsa.deadlines(
        D(2025, 11, 17), determination_date=D(2025, 10, 1), denial_date=D(2025, 6, 15)
    )
    # Oct 1 + 90 CD: Oct 31 (+30), Nov 30 (+60), Dec 30 (+90).
    assert r.cooling_off_end == D(2025, 12, 30)
    # 30 BD beginning Wed Dec 31 (1): [Jan 1], Jan 2 (2), 5-9 (3-7), 12-16 (8-12), [19 MLK],
    # 20-23 (13-16), 26-30 (17-21), Feb 2-6 (22-26), 9-12 (27-30) -> Thu Feb 12.
    assert r.cooling_off_idr_initiate_by == D(2026, 2, 12)
    # Jun 15 + 180 CD: Jun 30 (15), Jul 31 (46), Aug 31 (77), Sep 30 (107), Oct 31 (138),
    # Nov 30 (168), Dec 12 (180).
    assert r.erisa_internal_appeal_by == D(2025, 12, 12)


def test_notice_before_payment_is_refused() -> None:
    with pytest.raises(ValueError, match="before the initial payment"):
        nsa.deadlines(D(2025, 3, 3), notice_date=D(2025, 3, 1))


def test_cli_json_prints_documented_keys() -> None:
    res = CliRunner().invoke(
        app,
        [
            "deadlines",
            "--initial-payment-date",
            "2025-11-17",
            "--notice-date",
            "2025-12-01",
            "--determination-date",
            "2025-10-01",
            "--denial-date",
            "2025-06-15",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["open_negotiation_initiate_by"] == "2025-12-30"
    assert data["open_negotiation_period_end"] == "2026-01-13"
    assert data["idr_window_start"] == "2026-01-14"
    assert data["idr_initiate_by"] == "2026-01-20"
    assert data["cooling_off_end"] == "2025-12-30"
    assert data["erisa_internal_appeal_by"] == "2025-12-12"


def test_cli_optional_keys_absent_without_inputs() -> None:
    res = CliRunner().invoke(app, ["deadlines", "--initial-payment-date", "2025-03-03", "--json"])
    assert res.exit_code == 0
    data = json.loads(res.stdout)
    assert set(data) == {
        "open_negotiation_initiate_by",
        "open_negotiation_period_end",
        "idr_window_start",
        "idr_initiate_by",
    }


@pytest.mark.parametrize("option", ["--notice-date", "--determination-date", "--denial-date"])
def test_cli_bad_date_exits_2_naming_option(option: str) -> None:
    res = CliRunner().invoke(
        app, ["deadlines", "--initial-payment-date", "2025-03-03", option, "03/15/2025", "--json"]
    )
    assert res.exit_code == 2
    assert option in res.output
    assert "YYYY-MM-DD" in res.output


def test_idr_timeline_after_initiation() -> None:
    t = nsa.idr_timeline(D(2025, 11, 24), D(2025, 11, 28), D(2026, 1, 9))
    # initiation Mon Nov 24: Tue 25 (1), Wed 26 (2), [Thanksgiving], Fri 28 (3)
    assert t.idre_selection_by == D(2025, 11, 28)
    assert t.departments_select_by == D(2025, 12, 3)  # Dec 1 (4), 2 (5), 3 (6)
    assert t.offers_due_by == D(2025, 12, 12)  # selection Fri Nov 28 + 10 BD
    # +30 BD: Dec 15-19 (15), 22-24 (18), [25], 26 (19), 29-31 (22), [Jan 1], Jan 2 (23),
    # 5-9 (28), 12 (29), Tue Jan 13 (30)
    assert t.determination_by == D(2026, 1, 13)
    assert t.payment_due_by == D(2026, 2, 8)  # Jan 9 + 30 calendar days
    # Jan 9 + 30 BD: 12-16 (5), [19 MLK], 20-23 (9), 26-30 (14), Feb 2-6 (19), 9-13 (24),
    # [16 Washington's Birthday], 17-20 (28), 23 (29), Tue Feb 24 (30)
    assert t.idre_fee_refund_by == D(2026, 2, 24)
    assert nsa.idr_timeline(D(2025, 11, 24)).offers_due_by is None


def test_cooling_off_blocks_and_retimes() -> None:
    import pandas as pd

    disputes = pd.DataFrame(
        {
            "provider_tin": ["111111111"] * 5,
            "payer": ["P", "P", "Q", "P", "P"],
            "cpt": ["99285", "99284", "99285", "99285", "70450"],
            "open_negotiation_period_end": pd.to_datetime(
                ["2025-11-14", "2026-01-05", "2025-11-14", "2025-10-01", "2025-11-14"]
            ),
            "idr_initiate_by": pd.to_datetime(
                ["2025-11-20", "2026-01-09", "2025-11-20", "2025-10-07", "2025-11-20"]
            ),
        }
    )
    dets = pd.DataFrame(
        {
            "provider_tin": ["111111111"],
            "payer": ["P"],
            "cpt": ["99283"],  # same ED E/M code group as 99284/99285
            "determination_date": pd.to_datetime(["2025-10-01"]),
        }
    )
    out = nsa.apply_cooling_off(disputes, dets)
    # row 0: period ends Nov 14, inside Oct 1 + 90 CD (-> Dec 30): blocked; may initiate in the
    # 30 BD beginning Dec 31: ..., Thu 2026-02-12 (see test_cooling_off_and_erisa)
    assert out["blocked_by_cooling_off"].tolist() == [True, False, False, False, False]
    assert out.loc[0, "cooling_off_end"] == pd.Timestamp("2025-12-30")
    assert out.loc[0, "idr_initiate_by_effective"] == pd.Timestamp("2026-02-12")
    # row 1 ends after the suspension; row 2 other payer; row 3 ends on the determination day;
    # row 4 another code group (radiology): all keep their own deadline
    assert out.loc[1, "idr_initiate_by_effective"] == pd.Timestamp("2026-01-09")
    assert pd.isna(out.loc[2, "cooling_off_end"])
