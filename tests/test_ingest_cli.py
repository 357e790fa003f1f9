"""``oonplaybook ingest``: writes the tables, prints the summary, exit 0 / exit 2 naming the file."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from oonplaybook.cli import app
from tests._ingest_samples import make_835

runner = CliRunner()
ENV = {"OONPLAYBOOK_PHI_SALT": "cli-test-salt", "COLUMNS": "200"}


def test_ingest_writes_tables_and_prints_summary(tmp_path: Path) -> None:
    (tmp_path / "a.835").write_text(make_835(3))
    out = tmp_path / "out"
    r = runner.invoke(app, ["ingest", str(tmp_path / "a.835"), "--out", str(out)], env=ENV)
    assert r.exit_code == 0, r.output
    assert "accepted lines" in r.output and "$360.00" in r.output  # paid 3 x 120
    rep = json.loads((out / "ingest_report.json").read_text())
    assert rep["claims"] == 3 and rep["accepted_lines"] == 6 and rep["rejected"] == 0
    for key in (
        "files",
        "lines",
        "rejected_by_reason",
        "unbalanced_claims",
        "billed",
        "allowed",
        "paid",
        "patient_resp",
        "adjustments",
    ):
        assert key in rep
    assert list(rep) == sorted(rep)


def test_rejects_are_data_not_failure(tmp_path: Path) -> None:
    (tmp_path / "a.835").write_text(make_835(3, clp03={2: "x"}))
    r = runner.invoke(
        app, ["ingest", str(tmp_path / "a.835"), "--out", str(tmp_path / "o")], env=ENV
    )
    assert r.exit_code == 0, r.output
    rej = (tmp_path / "o" / "rejects.csv").read_text()
    assert "claim C002" in rej and "segment" in rej


def test_unreadable_file_exits_2_naming_it(tmp_path: Path) -> None:
    (tmp_path / "good.835").write_text(make_835(1))
    (tmp_path / "empty.835").write_text("")
    r = runner.invoke(app, ["ingest", str(tmp_path), "--out", str(tmp_path / "o")], env=ENV)
    assert r.exit_code == 2
    assert "empty.835" in r.output and "empty" in r.output
    (tmp_path / "empty.835").write_text("some,thing\n1,2\n")
    r = runner.invoke(app, ["ingest", str(tmp_path), "--out", str(tmp_path / "o")], env=ENV)
    assert r.exit_code == 2 and "not a known tabular layout" in r.output


def test_missing_salt_exits_2(tmp_path: Path) -> None:
    (tmp_path / "a.835").write_text(make_835(1))
    r = runner.invoke(
        app,
        [
            "ingest",
            str(tmp_path / "a.835"),
            "--out",
            str(tmp_path / "o"),
            "--salt-env",
            "NOPE_SALT",
        ],
        env={"NOPE_SALT": ""},
    )
    assert r.exit_code == 2 and "NOPE_SALT" in r.output


def test_mapping_option_and_missing_path(tmp_path: Path) -> None:
    r = runner.invoke(
        app, ["ingest", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o")], env=ENV
    )
    assert r.exit_code == 2 and "nope.csv: input not found" in r.output
    (tmp_path / "x.csv").write_text("claim_id,cpt,service_date\nA,99213,2025-01-01\n")
    r = runner.invoke(
        app,
        ["ingest", str(tmp_path / "x.csv"), "--out", str(tmp_path / "o"), "--mapping", "generic"],
        env=ENV,
    )
    assert r.exit_code == 0, r.output
    assert "generic" in r.output
