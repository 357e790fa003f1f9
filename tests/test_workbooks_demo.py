"""Both workbooks of a demo run, opened with openpyxl (issue 15 item 5): no number stored as text
outside code/identifier columns, formats by kind, a README sheet first, readable sheet names and
no empty sheet, the Worklist sheet all open and by priority, validation on the work columns,
print set-up on every sheet; and the run's worklist coherent (item 8)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from oonplaybook.formatting import EXCEL_FORMATS, Kind
from oonplaybook.glossary import TERMS

#: A string a spreadsheet user would read as a number: 12, 1,234.50, $12, 28.0%, 1.85x.
NUMERIC_TEXT = re.compile(r"^\s*[+-]?\$?(\d[\d,]*(\.\d*)?|\.\d+)\s*(%|x)?\s*$")

#: Headers of identifier and code columns, where digits are text on purpose (CPT 00100, claim
#: and batch ids, TINs, salted patient keys, the line numbers of a row "1:2").
CODE_HEADERS = frozenset(
    {
        "Claim",
        "Codes",
        "Code",
        "Code billed",
        "Lines",
        "Patient key",
        "Provider TIN",
        "Batch",
        "Reason code (CARC)",
        "Checklist",
        "IDR code group",
        "Payment change from",
        "Drift month",
        "Drift month low",
        "Drift month high",
    }
)


@pytest.fixture(scope="module")
def books(demo_run: Path) -> dict[str, object]:
    return {
        "playbook": load_workbook(demo_run / "artifacts" / "playbook.xlsx"),
        "summary": load_workbook(demo_run / "summary.xlsx"),
    }


def _header(ws: object) -> list[str]:
    return [c.value for c in ws[1]]


def _column(ws: object, header: str) -> list[object]:
    j = _header(ws).index(header) + 1
    return [ws.cell(row=i, column=j).value for i in range(2, ws.max_row + 1)]


def _number_format(ws: object, header: str) -> str:
    """The number format of the column's first non-empty data cell."""
    j = _header(ws).index(header) + 1
    for i in range(2, ws.max_row + 1):
        c = ws.cell(row=i, column=j)
        if c.value is not None:
            return c.number_format
    return ""


def test_no_number_is_stored_as_text_outside_code_columns(books: dict) -> None:
    found: dict[tuple[str, str, str], str] = {}
    for book, wb in books.items():
        for ws in wb.worksheets:
            if ws.title == "README":
                continue
            head = _header(ws)
            for row in ws.iter_rows(min_row=2):
                for c in row:
                    v = c.value
                    if isinstance(v, str) and NUMERIC_TEXT.match(v):
                        h = head[c.column - 1]
                        if h not in CODE_HEADERS:
                            found.setdefault((book, ws.title, str(h)), v)
    assert not found, f"numbers stored as text: {found}"


def test_the_scan_finds_numbers_stored_as_text(tmp_path: Path) -> None:
    """The scan above can fail: a sheet written the old way (every value a string) trips it."""
    import xlsxwriter

    path = tmp_path / "old.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Summary")
    ws.write_row(0, 0, ["item", "value"])
    ws.write_row(1, 0, ["Billed", "10994235.0"])
    wb.close()
    ws2 = load_workbook(path)["Summary"]
    assert NUMERIC_TEXT.match(ws2["B2"].value) and "value" not in CODE_HEADERS


def test_formats_by_kind(books: dict) -> None:
    pb = books["playbook"]
    w = pb["Worklist"]
    money, cents = EXCEL_FORMATS[Kind.MONEY], EXCEL_FORMATS[Kind.MONEY_CENTS]
    expected = {
        "Expected recoverable": money,
        "At stake": money,
        "Priority": money,
        "Probability": EXCEL_FORMATS[Kind.PERCENT],
        "Days left": EXCEL_FORMATS[Kind.DAYS],
        "Deadline": EXCEL_FORMATS[Kind.DATE],
        "Service date": EXCEL_FORMATS[Kind.DATE],
        "Rank": EXCEL_FORMATS[Kind.COUNT],
        "Prompt-pay interest": cents,
    }
    for header, want in expected.items():
        assert _number_format(w, header) == want, header
    sc = pb["Payer scorecard"]
    for header, kind in {
        "Claims": Kind.COUNT,
        "Denial odds ratio": Kind.MULTIPLE,
        "Denial odds ratio p": Kind.P_VALUE,
        "Appeal overturn rate": Kind.PERCENT,
        "Median days to pay": Kind.DAYS,
        "Billed": Kind.MONEY,
    }.items():
        assert _number_format(sc, header) == EXCEL_FORMATS[kind], header
        assert all(isinstance(v, int | float) for v in _column(sc, header) if v is not None)
    t = pb["Targets"]
    assert _number_format(t, "Target (x Medicare)") == EXCEL_FORMATS[Kind.MULTIPLE]
    assert _number_format(t, "Lines") == EXCEL_FORMATS[Kind.COUNT]
    summary = {r[0].value: r[1] for r in pb["Summary"].iter_rows(min_row=2) if r[0].value}
    assert summary["Expected recoverable"].number_format == money
    assert summary["Worklist items (open)"].number_format == EXCEL_FORMATS[Kind.COUNT]
    assert isinstance(summary["Billed"].value, int | float)
    sm = books["summary"]
    eff = sm["3 Payer effects"]
    assert _number_format(eff, "p-value") == EXCEL_FORMATS[Kind.P_VALUE]
    assert _number_format(eff, "95% CI low") == EXCEL_FORMATS[Kind.MULTIPLE]
    assert _number_format(sm["2 Allowed x Medicare"], "Median") == EXCEL_FORMATS[Kind.MULTIPLE]
    overview = sm["1 What was read"]
    values = {r[0]: r[1] for r in overview.iter_rows(min_row=2, values_only=True) if r[0]}
    assert isinstance(values["claims"], int | float)


def test_readme_first_and_readable_sheet_names(books: dict) -> None:
    for wb in books.values():
        assert wb.sheetnames[0] == "README"
        text = " ".join(
            str(v) for row in wb["README"].iter_rows(values_only=True) for v in row if v
        )
        assert all(t.name in text and t.definition in text for t in TERMS)
        assert "Deadlines counted to (as of)" in text and "Medicare PFS" in text
        for name in wb.sheetnames[1:]:
            assert name in text, name  # each sheet says what it holds
            ws = wb[name]
            assert ws.max_row >= 2, f"empty sheet {name}"
    names = books["summary"].sheetnames
    assert not [n for n in names if re.match(r"^\d{2}_", n)]
    assert {"1 What was read", "3 Payer scorecard", "4 Targets"} <= set(names)


def test_worklist_sheet_is_open_items_by_priority(books: dict, demo_run: Path) -> None:
    pb = books["playbook"]
    ws = pb["Worklist"]
    status = _column(ws, "Status")
    assert len(status) > 100 and set(status) == {"open"}
    prio = _column(ws, "Priority")
    assert prio == sorted(prio, reverse=True)
    assert all(v > 0 for v in _column(ws, "Expected recoverable"))  # no $0 write-offs
    rest = set(_column(pb["Not open"], "Status"))
    assert "open" not in rest and {"lost", "resolved", "write_off"} <= rest
    csv = pd.read_csv(demo_run / "artifacts" / "worklist.csv", usecols=["status"])
    assert len(status) == int(csv["status"].eq("open").sum())


def test_work_columns_validation_and_print_setup(books: dict) -> None:
    pb = books["playbook"]
    for name in ("Worklist", "Not open"):
        ws = pb[name]
        head = _header(ws)
        for col in ("Assignee", "Date worked", "Outcome", "Amount recovered", "Notes"):
            assert col in head
        assert "Follow-up date" in head
        kinds = sorted(dv.type for dv in ws.data_validations.dataValidation)
        assert kinds == ["date", "date", "decimal", "list"], name
    for wb in books.values():
        for ws in wb.worksheets[1:]:
            assert ws.page_setup.orientation == "landscape", ws.title
            assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
            assert ws.page_setup.fitToHeight == 0, ws.title
            assert ws.print_title_rows == "$1:$1", ws.title
            assert ws.freeze_panes, ws.title
            assert ws.auto_filter.ref, ws.title


def test_documents_needed_is_short_with_the_lists_on_their_sheet(books: dict) -> None:
    pb = books["playbook"]
    short = [v for v in _column(pb["Worklist"], "Documents needed") if v]
    assert short and max(len(v) for v in short) <= 120
    ids = {r[0] for r in pb["Documents"].iter_rows(min_row=2, values_only=True)}
    assert {v.split(":", 1)[0] for v in short} <= ids


def test_demo_worklist_rows_agree_and_no_protected_patient_is_billed(demo_run: Path) -> None:
    from oonplaybook.playbook.worklist import ROUTE_LETTER_TYPE, coherence_problems

    w = pd.read_csv(
        demo_run / "artifacts" / "worklist.csv",
        dtype={"claim_id": "str", "next_step": "str", "letter_type": "str"},
        keep_default_na=False,
        na_values={"at_stake": [""]},
    )
    prot = pd.read_parquet(demo_run / "artifacts" / "tables" / "40_patient_protections.parquet")
    assert coherence_problems(w, prot).empty
    bills = w[w["route"].eq("patient_bill") & w["status"].eq("open")].merge(prot, on="claim_id")
    assert len(bills) and bills["balance_bill_allowed"].all()
    rank1 = w.iloc[0]
    assert rank1["letter_type"] == ROUTE_LETTER_TYPE[rank1["route"]]
