"""The run folder: safe names, exclusive claims, atomic manifests, dead-run recovery.

A run only ever writes inside ``<output_root>/<client>/`` (or the ``--out`` folder the user
named) and only deletes what it made itself in this process. Every rule here exists because a
run once lost a user's data:

- a run id is a plain name (no ``/``, ``\\``, ``..``, leading dot, control character; at most
  64 characters), so ``--run-id ..`` cannot name another client's folder;
- a new run claims its ``.<run-id>.partial`` folder with an exclusive ``os.mkdir`` (never a
  check-then-create), so two runs started in the same second get distinct ids, and a second
  run with the same ``--run-id`` stops with a message instead of a traceback;
- an existing ``--out`` folder is used only when it is empty or an oonplaybook run folder of
  the same client (recognised by its manifest, or by the client in its stage notebooks'
  injected parameters); a folder holding anything else is refused and left untouched;
- ``manifest.json`` is written atomically (temp file + ``os.replace``), so it is always valid
  JSON, and records the runner's pid, host and process start time: a later run recognises a
  ``.partial`` whose process is gone and renames it ``<run-id>.failed`` with the reason;
- an ``OSError`` while writing becomes one :class:`OutputIOError` naming the folder and the fix.
"""

from __future__ import annotations

import errno
import json
import os
import re
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

#: A plain run-folder name: letters, digits, ``_``, ``-`` and inner dots, at most 64 characters.
RUN_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
RUN_ID_MAX = 64
#: Suffixes the runner gives folders and files itself; a run id may not end with one.
RESERVED_SUFFIXES = (".partial", ".failed", ".tmp", ".lock")
MANIFEST = "manifest.json"
LOCK = ".oonplaybook.lock"
#: Room kept free in a run folder so its last manifest can be written even when the disk fills.
RESERVE = ".manifest-reserve"
RESERVE_BYTES = 256 * 1024
#: Top-level entries an oonplaybook run folder holds (anything else is the user's).
RUN_ENTRIES = frozenset(
    {
        MANIFEST,
        LOCK,
        RESERVE,
        "artifacts",
        "report.html",
        "report.pdf",
        "summary.xlsx",
        ".ipynb_checkpoints",
    }
)


class RunFolderError(RuntimeError):
    """A run folder cannot be used safely; the message names the folder and the fix."""

    exit_code = 2


class OutputIOError(RunFolderError):
    """Writing the run folder failed (read-only, full disk, permissions); names folder and fix."""

    exit_code = 1


def check_run_id(run_id: str) -> str:
    """Return ``run_id`` when it is a plain folder name, else raise :class:`RunFolderError`."""
    bad = ""
    if not isinstance(run_id, str) or not run_id:
        bad = "is empty"
    elif any(ord(c) < 32 or ord(c) == 127 for c in run_id):
        bad = "contains a control character (newline, tab, ...)"
    elif "/" in run_id or "\\" in run_id:
        bad = "contains a path separator"
    elif run_id.startswith("."):
        bad = "starts with a dot (hidden, or a reference to a parent folder)"
    elif ".." in run_id:
        bad = "contains '..'"
    elif len(run_id) > RUN_ID_MAX:
        bad = f"is {len(run_id)} characters long (at most {RUN_ID_MAX})"
    elif run_id.endswith(RESERVED_SUFFIXES):
        bad = f"ends with a suffix the runner uses itself ({', '.join(RESERVED_SUFFIXES)})"
    elif not RUN_ID_PATTERN.fullmatch(run_id):
        bad = "has characters other than letters, digits, '_', '-' and '.'"
    if bad:
        raise RunFolderError(
            f"--run-id {run_id!r} {bad}; give a plain folder name such as '2025-q4' "
            "(letters, digits, '_', '-', inner dots; at most 64 characters)"
        )
    return run_id


def io_fix(text: str) -> str:
    """The fix for an I/O failure described in ``text`` (a kernel's error), or ""."""
    if "No space left" in text or "Errno 28" in text or "Disk quota" in text:
        return "free disk space in the run folder's disk, or set output_root to a larger disk"
    if "Read-only file system" in text or "Permission denied" in text:
        return "make the run folder writable, or set output_root / --out to a writable folder"
    return ""


def io_error(e: OSError, folder: Path, doing: str) -> OutputIOError:
    """One clear message for a failed write: what failed, in which folder, and the fix."""
    code = errno.errorcode.get(e.errno or 0, "")
    if e.errno == errno.ENOSPC or e.errno == errno.EDQUOT:
        fix = "free disk space there (or raise the quota), or set output_root to a larger disk"
    elif e.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        fix = "make the folder writable for this user, or set output_root / --out to a writable folder"
    else:
        fix = "check the folder and the disk, or set output_root / --out to another folder"
    reason = e.strerror or str(e)
    return OutputIOError(f"cannot {doing} in {folder}: {reason} ({code or 'OSError'}); fix: {fix}")


def runner_identity() -> dict[str, Any]:
    """This process as recorded in a manifest: pid, host and process start time."""
    import psutil

    me = psutil.Process()
    return {"pid": me.pid, "host": socket.gethostname(), "started_unix": round(me.create_time(), 3)}


def runner_alive(runner: dict[str, Any] | None) -> bool | None:
    """Whether a recorded runner still runs: True/False on this host, None when unknowable."""
    import psutil

    if not runner or runner.get("host") != socket.gethostname():
        return None
    pid = runner.get("pid")
    if not isinstance(pid, int):
        return None
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        started = runner.get("started_unix")
        if isinstance(started, int | float) and abs(proc.create_time() - started) > 1.0:
            return False  # the pid was reused by another process
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True
    return True


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest.json`` atomically (temp file, fsync, ``os.replace``): never half-written."""
    body = json.dumps(manifest, indent=2, sort_keys=True, default=str)
    tmp = folder / f".{MANIFEST}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, folder / MANIFEST)
    except BaseException:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise


def reserve_space(folder: Path) -> None:
    """Keep :data:`RESERVE_BYTES` allocated in ``folder`` for the final manifest (full disks)."""
    with open(folder / RESERVE, "wb") as f:
        f.write(b"\0" * RESERVE_BYTES)
        f.flush()
        os.fsync(f.fileno())


def write_final_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Write the run's last manifest, releasing the reserved room first if the disk is full."""
    try:
        write_manifest(folder, manifest)
    except OSError as e:
        if e.errno not in (errno.ENOSPC, errno.EDQUOT) or not (folder / RESERVE).exists():
            raise
        (folder / RESERVE).unlink()
        write_manifest(folder, manifest)
    try:
        (folder / RESERVE).unlink(missing_ok=True)
    except OSError:
        pass


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The folder's manifest, or None when it is missing or not valid JSON."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _notebook_client(nb: Path) -> str | None:
    """The client named in a stage notebook's injected parameters cell, if any."""
    try:
        data = json.loads(nb.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for cell in data.get("cells", []) if isinstance(data, dict) else []:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            src = "".join(cell.get("source", []))
            m = re.search(r'^client = "([^"\n]*)"$', src, re.M)
            return m.group(1) if m else None
    return None


def run_folder_client(folder: Path) -> str | None:
    """The client an oonplaybook run folder belongs to, or None when it is not a run folder.

    A run folder names its client in its ``manifest.json``; a folder without a manifest (the
    golden notebooks) counts when it holds only run entries (stage notebooks, ``artifacts/``,
    report, summary) and its stage notebooks' injected parameters name the client. Re-running
    in place only rewrites the run's own outputs, so other files in a run folder are kept.
    """
    entries = list(folder.iterdir())
    manifest = read_manifest(folder)
    if manifest and isinstance(manifest.get("client"), str):
        return manifest["client"]
    foreign = [
        e.name
        for e in entries
        if e.name not in RUN_ENTRIES
        and not _is_stage_notebook(e.name)
        and not re.fullmatch(rf"\.{re.escape(MANIFEST)}\.\d+\.tmp", e.name)
    ]
    if foreign:
        return None
    for e in sorted(entries):
        if _is_stage_notebook(e.name):
            client = _notebook_client(e)
            if client:
                return client
    return None


def _is_stage_notebook(name: str) -> bool:
    return re.fullmatch(r"\d\d_[a-z_]+\.ipynb", name) is not None


def free_name(parent: Path, name: str) -> Path:
    """``parent/name``, or ``name-2``, ``name-3``... when that is taken (nothing is replaced)."""
    cand = parent / name
    n = 2
    while cand.exists() or cand.is_symlink():
        cand = parent / f"{name}-{n}"
        n += 1
    return cand


def mark_failed(partial: Path, reason: str) -> Path:
    """Record ``reason`` in a dead ``.partial``'s manifest and rename it ``<run-id>.failed``."""
    manifest = read_manifest(partial) or {}
    manifest["status"] = "failed"
    manifest.setdefault("error", {"ename": "RunnerGone", "evalue": reason})
    manifest["failed_reason"] = reason
    manifest["marked_failed_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
    write_manifest(partial, manifest)
    name = partial.name.removeprefix(".").removesuffix(".partial")
    target = free_name(partial.parent, f"{name}.failed")
    os.rename(partial, target)
    return target


def reap_dead_partials(client_dir: Path) -> list[Path]:
    """Mark every ``.partial`` in ``client_dir`` whose runner process is gone as failed.

    A ``.partial`` whose runner still runs, or ran on another host, or that has no readable
    manifest (its owner cannot be known) is left as it is.
    """
    reaped: list[Path] = []
    if not client_dir.is_dir():
        return reaped
    for p in sorted(client_dir.glob(".*.partial")):
        if not p.is_dir() or p.is_symlink():
            continue
        manifest = read_manifest(p)
        if manifest is None or manifest.get("status") != "running":
            continue
        runner = manifest.get("runner")
        if runner_alive(runner) is False:
            reason = (
                f"the runner process {runner.get('pid')} on {runner.get('host')} ended before "
                "the run finished (killed or crashed); marked failed by a later run"
            )
            try:
                reaped.append(mark_failed(p, reason))
            except OSError:
                continue  # another run marked it first, or the folder is not writable
    return reaped


@dataclass
class RunSlot:
    """Where one run writes (``work``) and where it ends (``final``); ``in_place`` when equal."""

    work: Path
    final: Path
    in_place: bool
    lock: Path | None = None

    def release(self) -> None:
        """Remove this run's lock file (in-place runs); a no-op otherwise."""
        if self.lock is not None:
            try:
                self.lock.unlink(missing_ok=True)
            except OSError:
                pass
            self.lock = None


def _mkdir_exclusive(path: Path) -> bool:
    """Create ``path`` only if nothing is there (atomic); False when it already exists."""
    try:
        os.mkdir(path)
    except FileExistsError:
        return False
    return True


def claim_new_run(client_dir: Path, run_id: str, *, explicit: bool) -> RunSlot:
    """Claim ``.<run-id>.partial`` in ``client_dir`` exclusively.

    A generated id that is taken (same params in the same second, or an earlier run) gets
    ``-2``, ``-3``...; an ``explicit`` ``--run-id`` that is taken stops with a message.
    """
    check_run_id(run_id)
    try:
        client_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise io_error(e, client_dir, "create the client's output folder") from None
    for n in range(1, 1000):
        rid = run_id if n == 1 else f"{run_id}-{n}"
        partial = client_dir / f".{rid}.partial"
        try:
            claimed = _mkdir_exclusive(partial)
        except OSError as e:
            raise io_error(e, client_dir, "create the run folder") from None
        if not claimed:
            if explicit:
                raise RunFolderError(
                    f"--run-id {run_id!r}: a run with this id is in progress in {partial}; "
                    "wait for it to finish or give another --run-id"
                )
            continue
        taken = [p for p in (client_dir / rid, client_dir / f"{rid}.failed") if p.exists()]
        if taken:
            os.rmdir(partial)  # empty, made just now by this process
            if explicit:
                raise RunFolderError(
                    f"--run-id {run_id!r}: {taken[0]} already exists; give another --run-id "
                    "(a finished run is never replaced)"
                )
            continue
        return RunSlot(work=partial, final=client_dir / rid, in_place=False)
    raise RunFolderError(f"{client_dir}: could not find a free run id starting {run_id!r}")


def _acquire_lock(folder: Path) -> Path:
    """Take ``folder``'s lock file exclusively (a dead owner's lock is taken over)."""
    lock = folder / LOCK
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                owner = json.loads(lock.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                owner = None
            if runner_alive(owner if isinstance(owner, dict) else None) is False:
                lock.unlink(missing_ok=True)
                continue
            raise RunFolderError(
                f"{folder}: another run is writing this folder ({lock} held by "
                f"{owner if isinstance(owner, dict) else 'an unknown process'}); wait for it, "
                f"or delete {lock} if you know that run is gone"
            ) from None
        except OSError as e:
            raise io_error(e, folder, "take the run folder's lock") from None
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(runner_identity(), f)
        return lock
    raise RunFolderError(f"{folder}: could not take the lock {lock}")


def claim_out_folder(out: Path, client: str) -> RunSlot:
    """Claim the ``--out`` folder: new or empty (via a ``.partial`` sibling) or a run of ``client``.

    An existing run folder of the same client is re-run in place under a lock file; any other
    non-empty folder is refused and left untouched.
    """
    out = Path(os.path.abspath(out))
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise RunFolderError(f"--out {out}: exists and is not a folder; give a new folder name")
    if out.is_dir() and any(out.iterdir()):
        owner = run_folder_client(out)
        if owner is None:
            raise RunFolderError(
                f"--out {out}: the folder is not empty and is not an oonplaybook run folder "
                "(no manifest.json naming a client, or it holds other files); nothing was "
                "changed. Give a new or empty folder, or an earlier run folder of this client"
            )
        if owner != client:
            raise RunFolderError(
                f"--out {out}: this is a run folder of client {owner!r}, not {client!r}; "
                "nothing was changed. Give a new folder, or a run folder of this client"
            )
        manifest = read_manifest(out) or {}
        if (
            manifest.get("status") == "running"
            and runner_alive(manifest.get("runner")) is not False
        ):
            raise RunFolderError(
                f"--out {out}: a run is in progress in this folder (runner "
                f"{manifest.get('runner')}); wait for it to finish"
            )
        return RunSlot(work=out, final=out, in_place=True, lock=_acquire_lock(out))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise io_error(e, out.parent, "create the folder for --out") from None
    partial = out.with_name(f".{out.name}.partial")
    if partial.exists():
        manifest = read_manifest(partial)
        if manifest and runner_alive(manifest.get("runner")) is False:
            mark_failed(partial, "the runner process ended before the run finished")
    try:
        claimed = _mkdir_exclusive(partial)
    except OSError as e:
        raise io_error(e, out.parent, "create the run folder") from None
    if not claimed:
        raise RunFolderError(
            f"--out {out}: another run is writing it ({partial} exists); wait for it to "
            f"finish, or if that run is gone and left no manifest, delete {partial}"
        )
    return RunSlot(work=partial, final=out, in_place=False)


def finish(slot: RunSlot, failed: bool) -> Path:
    """Move a finished run to its final name (``.failed`` when it failed); return that path.

    Nothing is replaced: a taken ``.failed`` name gets ``-2``...; an empty ``--out`` folder is
    replaced by the rename itself (POSIX allows that for an empty directory only).
    """
    slot.release()
    if slot.in_place:
        return slot.final
    if failed:
        target = free_name(slot.final.parent, f"{slot.final.name}.failed")
    else:
        target = slot.final
    try:
        os.rename(slot.work, target)
    except OSError as e:
        if e.errno in (errno.ENOTEMPTY, errno.EEXIST):
            raise RunFolderError(
                f"{target} appeared while the run was writing {slot.work}; the run is kept in "
                f"{slot.work}: move it yourself"
            ) from None
        raise io_error(e, slot.work.parent, f"rename {slot.work.name} to {target.name}") from None
    return target
