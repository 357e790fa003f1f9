"""835s read on several processes (ingest.remit_pool) give the tables one process gives."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from oonplaybook.ingest import ingest_paths, remit_pool
from oonplaybook.ingest.errors import NotX12Error


def _same(a, b) -> None:  # noqa: ANN001 - two IngestResults
    pd.testing.assert_frame_equal(a.claim_lines, b.claim_lines)
    pd.testing.assert_frame_equal(a.adjustments, b.adjustments)
    pd.testing.assert_frame_equal(a.provider_adjustments, b.provider_adjustments)
    pd.testing.assert_frame_equal(a.rejects, b.rejects)
    assert json.dumps(a.report, sort_keys=True, default=str) == json.dumps(
        b.report, sort_keys=True, default=str
    )


@pytest.fixture(scope="module")
def client(demo_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo client plus one 835 delivered twice (under another name)."""
    d = tmp_path_factory.mktemp("pool") / "client"
    shutil.copytree(demo_data / "remits", d / "remits")
    shutil.copy(demo_data / "claims_export.csv", d / "claims_export.csv")
    first = sorted((d / "remits").glob("*.835"))[3]
    shutil.copy(first, d / "remits" / f"zz_copy_of_{first.name}")
    return d


def test_batches_are_contiguous_balanced_and_complete() -> None:
    sizes = [5, 1, 1, 1, 1, 1, 10, 2, 2, 2]
    for n in (1, 2, 3, 4, 10, 20):
        runs = remit_pool.batches(sizes, n)
        assert [i for r in runs for i in r] == list(range(len(sizes)))
        assert all(len(r) > 0 for r in runs) and len(runs) <= min(n, len(sizes))
    two = remit_pool.batches([1] * 100, 2)
    assert [len(r) for r in two] == [50, 50]
    assert remit_pool.batches([], 2) == []


def test_auto_workers_start_from_the_size_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(remit_pool.child_calls, "cores", lambda: 6)
    assert remit_pool.auto_workers(remit_pool.PARALLEL_MIN_BYTES - 1) == 1
    assert (
        remit_pool.auto_workers(remit_pool.PARALLEL_MIN_BYTES)
        == remit_pool.child_calls.MAX_PROCESSES
    )
    assert remit_pool.auto_workers(10, workers=3) == 3


def test_two_processes_give_the_one_process_tables(client: Path) -> None:
    inputs = [client / "claims_export.csv", client / "remits"]
    one = ingest_paths(inputs, salt="pool-salt", workers=1)
    two = ingest_paths(inputs, salt="pool-salt", workers=2)
    three = ingest_paths(inputs, salt="pool-salt", workers=3)
    _same(one, two)
    _same(one, three)
    # the copy was recognised in both (a pool that read it would double its claims)
    assert [d["file"] for d in two.report["duplicate_deliveries"]][0].startswith("zz_copy_of_")
    assert one.report["accepted_lines"] > 20_000 - 100


def test_a_failed_batch_falls_back_to_the_serial_error(client: Path, tmp_path: Path) -> None:
    """A damaged file in a batch: the one-process reader reads and raises, naming the file."""
    d = tmp_path / "remits"
    shutil.copytree(client / "remits", d)
    (d / "m_truncated.835").write_bytes(b"ISA*00*          *00*    ")
    with pytest.raises(NotX12Error) as serial:
        ingest_paths([d], salt="s", workers=1)
    with pytest.raises(NotX12Error) as pooled:
        ingest_paths([d], salt="s", workers=2)
    assert str(pooled.value) == str(serial.value) and "m_truncated.835" in str(pooled.value)


def test_read_pooled_reports_a_failed_child_as_none(client: Path, tmp_path: Path) -> None:
    files = sorted((client / "remits").glob("*.835"))[:4]
    bad = tmp_path / "bad.835"
    bad.write_bytes(b"not an X12 file at all")
    ok = remit_pool.read_pooled([(f, f.name) for f in files], "s", 2)
    assert ok is not None and ok.workers == 2 and ok.names == [f.name for f in files]
    assert remit_pool.read_pooled([(f, f.name) for f in files] + [(bad, "bad.835")], "s", 2) is None
