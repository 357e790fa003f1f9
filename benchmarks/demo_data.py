"""Benchmark: generate and write the demo folder, streamed vs in memory (time and peak memory).

Each measurement runs in its own child process and reports its wall and CPU time, lines/s and
peak resident memory (the child's VmHWM from /proc, or ru_maxrss of its own children if larger),
so one size never inherits another's peak. Two paths:

* ``stream``: ``demo.write_streaming`` (what ``oonplaybook demo-data`` runs): demos larger than
  ``--chunk-lines`` (default ``demo.CHUNK_LINES``) are generated and written chunk by chunk;
* ``memory``: the named baseline, the in-memory path the CLI ran before streaming:
  ``demo.generate`` then ``demo.write_demo`` (generation and writing timed apart). It needs
  about 5 GB per million lines, so it is skipped above ``--memory-max-lines``.

For each size the ratios stream / memory (time, peak memory) are printed, and the generation
rate against the issue's first budget (1,000,000 lines in 60 s, 16,667 lines/s).

    .venv/bin/python benchmarks/demo_data.py [--lines N [N ...]] [--seed S] [--modes stream memory]
        [--chunk-lines C] [--out DIR] [--no-remits] [--memory-max-lines M]

Big demos are written under ``--out`` (default a temporary folder in /tmp, removed after each
run); keep them out of the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASELINE_LINES_PER_S = 1_000_000 / 60.0  # issue "Step 1 of 5": 1M lines in under a minute


def _peak_kb() -> int:
    """This process's peak resident memory (VmHWM), or its children's if larger, in kB."""
    hwm = 0
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    except OSError:
        hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return max(hwm, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)


def _child(mode: str, lines: int, seed: int, out: Path, remits: bool, chunk_lines: int) -> None:
    """One measurement (in a fresh process): print its figures as one JSON line."""
    from oonplaybook import demo

    demo.generate(2000, seed=seed)  # warm imports and the PFS tables
    w, c = time.perf_counter(), time.process_time()
    figures: dict[str, float] = {}
    if mode == "stream":
        demo.write_streaming(out, lines, seed, remits=remits, chunk_lines=chunk_lines)
    else:
        port = demo.generate(lines, seed)
        figures["generate_s"] = time.perf_counter() - w
        demo.write_demo(port, out, remits=remits)
    figures |= {"wall_s": time.perf_counter() - w, "cpu_s": time.process_time() - c}
    figures["peak_kb"] = _peak_kb()
    figures["files_835"] = len(list((out / "remits").glob("*.835"))) if remits else 0
    print(json.dumps(figures))


def _measure(mode: str, lines: int, args: argparse.Namespace, root: Path) -> dict[str, float]:
    out = root / f"{mode}_{lines}"
    cmd = [sys.executable, __file__, "--child", mode, "--lines", str(lines), "--seed",
           str(args.seed), "--out", str(out), "--chunk-lines", str(args.chunk_lines)]  # fmt: skip
    if args.no_remits:
        cmd.append("--no-remits")
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if res.returncode != 0:
            raise RuntimeError(f"{mode} {lines:,} lines failed:\n{res.stderr[-2000:]}")
        got = json.loads(res.stdout.strip().splitlines()[-1])
        got["disk_mb"] = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 2**20
        return got
    finally:
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    """Measure every requested size and path and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, nargs="+", default=[200_000, 1_000_000])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--modes", nargs="+", choices=("stream", "memory"), default=["stream", "memory"]
    )
    ap.add_argument("--chunk-lines", type=int, default=None, help="default demo.CHUNK_LINES")
    ap.add_argument("--memory-max-lines", type=int, default=2_000_000,
                    help="skip the in-memory baseline above this many lines (~5 GB/M lines)")  # fmt: skip
    ap.add_argument("--out", type=Path, default=None, help="write the demos under this folder")
    ap.add_argument("--keep", action="store_true", help="keep the demo folders")
    ap.add_argument("--no-remits", action="store_true", help="skip the 835 writer")
    ap.add_argument("--child", choices=("stream", "memory"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.chunk_lines is None:
        from oonplaybook import demo

        args.chunk_lines = demo.CHUNK_LINES
    if args.child:
        _child(args.child, args.lines[0], args.seed, args.out, not args.no_remits, args.chunk_lines)
        return

    print(f"demo_data benchmark: lines {', '.join(f'{n:,}' for n in args.lines)}, seed {args.seed}, "
          f"chunk {args.chunk_lines:,} lines, remits {'no' if args.no_remits else 'yes'}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    root_ctx = (
        tempfile.TemporaryDirectory(prefix="demo_bench_", dir="/tmp") if not args.out else None
    )
    root = Path(root_ctx.name) if root_ctx else args.out
    root.mkdir(parents=True, exist_ok=True)
    try:
        for lines in args.lines:
            got: dict[str, dict[str, float]] = {}
            for mode in args.modes:
                if mode == "memory" and lines > args.memory_max_lines:
                    print(f"{lines:>11,} memory : skipped (over --memory-max-lines "
                          f"{args.memory_max_lines:,})")  # fmt: skip
                    continue
                f = got[mode] = _measure(mode, lines, args, root)
                rate = lines / f["wall_s"]
                extra = f", generate {f['generate_s']:.1f} s" if "generate_s" in f else ""
                print(f"{lines:>11,} {mode:7s}: {f['wall_s']:7.1f} s wall, {f['cpu_s']:7.1f} s CPU, "
                      f"{rate:9,.0f} lines/s ({rate / BASELINE_LINES_PER_S:.2f}x 1M/min), "
                      f"peak RSS {f['peak_kb'] / 2**20:5.2f} GB, {f['disk_mb']:,.0f} MB on disk, "
                      f"{int(f['files_835'])} 835 files{extra}", flush=True)  # fmt: skip
            if "stream" in got and "memory" in got:
                s, m = got["stream"], got["memory"]
                print(f"{lines:>11,} stream / memory baseline: time x{s['wall_s'] / m['wall_s']:.2f}, "
                      f"peak memory x{s['peak_kb'] / m['peak_kb']:.2f}", flush=True)  # fmt: skip
    finally:
        if root_ctx:
            root_ctx.cleanup()


if __name__ == "__main__":
    main()
