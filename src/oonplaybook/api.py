"""The small, stable public surface of oonplaybook, re-exported in one place (statsmodels style).

from oonplaybook import api as ob
cfg, base = ob.load_config("params/acme.yaml")
result = ob.ingest_paths(["remits/"], salt=ob.resolve_salt())
bench = ob.build_benchmarks(result.claim_lines, year=2025, default_locality="13202-01")
models = ob.fit_all(result.claim_lines.assign(medicare_allowed=bench["medicare_allowed"].to_numpy()))
"""

from __future__ import annotations

from oonplaybook.benchmark import build_benchmarks, read_fair_health
from oonplaybook.config import ParamsError, RunConfig, load_config
from oonplaybook.context import StageContext, stage_context
from oonplaybook.demo import generate as generate_demo
from oonplaybook.demo import load_truth, write_demo
from oonplaybook.idr import IdrPriors, expected_value, fees
from oonplaybook.ingest import (
    IngestError,
    IngestResult,
    ingest_paths,
    read_835,
    read_837p,
    read_appeals,
)
from oonplaybook.nsa import assess_claims, batch_disputes, deadlines
from oonplaybook.payers import InsufficientDataError, PayerModels, fit_all
from oonplaybook.phi import patient_key, resolve_salt
from oonplaybook.playbook import (
    build_idr_batches,
    build_targets,
    build_worklist,
    patient_protections,
)
from oonplaybook.reference.code_families import code_family
from oonplaybook.reference.pfs import medicare_allowed, price
from oonplaybook.report import write_workbook
from oonplaybook.run import RunFailed, run_client, run_many
from oonplaybook.run_folder import OutputIOError, RunFolderError
from oonplaybook.schema import conform, validate_claim_lines
from oonplaybook.specialties import load_profile
from oonplaybook.tic import TicFormatError, read_allowed_amounts

__all__ = [
    "IdrPriors",
    "IngestError",
    "IngestResult",
    "InsufficientDataError",
    "OutputIOError",
    "ParamsError",
    "PayerModels",
    "RunConfig",
    "RunFailed",
    "RunFolderError",
    "StageContext",
    "TicFormatError",
    "assess_claims",
    "batch_disputes",
    "build_benchmarks",
    "build_idr_batches",
    "build_targets",
    "build_worklist",
    "code_family",
    "conform",
    "deadlines",
    "expected_value",
    "fees",
    "fit_all",
    "generate_demo",
    "ingest_paths",
    "load_config",
    "load_profile",
    "load_truth",
    "medicare_allowed",
    "patient_key",
    "patient_protections",
    "price",
    "read_835",
    "read_837p",
    "read_allowed_amounts",
    "read_appeals",
    "read_fair_health",
    "resolve_salt",
    "run_client",
    "run_many",
    "stage_context",
    "validate_claim_lines",
    "write_demo",
    "write_workbook",
]
