"""CSV/XLSX exports: mapping profiles, header auto-detection, money/date parsing, row rejects."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from oonplaybook.ingest import MappingError, builtin_mappings, ingest_paths, read_table
from oonplaybook.ingest.tabular import parse_dates, parse_money

PM_CHARGES = """Charge Detail Report,,,,,,,,,,,,,
Run for: GOOD DOCTORS PC,,,,,,,,,,,,,
Claim #,Patient Acct #,Patient Name,DOB,Subscriber ID,DOS,Proc Code,Mod 1,Mod 2,Units,Charge Amt,Ins Paid,Allowed Amt,Primary Ins,Chg Status,Internal Note
CL-1,A100,"SMITH, JANE",01/02/1980,XYZ123,03/04/2025,99285,25,,1,"$1,234.50",$400.00,$500.00,Acme,PAID,call back
CL-1,A100,"SMITH, JANE",01/02/1980,XYZ123,03/04/2025,00100,QK,P3,45,$900.00,(12.00),$0.00,Acme,DENIED,
CL-2,A200,"DOE, JOHN",05/06/1970,ABC999,13/45/2025,99284,,,1,$300.00,$0.00,,Bolt,DENIED,
CL-3,A300,"ROE, RITA",07/08/1990,QQQ111,03/05/2025,100,,,1,$50.00,$0.00,,Bolt,WHATEVER,
"""

LEDGER = """Encounter ID,Svc Line,Patient Full Name,Birthdate,Policy Number,Service Date,CPT Code,Modifiers,Billed Amount,Payer Name,Plan Type,Place of Service,State,Locality,Emergency Flag,QPA Amount,Extra Col
E1,1,Jane Smith,1980-01-02,XYZ123,03/04/25,99285,25,"$2,000.00",Acme,ERISA,23,ny,13202-1,Y,$812.40,zzz
E1,2,Jane Smith,1980-01-02,XYZ123,03/04/25,93010,26,150.00-,Acme,ERISA,23,ny,13202-1,Y,,zzz
E2,1,Bo Dee,1977-03-03,Z9,03/05/25,70450,,$500.00,Bolt,Church plan,3,NY,bad,N,,zzz
E2,1,Bo Dee,1977-03-03,Z9,03/05/25,70450,,$500.00,Bolt,Church plan,3,NY,13202-01,N,,zzz
"""


def read(text: str, name: str = "x.csv", **kw):
    return read_table(text.encode(), name, "csv", salt="s", **kw)


def test_money_formats() -> None:
    s = pd.Series(
        ["$1,234.50", "(12.00)", "12.00-", "-5", "", " 7 ", "$x", "1.2.3", ".5", "12,00", "1,2345"]
    )
    v, bad = parse_money(s)
    assert v.tolist()[:4] == [1234.5, -12.0, -12.0, -5.0]
    assert pd.isna(v.iloc[4]) and v.iloc[5] == 7.0 and v.iloc[8] == 0.5
    assert bad.tolist() == [False] * 6 + [True, True, False, True, True]


def test_date_formats() -> None:
    d, bad = parse_dates(pd.Series(["03/04/2025", "2025-03-04", "", "13/45/2025"]), ("%m/%d/%Y",))
    assert d.dt.strftime("%Y-%m-%d").tolist()[:2] == ["2025-03-04", "2025-03-04"]
    assert pd.isna(d.iloc[2]) and bad.tolist() == [False, False, False, True]


def test_pm_charges_profile_autodetected_past_title_rows() -> None:
    t = read(PM_CHARGES, "charges.csv")
    assert t.stats["mapping"] == "practice_charges"
    assert t.stats["header_row"] == 3
    assert t.stats["ignored_columns"] == ["Internal Note"]
    assert t.stats["has_outcome"] is True
    cl = t.claim_lines
    assert cl["cpt"].tolist() == ["99285", "00100"]  # leading zeros kept
    assert cl["modifiers"].tolist() == ["25", "QK:P3"]
    assert cl["billed"].tolist() == [1234.5, 900.0]
    assert cl["paid"].tolist() == [400.0, -12.0]
    assert cl["claim_status"].tolist() == ["paid", "denied"]
    assert cl["line_no"].tolist() == [1, 2]
    assert cl["source"].tolist() == ["charges.csv:row 4", "charges.csv:row 5"]
    # PHI hashed and gone
    assert cl["patient_key"].str.fullmatch(r"[0-9a-f]{16}").all()
    blob = cl.astype("str").to_csv()
    for phi in ("SMITH", "XYZ123", "1980"):
        assert phi not in blob
    rej = {r["location"]: r["reason"] for r in t.rejects}
    assert set(rej) == {"row 6", "row 7"}
    assert "service_date '13/45/2025'" in rej["row 6"]
    assert "code '100' has lost its leading zeros" in rej["row 7"]
    assert "claim_status 'WHATEVER' is not a known status" in rej["row 7"]


def test_encounter_ledger_profile() -> None:
    t = read(LEDGER, "ledger.csv")
    assert t.stats["mapping"] == "encounter_ledger"
    assert t.stats["ignored_columns"] == ["Extra Col"]
    assert t.stats["has_outcome"] is False
    cl = t.claim_lines
    assert len(cl) == 3  # the repeated E2 line is rejected, not silently merged
    assert cl["billed"].tolist() == [2000.0, -150.0, 500.0]
    assert cl["plan_type"].tolist() == ["self_funded_erisa"] * 2 + ["self_funded_non_erisa"]
    assert cl["state"].tolist() == ["NY"] * 3
    assert cl["locality"].tolist() == ["13202-01", "13202-01", ""]
    assert cl["pos"].tolist() == ["23", "23", "03"]
    assert cl["qpa"].iloc[0] == 812.4 and pd.isna(cl["qpa"].iloc[1])
    assert cl["emergency"].tolist() == [True, True, False]
    assert set(cl["claim_status"]) == {"pending"}
    assert t.stats["invalid_localities_blanked"] == 1
    (rej,) = t.rejects
    assert rej["location"] == "row 5" and "true duplicate of row 4" in rej["reason"]
    # the same member id gives the same patient key across files and formats
    t2 = read(PM_CHARGES, "charges.csv")
    assert cl["patient_key"].iloc[0] == t2.claim_lines["patient_key"].iloc[0]


def test_generic_reads_canonical_names_and_reports_choice(tmp_path: Path) -> None:
    p = tmp_path / "canon.csv"
    p.write_text(
        "claim_id,line_no,cpt,service_date,billed,paid,claim_status\nA,1,99213,2025-01-01,100,80,paid\n"
    )
    res = ingest_paths([p], salt="s")
    assert res.report["mappings_used"] == {"canon.csv": "generic"}
    assert res.report["paid"] == 80.0
    assert res.claim_lines["claim_status"].tolist() == ["paid"]


def test_explicit_mapping_yaml(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(
        "name: mine\ndate_formats: ['%d.%m.%Y']\ncolumns:\n  claim_id: [Fall]\n  cpt: [Leistung]\n"
        "  service_date: [Datum]\n  billed: [Betrag]\n"
    )
    (tmp_path / "x.csv").write_text(
        "Fall;Leistung;Datum;Betrag\nF1;99213;31.01.2025;12,00\nF2;99213;31.01.2025;12.00\n"
    )
    t = read_table(
        (tmp_path / "x.csv").read_bytes(),
        "x.csv",
        "csv",
        salt="s",
        mapping="mine.yaml",
        base=tmp_path,
    )
    assert t.stats["mapping"] == "mine"
    assert t.claim_lines["service_date"].dt.strftime("%Y-%m-%d").tolist() == ["2025-01-31"]
    # "12,00" is not a US amount: the row is rejected, not read as 1200
    assert t.claim_lines["billed"].tolist() == [12.0]
    (rej,) = t.rejects
    assert "billed '12,00' is not an amount" in rej["reason"]


def test_bad_mapping_yaml_is_a_mapping_error(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("columns:\n  not_a_column: [X]\n")
    with pytest.raises(MappingError, match="unknown canonical column"):
        read("a,b\n1,2\n", mapping=str(tmp_path / "bad.yaml"))
    with pytest.raises(MappingError, match="neither a shipped profile"):
        read("a,b\n1,2\n", mapping="nope")


def test_unknown_layout_names_the_file_and_the_fix() -> None:
    with pytest.raises(MappingError, match=r"foo.csv: not a known tabular layout.*--mapping"):
        read("alpha,beta\n1,2\n", "foo.csv")


def test_xlsx_export(tmp_path: Path) -> None:
    df = pd.DataFrame(
        {
            "Claim #": ["X1", "X1"],
            "DOS": pd.to_datetime(["2025-03-04", "2025-03-04"]),
            "Proc Code": ["00100", "99285"],
            "Charge Amt": [900.0, 1200.5],
            "Subscriber ID": ["M1", "M1"],
        }
    )
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        pd.DataFrame([["Charges export"]]).to_excel(xw, index=False, header=False, startrow=0)
        df.to_excel(xw, index=False, startrow=2)
    p = tmp_path / "export.xlsx"
    p.write_bytes(buf.getvalue())
    res = ingest_paths([p], salt="s")
    cl = res.claim_lines
    assert res.report["mappings_used"] == {"export.xlsx": "practice_charges"}
    assert cl["cpt"].tolist() == ["00100", "99285"]
    assert cl["billed"].tolist() == [900.0, 1200.5]
    assert cl["service_date"].dt.strftime("%Y-%m-%d").tolist() == ["2025-03-04"] * 2


def test_ragged_rows_are_rejected_with_row_numbers() -> None:
    text = "claim_id,cpt,service_date,billed\nA,99213,2025-01-01,10\nB,99213,2025-01-01,10,EXTRA\n"
    t = read(text)
    assert len(t.claim_lines) == 1
    (rej,) = t.rejects
    assert rej["location"] == "row 3" and "5 fields, header has 4" in rej["reason"]


def test_shipped_profiles_parse() -> None:
    names = set(builtin_mappings())
    assert {"generic", "practice_charges", "encounter_ledger"} <= names


def test_identity_key_matches_phi_patient_key() -> None:
    from oonplaybook import phi
    from oonplaybook.ingest.identity import identity_key

    assert identity_key("s", " m12 ", "", "") == phi.patient_key("s", "MID", "M12")
    assert identity_key("s", "", "Smith,  Jane", "1980-01-02") == phi.patient_key(
        "s", "NAME", "JANE SMITH", "1980-01-02"
    )
    assert identity_key("s", "", "", "") == ""
    assert identity_key("s", "M1", "", "") != identity_key("t", "M1", "", "")


def test_c_parser_path_equals_row_by_row_path(monkeypatch: pytest.MonkeyPatch) -> None:
    from oonplaybook.ingest import tabular

    fast_l, fast_c = read(LEDGER, "ledger.csv"), read(PM_CHARGES, "charges.csv")
    monkeypatch.setattr(tabular, "_csv_fast", lambda *a, **k: None)
    slow_l, slow_c = read(LEDGER, "ledger.csv"), read(PM_CHARGES, "charges.csv")
    for fast, slow in ((fast_l, slow_l), (fast_c, slow_c)):
        pd.testing.assert_frame_equal(fast.claim_lines, slow.claim_lines)
        assert fast.rejects == slow.rejects
        assert fast.stats == slow.stats


def test_quoted_newline_falls_back_and_keeps_record_numbers() -> None:
    text = 'claim_id,cpt,service_date,billed,note\nA,99213,2025-01-01,10,"two\nlines"\nB,99214,2025-13-01,10,x\n'
    t = read(text)
    assert t.claim_lines["claim_id"].tolist() == ["A"]
    assert [r["location"] for r in t.rejects] == ["row 3"]


def test_line_count_and_first_lines_agree_with_splitlines() -> None:
    """The fast CSV path counts and heads lines without splitting the whole text; every line
    break str.splitlines knows ("\\r\\n" once, \\x0c, \\x85, \\u2028...) must count the same."""
    import random

    from oonplaybook.ingest.tabular import count_lines, first_lines

    rng = random.Random(1)
    chars = "ab,\n\r\x0c\x85\u2028 x"
    for _ in range(5000):
        text = "".join(rng.choice(chars) for _ in range(rng.randint(0, 30)))
        assert count_lines(text) == len(text.splitlines()), repr(text)
        for n in range(5):
            assert first_lines(text, n) == text.splitlines()[:n], (repr(text), n)
    # a prefix cut between "\r" and "\n" must not add or split a line
    text = "x" * 65535 + "\r\n" + "y\n" * 5
    assert first_lines(text, 3) == text.splitlines()[:3]
    assert count_lines(text) == 6
