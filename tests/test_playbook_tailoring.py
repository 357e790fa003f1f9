"""Different specialties in params produce visibly different scope, code families, routes and arguments."""

from __future__ import annotations

import pandas as pd
import pytest

from oonplaybook import demo
from oonplaybook import playbook as pb
from oonplaybook.config import PlaybookSettings
from oonplaybook.specialties import load_profiles

S = PlaybookSettings()


@pytest.fixture(scope="module")
def demo_lines() -> tuple[pd.DataFrame, object]:
    p = demo.generate(lines=6000, seed=7)
    return p.claim_lines, p


def _chapter(
    lines: pd.DataFrame, p: object, specialties: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    scoped, left = pb.specialty_scope(lines, specialties)
    as_of = pd.Timestamp(p.truth["cutoff_date"]).date()
    nsa = pb.assess_nsa(scoped, as_of=as_of)
    profiles = load_profiles(specialties)
    t = pb.build_targets(scoped, None, None, profiles, S, nsa_assessment=nsa)
    w = pb.build_worklist(
        scoped, None, nsa, t, None, as_of=as_of, settings=S, profiles=profiles, appeals=p.appeals
    )
    md = "\n".join(pb.specialty_markdown(pr, t, w) for pr in profiles)
    return t, w, md


def test_specialties_change_scope_families_routes_and_arguments(demo_lines: tuple) -> None:
    lines, p = demo_lines
    t_er, w_er, md_er = _chapter(lines, p, ["emergency_medicine"])
    t_bh, w_bh, md_bh = _chapter(lines, p, ["behavioral_health"])
    assert set(w_er["specialty"]) == {"emergency_medicine"} and set(w_bh["specialty"]) == {
        "behavioral_health"
    }
    assert set(t_er["code_family"]) != set(t_bh["code_family"])
    assert "em_emergency" in set(t_er["code_family"]) and "psychiatry" in set(t_bh["code_family"])
    # emergency medicine is NSA-driven (open negotiation/IDR); behavioural health is mostly outside it
    share_nsa = lambda w: w["route"].isin(["open_negotiation", "idr", "state_idr"]).mean()  # noqa: E731
    assert share_nsa(w_er) > 0.5 > share_nsa(w_bh)
    assert "Emergency medicine" in md_er and "Emergency medicine" not in md_bh
    assert md_er != md_bh
    # checklists differ: the ED record for emergency claims
    assert w_er["documents_needed"].str.contains("ED physician record").any()
    assert not w_bh["documents_needed"].str.contains("ED physician record").any()


def test_scope_reports_what_it_leaves_out(demo_lines: tuple) -> None:
    lines, _ = demo_lines
    kept, left = pb.specialty_scope(lines, ["radiology"])
    assert len(kept) + int(left["lines"].sum()) == len(lines)
    assert "radiology" not in set(left["specialty"])
    kept_all, left_all = pb.specialty_scope(lines, ["generic"])
    assert len(kept_all) == len(lines) and left_all.empty
