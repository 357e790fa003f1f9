"""End-to-end benchmark: `oonplaybook run` (all four stages) on generated demo clients.

Prints, for 100k and 1M lines: demo generation time, time per stage, total, lines/s and peak
memory (the largest process: the runner or a notebook kernel), and the cost ratio 1M/100k
(10.0 would be linear). Baseline: the 100k-line run. Targets: 1M lines under 3 minutes and
4 GB on 2 cores.

    .venv/bin/python benchmarks/pipeline.py [--lines 100000 1000000]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def run_once(lines: int, work: Path) -> dict[str, float]:
    """Generate a demo client of ``lines`` lines and run every stage; return timings."""
    from oonplaybook import demo
    from oonplaybook.run import run_client

    data = work / f"demo_{lines}"
    t0 = time.perf_counter()
    demo.write_demo(demo.generate(lines=lines, seed=7), data)
    gen = time.perf_counter() - t0
    params = yaml.safe_load((REPO / "params" / "demo.yaml").read_text())
    params.update(
        client=f"bench{lines}",
        inputs=[str(data / "claims_export.csv"), str(data / "remits")],
        appeals_file=str(data / "appeals.csv"),
        output_root=str(work / "outputs"),
    )
    pfile = work / f"bench{lines}.yaml"
    pfile.write_text(yaml.safe_dump(params))
    t1 = time.perf_counter()
    result = run_client(pfile, out=work / f"run{lines}", progress=False)
    total = time.perf_counter() - t1
    return {"generate": gen, **result.stages, "total": total}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, nargs="+", default=[100_000, 1_000_000])
    args = ap.parse_args()
    os.environ.setdefault("OONPLAYBOOK_PHI_SALT", "benchmark-salt")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.lines:
            r = run_once(n, Path(tmp))
            results[n] = r
            peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            peak_kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            stages = "  ".join(
                f"{k}={v:.1f}s" for k, v in r.items() if k not in ("total", "generate")
            )
            print(
                f"{n:>9,} lines: generate {r['generate']:.1f}s | {stages} | run total {r['total']:.1f}s "
                f"| {n / r['total']:,.0f} lines/s | peak RSS runner {peak_self:,.0f} MB, "
                f"largest kernel {peak_kids:,.0f} MB"
            )
    if len(results) >= 2:
        small, big = min(results), max(results)
        ratio = results[big]["total"] / results[small]["total"]
        print(
            f"cost ratio {big:,}/{small:,} lines (baseline = the {small:,}-line run): {ratio:.2f}x "
            f"for {big / small:.0f}x the lines"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
