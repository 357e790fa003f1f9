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


def test_worklist_routes_coding_denials_by_verdict() -> None:
    """A coding denial the NCCI check calls correct is a write-off or a corrected claim; a wrong
    or non-NCCI edit is appealed (no external review: not a medical-judgment determination)."""
    import pandas as pd

    from oonplaybook.config import PlaybookSettings
    from oonplaybook.playbook import worklist as wl

    lines = pd.DataFrame(
        {
            "claim_id": ["A", "B", "C", "D"],
            "line_no": [2, 2, 1, 1],
            "claim_status": "denied",
            "carc": "CO-97",
            "denial_group": "coding_bundling",
            "plan_type": "fully_insured",
            "nsa_applies": False,
            "remit_date": pd.Timestamp("2026-10-01"),
            "service_date": pd.Timestamp("2026-09-20"),
        }
    )
    verdicts = pd.DataFrame(
        {
            "claim_id": ["A", "B", "C"],
            "line_no": [2, 2, 1],
            "coding_verdict": ["payer_edit_correct", "payer_edit_correct", "payer_edit_wrong"],
            "coding_route": ["write_off", "corrected_claim", "appeal"],
            "coding_evidence": ["indicator 0", "missing modifier", "59 ignored"],
        }
    )
    lines = wl.attach_coding(lines, verdicts)
    r = wl.route_claims(lines, as_of=pd.Timestamp("2026-11-01").date(), settings=PlaybookSettings())
    got = dict(zip(lines["claim_id"], r["route"], strict=True))
    assert got["A"] == "write_off" and got["B"] == "corrected_claim" and got["C"] == "appeal_l1"
    assert r.loc[r.index[2], "next_step"] == "appeal_l2"
    assert lines.loc[3, "coding_verdict"] == ""  # no verdict: the usual coding ladder
    assert got["D"] in ("appeal_l1", "corrected_claim")


@pytest.mark.parametrize(
    ("verdict", "evidence", "must"),
    [
        (
            "payer_edit_wrong",
            "NCCI PTP edit 20610/20550 (modifier indicator 1, effective 2020-01-01, deleted none) was "
            "active on 2026-03-02; modifier 59 on the claim: the modifier bypasses the edit, the payer ignored it",
            "20610/20550 (modifier indicator 1",
        ),
        (
            "payer_edit_not_ncci",
            "NCCI PTP pair 29881/29877 was deleted after 2025-12-31: no active NCCI edit bundles it on 2026-03-02",
            "was deleted after 2025-12-31",
        ),
        (
            "documentation_needed",
            "MUE for 96372 is 4 (MAI 3, effective 2026-01-01); 6 units on the date of service: a clinical "
            "edit, appealable with the medical record",
            "MUE for 96372 is 4",
        ),
    ],
)
def test_appeal_ground_cites_the_edit_without_internal_words(
    verdict: str, evidence: str, must: str
) -> None:
    """The appeal letter's ground for a coding denial cites the edit and its dates, in words a
    payer receives (no 'the payer ignored it', nothing the internal-content check refuses)."""
    from oonplaybook.letters import arguments, audiences

    text = arguments.coding_ground(verdict, evidence)
    assert must in text and "ignored" not in text and "payer's own" not in text
    assert not audiences.internal_content(text, audiences.PAYER)
    assert arguments.coding_ground("payer_edit_correct", evidence) == ""
