"""Medicare PFS engine: hand-computed cases to the cent, status codes, modifiers, anesthesia.

Every expected amount below was computed by hand from the CMS formula
``[(wRVU x wGPCI) + (peRVU x peGPCI) + (mpRVU x mpGPCI)] x CF`` (CF 2025 = 32.3465, the CONV
FACTOR column of PPRRVU2025_Oct.csv) with the RVUs of PPRRVU2025_Oct.csv and the GPCIs of
GPCI2025.csv (../shared/data/real/cms), rounded half up to the cent; payment fractions are
applied to the rounded fee. Facility POS (21, 22, 23) uses the facility PE RVU.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oonplaybook.reference import pfs

#: Public sample files copied into the repository (tests/data/README.md gives their provenance).
SHARED = Path(__file__).resolve().parent / "data" / "real"

# (code, modifiers, locality, pos, units, expected allowed)
CASES = [
    # MANHATTAN: (1.30x1.065 + 1.35x1.166 + 0.10x1.656) = 3.12420 x 32.3465 = 101.056935 -> 101.06
    ("99213", "", "13202-01", "11", 1, 101.06),
    # ALASKA: (1.30x1.5 + 1.35x1.081 + 0.10x0.592) = 3.46855 x 32.3465 = 112.195453 -> 112.20
    ("99213", "", "02102-01", "11", 1, 112.20),
    # WYOMING: (1.30x1 + 1.35x1 + 0.10x0.739) = 2.72390 x 32.3465 = 88.108631 -> 88.11
    ("99213", "", "03602-21", "11", 1, 88.11),
    # ALABAMA: (1.92x1 + 1.80x0.869 + 0.15x0.575) = 3.57045 x 32.3465 = 115.491561 -> 115.49
    ("99214", "", "10112-00", "11", 1, 115.49),
    # MANHATTAN: (4.00x1.065 + 0.79x1.166 + 0.43x1.656) = 5.89322 x 32.3465 = 190.625041 -> 190.63
    ("99285", "", "13202-01", "23", 1, 190.63),
    # MIAMI: (4.00x1 + 0.79x1.027 + 0.43x2.5) = 5.88633 x 32.3465 = 190.402173 -> 190.40
    ("99285", "", "09102-04", "23", 1, 190.40),
    # ALASKA: (4.00x1.5 + 0.79x1.081 + 0.43x0.592) = 7.10855 x 32.3465 = 229.936713 -> 229.94
    ("99285", "", "02102-01", "23", 1, 229.94),
    # SAN JOSE-SUNNYVALE-SANTA CLARA (SANTA CLARA CNTY): (4.50x1.1 + 1.42x1.435 + 0.44x0.42) = 7.17250 x 32.3465 = 232.005271 -> 232.01
    ("99291", "", "01112-09", "21", 1, 232.01),
    # MONTANA: (4.50x1 + 1.42x1 + 0.44x0.978) = 6.35032 x 32.3465 = 205.410626 -> 205.41
    ("99291", "", "03202-01", "21", 1, 205.41),
    # ALABAMA: (0.22x1 + 0.77x0.869 + 0.02x0.575) = 0.90063 x 32.3465 = 29.132228 -> 29.13
    ("71046", "", "10112-00", "11", 1, 29.13),
    # MANHATTAN: (0.22x1.065 + 0.08x1.166 + 0.01x1.656) = 0.34414 x 32.3465 = 11.131725 -> 11.13
    ("71046", "26", "13202-01", "22", 1, 11.13),
    # MIAMI: (0.00x1 + 0.69x1.027 + 0.01x2.5) = 0.73363 x 32.3465 = 23.730363 -> 23.73
    ("71046", "TC", "09102-04", "11", 1, 23.73),
    # BAKERSFIELD: (0.85x1.017 + 2.35x1.093 + 0.05x0.662) = 3.46610 x 32.3465 = 112.116204 -> 112.12
    ("70450", "", "01112-54", "11", 1, 112.12),
    # ALASKA: (0.85x1.5 + 0.31x1.081 + 0.04x0.592) = 1.63379 x 32.3465 = 52.847388 -> 52.85
    ("70450", "26", "02102-01", "23", 1, 52.85),
    # WYOMING: (0.00x1 + 2.04x1 + 0.01x0.739) = 2.04739 x 32.3465 = 66.225901 -> 66.23
    ("70450", "TC", "03602-21", "11", 1, 66.23),
    # HOUSTON: (0.75x1.014 + 0.32x1.003 + 0.01x1.409) = 1.09555 x 32.3465 = 35.437208 -> 35.44
    ("88305", "26", "04412-18", "21", 1, 35.44),
    # HOUSTON: (0.00x1.014 + 1.06x1.003 + 0.01x1.409) = 1.07727 x 32.3465 = 34.845914 -> 34.85
    ("88305", "TC", "04412-18", "11", 1, 34.85),
    # MONTANA: (0.17x1 + 0.24x1 + 0.02x0.978) = 0.42956 x 32.3465 = 13.894763 -> 13.89
    ("93000", "", "03202-01", "11", 1, 13.89),
    # MANHATTAN: (19.60x1.065 + 15.30x1.166 + 3.98x1.656) = 45.30468 x 32.3465 = 1465.447832 -> 1465.45
    ("27447", "", "13202-01", "21", 1, 1465.45),
    # WYOMING: (19.60x1 + 15.30x1 + 3.98x0.739) = 37.84122 x 32.3465 = 1224.031023 -> 1224.03 x 0.16 (asst 16%)
    ("27447", "80", "03602-21", "21", 1, 195.84),
    # MIAMI: (19.60x1 + 15.30x1.027 + 3.98x2.5) = 45.26310 x 32.3465 = 1464.102864 -> 1464.10 x 1.5 (bilat ind 1 150%)
    ("27447", "50", "09102-04", "21", 1, 2196.15),
    # ALABAMA: (19.60x1 + 15.30x0.869 + 3.98x0.575) = 35.18420 x 32.3465 = 1138.085725 -> 1138.09 x 0.5 (mult proc ind 2 50%)
    ("27447", "51", "10112-00", "21", 1, 569.05),
    # BAKERSFIELD: (1.30x1.017 + 1.35x1.093 + 0.10x0.662) = 2.86385 x 32.3465 = 92.635524 -> 92.64 x 2 units
    ("99213", "", "01112-54", "11", 2, 185.28),
    # SAN JOSE-SUNNYVALE-SANTA CLARA (SANTA CLARA CNTY): (0.60x1.1 + 0.30x1.435 + 0.04x0.42) = 1.10730 x 32.3465 = 35.817279 -> 35.82
    ("G0453", "", "01112-09", "21", 1, 35.82),
    # HOUSTON: (0.60x1.014 + 0.32x1.003 + 0.04x1.409) = 0.98572 x 32.3465 = 31.884592 -> 31.88 x 4 units
    ("95940", "", "04412-18", "21", 4, 127.52),
    # NORTH DAKOTA: (2.74x1 + 0.57x1 + 0.29x0.517) = 3.45993 x 32.3465 = 111.916626 -> 111.92
    ("99284", "", "03302-01", "23", 1, 111.92),
    # SOUTH DAKOTA: (1.60x1 + 0.35x1 + 0.16x0.382) = 2.01112 x 32.3465 = 65.052693 -> 65.05
    ("99283", "", "03402-02", "23", 1, 65.05),
    # ALASKA: (0.79x1.5 + 1.04x1.081 + 0.13x0.592) = 2.38620 x 32.3465 = 77.185218 -> 77.19
    ("20610", "", "02102-01", "11", 1, 77.19),
    # CHICAGO: (0.79x1.007 + 0.44x1.023 + 0.13x2.018) = 1.50799 x 32.3465 = 48.778199 -> 48.78
    ("20610", "", "06102-16", "22", 1, 48.78),
    # NEVADA: (0.18x1 + 0.51x1 + 0.01x0.844) = 0.69844 x 32.3465 = 22.592089 -> 22.59
    ("99211", "", "01312-00", "11", 1, 22.59),
    # ALABAMA: (1.30x1 + 0.57x0.869 + 0.10x0.575) = 1.85283 x 32.3465 = 59.932566 -> 59.93
    ("99213", "", "10112-00", "22", 1, 59.93),
    # DALLAS: (1.10x1.011 + 0.43x1.007 + 0.07x0.877) = 1.60650 x 32.3465 = 51.964652 -> 51.96
    ("99091", "", "04412-11", "11", 1, 51.96),
]

# Anesthesia: (base units + minutes/15 rounded to 0.1) x locality anesthesia CF. The locality CFs
# are CMS's published ANES2025 values (national 20.3178): Alabama 19.31, Alaska 27.86,
# Arizona 20.04, Arkansas 19.21, Bakersfield 20.45. Base units: 00790 = 7, 01402 = 7, 00142 = 4.
ANESTHESIA_CASES = [
    # Alabama 00790, 95 min: 95/15 = 6.333 -> 6.3; (7 + 6.3) = 13.3 x 19.31 = 256.823 -> 256.82
    ("00790", "", "10112-00", 95, 256.82),
    # Alaska 00790, 60 min, QK (medical direction 50%): (7 + 4.0) = 11 x 27.86 = 306.46 x 0.5 = 153.23
    ("00790", "QK", "02102-01", 60, 153.23),
    # Arizona 01402, 120 min: (7 + 8.0) = 15 x 20.04 = 300.60
    ("01402", "", "03102-00", 120, 300.60),
    # Arkansas 00142, 23 min: 23/15 = 1.533 -> 1.5; (4 + 1.5) = 5.5 x 19.21 = 105.655 -> 105.66
    ("00142", "", "07102-13", 23, 105.66),
    # Bakersfield 01402, 47 min: 47/15 = 3.133 -> 3.1; (7 + 3.1) = 10.1 x 20.45 = 206.545 -> 206.55
    ("01402", "AA", "01112-54", 47, 206.55),
]


@pytest.mark.parametrize(("code", "mods", "loc", "pos", "units", "expected"), CASES)
def test_hand_computed_cases_match_to_the_cent(code, mods, loc, pos, units, expected):
    lines = pd.DataFrame(
        {
            "cpt": [code],
            "modifiers": [mods],
            "locality": [loc],
            "pos": [pos],
            "units": [float(units)],
        }
    )
    out = pfs.medicare_allowed(lines)
    assert out["medicare_reason"].iloc[0] == ""
    assert out["medicare_allowed"].iloc[0] == pytest.approx(expected, abs=1e-9)


def test_case_table_breadth():
    locs = {c[2] for c in CASES} | {c[2] for c in ANESTHESIA_CASES}
    assert len(CASES) + len(ANESTHESIA_CASES) >= 30
    assert len(locs) >= 8
    assert "02102-01" in locs  # Alaska (1.5 work GPCI floor)
    assert {"03602-21", "03202-01", "03302-01", "03402-02", "01312-00"} & locs  # frontier states
    assert {"26", "TC"} <= {c[1] for c in CASES}


def test_vectorised_matches_cases_in_one_call():
    lines = pd.DataFrame(
        [(c, m, loc, p, float(u)) for c, m, loc, p, u, _ in CASES],
        columns=["cpt", "modifiers", "locality", "pos", "units"],
        index=pd.RangeIndex(100, 100 + len(CASES)),
    )
    out = pfs.medicare_allowed(lines)
    assert out.index.equals(lines.index)
    np.testing.assert_allclose(out["medicare_allowed"], [c[-1] for c in CASES], atol=1e-9)


@pytest.mark.parametrize(("code", "mods", "loc", "minutes", "expected"), ANESTHESIA_CASES)
def test_anesthesia_cases(code, mods, loc, minutes, expected):
    lines = pd.DataFrame(
        {
            "cpt": [code],
            "modifiers": [mods],
            "locality": [loc],
            "pos": ["21"],
            "units": [float(minutes)],
            "unit_type": ["MJ"],
        }
    )
    out = pfs.medicare_allowed(lines)
    assert out["medicare_status"].iloc[0] == "J"
    assert out["medicare_allowed"].iloc[0] == pytest.approx(expected, abs=1e-9)


def test_anesthesia_locality_cf_reproduces_cms_anes2025():
    # CMS ANES2025 published values; our derived shares must reproduce them to the cent
    published = {
        "10112-00": 19.31,
        "02102-01": 27.86,
        "03102-00": 20.04,
        "07102-13": 19.21,
        "01112-54": 20.45,
    }
    for loc, cf in published.items():
        r = pfs.price("00790", locality=loc, minutes=15, facility=True)
        assert r.anesthesia_cf == pytest.approx(cf, abs=1e-9), loc


def test_anesthesia_in_units_not_minutes_is_refused_with_reason():
    lines = pd.DataFrame(
        {"cpt": ["00790"], "locality": ["13202-01"], "units": [10.0], "unit_type": ["UN"]}
    )
    out = pfs.medicare_allowed(lines)
    assert np.isnan(out["medicare_allowed"].iloc[0])
    assert "minutes" in out["medicare_reason"].iloc[0]


def test_anesthesia_code_without_base_units_says_so():
    lines = pd.DataFrame(
        {"cpt": ["00102"], "locality": ["13202-01"], "units": [30.0], "unit_type": ["MJ"]}
    )
    assert pfs.medicare_allowed(lines)["medicare_allowed"].notna().iloc[0]  # 00102 is shipped
    lines["cpt"] = ["01999"]
    out = pfs.medicare_allowed(lines)
    assert np.isnan(out["medicare_allowed"].iloc[0])
    assert "base units" in out["medicare_reason"].iloc[0]


@pytest.mark.parametrize(
    ("code", "status", "word"),
    [
        ("00100", "J", "minutes"),
        ("J1100", "E", "excluded"),
        ("0001F", "I", "not valid"),
        ("20930", "B", "bundled"),
        ("0042T", "C", "carrier"),
        ("36415", "X", "statutory"),
    ],
)
def test_unpriced_status_codes_get_nan_and_reason(code, status, word):
    lines = pd.DataFrame({"cpt": [code], "locality": ["13202-01"], "units": [1.0]})
    out = pfs.medicare_allowed(lines)
    assert np.isnan(out["medicare_allowed"].iloc[0])  # never 0
    assert out["medicare_status"].iloc[0] == status
    assert word in out["medicare_reason"].iloc[0]


def test_unknown_code_and_locality_reasons():
    lines = pd.DataFrame(
        {"cpt": ["ZZZZZ", "99213", "99213"], "locality": ["13202-01", "99999-01", ""]}
    )
    out = pfs.medicare_allowed(lines)
    assert out["medicare_allowed"].isna().all()
    assert "not in the CMS PFS" in out["medicare_reason"].iloc[0]
    assert "unknown Medicare locality" in out["medicare_reason"].iloc[1]
    assert "no locality" in out["medicare_reason"].iloc[2]


def test_default_locality_fills_blank_and_unpadded_forms_accepted():
    lines = pd.DataFrame(
        {"cpt": ["99213"] * 3, "locality": ["", "2102-1", "02102-01"], "pos": ["11"] * 3}
    )
    out = pfs.medicare_allowed(lines, default_locality="13202-1")
    assert out["medicare_locality"].tolist() == ["13202-01", "02102-01", "02102-01"]
    assert out["medicare_allowed"].tolist() == [101.06, 112.20, 112.20]


def test_modifier_26_on_code_without_pc_tc_split_is_not_paid():
    lines = pd.DataFrame({"cpt": ["99213"], "modifiers": ["26"], "locality": ["13202-01"]})
    out = pfs.medicare_allowed(lines)
    assert np.isnan(out["medicare_allowed"].iloc[0])
    assert "modifier 26" in out["medicare_reason"].iloc[0]


def test_informational_modifiers_do_not_change_price():
    lines = pd.DataFrame(
        {
            "cpt": ["71046"] * 2,
            "modifiers": ["26", "26:59:XU"],
            "locality": ["13202-01"] * 2,
            "pos": ["22"] * 2,
        }
    )
    out = pfs.medicare_allowed(lines)
    assert out["medicare_allowed"].tolist() == [11.13, 11.13]


def test_assistant_not_paid_when_indicator_forbids():
    # 99213 ASST SURG indicator 0? use a code with indicator 1 (statutory restriction)
    t = pfs.load_tables(2025).rvu
    code = t.loc[(t["asst_surg"] == "1") & (t["status"] == "A") & (t["mod"] == ""), "hcpcs"].iloc[0]
    out = pfs.medicare_allowed(
        pd.DataFrame({"cpt": [code], "modifiers": ["80"], "locality": ["13202-01"]})
    )
    assert np.isnan(out["medicare_allowed"].iloc[0])
    assert "assistant" in out["medicare_reason"].iloc[0]


def test_facility_pos_list_and_explicit_flag():
    assert {"21", "22", "23", "24", "19"} <= pfs.FACILITY_POS
    assert not {"11", "12", "20", "10"} & pfs.FACILITY_POS
    lines = pd.DataFrame(
        {"cpt": ["99213"] * 2, "locality": ["10112-00"] * 2, "facility": [True, False]}
    )
    # non-facility Alabama: (1.30x1 + 1.35x0.869 + 0.10x0.575) = 2.53065 x 32.3465 = 81.8577 -> 81.86
    assert pfs.medicare_allowed(lines)["medicare_allowed"].tolist() == [59.93, 81.86]


def test_price_components_and_errors():
    r = pfs.price("99213", locality="13202-01")
    assert (r.allowed, r.work_rvu, r.pe_rvu, r.mp_rvu) == (101.06, 1.30, 1.35, 0.10)
    assert (r.gpci_work, r.gpci_pe, r.gpci_mp, r.conversion_factor) == (
        1.065,
        1.166,
        1.656,
        32.3465,
    )
    assert r.status == "A" and r.facility is False
    with pytest.raises(pfs.ReferenceError, match="nearest"):
        pfs.price("99219", locality="13202-01")
    with pytest.raises(pfs.ReferenceError, match="nearest"):
        pfs.price("99213", locality="13203-09")


def test_conversion_factors_and_file_column_agree():
    assert pfs.conversion_factor(2025) == pfs.CONVERSION_FACTORS[(2025, True)]
    t = pfs.load_tables(2025)
    assert set(t.rvu["conv_factor"].unique()) == {32.3465}
    assert float(pfs.conversion_factor(2026, qp=True)) == 33.5675
    assert float(pfs.conversion_factor(2026)) == 33.4009


def test_other_year_uses_its_cf_and_says_so():
    """2026 without CMS's 2026 RVU file: 2025 RVUs, packaged 2026 GPCIs, 2026 CF, and it says so.

    Source: issue 11 item 12; GPCI2026.csv (CY2026 Addendum E: Manhattan 1.064 / 1.162 /
    1.586); CY2026 PFS final rule CFs 33.4009 non-QP, 33.5675 QP (docs/domain.md §3.1).
    """
    with pytest.warns(UserWarning, match="2025 RVUs"):
        out = pfs.medicare_allowed(
            pd.DataFrame({"cpt": ["99213"], "locality": ["13202-01"]}), year=2026
        )
    # (1.30x1.064 + 1.35x1.162 + 0.10x1.586) = 3.11050 x 33.4009 = 103.893499 -> 103.89
    assert out["medicare_allowed"].iloc[0] == 103.89
    note = out["medicare_note"].iloc[0]
    assert "2025 RVUs" in note and "2026 GPCIs" in note and "2026 conversion factor" in note
    with pytest.warns(UserWarning):
        qp = pfs.medicare_allowed(
            pd.DataFrame({"cpt": ["99213"], "locality": ["13202-01"]}), year=2026, qp=True
        )
    # 3.11050 x 33.5675 = 104.411709 -> 104.41
    assert qp["medicare_allowed"].iloc[0] == 104.41
    assert "2025 RVUs" in pfs.pricing_note(2026) and pfs.pricing_note(2025) == ""


def test_localities_table():
    loc = pfs.localities(2025)
    assert len(loc) == 109 and loc["locality"].is_unique
    ak = loc.set_index("locality").loc["02102-01"]
    assert (ak["state"], ak["gpci_work"]) == ("AK", 1.5)
    assert loc["locality"].str.fullmatch(r"\d{5}-\d{2}").all()


def test_readers_on_cms_files_match_packaged_tables():
    rvu, meta = pfs.read_pprrvu(SHARED / "cms" / "PPRRVU2025_Oct.csv")
    assert meta["released"] == "2025-09-11" and meta["year"] == 2025
    assert len(rvu) == 19090
    packaged = pfs.load_tables(2025).rvu
    pd.testing.assert_frame_equal(
        rvu.reset_index(drop=True), packaged[rvu.columns].reset_index(drop=True), check_dtype=False
    )
    g = pfs.read_gpci(SHARED / "cms" / "GPCI2025.csv")
    assert len(g) == 109 and "01112-54" in set(g["locality"])  # unpadded "1112","54" in the file
    assert g.set_index("locality").loc["03602-21", "footnote"] == "**"


def test_pprrvu_layout_errors_name_file_and_column(tmp_path):
    bad = tmp_path / "PPRRVU_bad.csv"
    bad.write_text("HCPCS,MOD,DESCRIPTION,STATUS CODE\n99213,,,A\n")
    with pytest.raises(pfs.ReferenceError, match=r"PPRRVU_bad.csv.*NOT USED FOR MEDICARE"):
        pfs.read_pprrvu(bad)
    with pytest.raises(pfs.ReferenceError, match="no header row"):
        pfs.read_gpci(b"just,some,text\n")


def test_million_line_pricing_is_fast():
    import time

    rng = np.random.default_rng(0)
    n = 200_000
    codes = np.array(["99213", "99285", "71046", "27447", "00790"])
    loc = pfs.localities().locality.to_numpy()
    lines = pd.DataFrame(
        {
            "cpt": codes[rng.integers(0, 5, n)],
            "modifiers": "",
            "units": 1.0,
            "unit_type": "UN",
            "pos": "11",
            "locality": loc[rng.integers(0, len(loc), n)],
        }
    )
    t0 = time.perf_counter()
    out = pfs.medicare_allowed(lines)
    assert time.perf_counter() - t0 < 5.0  # a row loop takes ~7 s (benchmarks/benchmark_ladder.py)
    assert out["medicare_allowed"].notna().sum() == (lines["cpt"] != "00790").sum()


# Family multiple-procedure reductions (modifier 51), Alabama 10112-00 (1, 0.869, 0.575), non-facility.
# 70450 TC: (0.00x1 + 2.04x0.869 + 0.01x0.575) = 1.77851 x 32.3465 = 57.5284 -> 57.53
# 70450 26: (0.85x1 + 0.31x0.869 + 0.04x0.575) = 1.14239 x 32.3465 = 36.9519 -> 36.95
# 70450 global: 2.92090 x 32.3465 = 94.4809 -> 94.48
MPPR_CASES = [
    # indicator 4 global: 94.48 - 0.5 x 57.53 (28.765 -> 28.77) - 0.05 x 36.95 (1.8475 -> 1.85) = 63.86
    ("70450", "51", 63.86),
    # 26 line: 36.95 - 1.85 = 35.10
    ("70450", "26:51", 35.10),
    # TC line: 57.53 - 28.77 = 28.76
    ("70450", "TC:51", 28.76),
    # indicator 5 (therapy), PE halved: (0.45x1 + 0.5 x 0.43x0.869 + 0.01x0.575) = 0.642585 x 32.3465 = 20.7853 -> 20.79
    ("97110", "51", 20.79),
]


@pytest.mark.parametrize(("code", "mods", "expected"), MPPR_CASES)
def test_family_multiple_procedure_reductions(code, mods, expected):
    r = pfs.price(code, modifier=mods, locality="10112-00")
    assert r.allowed == pytest.approx(expected, abs=1e-9)
    assert "indicator" in r.note


def test_reference_vintages_for_manifest():
    v = pfs.reference_vintages()
    assert v["pfs_2025"]["released"] == "2025-09-11"
    assert v["pfs_2025"]["conversion_factor_file"] == ["32.3465"]
    assert v["conversion_factors"]["2026 QP"] == "33.5675"
    # Ventra Health: "a separate CF of $20.5998" for Advanced APM participants (docs/domain.md §3.1)
    assert v["anesthesia_conversion_factors"]["2026 QP"] == "20.5998"
    assert v["pfs_2026"]["rvu_year"] == 2025 and v["pfs_2026"]["gpci_file"] == "GPCI2026.csv"
    assert v["notes"] == [v["pfs_2026"]["note"]] and "2025 RVUs" in v["notes"][0]
