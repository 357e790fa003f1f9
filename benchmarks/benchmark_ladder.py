"""Benchmark: the full benchmark ladder (``benchmark.build_benchmarks``) on 1M synthetic lines.

Prints wall time, lines/s and peak memory (process max RSS) for the full ladder (Medicare PFS
pricing, UCR percentiles with fall-back, FAIR Health, QPA and TiC rungs), the PFS pricing step
alone, and the ratio to a named baseline: **a naive row-by-row pricing loop** (``pfs.price``
called once per line, the way a spreadsheet macro or an ``apply`` would do it), timed on a
sample and extrapolated to the same line count. Target: the full ladder on 1M lines in under
20 s on 2 cores.

    .venv/bin/python benchmarks/benchmark_ladder.py [--lines 1000000] [--baseline-sample 300]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import numpy as np
import pandas as pd

#: A realistic OON code menu (E/M, critical care, imaging with 26/TC, pathology, surgery with
#: payment modifiers, anesthesia in minutes, IONM) with relative weights.
MENU: tuple[tuple[str, str, str, float], ...] = (
    ("99285", "", "UN", 12),
    ("99284", "", "UN", 10),
    ("99283", "", "UN", 6),
    ("99291", "", "UN", 4),
    ("99213", "", "UN", 5),
    ("71046", "26", "UN", 6),
    ("70450", "26", "UN", 5),
    ("74177", "26", "UN", 3),
    ("71046", "TC", "UN", 1),
    ("88305", "26", "UN", 6),
    ("88305", "", "UN", 2),
    ("27447", "", "UN", 1),
    ("27447", "80", "UN", 0.5),
    ("20610", "50", "UN", 1),
    ("29881", "51", "UN", 1),
    ("00790", "AA", "MJ", 3),
    ("01402", "QK", "MJ", 2),
    ("00142", "QZ", "MJ", 2),
    ("95940", "", "UN", 1),
    ("G0453", "", "UN", 1),
    ("J1100", "", "UN", 0.5),  # status E: no Medicare price, a reason
)


def synthetic_lines(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` canonical-looking claim lines over every Medicare locality (deterministic)."""
    from oonplaybook.reference import pfs

    rng = np.random.default_rng(seed)
    w = np.array([m[3] for m in MENU])
    pick = rng.choice(len(MENU), size=n, p=w / w.sum())
    loc = pfs.localities(2025)
    li = rng.integers(0, len(loc), n)
    unit_type = np.array([m[2] for m in MENU])[pick]
    units = np.where(unit_type == "MJ", rng.integers(20, 240, n), rng.choice([1, 1, 1, 2], n))
    payers = np.array(["Acme", "Beacon", "Cedar", "Delta", "Evergreen", "Fjord", "Granite"])
    billed = np.round(np.exp(rng.normal(np.log(600), 0.9, n)), 2)
    allowed = np.round(billed * rng.uniform(0.2, 0.7, n), 2)
    return pd.DataFrame(
        {
            "claim_id": pd.array([f"C{i // 2:08d}" for i in range(n)], dtype="str"),
            "line_no": (np.arange(n) % 2 + 1).astype("int64"),
            "payer": pd.array(payers[rng.integers(0, len(payers), n)], dtype="str"),
            "specialty": "emergency_medicine",
            "cpt": pd.array(np.array([m[0] for m in MENU])[pick], dtype="str"),
            "modifiers": pd.array(np.array([m[1] for m in MENU])[pick], dtype="str"),
            "units": units.astype("float64"),
            "unit_type": pd.array(unit_type, dtype="str"),
            "pos": pd.array(rng.choice(["23", "21", "22", "11"], n), dtype="str"),
            "state": pd.array(loc["state"].to_numpy()[li], dtype="str"),
            "locality": pd.array(loc["locality"].to_numpy()[li], dtype="str"),
            "billed": billed,
            "allowed": allowed,
            "paid": np.round(allowed * 0.8, 2),
            "qpa": np.where(rng.random(n) < 0.6, np.round(allowed * 1.1, 2), np.nan),
            "claim_status": "paid",
            "provider_npi": "1234567893",
            "service_date": pd.Timestamp("2025-03-01")
            + pd.to_timedelta(rng.integers(0, 300, n), unit="D"),
        }
    )


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def naive_loop_seconds_per_line(lines: pd.DataFrame, sample: int) -> float:
    """Baseline: a naive row-by-row loop (dict lookups + the CMS formula per line, no broadcast).

    This is the textbook implementation (RVU and GPCI rows in dicts, one line at a time, Python
    floats rounded with round()); it covers only the plain PFS formula, so it is a lower bound
    on what a row loop with every rule would cost.
    """
    from oonplaybook.reference import pfs

    t = pfs.load_tables(2025)
    rvu = {(r.hcpcs, r.mod): r for r in t.rvu.itertuples(index=False)}
    gpci = {r.locality: r for r in t.gpci.itertuples(index=False)}
    cf = float(pfs.conversion_factor(2025))
    rows = lines.iloc[:sample]
    t0 = time.perf_counter()
    total = 0.0
    for r in rows.itertuples(index=False):
        mod = r.modifiers if r.modifiers in ("26", "TC") else ""
        row = rvu.get((r.cpt, mod))
        g = gpci.get(r.locality)
        if row is None or g is None or row.status not in ("A", "R", "T"):
            continue
        pe = row.pe_f_rvu if r.pos in pfs.FACILITY_POS else row.pe_nf_rvu
        fee = round((row.work_rvu * g.gpci_work + pe * g.gpci_pe + row.mp_rvu * g.gpci_mp) * cf, 2)
        total += fee * r.units
    return (time.perf_counter() - t0) / sample


def price_call_seconds_per_line(lines: pd.DataFrame, sample: int) -> float:
    """Second reference: ``pfs.price`` (the full engine for one service) called per line."""
    import warnings

    from oonplaybook.reference import pfs

    rows = lines.iloc[:sample]
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for r in rows.itertuples(index=False):
            mj = r.unit_type == "MJ"
            pfs.price(
                r.cpt,
                modifier=r.modifiers,
                locality=r.locality,
                facility=r.pos in pfs.FACILITY_POS,
                units=1 if mj else r.units,
                minutes=r.units if mj else None,
            )
    return (time.perf_counter() - t0) / sample


def main(argv: list[str]) -> int:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--baseline-sample", type=int, default=200_000)
    ap.add_argument("--price-sample", type=int, default=200)
    a = ap.parse_args(argv)

    from oonplaybook import benchmark
    from oonplaybook.reference import pfs

    pfs.load_tables(2025)  # packaged tables read once, as in a run
    t0 = time.perf_counter()
    lines = synthetic_lines(a.lines)
    gen_s = time.perf_counter() - t0
    rss0 = _rss_mb()

    t0 = time.perf_counter()
    priced = pfs.medicare_allowed(lines, year=2025)
    pfs_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    bench = benchmark.build_benchmarks(lines, year=2025, default_locality="13202-01")
    ladder_s = time.perf_counter() - t0
    peak = _rss_mb()

    per_line = naive_loop_seconds_per_line(lines, min(a.baseline_sample, a.lines))
    naive_s = per_line * a.lines
    per_call = price_call_seconds_per_line(lines, min(a.price_sample, a.lines))
    n_priced = int(priced["medicare_allowed"].notna().sum())
    print(
        f"benchmark ladder on {a.lines:,} synthetic lines ({len(MENU)} code/modifier kinds, 109 localities)"
    )
    print(f"  synthetic data            {gen_s:8.2f} s")
    print(
        f"  PFS pricing only          {pfs_s:8.2f} s  {a.lines / pfs_s:12,.0f} lines/s  ({n_priced:,} priced)"
    )
    print(
        f"  full ladder               {ladder_s:8.2f} s  {a.lines / ladder_s:12,.0f} lines/s  ({bench.shape[1]} columns)"
    )
    print(f"  peak memory (max RSS)     {peak:8.0f} MB  (after data: {rss0:.0f} MB)")
    print(
        f"  baseline: naive row-by-row loop (dict lookups + formula), "
        f"{min(a.baseline_sample, a.lines):,} lines timed: {per_line * 1e6:.2f} us/line -> "
        f"{naive_s:,.1f} s extrapolated for {a.lines:,} lines"
    )
    print(f"  ratio naive loop / vectorised PFS pricing: {naive_s / pfs_s:,.1f}x")
    print(f"  ratio naive loop (formula only) / full ladder: {naive_s / ladder_s:,.2f}x")
    print(
        f"  reference: pfs.price() per line ({min(a.price_sample, a.lines)} calls): "
        f"{per_call * 1e3:.2f} ms/line -> {per_call * a.lines:,.0f} s for {a.lines:,} lines"
    )
    target = 20.0
    print(f"  target: full ladder < {target:.0f} s -> {'met' if ladder_s < target else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
