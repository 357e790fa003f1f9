"""Damaged and unusual 835 layouts (issue 10 items 2, 4, 6, 7, 10, 17): each class reproduced here.

Every input is written in the test (from :mod:`tests._ingest_samples`); each asserts that every
claim is read or rejected with its segment, never silently dropped, and that no patient value
from a damaged segment appears in a reject, warning or report.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from oonplaybook.ingest import IngestError, read_835
from oonplaybook.ingest.errors import X12StructureError
from oonplaybook.ingest.x12 import Remit835Reader
from tests._ingest_samples import make_835


def read(text: str | bytes, name: str = "t.835"):
    """Read one 835 (text encoded as UTF-8)."""
    data = text.encode() if isinstance(text, str) else text
    return read_835(data, name, salt="test-salt")


def one_segment_a_line_terminator_first(text: str) -> str:
    """``ISA...`` + newline, then every later segment on its own line starting with ``~``."""
    segs = [s for s in text.split("~") if s]
    return segs[0] + "\n" + "".join("~" + s + "\n" for s in segs[1:])


# --- item 2: the terminator after ISA16, line breaks around it ignored ------------------------


def test_4010_terminator_at_the_start_of_each_line() -> None:
    """The issue's case: 4010, ISA16 '^', newline, then '~GS', '~ST'... on each line."""
    base = make_835(2, version="004010X091A1", isa_version="00401", comp="^")
    base = base.replace("*^*00401", "*U*00401", 1)  # 4010: ISA11 is the standards id "U"
    r = read(one_segment_a_line_terminator_first(base))
    assert r.stats["claims"] == 2 and r.stats["claims_rejected"] == 0
    assert len(r.claim_lines) == 4 and len(r.adjustments) == 12
    assert r.stats["unknown_segments"] == {}
    assert not any("IEA" in w for w in r.stats["warnings"])
    assert set(r.claim_lines["cpt"]) == {"99213", "99214"}


def test_crlf_around_the_terminator_and_indentation() -> None:
    base = make_835(3)
    segs = [s for s in base.split("~") if s]
    text = segs[0] + "\r\n  ~" + "\r\n  ~".join(segs[1:]) + "\r\n~"
    r = read(text)
    assert r.stats["claims"] == 3 and r.rejects == []


def test_newline_terminated_file_still_reads() -> None:
    r = read(make_835(3, term="\n"))
    assert r.stats["claims"] == 3 and r.rejects == []


def _uncuttable() -> str:
    """An ISA that declares '~' while the rest (no GS to check it against) uses newlines."""
    base = make_835(2)
    isa, rest = base.split("~", 1)
    rest = rest.replace("GS*HP*PAYER*PROVIDER*20250110*1200*1*X*005010X221A1~", "")
    return isa + "~" + rest.replace("~", "\n")


def test_clp_bytes_that_give_no_claim_are_an_error() -> None:
    """A file whose CLP segments cannot be cut out raises, naming the file (never 0 and 0)."""
    with pytest.raises(X12StructureError) as e:
        read(_uncuttable(), "lost.835")
    assert "lost.835" in str(e.value) and "re-export" in str(e.value)


def test_failed_file_leaves_the_reader_untouched() -> None:
    """A file refused after its walk is rolled back: the next file reads as if alone."""
    r = Remit835Reader("s")
    with pytest.raises(IngestError):
        r.add(_uncuttable().encode(), "bad.835")
    r.add(make_835(2).encode(), "good.835")
    out = r.build()
    assert len(out.claim_lines) == 4 and r.names == ["good.835"] and len(r.file_stats) == 1


# --- item 4: damaged ISA on a many-claim file ---------------------------------------------------

BIG = make_835(375)
ISA_END = BIG.index("~")


@pytest.mark.parametrize(
    "damage",
    {
        "terminator_deleted": BIG[:ISA_END] + BIG[ISA_END + 1 :],
        "terminator_replaced_punct": BIG[:ISA_END] + "!" + BIG[ISA_END + 1 :],
        "terminator_replaced_letter": BIG[:ISA_END] + "X" + BIG[ISA_END + 1 :],
        "isa11_is_the_element_separator": BIG.replace("*^*00501", "***00501", 1),
    }.items(),
    ids=lambda kv: kv[0],
)
def test_damaged_isa_reads_every_claim_with_a_warning(damage: tuple[str, str]) -> None:
    r = read(damage[1])
    assert r.stats["claims"] == 375 and r.stats["claims_rejected"] == 0
    assert len(r.adjustments) == 6 * 375
    assert any("ISA header" in w and "damaged" in w for w in r.stats["warnings"])


# --- item 19: the tokenising layer below both routes ------------------------------------------


@pytest.mark.parametrize("module", ["x12_tokens", "x12_columnar", "x12"])
def test_each_module_imports_alone(module: str) -> None:
    code = f"import oonplaybook.ingest.{module}"
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_columnar_route_does_not_import_the_walk() -> None:
    from pathlib import Path

    import oonplaybook.ingest.x12_columnar as col
    import oonplaybook.ingest.x12_tokens as tok

    for mod in (col, tok):
        src = Path(mod.__file__).read_text()
        assert "ingest import x12\n" not in src and "ingest.x12 import" not in src
        assert "import x12_columnar" not in src or mod is col


# --- item 4: each failure class accounted or rejected with its segment ------------------------


def test_interchange_with_other_delimiters_starting_before_the_previous_iea() -> None:
    first = make_835(3)
    first = first[: first.index("GE*")]  # no GE/IEA: the next ISA starts before any IEA
    second = make_835(2, elem="|", comp="\\", term="^").replace("C00", "D00")
    third = make_835(1).replace("C00", "E00")
    r = read(first + second + third)
    assert r.stats["claims"] == 6 and r.stats["claims_rejected"] == 0
    assert set(r.claim_lines["claim_id"]) == {"C001", "C002", "C003", "D001", "D002", "E001"}
    assert any("before the previous interchange's IEA" in w for w in r.stats["warnings"])


def test_unterminated_999_before_an_835() -> None:
    text = make_835(3).replace("ST*835*0001", "ST*999*0001~AK1*HP*1*005010X221A1~ST*835*0001", 1)
    r = read(text)
    assert r.stats["claims"] == 3 and r.stats["claims_rejected"] == 0
    assert r.stats["other_transactions"] == {"999": 1}
    assert any("non-835 transaction (not terminated)" in w for w in r.stats["warnings"])


def test_plb_inside_an_unterminated_other_transaction_is_rejected() -> None:
    text = make_835(2).replace(
        "ST*835*0001", "ST*999*0001~PLB*1234567893*20251231*WO*5.00*L6*-2.00~ST*835*0001", 1
    )
    r = read(text)
    plb_rejects = [j for j in r.rejects if j["record"] == "PLB"]
    assert len(plb_rejects) == 1 and plb_rejects[0]["location"].startswith("segment ")
    assert r.stats["claims"] == 2


def test_plb_after_a_transaction_without_se_is_read() -> None:
    base = make_835(2)
    se = base[base.index("SE*") : base.index("~", base.index("SE*")) + 1]
    text = base.replace(se, "PLB*1234567893*20251231*WO*5.00*L6*-2.00~", 1)
    r = read(text)
    assert len(r.provider_adjustments) == 2
    assert r.provider_adjustments["amount"].sum() == pytest.approx(3.0)
    assert any("no SE" in w for w in r.stats["warnings"])


def test_cas_with_seven_triplets_keeps_the_seventh() -> None:
    seven = "CAS*CO*45*1.00**253*1.00**45*1.00**45*1.00**45*1.00**45*1.00**94*19.00"
    r = read(make_835(2).replace("CAS*CO*45*20.00**253*5.00", seven, 1))
    line = r.adjustments[r.adjustments["claim_id"].eq("C001") & r.adjustments["line_no"].eq(1)]
    assert len(line) == 7 + 2  # seven CO triplets and the two PR ones
    assert line.loc[line["group"].eq("CO"), "amount"].sum() == pytest.approx(25.0)
    assert "94" in set(line["reason"])
    assert r.balance_failures == []
    assert any("more than the 6 triplets" in w for w in r.stats["warnings"])


@pytest.mark.parametrize("bad", ["NaN", "inf", "-inf", "1e309", "\uff11\uff12"])
def test_claim_whose_only_line_is_rejected_is_accounted(bad: str) -> None:
    text = make_835(2).replace("SVC*HC:99214*80.00*50.00**1~", "", 1)  # C001: one line left
    text = text.replace("SVC*HC:99213:25*120.00", f"SVC*HC:99213:25*{bad}", 1)
    r = read(text)
    assert r.stats["claims"] == 2 and r.stats["lines_rejected"] == 1
    c1 = r.claim_lines[r.claim_lines["claim_id"].eq("C001")]
    assert len(c1) == 1 and int(c1["line_no"].iloc[0]) == 0  # a claim-level row with CLP amounts
    assert c1["paid"].sum() == pytest.approx(120.0)
    (rej,) = r.rejects
    assert rej["record"] == "claim C001 line 1" and "SVC02 charge" in rej["reason"]
    assert repr(bad) not in rej["reason"] and "not" in rej["reason"]


# --- item 10: no patient value in a reject, warning or summary ---------------------------------

PLANTED = ("BUDD", "JOHNATHAN", "33344555510", "19700101")


def _with_planted_patient() -> str:
    """Claim C001 with a claim-level CAS right before its NM1*QC, whose terminator is lost."""
    text = make_835(3).replace(
        "NM1*QC*1*DOE*JANE****MI*M0001",
        "CAS*CO*45*20.00NM1*QC*1*BUDD*JOHNATHAN****MI*33344555510~DMG*D8*19700101",
        1,
    )
    return text.replace("CLP*C001*1*200.00*120.00*30.00", "CLP*C001*1*220.00*120.00*30.00", 1)


def _all_text(r) -> str:
    """Everything a user sees from a read besides the tables: rejects, warnings, stats."""
    return repr(r.rejects) + repr(r.stats) + repr(r.balance_failures)


def test_lost_terminator_before_nm1_qc_gives_no_giant_adjustment_and_no_phi() -> None:
    r = read(_with_planted_patient())
    assert r.adjustments["amount"].abs().max() < 1000  # not $333,445,555.10
    assert "MI" not in set(r.adjustments["reason"])
    text = _all_text(r)
    for value in PLANTED:
        assert value not in text
    reasons = " ".join(j["reason"] for j in r.rejects)
    assert "4 letters, not a number" in reasons  # BUDD as a CAS amount, described
    assert "not a CARC" in reasons  # MI as a reason code
    assert r.stats["claims"] == 3


def test_unknown_segment_keys_never_carry_patient_text() -> None:
    text = make_835(2).replace("NM1*QC*1*DOE*JANE****MI*M0001", "BUDD*JOHNATHAN*MI*33344555510", 1)
    r = read(text)
    keys = " ".join(r.stats["unknown_segments"])
    assert "BUDD" not in keys and "non-standard tag (4 letters)" in keys
    assert r.stats["unknown_segments"] == {"non-standard tag (4 letters)": 1}


def test_reject_reasons_describe_bad_values(tmp_path) -> None:
    """Bad values in CLP, SVC, PLB, AMT, BPR and DTM are described by length and kind only."""
    text = (
        make_835(3)
        .replace("CLP*C002*1*200.00", "CLP*C002*1*BUDD", 1)
        .replace("SVC*HC:99214*80.00", "SVC*HC:99214*JOHNATHAN", 1)
        .replace("AMT*B6*55.00", "AMT*B6*BUDD", 1)
        .replace("DTM*472*20250101", "DTM*472*BUDD", 1)
        .replace("SE*", "PLB*1234567893*20251231*WO:M0001*BUDD~SE*", 1)
        .replace("BPR*I*360.00", "BPR*I*JOHNATHAN", 1)
    )
    r = read(text)
    assert r.stats["claims_rejected"] == 1 and r.stats["lines_rejected"] == 1
    text_out = _all_text(r)
    for value in ("BUDD", "JOHNATHAN", "M0001"):
        assert value not in text_out
    assert "9 letters" in text_out and "4 letters" in text_out


# --- item 17: no procedure code, statuses, claim-level money on the lines ----------------------


def test_svc_without_procedure_code_is_kept_without_a_code_and_warned() -> None:
    r = read(make_835(2).replace("SVC*HC:99214*80.00", "SVC*HC*80.00", 1))
    line = r.claim_lines[r.claim_lines["claim_id"].eq("C001") & r.claim_lines["line_no"].eq(2)]
    assert line["cpt"].tolist() == [""]  # never the qualifier "HC" as a procedure
    assert "HC" not in set(r.claim_lines["cpt"])
    assert any("SVC01 has no procedure code" in w for w in r.stats["warnings"])


def test_predetermination_and_zero_pr32_are_not_paid() -> None:
    base = make_835(3).replace("CLP*C001*1*200.00*120.00*30.00", "CLP*C001*25*200.00*0*0", 1)
    c2, c3 = base.index("CLP*C002"), base.index("CLP*C003")
    pr32 = (
        "CLP*C002*1*200.00*0*200.00~NM1*QC*1*DOE*JANE****MI*M0002~"
        "SVC*HC:99213:25*120.00*0**1~CAS*PR*32*120.00~"
        "SVC*HC:99214*80.00*0**1~CAS*PR*32*80.00~"
    )
    r = read(base[:c2] + pr32 + base[c3:])
    by_claim = r.claim_lines.groupby("claim_id")["claim_status"].agg(set).to_dict()
    assert by_claim["C001"] == {"predetermination"}
    assert by_claim["C002"] == {"denied"}  # PR-32: dependent not eligible, not a deductible
    assert by_claim["C003"] == {"paid"}


def test_zero_paid_deductible_line_stays_paid() -> None:
    text = make_835(1).replace("SVC*HC:99214*80.00*50.00", "SVC*HC:99214*80.00*0", 1)
    text = text.replace("CAS*CO*45*25.00~CAS*PR*3*5.00", "CAS*CO*45*25.00~CAS*PR*1*55.00", 1)
    r = read(text)
    assert r.claim_lines.loc[r.claim_lines["line_no"].eq(2), "claim_status"].tolist() == ["paid"]


def test_claim_level_columns_reconcile_cash_from_the_tables(tmp_path) -> None:
    """Σ claim_paid − Σ PLB = Σ BPR02 from the tables alone, with claim-level CAS on a claim
    that has lines (where Σ line paid overstates the cash)."""
    from oonplaybook.ingest import ingest_paths

    text = (
        make_835(3, extra_in_claim={1: ["CAS*CO*45*10.00"]})
        .replace("CLP*C001*1*200.00*120.00", "CLP*C001*1*210.00*110.00", 1)
        .replace("SE*", "PLB*1234567893*20251231*WO*5.00~SE*", 1)
        .replace("BPR*I*360.00", "BPR*I*345.00", 1)
    )
    text = text.replace("SVC*HC:99214*80.00*50.00**1~", "SVC*HC:99214*90.00*50.00**1~", 1)
    text = text.replace("CAS*CO*45*25.00~", "CAS*CO*45*35.00~", 1)
    (tmp_path / "a.835").write_text(text)
    (tmp_path / "b.835").write_text(make_835(2).replace("C00", "D00"))
    res = ingest_paths([tmp_path], salt="s")
    cl, plb, rep = res.claim_lines, res.provider_adjustments, res.report
    assert res.report["balance_failures"] == []
    cash = cl["claim_paid"].sum() - plb["amount"].sum()
    assert cash == pytest.approx(rep["bpr_total"]) and rep["bpr_total"] == pytest.approx(585.0)
    assert cl["paid"].sum() - plb["amount"].sum() == pytest.approx(595.0)  # lines overstate
    assert cl["claim_paid"].sum() == pytest.approx(rep["clp_paid"])
    assert cl["claim_level_adjustments"].sum() == pytest.approx(10.0)
    # each claim's claim-level money sits on one line only (a plain sum counts it once)
    assert (cl.groupby("claim_id")["claim_paid"].apply(lambda s: (s != 0).sum()) == 1).all()
    c1 = cl[cl["claim_id"].eq("C001")]
    assert c1["paid"].sum() - c1["claim_level_adjustments"].sum() == c1["claim_paid"].sum()


# --- items 6 and 7: encodings and strict values -------------------------------------------------


def test_cp1252_bytes_are_decoded_as_cp1252_and_reported() -> None:
    text = make_835(2).replace(
        "N1*PR*ACME HEALTH PLAN", "N1*PR*Soci\u00e9t\u00e9 G\u00e9n\u00e9rale"
    )
    text = text.replace("CLP*C001", "CLP*C\u201c01", 1)
    r = read(text.encode("cp1252"))
    assert r.stats["encoding"] == "cp1252"
    assert set(r.claim_lines["payer"]) == {"Soci\u00e9t\u00e9 G\u00e9n\u00e9rale"}
    assert "C\u201c01" in set(r.claim_lines["claim_id"])  # the identifier kept, not U+FFFD
    assert not r.claim_lines["claim_id"].str.contains("\ufffd").any()
    assert any("read as cp1252" in w for w in r.stats["warnings"])


def test_utf8_and_latin1_only_bytes() -> None:
    text = make_835(1).replace("N1*PR*ACME HEALTH PLAN", "N1*PR*Soci\u00e9t\u00e9")
    r = read(text.encode("utf-8"))
    assert r.stats["encoding"] == "utf-8" and set(r.claim_lines["payer"]) == {"Soci\u00e9t\u00e9"}
    assert not any("UTF-8" in w for w in r.stats["warnings"])
    r = read(text.encode("utf-8").replace(b"Soci", b"\x81Soci"))  # \x81: undefined in cp1252
    assert r.stats["encoding"] == "cp1252+latin-1"
    assert set(r.claim_lines["payer"]) == {"\x81Soci\u00c3\u00a9t\u00c3\u00a9"}
    assert read(make_835(1)).stats["encoding"] == "ascii"
    assert read("\ufeff" + make_835(1)).stats["encoding"] == "utf-8-sig"


@pytest.mark.parametrize(
    ("units", "accepted"),
    [
        ("1e309", False),
        ("\u00b2", False),
        ("\uff12", False),
        ("inf", False),
        ("NaN", False),
        ("9999999", False),
        ("2.5", True),
        ("", True),
        ("-1", True),
    ],
)
def test_svc05_units_strict(units: str, accepted: bool) -> None:
    r = read(
        make_835(1).replace("SVC*HC:99214*80.00*50.00**1", f"SVC*HC:99214*80.00*50.00**{units}")
    )
    line2 = r.claim_lines[r.claim_lines["line_no"].eq(2)]
    if accepted:
        assert len(line2) == 1 and r.rejects == []
        assert line2["units"].iloc[0] == (float(units) if units else 1.0)
    else:
        assert line2.empty and r.stats["lines_rejected"] == 1
        (rej,) = r.rejects
        assert "SVC05 units" in rej["reason"] and repr(units) not in rej["reason"]


@pytest.mark.parametrize(
    "date",
    [
        "2025011",
        "\uff12\uff10\uff12\uff15\uff10\uff11\uff10\uff11",
        "20250230",
        "18990101",
        "20990101",
    ],
)
def test_service_dates_strict(date: str) -> None:
    r = read(make_835(1).replace("DTM*472*20250101", f"DTM*472*{date}", 1))
    line1 = r.claim_lines[r.claim_lines["line_no"].eq(1)]
    assert line1["service_date"].isna().all()  # never 2025-01-01 from "2025011"
    assert any("date (" in w and "left empty" in w for w in r.stats["warnings"])
    assert not any(date in w for w in r.stats["warnings"])


def test_cas_quantity_and_amount_strict() -> None:
    text = make_835(1).replace("CAS*CO*45*25.00", "CAS*CO*45*\uff12\uff15.00", 1)
    r = read(text)
    (rej,) = r.rejects
    assert "non-ASCII digits" in rej["reason"] and rej["record"] == "claim C001 CAS CO-45"


def test_cas_quantity_not_a_number_is_warned_and_the_amount_kept() -> None:
    r = read(make_835(1).replace("CAS*CO*45*25.00", "CAS*CO*45*25.00*\uff12", 1))
    adj = r.adjustments[r.adjustments["amount"].eq(25.0)]
    assert len(adj) == 1 and adj["quantity"].isna().all() and r.rejects == []
    assert any(
        "CAS quantity (1 character (non-ASCII characters))" in w for w in r.stats["warnings"]
    )


def test_clp_run_into_the_previous_segment_is_accounted() -> None:
    text = make_835(3).replace("AMT*B6*55.00~CLP*C002", "AMT*B6*55.00CLP*C002", 1)
    r = read(text)
    assert r.stats["claims_in_file"] == 3 and r.stats["claims"] == 2
    assert r.stats["claims_rejected"] == 1
    (rej,) = [j for j in r.rejects if j["record"] == "CLP"]
    assert rej["location"] == "whole file" and "run into the segment before" in rej["reason"]


@pytest.mark.parametrize("amount", ["80000000.00", "10000000.01", "33344555510"])
def test_service_line_amount_beyond_the_bound_is_rejected(amount: str) -> None:
    r = read(make_835(1).replace("SVC*HC:99214*80.00", f"SVC*HC:99214*{amount}", 1))
    (rej,) = r.rejects
    assert "over $10,000,000" in rej["reason"] and amount not in rej["reason"]
    at_bound = make_835(1).replace("SVC*HC:99214*80.00", "SVC*HC:99214*10000000.00", 1)
    assert read(at_bound).rejects == []  # the bound itself is allowed
