"""On the demo portfolio, the planted payer behaviours lead to the right actions."""

from __future__ import annotations

import pandas as pd
import pytest

from oonplaybook import benchmark, demo
from oonplaybook import playbook as pb
from oonplaybook.config import PlaybookSettings
from oonplaybook.specialties import load_profiles

S = PlaybookSettings()


@pytest.fixture(scope="module")
def plan() -> dict:
    p = demo.generate(lines=20000, seed=20251)
    cl = p.claim_lines.drop(columns=["medicare_allowed"])
    as_of = pd.Timestamp(p.truth["cutoff_date"]).date()
    bench = benchmark.build_benchmarks(cl, year=2025, default_locality="13202-01")
    profiles = load_profiles(sorted(set(cl["specialty"]) - {""}))
    nsa = pb.assess_nsa(cl, as_of=as_of)
    tg = pb.build_targets(bench, None, None, profiles, S, claim_lines=cl, nsa_assessment=nsa)
    wl = pb.build_worklist(
        cl, bench, nsa, tg, None, as_of=as_of, settings=S, profiles=profiles, appeals=p.appeals
    )
    d = pb.idr_disputes(cl, bench, nsa, wl, tg, as_of=as_of)
    b = pb.build_idr_batches(d, as_of=as_of, settings=S)
    wl = pb.link_idr_batches(wl, d, b)
    role = {v["behaviour"]: k for k, v in p.truth["payers"].items()}
    return {
        "as_of": as_of,
        "cl": cl,
        "wl": wl,
        "d": d,
        "b": b,
        "nsa": nsa,
        "appeals": p.appeals,
        "role": role,
    }


def _no_history(plan: dict, wl: pd.DataFrame) -> pd.DataFrame:
    return wl[~wl["claim_id"].isin(set(plan["appeals"]["claim_id"]))]


def test_improper_emergency_prior_auth_denials_go_to_the_nsa_route(plan: dict) -> None:
    cl, wl, nsa = plan["cl"], plan["wl"], plan["nsa"]
    payer = plan["role"]["er_prior_auth"]
    ids = set(
        cl.loc[(cl["payer"] == payer) & cl["emergency"] & cl["carc"].eq("CO-197"), "claim_id"]
    )
    assert len(ids) >= 20
    rows = _no_history(plan, wl[wl["claim_id"].isin(ids)]).merge(
        nsa[["claim_id", "open_negotiation_initiate_by", "state_law_governs"]], on="claim_id"
    )
    nsa_routes = ["open_negotiation", "state_idr"]  # the state process where state law governs
    from oonplaybook.rules import state_dispute_deadlines

    first = cl.groupby("claim_id", sort=False)[["state", "remit_date"]].first()
    first = first.reindex(rows["claim_id"].to_numpy())
    state_by, _ = state_dispute_deadlines(first["state"].to_numpy(), first["remit_date"].to_numpy())
    asof = pd.Timestamp(plan["as_of"])
    state_open = state_by.isna().to_numpy() | (state_by.to_numpy() >= asof)
    window_open = (rows["state_law_governs"] & state_open) | (
        ~rows["state_law_governs"] & (rows["open_negotiation_initiate_by"] >= asof)
    )
    on_route = rows["route"].isin(nsa_routes) | (
        rows["route"].eq("write_off") & rows["route_if_worked"].isin(nsa_routes)
    )
    assert window_open.sum() >= 10
    assert on_route[window_open].all(), rows.loc[
        window_open & ~on_route, ["claim_id", "route", "route_if_worked"]
    ]
    on = rows["route"].eq("open_negotiation") & rows["status"].eq("open")
    assert on.any() and (rows.loc[on, "next_step"] == "idr").all()
    # once the 30-business-day window has lapsed the improper denial is still contested by appeal
    late = rows[~window_open]
    assert (
        late["route"]
        .isin(
            [
                "appeal_l1",
                "appeal_l2",
                "external_review",
                "open_negotiation",
                "state_idr",
                "write_off",
            ]
        )
        .all()
    ), late["route"].value_counts()
    assert (late["route"].isin(nsa_routes) == late["status"].eq("lost")).all()


def test_repricer_nsa_claims_are_idr_candidates_with_positive_ev(plan: dict) -> None:
    wl, b = plan["wl"], plan["b"]
    payer = plan["role"]["repricer"]
    cand = wl[(wl["payer"] == payer) & wl["idr_candidate"]]
    assert len(cand) >= 10
    assert (cand["expected_recovery"] > 0).all()
    pb_ = b[b["payer"] == payer]
    worth = pb_[pb_["worth_filing"]]
    assert len(worth) >= 5 and (worth["ev_net"] > 0).all()
    assert worth["ev_net"].sum() > 0.5 * pb_["ev_net"].clip(lower=0).sum()
    assert (pb_.loc[~pb_["worth_filing"], "ev_net"] <= 0).all()
    # the repricer pays ~1.25x Medicare against a 1.15x QPA: the IDR offer is well above payment
    assert (pb_["offer_total"] > pb_["paid_total"]).all()


def test_medical_necessity_denials_go_to_appeal_with_records(plan: dict) -> None:
    wl = _no_history(plan, plan["wl"])
    mn = wl[wl["denial_group"].eq("medical_necessity")]
    assert len(mn) >= 10
    assert mn["route"].isin(["appeal_l1", "write_off"]).all(), mn["route"].value_counts()
    worked = mn[mn["route"].eq("appeal_l1")]
    assert len(worked) >= 0.8 * len(mn)
    assert worked["documents_needed"].str.contains("medical records").all()


def test_every_denied_claim_is_on_the_worklist_and_past_deadlines_are_lost(plan: dict) -> None:
    cl, wl = plan["cl"], plan["wl"]
    denied = set(
        cl.loc[cl["claim_status"].eq("denied") & cl["plan_type"].ne("self_pay"), "claim_id"]
    )
    assert denied <= set(wl["claim_id"])
    lost = wl[wl["status"].eq("lost")]
    assert len(lost) > 0 and (lost["deadline"] < pd.Timestamp(plan["as_of"])).all()
    assert lost["deadline"].notna().all()
    assert (lost["expected_recovery"] == 0).all() and (lost["lost_revenue"] > 0).any()


def test_demo_worklist_is_coherent_and_bills_no_protected_patient(plan: dict) -> None:
    """Issue 15 item 8 on the demo: one route per row, next step and letter type agree with it,
    no patient bill on a claim the protections table marks "balance-bill not allowed"."""
    from oonplaybook.playbook.worklist import ROUTE_LETTER_TYPE, coherence_problems

    wl = plan["wl"]
    prot = pb.patient_protections(plan["cl"], plan["nsa"])
    problems = coherence_problems(wl, prot)
    assert problems.empty, problems["rule"].value_counts()
    bills = wl[wl["route"].eq("patient_bill") & wl["status"].eq("open")].merge(
        prot, on="claim_id", suffixes=("", "_p")
    )
    assert len(bills) >= 5
    assert bills["balance_bill_allowed"].all()
    assert (bills["at_stake"] <= bills["max_patient_bill"] + 0.005).all()
    assert bills["deadline"].notna().all()  # the practice's billing deadline
    open_ = wl[wl["status"].eq("open")]
    assert (open_["letter_type"] == open_["route"].map(ROUTE_LETTER_TYPE)).all()
    assert (open_["expected_recovery"] > 0).all()  # $0 write-offs are not open items
    assert not open_["route"].eq("write_off").any()


def test_worklist_in_chunks_of_claims_equals_the_whole_client_worklist(plan: dict) -> None:
    """Issue 16: the per-claim work runs on chunks of whole claims; the rows, their order and
    dtypes do not depend on the chunk size (here 7 chunks of ~3k lines against one)."""
    cl, nsa, as_of = plan["cl"], plan["nsa"], plan["as_of"]
    bench = benchmark.build_benchmarks(cl, year=2025, default_locality="13202-01")
    profiles = load_profiles(sorted(set(cl["specialty"]) - {""}))
    tg = pb.build_targets(bench, None, None, profiles, S, claim_lines=cl, nsa_assessment=nsa)
    kw = dict(as_of=as_of, settings=S, profiles=profiles, appeals=plan["appeals"])
    whole = pb.build_worklist(cl, bench, nsa, tg, None, **kw)
    chunked = pb.build_worklist(cl, bench, nsa, tg, None, chunk_lines=3000, **kw)
    assert len(whole) > 1000
    pd.testing.assert_frame_equal(chunked, whole)
    # and the chunks really were several, each of whole claims
    from oonplaybook.partitions import claim_chunks

    chunks = list(claim_chunks([cl, nsa, None], chunk_lines=3000))
    assert len(chunks) == 7
    assert sum(len(c[0]) for c in chunks) == len(cl)
    assert all(c[2] is None for c in chunks)
    ids = [set(c[0]["claim_id"]) for c in chunks]
    assert sum(len(i) for i in ids) == cl["claim_id"].nunique()  # no claim in two chunks
    assert all(set(c[1]["claim_id"]) <= i for c, i in zip(chunks, ids, strict=True))
