"""Specialty profiles: what to argue, document and expect from payers for one specialty.

Each ``<name>.yaml`` here is validated into a :class:`SpecialtyProfile`. Names match
``config.KNOWN_SPECIALTIES``; ``generic`` is the fallback. A client's params pick one or
several (``load_profiles(cfg.specialties)``).

IDR arguments are restricted to what a certified IDR entity may weigh: the QPA plus the
"additional circumstances" of 45 CFR 149.510(c)(4)(iii)(B) / 42 U.S.C. 300gg-111(c)(5)(C)
(training and experience, market share, acuity and complexity, teaching status / case mix,
good-faith network efforts and prior contracted rates) and other credible information about
the offer ((c)(4)(iii)(C)). Usual and customary charges, billed charges and public-payer rates
(Medicare, Medicaid, CHIP, TRICARE, VA) may not be considered (42 U.S.C. 300gg-111(c)(5)(D);
45 CFR 149.510(c)(4)(v)); a profile whose IDR argument mentions them is refused at load time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from oonplaybook.config import KNOWN_SPECIALTIES, code_string
from oonplaybook.reference.code_families import FAMILIES
from oonplaybook.reference.idr_groups import IDR_CODE_GROUPS

#: The IDR "additional circumstances" (45 CFR 149.510(c)(4)(iii)(B)(1)-(5)) plus other
#: credible information relating to the offer ((c)(4)(iii)(C)).
IDR_FACTORS = (
    "training_experience_quality",
    "market_share",
    "acuity_complexity",
    "teaching_status_case_mix",
    "good_faith_network_efforts",
    "other_credible_information",
)

#: Words that would put a prohibited factor in front of an IDRE (42 U.S.C. 300gg-111(c)(5)(D)).
PROHIBITED_IDR_TERMS = re.compile(
    r"medicare|medicaid|\bchip\b|tricare|\bva\b rates|billed charge|chargemaster|"
    r"usual and customary|usual, customary|\bucr\b|fair health",
    re.IGNORECASE,
)

Route = Literal[
    "nsa_open_negotiation_idr",
    "appeal",
    "payer_negotiation_letter",
    "corrected_claim",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MedicareMultiple(_Strict):
    """A published multiple of Medicare (low-high, typical) with its source."""

    low: float = Field(gt=0)
    high: float = Field(gt=0)
    typical: float = Field(gt=0)
    source: str = Field(min_length=5)


class IdrArgument(_Strict):
    """One argument an IDRE may weigh, the factor it rests on and the evidence behind it."""

    factor: Literal[
        "training_experience_quality",
        "market_share",
        "acuity_complexity",
        "teaching_status_case_mix",
        "good_faith_network_efforts",
        "other_credible_information",
    ]
    argument: str = Field(min_length=10)
    evidence: list[str] = Field(min_length=1)

    @field_validator("argument", "evidence")
    @classmethod
    def _permitted(cls, v: str | list[str]) -> str | list[str]:
        for text in [v] if isinstance(v, str) else v:
            m = PROHIBITED_IDR_TERMS.search(text)
            if m:
                raise ValueError(
                    f"IDR argument mentions {m.group(0)!r}, a factor an IDRE may not consider "
                    "(42 U.S.C. 300gg-111(c)(5)(D)); move it to negotiation_benchmarks"
                )
        return v


class PayerTactic(_Strict):
    """A payer behaviour typical for the specialty, how it shows on remits, and the counter."""

    tactic: str
    carcs: list[str] = Field(default_factory=list)
    counter: str


class CodeUnit(_Strict):
    """How one code is counted in units, and whether Medicare pays it, with the source."""

    code: str
    unit: str = Field(min_length=3, description='e.g. "per hour", "each 15 minutes"')
    medicare_payable: bool
    note: str = ""
    source: str = Field(min_length=5)

    @field_validator("code", mode="before")
    @classmethod
    def _code(cls, v: object) -> str:
        return code_string(v, "code_units.code")


class SpecialtyProfile(_Strict):
    """Everything the playbook tailors by specialty."""

    name: str
    display_name: str
    ancillary: bool = Field(description="NSA ancillary service (42 U.S.C. 300gg-132(b)(2))")
    can_notice_consent_waive: bool
    notice_consent_basis: str
    code_families: list[str] = Field(min_length=1)
    idr_batching_groups: list[str] = Field(min_length=1)
    key_codes: list[str] = Field(default_factory=list)
    code_units: list[CodeUnit] = Field(
        default_factory=list, description="unit rules of codes billed in time units (IONM)"
    )
    billed_to_medicare: MedicareMultiple
    in_network_to_medicare: MedicareMultiple | None = None
    negotiation_benchmarks: list[str] = Field(
        default_factory=list,
        description="benchmarks for payer negotiation letters (not for IDR submissions)",
    )
    idr_arguments: list[IdrArgument] = Field(min_length=3)
    documentation_checklist: list[str] = Field(min_length=3)
    payer_tactics: list[PayerTactic] = Field(min_length=2)
    typical_denial_groups: list[str] = Field(default_factory=list)
    preferred_route: Route
    route_notes: str
    sources: list[str] = Field(min_length=1)

    @field_validator("code_families")
    @classmethod
    def _families(cls, v: list[str]) -> list[str]:
        return _in_vocabulary(v, FAMILIES, "code families", "code_families.FAMILIES")

    @field_validator("idr_batching_groups")
    @classmethod
    def _groups(cls, v: list[str]) -> list[str]:
        return _in_vocabulary(
            v, IDR_CODE_GROUPS, "IDR batching groups", "reference.idr_groups.IDR_CODE_GROUPS"
        )

    @field_validator("key_codes", mode="before")
    @classmethod
    def _codes(cls, v: list[object]) -> list[str]:
        return [code_string(c, "key_codes") for c in v or []]

    @field_validator("typical_denial_groups")
    @classmethod
    def _denials(cls, v: list[str]) -> list[str]:
        from oonplaybook.reference.codes import DENIAL_GROUPS

        return _in_vocabulary(v, DENIAL_GROUPS, "denial groups", "codes.DENIAL_GROUPS")


def _in_vocabulary(values: list[str], allowed: object, what: str, where: str) -> list[str]:
    """``values`` unchanged when each is in ``allowed``; else name the strangers and the list."""
    bad = [x for x in values if x not in allowed]  # type: ignore[operator]
    if bad:
        raise ValueError(f"unknown {what} {bad}; use {where}")
    return values


class ProfileError(ValueError):
    """A specialty profile is missing or invalid; the message names the file and the fix."""


@lru_cache(maxsize=32)
def load_profile(name: str) -> SpecialtyProfile:
    """Load and validate ``specialties/<name>.yaml``."""
    if name not in KNOWN_SPECIALTIES:
        raise ProfileError(f"unknown specialty {name!r}; choose from {list(KNOWN_SPECIALTIES)}")
    res = resources.files("oonplaybook.specialties").joinpath(f"{name}.yaml")
    if not res.is_file():
        raise ProfileError(f"specialties/{name}.yaml is missing from the package")
    data = yaml.safe_load(res.read_text(encoding="utf-8"))
    try:
        prof = SpecialtyProfile.model_validate(data)
    except ValidationError as e:
        lines = [f"specialties/{name}.yaml: invalid profile"]
        for err in e.errors():
            key = ".".join(str(p) for p in err["loc"])
            lines.append(f"  - {key}: {err['msg'].removeprefix('Value error, ')}")
        raise ProfileError("\n".join(lines)) from None
    if prof.name != name:
        raise ProfileError(f"specialties/{name}.yaml: name is {prof.name!r}; it must be {name!r}")
    return prof


def load_profiles(names: Iterable[str]) -> list[SpecialtyProfile]:
    """Load several profiles in the given order (duplicates dropped)."""
    return [load_profile(n) for n in dict.fromkeys(names)]


def profile_or_generic(name: str) -> SpecialtyProfile:
    """The named profile, or ``generic`` for an empty/unknown specialty string."""
    return load_profile(name if name in KNOWN_SPECIALTIES else "generic")


def ancillary_specialties() -> frozenset[str]:
    """Specialties whose services are NSA ancillary services (consent can never waive)."""
    return frozenset(n for n in KNOWN_SPECIALTIES if load_profile(n).ancillary)
