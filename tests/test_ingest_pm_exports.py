"""PM exports a new user brings: no claim-number column, PM header spellings, mapping suggest."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from oonplaybook.cli import app
from oonplaybook.ingest import MappingError, ingest_paths, load_mapping, read_table
from oonplaybook.ingest.suggest import suggest_mapping

NO_CLAIM_NO = """Patient Acct #,DOS,CPT/HCPCS,Mod 1,Mod 2,Units,POS,Rendering NPI,Primary Ins,Charges,Allowed,Ins Paid,Pt Resp,Claim Status,Denial Code,Paid Date
ACC1001,03/04/2025,99285,25,,1,23,1234567893,Acme Health,"$1,200.00",$400.00,$350.00,$50.00,Paid,,04/01/2025
ACC1001,03/04/2025,93010,,,1,23,1234567893,Acme Health,$90.00,$0.00,$0.00,$0.00,Denied,CO-97,
ACC1001,03/09/2025,99284,,,1,23,1234567893,Acme Health,$700.00,,,,Open,,
ACC2002,03/04/2025,99283,,,1,23,1234567893,Bolt Mutual,$400.00,$200.00,$200.00,$0.00,Paid,,04/03/2025
ACC2002,03/04/2025,99283,,,1,23,1999999992,Bolt Mutual,$400.00,$200.00,$200.00,$0.00,Paid,,04/03/2025
,03/04/2025,99283,,,1,23,1234567893,Bolt Mutual,$400.00,,,,Open,,
"""


def test_export_without_claim_numbers_is_keyed_by_hashed_account(tmp_path: Path) -> None:
    p = tmp_path / "pm.csv"
    p.write_text(NO_CLAIM_NO)
    res = ingest_paths([p], salt="s")
    (f,) = res.report["files"]
    assert f["mapping"] == "pm_reports"
    assert (
        "claims keyed by 'Patient Acct #' + 'DOS' + 'Primary Ins' + 'Rendering NPI'"
        in (f["claim_key"])
    )
    assert any("no claim-number column" in w for w in res.report["warnings"])
    cl = res.claim_lines.sort_values("source", key=lambda s: s.str.len() * 1000 + 0)
    by_src = res.claim_lines.set_index("source")
    # rows 2-3 (same account, day, payer, provider) are one claim of two lines; row 4 another
    # day; rows 5 and 6 differ only in the rendering NPI: two claims
    ids = [by_src.loc[f"pm.csv:row {n}", "claim_id"] for n in (2, 3, 4, 5, 6)]
    assert ids[0] == ids[1] and len(set(ids)) == 4
    assert by_src.loc["pm.csv:row 3", "line_no"] == 2
    assert all(i.startswith("A") and len(i) == 17 for i in ids)
    assert by_src.loc["pm.csv:row 2", "modifiers"] == "25"
    assert by_src.loc["pm.csv:row 2", "paid"] == 350.0
    assert by_src.loc["pm.csv:row 3", "claim_status"] == "denied"
    assert by_src.loc["pm.csv:row 3", "carc"] == "CO-97"
    # the same account gives the same patient key; the raw account is nowhere
    assert by_src.loc["pm.csv:row 2", "patient_key"] == by_src.loc["pm.csv:row 4", "patient_key"]
    blob = cl.astype("str").to_csv() + res.rejects.astype("str").to_csv() + str(res.report)
    assert "ACC1001" not in blob and "ACC2002" not in blob
    (r,) = res.rejects.to_dict("records")
    assert r["location"] == "row 7" and "patient account is empty" in r["reason"]
    # the key is salted: another salt, other keys
    other = ingest_paths([p], salt="t").claim_lines
    assert set(other["claim_id"]).isdisjoint(set(res.claim_lines["claim_id"]))


def test_account_keys_need_the_salt() -> None:
    with pytest.raises(MappingError, match="PHI salt"):
        read_table(NO_CLAIM_NO.encode(), "pm.csv", "csv", salt="")


# Report headers as the PM vendors document them (see mappings/pm_reports.yaml for sources).
PM_HEADERS = {
    "tebra_kareo": "Patient Account #,From,Procedure,Mod X,Units,Total Charge,Patient Resp.,Insurance Payments",
    "athenahealth": "Claim ID,Patient ID,Billed Service Date,Procedure Code,Charge Amount,Primary Insurance Payer,Billed Provider ID",
    "collaboratemd": "Claim ID,Patient ID,Rendering Provider ID,CPT Code,Service Date,Payer ID,Member ID,Charge",
    "drchrono": "Appointment,Patient,Service_date,Code,Billing Status,Allowed,Ins1 Paid,Posted Date,Billed",
    "ecw_advancedmd": "Claim No,Service Date,CPT,Billed Charge,Ins Paid,Patient Name",
}
EXPECT = {
    "tebra_kareo": {"service_date", "cpt", "modifiers", "units", "billed", "patient_resp", "paid"},
    "athenahealth": {"claim_id", "service_date", "cpt", "billed", "payer", "provider_npi"},
    "collaboratemd": {"claim_id", "provider_npi", "cpt", "service_date", "payer_id", "billed"},
    "drchrono": {"service_date", "cpt", "claim_status", "allowed", "paid", "remit_date", "billed"},
    "ecw_advancedmd": {"claim_id", "service_date", "cpt", "billed", "paid"},
}


@pytest.mark.parametrize("system", sorted(PM_HEADERS))
def test_documented_pm_headers_are_recognised(system: str) -> None:
    header = PM_HEADERS[system]
    row = []
    for h in header.split(","):
        k = h.lower()
        if "date" in k or k in ("from", "service_date"):
            row.append("03/04/2025")
        elif k in ("procedure", "procedure code", "cpt code", "cpt", "code"):
            row.append("99213")
        elif (
            "charge" in k
            or "paid" in k
            or "allowed" in k
            or "resp" in k
            or "payments" in k
            or k == "billed"
        ):
            row.append("100.00")
        elif k == "units":
            row.append("1")
        elif k == "billing status":
            row.append("Paid in Full")
        elif "provider id" in k:
            row.append("1234567893")
        else:
            row.append("X1")
    text = header + "\n" + ",".join(row) + "\n"
    t = read_table(text.encode(), f"{system}.csv", "csv", salt="s")
    assert t.stats["mapping"] == "pm_reports"
    targets = set(t.claim_lines.columns[t.claim_lines.notna().all()])
    assert EXPECT[system] <= targets | {"claim_id"}
    assert t.rejects == [], t.rejects
    assert len(t.claim_lines) == 1
    if system == "drchrono":
        assert t.claim_lines["claim_status"].tolist() == ["paid"]


def test_mapping_suggest_writes_a_loadable_profile(tmp_path: Path) -> None:
    p = tmp_path / "odd.csv"
    p.write_text(
        "Weekly charges,,,,\n"
        "Patient Acct #,Svc Dt,CPT/HCPCS,Charges,Claim Status,Front Desk Note\n"
        "ACC1,03/04/2025,99213,$100.00,Paid,hello\nACC2,03/05/2025,99214,$120.00,Weird,\n"
    )
    out = CliRunner().invoke(app, ["mapping", "suggest", str(p)])
    assert out.exit_code == 0, out.output
    text = out.output
    assert "#   - Svc Dt" in text and "#   - Front Desk Note" in text
    assert "#   - WEIRD" in text  # an unknown status word, for the user to place
    assert "MISSING required column service_date" in text
    assert "ACC1" not in text and "hello" not in text  # no data values (PHI) written
    doc = yaml.safe_load(text)
    assert doc["columns"]["cpt"] == ["CPT/HCPCS"] and doc["phi"]["account"] == ["Patient Acct #"]
    # the user assigns the unmatched date column and the profile reads the file
    doc["columns"]["service_date"] = ["Svc Dt"]
    prof = tmp_path / "mine.yaml"
    prof.write_text(yaml.safe_dump(doc))
    m = load_mapping(str(prof))
    assert m.columns["cpt"] == ("CPT/HCPCS",)
    res = ingest_paths([p], salt="s", mapping=str(prof))
    assert len(res.claim_lines) == 1 and len(res.rejects) == 1
    assert "claim_status 'Weird'" in res.rejects["reason"].iloc[0]


def test_mapping_suggest_on_the_issue_headers_loads_unchanged(tmp_path: Path) -> None:
    text = suggest_mapping(NO_CLAIM_NO.encode(), "pm.csv", "csv")
    prof = tmp_path / "pm.yaml"
    prof.write_text(text)
    m = load_mapping(str(prof))
    assert m.date_formats == ("%m/%d/%Y",)
    p = tmp_path / "pm.csv"
    p.write_text(NO_CLAIM_NO)
    res = ingest_paths([p], salt="s", mapping=str(prof))
    assert res.report["accepted_lines"] == 5


def test_mapping_suggest_refuses_x12(tmp_path: Path) -> None:
    p = tmp_path / "r.835"
    p.write_text(
        "ISA*00*          *00*          *ZZ*A              *ZZ*B              *250101*1200*^*00501*000000001*0*P*:~GS*HP*A*B*20250101*1200*1*X*005010X221A1~ST*835*1~SE*2*1~"
    )
    out = CliRunner().invoke(app, ["mapping", "suggest", str(p)])
    assert out.exit_code == 2 and "needs no mapping" in out.output


def test_ingest_summary_names_keys_duplicates_and_encodings(tmp_path: Path) -> None:
    from oonplaybook.cli_ingest import summary_rows

    p = tmp_path / "pm.csv"
    p.write_bytes(NO_CLAIM_NO.replace("Acme Health", "Société").encode("cp1252"))
    rows = dict(summary_rows(ingest_paths([p], salt="s").report))
    assert rows["encoding of pm.csv"] == "cp1252"
    assert rows["claim key of pm.csv"] == "account + DOS + payer + NPI (hashed)"
