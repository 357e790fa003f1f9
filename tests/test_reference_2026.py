"""2026 Medicare PFS, CMS anesthesia CFs by locality, modifier AD, ZIP to locality, status.

Issue 11 items 4, 12, 13, 14, 15. Every expected amount is hand-computed from the CMS formula
(see tests/test_reference_pfs.py) with the RVUs of PPRRVU2025_Oct.csv and the GPCIs named in
each test; sources are cited in each docstring.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from oonplaybook import benchmark
from oonplaybook.cli import app
from oonplaybook.reference import localities, pfs, status

#: CMS files copied into the repository (tests/data/README.md gives their provenance).
CMS = Path(__file__).resolve().parent / "data" / "real" / "cms"
SHARED = CMS.parent
runner = CliRunner()

# The header rows of CMS's 2026 July non-QP PPRRVU file (rows 6-10 of
# ../shared/data/real/cms/PPRRVU2026_Jul_nonQPP.excerpt.redacted.csv): 32 columns, PRIC IND is
# column 24, so ENDO BASE, CONV FACTOR and every later column sit one place right of 2025's.
PPRRVU_2026_HEADER = """\
,,2026 National Physician Fee Schedule Relative Value File July Release,,,,,,,,,,,,,,,,,,,,,,,,,,,,,
,,test file built from CMS's 2026 header rows; data rows are 2025 RVUs,,,,,,,,,,,,,,,,,,,,,,,,,,,,,
,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,
,,RELEASED 06/30/2026,,,,,,,,,,,,,,,,,,,,,,,,,,,,,
,,,,,,,,,,,,,,,,,,,,,,,,,,,,,NON-FACILITY,FACILITY,
,,,,NOT USED,,,,,,,,,,,,,,,,,,,,,,PHYSICIAN,,DIAGNOSTIC,PE USED,PE USED,MP USED
,,,,FOR,,,NON-FAC,,FACILITY,,,,,,,,,,,,,,,,,SUPERVISION OF,,IMAGING,FOR OPPS,FOR OPPS,FOR OPPS
,,,STATUS,MEDICARE,WORK,NON-FAC,NA,FACILITY,NA,MP,NON-FACILITY,FACILITY,PCTC,GLOB,PRE,INTRA,POST,MULT,BILAT,ASST,CO-,TEAM,PRIC,ENDO,CONV,DIAGNOSTIC,CALCULATION,FAMILY,PAYMENT,PAYMENT,PAYMENT
HCPCS,MOD,DESCRIPTION,CODE,PAYMENT,RVU,PE RVU,INDICATOR,PE RVU,INDICATOR,RVU,TOTAL,TOTAL,IND,DAYS,OP,OP,OP,PROC,SURG,SURG,SURG,SURG,IND,BASE,FACTOR,PROCEDURES,FLAG,INDICATOR,AMOUNT,AMOUNT,AMOUNT
"""
# 99213 with made-up 2026 RVUs (work 1.40, PE 1.30, MP 0.12) in the 32-column layout; 00790 J.
# Read by position (the 2025 layout), CONV FACTOR would be ENDO BASE ("") and the CF check fails.
ROW_99213 = (
    "99213,,REDACTED,A,,1.40,1.30,,0.55,,0.12,2.82,2.07,0,XXX,0.00,1.00,0.00,0,0,2,0,0,1,,"
    "{cf},,0,99,1.30,0.55,0.12\n"
)
ROW_00790 = (
    "00790,,REDACTED,J,,0.00,0.00,,0.00,,0.00,0.00,0.00,9,XXX,0.00,0.00,0.00,9,9,9,9,9,9,,"
    "{cf},09,0,99,0.00,0.00,0.00\n"
)


def _pprrvu_2026(cf: str = "33.4009") -> str:
    return PPRRVU_2026_HEADER + ROW_99213.format(cf=cf) + ROW_00790.format(cf=cf)


# --- item 12: 2026 layout, GPCIs, CFs, the stand-in note -----------------------------------------


def test_pprrvu_reader_finds_2026_columns_by_header() -> None:
    """The 32-column 2026 layout (PRIC IND at column 24) reads by header text.

    Source: CMS PPRRVU2026_Jul_nonQPP header rows (shared cms/README: "PRIC IND ... column 24,
    ... every later column moves right by one"); issue 11 item 12.
    """
    rvu, meta = pfs.read_pprrvu(_pprrvu_2026().encode(), "PPRRVU2026_Jul_nonQPP.csv")
    assert meta["columns"] == 32 and meta["year"] == 2026 and meta["released"] == "2026-06-30"
    assert meta["optional_columns"] == ["pric_ind"]
    r = rvu.set_index("hcpcs").loc["99213"]
    assert (r["pric_ind"], r["endo_base"], r["conv_factor"]) == ("1", "", 33.4009)
    assert (r["work_rvu"], r["pe_nf_rvu"], r["mp_rvu"], r["asst_surg"]) == (1.40, 1.30, 0.12, "2")


def test_pprrvu_reader_is_position_free() -> None:
    """Columns shuffled (keeping each header cell with its data) read to the same table.

    Source: issue 11 item 12 ("find columns by header, not position").
    """
    import csv
    import io

    rows = list(csv.reader(io.StringIO(_pprrvu_2026())))
    order = [0, 1, 2, *range(31, 2, -1)]  # reverse every column after DESCRIPTION
    shuffled = "\n".join(",".join(r[j] if j < len(r) else "" for j in order) for r in rows)
    a, _ = pfs.read_pprrvu(_pprrvu_2026().encode())
    b, _ = pfs.read_pprrvu(shuffled.encode())
    pd.testing.assert_frame_equal(a, b)


def test_shared_2026_excerpt_and_2025_file_read() -> None:
    """CMS's own 2026 excerpt (32 columns) and 2025 file (31 columns) both read.

    Source: ../shared/data/real/cms/PPRRVU2026_Jul_nonQPP.excerpt.redacted.csv (61 records, CF
    33.4009) and PPRRVU2025_Oct.csv (19,090 records, CF 32.3465).
    """
    rvu26, m26 = pfs.read_pprrvu(CMS / "PPRRVU2026_Jul_nonQPP.excerpt.redacted.csv")
    rvu25, m25 = pfs.read_pprrvu(CMS / "PPRRVU2025_Oct.csv")
    assert (m26["columns"], len(rvu26), m26["conv_factor_values"]) == (32, 61, ["33.4009"])
    assert (m25["columns"], len(rvu25), m25["conv_factor_values"]) == (31, 19090, ["32.3465"])
    assert set(rvu26["pric_ind"]) == {"9"} and set(rvu25["pric_ind"]) == {""}


def test_price_2026_with_packaged_gpcis_and_cf() -> None:
    """`oonplaybook price` for 2026: 2025 RVUs, packaged 2026 GPCIs, 2026 CF, said once.

    Source: GPCI2026.csv (CY2026 Addendum E; Manhattan 1.064/1.162/1.586, Alabama
    1.000/0.875/0.566); CY2026 PFS final rule CF $33.4009 non-QP, $33.5675 QP (PBN; docs/domain.md §3.1).
    """
    r = runner.invoke(app, ["price", "99213", "-l", "13202-01", "-y", "2026", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    # (1.30x1.064 + 1.35x1.162 + 0.10x1.586) = 3.11050 x 33.4009 = 103.893499 -> 103.89
    assert (d["allowed"], d["gpci_work"], d["gpci_mp"], d["conversion_factor"]) == (
        103.89,
        1.064,
        1.586,
        33.4009,
    )
    assert "2025 RVUs" in d["pricing_note"] and "2026 GPCIs" in d["pricing_note"]
    r = runner.invoke(app, ["price", "99214", "-l", "10112-00", "-y", "2026", "--qp", "--json"])
    d = json.loads(r.output)
    # ALABAMA 2026: (1.92x1 + 1.80x0.875 + 0.15x0.566) = 3.5799 x 33.5675 = 120.16829 -> 120.17
    assert (d["allowed"], d["conversion_factor"]) == (120.17, 33.5675)
    table = runner.invoke(app, ["price", "99213", "-l", "13202-01", "-y", "2026"])
    assert table.exit_code == 0 and table.output.count("Medicare PFS 2026: 2025 RVUs") == 1


def test_2026_anesthesia_cfs_non_qp_and_qp() -> None:
    """2026 anesthesia: national $20.4976 non-QP / $20.5998 QP, locality-adjusted by 2026 GPCIs.

    Source: CY2026 PFS final rule (PBN: non-APM anesthesia CF $20.4976); Ventra Health ("a
    separate CF of $20.5998" for Advanced APM participants; docs/domain.md §3.1). No CMS ANES2026 file is
    packaged, so the shares stand in (and the note says so).
    """
    non = pfs.price("00790", locality="10112-00", year=2026, minutes=60)
    qp = pfs.price("00790", locality="10112-00", year=2026, minutes=60, qp=True)
    # AL 2026 GPCIs 1.000/0.875/0.566: 0.769 + 0.166x0.875 + 0.065x0.566 = 0.95104
    # 20.4976 x 0.95104 = 19.4940 -> 19.49; 20.5998 x 0.95104 = 19.5912 -> 19.59
    assert (non.anesthesia_cf, qp.anesthesia_cf) == (19.49, 19.59)
    # (7 base + 60/15 = 4.0 time units) = 11 x 19.49 = 214.39; 11 x 19.59 = 215.49
    assert (non.allowed, qp.allowed) == (214.39, 215.49)
    assert "GPCI shares" in non.note


def test_reference_import_of_2026_layout_csv_and_zip(tmp_path, monkeypatch) -> None:
    """`reference import` takes CMS's 2026 PPRRVU CSV alone (packaged 2026 GPCIs used) and a
    2026 zip holding both the non-QP and QP files (the non-QP one is read); the stand-in note
    disappears once 2026 RVUs are installed.

    Source: issue 11 item 12; CMS publishes one 2026 RVU file per CF (shared cms/README: "one
    file for each of the two conversion factors").
    """
    monkeypatch.setenv(pfs.CACHE_ENV, str(tmp_path / "cache"))
    csv_path = tmp_path / "PPRRVU2026_Jul_nonQPP.csv"
    csv_path.write_text(_pprrvu_2026())
    r = runner.invoke(app, ["reference", "import", str(csv_path)])
    assert r.exit_code == 0, r.output
    assert "32-column layout" in r.output and "installed 2026 GPCIs" in r.output
    assert "an excerpt, not CMS's full national file?" in r.output  # 2 codes vs 16,852
    assert pfs.pricing_note(2026) == ""
    p = pfs.price("99213", locality="13202-01", year=2026)
    # imported 2026 RVUs: (1.40x1.064 + 1.30x1.162 + 0.12x1.586) = 3.19052 x 33.4009 = 106.56624
    assert p.allowed == 106.57 and "July release" in p.vintage and "2025" not in p.note
    z = tmp_path / "rvu26c.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("PPRRVU2026_Jul_QPP.csv", _pprrvu_2026("33.5675"))
        f.writestr("PPRRVU2026_Jul_nonQPP.csv", _pprrvu_2026())
    r = runner.invoke(app, ["reference", "import", str(z)])
    assert r.exit_code == 0, r.output
    assert "CF in file: 33.4009" in r.output
    # an ANES2026 file (non-QP national CF in its header) scales to the QP CF by the same ratio
    z2 = tmp_path / "rvu26d.zip"
    with zipfile.ZipFile(z2, "w") as f:
        f.writestr("PPRRVU2026_Oct_nonQPP.csv", _pprrvu_2026())
        f.writestr(
            "ANES2026.csv",
            "Contractor,Locality,Locality Name,National Anes CF of 20.4976\n10112 ,00 ,ALABAMA,19.52 \n",
        )
    assert runner.invoke(app, ["reference", "import", str(z2)]).exit_code == 0
    non = pfs.price("00790", locality="10112-00", year=2026, minutes=60)
    qp = pfs.price("00790", locality="10112-00", year=2026, minutes=60, qp=True)
    # 19.52 x 20.5998 / 20.4976 = 19.61733 -> 19.62; 11 units x 19.52 = 214.72, x 19.62 = 215.82
    assert (non.anesthesia_cf, qp.anesthesia_cf, non.allowed, qp.allowed) == (
        19.52,
        19.62,
        214.72,
        215.82,
    )
    assert "x 20.5998/20.4976" in qp.note
    bad = tmp_path / "PPRRVU2026_bad.csv"
    bad.write_text(_pprrvu_2026("31.0000"))
    r = runner.invoke(app, ["reference", "import", str(bad)])
    assert r.exit_code == 2 and "CONV FACTOR" in r.output


# --- item 13: CMS's locality anesthesia CFs ------------------------------------------------------


def test_packaged_anesthesia_cfs_are_cms_values() -> None:
    """The packaged 2025 locality anesthesia CFs are CMS's ANES2025 values (109 localities).

    Source: CMS ANES2025.csv (RVU25D): Alabama 19.31, Alaska 27.86, Wisconsin 19.29.
    """
    t = pfs.load_tables(2025)
    a = t.anesthesia_cf.set_index("locality")["anes_cf"]
    assert len(a) == 109 and set(a.index) == set(t.gpci["locality"])
    assert (a["10112-00"], a["02102-01"], a["06302-00"]) == (19.31, 27.86, 19.29)


def test_anesthesia_cf_equals_cms_in_all_109_localities() -> None:
    """Pricing uses CMS's published locality anesthesia CF in every one of the 109 localities.

    Source: CMS ANES2025.csv and ANES2025.txt (the same values in two layouts). The fitted
    shares it replaces missed CMS's value by a cent in 6 localities (issue 11 item 13); the
    refitted shares (used only for a year without an ANES file) reproduce all 109.
    """
    csv_t = pfs.read_anesthesia_cf(CMS / "ANES2025.csv").set_index("locality")["anes_cf"]
    txt_t = pfs.read_anesthesia_cf(CMS / "ANES2025.txt").set_index("locality")["anes_cf"]
    pd.testing.assert_series_equal(csv_t, txt_t)
    locs = sorted(pfs.localities(2025)["locality"])
    lines = pd.DataFrame(
        {"cpt": "00790", "units": 60.0, "unit_type": "MJ", "locality": locs, "pos": "21"}
    )
    out = pfs.medicare_allowed(lines, year=2025, detail=True)
    got = pd.Series(out["anes_cf"].to_numpy(), index=locs)
    assert len(got) == 109
    pd.testing.assert_series_equal(got, csv_t.loc[locs], check_names=False)
    # 11 units x CMS's CF, to the cent, in every locality
    assert np.allclose(out["medicare_allowed"].to_numpy(), np.round(11 * csv_t.loc[locs], 2))
    # a custom national CF takes the share formula: the packaged fitted shares reproduce all
    # 109 CMS values; the shares used before this change missed 6
    fitted = pfs.medicare_allowed(lines, year=2025, anesthesia_cf=20.3178, detail=True)
    assert (fitted["anes_cf"].to_numpy() == got.to_numpy()).all()
    old = pfs.medicare_allowed(
        lines,
        year=2025,
        anesthesia_cf=20.3178,
        anesthesia_shares=(0.7686, 0.1664, 0.0650),
        detail=True,
    )
    assert int((old["anes_cf"].to_numpy() != got.to_numpy()).sum()) == 6


def test_anesthesia_cf_reader_both_layouts_and_errors(tmp_path) -> None:
    """Padded CSV and fixed-width TXT (implied decimals, trailing Ctrl-Z) give one table; a
    damaged record names the file and line.

    Source: CMS ANES2025 layouts (shared cms/README: CSV values padded with trailing spaces;
    TXT contractor 1-5, locality 13-14, name 19-58, CF 74-77 implied decimals, Ctrl-Z).
    """
    csv_b = (
        b"Contractor,Locality,Locality Name,National Anes CF of 20.3178\r\n"
        b"10112 ,00 ,ALABAMA,19.31 \r\n02102 ,01 ,ALASKA*,27.86 \r\n,,,\r\n"
    )

    def rec(mac: str, loc: str, name: str, cf: str) -> str:
        return f"{mac}       {loc}    {name:<40}{'':15}{cf}\r\n"

    txt_b = (rec("10112", "00", "ALABAMA", "1931") + rec("02102", "01", "ALASKA", "2786")).encode()
    a = pfs.read_anesthesia_cf(csv_b, "ANES2025.csv")
    b = pfs.read_anesthesia_cf(txt_b + b"\x1a", "ANES2025.txt")
    assert a.attrs["national_cf"] == "20.3178" and b.attrs["national_cf"] is None
    pd.testing.assert_frame_equal(a[["locality", "anes_cf"]], b[["locality", "anes_cf"]])
    assert a["anes_cf"].tolist() == [27.86, 19.31]  # sorted by locality: 02102-01 first
    with pytest.raises(pfs.ReferenceError, match=r"ANES2025.txt: line 2"):
        pfs.read_anesthesia_cf(txt_b.replace(b"02102", b"0210X"), "ANES2025.txt")
    with pytest.raises(pfs.ReferenceError, match=r"ANES2025.csv: line 3: anesthesia CF"):
        pfs.read_anesthesia_cf(csv_b.replace(b"27.86", b"27.8x"), "ANES2025.csv")


# --- item 4: modifier AD --------------------------------------------------------------------------


def test_modifier_ad_pays_three_base_units_not_half() -> None:
    """AD: 3 base units (+1 time unit when present at induction), not 50% of the allowance.

    Source: Palmetto GBA, "HCPCS Modifier AD": "Payment for services that are medically
    supervised is based on three base units per procedure with an additional unit of time if the
    physician documents that he or she was present at induction" (docs/domain.md §3.1).
    """
    # Alabama 2025, CMS locality anesthesia CF 19.31 (ANES2025)
    ad = pfs.price("00790", modifier="AD", locality="10112-00", minutes=95)
    assert (ad.allowed, ad.anesthesia_base_units, ad.anesthesia_time_units) == (57.93, 3.0, 0.0)
    assert ad.payment_fraction == 1.0  # 3 x 19.31 = 57.93
    ind = pfs.price(
        "00790", modifier="AD", locality="10112-00", minutes=95, ad_present_at_induction=True
    )
    assert (ind.allowed, ind.anesthesia_time_units) == (77.24, 1.0)  # 4 x 19.31
    # minutes do not change an AD line
    assert pfs.price("00790", modifier="AD", locality="10112-00", minutes=300).allowed == 57.93
    # QK stays 50% of (7 base + 95/15 = 6.3 time units) = 13.3 x 19.31 = 256.823 x 0.5 -> 128.41
    assert pfs.price("00790", modifier="QK", locality="10112-00", minutes=95).allowed == 128.41
    assert "AD" not in pfs.ANESTHESIA_MILLI


# --- item 14: ZIP to locality ----------------------------------------------------------------------


def test_zip_localities_from_packaged_cms_zip5() -> None:
    """ZIP5 -> MAC-locality from CMS's ZIP5 file (Oct 2025); ZIP9-only ZIPs are flagged.

    Source: CMS ZIP5_OCT2025.txt (42,956 ZIPs, 580 with the plus-four flag; Kansas/Missouri
    written as EK/WK/EM/WM pseudo-states).
    """
    z = pd.Series(["10001", "77030-1234", "66101", "64108", "01434", "99999", "1234", ""])
    out = localities.zip_localities(z)
    assert out["locality"].tolist() == [
        "13202-01",
        "04412-18",
        "05202-00",
        "05302-02",
        "",
        "",
        "",
        "",
    ]
    assert "needs ZIP9" in out["zip_status"].iloc[4]
    assert out["zip_status"].iloc[5] == "ZIP not in CMS's ZIP5 file"
    assert "not 5 digits" in out["zip_status"].iloc[6] and out["zip_status"].iloc[7] == "no ZIP"
    t = localities.load_zip5()
    assert len(t) == 42956 and int(t["needs_zip9"].sum()) == 580
    assert t.loc["66101", "state"] == "KS" and t.loc["66101", "zip_state"] == "EK"
    assert localities.zip5_vintage()["year_quarter"] == ["20254"]


def test_read_zip5_layout_and_errors() -> None:
    """The fixed-width reader takes CMS's layout and names the file and line of a bad record.

    Source: CMS ZIP5lyout.txt (state 1-2, ZIP 3-7, carrier 8-12, locality 13-14, plus-four
    flag 21, year/quarter 76-80).
    """
    good = "AK995010210201 Z9   0 A" + " " * 52 + "20254\r\n"
    split = "MA014341421201 Z9   1 A" + " " * 52 + "20254\r\n"
    t = localities.read_zip5((good + split).encode(), "ZIP5.txt")
    assert t["locality"].tolist() == ["14212-01", "02102-01"]
    assert t["needs_zip9"].tolist() == [True, False]
    with pytest.raises(localities.ReferenceError, match=r"ZIP5.txt: line 2"):
        localities.read_zip5((good + "garbage\r\n").encode(), "ZIP5.txt")


def test_benchmark_takes_locality_from_service_zip() -> None:
    """A line without a locality is priced at its service-facility ZIP's locality; a ZIP that
    needs ZIP9 falls back to the default and says so; the line's own locality wins.

    Source: issue 11 item 14; CMS ZIP5_OCT2025 (77030 -> Houston 04412-18; 01434 plus-four).
    """
    lines = pd.DataFrame(
        {
            "claim_id": ["A", "B", "C", "D"],
            "line_no": [1, 1, 1, 1],
            "cpt": ["99285"] * 4,
            "pos": ["23"] * 4,
            "locality": ["", "", "09102-04", ""],
            "service_zip": ["77030", "01434", "77030", ""],
        }
    )
    b = benchmark.build_benchmarks(lines, year=2025, default_locality="13202-01")
    assert b["locality"].tolist() == ["04412-18", "13202-01", "09102-04", "13202-01"]
    src = b["locality_source"].tolist()
    assert src[0].startswith("ZIP 77030") and src[2] == "line" and src[3] == "default 13202-01"
    assert "needs ZIP9" in src[1] and src[1].startswith("default 13202-01")
    # HOUSTON: (4.00x1.014 + 0.79x1.003 + 0.43x1.409) = 5.45424 x 32.3465 = 176.42557 -> 176.43
    assert b["medicare_allowed"].iloc[0] == 176.43


def test_837p_carries_the_billing_provider_zip() -> None:
    """837P claim lines carry the billing provider's N403 ZIP when no 2310C facility is given.

    Source: ASC X12 005010X222A1 (2010AA N4 billing provider address; 2310C N4 service
    facility location); ../shared/data/real/lfh_837p_demo.example1.837 (N4*MIAMI*FL*331110000).
    """
    from oonplaybook.ingest import read_837p

    name = "lfh_837p_demo.example1.837"
    c = read_837p((SHARED / name).read_bytes(), name, salt="s")
    assert set(c.claim_lines["service_zip"]) == {"331110000"}
    assert localities.zip_localities(c.claim_lines["service_zip"])["locality"].iloc[0] != ""


# --- item 15: reference status ----------------------------------------------------------------------


def _claims_2025_2026() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "claim_id": ["a", "b", "c"],
            "cpt": ["99213", "00790", "99285"],
            "service_date": pd.to_datetime(["2025-06-01", "2026-03-01", "2026-11-20"]),
            "state": ["NY", "TX", "TX"],
            "locality": ["13202-01", "", ""],
            "service_zip": ["", "77030", "77030"],
        }
    )


def test_reference_status_flags_what_the_claims_need() -> None:
    """2026 services priced with 2025 RVUs are stale; 2025 ones are not; 2026 anesthesia without
    CMS's ANES2026 is stale; the ZIP file older than ZIP-located services is stale.

    Source: issue 11 item 15 ("flags what is stale for the claims at hand (2026 services priced
    with 2025 RVUs ...)").
    """
    rows = {(r.table, r.key): r for r in status.reference_status(_claims_2025_2026())}
    assert not rows[("PFS RVUs", "2025")].stale
    r26 = rows[("PFS RVUs", "2026")]
    assert r26.stale and "2 lines of 2026 services" in r26.detail and "2025 RVUs" in r26.detail
    assert not rows[("PFS GPCIs", "2026")].stale  # the packaged 2026 GPCIs are the year's own
    assert rows[("PFS anesthesia CFs", "2026")].stale
    assert not rows[("PFS anesthesia CFs", "2025")].stale
    assert rows[("ZIP to locality", "ZIP5")].stale
    assert "GPCI2026.csv (sha256 7850e2987d12)" == rows[("PFS GPCIs", "2026")].source
    quiet = status.reference_status(None)
    assert not any(r.stale for r in quiet if r.table.startswith("PFS"))
    assert any(r.table == "state surprise billing" for r in quiet)


def test_state_rows_checked_before_a_statute_change_are_stale() -> None:
    """A state row last checked before a recorded statute change, or never checked, is stale
    when the claims are in that state; other states' rows are only listed.

    Source: issue 11 item 15 ("a state table row last checked before a statute change").
    """
    doc = b"""
surprise_billing:
  TX: {enabled: true, last_checked: "2025-01-15", amended: "2025-09-01"}
  NY: {enabled: true}
  NJ: {enabled: true, last_checked: "2026-12-02"}
  GA: {enabled: true, last_checked: "2024-01-01", statute_changed: "2025-01-01"}
"""
    facts = status._claim_facts(_claims_2025_2026())
    rows = {r.key: r for r in status._state_rows(facts, doc)}
    assert rows["TX"].stale and "before the statute change of 2025-09-01" in rows["TX"].detail
    assert rows["NY"].stale and "never checked" in rows["NY"].detail
    assert not rows["NJ"].stale
    assert not rows["GA"].stale and "before the statute change" in rows["GA"].detail  # no GA claims
    broken = status._state_rows(facts, b"surprise_billing: [unclosed")
    assert broken[0].stale and "does not parse" in broken[0].detail


def test_reference_status_cli(tmp_path) -> None:
    """`oonplaybook reference status --claims ... --json` lists every table; a missing claims
    file exits 2 naming it.

    Source: issue 11 item 15.
    """
    p = tmp_path / "claim_lines.parquet"
    _claims_2025_2026().to_parquet(p)
    r = runner.invoke(app, ["reference", "status", "--claims", str(p), "--json"])
    assert r.exit_code == 0, r.output
    got = json.loads(r.output)
    stale = {(d["table"], d["key"]) for d in got if d["stale"]}
    assert ("PFS RVUs", "2026") in stale and ("PFS RVUs", "2025") not in stale
    packaged = {d["key"] for d in got if d["table"] == "packaged file"}
    assert all(not k.startswith(("pprrvu", "gpci", "zip5")) for k in packaged)
    table = runner.invoke(app, ["reference", "status", "--claims", str(p)])
    assert table.exit_code == 0 and "STALE" in table.output
    r = runner.invoke(app, ["reference", "status", "--claims", str(tmp_path / "nope.parquet")])
    assert r.exit_code == 2 and "nope.parquet" in r.output


#: The build's own source folder (the full CMS set, GPCI2026 and ZIP5 included).
BUILD_SOURCE = CMS  # tests/data/real/cms (copied from ../shared; tests/data/README.md)


def test_build_reference_rebuilds_the_packaged_tables(tmp_path) -> None:
    """scripts/build_reference.py rebuilds every packaged PFS/ANES/ZIP table byte for byte from
    CMS's files and records each file's SHA-256; the 2026 excerpt is never packaged as RVUs.

    Source: issue 11 ("keep scripts/build_reference.py working ... record vintages and
    SHA-256"); ../shared/data/real/cms.
    """
    import hashlib
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    r = subprocess.run(
        [
            sys.executable,
            str(root / "scripts" / "build_reference.py"),
            str(BUILD_SOURCE),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr + r.stdout
    data = root / "src" / "oonplaybook" / "reference" / "data"
    built = sorted(p.name for p in tmp_path.iterdir())
    assert built == [
        "anes_cf_2025.csv",
        "gpci_2025.csv",
        "gpci_2026.csv",
        "pfs_2025.json",
        "pfs_2026.json",
        "pprrvu_2025.parquet",
        "zip5_locality.json",
        "zip5_locality.parquet",
    ]
    for name in built:
        assert (tmp_path / name).read_bytes() == (data / name).read_bytes(), name
    m = json.loads((tmp_path / "pfs_2025.json").read_text())
    sha = hashlib.sha256((BUILD_SOURCE / "ANES2025.csv").read_bytes()).hexdigest()
    assert m["anesthesia_cf"]["sha256"] == sha and m["anesthesia_cf"]["national_cf"] == "20.3178"
    assert json.loads((tmp_path / "pfs_2026.json").read_text())["pprrvu"] is None
