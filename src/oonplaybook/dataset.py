"""Partitioned Parquet datasets for stage data: ``write``, ``read``, ``iter_partitions``.

One layout for every stage table: a folder of Parquet files under hive-style partition folders
(``root/payer=Aetna/service_month=2026-03/part-0.parquet``), written and read with
``pyarrow.dataset``, so DuckDB (``read_parquet('root/**/*.parquet', hive_partitioning=true)``),
Spark and Dask read the same files. A stage that works per partition (``iter_partitions``)
holds one partition in memory, not the whole client.

The table's full Arrow schema (partition columns' own types included) is kept in
``root/_common_metadata``, so ``read`` gives back the types that were written (an ``int64``
partition stays ``int64``, a string of digits stays a string) instead of re-inferring them from
folder names. Writes are deterministic: rows keep their input order within a partition and file
names are ``part-{i}.parquet``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

#: File holding the dataset's full schema (the Parquet/Spark/Dask convention).
SCHEMA_FILE = "_common_metadata"

#: A filter: a pyarrow expression, or ``{column: value}`` / ``{column: [values]}`` (AND-ed).
Filter = ds.Expression | Mapping[str, Any] | None


class DatasetError(ValueError):
    """A dataset cannot be written or read as asked; the message names the folder and the fix."""


def _as_table(table: pa.Table | pd.DataFrame) -> pa.Table:
    """An Arrow table of ``table`` (a pandas frame loses its index: stage tables carry none)."""
    if isinstance(table, pa.Table):
        return table
    if isinstance(table, pd.DataFrame):
        return pa.Table.from_pandas(table, preserve_index=False)
    raise DatasetError(f"write: expected a pyarrow Table or pandas DataFrame, got {type(table)}")


def write(
    table: pa.Table | pd.DataFrame,
    root: str | Path,
    partition_cols: Sequence[str],
    *,
    overwrite: bool = True,
    max_rows_per_file: int = 0,
) -> Path:
    """Write ``table`` as a hive-partitioned Parquet dataset under ``root``; return ``root``.

    ``overwrite`` (default) replaces the partitions this table writes and leaves others (so a
    batch-by-batch writer can fill a dataset partition by partition); ``overwrite=False`` refuses
    a folder that already holds data files."""
    root = Path(root)
    tab = _as_table(table)
    cols = list(partition_cols)
    missing = [c for c in cols if c not in tab.column_names]
    if missing:
        raise DatasetError(
            f"write {root}: partition column(s) {missing} not in the table (columns: "
            f"{tab.column_names}); pass partition_cols that exist"
        )
    if len(cols) == len(tab.column_names):
        raise DatasetError(
            f"write {root}: every column is a partition column; keep one data column"
        )
    existing = _schema_of(root) if (root / SCHEMA_FILE).exists() else None
    if existing is not None and not existing.equals(tab.schema, check_metadata=False):
        raise DatasetError(
            f"write {root}: the table's schema differs from the dataset's ({root / SCHEMA_FILE}); "
            "write to a new folder or cast the table to the dataset's schema"
        )
    if root.exists() and not overwrite and any(root.rglob("*.parquet")):
        raise DatasetError(f"write {root}: folder already holds Parquet files (overwrite=False)")
    part = ds.partitioning(tab.select(cols).schema, flavor="hive") if cols else None
    root.mkdir(parents=True, exist_ok=True)
    ds.write_dataset(
        tab,
        root,
        format="parquet",
        partitioning=part,
        basename_template="part-{i}.parquet",
        existing_data_behavior="delete_matching" if overwrite else "error",
        max_rows_per_file=max_rows_per_file,
        max_rows_per_group=min(max_rows_per_file or 1 << 20, 1 << 20),
        preserve_order=True,
    )
    meta = tab.schema.with_metadata(
        {**(tab.schema.metadata or {}), b"oonplaybook.partition_cols": ",".join(cols).encode()}
    )
    pq.write_metadata(meta, root / SCHEMA_FILE)
    return root


def _schema_of(root: Path) -> pa.Schema:
    """The schema written with the dataset (``_common_metadata``)."""
    try:
        return pq.read_schema(root / SCHEMA_FILE)
    except (OSError, pa.ArrowInvalid) as exc:
        raise DatasetError(
            f"read {root}: {SCHEMA_FILE} is missing or unreadable ({exc}); the folder was not "
            "written by oonplaybook.dataset.write, or was copied without it: rewrite the dataset"
        ) from exc


def partition_columns(root: str | Path) -> list[str]:
    """The partition columns the dataset under ``root`` was written with (outermost first)."""
    meta = _schema_of(Path(root)).metadata or {}
    raw = meta.get(b"oonplaybook.partition_cols", b"").decode()
    return [c for c in raw.split(",") if c]


def _dataset(root: Path) -> ds.Dataset:
    """The pyarrow dataset under ``root`` with the written schema and hive partitioning."""
    if not root.is_dir():
        raise DatasetError(f"read {root}: no such folder; write the dataset first")
    schema = _schema_of(root)
    cols = partition_columns(root)
    part = ds.partitioning(pa.schema([schema.field(c) for c in cols]), flavor="hive")
    return ds.dataset(
        root,
        schema=schema,
        format="parquet",
        partitioning=part,
        exclude_invalid_files=False,
        ignore_prefixes=[".", "_"],
    )


def _expression(filt: Filter, schema: pa.Schema, root: Path) -> ds.Expression | None:
    """A pyarrow expression from a filter (a mapping becomes AND-ed equality / membership)."""
    if filt is None or isinstance(filt, ds.Expression):
        return filt
    expr = None
    for col, val in filt.items():
        if col not in schema.names:
            raise DatasetError(f"read {root}: filter column {col!r} not in {schema.names}")
        if isinstance(val, list | tuple | set | frozenset):
            vals = sorted(val) if isinstance(val, set | frozenset) else list(val)
            term = pc.field(col).isin(pa.array(vals, type=schema.field(col).type))
        elif val is None:
            term = pc.field(col).is_null()
        else:
            term = pc.field(col) == pa.scalar(val, type=schema.field(col).type)
        expr = term if expr is None else expr & term
    return expr


def read(
    root: str | Path, columns: Sequence[str] | None = None, filter: Filter = None
) -> pd.DataFrame:
    """Rows of the dataset under ``root`` (optionally only ``columns`` and rows matching
    ``filter``) as a pandas frame, partition columns with their written types; partitions that
    the filter excludes are not opened."""
    root = Path(root)
    dset = _dataset(root)
    if columns is not None:
        unknown = [c for c in columns if c not in dset.schema.names]
        if unknown:
            raise DatasetError(f"read {root}: column(s) {unknown} not in {dset.schema.names}")
    tab = dset.to_table(
        columns=list(columns) if columns is not None else None,
        filter=_expression(filter, dset.schema, root),
    )
    return tab.to_pandas()


def iter_partitions(
    root: str | Path, by: Sequence[str], columns: Sequence[str] | None = None
) -> Iterator[tuple[dict[str, Any], pd.DataFrame]]:
    """Each distinct value of the partition columns ``by`` (sorted) with its rows: one partition
    in memory at a time, for stages that work per payer or per month."""
    root = Path(root)
    by = list(by)
    cols = partition_columns(root)
    if not by or any(b not in cols for b in by):
        raise DatasetError(
            f"iter_partitions {root}: by={by} must be partition columns of the dataset ({cols}); "
            "rewrite the dataset partitioned by them or iterate by a subset"
        )
    dset = _dataset(root)
    keys: set[tuple[Any, ...]] = set()
    for frag in dset.get_fragments():
        found = ds.get_partition_keys(frag.partition_expression)
        keys.add(tuple(found.get(b) for b in by))
    for key in sorted(keys, key=lambda k: tuple((v is None, v) for v in k)):
        kd = dict(zip(by, key, strict=True))
        yield kd, read(root, columns=columns, filter=kd)


__all__ = ["DatasetError", "Filter", "iter_partitions", "partition_columns", "read", "write"]
