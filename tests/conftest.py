"""Shared fixtures: the repo, the shared real-data folder, the demo data and one demo run."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
#: The public sample files the tests read, copied into the repository with their provenance and
#: licence notes (tests/data/README.md), so a user's clone runs the same suite (no skips).
SHARED_REAL = REPO / "tests" / "data" / "real"
DEMO_DIR = REPO / "data" / "demo"
DEMO_PARAMS = REPO / "params" / "demo.yaml"
DEMO_LINES = 20000
DEMO_SEED = 20251

os.environ.setdefault("OONPLAYBOOK_PHI_SALT", "pytest-salt")
# a fresh reference cache: no release a user imported (PFS, NCCI, IDR priors) changes a test
os.environ["OONPLAYBOOK_CACHE"] = tempfile.mkdtemp(prefix="oonplaybook-test-cache-")
os.environ.setdefault("SM_FORMULA_ENGINE", "patsy")
os.environ.setdefault("IPYKERNEL_CELL_NAME", "<IPY-INPUT>")


@pytest.fixture(scope="session")
def shared_real() -> Path:
    """``tests/data/real``: the public X12/CMS/TiC sample files (see tests/data/README.md)."""
    assert SHARED_REAL.is_dir(), f"{SHARED_REAL} is missing: it is part of the repository"
    return SHARED_REAL


def ensure_demo_data() -> Path:
    """The demo data the demo params point at, generated (as `make demo` does) when missing."""
    if not (DEMO_DIR / "truth.json").exists():
        from oonplaybook import demo

        demo.write_demo(demo.generate(lines=DEMO_LINES, seed=DEMO_SEED), DEMO_DIR)
    return DEMO_DIR


@pytest.fixture(scope="session")
def demo_data() -> Path:
    """Folder of the generated demo client (export CSV, 835s, appeals, truth)."""
    return ensure_demo_data()


@pytest.fixture(scope="session")
def demo_run(demo_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One full run of every stage notebook on the demo params (the papermill smoke run)."""
    from oonplaybook.run import run_client

    out = tmp_path_factory.mktemp("run") / "demo-run"
    result = run_client(DEMO_PARAMS, out=out, progress=False)
    assert result.status == "ok"
    return result.run_dir
