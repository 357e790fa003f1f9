"""Where partition work runs: in this process, or on a Dask cluster (one code path for both).

A stage hands :func:`map_parts` a module-level function and one argument tuple per part; the
results come back in the order given, whatever order the workers finish in, so a run on a
cluster writes the same artifacts as a run in-process. ``scheduler`` is ``None`` (in-process, no
Dask at all), ``"local:N"`` (a ``dask.distributed`` local cluster of N single-threaded worker
processes, what the tests use) or the address of a running scheduler (``tcp://host:8786``).
Workers must see the run folder at the same path (a shared disk), because tasks read and write
the stage datasets there rather than shipping frames through the scheduler.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

#: Environment variable a run sets so every stage kernel uses the same scheduler.
SCHEDULER_ENV = "OONPLAYBOOK_SCHEDULER"

#: How long to wait for a remote scheduler before saying it cannot be reached.
CONNECT_TIMEOUT = "30s"


#: Variables that change floating-point results (BLAS threads sum in a different order); a run
#: pins them for its stage kernels so artifacts do not depend on the machine's core count.
BLAS_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@contextmanager
def preserved_environ() -> Iterator[None]:
    """Restore ``os.environ`` on exit: ``distributed`` writes its worker settings
    (``OMP_NUM_THREADS=1``, ``PYTHONHASHSEED``, ...) into the parent's environment when it spawns
    workers, which would change every kernel started later in the same process."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        restore_environ(saved)


def restore_environ(saved: dict[str, str]) -> None:
    """Put ``os.environ`` back to ``saved`` (a ``dict(os.environ)`` taken earlier)."""
    os.environ.clear()
    os.environ.update(saved)


class ClusterError(RuntimeError):
    """The cluster could not be reached or a part failed on it; names the scheduler and the part."""


def resolve_scheduler(scheduler: str | None) -> str | None:
    """The scheduler to use: the argument, else ``$OONPLAYBOOK_SCHEDULER``, else in-process."""
    s = scheduler if scheduler not in (None, "") else os.environ.get(SCHEDULER_ENV) or None
    return s


@contextmanager
def client_for(scheduler: str) -> Iterator[Any]:
    """A ``distributed.Client`` on ``scheduler`` (``local:N`` starts and stops a local cluster)."""
    from distributed import Client, LocalCluster

    cluster = None
    try:
        if scheduler.startswith("local:"):
            with preserved_environ():
                cluster = LocalCluster(
                    n_workers=int(scheduler.split(":", 1)[1]),
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                )
            client = Client(cluster)
        else:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
    except OSError as e:
        raise ClusterError(
            f"cannot reach the Dask scheduler {scheduler!r} ({e}); start one with "
            "`dask scheduler` and `dask worker ADDRESS`, or drop scale.scheduler to run in-process"
        ) from e
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def map_parts(
    fn: Callable[..., T],
    args: Sequence[tuple[Any, ...]],
    *,
    scheduler: str | None = None,
    labels: Sequence[str] | None = None,
) -> list[T]:
    """``[fn(*a) for a in args]``, in-process or on the cluster at ``scheduler``; same order.

    A part that raises on a worker is re-raised here as :class:`ClusterError` naming the part
    (``labels[i]``, default its index), so a failure says where it happened."""
    scheduler = resolve_scheduler(scheduler)
    if scheduler is None:
        return [fn(*a) for a in args]
    names = list(labels) if labels is not None else [f"part {i}" for i in range(len(args))]
    with client_for(scheduler) as client:
        futures = [
            client.submit(
                fn, *a, pure=False, key=f"{getattr(fn, '__name__', 'task')}-{i}-{os.getpid()}"
            )
            for i, a in enumerate(args)
        ]
        out: list[T] = []
        for name, fut in zip(names, futures, strict=True):
            try:
                out.append(fut.result())
            except Exception as e:  # noqa: BLE001 - re-raised with the part's name
                raise ClusterError(f"{name} failed on the cluster {scheduler}: {e}") from e
        return out
