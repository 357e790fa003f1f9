"""Source notebooks: paired with their .py, no outputs, one parameters cell, kernel python3."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from oonplaybook.run import STAGES
from tests.conftest import REPO

NOTEBOOKS = [REPO / "notebooks" / f"{s}.ipynb" for s in STAGES]


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_source_notebook_is_clean(nb_path: Path) -> None:
    nb = nbformat.read(nb_path, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    tags = [set(c.get("metadata", {}).get("tags", [])) for c in nb.cells]
    assert sum("parameters" in t for t in tags) == 1
    assert not any("injected-parameters" in t for t in tags)
    assert "parameters" not in tags[-1], "the parameters cell must not be the last cell"
    for c in nb.cells:
        if c.cell_type == "code":
            assert not c.outputs and c.execution_count is None, f"{nb_path.name} has outputs"
            assert "def " not in c.source and "class " not in c.source, (
                f"{nb_path.name}: functions belong in src/oonplaybook, not in notebooks"
            )


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_matches_its_py_source(nb_path: Path) -> None:
    jupytext = pytest.importorskip("jupytext")
    py = jupytext.read(nb_path.with_suffix(".py"))
    nb = nbformat.read(nb_path, as_version=4)
    assert [c.source for c in py.cells] == [c.source for c in nb.cells], (
        f"{nb_path.name} is out of sync with its .py: run `make notebooks`"
    )


def test_all_notebooks_share_one_parameters_cell() -> None:
    sources = []
    for p in NOTEBOOKS:
        nb = nbformat.read(p, as_version=4)
        sources.append(
            next(
                c.source for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])
            )
        )
    assert len(set(sources)) == 1
