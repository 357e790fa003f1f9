"""TiC in-network rate files: CMS's examples (v2 and v1 shapes, table of contents), generated
files for each negotiated type, bundles, inline vs referenced groups, duplicated NPIs,
zero/negative rates, truncated and damaged gzip, chunk-boundary independence, a file larger
than the memory the reader is allowed, and the Dask fan-out.

Facts designed for (CMS price-transparency-guide, schema 2.0.0): ``percentage`` is a whole-number
percent of billed charges and ``per diem`` is per day, so neither is ever averaged with dollars;
rates may be zero or negative and still validate; ``npi: [0]`` marks a TIN-level contract (v1).
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oonplaybook import tic_generate as tg
from oonplaybook import tic_in_network as tin
from oonplaybook import tic_scan

DATA = Path(__file__).parent / "data" / "real" / "tic" / "in-network"


def test_all_negotiated_types_keep_their_own_columns() -> None:
    df, st = tin.read_rates(DATA / "in-network-rates-all-negotiated-types-sample.json", None)
    assert st.items_seen == 6 and not st.problems
    by = df.groupby("negotiated_type")
    assert set(df["negotiated_type"]) == {
        "negotiated",
        "derived",
        "fee schedule",
        "percentage",
        "per diem",
    }
    pct = df[df["negotiated_type"] == "percentage"]
    assert sorted(set(pct["percent_of_billed"])) == [65.0, 75.5]
    assert pct["dollar_rate"].isna().all() and pct["per_diem_rate"].isna().all()
    pdm = df[df["negotiated_type"] == "per diem"]
    assert set(pdm["per_diem_rate"]) == {5500.0} and pdm["dollar_rate"].isna().all()
    assert by["dollar_rate"].count()[["negotiated", "derived", "fee schedule"]].gt(0).all()
    assert set(df.loc[df["negotiated_type"] == "derived", "dollar_rate"]) == {45.0}
    # group 1 has two TINs (3 and 1 NPIs): one row per TIN with its NPI count
    r = df[(df["billing_code"] == "99214")]
    assert sorted(r["n_npi"]) == [1, 3] and set(r["tin_value"]) == {"12-3456789", "23-4567890"}
    assert set(df["payer"]) == {"Comprehensive Health Insurance"} and set(df["plan_name"]) == {
        "Plan D PPO"
    }
    assert (df["file_sha256"].str.len() == 64).all() and (df["item_offset"] > 0).all()


@pytest.mark.parametrize(
    ("name", "rows", "types"),
    [
        ("in-network-rates-fee-for-service-single-plan-sample.json", 10, {"negotiated"}),
        ("in-network-rates-multiple-plans-sample.json", 12, {"negotiated", "derived"}),
        ("in-network-rates-bundle-single-plan-sample.json", 4, {"negotiated"}),
        ("in-network-rates-capitation-single-plan-sample.json", 4, {"negotiated"}),
        ("in-network-rates-no-npi.json", 1, {"negotiated"}),
        ("v1/in-network-rates-fee-for-service-single-plan-sample.json", 8, {"negotiated"}),
        ("v1/in-network-rates-multiple-plans-sample.json", 9, {"negotiated", "derived"}),
        ("v1/in-network-rates-bundle-single-plan-sample.json", 3, {"negotiated"}),
        ("v1/in-network-rates-capitation-single-plan-sample.json", 3, {"negotiated"}),
        ("v1/in-network-rates-no-npi.json", 1, {"negotiated"}),
    ],
)
def test_every_cms_example(name: str, rows: int, types: set[str]) -> None:
    df, st = tin.read_rates(DATA / name, None)
    assert len(df) == rows and set(df["negotiated_type"]) == types
    assert st.truncated_at is None


def test_v1_shapes_inline_groups_tin_only_and_remote_reference(tmp_path: Path) -> None:
    df, _ = tin.read_rates(DATA / "v1" / "in-network-rates-no-npi.json", None)
    assert df.iloc[0]["n_npi"] == 0  # npi [0] is a TIN-level contract, not an NPI
    df, st = tin.read_rates(
        DATA / "v1" / "in-network-rates-fee-for-service-single-plan-sample.json", None
    )
    assert any("remote file" in p and "not downloaded" in p for p in st.problems)
    # inline groups (id -1) and a referenced in-file group (1) in one file; group 2 is remote
    assert set(df["provider_group_id"]) == {-1, 1}
    # with the remote file downloaded (under the URL's file name) the group resolves
    shutil.copy(DATA / "v1" / "provider-reference.json", tmp_path / "some_provider_group.json")
    df2, st2 = tin.read_rates(
        DATA / "v1" / "in-network-rates-fee-for-service-single-plan-sample.json",
        None,
        remote_dir=tmp_path,
    )
    assert not st2.problems and len(df2) == len(df)


def test_table_of_contents_expands_to_downloaded_files(tmp_path: Path) -> None:
    toc = tmp_path / "toc.json"
    shutil.copy(DATA / "table-of-contents-sample.json", toc)
    shutil.copy(DATA / "in-network-rates-no-npi.json", tmp_path / "in-network-file-123456.json")
    files, missing = tin.expand_inputs([toc])
    assert [f.name for f in files] == ["in-network-file-123456.json"]
    assert any("behavioral-health-0000.json" in m and "not downloaded" in m for m in missing)


GROUPS = tg.make_groups(4, seed=1, npis_per_tin=5)
RATES = {
    "99285": [(1, "negotiated", 412.5), (2, "negotiated", 388.0), (3, "fee schedule", 395.0)],
    "99284": [(1, "negotiated", 0.0), (2, "negotiated", -5.0), (4, "derived", 250.0)],
    "27447": [(1, "percentage", 40.5), (2, "per diem", 2100.0)],
    "G0000": [(3, "negotiated", 9000.0)],  # a bundle holding 27130
}


def _gen(path: Path, **kw: object) -> dict:
    args = {
        "payer": "Demo Health Plan",
        "rates": RATES,
        "groups": GROUPS,
        "bundles": {"G0000": ["27130", "27447"]},
        "filler_codes": 50,
    }
    args.update(kw)
    return tg.write_in_network(path, **args)  # type: ignore[arg-type]


def test_generated_file_round_trip_filter_bundles_and_flags(tmp_path: Path) -> None:
    f = tmp_path / "plan.json"
    truth = _gen(f)
    df, st = tin.read_rates(f, ["99285", "99284", "27130"])
    assert st.items_seen == 4 + 50 and st.items_matched == 3  # filler items skipped unparsed
    got = sorted(
        zip(
            df["billing_code"],
            df["provider_group_id"],
            df["negotiated_type"],
            df["n_npi"],
            strict=True,
        )
    )
    want = sorted(
        (r["billing_code"], r["provider_group_id"], r["negotiated_type"], r["n_npi"])
        for r in truth["rows"]
        if r["billing_code"] in ("99285", "99284", "G0000")
    )
    assert got == want
    assert set(df.loc[df["billing_code"] == "99284", "rate_flag"]) == {"zero", "negative", ""}
    b = df[df["billing_code"] == "G0000"].iloc[0]
    assert (
        b["matched_in_bundle"]
        and b["bundled_codes"] == "27130:27447"
        and b["negotiation_arrangement"] == "bundle"
    )


def test_scan_is_chunk_boundary_independent_and_handles_escapes(tmp_path: Path) -> None:
    f = tmp_path / "plan.json"
    _gen(f, filler_codes=5)
    data = f.read_bytes()
    want = None
    for size in (1, 7, 64, 4096, 1 << 24):
        spans = [
            (s.array, s.offset, s.data)
            for s in tic_scan.scan(
                (data[i : i + size] for i in range(0, len(data), size)), ["27447", "99284"]
            )
        ]
        if want is None:
            want = spans
        assert spans == want
    # G0000 is a bundle holding 27447: the pre-filter finds it too
    assert [json.loads(d)["billing_code"] for a, _, d in want if a == "in_network"] == [
        "27447",
        "99284",
        "G0000",
    ]
    assert all(data[o : o + len(d)] == d for _, o, d in want)


def test_provider_references_after_in_network(tmp_path: Path) -> None:
    a, b = tmp_path / "first.json", tmp_path / "last.json"
    _gen(a)
    _gen(b, references_last=True)
    da, _ = tin.read_rates(a, ["99285"])
    db, _ = tin.read_rates(b, ["99285"])
    cols = ["billing_code", "provider_group_id", "tin_value", "n_npi", "dollar_rate"]
    pd.testing.assert_frame_equal(da[cols], db[cols])


def test_npi_and_tin_filters(tmp_path: Path) -> None:
    f = tmp_path / "plan.json"
    _gen(f)
    g1 = GROUPS[0]
    by_tin, _ = tin.read_rates(
        f, ["99285"], pfilter=tin.ProviderFilter(tins=frozenset({g1.tin.replace("-", "")}))
    )
    assert set(by_tin["provider_group_id"]) == {1}
    two = frozenset(g1.npis[:2])
    by_npi, _ = tin.read_rates(f, ["99285"], pfilter=tin.ProviderFilter(npis=two))
    assert set(by_npi["provider_group_id"]) == {1} and set(by_npi["n_npi"]) == {2}


def test_truncated_gzip_keeps_what_was_read(tmp_path: Path) -> None:
    f = tmp_path / "plan.json.gz"
    _gen(f, filler_codes=2000)
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    df, st = tin.read_rates(cut, ["99285", "99284", "27447"])
    assert st.truncated_at is not None and any("ends early" in p for p in st.problems)
    # written before the cut (G0000 is the bundle holding 27447)
    assert set(df["billing_code"]) == {"27447", "99284", "99285", "G0000"}


def test_truncated_plain_json_and_damaged_gzip(tmp_path: Path) -> None:
    f = tmp_path / "plan.json"
    _gen(f, filler_codes=100)
    cut = tmp_path / "cut.json"
    data = f.read_bytes()
    cut.write_bytes(data[: len(data) - 3000])
    df, st = tin.read_rates(cut, ["99285"])
    assert st.truncated_at == len(data) - 3000 and "in_network" in st.problems[0] and len(df) == 3
    g = tmp_path / "bad.json.gz"
    raw = bytearray(gzip.compress(data))
    raw[len(raw) // 2 : len(raw) // 2 + 64] = b"\x00" * 64
    g.write_bytes(bytes(raw))
    with pytest.raises(tin.TicRateError, match=r"bad\.json\.gz"):
        tin.read_rates(g, ["99285"])
    notjson = tmp_path / "x.json"
    notjson.write_bytes(b"   ")
    with pytest.raises(tin.TicRateError, match="no JSON object"):
        tin.read_rates(notjson, None)


def test_wrong_types_name_the_place(tmp_path: Path) -> None:
    doc = json.loads((DATA / "in-network-rates-no-npi.json").read_text())
    doc["in_network"][0]["negotiated_rates"][0]["negotiated_prices"][0]["negotiated_rate"] = (
        "123.45"
    )
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(doc))
    with pytest.raises(
        tin.TicRateError,
        match=r"bad\.json in_network item at byte [\d,]+ negotiated_rates\[0\] negotiated_prices\[0\] negotiated_rate is str",
    ):
        tin.read_rates(f, None)


def test_dataset_partitions_and_dask_fan_out(tmp_path: Path) -> None:
    files = []
    for k, (payer, month) in enumerate(
        [
            ("Alpha Health", "2026-10-01"),
            ("Alpha Health", "2026-11-01"),
            ("Beta Care", "2026-11-01"),
        ]
    ):
        f = tmp_path / "in" / f"f{k}.json.gz"
        f.parent.mkdir(exist_ok=True)
        _gen(f, payer=payer, last_updated_on=month, seed=k)
        files.append(f)
    one = tin.extract(files, ["99285", "27447"], tmp_path / "one", workers=1)
    two = tin.extract(files, ["99285", "27447"], tmp_path / "two", workers=2)
    assert one["rows"].sum() == two["rows"].sum() > 0
    parts = sorted(
        p.relative_to(tmp_path / "two").parent.as_posix()
        for p in (tmp_path / "two").rglob("*.parquet")
    )
    assert parts == [
        "payer_key=alpha_health/file_month=2026-10",
        "payer_key=alpha_health/file_month=2026-11",
        "payer_key=beta_care/file_month=2026-11",
    ]
    a = (
        tin.read_dataset(tmp_path / "one")
        .sort_values(["file_sha256", "billing_code", "provider_group_id", "negotiated_type"])
        .reset_index(drop=True)
    )
    b = (
        tin.read_dataset(tmp_path / "two")
        .sort_values(["file_sha256", "billing_code", "provider_group_id", "negotiated_type"])
        .reset_index(drop=True)
    )
    pd.testing.assert_frame_equal(a, b)
    assert {"payer", "payer_key", "file_month"} <= set(a.columns)


def test_bounded_memory_on_a_file_larger_than_the_cap(tmp_path: Path) -> None:
    """A file of several hundred MB is read in a child whose peak resident memory stays far
    below the file's size (streamed, not loaded). The peak is the kernel's high-water mark of
    the child (``ru_maxrss``); an address-space cap (RLIMIT_AS) was used before, but numba's
    JIT and pyarrow reserve address space they never touch, which made that check thrash for
    minutes on some machines instead of measuring memory."""
    f = tmp_path / "big.json"
    truth = tg.write_in_network(
        f, payer="Big Plan", rates=RATES, groups=GROUPS, filler_codes=90_000, filler_rates=40
    )
    assert truth["bytes"] > 350e6
    code = textwrap.dedent(f"""
        import resource
        from oonplaybook import tic_in_network as tin
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        df, st = tin.read_rates({str(f)!r}, ["99285", "27447"])
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        print(len(df), st.items_seen, base, peak)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    rows, items, base, peak = out.stdout.split()
    assert [rows, items] == ["5", str(4 + 90_000)]
    # what reading added above the imports: bounded by the scanner's buffers, not the file
    assert int(peak) - int(base) < min(300 * 2**20, truth["bytes"] / 3), (base, peak)


def test_codes_from_claim_lines_and_lists(tmp_path: Path) -> None:
    cl = tmp_path / "claim_lines.parquet"
    pd.DataFrame({"cpt": ["99285", "99284", "99285"]}).to_parquet(cl)
    assert tin.codes_from(str(cl)) == ["99284", "99285"]
    assert tin.codes_from("99285, 27447") == ["27447", "99285"]
    lst = tmp_path / "codes.txt"
    lst.write_text("99285\n27447\n")
    assert tin.codes_from(str(lst)) == ["27447", "99285"]
    assert np.all(np.diff([1]) >= 0)


def test_cli_extract_and_duckdb_reads_the_dataset(tmp_path: Path) -> None:
    """`oonplaybook tic extract` on CMS's examples (folder, TOC included); DuckDB reads the result."""
    from typer.testing import CliRunner

    from oonplaybook.cli import app

    out = tmp_path / "rates"
    res = CliRunner().invoke(
        app,
        ["tic", "extract", str(DATA), "--codes", "27447,99214", "--out", str(out), "--no-progress"],
    )
    assert res.exit_code == 0, res.output
    assert "listed but not downloaded" in res.output  # the TOC's links are reported, not guessed
    duckdb = pytest.importorskip("duckdb")
    got = duckdb.sql(
        f"select billing_code, count(*) n from read_parquet('{out}/**/*.parquet', hive_partitioning=true) "
        "where percent_of_billed is null group by all order by all"
    ).fetchall()
    # 81.54 is the ICD-9 bundle whose bundled codes hold 27447
    assert [c for c, _ in got] == ["27447", "81.54", "99214"] and all(n > 0 for _, n in got)


def test_nppes_area_filter(tmp_path: Path) -> None:
    """NPPES practice ZIP -> MAC locality (CMS ZIP5) and taxonomy pick the region's providers."""
    g1, g2 = GROUPS[0], GROUPS[1]
    nppes = tmp_path / "npidata_pfile.csv"
    pd.DataFrame(
        {
            "NPI": [str(g1.npis[0]), str(g1.npis[1]), str(g2.npis[0]), "1999999999"],
            "Provider Business Practice Location Address Postal Code": [
                "100011234",
                "10001",
                "606011000",
                "99999",
            ],
            "Healthcare Provider Taxonomy Code_1": [
                "207P00000X",
                "207R00000X",
                "207P00000X",
                "207P00000X",
            ],
            "Provider Last Name (Legal Name)": ["not read", "not read", "not read", "not read"],
        }
    ).to_csv(nppes, index=False)
    manhattan = tin.npi_filter_from_nppes(nppes, localities={"13202-01"})
    assert manhattan == {g1.npis[0], g1.npis[1]}
    em_docs = tin.npi_filter_from_nppes(nppes, localities={"13202-01"}, taxonomies={"207P00000X"})
    assert em_docs == {g1.npis[0]}
    f = tmp_path / "plan.json"
    _gen(f)
    df, _ = tin.read_rates(f, ["99285"], pfilter=tin.ProviderFilter(npis=em_docs))
    assert set(df["provider_group_id"]) == {1} and set(df["n_npi"]) == {1}
