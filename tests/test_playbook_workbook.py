"""playbook.xlsx: the six sheets, frozen formatted headers, money/percent formats; deterministic outputs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import load_workbook

from oonplaybook import playbook as pb
from oonplaybook.config import PlaybookSettings
from tests._playbook_fixtures import AS_OF, PRIORS, appeals, assessment, portfolio

S = PlaybookSettings()
SHEETS = ["Summary", "Targets", "Worklist", "IDR batches", "Payer scorecard", "Patient protections"]


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
    score = pd.DataFrame({"payer": ["Acme"], "appeal_overturn_rate": [0.5]})
    return dict(zip(SHEETS, [summary, t, w, b, score, prot], strict=True))


def test_workbook_sheets_and_formats(tmp_path: Path) -> None:
    path = pb.write_workbook(tmp_path / "playbook.xlsx", _build())
    wb = load_workbook(path)
    assert wb.sheetnames == SHEETS
    ws = wb["Worklist"]
    assert ws.freeze_panes == "A2"
    assert ws["A1"].font.bold
    header = [c.value for c in ws[1]]
    money_col = header.index("expected_recovery") + 1
    share_col = header.index("probability") + 1
    assert "$" in ws.cell(row=2, column=money_col).number_format
    assert "%" in ws.cell(row=2, column=share_col).number_format
    assert ws.column_dimensions["A"].width >= 9
    assert wb["Payer scorecard"].cell(row=2, column=2).number_format.endswith("%")


def test_outputs_are_deterministic(tmp_path: Path) -> None:
    a, b = _build(), _build()
    for name in SHEETS:
        pd.testing.assert_frame_equal(a[name], b[name])
    p1 = pb.write_workbook(tmp_path / "a.xlsx", a)
    p2 = pb.write_workbook(tmp_path / "b.xlsx", b)
    assert p1.read_bytes() == p2.read_bytes()


def test_revenue_at_stake_totals(tmp_path: Path) -> None:
    s = _build()
    lines = portfolio()
    by_route = pb.revenue_at_stake(lines, s["Worklist"], "route")
    by_payer = pb.revenue_at_stake(lines, s["Worklist"], "payer")
    total_r = by_route.set_index("route").loc["All"]
    total_p = by_payer.set_index("payer").loc["All"]
    assert total_r["expected_recoverable"] == round(s["Worklist"]["expected_recovery"].sum(), 2)
    assert total_p["billed"] == lines["billed"].sum()
    assert total_p["lost_revenue"] == total_r["lost_revenue"]
