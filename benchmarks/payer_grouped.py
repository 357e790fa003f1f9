"""Benchmark: the denial and payment models fitted per line vs on grouped cells (issue 16 item 4).

Simulates ``--lines`` claim lines with the demo DGP (``payers.simulate``), then fits each model
both ways and prints the wall time and the peak memory the fit itself allocates (tracemalloc,
which numpy reports to; the input tables are not counted), the number of cells, and the largest
difference of the estimates and CI widths (log scale) between the two fits.

    .venv/bin/python benchmarks/payer_grouped.py [--lines 1000000] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

os.environ.setdefault("SM_FORMULA_ENGINE", "patsy")

import numpy as np  # noqa: E402


def measured(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """Run ``fn``; return its result, wall seconds and peak traced allocation in MB."""
    tracemalloc.start()
    t = time.perf_counter()
    out = fn()
    wall = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return out, wall, peak


def gap(a: Any, b: Any) -> tuple[float, float]:
    """Largest |difference| of log estimates and largest relative difference of log CI widths."""
    ta, tb = a.table.set_index("term"), b.table.set_index("term").loc[a.table["term"]]
    d_est = np.max(np.abs(np.log(ta["estimate"]) - np.log(tb["estimate"])))
    wa = np.log(ta["ci_high"]) - np.log(ta["ci_low"])
    wb = np.log(tb["ci_high"]) - np.log(tb["ci_low"])
    return float(d_est), float(np.max(np.abs(wb / wa - 1)))


def main() -> int:
    """Run both fits of both models and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from oonplaybook.payers import claim_table
    from oonplaybook.payers.denial import denial_cells, fit_denial, improper_er_denials
    from oonplaybook.payers.payment import fit_payment, paid_lines
    from oonplaybook.payers.simulate import simulate_portfolio

    sim = simulate_portfolio(n_claims=args.lines // 2, seed=args.seed)
    claims = claim_table(sim.claim_lines)
    er = improper_er_denials(claims).flagged
    paid = paid_lines(sim.claim_lines)
    print(f"{len(sim.claim_lines):,} lines, {int(claims['adjudicated'].sum()):,} adjudicated "
          f"claims, {len(paid):,} paid lines; load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    runs = {
        "denial line": lambda: fit_denial(claims, er),
        "denial cells 0.01": lambda: fit_denial(claims, er, grouped=True),
        "denial cells exact": lambda: fit_denial(claims, er, grouped=True, billed_bin=0.0),
        "payment line": lambda: fit_payment(paid),
        "payment cells": lambda: fit_payment(paid, grouped=True),
    }
    res = {}
    for name, fn in runs.items():
        res[name], wall, peak = measured(fn)
        extra = ""
        if name.startswith("denial cells"):
            cells = denial_cells(claims, 0.01 if "0.01" in name else 0.0)
            d_est, d_w = gap(res["denial line"], res[name])
            extra = f" | {len(cells):,} cells | max |dlog est| {d_est:.1e}, CI width {d_w:.1e}"
        elif name == "payment cells":
            d_est, d_w = gap(res["payment line"], res[name])
            extra = f" | max |dlog est| {d_est:.1e}, CI width {d_w:.1e}"
        print(f"{name:<20} {wall:7.2f} s  peak {peak:8,.0f} MB{extra}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
