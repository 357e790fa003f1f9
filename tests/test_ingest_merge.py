"""Joining billed lines (837P / export) to remit lines (835): control number, code, position."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from oonplaybook import partitions
from oonplaybook.ingest import IngestError, classify, ingest_paths

ISA = (
    "ISA*00*          *00*          *ZZ*PAYER          *ZZ*PROVIDER       *250110*1200*^*00501"
    "*000000001*0*P*:~GS*HP*PAYER*PROVIDER*20250110*1200*1*X*005010X221A1~"
)
HEAD = (
    "ST*835*0001~BPR*I*{bpr}*C*ACH*CCP*01*1*DA*1*1**01*1*DA*1*20250110~TRN*1*T1*1~"
    "N1*PR*KEY INSURANCE COMPANY~N1*PE*BEN KILDARE SERVICE*XX*1912301953~LX*1~"
)
TAIL = "SE*{n}*0001~GE*1*1~IEA*1*000000001~"

BILLED_837 = """ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *061015*1023*^*00501*000000907*1*T*:~
GS*HC*SUBMITTER*RECEIVER*20061015*1023*1*X*005010X222A1~ST*837*0021*005010X222A1~
BHT*0019*00*244579*20061015*1023*CH~NM1*41*2*BILLING SVC*****46*TGJ23~NM1*40*2*KEY*****46*K1~
HL*1**20*1~NM1*85*2*BEN KILDARE SERVICE*****XX*1912301953~N4*MIAMI*FL*33111~REF*EI*587654321~
HL*2*1*22*0~SBR*P*18*******CI~NM1*IL*1*SMITH*JANE****MI*JS00111223333~DMG*D8*19430501*F~
NM1*PR*2*KEY INSURANCE COMPANY*****PI*999996666~
CLM*26463774*100***11:B:1*Y*A*Y*I~NM1*82*1*KILDARE*BEN****XX*1234567893~
NM1*77*2*MERCY ER*****XX*1112223334~N4*ORLANDO*FL*32801~
LX*1~SV1*HC:99213*40*UN*1***1~DTP*472*D8*20061003~REF*6R*L1~
LX*2~SV1*HC:87070*15*UN*1***1~DTP*472*D8*20061003~REF*6R*L2~
LX*3~SV1*HC:99214*35*UN*1***2**Y~DTP*472*D8*20061010~REF*6R*L3~
LX*4~SV1*HC:00100:QK*10*MJ*45***2~DTP*472*D8*20061010~REF*6R*L4~
SE*30*0021~GE*1*1~IEA*1*000000907~
"""


def remit(claims: str, bpr: str) -> str:
    body = HEAD.format(bpr=bpr) + claims
    n = body.count("~") + 1
    return ISA + body + TAIL.format(n=n)


def write(tmp: Path, name: str, text: str) -> Path:
    p = tmp / name
    p.write_text(text)
    return p


def test_837p_joins_835_by_control_number_and_flags_recode(tmp_path: Path) -> None:
    claims = (
        "CLP*26463774*1*90*60*0*12*ICN1~NM1*QC*1*SMITH*JANE****MI*JS00111223333~"
        # billed 99214 on L3, paid as 99213: a downcode without SVC06
        "SVC*HC:99213*35*30**1~DTM*472*20061010~CAS*CO*45*5~REF*6R*L3~"
        "SVC*HC:99213*40*30**1~DTM*472*20061003~CAS*CO*45*10~REF*6R*L1~"
        "SVC*HC:87070*15*0**1~DTM*472*20061003~CAS*CO*97*15~REF*6R*L2~"
        "CLP*ZZ999*1*50*50*0*12*ICN2~SVC*HC:99999*50*50**1~"
    )
    p835 = write(tmp_path, "r.835", remit(claims, "110"))
    p837 = write(tmp_path, "c.837", BILLED_837)
    res = ingest_paths([p837, p835], salt="s")
    cl = res.claim_lines.set_index(["claim_id", "line_no"])
    assert res.report["matched_by_control_number"] == 3
    assert res.report["remit_only_lines"] == 1
    l3 = cl.loc[("26463774", 3)]
    assert (l3["cpt"], l3["billed_cpt"], bool(l3["recoded"])) == ("99213", "99214", True)
    assert bool(l3["emergency"]) is True  # SV109 from the 837P
    assert cl.loc[("26463774", 1), "recoded"] == False  # noqa: E712
    l4 = cl.loc[("26463774", 4)]
    assert l4["claim_status"] == "pending" and l4["unit_type"] == "MJ" and l4["units"] == 45.0
    assert l4["state"] == "FL"  # the 2310C service facility's state
    assert cl.loc[("26463774", 2), "claim_status"] == "denied"
    assert cl.loc[("ZZ999", 1), "claim_status"] == "paid"
    # patient key from the 837P wins and equals the 835's (same member id)
    keys = res.claim_lines.loc[res.claim_lines["claim_id"] == "26463774", "patient_key"]
    assert keys.nunique() == 1 and keys.iloc[0] != ""
    assert res.report["recoded_lines"] == 1
    # adjustments were renumbered to the billed line numbers
    a = res.adjustments
    assert a.loc[a["reason"] == "97", "line_no"].tolist() == [2]
    assert a.loc[(a["reason"] == "45") & (a["amount"] == 5), "line_no"].tolist() == [3]


def test_join_by_code_then_position_without_control_numbers(tmp_path: Path) -> None:
    export = (
        "claim_id,line_no,cpt,service_date,billed,member_id\n"
        "K1,1,99285,2025-01-01,500,M1\nK1,2,93010,2025-01-01,50,M1\nK1,3,36415,2025-01-01,10,M1\n"
    )
    claims = (
        "CLP*K1*1*560*300*0*12*ICN~"
        "SVC*HC:93010*50*40**1~CAS*CO*45*10~"  # same code, other order -> by code
        "SVC*HC:99284*500*250**1~CAS*CO*45*250~"  # other code at position 2 -> by position
        "SVC*HC:36415*10*10**1~"
    )
    res = ingest_paths(
        [write(tmp_path, "e.csv", export), write(tmp_path, "r.835", remit(claims, "300"))],
        salt="s",
    )
    cl = res.claim_lines.set_index("line_no")
    assert res.report["matched_by_code"] == 2 and res.report["matched_by_position"] == 1
    # 93010 and 36415 join by code; 99284 takes the only billed line left (99285): a downcode
    assert (cl.loc[1, "cpt"], cl.loc[1, "billed_cpt"], bool(cl.loc[1, "recoded"])) == (
        "99284",
        "99285",
        True,
    )
    assert cl.loc[2, "cpt"] == "93010" and not cl.loc[2, "recoded"]
    assert set(cl["claim_status"]) == {"paid"}
    assert cl["paid"].sum() == 300.0
    assert len(cl) == 3


def test_claim_level_remit_covers_the_billed_lines(tmp_path: Path) -> None:
    export = "claim_id,line_no,cpt,service_date,billed,specialty\nQ1,1,99285,2025-01-01,500,emergency_medicine\nQ1,2,93010,2025-01-01,50,emergency_medicine\n"
    claims = "CLP*Q1*1*550*300*50*12*ICN~CAS*CO*45*200~CAS*PR*1*50~"
    res = ingest_paths(
        [write(tmp_path, "e.csv", export), write(tmp_path, "r.835", remit(claims, "300"))],
        salt="s",
    )
    cl = res.claim_lines
    assert len(cl) == 1 and cl["line_no"].tolist() == [0]
    assert cl["specialty"].tolist() == ["emergency_medicine"]  # context from the billed side
    assert res.report["billed_lines_covered_by_claim_level_remit"] == 2
    assert res.report["paid"] == 300.0


def test_export_with_outcomes_alone_and_superseded(tmp_path: Path) -> None:
    export = (
        "claim_id,line_no,cpt,service_date,billed,paid,allowed,claim_status\n"
        "S1,1,99285,2025-01-01,500,200,250,paid\nS2,1,99285,2025-01-01,500,0,0,denied\n"
    )
    e = write(tmp_path, "e.csv", export)
    alone = ingest_paths([e], salt="s")
    assert alone.claim_lines["claim_status"].tolist() == ["paid", "denied"]
    assert alone.report["paid"] == 200.0 and alone.report["pending_lines"] == 0
    claims = "CLP*S1*1*500*220*0*12*ICN~SVC*HC:99285*500*220**1~CAS*CO*45*280~REF*6R*1~"
    both = ingest_paths([e, write(tmp_path, "r.835", remit(claims, "220"))], salt="s")
    cl = both.claim_lines.set_index("claim_id")
    assert cl.loc["S1", "paid"] == 220.0  # the 835 wins
    assert both.report["export_lines_superseded_by_835"] == 0  # its line was the join target
    assert both.report["paid"] == 220.0 + 0.0


def test_classify_by_content(tmp_path: Path) -> None:
    assert classify(remit("", "0").encode(), "x") == "835"
    assert classify(BILLED_837.encode(), "x") == "837P"
    assert classify(b"a,b\n1,2\n", "x") == "csv"
    assert classify(b"PK\x03\x04rest", "x") == "xlsx"
    with pytest.raises(IngestError, match="x: file is empty"):
        classify(b"  \n", "x")
    with pytest.raises(IngestError, match="837I"):
        classify(BILLED_837.replace("X222A1", "X223A2").encode(), "x")
    with pytest.raises(IngestError, match="legacy Excel"):
        classify(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1....", "x")


def test_inputs_globs_folders_and_missing(tmp_path: Path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    write(d, "a.835", remit("CLP*A*1*10*10*0*12*I~SVC*HC:99213*10*10**1~", "10"))
    write(d, "b.835", remit("CLP*B*1*10*10*0*12*I~SVC*HC:99213*10*10**1~", "10"))
    assert ingest_paths(["in"], salt="s", base=tmp_path).report["claims"] == 2
    assert ingest_paths(["in/a.*"], salt="s", base=tmp_path).report["claims"] == 1
    with pytest.raises(IngestError, match="nothere: input not found"):
        ingest_paths(["nothere"], salt="s", base=tmp_path)


def test_write_is_deterministic(tmp_path: Path) -> None:
    p = write(tmp_path, "a.835", remit("CLP*A*1*10*10*0*12*I~SVC*HC:99213*10*10**1~", "10"))
    res = ingest_paths([p], salt="s")
    res.write(tmp_path / "o1")
    ingest_paths([p], salt="s").write(tmp_path / "o2")
    for f in ("ingest_report.json", "rejects.csv", "claim_lines.parquet/part=0/part-0.parquet"):
        assert (tmp_path / "o1" / f).read_bytes() == (tmp_path / "o2" / f).read_bytes()
    pd.testing.assert_frame_equal(
        partitions.read_all(tmp_path / "o1" / "claim_lines.parquet"), res.claim_lines
    )


def test_repricer_marks_header_and_claim_level() -> None:
    from oonplaybook.ingest import read_835
    from oonplaybook.ingest.x12 import detect_repricer

    head_per = HEAD.replace(
        "N1*PE*", "PER*CX*FOR DISCOUNT QUESTIONS CALL ZELIS*TE*8005551212~N1*PE*"
    )
    claims = (
        "CLP*R1*1*10*10*0*12*I~SVC*HC:99213*10*10**1~"
        "CLP*R2*1*10*10*0*12*I~PER*CX*MULTIPLAN DATA ISIGHT*TE*8005550000~SVC*HC:99213*10*10**1~"
    )
    body = head_per.format(bpr="20") + claims
    text = ISA + body + TAIL.format(n=body.count("~") + 1)
    r = read_835(text.encode(), "rp.835", salt="s")
    got = dict(zip(r.claim_lines["claim_id"], r.claim_lines["repricer"], strict=True))
    assert got == {"R1": "Zelis", "R2": "Data iSight"}
    assert detect_repricer("Claritev pricing") == "MultiPlan"
    assert detect_repricer("PHCS NETWORK") == "MultiPlan"
    assert detect_repricer("NAVIGUARD INC") == "Naviguard"
    assert detect_repricer("ACME HEALTH") == ""


def test_merge_leaves_its_inputs_untouched_and_ingest_hands_frames_over(tmp_path: Path) -> None:
    """merge_billed_and_remits works on shallow (copy-on-write) copies: the caller's frames
    keep their values; ingest_paths (which hands its frames over) gives the same tables."""
    from oonplaybook import schema
    from oonplaybook.ingest.core import merge_billed_and_remits
    from oonplaybook.ingest.tabular import read_table
    from oonplaybook.ingest.x12 import read_835

    export = (
        "claim_id,line_no,cpt,service_date,billed,member_id,plan_type\n"
        "K1,1,99285,2025-01-01,500,M1,fully_insured\nK1,2,93010,2025-01-01,50,M1,fully_insured\n"
    )
    claims = "CLP*K1*1*550*300*0*12*ICN~SVC*HC:99284*500*260**1~CAS*CO*45*240~SVC*HC:93010*50*40**1~CAS*CO*45*10~"
    e = write(tmp_path, "e.csv", export)
    r = write(tmp_path, "r.835", remit(claims, "300"))
    B = read_table(e.read_bytes(), "e.csv", "csv", salt="s").claim_lines
    B["_file"], B["_origin"] = 0, "export"
    rr = read_835(r.read_bytes(), "r.835", salt="s")
    R, A = rr.claim_lines, rr.adjustments
    R["_file"], R["_origin"], A["_file"] = 0, "835", 0
    X = B.iloc[0:0]
    before = [f.copy(deep=True) for f in (B, R, A)]
    merged, adj, stats = merge_billed_and_remits(B, X, R, A)
    for old, now in zip(before, (B, R, A), strict=True):
        pd.testing.assert_frame_equal(old, now)
    assert stats["matched_by_code"] == 1 and stats["matched_by_position"] == 1
    assert merged.loc[merged["cpt"].eq("99284"), "billed_cpt"].tolist() == ["99285"]
    assert merged.loc[merged["cpt"].eq("99284"), "plan_type"].tolist() == ["fully_insured"]
    res = ingest_paths([e, r], salt="s")
    got = schema.conform(merged.drop(columns=["_file", "_clp", "_origin"]))
    got = got.sort_values(["claim_id", "line_no"], ignore_index=True)
    pd.testing.assert_frame_equal(got, res.claim_lines)
