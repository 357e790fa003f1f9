"""Revenue at stake from the ingest stage: billed, allowed, paid and denied dollars by group.

``denied_billed`` is the billed charge of denied lines (what the provider asked for and got
nothing); ``unpaid_other`` is the rest of billed not paid (contractual reductions on paid lines,
patient responsibility and pending claims), so paid + denied_billed + unpaid_other = billed.
"""

from __future__ import annotations

import pandas as pd


def revenue_at_stake(claim_lines: pd.DataFrame, by: str | list[str]) -> pd.DataFrame:
    """Billed, allowed, paid, patient responsibility and denied dollars per group."""
    keys = [by] if isinstance(by, str) else list(by)
    df = claim_lines.assign(
        denied_billed=claim_lines["billed"].where(claim_lines["claim_status"] == "denied", 0.0),
        pending_billed=claim_lines["billed"].where(claim_lines["claim_status"] == "pending", 0.0),
        denied_line=(claim_lines["claim_status"] == "denied").astype("int64"),
    )
    g = df.groupby(keys, observed=True).agg(
        claims=("claim_id", "nunique"),
        lines=("claim_id", "size"),
        billed=("billed", "sum"),
        allowed=("allowed", "sum"),
        paid=("paid", "sum"),
        patient_resp=("patient_resp", "sum"),
        denied_lines=("denied_line", "sum"),
        denied_billed=("denied_billed", "sum"),
        pending_billed=("pending_billed", "sum"),
    )
    g["unpaid_other"] = (g["billed"] - g["paid"] - g["denied_billed"]).clip(lower=0.0)
    g["paid_share_of_billed"] = (g["paid"] / g["billed"]).where(g["billed"] > 0)
    g["denial_rate_lines"] = g["denied_lines"] / g["lines"]
    return g.sort_values("billed", ascending=False).reset_index()


def totals(claim_lines: pd.DataFrame) -> pd.Series:
    """Portfolio totals (the 'All' row of the revenue tables)."""
    t = revenue_at_stake(claim_lines.assign(_all="all"), "_all").drop(columns="_all").iloc[0]
    t.name = "all"
    return t


def headline(claim_lines: pd.DataFrame) -> str:
    """Markdown headline of portfolio revenue at stake."""
    t = totals(claim_lines)
    return (
        f"Billed **${t['billed']:,.0f}**, paid **${t['paid']:,.0f}** "
        f"({t['paid_share_of_billed']:.1%} of billed). Denied lines carry **${t['denied_billed']:,.0f}** "
        f"of charges ({t['denial_rate_lines']:.1%} of lines); claims still pending carry "
        f"${t['pending_billed']:,.0f}."
    )
