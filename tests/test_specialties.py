"""Specialty profiles: every known profile loads, differs, and never argues prohibited factors."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from oonplaybook import nsa
from oonplaybook.config import KNOWN_SPECIALTIES
from oonplaybook.reference.code_families import FAMILIES
from oonplaybook.specialties import (
    IdrArgument,
    ProfileError,
    ancillary_specialties,
    load_profile,
    load_profiles,
    profile_or_generic,
)


def test_all_known_specialties_load() -> None:
    profiles = load_profiles(KNOWN_SPECIALTIES)
    assert [p.name for p in profiles] == list(KNOWN_SPECIALTIES)
    for p in profiles:
        assert set(p.code_families) <= set(FAMILIES)
        assert set(p.idr_batching_groups) <= set(nsa.IDR_CODE_GROUPS)
        assert all(isinstance(c, str) and len(c) == 5 for c in p.key_codes)
        assert p.billed_to_medicare.low <= p.billed_to_medicare.typical <= p.billed_to_medicare.high
        assert p.billed_to_medicare.source and p.sources
        factors = {a.factor for a in p.idr_arguments}
        assert len(factors) >= 3


def test_ancillary_specialties_cannot_waive() -> None:
    anc = ancillary_specialties()
    assert anc == {"emergency_medicine", "anesthesiology", "radiology", "pathology", "neonatology"}
    for name in KNOWN_SPECIALTIES:
        p = load_profile(name)
        assert p.can_notice_consent_waive is (name not in anc)


def test_profiles_are_tailored() -> None:
    em, rad, bh = (
        load_profile(n) for n in ("emergency_medicine", "radiology", "behavioral_health")
    )
    assert em.preferred_route == "nsa_open_negotiation_idr" and bh.preferred_route == "appeal"
    assert em.code_families != rad.code_families
    assert {a.argument for a in em.idr_arguments}.isdisjoint(
        {a.argument for a in rad.idr_arguments}
    )
    assert any("downcod" in t.tactic.lower() for t in em.payer_tactics)
    assert any(
        "PC/TC" in t.tactic or "professional component" in t.tactic for t in rad.payer_tactics
    )
    anes = load_profile("anesthesiology")
    assert any("time-unit" in t.tactic for t in anes.payer_tactics)
    assert any("medical direction" in t.tactic for t in anes.payer_tactics)


@pytest.mark.parametrize(
    "text",
    [
        "Our rate is only 2x Medicare",
        "Billed charges show the value",
        "FAIR Health 80th percentile supports the offer",
        "usual and customary rates in the area",
    ],
)
def test_prohibited_idr_factors_are_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="may not consider"):
        IdrArgument(factor="acuity_complexity", argument=text, evidence=["record"])
    with pytest.raises(ValidationError):
        IdrArgument(factor="acuity_complexity", argument="complex case", evidence=[text])


def test_unknown_profile_and_fallback() -> None:
    with pytest.raises(ProfileError, match="unknown specialty"):
        load_profile("dermatology")
    assert profile_or_generic("").name == "generic"
    assert profile_or_generic("dermatology").name == "generic"
    assert [p.name for p in load_profiles(["radiology", "radiology", "generic"])] == [
        "radiology",
        "generic",
    ]


def test_unquoted_key_code_in_a_profile_is_refused() -> None:
    import pytest
    from pydantic import ValidationError

    from oonplaybook.specialties import SpecialtyProfile, load_profile

    data = load_profile("anesthesiology").model_dump()
    data["key_codes"] = [64]  # what YAML makes of an unquoted 00100
    with pytest.raises(ValidationError, match="Quote it"):
        SpecialtyProfile.model_validate(data)
    data["key_codes"] = ["00100"]
    data["code_families"] = ["no_such_family"]
    with pytest.raises(ValidationError, match="unknown code families"):
        SpecialtyProfile.model_validate(data)
