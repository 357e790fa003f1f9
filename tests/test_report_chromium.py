"""report.html as a client reads it: rendered and printed by headless Chromium.

One pipeline run (the session's ``demo_run``). Chromium renders the report with its print
stylesheet applied at the printable width of an A4 page (the narrower of A4 and Letter) and
reports every table's width; the printed PDF is read back for its page order and blank pages.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from oonplaybook import report

#: A4 (210 mm) less the print stylesheet's 12 mm side margins, in CSS px (96 per inch).
PRINT_WIDTH_PX = round((210 - 2 * 12) / 25.4 * 96)

#: Rendered cell text that means a raw pandas value leaked into a table.
RAW_VALUES = re.compile(r"\b(NaN|NaT|None|nan|True|False|<NA>)\b")

# Injected into a copy of the report: apply the @media print rules as screen rules, lay the body
# out at the printable width, then record each table's width and where it overflows.
_CHECK_JS = """
<script>
(function () {
  for (const sheet of Array.from(document.styleSheets)) {
    const rules = Array.from(sheet.cssRules);
    for (const r of rules) {
      if (r instanceof CSSMediaRule && r.media.mediaText.includes('print')) {
        for (const inner of Array.from(r.cssRules)) {
          if (!(inner instanceof CSSPageRule)) { sheet.insertRule(inner.cssText, sheet.cssRules.length); }
        }
      }
    }
  }
  document.body.style.width = '%(width)dpx';
  document.body.style.maxWidth = '%(width)dpx';
  document.body.style.padding = '0';
  document.body.style.margin = '0';
  const left = document.body.getBoundingClientRect().left;
  const out = [];
  document.querySelectorAll('table').forEach(function (t, i) {
    const cap = t.querySelector('caption');
    out.push({i: i, caption: cap ? cap.textContent : '', right: t.getBoundingClientRect().right - left,
              scroll: t.scrollWidth});
  });
  const pre = document.createElement('pre');
  pre.id = 'oop-width-check';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
"""


@pytest.fixture(scope="module")
def chromium() -> str:
    """The headless Chromium binary (Debian's `chromium`; `.ci/run` installs it)."""
    binary = report.find_chromium()
    if binary is None:
        pytest.skip("no chromium binary (apt-get install -y chromium, or set OONPLAYBOOK_CHROMIUM)")
    return binary


def _dump_dom(chromium: str, html_path: Path) -> str:
    with tempfile.TemporaryDirectory() as profile:
        cmd = report.chromium_command(chromium, profile) + [
            "--virtual-time-budget=20000",
            "--dump-dom",
            html_path.resolve().as_uri(),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.fixture(scope="module")
def rendered(demo_run: Path, chromium: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The report's DOM after Chromium ran it with the print rules at A4 printable width."""
    d = tmp_path_factory.mktemp("chromium")
    page = d / "report.html"
    html = (demo_run / "report.html").read_text(encoding="utf-8")
    assert "</body>" in html
    page.write_text(html.replace("</body>", _CHECK_JS % {"width": PRINT_WIDTH_PX} + "</body>"))
    dom = _dump_dom(chromium, page)
    soup = BeautifulSoup(dom, "lxml")
    check = soup.find("pre", id="oop-width-check")
    assert check is not None, "the width check did not run in Chromium"
    return {"dom": dom, "soup": soup, "widths": json.loads(check.get_text())}


@pytest.fixture(scope="module")
def pdf_pages(
    demo_run: Path, chromium: str, tmp_path_factory: pytest.TempPathFactory
) -> list[tuple[str, int]]:
    """(text, number of images) of each page of report.html printed by headless Chromium."""
    pypdf = pytest.importorskip("pypdf", reason="pypdf (the dev extra) reads the printed PDF")
    pdf = tmp_path_factory.mktemp("pdf") / "report.pdf"
    note = report.write_report_pdf(demo_run / "report.html", pdf)
    assert pdf.exists(), note
    pages = []
    for page in pypdf.PdfReader(str(pdf)).pages:
        xobjects = page.get("/Resources", {}).get("/XObject") or {}
        images = sum(1 for x in xobjects.values() if x.get_object().get("/Subtype") == "/Image")
        pages.append((page.extract_text() or "", images))
    return pages


def test_run_writes_report_pdf(demo_run: Path, chromium: str) -> None:
    manifest = json.loads((demo_run / "manifest.json").read_text())
    assert manifest["report_pdf"].startswith("report.pdf written"), manifest["report_pdf"]
    assert (demo_run / "report.pdf").stat().st_size > 10_000


def test_title_and_summary_come_before_chapter_one(rendered: dict) -> None:
    soup = rendered["soup"]
    order = [el.get("id") for el in soup.find_all(id=True)]
    for needed in ("title-block", "executive-summary", "glossary", "chapter-1"):
        assert needed in order, f"{needed} missing from the rendered report"
    assert order.index("title-block") < order.index("executive-summary") < order.index("chapter-1")
    title = soup.find(id="title-block").get_text(" ", strip=True)
    for field in ("Period covered", "As of", "Run date", "Data vintages"):
        assert field in title
    summary = soup.find(id="executive-summary").get_text(" ", strip=True)
    for phrase in ("expected recoverable", "lost", "ten actions", "Against the industry"):
        assert phrase.lower() in summary.lower()
    # the warning shows exactly when the as-of date is more than 30 days before the run date
    import datetime as dt

    as_of = dt.date.fromisoformat(title.split("As of", 1)[1].split()[0])
    run = dt.date.fromisoformat(title.split("Run date", 1)[1].split()[0])
    assert (soup.find(id="stale-warning") is not None) == ((run - as_of).days > 30)


def test_no_raw_values_and_no_index_in_any_table(rendered: dict) -> None:
    soup = rendered["soup"]
    tables = soup.find_all("table")
    assert len(tables) >= 20
    assert not soup.select("table.dataframe"), "a raw pandas table reached the report"
    bad = []
    for t in tables:
        headers = [th.get_text(strip=True) for th in t.select("thead th")]
        assert headers and all(headers), f"a table has an unnamed (index) column: {headers[:4]}"
        for td in t.find_all("td"):
            text = td.get_text(" ", strip=True)
            if RAW_VALUES.search(text):
                bad.append(text[:80])
    assert not bad, f"{len(bad)} raw values in table cells, e.g. {bad[:5]}"
    # a count formatted as a share reads "2000.0%": no share in the report is ten times the whole
    pct = [
        td.get_text(strip=True)
        for td in soup.find_all("td")
        if re.fullmatch(r"-?[\d,]+\.\d%", td.get_text(strip=True))
        and float(td.get_text(strip=True)[:-1].replace(",", "")) > 1000
    ]
    assert not pct, f"implausible percentages (a count read as a share?): {pct[:5]}"
    cut = [
        td.get_text() for td in soup.find_all("td") if td.get_text().rstrip().endswith(("...", "…"))
    ]
    assert not cut, f"cells cut short: {cut[:3]}"


def test_no_table_wider_than_the_printed_page(rendered: dict) -> None:
    too_wide = [
        (w["caption"][:60], round(w["right"]))
        for w in rendered["widths"]
        if w["right"] > PRINT_WIDTH_PX + 1
    ]
    assert not too_wide, f"tables wider than an A4 page ({PRINT_WIDTH_PX}px): {too_wide}"


def test_every_top_n_table_names_where_the_rest_is(rendered: dict) -> None:
    soup = rendered["soup"]
    notes = [p.get_text(" ", strip=True) for p in soup.select("p.rest-note")]
    assert len(notes) >= 4
    for n in notes:
        assert re.fullmatch(r"Showing [\d,]+ of [\d,]+: the rest are in .+\.", n), n
    # the worklist, targets and IDR batches are top-N views of the workbook's sheets
    for sheet in ("Worklist", "Targets", "IDR batches"):
        assert any(f"playbook.xlsx › {sheet}" in n for n in notes), sheet


def test_printed_pdf_order_and_no_blank_pages(pdf_pages: list[tuple[str, int]]) -> None:
    texts = [t for t, _ in pdf_pages]
    assert len(texts) >= 8
    assert "Executive summary" in texts[0] and "Period covered" in texts[0]
    chapter_one = next(i for i, t in enumerate(texts) if t.lstrip().startswith("1 · What was read"))
    assert chapter_one >= 1
    assert "Executive summary" not in "".join(texts[chapter_one:])
    blank = [i + 1 for i, (t, images) in enumerate(pdf_pages) if len(t.strip()) < 40 and not images]
    assert not blank, f"blank printed pages: {blank}"
