"""Figures (seaborn) and the one-line notebook setup that makes them deterministic and quiet."""

from __future__ import annotations

import warnings

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

#: Consistent colours for claim outcomes across every figure.
OUTCOME_COLOURS = {"paid": "#2b8cbe", "denied": "#e34a33", "pending": "#fdbb84", "other": "#bdbdbd"}


def setup_notebook(seed: int = 0) -> np.random.Generator:
    """Theme, quiet warnings and deterministic figure output for a stage notebook.

    Returns the seeded generator the notebook should pass to library calls that sample.
    Warnings are silenced in notebooks because stderr lands in the client's HTML and breaks
    nbval comparisons; the library's own tests run with warnings visible.
    """
    warnings.filterwarnings("ignore")
    matplotlib.rcParams["svg.hashsalt"] = "oonplaybook"
    matplotlib.rcParams["figure.dpi"] = 90
    sns.set_theme(style="whitegrid", context="notebook", palette="colorblind")
    # legible when a 9-inch figure is printed 7 inches wide: nothing under ~8 pt on paper
    matplotlib.rcParams.update(
        {
            "axes.titlesize": 12,
            "axes.labelsize": 11,
            "xtick.labelsize": 10,
            "ytick.labelsize": 10,
            "legend.fontsize": 10,
            "figure.titlesize": 12,
        }
    )
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.width", 160)
    pd.set_option("display.float_format", lambda v: f"{v:,.2f}")
    try:  # inside IPython: PNG without timestamps
        from IPython import get_ipython

        ip = get_ipython()
        if ip is not None:
            ip.run_line_magic("matplotlib", "inline")
            ip.run_line_magic(
                "config",
                "InlineBackend.print_figure_kwargs = {'bbox_inches': 'tight', 'metadata': {'Software': None}}",
            )
            ip.run_line_magic("config", "InlineBackend.figure_formats = ['png']")
    except ImportError:  # pragma: no cover - IPython always present with papermill
        pass
    return np.random.default_rng(seed)


def money_axis(ax: plt.Axes, axis: str = "x") -> plt.Axes:
    """Format an axis in dollars ($1.2M, $350K)."""

    def fmt(v: float, _pos: int) -> str:
        a = abs(v)
        if a >= 1e6:
            return f"${v / 1e6:,.1f}M"
        if a >= 1e3:
            return f"${v / 1e3:,.0f}K"
        return f"${v:,.0f}"

    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_formatter(matplotlib.ticker.FuncFormatter(fmt))
    return ax


#: "Nice" tick values for log axes: readable at print size, never crowded.
_LOG_TICKS = (
    0.01,
    0.02,
    0.05,
    0.1,
    0.2,
    0.25,
    0.5,
    0.75,
    1,
    1.25,
    1.5,
    2,
    3,
    4,
    5,
    10,
    20,
    50,
    100,
)


def log_axis(ax: plt.Axes, axis: str = "x", unit: str = "x", max_ticks: int = 7) -> plt.Axes:
    """A log axis with a few round, labelled ticks (1x, 2x, 0.5x ...) and no minor labels.

    Matplotlib's default minor labels on a short log range overlap ("0.70.80.9"); these
    ticks are chosen from :data:`_LOG_TICKS` within the axis limits.
    """
    target = ax.xaxis if axis == "x" else ax.yaxis
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    lo, hi = ax.get_xlim() if axis == "x" else ax.get_ylim()
    span = np.log10(hi) - np.log10(lo)
    gap = max(0.12, span / (max_ticks + 1))  # minimum distance between labels, in decades
    cands = [t for t in _LOG_TICKS if lo <= t <= hi]
    ticks: list[float] = [1] if 1 in cands else []
    for t in sorted(cands, key=lambda v: (v not in (1, 2, 0.5, 10, 0.1), v)):
        if all(abs(np.log10(t) - np.log10(u)) >= gap for u in ticks):
            ticks.append(t)
    if len(ticks) < 2:  # a narrow range: its ends, rounded, where they do not crowd a tick
        for t in (float(f"{lo * 1.02:.2g}"), float(f"{hi / 1.02:.2g}")):
            if all(abs(np.log10(t) - np.log10(u)) >= gap / 2 for u in ticks):
                ticks.append(t)
    ticks.sort()
    target.set_major_locator(matplotlib.ticker.FixedLocator(ticks))
    target.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _p: f"{v:g}{unit}"))
    target.set_minor_formatter(matplotlib.ticker.NullFormatter())
    return ax


def below_axes(ax: plt.Axes, inches: float = 0.6) -> matplotlib.transforms.Transform:
    """Axes coordinates shifted ``inches`` down: an anchor under the tick labels and axis
    label whatever the figure's height."""
    return matplotlib.transforms.offset_copy(ax.transAxes, fig=ax.figure, y=-inches, units="inches")


def legend_outside(
    ax: plt.Axes, *, ncol: int | None = None, below: float = 0.6, **kwargs: object
) -> None:
    """The legend under the plot, outside the data (never over bars, points or the axis
    label): anchored ``below`` inches under the axes, centred, in up to three columns."""
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return
    ax.legend(
        handles,
        labels,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        bbox_transform=below_axes(ax, below),
        ncol=ncol or min(len(handles), 3),
        frameon=False,
        **kwargs,
    )


def readable(value: object) -> str:
    """A group label for an axis: underscores as spaces, a blank as 'not recorded'."""
    text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
    text = text.strip()
    return text.replace("_", " ") if text and text.lower() != "nan" else "not recorded"


def incomplete_months(
    claim_lines: pd.DataFrame, pending_share: float = 0.10, volume_share: float = 0.5
) -> tuple[list[pd.Timestamp], list[pd.Timestamp]]:
    """Trailing service months that are incomplete at the data cut-off, as (thin, pending):
    *thin* months have under ``volume_share`` of the median month's lines (a few days of
    data: left out of trend figures), *pending* months have more than ``pending_share`` of
    their billed dollars not yet remitted (shaded). Either would draw a false cliff."""
    if claim_lines.empty or "claim_status" not in claim_lines:
        return [], []
    month = claim_lines["service_date"].dt.to_period("M").dt.to_timestamp()
    lines = claim_lines.groupby(month).size().sort_index()
    pending = claim_lines["billed"].where(claim_lines["claim_status"].eq("pending"), 0.0)
    share = pending.groupby(month).sum() / claim_lines["billed"].groupby(month).sum()
    typical = float(lines.median())
    thin: list[pd.Timestamp] = []
    pend: list[pd.Timestamp] = []
    for m in reversed(lines.index):
        if not pend and lines[m] < volume_share * typical:
            thin.append(m)
        elif share.get(m, 0.0) > pending_share:
            pend.append(m)
        else:
            break
    return sorted(thin), sorted(pend)


def revenue_bars(table: pd.DataFrame, by: str, title: str) -> plt.Figure:
    """Stacked horizontal bars of paid / denied / other-unpaid dollars per group."""
    cols = [c for c in ("paid", "denied_billed", "unpaid_other") if c in table]
    data = table.assign(**{by: table[by].map(readable)}).set_index(by)[cols]
    data = data.sort_values(cols[0], ascending=True)
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(data) + 2.0))
    left = np.zeros(len(data))
    colours = {
        "paid": OUTCOME_COLOURS["paid"],
        "denied_billed": OUTCOME_COLOURS["denied"],
        "unpaid_other": OUTCOME_COLOURS["other"],
    }
    labels = {
        "paid": "paid",
        "denied_billed": "denied (billed)",
        "unpaid_other": "other unpaid (reductions, patient share, pending)",
    }
    for c in cols:
        ax.barh(
            data.index.astype(str), data[c].to_numpy(), left=left, color=colours[c], label=labels[c]
        )
        left = left + data[c].to_numpy()
    money_axis(ax, "x")
    ax.set_title(title)
    ax.set_xlabel("billed dollars")
    ax.set_ylabel("")
    legend_outside(ax)
    fig.tight_layout()
    return fig


def monthly_volume(claim_lines: pd.DataFrame) -> plt.Figure:
    """Billed dollars by service month and claim status; trailing months still mostly pending
    at the cut-off are shaded and named in the title, so their drop is not read as a trend."""
    df = claim_lines.assign(month=claim_lines["service_date"].dt.to_period("M").dt.to_timestamp())
    thin, partial = incomplete_months(claim_lines)
    df = df[~df["month"].isin(thin)]
    g = df.groupby(["month", "claim_status"], observed=True)["billed"].sum().reset_index()
    fig, ax = plt.subplots(figsize=(9, 3.8))
    sns.lineplot(data=g, x="month", y="billed", hue="claim_status", marker="o", ax=ax)
    money_axis(ax, "y")
    title = "Billed dollars by service month and outcome"
    notes = []
    if partial:
        start = partial[0] - pd.Timedelta(days=15)
        end = partial[-1] + pd.Timedelta(days=15)
        ax.axvspan(start, end, color="#bdbdbd", alpha=0.35, lw=0, label="still largely pending")
        notes.append(
            f"shaded: {', '.join(m.strftime('%b %Y') for m in partial)} not yet fully remitted"
        )
    if thin:
        notes.append(
            f"left out: {', '.join(m.strftime('%b %Y') for m in thin)} (a few days of data)"
        )
    if notes:
        title += "\n(" + "; ".join(notes) + ")"
    ax.set_title(title)
    ax.set_xlabel("")
    ax.set_ylabel("billed")
    legend_outside(ax, ncol=4, below=0.85)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig
