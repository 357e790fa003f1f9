"""report.html assembled from executed notebooks and a run's artifacts, without a pipeline run."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from oonplaybook import formatting as fmt
from oonplaybook import report
from oonplaybook.config import RunConfig
from tests.test_executive import _run

_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


def _notebook(path: Path, number: int) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("client = 'x'")
    params.metadata["tags"] = ["parameters"]
    table = nbformat.v4.new_code_cell("report.show(df)")
    table.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={"text/html": fmt.to_html(pd.DataFrame({"billed": [1234.5]}), "Money")},
        ),
        nbformat.v4.new_output("stream", name="stderr", text="Traceback warning noise\n"),
    ]
    figure = nbformat.v4.new_code_cell("fig = plot()")
    figure.outputs = [nbformat.v4.new_output("display_data", data={"image/png": _PNG})]
    extra = nbformat.v4.new_markdown_cell("## Data quality\n\nHow it was **read**: $1,000.")
    extra.metadata["tags"] = ["appendix"]
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"# {number} · Chapter {number}\n\nBilled **$5**."),
        params,
        table,
        figure,
        extra,
    ]
    out = path / f"{number}0_stage.ipynb"
    nbformat.write(nb, out)
    return out


def _config() -> RunConfig:
    return RunConfig.model_validate(
        {
            "client": "x",
            "client_name": "X Physicians",
            "inputs": ["a.csv"],
            "specialties": ["radiology"],
            "state": "NY",
            "locality": "13202-01",
            "playbook": {"as_of_date": "2025-05-31"},
        }
    )


def test_report_order_and_content(tmp_path: Path) -> None:
    run = _run(tmp_path)
    nbs = [_notebook(run, 1), _notebook(run, 2)]
    out = report.build_report_html(nbs, run / "report.html", title="t", config=_config())
    page = out.read_text()
    soup = BeautifulSoup(page, "lxml")
    ids = [el.get("id") for el in soup.find_all(id=True)]
    order = ["title-block", "executive-summary", "glossary", "chapter-1", "chapter-2"]
    assert [i for i in ids if i in order] == order
    assert ids.index("appendix-1") > ids.index("chapter-2")
    assert "X Physicians" in soup.find(id="title-block").get_text()
    text = soup.get_text(" ")
    assert "Traceback warning noise" not in text and "client = 'x'" not in text
    assert "Billed <strong>$5</strong>." in page and "$1,000" in text  # dollars are not TeX
    appendix = soup.find(id="appendix-1")
    assert "Appendix A · Data quality (chapter 1)" in appendix.get_text()
    assert "Data quality" not in soup.find(id="chapter-1").get_text()
    assert len(soup.select("#chapter-1 img")) == 1
    assert "$1,234" in soup.find(id="chapter-1").get_text()  # no cents from $1,000


def test_report_without_summary_inputs_has_the_chapters(tmp_path: Path) -> None:
    nb = _notebook(tmp_path, 1)
    out = report.build_report_html([nb], tmp_path / "report.html", title="Only chapters")
    soup = BeautifulSoup(out.read_text(), "lxml")
    assert soup.find(id="executive-summary") is None
    assert "Chapter 1" in soup.get_text()


def test_a_broken_summary_is_shown_not_fatal(tmp_path: Path) -> None:
    run = _run(tmp_path)
    (run / "artifacts" / "claim_lines.parquet").write_bytes(b"not a parquet file")
    nb = _notebook(run, 1)
    out = report.build_report_html([nb], run / "report.html", title="t", config=_config())
    soup = BeautifulSoup(out.read_text(), "lxml")
    assert "could not be computed" in soup.find(id="summary-error").get_text()
    assert "Chapter 1" in soup.get_text()


def test_pdf_note_when_no_chromium(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "find_chromium", lambda: None)
    html = tmp_path / "report.html"
    html.write_text("<html></html>")
    note = report.write_report_pdf(html, tmp_path / "report.pdf")
    assert note.startswith("report.pdf not written: no Chromium found")
    assert not (tmp_path / "report.pdf").exists()


def test_pdf_note_when_chromium_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OONPLAYBOOK_CHROMIUM", "/bin/false")
    html = tmp_path / "report.html"
    html.write_text("<html></html>")
    note = report.write_report_pdf(html, tmp_path / "report.pdf")
    assert note.startswith("report.pdf not written: /bin/false exited 1")
