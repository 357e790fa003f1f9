"""The money terms of every deliverable, defined once.

The report, the workbooks and the letters' cover notes use these names and definitions word for
word, so "at stake" or "lost" means one thing everywhere. Each term names the worklist/revenue
column it is computed from, so a reader can trace a figure to its table.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Term:
    """One money term: the words used for it, what it counts, and the column it sums
    (or the expression over columns)."""

    name: str
    definition: str
    column: str


#: The money terms, in the order a reader meets them.
TERMS: tuple[Term, ...] = (
    Term(
        "Billed",
        "The practice's own charges on the claim lines (its chargemaster prices), before any "
        "payer reduction.",
        "billed",
    ),
    Term(
        "Paid",
        "What the plans paid on those lines, from the remittances.",
        "paid",
    ),
    Term(
        "Billed not paid",
        "Billed less paid: contractual reductions, patient responsibility, denials and claims "
        "still pending. Most of it is not recoverable; it is the upper bound, not the claim.",
        "billed - paid",
    ),
    Term(
        "Underpaid against target",
        "On paid lines, the negotiation target (per payer and code family) less what the plan "
        "allowed, where the allowed amount is below target.",
        "underpaid",
    ),
    Term(
        "Denied, at stake",
        "On denied lines, what the payer usually allows for the same code (not the billed "
        "charge): what a successful appeal would realistically bring.",
        "denied_amount",
    ),
    Term(
        "At stake",
        "Underpaid against target plus denied, at stake, on the worklist's claims: the dollars "
        "the practice can argue for.",
        "at_stake",
    ),
    Term(
        "Expected recoverable",
        "On open worklist items: at stake x the probability of recovering it (IDR win rates, "
        "appeal overturn rates), less IDR fees and the cost of working the claim.",
        "expected_recovery",
    ),
    Term(
        "Lost",
        "On worklist items whose every deadline has passed: at stake x the probability it would "
        "have been recovered. Expected value forgone, not the billed charge.",
        "lost_revenue",
    ),
)


def term(name: str) -> Term:
    """The :class:`Term` named ``name`` (case-insensitive); a clear error for an unknown one."""
    for t in TERMS:
        if t.name.lower() == name.lower():
            return t
    raise KeyError(f"{name!r} is not a glossary term; terms: {', '.join(t.name for t in TERMS)}")


def glossary_table() -> pd.DataFrame:
    """The glossary as a two-column table (term, what it means) for a report or a README sheet."""
    return pd.DataFrame(
        {"term": [t.name for t in TERMS], "what it means": [t.definition for t in TERMS]}
    )
