"""The demo's planted coding cases get the right verdicts and routes through real ingest.

The demo writes its own synthetic NCCI tables in CMS's layouts (``ncci/``); after write_demo +
ingest_paths (835s and the export), ``coding.check_claims`` with those tables and the PFS
indicators must give every planted case its verdict and route (truth["coding"]).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from oonplaybook import coding, demo
from oonplaybook.reference import ncci, pfs

LINES, SEED = 8000, 20251


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, object]:
    from oonplaybook.ingest import core

    port = demo.generate(LINES, seed=SEED)
    out = tmp_path_factory.mktemp("demo_coding")
    paths = demo.write_demo(port, out, remits=True, claims_per_file=2000)
    res = core.ingest_paths([out / "claims_export.csv", out / "remits"], salt=demo.DEMO_SALT)
    tables, rep = ncci.read_release([paths["ncci_ptp"], paths["ncci_mue"]])
    assert not rep.rejects
    ind = coding.PolicyIndicators.from_rvu(pfs.load_tables(2025).rvu)
    edits = coding.check_claims(res.claim_lines, tables.ptp, tables.mue, ind)
    return port.truth["coding"], coding.line_verdicts(edits).set_index(["claim_id", "line_no"])


def test_every_case_planted(checked: tuple) -> None:
    truth, _ = checked
    assert not truth["skipped"]
    assert {c["case"] for c in truth["cases"]} == {
        "ptp_correct_indicator_0",
        "ptp_correct_missing_modifier",
        "ptp_payer_ignored_modifier",
        "ptp_deleted_edit",
        "non_ncci_bundle",
        "mue_policy",
        "mue_clinical",
        "em_in_global",
        "em_in_global_with_24",
    }


def test_planted_cases_get_their_verdicts_and_routes(checked: tuple) -> None:
    truth, verdicts = checked
    got = {
        c["case"] + ":" + c["claim_id"]: tuple(
            verdicts.loc[(c["claim_id"], c["line_no"])][["coding_verdict", "coding_route"]]
        )
        for c in truth["cases"]
    }
    want = {c["case"] + ":" + c["claim_id"]: (c["verdict"], c["route"]) for c in truth["cases"]}
    assert got == want


def test_demo_tables_are_in_cms_layout(tmp_path: Path) -> None:
    from oonplaybook import demo_coding

    truth = {
        "ptp": [["29881", "20610", "20190101", "*", "0"]],
        "mue": [["88305", 2, "3 Date of Service Edit: Clinical"]],
    }
    ptp_path, mue_path = demo_coding.write_tables(truth, tmp_path)
    p, _ = ncci.read_ptp(ptp_path)
    m, _ = ncci.read_mue(mue_path)
    assert p.iloc[0][["column1", "column2", "modifier_indicator"]].tolist() == [
        "29881",
        "20610",
        "0",
    ]
    assert m.iloc[0][["hcpcs", "mue_value", "mai"]].tolist() == ["88305", 2, 3]
    assert str(m.iloc[0]["effective_date"].date()) == "2024-01-01"  # from the file name
