"""Transparency-in-Coverage allowed-amounts streaming reader (oonplaybook.tic)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from oonplaybook import tic

#: CMS's TiC allowed-amounts examples, copied into the repository (tests/data/README.md).
TIC = Path(__file__).resolve().parent / "data" / "real" / "tic"


def _item(code: str, amounts: list[float], npis: list[list[int]], **extra) -> dict:
    return {
        "name": "x",
        "billing_code_type": "CPT",
        "billing_code_type_version": "2025",
        "billing_code": code,
        "description": "x",
        "allowed_amounts": [
            {
                "tin": {"type": "ein", "value": "111111111"},
                "service_code": ["23"],
                "billing_class": "professional",
                "payments": [
                    {
                        "allowed_amount": a,
                        "providers": [{"billed_charge": a * 4, "npi": n} for n in npis],
                    }
                    for a in amounts
                ],
                **extra,
            }
        ],
    }


def _write(path: Path, doc: dict) -> Path:
    path.write_text(json.dumps(doc))
    return path


def test_rows_per_payment_and_provider(tmp_path):
    doc = {
        "reporting_entity_name": "Acme Health",
        "reporting_entity_type": "health insurance issuer",
        "plan_name": "Acme PPO",
        "last_updated_on": "2025-06-01",
        "version": "1.0.0",
        "out_of_network": [
            _item("99285", [410.0, 380.5], [[1234567893], [1111111111, 1111111111]])
        ],
    }
    df = tic.read_allowed_amounts(_write(tmp_path / "a.json", doc))
    assert len(df) == 4
    assert sorted(df["allowed_amount"].tolist()) == [380.5, 380.5, 410.0, 410.0]
    assert set(df["npis"]) == {"1234567893", "1111111111"}  # duplicates dropped
    assert (df["tin"] == "111111111").all() and (df["service_code"] == "23").all()
    assert (df["plan_name"] == "Acme PPO").all() and (df["last_updated_on"] == "2025-06-01").all()


def test_metadata_after_items_and_codes_filter_and_gzip(tmp_path):
    doc = {
        "out_of_network": [_item("99285", [400.0], [[1]]), _item("99213", [90.0], [[2]])],
        "reporting_entity_name": "Late Meta Inc",
        "last_updated_on": "2025-07-01",
        "reporting_plans": [{"plan_name": "P1"}, {"plan_name": "P2"}],
    }
    p = tmp_path / "b.json.gz"
    with gzip.open(p, "wt") as f:
        json.dump(doc, f)
    df = tic.read_allowed_amounts(p, codes=["99213"])
    assert df["billing_code"].tolist() == ["99213"]
    assert df["reporting_entity_name"].iloc[0] == "Late Meta Inc"
    assert df["plan_name"].iloc[0] == "P1:P2"
    assert df["version"].iloc[0] == ""  # absent in early files, kept empty (not guessed)


def test_not_a_tic_file_and_truncated_file_errors(tmp_path):
    with pytest.raises(tic.TicFormatError, match="no 'out_of_network'"):
        tic.read_allowed_amounts(_write(tmp_path / "in.json", {"in_network": []}))
    bad = tmp_path / "trunc.json"
    bad.write_text('{"out_of_network": [{"billing_code": "99213", "allowed_amounts": [')
    with pytest.raises(tic.TicFormatError, match="truncated"):
        tic.read_allowed_amounts(bad)
    nocode = _write(tmp_path / "nocode.json", {"out_of_network": [{"allowed_amounts": []}]})
    with pytest.raises(tic.TicFormatError, match="billing_code"):
        tic.read_allowed_amounts(nocode)


def test_cms_examples_all_versions():
    df = tic.read_allowed_amounts(sorted(TIC.glob("*.json")))
    # four files with one 99214 item x 3 providers; the empty multiplan file adds nothing
    assert len(df) == 12
    assert (df["billing_code"] == "99214").all() and (df["allowed_amount"] == 25.0).all()
    early = df[df["file"] == "out-of-network-sample.json"]
    assert sorted(early["billed_charge"]) == [50.0, 60.0, 70.0]  # billed_amount spelling
    assert early["tin"].iloc[0] == "1234567890"  # tin as a number
    assert early["n_npi"].max() == 4  # duplicated NPI counted once
    assert set(df.loc[df["file"] == "allowed-amounts-single-plan-sample.json", "modifiers"]) == {
        "25"
    }
    empty = tic.read_allowed_amounts(TIC / "multiplan-empty-example.json")
    assert empty.empty and list(empty.columns) == list(tic.TIC_COLUMNS)
