"""Client-facing outputs: the Excel workbooks and the single ``report.html`` of a run.

Stage notebooks register the tables a client should get with :func:`save_table`; the runner
then writes ``summary.xlsx`` from them and joins the executed notebooks into one HTML document
with no code cells, no stderr and no papermill parameter cells.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

import nbformat
import pandas as pd

TABLES_DIR = "tables"  # under artifacts/


def save_table(run_dir: str | Path, name: str, table: pd.DataFrame, *, title: str = "") -> Path:
    """Keep ``table`` for the run's ``summary.xlsx`` (sheet ``name``) and return its path."""
    if not re.fullmatch(r"[0-9A-Za-z_]{1,31}", name):
        raise ValueError(
            f"table name {name!r}: use up to 31 letters, digits or _ (an Excel sheet name)"
        )
    d = Path(run_dir) / "artifacts" / TABLES_DIR
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{name}.parquet"
    out = table.reset_index() if not isinstance(table.index, pd.RangeIndex) else table
    out.to_parquet(path, index=False)
    meta = d / f"{name}.json"
    meta.write_text(json.dumps({"title": title or name.replace("_", " ")}, sort_keys=True))
    return path


def collect_tables(run_dir: str | Path) -> dict[str, pd.DataFrame]:
    """Tables saved by the stages, in file-name order (stages prefix names with their number)."""
    d = Path(run_dir) / "artifacts" / TABLES_DIR
    if not d.exists():
        return {}
    return {p.stem: pd.read_parquet(p) for p in sorted(d.glob("*.parquet"))}


WORKBOOK_MAX_ROWS = 20_000

_WRAP_HINTS = (
    "rationale",
    "documents",
    "explanation",
    "evidence",
    "what it counts",
    "disputes",
    "notes",
)


def _col_kind(name: str, s: pd.Series) -> str:
    """money / share / multiple / int / date / text, from the column name and dtype."""
    c = name.lower()
    if pd.api.types.is_datetime64_any_dtype(s):
        return "date"
    if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
        return "text"
    if (
        c.endswith("_x")
        or "multiple" in c
        or c.startswith("idr_award")
        or c in ("current_x", "market_x")
    ):
        return "multiple"
    if any(
        h in c
        for h in ("share", "rate", "probability", "p_win", "urgency", "pct_billed", "p_provider")
    ):
        return "share"
    if pd.api.types.is_integer_dtype(s):
        return "int"
    if c == "value":
        return "text"
    money = (
        "billed",
        "allowed",
        "paid",
        "resp",
        "amount",
        "qpa",
        "medicare",
        "recover",
        "underpaid",
        "target",
        "ask",
        "walk",
        "fee",
        "offer",
        "stake",
        "ev_",
        "ev",
        "gap",
        "ucr",
        "lost",
        "interest",
        "excess",
        "gfe",
        "cap",
        "priority",
        "total",
        "value",
    )
    if any(h in c for h in money):
        return "money"
    return "number"


def write_workbook(path: str | Path, sheets: Mapping[str, pd.DataFrame]) -> Path:
    """Write the playbook workbook a consultant can hand over: bold banded header, frozen header
    row, autofilter, column widths, money/percent/multiple/date formats, wrapped long text.

    Uses xlsxwriter (column-level formats, so 20k-row sheets write in seconds). Deterministic:
    fixed document properties. Sheets over :data:`WORKBOOK_MAX_ROWS` rows are cut with a final
    row saying so (the CSV artifacts hold every row).
    """
    import xlsxwriter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    from datetime import datetime

    wb = xlsxwriter.Workbook(str(path), {"nan_inf_to_errors": True, "remove_timezone": True})
    wb.set_properties({"author": "oonplaybook", "created": datetime(2000, 1, 1)})
    head = wb.add_format(
        {
            "bold": True,
            "font_color": "#FFFFFF",
            "bg_color": "#1F4E78",
            "text_wrap": True,
            "valign": "top",
            "border": 1,
        }
    )
    fmts = {
        "money": wb.add_format({"num_format": '"$"#,##0.00'}),
        "share": wb.add_format({"num_format": "0.0%"}),
        "multiple": wb.add_format({"num_format": '0.00"x"'}),
        "int": wb.add_format({"num_format": "#,##0"}),
        "number": wb.add_format({"num_format": "#,##0.00"}),
        "date": wb.add_format({"num_format": "yyyy-mm-dd"}),
        "text": wb.add_format({}),
        "wrap": wb.add_format({"text_wrap": True, "valign": "top"}),
    }
    note_fmt = wb.add_format({"italic": True, "font_color": "#7F7F7F"})
    for name, df in sheets.items():
        frame = df.reset_index() if not isinstance(df.index, pd.RangeIndex) else df
        total = len(frame)
        frame = frame.head(WORKBOOK_MAX_ROWS)
        ws = wb.add_worksheet(name[:31])
        cols = [str(c) for c in frame.columns]
        ws.write_row(0, 0, cols, head)
        for j, col in enumerate(cols):
            s = frame.iloc[:, j]
            kind = "wrap" if any(h in col for h in _WRAP_HINTS) else _col_kind(col, s)
            sample = [str(v) for v in s.head(200).tolist()]
            width = (
                60 if kind == "wrap" else min(max([len(col)] + [len(v) for v in sample]) + 2, 45)
            )
            ws.set_column(j, j, max(width, 9), fmts[kind])
            if kind == "date":
                vals = (
                    pd.to_datetime(s).dt.tz_localize(None)
                    if getattr(s.dt, "tz", None)
                    else pd.to_datetime(s)
                )
                for i, v in enumerate(vals.tolist(), start=1):
                    if v is not pd.NaT and v == v:
                        ws.write_datetime(i, j, v.to_pydatetime(), fmts["date"])
                continue
            if pd.api.types.is_bool_dtype(s):
                vals = s.map({True: "yes", False: "no"}).tolist()
            elif pd.api.types.is_numeric_dtype(s):
                vals = s.astype("float64").tolist()
            else:
                vals = s.astype("str").where(s.notna(), "").tolist()
            for i, v in enumerate(vals, start=1):
                if isinstance(v, float):
                    if v == v:
                        ws.write_number(i, j, v)
                elif v != "":
                    ws.write_string(i, j, v)
        ws.freeze_panes(1, 0)
        if len(frame):
            ws.autofilter(0, 0, len(frame), max(len(cols) - 1, 0))
        if total > len(frame):
            ws.write_string(
                len(frame) + 1,
                0,
                f"{total - len(frame):,} more rows (sorted lower) are in the CSV artifact",
                note_fmt,
            )
    wb.close()
    return path


# --- scope and narrative ---------------------------------------------------------------------


def write_summary_workbook(run_dir: str | Path) -> Path | None:
    """``summary.xlsx`` in the run folder from the tables the stages saved."""
    tables = collect_tables(run_dir)
    if not tables:
        return None
    return write_workbook(Path(run_dir) / "summary.xlsx", tables)


# --- HTML ------------------------------------------------------------------------------------

_DROP_TAGS = {"parameters", "injected-parameters", "remove-cell"}


_DOLLAR = re.compile(r"(?<!\\)\$")


def _escape_dollars(text: str) -> str:
    """``$`` as a literal dollar sign: nbconvert's Markdown reads ``$...$`` as TeX, which turned
    "billed **$1,000**, paid **$500**" into a formula with stray asterisks."""
    return _DOLLAR.sub(lambda _m: "\\$", text)


def _client_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    """The cells a client reads: no parameter cells, no stderr, literal dollar signs."""
    cells = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & _DROP_TAGS:
            continue
        cell = nbformat.from_dict(dict(cell))
        if cell.cell_type == "markdown":
            cell.source = _escape_dollars(cell.source)
        elif cell.cell_type == "code":
            outputs = []
            for o in cell.get("outputs", []):
                if o.get("output_type") == "stream" and o.get("name") == "stderr":
                    continue
                data = o.get("data", {})
                if "text/markdown" in data:
                    o = nbformat.from_dict(dict(o))
                    o.data = {**data, "text/markdown": _escape_dollars(data["text/markdown"])}
                outputs.append(o)
            cell.outputs = outputs
            if not cell.outputs:
                continue
        cells.append(cell)
    return cells


def build_report_html(notebooks: list[Path], out: Path, *, title: str) -> Path:
    """Join executed stage notebooks into one HTML document without code, params or stderr."""
    from nbconvert import HTMLExporter

    combined = nbformat.v4.new_notebook()
    combined.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    combined.metadata["language_info"] = {"name": "python"}
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        combined.cells.extend(_client_cells(nb))
    exporter = HTMLExporter(template_name="lab")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(combined, resources={"metadata": {"name": title}})
    # nbconvert's lab template pulls require.js/MathJax from a CDN; a client report must open
    # offline, and it has no widgets or math, so drop those script tags.
    body = re.sub(r'<script[^>]+src="https://cdn[^"]*"[^>]*>\s*</script>\s*', "", body)
    body = re.sub(
        r'<script type="module">(?:(?!</script>).)*?mermaid.*?</script>\s*', "", body, flags=re.S
    )
    out.write_text(body, encoding="utf-8")
    return out


def show(table: pd.DataFrame, empty: str, limit: int = 15) -> object:
    """A table for a notebook cell: its first ``limit`` rows, or a sentence when it is empty."""
    if table.empty:
        from IPython.display import Markdown

        return Markdown(f"*{empty}*")
    return table.head(limit)
