"""What the letters say: denial meanings, appeal grounds, enclosures, and the IDR circumstances
the claim data itself supports.

Grounds are single statements (never "A or B" alternatives); where the right ground depends on
a fact the tables do not hold (was an authorization obtained?), the letter states the ground the
data supports and the staff cover note gives the replacement text.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from oonplaybook.playbook.appeals import CARC_GROUPS

#: Short CARC meanings for letters (WPC CARC list as paraphrased in docs/domain.md §4.2).
CARC_MEANINGS: dict[str, str] = {
    "4": "procedure code inconsistent with the modifier, or a modifier is missing",
    "16": "claim lacks information or has billing errors",
    "18": "exact duplicate claim/service",
    "22": "may be covered by another payer (coordination of benefits)",
    "27": "expenses incurred after coverage terminated",
    "29": "time limit for filing has expired",
    "45": "charge exceeds fee schedule/maximum allowable",
    "50": "not deemed a medical necessity by the payer",
    "96": "non-covered charge",
    "97": "benefit included in the payment for another service",
    "109": "claim not covered by this payer",
    "131": "claim-specific negotiated discount",
    "150": "payer deems the information submitted does not support this level of service",
    "197": "precertification/authorization/notification absent",
    "204": "service not covered under the patient's current benefit plan",
    "226": "information requested from the provider was not provided",
    "242": "services not provided by network/primary care providers",
    "243": "services not authorized by network/primary care providers",
    "252": "an attachment/other documentation is required",
}

#: One ground per denial group for appeal letters (no alternatives in the text).
GROUNDS: dict[str, str] = {
    "medical_necessity": "The enclosed medical records document the clinical indication for each service, and the treating physician's letter explains why each service was necessary for this patient. A denial for medical necessity must identify the clinical criteria applied and is subject to external review by an independent review organization (29 CFR 2590.715-2719(d)).",
    "authorization": "Authorization for this service was obtained before it was furnished (authorization number «AUTHORIZATION_NUMBER»; record enclosed).",
    "network": "No participating provider was available to furnish this service at the facility. A denial because the provider is out of network, where the service could not effectively be provided in network, involves medical judgment and is eligible for external review (29 CFR 2590.715-2719(d)(1)(ii), Example 2).",
    "coding_bundling": "The procedure note documents a distinct, separately identifiable service; the modifier on the claim reflects a separate session, site or encounter under NCCI policy.",
    "missing_info": "The records the plan requested are enclosed; please reprocess the claim.",
    "timely_filing": "The enclosed clearinghouse acceptance report shows the claim was filed within the plan's timely-filing limit.",
    "eligibility_cob": "The enclosed eligibility response and primary-payer explanation of benefits establish coverage and the order of benefits on the date of service.",
    "non_covered": "The service is a covered benefit under the plan document for the condition documented in the enclosed records.",
    "credentialing": "The rendering provider was credentialed and enrolled with the plan on the date of service (confirmation enclosed).",
    "underpayment": "The amount allowed does not reflect the plan's terms for this service; please provide the basis on which it was calculated.",
    "other": "The determination is not supported by the claim record; please reprocess the claim or state the specific plan provision on which the denial is based.",
}

#: Replacement grounds the staff note offers when the data-based ground does not fit.
ALTERNATIVE_GROUNDS: dict[str, str] = {
    "authorization": 'If no authorization was obtained, replace the ground with: "We request retrospective authorization: the service could not be delayed to obtain prior authorization without risk to the patient (records enclosed)."',
}

#: Emergency claims: prior authorization and network status may not be required (45 CFR
#: 149.110(b)(1)); the emergency is judged by presenting symptoms (45 CFR 149.110(b)(2)(i)).
EMERGENCY_GROUND = (
    "This was an emergency service. The plan must cover emergency services without any prior "
    "authorization determination and regardless of the provider's network status (45 CFR "
    "149.110(b)(1)), judging the emergency by the presenting symptoms, not the final diagnosis "
    "(45 CFR 149.110(b)(2)(i))."
)

#: Enclosures per route and denial group: documents that apply to every such case.
ROUTE_ENCLOSURES: dict[str, tuple[str, ...]] = {
    "appeal_l1": (
        "Remittance advice / explanation of benefits showing the denial",
        "Authorized-representative designation signed by the patient (29 CFR 2560.503-1(b)(4))",
    ),
    "appeal_l2": (
        "The plan's level-1 appeal decision",
        "Our level-1 appeal and its enclosures",
        "Remittance advice / explanation of benefits showing the denial",
    ),
    "external_review": (
        "The plan's final internal adverse benefit determination",
        "Medical records for the date(s) of service",
    ),
}
GROUP_ENCLOSURES: dict[str, tuple[str, ...]] = {
    "medical_necessity": (
        "Medical records for the date(s) of service",
        "Letter of medical necessity from the treating physician",
    ),
    "authorization": ("Authorization record",),
    "network": ("Statement that no participating provider was available at the facility",),
    "coding_bundling": ("Operative or procedure note supporting the modifier",),
    "missing_info": ("The records the plan requested",),
    "timely_filing": ("Clearinghouse acceptance report (999/277CA) for the original claim",),
    "eligibility_cob": ("Eligibility response (271)", "Primary payer's explanation of benefits"),
    "non_covered": ("Plan document excerpt covering the service", "Medical records"),
    "credentialing": ("Credentialing and enrollment confirmation",),
}

#: Human titles of the IDR factors (45 CFR 149.510(c)(4)(iii)(B)(1)-(5), (C)).
FACTOR_TITLES = {
    "training_experience_quality": "Level of training, experience, and quality and outcomes measurements",
    "market_share": "Market share of the parties in the geographic region",
    "acuity_complexity": "Acuity of the patient and complexity of furnishing the service",
    "teaching_status_case_mix": "Teaching status, case mix and scope of services of the facility",
    "good_faith_network_efforts": "Good-faith efforts to enter into a network agreement; prior contracted rates",
    "other_credible_information": "Other credible information relating to the offer",
}

#: Plan types in words (the IDR offer and the notices name the coverage).
PLAN_TYPES = {
    "self_funded_erisa": "self-funded group health plan (ERISA)",
    "fully_insured": "fully insured group health plan",
    "individual": "individual health insurance coverage",
    "fehb": "Federal Employees Health Benefits plan",
    "self_pay": "uninsured / self-pay",
}

#: Codes whose presence in a dispute is a fact about acuity or complexity, with what it means.
ACUITY_CODES: dict[str, str] = {
    "99285": "emergency visit with high-complexity medical decision making",
    "99291": "critical care, first 30-74 minutes",
    "99292": "critical care, each additional 30 minutes",
    "88341": "immunohistochemistry, each additional antibody",
    "88342": "immunohistochemistry, first antibody",
    "88344": "immunohistochemistry, multiplex antibody stain",
    "88312": "special stain, group I",
    "88313": "special stain, group II",
    "88331": "intraoperative pathology consultation (frozen section)",
    "88332": "intraoperative consultation, each additional block",
}


def carc_meaning(carc: str) -> str:
    """Plain meaning of a group-code CARC such as ``CO-197`` (falls back to its reason group)."""
    code = str(carc).split("-", 1)[-1]
    if code in CARC_MEANINGS:
        return CARC_MEANINGS[code]
    return f"adjustment reason {code} ({CARC_GROUPS.get(code, 'other').replace('_', ' ')})"


def plan_type_words(plan_type: str) -> str:
    """The plan type as a sentence fragment (unknown types as 'not stated on the remittance')."""
    return PLAN_TYPES.get(str(plan_type), "plan type not stated on the remittance")


@dataclass(frozen=True)
class Circumstance:
    """An additional circumstance with the facts from the dispute's own lines."""

    factor: str
    title: str
    facts: str


def supported_circumstances(lines: pd.DataFrame) -> list[Circumstance]:
    """The additional circumstances the dispute lines themselves show, in neutral words.

    Only facts read from the claims are stated: highest-acuity or complexity codes (the codes and
    their counts), services of several units, and emergency presentation. Factors the claims
    cannot show (training, market share, teaching status, network efforts) are left for the staff
    note, to be added only with the practice's own evidence.
    """
    if lines.empty:
        return []
    n = len(lines)
    cpts = lines["cpt"].astype("str")
    facts: list[str] = []
    hits = cpts[cpts.isin(list(ACUITY_CODES))]
    for code, count in hits.value_counts().sort_index().items():
        verb = "is" if count == 1 else "are"
        facts.append(f"{count} of the {n} line items {verb} CPT {code} ({ACUITY_CODES[code]})")
    if "units" in lines.columns:
        # service units only: anesthesia minutes (unit type MJ) are time the QPA already prices
        if "unit_type" in lines.columns:
            minutes = lines["unit_type"].astype("str").eq("MJ")
        elif "code_family" in lines.columns:
            minutes = lines["code_family"].astype("str").eq("anesthesia")
        else:
            minutes = pd.Series(False, index=lines.index)
        multi = lines[
            (lines["units"].astype("float64") > 1) & ~cpts.isin(list(ACUITY_CODES)) & ~minutes
        ]
        if len(multi):
            facts.append(
                f"{_of(len(multi), n)} furnished in more than one unit "
                f"(up to {int(multi['units'].max())} units)"
            )
    if "emergency" in lines.columns and bool(lines["emergency"].astype("bool").any()):
        k = int(lines["emergency"].astype("bool").sum())
        facts.append(
            f"{_of(k, n)} {'an emergency service' if k == 1 or n == 1 else 'emergency services'}"
        )
    if not facts:
        return []
    return [
        Circumstance(
            "acuity_complexity", FACTOR_TITLES["acuity_complexity"], "; ".join(facts) + "."
        )
    ]


def _of(k: int, n: int) -> str:
    """'3 of the 16 line items were' / '1 of the 8 line items was' / 'the line item was'."""
    if n == 1:
        return "the line item was"
    return f"{k} of the {n} line items {'was' if k == 1 else 'were'}"


def unsupported_factors(supported: list[Circumstance]) -> list[str]:
    """The factor keys a brief does not assert (for the staff note's 'add only with evidence')."""
    have = {c.factor for c in supported}
    return [k for k in FACTOR_TITLES if k not in have and k != "other_credible_information"]


def coding_ground(verdict: str, evidence: str) -> str:
    """The appeal ground for a coding denial the NCCI check found unsupported (neutral wording;
    the evidence sentence names the edit, its indicator and dates, never a model figure)."""
    ev = str(evidence or "").strip()
    if not ev:
        return ""
    if verdict == "payer_edit_wrong":
        fact = ev.split(": the modifier bypasses")[0]
        return (
            "Under CMS's National Correct Coding Initiative and the fee schedule's rules, this "
            "service may be paid separately when an appropriate modifier is reported, and it was: "
            f"{fact}. The enclosed "
            "record documents a distinct service; please reprocess the line."
        )
    if verdict == "payer_edit_not_ncci":
        fact = ev.split(": the payer's own edit")[0].split(": no active NCCI edit bundles")[0]
        fact = fact.replace(" (no other line that day)", ", the only service that day")
        return (
            "No National Correct Coding Initiative edit in force on the date of service supports "
            f"denying this line ({fact}). Please reprocess the line, or identify the edit or "
            "written policy the denial rests on."
        )
    if verdict == "documentation_needed":
        fact = ev.split(": a clinical edit")[0]
        return (
            f"The units billed exceed a clinical medically unlikely edit ({fact}); CMS designates "
            "such edits as reviewable with documentation. The enclosed medical record documents "
            "the units provided."
        )
    return ""
