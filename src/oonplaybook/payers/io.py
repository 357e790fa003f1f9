"""Reading the payer stage's inputs and writing its artifacts (shared by the CLI and notebook).

The Medicare benchmark per line comes, in order of preference, from a ``medicare_allowed``
column already on the claim lines, from the benchmark stage's ``benchmarks.parquet`` (keyed by
``claim_id, line_no``), or from pricing each line with ``reference.pfs.medicare_allowed`` at its
own ``locality`` (or the default locality given).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from oonplaybook import partitions
from oonplaybook.payers.scorecard import PayerModels


class PayerInputError(ValueError):
    """An input file is missing or malformed; the message names the file and the fix."""


def read_table(path: Path) -> pd.DataFrame:
    """Read a Parquet or CSV table, naming the file and the fix on failure."""
    if not path.exists():
        raise PayerInputError(f"{path}: file not found; check the path")
    try:
        if path.suffix.lower() == ".csv":
            return pd.read_csv(path, dtype={"claim_id": "str", "payer": "str"})
        return partitions.read_all(path)
    except Exception as e:  # noqa: BLE001 - any reader failure becomes one clear message
        raise PayerInputError(
            f"{path}: cannot read as {'CSV' if path.suffix.lower() == '.csv' else 'Parquet'} "
            f"({type(e).__name__}: {e}); write it with the ingest stage or export it as .parquet"
        ) from None


#: Columns the payer stage cannot do without (the rest are completed by schema.conform).
REQUIRED_COLUMNS = ("claim_id", "line_no", "payer", "claim_status", "service_date", "billed")


#: The claim-line columns the payer stage reads (models, scorecard, figures, Medicare pricing
#: when no benchmark is attached), in canonical order. The rest of the table (payer and line
#: control numbers, remark codes, NSA notice flags, claim-level fields) stays on disk: 16 of
#: 44 columns, a third of a 1M-line client's memory in this stage. ``schema.conform`` would
#: fill a column left out here with nulls, so a model that starts reading one adds it here.
PAYER_STAGE_COLUMNS = (
    "claim_id", "line_no", "payer", "plan_type", "provider_npi", "specialty", "patient_key",
    "service_date", "submitted_date", "remit_date", "paid_date", "cpt", "modifiers", "units",
    "unit_type", "pos", "state", "locality", "service_zip", "billed", "allowed", "paid",
    "patient_resp", "claim_status", "carc", "qpa", "emergency", "repricer",
)  # fmt: skip


def check_columns(lines: pd.DataFrame, source: str) -> None:
    """Raise naming the file and the missing canonical columns (and the fix)."""
    missing = [c for c in REQUIRED_COLUMNS if c not in lines.columns]
    if missing:
        raise PayerInputError(
            f"{source}: missing claim-line columns {missing}; pass the canonical claim_lines "
            "table written by `oonplaybook ingest` (schema.CLAIM_LINE_COLUMNS)"
        )


def read_benchmarks(path: str | Path) -> pd.DataFrame:
    """The three ``benchmarks.parquet`` columns :func:`attach_medicare` joins (claim_id, line_no,
    medicare_allowed), not all 60 (about 1 GB at 1M lines)."""
    from oonplaybook.benchmark import read_benchmarks as _read

    return _read(path, ["claim_id", "line_no", "medicare_allowed"])


def attach_medicare(
    lines: pd.DataFrame,
    benchmarks: pd.DataFrame | None = None,
    *,
    year: int = 2025,
    locality: str | None = None,
    strict: bool = True,
) -> tuple[pd.DataFrame, str]:
    """Return lines with ``medicare_allowed`` and a sentence saying where it came from.

    With ``strict=False`` a pricing failure returns the lines unchanged and the sentence says
    why (the payment models then record that they could not run; the others still do)."""
    if not strict:
        try:
            return attach_medicare(lines, benchmarks, year=year, locality=locality)
        except Exception as e:  # noqa: BLE001 - reported, not hidden
            return lines, (
                f"no Medicare benchmark ({type(e).__name__}: {e}); payment models skipped: run "
                "the benchmark stage or set the locality/fee_schedule_year"
            )
    if "medicare_allowed" in lines.columns and lines["medicare_allowed"].notna().any():
        return lines, "Medicare benchmark: the medicare_allowed column of the claim lines"
    if benchmarks is not None:
        need = {"claim_id", "line_no", "medicare_allowed"}
        if not need <= set(benchmarks.columns):
            raise PayerInputError(
                f"benchmarks table lacks {sorted(need - set(benchmarks.columns))}; "
                "rerun the benchmark stage (artifacts/benchmarks.parquet)"
            )
        b = benchmarks[["claim_id", "line_no", "medicare_allowed"]].copy()
        b["claim_id"] = b["claim_id"].astype("str")
        b["line_no"] = b["line_no"].astype("int64")
        out = lines.drop(columns=["medicare_allowed"], errors="ignore").copy()
        out["claim_id"] = out["claim_id"].astype("str")
        out = out.merge(b, on=["claim_id", "line_no"], how="left", validate="one_to_one")
        share = out["medicare_allowed"].notna().mean() if len(out) else 0.0
        return out, f"Medicare benchmark: benchmark stage ({share:.1%} of lines priced)"
    from oonplaybook.reference import pfs

    priced = pfs.medicare_allowed(lines, year=year, default_locality=locality)
    out = lines.copy()
    out["medicare_allowed"] = priced["medicare_allowed"].to_numpy()
    share = out["medicare_allowed"].notna().mean() if len(out) else 0.0
    where = "each line's locality" + (f" (lines without one: {locality})" if locality else "")
    return out, f"Medicare benchmark: {year} PFS at {where} ({share:.1%} of lines priced)"


def write_outputs(pm: PayerModels, out_dir: Path) -> dict[str, Path]:
    """Write payer_effects.csv, scorecard.csv and payer_models.json into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "payer_effects": out_dir / "payer_effects.csv",
        "scorecard": out_dir / "scorecard.csv",
        "payer_models": out_dir / "payer_models.json",
    }
    pm.payer_effects().to_csv(paths["payer_effects"], index=False)
    pm.scorecard().to_csv(paths["scorecard"], index=False)
    paths["payer_models"].write_text(pm.to_json() + "\n")
    return paths
