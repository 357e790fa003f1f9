"""``oonplaybook payers``: artifacts, contract columns, clear exit-2 errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from oonplaybook.cli import app
from oonplaybook.payers import EFFECT_COLUMNS, EFFECT_MODELS
from oonplaybook.payers.simulate import simulate_portfolio

runner = CliRunner()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A stage-10-like artifacts folder: claim_lines.parquet, benchmarks.parquet, appeals."""
    d = tmp_path_factory.mktemp("artifacts")
    s = simulate_portfolio(2500, seed=21)
    s.claim_lines.drop(columns="medicare_allowed").to_parquet(d / "claim_lines.parquet")
    s.claim_lines[["claim_id", "line_no", "medicare_allowed"]].to_parquet(d / "benchmarks.parquet")
    s.appeals.to_parquet(d / "appeals.parquet")
    return d


def test_cli_writes_contract_artifacts(folder, tmp_path):
    out = tmp_path / "out"
    r = runner.invoke(app, ["payers", str(folder / "claim_lines.parquet"), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "benchmark stage" in r.output
    eff = pd.read_csv(out / "payer_effects.csv")
    assert list(eff.columns) == list(EFFECT_COLUMNS)
    assert set(eff["model"]) == set(EFFECT_MODELS)
    core = eff[eff["model"] != "appeal_odds_ratio"]
    assert core["estimate"].notna().all()
    assert (eff["estimate"].notna() | eff["note"].notna()).all()
    sc = pd.read_csv(out / "scorecard.csv", keep_default_na=False)
    assert {"payer", "drift_month", "repricer_flag", "rank"} <= set(sc.columns)
    assert sc["payer"].is_unique
    js = json.loads((out / "payer_models.json").read_text())
    assert js["errors"] == {}


def test_cli_output_is_deterministic(folder, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for o in (a, b):
        r = runner.invoke(app, ["payers", str(folder / "claim_lines.parquet"), "--out", str(o)])
        assert r.exit_code == 0, r.output
    for name in ("payer_effects.csv", "scorecard.csv", "payer_models.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_cli_missing_file_exits_2_naming_it(tmp_path):
    missing = tmp_path / "nope.parquet"
    r = runner.invoke(app, ["payers", str(missing), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2
    assert "nope.parquet" in r.output and "not found" in r.output


def test_cli_bad_locality_exits_2(folder, tmp_path):
    r = runner.invoke(
        app,
        [
            "payers",
            str(folder / "claim_lines.parquet"),
            "--out",
            str(tmp_path),
            "--locality",
            "Manhattan",
        ],
    )
    assert r.exit_code == 2
    assert "13202-01" in r.output


def test_cli_bad_columns_exits_2(tmp_path):
    p = tmp_path / "bad.parquet"
    pd.DataFrame({"claim_id": ["A"], "x": [1]}).to_parquet(p)
    r = runner.invoke(app, ["payers", str(p), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2
    assert "bad.parquet" in r.output and "line_no" in r.output and "payer" in r.output


def test_cli_unpriceable_lines_still_fit_other_models(tmp_path):
    s = simulate_portfolio(1500, seed=9)
    p = tmp_path / "claim_lines.parquet"
    s.claim_lines.drop(columns="medicare_allowed").assign(cpt="ZZZZZ").to_parquet(p)
    r = runner.invoke(
        app, ["payers", str(p), "--out", str(tmp_path / "o"), "--locality", "13202-01"]
    )
    assert r.exit_code == 0, r.output
    eff = pd.read_csv(tmp_path / "o" / "payer_effects.csv", keep_default_na=False)
    assert (eff.loc[eff["model"] == "denial_odds_ratio", "estimate"] != "").all()
    pay = eff[eff["model"] == "paid_multiple_of_medicare"]
    assert (pay["estimate"] == "").all() and (pay["note"].str.len() > 0).all()


def test_cli_thin_data_reports_instead_of_crashing(tmp_path):
    s = simulate_portfolio(25, seed=8)
    p = tmp_path / "claim_lines.parquet"
    s.claim_lines.to_parquet(p)
    r = runner.invoke(app, ["payers", str(p), "--out", str(tmp_path / "o")])
    assert r.exit_code == 0, r.output
    eff = pd.read_csv(tmp_path / "o" / "payer_effects.csv", keep_default_na=False)
    missing = eff[eff["estimate"] == ""]
    assert len(missing) and (missing["note"].str.len() > 0).all()
