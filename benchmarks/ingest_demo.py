"""Benchmark: ``ingest_paths`` on a demo client folder (export CSV + 835 folder), the
pipeline's hot path (stage 10 of ``oonplaybook run``).

Generates ``oonplaybook demo-data`` with ``--lines`` lines (default 1,000,000; seed 7, as
benchmarks/pipeline.py), then times ``ingest_paths([claims_export.csv, remits/])`` in a child
process (so peak RSS is its own), ``--repeat`` times, and prints the median seconds, lines/s,
MB/s of input and peak memory. Baseline: the pipeline budget (4 stages of 1M lines in 3 minutes
on 2 cores), so ingest should stay well under 60 s, and its peak well under the kernel's 4 GB
(target <= 2.5 GB at 1M lines).

Measured at 1M lines (seed 7, 582 remits + export, 470 MB) on the 2-core machine: before the
memory work (commit 37d7228) median 57.5 s, 4.4 GB peak (4,412 MB re-measured); after it
median 50.2 s of 3 runs (52.8/50.2/48.1 s, ~20k lines/s), peak 2,642 MB, then 2,590 MB with the
consuming 835 build, 2,542 MB with the tables built without a second copy (copy=False).
Final 3 runs (HEAD f2931fe): median 52.6 s (52.5/57.9/52.6; ~19k lines/s), peak 2,542-2,573 MB.
Still 40-70 MB over the 2.5 GB target: the peak is now the 835 build
(walk buffers + the export table + the adjustment table being assembled).
With the columnar 835 route (ingest/x12_columnar.py; 573 of the 582 remits take it): median
44.4 s of 3 runs (58.3/44.1/44.4; ~22.5k lines/s), peak **2,285 MB**, under the target; the
scalar route alone measured 54.2 s and 2,496 MB in the same session.

Peak memory is the child's VmHWM (its own peak RSS since exec): ``ru_maxrss`` would carry over
the parent's high-water mark across fork+exec on Linux, so a run that first generated the demo
in the parent reported the generator's 5.5 GB.

    .venv/bin/python benchmarks/ingest_demo.py [--lines 1000000] [--repeat 3] [--keep DIR]
        [--workers 1 auto]

``--workers`` compares 835 reader processes (:mod:`oonplaybook.ingest.remit_pool`; the first
value is the baseline). December 2026, 1M streaming demo (2,330 remit files), 2 cores, one
run each: workers=1 89-98 s, workers=2 70-76 s (0.72-0.85x): the export is read meanwhile.
Scripted run (``--keep DEMO --repeat 1``, quiet machine): workers=1 99.7 s (10.0k lines/s,
2,463 MB), workers=auto (2) 70.0 s (14.3k lines/s, 2,416 MB in the kernel): 0.70x.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from _child import PEAK_MB

CHILD = PEAK_MB + textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from oonplaybook.ingest import ingest_paths
    d = Path(sys.argv[1])
    t = time.perf_counter()
    w = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] != "auto" else None
    r = ingest_paths([d / "claims_export.csv", d / "remits"], salt="bench", base=d, workers=w)
    dt = time.perf_counter() - t
    print(json.dumps({"seconds": dt, "lines": len(r.claim_lines), "adjustments": len(r.adjustments),
                      "rejected": len(r.rejects),
                      "peak_mb": peak_mb()}))
    """
)


def main() -> int:
    """Generate (or reuse) a demo folder, time ingest_paths, print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", type=Path, default=None, help="demo folder to (re)use and keep")
    ap.add_argument(
        "--workers",
        nargs="+",
        default=["1", "auto"],
        help="835 reader processes to compare (ingest_paths(workers=)); the first is the baseline",
    )
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = a.keep or Path(tmp) / "demo"
        if not (d / "claims_export.csv").exists():
            from oonplaybook import demo

            t0 = time.perf_counter()
            demo.write_demo(demo.generate(lines=a.lines, seed=a.seed), d)
            print(f"generated {a.lines:,} demo lines in {time.perf_counter() - t0:.1f} s")
        files = [d / "claims_export.csv", *sorted((d / "remits").glob("*"))]
        mb = sum(f.stat().st_size for f in files) / 1e6
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        medians: dict[str, float] = {}
        for w in a.workers:
            runs = []
            for _ in range(a.repeat):
                res = subprocess.run(
                    [sys.executable, "-c", CHILD, str(d), w],
                    capture_output=True,
                    text=True,
                    env=env,
                )
                if res.returncode != 0:
                    print(res.stderr[-2000:], file=sys.stderr)
                    return 1
                runs.append(json.loads(res.stdout.strip().splitlines()[-1]))
            secs = [r["seconds"] for r in runs]
            med = medians[w] = statistics.median(secs)
            r = runs[0]
            print(
                f"ingest_paths on {d.name} (workers={w}): {len(files) - 1:,} remit files + "
                f"export, {mb:.0f} MB; {r['lines']:,} lines, {r['adjustments']:,} adjustments, "
                f"{r['rejected']:,} rejects"
            )
            print(
                f"  median {med:.1f} s of {len(secs)} runs ({', '.join(f'{s:.1f}' for s in secs)})"
                f" | {r['lines'] / med:,.0f} lines/s | {mb / med:.1f} MB/s | "
                f"peak RSS (this process; the 835 children are not counted) "
                f"{max(x['peak_mb'] for x in runs):,.0f} MB"
            )
        base = a.workers[0]
        for w in a.workers[1:]:
            print(
                f"ratio workers={w} / workers={base} (baseline): "
                f"{medians[w] / medians[base]:.2f}x the time"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
