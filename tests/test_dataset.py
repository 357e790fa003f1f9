"""The partitioned-dataset API: round trip, types, filters, per-partition iteration, errors."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pytest

from oonplaybook import dataset


def _lines(n: int = 600, seed: int = 3) -> pd.DataFrame:
    """A small claim-line-like table (no PHI) with string, int, float, date and bool columns."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "claim_id": [f"C{i // 2:05d}" for i in range(n)],
            "line_no": np.tile([1, 2], n // 2).astype("int64"),
            "payer": rng.choice(["Aetna", "Cigna", "UHC"], n),
            "service_month": rng.choice(["2026-01", "2026-02", "0101"], n),
            "year": rng.choice([2025, 2026], n).astype("int64"),
            "billed": rng.gamma(2.0, 300.0, n).round(2),
            "service_date": pd.to_datetime("2026-01-01")
            + pd.to_timedelta(rng.integers(0, 60, n), "D"),
            "emergency": rng.random(n) < 0.3,
        }
    )


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    """Rows in a canonical order (a dataset read returns partitions in folder order)."""
    return df.sort_values(["claim_id", "line_no"]).reset_index(drop=True)


def test_round_trip_keeps_rows_and_types(tmp_path: Path) -> None:
    df = _lines()
    root = dataset.write(df, tmp_path / "lines", ["payer", "service_month"])
    assert (root / "payer=Aetna").is_dir()
    assert dataset.partition_columns(root) == ["payer", "service_month"]
    back = dataset.read(root)
    assert list(back.columns) == list(df.columns)
    pd.testing.assert_frame_equal(_sorted(back), _sorted(df), check_dtype=True)
    # a digit-only partition value stays the string it was ("0101", not 101)
    assert "0101" in set(back["service_month"])


def test_int_partition_type_survives(tmp_path: Path) -> None:
    df = _lines()
    dataset.write(df, tmp_path / "d", ["year"])
    back = dataset.read(tmp_path / "d", columns=["year", "billed"])
    assert back["year"].dtype == np.dtype("int64")
    assert list(back.columns) == ["year", "billed"]


def test_filters_mapping_and_expression(tmp_path: Path) -> None:
    df = _lines()
    root = dataset.write(df, tmp_path / "d", ["payer", "service_month"])
    got = dataset.read(root, filter={"payer": "Cigna", "service_month": ["2026-01", "0101"]})
    want = df[(df.payer == "Cigna") & df.service_month.isin(["2026-01", "0101"])]
    pd.testing.assert_frame_equal(_sorted(got), _sorted(want))
    big = dataset.read(root, filter=pc.field("billed") > 900)
    assert len(big) == int((df.billed > 900).sum()) > 0


def test_iter_partitions_covers_every_row_once_in_sorted_order(tmp_path: Path) -> None:
    df = _lines()
    root = dataset.write(df, tmp_path / "d", ["payer", "service_month"])
    keys, parts = [], []
    for key, part in dataset.iter_partitions(root, by=["payer"]):
        assert set(part["payer"]) == {key["payer"]}
        keys.append(key["payer"])
        parts.append(part)
    assert keys == ["Aetna", "Cigna", "UHC"]
    pd.testing.assert_frame_equal(_sorted(pd.concat(parts)), _sorted(df))


def test_null_partition_values_round_trip(tmp_path: Path) -> None:
    df = _lines(40)
    df.loc[:4, "payer"] = None
    root = dataset.write(df, tmp_path / "d", ["payer"])
    keys = [k["payer"] for k, _ in dataset.iter_partitions(root, ["payer"])]
    assert keys[-1] is None and len(keys) == df["payer"].nunique(dropna=False)
    assert dataset.read(root, filter={"payer": None}).shape[0] == 5


def test_rewrite_replaces_only_the_written_partitions(tmp_path: Path) -> None:
    df = _lines()
    root = dataset.write(df, tmp_path / "d", ["payer"])
    new = df[df.payer == "UHC"].head(3)
    dataset.write(new, root, ["payer"])
    back = dataset.read(root)
    assert (back.payer == "UHC").sum() == 3
    assert (back.payer == "Aetna").sum() == (df.payer == "Aetna").sum()


def test_duckdb_reads_the_same_layout(tmp_path: Path) -> None:
    df = _lines()
    root = dataset.write(df, tmp_path / "d", ["payer", "service_month"])
    q = (
        f"select payer, count(*) n from read_parquet('{root}/**/*.parquet', "
        "hive_partitioning=true) group by payer order by payer"
    )
    got = duckdb.sql(q).df()
    want = df.groupby("payer").size()
    assert got["n"].tolist() == want.tolist()


def test_errors_name_the_folder_and_the_fix(tmp_path: Path) -> None:
    df = _lines()
    with pytest.raises(dataset.DatasetError, match="partition column.*'nope'.*pass partition_cols"):
        dataset.write(df, tmp_path / "d", ["nope"])
    root = dataset.write(df, tmp_path / "d", ["payer"])
    with pytest.raises(dataset.DatasetError, match="schema differs"):
        dataset.write(df.drop(columns=["billed"]), root, ["payer"])
    with pytest.raises(dataset.DatasetError, match="must be partition columns"):
        next(dataset.iter_partitions(root, ["service_month"]))
    with pytest.raises(dataset.DatasetError, match="not in"):
        dataset.read(root, columns=["ssn"])
    with pytest.raises(dataset.DatasetError, match="no such folder"):
        dataset.read(tmp_path / "missing")
    (tmp_path / "bare").mkdir()
    with pytest.raises(dataset.DatasetError, match="_common_metadata"):
        dataset.read(tmp_path / "bare")
    with pytest.raises(dataset.DatasetError, match="overwrite=False"):
        dataset.write(df, root, ["payer"], overwrite=False)
