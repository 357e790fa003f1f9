"""playbook.xlsx on a hand-built portfolio: README first, the open worklist apart from the rest,
work columns with validation, formats by kind, numbers stored as numbers, print set-up, short
document cells with the checklists in full; deterministic bytes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from oonplaybook import playbook as pb
from oonplaybook import workbook as wbk
from oonplaybook.config import PlaybookSettings
from oonplaybook.formatting import EXCEL_FORMATS, Kind
from tests._playbook_fixtures import AS_OF, PRIORS, appeals, assessment, portfolio

S = PlaybookSettings()
SHEETS = [
    "README",
    "Summary",
    "Worklist",
    "Not open",
    "Documents",
    "Targets",
    "IDR batches",
    "Payer scorecard",
    "Patient protections",
]


def _build() -> dict[str, pd.DataFrame]:
    lines = portfolio()
    a = assessment(lines)
    t = pb.build_targets(lines, None, None, None, S, nsa_assessment=a, priors=PRIORS)
    w = pb.build_worklist(
        lines, None, a, t, None, as_of=AS_OF, settings=S, appeals=appeals(), priors=PRIORS
    )
    d = pb.idr_disputes(lines, None, a, w, t, as_of=AS_OF, priors=PRIORS)
    b = pb.build_idr_batches(d, as_of=AS_OF, settings=S)
    w = pb.link_idr_batches(w, d, b)
    prot = pb.patient_protections(lines, a)
    summary = pb.summary_sheet(
        lines, w, b, prot, client_name="Acme", as_of=str(AS_OF), specialties=["emergency_medicine"]
    )
    # the scorecard as stage 40 reads it: a CSV read as text
    score = pd.DataFrame(
        {"payer": ["Acme"], "appeal_overturn_rate": ["0.5"], "denial_odds_ratio_p": ["0.0004"]}
    )
    return {
        "summary": summary,
        "targets": t,
        "worklist": w,
        "batches": b,
        "scorecard": score,
        "protections": prot,
    }


FACTS = wbk.RunFacts(
    client_name="Acme ER",
    run_date=pd.Timestamp("2025-09-01").date(),
    as_of=AS_OF,
    vintages=(("Medicare PFS", "CMS PFS 2025 October release"),),
)


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, pd.DataFrame]]:
    parts = _build()
    path = wbk.write_playbook_workbook(
        tmp_path_factory.mktemp("wb") / "playbook.xlsx", facts=FACTS, **parts
    )
    return path, parts


def _header(ws: object) -> list[str]:
    return [c.value for c in ws[1]]


def _column(ws: object, header: str) -> list[object]:
    j = _header(ws).index(header) + 1
    return [ws.cell(row=i, column=j).value for i in range(2, ws.max_row + 1)]


def test_sheets_and_readme(book: tuple[Path, dict]) -> None:
    wb = load_workbook(book[0])
    assert wb.sheetnames == SHEETS
    text = " ".join(
        str(v) for row in wb["README"].iter_rows(values_only=True) for v in row if v is not None
    )
    for term in ("Expected recoverable", "Lost", "Underpaid against target", "At stake"):
        assert term in text
    assert "Acme ER" in text and "CMS PFS 2025 October release" in text
    assert "63 days before the run date" in text  # as of 2025-06-30, run 2025-09-01
    for name in SHEETS[1:]:
        assert name in text  # every sheet is described


def test_worklist_sheet_is_the_open_items_by_priority(book: tuple[Path, dict]) -> None:
    wb = load_workbook(book[0])
    w = book[1]["worklist"]
    ws = wb["Worklist"]
    status = _column(ws, "Status")
    assert status and set(status) == {"open"}
    prio = _column(ws, "Priority")
    assert prio == sorted(prio, reverse=True)
    rest = _column(wb["Not open"], "Status")
    assert "open" not in rest and "lost" in rest
    assert len(status) + len(rest) == len(w)
    assert _header(ws)[:5] == ["Rank", "Claim", "Payer", "Route", "Action"]


def test_work_columns_have_validation(book: tuple[Path, dict]) -> None:
    ws = load_workbook(book[0])["Worklist"]
    head = _header(ws)
    for col in (
        "Assignee",
        "Date worked",
        "Outcome",
        "Amount recovered",
        "Notes",
        "Follow-up date",
    ):
        assert col in head
        assert all(v is None for v in _column(ws, col))  # empty, for the billers
    dvs = ws.data_validations.dataValidation
    assert sorted(dv.type for dv in dvs) == ["date", "date", "decimal", "list"]
    outcome = next(dv for dv in dvs if dv.type == "list")
    assert "paid in full" in outcome.formula1 and "written off" in outcome.formula1
    amount = next(dv for dv in dvs if dv.type == "decimal")
    assert amount.operator == "greaterThanOrEqual" and amount.formula1 == "0"
    # each covers its column's data rows, header excluded
    assert all(
        str(dv.sqref).endswith(f"2:{str(dv.sqref)[0:2].rstrip('0123456789')}{ws.max_row}")
        for dv in dvs
    )


def test_formats_by_kind_and_numbers_as_numbers(book: tuple[Path, dict]) -> None:
    wb = load_workbook(book[0])
    ws = wb["Worklist"]
    head = _header(ws)

    def fmt_of(sheet: object, header: str) -> str:
        j = _header(sheet).index(header) + 1
        return sheet.cell(row=2, column=j).number_format

    assert fmt_of(ws, "Expected recoverable") == EXCEL_FORMATS[Kind.MONEY]
    assert fmt_of(ws, "Probability") == EXCEL_FORMATS[Kind.PERCENT]
    assert fmt_of(ws, "Days left") == EXCEL_FORMATS[Kind.DAYS]
    assert fmt_of(ws, "Deadline") == EXCEL_FORMATS[Kind.DATE]
    assert fmt_of(ws, "Rank") == EXCEL_FORMATS[Kind.COUNT]
    assert isinstance(_column(ws, "Expected recoverable")[0], float | int)
    t = wb["Targets"]
    assert fmt_of(t, "Target (x Medicare)") == EXCEL_FORMATS[Kind.MULTIPLE]
    sc = wb["Payer scorecard"]  # text in, numbers out
    assert _column(sc, "Appeal overturn rate") == [0.5]
    assert fmt_of(sc, "Appeal overturn rate") == EXCEL_FORMATS[Kind.PERCENT]
    assert fmt_of(sc, "Denial odds ratio p") == EXCEL_FORMATS[Kind.P_VALUE]
    summary = {
        r[0].value: r[1] for r in wb["Summary"].iter_rows(min_row=2) if r[0].value is not None
    }
    assert isinstance(summary["Billed"].value, float | int)
    assert summary["Billed"].number_format == EXCEL_FORMATS[Kind.MONEY]
    assert summary["Claim lines"].number_format == EXCEL_FORMATS[Kind.COUNT]
    assert summary["Deadlines counted to"].is_date
    assert "Letter type" in head and "Documents needed" in head


def test_print_setup_on_every_sheet(book: tuple[Path, dict]) -> None:
    wb = load_workbook(book[0])
    for name in SHEETS[1:]:
        ws = wb[name]
        assert ws.page_setup.orientation == "landscape", name
        assert ws.sheet_properties.pageSetUpPr.fitToPage, name
        assert ws.page_setup.fitToHeight == 0, name  # one page wide, as many long as needed
        assert ws.print_title_rows == "$1:$1", name
        assert ws.freeze_panes is not None and ws.freeze_panes.endswith("2"), name
        assert ws.auto_filter.ref, name
    assert wb["Worklist"].freeze_panes == "C2"  # rank and claim stay in view


def test_documents_are_short_with_the_full_list_on_their_sheet(book: tuple[Path, dict]) -> None:
    wb = load_workbook(book[0])
    short = [v for v in _column(wb["Worklist"], "Documents needed") if v]
    full = {r[0]: r[-1] for r in wb["Documents"].iter_rows(min_row=2, values_only=True) if r[0]}
    assert short and all(len(v) <= 120 for v in short)
    w = book[1]["worklist"]
    longest = w.loc[w["documents_needed"].str.len().idxmax(), "documents_needed"]
    assert len(longest) > 120  # the full text would not fit a cell
    for v in short:
        cid = v.split(":", 1)[0]
        assert cid in full and v.split(": ", 1)[1].split(";")[0] in full[cid]
    for text in w["documents_needed"]:
        items = [x.strip() for x in text.split(";") if x.strip()]
        assert any(all(i in body for i in items) for body in full.values())


def test_outputs_are_deterministic(tmp_path: Path) -> None:
    a, b = _build(), _build()
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])
    p1 = wbk.write_playbook_workbook(tmp_path / "a.xlsx", facts=FACTS, **a)
    p2 = wbk.write_playbook_workbook(tmp_path / "b.xlsx", facts=FACTS, **b)
    assert p1.read_bytes() == p2.read_bytes()


def test_plain_write_workbook_is_still_importable_from_report(tmp_path: Path) -> None:
    from oonplaybook.report import write_workbook

    path = write_workbook(tmp_path / "x.xlsx", {"T": pd.DataFrame({"billed": ["1,200.50"]})})
    ws = load_workbook(path)["T"]
    assert ws["A1"].value == "Billed" and ws["A2"].value == 1200.5


def test_revenue_at_stake_totals() -> None:
    s = _build()
    lines = portfolio()
    by_route = pb.revenue_at_stake(lines, s["worklist"], "route")
    by_payer = pb.revenue_at_stake(lines, s["worklist"], "payer")
    total_r = by_route.set_index("route").loc["All"]
    total_p = by_payer.set_index("payer").loc["All"]
    assert total_r["expected_recoverable"] == round(s["worklist"]["expected_recovery"].sum(), 2)
    assert total_p["billed"] == lines["billed"].sum()
    assert total_p["lost_revenue"] == total_r["lost_revenue"]
    assert total_r["open_items"] == int(s["worklist"]["status"].eq("open").sum())


def test_column_kind_keeps_codes_as_text_and_numbers_as_numbers() -> None:
    assert wbk.column_kind("cpt", pd.Series(["00100", "99285"])) is Kind.CODE
    assert wbk.column_kind("lines", pd.Series(["1", "1:2"])) is Kind.CODE
    assert wbk.column_kind("lines", pd.Series(["2888", "2401"])) is Kind.COUNT
    assert wbk.column_kind("billed", pd.Series(["1200.5", ""])) is Kind.MONEY
    assert wbk.column_kind("deadline", pd.Series(["2026-02-09", None])) is Kind.DATE
    assert wbk.column_kind("value", pd.Series(["12414", "8"])) is Kind.COUNT
    assert wbk.column_kind("note", pd.Series(["00123"])) is Kind.TEXT  # a code-like string
