"""IDR fees, expected value (hand-computed), priors and the CMS PUF loader (synthetic XLSX)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from oonplaybook import idr

D = date


@pytest.mark.parametrize(
    ("init", "batched", "n", "admin", "lo", "hi"),
    [
        (D(2022, 6, 1), False, 1, 50, 200, 500),  # CY2022 guidance
        (D(2022, 6, 1), True, 10, 50, 268, 670),
        (D(2023, 3, 1), False, 1, 350, 200, 700),  # amended 2023 guidance
        (D(2023, 3, 1), True, 30, 350, 294.8, 1031.8),  # 26-50 lines: x1.1 (268, 938)
        (D(2023, 3, 1), True, 90, 350, 348.4, 1219.4),  # 81+ lines: x1.3 -> the $1,219 cap
        (D(2023, 9, 1), False, 1, 50, 200, 700),  # after TMA IV
        (D(2024, 1, 21), False, 1, 50, 200, 700),  # last day before CMS-9890-F
        (D(2024, 1, 22), False, 1, 115, 200, 840),  # CMS-9890-F effective
        (D(2025, 5, 5), True, 25, 115, 268, 1173),  # up to 25 lines: base batched range
        (D(2025, 5, 5), True, 26, 115, 343, 1423),  # +1 increment of 25: +75 / +250
        (D(2025, 5, 5), True, 50, 115, 343, 1423),
        (D(2025, 5, 5), True, 51, 115, 418, 1673),  # +2 increments
        (D(2026, 6, 10), False, 1, 115, 200, 840),
        (D(2026, 6, 11), False, 1, 15, 200, 840),  # CMS-9897-F admin fee
    ],
)
def test_fees_by_initiation_date(
    init: date, batched: bool, n: int, admin: float, lo: float, hi: float
) -> None:
    f = idr.fees(init, batched, n)
    assert f.admin_fee == admin
    assert f.idre_fee_low == pytest.approx(lo)
    assert f.idre_fee_high == pytest.approx(hi)
    assert f.idre_fee == pytest.approx(hi)  # default point: high (conservative)
    assert f.source


def test_fee_errors_and_who_pays() -> None:
    with pytest.raises(ValueError, match="before the federal IDR portal opened"):
        idr.fees(D(2022, 4, 14), False, 1)
    with pytest.raises(ValueError, match="single"):
        idr.fees(D(2025, 1, 6), False, 3)
    f = idr.fees(D(2025, 1, 6), False, 1, fee_point="mid")
    assert f.idre_fee == 520.0  # (200 + 840) / 2
    assert f.cost_if_win == 115.0  # admin only; IDRE fee refunded to the prevailing party
    assert f.cost_if_lose == 635.0  # admin + IDRE fee
    assert f.cost_if_settle == 375.0  # admin + half the IDRE fee


def test_expected_value_hand_computed() -> None:
    f = idr.fees(D(2025, 3, 3), False, 1)  # admin 115, IDRE 840
    ev = idr.expected_value(1000.0, 300.0, 0.8, fees=f)
    # 0.8 * (1000 - 300) = 560 recovery; fees 115 + 0.2 * 840 = 283; EV = 277.
    assert ev.expected_recovery == pytest.approx(560.0)
    assert ev.expected_fees == pytest.approx(283.0)
    assert ev.expected_value == pytest.approx(277.0)
    assert ev.net_if_win == pytest.approx(585.0)
    assert ev.net_if_lose == pytest.approx(-955.0)
    # breakeven: p * 1540 = 955 -> p = 0.62013
    assert ev.breakeven_probability == pytest.approx(955 / 1540)
    # award below the offer and a payer offer below what was paid (provider repays).
    ev2 = idr.expected_value(1000.0, 300.0, 0.5, award_if_win=800.0, fees=f, payer_offer=250.0)
    # 0.5 * 500 + 0.5 * (-50) = 225; fees 115 + 420 = 535; EV = -310
    assert ev2.expected_value == pytest.approx(-310.0)
    with pytest.raises(ValueError):
        idr.expected_value(1000.0, 300.0, 1.2, fees=f)


def test_expected_value_frame_batches_hand_computed() -> None:
    df = pd.DataFrame(
        {
            "batch_id": ["B1", "B1", "S1"],
            "offer": [1000.0, 500.0, 1000.0],
            "paid": [300.0, 200.0, 300.0],
            "win_probability": [0.8, 0.6, 0.8],
        }
    )
    out = idr.expected_value_frame(df, initiation_date=D(2025, 3, 3))
    b1 = out[out["batch_id"].eq("B1")]
    # Batch of 2: admin 115, IDRE 1173. P(provider bears) = P(0 wins) + 0.5 P(1 win)
    # = 0.2*0.4 + 0.5*(0.8*0.4 + 0.2*0.6) = 0.08 + 0.22 = 0.30.
    assert b1["p_provider_bears_idre_fee"].iloc[0] == pytest.approx(0.30)
    # recovery 560 + 180 = 740; fees 115 + 0.3 * 1173 = 466.9; batch EV 273.1
    assert b1["batch_expected_value"].iloc[0] == pytest.approx(273.1)
    assert b1["expected_value"].tolist() == pytest.approx([326.55, -53.45])
    s1 = out[out["batch_id"].eq("S1")].iloc[0]
    assert s1["expected_value"] == pytest.approx(277.0)  # same as the scalar function
    assert s1["batch_lines"] == 1


def test_batch_fee_rules_differ() -> None:
    df = pd.DataFrame(
        {
            "batch_id": ["B"] * 3,
            "offer": [100.0] * 3,
            "paid": [0.0] * 3,
            "win_probability": [0.9, 0.5, 0.5],
        }
    )
    ent = idr.expected_value_frame(df, initiation_date=D(2025, 3, 3))
    # entity (default): the batch is won or lost as a whole; split share from CMS Table 12
    s = idr.SPLIT_SHARE_DEFAULT
    assert ent["p_provider_bears_idre_fee"].iloc[0] == pytest.approx(
        (1 - s) * (1 - 1.9 / 3) + s * 0.30
    )
    maj = idr.expected_value_frame(df, initiation_date=D(2025, 3, 3), batch_fee_rule="majority")
    # majority: P(wins <= 1) = 0.1*0.25 + (0.9*0.25 + 2*0.1*0.25) = 0.025 + 0.275 = 0.30
    assert maj["p_provider_bears_idre_fee"].iloc[0] == pytest.approx(0.30)
    prop = idr.expected_value_frame(
        df, initiation_date=D(2025, 3, 3), batch_fee_rule="proportional"
    )
    assert prop["p_provider_bears_idre_fee"].iloc[0] == pytest.approx(1 - 1.9 / 3)


def test_priors_default_and_frame_lookup() -> None:
    # packaged CMS supplemental tables: 2024 -> its latest quarter 2024Q4 (Table 12: 331,045 of
    # 383,669 OON determinations to the provider; Table 14: ED median 3.07x QPA)
    pr = idr.IdrPriors.default()
    p, m, src = pr.lookup("emergency_medicine", 2024)
    assert p == pytest.approx(331045 / 383669) and m == pytest.approx(3.07, abs=0.01)
    assert "2024Q4" in src
    p, m, src = pr.lookup("anesthesiology", 2026)
    assert p == pytest.approx(532614 / 603757) and m == pytest.approx(3.12, abs=0.01)
    assert "2025Q2 used" in src
    df = pd.DataFrame(
        {
            "offer": [float("nan")],
            "qpa": [200.0],
            "paid": [200.0],
            "specialty": ["emergency_medicine"],
            "year": [2024],
        }
    )
    out = idr.expected_value_frame(df, initiation_date=D(2025, 3, 3))
    # award = m * 200; recovery p * (award - 200); fees 115 + (1 - p) * 840
    p, m, _ = pr.lookup("emergency_medicine", 2024)
    assert out["award_if_win"].iloc[0] == pytest.approx(m * 200)
    assert out["expected_value"].iloc[0] == pytest.approx(p * (m * 200 - 200) - 115 - (1 - p) * 840)


def _write_puf(path: Path, header: list[str], rows: list[list[object]]) -> None:
    title = pd.DataFrame([["Federal IDR PUF (synthetic test file)"], ["Tab 1"]])
    body = pd.DataFrame(rows, columns=header)
    with pd.ExcelWriter(path) as xw:
        pd.DataFrame([["read me"]]).to_excel(xw, sheet_name="Notes", header=False, index=False)
        title.to_excel(xw, sheet_name="OON Emergency and Non-Emergency", header=False, index=False)
        body.to_excel(xw, sheet_name="OON Emergency and Non-Emergency", startrow=3, index=False)


PROV = "In Favor of Provider/Facility/AA Provider"
PAYER = "In Favor of Health Plan/Issuer"


def _rows() -> list[list[object]]:
    em = ["200%", "250%", "250%", "300%", "300%", "400%", "1,000%", "10000%+"]
    rows: list[list[object]] = [["Emergency Medicine", "99285", PROV, v, "100%"] for v in em]
    rows += [["Emergency Medicine", "99285", PAYER, "100%", "300%"]] * 2
    rows += [["Anesthesiology", "00790", PROV, "500%", "120%"]]
    rows += [["Anesthesiology", "00790", PAYER, "100%", "450%"]] * 3
    return rows


def test_read_puf_tolerates_header_drift(tmp_path: Path) -> None:
    path = tmp_path / "Federal-IDR-PUF-2025-Q1.xlsx"
    hdr = [
        "Practice/Facility Specialty or Type",
        "Service Code",
        "Payment Determination Outcome",
        "Prevailing Party Offer as Percent of QPA",  # drifted spelling
        "Provider/Facility Offer as % of QPA",
    ]
    _write_puf(path, hdr, _rows())
    puf = idr.read_puf(path)
    assert len(puf) == 14
    assert puf["year"].unique().tolist() == [2025]  # from the file name
    assert puf["specialty"].value_counts().to_dict() == {
        "emergency_medicine": 10,
        "anesthesiology": 4,
    }
    assert puf["outcome"].value_counts().to_dict() == {"provider": 9, "payer": 5}
    assert puf["prevailing_offer_pct_qpa"].iloc[6] == 1000.0  # "1,000%"
    assert bool(puf["prevailing_offer_top_coded"].iloc[7])  # "10000%+"
    assert puf["service_code"].iloc[10] == "00790"  # codes stay strings


def test_priors_from_puf_hand_computed(tmp_path: Path) -> None:
    path = tmp_path / "puf.xlsx"
    hdr = [
        "Practice/Facility Specialty or Type",
        "Service Code",
        "Payment Determination Outcome",
        "Prevailing Party Offer as % of QPA",
        "Provider/Facility Offer as Percent of QPA",
    ]
    _write_puf(path, hdr, _rows())
    pr = idr.IdrPriors.from_puf(path, year=2025, prior_strength=20)
    # emergency: 8/10 wins, prior p0 = the packaged 2025 (2025Q2) rate with 20 pseudo-disputes
    p0 = 532614 / 603757
    p, m, src = pr.lookup("emergency_medicine", 2025)
    assert p == pytest.approx((20 * p0 + 8) / 30)
    assert m == pytest.approx(3.0)  # median of 200,250,250,300,300,400,1000,10000 = 300%
    assert "8/10" in src
    p, m, _ = pr.lookup("anesthesiology", 2025)
    assert p == pytest.approx((20 * p0 + 1) / 24) and m == pytest.approx(5.0)
    p, m, _ = pr.lookup("generic", 2025)  # pooled: 9/14
    assert p == pytest.approx((20 * p0 + 9) / 34) and m == pytest.approx(3.0)
    # specialties not in the file keep their packaged prior (Table 14 2024Q4 radiology 5.11x)
    assert pr.lookup("radiology", 2024)[1] == pytest.approx(5.11, abs=0.01)


def test_read_puf_errors_name_file_and_fix(tmp_path: Path) -> None:
    path = tmp_path / "nope.xlsx"
    _write_puf(path, ["Practice/Facility Specialty or Type", "Something"], [["EM", "x"]])
    with pytest.raises(ValueError, match="Payment Determination Outcome"):
        idr.read_puf(path, year=2024)
    path2 = tmp_path / "noyear.xlsx"
    _write_puf(
        path2,
        ["Practice/Facility Specialty or Type", "Payment Determination Outcome"],
        [["EM", PROV]],
    )
    with pytest.raises(ValueError, match="pass year=YYYY"):
        idr.read_puf(path2)
    with pytest.raises(FileNotFoundError):
        idr.read_puf(tmp_path / "missing.xlsx")


def test_read_puf_quarter_column_and_case_drift(tmp_path: Path) -> None:
    path = tmp_path / "puf_any_name.xlsx"
    hdr = [
        "Quarter",
        "practice/facility specialty or type ",  # case and trailing-space drift
        "Payment determination outcome",
        "Prevailing Party Offer as % of QPA",
    ]
    rows = [
        ["2024 Q3", "Diagnostic Radiology", PROV, "612%"],
        ["2024 Q3", "Neonatal-Perinatal Medicine", PAYER, "95%"],
        ["2024 Q4", "Intraoperative Neurophysiology Monitoring", PROV, "410%"],
    ]
    _write_puf(path, hdr, rows)
    puf = idr.read_puf(path)
    assert puf["year"].tolist() == [2024, 2024, 2024]
    assert puf["specialty"].tolist() == ["radiology", "neonatology", "neurosurgery_ionm"]
    assert puf["outcome"].tolist() == ["provider", "payer", "provider"]
    assert puf["source"].iloc[0].endswith("row 5")  # 2 title rows + blank + header on row 4


def test_expected_value_frame_missing_initiation_dates() -> None:
    df = pd.DataFrame(
        {
            "offer": [1000.0, 1000.0],
            "paid": [300.0, 300.0],
            "win_probability": [0.8, 0.8],
            "initiation_date": [pd.Timestamp("2023-03-01"), pd.NaT],
        }
    )
    with pytest.raises(ValueError, match="no initiation_date"):
        idr.expected_value_frame(df)
    out = idr.expected_value_frame(df, initiation_date=D(2025, 3, 3))
    # row 0: 2023 regime (admin 350, IDRE 700): 560 - 350 - 0.2 * 700 = 70
    # row 1: default date, CMS-9890-F (admin 115, IDRE 840): 560 - 115 - 168 = 277
    assert out["expected_value"].tolist() == pytest.approx([70.0, 277.0])
