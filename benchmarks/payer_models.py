"""Benchmark: every payer model on 1,000,000 claim lines (target: under 60 s on 2 cores).

Simulates a portfolio with the agreed demo DGP (``oonplaybook.payers.simulate``), runs
``fit_all`` and prints the time per model, the total, lines per second, the peak resident memory
and the ratio to the 60-second budget (the named baseline of the issue).

    .venv/bin/python benchmarks/payer_models.py [--lines 1000000] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time

os.environ.setdefault("SM_FORMULA_ENGINE", "patsy")

BUDGET_S = 60.0


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    """Run the benchmark and print its figures; exit 1 when over budget."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from oonplaybook.payers import fit_all
    from oonplaybook.payers.simulate import simulate_portfolio

    t0 = time.perf_counter()
    # simulate_portfolio draws 1-3 lines per claim (mean 2)
    sim = simulate_portfolio(n_claims=args.lines // 2, seed=args.seed)
    t_sim = time.perf_counter() - t0
    n = len(sim.claim_lines)
    rss_before = peak_rss_mb()
    print(
        f"simulated {n:,} lines / {sim.truth['claims']:,} claims in {t_sim:.1f} s (peak RSS {rss_before:,.0f} MB)"
    )

    t0 = time.perf_counter()
    pm = fit_all(sim.claim_lines, sim.appeals, cutoff_date=sim.truth["cutoff_date"], seed=args.seed)
    total = time.perf_counter() - t0
    t1 = time.perf_counter()
    eff = pm.payer_effects()
    sc = pm.scorecard()
    js = pm.to_json()
    t_out = time.perf_counter() - t1

    print(f"{'step':<14}{'seconds':>10}")
    for k, v in pm.timings.items():
        print(f"{k:<14}{v:>10.2f}")
    print(f"{'outputs':<14}{t_out:>10.2f}   (payer_effects, scorecard, JSON)")
    print(f"{'TOTAL':<14}{total + t_out:>10.2f}")
    print(f"throughput: {n / (total + t_out):,.0f} lines/s")
    print(f"peak RSS: {peak_rss_mb():,.0f} MB (after simulation: {rss_before:,.0f} MB)")
    print(f"ratio to the {BUDGET_S:.0f} s budget: {(total + t_out) / BUDGET_S:.2f}")
    print(f"models fit: {sorted(pm.results())}; not fit: {pm.errors or 'none'}")
    print(f"payer effects rows: {len(eff)}, scorecard rows: {len(sc)}, JSON {len(js):,} chars")
    return 0 if total + t_out < BUDGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
