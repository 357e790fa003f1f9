"""Every file in tests/data/real read with its expected claims, lines and dollar totals.

The files are public samples copied into the repository (tests/data/README.md gives their
sources and licences), so this runs the same on every clone.
Expected values were checked by hand against the files (see tests/data/README.md for
each file's quirks); CAS pair counts were also counted independently with a regex.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from oonplaybook import partitions
from oonplaybook.ingest import IngestError, ingest_paths, read_835, read_837p

# file -> expected: claims read, claims rejected, lines, CAS pairs, Σ CAS, Σ SVC02 (+claim-level
# CLP03), Σ SVC03, Σ CLP04, Σ BPR02, PLB rows, Σ PLB, transactions, claims by CLP02,
# lines by normalised status, balance-check failures
EXPECTED: dict[str, dict] = {
    "lfh_managed-care.835": dict(
        claims=2,
        rejected=0,
        lines=2,
        pairs=5,
        adj=1055.00,
        billed=2000.00,
        line_paid=1050.00,
        clp_paid=945.00,
        bpr=945.00,
        plb_rows=0,
        plb=0.0,
        tx=1,
        clp02={"1": 2},
        status={"paid": 2},
        balance=0,
        allowed=1950.00,
    ),
    "lfh_cob-contractural-adjustment.835": dict(
        claims=1,
        rejected=0,
        lines=1,
        pairs=2,
        adj=507.00,
        billed=541.00,
        line_paid=34.00,
        clp_paid=34.00,
        bpr=34.00,
        plb_rows=0,
        plb=0.0,
        tx=1,
        clp02={"2": 1},
        status={"paid": 1},
        balance=0,
        allowed=550.00,
    ),
    "ks_emedny_sample.835": dict(
        claims=3,
        rejected=0,
        lines=10,
        pairs=4,
        adj=56.75,
        billed=102.50,
        line_paid=45.75,
        clp_paid=45.75,
        bpr=45.75,
        plb_rows=0,
        plb=0.0,
        tx=1,
        clp02={"1": 1, "2": 2},
        status={"paid": 6, "denied": 4},
        balance=0,
        allowed=45.75,
    ),
    "ks_united_healthcare_legacy_sample.835": dict(
        claims=2,
        rejected=0,
        lines=5,
        pairs=7,
        adj=807.53,
        billed=1157.52,
        line_paid=349.99,
        clp_paid=349.99,
        bpr=349.99,
        plb_rows=0,
        plb=0.0,
        tx=1,
        clp02={"1": 2},
        status={"paid": 5},
        balance=0,
        allowed=570.38,
    ),
    "ks_blue_cross_nc_sample_no_envelope.835": dict(
        claims=1,
        rejected=0,
        lines=3,
        pairs=3,
        adj=177.14,
        billed=2100.00,
        line_paid=1922.86,
        clp_paid=1922.86,
        bpr=1922.86,
        plb_rows=0,
        plb=0.0,
        tx=1,
        clp02={"1": 1},
        status={"paid": 3},
        balance=0,
        allowed=2807.40,
    ),
    "oop_5010_FromNth_835_WithMultipleInterchanges.835": dict(
        claims=56,
        rejected=0,
        lines=91,
        pairs=97,
        adj=49863.81,
        billed=63639.09,
        line_paid=9193.05,
        clp_paid=7327.04,
        bpr=11482.11,
        plb_rows=0,
        plb=0.0,
        tx=3,
        clp02={"1": 39, "2": 1, "4": 16},
        status={"paid": 47, "denied": 44},
        balance=104,
        allowed=13775.28,
    ),
    "oop_4010_FromNth_835_DeIdent_02.835": dict(
        claims=375,
        rejected=0,
        lines=1552,
        pairs=2439,
        adj=856351.69,
        billed=1028915.02,
        line_paid=463887.05,
        clp_paid=529649.92,
        bpr=200199.96,
        plb_rows=1,
        plb=99.99,
        tx=6,
        clp02={"1": 73, "2": 1, "4": 1, "19": 292, "22": 8},
        status={"forwarded": 1186, "paid": 333, "reversal": 28, "denied": 5},
        balance=1797,
        allowed=578478.84,
    ),
    "oop_5010_Example1.835": dict(
        claims=9,
        rejected=1,
        lines=9,
        pairs=21,
        adj=434.24,
        billed=439.99,
        line_paid=5.75,
        clp_paid=5.75,
        bpr=5.75,
        plb_rows=1,
        plb=-1.27,
        tx=1,
        clp02={"1": 2, "2": 1, "4": 3, "22": 2, "25": 1},
        # CLP02=25 is predetermination pricing only (no payment), its own status (issue 10 #17)
        status={"denied": 3, "paid": 3, "predetermination": 1, "reversal": 2},
        balance=1,
        allowed=114.83,
    ),
}


def _r(x: float) -> float:
    return round(float(x), 2)


@pytest.mark.parametrize("fname", sorted(EXPECTED))
def test_real_835(shared_real: Path, fname: str) -> None:
    exp = EXPECTED[fname]
    r = read_835((shared_real / fname).read_bytes(), fname, salt="test-salt")
    cl, st = r.claim_lines, r.stats
    assert st["claims"] == exp["claims"]
    assert st["claims_rejected"] == exp["rejected"] == len(r.rejects)
    assert st["claims"] + st["claims_rejected"] == st["claims_in_file"]
    assert len(cl) == exp["lines"]
    assert len(r.adjustments) == exp["pairs"]
    assert _r(r.adjustments["amount"].sum()) == exp["adj"]
    assert _r(cl["billed"].sum()) == exp["billed"]
    assert _r(cl["paid"].sum()) == exp["line_paid"]
    assert _r(cl["allowed"].sum()) == exp["allowed"]
    assert st["clp_paid_cents"] == round(exp["clp_paid"] * 100)
    assert st["bpr_total_cents"] == round(exp["bpr"] * 100)
    assert len(r.provider_adjustments) == exp["plb_rows"]
    assert _r(r.provider_adjustments["amount"].sum()) == exp["plb"]
    assert st["transactions"] == exp["tx"]
    per_claim = cl.drop_duplicates("_clp")["claim_status_code"].value_counts().to_dict()
    assert per_claim == exp["clp02"]
    assert cl["claim_status"].value_counts().to_dict() == exp["status"]
    assert len(r.balance_failures) == exp["balance"]
    # codes stay strings, money is float dollars, nothing is NaN that the file gave
    assert cl["cpt"].dtype == "str"
    assert cl["paid"].dtype == "float64"


def test_every_real_x12_file_has_an_expectation(shared_real: Path) -> None:
    files = {p.name for p in shared_real.glob("*.835")}
    assert files == set(EXPECTED)


def test_managed_care_claim_level_cas_stays_on_the_claim(shared_real: Path) -> None:
    """CO-A2 at claim level: line_no 0 adjustments, not on a line, not counted twice."""
    r = read_835((shared_real / "lfh_managed-care.835").read_bytes(), "mc", salt="s")
    a = r.adjustments
    claim_level = a[a["line_no"] == 0]
    assert sorted(zip(claim_level["claim_id"], claim_level["amount"], strict=True)) == [
        ("5554555444", 50.0),
        ("8765432112", 55.0),
    ]
    assert set(claim_level["group"] + "-" + claim_level["reason"]) == {"CO-A2"}
    # worked example 1 (docs/domain.md §5.2): claim 800 - 50 - 300 = 450; BPR = 450 + 495 = 945
    assert r.stats["clp_paid_cents"] == 94500 == r.stats["bpr_total_cents"]
    assert r.balance_failures == []


def test_cob_negative_adjustment_and_gt_component_separator(shared_real: Path) -> None:
    r = read_835((shared_real / "lfh_cob-contractural-adjustment.835").read_bytes(), "c", salt="s")
    cl = r.claim_lines
    assert cl["cpt"].tolist() == ["55669"]  # pyx12 drops this line: ISA16 ':' but data '>'
    assert r.stats["component_separator_mismatch"] == 1
    assert sorted(r.adjustments["amount"]) == [-9.0, 516.0]
    assert cl["claim_status"].tolist() == ["paid"]  # secondary with OA-23: not a denial


def test_uhc_two_triplet_cas_reads_both(shared_real: Path) -> None:
    r = read_835(
        (shared_real / "ks_united_healthcare_legacy_sample.835").read_bytes(), "u", salt="s"
    )
    a = r.adjustments
    assert len(a) == 7
    assert (a["group"] + "-" + a["reason"]).value_counts().to_dict()["CO-45"] >= 3


def test_bcbs_fragment_recode_and_empty_amounts(shared_real: Path) -> None:
    """SVC06 carries the billed code (59410) when the payer paid another (59430/59440)."""
    r = read_835(
        (shared_real / "ks_blue_cross_nc_sample_no_envelope.835").read_bytes(), "b", salt="s"
    )
    cl = r.claim_lines.sort_values("line_no")
    assert cl["cpt"].tolist() == ["59430", "59440", "59426"]
    assert cl["billed_cpt"].tolist() == ["59410", "59410", ""]
    assert cl["recoded"].tolist() == [True, True, False]
    assert pd.isna(cl["billed"].iloc[2])  # SVC02 empty: unknown, not 0
    assert cl["line_control"].tolist() == ["0001", "0002", "0003"]


def test_nebraska_remarks_and_denials(shared_real: Path) -> None:
    name = "oop_5010_FromNth_835_WithMultipleInterchanges.835"
    r = read_835((shared_real / name).read_bytes(), name, salt="s")
    cl = r.claim_lines
    n_rarc = cl["rarc"].str.split(":").map(lambda x: len([c for c in x if c])).sum()
    assert n_rarc >= 91  # 98 LQ*HE segments over 91 lines, duplicates within a line merged
    assert cl.drop_duplicates("_clp")["claim_status_code"].eq("4").sum() == 16


def test_4010_reversals_pair_with_originals(shared_real: Path) -> None:
    name = "oop_4010_FromNth_835_DeIdent_02.835"
    res = ingest_paths([shared_real / name], salt="s")
    assert res.report["reversals"] == 8
    assert res.report["reversals_paired"] + len(res.report["reversals_unpaired"]) >= 8
    cr = res.adjustments[res.adjustments["group"] == "CR"]
    assert len(cr) > 0  # group CR kept


def test_example1_truncated_clp_is_a_precise_reject(shared_real: Path) -> None:
    r = read_835((shared_real / "oop_5010_Example1.835").read_bytes(), "ex1", salt="s")
    (rej,) = r.rejects
    assert rej["record"] == "claim 090909"
    assert rej["location"] == "segment 98"
    assert "truncated CLP" in rej["reason"]
    plb = r.provider_adjustments
    assert plb[["reason", "reference", "amount"]].values.tolist() == [["CV", "9876514", -1.27]]
    rev = r.claim_lines[r.claim_lines["claim_status"] == "reversal"]
    assert (rev["paid"] < 0).all()


def test_real_837p(shared_real: Path) -> None:
    name = "lfh_837p_demo.example1.837"
    c = read_837p((shared_real / name).read_bytes(), name, salt="s")
    cl = c.claim_lines
    assert c.stats["claims"] == 1 and c.rejects == []
    assert cl["claim_id"].unique().tolist() == ["26463774"]
    assert cl["cpt"].tolist() == ["99213", "87070", "99214", "86663"]
    assert cl["billed"].tolist() == [40.0, 15.0, 35.0, 10.0]
    assert cl["billed"].sum() == 100.0
    assert set(cl["pos"]) == {"11"}
    assert set(cl["payer"]) == {"KEY INSURANCE COMPANY"}
    assert set(cl["provider_npi"]) == {"1912301953"}
    assert set(cl["provider_tin"]) == {"587654321"}
    assert set(cl["claim_status"]) == {"pending"}
    assert cl["service_date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2006-10-03",
        "2006-10-03",
        "2006-10-10",
        "2006-10-10",
    ]


def test_whole_real_folder_through_ingest_paths(shared_real: Path, tmp_path: Path) -> None:
    res = ingest_paths(["*.835", "*.837"], salt="s", base=shared_real)
    rep = res.report
    assert len(rep["files"]) == 9
    assert rep["rejected"] == 1
    exp_paid = sum(e["clp_paid"] for e in EXPECTED.values())
    assert rep["paid"] == pytest.approx(exp_paid, abs=0.005)
    assert rep["bpr_total"] == pytest.approx(sum(e["bpr"] for e in EXPECTED.values()), abs=0.005)
    assert rep["adjustments"] == pytest.approx(sum(e["adj"] for e in EXPECTED.values()), abs=0.005)
    assert rep["pending_lines"] == 4  # the 837P's claim has no remit among these files
    res.write(tmp_path)
    for f in ("provider_adjustments.parquet", "rejects.csv", "ingest_report.json"):
        assert (tmp_path / f).is_file()
    for f in ("claim_lines.parquet", "adjustments.parquet"):  # part datasets (one part here)
        assert partitions.parts(tmp_path / f) == [0]
    # PHI never stored: names and member ids from the files appear nowhere in the outputs
    blob = "".join(
        partitions.read_all(tmp_path / "claim_lines.parquet").astype("str").to_csv().upper()
        + (tmp_path / "rejects.csv").read_text().upper()
        + (tmp_path / "ingest_report.json").read_text().upper()
    )
    for token in ("DOUGH", "YPB123456789001", "BURCK", "SMITH", "JS00111223333", "SETTLE"):
        assert token not in blob


def test_unreadable_real_file_names_it(shared_real: Path) -> None:
    with pytest.raises(IngestError, match="cms_2017_locality_county_crosswalk.txt"):
        ingest_paths([shared_real / "cms_2017_locality_county_crosswalk.txt"], salt="s")
