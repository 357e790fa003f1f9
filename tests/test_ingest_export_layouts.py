"""Export layouts: delimiters, field counts, encodings, strict values, duplicate headers."""

from __future__ import annotations

import pytest

from oonplaybook.ingest import read_table
from oonplaybook.ingest.tabular import sniff_delimiter

HEADER = ["claim_id", "line_no", "patient_name", "cpt", "service_date", "billed", "payer"]
ROWS = [
    ["C000009", "1", "Doe, John", "99213", "2025-01-02", "120.00", "Acme"],
    ["C000010", "1", "Roe, Rita", "99214", "2025-01-03", "150.00", "Bolt"],
    ["C000011", "1", "Poe, Edgar", "99285", "2025-01-04", "900.00", "Acme"],
]


def _csv(delim: str, rows: list[list[str]] = ROWS, tail: str = "") -> bytes:
    return ("\n".join(delim.join(r) + tail for r in [HEADER, *rows]) + "\n").encode()


def read(data: bytes, name: str = "x.csv"):
    return read_table(data, name, "csv", salt="s")


@pytest.mark.parametrize("delim", [";", "|", "\t"])
def test_other_delimiters_are_sniffed(delim: str) -> None:
    t = read(_csv(delim))
    assert t.rejects == []
    cl = t.claim_lines
    assert cl["claim_id"].tolist() == ["C000009", "C000010", "C000011"]
    assert cl["billed"].tolist() == [120.0, 150.0, 900.0]
    assert t.stats["delimiter"] == {"\t": "tab"}.get(delim, delim)
    assert "Doe" not in cl.astype("str").to_csv()  # the name was PHI, hashed


def test_sniffer_prefers_the_consistent_wide_split() -> None:
    text = _csv(";").decode()
    assert sniff_delimiter(text) == ";"
    assert (
        sniff_delimiter(_csv(",", [[c.replace(", ", " ") for c in r] for r in ROWS]).decode())
        == ","
    )


def test_trailing_delimiter_on_every_row_is_a_layout() -> None:
    rows = [[c.replace(", ", " ") for c in r] for r in ROWS]
    t = read(_csv(",", rows, tail=","))
    assert t.rejects == [] and len(t.claim_lines) == 3
    assert t.claim_lines["payer"].tolist() == ["Acme", "Bolt", "Acme"]


def test_unquoted_thousands_comma_is_a_rejected_row_with_its_reason() -> None:
    rows = [[c.replace(", ", " ") for c in r] for r in ROWS]
    rows[1][5] = "1,150.00"
    t = read(_csv(",", rows))
    assert t.claim_lines["claim_id"].tolist() == ["C000009", "C000011"]
    (r,) = t.rejects
    assert r["location"] == "row 3"
    assert "row has 8 fields, header has 7" in r["reason"]
    assert "unquoted thousands separator" in r["reason"]
    assert t.stats["rows"] == 3


def test_short_and_long_rows_are_rejected_not_padded() -> None:
    rows = [[c.replace(", ", " ") for c in r] for r in ROWS]
    rows[0] = rows[0][:5]
    rows[2] = rows[2] + ["oops"]
    t = read(_csv(",", rows))
    assert t.claim_lines["claim_id"].tolist() == ["C000010"]
    got = {r["location"]: r["reason"] for r in t.rejects}
    assert "row has 5 fields, header has 7" in got["row 2"]
    assert "row has 8 fields, header has 7" in got["row 4"]


def test_cp1252_export_keeps_identifiers_and_says_so() -> None:
    data = _csv(",", [["C1", "1", "X", "99213", "2025-01-02", "10", "Société Générale"]])
    t = read(data.decode().encode("cp1252"))
    assert t.claim_lines["payer"].tolist() == ["Société Générale"]
    assert t.stats["encoding"] == "cp1252"
    u = read(data)
    assert u.claim_lines["payer"].tolist() == ["Société Générale"]
    assert u.stats["encoding"] == "utf-8"
    bom = read(b"\xef\xbb\xbf" + data)
    assert bom.stats["encoding"] == "utf-8-sig" and bom.claim_lines["claim_id"].tolist() == ["C1"]


def test_mixed_utf8_and_cp1252_lines_are_each_read_right() -> None:
    text = _csv(
        ",",
        [
            ["C1", "1", "X", "99213", "2025-01-02", "10", "Société Générale"],
            ["C2", "1", "X", "99213", "2025-01-02", "10", "ACME"],
        ],
    )
    lines = text.split(b"\n")
    lines[2] = lines[2].replace(b"ACME", "Crédit “Mutuel”".encode("cp1252"))
    t = read(b"\n".join(lines))
    assert t.claim_lines["payer"].tolist() == ["Société Générale", "Crédit “Mutuel”"]
    assert t.stats["encoding"] == "utf-8 with cp1252 lines"
    assert t.stats["lines_read_as_cp1252"] == [3]


def test_ingest_report_names_encoding_and_delimiter(tmp_path) -> None:
    from oonplaybook.ingest import ingest_paths

    p = tmp_path / "e.csv"
    p.write_bytes(_csv(";").decode().replace("Acme", "Société").encode("cp1252"))
    res = ingest_paths([p], salt="s")
    (f,) = res.report["files"]
    assert (f["encoding"], f["delimiter"]) == ("cp1252", ";")
    assert "Société" in res.claim_lines["payer"].tolist()


# --- strict values (issue 10 item 7) ----------------------------------------------------------

STRICT = (
    "Encounter ID,Svc Line,CPT Code,Service Date,Units Billed,Billed Amount\n"  # ledger: %m/%d/%y
    "A1,1,99213,01/02/2025,1,100.00\n"
    "A2,1,99213,01/02/2025,1,１２\n"  # full-width digits
    "A3,1,99213,01/02/2025,1e309,100.00\n"
    "A4,1,99213,01/02/2025,inf,100.00\n"
    "A5,1,99213,2025011,1,100.00\n"  # 7 digits: not 2025-01-01
    "A6,1,99213,01/02/68,1,100.00\n"  # two-digit year 68 -> 1968: outside the claim years
    "A7,1,99213,01/03/25,2,100.00\n"  # two-digit year 25 -> 2025, near the other dates: fine
    "A8,1,99213,01/02/2025,²,100.00\n"
    "A9,1,99213,01/02/2025,1,99999999999\n"  # over $10M: a damaged field
    "B1,1,99213,01/02/2025,1,12.345\n"  # 3 decimals
    "B2,1,99213,01/02/49,1,10\n"  # 2049: a plausible year, but 24 years from the others
)


def test_strict_amounts_units_and_dates_are_rejected_with_reasons() -> None:
    t = read(STRICT.encode())
    assert t.stats["mapping"] == "encounter_ledger"
    cl = t.claim_lines
    assert cl["claim_id"].tolist() == ["A1", "A7"]
    assert cl["service_date"].dt.strftime("%Y-%m-%d").tolist() == ["2025-01-02", "2025-01-03"]
    assert cl["units"].tolist() == [1.0, 2.0]
    got = {r["record"].split(" claim ")[1]: r["reason"] for r in t.rejects}
    assert set(got) == {"A2", "A3", "A4", "A5", "A6", "A8", "A9", "B1", "B2"}
    assert "billed '１２' is not an amount" in got["A2"]
    for k in ("A3", "A4", "A8"):
        assert "is not a plain number" in got[k]
    assert "service_date '2025011' matches none" in got["A5"]
    assert "service_date '01/02/68' matches none" in got["A6"]
    assert "two-digit year read as 2049" in got["B2"]
    assert "billed '99999999999' is not an amount" in got["A9"]
    assert "billed '12.345'" in got["B1"]


# --- duplicate headers (issue 10 item 8) ----------------------------------------------------


def test_same_header_twice_agreeing_is_one_column_and_said() -> None:
    t = read(
        b"claim_id,line_no,code,service_date,billed,code\n"
        b"A,1,99213,2025-01-02,10,99213\nB,1,,2025-01-02,10,99214\n"
    )
    assert t.claim_lines["cpt"].tolist() == ["99213", "99214"]
    (d,) = t.stats["duplicate_columns"]
    assert d["target"] == "cpt" and d["used"] == "column 3 'code'"
    assert d["also"] == ["column 6 'code'"] and "1 empty cells" in d["why"]


def test_same_header_twice_disagreeing_rejects_the_file() -> None:
    from oonplaybook.ingest import MappingError

    with pytest.raises(
        MappingError,
        match=r"columns 3 'code' and 6 'code' both give cpt and disagree on data row 2 \('99213' vs '99285'\)",
    ):
        read(
            b"claim_id,line_no,code,service_date,billed,code\n"
            b"A,1,99213,2025-01-02,10,99213\nB,1,99213,2025-01-02,10,99285\n"
        )


def test_disagreeing_phi_columns_do_not_show_their_values() -> None:
    from oonplaybook.ingest import MappingError

    with pytest.raises(MappingError) as e:
        read(
            b"claim_id,line_no,cpt,service_date,billed,member_id,subscriber_id\n"
            b"A,1,99213,2025-01-02,10,MEM1,MEM2\n"
        )
    assert "member_id" in str(e.value) and "MEM" not in str(e.value)


# --- the appeals file is an export too ---------------------------------------------------------


def test_appeals_file_cp1252_semicolons_and_ragged_rows(tmp_path) -> None:
    from oonplaybook.ingest import read_appeals

    p = tmp_path / "appeals.csv"
    p.write_bytes(
        "claim_id;payer;appeal_level;filed_date;outcome;recovered\n"
        "A1;Société Générale;1;2025-02-01;overturned;120.00\n"
        "A2;Bolt;1;2025-02-03;upheld\n"
        "A3;Bolt;2;2025-02-04;pending;0;extra\n"
        "A4;Bolt;1;2025-02-05;partial;1e309\n".encode("cp1252")
    )
    ap, rej = read_appeals(p)
    assert ap["claim_id"].tolist() == ["A1"] and ap["payer"].tolist() == ["Société Générale"]
    got = dict(zip(rej["location"], rej["reason"], strict=True))
    assert "row has 5 fields, header has 6" in got["row 3"]
    assert "row has 7 fields, header has 6" in got["row 4"]
    assert "recovered is not an amount" in got["row 5"]


def test_single_quote_quoting_is_sniffed_and_an_apostrophe_is_not_a_quote() -> None:
    t = read(
        b"claim_id,line_no,cpt,service_date,billed,payer\n"
        b"A1,1,99213,2025-01-02,'1,200.00','Acme, Inc'\n"
        b"A2,1,99214,2025-01-03,'300.00','Bolt, LLC'\n"
    )
    assert t.stats["quote"] == "'" and t.rejects == []
    assert t.claim_lines["billed"].tolist() == [1200.0, 300.0]
    assert t.claim_lines["payer"].tolist() == ["Acme, Inc", "Bolt, LLC"]
    u = read(
        b"claim_id,line_no,cpt,service_date,billed,payer\n"
        b'A1,1,99213,2025-01-02,10,O\'Brien Health\nA2,1,99213,2025-01-02,10,"Bolt, LLC"\n'
    )
    assert u.stats["quote"] == '"' and u.claim_lines["payer"].tolist() == [
        "O'Brien Health",
        "Bolt, LLC",
    ]


def test_line_numbers_are_plain_whole_numbers() -> None:
    t = read(
        b"claim_id,line_no,cpt,service_date,billed\n"
        b"A,1,99213,2025-01-02,10\nA,2.0,99214,2025-01-02,10\nB,1e3,99213,2025-01-02,10\n"
        b"C,\xef\xbc\x91,99213,2025-01-02,10\nD,0,99213,2025-01-02,10\n"
    )
    assert t.claim_lines["line_no"].tolist() == [1, 2]
    assert {r["location"] for r in t.rejects} == {"row 4", "row 5", "row 6"}
