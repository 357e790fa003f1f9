"""Revenue at stake and the workbook a consultant hands a client.

``revenue_at_stake`` answers "how much, where, and how much of it can we still get": billed and
paid from the claim lines; underpaid against target, denied, expected recoverable and already
lost from the worklist; by payer, specialty or route.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from oonplaybook import report

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
    """The Summary sheet: one labelled figure per row, each saying what it counts."""
    open_ = worklist["status"].eq("open")
    rows = [
        ("Client", client_name, "from params"),
        ("Deadlines counted to", as_of, "params playbook.as_of_date, else the data cut-off"),
        (
            "Specialties",
            ", ".join(specialties),
            "specialty profiles used for arguments and checklists",
        ),
        ("Claim lines", int(len(claim_lines)), "all lines read"),
        ("Billed", round(float(claim_lines["billed"].sum()), 2), "sum of line charges"),
        ("Paid", round(float(claim_lines["paid"].sum()), 2), "sum of plan payments"),
        ("Worklist items (open)", int(open_.sum()), "claims x routes still workable"),
        (
            "Underpaid vs target",
            round(float(worklist["underpaid"].sum()), 2),
            "target less allowed, paid lines",
        ),
        (
            "Denied, at stake",
            round(float(worklist["denied_amount"].sum()), 2),
            "denied lines at the payer's usual rate",
        ),
        (
            "Expected recoverable",
            round(float(worklist.loc[open_, "expected_recovery"].sum()), 2),
            "probability x amount, net of fees and work cost",
        ),
        (
            "Lost (deadline passed)",
            round(float(worklist["lost_revenue"].sum()), 2),
            "at-stake dollars whose every route has closed",
        ),
        (
            "IDR batches worth filing",
            int(batches["worth_filing"].sum()) if len(batches) else 0,
            "batches with positive net EV",
        ),
        (
            "IDR expected value, net",
            round(float(batches.loc[batches["worth_filing"], "ev_net"].sum()), 2)
            if len(batches)
            else 0.0,
            "sum over worthwhile batches",
        ),
        (
            "Claims that may not be balance-billed",
            int((~protections["balance_bill_allowed"]).sum()),
            "NSA-protected, no valid consent",
        ),
        (
            "Patient responsibility above NSA cap",
            int(protections["patient_resp_exceeds_cap"].sum()),
            "claims to refund or re-bill",
        ),
        (
            "Self-pay bills $400+ over GFE",
            int(protections["ppdr_eligible"].sum()),
            "patient-provider dispute eligible (45 CFR 149.620)",
        ),
    ]
    return pd.DataFrame(rows, columns=["item", "value", "what it counts"]).astype({"value": "str"})


def write_workbook(path: str | Path, sheets: Mapping[str, pd.DataFrame]) -> Path:
    """Write the playbook workbook: formatted headers, widths, money formats, frozen header row.

    Formatting is :func:`oonplaybook.report.write_workbook`'s (shared with ``summary.xlsx``);
    here long text columns (rationales, documents) are wrapped and capped in width.
    """
    from openpyxl import load_workbook
    from openpyxl.styles import Alignment

    path = report.write_workbook(path, sheets)
    wb = load_workbook(path)
    wrap_hints = ("rationale", "documents", "explanation", "evidence", "what it counts", "disputes")
    for ws in wb.worksheets:
        for cell in ws[1]:
            name = str(cell.value or "")
            if any(h in name for h in wrap_hints):
                letter = cell.column_letter
                ws.column_dimensions[letter].width = 60
                for c in ws[letter][1:]:
                    c.alignment = Alignment(wrap_text=True, vertical="top")
    wb.save(path)
    return path
