"""The demo's TiC in-network rate files (schema 2.0.0) and their extracted dataset.

One gzip file per demo payer, in the shape real payers publish (provider references, the same
rate repeated for every NPI under a TIN, every negotiated type, a bundle, a few zero and
negative rates, filler items for codes the practice never bills). The payer's median dollar
rate for each code is set from the demo's own QPAs so that the QPA check has a planted answer:
``qpa_below`` payers' QPAs sit at 0.6x their in-network median (flagged), the others at 0.95x.
The truth (per payer and code, the median written) goes into ``truth["tic"]``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from oonplaybook import tic_generate as tg

QPA_BELOW = ("Frontier Choice Health",)  # the repricer payer: QPA far below its own contracts
RATIO_FLAGGED, RATIO_FAIR = 0.6, 0.95
#: provider-group spread around the median (odd count, symmetric on the log scale: median kept)
SPREAD = (0.8, 0.9, 1.0, 1.1, 1.25)


def _base(claim_lines: pd.DataFrame) -> pd.DataFrame:
    """The lines the medians come from, with ``q`` = QPA (else 1.3x Medicare) per unit."""
    cl = claim_lines[
        (claim_lines["payer"] != "Self Pay") & claim_lines["modifiers"].isin(["", "26"])
    ]
    cl = cl[cl["unit_type"] == "UN"]
    return cl.assign(q=cl["qpa"].fillna(cl["medicare_allowed"] * 1.3) / cl["units"].clip(lower=1))


def plan(claim_lines: pd.DataFrame, seed: int) -> dict[str, Any]:
    """Per payer and billed code the in-network median to write (from the demo's QPAs)."""
    base = _base(claim_lines)
    med = base.groupby(["payer", "cpt"])["q"].median().dropna()
    return _plan_of(med, seed)


def plan_counts(claim_lines: pd.DataFrame) -> pd.Series:
    """Lines per (payer, code, per-unit QPA ``q``): what :func:`plan` needs of one chunk.

    A streamed demo adds these over its chunks (``a.add(b, fill_value=0)``; QPAs repeat per
    payer, code and locality, so the table stays small) and calls :func:`plan_from_counts`.
    """
    base = _base(claim_lines)
    return base.groupby(["payer", "cpt", "q"]).size()


def plan_from_counts(counts: pd.Series, seed: int) -> dict[str, Any]:
    """:func:`plan` from the summed :func:`plan_counts` of every chunk (the exact medians)."""
    med: dict[tuple[str, str], float] = {}
    counts = counts[counts > 0].sort_index()
    for (payer, code), grp in counts.groupby(level=[0, 1], sort=True):
        q = grp.index.get_level_values(2).to_numpy(dtype=float)
        cum = np.cumsum(grp.to_numpy(dtype=np.int64))
        n = int(cum[-1])
        lo = q[int(np.searchsorted(cum, (n - 1) // 2 + 1))]
        hi = q[int(np.searchsorted(cum, n // 2 + 1))]
        med[(payer, code)] = (lo + hi) / 2.0
    return _plan_of(pd.Series(med, dtype=float), seed)


def _plan_of(med: pd.Series, seed: int) -> dict[str, Any]:
    """The TiC truth from the per (payer, code) medians."""
    out: dict[str, Any] = {}
    for (payer, code), q in med.items():
        ratio = RATIO_FLAGGED if payer in QPA_BELOW else RATIO_FAIR
        out.setdefault(payer, {})[code] = round(float(q) / ratio, 2)
    return {
        "medians": out,
        "qpa_below": list(QPA_BELOW),
        "ratio_flagged": RATIO_FLAGGED,
        "ratio_fair": RATIO_FAIR,
        "seed": seed,
    }


def write(
    claim_lines: pd.DataFrame | None,
    out_dir: Path,
    seed: int,
    *,
    planned: dict[str, Any] | None = None,
) -> tuple[list[Path], Path, dict[str, Any]]:
    """Write the demo payers' in-network files and extract them into ``tic_rates/``.

    ``planned``: the :func:`plan` to write (a streamed demo passes :func:`plan_from_counts`
    and no ``claim_lines``); default ``plan(claim_lines, seed)``.
    """
    from oonplaybook import tic_in_network as tin

    if planned is None:
        if claim_lines is None:
            raise ValueError("demo_tic.write: give claim_lines or planned")
        planned = plan(claim_lines, seed)
    truth = planned
    folder = Path(out_dir) / "tic"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.json.gz"):
        old.unlink()
    groups = tg.make_groups(len(SPREAD) + 1, seed=seed, npis_per_tin=6)
    files = []
    for k, (payer, medians) in enumerate(sorted(truth["medians"].items())):
        rates: dict[str, list[tuple[int, str, float]]] = {}
        for code, m in sorted(medians.items()):
            rates[code] = [(g + 1, "negotiated", round(m * f, 2)) for g, f in enumerate(SPREAD)]
        codes = sorted(medians)
        # every negotiated type appears: a percentage-of-billed contract, a derived and a fee
        # schedule price (dollars, same scale), a zero and a negative rate (validator-legal)
        c0 = codes[0]
        rates[c0] = rates[c0] + [(len(SPREAD) + 1, "percentage", 42.5)]
        if len(codes) > 2:
            rates[codes[1]] = rates[codes[1]] + [(len(SPREAD) + 1, "derived", 0.0)]
            rates[codes[2]] = rates[codes[2]] + [(len(SPREAD) + 1, "fee schedule", -1.0)]
        rates["Z" + str(k).zfill(4)] = [(1, "per diem", 1800.0)]
        path = (
            folder
            / f"{re.sub(r'[^a-z0-9]+', '-', payer.lower()).strip('-')}_in-network_2026-11.json.gz"
        )
        tg.write_in_network(
            path, payer=payer, rates=rates, groups=groups, plan_name=f"{payer} PPO",
            last_updated_on="2026-11-01", filler_codes=200, bundles={"Z" + str(k).zfill(4): [c0]}, seed=seed + k,
        )  # fmt: skip
        files.append(path)
    dataset = Path(out_dir) / "tic_rates"
    if dataset.exists():
        for p in sorted(dataset.rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()
    all_codes = sorted({c for m in truth["medians"].values() for c in m})
    tin.extract(files, all_codes, dataset, workers=1)
    truth["files"] = [f"tic/{p.name}" for p in files]
    truth["dataset"] = "tic_rates"
    return files, dataset, truth


def median_written(truth: dict[str, Any], payer: str, code: str) -> float:
    """The planted in-network median of a payer's code (the middle of the spread)."""
    return float(truth["medians"][payer][code]) * float(np.median(SPREAD))
