"""Payer behaviour models (statsmodels): denials, payment level, time to pay, appeals, drift,
repricer fingerprints and the payer scorecard, each with its uncertainty.

Payer effects use sum (deviation) coding: odds ratios and hazard ratios are against the average
payer of the portfolio; payment levels are multiples of Medicare on the portfolio's code mix.
"""

from oonplaybook.payers._base import (
    EFFECT_COLUMNS,
    EFFECT_MODELS,
    TIDY_COLUMNS,
    InsufficientDataError,
    ModelResult,
    claim_table,
    reason_groups,
)
from oonplaybook.payers.appeals import AppealResult, fit_appeals, prepare_appeals
from oonplaybook.payers.denial import (
    DenialResult,
    ImproperERResult,
    fit_denial,
    improper_er_denials,
)
from oonplaybook.payers.drift import DriftResult, drift_scan, monthly_index
from oonplaybook.payers.payment import PaymentResult, expected_payment, fit_payment, paid_lines
from oonplaybook.payers.repricer import repricer_fingerprint
from oonplaybook.payers.scorecard import PayerModels, fit_all
from oonplaybook.payers.survival import TimeToPayResult, fit_time_to_pay, survival_table

__all__ = [
    "EFFECT_COLUMNS",
    "EFFECT_MODELS",
    "TIDY_COLUMNS",
    "AppealResult",
    "DenialResult",
    "DriftResult",
    "ImproperERResult",
    "InsufficientDataError",
    "ModelResult",
    "PayerModels",
    "PaymentResult",
    "TimeToPayResult",
    "claim_table",
    "drift_scan",
    "expected_payment",
    "fit_all",
    "fit_appeals",
    "fit_denial",
    "fit_payment",
    "fit_time_to_pay",
    "improper_er_denials",
    "monthly_index",
    "paid_lines",
    "prepare_appeals",
    "reason_groups",
    "repricer_fingerprint",
    "survival_table",
]
