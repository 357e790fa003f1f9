"""How one client's claims are split into parts, and how stages read and write parts.

Every stage table keyed by claim (claim lines, adjustments, benchmarks, the NSA frame, the
worklist) is a Parquet dataset partitioned by ``part`` (see :mod:`oonplaybook.dataset`), kept
at the artifact's usual path: ``artifacts/claim_lines.parquet/part=3/part-0.parquet``. A
dataset folder reads like the single file it replaces (``pd.read_parquet`` reads the folder),
so callers that want the whole table still work; stages that need bounded memory loop over
:func:`parts` and read one part at a time with :func:`read_part`.

A part holds **whole claims**: ``part = stable hash of the claim's key mod n_parts``, with the
same hash on every machine and run, so a claim's lines, adjustments and benchmark rows are
always in the same part and per-claim work never crosses parts. Nothing downstream may assume
more than that about how claims are assigned.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

#: The partition column every claim-keyed stage dataset carries.
PART = "part"

#: Hidden column holding each row's position in the table a multi-part dataset was split from,
#: so reading the dataset whole gives back the rows in their original order (see :func:`read_all`).
ROW = "_row"

#: File in a dataset folder naming the columns its whole-table order sorts by (JSON list).
ORDER_FILE = "_order.json"

#: Hash key for :func:`pandas.util.hash_array` (fixed: parts must not move between runs).
_HASH_KEY = "oonplaybook-part"


def n_parts(n_lines: int, partitions: int | None = None, partition_lines: int = 500_000) -> int:
    """How many parts a client of ``n_lines`` lines gets: ``partitions`` when given, else one
    per ``partition_lines`` lines, at least one."""
    if partitions is not None:
        return int(partitions)
    return max(1, math.ceil(n_lines / max(1, partition_lines)))


def part_of(keys: pd.Series | np.ndarray | Sequence[str], n: int) -> np.ndarray:
    """The part (0..n-1, int32) of each claim key: a stable 64-bit hash mod ``n``."""
    if n <= 1:
        return np.zeros(len(keys), dtype=np.int32)
    # each distinct key is converted to text and hashed once, then taken by its code: the same
    # hash as hashing every key's text (``hash_array``), without a Python string per line
    codes, uniques = pd.factorize(pd.Series(keys), use_na_sentinel=False)
    text = pd.Series(uniques, dtype="object").astype(str).to_numpy(dtype=object)
    h = pd.util.hash_array(text, hash_key=_HASH_KEY[:16].ljust(16, "0"), categorize=False)
    return (h[codes] % np.uint64(n)).astype(np.int32)


def is_dataset(path: str | Path) -> bool:
    """True when ``path`` is a partitioned dataset folder (not a single Parquet file)."""
    return Path(path).is_dir()


def column_names(path: str | Path) -> list[str]:
    """The columns of a table (a dataset folder or a single Parquet file), ``part`` excluded."""
    return [c for c in _schema_names(path) if c not in (PART, ROW)]


def parts(path: str | Path) -> list[int]:
    """The part numbers present in the dataset at ``path``, sorted (``[0]`` for a single file)."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: dataset is missing; run the earlier stage first")
    if not p.is_dir():
        return [0]
    found = sorted(
        int(d.name.split("=", 1)[1])
        for d in p.iterdir()
        if d.is_dir() and d.name.startswith(f"{PART}=") and any(d.glob("*.parquet"))
    )
    return found


def read_part(
    path: str | Path, part: int, columns: Sequence[str] | None = None, *, keep_row: bool = False
) -> pd.DataFrame:
    """One part of the dataset at ``path`` as a frame, without the ``part`` column (a single
    Parquet file is its own part 0)."""
    return _to_pandas(_part_table(path, part, columns, keep_row=keep_row))


def _part_table(
    path: str | Path, part: int, columns: Sequence[str] | None = None, *, keep_row: bool = False
) -> pa.Table:
    """:func:`read_part` as an Arrow table."""
    p = Path(path)
    cols = [c for c in columns if c != PART] if columns is not None else None
    if not p.is_dir():
        if part != 0:
            raise KeyError(f"{p} is a single file: it has part 0 only, not {part}")
        return pq.read_table(p, columns=cols)
    files = sorted((p / f"{PART}={part}").glob("*.parquet"))
    if not files:
        raise KeyError(f"{p}: no part {part} (parts: {parts(p)})")
    tabs = [pq.read_table(f, columns=cols) for f in files]
    tab = tabs[0] if len(tabs) == 1 else pa.concat_tables(tabs, promote_options="default")
    hidden = (PART,) if keep_row else (PART, ROW)
    drop = [c for c in hidden if c in tab.column_names and (cols is None or c not in cols)]
    return tab.drop_columns(drop) if drop else tab


def _to_pandas(tab: pa.Table) -> pd.DataFrame:
    """The table as pandas, freeing each Arrow column as it is converted (``self_destruct``):
    the read's peak is about one copy of the table, not two."""
    return tab.to_pandas(self_destruct=True, split_blocks=True)


def iter_parts(
    path: str | Path, columns: Sequence[str] | None = None
) -> Iterator[tuple[int, pd.DataFrame]]:
    """``(part, frame)`` for every part of the dataset at ``path``, in part order."""
    for k in parts(path):
        yield k, read_part(path, k, columns)


def order_of(path: str | Path) -> list[str]:
    """The columns the dataset's whole-table row order sorts by (``[]``: part order)."""
    f = Path(path) / ORDER_FILE
    return json.loads(f.read_text()) if f.is_file() else []


def set_order(path: str | Path, columns: Sequence[str]) -> None:
    """Record that the dataset at ``path`` reads whole sorted (stably) by ``columns``: a stage
    whose parts are written by different workers states the order its single table had."""
    (Path(path) / ORDER_FILE).write_text(json.dumps(list(columns)) + "\n")


def read_all(path: str | Path, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The whole table (every part, without ``part``): for small tables and narrow column
    projections only; a stage that can work per part should.

    A multi-part dataset comes back in the row order of the table it was split from (its
    :data:`ROW` positions, or the columns :func:`set_order` recorded), so a client split into
    parts reads exactly like the same client in one part."""
    ks = parts(path)
    order = order_of(path) if Path(path).is_dir() else []
    if len(ks) > 1 and not order and ROW in _schema_names(path):
        order = [ROW]
    want = None if columns is None else list(dict.fromkeys([*columns, *order]))
    if not ks:
        return pd.DataFrame(columns=list(columns or []))
    # the parts are joined and put in order in Arrow, then converted once: one copy of the
    # table at the peak instead of three (frames, their concat, its sort)
    tabs = [_part_table(path, k, want, keep_row=ROW in order) for k in ks]
    tab = tabs[0] if len(tabs) == 1 else pa.concat_tables(tabs, promote_options="default")
    del tabs
    keep = set(columns) if columns is not None else set(tab.column_names) - {ROW}
    names = [c for c in tab.column_names if c in keep]
    if order and len(ks) > 1:  # Arrow's sort is stable, nulls last (as pandas' NaN)
        # one column at a time, each source column released once taken: the sort needs one
        # extra column, not a second table
        idx = pc.sort_indices(tab.select(order), sort_keys=[(c, "ascending") for c in order])
        schema = pa.schema([tab.schema.field(c) for c in names], metadata=tab.schema.metadata)
        arrays = []
        for c in names:
            arrays.append(tab.column(c).take(idx))
            tab = tab.drop_columns([c])
        tab = pa.Table.from_arrays(arrays, schema=schema)
        del arrays  # the table alone holds the columns, so converting can free each one
    else:
        tab = tab.select(names)  # the unselected columns are released here
    return _to_pandas(tab)


def read_present(path: str | Path, columns: Sequence[str]) -> pd.DataFrame:
    """:func:`read_all` of those of ``columns`` the table has (in the order asked, once each):
    readers that need a few of a wide table's columns, some of which older runs lack."""
    have = set(column_names(path))
    return read_all(path, columns=[c for c in dict.fromkeys(columns) if c in have])


def _schema_names(path: str | Path) -> list[str]:
    """Every column of the table's Parquet schema, hidden ones included."""
    p = Path(path)
    files = sorted(p.glob(f"{PART}=*/*.parquet")) if p.is_dir() else [p]
    return pq.read_schema(files[0]).names if files else []


def write_part(frame: pd.DataFrame | pa.Table, path: str | Path, part: int) -> Path:
    """Write one part (replacing that part only) of the dataset at ``path``; returns the file.

    Parts can be written by different processes at once (each owns its folder), which is what
    a cluster run does."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        p.unlink()  # an earlier single-file artifact of the same name in a re-run folder
    d = p / f"{PART}={part}"
    for f in d.glob("*.parquet") if d.exists() else ():
        f.unlink()
    d.mkdir(parents=True, exist_ok=True)
    tab = (
        frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
    )
    if PART in tab.column_names:
        tab = tab.drop_columns([PART])
    out = d / "part-0.parquet"
    tmp = d / ".part-0.parquet.tmp"
    pq.write_table(tab, tmp)
    tmp.replace(out)
    return out


def reset(path: str | Path) -> Path:
    """Empty the dataset at ``path`` before a stage writes it afresh (a re-run folder may hold
    more parts than this run writes). Removes only Parquet files and the empty part folders."""
    p = Path(path)
    if p.is_file():
        p.unlink()
    elif p.is_dir():
        (p / ORDER_FILE).unlink(missing_ok=True)
        for d in p.glob(f"{PART}=*"):
            for f in d.iterdir():
                if f.suffix in (".parquet", ".tmp"):
                    f.unlink()
            if not any(d.iterdir()):
                d.rmdir()
    p.mkdir(parents=True, exist_ok=True)
    return p


def write_parts(frame: pd.DataFrame, path: str | Path, part_col: str | np.ndarray) -> list[int]:
    """Split ``frame`` by its part (a column name or an array aligned with the rows) and write
    every part; rows keep their order within a part, and with more than one part each row's
    position is stored (:data:`ROW`) so :func:`read_all` restores the order. Returns the parts
    written."""
    key = frame[part_col].to_numpy() if isinstance(part_col, str) else np.asarray(part_col)
    body = frame.drop(columns=[part_col]) if isinstance(part_col, str) else frame
    if len(np.unique(key)) > 1:
        body = body.assign(**{ROW: np.arange(len(body), dtype="int64")})
    written = []
    for k in np.unique(key):
        write_part(body[key == k], path, int(k))
        written.append(int(k))
    return written


def claim_chunks(
    frames: Sequence[pd.DataFrame | None], *, chunk_lines: int, key: str = "claim_id"
) -> Iterator[list[pd.DataFrame | None]]:
    """The claim-keyed ``frames`` cut into chunks of whole claims, about ``chunk_lines`` rows of
    ``frames[0]`` each (chunk = :func:`part_of` the claim key), so per-claim work holds one
    chunk's temporaries at a time instead of the whole client's.

    Every frame is cut by the same hash, so a claim's rows are in the same chunk in every frame;
    a frame without ``key`` (or ``None``) is passed whole to every chunk. One chunk (the frames
    themselves, uncopied) when ``frames[0]`` has at most ``chunk_lines`` rows.
    """
    n = max(1, math.ceil(len(frames[0]) / max(1, chunk_lines))) if frames[0] is not None else 1
    if n == 1:
        yield list(frames)
        return
    codes = [part_of(f[key], n) if f is not None and key in f.columns else None for f in frames]
    for i in range(n):
        yield [
            f if c is None else f.iloc[np.flatnonzero(c == i)].reset_index(drop=True)
            for f, c in zip(frames, codes, strict=True)
        ]


__all__ = [
    "claim_chunks",
    "ORDER_FILE",
    "PART",
    "ROW",
    "column_names",
    "is_dataset",
    "iter_parts",
    "n_parts",
    "order_of",
    "part_of",
    "parts",
    "read_all",
    "read_part",
    "read_present",
    "reset",
    "set_order",
    "write_part",
    "write_parts",
]
