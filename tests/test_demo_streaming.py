"""The streamed demo generator (demo.write_streaming, ``demo-data --chunk-lines``).

A demo of at most ``chunk_lines`` lines is one chunk and byte-identical to write_demo(generate());
a larger one is written chunk by chunk. The multi-chunk folder here (12,000 lines in chunks of
at most 5,000: three chunks of 4,000) must still be one consistent demo: unique claim ids and
patients across chunks, every line in the export / parquet / 835s / adjustments, truth.json
counts equal to the data, and the ingest layer reading it back exactly.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from oonplaybook import demo, demo_coding, demo_tic

pytest.importorskip("oonplaybook.ingest.x12_writer")

LINES, CHUNK, SEED = 12000, 5000, 3


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _segments(folder: Path) -> list[list[str]]:
    """Every 835 segment (split into elements) of a remits folder, file by file."""
    out = []
    for f in sorted(folder.glob("*.835")):
        out.append([s.strip() for s in f.read_text().split("~") if s.strip()])
    return out


@pytest.fixture(scope="module")
def streamed(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("streamed")
    truth, _ = demo.write_streaming(out, LINES, SEED, chunk_lines=CHUNK, claims_per_file=400)
    return truth, out


@pytest.fixture(scope="module")
def tables(streamed: tuple[dict[str, Any], Path]) -> dict[str, pd.DataFrame]:
    _, out = streamed
    return {
        "cl": pd.read_parquet(out / "portfolio.parquet"),
        "adj": pd.read_parquet(out / "adjustments.parquet"),
        "export": pd.read_csv(out / "claims_export.csv", dtype=str, keep_default_na=False),
        "appeals": pd.read_csv(out / "appeals.csv", dtype=str, keep_default_na=False),
    }


def test_chunk_sizes() -> None:
    assert demo.chunk_sizes(20000) == [20000]
    assert demo.chunk_sizes(demo.CHUNK_LINES) == [demo.CHUNK_LINES]
    assert demo.chunk_sizes(demo.CHUNK_LINES + 1) == [125001, 125000]
    assert demo.chunk_sizes(12000, 5000) == [4000, 4000, 4000]
    assert demo.chunk_sizes(10, 3) == [3, 3, 2, 2]
    assert sum(demo.chunk_sizes(10_000_001)) == 10_000_001
    assert max(demo.chunk_sizes(10_000_001)) <= demo.CHUNK_LINES
    with pytest.raises(ValueError):
        demo.chunk_sizes(0)


def test_cli_chunk_default_matches_demo() -> None:
    from oonplaybook import cli_demo

    assert cli_demo.DEMO_CHUNK_LINES == demo.CHUNK_LINES


def test_one_chunk_is_the_in_memory_demo(tmp_path: Path) -> None:
    """Up to chunk_lines (here exactly chunk_lines) the streamed folder is write_demo's, byte for byte."""
    a, b = tmp_path / "old", tmp_path / "new"
    port = demo.generate(3000, seed=5)
    demo.write_demo(port, a, claims_per_file=400)
    truth, _ = demo.write_streaming(b, 3000, 5, chunk_lines=3000, claims_per_file=400)
    assert _digest(a) == _digest(b)
    assert len(_digest(a)) > 10
    assert truth == json.loads((a / "truth.json").read_text())
    assert "generation" not in truth


def test_generate_never_holds_more_than_a_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes: list[int] = []
    real = demo.generate

    def spy(lines: int, *a: Any, **k: Any) -> demo.DemoPortfolio:
        sizes.append(lines)
        return real(lines, *a, **k)

    monkeypatch.setattr(demo, "generate", spy)
    truth, _ = demo.write_streaming(tmp_path, 2500, 1, chunk_lines=1000, remits=False)
    assert sizes == [834, 833, 833]
    assert truth["lines"] == 2500 and truth["generation"]["lines_per_chunk"] == sizes
    assert not (tmp_path / "remits").exists()


def test_claim_ids_unique_and_continuing(
    streamed: tuple[dict[str, Any], Path], tables: dict[str, pd.DataFrame]
) -> None:
    truth, _ = streamed
    cl = tables["cl"]
    assert len(cl) == LINES
    assert not cl.duplicated(["claim_id", "line_no"]).any()
    ids = pd.unique(cl["claim_id"])
    assert len(ids) == truth["claims"] == sum(truth["generation"]["claims_per_chunk"])
    assert list(ids) == [f"DM{i:08d}" for i in range(1, len(ids) + 1)]
    assert truth["generation"]["chunks"] == 3
    assert truth["generation"]["lines_per_chunk"] == [4000, 4000, 4000]


def test_patients_do_not_repeat_across_chunks(
    streamed: tuple[dict[str, Any], Path], tables: dict[str, pd.DataFrame]
) -> None:
    truth, _ = streamed
    cl, export = tables["cl"], tables["export"]
    bounds = np.cumsum(truth["generation"]["claims_per_chunk"])
    num = cl["claim_id"].str[2:].astype(int).to_numpy()
    chunk = np.searchsorted(bounds, num, side="left")
    insured = cl["plan_type"].ne("self_pay").to_numpy()
    keys = pd.DataFrame({"k": cl["patient_key"], "c": chunk})[insured]
    assert keys.groupby("k")["c"].nunique().max() == 1  # no insured patient in two chunks
    members = export.loc[export["member_id"].ne("") & export["claim_id"].str.startswith("DM")]
    assert members.groupby("member_id")["payer"].nunique().max() == 1
    assert (
        cl["payer_claim_id"][cl["payer_claim_id"].ne("")].groupby(cl["claim_id"]).nunique().max()
        == 1
    )


def test_files_account_for_every_line(
    streamed: tuple[dict[str, Any], Path], tables: dict[str, pd.DataFrame]
) -> None:
    truth, out = streamed
    cl, adj, export = tables["cl"], tables["adj"], tables["export"]
    # export: every line once, then the planted defect rows
    dm = export[export["claim_id"].str.startswith("DM")]
    assert len(dm) == LINES
    assert len(export) == LINES + len(truth["defects"]["export_rejects"])
    assert (export["claim_id"].iloc[:LINES] == cl["claim_id"].to_numpy()).all()
    # 835: one SVC per adjudicated line, one CLP per adjudicated claim, no pending line
    damaged = truth["defects"]["remit_file"]
    segs = [s for f, ss in zip(sorted((out / "remits").glob("*.835")), _segments(out / "remits"),
                               strict=True) if f.name != damaged for s in ss]  # fmt: skip
    adjudicated = cl["claim_status"].isin(["paid", "denied"])
    assert sum(s.startswith("SVC*") for s in segs) == int(adjudicated.sum())
    clp = [s.split("*")[1] for s in segs if s.startswith("CLP*")]
    assert len(clp) == len(set(clp)) == cl.loc[adjudicated, "claim_id"].nunique()
    assert int((~adjudicated).sum()) == int(cl["claim_status"].eq("pending").sum())
    # adjustments: billed = paid + patient-side and contractual adjustments on every line remitted
    a = adj.groupby(["claim_id", "line_no"])["amount"].sum()
    done = cl[adjudicated].set_index(["claim_id", "line_no"])
    got = a.reindex(done.index).fillna(0.0)
    np.testing.assert_allclose(
        (done["billed"] - done["paid"]).to_numpy(), got.to_numpy(), atol=0.005
    )
    assert set(a.index) <= set(done.index)
    # 835 control numbers and check (TRN) numbers never repeat across chunks' files
    isa = [ss[0].split("*")[13] for ss in _segments(out / "remits")]
    trn = [s for s in segs if s.startswith("TRN*")]
    assert len(isa) == len(set(isa)) and len(trn) == len(set(trn))
    names = [f.name for f in (out / "remits").glob("*.835")]
    assert {n.split("_")[-2] for n in names if n != damaged} == {"k000", "k001", "k002"}


def test_truth_counts_equal_the_data(
    streamed: tuple[dict[str, Any], Path], tables: dict[str, pd.DataFrame]
) -> None:
    truth, out = streamed
    assert json.loads((out / "truth.json").read_text()) == truth
    cl, ap = tables["cl"], tables["appeals"]
    assert truth["lines"] == LINES and truth["seed"] == SEED
    assert truth["claims_by_status"] == demo_coding.claims_by_status(cl)
    first = cl.drop_duplicates("claim_id")
    assert truth["self_pay"]["claims"] == int(first["plan_type"].eq("self_pay").sum())
    for name, p in truth["payers"].items():
        mine = ap[ap["payer"] == name]
        assert p["appeals"] == len(mine), name
        dec = mine[mine["outcome"] != "pending"]
        rate = round(float((dec["outcome"] == "overturned").mean()), 6) if len(dec) else None
        assert p["appeal_overturn_rate_observed"] == rate, name
        assert p["capped_lines"] >= 0
    for name, d in truth["downcoding"].items():
        m = cl["recoded"] & (cl["payer"] == name)
        assert d["lines"] == int(m.sum()) > 0, name
        assert d["claim_ids"] == sorted(cl.loc[m, "claim_id"])
        assert d["paid"] == pytest.approx(round(float(cl.loc[m, "paid"].sum()), 2), abs=0.011)
    # planted coding cases (chunk 0) are on lines of the data
    for c in truth["coding"]["cases"]:
        row = cl[(cl["claim_id"] == c["claim_id"]) & (cl["line_no"] == c["line_no"])]
        assert len(row) == 1 and row["claim_status"].iloc[0] == "denied"
    # TiC medians: exact over all chunks (the count-based plan equals the whole-table plan)
    planned = demo_tic.plan(cl, SEED)
    assert truth["tic"]["medians"] == planned["medians"]


def test_one_charge_master_and_qpa_across_chunks(
    streamed: tuple[dict[str, Any], Path], tables: dict[str, pd.DataFrame]
) -> None:
    truth, _ = streamed
    cl = tables["cl"]
    # the planted coding cases change modifiers / dates after pricing: not charge-master rows
    cl = cl[~cl["claim_id"].isin({c["claim_id"] for c in truth["coding"]["cases"]})]
    un = cl[(cl["unit_type"] == "UN") & ~cl["recoded"]]
    price = (un["billed"] / un["units"]).round(2)
    assert price.groupby([un["cpt"], un["modifiers"], un["locality"]]).nunique().max() == 1
    q = cl[cl["qpa"].notna() & ~cl["recoded"]]
    ratio = q["qpa"] / q["medicare_allowed"]
    g = ratio.groupby([q["payer"], q["cpt"], q["modifiers"], q["locality"]])
    assert (g.max() / g.min()).max() < 1.01  # one QPA factor per payer x code x locality


def test_plan_from_counts_equals_plan() -> None:
    cl = demo.generate(3000, seed=9).claim_lines
    counts = demo_tic.plan_counts(cl.iloc[:1500]).add(
        demo_tic.plan_counts(cl.iloc[1500:]), fill_value=0
    )
    assert demo_tic.plan_from_counts(counts, 9) == demo_tic.plan(cl, 9)


def test_ingest_reads_the_streamed_folder(
    streamed: tuple[dict[str, Any], Path], tables: dict[str, pd.DataFrame]
) -> None:
    from oonplaybook.ingest import core

    truth, out = streamed
    res = core.ingest_paths([out / "claims_export.csv", out / "remits"], salt=demo.DEMO_SALT)
    d = truth["defects"]
    planted = d["export_rejects"] + d["remit_rejects"]
    got = res.rejects.assign(file=res.rejects["file"].map(lambda f: Path(f).name))
    assert sorted(zip(got["file"], got["location"], strict=True)) == sorted(
        (p["file"], p["location"]) for p in planted
    )
    key = ["claim_id", "line_no"]
    a = tables["cl"].set_index(key).sort_index()
    b = res.claim_lines.set_index(key).sort_index().reindex(a.index)
    for col in ("billed", "allowed", "paid", "patient_resp", "qpa", "units"):
        np.testing.assert_allclose(a[col].to_numpy(), b[col].to_numpy(), atol=0.001, err_msg=col)
    for col in ("claim_status", "carc", "patient_key", "payer", "cpt", "modifiers",
                "payer_claim_id", "provider_npi"):  # fmt: skip
        assert (a[col].astype("str") == b[col].astype("str")).all(), col
    extra = set(res.claim_lines["claim_id"]) - set(a.index.get_level_values(0))
    assert extra == set(d["remit_accepted_claims"]["claim_ids"])


def test_streamed_demo_is_deterministic(
    streamed: tuple[dict[str, Any], Path], tmp_path: Path
) -> None:
    _, out = streamed
    demo.write_streaming(tmp_path, LINES, SEED, chunk_lines=CHUNK, claims_per_file=400)
    assert _digest(out) == _digest(tmp_path)


def test_cli_chunk_lines(tmp_path: Path) -> None:
    from oonplaybook.cli import app

    out = tmp_path / "demo"
    res = CliRunner().invoke(
        app, ["demo-data", "--out", str(out), "--lines", "3000", "--seed", "2",
              "--chunk-lines", "1000", "--no-remits"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    truth = json.loads((out / "truth.json").read_text())
    assert truth["lines"] == 3000 and truth["generation"]["chunks"] == 3
    assert len(pd.read_parquet(out / "portfolio.parquet")) == 3000
    bad = CliRunner().invoke(app, ["demo-data", "--out", str(out), "--chunk-lines", "0"])
    assert bad.exit_code == 2
