"""The runner end to end on the demo params: outputs, PHI, determinism, failures."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from oonplaybook.config import ParamsError
from oonplaybook.run import STAGES, RunFailed, run_client
from tests.conftest import DEMO_PARAMS, REPO


def test_run_folder_holds_every_output(demo_run: Path) -> None:
    for name in ("report.html", "summary.xlsx", "manifest.json"):
        assert (demo_run / name).is_file(), name
    for stage in STAGES:
        assert (demo_run / f"{stage}.ipynb").is_file()
    art = demo_run / "artifacts"
    for name in (
        "claim_lines.parquet",
        "adjustments.parquet",
        "rejects.csv",
        "ingest_report.json",
        "benchmarks.parquet",
        "payer_effects.csv",
        "scorecard.csv",
        "playbook.xlsx",
        "worklist.csv",
        "idr_batches.csv",
    ):
        assert (art / name).exists(), name
    manifest = json.loads((demo_run / "manifest.json").read_text())
    assert manifest["status"] == "ok"
    assert set(manifest["stages"]) == set(STAGES)
    assert all(len(i["sha256"]) == 64 for i in manifest["inputs"])
    assert manifest["params"]["client"] == "demo"


def test_report_html_has_no_code_and_no_parameters(demo_run: Path) -> None:
    html = (demo_run / "report.html").read_text()
    assert "stage_context(" not in html and "import pandas" not in html
    assert "phi_salt_env" not in html
    assert "Revenue at stake" in html
    # "$" is a literal dollar, not TeX: bold dollar amounts survive Markdown rendering.
    assert "<strong>$" in html and "**$" not in html


def test_codes_stay_strings_in_artifacts(demo_run: Path) -> None:
    lines = pd.read_parquet(demo_run / "artifacts" / "claim_lines.parquet")
    assert lines["cpt"].dtype == "str"
    assert lines["cpt"].str.len().eq(5).all()
    assert lines["cpt"].str.startswith("0").any(), "anesthesia codes 00xxx/01xxx kept their zeros"


_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-]*")


def _phi_needles(demo_dir: Path) -> set[str]:
    """Raw identity values from the demo export: member ids, birth dates, name parts."""
    export = pd.read_csv(demo_dir / "claims_export.csv", dtype="str", keep_default_na=False)
    needles = set(export["member_id"].unique())
    # Birth dates before the first service date cannot be any other date in the outputs.
    first_service = export["service_date"].min()
    needles |= {d for d in export["birth_date"].unique() if d and d < first_service}
    # Names may be split into parts inside X12 (NM1*QC*1*LAST*FIRST): check each long part.
    for name in export["patient_name"].unique():
        needles |= {p for p in re.split(r"[ ,]+", name) if len(p) >= 6}
    # A value that also occurs in the public reference files the run reads (NCCI edit dates)
    # is not evidence of a leak.
    public: set[str] = set()
    for f in sorted((demo_dir / "ncci").glob("*")) if (demo_dir / "ncci").is_dir() else []:
        tokens = set(_TOKEN.findall(f.read_bytes().decode("utf-8", "ignore")))
        public |= tokens | {
            f"{t[:4]}-{t[4:6]}-{t[6:]}" for t in tokens if re.fullmatch(r"\d{8}", t)
        }
    return {n for n in needles if n and n not in public}


def _file_text(f: Path) -> str:
    if f.suffix == ".parquet":
        return pd.read_parquet(f).astype("str").to_csv()
    if f.suffix in (".xlsx", ".docx"):
        import zipfile

        with zipfile.ZipFile(f) as z:
            return b" ".join(z.read(n) for n in z.namelist()).decode("utf-8", "ignore")
    return f.read_bytes().decode("utf-8", "ignore")


def test_no_raw_phi_anywhere_in_the_run_folder(demo_run: Path, demo_data: Path) -> None:
    needles = _phi_needles(demo_data)
    assert len(needles) > 1000
    hits = []
    for f in sorted(p for p in demo_run.rglob("*") if p.is_file()):
        tokens = set(_TOKEN.findall(_file_text(f)))
        hits += [(str(f.relative_to(demo_run)), n) for n in sorted(tokens & needles)]
    assert not hits, f"raw PHI found in outputs: {hits[:10]}"


def test_phi_scan_would_catch_a_leak(demo_data: Path, tmp_path: Path) -> None:
    # The scan above must be able to fail: plant one member id and one name part.
    export = pd.read_csv(demo_data / "claims_export.csv", dtype="str", keep_default_na=False)
    leak = f"note for {export['member_id'].iloc[0]} ({export['patient_name'].iloc[0]})"
    (tmp_path / "leak.md").write_text(leak)
    tokens = set(_TOKEN.findall(_file_text(tmp_path / "leak.md")))
    assert tokens & _phi_needles(demo_data)


def _digest(run: Path) -> dict[str, str]:
    out = {}
    for f in sorted((run / "artifacts").rglob("*")):
        if f.is_file() and f.suffix in (".parquet", ".csv", ".json", ".md"):
            if f.suffix == ".parquet":
                body = pd.read_parquet(f).to_csv(index=False).encode()
            else:
                body = f.read_bytes()
            out[str(f.relative_to(run))] = hashlib.sha256(body).hexdigest()
    return out


def test_two_runs_give_identical_artifacts(demo_run: Path, tmp_path: Path) -> None:
    second = run_client(DEMO_PARAMS, out=tmp_path / "again", progress=False)
    a, b = _digest(demo_run), _digest(second.run_dir)
    assert a.keys() == b.keys()
    differ = [k for k in a if a[k] != b[k]]
    assert not differ, f"artifacts differ between identical runs: {differ}"


def test_failed_stage_is_kept_and_named(
    tmp_path: Path, demo_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A notebook folder whose first stage raises: the run fails naming notebook and cell.
    nb_dir = tmp_path / "nbs"
    shutil.copytree(REPO / "notebooks", nb_dir)
    import nbformat

    nb = nbformat.read(nb_dir / "10_ingest.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("raise ValueError('boom in stage 10')"))
    nbformat.write(nb, nb_dir / "10_ingest.ipynb")
    monkeypatch.setenv("OONPLAYBOOK_NOTEBOOKS", str(nb_dir))
    with pytest.raises(RunFailed) as e:
        run_client(DEMO_PARAMS, out=tmp_path / "run", progress=False, only="10_ingest")
    assert "10_ingest.ipynb" in str(e.value) and "boom in stage 10" in str(e.value)
    failed = tmp_path / "run.failed"
    manifest = json.loads((failed / "manifest.json").read_text())
    assert manifest["status"] == "failed" and manifest["error"]["notebook"] == "10_ingest.ipynb"
    assert not (tmp_path / "run").exists() and not (tmp_path / ".run.partial").exists()


def test_a_killed_kernel_is_reported_as_memory_with_the_client_size(
    tmp_path: Path, demo_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stage kernel killed by the system (what the OOM killer does at 10M lines on 23 GB)
    fails the run with what the client needs and what to do, not "failed outside a notebook"."""
    nb_dir = tmp_path / "nbs"
    shutil.copytree(REPO / "notebooks", nb_dir)
    import nbformat

    nb = nbformat.read(nb_dir / "10_ingest.ipynb", as_version=4)
    nb.cells.append(
        nbformat.v4.new_code_cell("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    )
    nbformat.write(nb, nb_dir / "10_ingest.ipynb")
    monkeypatch.setenv("OONPLAYBOOK_NOTEBOOKS", str(nb_dir))
    with pytest.raises(RunFailed) as e:
        run_client(DEMO_PARAMS, out=tmp_path / "run", progress=False, only="10_ingest")
    msg = str(e.value)
    assert "10_ingest.ipynb: the stage's kernel died" in msg and "memory" in msg
    assert "20,003 claim lines" in msg and "split the client" in msg
    manifest = json.loads((tmp_path / "run.failed" / "manifest.json").read_text())
    assert manifest["error"]["ename"] == "DeadKernelError"
    assert manifest["stages"]["10_ingest"]["status"] == "failed"


def test_missing_salt_fails_before_running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = yaml.safe_load(DEMO_PARAMS.read_text())
    data["phi_salt_env"] = "NO_SUCH_SALT_VAR"
    p = tmp_path / "x.yaml"
    p.write_text(yaml.safe_dump(data).replace("../data/demo", str(REPO / "data" / "demo")))
    monkeypatch.delenv("NO_SUCH_SALT_VAR", raising=False)
    with pytest.raises(ParamsError, match="NO_SUCH_SALT_VAR"):
        run_client(p, out=tmp_path / "r", progress=False)
    assert not (tmp_path / "r").exists()


def test_prepare_only_writes_parameterized_notebooks(tmp_path: Path) -> None:
    result = run_client(DEMO_PARAMS, out=tmp_path / "prep", prepare_only=True, progress=False)
    assert result.status == "prepared"
    import nbformat

    for stage in STAGES:
        nb = nbformat.read(result.run_dir / f"{stage}.ipynb", as_version=4)
        injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
        assert len(injected) == 1 and 'client = "demo"' in injected[0].source
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    assert not (result.run_dir / "report.html").exists()


def test_folder_of_params_goes_on_past_a_failing_client(tmp_path: Path) -> None:
    from oonplaybook.run import run_many

    folder = tmp_path / "params"
    folder.mkdir()
    good = yaml.safe_load(DEMO_PARAMS.read_text())
    good["inputs"] = [
        str(REPO / "data" / "demo" / "claims_export.csv"),
        str(REPO / "data" / "demo" / "remits"),
    ]
    good["appeals_file"] = str(REPO / "data" / "demo" / "appeals.csv")
    good["output_root"] = str(tmp_path / "outputs")
    bench = good.get("benchmark", {})
    for key in ("ncci_files", "allowed_amounts_files"):  # lists of paths relative to params/
        if bench.get(key):
            bench[key] = [str((DEMO_PARAMS.parent / f).resolve()) for f in bench[key]]
    if bench.get("tic_in_network_dataset"):  # a path relative to params/
        bench["tic_in_network_dataset"] = str(
            (DEMO_PARAMS.parent / bench["tic_in_network_dataset"]).resolve()
        )
    (folder / "a_good.yaml").write_text(yaml.safe_dump(good))
    (folder / "b_bad.yaml").write_text(
        yaml.safe_dump({**good, "client": "bad", "state": "Nowhere"})
    )
    results = run_many(folder, prepare_only=True, progress=False)
    assert [r.status for r in results] == ["prepared", "failed"], results[0].error
    assert "state" in results[1].error


def test_kernel_shutdown_sends_no_sigint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The stray "KeyboardInterrupt caught in kernel" line came from the SIGINT jupyter_client
    # sends before every shutdown; the runner's kernel manager skips it for a finished notebook.
    import signal

    import nbformat
    from jupyter_client.manager import KernelManager

    from oonplaybook.run import execute_stage

    sent: list[int] = []
    original = KernelManager._async_signal_kernel

    async def recording(self: KernelManager, signum: int) -> None:
        sent.append(signum)
        await original(self, signum)

    monkeypatch.setattr(KernelManager, "_async_signal_kernel", recording)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1 + 1")])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "language": "python",
        "display_name": "Python 3",
    }
    nbformat.write(nb, tmp_path / "in.ipynb")
    execute_stage(
        tmp_path / "in.ipynb",
        tmp_path / "out.ipynb",
        params={},
        cwd=tmp_path,
        prepare_only=False,
        execution_timeout=120,
    )
    assert nbformat.read(tmp_path / "out.ipynb", as_version=4).cells[-1].execution_count
    assert signal.SIGINT not in sent
