"""835 files read on several processes: the folder cut into contiguous batches (by bytes), one
:class:`~oonplaybook.ingest.x12.Remit835Reader` per batch, the tables stitched back in file order.

The 835 walk is per-claim Python (~70 s of a 1M-line ingest on one core), and files are
independent, so it spreads over the machine's cores. Batches are contiguous runs of the file
list and are stitched in order with claim ordinals (``_clp``) shifted as one reader numbers
them, so the tables, rejects, balance failures and walk warnings equal one reader's (a test
checks it on the demo). Build-time warnings are listed per batch, in batch order; the
"... N more invalid dates" cap applies per batch.

Any error in a batch (a damaged file) makes the caller read the 835s in one process instead,
so the error it raises is the one the serial reader raises, at the same file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from oonplaybook import child_calls
from oonplaybook.ingest.x12 import Remit835Reader, RemitRead

#: 835 bytes from which ``workers=None`` reads on several processes (~120k lines): below it
#: starting the processes (~2 s each, they import pandas) costs more than it saves.
PARALLEL_MIN_BYTES = 32 * 1024 * 1024


def auto_workers(total_bytes: int, workers: int | None = None) -> int:
    """How many processes read ``total_bytes`` of 835s: ``workers`` when given, else
    :func:`child_calls.processes` (one per core, at most 4) from :data:`PARALLEL_MIN_BYTES` on."""
    if workers is not None:
        return max(1, int(workers))
    if total_bytes < PARALLEL_MIN_BYTES:
        return 1
    return child_calls.processes()


def batches(sizes: Sequence[int], n: int) -> list[range]:
    """Cut files of ``sizes`` bytes into at most ``n`` contiguous, non-empty runs of about equal
    bytes (file order is kept: run k's files all come before run k+1's)."""
    if not sizes:
        return []
    n = max(1, min(n, len(sizes)))
    cum = np.cumsum(np.asarray(sizes, dtype="float64"))
    cuts = [int(np.searchsorted(cum, cum[-1] * k / n, side="left")) + 1 for k in range(1, n)]
    bounds = sorted({0, *[min(max(c, 1), len(sizes) - 1) for c in cuts], len(sizes)})
    return [range(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=False) if b > a]


def _read_batch(paths: list[str], names: list[str], salt: str) -> dict[str, Any]:
    """One process's batch: every file added to one reader, then the tables built."""
    reader = Remit835Reader(salt)
    stats, walk_warnings = [], []
    for p, name in zip(paths, names, strict=True):
        st = reader.add(Path(p).read_bytes(), name)
        walk_warnings.append(len(st["warnings"]))  # what the caller reports per file
        stats.append(st)
    n_claims = len(reader.buf["c_id"])
    n_walk = len(reader.warnings)
    remits = reader.build(consume=True)
    return {
        "stats": stats,
        "walk_warnings": walk_warnings,
        "n_claims": n_claims,
        "n_walk": n_walk,
        "remits": remits,
        "contacts": reader.contacts,
    }


@dataclass
class PooledRemits:
    """The stitched result of :func:`read_pooled`: per-file stats in file order, the tables."""

    names: list[str]
    stats: list[dict[str, Any]]
    remits: RemitRead
    contacts: dict[str, set[str]]
    workers: int
    walk_warnings: list[int]  # per file, its warnings when walked (before the build adds any)
    _next: int = field(default=0, repr=False)

    @property
    def unused(self) -> int:
        """Files read ahead that :meth:`take` has not handed out (0 once the loop is done)."""
        return len(self.names) - self._next

    def take(self, name: str) -> tuple[dict[str, Any], int]:
        """The stats of the next file, which must be ``name`` (the caller's loop order), and
        how many warnings its walk gave."""
        i = self._next
        if i >= len(self.names) or self.names[i] != name:
            want = self.names[i] if i < len(self.names) else "none"
            raise RuntimeError(f"835 pool: expected {want}, the ingest loop reached {name}")
        self._next += 1
        return self.stats[i], self.walk_warnings[i]


def _stitch(parts: list[dict[str, Any]]) -> tuple[RemitRead, dict[str, set[str]]]:
    """One RemitRead from consecutive batches (claim ordinals shifted as one reader numbers
    them; walk warnings first, then each batch's build warnings)."""
    lines, adjs, provs = [], [], []
    rejects: list[dict[str, str]] = []
    balance: list[dict[str, Any]] = []
    walk_w: list[str] = []
    build_w: list[str] = []
    contacts: dict[str, set[str]] = {}
    off = 0
    for b in parts:
        r: RemitRead = b.pop("remits")  # the lists below hold its frames alone (freed as joined)
        cl, ad = r.claim_lines, r.adjustments
        if off:
            cl["_clp"] = cl["_clp"] + off
            if "_clp" in ad:
                ad["_clp"] = ad["_clp"] + off
        lines.append(cl)
        adjs.append(ad)
        provs.append(r.provider_adjustments)
        rejects += r.rejects
        balance += r.balance_failures
        w = r.stats["warnings"]
        walk_w += w[: b["n_walk"]]
        build_w += w[b["n_walk"] :]
        for k, v in b["contacts"].items():
            contacts.setdefault(k, set()).update(v)
        off += b["n_claims"]
        del r, cl, ad

    def cat(frames: list[pd.DataFrame]) -> pd.DataFrame:
        """Join the batches' frames and empty the list, so each table's batch frames are freed
        once joined, before the next table is joined (not all held until the last join)."""
        keep = [f for f in frames if len(f)] or frames[:1]
        frames.clear()
        out = pd.concat(keep, ignore_index=True) if len(keep) > 1 else keep[0]
        keep.clear()
        return out

    out = RemitRead(
        claim_lines=cat(lines),
        adjustments=cat(adjs),
        provider_adjustments=cat(provs),
        rejects=rejects,
        balance_failures=balance,
        stats={"warnings": walk_w + build_w},
    )
    return out, contacts


class PendingPool:
    """835 batches being read by child processes (:mod:`oonplaybook.child_calls`) while the
    caller goes on (the export is read meanwhile)."""

    def __init__(self, files: Sequence[tuple[Path, str]], runs: list[range], salt: str) -> None:
        self.names = [n for _, n in files]
        self._calls = child_calls.Calls(
            "oonplaybook.ingest.remit_pool:_read_batch",
            [([str(files[i][0]) for i in run], [files[i][1] for i in run], salt) for run in runs],
        )

    def result(self) -> PooledRemits | None:
        """Wait for every batch and stitch them; None when any failed (then read serially)."""
        try:
            parts = self._calls.results()
        except Exception:  # noqa: BLE001 - any failure: the serial reader reports it properly
            return None
        remits, contacts = _stitch(parts)
        return PooledRemits(
            names=self.names,
            stats=[s for b in parts for s in b["stats"]],
            remits=remits,
            contacts=contacts,
            workers=len(parts),
            walk_warnings=[n for b in parts for n in b["walk_warnings"]],
        )

    def close(self) -> None:
        """Stop any child still running (idempotent)."""
        self._calls.close()


def start_pooled(files: Sequence[tuple[Path, str]], salt: str, workers: int) -> PendingPool | None:
    """Start reading the 835 ``files`` ((path, display name), in ingest order) on ``workers``
    processes in the background; None when there is nothing to split."""
    runs = batches([p.stat().st_size for p, _ in files], workers)
    return PendingPool(files, runs, salt) if len(runs) >= 2 else None


def read_pooled(files: Sequence[tuple[Path, str]], salt: str, workers: int) -> PooledRemits | None:
    """:func:`start_pooled` and wait: the stitched tables, or None (nothing to split, or a
    batch failed: read the files serially for the error)."""
    pending = start_pooled(files, salt, workers)
    return pending.result() if pending is not None else None
