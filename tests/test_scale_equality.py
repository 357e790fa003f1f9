"""Issue 16: the partitioned stages, run on a Dask local cluster of 2 workers, give the same
artifacts and the same displayed notebook outputs as the default in-process run.

The default demo run (``demo_run``, 20k lines, one part) is today's path and is what the golden
notebooks pin with nbval; the run here splits the same client into 3 parts of whole claims and
executes every stage's partition work on ``--scheduler local:2``.
"""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import nbformat
import pytest
import yaml

from oonplaybook.run import run_client
from tests._compare_runs import compare_artifacts
from tests.conftest import DEMO_DIR, DEMO_PARAMS, REPO

#: Artifacts whose text names the run itself (run id, folder), not its results.
RUN_SPECIFIC = ("manifest.json",)


def scaled_params(out_dir: Path, *, partitions: int, client: str = "demo") -> Path:
    """The demo params with absolute paths and ``scale.partitions`` set."""
    text = DEMO_PARAMS.read_text().replace("../data/demo", str(DEMO_DIR))
    params = yaml.safe_load(text)
    params["output_root"] = str(out_dir / "outputs")
    params["client"] = client
    params["scale"] = {"partitions": partitions}
    path = out_dir / f"{client}-{partitions}parts.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def dask_run(demo_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("scale")
    result = run_client(
        scaled_params(work, partitions=3), out=work / "run", progress=False, scheduler="local:2"
    )
    assert result.status == "ok"
    return result.run_dir


def _sanitizers() -> list[tuple[re.Pattern[str], str]]:
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "tests" / "nbval_sanitize.cfg")
    return [(re.compile(cfg[s]["regex"]), cfg[s]["replace"]) for s in cfg.sections()]


def _shown(nb_path: Path) -> list[str]:
    """Every code cell's text and HTML outputs, sanitized as nbval sanitizes them."""
    subs = _sanitizers()
    out = []
    for i, cell in enumerate(nbformat.read(nb_path, as_version=4).cells):
        if cell.cell_type != "code" or "parameters" in cell.metadata.get("tags", []):
            continue
        if "injected-parameters" in cell.metadata.get("tags", []):
            continue
        for o in cell.get("outputs", []):
            text = o.get("text") or "".join(
                o.get("data", {}).get(k, "") for k in ("text/plain", "text/html", "text/markdown")
            )
            for rx, rep in subs:
                text = rx.sub(rep, text)
            out.append(f"cell {i}: {text}")
    return out


def test_partitioned_artifacts_on_two_dask_workers_equal_the_default_run(
    demo_run: Path, dask_run: Path
) -> None:
    assert sorted(
        p.name for p in (dask_run / "artifacts" / "claim_lines.parquet").glob("part=*")
    ) == [
        "part=0",
        "part=1",
        "part=2",
    ]
    diffs = compare_artifacts(demo_run, dask_run, skip=RUN_SPECIFIC)
    assert not diffs, "partitioned (3 parts, Dask local:2) artifacts differ:\n" + "\n".join(
        diffs[:30]
    )


@pytest.mark.parametrize("stage", ["10_ingest", "20_benchmark", "30_payers", "40_playbook"])
def test_partitioned_notebooks_show_what_the_default_run_shows(
    demo_run: Path, dask_run: Path, stage: str
) -> None:
    a, b = _shown(demo_run / f"{stage}.ipynb"), _shown(dask_run / f"{stage}.ipynb")
    differ = [(x[:300], y[:300]) for x, y in zip(a, b, strict=False) if x != y]
    assert len(a) == len(b) and not differ, f"{stage}: outputs differ, first: {differ[:2]}"
