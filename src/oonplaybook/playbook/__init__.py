"""The negotiation playbook: targets, appeal ladders, the worklist, IDR batches, patient protections.

Public functions (the 40_playbook notebook calls these): :func:`build_targets`,
:func:`appeal_ladder`, :func:`route_claims`, :func:`build_worklist`, :func:`build_idr_batches`,
:func:`patient_protections`, :func:`revenue_at_stake`, :func:`write_workbook`.
"""

from __future__ import annotations

from oonplaybook.playbook.appeals import (
    appeal_ladder,
    denial_group,
    denial_groups,
    prompt_pay_interest,
)
from oonplaybook.playbook.targets import build_targets, line_targets

__all__ = [
    "appeal_ladder",
    "build_targets",
    "denial_group",
    "denial_groups",
    "line_targets",
    "prompt_pay_interest",
]
