"""End-to-end benchmark: `oonplaybook run` (all four stages) on generated demo clients.

For each size (default 100k and 1M lines) it generates a demo client in a child process, then
runs the pipeline in another child process, and prints: generation time, time per stage (from
the run manifest), run total, lines/s, and peak memory of the runner and of the largest stage
kernel (each measured in its own process tree, so generation memory is not counted). The cost
ratio 1M/100k (10.0 would be linear in lines) uses the smallest size as the named baseline.
Targets: 1M lines under 3 minutes and under 4 GB on 2 cores.

    .venv/bin/python benchmarks/pipeline.py [--lines 100000 1000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]

_RUN = """
import json, resource, sys, time
from oonplaybook.run import run_client
t = time.perf_counter()
r = run_client(sys.argv[1], out=sys.argv[2], progress=False)
print(json.dumps({"total": time.perf_counter() - t, "stages": r.stages,
    "runner_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "kernel_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""

_GEN = """
import resource, sys
from pathlib import Path
from oonplaybook import demo
demo.write_demo(demo.generate(lines=int(sys.argv[1]), seed=7), Path(sys.argv[2]))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def run_once(lines: int, work: Path) -> dict:
    """Generate a demo client of ``lines`` lines, then run every stage; return the figures."""
    data = work / f"demo_{lines}"
    t0 = time.perf_counter()
    gen = subprocess.run(
        [sys.executable, "-c", _GEN, str(lines), str(data)],
        check=True,
        capture_output=True,
        text=True,
    )
    gen_s = time.perf_counter() - t0
    text = (REPO / "params" / "demo.yaml").read_text()
    # every demo path (inputs, appeals, NCCI tables, TiC rates) points at the generated client
    params = yaml.safe_load(text.replace("../data/demo", str(data)))
    params.update(
        client=f"bench{lines}",
        inputs=[str(data / "claims_export.csv"), str(data / "remits")],
        appeals_file=str(data / "appeals.csv"),
        output_root=str(work / "outputs"),
    )
    pfile = work / f"bench{lines}.yaml"
    pfile.write_text(yaml.safe_dump(params))
    out = subprocess.run(
        [sys.executable, "-c", _RUN, str(pfile), str(work / f"run{lines}")],
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise SystemExit(f"run of {lines:,} lines failed:\n{out.stderr[-4000:]}")
    r = json.loads(out.stdout.strip().splitlines()[-1])
    r["generate"] = gen_s
    r["generate_mb"] = float(gen.stdout.strip().splitlines()[-1])
    return r


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--keep", type=Path, help="keep the data and run folders here")
    args = ap.parse_args()
    os.environ.setdefault("OONPLAYBOOK_PHI_SALT", "benchmark-salt")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for n in args.lines:
            r = run_once(n, work)
            results[n] = r
            stages = "  ".join(f"{k}={v:.1f}s" for k, v in r["stages"].items())
            print(
                f"{n:>9,} lines: {stages} | run total {r['total']:.1f}s | "
                f"{n / r['total']:,.0f} lines/s | peak RSS runner {r['runner_mb']:,.0f} MB, "
                f"largest stage kernel {r['kernel_mb']:,.0f} MB | "
                f"(demo generation {r['generate']:.1f}s, {r['generate_mb']:,.0f} MB, not counted)",
                flush=True,
            )
    if len(results) >= 2:
        small, big = min(results), max(results)
        ratio = results[big]["total"] / results[small]["total"]
        print(
            f"cost ratio {big:,}/{small:,} lines (baseline: the {small:,}-line run): "
            f"{ratio:.2f}x for {big / small:.0f}x the lines"
        )
        print(
            f"targets at {big:,} lines: total < 180 s: {'met' if results[big]['total'] < 180 else 'NOT met'}; "
            f"every process < 4096 MB: {'met' if max(results[big]['runner_mb'], results[big]['kernel_mb']) < 4096 else 'NOT met'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
