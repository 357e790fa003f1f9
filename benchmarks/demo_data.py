"""Benchmark: generate and write the demo portfolio (default 1,000,000 lines).

Prints lines/s and seconds for ``demo.generate`` and for ``demo.write_demo`` separately (the
835 remittances timed apart from the other files), wall and CPU time, and the ratio to the
baseline the issue sets: 1,000,000 lines in 60 s (16,667 lines/s) for generation.

    .venv/bin/python benchmarks/demo_data.py [--lines N] [--seed S] [--out DIR] [--no-remits]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from oonplaybook import demo

BASELINE_LINES_PER_S = 1_000_000 / 60.0  # issue "Step 1 of 5": 1M lines in under a minute


def _timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Run ``fn`` and return (result, wall seconds, CPU seconds)."""
    w, c = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - w, time.process_time() - c


def main() -> None:
    """Time generation and writing and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None, help="keep the output here")
    ap.add_argument("--no-remits", action="store_true", help="skip the 835 writer")
    args = ap.parse_args()

    print(f"demo_data benchmark: {args.lines:,} lines, seed {args.seed}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    demo.generate(2000, seed=args.seed)  # warm imports and the PFS tables
    port, wall, cpu = _timed(demo.generate, args.lines, args.seed)
    rate = args.lines / wall
    print(f"generate    : {wall:7.2f} s wall, {cpu:7.2f} s CPU, {rate:12,.0f} lines/s "
          f"({rate / BASELINE_LINES_PER_S:.1f}x the 1M-lines-per-minute baseline)")  # fmt: skip

    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp) / "demo"
        _, wall_w, cpu_w = _timed(demo.write_demo, port, out, remits=False)
        print(f"write files : {wall_w:7.2f} s wall, {cpu_w:7.2f} s CPU, "
              f"{args.lines / wall_w:12,.0f} lines/s (CSV export, appeals, truth, parquet)")  # fmt: skip
        total, total_cpu = wall + wall_w, cpu + cpu_w
        if not args.no_remits:
            try:
                import oonplaybook.ingest.x12_writer  # noqa: F401
            except ModuleNotFoundError:
                print("write 835   : skipped (oonplaybook.ingest.x12_writer not installed)")
            else:
                _, wall_r, cpu_r = _timed(demo.write_demo, port, out, remits=True)
                wall_835, cpu_835 = wall_r - wall_w, cpu_r - cpu_w
                n_files = len(list((out / "remits").glob("*.835")))
                print(f"write 835   : {wall_835:7.2f} s wall, {cpu_835:7.2f} s CPU, "
                      f"{args.lines / max(wall_835, 1e-9):12,.0f} lines/s ({n_files} files; "
                      "estimated as write_demo with remits minus without)")  # fmt: skip
                total += wall_835
                total_cpu += cpu_835
        print(f"total       : {total:7.2f} s wall, {total_cpu:7.2f} s CPU for {args.lines:,} lines "
              f"(wall {'within' if total < 60 else 'over'} the 60 s budget; single-threaded, so "
              "on an idle machine wall ~ CPU)")  # fmt: skip


if __name__ == "__main__":
    main()
