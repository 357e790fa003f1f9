"""One formatting layer for everything a person reads: report tables and workbook columns.

Every column has a :class:`Kind` (money, percent, multiple, p-value, count, days, date, text,
code, yes/no), found by :func:`kind_of` from its name and dtype (or given explicitly). The kind
decides how a value is written in the report (:func:`format_value`, :func:`format_table`,
:func:`to_html`) and which number format its workbook column gets (:data:`EXCEL_FORMATS`), so
"1.85x", "$12,345" and "28.0%" look the same in every chapter and every sheet. Headers come from
:func:`label` (one table of known column names, then a readable fallback).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

#: What a missing value looks like in a report table.
MISSING = "—"


class Kind(StrEnum):
    """How a column's values are written for people (report) and stored (workbook)."""

    MONEY = "money"  # $12,345 (no cents from $1,000), $123.45 below
    MONEY_CENTS = "money_cents"  # always cents: fees, per-line amounts
    PERCENT = "percent"  # 0.28 -> 28.0%
    MULTIPLE = "multiple"  # 1.853 -> 1.85x
    P_VALUE = "p_value"  # 0.0004 -> <0.001
    COUNT = "count"  # integers with thousands separators
    NUMBER = "number"  # other quantities: two decimals
    DAYS = "days"  # whole days
    DATE = "date"  # 2026-02-09
    TEXT = "text"  # free text, wrapped in the report
    CODE = "code"  # identifiers and codes: written as they are, never as numbers
    YES_NO = "yes_no"  # booleans as yes / no


#: xlsx number formats by kind (xlsxwriter/openpyxl ``num_format``). Money drops cents at
#: $1,000 and above, as the report does. Text and codes are stored as text ("@").
EXCEL_FORMATS: dict[Kind, str] = {
    Kind.MONEY: '[>=1000]"$"#,##0;[<=-1000]-"$"#,##0;"$"#,##0.00',
    Kind.MONEY_CENTS: '"$"#,##0.00',
    Kind.PERCENT: "0.0%",
    Kind.MULTIPLE: '0.00"x"',
    Kind.P_VALUE: "0.0000",
    Kind.COUNT: "#,##0",
    Kind.NUMBER: "#,##0.00",
    Kind.DAYS: "0",
    Kind.DATE: "yyyy-mm-dd",
    Kind.TEXT: "@",
    Kind.CODE: "@",
    Kind.YES_NO: "@",
}

#: Tables with more columns than this print in a smaller type (class ``wide``).
WIDE_COLUMNS = 8

#: Tables of at most this many rows are kept on one printed page (no orphaned header).
KEEP_TOGETHER_ROWS = 16

#: Group columns whose values are vocabulary words ("open_negotiation"): written with spaces.
WORD_VALUE_COLUMNS = frozenset(
    {
        "specialty",
        "code_family",
        "route",
        "plan_type",
        "denial_group",
        "next_step",
        "status",
        "model",
    }
)

#: Kinds whose report cells are right-aligned (numbers).
NUMERIC_KINDS = frozenset(
    {
        Kind.MONEY,
        Kind.MONEY_CENTS,
        Kind.PERCENT,
        Kind.MULTIPLE,
        Kind.P_VALUE,
        Kind.COUNT,
        Kind.NUMBER,
        Kind.DAYS,
    }
)

# --- column names -----------------------------------------------------------------------------

#: Human headers for the column names the stages write. Anything else goes through the fallback
#: in :func:`label`.
LABELS: dict[str, str] = {
    "rank": "Rank",
    "claim_id": "Claim",
    "line_no": "Line",
    "patient_key": "Patient key",
    "payer": "Payer",
    "specialty": "Specialty",
    "plan_type": "Plan type",
    "route": "Route",
    "status": "Status",
    "code_family": "Code family",
    "cpt": "Code",
    "cpts": "Codes",
    "billed_cpt": "Code billed",
    "codes": "Codes",
    "carc": "Reason code (CARC)",
    "denial_group": "Denial type",
    "service_date": "Service date",
    "remit_date": "Remit date",
    "deadline": "Deadline",
    "days_left": "Days left",
    "claims": "Claims",
    "lines": "Lines",
    "n_lines": "Lines",
    "n_claims": "Claims",
    "n": "N",
    "records": "Records",
    "billed": "Billed",
    "allowed": "Allowed",
    "paid": "Paid",
    "patient_resp": "Patient responsibility",
    "denied_lines": "Denied lines",
    "denied_billed": "Denied (billed)",
    "pending_billed": "Pending (billed)",
    "unpaid_other": "Other unpaid (reductions, patient share, pending)",
    "paid_share_of_billed": "Paid / billed",
    "denial_rate_lines": "Denial rate (lines)",
    "underpaid": "Underpaid against target",
    "underpaid_vs_target": "Underpaid against target",
    "denied_amount": "Denied, at stake",
    "denied_at_stake": "Denied, at stake",
    "at_stake": "At stake",
    "dollars_at_stake": "Billed not paid",
    "dollars at stake": "Billed not paid",
    "denial rate": "Denial rate",
    "adjusted denial rate": "Adjusted denial rate",
    "denial OR": "Denial odds ratio",
    "x Medicare": "Allowed (x Medicare)",
    "x Medicare now": "Allowed now (x Medicare)",
    "median days": "Median days to pay",
    "speed HR": "Payment speed (hazard ratio)",
    "appeal overturn": "Appeal overturn rate",
    "drift month": "Payment change from",
    "drift size": "Payment change (new / old)",
    "repricer": "Repricer",
    "improper ER denials": "Improper ER denials",
    "red flags": "Red flags",
    "odds_ratio": "Odds ratio",
    "raw_denial_rate": "Denial rate (raw)",
    "multiple": "Allowed (x Medicare)",
    "current_multiple": "Allowed now (x Medicare)",
    "current_ci_low": "Now: 95% CI low",
    "current_ci_high": "Now: 95% CI high",
    "median_days": "Median days to pay",
    "median_ci_low": "95% CI low (days)",
    "median_ci_high": "95% CI high (days)",
    "remitted": "Remitted",
    "censored": "Still open at cut-off",
    "appeals": "Appeals",
    "overturned": "Overturned",
    "overturn_rate": "Overturn rate",
    "rate_ci_low": "95% CI low",
    "rate_ci_high": "95% CI high",
    "term": "Payer / term",
    "flagged": "Flagged",
    "p_holm": "p-value (Holm)",
    "break_month": "Break month",
    "level_before": "Level before (x Medicare)",
    "level_after": "Level after (x Medicare)",
    "improper_denials": "Improper denials",
    "excess_rate": "Excess denial rate",
    "share_near_median": "Share near the median",
    "mark_share": "Share naming a repricer",
    "vendors": "Vendors named",
    "carc45_share": "Share reduced with CARC 45",
    "evidence": "Evidence",
    "kind": "Kind",
    "files": "Files",
    "claims_rejected": "Claims rejected",
    "spread_p75_over_p25": "Spread (p75 / p25)",
    "expected_recovery": "Expected recoverable",
    "expected_recoverable": "Expected recoverable",
    "lost_revenue": "Lost",
    "open_items": "Open items",
    "lost_items": "Lost items",
    "probability": "Probability",
    "priority": "Priority",
    "urgency": "Urgency",
    "next_step": "Next step",
    "documents_needed": "Documents needed",
    "letter": "Letter",
    "target": "Target",
    "opening_ask": "Opening ask",
    "walk_away": "Walk-away",
    "current_x": "Paid now (x Medicare)",
    "market_x": "Market (x Medicare)",
    "ucr_p80_x": "UCR p80 (x Medicare)",
    "billed_x": "Billed (x Medicare)",
    "qpa_x": "QPA (x Medicare)",
    "opening_ask_x": "Opening ask (x Medicare)",
    "target_x": "Target (x Medicare)",
    "walk_away_x": "Walk-away (x Medicare)",
    "idr_p_win": "IDR win probability",
    "idr_award_x_qpa": "IDR award (x QPA)",
    "target_pct_billed": "Target (% of billed)",
    "median_medicare": "Medicare (median line)",
    "nsa_share": "NSA share",
    "target_rationale": "Why this target",
    "opening_rationale": "Why this opening ask",
    "walk_away_rationale": "Why this walk-away",
    "payer_evidence": "Payer evidence",
    "nsa_applies": "NSA applies",
    "notice_consent": "Notice and consent",
    "consent_valid": "Consent valid",
    "balance_bill_allowed": "May balance-bill",
    "patient_cost_share_cap": "Patient cost-share cap",
    "patient_resp_exceeds_cap": "Above cap",
    "excess_over_cap": "Excess over cap",
    "gfe_amount": "Good-faith estimate",
    "bill_over_gfe": "Bill over estimate",
    "ppdr_eligible": "Dispute eligible",
    "ppdr_window_end": "Dispute window ends",
    "may_bill_patient": "May bill patient",
    "max_patient_bill": "Most the patient may be billed",
    "explanation": "Explanation",
    "batch_id": "Batch",
    "provider_tin": "Provider TIN",
    "idr_code_group": "IDR code group",
    "first_service": "First service",
    "last_service": "Last service",
    "initiate_by": "Initiate IDR by",
    "offer_total": "Offer",
    "paid_total": "Paid",
    "qpa_total": "QPA",
    "p_win": "Win probability",
    "ev_gross": "Expected value, gross",
    "admin_fee": "Administrative fee",
    "idre_fee": "IDR entity fee",
    "expected_fees": "Expected fees",
    "ev_net": "Expected value, net",
    "ev_net_if_single": "Net if filed singly",
    "batching_gain": "Gain from batching",
    "worth_filing": "Worth filing",
    "median": "Median",
    "geo_mean": "Geometric mean",
    "ci_low": "95% CI low",
    "ci_high": "95% CI high",
    "p25": "25th percentile",
    "p75": "75th percentile",
    "medicare": "Medicare",
    "gap_to_medicare": "Gap to Medicare",
    "model": "Model",
    "estimate": "Estimate",
    "p_value": "p-value",
    "note": "Note",
    "reason": "Reason",
    "field": "Field",
    "missing_lines": "Lines missing it",
    "missing_share": "Share missing",
    "needed_by": "Needed by",
    "benchmark": "Benchmark",
    "share": "Share",
    "source": "Source",
    "vintage": "Vintage",
    "billed_multiple_median": "Billed, median (x Medicare)",
    "published_multiple": "Published (x Medicare)",
    "published_label": "Published figure",
    "ratio_to_published": "Ratio to published",
    "measure": "Measure",
    "value": "Value",
    "item": "Item",
    "file": "File",
    "location": "Where",
    "check": "Check",
    "difference": "Difference",
    "prompt_pay_interest": "Prompt-pay interest",
    "state_law": "State law",
    "idr_eligible": "IDR eligible",
    "idr_candidate": "IDR candidate",
}

_CODE_NAMES = frozenset(
    {
        "claim_id",
        "patient_key",
        "cpt",
        "cpts",
        "billed_cpt",
        "codes",
        "carc",
        "rarc",
        "carcs",
        "batch_id",
        "provider_tin",
        "tin",
        "npi",
        "pos",
        "modifiers",
        "locality",
        "zip",
        "code",
        "hcpcs",
        "disputes",
        "drift month",
        "drift_month",
        "drift_month_low",
        "drift_month_high",
        "idr_code_group",
        "letter",  # a file name: breaks after "_" or "/" only
        "file",
    }
)
#: Kinds of known columns whose names the rules below would misread.
KNOWN_KINDS: dict[str, Kind] = {
    "patient_cost_share_cap": Kind.MONEY,
    "max_patient_bill": Kind.MONEY,
    "median_medicare": Kind.MONEY_CENTS,
    "priority": Kind.MONEY,
    "urgency": Kind.NUMBER,
    "mix_score": Kind.NUMBER,
    "drift size": Kind.MULTIPLE,  # the new level over the old: 0.72x is a 28% cut
    "drift_size": Kind.MULTIPLE,
    "drift_ci_low": Kind.MULTIPLE,
    "drift_ci_high": Kind.MULTIPLE,
    "level_before": Kind.MULTIPLE,
    "level_after": Kind.MULTIPLE,
    "spread_p75_over_p25": Kind.MULTIPLE,
    "log_sd": Kind.NUMBER,
    "log_spread": Kind.NUMBER,
    "sup_f": Kind.NUMBER,
    "batching_gain": Kind.MONEY,
    "unpaid_other": Kind.MONEY,
    "rank": Kind.COUNT,
    "needed_by": Kind.TEXT,
    "initiate_by": Kind.DATE,
}
_ISO_DATE = r"\d{4}-\d{2}-\d{2}"
_DATE_NAMES = re.compile(r"(_date|^deadline|_end|_service|^date)$")
_PVALUE = re.compile(r"(^p_value$|_p$|_p_holm$|^p-value$|^p$|p_holm)")
_MULTIPLE = re.compile(
    r"(_x$|_x_|multiple|x medicare|^idr_award|odds_ratio|hazard_ratio|ratio_to_published"
    r"|\bor\b|\bhr\b|^estimate$)"
)
_PERCENT = re.compile(r"(share|rate|probability|p_win|pct|overturn|percent)")
_DAYS = re.compile(r"(days)")
_COUNT = re.compile(
    r"(^rank$|^n$|^n_|lines$|claims$|^records$|items$|^count$|red flags|red_flags|^appeals$"
    r"|_lines$|^line_no$)"
)
_MONEY = re.compile(
    r"(billed|allowed|paid|resp|amount|qpa|medicare|recover|underpaid|target|ask|walk|fee"
    r"|offer|stake|^ev_|_ev$|^ev$|gap|ucr|lost|interest|excess|gfe|cap|priority|total"
    r"|difference|unpaid|gain|below \(\$\)|\(\$\))"
)
_CENTS = re.compile(r"(fee|interest|difference|median_medicare)")


def kind_of(column: str, series: pd.Series | None = None) -> Kind:
    """The :class:`Kind` of a column from its name and, when given, its values' dtype.

    Name rules decide among numeric kinds; the dtype decides dates, booleans and text (a
    text column of numbers is still text unless its name says code). Deterministic.
    """
    c = str(column).strip().lower()
    known = KNOWN_KINDS.get(c)
    if series is not None:
        if pd.api.types.is_bool_dtype(series):
            return Kind.YES_NO
        if pd.api.types.is_datetime64_any_dtype(series):
            return Kind.DATE
        if c in _CODE_NAMES:
            return Kind.CODE
        if not pd.api.types.is_numeric_dtype(series):
            non_null = series.dropna()
            if len(non_null) and non_null.map(lambda v: isinstance(v, bool | np.bool_)).all():
                return Kind.YES_NO
            if len(non_null) and set(non_null.astype("str").unique()) <= {"True", "False", ""}:
                return Kind.YES_NO
            if len(non_null) and non_null.map(lambda v: isinstance(v, date | pd.Timestamp)).all():
                return Kind.DATE
            if len(non_null) and non_null.astype("str").str.fullmatch(_ISO_DATE).all():
                return Kind.DATE  # ISO dates read back from a CSV as text
            return Kind.TEXT
    elif c in _CODE_NAMES:
        return Kind.CODE
    if known is not None:
        return known
    if _PVALUE.search(c):
        return Kind.P_VALUE
    if series is None and _DATE_NAMES.search(c):
        return Kind.DATE
    if _MULTIPLE.search(c):
        return Kind.MULTIPLE
    if _DAYS.search(c):
        return Kind.DAYS
    if _PERCENT.search(c):
        if series is not None and pd.api.types.is_integer_dtype(series):
            return Kind.COUNT  # a share is never stored as an integer ("overturned": 52)
        return Kind.PERCENT
    if _COUNT.search(c):
        return Kind.COUNT
    if _MONEY.search(c):
        return Kind.MONEY_CENTS if _CENTS.search(c) else Kind.MONEY
    if series is not None and pd.api.types.is_integer_dtype(series):
        return Kind.COUNT
    if series is None:
        return Kind.TEXT
    return Kind.NUMBER


def label(column: str) -> str:
    """A human header for a column: from :data:`LABELS`, else the name made readable."""
    name = str(column)
    if name in LABELS:
        return LABELS[name]
    if name.lower() in LABELS:
        return LABELS[name.lower()]
    if " " in name or any(ch.isupper() for ch in name):
        return name[:1].upper() + name[1:]  # already written for people
    text = name.replace("_", " ").strip()
    text = re.sub(r"\bx\b$", "(x Medicare)", text)
    return text[:1].upper() + text[1:]


# --- values -----------------------------------------------------------------------------------


def is_missing(value: Any) -> bool:
    """True for None, NaN, NaT, pd.NA and empty strings."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, np.floating) and np.isnan(value):
        return True
    if isinstance(value, str) and value.strip() in ("", "nan", "NaN", "NaT", "None", "<NA>"):
        return True
    return False


def money(value: float, *, cents: bool | None = None) -> str:
    """Dollars with thousands separators; cents only below $1,000 (or always/never by ``cents``)."""
    v = float(value)
    show_cents = (abs(v) < 1000) if cents is None else cents
    if show_cents:
        text = f"${abs(v):,.2f}"
    else:
        text = f"${abs(round(v)):,.0f}"
    return f"-{text}" if v < 0 and text not in ("$0", "$0.00") else text


def format_value(value: Any, kind: Kind | str) -> str:
    """One value written for a person by its kind; missing values as :data:`MISSING`."""
    kind = Kind(kind)
    if is_missing(value):
        return MISSING
    if kind is Kind.YES_NO:
        if isinstance(value, str):
            low = value.strip().lower()
            if low in ("true", "yes", "1"):
                return "yes"
            if low in ("false", "no", "0"):
                return "no"
            return value
        return "yes" if bool(value) else "no"
    if kind is Kind.DATE:
        if isinstance(value, str):
            try:
                value = pd.Timestamp(value)
            except (ValueError, TypeError):
                return value
        if isinstance(value, pd.Timestamp | datetime):
            return value.strftime("%Y-%m-%d")
        if isinstance(value, date):
            return value.isoformat()
        return str(value)
    if kind in (Kind.TEXT, Kind.CODE):
        if isinstance(value, bool | np.bool_):
            return "yes" if value else "no"
        if kind is Kind.CODE and isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    if kind is Kind.MONEY:
        return money(v)
    if kind is Kind.MONEY_CENTS:
        return money(v, cents=True)
    if kind is Kind.PERCENT:
        return f"{v:.1%}"
    if kind is Kind.MULTIPLE:
        return f"{v:,.2f}x"
    if kind is Kind.P_VALUE:
        return "<0.001" if v < 0.001 else f"{v:.3f}"
    if kind in (Kind.COUNT, Kind.DAYS):
        return f"{round(v):,d}"
    return f"{v:,.2f}"


def _series_kinds(df: pd.DataFrame, kinds: Mapping[str, Kind | str] | None) -> dict[str, Kind]:
    given = {str(k): Kind(v) for k, v in (kinds or {}).items()}
    return {str(c): given.get(str(c)) or kind_of(str(c), df[c]) for c in df.columns}


#: Labels for blank group keys, by column: a group with no value is named, never a blank row.
BLANK_GROUPS: dict[str, str] = {
    "specialty": "specialty not recorded",
    "payer": "payer not recorded",
    "code_family": "code family not assigned",
    "plan_type": "plan type not recorded",
    "route": "no route",
}


def label_blank_groups(df: pd.DataFrame, columns: Mapping[str, str] | None = None) -> pd.DataFrame:
    """``df`` with blank values of group columns (e.g. specialty) replaced by their label."""
    out = df.copy()
    for col, text in (columns or BLANK_GROUPS).items():
        if col in out.columns and not pd.api.types.is_numeric_dtype(out[col]):
            s = out[col].astype("object")
            out[col] = s.where(~s.map(is_missing), text)
    return out


def plain_frame(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with a 0..n-1 index: a named index (a groupby key) becomes columns, an unnamed
    one (row labels left by filtering or sorting, e.g. 55, 67, 79) is dropped."""
    if isinstance(df.index, pd.RangeIndex) and df.index.start == 0 and df.index.step == 1:
        return df
    if all(n is None for n in df.index.names):
        return df.reset_index(drop=True)
    return df.reset_index()


def format_table(
    df: pd.DataFrame,
    *,
    kinds: Mapping[str, Kind | str] | None = None,
    labels: Mapping[str, str] | None = None,
    columns: list[str] | None = None,
) -> pd.DataFrame:
    """``df`` as text for people: values by kind, human headers, blank groups labelled, no index.

    ``columns`` picks and orders columns; ``kinds`` and ``labels`` override the rules for some.
    A named index (e.g. from ``groupby``) becomes ordinary columns first; an unnamed one is dropped.
    """
    frame = plain_frame(df)
    if columns is not None:
        frame = frame[columns]
    frame = label_blank_groups(frame)
    ks = _series_kinds(frame, kinds)
    for c in frame.columns:
        if str(c) in WORD_VALUE_COLUMNS and ks[str(c)] in (Kind.TEXT, Kind.CODE):
            frame[c] = frame[c].map(lambda v: v.replace("_", " ") if isinstance(v, str) else v)
    out = pd.DataFrame(
        {c: [format_value(v, ks[str(c)]) for v in frame[c].tolist()] for c in frame.columns},
        index=pd.RangeIndex(len(frame)),
    )
    names = {str(c): (labels or {}).get(str(c)) or label(str(c)) for c in frame.columns}
    out.columns = [names[str(c)] for c in frame.columns]
    return out


def rest_note(shown: int, total: int, where_rest: str | None) -> str:
    """ "Showing 15 of 12,411: the rest are in playbook.xlsx › Worklist" (empty when all shown)."""
    if total <= shown:
        return ""
    where = where_rest or "the run's artifacts"
    return f"Showing {shown:,} of {total:,}: the rest are in {where}."


def to_html(
    df: pd.DataFrame,
    caption: str = "",
    *,
    total_rows: int | None = None,
    where_rest: str | None = None,
    limit: int | None = None,
    kinds: Mapping[str, Kind | str] | None = None,
    labels: Mapping[str, str] | None = None,
    columns: list[str] | None = None,
    total_row: bool = False,
) -> str:
    """An HTML table for the report: formatted cells, no index, wrapped text, a caption, and
    a note naming where the rows not shown are when only the first ``limit`` (or a part of
    ``total_rows``) are shown. ``total_row`` marks the last row (e.g. "All") as a total.
    """
    frame = plain_frame(df)
    if columns is not None:
        frame = frame[columns]
    total = len(frame) if total_rows is None else int(total_rows)
    if limit is not None:
        frame = frame.head(limit)
    if total > len(frame) and not where_rest:
        raise ValueError(
            f"table {caption!r} shows {len(frame):,} of {total:,} rows: say where the rest are "
            "(where_rest=, e.g. 'playbook.xlsx › Worklist')"
        )
    ks = _series_kinds(frame, kinds)
    text = format_table(frame, kinds=ks, labels=labels)
    kind_list = [ks[str(c)] for c in frame.columns]
    cls = [
        "num"
        if k in NUMERIC_KINDS
        else {Kind.TEXT: "wrap", Kind.CODE: "code", Kind.DATE: "date"}.get(k, "txt")
        for k in kind_list
    ]
    wide = " wide" if len(kind_list) > WIDE_COLUMNS else ""
    keep = " keep" if len(text) <= KEEP_TOGETHER_ROWS else ""  # printed on one page
    parts = [f'<div class="oop-table{wide}{keep}">', '<table class="oop">']
    if caption:
        parts.append(f"<caption>{html.escape(caption)}</caption>")
    parts.append("<thead><tr>")
    parts += [
        f'<th class="{c}">{html.escape(h)}</th>' for h, c in zip(text.columns, cls, strict=True)
    ]
    parts.append("</tr></thead><tbody>")
    n = len(text)
    for i, row in enumerate(text.itertuples(index=False, name=None)):
        tr = ' class="total"' if total_row and i == n - 1 else ""
        cells = "".join(
            f'<td class="{c}">{_cell(str(v), c)}</td>' for v, c in zip(row, cls, strict=True)
        )
        parts.append(f"<tr{tr}>{cells}</tr>")
    parts.append("</tbody></table>")
    note = rest_note(len(text), total, where_rest)
    if note:
        parts.append(f'<p class="rest-note">{html.escape(note)}</p>')
    parts.append("</div>")
    return "".join(parts)


def _cell(text: str, cls: str) -> str:
    """A cell's escaped text; identifiers may break only after ``_``, ``/`` or ``.``."""
    out = html.escape(text)
    if cls == "code":
        for ch in ("_", "/", "."):
            out = out.replace(ch, ch + "<wbr>")
    return out


class HtmlTable:
    """A formatted table a notebook cell displays (``_repr_html_``) and a report embeds."""

    def __init__(self, html_text: str) -> None:
        """Wrap already-built table HTML."""
        self.html = html_text

    def _repr_html_(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.html


def table(
    df: pd.DataFrame,
    caption: str = "",
    *,
    empty: str = "No rows.",
    **kwargs: Any,
) -> HtmlTable:
    """:func:`to_html` for a notebook cell, or the ``empty`` sentence when ``df`` has no rows."""
    if df.empty:
        return HtmlTable(f'<p class="empty"><em>{html.escape(empty)}</em></p>')
    return HtmlTable(to_html(df, caption, **kwargs))
