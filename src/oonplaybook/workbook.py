"""The Excel workbooks a client gets: ``playbook.xlsx`` (the work) and ``summary.xlsx`` (every
table the stages saved).

Every number is stored as a number and every column gets the number format of its kind (money,
percent, multiple, p-value, count, days, date) from :mod:`oonplaybook.formatting`, the layer the
report uses too, so a figure reads the same in both; a column that arrives as text (a CSV read
as strings) is stored as numbers when its values are numbers, codes and identifiers stay text.
Headers are the report's human labels. Each workbook opens on a README sheet (what each sheet
holds, the glossary of money terms, the data vintages, the as-of date), and every sheet prints
landscape, fit to the page width, with its header row repeated.

In ``playbook.xlsx`` the Worklist sheet holds the open items only, by priority, with empty work
columns (assignee, date worked, outcome, amount recovered, notes, follow-up date) that carry
data validation; in-progress, written-off, resolved and lost rows have their own sheet, and the
document checklists their own (the worklist cell names the checklist and its first item).

Written with xlsxwriter (column formats, so 20k-row sheets write in seconds); deterministic:
fixed document properties and no wall-clock values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from oonplaybook import formatting as fmt
from oonplaybook import partitions
from oonplaybook.formatting import Kind

#: Rows per sheet; larger tables keep their first rows (they are sorted by priority or value)
#: and the sheet's last row says how many more are in the CSV artifact.
WORKBOOK_MAX_ROWS = 20_000

#: Days between the as-of date and the run date above which the README warns.
STALE_AFTER_DAYS = 30

#: The columns a biller fills in on the worklist sheets, with their kinds.
WORK_COLUMNS: dict[str, Kind] = {
    "assignee": Kind.TEXT,
    "date_worked": Kind.DATE,
    "outcome": Kind.TEXT,
    "amount_recovered": Kind.MONEY_CENTS,
    "notes": Kind.TEXT,
    "follow_up_date": Kind.DATE,
}
WORK_LABELS: dict[str, str] = {
    "assignee": "Assignee",
    "date_worked": "Date worked",
    "outcome": "Outcome",
    "amount_recovered": "Amount recovered",
    "notes": "Notes",
    "follow_up_date": "Follow-up date",
}
#: The outcome list offered in the Outcome column.
OUTCOMES: tuple[str, ...] = (
    "paid in full",
    "partially paid",
    "denied / upheld",
    "no response yet",
    "sent to IDR / external review",
    "written off",
    "withdrawn",
)

#: Text columns that hold identifiers or lists of codes although their name reads as a count
#: or amount (``lines`` = "1:2", the line numbers of the row).
TEXT_CODE_COLUMNS = frozenset({"cpts", "payer_claim_id", "provider_npi", "payer_id"})

#: Confidence-interval columns take the kind of the estimate they bound (an odds ratio's CI is
#: a multiple too), when the table has one of these.
_CI_COLUMNS = ("ci_low", "ci_high")
_ESTIMATE_COLUMNS = ("estimate", "median")

#: Columns of text that wrap (long free text) get this width.
WRAP_WIDTH = 60

#: Worklist columns a biller reads first, in this order; the rest follow the work columns.
WORKLIST_FIRST = (
    "rank",
    "claim_id",
    "payer",
    "route",
    "action",
    "deadline",
    "days_left",
    "expected_recovery",
    "at_stake",
    "probability",
    "priority",
    "letter_type",
    "letter",
    "documents_needed",
)

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?$")


@dataclass
class Sheet:
    """One sheet: its table, what it holds (for the README), and how to write it.

    ``kinds`` overrides the column kinds; ``value_kinds`` names a column whose per-row kinds
    format another column (a label/value table such as the Summary); ``work_columns`` appends
    the biller's empty work columns with validation; ``freeze_cols`` keeps identifying columns
    in view; ``total_rows`` is the size of the full table when ``frame`` is a part of it.
    """

    name: str
    frame: pd.DataFrame
    description: str = ""
    kinds: Mapping[str, Kind | str] = field(default_factory=dict)
    value_kinds: tuple[str, str] | None = None  # (value column, kind column)
    work_columns: bool = False
    freeze_cols: int = 0
    source: str = "the CSV artifact"


@dataclass(frozen=True)
class RunFacts:
    """What the README sheet says about the run: client, dates, data vintages."""

    client_name: str = ""
    run_date: date | None = None
    as_of: date | None = None
    period: tuple[date, date] | None = None
    vintages: tuple[tuple[str, str], ...] = ()


# --- column kinds and values --------------------------------------------------------------------


def _is_number_text(v: str) -> bool:
    """A string that is a plain number (not a code with a leading zero such as ``00100``)."""
    t = v.strip().replace(",", "")
    if not _NUMBER.match(t):
        return False
    digits = t.lstrip("+-")
    return not (len(digits) > 1 and digits[0] == "0" and digits[1].isdigit())


def column_kind(name: str, s: pd.Series, override: Kind | str | None = None) -> Kind:
    """The kind a workbook column is written as: ``override``, else :func:`formatting.kind_of`,
    with text that is really numbers or ISO dates (e.g. a CSV read as strings) given the kind
    its name implies, and text under a numeric-sounding name (``lines`` = "1:2") kept as a code.
    """
    if override is not None:
        return Kind(override)
    kind = fmt.kind_of(name, s)
    if kind is not Kind.TEXT or pd.api.types.is_numeric_dtype(s):
        return kind
    if name in TEXT_CODE_COLUMNS:
        return Kind.CODE
    vals = s.dropna().astype("str").str.strip()
    vals = vals[vals.ne("")]
    by_name = fmt.kind_of(name)
    if len(vals) and vals.map(_is_number_text).all():
        if by_name in fmt.NUMERIC_KINDS:
            return by_name
        nums = pd.to_numeric(vals.str.replace(",", "", regex=False))
        return Kind.COUNT if bool((nums == nums.round()).all()) else Kind.NUMBER
    if len(vals) and by_name is Kind.DATE and vals.map(lambda v: bool(_ISO_DATE.match(v))).all():
        return Kind.DATE
    if by_name in fmt.NUMERIC_KINDS:
        return Kind.CODE
    return kind


def _labels(columns: Sequence[str]) -> list[str]:
    """Human headers (formatting.label), made unique within the sheet."""
    out: list[str] = []
    seen: set[str] = set()
    for c in columns:
        text = WORK_LABELS.get(c) or fmt.label(c)
        if text in seen:
            text = f"{text} ({c})"
        seen.add(text)
        out.append(text)
    return out


def _cell_number(v: Any) -> float | None:
    """``v`` as a finite float, or None (missing, infinite, or not a number)."""
    if v is None or isinstance(v, bool | np.bool_):
        return None
    if isinstance(v, str):
        if not _is_number_text(v):
            return None
        v = v.replace(",", "")
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if np.isfinite(x) else None


# --- writing -------------------------------------------------------------------------------------


class _Formats:
    """The workbook's cell formats, made once per workbook."""

    def __init__(self, wb: Any) -> None:
        """Create the header, number-kind, wrap and note formats on ``wb``."""
        self.head = wb.add_format(
            {
                "bold": True,
                "font_color": "#FFFFFF",
                "bg_color": "#1F4E78",
                "text_wrap": True,
                "valign": "top",
                "border": 1,
            }
        )
        self.work_head = wb.add_format(
            {
                "bold": True,
                "font_color": "#000000",
                "bg_color": "#FFE699",
                "text_wrap": True,
                "valign": "top",
                "border": 1,
            }
        )
        self.kind = {k: wb.add_format({"num_format": f, "valign": "top"}) for k, f in _xl().items()}
        self.wrap = wb.add_format({"num_format": "@", "text_wrap": True, "valign": "top"})
        self.note = wb.add_format({"italic": True, "font_color": "#7F7F7F"})
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.bold = wb.add_format({"bold": True, "valign": "top"})
        self.warn = wb.add_format({"bold": True, "font_color": "#C00000", "text_wrap": True})


def _xl() -> dict[Kind, str]:
    return {Kind(k): v for k, v in fmt.EXCEL_FORMATS.items()}


def _print_setup(ws: Any, n_rows: int, n_cols: int, freeze_cols: int) -> None:
    """Frozen header, autofilter, landscape, fit to one page wide, header row on every page."""
    ws.freeze_panes(1, freeze_cols)
    if n_rows and n_cols:
        ws.autofilter(0, 0, n_rows, n_cols - 1)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_header("&L&A")
    ws.set_footer("&RPage &P of &N")


def _write_frame(ws: Any, f: _Formats, sheet: Sheet) -> None:
    """Header, typed cells and column formats of one table sheet."""
    frame = fmt.plain_frame(sheet.frame)
    total = len(frame)
    frame = frame.head(WORKBOOK_MAX_ROWS)
    value_col, kind_col = sheet.value_kinds or ("", "")
    row_kinds = frame[kind_col].astype("str").tolist() if kind_col in frame.columns else None
    cols = [str(c) for c in frame.columns if str(c) != kind_col]
    if sheet.work_columns:
        cols += [c for c in WORK_COLUMNS if c not in cols]
    headers = _labels(cols)
    n = len(frame)
    for j, (col, head) in enumerate(zip(cols, headers, strict=True)):
        work = sheet.work_columns and col in WORK_COLUMNS
        ws.write_string(0, j, head, f.work_head if work else f.head)
        if work:
            kind = WORK_COLUMNS[col]
            width = 40 if col == "notes" else 14
            ws.set_column(j, j, width, f.wrap if col == "notes" else f.kind[kind])
            _validate(ws, col, j, n)
            continue
        s = frame[col]
        override = sheet.kinds.get(col)
        if override is None and col in _CI_COLUMNS:
            est = next((e for e in _ESTIMATE_COLUMNS if e in frame.columns), None)
            override = sheet.kinds.get(est) or (column_kind(est, frame[est]) if est else None)
        kind = column_kind(col, s, override)
        if col == value_col and row_kinds is not None:
            _write_values_by_row(ws, f, j, s, row_kinds)
            ws.set_column(j, j, 40)
            continue
        width, wrap = _width(head, s, kind)
        ws.set_column(j, j, width, f.wrap if wrap else f.kind[kind])
        _write_cells(ws, f, j, s, kind)
    _print_setup(ws, n, len(cols), sheet.freeze_cols)
    if total > n:
        ws.write_string(
            n + 1,
            0,
            f"{total - n:,} more rows (sorted lower) are in {sheet.source}",
            f.note,
        )


def _width(head: str, s: pd.Series, kind: Kind) -> tuple[float, bool]:
    """Column width from the header and a sample of values; long free text wraps."""
    sample = s.head(200)
    if kind in fmt.NUMERIC_KINDS:
        text = [fmt.format_value(v, kind) for v in sample.tolist()]
    else:
        text = ["" if fmt.is_missing(v) else str(v) for v in sample.tolist()]
    longest = max([len(t) for t in text] + [0])
    if kind is Kind.TEXT and longest > WRAP_WIDTH:
        return float(WRAP_WIDTH), True
    return float(min(max(longest + 2, min(len(head), 24) + 2, 9), 45)), False


def _write_cells(ws: Any, f: _Formats, j: int, s: pd.Series, kind: Kind) -> None:
    """One column's cells, each as its kind's type: numbers, dates, yes/no, text."""
    if kind is Kind.DATE:
        d = pd.to_datetime(s, errors="coerce")
        if getattr(d.dt, "tz", None) is not None:
            d = d.dt.tz_localize(None)
        for i, v in enumerate(d.tolist(), start=1):
            if not pd.isna(v):
                ws.write_datetime(i, j, v.to_pydatetime(), f.kind[Kind.DATE])
        return
    if kind in fmt.NUMERIC_KINDS:
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            arr = s.to_numpy(dtype="float64", na_value=np.nan)
        else:  # numbers stored as text: parse the ones that are plain numbers
            arr = np.array([np.nan if (x := _cell_number(v)) is None else x for v in s.tolist()])
        num_fmt = f.kind[kind]
        for i in np.flatnonzero(np.isfinite(arr)):
            ws.write_number(int(i) + 1, j, float(arr[i]), num_fmt)
        for i in np.flatnonzero(np.isinf(arr)):
            ws.write_string(int(i) + 1, j, "∞" if arr[i] > 0 else "-∞")
        return
    if kind is Kind.YES_NO:
        for i, v in enumerate(s.tolist(), start=1):
            text = fmt.format_value(v, Kind.YES_NO)
            if text != fmt.MISSING:
                ws.write_string(i, j, text)
        return
    vals = s.astype("object").where(s.notna(), None).tolist()
    for i, v in enumerate(vals, start=1):
        if v is None:
            continue
        if kind is Kind.TEXT:
            x = _cell_number(v)
            if x is not None:  # a number inside a text column is still a number
                ws.write_number(i, j, x, f.kind[Kind.COUNT if x == round(x) else Kind.NUMBER])
                continue
            if isinstance(v, str) and _ISO_DATE.match(v.strip()):  # and a date a date
                ws.write_datetime(i, j, pd.Timestamp(v).to_pydatetime(), f.kind[Kind.DATE])
                continue
        text = fmt.format_value(v, kind) if isinstance(v, bool | np.bool_) else str(v)
        if text != "":
            ws.write_string(i, j, text)


def _write_values_by_row(ws: Any, f: _Formats, j: int, s: pd.Series, kinds: list[str]) -> None:
    """A label/value column where each row says its own kind (the Summary sheet)."""
    for i, (v, k) in enumerate(zip(s.tolist(), kinds, strict=True), start=1):
        kind = Kind(k) if k in Kind._value2member_map_ else Kind.TEXT
        if kind is Kind.DATE and not fmt.is_missing(v):
            ws.write_datetime(i, j, pd.Timestamp(v).to_pydatetime(), f.kind[Kind.DATE])
        elif kind in fmt.NUMERIC_KINDS and _cell_number(v) is not None:
            ws.write_number(i, j, _cell_number(v), f.kind[kind])
        elif not fmt.is_missing(v):
            ws.write_string(i, j, str(v))


def _validate(ws: Any, col: str, j: int, n: int) -> None:
    """Data validation on a work column's data rows (none on an empty sheet)."""
    if n == 0:
        return
    if col == "outcome":
        ws.data_validation(
            1,
            j,
            n,
            j,
            {
                "validate": "list",
                "source": list(OUTCOMES),
                "input_title": "Outcome",
                "input_message": "Pick the outcome of the work on this claim.",
            },
        )
    elif col in ("date_worked", "follow_up_date"):
        ws.data_validation(
            1,
            j,
            n,
            j,
            {
                "validate": "date",
                "criteria": "between",
                "minimum": datetime(2000, 1, 1),
                "maximum": datetime(2100, 12, 31),
                "input_title": WORK_LABELS[col],
                "input_message": "A date, e.g. 2026-02-09.",
                "error_message": "Enter a date (YYYY-MM-DD).",
            },
        )
    elif col == "amount_recovered":
        ws.data_validation(
            1,
            j,
            n,
            j,
            {
                "validate": "decimal",
                "criteria": ">=",
                "value": 0,
                "input_title": "Amount recovered",
                "input_message": "Dollars recovered on this claim (0 or more).",
                "error_message": "Enter an amount of 0 or more.",
            },
        )


def _write_readme(
    ws: Any,
    f: _Formats,
    title: str,
    facts: RunFacts,
    sheets: list[Sheet],
    empty: Sequence[str] = (),
) -> None:
    """The README sheet: the run, what each sheet holds (and the tables with no rows, which get
    no sheet), the money terms, the data vintages."""
    from oonplaybook.glossary import TERMS

    ws.set_column(0, 0, 30, f.kind[Kind.TEXT])
    ws.set_column(1, 1, 95, f.wrap)
    ws.set_column(2, 2, 12)
    r = 0
    ws.write_string(r, 0, title, f.title)
    r += 2
    rows: list[tuple[str, Any, Kind]] = [("Client", facts.client_name or "—", Kind.TEXT)]
    if facts.run_date is not None:
        rows.append(("Run date", facts.run_date, Kind.DATE))
    if facts.as_of is not None:
        rows.append(("Deadlines counted to (as of)", facts.as_of, Kind.DATE))
    if facts.period is not None:
        rows.append(("Services from", facts.period[0], Kind.DATE))
        rows.append(("Services to", facts.period[1], Kind.DATE))
    for label, value, kind in rows:
        ws.write_string(r, 0, label, f.bold)
        if kind is Kind.DATE:
            ws.write_datetime(r, 1, datetime.combine(value, datetime.min.time()), f.kind[kind])
        else:
            ws.write_string(r, 1, str(value))
        r += 1
    if facts.run_date is not None and facts.as_of is not None:
        gap = (facts.run_date - facts.as_of).days
        if gap > STALE_AFTER_DAYS:
            ws.write_string(
                r,
                1,
                f"The as-of date is {gap:,} days before the run date: deadlines and days left are "
                "counted to the as-of date (the data cut-off or params playbook.as_of_date), not "
                "to today. Items due in between may already have lapsed.",
                f.warn,
            )
            r += 1
    r += 1
    ws.write_row(r, 0, ["Sheet", "What it holds", "Rows"], f.head)
    r += 1
    for sh in sheets:
        ws.write_string(r, 0, sh.name, f.bold)
        ws.write_string(r, 1, sh.description or sh.name)
        ws.write_number(r, 2, len(sh.frame), f.kind[Kind.COUNT])
        r += 1
    for text in empty:
        ws.write_string(r, 0, "(no sheet)", f.bold)
        ws.write_string(r, 1, f"{text}: no rows in this run")
        ws.write_number(r, 2, 0, f.kind[Kind.COUNT])
        r += 1
    r += 1
    ws.write_row(r, 0, ["Money term", "What it means", ""], f.head)
    r += 1
    for t in TERMS:
        ws.write_string(r, 0, t.name, f.bold)
        ws.write_string(r, 1, t.definition)
        r += 1
    if facts.vintages:
        r += 1
        ws.write_row(r, 0, ["Data", "Source and vintage", ""], f.head)
        r += 1
        for name, text in facts.vintages:
            ws.write_string(r, 0, name, f.bold)
            ws.write_string(r, 1, text)
            r += 1
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_footer("&RPage &P of &N")


def write_sheets(
    path: str | Path,
    sheets: Sequence[Sheet],
    *,
    facts: RunFacts | None = None,
    title: str = "",
    empty: Sequence[str] = (),
) -> Path:
    """Write ``sheets`` (after a README sheet when ``facts`` is given) to ``path``; ``empty``
    names tables the README lists as having no rows."""
    import xlsxwriter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    names = [s.name for s in sheets]
    for s in sheets:
        if len(s.name) > 31 or re.search(r"[\[\]:*?/\\]", s.name):
            raise ValueError(f"sheet name {s.name!r}: at most 31 characters, none of []:*?/\\")
    if len(set(n.lower() for n in names)) != len(names):
        raise ValueError(f"sheet names repeat: {names}")
    wb = xlsxwriter.Workbook(str(path), {"nan_inf_to_errors": True, "remove_timezone": True})
    wb.set_properties({"author": "oonplaybook", "created": datetime(2000, 1, 1)})
    f = _Formats(wb)
    if facts is not None:
        _write_readme(
            wb.add_worksheet("README"), f, title or "Workbook", facts, list(sheets), empty
        )
    for s in sheets:
        _write_frame(wb.add_worksheet(s.name), f, s)
    wb.close()
    return path


def write_workbook(path: str | Path, sheets: Mapping[str, pd.DataFrame]) -> Path:
    """Write plain tables, one sheet each (names cut to 31 characters): typed cells, formats by
    kind, human headers, frozen header, autofilter and print set-up. No README sheet."""
    return write_sheets(path, [Sheet(str(k)[:31], v) for k, v in sheets.items()])


# --- playbook.xlsx ---------------------------------------------------------------------------


#: What each playbook sheet holds (the README sheet lists them).
PLAYBOOK_SHEETS: dict[str, str] = {
    "Summary": "The run's headline figures, each with what it counts.",
    "Worklist": (
        "The open items only, by priority (rank 1 first): route, what to do and by when, "
        "expected recovery. The yellow columns (assignee, date worked, outcome, amount "
        "recovered, notes, follow-up date) are for the billers; Documents needed names a "
        "checklist of the Documents sheet."
    ),
    "Not open": (
        "In-progress appeals, write-offs (not worth working), resolved and lost items (every "
        "deadline passed): listed so nothing is dropped; not open work."
    ),
    "Documents": "Each document checklist in full; the worklist rows name theirs by its id.",
    "Targets": "Opening ask, target and walk-away per payer and code family, with the reasons.",
    "IDR batches": "Federal IDR batches with expected value net of fees, and whether to file.",
    "Payer scorecard": "Each payer's denial, payment level, speed, appeal and drift figures.",
    "Patient protections": (
        "Per claim: may the patient be balance-billed, the most the practice may bill the "
        "patient, cost share above the NSA cap, self-pay bills eligible for dispute."
    ),
}


def documents_checklists(worklist: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    """(short ``documents_needed`` per row, the checklists in full).

    Rows share few distinct checklists (route x denial group x specialty), so each gets an id
    (D01, D02, ... in worklist order) and a row shows "D03: first item; +4 more".
    """
    docs = worklist["documents_needed"].fillna("").astype("str")
    firsts = worklist[~docs.duplicated() & docs.ne("")]
    uniq = docs[firsts.index].tolist()
    ids = {d: f"D{i:02d}" for i, d in enumerate(uniq, start=1)}
    items = {d: [x.strip() for x in d.split(";") if x.strip()] for d in uniq}
    counts = docs.value_counts()
    short = {
        d: f"{ids[d]}: {items[d][0]}"
        + (f"; +{len(items[d]) - 1} more" if len(items[d]) > 1 else "")
        for d in uniq
        if items[d]
    }
    table = pd.DataFrame(
        {
            "checklist": [ids[d] for d in uniq],
            "route": firsts["route"].astype("str").to_numpy(),
            "denial_group": firsts.get("denial_group", pd.Series("", index=firsts.index))
            .astype("str")
            .to_numpy(),
            "specialty": firsts.get("specialty", pd.Series("", index=firsts.index))
            .astype("str")
            .to_numpy(),
            "documents": [len(items[d]) for d in uniq],
            "rows": [int(counts[d]) for d in uniq],
            "documents_needed": ["\n".join(f"- {x}" for x in items[d]) for d in uniq],
        }
    )
    return docs.map(lambda d: short.get(d, "")).astype("str"), table


#: Worklist columns whose kind the name rules would misread (``lines`` lists line numbers).
_WORKLIST_KINDS: dict[str, Kind] = {"lines": Kind.CODE}


def _worklist_order(w: pd.DataFrame) -> pd.DataFrame:
    first = [c for c in WORKLIST_FIRST if c in w.columns]
    return w[first + [c for c in w.columns if c not in first]]


def playbook_sheets(
    *,
    summary: pd.DataFrame,
    worklist: pd.DataFrame,
    targets: pd.DataFrame,
    batches: pd.DataFrame,
    scorecard: pd.DataFrame | None,
    protections: pd.DataFrame,
) -> list[Sheet]:
    """The playbook workbook's sheets: Summary, the open Worklist, Not open, Documents,
    Targets, IDR batches, Payer scorecard, Patient protections."""
    w = worklist.copy()
    short, checklists = documents_checklists(w)
    w["documents_needed"] = short
    w = _worklist_order(w)
    is_open = w["status"].astype("str").eq("open")
    open_rows = w[is_open].sort_values(["priority", "rank"], ascending=[False, True], kind="stable")
    rest = w[~is_open]
    score = (
        scorecard
        if scorecard is not None
        else pd.DataFrame({"note": ["stage 30 did not write a scorecard"]})
    )
    prot = protections.drop(columns=[c for c in ("patient_key",) if c in protections.columns])
    d = PLAYBOOK_SHEETS
    return [
        Sheet("Summary", summary, d["Summary"], value_kinds=("value", "kind")),
        Sheet("Worklist", open_rows, d["Worklist"], kinds=_WORKLIST_KINDS, work_columns=True,
              freeze_cols=2, source="worklist.csv"),
        Sheet("Not open", rest, d["Not open"], kinds=_WORKLIST_KINDS, work_columns=True,
              freeze_cols=2, source="worklist.csv"),
        Sheet("Documents", checklists, d["Documents"], kinds={"documents_needed": Kind.TEXT}),
        Sheet("Targets", targets, d["Targets"], freeze_cols=2, source="targets.csv"),
        Sheet("IDR batches", batches.drop(columns=[c for c in ("disputes",) if c in batches]),
              d["IDR batches"], freeze_cols=1, source="idr_batches.csv"),
        Sheet("Payer scorecard", score, d["Payer scorecard"], freeze_cols=1,
              source="scorecard.csv"),
        Sheet("Patient protections", prot, d["Patient protections"], freeze_cols=1,
              source="the 40_patient_protections table"),
    ]  # fmt: skip


def write_playbook_workbook(
    path: str | Path,
    *,
    summary: pd.DataFrame,
    worklist: pd.DataFrame,
    targets: pd.DataFrame,
    batches: pd.DataFrame,
    scorecard: pd.DataFrame | None,
    protections: pd.DataFrame,
    facts: RunFacts | None = None,
) -> Path:
    """``playbook.xlsx``: README, then :func:`playbook_sheets`."""
    sheets = playbook_sheets(
        summary=summary,
        worklist=worklist,
        targets=targets,
        batches=batches,
        scorecard=scorecard,
        protections=protections,
    )
    facts = facts or RunFacts()
    title = f"{facts.client_name}: negotiation playbook" if facts.client_name else "Playbook"
    return write_sheets(path, sheets, facts=facts, title=title)


# --- summary.xlsx ----------------------------------------------------------------------------

#: Chapter of each stage prefix (the report's chapter numbers).
_CHAPTER = {"10": "1", "20": "2", "30": "3", "40": "4"}

#: Short sheet names of the tables the stages save, in the order the report shows them; other
#: tables follow, named from their titles.
SUMMARY_SHEETS: dict[str, str] = {
    "10_overview": "What was read",
    "10_revenue_by_payer": "Revenue by payer",
    "10_revenue_by_specialty": "Revenue by specialty",
    "10_missing_fields": "Missing fields",
    "10_rejects_by_reason": "Rejected records",
    "10_balance_failures": "Remits that do not balance",
    "10_recodes": "Paid under another code",
    "20_benchmark_coverage": "Benchmark coverage",
    "20_unpriced_lines": "Lines without Medicare price",
    "20_allowed_x_medicare": "Allowed x Medicare",
    "20_paid_x_medicare": "Paid x Medicare",
    "20_billed_vs_published": "Billed vs published",
    "20_gaps_by_payer": "Paid below benchmarks",
    "30_scorecard": "Payer scorecard",
    "30_payer_effects": "Payer effects",
    "40_stake_by_payer": "At stake by payer",
    "40_stake_by_specialty": "At stake by specialty",
    "40_stake_by_route": "At stake by route",
    "40_targets": "Targets",
    "40_patient_protections": "Patient protections",
}

#: Column kinds of saved tables whose generic column names do not say their unit.
TABLE_KINDS: dict[str, dict[str, Kind]] = {
    name: dict.fromkeys(("median", "ci_low", "ci_high", "geo_mean", "p25", "p75"), Kind.MULTIPLE)
    for name in ("20_allowed_x_medicare", "20_paid_x_medicare")
}


def sheet_name(table: str, title: str, taken: set[str]) -> str:
    """A readable sheet name for a saved table: chapter number and a short name (or its title),
    at most 31 characters, unique within the workbook ("4 Targets")."""
    prefix = _CHAPTER.get(table.split("_", 1)[0], "")
    title = SUMMARY_SHEETS.get(table) or title
    text = re.sub(r"[\[\]:*?/\\]", " ", title or table.replace("_", " "))
    text = re.sub(r"\s+", " ", text).strip()
    base = f"{prefix} {text}".strip() if prefix else text
    if len(base) > 31:
        base = base[:30].rstrip() + "…"
    name, k = base, 2
    while name.lower() in {t.lower() for t in taken}:
        suffix = f" ({k})"
        name = base[: 31 - len(suffix)] + suffix
        k += 1
    taken.add(name)
    return name


def run_facts(run_dir: str | Path, config: Any = None) -> RunFacts:
    """Client, run date, as-of date, service period and data vintages of a run folder (from its
    manifest, its claim lines' dates and the stage-20 benchmark coverage table); ``config``
    (a ``RunConfig``) stands in for the manifest's params when given."""
    from oonplaybook.config import RunConfig
    from oonplaybook.context import StageContext

    run_dir = Path(run_dir)
    man_path = run_dir / "manifest.json"
    man = json.loads(man_path.read_text()) if man_path.exists() else {}
    params = config.model_dump(mode="json") if config is not None else (man.get("params") or {})
    client = str(params.get("client_name") or params.get("client") or man.get("client") or "")
    started = str(man.get("started_utc") or "")
    run_date = date.fromisoformat(started[:10]) if started[:10] else None
    cl_path = run_dir / "artifacts" / "claim_lines.parquet"
    as_of = period = None
    if cl_path.exists():
        dates = partitions.read_present(cl_path, ("remit_date", "submitted_date", "service_date"))
        if params:
            cfg = RunConfig.model_validate(params)
            ctx = StageContext(config=cfg, run_dir=run_dir, params_base=run_dir)
            as_of = ctx.as_of_date(dates)
        if "service_date" in dates and dates["service_date"].notna().any():
            sd = pd.to_datetime(dates["service_date"]).dropna()
            period = (sd.min().date(), sd.max().date())
    vintages: list[tuple[str, str]] = []
    cov_path = run_dir / "artifacts" / "tables" / "20_benchmark_coverage.parquet"
    if cov_path.exists():
        cov = pd.read_parquet(cov_path)
        for r in cov.to_dict("records"):
            src = str(r.get("source") or "")
            vin = str(r.get("vintage") or "")
            used = int(r.get("lines") or 0) > 0
            text = "; ".join(x for x in (src, vin) if x) if used else f"not used ({src})"
            vintages.append((str(r.get("benchmark", "")), text))
    for key, ref in sorted((man.get("reference_data") or {}).items()):
        if isinstance(ref, dict) and ref.get("pprrvu_file"):
            vintages.append(
                (
                    f"Medicare fee schedule files ({key.removeprefix('pfs_')})",
                    f"{ref.get('pprrvu_file')}, {ref.get('gpci_file')} ({ref.get('origin', '')}, "
                    f"released {ref.get('released', '?')})",
                )
            )
    return RunFacts(client, run_date, as_of, period, tuple(vintages))


def write_summary_workbook(run_dir: str | Path) -> Path | None:
    """``summary.xlsx`` in the run folder: a README, then every table the stages saved (empty
    ones are listed in the README, not written as empty sheets), named by chapter and title."""
    from oonplaybook.report import TABLES_DIR, collect_tables

    run_dir = Path(run_dir)
    tables = collect_tables(run_dir)
    if not tables:
        return None
    taken: set[str] = {"README"}
    sheets: list[Sheet] = []
    empty: list[str] = []
    order = {n: i for i, n in enumerate(SUMMARY_SHEETS)}
    # by chapter; within one, the known tables in report order, then the others by name
    for name in sorted(tables, key=lambda n: (n[:2], order.get(n, len(order)), n)):
        frame = tables[name]
        meta = run_dir / "artifacts" / TABLES_DIR / f"{name}.json"
        title = json.loads(meta.read_text()).get("title", "") if meta.exists() else ""
        if not title or title == name.replace("_", " "):  # save_table's default title
            title = name.split("_", 1)[-1].replace("_", " ").capitalize()
        if frame.empty:
            empty.append(title)
            continue
        desc = f"{title} (chapter {_CHAPTER.get(name[:2], '?')} of the report; table {name})"
        sheets.append(
            Sheet(
                sheet_name(name, title, taken),
                frame,
                desc,
                kinds=TABLE_KINDS.get(name, {}),
                source=f"table {name}",
            )
        )
    facts = run_facts(run_dir)
    title = f"{facts.client_name}: every table of the report" if facts.client_name else "Summary"
    return write_sheets(run_dir / "summary.xlsx", sheets, facts=facts, title=title, empty=empty)
