"""Who receives each letter type, which identifiers the practice adds, and what may never appear.

Every letter has one recipient. Letters that leave the practice (to a payer, to a certified IDR
entity, to a patient) carry facts of the claim, the request and the law, and nothing internal:
no target, floor or walk-away, no model statistic, no tactic, no note to staff, no params key,
no account of how an offer was built. That guidance goes into the staff cover note written
beside each letter (``letters/internal/``), whose audience is the practice itself.

Recipient identifiers that the canonical tables never hold (patient name, member ID, date of
birth, group number, addresses, the signer) appear as merge fields such as ``«MEMBER_ID»``;
``oonplaybook letters merge`` fills them from a practice-held crosswalk into a folder outside the
run folder, so PHI never enters the run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: A merge field as printed in a letter: guillemets around an upper-case name.
MERGE_FIELD = re.compile(r"«([A-Z][A-Z0-9_]*)»")


@dataclass(frozen=True)
class Audience:
    """A recipient class: its name and whether letters to it leave the practice."""

    key: str
    title: str
    external: bool


PAYER = Audience("payer", "health plan or issuer (claims, appeals or provider disputes)", True)
IDR_ENTITY = Audience("idr_entity", "certified IDR entity (federal IDR portal)", True)
PATIENT = Audience("patient", "patient or guarantor", True)
STAFF = Audience("staff", "the practice's billing staff (never sent)", False)


@dataclass(frozen=True)
class LetterType:
    """One letter template: its recipient, what it is written per, and its merge fields."""

    key: str
    title: str
    audience: Audience
    per: str  # "worklist_row" (one per claim row) or "idr_batch" (one per batch)
    merge_fields: tuple[str, ...]
    template: str = ""  # the template rendered (default: the key)

    @property
    def template_name(self) -> str:
        """The template file stem under ``letters/templates``."""
        return self.template or self.key


#: Identifiers of the sender the practice adds once (or sets in params: ``playbook.contact``).
SENDER_FIELDS = ("PRACTICE_ADDRESS", "SIGNER_NAME", "SIGNER_TITLE")
#: Identifiers a payer needs to find the member's claim (not held in the canonical tables).
MEMBER_FIELDS = ("PATIENT_NAME", "MEMBER_ID", "DATE_OF_BIRTH", "GROUP_NUMBER")

LETTER_TYPES: dict[str, LetterType] = {
    "appeal": LetterType(
        "appeal",
        "Internal appeal or external review request",
        PAYER,
        "worklist_row",
        ("DATE_SENT", "PAYER_APPEALS_ADDRESS", *MEMBER_FIELDS, *SENDER_FIELDS),
    ),
    "open_negotiation_notice": LetterType(
        "open_negotiation_notice",
        "Open negotiation notice (No Surprises Act)",
        PAYER,
        "worklist_row",
        (
            "DATE_SENT",
            "OPEN_NEGOTIATION_END",
            "IDR_WINDOW_START",
            "IDR_WINDOW_END",
            "PAYER_NSA_CONTACT",
            *MEMBER_FIELDS,
            *SENDER_FIELDS,
        ),
    ),
    "payer_negotiation": LetterType(
        "payer_negotiation",
        "Payment review request",
        PAYER,
        "worklist_row",
        ("DATE_SENT", "PAYER_ADDRESS", *MEMBER_FIELDS, *SENDER_FIELDS),
    ),
    "state_dispute_notice": LetterType(
        "state_dispute_notice",
        "Payment dispute under the state surprise-billing law",
        PAYER,
        "worklist_row",
        ("DATE_SENT", "PAYER_ADDRESS", *MEMBER_FIELDS, *SENDER_FIELDS),
        "payer_negotiation",
    ),
    "idr_offer_brief": LetterType(
        "idr_offer_brief",
        "IDR offer and supporting information",
        IDR_ENTITY,
        "idr_batch",
        ("DATE_SENT", "DISPUTE_NUMBER", "OPEN_NEGOTIATION_START", *SENDER_FIELDS),
    ),
    "patient_explanation": LetterType(
        "patient_explanation",
        "Letter to the patient about the bill",
        PATIENT,
        "worklist_row",
        ("DATE_SENT", "PATIENT_NAME", "PATIENT_ADDRESS", *SENDER_FIELDS),
    ),
}

#: Route -> letter type, used when the worklist carries no ``letter_type`` column.
ROUTE_LETTER_TYPE: dict[str, str] = {
    "appeal_l1": "appeal",
    "appeal_l2": "appeal",
    "external_review": "appeal",
    "payer_negotiation": "payer_negotiation",
    "state_idr": "state_dispute_notice",
    "open_negotiation": "open_negotiation_notice",
    "idr": "idr_offer_brief",
    "patient_bill": "patient_explanation",
}

# --- what an external letter may never carry -----------------------------------------------

#: Words that only internal guidance uses (targets, model output, tactics, staff notes).
INTERNAL_PHRASES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (label, re.compile(rx, re.IGNORECASE))
    for label, rx in (
        ("negotiation target", r"\btargets?\b"),
        ("floor", r"\bfloor\b"),
        ("walk-away", r"\bwalk[- ]?away\b"),
        ("p-value", r"\bp\s*[=<]\s*[0-9.]|\bp-values?\b"),
        ("confidence interval", r"\b\d+% CI\b|confidence interval"),
        ("model statistic", r"\bodds ratio\b|\bestimate \d|\bcoefficient\b|\bscorecard\b"),
        ("tactic", r"\btactics?\b|\bcounter[- ]?(tactic|argument)s?\b"),
        ("note to staff", r"\bnote to staff\b|\bstaff:|\bconsider (adjusting|sending|filing)\b"),
        ("params key", r"`[^`]*`|\bparams?\b|\bplaybook\.\w+"),
        (
            "how the offer was built",
            r"\baward (level|multiple)\b|\bmedian award\b|\bwin (rate|probability)\b",
        ),
        ("internal metric", r"\bexpected (value|recovery)\b|\bpriority\b|\bat stake\b|\bUCR\b"),
    )
)
#: snake_case tokens are column or params names, never recipient language.
SNAKE_CASE = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")
#: Third-person staff phrasing in a patient letter ("the patient may ...", "bill the patient").
THIRD_PERSON = re.compile(r"\b(the|this) patient\b|\bpatient's\b|\bbill the patient\b", re.I)


def internal_content(text: str, audience: Audience) -> list[str]:
    """The internal-only content found in a letter for ``audience`` (empty when clean).

    Merge fields are removed before the check (their names are upper-case by design). Staff
    notes are internal and may carry anything, so the list is empty for them.
    """
    if not audience.external:
        return []
    body = MERGE_FIELD.sub("", text)
    found = [
        f"{label}: {m.group(0)!r}" for label, rx in INTERNAL_PHRASES for m in rx.finditer(body)
    ]
    found += [f"params or column name: {m.group(0)!r}" for m in SNAKE_CASE.finditer(body)]
    if audience is PATIENT:
        found += [f"third-person staff text: {m.group(0)!r}" for m in THIRD_PERSON.finditer(body)]
    return found


def merge_fields_in(text: str) -> list[str]:
    """The distinct merge-field names in a letter, in order of first appearance."""
    return list(dict.fromkeys(MERGE_FIELD.findall(text)))
