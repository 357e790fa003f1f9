"""The params contract: bad params fail before any notebook runs, naming key, value and fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from oonplaybook.config import ParamsError, RunConfig, load_config
from tests.conftest import DEMO_PARAMS


def _write(tmp_path: Path, **overrides: object) -> Path:
    data = yaml.safe_load(DEMO_PARAMS.read_text())
    data["inputs"] = ["inputs.csv"]
    data.pop("appeals_file", None)
    (tmp_path / "inputs.csv").write_text("claim_id\n1\n")
    data.update(overrides)
    p = tmp_path / "client.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


def test_demo_params_validate() -> None:
    cfg, base = load_config(DEMO_PARAMS, check_inputs=False)
    assert cfg.client == "demo"
    assert cfg.locality == "13202-01"
    assert base == DEMO_PARAMS.parent.resolve()


def test_numeric_cpt_code_is_refused_with_the_fix(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text(
        DEMO_PARAMS.read_text().replace(
            "  letter_limit: 40", "  letter_limit: 40\n  codes_of_interest: [99285, 00100]"
        )
    )
    with pytest.raises(ParamsError) as e:
        load_config(p, check_inputs=False)
    msg = str(e.value)
    assert "codes_of_interest" in msg and "99285" in msg and "Quote it" in msg


def test_yaml_octal_trap_code_is_refused(tmp_path: Path) -> None:
    # YAML 1.1 reads 00100 as the integer 64: we must not silently accept or re-pad it.
    p = tmp_path / "c.yaml"
    p.write_text(
        DEMO_PARAMS.read_text().replace(
            "  letter_limit: 40", "  letter_limit: 40\n  codes_of_interest: [00100]"
        )
    )
    with pytest.raises(ParamsError, match="64"):
        load_config(p, check_inputs=False)


def test_quoted_codes_keep_leading_zeros(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text(
        DEMO_PARAMS.read_text().replace(
            "  letter_limit: 40", '  letter_limit: 40\n  codes_of_interest: ["00100", "01996"]'
        )
    )
    cfg, _ = load_config(p, check_inputs=False)
    assert cfg.playbook.codes_of_interest == ["00100", "01996"]


def test_unknown_key_is_named(tmp_path: Path) -> None:
    p = _write(tmp_path, speciality="radiology")
    with pytest.raises(ParamsError) as e:
        load_config(p)
    assert "speciality" in str(e.value) and "unknown key" in str(e.value)


def test_missing_input_file_is_named(tmp_path: Path) -> None:
    p = _write(tmp_path, inputs=["no_such_export.csv"])
    with pytest.raises(ParamsError) as e:
        load_config(p)
    assert "no_such_export.csv" in str(e.value) and "not found" in str(e.value)


def test_bad_locality_and_state_and_specialty(tmp_path: Path) -> None:
    p = _write(tmp_path, locality=1320201, state="New York", specialties=["dermatology"])
    with pytest.raises(ParamsError) as e:
        load_config(p)
    msg = str(e.value)
    assert "locality" in msg and "state" in msg and "dermatology" in msg


def test_unpadded_locality_is_normalised() -> None:
    cfg = RunConfig(client="x", inputs=["a"], state="AK", locality="02102-1")
    assert cfg.locality == "02102-01"


def test_missing_params_file() -> None:
    with pytest.raises(ParamsError, match="not found"):
        load_config("params/nope.yaml")
