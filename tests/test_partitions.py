"""Parts of whole claims (partitions.py) and running them in-process or on Dask (cluster.py)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oonplaybook import cluster, partitions
from oonplaybook.config import ScaleSettings


def _lines(n_claims: int = 200, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    per = rng.integers(1, 5, n_claims)
    claim = np.repeat([f"C{i:05d}" for i in range(n_claims)], per)
    return pd.DataFrame(
        {
            "claim_id": claim,
            "line_no": np.concatenate([np.arange(1, k + 1) for k in per]),
            "billed": rng.gamma(2.0, 100.0, len(claim)).round(2),
            "payer": rng.choice(["Aetna", "Cigna", "UHC"], len(claim)),
        }
    )


def test_part_of_is_stable_and_in_range() -> None:
    keys = pd.Series([f"C{i}" for i in range(5000)])
    a = partitions.part_of(keys, 7)
    assert a.dtype == np.int32 and a.min() >= 0 and a.max() <= 6
    # the same keys in another order and another process-independent call give the same parts
    b = partitions.part_of(keys[::-1].reset_index(drop=True), 7)[::-1]
    assert (a == b).all()
    # known values: parts must not move between releases (a re-run would split claims otherwise)
    assert partitions.part_of(["C0", "C1", "C2", "claim-42"], 7).tolist() == [3, 3, 1, 4]
    # roughly balanced: no part holds more than twice its share
    counts = np.bincount(a, minlength=7)
    assert counts.max() < 2 * len(keys) / 7
    assert (partitions.part_of(keys, 1) == 0).all()


def test_n_parts() -> None:
    assert partitions.n_parts(20_000) == 1
    assert partitions.n_parts(1_000_001, partition_lines=500_000) == 3
    assert partitions.n_parts(10, partitions=4) == 4
    assert partitions.n_parts(0) == 1


def test_parts_hold_whole_claims_and_read_back(tmp_path: Path) -> None:
    lines = _lines()
    path = partitions.reset(tmp_path / "claim_lines.parquet")
    written = partitions.write_parts(lines, path, partitions.part_of(lines["claim_id"], 4))
    assert written == partitions.parts(path) == [0, 1, 2, 3]
    seen: dict[str, int] = {}
    for k, frame in partitions.iter_parts(path):
        assert "part" not in frame.columns
        for c in frame["claim_id"].unique():
            assert c not in seen, f"claim {c} is in parts {seen[c]} and {k}"
            seen[c] = k
    assert len(seen) == lines["claim_id"].nunique()
    back = partitions.read_all(path).sort_values(["claim_id", "line_no"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(
        back, lines.sort_values(["claim_id", "line_no"]).reset_index(drop=True)
    )
    assert partitions.column_names(path) == list(lines.columns)
    narrow = partitions.read_all(path, ["billed"])
    assert list(narrow.columns) == ["billed"] and len(narrow) == len(lines)
    # the folder still reads as one table for old readers (with the partition column added)
    assert len(pd.read_parquet(path)) == len(lines)


def test_reset_drops_stale_parts_and_a_single_file(tmp_path: Path) -> None:
    lines = _lines()
    path = tmp_path / "t.parquet"
    lines.to_parquet(path)  # an earlier single-file artifact in a re-run folder
    assert partitions.parts(path) == [0]
    assert len(partitions.read_part(path, 0)) == len(lines)
    partitions.reset(path)
    partitions.write_parts(lines, path, partitions.part_of(lines["claim_id"], 5))
    partitions.reset(path)
    partitions.write_parts(lines, path, partitions.part_of(lines["claim_id"], 2))
    assert partitions.parts(path) == [0, 1]  # parts 2-4 of the earlier write are gone
    assert len(partitions.read_all(path)) == len(lines)


def test_missing_part_and_dataset_are_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="run the earlier stage"):
        partitions.parts(tmp_path / "nope.parquet")
    lines = _lines()
    path = partitions.reset(tmp_path / "x.parquet")
    partitions.write_part(lines, path, 0)
    with pytest.raises(KeyError, match="no part 9"):
        partitions.read_part(path, 9)


def _part_total(path: str, k: int) -> tuple[int, float]:
    f = partitions.read_part(path, k, ["billed"])
    return k, round(float(f["billed"].sum()), 2)


def _boom(k: int) -> int:
    if k == 1:
        raise ValueError("bad part")
    return k


def test_map_parts_in_process_keeps_order(tmp_path: Path) -> None:
    lines = _lines()
    path = partitions.reset(tmp_path / "c.parquet")
    partitions.write_parts(lines, path, partitions.part_of(lines["claim_id"], 3))
    out = cluster.map_parts(_part_total, [(str(path), k) for k in (2, 0, 1)])
    assert [k for k, _ in out] == [2, 0, 1]
    assert sum(t for _, t in out) == pytest.approx(lines["billed"].sum())


def test_map_parts_on_a_local_dask_cluster_matches_in_process(tmp_path: Path) -> None:
    lines = _lines(400)
    path = partitions.reset(tmp_path / "c.parquet")
    partitions.write_parts(lines, path, partitions.part_of(lines["claim_id"], 4))
    args = [(str(path), k) for k in partitions.parts(path)]
    local = cluster.map_parts(_part_total, args)
    before = dict(os.environ)
    on_dask = cluster.map_parts(_part_total, args, scheduler="local:2")
    assert on_dask == local
    # distributed writes OMP_NUM_THREADS/PYTHONHASHSEED into the parent when it spawns workers;
    # left there, every later stage kernel would fit the payer models with another BLAS
    assert dict(os.environ) == before
    with pytest.raises(cluster.ClusterError, match="part 1 failed on the cluster"):
        cluster.map_parts(_boom, [(0,), (1,)], scheduler="local:2")


def test_scheduler_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cluster.SCHEDULER_ENV, "tcp://10.0.0.1:8786")
    assert cluster.resolve_scheduler(None) == "tcp://10.0.0.1:8786"
    assert cluster.resolve_scheduler("local:2") == "local:2"
    monkeypatch.delenv(cluster.SCHEDULER_ENV)
    assert cluster.resolve_scheduler(None) is None


def test_unreachable_scheduler_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", "2s")
    with pytest.raises(cluster.ClusterError, match="dask scheduler"):
        cluster.map_parts(_boom, [(0,)], scheduler="tcp://127.0.0.1:9")


@pytest.mark.parametrize(
    ("value", "message"),
    [("local:0", "local:N"), ("local:x", "local:N"), ("myhost", "tcp://HOST:PORT")],
)
def test_scale_settings_reject_bad_schedulers(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ScaleSettings(scheduler=value)
    assert ScaleSettings(scheduler="tcp://h:8786").scheduler == "tcp://h:8786"
    assert ScaleSettings().payer_models == "auto"


def test_run_refuses_a_bad_scheduler_before_any_work(tmp_path: Path) -> None:
    from oonplaybook.config import ParamsError
    from oonplaybook.run import run_client
    from tests.conftest import DEMO_PARAMS

    with pytest.raises(ParamsError, match="--scheduler 'badhost'.*tcp://HOST:PORT"):
        run_client(DEMO_PARAMS, scheduler="badhost", prepare_only=True, out=tmp_path / "r")
    assert not (tmp_path / "r").exists()


def test_multi_part_dataset_reads_whole_in_the_original_order(tmp_path: Path) -> None:
    lines = _lines(300).sample(frac=1.0, random_state=1).reset_index(drop=True)  # not sorted
    path = partitions.reset(tmp_path / "c.parquet")
    partitions.write_parts(lines, path, partitions.part_of(lines["claim_id"], 5))
    assert len(partitions.parts(path)) == 5
    pd.testing.assert_frame_equal(partitions.read_all(path), lines)
    pd.testing.assert_frame_equal(partitions.read_all(path, ["billed"]), lines[["billed"]])
    assert partitions.ROW not in partitions.column_names(path)
    assert partitions.ROW not in partitions.read_part(path, 0).columns
    # a dataset whose parts were written separately reads in the order it records
    b = partitions.reset(tmp_path / "b.parquet")
    for k, part in lines.groupby(partitions.part_of(lines["claim_id"], 3)):
        partitions.write_part(part.sort_values(["claim_id", "line_no"]), b, int(k))
    partitions.set_order(b, ["claim_id", "line_no"])
    want = lines.sort_values(["claim_id", "line_no"], kind="stable", ignore_index=True)
    pd.testing.assert_frame_equal(partitions.read_all(b), want)
    partitions.reset(b)
    assert partitions.order_of(b) == []


def _bench_lines() -> pd.DataFrame:
    """Charges whose code groups straddle the UCR minimum count (20) once split in parts."""
    rng = np.random.default_rng(11)
    n = 900
    cpt = rng.choice(["99285", "99284", "99283", "27447", "72148"], n, p=[0.3, 0.3, 0.2, 0.1, 0.1])
    return pd.DataFrame(
        {
            "claim_id": [f"C{i // 2:05d}" for i in range(n)],
            "line_no": [i % 2 + 1 for i in range(n)],
            "payer": rng.choice(["Acme Health", "Keystone Mutual", "Blue Plan"], n),
            "specialty": "emergency_medicine",
            "cpt": cpt,
            "modifiers": rng.choice(["", "25", "26"], n, p=[0.8, 0.1, 0.1]),
            "units": 1.0,
            "unit_type": "UN",
            "pos": "23",
            "state": rng.choice(["NY", "NJ"], n),
            "locality": rng.choice(["13202-01", "13202-02", "12402-01"], n),
            "billed": np.round(rng.lognormal(7.0, 0.5, n), 2),
            "allowed": 300.0,
            "paid": 300.0,
            "qpa": np.nan,
            "claim_status": "paid",
            "provider_npi": "1234567893",
            "service_date": pd.Timestamp("2026-01-05")
            + pd.to_timedelta(rng.integers(0, 300, n), "D"),
        }
    )


@pytest.mark.filterwarnings("ignore:PFS 2026")  # 2026 services priced on the bundled RVUs
@pytest.mark.parametrize("scheduler", [None, "local:2"])
def test_benchmark_parts_equal_the_one_table_ladder(tmp_path: Path, scheduler: str | None) -> None:
    from oonplaybook import benchmark

    lines = _bench_lines()
    opts = {"year": 2026, "default_locality": "13202-01", "ucr_min_count": 20}
    whole = benchmark.build_benchmarks(lines, **opts)
    path = partitions.reset(tmp_path / "claim_lines.parquet")
    partitions.write_parts(lines, path, partitions.part_of(lines["claim_id"], 4))
    out = tmp_path / "benchmarks.parquet"
    n = benchmark.build_benchmark_parts(path, out, scheduler=scheduler, **opts)
    assert n == len(lines) and partitions.parts(out) == [0, 1, 2, 3]
    got = partitions.read_all(out)
    pd.testing.assert_frame_equal(got, whole, check_dtype=False)
    # the test has teeth: percentiles taken per part (what a naive split does) are not these
    naive = pd.concat(
        [benchmark.build_benchmarks(p, **opts) for _, p in partitions.iter_parts(path)]
    ).sort_values(["claim_id", "line_no"], ignore_index=True)
    assert not np.allclose(naive["ucr_p80"], whole["ucr_p80"], equal_nan=True)


def test_part_of_equals_hashing_every_key_text() -> None:
    """Hashing each distinct key once gives every key's own hash: parts never move."""

    def every_key(keys: object, n: int) -> np.ndarray:
        arr = pd.Series(keys, dtype="object").astype(str).to_numpy(dtype=object)
        h = pd.util.hash_array(arr, hash_key="oonplaybook-part", categorize=False)
        return (h % np.uint64(n)).astype(np.int32)

    rng = np.random.default_rng(3)
    ids = pd.Series([f"C{i}" for i in rng.integers(0, 5_000, 20_000)], dtype="str")
    cases = [
        ids,
        ids.astype("object"),
        ids.to_numpy(dtype=object),
        pd.Series(["C1", None, "C2", "C1", None], dtype="str"),
        pd.Series([1, 2, 2, 10, 3]),
        ["1", 1, "x", "x"],
        pd.Series([], dtype="str"),
    ]
    for keys in cases:
        for n in (2, 7, 64):
            assert np.array_equal(partitions.part_of(keys, n), every_key(keys, n)), (keys, n)
