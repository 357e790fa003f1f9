"""One claim number on several claims (837P, exports): kept apart or reported, never merged."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from oonplaybook.ingest import ingest_paths, read_837p

ISA837 = (
    "ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *250115*1023*^*00501"
    "*000000907*1*T*:~GS*HC*SUBMITTER*RECEIVER*20250115*1023*1*X*005010X222A1~"
    "ST*837*0021*005010X222A1~BHT*0019*00*244579*20250115*1023*CH~"
    "HL*1**20*1~NM1*85*2*GOOD DOCTORS PC*****XX*1912301953~N4*MIAMI*FL*33111~REF*EI*587654321~"
)
CODES = ("99285", "93010", "36415", "71045")


def _claim(i: int, clm01: str = "ACCT77") -> tuple[str, int, float]:
    """Claim ``i`` of the shared-CLM01 file: its segments, line count and billed total."""
    n_lines = 1 + i % 3
    prices = [round(100 + 37.25 * i + 11.5 * k, 2) for k in range(n_lines)]
    total = round(sum(prices), 2)
    day = 1 + i
    segs = [
        f"HL*{i + 2}*1*22*0~SBR*P*18*******CI~NM1*IL*1*PATIENT{i}*ANN****MI*MEM{i:04d}~"
        "NM1*PR*2*ACME HEALTH*****PI*999996666~",
        f"CLM*{clm01}*{total:.2f}***23:B:1*Y*A*Y*I~",
    ]
    for k, p in enumerate(prices):
        segs.append(
            f"LX*{k + 1}~SV1*HC:{CODES[k]}*{p:.2f}*UN*1***1~DTP*472*D8*202501{day:02d}~"
            f"REF*6R*L{k + 1}~"
        )
    return "".join(segs), n_lines, total


def shared_clm01_837(n: int = 18, *, repeat_last: bool = False) -> tuple[str, list[int], list]:
    """An 837P whose ``n`` claims all carry CLM01 ACCT77 (optionally the last sent twice)."""
    body, lines, totals = [], [], []
    for i in range(n):
        seg, nl, tot = _claim(i)
        body.append(seg)
        lines.append(nl)
        totals.append(tot)
    if repeat_last:
        body.append(body[-1].replace(f"HL*{n + 1}*", f"HL*{n + 2}*"))
    text = ISA837 + "".join(body)
    text += f"SE*{text.count('~') - 1}*0021~GE*1*1~IEA*1*000000907~"
    return text, lines, totals


def test_18_claims_sharing_clm01_all_survive_with_their_lines(tmp_path: Path) -> None:
    text, lines, totals = shared_clm01_837(18)
    p = tmp_path / "claims.837"
    p.write_text(text)
    res = ingest_paths([p], salt="s")
    cl = res.claim_lines
    assert len(cl) == sum(lines)
    ids = ["ACCT77"] + [f"ACCT77#{k}" for k in range(2, 19)]
    assert sorted(cl["claim_id"].unique()) == sorted(ids)
    per = cl.groupby("claim_id", sort=False).agg(n=("line_no", "size"), billed=("billed", "sum"))
    for k, cid in enumerate(ids):
        assert per.loc[cid, "n"] == lines[k]
        assert round(per.loc[cid, "billed"], 2) == totals[k]
    assert round(cl["billed"].sum(), 2) == round(sum(totals), 2)
    # each claim keeps its own patient and date: nothing mixed
    assert cl.groupby("claim_id")["patient_key"].nunique().eq(1).all()
    assert cl["patient_key"].nunique() == 18
    assert cl.groupby("claim_id")["service_date"].nunique().eq(1).all()
    assert res.report["claims_disambiguated"] == 17
    assert res.report["duplicate_billed_lines"] == 0
    listed = {d["key"]: d["source"] for d in res.report["claim_ids_disambiguated"]}
    assert listed["ACCT77#2"].startswith("claims.837:segment ")
    assert res.rejects.empty


def test_true_duplicate_claim_is_reported_with_both_sources(tmp_path: Path) -> None:
    text, lines, totals = shared_clm01_837(3, repeat_last=True)
    p = tmp_path / "claims.837"
    p.write_text(text)
    res = ingest_paths([p], salt="s")
    cl = res.claim_lines
    assert len(cl) == sum(lines)  # the repeat is not added
    assert round(cl["billed"].sum(), 2) == round(sum(totals), 2)
    assert res.report["duplicate_claim_copies"] == 1
    assert res.report["duplicate_billed_lines"] == lines[-1]
    (dup,) = res.report["duplicate_claims"]
    assert dup["kept"] != dup["duplicate"]
    assert dup["kept"].startswith("claims.837:segment ")
    assert len(res.rejects) == lines[-1]
    assert res.rejects["reason"].str.contains("true duplicate of claim ACCT77").all()
    assert res.rejects["reason"].str.contains(dup["kept"], regex=False).all()
    # every billed line is accepted or rejected
    assert res.report["lines"] == sum(lines) + lines[-1]


def test_reader_tags_each_clm_as_its_own_claim() -> None:
    text, lines, _ = shared_clm01_837(5)
    c = read_837p(text.encode(), "c.837", salt="s")
    assert c.claim_lines.groupby("_claim").size().tolist() == lines


def test_remits_for_a_shared_clm01_pair_with_their_own_claim(tmp_path: Path) -> None:
    text, lines, totals = shared_clm01_837(4)
    (tmp_path / "claims.837").write_text(text)
    # the payer pays claim 3 (patient MEM0002) and claim 1 (MEM0000), CLP01 = ACCT77 each time
    clps = []
    for i in (2, 0):
        _, nl, tot = _claim(i)
        clps.append(
            f"CLP*ACCT77*1*{tot:.2f}*{tot / 2:.2f}*0*12*ICN{i}~"
            f"NM1*QC*1*PATIENT{i}*ANN****MI*MEM{i:04d}~"
            + "".join(
                f"SVC*HC:{CODES[k]}*{round(100 + 37.25 * i + 11.5 * k, 2):.2f}*"
                f"{round(100 + 37.25 * i + 11.5 * k, 2) / 2:.2f}**1~DTM*472*202501{1 + i:02d}~"
                f"CAS*CO*45*{round(100 + 37.25 * i + 11.5 * k, 2) / 2:.2f}~REF*6R*L{k + 1}~"
                for k in range(nl)
            )
        )
    bpr = sum(_claim(i)[2] / 2 for i in (2, 0))
    isa = (
        "ISA*00*          *00*          *ZZ*PAYER          *ZZ*PROVIDER       *250120*1200*^"
        "*00501*000000001*0*P*:~GS*HP*PAYER*PROVIDER*20250120*1200*1*X*005010X221A1~"
    )
    body = (
        f"ST*835*0001~BPR*I*{bpr:.2f}*C*ACH*CCP*01*1*DA*1*1**01*1*DA*1*20250120~TRN*1*T1*1~"
        "N1*PR*ACME HEALTH~N1*PE*GOOD DOCTORS PC*XX*1912301953~LX*1~" + "".join(clps)
    )
    n = body.count("~") + 1
    (tmp_path / "r.835").write_text(isa + body + f"SE*{n}*0001~GE*1*1~IEA*1*000000001~")
    res = ingest_paths([tmp_path / "claims.837", tmp_path / "r.835"], salt="s")
    cl = res.claim_lines
    assert len(cl) == sum(lines)
    paid = cl.loc[cl["claim_status"].ne("pending")]
    assert sorted(paid["claim_id"].unique()) == ["ACCT77", "ACCT77#3"]
    assert res.report["remit_claims_to_disambiguated"] == 1
    # the remit's lines sit on the billed lines of their own claim (no remit-only lines)
    assert res.report["remit_only_lines"] == 0
    assert paid.groupby("claim_id").size().to_dict() == {"ACCT77": lines[0], "ACCT77#3": lines[2]}
    adj = res.adjustments
    assert set(adj["claim_id"]) == {"ACCT77", "ACCT77#3"}
    # the pending ones are the other two claims, untouched
    pend = cl.loc[cl["claim_status"].eq("pending")].groupby("claim_id")["billed"].sum()
    assert round(pend["ACCT77#2"], 2) == totals[1] and round(pend["ACCT77#4"], 2) == totals[3]


EXPORT_SHARED = """claim_id,line_no,cpt,service_date,billed,member_id,payer
K9,1,99285,2025-01-01,500,M1,Acme
K9,2,93010,2025-01-01,50,M1,Acme
K9,1,99284,2025-02-01,400,M2,Acme
K9,1,99283,2025-03-01,300,M1,Acme
K9,1,99285,2025-01-01,500,M1,Acme
"""


def test_export_claim_number_on_several_claims(tmp_path: Path) -> None:
    p = tmp_path / "e.csv"
    p.write_text(EXPORT_SHARED)
    res = ingest_paths([p], salt="s")
    cl = res.claim_lines.sort_values(["claim_id", "line_no"])
    # rows 2-3 one claim (M1), row 4 another patient, row 5 the k-th repeat of line 1 for M1
    got = cl.groupby("claim_id")["billed"].sum().to_dict()
    assert got == {"K9": 550.0, "K9#2": 400.0, "K9#3": 300.0}
    # row 6 repeats row 2 exactly: a true duplicate row, rejected naming the row it repeats
    assert len(res.rejects) == 1
    (r,) = res.rejects.to_dict("records")
    assert r["location"] == "row 6" and "true duplicate of row 2" in r["reason"]
    assert res.report["lines"] == 5


def test_no_shared_ids_no_change(tmp_path: Path) -> None:
    p = tmp_path / "e.csv"
    p.write_text("claim_id,line_no,cpt,service_date,billed\nA,1,99213,2025-01-01,100\n")
    res = ingest_paths([p], salt="s")
    assert res.claim_lines["claim_id"].tolist() == ["A"]
    assert res.report["claims_disambiguated"] == 0 and res.report["duplicate_claims"] == []
    assert isinstance(res.claim_lines, pd.DataFrame)


# --- the same 835 delivered twice (issue 10 item 9) ------------------------------------------


def _resent(text: str) -> str:
    """The same remittance re-sent: new interchange/transaction control numbers, CRLF layout."""
    return (
        text.replace("000000001", "000000777")
        .replace("*1*X*005010X221A1", "*77*X*005010X221A1")
        .replace("GE*1*1", "GE*1*77")
        .replace("ST*835*0001", "ST*835*7001")
        .replace("*0001~GE", "*7001~GE")
        .replace("~", "~\r\n")
    )


def test_same_835_delivered_twice_is_read_once(tmp_path: Path) -> None:
    from oonplaybook.benchmark import build_benchmarks
    from oonplaybook.playbook._adapters import line_frame
    from tests._ingest_samples import CLAIM_PAID, N_CLAIMS, make_835

    text = make_835(N_CLAIMS)
    (tmp_path / "week1.835").write_text(text)
    (tmp_path / "week1_resent.835").write_text(_resent(text))
    once = ingest_paths([tmp_path / "week1.835"], salt="s")
    res = ingest_paths([tmp_path / "week1.835", tmp_path / "week1_resent.835"], salt="s")
    assert len(res.claim_lines) == len(once.claim_lines) == 2 * N_CLAIMS
    assert res.report["paid"] == once.report["paid"] == CLAIM_PAID * N_CLAIMS
    assert res.report["bpr_total"] == once.report["bpr_total"]
    assert res.report["payments_reconcile"] is True
    (d,) = res.report["duplicate_deliveries"]
    assert d == {
        "file": "week1_resent.835",
        "duplicate_of": "week1.835",
        "trn": "EFT0001|1512345678",
    }
    (r,) = res.rejects.to_dict("records")
    assert r["file"] == "week1_resent.835" and "duplicate delivery of week1.835" in r["reason"]
    files = {f["file"]: f for f in res.report["files"]}
    assert files["week1_resent.835"]["duplicate_of"] == "week1.835"
    pd.testing.assert_frame_equal(res.adjustments, once.adjustments)
    # the join that failed downstream ("Merge keys are not unique") now holds
    cl = res.claim_lines
    assert not cl.duplicated(["claim_id", "line_no"]).any()
    bm = build_benchmarks(cl, year=2025, default_locality="01112-05")
    lines = line_frame(cl, bm)
    assert len(lines) == len(cl)


def test_same_trn_other_content_is_read_and_said(tmp_path: Path) -> None:
    from tests._ingest_samples import make_835

    text = make_835(3)
    (tmp_path / "a.835").write_text(text)
    (tmp_path / "b.835").write_text(text.replace("CLP*C002*1", "CLP*C902*1"))
    res = ingest_paths([tmp_path / "a.835", tmp_path / "b.835"], salt="s")
    assert res.report["duplicate_deliveries"] == []
    (s,) = res.report["same_trn_other_content"]
    assert s["file"] == "b.835" and s["same_trn_as"] == "a.835"
    assert res.claim_lines["claim_id"].nunique() == 4


def test_837_units_that_are_not_plain_numbers_reject_the_line() -> None:
    text, lines, _ = shared_clm01_837(2)
    bad = text.replace("SV1*HC:99285*100.00*UN*1***1", "SV1*HC:99285*100.00*UN*1e309***1", 1)
    assert bad != text
    c = read_837p(bad.encode(), "c.837", salt="s")
    assert len(c.claim_lines) == sum(lines) - 1
    (r,) = c.rejects
    assert r["record"] == "claim ACCT77 line 1" and "SV104 units" in r["reason"]
    assert "1e309" not in r["reason"]


def test_the_same_export_given_twice_is_read_once(tmp_path: Path) -> None:
    text = (
        "claim_id,line_no,cpt,service_date,billed,member_id\n"
        "E1,1,99285,2025-01-01,500,M1\nE1,2,93010,2025-01-01,50,M1\nE2,1,99284,2025-01-02,400,M2\n"
    )
    (tmp_path / "jan.csv").write_text(text)
    (tmp_path / "jan_copy.csv").write_text(text)
    res = ingest_paths([tmp_path / "jan.csv", tmp_path / "jan_copy.csv"], salt="s")
    assert len(res.claim_lines) == 3 and res.report["billed"] == 950.0
    assert res.report["duplicate_claim_copies"] == 2
    assert set(res.rejects["file"]) == {"jan_copy.csv"} and len(res.rejects) == 3
    assert res.rejects["reason"].str.contains("read at jan.csv:row ", regex=False).all()
    files = {f["file"]: f["rejects"] for f in res.report["files"]}
    assert files == {"jan.csv": 0, "jan_copy.csv": 3}
    # a corrected copy (another amount) is a distinct claim, kept apart, never merged
    (tmp_path / "jan_fixed.csv").write_text(text.replace("400,M2", "450,M2"))
    res2 = ingest_paths([tmp_path / "jan.csv", tmp_path / "jan_fixed.csv"], salt="s")
    assert sorted(res2.claim_lines["claim_id"].unique()) == ["E1", "E2", "E2#2"]
    assert res2.report["billed"] == 950.0 + 450.0


def test_a_delivery_that_resends_one_earlier_transaction(tmp_path: Path) -> None:
    from tests._ingest_samples import CLAIM_PAID, isa, make_835

    t1 = make_835(3, envelope=False)  # TRN EFT0001, claims C001-C003
    t2 = (
        make_835(2, envelope=False)
        .replace("EFT0001", "EFT0002")
        .replace("CLP*C00", "CLP*D00")
        .replace("ST*835*0001", "ST*835*0002")
        .replace("*0001~", "*0002~")
    )
    gs = "GS*HP*PAYER*PROVIDER*20250110*1200*1*X*005010X221A1~"
    first = isa() + gs + t1 + "GE*1*1~IEA*1*000000001~"
    both = isa().replace("000000001", "000000002") + gs + t1 + t2 + "GE*2*1~IEA*1*000000002~"
    (tmp_path / "mon.835").write_text(first)
    (tmp_path / "tue.835").write_text(both)
    res = ingest_paths([tmp_path / "mon.835", tmp_path / "tue.835"], salt="s")
    cl = res.claim_lines
    assert sorted(cl["claim_id"].unique()) == ["C001", "C002", "C003", "D001", "D002"]
    assert not cl.duplicated(["claim_id", "line_no"]).any()
    assert set(cl.loc[cl["claim_id"].str.startswith("C"), "source"].str.split(":").str[0]) == {
        "mon.835"
    }
    assert res.report["paid"] == CLAIM_PAID * 5
    assert res.report["bpr_total"] == CLAIM_PAID * 5 and res.report["payments_reconcile"]
    assert res.report["claims"] == 5 and res.report["claims_in_x12_files"] == 5
    (d,) = res.report["duplicate_deliveries"]
    assert (
        d["file"] == "tue.835" and d["duplicate_of"] == "mon.835" and d["trn"].startswith("EFT0001")
    )
    (r,) = res.rejects.to_dict("records")
    assert (
        r["file"] == "tue.835" and "duplicate delivery of a transaction in mon.835" in r["reason"]
    )
    assert set(res.adjustments["claim_id"]) == {"C001", "C002", "C003", "D001", "D002"}
    assert len(res.adjustments) == 6 * 5
    files = {f["file"]: f for f in res.report["files"]}
    assert files["tue.835"]["claims"] == 2 and files["tue.835"]["repeated_transactions"] == 1


def test_replacement_and_void_claims_supersede_the_original(tmp_path: Path) -> None:
    seg0, n0, tot0 = _claim(0, "ORIG1")
    seg1, n1, tot1 = _claim(1, "ORIG1")  # the corrected claim: other charges, frequency 7
    seg1 = seg1.replace("*23:B:1*", "*23:B:7*")
    seg2, n2, _ = _claim(2, "GONE2")
    seg3, _, _ = _claim(2, "GONE2")  # the void of GONE2
    seg3 = seg3.replace("*23:B:1*", "*23:B:8*").replace("HL*4*", "HL*5*")
    text = ISA837 + seg0 + seg1 + seg2 + seg3
    text += f"SE*{text.count('~') - 1}*0021~GE*1*1~IEA*1*000000907~"
    (tmp_path / "c.837").write_text(text)
    res = ingest_paths([tmp_path / "c.837"], salt="s")
    cl = res.claim_lines
    assert cl["claim_id"].unique().tolist() == ["ORIG1"]  # GONE2 voided, no ORIG1#2
    assert len(cl) == n1 and round(cl["billed"].sum(), 2) == tot1
    assert res.report["claims_replaced"] == 1 and res.report["claims_voided"] == 1
    reasons = res.rejects["reason"]
    assert (
        reasons.str.contains(
            "replaced by the corrected claim ORIG1 (CLM05-3 = 7)", regex=False
        ).sum()
        == n0
    )
    assert reasons.str.contains("void of claim GONE2").sum() == n2
    assert reasons.str.contains("voided by claim GONE2").sum() == n2
    assert res.report["lines"] == n1 + n0 + 2 * n2


def test_837_encoding_is_reported_and_names_kept(tmp_path: Path) -> None:
    text, lines, _ = shared_clm01_837(1)
    text = text.replace("ACME HEALTH", "SOCIÉTÉ GÉNÉRALE")
    (tmp_path / "c.837").write_bytes(text.encode("cp1252"))
    res = ingest_paths([tmp_path / "c.837"], salt="s")
    (f,) = res.report["files"]
    assert f["encoding"].startswith("cp1252")
    assert res.claim_lines["payer"].unique().tolist() == ["SOCIÉTÉ GÉNÉRALE"]
