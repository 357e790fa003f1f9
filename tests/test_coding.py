"""Coding compliance: NCCI PTP/MUE readers on CMS's layouts and hand-worked edit verdicts.

Rules exercised (NCCI Policy Manual for Medicare Services 2026, ch. I; CMS PFS RVU file
documentation for GLOB DAYS / BILAT SURG / ASST SURG / MULT PROC):
- a PTP edit is active from its effective date through its deletion date; indicator 9 means it
  never took effect; indicator 0 allows no bypass; indicator 1 is bypassed by an
  NCCI-associated modifier (59, XE/XS/XP/XU, anatomic, 24/25/57 ...) on either line;
- MUE MAI 1 counts units per line, MAI 2/3 per date of service; MAI 2 is policy (not
  appealable), MAI 3 clinical (appealable with documentation).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from oonplaybook import coding
from oonplaybook.reference import ncci

DATA = Path(__file__).parent / "data" / "ncci"
PTP_FILE = DATA / "ccipra-v322r0-f1.excerpt.txt"
MUE_FILE = DATA / "MCR_MUE_PractitionerServices_Eff_07-01-2026.excerpt.csv"

PTP_HEADER = ncci.PTP_HEADER
ptp_file = ncci.ptp_file_bytes


# --- readers --------------------------------------------------------------------------------


def test_ptp_excerpt_layout_and_cut_last_record() -> None:
    df, rep = ncci.read_ptp(PTP_FILE)
    assert len(df) == 155 and rep.rows_read == 155 and not rep.rejects
    assert df["modifier_indicator"].value_counts().to_dict() == {"1": 140, "0": 9, "9": 6}
    assert df["deletion_date"].isna().sum() == 67  # '*' = no deletion date
    ind9 = df[df["modifier_indicator"] == "9"]
    assert (ind9["effective_date"] == ind9["deletion_date"]).all()
    assert any("ends inside this record" in w and "line 161" in w for w in rep.warnings)
    last = df.iloc[-1]
    assert (last["column1"], last["column2"]) == ("0001U", "81167")
    assert df["column1"].str.fullmatch(r"[0-9A-Z]{5}").all()


def test_ptp_bad_records_rejected_with_line_and_latin1() -> None:
    data = ptp_file(
        [
            "11042\t97597\t\t20200101\t*\t0\tStandards of medical / surgical practice",
            "11042\t97598\t\t2020010\t*\t0\tbad date",
            "11042\t97599\t\t20200101\t*\t3\tbad indicator",
            "11042\t97600\t\t20200101\t*",
            "11043\t97597\t*\t19960101\t20231231\t1\tMutually exclusive \xe9",
        ]
    )
    df, rep = ncci.read_ptp(data, "f1.txt")
    assert len(df) == 2 and rep.rows_read == 5
    assert [r["location"] for r in rep.rejects] == ["line 8", "line 9", "line 10"]
    assert "YYYYMMDD" in rep.rejects[0]["reason"] and "0, 1 or 9" in rep.rejects[1]["reason"]
    assert "5 tab-separated fields" in rep.rejects[2]["reason"]
    assert df.iloc[1]["prior_1996"] and df.iloc[1]["rationale"].endswith("\xe9")


def test_ptp_duplicates_across_files_counted() -> None:
    a, ra = ncci.read_ptp(ptp_file(["11042\t97597\t\t20200101\t*\t0\tx"]), "f1.txt")
    b, rb = ncci.read_ptp(
        ptp_file(["11042\t97597\t\t20200101\t*\t0\tx", "11042\t97598\t\t20200101\t20211231\t1\tx"]),
        "f2.txt",
    )
    df, rep = ncci.combine_ptp([a, b], [ra, rb])
    assert len(df) == 2 and rep.duplicates == 1
    assert df.set_index("column2").loc["97597", "n_files"] == 2


def test_mue_excerpt_notice_broken_header_and_date_from_name() -> None:
    df, rep = ncci.read_mue(MUE_FILE)
    assert len(df) == 44 and not rep.rejects and not rep.warnings
    assert df["mai"].value_counts().to_dict() == {2: 30, 3: 14}
    assert set(df["mue_value"]) == {1, 2}
    assert (df["effective_date"] == pd.Timestamp("2026-07-01")).all()
    assert df.iloc[0]["hcpcs"] == "0001U" and df.iloc[0]["mai_text"].startswith("2 Date of Service")


def test_mue_bad_rows_rejected_and_missing_date_warned() -> None:
    text = (
        '"notice\nline two",,,\r\n"HCPCS/\nCPT Code",Practitioner Services MUE Values,'
        "MUE Adjudication Indicator,MUE Rationale\r\n96372,4,3 Date of Service Edit: Clinical,x\r\n"
        "96373,four,3 Date of Service Edit: Clinical,x\r\n96374,1,Date of Service Edit,x\r\n"
    ).encode("latin-1")
    df, rep = ncci.read_mue(text, "mue.csv")
    assert list(df["hcpcs"]) == ["96372"]
    assert [r["location"] for r in rep.rejects] == ["line 6", "line 7"]  # physical lines
    assert any("effective date" in w for w in rep.warnings)


def test_reader_without_records_is_an_error() -> None:
    with pytest.raises(ncci.ReferenceError, match="no PTP edit record"):
        ncci.read_ptp(PTP_HEADER.encode(), "empty.txt")


def test_import_and_load_roundtrip(tmp_path: Path) -> None:
    folder, rep = ncci.import_release([PTP_FILE, MUE_FILE], dest=tmp_path)
    t = ncci.load_imported(tmp_path)
    assert t is not None and len(t.ptp) == 155 and len(t.mue) == 44
    assert "MUE effective 2026-07-01" in t.vintage and "ccipra-v322r0-f1" in t.vintage


# --- edits ------------------------------------------------------------------------------------


def _ptp(*rows: tuple[str, str, str, str | None, str]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            (
                c1,
                c2,
                False,
                pd.Timestamp(eff),
                pd.Timestamp(dele) if dele else pd.NaT,
                mi,
                "r",
                1,
                "t",
            )
            for c1, c2, eff, dele, mi in rows
        ],
        columns=ncci.PTP_COLUMNS,
    ).astype({"effective_date": "datetime64[us]", "deletion_date": "datetime64[us]"})


def _line(
    cid: str,
    n: int,
    cpt: str,
    mods: str = "",
    units: float = 1,
    status: str = "denied",
    carc: str = "CO-97",
    date: str = "2026-03-02",
    patient: str = "p1",
) -> dict:
    return {
        "claim_id": cid,
        "line_no": n,
        "patient_key": patient,
        "provider_npi": "1234567890",
        "service_date": pd.Timestamp(date),
        "cpt": cpt,
        "modifiers": mods,
        "units": units,
        "claim_status": status,
        "carc": carc,
        "billed": 100.0,
    }


def _paid(cid: str, n: int, cpt: str, **kw: object) -> dict:
    return _line(cid, n, cpt, status="paid", carc="", **kw)


def verdict_of(edits: pd.DataFrame, cid: str, n: int = 2) -> str:
    v = coding.line_verdicts(edits).set_index(["claim_id", "line_no"])
    return v.loc[(cid, n), "coding_verdict"]


EDIT = _ptp(("20610", "20550", "2020-01-01", None, "1"))


@pytest.mark.parametrize(
    ("mod1", "mod2", "expected"),
    [
        ("", "", "payer_edit_correct"),  # indicator 1, no modifier: the edit stands
        ("", "59", "payer_edit_wrong"),  # modifier on column 2
        ("XS", "", "payer_edit_wrong"),  # modifier on column 1 counts too
        ("", "26", "payer_edit_correct"),  # 26 is not an NCCI-associated modifier
    ],
)
def test_ptp_indicator_1_modifier_on_either_line(mod1: str, mod2: str, expected: str) -> None:
    lines = pd.DataFrame([_paid("A", 1, "20610", mods=mod1), _line("A", 2, "20550", mods=mod2)])
    e = coding.check_claims(lines, EDIT)
    assert verdict_of(e, "A") == expected
    row = e.iloc[0]
    assert (row["column1_code"], row["column2_code"], row["modifier_indicator"]) == (
        "20610",
        "20550",
        "1",
    )
    assert "20610/20550" in row["evidence"] and "2020-01-01" in row["evidence"]
    assert row["route"] == ("appeal" if expected == "payer_edit_wrong" else "corrected_claim")


def test_ptp_indicator_0_no_bypass() -> None:
    lines = pd.DataFrame([_paid("B", 1, "11042"), _line("B", 2, "97597", mods="59")])
    e = coding.check_claims(lines, _ptp(("11042", "97597", "2020-01-01", None, "0")))
    assert verdict_of(e, "B") == "payer_edit_correct" and e.iloc[0]["route"] == "write_off"


@pytest.mark.parametrize(
    ("eff", "dele", "mi", "date", "expected", "why"),
    [
        (
            "2020-01-01",
            "2025-12-31",
            "1",
            "2026-03-02",
            "payer_edit_not_ncci",
            "deleted after 2025-12-31",
        ),
        (
            "2020-01-01",
            "2026-03-02",
            "1",
            "2026-03-02",
            "payer_edit_correct",
            "",
        ),  # deletion day inclusive
        (
            "2026-04-01",
            None,
            "0",
            "2026-03-02",
            "payer_edit_not_ncci",
            "takes effect only on 2026-04-01",
        ),
        (
            "2026-03-02",
            None,
            "0",
            "2026-03-02",
            "payer_edit_correct",
            "",
        ),  # effective day inclusive
        ("2022-01-01", "2022-01-01", "9", "2022-01-01", "payer_edit_not_ncci", "withdrawn"),
    ],
)
def test_ptp_dates(eff: str, dele: str | None, mi: str, date: str, expected: str, why: str) -> None:
    lines = pd.DataFrame([_paid("C", 1, "29881", date=date), _line("C", 2, "29877", date=date)])
    e = coding.check_claims(lines, _ptp(("29881", "29877", eff, dele, mi)))
    assert verdict_of(e, "C") == expected
    assert why in coding.line_verdicts(e).iloc[0]["coding_evidence"]


def test_ptp_needs_same_patient_provider_and_date() -> None:
    lines = pd.DataFrame(
        [
            _paid("D", 1, "20610"),
            _line("D2", 1, "20550", patient="p2"),
            _line("D3", 1, "20550", date="2026-03-03"),
        ]
    )
    e = coding.check_claims(lines, EDIT)
    assert set(e["verdict"]) == {"payer_edit_not_ncci"} and set(e["claim_id"]) == {"D2", "D3"}


def test_no_such_pair_is_payer_edit_not_ncci() -> None:
    lines = pd.DataFrame([_paid("E", 1, "99285"), _line("E", 2, "93010")])
    e = coding.check_claims(lines, EDIT)
    assert verdict_of(e, "E") == "payer_edit_not_ncci"
    assert "no active NCCI PTP edit pairs 93010 with 99285" in e.iloc[0]["evidence"]


MUE = pd.DataFrame(
    [
        ("96372", 4, 3, "3 Date of Service Edit: Clinical", "", pd.Timestamp("2026-01-01"), "m"),
        ("20610", 2, 2, "2 Date of Service Edit: Policy", "", pd.Timestamp("2026-01-01"), "m"),
        ("J1100", 10, 1, "1 Line Edit", "", pd.Timestamp("2026-01-01"), "m"),
    ],
    columns=ncci.MUE_COLUMNS,
)


def test_mue_per_line_and_per_date_of_service() -> None:
    lines = pd.DataFrame(
        [
            _line("M1", 1, "96372", units=3, carc="CO-151"),  # 3+3 = 6 > 4 on the date: MAI 3
            _line("M1", 2, "96372", units=3, carc="CO-151"),
            _line("M2", 1, "20610", units=2, carc="CO-151", patient="p2"),  # 2+1 = 3 > 2: MAI 2
            _line("M2", 2, "20610", units=1, carc="CO-151", patient="p2"),
            _line("M3", 1, "J1100", units=8, carc="CO-151", patient="p3"),  # line edit: 8 and 8
            _line("M3", 2, "J1100", units=8, carc="CO-151", patient="p3"),  # each within 10
            _line("M4", 1, "J1100", units=12, carc="CO-151", patient="p4"),  # 12 > 10 on one line
        ]
    )
    v = coding.line_verdicts(coding.check_claims(lines, mue=MUE)).set_index(["claim_id", "line_no"])
    assert v.loc[("M1", 1), "coding_verdict"] == "documentation_needed"
    assert v.loc[("M2", 2), "coding_verdict"] == "payer_edit_correct"
    assert "not appealable" in v.loc[("M2", 2), "coding_evidence"]
    assert v.loc[("M3", 1), "coding_verdict"] == "payer_edit_not_ncci"
    assert v.loc[("M4", 1), "coding_verdict"] == "payer_edit_correct"
    assert v.loc[("M4", 1), "coding_route"] == "corrected_claim"


def test_mue_before_its_effective_date_does_not_apply() -> None:
    lines = pd.DataFrame([_line("M5", 1, "J1100", units=12, carc="CO-151", date="2025-12-31")])
    e = coding.check_claims(lines, mue=MUE)
    assert verdict_of(e, "M5", 1) == "payer_edit_not_ncci"


IND = coding.PolicyIndicators(
    pd.DataFrame(
        [
            ("27447", "090", "2", "1", "1"),
            ("11042", "000", "2", "1", "0"),
            ("99213", "XXX", "0", "0", "9"),
            ("27130", "090", "2", "3", "2"),
            ("71045", "XXX", "4", "0", "9"),
            ("64483", "000", "0", "2", "1"),
        ],
        columns=["hcpcs", "glob_days", "mult_proc", "bilat_surg", "asst_surg"],
    )
)


@pytest.mark.parametrize(
    ("em_date", "mods", "status", "expected"),
    [
        ("2026-02-20", "", "denied", "payer_edit_correct"),  # post-op day 19, no 24
        ("2026-02-20", "24", "denied", "payer_edit_wrong"),  # 24 on the claim, bundled anyway
        ("2026-01-31", "57", "denied", "payer_edit_wrong"),  # day before major surgery with 57
        ("2026-01-31", "", "pending", "payer_edit_correct"),  # scrub: will be denied without 57
        ("2026-05-03", "", "denied", "payer_edit_not_ncci"),  # day 91: outside the global
    ],
)
def test_global_period(em_date: str, mods: str, status: str, expected: str) -> None:
    lines = pd.DataFrame(
        [
            _paid("S", 1, "27447", date="2026-02-01"),
            _line(
                "V",
                1,
                "99213",
                mods=mods,
                status=status,
                carc="" if status == "pending" else "CO-97",
                date=em_date,
            ),
        ]
    )
    e = coding.check_claims(lines, indicators=IND)
    assert verdict_of(e, "V", 1) == expected
    if status == "pending":
        assert set(e["stage"]) == {"pre_submission"}


def test_bilateral_assistant_and_multiple_procedure_indicators() -> None:
    lines = pd.DataFrame(
        [
            _line("B1", 1, "64483", mods="50", carc="CO-4"),  # BILAT 2: 50 not appropriate
            _line("B2", 1, "27130", mods="50", carc="CO-4", patient="p2"),  # BILAT 3: 50 fine
            _line("A1", 1, "27447", mods="80", carc="CO-4", patient="p3"),  # ASST 1: not payable
            _line("A2", 1, "11042", mods="AS", carc="CO-4", patient="p4"),  # ASST 0: docs
            _line("A3", 1, "27130", mods="82", carc="CO-4", patient="p5"),  # ASST 2: payable
            _line("P1", 1, "71045", carc="CO-59", patient="p6"),  # only procedure that day
            _paid("P2", 1, "27447", patient="p7"),
            _line("P2", 2, "11042", carc="CO-59", patient="p7"),  # second procedure: rule applies
            _line("P3", 1, "99213", carc="CO-59", patient="p8"),  # MULT PROC 0: exempt
        ]
    )
    v = coding.line_verdicts(coding.check_claims(lines, indicators=IND)).set_index(
        ["claim_id", "line_no"]
    )
    got = {k[0] + str(k[1]): v.loc[k, "coding_verdict"] for k in v.index}
    assert got == {
        "B11": "payer_edit_correct",
        "B21": "payer_edit_wrong",
        "A11": "payer_edit_correct",
        "A21": "documentation_needed",
        "A31": "payer_edit_wrong",
        "P11": "payer_edit_wrong",
        "P22": "payer_edit_correct",
        "P31": "payer_edit_wrong",
    }


def test_missing_columns_named() -> None:
    with pytest.raises(coding.CodingInputError, match="patient_key"):
        coding.check_claims(pd.DataFrame({"claim_id": ["a"]}), EDIT)


def test_output_deterministic_and_sorted() -> None:
    lines = pd.DataFrame(
        [
            _paid("A", 1, "20610"),
            _line("A", 2, "20550"),
            _line("Z", 1, "93010"),
            _line("B", 1, "93010"),
        ]
    )
    a = coding.check_claims(lines, EDIT)
    b = coding.check_claims(lines.iloc[::-1], EDIT)
    pd.testing.assert_frame_equal(a, b)
    assert list(a["claim_id"]) == sorted(a["claim_id"])


def test_cli_check_writes_coding_edits(tmp_path: Path) -> None:
    """`oonplaybook coding check` on a claim-lines parquet with only the columns the edits use."""
    from typer.testing import CliRunner

    from oonplaybook.cli import app

    lines = pd.DataFrame([_paid("A", 1, "0001U"), _line("A", 2, "81163", mods="59", carc="CO-97")])
    lines["service_date"] = pd.Timestamp("2026-03-02")
    src = tmp_path / "claim_lines.parquet"
    lines.to_parquet(src)
    res = CliRunner().invoke(
        app,
        [
            "coding",
            "check",
            str(src),
            "--ptp",
            str(PTP_FILE),
            "--mue",
            str(MUE_FILE),
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert res.exit_code == 0, res.output
    out = pd.read_csv(tmp_path / "o" / "coding_edits.csv", dtype=str, keep_default_na=False)
    needed = {
        "claim_id",
        "line_no",
        "edit",
        "column1_code",
        "column2_code",
        "modifier_indicator",
        "mue_value",
        "mai",
        "verdict",
        "evidence",
    }
    assert needed <= set(out.columns)
    row = out[(out["claim_id"] == "A") & (out["edit"] == "ptp")].iloc[0]
    # 0001U/81163: indicator 1, effective 2019-01-01, no deletion: 59 bypasses it
    assert (row["column1_code"], row["column2_code"], row["verdict"]) == (
        "0001U",
        "81163",
        "payer_edit_wrong",
    )
    assert "2019-01-01" in row["evidence"]


def test_cli_check_without_tables_says_how(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from oonplaybook.cli import app

    monkeypatch.setenv("OONPLAYBOOK_CACHE", str(tmp_path / "cache"))
    src = tmp_path / "l.parquet"
    pd.DataFrame([_line("A", 1, "93010")]).to_parquet(src)
    res = CliRunner().invoke(app, ["coding", "check", str(src), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "coding import" in res.output


def test_reference_import_takes_ncci_files(tmp_path: Path) -> None:
    """`oonplaybook reference import` recognises a CMS NCCI download and stores it for the check."""
    import zipfile

    from typer.testing import CliRunner

    from oonplaybook.cli import app

    z = tmp_path / "medicare-ncci-2026q3-practitioner-ptp-edits-ccipra-v322r0-f1.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.write(PTP_FILE, PTP_FILE.name)
    assert ncci.is_ncci_release(z) and ncci.is_ncci_release(MUE_FILE)
    assert not ncci.is_ncci_release(DATA.parent / "real" / "cms")
    res = CliRunner().invoke(app, ["reference", "import", str(z), "--cache", str(tmp_path / "c")])
    assert res.exit_code == 0, res.output
    t = ncci.load_imported(tmp_path / "c")
    assert t is not None and len(t.ptp) == 155 and "imported NCCI" in res.output
