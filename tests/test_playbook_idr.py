"""IDR disputes and batches: hand-computed EV per dispute and per batch, batching rules."""

from __future__ import annotations

import pandas as pd
import pytest

from oonplaybook.config import PlaybookSettings
from oonplaybook.playbook import build_idr_batches, build_targets, build_worklist, idr_disputes
from oonplaybook.playbook.idr_batches import dispute_ev, dispute_fees
from tests._playbook_fixtures import AS_OF, PRIORS, appeals, assessment, portfolio

S = PlaybookSettings()


def _plan() -> tuple[pd.DataFrame, pd.DataFrame]:
    lines = portfolio()
    a = assessment(lines)
    t = build_targets(lines, None, None, None, S, nsa_assessment=a, priors=PRIORS)
    wl = build_worklist(
        lines, None, a, t, None, as_of=AS_OF, settings=S, appeals=appeals(), priors=PRIORS
    )
    d = idr_disputes(lines, None, a, wl, t, as_of=AS_OF, priors=PRIORS)
    return d, build_idr_batches(d, as_of=AS_OF, settings=S)


def test_dispute_ev_formula() -> None:
    # p 0.8, offer 1000, paid 300, admin 115, IDRE 840: 0.8*700 - 115 - 0.2*840 = 277
    assert dispute_ev(0.8, 1000.0, 300.0, 115.0, 840.0) == pytest.approx(277.0)
    assert dispute_fees(pd.Timestamp("2025-03-03").date(), batched=False, n_lines=1) == (
        115.0,
        840.0,
    )


def test_only_open_nsa_candidates_become_disputes_and_ev_is_hand_computed() -> None:
    d, b = _plan()
    assert list(d["claim_id"]) == ["E1", "E3"]  # E2 is lost, M*/C1/S1 are not NSA
    ev = dict(zip(d["claim_id"], d["ev_single"], strict=True))
    assert ev["E1"] == pytest.approx(0.8 * 1000 - 115 - 0.2 * 840)  # 517
    assert ev["E3"] == pytest.approx(0.8 * 700 - 115 - 0.2 * 840)  # 277
    assert len(b) == 1
    row = b.iloc[0]
    assert row["n_lines"] == 2 and row["disputes"] == "E1/1:E3/1" and row["idr_code_group"] != ""
    # one batch = one admin fee ($115) + one batched IDRE fee ($1,173), borne by the provider with
    # P(fewer wins than losses) + 1/2 P(tie) = 0.2^2 + 0.5 * 2 * 0.8 * 0.2 = 0.2
    assert row["expected_fees"] == pytest.approx(115 + 0.2 * 1173)
    assert row["ev_net"] == pytest.approx(0.8 * 1700 - 115 - 0.2 * 1173)
    assert row["batching_gain"] == pytest.approx(row["ev_net"] - (517 + 277))
    assert row["ev_net"] > 0 and bool(row["worth_filing"])


def test_batching_rules_split_by_payer_group_window_and_cap() -> None:
    from oonplaybook.config import PlaybookSettings as PS

    days = pd.to_datetime(
        ["2025-03-03", "2025-03-04", "2025-03-05", "2025-05-01", "2025-03-03", "2025-03-03"]
    )
    d = pd.DataFrame(
        {
            "claim_id": [f"c{i}" for i in range(6)],
            "line_no": 1,
            "provider_tin": "1",
            "provider_npi": "",
            "payer": ["A", "A", "A", "A", "B", "A"],
            "payer_id": "",
            "idr_eligible": True,
            "specialty": "emergency_medicine",
            "cpt": ["99285", "99284", "99283", "99285", "99285", "70450"],
            "service_date": days,
            "initiation_date": pd.Timestamp("2025-06-02"),
            "qpa": 100.0,
            "billed": 1000.0,
            "paid": 100.0,
            "offer": 300.0,
            "win_probability": 0.8,
            "award_x_qpa": 3.0,
            "ev_single": 0.0,
        }
    )
    b = build_idr_batches(d, as_of=AS_OF, settings=PS(idr_batch_max_lines=2))
    ids = d.set_index("claim_id")["batch_id"]
    # c0,c1 share a batch (cap 2); c2 opens a new one; c3 is > 30 BD later; c4 is another payer;
    # c5 is another code group
    assert ids["c0"] == ids["c1"] and ids["c2"] != ids["c0"]
    assert ids.nunique() == 5 and len(b) == 5
    assert b["n_lines"].sum() == 6


def test_link_batches_prices_worklist_rows_in_their_batch() -> None:
    from oonplaybook.playbook.worklist import link_idr_batches

    lines = portfolio()
    a = assessment(lines)
    t = build_targets(lines, None, None, None, S, nsa_assessment=a, priors=PRIORS)
    wl = build_worklist(
        lines, None, a, t, None, as_of=AS_OF, settings=S, appeals=appeals(), priors=PRIORS
    )
    d = idr_disputes(lines, None, a, wl, t, as_of=AS_OF, priors=PRIORS)
    b = build_idr_batches(d, as_of=AS_OF, settings=S)
    w2 = link_idr_batches(wl, d, b).set_index("claim_id")
    batch_ev = d.groupby("claim_id")["ev_in_batch"].sum()
    assert w2.loc["E1", "expected_recovery"] == pytest.approx(batch_ev["E1"], abs=0.01)
    assert w2.loc["E1", "batch_id"] == w2.loc["E3", "batch_id"] != ""
    assert w2.loc["E1", "expected_recovery"] + w2.loc["E3", "expected_recovery"] == pytest.approx(
        b["ev_net"].sum(), abs=0.02
    )
    assert len(w2) == len(wl)  # nothing dropped
