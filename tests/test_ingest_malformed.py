"""The 18 malformed-input cases of X12.md §4, each asserted explicitly against the 835 reader."""

from __future__ import annotations

import pytest

from oonplaybook.ingest import IngestError, NotX12Error, ingest_paths, read_835
from tests._ingest_samples import (
    CLAIM_ADJ,
    CLAIM_BILLED,
    CLAIM_PAID,
    CLAIM_PR,
    N_CLAIMS,
    PAIRS_PER_CLAIM,
    make_835,
)


def read(text: str | bytes, name: str = "t.835"):
    data = text.encode() if isinstance(text, str) else text
    return read_835(data, name, salt="test-salt")


def assert_clean(r, n: int = N_CLAIMS) -> None:
    """n clean claims: 2 lines each, 6 CAS pairs each, exact dollar totals, no rejects."""
    cl = r.claim_lines
    assert r.stats["claims"] == n
    assert len(cl) == 2 * n
    assert len(r.adjustments) == PAIRS_PER_CLAIM * n
    assert cl["billed"].sum() == pytest.approx(CLAIM_BILLED * n, abs=1e-9)
    assert cl["paid"].sum() == pytest.approx(CLAIM_PAID * n, abs=1e-9)
    assert cl["patient_resp"].sum() == pytest.approx(CLAIM_PR * n, abs=1e-9)
    assert r.adjustments["amount"].sum() == pytest.approx(CLAIM_ADJ * n, abs=1e-9)
    assert r.rejects == []
    assert set(cl["cpt"]) == {"99213", "99214"}
    assert set(cl.loc[cl["cpt"] == "99213", "modifiers"]) == {"25"}


def test_01_clean() -> None:
    r = read(make_835())
    assert_clean(r)
    assert r.balance_failures == []
    assert r.stats["warnings"] == []
    assert r.stats["bpr_total_cents"] == r.stats["clp_paid_cents"] == 240000


def test_02_truncated_mid_file() -> None:
    text = make_835()
    cut = text[: len(text) // 2]
    r = read(cut)
    n_clp = cut.count("~CLP*")
    assert r.stats["claims"] + r.stats["claims_rejected"] == n_clp == r.stats["claims_in_file"]
    assert 0 < r.stats["claims"] < N_CLAIMS
    assert any("no SE" in w for w in r.stats["warnings"])
    assert any("no IEA" in w for w in r.stats["warnings"])


def test_03_se01_count_wrong() -> None:
    r = read(make_835(se_count=7))
    assert_clean(r)
    assert any("SE01" in w and "says 7" in w for w in r.stats["warnings"])


def test_04_non_numeric_clp03_rejects_that_claim_only() -> None:
    r = read(make_835(clp03={5: "12O.00"}))
    assert r.stats["claims"] == N_CLAIMS - 1
    assert r.stats["claims_rejected"] == 1
    (rej,) = r.rejects
    assert rej["record"] == "claim C005"
    assert "CLP03 charge: 6 characters" in rej["reason"] and "12O" not in rej["reason"]
    assert rej["location"].startswith("segment ")
    assert "C005" not in set(r.claim_lines["claim_id"])
    # the rejected claim's lines and adjustments are not attached to another claim
    assert len(r.claim_lines) == 2 * (N_CLAIMS - 1)
    assert len(r.adjustments) == PAIRS_PER_CLAIM * (N_CLAIMS - 1)


def test_05_cas_missing_amount_is_a_reject_and_the_claim_is_kept() -> None:
    text = make_835().replace("CAS*PR*3*5.00~", "CAS*PR*3~", 1)
    r = read(text)
    assert r.stats["claims"] == N_CLAIMS
    assert len(r.claim_lines) == 2 * N_CLAIMS
    assert len(r.adjustments) == PAIRS_PER_CLAIM * N_CLAIMS - 1
    (rej,) = r.rejects
    assert "CAS03 amount: empty" in rej["reason"] and "PR-3" in rej["record"]
    # the claim no longer balances, and that is reported, not hidden
    assert {b["claim_id"] for b in r.balance_failures} == {"C001"}


def test_06_unknown_segment_inside_claim_is_skipped_and_counted() -> None:
    r = read(make_835(extra_in_claim={3: ["ZZZ*1*2"]}))
    assert_clean(r)
    assert r.stats["unknown_segments"] == {"ZZZ": 1}


def test_07_newline_as_segment_terminator() -> None:
    assert_clean(read(make_835(term="\n")))


def test_08_crlf_and_indentation() -> None:
    text = make_835(sep_after="\r\n")
    indented = "\r\n".join("    " + ln for ln in text.split("\r\n"))
    assert_clean(read(indented))


def test_09_utf8_bom() -> None:
    assert_clean(read(b"\xef\xbb\xbf" + make_835().encode()))


def test_10_isa16_colon_but_data_uses_gt() -> None:
    r = read(make_835(comp=":", data_comp=">"))
    assert_clean(r)
    assert r.stats["component_separator_mismatch"] == 2 * N_CLAIMS


def test_11_empty_file() -> None:
    with pytest.raises(NotX12Error, match="empty"):
        read(b"")
    with pytest.raises(NotX12Error, match="empty"):
        read(b"\xef\xbb\xbf  \r\n")


def test_12_csv_is_not_x12(tmp_path) -> None:
    with pytest.raises(NotX12Error, match="not X12"):
        read("claim_id,cpt\nA,99213\n", "export.csv")
    p = tmp_path / "notes.csv"
    p.write_text("hello,world\n1,2\n")
    with pytest.raises(IngestError, match="notes.csv: not a known tabular layout"):
        ingest_paths([p], salt="s")


def test_13_4010() -> None:
    r = read(make_835(version="004010X091A1", isa_version="00401"))
    assert_clean(r)
    assert r.stats["versions"] == {"004010X091A1": 1}


def test_14_no_envelope_starts_at_st() -> None:
    r = read(make_835(envelope=False))
    assert_clean(r)
    assert any("no ISA/GS envelope" in w for w in r.stats["warnings"])


def test_15_payer_loop_missing() -> None:
    r = read(make_835(payer=False))
    assert_clean(r)
    assert set(r.claim_lines["payer"]) == {""}


def test_16_delimiters_pipe_caret_backslash() -> None:
    r = read(make_835(elem="|", comp="\\", term="^"))
    assert_clean(r)


def test_17_two_interchanges_concatenated() -> None:
    r = read(make_835() + "\n" + make_835())
    assert_clean(r, 2 * N_CLAIMS)
    assert r.stats["transactions"] == 2


def test_18_claim_does_not_balance_is_reported_not_dropped() -> None:
    r = read(make_835(clp03={7: "210.00"}))
    assert r.stats["claims"] == N_CLAIMS
    fails = r.balance_failures
    assert [(b["claim_id"], b["difference"]) for b in fails if b["line_no"] == 0] == [
        ("C007", 10.0)
    ]
    # the billed total of the claim-level check is CLP03; the lines are kept as they are
    assert len(r.claim_lines) == 2 * N_CLAIMS


def test_two_interchanges_with_different_delimiters() -> None:
    r = read(make_835() + make_835(elem="|", comp="\\", term="^"))
    assert_clean(r, 2 * N_CLAIMS)


def test_non_835_transaction_claims_are_accounted_for() -> None:
    text = make_835().replace("ST*835*0001", "ST*999*0001")
    r = read(text)
    assert r.stats["claims"] == 0
    assert r.stats["claims_rejected"] == N_CLAIMS
    assert all("not an 835" in j["reason"] for j in r.rejects)
