"""Benchmark: ``nsa.assess_claims`` and ``nsa.batch_disputes`` on demo-sized and 1M-line portfolios.

Run: ``.venv/bin/python benchmarks/nsa_assess.py [--lines 1000000]``. Prints lines/s for the
vectorised assessment and batching, and the ratio to a named baseline: the per-claim scalar
path (``nsa.deadlines`` called once per claim in a Python loop, the obvious implementation),
timed on a sample and extrapolated.
"""

from __future__ import annotations

import argparse
import resource
import time
from datetime import date

import pandas as pd

from oonplaybook import demo, nsa


def _portfolio(lines: int, seed: int) -> pd.DataFrame:
    """Demo claim lines tiled to ``lines`` rows (claim ids made unique per copy)."""
    base = demo.generate(min(lines, 50_000), seed=seed).claim_lines
    reps = -(-lines // len(base))
    parts = [base.assign(claim_id=base["claim_id"] + f"-{i}") for i in range(reps)]
    return pd.concat(parts, ignore_index=True).iloc[:lines]


def main() -> None:
    """Time the vectorised assessment against the scalar per-claim baseline."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    cl = _portfolio(args.lines, args.seed)
    as_of = date(2026, 1, 31)
    nsa.assess_claims(cl.iloc[:2000], as_of=as_of)  # warm caches (holiday calendar, profiles)

    t0 = time.perf_counter()
    a = nsa.assess_claims(cl, as_of=as_of)
    t_assess = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3  # KiB -> MB (Linux)

    el = a.loc[a["idr_eligible"], ["claim_id"]]
    disputes = cl.merge(el, on="claim_id")
    t0 = time.perf_counter()
    nsa.batch_disputes(disputes)
    t_batch = time.perf_counter() - t0

    # baseline: scalar nsa.deadlines per claim, on a sample of claims with a remit date
    sample = a.loc[a["remit_date"].notna(), "remit_date"].head(5000).dt.date.tolist()
    t0 = time.perf_counter()
    for d in sample:
        nsa.deadlines(d)
    per_claim = (time.perf_counter() - t0) / max(len(sample), 1)
    t_base = per_claim * len(a)

    print(f"lines {len(cl):,}  claims {len(a):,}  IDR-eligible dispute lines {len(disputes):,}")
    print(f"assess_claims   {t_assess:7.2f} s  {len(cl) / t_assess:12,.0f} lines/s  "
          f"process peak RSS {peak:,.0f} MB")  # fmt: skip
    print(f"batch_disputes  {t_batch:7.2f} s  {len(disputes) / max(t_batch, 1e-9):12,.0f} lines/s")
    print(f"baseline (scalar nsa.deadlines per claim, clocks only): {t_base:7.2f} s "
          f"-> assess_claims is {t_base / t_assess:5.1f}x the baseline's speed "
          "while computing every column")  # fmt: skip


if __name__ == "__main__":
    main()
