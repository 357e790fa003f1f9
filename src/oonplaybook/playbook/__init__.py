"""The negotiation playbook: targets, appeal ladders, the worklist, IDR batches, patient protections.

Public functions (the 40_playbook notebook calls these): :func:`build_targets`,
:func:`appeal_ladder`, :func:`route_claims`, :func:`build_worklist`, :func:`build_idr_batches`,
:func:`patient_protections`, :func:`revenue_at_stake`, :func:`write_playbook_workbook`.
"""

from __future__ import annotations

from oonplaybook.playbook._adapters import PLAYBOOK_STAGE_COLUMNS, read_benchmarks, write_csv
from oonplaybook.playbook._adapters import nsa_assessment as assess_nsa
from oonplaybook.playbook.appeals import (
    appeal_ladder,
    denial_group,
    denial_groups,
    prompt_pay_interest,
)
from oonplaybook.playbook.idr_batches import build_idr_batches, dispute_fees, idr_disputes
from oonplaybook.playbook.protections import patient_protections
from oonplaybook.playbook.summary import (
    headline_markdown,
    revenue_at_stake,
    specialty_markdown,
    specialty_scope,
    stake_figure,
    summary_sheet,
    write_playbook_workbook,
    write_workbook,
)
from oonplaybook.playbook.targets import build_targets, line_targets
from oonplaybook.playbook.worklist import (
    appeal_success_rates,
    build_worklist,
    coherence_problems,
    link_idr_batches,
    route_claims,
)

__all__ = [
    "appeal_ladder",
    "appeal_success_rates",
    "assess_nsa",
    "headline_markdown",
    "link_idr_batches",
    "specialty_markdown",
    "specialty_scope",
    "stake_figure",
    "build_idr_batches",
    "build_targets",
    "build_worklist",
    "dispute_fees",
    "idr_disputes",
    "patient_protections",
    "revenue_at_stake",
    "coherence_problems",
    "route_claims",
    "summary_sheet",
    "write_playbook_workbook",
    "write_workbook",
    "denial_group",
    "denial_groups",
    "line_targets",
    "prompt_pay_interest",
    "PLAYBOOK_STAGE_COLUMNS",
    "read_benchmarks",
    "write_csv",
]
