"""``oonplaybook demo-data`` end to end on a small portfolio."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from oonplaybook.cli import app


def test_demo_data_writes_the_folder(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    res = CliRunner().invoke(
        app, ["demo-data", "--out", str(out), "--lines", "1500", "--seed", "5"]
    )
    assert res.exit_code == 0, res.output
    for name in ("claims_export.csv", "appeals.csv", "truth.json", "portfolio.parquet",
                 "adjustments.parquet"):  # fmt: skip
        assert (out / name).is_file(), name
    assert sorted((out / "remits").glob("*.835"))
    assert str(out) in res.output
    truth = json.loads((out / "truth.json").read_text())
    assert truth["seed"] == 5 and truth["lines"] == 1500
    exp = pd.read_csv(out / "claims_export.csv", dtype=str, keep_default_na=False)
    # every claim line plus the planted defect rows (rejected by ingest, not dropped)
    assert len(exp) == 1500 + len(truth["defects"]["export_rejects"])
    assert (out / "remits" / truth["defects"]["remit_file"]).is_file()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--lines", "0"], "--lines"),
        (["--seed", "-1"], "--seed"),
        (["--start", "July"], "--start"),
        (["--months", "6"], "--months"),
    ],
)
def test_demo_data_bad_options_exit_2(tmp_path: Path, args: list[str], needle: str) -> None:
    res = CliRunner().invoke(app, ["demo-data", "--out", str(tmp_path / "x"), *args])
    assert res.exit_code == 2
    assert needle in res.output


def test_cli_start_default_is_the_generators() -> None:
    from oonplaybook import cli_demo, demo

    assert cli_demo.DEMO_START == demo.DEFAULT_START
