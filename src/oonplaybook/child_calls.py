"""Library functions run in fresh child processes (``python -m oonplaybook._child_call``).

Why not :mod:`multiprocessing`: its spawn start method re-imports the caller's ``__main__`` (a
user's script without a ``__main__`` guard runs again in every child, a notebook's launcher
is re-run), and fork is unsafe in a process with threads (a Jupyter kernel, pyarrow's pool).
A child here imports only the named function. Each call's arguments (a PHI salt included) go
in as a pickle on stdin, never on a command line; the result comes back as a pickle file in a
temp folder. Used where work splits into independent batches: the 835 reader
(:mod:`oonplaybook.ingest.remit_pool`) and the letters' .docx files.
"""

from __future__ import annotations

import importlib
import os
import pickle
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any


class ChildCallError(RuntimeError):
    """A child process failed; the message ends with the child's stderr."""


def cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


#: Most child processes a batch of work starts by default (each holds its batch in memory).
MAX_PROCESSES = 4


def processes() -> int:
    """How many children to split work over by default: one per core, at most
    :data:`MAX_PROCESSES`."""
    return max(1, min(cores(), MAX_PROCESSES))


def resolve(func: str) -> Any:
    """The function named ``"package.module:function"``."""
    mod, _, name = func.partition(":")
    return getattr(importlib.import_module(mod), name)


class Calls:
    """Calls started in child processes, one per argument tuple; :meth:`results` waits."""

    def __init__(self, func: str, arglist: Sequence[tuple[Any, ...]]) -> None:
        self.func = func
        self._tmp = tempfile.TemporaryDirectory(prefix="oonplaybook-child-")
        self._threads = ThreadPoolExecutor(max_workers=max(1, len(arglist)))
        self._procs: list[subprocess.Popen[bytes]] = []
        self._outs: list[Path] = []
        self._futs = []
        for k, args in enumerate(arglist):
            out = Path(self._tmp.name) / f"result-{k}.pickle"
            job = pickle.dumps({"func": func, "args": args, "out": str(out)}, protocol=5)
            proc = subprocess.Popen(
                [sys.executable, "-m", "oonplaybook._child_call"],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            self._procs.append(proc)
            self._outs.append(out)
            self._futs.append(self._threads.submit(proc.communicate, job))

    def results(self) -> list[Any]:
        """Every call's return value, in order; raises :class:`ChildCallError` if one failed."""
        try:
            out = []
            for proc, fut, path in zip(self._procs, self._futs, self._outs, strict=True):
                _stdout, err = fut.result()
                if proc.returncode != 0:
                    tail = err.decode("utf-8", "replace")[-2000:]
                    raise ChildCallError(f"{self.func} failed in a child process:\n{tail}")
                with open(path, "rb") as fh:
                    out.append(pickle.load(fh))  # noqa: S301 - our own child's output
                path.unlink()
            return out
        finally:
            self.close()

    def close(self) -> None:
        """Stop any child still running and remove the temp folder (idempotent)."""
        for proc in self._procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self._threads.shutdown(wait=True)
        self._tmp.cleanup()


def map_calls(func: str, arglist: Sequence[tuple[Any, ...]]) -> list[Any]:
    """``[func(*args) for args in arglist]``, each call in its own child process, in parallel."""
    return Calls(func, arglist).results()
