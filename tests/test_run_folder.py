"""Run-folder safety: plain run ids, refused --out folders, concurrency, dead runs, I/O faults.

Stages are replaced by a fast fake executor (``oonplaybook.run.execute_stage``) so these tests
exercise the runner's folder handling without starting a kernel.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from oonplaybook import run as runner
from oonplaybook.config import ParamsError
from oonplaybook.run import run_client
from oonplaybook.run_folder import (
    OutputIOError,
    RunFolderError,
    check_run_id,
    read_manifest,
    write_manifest,
)
from tests.conftest import REPO


def _fake_stage(
    nb_in: Path,
    nb_out: Path,
    *,
    params: dict[str, Any],
    cwd: Path,
    prepare_only: bool,
    execution_timeout: int,
) -> None:
    """Write what a stage writes (its notebook, one artifact) without a kernel."""
    cell = {
        "cell_type": "code",
        "metadata": {"tags": ["injected-parameters"]},
        "source": f'client = "{params["client"]}"\n',
        "outputs": [],
        "execution_count": None,
    }
    nb = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    nb_out.write_text(json.dumps(nb))
    (cwd / "artifacts" / f"{nb_in.stem}.txt").write_text("stage output")


@pytest.fixture
def fake_stages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replace the papermill executor by :func:`_fake_stage`."""
    monkeypatch.setattr(runner, "execute_stage", _fake_stage)


def _params(folder: Path, client: str = "acme", output_root: str = "outputs", **extra: Any) -> Path:
    """A valid params file in ``folder`` with one tiny input; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "in").mkdir(exist_ok=True)
    (folder / "in" / "remit.835").write_text("ISA*00~")
    data = {
        "client": client,
        "inputs": ["in/remit.835"],
        "state": "TX",
        "locality": "04412-99",
        "output_root": output_root,
        **extra,
    }
    p = folder / f"{client if isinstance(client, str) and client.isidentifier() else 'p'}.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


def _tree(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` with its bytes (None for folders)."""
    return {
        str(p.relative_to(root)): (None if p.is_dir() else p.read_bytes())
        for p in sorted(root.rglob("*"))
    }


def _user_world(tmp: Path) -> Path:
    """Folders a careless run could hit: another client's run, a user folder, the params."""
    other = tmp / "outputs" / "other" / "20250101-000000-deadbeef"
    other.mkdir(parents=True)
    (other / "manifest.json").write_text(json.dumps({"client": "other", "status": "ok"}))
    (tmp / "outputs" / "keep.txt").write_text("root file")
    (tmp / "important").mkdir()
    (tmp / "important" / "keep.txt").write_text("user data")
    return tmp


def _outside_client(tree: dict[str, bytes | None], client: str = "acme") -> dict[str, Any]:
    return {k: v for k, v in tree.items() if not k.startswith(f"outputs/{client}")}


# --- item 1: run ids, slugs and --out never reach outside <output_root>/<client> ----------------


@pytest.mark.parametrize(
    "bad",
    ["..", ".", "../../x", "a/b", "a\\b", ".hidden", "x\n", "tab\tid", "a" * 65, "", "a..b"]
    + ["run.partial", "run.failed", "../other", "/abs", "x\x00y", "ü-id"],
)
def test_run_id_must_be_a_plain_name(bad: str) -> None:
    with pytest.raises(RunFolderError, match="--run-id"):
        check_run_id(bad)


@pytest.mark.parametrize("good", ["2025-q4", "r1.v2", "A_b-9", "x" * 64])
def test_plain_run_ids_pass(good: str) -> None:
    assert check_run_id(good) == good


@pytest.mark.parametrize("bad", ["..", "../other", "../../x", ".", "a/../../b", "x\n"])
def test_hostile_run_id_writes_and_deletes_nothing(
    tmp_path: Path, fake_stages: None, bad: str
) -> None:
    world = _user_world(tmp_path)
    params = _params(world / "params", output_root=str(world / "outputs"))
    before = _tree(world)
    with pytest.raises(RunFolderError):
        run_client(params, run_id=bad, progress=False, prepare_only=True)
    assert _tree(world) == before


@pytest.mark.parametrize(
    "slug", ["..", "../other", "a/b", "acme\n", "x" * 65, "Acme", ".acme", "", "a\\b"]
)
def test_hostile_client_slug_is_refused_before_writing(tmp_path: Path, slug: str) -> None:
    world = _user_world(tmp_path)
    params = _params(world / "params", client=slug, output_root=str(world / "outputs"))
    before = _tree(world)
    with pytest.raises(ParamsError, match="client"):
        run_client(params, progress=False, prepare_only=True)
    assert _tree(world) == before


def test_out_with_user_files_is_refused_and_kept(tmp_path: Path, fake_stages: None) -> None:
    world = _user_world(tmp_path)
    params = _params(world / "params", output_root=str(world / "outputs"))
    before = _tree(world)
    with pytest.raises(RunFolderError, match="not an oonplaybook run folder"):
        run_client(params, out=world / "important", progress=False, prepare_only=True)
    assert _tree(world) == before
    assert (world / "important" / "keep.txt").read_text() == "user data"


def test_out_of_another_client_is_refused(tmp_path: Path, fake_stages: None) -> None:
    world = _user_world(tmp_path)
    params = _params(world / "params", output_root=str(world / "outputs"))
    other = world / "outputs" / "other" / "20250101-000000-deadbeef"
    before = _tree(world)
    with pytest.raises(RunFolderError, match="'other', not 'acme'"):
        run_client(params, out=other, progress=False, prepare_only=True)
    assert _tree(world) == before


def test_user_files_in_a_run_folder_survive_an_in_place_rerun(
    tmp_path: Path, fake_stages: None
) -> None:
    params = _params(tmp_path / "params")
    first = run_client(params, progress=False, prepare_only=True)
    (first.run_dir / "my_notes.txt").write_text("mine")
    (first.run_dir / "artifacts" / "mine.csv").write_text("a,b")
    run_client(params, out=first.run_dir, progress=False, prepare_only=True)
    assert (first.run_dir / "my_notes.txt").read_text() == "mine"
    assert (first.run_dir / "artifacts" / "mine.csv").read_text() == "a,b"


def test_folder_without_manifest_and_with_user_files_is_refused(
    tmp_path: Path, fake_stages: None
) -> None:
    params = _params(tmp_path / "params")
    first = run_client(params, progress=False, prepare_only=True)
    (first.run_dir / "manifest.json").unlink()
    (first.run_dir / "my_notes.txt").write_text("mine")
    before = _tree(first.run_dir)
    with pytest.raises(RunFolderError, match="not an oonplaybook run folder"):
        run_client(params, out=first.run_dir, progress=False, prepare_only=True)
    assert _tree(first.run_dir) == before


def test_out_of_the_same_client_is_rerun_in_place(tmp_path: Path, fake_stages: None) -> None:
    params = _params(tmp_path / "params")
    first = run_client(params, progress=False, prepare_only=True)
    again = run_client(
        params, out=first.run_dir, only="30_payers", progress=False, prepare_only=True
    )
    assert again.run_dir == first.run_dir
    manifest = read_manifest(first.run_dir)
    assert manifest is not None and manifest["status"] == "prepared" and manifest["in_place"]
    assert set(manifest["stages"]) == set(runner.STAGES), "earlier stages stay recorded"
    assert not (first.run_dir / ".oonplaybook.lock").exists()


def test_out_recognises_a_run_folder_by_its_notebooks(tmp_path: Path, fake_stages: None) -> None:
    # tests/golden/demo holds the stage notebooks and artifacts but no manifest.
    params = _params(tmp_path / "params")
    golden = tmp_path / "golden"
    run_client(params, out=golden, progress=False, prepare_only=True)
    (golden / "manifest.json").unlink()
    result = run_client(params, out=golden, progress=False, prepare_only=True)
    assert result.run_dir == golden and read_manifest(golden)["status"] == "prepared"


def test_out_new_or_empty_folder(tmp_path: Path, fake_stages: None) -> None:
    params = _params(tmp_path / "params")
    (tmp_path / "empty").mkdir()
    for target in (tmp_path / "empty", tmp_path / "new" / "run"):
        result = run_client(params, out=target, progress=False, prepare_only=True)
        assert result.run_dir == target and (target / "artifacts" / "10_ingest.txt").is_file()
        assert not target.with_name(f".{target.name}.partial").exists()


def test_cli_run_id_and_out_refusals_exit_2_without_traceback(
    tmp_path: Path, fake_stages: None
) -> None:
    from oonplaybook.cli import app

    world = _user_world(tmp_path)
    params = _params(world / "params", output_root=str(world / "outputs"))
    before = _tree(world)
    cli = CliRunner()
    for args in (["--run-id", ".."], ["--out", str(world / "important")], ["--run-id", "a/b"]):
        res = cli.invoke(app, ["run", str(params), "--prepare-only", "--no-progress", *args])
        assert res.exit_code == 2, res.output
        assert "Traceback" not in res.output and ("--run-id" in res.output or "--out" in res.output)
    assert _tree(world) == before


def test_every_write_lands_under_output_root_client(tmp_path: Path, fake_stages: None) -> None:
    world = _user_world(tmp_path)
    params = _params(world / "params", output_root=str(world / "outputs"))
    before = _tree(world)
    for kwargs in ({}, {"run_id": "2025-q4"}, {"only": "20_benchmark"}):
        run_client(params, progress=False, prepare_only=True, **kwargs)
    after = _tree(world)
    assert _outside_client(after) == _outside_client(before)
    assert (world / "outputs" / "acme" / "2025-q4" / "manifest.json").is_file()


# --- item 13: concurrency ----------------------------------------------------------------


def test_same_params_same_second_get_distinct_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    barrier = threading.Barrier(2)

    def slow_stage(*args: Any, **kwargs: Any) -> None:
        _fake_stage(*args, **kwargs)
        time.sleep(0.05)

    monkeypatch.setattr(runner, "execute_stage", slow_stage)
    monkeypatch.setattr(runner, "_run_id", lambda cfg, inputs: "20261202-120000-abcdef12")
    params = _params(tmp_path / "params")
    results: list[Any] = []

    def go() -> None:
        barrier.wait()
        try:
            results.append(run_client(params, progress=False, prepare_only=True))
        except Exception as e:  # the test asserts there are none
            results.append(e)

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    dirs = sorted(r.run_dir.name for r in results)
    assert dirs == ["20261202-120000-abcdef12", "20261202-120000-abcdef12-2"], results
    for r in results:
        assert read_manifest(r.run_dir)["status"] == "prepared"


_CHILD = textwrap.dedent(
    """
    import sys, time
    from oonplaybook import run as runner
    from oonplaybook.run_folder import RunFolderError
    from tests.test_run_folder import _fake_stage

    def stage(*a, **k):
        _fake_stage(*a, **k)
        time.sleep(float(sys.argv[2]))

    runner.execute_stage = stage
    try:
        r = runner.run_client(sys.argv[1], run_id=sys.argv[3] or None, progress=False,
                              prepare_only=True)
    except RunFolderError as e:
        print("REFUSED", e)
        sys.exit(2)
    print("OK", r.run_dir)
    """
)


def _child(params: Path, sleep: float, run_id: str = "") -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(params), str(sleep), run_id],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def test_two_processes_with_the_same_run_id(tmp_path: Path) -> None:
    params = _params(tmp_path / "params")
    procs = [_child(params, 1.0, "same-id") for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 2], outs
    refused = next(o for (o, _), p in zip(outs, procs, strict=True) if p.returncode == 2)
    assert "same-id" in refused and ("in progress" in refused or "already exists" in refused)
    assert "Traceback" not in "".join(e for _, e in outs)
    assert (
        read_manifest(tmp_path / "params" / "outputs" / "acme" / "same-id")["status"] == "prepared"
    )


# --- item 13: dead runs ---------------------------------------------------------------------


def _wait_for(pred: Any, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            raise AssertionError("timed out")
        time.sleep(0.05)


def test_killed_run_is_marked_failed_by_the_next_run(tmp_path: Path, fake_stages: None) -> None:
    params = _params(tmp_path / "params")
    client_dir = tmp_path / "params" / "outputs" / "acme"
    child = _child(params, 60.0, "killed")
    partial = client_dir / ".killed.partial"
    try:
        _wait_for(lambda: (partial / "10_ingest.ipynb").exists())
    finally:
        os.killpg(child.pid, signal.SIGKILL)  # the child's own session: only what it started
        child.communicate(timeout=30)
    manifest = read_manifest(partial)
    assert manifest is not None and manifest["status"] == "running"
    assert manifest["runner"]["pid"] == child.pid
    run_client(params, progress=False, prepare_only=True)
    assert not partial.exists()
    failed = read_manifest(client_dir / "killed.failed")
    assert failed["status"] == "failed" and str(child.pid) in failed["failed_reason"]
    assert "killed or crashed" in failed["failed_reason"]


def test_simulated_dead_partial_and_live_partial(tmp_path: Path, fake_stages: None) -> None:
    params = _params(tmp_path / "params")
    client_dir = tmp_path / "params" / "outputs" / "acme"
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(gone.stdout)
    import socket

    for name, pid in (("dead", dead_pid), ("live", os.getpid())):
        d = client_dir / f".{name}.partial"
        d.mkdir(parents=True)
        runner_info = {"pid": pid, "host": socket.gethostname()}
        write_manifest(d, {"client": "acme", "status": "running", "runner": runner_info})
    (client_dir / ".nomanifest.partial").mkdir()
    run_client(params, progress=False, prepare_only=True)
    assert (client_dir / "dead.failed").is_dir() and not (client_dir / ".dead.partial").exists()
    assert read_manifest(client_dir / "dead.failed")["status"] == "failed"
    assert (client_dir / ".live.partial").is_dir(), "a live run is never touched"
    assert (client_dir / ".nomanifest.partial").is_dir(), "an unknown owner is never touched"


def test_manifest_is_valid_after_every_stage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[dict[str, Any] | None] = []

    def watching_stage(nb_in: Path, nb_out: Path, **kw: Any) -> None:
        seen.append(read_manifest(kw["cwd"]))
        _fake_stage(nb_in, nb_out, **kw)

    monkeypatch.setattr(runner, "execute_stage", watching_stage)
    run_client(_params(tmp_path / "p"), progress=False, prepare_only=True)
    assert all(m is not None and m["status"] == "running" for m in seen)
    assert [len(m["stages"]) for m in seen] == [0, 1, 2, 3]
    assert all(m["runner"]["pid"] == os.getpid() for m in seen)


def test_manifest_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_manifest(tmp_path, {"status": "running", "n": 1})

    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(OSError):
        write_manifest(tmp_path, {"status": "ok", "n": 2})
    assert read_manifest(tmp_path) == {"status": "running", "n": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]


# --- item 13: read-only and full output ---------------------------------------------------


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs mounted at a fresh folder (skips where mounting is not allowed)."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], capture_output=True
    )
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here; the patched-writer tests cover this")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _remount(mnt: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(mnt)], check=True)


def test_read_only_output_root(tmp_path: Path, tmpfs: Path, fake_stages: None) -> None:
    params = _params(tmp_path / "params", output_root=str(tmpfs / "outputs"))
    _remount(tmpfs, "ro")
    from oonplaybook.cli import app

    res = CliRunner().invoke(app, ["run", str(params), "--prepare-only", "--no-progress"])
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output
    assert str(tmpfs / "outputs") in res.output and "writable" in res.output
    assert "Read-only file system" in res.output


def test_folder_turning_read_only_mid_run(
    tmp_path: Path, tmpfs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def stage(nb_in: Path, nb_out: Path, **kw: Any) -> None:
        if nb_in.stem == "30_payers":
            _remount(tmpfs, "ro")
        _fake_stage(nb_in, nb_out, **kw)

    monkeypatch.setattr(runner, "execute_stage", stage)
    params = _params(tmp_path / "params", output_root=str(tmpfs))
    with pytest.raises(OutputIOError) as e:
        run_client(params, run_id="ro", progress=False, prepare_only=True)
    assert "Read-only file system" in str(e.value) and str(tmpfs / "acme") in str(e.value)
    manifest = read_manifest(tmpfs / "acme" / ".ro.partial")
    assert manifest is not None, "the last manifest written stays valid JSON"
    assert set(manifest["stages"]) == {"10_ingest", "20_benchmark"}


def test_full_disk(tmp_path: Path, tmpfs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def stage(nb_in: Path, nb_out: Path, **kw: Any) -> None:
        _fake_stage(nb_in, nb_out, **kw)
        if nb_in.stem == "20_benchmark":
            with open(kw["cwd"] / "artifacts" / "big.bin", "wb") as f:
                f.write(b"\0" * (4 << 20))  # more than the 2 MB disk

    monkeypatch.setattr(runner, "execute_stage", stage)
    params = _params(tmp_path / "params", output_root=str(tmpfs))
    with pytest.raises(OutputIOError) as e:
        run_client(params, run_id="full", progress=False, prepare_only=True)
    msg = str(e.value)
    assert "No space left" in msg and "free disk space" in msg and str(tmpfs / "acme") in msg
    failed = tmpfs / "acme" / "full.failed"
    manifest = read_manifest(failed)
    assert manifest is not None and manifest["status"] == "failed"
    assert "No space left" in manifest["error"]["evalue"]


def test_full_disk_patched_writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Where no tmpfs can be mounted: a stage writer raising ENOSPC gives the same message.
    def stage(nb_in: Path, nb_out: Path, **kw: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(nb_out))

    monkeypatch.setattr(runner, "execute_stage", stage)
    params = _params(tmp_path / "params")
    with pytest.raises(OutputIOError, match="No space left on device.*free disk space"):
        run_client(params, run_id="x", progress=False, prepare_only=True)
    manifest = read_manifest(tmp_path / "params" / "outputs" / "acme" / "x.failed")
    assert manifest["status"] == "failed" and manifest["error"]["ename"] == "OSError"


def test_out_of_a_run_in_progress_is_refused(tmp_path: Path, fake_stages: None) -> None:
    params = _params(tmp_path / "params")
    first = run_client(params, progress=False, prepare_only=True)
    manifest = read_manifest(first.run_dir)
    manifest["status"] = "running"  # as if this process were still writing it
    write_manifest(first.run_dir, manifest)
    with pytest.raises(RunFolderError, match="in progress"):
        run_client(params, out=first.run_dir, only="20", progress=False, prepare_only=True)


def test_full_disk_inside_a_real_kernel(
    tmp_path: Path, tmpfs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stage cell that fills the disk: one message naming the failure and the fix.
    import nbformat

    from oonplaybook.run import RunFailed

    nb_dir = tmp_path / "nbs"
    nb_dir.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Py"}
    params_cell = nbformat.v4.new_code_cell("client = ''")
    params_cell.metadata["tags"] = ["parameters"]
    fill = "open('artifacts/big.bin', 'wb').write(b'0' * (4 << 20))"
    nb.cells = [params_cell, nbformat.v4.new_code_cell(fill)]
    nbformat.write(nb, nb_dir / "10_ingest.ipynb")
    monkeypatch.setenv("OONPLAYBOOK_NOTEBOOKS", str(nb_dir))
    params = _params(tmp_path / "params", output_root=str(tmpfs))
    with pytest.raises((RunFailed, OutputIOError)) as e:
        run_client(params, run_id="k", only="10_ingest", progress=False)
    msg = str(e.value)
    assert "No space left" in msg and "free disk space" in msg, msg
    failed = tmpfs / "acme" / "k.failed"
    assert read_manifest(failed)["status"] == "failed"


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=0, max_size=80))
def test_any_accepted_run_id_stays_one_folder_below_the_client(run_id: str) -> None:
    client_dir = Path("/srv/outputs/acme")
    try:
        check_run_id(run_id)
    except RunFolderError:
        return
    target = Path(os.path.normpath(client_dir / run_id))
    assert target.parent == client_dir and target.name == run_id
    assert not run_id.startswith(".") and not run_id.endswith((".partial", ".failed"))


def test_two_processes_same_params_no_run_id(tmp_path: Path) -> None:
    params = _params(tmp_path / "params")
    procs = [_child(params, 0.5) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    dirs = {o.split("OK ", 1)[1].strip() for o, _ in outs}
    assert len(dirs) == 2, "each run has its own folder"
    for d in dirs:
        assert read_manifest(Path(d))["status"] == "prepared"
