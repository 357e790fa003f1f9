"""Client-facing outputs: the single ``report.html`` of a run (the Excel workbooks: ``workbook.py``).

Stage notebooks register the tables a client should get with :func:`save_table`; the runner
then writes ``summary.xlsx`` from them and joins the executed notebooks into one HTML document
with no code cells, no stderr and no papermill parameter cells.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


# The Excel writer lives in ``workbook.py``; these names stay importable from here for callers.
from oonplaybook.workbook import (  # noqa: E402, F401
    WORKBOOK_MAX_ROWS,
    write_summary_workbook,
    write_workbook,
)

# --- HTML ------------------------------------------------------------------------------------

_DROP_TAGS = {"parameters", "injected-parameters", "remove-cell"}
#: Cells tagged ``appendix`` in a notebook go to the report's appendix, after the findings.
APPENDIX_TAG = "appendix"


@dataclass
class Section:
    """A chapter or an appendix of the report: its title and its HTML."""

    title: str
    html: str


def _markdown(text: str) -> str:
    """Markdown to HTML (mistune, no TeX: "$1,000" stays a dollar amount)."""
    import mistune

    return str(mistune.html(text))


def _output_html(output: Mapping[str, Any]) -> str:
    """One notebook output as HTML: tables and figures; never stderr, tracebacks or reprs."""
    kind = output.get("output_type")
    if kind == "stream":
        if output.get("name") == "stderr":
            return ""
        text = "".join(output.get("text", ""))
        return f"<pre>{html.escape(text)}</pre>" if text.strip() else ""
    if kind not in ("display_data", "execute_result"):
        return ""
    data = output.get("data", {})
    if "image/png" in data:
        png = "".join(data["image/png"]).replace("\n", "")
        return f'<img alt="figure" src="data:image/png;base64,{png}">'
    if "text/html" in data:
        return "".join(data["text/html"])
    if "text/markdown" in data:
        return _markdown("".join(data["text/markdown"]))
    if "image/svg+xml" in data:
        return "".join(data["image/svg+xml"])
    text = "".join(data.get("text/plain", ""))
    if not text.strip() or text.startswith("<Figure size"):
        return ""
    return f"<pre>{html.escape(text)}</pre>"


def _client_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    """The cells a client reads: no parameter cells, no code, no stderr."""
    cells = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & _DROP_TAGS:
            continue
        if cell.cell_type == "code" and not any(_output_html(o) for o in cell.get("outputs", [])):
            continue
        if cell.cell_type in ("markdown", "code"):
            cells.append(cell)
    return cells


def _cell_html(cell: nbformat.NotebookNode) -> str:
    if cell.cell_type == "markdown":
        return _markdown(cell.source)
    return "\n".join(h for h in (_output_html(o) for o in cell.get("outputs", [])) if h)


_HEADING = re.compile(r"^#{1,2}\s+(.+?)\s*$", re.M)


def notebook_sections(nb_path: Path, letter: str) -> tuple[Section, Section | None]:
    """(the chapter, its appendix or None) from one executed stage notebook."""
    nb = nbformat.read(nb_path, as_version=4)
    main: list[str] = []
    extra: list[str] = []
    title = nb_path.stem
    extra_title = ""
    for cell in _client_cells(nb):
        tags = set(cell.get("metadata", {}).get("tags", []))
        frag = _cell_html(cell)
        if cell.cell_type == "markdown" and title == nb_path.stem:
            m = re.search(r"^#\s+(.+?)\s*$", cell.source, re.M)
            if m:
                title = m.group(1)
        if APPENDIX_TAG in tags:
            if not extra_title and cell.cell_type == "markdown":
                m = _HEADING.search(cell.source)
                extra_title = m.group(1) if m else ""
            extra.append(frag)
        else:
            main.append(frag)
    chapter = Section(title=title, html="\n".join(main))
    if not extra:
        return chapter, None
    number = title.split("·", 1)[0].strip()
    name = extra_title or "Methods and data"
    return chapter, Section(
        title=f"Appendix {letter} · {name} (chapter {number})", html="\n".join(extra)
    )


def _template(name: str) -> str:
    from importlib import resources

    return resources.files("oonplaybook").joinpath(f"templates/{name}").read_text("utf-8")


def run_summary(run_dir: Path, config: Any, params_base: Path | None) -> tuple[Any, str]:
    """(the run's :class:`~oonplaybook.executive.ExecutiveSummary`, ""); (None, the report's
    warning saying why) when it cannot be computed; (None, "") without a config or a worklist
    (a report of the chapters only)."""
    if config is None or not (run_dir / "artifacts" / "worklist.csv").exists():
        return None, ""
    from oonplaybook.executive import summary_for_run

    try:
        return summary_for_run(run_dir, config, params_base), ""
    except Exception as e:  # the chapters are still worth having; say what is missing
        return None, (
            '<div class="warning" id="summary-error"><strong>The executive summary could '
            f"not be computed</strong> ({html.escape(type(e).__name__)}: "
            f"{html.escape(str(e))}); the chapters below are complete.</div>"
        )


def build_report_html(
    notebooks: list[Path],
    out: Path,
    *,
    title: str,
    config: Any = None,
    params_base: Path | None = None,
    summary: tuple[Any, str] | None = None,
) -> Path:
    """Write ``report.html``: title block, executive summary, glossary, the chapters from the
    executed stage notebooks (no code, params or stderr), then the appendix.

    ``config`` (the run's :class:`RunConfig`) supplies client, as-of date and specialties for
    the summary; without it the report has the chapters only (e.g. a single-stage run).
    ``summary``: :func:`run_summary`'s result when the caller has it already (the run also
    prints its headline), else it is computed here.
    """
    import jinja2
    from markupsafe import Markup

    from oonplaybook import __version__, glossary
    from oonplaybook import formatting as fmt

    out = Path(out)
    chapters: list[Section] = []
    appendices: list[Section] = []
    for path in notebooks:
        chapter, extra = notebook_sections(Path(path), "ABCDEFGH"[len(appendices)])
        chapters.append(chapter)
        if extra is not None:
            appendices.append(extra)
    summary, problem = summary or run_summary(out.parent, config, params_base)
    if summary is None:
        body = "\n".join(f'<section class="chapter">{c.html}</section>' for c in chapters)
        doc = (
            f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>'
            f"{html.escape(title)}</title><style>{_template('report.css')}</style></head>"
            f"<body><h1>{html.escape(title)}</h1>{problem}{body}</body></html>"
        )
        out.write_text(doc, encoding="utf-8")
        return out
    actions = fmt.to_html(
        summary.actions,
        f"Ranked by priority (expected recoverable x urgency); {summary.actions_basis}",
        total_rows=summary.actions_total,
        where_rest="artifacts/playbook.xlsx › Worklist (every open item, by priority)",
        labels={"action": "Action", "days_left": "Days left"},
    )
    industry = summary.industry
    industry = industry.assign(
        measure=industry["measure"]
        + " (practice: "
        + industry["what the practice's figure counts"]
        + ")"
    ).drop(columns=["what the practice's figure counts", "population"])
    industry_html = fmt.to_html(
        industry,
        "The practice beside published figures",
        labels={
            "this practice": "This practice",
            "published": "Published",
            "source": "Source (data year)",
        },
        kinds={"this practice": fmt.Kind.TEXT, "published": fmt.Kind.TEXT},
    )
    period = (
        f"{summary.period_start.isoformat()} to {summary.period_end.isoformat()}"
        if summary.period_start and summary.period_end
        else "no dated services"
    )
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    doc = env.from_string(_template("report.html.j2")).render(
        title=title,
        css=Markup(_template("report.css")),
        s=summary,
        period=period,
        actions_table=Markup(actions),
        industry_table=Markup(industry_html),
        chapters=[Section(c.title, Markup(c.html)) for c in chapters],
        appendices=[Section(a.title, Markup(a.html)) for a in appendices],
        glossary=glossary.TERMS,
        money=fmt.money,
        pct=lambda v: fmt.format_value(v, fmt.Kind.PERCENT),
        fmt_count=lambda v: fmt.format_value(v, fmt.Kind.COUNT),
        version=__version__,
    )
    out.write_text(doc, encoding="utf-8")
    return out


# --- PDF -------------------------------------------------------------------------------------

#: Browsers tried, in order, to print report.pdf (``$OONPLAYBOOK_CHROMIUM`` first when set).
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """Path of a headless-capable Chromium, or None when none is installed."""
    import os
    import shutil

    env = os.environ.get("OONPLAYBOOK_CHROMIUM")
    if env:
        return env if Path(env).exists() else shutil.which(env)
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium_command(binary: str, profile_dir: str) -> list[str]:
    """Headless Chromium with no network side traffic, no GPU and a throwaway profile."""
    return [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        f"--user-data-dir={profile_dir}",
    ]


def write_report_pdf(html_path: Path, pdf_path: Path, *, timeout: int = 300) -> str:
    """Print ``report.html`` to ``report.pdf`` with headless Chromium; return a one-line note.

    Never raises for a missing or failing browser (the run must not fail for the PDF): the
    note says what happened and how to get the PDF.
    """
    import subprocess
    import tempfile

    binary = find_chromium()
    if binary is None:
        return (
            "report.pdf not written: no Chromium found (install Debian's `chromium`, or set "
            "OONPLAYBOOK_CHROMIUM to a Chrome/Chromium binary); print report.html from a browser"
        )
    pdf_path = Path(pdf_path)
    pdf_path.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="oonplaybook-chromium-") as profile:
        cmd = chromium_command(binary, profile) + [
            f"--print-to-pdf={pdf_path}",
            "--no-pdf-header-footer",
            Path(html_path).resolve().as_uri(),
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.SubprocessError) as e:
            return f"report.pdf not written: {binary} failed to start or timed out ({e})"
    if not pdf_path.exists() or pdf_path.stat().st_size == 0:
        tail = (proc.stderr or "").strip().splitlines()[-1:] or [""]
        return f"report.pdf not written: {binary} exited {proc.returncode} ({tail[0][:200]})"
    return f"report.pdf written by {Path(binary).name}"


def show(
    table: pd.DataFrame,
    empty: str,
    limit: int = 15,
    *,
    caption: str = "",
    where_rest: str | None = None,
    total_rows: int | None = None,
    kinds: Mapping[str, Any] | None = None,
    labels: Mapping[str, str] | None = None,
    columns: list[str] | None = None,
    total_row: bool = False,
) -> object:
    """A table for a notebook cell and the report, through :mod:`oonplaybook.formatting`: its
    first ``limit`` rows, formatted, with where the rest are; a sentence when it is empty.

    ``columns`` lists the columns to show, in order; those the table lacks are skipped."""
    from oonplaybook import formatting as fmt

    total = len(table) if total_rows is None else total_rows
    if columns is not None:  # the columns present, in this order (a model may add or drop some)
        columns = [c for c in columns if c in table.columns]
    return fmt.table(
        table,
        caption,
        empty=empty,
        limit=limit,
        total_rows=total,
        where_rest=where_rest or ("summary.xlsx" if total > limit else None),
        kinds=kinds,
        labels=labels,
        columns=columns,
        total_row=total_row,
    )
