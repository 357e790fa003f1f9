"""Which rules govern an out-of-network claim, in which version, and when each step is due.

Federal IDR rules change over time, so they are encoded as **versions keyed by date**: a
dispute is counted under the rules in force on its *rule date* (the open negotiation notice
date when known, else the last day the notice may be sent). Two versions exist today:

* ``2022`` -- 45 CFR 149.510 as issued in 2021-2022 and amended by CMS-9890-F (fees, 2024):
  open negotiation starts the day the notice is sent; no batch line limit (the 25-line figure
  is only where the batched IDRE fee tiers start, CMS-9890-F); 90-calendar-day cooling-off for
  all disputes; the IDR entity checks eligibility within 3 business days of selection.
* ``CMS-9897-F`` -- the Federal IDR Operations final rule (FR doc. 2026-11140, released
  2026-05-28, effective 2026-08-03 with staggered applicability, Holland & Hart 2026-06-26):
  open negotiation through the federal portal (the 30-business-day period starts when the
  notice is submitted there and given to the other party; a response notice is due by the 15th
  business day, Akerman; Rivet Health Law); a 3-business-day response after IDR initiation and
  5 business days for eligibility (insurasales.com); up to 50 items per batch (Altitude Intel);
  cooling-off for batched disputes 30 business days instead of 90 calendar days (IndeMedAction,
  secondary); designated CARC/RARC codes on NSA remits (Forvis Mazars; Sidley).

The staggered applicability date of each CMS-9897-F provision could not be read from the rule
text here: each defaults to the rule's effective date 2026-08-03, is reported as
``[unverified]`` in every output, and can be overridden per provision
(``playbook.rule_applicability`` in the params file, or ``overrides=``). The $15 administrative
fee from 2026-06-11 is verified and lives in :mod:`oonplaybook.idr`.

:func:`explain` answers a consultant's question for one claim (the ``oonplaybook rules
explain`` command): which law governs (federal NSA, a specified state law, or none), why,
the dispute process and each step's due date. See docs/domain.md §1 and §9.

Layering (imports run one way): the versions live in :mod:`oonplaybook.reference.rule_versions`
and the state table with its clocks in :mod:`oonplaybook.reference.state_table`, both below
``nsa``; this module builds on ``nsa`` and re-exports them as one public surface.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from oonplaybook import nsa
from oonplaybook.reference import calendar as bd
from oonplaybook.reference.code_families import code_family
from oonplaybook.reference.rule_versions import (
    BATCH_MAX_LINES_9897F,
    CMS_9897F_EFFECTIVE,
    DEFAULT_APPLICABILITY,
    NSA_FIRST_PLAN_YEAR_FROM,
    PROVISIONS,
    RuleVersion,
    applicability,
    batch_max_lines,
    nsa_effective_date,
    rule_version,
)
from oonplaybook.reference.state_table import (
    STATE_DEADLINE_NOT_ENCODED,
    load_state_table,
    state_dispute_deadline,
    state_dispute_deadlines,
)

# --- explain ---------------------------------------------------------------------------------------

PLAN_TYPES: dict[str, str] = {
    "fully_insured": "insured group or individual coverage (state-regulated)",
    "self_funded_erisa": "self-funded ERISA group health plan (federal law; state law pre-empted)",
    "self_funded_opt_in": "self-funded plan that opted into the state's surprise-billing law",
    "government": "government program coverage (TRICARE, VA, IHS and similar)",
    "medicare_advantage": "Medicare Advantage",
    "medicaid": "Medicaid or Medicaid managed care",
}
#: Plan types outside the commercial NSA process: the NSA's IDR does not apply to items and
#: services covered by Medicare, Medicaid, CHIP or TRICARE (HHS applicability chart, via
#: hallbenefitslaw.com; 42 U.S.C. 300gg-111 reaches group health plans and issuers).
OUTSIDE_NSA_PLAN_TYPES = frozenset({"government", "medicare_advantage", "medicaid"})

GOVERNING = ("federal", "none")  # plus "state:XX"
DISPUTE_PROCESSES = ("federal_idr", "state_idr", "appeal_only")


@dataclass(frozen=True)
class Step:
    """One step of the dispute process, its due date (None: not computable) and its source."""

    step: str
    due: date | None
    citation: str

    def to_dict(self) -> dict[str, str | None]:
        """JSON-ready: ISO date or None."""
        return {
            "step": self.step,
            "due": self.due.isoformat() if self.due else None,
            "citation": self.citation,
        }


@dataclass(frozen=True)
class Explanation:
    """What governs one claim and what to do by when (``to_dict`` is the CLI's JSON)."""

    state: str
    plan_type: str
    service_date: date
    nsa_applies: bool
    nsa_basis: str
    governing_law: str
    dispute_process: str
    why: tuple[str, ...]
    rule_version: str
    rule_date: date | None
    rule_note: str
    steps: tuple[Step, ...]
    notes: tuple[str, ...] = ()

    @property
    def initiate_by(self) -> date | None:
        """Due date of the first step (None when it cannot be computed)."""
        return self.steps[0].due if self.steps else None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``oonplaybook rules explain --json``."""
        return {
            "state": self.state,
            "plan_type": self.plan_type,
            "service_date": self.service_date.isoformat(),
            "nsa_applies": self.nsa_applies,
            "nsa_basis": self.nsa_basis,
            "governing_law": self.governing_law,
            "dispute_process": self.dispute_process,
            "why": list(self.why),
            "rule_version": self.rule_version,
            "rule_date": self.rule_date.isoformat() if self.rule_date else None,
            "rule_note": self.rule_note,
            "steps": [s.to_dict() for s in self.steps],
            "initiate_by": self.initiate_by.isoformat() if self.initiate_by else None,
            "notes": list(self.notes),
        }


def _basis(emergency: bool, facility_in_network: bool, family: str) -> tuple[str, str]:
    """(NSA basis, why) from the claim facts and the code's family."""
    if family == "ground_ambulance":
        return "none", (
            "ground ambulance is outside the NSA (Naviguard: protections cover 'all emergency "
            "services (except ground ambulance)'; Georgetown/Health Affairs)"
        )
    if family == "air_ambulance":
        return "air_ambulance", "air ambulance by an OON provider (42 U.S.C. 300gg-112)"
    if emergency:
        return "emergency", "emergency services by an OON provider (42 U.S.C. 300gg-111(a))"
    if facility_in_network:
        if family in nsa.ANCILLARY_FAMILIES:
            return "ancillary_at_in_network_facility", (
                "ancillary service by an OON provider at an in-network facility "
                "(42 U.S.C. 300gg-132(b)(2); notice and consent cannot waive it)"
            )
        return "non_emergency_at_in_network_facility", (
            "non-emergency service by an OON provider at an in-network facility "
            "(42 U.S.C. 300gg-111(b); 45 CFR 149.420)"
        )
    return "none", (
        "not emergency, not at an in-network facility, not air ambulance: the NSA's "
        "surprise-billing protections do not reach it (42 U.S.C. 300gg-111)"
    )


def explain(
    *,
    state: str,
    plan_type: str,
    service_date: date | str,
    initial_payment_date: date | str | None = None,
    notice_date: date | str | None = None,
    emergency: bool = False,
    facility_in_network: bool = False,
    hcpcs: str | None = None,
    plan_year_start: date | str | None = None,
    overrides: Mapping[str, date | str] | None = None,
    state_table: Mapping[str, Any] | None = None,
) -> Explanation:
    """Which law governs one claim, why, the dispute process and each step's due date.

    ``plan_type`` is one of :data:`PLAN_TYPES`; ``overrides`` replaces CMS-9897-F applicability
    dates. Raises ``ValueError`` for an unknown plan type or a notice date before the payment.
    """
    if plan_type not in PLAN_TYPES:
        raise ValueError(f"plan type {plan_type!r} is not one of {sorted(PLAN_TYPES)}")
    st = str(state).strip().upper()
    svc = bd._as_date(service_date)
    ipd = bd._as_date(initial_payment_date) if initial_payment_date else None
    nd = bd._as_date(notice_date) if notice_date else None
    if nd and ipd and nd < ipd:
        raise ValueError(
            f"notice date {nd} is before the initial payment date {ipd}; open negotiation "
            "starts after the payment or denial is received"
        )
    if state_table is None:
        state_table = load_state_table()
    sb = state_table.get("surprise_billing", {})
    family = code_family(hcpcs) if hcpcs else ""
    basis, why_basis = _basis(emergency, facility_in_network, family)
    why: list[str] = [why_basis]
    notes: list[str] = []
    if hcpcs:
        notes.append(f"code {hcpcs.strip().upper()}: family {family}")

    # outside the commercial NSA process: public programs
    if plan_type in OUTSIDE_NSA_PLAN_TYPES:
        why = [
            f"{PLAN_TYPES[plan_type]}: outside the commercial NSA process (the federal IDR does "
            "not apply to items and services covered by Medicare, Medicaid, CHIP or TRICARE; "
            "HHS applicability chart); the program's own payment and balance-billing rules apply"
        ]
        return _appeal_only(st, plan_type, svc, "none", why, notes, ipd)

    eff = nsa_effective_date(plan_year_start)
    if svc < eff:
        why.append(
            f"service {svc} is before the plan's first NSA plan year ({eff}; the NSA applies from "
            "the first plan year beginning on or after 2022-01-01)"
        )
        return _appeal_only(st, plan_type, svc, "none", why, notes, ipd, basis=basis)
    if basis == "none":
        return _appeal_only(st, plan_type, svc, "none", why, notes, ipd, basis=basis)

    # a specified state law governs?
    row = sb.get(st) or {}
    state_reaches = (
        row.get("enabled", False)
        and basis in (row.get("scope") or [])  # air ambulance only where the row lists it (AK)
        and (
            plan_type in (row.get("plan_types") or [])
            or (plan_type == "self_funded_opt_in" and bool(row.get("self_funded_opt_in")))
        )
    )
    if plan_type == "self_funded_opt_in" and row and not row.get("self_funded_opt_in"):
        notes.append(f"{st} does not let self-funded plans opt in: the federal process applies")
    if plan_type == "self_funded_erisa":
        why.append("self-funded ERISA plan: state surprise-billing law is pre-empted (ERISA §514)")
    bif = state_table.get("bifurcated_states") or {}
    if st in (bif.get("confirmed") or []) or st in (bif.get("unverified") or []):
        tag = "" if st in (bif.get("confirmed") or []) else " [unverified]"
        notes.append(
            f"{st} is a 'bifurcated' state on the HHS applicability chart{tag}: the state process "
            "for some plans/services, the federal IDR for the rest; confirm with the CMS letter"
        )
    if state_reaches:
        why.append(
            f"specified state law governs payment: {row.get('law', st)} (covers: "
            f"{row.get('covers', 'see the state table')}; source: {row.get('source', '')})"
        )
        due, rule = state_dispute_deadline(st, ipd, state_table=state_table)
        steps = (Step(f"start the state dispute process ({row.get('dispute_process', '')})",
                      due, rule),)  # fmt: skip
        return Explanation(
            state=st, plan_type=plan_type, service_date=svc, nsa_applies=True,
            nsa_basis=basis, governing_law=f"state:{st}", dispute_process="state_idr",
            why=tuple(why), rule_version=f"state:{st}", rule_date=ipd,
            rule_note="state process: the federal CMS-9897-F versions do not apply",
            steps=steps, notes=tuple(notes),
        )  # fmt: skip
    why.append(
        "federal IDR applies: no specified state law reaches this plan and service "
        f"({'no enabled row for ' + st if not row.get('enabled') else row.get('law', st) + ' does not reach it'})"
    )
    steps, version, idr_version = _federal_steps(ipd, nd, overrides)
    name = version.name if version else "unknown (no initial payment date)"
    note = (
        version.note()
        if version
        else "give --initial-payment-date to date the steps and pick the rule version"
    )
    if version and idr_version and idr_version.name != version.name:
        name = f"{version.name} (IDR stage: {idr_version.name})"
        note += f"; IDR-stage steps: {idr_version.note()}"
    return Explanation(
        state=st, plan_type=plan_type, service_date=svc, nsa_applies=True, nsa_basis=basis,
        governing_law="federal", dispute_process="federal_idr", why=tuple(why),
        rule_version=name,
        rule_date=version.rule_date if version else None,
        rule_note=note,
        steps=steps, notes=tuple(notes),
    )  # fmt: skip


def _appeal_only(
    st: str,
    plan_type: str,
    svc: date,
    governing: str,
    why: list[str],
    notes: list[str],
    ipd: date | None,
    *,
    basis: str = "none",
) -> Explanation:
    """An explanation whose only route is the plan's or program's appeal process."""
    erisa = plan_type in ("fully_insured", "self_funded_erisa", "self_funded_opt_in")
    if erisa:
        due = bd.add_calendar_days(ipd, 180) if ipd else None
        step = Step(
            "internal appeal of the adverse benefit determination (or negotiate with the payer)",
            due,
            "at least 180 days after receipt of the adverse determination "
            "(29 CFR 2560.503-1(h)(3)(i); 45 CFR 147.136(b))",
        )
    else:
        step = Step(
            "appeal or payment dispute under the program's own rules",
            None,
            f"{PLAN_TYPES[plan_type]}: program rules, not the NSA (deadline not encoded; check)",
        )
    return Explanation(
        state=st, plan_type=plan_type, service_date=svc, nsa_applies=False, nsa_basis=basis,
        governing_law=governing, dispute_process="appeal_only", why=tuple(why),
        rule_version="none", rule_date=None, rule_note="no NSA dispute process applies",
        steps=(step,), notes=tuple(notes),
    )  # fmt: skip


def _federal_steps(
    ipd: date | None, nd: date | None, overrides: Mapping[str, date | str] | None
) -> tuple[tuple[Step, ...], RuleVersion | None, RuleVersion | None]:
    """The federal steps and the rule versions they are counted under (notice, IDR initiation).

    Open negotiation provisions follow the version on the notice date (else the last allowed
    notice day); IDR-stage provisions (initiation response, eligibility review) the version on
    the last day to initiate IDR.
    """
    if ipd is None:
        steps = (
            Step("send the open negotiation notice", None,
                 "within 30 business days beginning on the day the initial payment or denial "
                 "is received (45 CFR 149.510(b)(1)(ii)(B)); give --initial-payment-date"),
        )  # fmt: skip
        return steps, None, None
    dl = nsa.deadlines(ipd, notice_date=nd)
    rule_date = nd or dl.open_negotiation_initiate_by
    v = rule_version(rule_date, overrides)
    portal = v.has("open_negotiation_portal")
    on_start = nd or dl.open_negotiation_initiate_by
    steps: list[Step] = [
        Step(
            "send the open negotiation notice"
            + (" through the federal IDR portal and to the payer" if portal else ""),
            dl.open_negotiation_initiate_by,
            "30 business days beginning on the day the initial payment or denial is received "
            "(45 CFR 149.510(b)(1)(ii)(B))"
            + ("; CMS-9897-F: the period starts when the notice is submitted through the "
               "portal and given to the other party (Akerman)" if portal else ""),
        ),
    ]  # fmt: skip
    if portal:
        steps.append(
            Step(
                "payer's open negotiation response notice due",
                bd.business_day_period_end(on_start, 15),
                "by the 15th business day of the open negotiation period (CMS-9897-F; "
                "Rivet Health Law 2026-05-29)",
            )
        )
    steps += [
        Step("open negotiation period ends", dl.open_negotiation_period_end,
             "30 business days beginning on the day the notice is sent (45 CFR 149.510(b)(1)(ii)(B))"
             + ("" if nd else "; no notice date: assumes the notice goes on the last allowed day")),
        Step("initiate federal IDR", dl.idr_initiate_by,
             "4-business-day period beginning on the 31st business day after the start of open "
             "negotiation (45 CFR 149.510(b)(2)(i))"),
    ]  # fmt: skip
    init = dl.idr_initiate_by
    # IDR-stage provisions apply by the initiation date (a notice sent before CMS-9897-F applies
    # may still lead to an IDR initiated after it)
    vi = rule_version(init, overrides)
    if vi.has("idr_initiation_response"):
        steps.append(
            Step(
                "non-initiating party's response to the IDR initiation (if initiated on the "
                "last day)",
                bd.add_business_days(init, 3),
                "3 business days after IDR initiation (CMS-9897-F; insurasales.com)",
            )
        )
    steps.append(
        Step(
            "parties select the certified IDR entity (if initiated on the last day)",
            bd.add_business_days(init, 3),
            "3 business days after initiation (45 CFR 149.510(c)(1)(i))",
        )
    )
    sel = bd.add_business_days(init, 3)
    steps.append(
        Step(
            "IDR entity's eligibility determination (if selected on the last day)",
            bd.add_business_days(sel, vi.eligibility_review_bd),
            f"{vi.eligibility_review_bd} business days after selection"
            + (
                " (CMS-9897-F adds two business days: insurasales.com)"
                if vi.has("eligibility_review")
                else " (45 CFR 149.510(c)(1)(v), 2022 rules)"
            ),
        )
    )
    return tuple(steps), v, vi


__all__ = [
    "BATCH_MAX_LINES_9897F",
    "NSA_FIRST_PLAN_YEAR_FROM",
    "load_state_table",
    "CMS_9897F_EFFECTIVE",
    "DEFAULT_APPLICABILITY",
    "DISPUTE_PROCESSES",
    "Explanation",
    "OUTSIDE_NSA_PLAN_TYPES",
    "PLAN_TYPES",
    "PROVISIONS",
    "RuleVersion",
    "STATE_DEADLINE_NOT_ENCODED",
    "Step",
    "applicability",
    "batch_max_lines",
    "explain",
    "nsa_effective_date",
    "rule_version",
    "state_dispute_deadline",
    "state_dispute_deadlines",
]
