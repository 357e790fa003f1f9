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


def revenue_bars(table: pd.DataFrame, by: str, title: str) -> plt.Figure:
    """Stacked horizontal bars of paid / denied / other-unpaid dollars per group."""
    cols = [c for c in ("paid", "denied_billed", "unpaid_other") if c in table]
    data = table.set_index(by)[cols].sort_values(cols[0], ascending=True)
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(data) + 1.5))
    left = np.zeros(len(data))
    colours = {
        "paid": OUTCOME_COLOURS["paid"],
        "denied_billed": OUTCOME_COLOURS["denied"],
        "unpaid_other": OUTCOME_COLOURS["other"],
    }
    labels = {
        "paid": "paid",
        "denied_billed": "denied (billed)",
        "unpaid_other": "billed, not paid (reduced or pending)",
    }
    for c in cols:
        ax.barh(
            data.index.astype(str), data[c].to_numpy(), left=left, color=colours[c], label=labels[c]
        )
        left = left + data[c].to_numpy()
    money_axis(ax, "x")
    ax.set_title(title)
    ax.set_xlabel("dollars")
    ax.set_ylabel("")
    ax.legend(loc="lower right", frameon=False)
    fig.tight_layout()
    return fig


def monthly_volume(claim_lines: pd.DataFrame) -> plt.Figure:
    """Billed dollars by service month and claim status."""
    df = claim_lines.assign(month=claim_lines["service_date"].dt.to_period("M").dt.to_timestamp())
    g = df.groupby(["month", "claim_status"], observed=True)["billed"].sum().reset_index()
    fig, ax = plt.subplots(figsize=(9, 3.5))
    sns.lineplot(data=g, x="month", y="billed", hue="claim_status", marker="o", ax=ax)
    money_axis(ax, "y")
    ax.set_title("Billed dollars by service month and outcome")
    ax.set_xlabel("")
    ax.set_ylabel("billed")
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig
