"""The executive summary's figures: range, lost and why, actions, stale as-of, industry table."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from oonplaybook import executive
from oonplaybook.reference.industry import load_industry_benchmarks


def _run(tmp_path: Path) -> Path:
    art = tmp_path / "artifacts"
    art.mkdir()
    lines = pd.DataFrame(
        {
            "claim_id": ["A", "B", "C", "D"],
            "service_date": pd.to_datetime(
                ["2025-01-05", "2025-02-01", "2026-01-03", "2025-03-01"]
            ),
            "claim_status": ["paid", "denied", "paid", "denied"],
            "billed": [1000.0, 2000.0, 500.0, 100.0],
            "paid": [400.0, 0.0, 200.0, 0.0],
            "specialty": ["radiology", "radiology", None, "radiology"],
        }
    )
    lines.to_parquet(art / "claim_lines.parquet", index=False)
    pd.DataFrame(
        {
            "rank": [1, 2, 3, 4],
            "claim_id": ["A", "B", "C", "D"],
            "payer": ["P1", "P1", "P2", "P2"],
            "route": ["open_negotiation", "appeal_l1", "appeal_l1", "open_negotiation"],
            "status": ["open", "open", "lost", "open"],
            "deadline": ["2025-06-10", "2025-08-01", "2025-03-01", "2025-05-20"],
            "days_left": [10, 62, -5, 0],
            "at_stake": [600.0, 1500.0, 300.0, 50.0],
            "probability": [0.8, 0.5, 0.5, 0.5],
            "expected_recovery": [450.0, 700.0, 0.0, 0.0],
            "lost_revenue": [0.0, 0.0, 150.0, 0.0],
            "denied_amount": [0.0, 1500.0, 0.0, 50.0],
            "priority": [400.0, 300.0, 0.0, 0.0],
        }
    ).to_csv(art / "worklist.csv", index=False)
    return tmp_path


def test_summary_figures(tmp_path: Path) -> None:
    run = _run(tmp_path)
    s = executive.build_summary(
        run,
        client_name="X",
        as_of=date(2025, 5, 31),
        run_date=date(2025, 6, 5),
        fee_schedule_year=2025,
        specialties=["radiology"],
        figures=[],
    )
    assert (s.open_items, s.lost_items) == (3, 1)
    assert s.at_stake_open == pytest.approx(2150.0)
    assert s.expected_recoverable == pytest.approx(1150.0)
    assert s.recoverable_low < s.expected_recoverable < s.recoverable_high
    assert s.lost == pytest.approx(150.0)
    assert s.lost_why == ["$150.00 on 1 items: the plan's internal-appeal deadline passed"]
    assert list(s.actions["claim_id"]) == ["A", "B"]  # $0 expected items are not actions
    assert not s.stale
    assert "1 lines ($500.00 billed) are outside the chosen specialties" in s.scope_note
    assert any("1 lines of 2026 priced with the 2025 fee schedule" in v for v in s.vintages)
    assert s.headline()[1] == ("Expected recoverable", "$1,150")


def test_stale_as_of_counts_to_today(tmp_path: Path) -> None:
    run = _run(tmp_path)
    s = executive.build_summary(
        run,
        client_name="X",
        as_of=date(2025, 5, 31),
        run_date=date(2025, 7, 15),
        fee_schedule_year=2025,
        figures=[],
    )
    assert s.stale and s.stale_days == 45
    # A (2025-06-10) and D (2025-05-20) have passed by 2025-07-15; B (2025-08-01) is open
    assert (s.today_open_items, s.today_newly_lost) == (1, 2)
    assert s.today_expected == pytest.approx(700.0)
    assert list(s.actions["claim_id"]) == ["B"]
    assert s.actions["days_left"].tolist() == [17]


def test_recoverable_range_is_zero_width_for_certain_items() -> None:
    items = pd.DataFrame(
        {
            "at_stake": [100.0],
            "probability": [1.0],
            "expected_recovery": [90.0],
            "route": ["appeal_l1"],
            "payer": ["X"],
        }
    )
    assert executive.recoverable_range(items) == (90.0, 90.0)


def test_payer_findings_from_scorecard() -> None:
    sc = pd.DataFrame(
        {
            "rank": [1, 2],
            "payer": ["Cut Co", "Fair Co"],
            "drift_flag": [True, False],
            "drift_month": ["2025-05", None],
            "drift_size": [0.72, 1.0],
            "repricer_flag": [False, False],
            "improper_er_flag": [False, False],
            "denial_odds_ratio": [2.8, 1.0],
            "denial_odds_ratio_p": [1e-9, 0.9],
        }
    )
    found = executive.payer_findings(sc)
    assert found[0].startswith("Cut Co cut what it pays by 28% from 2025-05")
    assert any("Cut Co denies claims more often" in f for f in found)
    assert not any(f.startswith("Fair Co") for f in found)


def test_industry_table_cites_every_figure() -> None:
    figures = load_industry_benchmarks()
    ids = {f.id for f in figures}
    assert {"denial_rate_oon_marketplace", "idr_provider_win_rate", "denials_recoverable"} <= ids
    idr = next(f for f in figures if f.id == "idr_provider_win_rate")
    assert len(idr.by_quarter) == 10 and idr.by_quarter[-1]["quarter"] == "2025Q2"
    table = executive.industry_table({"denial_rate": (0.126, "lines denied")}, figures)
    assert len(table) == len(figures)
    assert table["source"].str.contains(r"\(\d{4} data\)").all()
    row = table[table["measure"].str.startswith("Out-of-network")].iloc[0]
    assert (row["this practice"], row["published"]) == ("12.6%", "37.0%")
    assert "under 1%" in set(table["published"])


def test_industry_table_rejects_uncited_figure(tmp_path: Path) -> None:
    bad = tmp_path / "b.yaml"
    bad.write_text("benchmarks:\n  - {id: x, measure: m, compare_to: c, value: 0.3, unit: share}\n")
    with pytest.raises(ValueError, match="lacks population, source, year"):
        load_industry_benchmarks(bad)
    pct = tmp_path / "p.yaml"
    pct.write_text(
        "benchmarks:\n  - {id: x, measure: m, compare_to: c, value: 37, unit: share of claims,"
        " population: p, source: s, year: 2023}\n"
    )
    with pytest.raises(ValueError, match="a share is a fraction"):
        load_industry_benchmarks(pct)


def test_vintage_note_reads_each_lines_fee_schedule_year(tmp_path: Path) -> None:
    art = tmp_path / "artifacts"
    art.mkdir()
    lines = pd.DataFrame(
        {
            "claim_id": ["A", "B", "C"],
            "line_no": [1, 1, 1],
            "service_date": pd.to_datetime(["2025-03-01", "2026-01-05", "2026-02-01"]),
        }
    )
    pd.DataFrame(
        {
            "claim_id": ["A", "B", "C"],
            "line_no": [1, 1, 1],
            "medicare_vintage": ["CMS PFS 2025 Oct", "CMS PFS 2026 Jan", "CMS PFS 2025 Oct"],
        }
    ).to_parquet(art / "benchmarks.parquet", index=False)
    notes = executive.data_vintages(tmp_path, lines, 2025)
    assert notes[0] == "Medicare: CMS PFS 2025 Oct; CMS PFS 2026 Jan"
    assert notes[-1].startswith("Medicare amounts: 1 lines of 2026 priced with the 2025 fee")


def test_idr_win_rate_trend_by_quarter() -> None:
    (trend,) = executive.industry_trends(load_industry_benchmarks())
    assert "2023Q1 73.5%" in trend and trend.endswith("2025Q2 88.2%.")


def test_packaged_idr_win_rates_match_the_cms_tables() -> None:
    """The packaged by-quarter figures are CMS Table 12's provider-prevailing / total
    (a provenance check against the CMS tables in ../shared; the package carries the figures)."""
    from tests.conftest import SHARED_REAL

    # copied into the repository from ../shared (tests/data/README.md gives its provenance)
    t = pd.read_parquet(SHARED_REAL / "idr" / "supp_payment_determination_outcomes.parquet")
    total = t[t["Metric"].str.startswith("Total Payment Determinations")].set_index("Quarter")
    won = t[t["Metric"].str.contains("Provider, Facility, or Air Ambulance Provider is the Prev")]
    won = won.set_index("Quarter")
    idr = next(f for f in load_industry_benchmarks() if f.id == "idr_provider_win_rate")
    for q in idr.by_quarter:
        assert q["determinations"] == total.loc[q["quarter"], "Total"]
        assert q["provider_prevailed"] == won.loc[q["quarter"], "Total"]
        assert q["value"] == pytest.approx(q["provider_prevailed"] / q["determinations"], abs=5e-4)
    assert idr.value == idr.by_quarter[-1]["value"]


def test_industry_reading_sets_the_practice_beside_published_rates() -> None:
    rates = {
        "denial_rate": (0.126, ""),
        "appeal_share": (0.355, ""),
        "overturn_rate": (0.502, ""),
    }
    text = executive.industry_reading(rates, load_industry_benchmarks())
    assert "denied 12.6% of its adjudicated lines, below the 37% of out-of-network" in text
    assert "appealed 36% of its denied claims" in text and "50% of its decided appeals" in text
    assert "(2025Q2)" in text
    assert executive.industry_reading({}, []) == ""


def test_headline_lines_for_the_terminal(tmp_path: Path) -> None:
    import json

    from tests.test_report_html import _config

    run = _run(tmp_path)
    (run / "report.html").write_text("<html></html>")
    manifest = {
        "params": _config().model_dump(mode="json"),
        "report_pdf": "report.pdf not written: x",
    }
    (run / "manifest.json").write_text(json.dumps(manifest))
    lines = executive.headline_lines(run, tmp_path / "params.yaml")
    assert lines[0].split() == ["At", "stake", "on", "open", "items", "$2,150"]
    assert "Expected recoverable" in lines[1] and "$1,150" in lines[1]
    assert "Lost (deadlines passed)" in lines[2]
    assert any("report:" in ln and ln.endswith("report.html") for ln in lines)
    assert lines[-1].strip() == "report.pdf not written: x"
    assert executive.headline_lines(tmp_path / "nowhere", tmp_path / "p.yaml") == []


def test_headline_lines_read_the_manifest_headline_without_recomputing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from tests.test_report_html import _config

    run = _run(tmp_path)
    (run / "report.html").write_text("<html></html>")
    s = executive.summary_for_run(run, _config(), tmp_path)
    rec = executive.headline_record(s)
    manifest = {"params": _config().model_dump(mode="json"), "headline": rec}
    (run / "manifest.json").write_text(json.dumps(manifest))
    fresh = executive.headline_lines(run, tmp_path / "params.yaml")

    def boom(*a: object, **k: object) -> None:
        raise AssertionError("the summary was computed again")

    monkeypatch.setattr(executive, "summary_for_run", boom)
    assert executive.headline_lines(run, tmp_path / "params.yaml") == fresh
    assert "$2,150" in fresh[0] and "$1,150" in fresh[1]
    # without the record the summary is computed (and here fails): the line says so
    (run / "manifest.json").write_text(json.dumps({"params": manifest["params"]}))
    lines = executive.headline_lines(run, tmp_path / "params.yaml")
    assert lines[0].startswith("  headline figures unavailable: AssertionError")


def test_summary_and_stage_column_lists_name_real_columns() -> None:
    """The narrow reads keep only the columns they name that exist: a misspelt name would be
    read as missing, so every name must be a worklist / canonical claim-line column."""
    from oonplaybook import playbook as pb
    from oonplaybook import schema
    from oonplaybook.payers.io import PAYER_STAGE_COLUMNS
    from oonplaybook.playbook.worklist import WORKLIST_COLUMNS

    assert executive.WORKLIST_SUMMARY_COLUMNS <= set(WORKLIST_COLUMNS)
    assert set(PAYER_STAGE_COLUMNS) <= set(schema.CLAIM_LINE_COLUMNS)
    assert set(pb.PLAYBOOK_STAGE_COLUMNS) <= set(schema.CLAIM_LINE_COLUMNS)
