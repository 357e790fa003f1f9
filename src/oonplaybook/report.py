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

_MONEY_HINTS = (
    "billed",
    "allowed",
    "paid",
    "resp",
    "amount",
    "qpa",
    "medicare",
    "recover",
    "underpaid",
    "denied_billed",
    "unpaid",
    "target",
    "ask",
    "walk",
    "value",
    "fee",
    "offer",
    "at_stake",
    "gap",
    "ucr",
)
_SHARE_HINTS = ("share", "rate")


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


def _fmt_for(col: str) -> str | None:
    c = col.lower()
    if any(h in c for h in _SHARE_HINTS):
        return "0.0%"
    if "multiple" in c or c.endswith("_ratio") or c in ("estimate", "ci_low", "ci_high"):
        return "0.00"
    if any(h in c for h in _MONEY_HINTS):
        return '"$"#,##0.00'
    return None


def write_workbook(path: str | Path, sheets: Mapping[str, pd.DataFrame]) -> Path:
    """Write DataFrames to a formatted .xlsx (bold frozen header, widths, money/percent formats).

    Datetimes are written as dates; codes stay text so ``00100`` keeps its zeros.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    wb.remove(wb.active)
    head_fill = PatternFill("solid", fgColor="1F4E78")
    for name, df in sheets.items():
        ws = wb.create_sheet(title=name[:31])
        frame = df.reset_index() if not isinstance(df.index, pd.RangeIndex) else df
        cols = [str(c) for c in frame.columns]
        ws.append(cols)
        for cell in ws[1]:
            cell.font = Font(bold=True, color="FFFFFF")
            cell.fill = head_fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in frame.itertuples(index=False, name=None):
            ws.append([_cell(v) for v in row])
        for j, col in enumerate(cols, start=1):
            letter = get_column_letter(j)
            fmt = _fmt_for(col)
            series = frame.iloc[:, j - 1]
            if (
                fmt
                and pd.api.types.is_numeric_dtype(series)
                and not pd.api.types.is_bool_dtype(series)
            ):
                for cell in ws[letter][1:]:
                    cell.number_format = fmt
            if pd.api.types.is_datetime64_any_dtype(series):
                for cell in ws[letter][1:]:
                    cell.number_format = "yyyy-mm-dd"
            width = max([len(col)] + [len(str(v)) for v in series.head(200).tolist()]) + 2
            ws.column_dimensions[letter].width = min(max(width, 8), 60)
        ws.freeze_panes = "A2"
        if len(frame):
            ws.auto_filter.ref = ws.dimensions
    # Fixed workbook metadata so two runs give the same bytes where openpyxl allows it.
    from datetime import datetime

    wb.properties.creator = "oonplaybook"
    wb.properties.created = datetime(2000, 1, 1)
    wb.properties.modified = datetime(2000, 1, 1)
    wb.save(path)
    return path


def _cell(v: object) -> object:
    if v is None:
        return None
    if isinstance(v, float) and v != v:
        return None
    if v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime().date()
    if isinstance(v, (list, tuple, dict)):
        return json.dumps(v, default=str)
    if hasattr(v, "item"):
        try:
            return v.item()
        except (ValueError, AttributeError):
            return str(v)
    return v


def write_summary_workbook(run_dir: str | Path) -> Path | None:
    """``summary.xlsx`` in the run folder from the tables the stages saved."""
    tables = collect_tables(run_dir)
    if not tables:
        return None
    return write_workbook(Path(run_dir) / "summary.xlsx", tables)


# --- HTML ------------------------------------------------------------------------------------

_DROP_TAGS = {"parameters", "injected-parameters", "remove-cell"}


def _client_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    cells = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & _DROP_TAGS:
            continue
        if cell.cell_type == "code":
            cell = nbformat.from_dict(dict(cell))
            cell.outputs = [
                o
                for o in cell.get("outputs", [])
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
            ]
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
    body = re.sub(r'<script type="module">(?:(?!</script>).)*?mermaid.*?</script>\s*', "", body, flags=re.S)
    out.write_text(body, encoding="utf-8")
    return out


def show(table: pd.DataFrame, empty: str, limit: int = 15) -> object:
    """A table for a notebook cell: its first ``limit`` rows, or a sentence when it is empty."""
    if table.empty:
        from IPython.display import Markdown

        return Markdown(f"*{empty}*")
    return table.head(limit)
