"""The runner: executes the stage notebooks for one client (or a folder of clients) with papermill.

A run is written to ``<output_root>/<client>/.<run-id>.partial`` and renamed to
``<output_root>/<client>/<run-id>`` when it ends, so a folder without the ``.partial`` suffix is
always whole. A failed run is kept (renamed to ``<run-id>.failed``) with ``status: failed`` and
the notebook and cell that failed in its ``manifest.json``. Where a run may write, how it claims
its folder, and how its manifest survives kills and full disks is :mod:`oonplaybook.run_folder`.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from oonplaybook import __version__
from oonplaybook.cluster import BLAS_THREAD_VARS, preserved_environ, restore_environ
from oonplaybook.config import ParamsError, RunConfig, load_config, resolve_inputs
from oonplaybook.run_folder import (
    RunFolderError,
    check_run_id,
    claim_new_run,
    claim_out_folder,
    finish,
    free_name,
    io_error,
    io_fix,
    read_manifest,
    reap_dead_partials,
    reserve_space,
    runner_identity,
    write_final_manifest,
    write_manifest,
)

#: mimalloc's delay (ms) before freed memory goes back to the system; 0 for the stage kernels.
KERNEL_ALLOCATOR_VAR = "MIMALLOC_PURGE_DELAY"

#: Stage notebooks, run in this order. Each reads the previous stages' artifacts.
STAGES: tuple[str, ...] = ("10_ingest", "20_benchmark", "30_payers", "40_playbook")


def _kernel_config() -> object:
    from traitlets.config import Config

    return Config({"KernelManager": {"transport_encryption": "auto"}})


_KERNEL_CONFIG = _kernel_config()


def _quiet_shutdown_manager() -> type:
    """A kernel manager that does not SIGINT a finished kernel when shutting it down.

    jupyter_client's ``shutdown_kernel`` interrupts the kernel before asking it to shut down;
    when that SIGINT lands while ipykernel handles a message, the kernel logs "KeyboardInterrupt
    caught in kernel" to the terminal (a stray line at the end of ``oonplaybook run``). The
    notebook has finished by then, so there is nothing to interrupt: the shutdown request (then
    SIGTERM, then SIGKILL) stops the kernel just the same. Interrupts outside shutdown (a cell
    timeout) are kept.
    """
    from jupyter_client import AsyncKernelManager

    class QuietShutdownKernelManager(AsyncKernelManager):
        """AsyncKernelManager without the interrupt that precedes a shutdown."""

        async def _async_interrupt_kernel(self) -> None:
            if self.shutting_down:
                return
            await super()._async_interrupt_kernel()

    return QuietShutdownKernelManager


_KERNEL_MANAGER = _quiet_shutdown_manager()


class RunFailed(RuntimeError):
    """A stage notebook failed; the message names the notebook and the cell."""


@dataclass
class RunResult:
    """What one client's run produced."""

    client: str
    run_dir: Path
    status: str
    stages: dict[str, float] = field(default_factory=dict)
    error: str = ""


def project_root() -> Path:
    """The source checkout's root (where ``notebooks/`` lives)."""
    return Path(__file__).resolve().parents[2]


def notebooks_dir() -> Path:
    """Folder of the stage notebooks: ``$OONPLAYBOOK_NOTEBOOKS`` or the checkout's notebooks/."""
    env = os.environ.get("OONPLAYBOOK_NOTEBOOKS")
    d = Path(env) if env else project_root() / "notebooks"
    if not (d / f"{STAGES[0]}.ipynb").exists():
        raise FileNotFoundError(
            f"{d}: stage notebooks not found; run from a source checkout or set OONPLAYBOOK_NOTEBOOKS"
        )
    return d


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, streamed."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=project_root(),
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _reference_vintages() -> dict[str, Any]:
    try:
        from oonplaybook.reference import pfs
    except ImportError:
        return {}
    fn = getattr(pfs, "reference_vintages", None) or getattr(pfs, "vintage", None)
    try:
        return dict(fn()) if fn else {}
    except Exception as e:  # a manifest must still be written
        return {"error": str(e)}


def input_manifest(cfg: RunConfig, base: Path) -> list[dict[str, Any]]:
    """Every input file with its size and SHA-256 (paths relative to the params folder)."""
    files = resolve_inputs(cfg.inputs, base)
    extra = [cfg.appeals_file, cfg.benchmark.fair_health_file, *cfg.benchmark.allowed_amounts_files]
    files += [base / p for p in extra if p]
    out = []
    for f in files:
        rel = os.path.relpath(f, base)
        out.append({"path": rel, "bytes": f.stat().st_size, "sha256": sha256_file(f)})
    return out


def _run_id(cfg: RunConfig, inputs: list[dict[str, Any]]) -> str:
    digest = hashlib.sha256(
        json.dumps([cfg.model_dump(mode="json"), inputs], sort_keys=True).encode()
    ).hexdigest()[:8]
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{digest}"


def _failed_cell(nb_path: Path) -> str:
    import nbformat

    try:
        nb = nbformat.read(nb_path, as_version=4)
    except Exception:
        return "unknown cell"
    code_no = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        code_no += 1
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
                return (
                    f"code cell {code_no} ({first[:60]!r}): {out.get('ename')}: {out.get('evalue')}"
                )
    return "unknown cell"


def _stage_list(only: str | None) -> tuple[str, ...]:
    """The stages to run: all of them, or the one ``--only`` names (``30_payers``, ``payers``, ``30``)."""
    if not only:
        return STAGES
    match = [s for s in STAGES if s == only or s.split("_", 1)[1] == only or s[:2] == only]
    if not match:
        raise ParamsError(f"--only {only!r}: unknown stage; choose from {', '.join(STAGES)}")
    return tuple(match)


def output_client_dir(cfg: RunConfig, base: Path) -> Path:
    """``<output_root>/<client>``: the one folder a run without ``--out`` writes in."""
    root = Path(cfg.output_root)
    root = root if root.is_absolute() else base / root
    client_dir = Path(os.path.abspath(root / cfg.client))
    if client_dir.parent != Path(os.path.abspath(root)) or client_dir.name != cfg.client:
        raise ParamsError(f"client {cfg.client!r} does not name one folder under {root}")
    return client_dir


def execute_stage(
    nb_in: Path,
    nb_out: Path,
    *,
    params: dict[str, Any],
    cwd: Path,
    prepare_only: bool,
    execution_timeout: int,
) -> None:
    """Run (or only parameterize) one stage notebook with papermill into ``nb_out``."""
    import papermill as pm

    pm.execute_notebook(
        str(nb_in),
        str(nb_out),
        parameters=params,
        kernel_name="python3",
        language="python",
        cwd=str(cwd),
        progress_bar=False,
        log_output=False,
        prepare_only=prepare_only,
        execution_timeout=execution_timeout,
        # ipykernel >= 7.3 warns on every start unless the transport is encrypted
        # (NOTEBOOKS.md 2.1); pyzmq has CURVE, so ask for it.
        config=_KERNEL_CONFIG,
        kernel_manager_class=_KERNEL_MANAGER,
    )


#: Peak memory per claim line of the largest stage (the playbook kernel), measured at 3M lines
#: (8.5 GB, docs/scale.md): the stages still hold the whole client.
PEAK_BYTES_PER_LINE = 2_900


def machine_memory_gb() -> float:
    """Physical memory of this machine in GB (0 when the OS does not say)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 1e9
    except (ValueError, OSError, AttributeError):
        return 0.0


def kernel_died_message(stage: str, work: Path) -> str:
    """What to tell the user when a stage's kernel dies: the system killed it, and at this
    scale that is almost always memory, so say how much the client needs and what to do."""
    lines = None
    report = work / "artifacts" / "ingest_report.json"
    if report.exists():
        try:
            lines = int(json.loads(report.read_text()).get("accepted_lines"))
        except (ValueError, TypeError, OSError):
            lines = None
    have = machine_memory_gb()
    size = (
        f"this client has {lines:,} claim lines and the stages hold the whole client "
        f"(about {PEAK_BYTES_PER_LINE / 1e3:.1f} KB per line at peak, so ~"
        f"{lines * PEAK_BYTES_PER_LINE / 1e9:.1f} GB)"
        if lines is not None
        else "the ingest stage itself died (its peak grows with the inputs)"
    )
    return (
        f"{stage}.ipynb: the stage's kernel died (killed by the system, most often for lack of "
        f"memory): {size}; this machine has {have:.1f} GB. Run it on a machine with more "
        "memory, or split the client into several params files (by payer or service period), "
        "or lower scale.ingest_workers if ingest died"
    )


def start_local_cluster(workers: int) -> Any:
    """A ``dask.distributed`` local cluster of ``workers`` single-threaded processes for one run."""
    from distributed import LocalCluster

    with preserved_environ():
        return LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )


def run_client(
    params_path: str | Path,
    *,
    only: str | None = None,
    prepare_only: bool = False,
    out: str | Path | None = None,
    run_id: str | None = None,
    progress: bool = True,
    execution_timeout: int = 1800,
    scheduler: str | None = None,
) -> RunResult:
    """Run the stage notebooks for one params file; raise :class:`RunFailed` when a stage fails.

    ``scheduler`` (or params' ``scale.scheduler``) runs the stages' partition work on Dask: a
    scheduler address, or ``local:N`` for a local cluster of N workers started once for the
    whole run and shared by every stage kernel.

    By default the run goes to ``<output_root>/<client>/<run-id>`` (``run_id`` must be a plain
    name). ``out`` names the run folder itself: a new or empty folder, or an earlier run folder
    of the same client, which is re-run in place (with ``only``, one stage, so a later stage can
    reuse an earlier run's artifacts); any other folder is refused (:class:`RunFolderError`).
    Write failures raise :class:`OutputIOError` naming the folder and the fix.
    """
    from nbclient.exceptions import DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    if run_id is not None:
        check_run_id(run_id)
        if out is not None:
            raise RunFolderError("--run-id and --out both name the run folder; give one of them")
    cfg, base = load_config(params_path)
    if scheduler:
        from oonplaybook.config import ScaleSettings

        try:
            scale = ScaleSettings.model_validate({**cfg.scale.model_dump(), "scheduler": scheduler})
        except ValueError as e:
            raise ParamsError(
                f"--scheduler {scheduler!r}: {e.errors()[0]['msg'] if hasattr(e, 'errors') else e}"
            ) from None
        cfg = cfg.model_copy(update={"scale": scale})
    salt_var = cfg.phi_salt_env
    if not os.environ.get(salt_var):
        raise ParamsError(
            f"{params_path}: the PHI salt variable {salt_var} is not set; export {salt_var}=<secret> "
            "(any string kept out of the repository) so patient identities can be hashed"
        )
    stages = _stage_list(only)
    nb_dir = notebooks_dir()
    absent = [s for s in stages if not (nb_dir / f"{s}.ipynb").exists()]
    if absent:
        raise FileNotFoundError(f"{nb_dir}: stage notebooks missing: {absent}")
    inputs = input_manifest(cfg, base)
    if out is not None:
        slot = claim_out_folder(Path(out), cfg.client)
    else:
        client_dir = output_client_dir(cfg, base)
        reap_dead_partials(client_dir)
        slot = claim_new_run(
            client_dir, run_id or _run_id(cfg, inputs), explicit=run_id is not None
        )
    work = slot.work
    final = slot.final

    params = cfg.notebook_parameters()
    local_cluster = None
    if cfg.scale.scheduler and cfg.scale.scheduler.startswith("local:"):
        local_cluster = start_local_cluster(int(cfg.scale.scheduler.split(":", 1)[1]))
        params["scale"]["scheduler"] = local_cluster.scheduler_address
    params["run_dir"] = "."
    params["params_base"] = os.path.relpath(base, work)
    env_backup = dict(os.environ)
    os.environ["OONPLAYBOOK_PHI_SALT"] = os.environ[salt_var]
    os.environ.setdefault("SM_FORMULA_ENGINE", "patsy")
    os.environ.setdefault("IPYKERNEL_CELL_NAME", "<IPY-INPUT>")
    # one BLAS thread per kernel unless the user chose: a multi-threaded BLAS sums in another
    # order, so the payer models' last digits would depend on the machine's cores
    for var in BLAS_THREAD_VARS:
        os.environ.setdefault(var, "1")
    # pyarrow's allocator (mimalloc) returns freed pages to the system at once instead of
    # keeping them for reuse: a stage kernel's resident memory at 1M lines falls ~0.5 GB between
    # steps (measured on stage 40: 3.1 -> 2.6 GB after the worklist), at no measured time cost
    os.environ.setdefault(KERNEL_ALLOCATOR_VAR, "0")

    previous = read_manifest(work) if slot.in_place else None
    manifest: dict[str, Any] = previous or {"stages": {}}
    manifest.update(
        {
            "client": cfg.client,
            "run_id": final.name,
            "status": "running",
            "params": cfg.model_dump(mode="json"),
            "params_file": str(Path(params_path)),
            "inputs": inputs,
            "package_version": __version__,
            "git_commit": _git_commit(),
            "python": platform.python_version(),
            "reference_data": _reference_vintages(),
            "started_utc": datetime.now(UTC).isoformat(timespec="seconds"),
            "runner": runner_identity(),
            "in_place": slot.in_place,
        }
    )
    manifest.pop("error", None)
    manifest.pop("finished_utc", None)
    if not isinstance(manifest.get("stages"), dict):
        manifest["stages"] = {}
    result = RunResult(client=cfg.client, run_dir=final, status="running")
    failed = True
    try:
        (work / "artifacts").mkdir(exist_ok=True)
        write_manifest(work, manifest)
        reserve_space(work)
        from rich.progress import Progress

        with Progress(disable=not progress, transient=True) as bar:
            task = bar.add_task(f"{cfg.client}", total=len(stages))
            for stage in stages:
                bar.update(task, description=f"{cfg.client}: {stage}")
                t0 = time.perf_counter()
                nb_out = work / f"{stage}.ipynb"
                try:
                    execute_stage(
                        nb_dir / f"{stage}.ipynb",
                        nb_out,
                        params=params,
                        cwd=work,
                        prepare_only=prepare_only,
                        execution_timeout=execution_timeout,
                    )
                except DeadKernelError:
                    secs = round(time.perf_counter() - t0, 2)
                    manifest["stages"][stage] = {"seconds": secs, "status": "failed"}
                    msg = kernel_died_message(stage, work)
                    result.error = msg
                    manifest["error"] = {
                        "notebook": f"{stage}.ipynb",
                        "ename": "DeadKernelError",
                        "evalue": msg,
                    }
                    raise RunFailed(f"{cfg.client}: {msg}") from None
                except PapermillExecutionError as e:
                    secs = round(time.perf_counter() - t0, 2)
                    manifest["stages"][stage] = {"seconds": secs, "status": "failed"}
                    where = _failed_cell(nb_out)
                    result.error = f"{stage}.ipynb failed at {where}"
                    manifest["error"] = {
                        "notebook": f"{stage}.ipynb",
                        "cell": where,
                        "ename": e.ename,
                        "evalue": e.evalue,
                    }
                    where_now = (
                        final if slot.in_place else free_name(final.parent, f"{final.name}.failed")
                    )
                    fix = io_fix(f"{e.ename}: {e.evalue}")
                    raise RunFailed(
                        f"{cfg.client}: {result.error} (see {where_now / (stage + '.ipynb')})"
                        + (f"; the stage could not write to {work}: {fix}" if fix else "")
                    ) from None
                secs = round(time.perf_counter() - t0, 2)
                manifest["stages"][stage] = {
                    "seconds": secs,
                    "status": "prepared" if prepare_only else "ok",
                }
                write_manifest(work, manifest)
                result.stages[stage] = secs
                bar.advance(task)
        if not prepare_only:
            from oonplaybook.report import (
                build_report_html,
                run_summary,
                write_report_pdf,
                write_summary_workbook,
            )

            nbs = [work / f"{s}.ipynb" for s in STAGES if (work / f"{s}.ipynb").exists()]
            title = f"oonplaybook: {cfg.client_name or cfg.client}"
            summary = run_summary(work, cfg, base)  # once, for the report and the terminal
            if summary[0] is not None:  # the headline `oonplaybook run` prints, read back
                from oonplaybook.executive import headline_record

                manifest["headline"] = headline_record(summary[0])
            build_report_html(
                nbs, work / "report.html", title=title, config=cfg, params_base=base,
                summary=summary,
            )  # fmt: skip
            write_summary_workbook(work)
            # report.pdf when a headless Chromium is installed; a note (never a failure) when not
            manifest["report_pdf"] = write_report_pdf(work / "report.html", work / "report.pdf")
        manifest["status"] = "prepared" if prepare_only else "ok"
        result.status = manifest["status"]
        failed = False
    except Exception as e:
        manifest["status"] = "failed"
        result.status = "failed"
        if isinstance(e, RunFailed):
            raise
        if isinstance(e, OSError):
            err = io_error(e, work, "write the run")
            manifest.setdefault("error", {"ename": type(e).__name__, "evalue": str(err)})
            raise err from None
        manifest.setdefault("error", {"ename": type(e).__name__, "evalue": str(e)})
        raise RunFailed(
            f"{cfg.client}: run failed outside a notebook: {type(e).__name__}: {e}"
        ) from e
    finally:
        manifest["finished_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
        if failed:
            manifest["status"] = "failed"
            result.status = "failed"
        manifest_error: OSError | None = None
        try:
            write_final_manifest(work, manifest)
        except OSError as e:  # the last good manifest stays in place (atomic writes)
            manifest_error = e
        if local_cluster is not None:
            local_cluster.close()
        restore_environ(env_backup)
        result.run_dir = finish(slot, failed=failed)
        if manifest_error is not None and not failed:
            raise io_error(manifest_error, work, "write manifest.json")
    return result


def run_many(params_dir: str | Path, **kwargs: Any) -> list[RunResult]:
    """Run every ``*.yaml`` params file in a folder, going on past failures."""
    results = []
    files = sorted(Path(params_dir).glob("*.yaml")) + sorted(Path(params_dir).glob("*.yml"))
    if not files:
        raise ParamsError(f"{params_dir}: no *.yaml params files in this folder")
    for f in files:
        try:
            results.append(run_client(f, **kwargs))
        except (RunFailed, RunFolderError, ParamsError, FileNotFoundError) as e:
            results.append(
                RunResult(client=f.stem, run_dir=Path(""), status="failed", error=str(e))
            )
    return results
