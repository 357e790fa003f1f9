"""Every params file against every notebook's parameters cell, with papermill's own loader."""

from __future__ import annotations

from pathlib import Path

import papermill as pm
import pytest

from oonplaybook.config import RunConfig, read_params_yaml
from oonplaybook.run import STAGES
from tests.conftest import REPO

PARAMS = sorted((REPO / "params").glob("*.yaml"))
NOTEBOOKS = [REPO / "notebooks" / f"{s}.ipynb" for s in STAGES]
RUNNER_PARAMS = {"run_dir", "params_base"}


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_declares_every_config_key(nb: Path) -> None:
    declared = set(pm.inspect_notebook(str(nb)))
    assert declared == set(RunConfig.model_fields) | RUNNER_PARAMS


@pytest.mark.parametrize("params", PARAMS, ids=lambda p: p.stem)
@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_params_keys_are_notebook_parameters(params: Path, nb: Path) -> None:
    # papermill only *warns* on an unknown parameter; here it is an error.
    data = read_params_yaml(params)
    unknown = set(data) - set(pm.inspect_notebook(str(nb)))
    assert not unknown, f"{params.name}: keys {sorted(unknown)} are not parameters of {nb.name}"
    RunConfig.model_validate(data)
