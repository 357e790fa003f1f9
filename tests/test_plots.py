"""Figures legible at print size: round log ticks, legends off the data, incomplete months."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from oonplaybook import plots  # noqa: E402
from oonplaybook.payers.figures import drop_incomplete_last_month  # noqa: E402


@pytest.mark.parametrize(("lo", "hi"), [(0.005, 3.5), (0.6, 3.2), (0.3, 4.2), (0.7, 1.4)])
def test_log_axis_ticks_are_few_round_and_apart(lo: float, hi: float) -> None:
    fig, ax = plt.subplots()
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    plots.log_axis(ax)
    ticks = [t for t in ax.get_xticks() if lo <= t <= hi]
    assert 2 <= len(ticks) <= 7
    gaps = np.diff(np.log10(sorted(ticks)))
    assert (gaps >= 0.12 - 1e-9).all(), ticks
    labels = [ax.xaxis.get_major_formatter()(t, 0) for t in ticks]
    assert all(lab.endswith("x") for lab in labels)
    assert ax.xaxis.get_minor_formatter()(0.7, 0) == ""
    if lo < 1 < hi:
        assert 1 in ticks
    plt.close(fig)


def _lines(months: dict[str, tuple[int, int]]) -> pd.DataFrame:
    rows = []
    for month, (paid, pending) in months.items():
        for i in range(paid + pending):
            rows.append(
                {
                    "service_date": pd.Timestamp(month) + pd.Timedelta(days=i % 27),
                    "claim_status": "paid" if i < paid else "pending",
                    "billed": 100.0,
                }
            )
    return pd.DataFrame(rows)


def test_incomplete_months_thin_and_pending() -> None:
    cl = _lines(
        {
            "2025-09-01": (100, 0),
            "2025-10-01": (98, 2),
            "2025-11-01": (70, 30),
            "2025-12-01": (3, 0),
        }
    )
    thin, pending = plots.incomplete_months(cl)
    assert thin == [pd.Timestamp("2025-12-01")]
    assert pending == [pd.Timestamp("2025-11-01")]
    complete = _lines({"2025-09-01": (100, 0), "2025-10-01": (99, 1)})
    assert plots.incomplete_months(complete) == ([], [])


def test_monthly_volume_says_what_it_left_out() -> None:
    cl = _lines({"2025-09-01": (100, 0), "2025-10-01": (60, 40), "2025-11-01": (2, 0)})
    fig = plots.monthly_volume(cl)
    title = fig.axes[0].get_title()
    assert "Nov 2025" in title and "left out" in title and "Oct 2025" in title
    plt.close(fig)


def test_revenue_bars_label_blank_groups_and_keep_legend_off_the_bars() -> None:
    table = pd.DataFrame(
        {
            "specialty": ["emergency_medicine", None],
            "paid": [100.0, 5.0],
            "denied_billed": [50.0, 0.0],
            "unpaid_other": [20.0, 1.0],
        }
    )
    fig = plots.revenue_bars(table, "specialty", "t")
    ax = fig.axes[0]
    labels = {t.get_text() for t in ax.get_yticklabels()}
    assert labels == {"emergency medicine", "not recorded"}
    fig.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    assert legend.y1 <= ax.get_window_extent().y0  # under the plotting area, off the bars
    assert legend.y1 <= ax.xaxis.label.get_window_extent().y0  # and under the axis label
    plt.close(fig)


def test_drift_index_drops_a_payers_thin_last_month() -> None:
    idx = pd.DataFrame(
        {
            "payer": ["A"] * 4 + ["B"] * 4,
            "month": ["2025-09", "2025-10", "2025-11", "2025-12"] * 2,
            "n": [100, 110, 105, 6, 100, 90, 95, 98],
            "index": [1.8, 1.8, 1.8, 3.3, 1.5, 1.5, 1.5, 1.5],
        }
    )
    kept, note = drop_incomplete_last_month(idx)
    assert len(kept) == 7
    assert note == "A 2025-12"
    assert not ((kept["payer"] == "A") & (kept["month"] == "2025-12")).any()
