"""Revenue at stake and the playbook's summary figures (the workbook itself: ``workbook.py``).

``revenue_at_stake`` answers "how much, where, and how much of it can we still get": billed and
paid from the claim lines; underpaid against target, denied, expected recoverable and already
lost from the worklist; by payer, specialty or route.
"""

from __future__ import annotations

import pandas as pd

from oonplaybook.workbook import (  # noqa: F401 (re-exported)
    WORKBOOK_MAX_ROWS,
    write_playbook_workbook,
    write_workbook,
)

STAKE_COLUMNS = [
    "billed",
    "paid",
    "underpaid_vs_target",
    "denied_at_stake",
    "at_stake",
    "expected_recoverable",
    "lost_revenue",
    "open_items",
    "lost_items",
]


def revenue_at_stake(claim_lines: pd.DataFrame, worklist: pd.DataFrame, by: str) -> pd.DataFrame:
    """Billed, paid, underpaid vs target, denied, expected recoverable and lost, per ``by`` value.

    ``by`` is ``"payer"``, ``"specialty"`` (billed/paid over all lines) or ``"route"`` (billed/paid
    of the worked claims only). A final ``All`` row totals the table. Sorted by at-stake dollars.
    """
    w = worklist.assign(
        open_items=worklist["status"].eq("open").astype("int64"),
        lost_items=worklist["status"].eq("lost").astype("int64"),
    )
    wg = w.groupby(by, sort=True).agg(
        underpaid_vs_target=("underpaid", "sum"),
        denied_at_stake=("denied_amount", "sum"),
        at_stake=("at_stake", "sum"),
        expected_recoverable=("expected_recovery", "sum"),
        lost_revenue=("lost_revenue", "sum"),
        open_items=("open_items", "sum"),
        lost_items=("lost_items", "sum"),
        billed_w=("billed", "sum"),
        paid_w=("paid", "sum"),
    )
    if by in claim_lines.columns:
        lg = claim_lines.groupby(by, sort=True).agg(billed=("billed", "sum"), paid=("paid", "sum"))
        out = lg.join(wg, how="outer")
    else:
        out = wg.rename(columns={"billed_w": "billed", "paid_w": "paid"})
    out = out.drop(columns=[c for c in ("billed_w", "paid_w") if c in out.columns])
    out = out.fillna(0.0)
    for c in ("open_items", "lost_items"):
        out[c] = out[c].astype("int64")
    out = out[STAKE_COLUMNS].sort_values(["at_stake", "billed"], ascending=False, kind="stable")
    total = out.sum(numeric_only=True).to_frame("All").T
    total.index.name = by
    out = pd.concat([out, total])
    out.index.name = by
    return out.round(2).reset_index()


def summary_sheet(
    claim_lines: pd.DataFrame,
    worklist: pd.DataFrame,
    batches: pd.DataFrame,
    protections: pd.DataFrame,
    *,
    client_name: str,
    as_of: str,
    specialties: list[str],
) -> pd.DataFrame:
    """The Summary sheet: one labelled figure per row, each saying what it counts.

    ``value`` holds numbers as numbers (dates as dates) and ``kind`` says how each row's value
    reads (money, count, date, text: :class:`formatting.Kind` values), so the workbook stores
    and formats every figure by its kind and the report can write it with ``format_value``.
    """
    open_ = worklist["status"].eq("open")
    status = worklist["status"].astype("str")
    worth = batches["worth_filing"].astype("bool") if len(batches) else pd.Series(dtype="bool")
    money = "money"
    rows: list[tuple[str, object, str, str]] = [
        ("Client", client_name, "text", "from params"),
        (
            "Deadlines counted to",
            pd.Timestamp(as_of),
            "date",
            "params playbook.as_of_date, else the data cut-off",
        ),
        (
            "Specialties",
            ", ".join(specialties),
            "text",
            "specialty profiles used for arguments and checklists",
        ),
        ("Claim lines", int(len(claim_lines)), "count", "all lines in scope"),
        ("Billed", round(float(claim_lines["billed"].sum()), 2), money, "sum of line charges"),
        ("Paid", round(float(claim_lines["paid"].sum()), 2), money, "sum of plan payments"),
        ("Worklist items (open)", int(open_.sum()), "count", "claims x routes still workable"),
        (
            "Worklist items (in progress)",
            int(status.eq("in_progress").sum()),
            "count",
            "appeals filed, decision pending",
        ),
        (
            "Write-offs",
            int(status.eq("write_off").sum()),
            "count",
            "items whose expected recovery does not cover the cost of working them",
        ),
        (
            "Lost items",
            int(status.eq("lost").sum()),
            "count",
            "items whose every deadline has passed",
        ),
        (
            "Underpaid against target",
            round(float(worklist["underpaid"].sum()), 2),
            money,
            "target less allowed, paid lines",
        ),
        (
            "Denied, at stake",
            round(float(worklist["denied_amount"].sum()), 2),
            money,
            "denied lines at the payer's usual rate",
        ),
        (
            "Expected recoverable",
            round(float(worklist.loc[open_, "expected_recovery"].sum()), 2),
            money,
            "open items: probability x amount, net of fees and work cost",
        ),
        (
            "Lost",
            round(float(worklist["lost_revenue"].sum()), 2),
            money,
            "expected value forgone (probability x amount) where every route has closed",
        ),
        (
            "IDR batches worth filing",
            int(worth.sum()),
            "count",
            "batches with positive net expected value",
        ),
        (
            "IDR expected value, net",
            round(float(batches.loc[worth, "ev_net"].sum()), 2) if len(batches) else 0.0,
            money,
            "sum over the batches worth filing",
        ),
        (
            "Claims that may not be balance-billed",
            int((~protections["balance_bill_allowed"].astype("bool")).sum()),
            "count",
            "NSA-protected or public plan, no valid consent",
        ),
        (
            "Patient responsibility above NSA cap",
            int(protections["patient_resp_exceeds_cap"].sum()),
            "count",
            "claims to refund or re-bill",
        ),
        (
            "Self-pay bills $400+ over the estimate",
            int(protections["ppdr_eligible"].sum()),
            "count",
            "patient-provider dispute eligible (45 CFR 149.620)",
        ),
    ]
    out = pd.DataFrame(rows, columns=["item", "value", "kind", "what it counts"])
    out["value"] = out["value"].astype("object")
    return out


def specialty_scope(
    claim_lines: pd.DataFrame, specialties: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(lines in scope, what was left out by specialty). ``generic`` in params keeps every line.

    The playbook is tailored to the specialties the client named; lines of other specialties are
    reported (count, billed) rather than silently dropped.
    """
    if "generic" in specialties:
        keep = pd.Series(True, index=claim_lines.index)
    else:
        keep = claim_lines["specialty"].astype("str").isin(specialties)
    left = (
        claim_lines[~keep]
        .groupby("specialty", sort=True)
        .agg(lines=("claim_id", "size"), claims=("claim_id", "nunique"), billed=("billed", "sum"))
        .reset_index()
    )
    return claim_lines[keep].copy(), left


def specialty_markdown(profile: object, targets: pd.DataFrame, worklist: pd.DataFrame) -> str:
    """One specialty's chapter: route, code families, IDR arguments, payer tactics, its numbers."""
    name = profile.name
    fams = list(profile.code_families)
    w = worklist[worklist["specialty"].eq(name)]
    routes = (
        w[w["status"].eq("open")]
        .groupby("route")["expected_recovery"]
        .agg(["size", "sum"])
        .sort_values("sum", ascending=False)
    )
    t = targets[targets["specialty"].eq(name)]
    lines = [
        f"### {profile.display_name}",
        "",
        f"**Preferred route:** {profile.preferred_route.replace('_', ' ')}. {profile.route_notes}",
        "",
        f"**Code families:** {', '.join(f.replace('_', ' ') for f in fams)}; IDR batching groups: "
        f"{', '.join(g.replace('_', ' ') for g in profile.idr_batching_groups)}.",
        "",
        f"**Notice and consent:** {'may' if profile.can_notice_consent_waive else 'can never'} waive NSA protection. {profile.notice_consent_basis}",
        "",
    ]
    if len(routes):
        lines.append(
            "**Open work by route:** "
            + "; ".join(
                f"{r.replace('_', ' ')} {int(n):,} items, ${v:,.0f} expected"
                for r, (n, v) in routes.iterrows()
            )
            + "."
        )
        lines.append("")
    if len(t):
        top = t.sort_values("n_lines", ascending=False).head(3)
        lines.append("**Targets (largest families):**")
        for r in top.itertuples():
            lines.append(
                f"- {r.payer} / {r.code_family.replace('_', ' ')}: ask {r.opening_ask_x:.2f}x, target {r.target_x:.2f}x, walk away at {r.walk_away_x:.2f}x Medicare. {r.target_rationale}."
            )
        lines.append("")
    lines.append("**Arguments for IDR (additional circumstances only):**")
    for a in profile.idr_arguments:
        lines.append(f"- *{a.factor.replace('_', ' ')}*: {a.argument}")
    lines += ["", "**Payer tactics to expect and the counter:**"]
    for tac in profile.payer_tactics:
        codes = f" ({', '.join(tac.carcs)})" if tac.carcs else ""
        lines.append(f"- {tac.tactic}{codes}: {tac.counter}")
    return "\n".join(lines)


def headline_markdown(worklist: pd.DataFrame, batches: pd.DataFrame, as_of: str) -> str:
    """The chapter's opening paragraph: what can still be recovered, by when, and what is lost."""
    open_ = worklist[worklist["status"].eq("open")]
    ev = float(open_["expected_recovery"].sum())
    lost = float(worklist["lost_revenue"].sum())
    soon = open_[(open_["days_left"].astype("float64") <= 14)]
    worth = batches[batches["worth_filing"].astype("bool")] if len(batches) else batches
    parts = [
        f"As of **{as_of}**, **{len(open_):,} work items** can still recover an expected **${ev:,.0f}** "
        f"(probability-weighted, net of IDR fees and the cost of working each claim).",
        f"**{len(soon):,}** of them have a deadline within 14 days (expected ${float(soon['expected_recovery'].sum()):,.0f}).",
    ]
    if len(worth):
        parts.append(
            f"**{len(worth):,} IDR batches** are worth filing, with a net expected value of ${float(worth['ev_net'].sum()):,.0f}."
        )
    parts.append(
        f"Already lost to missed deadlines: an expected **${lost:,.0f}** on {int(worklist['status'].eq('lost').sum()):,} items "
        "(shown in the worklist, not dropped)."
    )
    return " ".join(parts)


def stake_figure(table: pd.DataFrame, by: str, title: str) -> object:
    """Horizontal bars per group: expected recoverable vs lost vs the rest of the at-stake dollars."""
    import matplotlib.pyplot as plt

    t = table[table[by].astype("str") != "All"].head(12).iloc[::-1]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(t) + 1.5))
    y = range(len(t))
    rest = (t["at_stake"] - t["expected_recoverable"] - t["lost_revenue"]).clip(lower=0)
    ax.barh(y, t["expected_recoverable"], color="#2a9d8f", label="expected recoverable")
    ax.barh(
        y,
        t["lost_revenue"],
        left=t["expected_recoverable"],
        color="#e76f51",
        label="lost (deadline passed)",
    )
    ax.barh(
        y,
        rest,
        left=t["expected_recoverable"] + t["lost_revenue"],
        color="#d9d9d9",
        label="rest of at-stake",
    )
    ax.set_yticks(list(y), [str(v).replace("_", " ") for v in t[by]])
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _p: f"${v / 1e3:,.0f}k"))
    ax.set_title(title)
    from oonplaybook.plots import legend_outside

    legend_outside(ax)  # under the plot: "lower right" covered the smallest payers' bars
    fig.tight_layout()
    return fig
