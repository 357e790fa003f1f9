"""Adapters to the other areas' APIs (nsa, idr, specialties, benchmarks), in one place.

The playbook codes against the documented interfaces; where an input arrives in a slightly
different shape (line- vs claim-level NSA assessment, benchmarks without payer/cpt) the
adapters here normalise it, and they say so in their errors instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from oonplaybook.reference.code_families import code_families

KEY = ["claim_id", "line_no"]


def line_frame(claim_lines: pd.DataFrame, benchmarks: pd.DataFrame | None) -> pd.DataFrame:
    """Claim lines with their benchmark columns joined on (claim_id, line_no), plus code_family."""
    lines = claim_lines.copy()
    if benchmarks is not None and len(benchmarks.columns):
        missing = [k for k in KEY if k not in benchmarks.columns]
        if missing:
            raise KeyError(
                f"benchmarks table lacks key columns {missing}; it must be keyed (claim_id, line_no) "
                "as written by oonplaybook.benchmark.build_benchmarks (artifacts/benchmarks.parquet)"
            )
        extra = [c for c in benchmarks.columns if c not in lines.columns or c in KEY]
        b = benchmarks[extra].drop_duplicates(KEY)
        lines = lines.merge(b, on=KEY, how="left", validate="one_to_one")
    if "code_family" not in lines.columns:
        lines["code_family"] = code_families(lines["cpt"])
    for col in ("medicare_allowed", "qpa", "ucr_p50", "ucr_p75", "ucr_p80", "ucr_p90"):
        if col not in lines.columns:
            lines[col] = float("nan")
    return lines


def join_assessment(lines: pd.DataFrame, nsa_assessment: pd.DataFrame | None) -> pd.DataFrame:
    """Attach the NSA assessment (claim- or line-level) to lines; absent -> not NSA-protected."""
    if nsa_assessment is None or nsa_assessment.empty:
        out = lines.copy()
        out["nsa_applies"] = False
        out["idr_eligible"] = False
        return out
    a = nsa_assessment.copy()
    keys = [k for k in KEY if k in a.columns]
    if "claim_id" not in keys:
        raise KeyError("NSA assessment has no claim_id column; pass nsa.assess_claims(...) output")
    if "nsa_applies" not in a.columns:
        for alt in ("nsa_protected", "protected", "nsa"):
            if alt in a.columns:
                a = a.rename(columns={alt: "nsa_applies"})
                break
    cols = keys + [c for c in a.columns if c not in lines.columns and c not in keys]
    out = lines.merge(a[cols].drop_duplicates(keys), on=keys, how="left")
    for flag in ("nsa_applies", "idr_eligible", "balance_bill_allowed", "deadline_passed"):
        if flag in out.columns:
            out[flag] = out[flag].fillna(False).astype("bool")
    if "nsa_applies" not in out.columns:
        out["nsa_applies"] = False
    if "idr_eligible" not in out.columns:
        out["idr_eligible"] = False
    return out


@dataclass(frozen=True)
class IdrPrior:
    """Win probability and award level (multiple of QPA) for IDR disputes of one specialty."""

    p_win: float
    award_x_qpa: float
    source: str


#: Fallback priors when ``oonplaybook.idr`` is not importable. Provider win rate 88% in H1 2025
#: (Georgetown via racmonitor, DOMAIN §2.2); award levels: emergency median 2.57x QPA in H1 2024
#: (radiologybusiness.com citing Georgetown/Health Affairs, DOMAIN §2.3); all-specialty median
#: 3.72x QPA (Elevance 2023 data, INQUIRY 2025, DOMAIN §2.3); imaging median >300% QPA in H1 2023
#: (ACR, DOMAIN §2.3). Other specialties use the all-specialty median.
_FALLBACK_PRIORS: dict[str, IdrPrior] = {
    "emergency_medicine": IdrPrior(
        0.88, 2.57, "DOMAIN §2.2-2.3: win 88% H1 2025; ED median 2.57x QPA H1 2024"
    ),
    "radiology": IdrPrior(
        0.88, 3.0, "DOMAIN §2.2-2.3: win 88% H1 2025; imaging median >3x QPA H1 2023"
    ),
    "generic": IdrPrior(
        0.88, 3.72, "DOMAIN §2.2-2.3: win 88% H1 2025; median award 3.72x QPA (Elevance 2023)"
    ),
}


def idr_prior(specialty: str, year: int | None = None, priors: Any = None) -> IdrPrior:
    """Win probability and award multiple of QPA for a specialty, from ``oonplaybook.idr`` priors."""
    if priors is None:
        try:
            from oonplaybook import idr

            priors = idr.IdrPriors.default()
        except (ImportError, AttributeError):
            priors = None
    if isinstance(priors, dict):
        return _as_prior(priors.get(specialty, priors.get("generic")))
    if priors is not None:
        for name in ("lookup", "get", "for_specialty", "prior"):
            fn = getattr(priors, name, None)
            if callable(fn):
                try:
                    got = fn(specialty, year) if year is not None else fn(specialty)
                except TypeError:
                    got = fn(specialty)
                return _as_prior(got)
    return _FALLBACK_PRIORS.get(specialty, _FALLBACK_PRIORS["generic"])


def _as_prior(got: Any) -> IdrPrior:
    if isinstance(got, IdrPrior):
        return got
    if isinstance(got, dict):
        g = got
    else:
        g = {k: getattr(got, k) for k in dir(got) if not k.startswith("_")}
    p = g.get("p_win", g.get("win_probability", g.get("provider_win_rate")))
    a = g.get("award_x_qpa", g.get("award_multiple_of_qpa", g.get("award_pct_qpa")))
    if a is not None and float(a) > 20:  # given in percent of QPA
        a = float(a) / 100.0
    if p is None or a is None:
        raise TypeError(f"IDR prior {got!r} has no win probability / award multiple of QPA")
    return IdrPrior(float(p), float(a), str(g.get("source", "oonplaybook.idr priors")))
