"""summary.xlsx from a hand-built run folder: README first with the run's facts, sheets named by
chapter in report order, no empty sheet (listed in the README instead), text numbers stored as
numbers; sheet-name rules."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from oonplaybook import report
from oonplaybook import workbook as wbk


@pytest.fixture()
def run_dir(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    (run / "artifacts").mkdir(parents=True)
    manifest = {
        "client": "acme",
        "started_utc": "2025-09-01T10:00:00+00:00",
        "params": {
            "client": "acme",
            "client_name": "Acme ER",
            "inputs": ["x.csv"],
            "state": "TX",
            "locality": "04412-99",
            "playbook": {"as_of_date": "2025-06-30"},
        },
    }
    (run / "manifest.json").write_text(json.dumps(manifest))
    pd.DataFrame(
        {
            "service_date": pd.to_datetime(["2025-01-02", "2025-05-31"]),
            "remit_date": pd.to_datetime(["2025-02-01", "2025-06-20"]),
        }
    ).to_parquet(run / "artifacts" / "claim_lines.parquet")
    # saved out of order, one without a title, one empty, one the summary does not know
    report.save_table(
        run, "40_targets", pd.DataFrame({"payer": ["A"], "target_x": [1.8]}), title="Targets"
    )
    report.save_table(run, "10_overview", pd.DataFrame({"measure": ["claims"], "value": ["12414"]}))
    report.save_table(
        run, "20_unpriced_lines", pd.DataFrame({"reason": pd.Series([], dtype="str")})
    )
    report.save_table(
        run,
        "20_benchmark_coverage",
        pd.DataFrame(
            {
                "benchmark": ["Medicare PFS"],
                "lines": [2],
                "share": [1.0],
                "source": ["CMS Medicare PFS"],
                "vintage": ["CMS PFS 2025 October release"],
            }
        ),
    )
    report.save_table(run, "20_zz_extra", pd.DataFrame({"n_lines": [3]}), title="An extra table")
    return run


def test_summary_workbook(run_dir: Path) -> None:
    path = wbk.write_summary_workbook(run_dir)
    wb = load_workbook(path)
    assert wb.sheetnames == [
        "README",
        "1 What was read",
        "2 Benchmark coverage",
        "2 An extra table",
        "4 Targets",
    ]
    text = " ".join(
        str(v) for row in wb["README"].iter_rows(values_only=True) for v in row if v is not None
    )
    assert "Acme ER" in text and "CMS PFS 2025 October release" in text
    assert "Unpriced lines: no rows in this run" in text
    assert "2025-06-30" in text  # the params' as-of date
    assert "63 days before the run date" in text
    assert wb["1 What was read"]["B2"].value == 12414  # text in, a number out
    assert wb["4 Targets"]["B1"].value == "Target (x Medicare)"


def test_run_facts(run_dir: Path) -> None:
    facts = wbk.run_facts(run_dir)
    assert facts.client_name == "Acme ER"
    assert str(facts.run_date) == "2025-09-01" and str(facts.as_of) == "2025-06-30"
    assert [str(d) for d in facts.period] == ["2025-01-02", "2025-05-31"]
    assert ("Medicare PFS", "CMS Medicare PFS; CMS PFS 2025 October release") in facts.vintages


def test_sheet_names_are_short_unique_and_legal() -> None:
    taken: set[str] = set()
    long = "Paid below each benchmark, by payer and code family: detail"
    a = wbk.sheet_name("20_gaps_detail", long, taken)
    b = wbk.sheet_name("20_gaps_detail2", long, taken)
    assert len(a) <= 31 and len(b) <= 31 and a != b and a.startswith("2 ")
    assert wbk.sheet_name("30_x", "A/B: test?", taken) == "3 A B test"
    with pytest.raises(ValueError, match="31 characters"):
        wbk.write_sheets(Path("/tmp/never.xlsx"), [wbk.Sheet("x" * 32, pd.DataFrame())])
