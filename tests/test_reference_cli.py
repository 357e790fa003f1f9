"""CLI: oonplaybook price / reference import / reference show / benchmark."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from oonplaybook.cli import app
from oonplaybook.reference import pfs

#: CMS files copied into the repository (tests/data/README.md gives their provenance).
CMS = Path(__file__).resolve().parent / "data" / "real" / "cms"
LOCCO = CMS.parent / "cms_2017_locality_county_crosswalk.txt"
runner = CliRunner()


def test_price_json_has_every_component():
    r = runner.invoke(
        app, ["price", "71046", "--modifier", "26", "--locality", "13202-1", "--facility", "--json"]
    )
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    for k in (
        "allowed",
        "work_rvu",
        "pe_rvu",
        "mp_rvu",
        "gpci_work",
        "gpci_pe",
        "gpci_mp",
        "conversion_factor",
        "facility",
        "status",
    ):
        assert k in d
    assert d["allowed"] == 11.13 and d["facility"] is True and d["locality"] == "13202-01"


def test_price_table_and_unknown_inputs_exit_2_with_nearest():
    ok = runner.invoke(app, ["price", "99213", "--locality", "2102-1"])
    assert ok.exit_code == 0 and "$112.20" in ok.output
    bad = runner.invoke(app, ["price", "99219", "--locality", "13202-01"])
    assert bad.exit_code == 2 and "nearest" in bad.output and "99221" in bad.output
    bad = runner.invoke(app, ["price", "99213", "--locality", "13203-01"])
    assert bad.exit_code == 2 and "13202-01" in bad.output


def _zip_release(tmp_path: Path, transform) -> Path:
    text = (CMS / "PPRRVU2025_Oct.csv").read_text()
    z = tmp_path / "rvu.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("PPRRVU2025_Oct.csv", transform(text))
        f.writestr("GPCI2025.csv", (CMS / "GPCI2025.csv").read_text())
        f.writestr("RVU25D.pdf", "not a table")
        f.writestr("25LOCCO.csv", LOCCO.read_bytes())
        # CMS ANES2025 layout; a real file lists every locality, this one two (the rest fall back)
        f.writestr(
            "ANES2025.csv",
            "Contractor,Locality,Locality Name,National Anes CF of 20.3178\n"
            "10112,00,ALABAMA,19.31\n02102,01,ALASKA*,27.86\n",
        )
    return z


def test_reference_import_reports_changes_and_cache_takes_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv(pfs.CACHE_ENV, str(tmp_path / "cache"))

    def edit(text: str) -> str:
        lines = [ln for ln in text.splitlines() if not ln.startswith("99213,")]
        row = next(ln for ln in text.splitlines() if ln.startswith("99214,"))
        lines.append(row.replace("99214,", "9921X,", 1))
        return "\n".join(lines) + "\n"

    r = runner.invoke(app, ["reference", "import", str(_zip_release(tmp_path, edit))])
    assert r.exit_code == 0, r.output
    assert "codes added: 1: 9921X" in r.output and "codes removed: 1: 99213" in r.output
    assert "32.3465" in r.output
    # the 2017 LOCCO predates 2025 locality changes: the import says which GPCI localities it misses
    assert "LOCCO: 112 localities" in r.output and "missing from LOCCO" in r.output
    t = pfs.load_tables(2025)
    assert t.origin.startswith(str(tmp_path))
    out = pfs.medicare_allowed(
        pd.DataFrame({"cpt": ["99213", "9921X"], "locality": ["13202-01"] * 2})
    )
    assert np.isnan(out["medicare_allowed"].iloc[0]) and out["medicare_allowed"].iloc[1] > 0


def test_reference_import_refuses_cf_mismatch_and_bad_layout(tmp_path, monkeypatch):
    monkeypatch.setenv(pfs.CACHE_ENV, str(tmp_path / "cache"))
    z = _zip_release(
        tmp_path, lambda t: t.replace("2025 National Physician", "2026 National Physician", 1)
    )
    r = runner.invoke(app, ["reference", "import", str(z)])
    assert r.exit_code == 2 and "CONV FACTOR" in r.output
    z2 = tmp_path / "empty.zip"
    with zipfile.ZipFile(z2, "w") as f:
        f.writestr("readme.txt", "x")
    r = runner.invoke(app, ["reference", "import", str(z2)])
    assert r.exit_code == 2 and "PPRRVU" in r.output
    assert not (tmp_path / "cache" / "reference").exists()


def test_benchmark_command_writes_ladder(tmp_path):
    lines = pd.DataFrame(
        {
            "claim_id": ["A", "B"],
            "line_no": [1, 1],
            "payer": ["Acme", "Acme"],
            "cpt": ["99285", "00790"],
            "modifiers": ["", "AA"],
            "units": [1.0, 95.0],
            "unit_type": ["UN", "MJ"],
            "pos": ["23", "21"],
            "locality": ["", "10112-00"],
            "billed": [900.0, 1500.0],
            "allowed": [300.0, 400.0],
            "paid": [250.0, 300.0],
            "claim_status": ["paid", "paid"],
        }
    )
    src = tmp_path / "claim_lines.parquet"
    lines.to_parquet(src)
    out = tmp_path / "bench.parquet"
    r = runner.invoke(app, ["benchmark", str(src), "--out", str(out), "--locality", "13202-01"])
    assert r.exit_code == 0, r.output
    b = pd.read_parquet(out)
    assert b["medicare_allowed"].tolist() == [190.63, 256.82]
    missing = runner.invoke(app, ["benchmark", str(tmp_path / "nope.parquet"), "--out", str(out)])
    assert missing.exit_code == 2 and "not found" in missing.output
