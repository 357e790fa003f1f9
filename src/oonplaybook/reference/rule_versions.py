"""Federal IDR rule versions keyed by date, and the NSA's effective date by plan year.

A dispute is counted under the rules in force on its rule date (the open negotiation notice
date when known). Versions: ``2022`` (45 CFR 149.510 as amended through CMS-9890-F) and
``CMS-9897-F`` (the Federal IDR Operations final rule, FR doc. 2026-11140, effective 2026-08-03
with staggered applicability; docs/domain.md §9). Each CMS-9897-F provision carries its own
applicability date; none could be read from the rule text, so each defaults to the effective
date, is reported ``[unverified]``, and can be overridden (params
``playbook.rule_applicability``). Reference data: imports only the calendar, so ``nsa``,
``rules`` and ``config`` can all build on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from oonplaybook.reference import calendar as bd

#: CMS-9897-F effective date (Holland & Hart, 2026-06-26: "effective August 3, 2026, with
#: staggered applicability dates for specific provisions").
CMS_9897F_EFFECTIVE = date(2026, 8, 3)

#: The CMS-9897-F provisions whose applicability date matters to a clock or a batch.
PROVISIONS: dict[str, str] = {
    "open_negotiation_portal": "open negotiation notice submitted through the federal IDR portal; "
    "response notice due by the 15th business day of the period",
    "idr_initiation_response": "non-initiating party responds within 3 business days of IDR "
    "initiation",
    "eligibility_review": "certified IDR entity determines eligibility within 5 business days",
    "batching": "up to 50 items and services per batch",
    "batch_cooling_off": "cooling-off after a batched determination: 30 business days",
    "designated_codes": "payers must use designated CARC/RARC codes on NSA remits",
}

#: Applicability date of each provision: the effective date, not confirmed from the rule's
#: applicability table [unverified]; ``applicability(overrides=...)`` replaces any of them.
DEFAULT_APPLICABILITY: dict[str, date] = dict.fromkeys(PROVISIONS, CMS_9897F_EFFECTIVE)

#: Batch line cap once CMS-9897-F batching applies ("allows up to 50 items and services ... in a
#: single dispute batch", Altitude Intel; DWT "numeric limits"). None = no cap (Reed Smith, Nov
#: 2023: "there is currently no limit on the number of services that may be batched").
BATCH_MAX_LINES_9897F = 50


def applicability(overrides: Mapping[str, date | str] | None = None) -> dict[str, date]:
    """Applicability date per CMS-9897-F provision, defaults replaced by ``overrides``.

    An unknown provision name or a non-ISO date raises ``ValueError`` naming the fix.
    """
    out = dict(DEFAULT_APPLICABILITY)
    for k, v in (overrides or {}).items():
        if k not in PROVISIONS:
            raise ValueError(
                f"rule_applicability: unknown CMS-9897-F provision {k!r}; use one of "
                f"{sorted(PROVISIONS)}"
            )
        try:
            out[k] = bd._as_date(v)
        except (TypeError, ValueError):
            raise ValueError(
                f"rule_applicability.{k} = {v!r} is not an ISO date (YYYY-MM-DD)"
            ) from None
    return out


@dataclass(frozen=True)
class RuleVersion:
    """The federal IDR rules in force on one date (one flag per CMS-9897-F provision)."""

    rule_date: date
    applied: tuple[str, ...]  # CMS-9897-F provisions in force on rule_date
    unverified: tuple[str, ...]  # provisions whose applicability date is the unconfirmed default
    overridden: tuple[str, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        """``"2022"``, ``"CMS-9897-F"`` or ``"CMS-9897-F (partly: ...)"``."""
        if not self.applied:
            return "2022"
        if len(self.applied) == len(PROVISIONS):
            return "CMS-9897-F"
        return "CMS-9897-F (partly: " + ", ".join(self.applied) + ")"

    def has(self, provision: str) -> bool:
        """Whether ``provision`` of CMS-9897-F applies on the rule date."""
        return provision in self.applied

    @property
    def batch_max_lines(self) -> int | None:
        """Line limit per IDR batch: none before CMS-9897-F batching, 50 after."""
        return BATCH_MAX_LINES_9897F if self.has("batching") else None

    @property
    def eligibility_review_bd(self) -> int:
        """Business days the IDR entity has to decide eligibility after its selection."""
        return 5 if self.has("eligibility_review") else 3

    def note(self) -> str:
        """One sentence for outputs: the version and which dates are unconfirmed."""
        txt = f"rules in force on {self.rule_date.isoformat()}: {self.name}"
        pending = [p for p in self.unverified if p not in self.overridden]
        if pending:
            txt += (
                "; CMS-9897-F applicability dates not confirmed from the rule text (default "
                f"{CMS_9897F_EFFECTIVE.isoformat()}, the effective date) for: "
                + ", ".join(pending)
                + " [unverified; override with playbook.rule_applicability]"
            )
        return txt


def rule_version(on: date | str, overrides: Mapping[str, date | str] | None = None) -> RuleVersion:
    """The :class:`RuleVersion` in force on ``on`` (a notice or dispute date)."""
    d = bd._as_date(on)
    dates = applicability(overrides)
    over = tuple(k for k in PROVISIONS if k in (overrides or {}))
    return RuleVersion(
        rule_date=d,
        applied=tuple(k for k in PROVISIONS if dates[k] <= d),
        unverified=tuple(k for k in PROVISIONS if k not in over),
        overridden=over,
    )


def batch_max_lines(
    on: date | str, overrides: Mapping[str, date | str] | None = None
) -> int | None:
    """Batch line cap for disputes initiated on ``on``: None (no cap) or 50 under CMS-9897-F."""
    return rule_version(on, overrides).batch_max_lines


# --- NSA effective date by plan year -------------------------------------------------------------

#: The NSA's plan-side rules apply "as of the first plan year beginning on or after January 1,
#: 2022" (Marsh McLennan Agency, 2021-11-23; Naviguard). Without a plan year: 2022-01-01.
NSA_FIRST_PLAN_YEAR_FROM = date(2022, 1, 1)


def nsa_effective_date(plan_year_start: date | str | None = None) -> date:
    """First day the NSA reaches a plan: its first plan year starting on/after 2022-01-01.

    ``plan_year_start`` is any plan-year start date of the plan (only month and day are used);
    None gives 2022-01-01. A 29 February start is read as 1 March.
    """
    if plan_year_start is None:
        return NSA_FIRST_PLAN_YEAR_FROM
    p = bd._as_date(plan_year_start)
    month, day = (3, 1) if (p.month, p.day) == (2, 29) else (p.month, p.day)
    start = date(2022, month, day)
    return start if start >= NSA_FIRST_PLAN_YEAR_FROM else date(2023, month, day)
