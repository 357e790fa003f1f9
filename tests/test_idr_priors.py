"""IDR priors from CMS's supplemental tables: loader traps, synthetic XLSX release, shrinkage."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oonplaybook import idr
from oonplaybook.reference import idr_priors as ip

DATA = Path(__file__).parent / "data" / "idr"
SUPP = sorted(DATA.glob("supp_*.parquet"))


@pytest.fixture(scope="module")
def tables() -> ip.SupplementalTables:
    return ip.load_supplemental(SUPP)


def test_table12_outcomes_by_quarter_and_segment(tables: ip.SupplementalTables) -> None:
    o = tables.outcomes.set_index(["quarter", "segment"])
    q2 = o.loc[("2025Q2", "oon")]
    assert q2["determinations"] == 603757 and q2["provider_wins"] == 532614
    assert q2["one_offer"] == 134103 and q2["split"] == 463
    assert o.loc[("2023Q1", "oon"), "provider_wins"] / o.loc[
        ("2023Q1", "oon"), "determinations"
    ] == (pytest.approx(0.720, abs=0.001))
    assert o.loc[("2025Q2", "air"), "determinations"] == 12263
    assert tables.vintage == "2025Q2"
    assert len(tables.outcomes) == 20  # 10 quarters x (OON, air)


def test_unit_switch_to_percent_in_2025q1(tables: ip.SupplementalTables) -> None:
    s = tables.specialties.set_index(["quarter", "specialty"])["median_x"]
    assert s[("2024Q4", "Emergency Department Services")] == pytest.approx(3.07)
    assert s[("2025Q1", "Emergency Department Services")] == pytest.approx(3.14)  # 314%
    assert s[("2025Q2", "Radiology")] == pytest.approx(5.12)
    b = tables.bands.set_index(["quarter", "band"])["median_x"]
    assert b[("2025Q2", "<$100")] == pytest.approx(5.91)
    assert b[("2024Q4", ">=$10,000")] == pytest.approx(1.73)
    # a value in the wrong unit for its quarter is refused, never guessed
    with pytest.raises(ip.IdrTablesError, match="percent of QPA from 2025Q1"):
        ip.median_as_multiple(3.12, "2025Q2")
    with pytest.raises(ip.IdrTablesError, match="multiple of QPA through 2024Q4"):
        ip.median_as_multiple(312.0, "2024Q4")


def test_missing_medians_are_kept_missing_and_carried(tables: ip.SupplementalTables) -> None:
    s = tables.specialties
    q3 = s[s["quarter"].eq("2023Q3")]
    assert len(q3) > 10 and q3["median_x"].isna().all()
    assert any("missing in 2023Q3, 2023Q4" in n for n in tables.notes)
    pri = ip.build_priors(tables)
    r = pri[
        (pri["quarter"] == "2023Q4") & (pri["specialty"] == "Radiology") & (pri["band"] == "all")
    ]
    assert r["median_quarter"].iloc[0] == "2023Q2"
    assert r["specialty_median_raw"].iloc[0] == pytest.approx(3.36)
    assert "2023Q4 medians missing in the tables: 2023Q2 carried" in r["source"].iloc[0]
    # the win rate is the quarter's own (Table 12 has 2023Q4)
    assert r["win_probability"].iloc[0] == pytest.approx(61966 / 73096)


def test_specialty_name_drift_is_aliased(tables: ip.SupplementalTables) -> None:
    s = tables.specialties
    names = set(s["specialty"])
    assert "Radiology " not in names and "Newborn Care Services 29" not in names
    assert "Pathology and Lab" not in names and "Cardiovascular Procedures" not in names
    path = s[s["specialty"].eq("Pathology and Laboratory")].set_index("quarter")
    assert {"2023Q1", "2024Q1", "2025Q2"} <= set(path.index)
    # inpatient and observation (separate in 2023) merge into one label, determinations summed
    hio = s[
        (s["specialty"] == "Hospital Inpatient and Observation Care Services")
        & (s["quarter"] == "2023Q1")
    ]
    assert hio["determinations"].iloc[0] == 312 + 173
    assert hio["median_x"].iloc[0] == pytest.approx(
        math.exp((312 * math.log(1.79) + 173 * math.log(1.24)) / 485)
    )
    assert ip.canonical_specialty("Hydration, Therapeutic, ... Agent Administration ") == (
        "Hydration, Infusions and Chemotherapy Administration"
    )
    assert ip.canonical_band("$5,000 - 10,000") == "$5,000-$10,000"
    assert ip.canonical_band(">$10,000") == ip.canonical_band(">=$10,000") == ">=$10,000"


def test_mislabelled_files_are_recognised_by_content(tables: ip.SupplementalTables) -> None:
    notes = " ".join(tables.notes)
    assert "supp_closure_reasons.parquet holds Table 4" in notes
    assert "supp_eligibility.parquet holds Table 5" in notes
    # without the real Table 12 the loader says which table is missing, whatever the names
    with pytest.raises(ip.IdrTablesError, match="no Table 12"):
        ip.load_supplemental(
            [
                DATA / "supp_closure_reasons.parquet",
                DATA / "supp_eligibility.parquet",
                DATA / "supp_qpa_by_cost_band.parquet",
                DATA / "supp_qpa_by_specialty.parquet",
            ]
        )


def test_air_ambulance_puf_medians() -> None:
    a = ip.air_ambulance_medians(DATA / "air_prevailing_offers.parquet").set_index("quarter")
    assert a.loc["2025Q2", "median_x"] == pytest.approx(2.41)  # ratios, despite "% of QPA"
    assert "2024Q3" not in a.index and "2024Q4" not in a.index  # offers all null there


def test_wilson_interval_and_one_offer_share(tables: ip.SupplementalTables) -> None:
    pri = ip.build_priors(tables)
    r = pri[
        (pri["quarter"] == "2025Q2")
        & (pri["specialty"] == "All specialties")
        & (pri["band"] == "all")
        & (pri["segment"] == "oon")
    ].iloc[0]
    p, n = 532614 / 603757, 603757
    z = 1.959963984540054
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert r["win_low"] == pytest.approx(centre - half) and r["win_high"] == pytest.approx(
        centre + half
    )
    assert r["one_offer_share"] == pytest.approx(134103 / 603757)


def test_shrinkage_moves_sparse_cells_toward_the_all_specialty_value() -> None:
    # hand computation: two cells around centre 3 (log scale), sigma 0.7
    med = np.array([6.0, 1.5, 4.0, 2.0])
    n = np.array([10.0, 10.0, 10000.0, 10000.0])
    shrunk, sd, tau2 = ip.shrink_log_medians(med, n, 3.0, sigma=0.7)
    y, mu = np.log(med), math.log(3.0)
    v = math.pi / 2 * 0.49 / n
    w = 1 / v
    q = float((w * (y - mu) ** 2).sum())
    tau2_hand = max(0.0, (q - 4) / (w.sum() - (w**2).sum() / w.sum()))
    assert tau2 == pytest.approx(tau2_hand)
    b = v / (v + tau2_hand)
    assert shrunk == pytest.approx(np.exp(b * mu + (1 - b) * y))
    # the sparse cells move toward 3 far more than the large ones
    assert abs(shrunk[0] - 6.0) > 10 * abs(shrunk[2] - 4.0)
    assert 3.0 < shrunk[0] < 6.0 and 1.5 < shrunk[1] < 3.0


def test_packaged_priors_match_the_shared_tables(tables: ip.SupplementalTables) -> None:
    pk = ip.read_packaged()
    assert pk.vintage == "2025Q2"
    meta = json.loads((ip.PACKAGED_DIR / "meta.json").read_text())
    assert "49c30e52b5495e6bb89db9a5b3ae547398a74946" in meta["source_note"]
    pd.testing.assert_frame_equal(
        pk.outcomes.reset_index(drop=True),
        tables.outcomes.reset_index(drop=True),
        check_dtype=False,
    )
    pr = idr.IdrPriors.default()
    c = pr.cell("radiology", 80.0)
    assert c.quarter == "2025Q2" and c.band == "<$100"
    assert "vintage 2025Q2" in c.prior_source and "Table 14" in c.source
    # award = shrunk radiology median x band <$100 / all-specialty
    row = pr.table[
        (pr.table["quarter"] == "2025Q2")
        & (pr.table["specialty"] == "Radiology")
        & (pr.table["band"] == "<$100")
    ].iloc[0]
    assert c.award_multiple_of_qpa == pytest.approx(
        row["specialty_median_shrunk"] * 5.91 / row["all_specialty_median"]
    )
    # priors by specialty differ as CMS's Table 14 says
    assert (
        pr.cell("radiology").award_multiple_of_qpa
        > pr.cell("emergency_medicine").award_multiple_of_qpa
    )
    assert pr.cell("emergency_medicine", quarter="2024Q4").award_multiple_of_qpa == pytest.approx(
        3.07, abs=0.01
    )
    assert (
        "2026Q1 not in the tables: 2025Q2 used"
        in pr.cell("anesthesiology", quarter="2026Q1").source
    )


def _write_release(path: Path, quarter_title: str) -> None:
    """A synthetic workbook in CMS's release layout: one sheet per table, title rows, footnotes."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Table 12"
    ws.append([f"Table 12: Payment Determination Outcomes, {quarter_title}"])
    ws.append([])
    ws.append(
        [
            "Payment Determination Outcome",
            "OON Emergency and Non-Emergency Items or Services",
            "OON Air Ambulance Services",
            "Total",
        ]
    )
    ws.append(["Total Payment Determinations Made", "1,000", 100, 1100])
    ws.append(
        [
            "Number of Payment Determinations where the Provider, Facility, or Air Ambulance "
            "Provider is the Prevailing Party",
            900,
            80,
            980,
        ]
    )
    ws.append(
        [
            "Number of Payment Determinations where the Health Plan or Issuer is the Prevailing Party",
            100,
            20,
            120,
        ]
    )
    ws.append(["Number of Payment Determinations Resulting in Split Decisions", 0, 0, 0])
    ws.append(
        [
            "Number of Payment Determinations where Only One Party Submitted an Offer and Paid Fees",
            200,
            10,
            210,
        ]
    )
    ws.append(["Source: Federal IDR portal"])
    ws13 = wb.create_sheet("Table 13")
    ws13.append([f"Table 13: Median Prevailing Offer by QPA Range, {quarter_title}"])
    ws13.append(
        [
            "QPA Range",
            "Median Prevailing Offer as Percent of QPA",
            "Total Payment Determinations",
            "Total Items or Services",
        ]
    )
    for band, pct, n in (
        ("<$100", "600%", 500),
        ("$100 - $500", "300%", 500),
        ("$500 - $1,000", "250%", 50),
        ("$1,000 - $5,000", "200%", 50),
        ("$5,000 - 10,000", "150%", 10),
        (">=$10,000", "120%", 10),
    ):
        ws13.append([band, pct, n, n])
    ws13.append(["Notes: medians of the prevailing offer"])
    ws14 = wb.create_sheet("Table 14")
    ws14.append([f"Table 14: Median Prevailing Offer by Specialty, {quarter_title}"])
    ws14.append(
        [
            "CPT Code Range",
            "Specialty",
            "Median Prevailing Offer as Percent of QPA",
            "Total Payment Determinations",
            "Total Items or Services",
        ]
    )
    ws14.append(["70010 - 79999", "Radiology ", "500%", 400, 900])
    ws14.append(["99281 - 99288", "Emergency Department Services", "300%", 500, 600])
    ws14.append(["80047 - 89398", "Pathology and Lab", "1,000%", 4, 4])
    wb.save(path)


def test_synthetic_xlsx_release_layout(tmp_path: Path) -> None:
    path = tmp_path / "federal-idr-supplemental-tables-q3-2025.xlsx"
    _write_release(path, "Q3 2025")
    t = ip.load_supplemental(path)
    assert t.vintage == "2025Q3"
    o = t.outcomes.set_index("segment")
    assert o.loc["oon", "determinations"] == 1000 and o.loc["oon", "provider_wins"] == 900
    s = t.specialties.set_index("specialty")["median_x"]
    assert s["Radiology"] == pytest.approx(5.0) and s["Pathology and Laboratory"] == pytest.approx(
        10.0
    )
    b = t.bands.set_index("band")["median_x"]
    assert b["$5,000-$10,000"] == pytest.approx(1.5)
    pr = idr.IdrPriors.from_supplemental(path)
    c = pr.cell("emergency_medicine", 50.0)
    assert c.quarter == "2025Q3" and c.win_probability == pytest.approx(0.9)
    assert c.one_offer_share == pytest.approx(0.2)
    # all-specialty value = determinations-weighted log mean of the bands; sparse pathology shrinks toward it
    w = np.array([500, 500, 50, 50, 10, 10.0])
    allx = math.exp(np.average(np.log([6, 3, 2.5, 2, 1.5, 1.2]), weights=w))
    patho = pr.cell("pathology")
    assert allx < patho.award_multiple_of_qpa < 10.0
    assert c.award_multiple_of_qpa == pytest.approx(
        pr.cell("emergency_medicine").award_multiple_of_qpa * 6 / allx
    )


def test_xlsx_without_quarter_names_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "tables.xlsx"
    _write_release(path, "")
    with pytest.raises(ip.IdrTablesError, match="no Quarter column"):
        ip.load_supplemental(path)
    with pytest.raises(ip.IdrTablesError, match="no such file"):
        ip.load_supplemental(tmp_path / "nope")


def test_import_a_newer_release_becomes_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from oonplaybook.cli import app

    monkeypatch.setenv("OONPLAYBOOK_CACHE", str(tmp_path / "cache"))
    assert idr.IdrPriors.default().vintage == "2025Q2"
    path = tmp_path / "federal-idr-supplemental-tables-q3-2025.xlsx"
    _write_release(path, "Q3 2025")
    res = CliRunner().invoke(app, ["idr", "import", str(path)])
    assert res.exit_code == 0, res.output
    assert "vintage 2025Q3" in res.output
    pr = idr.IdrPriors.default()
    assert pr.vintage == "2025Q3" and pr.cell("radiology").win_probability == pytest.approx(0.9)
    assert idr.IdrPriors.packaged().vintage == "2025Q2"
    bad = CliRunner().invoke(app, ["idr", "import", str(tmp_path / "missing")])
    assert bad.exit_code == 2 and "no such file" in bad.output
    ip.packaged_priors.cache_clear()
