"""Figures and plain-English readings of the payer models (driven by results, never typed in).

Forest plots of payer effects with their 95% CIs, Kaplan-Meier curves of time to remittance,
each payer's monthly mix-adjusted payment index with its detected break, and the sentences
a consultant reads out ("Payer X denies 2.4 times the odds of the average payer, 95% CI ...").
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg", force=False)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from oonplaybook.payers.scorecard import PayerModels  # noqa: E402
from oonplaybook.plots import below_axes, legend_outside, log_axis  # noqa: E402

#: What each model's estimate means, for axis labels and readings.
MODEL_LABELS = {
    "denial_odds_ratio": "denial odds ratio vs the average payer",
    "paid_multiple_of_medicare": "allowed as a multiple of Medicare",
    "payment_hazard_ratio": "payment speed (hazard ratio) vs the average payer",
    "appeal_odds_ratio": "appeal overturn odds ratio vs the average payer",
}
_REF = {"denial_odds_ratio": 1.0, "payment_hazard_ratio": 1.0, "appeal_odds_ratio": 1.0}


def forest_plot(effects: pd.DataFrame) -> plt.Figure:
    """One panel per model: each payer's estimate and 95% CI (log scale for ratios)."""
    models = [
        m
        for m in MODEL_LABELS
        if m in set(effects["model"])
        and effects.loc[effects["model"] == m, "estimate"].notna().any()
    ]
    # two panels per row: at print width each panel stays ~3.5 in wide and its text legible
    ncol = min(2, max(len(models), 1))
    nrow = int(np.ceil(max(len(models), 1) / ncol))
    fig, axes = plt.subplots(
        nrow,
        ncol,
        figsize=(9, nrow * (0.42 * effects["payer"].nunique() + 1.6)),
        sharey=True,
        squeeze=False,
    )
    payers = sorted(effects["payer"].unique())
    ypos = {p: i for i, p in enumerate(payers)}
    for ax in axes.ravel()[len(models) :]:
        ax.set_visible(False)
    for ax, m in zip(axes.ravel(), models, strict=False):
        e = effects[(effects["model"] == m) & effects["estimate"].notna()]
        y = e["payer"].map(ypos).to_numpy()
        ax.errorbar(
            e["estimate"],
            y,
            xerr=[e["estimate"] - e["ci_low"], e["ci_high"] - e["estimate"]],
            fmt="o",
            color="#2b8cbe",
            ecolor="#555555",
            capsize=3,
        )
        if m in _REF:
            ax.axvline(_REF[m], color="#e34a33", lw=1, ls="--")
            lo = float(min(e["ci_low"].min(), _REF[m]))
            hi = float(max(e["ci_high"].max(), _REF[m]))
            ax.set_xscale("log")
            ax.set_xlim(lo / 1.15, hi * 1.15)
            log_axis(ax, "x", unit="")
        else:
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}x"))
        ax.set_title(_wrap(MODEL_LABELS[m]), fontsize=11)
        ax.set_yticks(range(len(payers)))
        ax.set_yticklabels(payers)
        ax.set_ylim(-0.6, len(payers) - 0.4)
        ax.invert_yaxis()
    fig.tight_layout()
    return fig


def km_plot(curves: pd.DataFrame, horizon: float = 120.0) -> plt.Figure:
    """Share of claims remitted by days since submission, per payer (Kaplan-Meier)."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    c = curves[curves["days"] <= horizon]
    for payer, g in c.groupby("payer", sort=True):
        ax.step(g["days"], 1 - g["unpaid"], where="post", label=payer)
        ax.fill_between(
            g["days"], 1 - g["unpaid_high"], 1 - g["unpaid_low"], step="post", alpha=0.15
        )
    from_service = curves.attrs.get("clock") == "service"  # no claim-received dates
    ax.set_xlabel(
        "days since the date of service (no claim-received dates)"
        if from_service
        else "days since the payer received the claim"
    )
    ax.set_ylabel("share of claims remitted")
    ax.set_ylim(0, 1)
    ax.axhline(0.5, color="#999999", lw=0.8, ls=":")
    legend_outside(ax, fontsize=9)
    ax.set_title("Time to payment (Kaplan-Meier)\nclaims not remitted by the cut-off are censored")
    fig.tight_layout()
    return fig


def drift_plot(index: pd.DataFrame, scorecard: pd.DataFrame) -> plt.Figure:
    """Monthly mix-adjusted payment index per payer (multiple of Medicare) with 95% bands,
    the detected break month and the before/after levels for flagged payers."""
    payers = sorted(index["payer"].unique())
    ncol = min(3, max(len(payers), 1))
    nrow = int(np.ceil(len(payers) / ncol)) if payers else 1
    fig, axes = plt.subplots(
        nrow, ncol, figsize=(11, 3.0 * nrow), squeeze=False, sharex=True, sharey=True
    )
    sc = scorecard.set_index("payer")
    index, dropped = drop_incomplete_last_month(index)
    for ax, p in zip(axes.ravel(), payers, strict=False):
        g = index[index["payer"] == p].sort_values("month")
        x = pd.PeriodIndex(g["month"], freq="M").to_timestamp()
        ax.plot(x, g["index"], marker="o", ms=3, color="#2b8cbe")
        ax.fill_between(
            x,
            np.exp(g["log_mean"] - 1.96 * g["log_se"]),
            np.exp(g["log_mean"] + 1.96 * g["log_se"]),
            alpha=0.2,
            color="#2b8cbe",
        )
        title = p
        if p in sc.index and bool(sc.loc[p, "drift_flag"]):
            b = pd.Period(sc.loc[p, "drift_month"], "M").to_timestamp()
            ax.axvline(b, color="#e34a33", ls="--", lw=1)
            title += f"\nbreak {sc.loc[p, 'drift_month']}: x{sc.loc[p, 'drift_size']:.2f}"
        ax.set_title(title, fontsize=10)
        ax.tick_params(axis="x", labelrotation=45, labelsize=9, labelbottom=True)
    for ax in axes.ravel()[len(payers) :]:
        ax.set_visible(False)
    fig.supylabel("allowed / Medicare (mix-adjusted)")
    if dropped:
        fig.suptitle(
            f"Incomplete last month left out (too few lines remitted by the cut-off): {dropped}",
            fontsize=10,
            color="#555555",
        )
    fig.tight_layout()
    return fig


def drop_incomplete_last_month(index: pd.DataFrame, share: float = 0.5) -> tuple[pd.DataFrame, str]:
    """The drift index without each payer's last month when it is incomplete (its line count
    under ``share`` of that payer's median month), and which were left out ("" if none).

    Claims of the last months are still being remitted at the cut-off; a month built on a
    handful of lines draws a false spike (e.g. 3.3x) or cliff.
    """
    if index.empty or "n" not in index:
        return index, ""
    drop = pd.Series(False, index=index.index)
    left_out: list[str] = []
    for payer, g in index.groupby("payer", sort=True):
        g = g.sort_values("month")
        if len(g) < 3:
            continue
        last = g.iloc[-1]
        if float(last["n"]) < share * float(g["n"].iloc[:-1].median()):
            drop[g.index[-1]] = True
            left_out.append(f"{payer} {last['month']}")
    return index[~drop], "; ".join(left_out)


def _wrap(text: str, width: int = 34) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))


def payment_spread_plot(paid: pd.DataFrame) -> plt.Figure:
    """Distribution of allowed/Medicare per payer: a repricer shows as a spike."""
    fig, ax = plt.subplots(figsize=(8, 4))
    d = paid[["payer", "ratio"]].copy()
    hi = float(d["ratio"].quantile(0.995)) if len(d) else 1.0
    sns.histplot(
        data=d[d["ratio"] <= hi],
        x="ratio",
        hue="payer",
        element="step",
        stat="density",
        common_norm=False,
        bins=80,
        ax=ax,
    )
    ax.set_xlabel("allowed as a multiple of Medicare (paid lines)")
    ax.set_title("How each payer's allowed amounts spread around its level")
    if ax.get_legend() is not None:
        sns.move_legend(
            ax,
            "upper center",
            bbox_to_anchor=(0.5, 0.0),
            bbox_transform=below_axes(ax, 0.6),
            ncol=3,
            frameon=False,
            title=None,
        )
    fig.tight_layout()
    return fig


def _ci(lo: float, hi: float, fmt: str = ".2f") -> str:
    return f"95% CI {lo:{fmt}}-{hi:{fmt}}"


def readings(pm: PayerModels) -> list[str]:
    """Plain-English sentences, one per finding, generated from the fitted results."""
    out: list[str] = []
    sc = pm.scorecard().sort_values("rank")
    eff = pm.payer_effects()
    for _, r in eff.iterrows():
        if pd.isna(r["estimate"]):
            continue
        p, est, lo, hi = r["payer"], r["estimate"], r["ci_low"], r["ci_high"]
        significant = (lo > 1 or hi < 1) if r["model"] != "paid_multiple_of_medicare" else True
        if r["model"] == "denial_odds_ratio" and significant:  # noqa: SIM114
            out.append(
                f"{p} denies {est:.2f} times the odds of the average payer for the same kind of "
                f"claim ({_ci(lo, hi)})."
            )
        elif r["model"] == "paid_multiple_of_medicare":
            now = sc.set_index("payer").loc[p]
            tail = "."
            if bool(now["drift_flag"]):
                tail = (
                    f" before {now['drift_month']}, and "
                    f"{now['current_multiple_of_medicare']:.2f}x since."
                )
            out.append(
                f"{p} allows {est:.2f}x Medicare on this practice's code mix ({_ci(lo, hi)}){tail}"
            )
        elif r["model"] == "payment_hazard_ratio" and significant:
            speed = "faster" if est > 1 else "slower"
            out.append(
                f"{p} pays {speed} than the average payer: hazard ratio {est:.2f} ({_ci(lo, hi)})."
            )
        elif r["model"] == "appeal_odds_ratio" and significant:
            word = "more" if est > 1 else "less"
            out.append(
                f"Appeals to {p} are {word} likely to be overturned: odds ratio {est:.2f} ({_ci(lo, hi)})."
            )
    for _, r in sc.iterrows():
        p = r["payer"]
        if pd.notna(r.get("median_days_to_pay")):
            start = (
                "of the date of service"
                if "date of service" in str(r.get("days_to_pay_clock", ""))
                else "of receipt"
            )
            out.append(
                f"Half of {p}'s claims are remitted within {r['median_days_to_pay']:.0f} days "
                f"{start} ({_ci(r['days_median_ci_low'], r['days_median_ci_high'], '.0f')} days)."
            )
        if r["drift_flag"]:
            change = "cut" if r["drift_size"] < 1 else "raised"
            out.append(
                f"{p} {change} its payment level by {abs(1 - r['drift_size']):.0%} from {r['drift_month']} "
                f"(after/before {r['drift_size']:.3f}, {_ci(r['drift_ci_low'], r['drift_ci_high'], '.3f')}; "
                f"break month between {r['drift_month_low']} and {r['drift_month_high']})."
            )
        if r["repricer_flag"] and r.get("repricer_level") == "formula / reference-based pricing":
            out.append(
                f"{p} prices by formula (reference-based pricing, no vendor named): "
                f"{r['repricer_evidence']}."
            )
        elif r["repricer_flag"]:
            out.append(f"{p} looks repriced: {r['repricer_evidence']}.")
        if r["improper_er_flag"]:
            out.append(
                f"{p} denied {r['improper_er_denials']} emergency claims for prior authorization or network "
                f"({r['improper_er_rate']:.0%} of its emergency claims), which the No Surprises Act does not allow "
                "(45 CFR 149.110(b)): appeal each one."
            )
    if len(sc):
        top = sc.iloc[0]
        out.append(
            f"First payer to work: {top['payer']} ({int(top['red_flags'])} red flags, "
            f"${top['dollars_at_stake']:,.0f} billed but not paid)."
        )
    return out


#: Scorecard columns shown to the client, in order, with readable names.
SCORECARD_VIEW = {
    "rank": "rank",
    "payer": "payer",
    "claims": "claims",
    "dollars_at_stake": "dollars at stake",
    "raw_denial_rate": "denial rate",
    "adjusted_denial_rate": "adjusted denial rate",
    "denial_odds_ratio": "denial OR",
    "paid_multiple_of_medicare": "x Medicare",
    "current_multiple_of_medicare": "x Medicare now",
    "median_days_to_pay": "median days",
    "payment_hazard_ratio": "speed HR",
    "appeal_overturn_rate": "appeal overturn",
    "drift_month": "drift month",
    "drift_size": "drift size",
    "repricer_level": "repricer",
    "improper_er_flag": "improper ER denials",
    "red_flags": "red flags",
}


def scorecard_view(scorecard: pd.DataFrame) -> pd.DataFrame:
    """The client-facing scorecard: key columns, readable names, sorted by rank."""
    cols = [c for c in SCORECARD_VIEW if c in scorecard.columns]
    view = dict(SCORECARD_VIEW)
    clock = scorecard["days_to_pay_clock"] if "days_to_pay_clock" in scorecard else None
    if clock is not None and clock.astype(str).str.contains("date of service").any():
        view["median_days_to_pay"] = "median days from service"  # no claim-received dates
    return scorecard.sort_values("rank")[cols].rename(columns=view).reset_index(drop=True)


def data_sentence(pm: PayerModels, benchmark_source: str) -> str:
    """What the models were fit on, and anything that could not be fit (Markdown)."""
    s = pm.lines_summary
    parts = [
        f"**{int(s['lines'].sum()):,} claim lines** ({int(s['claims'].sum()):,} claims) from "
        f"**{len(s)} payers**, data cut-off {pm.cutoff_date.date().isoformat()}. {benchmark_source}."
    ]
    parts += [f"- {n}" for n in pm.notes]
    parts += [f"- **not assessed: {k}**: {v}" for k, v in sorted(pm.errors.items())]
    return "\n".join(parts)


def messages_md(*results: object, none: str = "No data caveats for this model.") -> str:
    """The messages of the given results as a Markdown bullet list (``none`` when there are none)."""
    msgs = [m for r in results if r is not None for m in getattr(r, "messages", [])]
    return "\n".join(f"- {m}" for m in msgs) if msgs else f"*{none}*"
