"""Rendering: jinja2 templates to Markdown, and that Markdown to Word (.docx), deterministically.

Templates live in ``letters/templates`` (``internal/`` holds the staff cover note). Rendering is
strict (a missing field is an error, never an empty string); money, dates and multiples go
through the filters below so every letter writes them the same way.
"""

from __future__ import annotations

import io
import re
import zipfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd


def money(v: Any) -> str:
    """``$1,234.50``; missing as an em dash (never 'nan')."""
    try:
        x = float(v)
    except (TypeError, ValueError):
        return "—"
    return "—" if x != x else f"${x:,.2f}"


def pct(v: Any) -> str:
    """A percentage rounded to a whole number, e.g. ``250%``."""
    try:
        x = float(v)
    except (TypeError, ValueError):
        return "—"
    return "—" if x != x else f"{x:.0f}%"


def mult(v: Any) -> str:
    """A multiple, e.g. ``1.85x``."""
    try:
        x = float(v)
    except (TypeError, ValueError):
        return "—"
    return "—" if x != x else f"{x:.2f}x"


def day(v: Any) -> str:
    """A date as letters write it (``March 3, 2026``); missing as an em dash."""
    if v is None or v is pd.NaT or v == "" or (isinstance(v, float) and v != v):
        return "—"
    ts = pd.Timestamp(v)
    if ts is pd.NaT:
        return "—"
    return f"{ts:%B} {ts.day}, {ts.year}"


def iso(v: Any) -> str:
    """A date as ``YYYY-MM-DD`` (tables), missing as an em dash."""
    if v is None or v is pd.NaT or v == "" or (isinstance(v, float) and v != v):
        return "—"
    ts = pd.Timestamp(v)
    return "—" if ts is pd.NaT else ts.date().isoformat()


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    """The strict jinja2 environment over ``letters/templates`` with the letter filters."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("oonplaybook.letters", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # Markdown output, not HTML
        keep_trailing_newline=True,
    )
    env.globals.update(money=money, pct=pct, mult=mult, day=day, iso=iso)
    return env


def render_markdown(template: str, **context: Any) -> str:
    """Render ``templates/<template>.md.j2`` to Markdown (StrictUndefined: a missing field is an error)."""
    try:
        tpl = _env().get_template(f"{template}.md.j2")
    except jinja2.TemplateNotFound:
        raise ValueError(f"unknown letter template {template!r}") from None
    text = tpl.render(**context)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


# --- Markdown -> .docx ---------------------------------------------------------------------------

_INLINE = re.compile(r"(\*\*[^*]+\*\*|`[^`]+`)")
_RULE = re.compile(r"\|[\s\-|:]+\|?")
_NUMERIC = re.compile(r"^[\s$—\-+(),.%x0-9]+$")


def _add_runs(par: Any, text: str) -> None:
    """Add ``text`` to a paragraph, **bold** as bold runs (the only inline style letters use)."""
    for part in _INLINE.split(text):
        if not part:
            continue
        if part.startswith("**") and part.endswith("**"):
            par.add_run(part[2:-2]).bold = True
        elif part.startswith("`") and part.endswith("`"):
            par.add_run(part[1:-1]).italic = True
        else:
            par.add_run(part)


def _table(doc: Any, block: list[str]) -> None:
    """A Markdown table as a Word table: numbers right-aligned and never wrapped mid-figure."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement

    rows = [
        [c.strip() for c in r.strip().strip("|").split("|")]
        for r in block
        if not _RULE.fullmatch(r.strip())
    ]
    ncol = max(len(r) for r in rows)
    table = doc.add_table(rows=0, cols=ncol)
    table._tbl.tblStyle_val = "TableGrid"  # by id: python-docx's by-name lookup scans every style
    for r_i, row in enumerate(rows):
        cells = table.add_row().cells  # one cells lookup per row (python-docx cell() is O(n^2))
        for c_i, cell in enumerate(cells):
            text = row[c_i] if c_i < len(row) else ""
            par = cell.paragraphs[0]
            _add_runs(par, text)
            if r_i == 0:
                for run in par.runs:
                    run.bold = True
            elif text and _NUMERIC.match(text.replace("*", "")):
                par.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                tc_pr = cell._tc.get_or_add_tcPr()
                no_wrap = OxmlElement("w:noWrap")
                tc_pr.append(no_wrap)
                for run in par.runs:  # a figure is one unbreakable run
                    run.text = run.text.replace(" ", "\u00a0").replace("-", "\u2011")


def _styled(doc: Any, style_id: str) -> Any:
    """A new paragraph with a built-in style set by id (the by-name lookup is O(styles))."""
    par = doc.add_paragraph()
    par._p.style = style_id
    return par


def markdown_to_docx(markdown: str, path: Path) -> Path:
    """Write the Markdown subset the templates use (headings, paragraphs, bullets, tables, bold) as .docx."""
    from docx import Document
    from docx.shared import Pt

    doc = Document()
    doc.core_properties.author = "oonplaybook"
    doc.core_properties.created = pd.Timestamp("2000-01-01").to_pydatetime()
    doc.core_properties.modified = pd.Timestamp("2000-01-01").to_pydatetime()
    doc.core_properties.last_modified_by = "oonplaybook"
    doc.core_properties.revision = 1
    style = doc.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(10.5)
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("|"):
            block = []
            while i < len(lines) and lines[i].startswith("|"):
                block.append(lines[i])
                i += 1
            _table(doc, block)
            continue
        m = re.match(r"^(#{1,3})\s+(.*)$", line)
        if m:
            # = doc.add_heading(text, level), by style id (its by-name lookup scans every style)
            _styled(doc, f"Heading{len(m.group(1))}").add_run(m.group(2))
        elif line.startswith("- "):
            _add_runs(_styled(doc, "ListBullet"), line[2:])
        elif re.match(r"^\d+\.\s", line):
            _add_runs(_styled(doc, "ListNumber"), re.sub(r"^\d+\.\s+", "", line))
        elif line.strip():
            _add_runs(doc.add_paragraph(), line.rstrip("\\").rstrip())
        i += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    _save_deterministic(doc, path)
    return path


def _save_deterministic(doc: Any, path: Path) -> None:
    """Save a python-docx document with fixed zip-entry times (python-docx stamps the wall
    clock on every entry), so the same letter is byte-identical across runs."""
    buf = io.BytesIO()
    doc.save(buf)
    buf.seek(0)
    with (
        zipfile.ZipFile(buf) as zin,
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zout,
    ):
        for item in zin.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = item.external_attr
            zout.writestr(info, zin.read(item.filename), compresslevel=1)


#: Letters from which the .docx files are written on several processes (each child starts in
#: ~1.5 s; a .docx takes ~60 ms, so below this the children cost more than they save).
PARALLEL_DOCX_MIN = 64


def write_docx_batch(jobs: list[tuple[str, str]]) -> int:
    """:func:`markdown_to_docx` for each (markdown, path); returns the files written."""
    for md, path in jobs:
        markdown_to_docx(md, Path(path))
    return len(jobs)


def write_docx_all(jobs: list[tuple[str, str]]) -> None:
    """Write every (markdown, path) .docx, on :func:`child_calls.processes` children from
    :data:`PARALLEL_DOCX_MIN` letters on (the files are byte-identical either way: each is
    saved deterministically). A child's failure re-runs the writing here, so the error names
    the letter."""
    from oonplaybook import child_calls

    n = child_calls.processes() if len(jobs) >= PARALLEL_DOCX_MIN else 1
    if n <= 1:
        write_docx_batch(jobs)
        return
    chunks = [jobs[k::n] for k in range(n)]  # interleaved: each child gets every kind
    try:
        child_calls.map_calls("oonplaybook.letters.render:write_docx_batch", [(c,) for c in chunks])
    except child_calls.ChildCallError:
        write_docx_batch(jobs)
