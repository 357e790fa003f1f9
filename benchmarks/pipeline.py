"""End-to-end benchmark: `oonplaybook run` (all four stages) on generated demo clients (issue 16).

For each size it generates a demo client in a child process (not counted; reused with
``--data-root`` when already there), then runs the pipeline in another child process and polls
that process tree every 0.5 s, reading each process's own high-water mark (``VmHWM`` in
``/proc/PID/status``, so a peak between polls is not missed): the runner, every stage kernel
(papermill starts one per notebook, in stage order) and any Dask worker. It prints time per
stage (from the run manifest), run total, lines/s, and peak memory of every process.

Named baseline: the smallest size given (the cost ratio big/small; 10.0 would be linear for
10x the lines). Goals (issue 16, 2 cores): 10M lines under 20 minutes and every process under
12 GB; the 10M/1M cost ratio at most 11x; 1M no worse than 119 s and 3.4 GB (last round).

    .venv/bin/python benchmarks/pipeline.py --lines 1000000 3000000 10000000 [--keep DIR]
        [--data-root DIR] [--scheduler local:2] [--json results.json]
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
import json, sys, time
from oonplaybook.run import run_client
t = time.perf_counter()
r = run_client(sys.argv[1], out=sys.argv[2], progress=False, scheduler=sys.argv[3] or None)
print(json.dumps({"total": time.perf_counter() - t, "stages": r.stages}))
"""

_GEN = """
import resource, sys
from pathlib import Path
from oonplaybook import demo
demo.write_streaming(Path(sys.argv[2]), lines=int(sys.argv[1]), seed=7)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


GOALS = {
    "10M_seconds": 1200.0,
    "10M_mb": 12 * 1024.0,
    "ratio_10M_1M": 11.0,
    "1M_seconds": 119.0,
    "1M_mb": 3.4 * 1024,
}


def _hwm_mb(pid: int) -> float:
    """A live process's own peak RSS (VmHWM) in MB; 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for row in fh:
                if row.startswith("VmHWM:"):
                    return int(row.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _children(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of every descendant of ``pid``."""
    import psutil

    try:
        out = []
        for ch in psutil.Process(pid).children(recursive=True):
            try:
                out.append((ch.pid, " ".join(ch.cmdline())))
            except psutil.Error:
                continue
        return out
    except psutil.Error:
        return []


def _kind(cmd: str) -> str:
    if "ipykernel" in cmd:
        return "kernel"
    if "_remit_worker" in cmd:
        return "835 reader"  # ingest's child processes (oonplaybook.ingest.remit_pool)
    if "distributed" in cmd or "dask" in cmd or "multiprocessing" in cmd:
        return "dask worker"
    return "other"


def _cell_seconds(run_dir: Path, stages: list[str]) -> dict[str, float]:
    """Seconds per code cell of the executed notebooks (papermill's own timings), keyed
    "stage #n: first source line"."""
    out: dict[str, float] = {}
    for stage in stages:
        nb = run_dir / f"{stage}.ipynb"
        if not nb.exists():
            continue
        cells = [c for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "code"]
        for n, c in enumerate(cells, start=1):
            secs = (c.get("metadata", {}).get("papermill", {}) or {}).get("duration") or 0.0
            src = "".join(c["source"]).strip().splitlines()
            out[f"{stage[:2]} #{n}: {(src[0] if src else '')[:60]}"] = float(secs)
    return out


def _print_cells(results: dict[int, dict], top: int = 12) -> None:
    """The slowest cells at the largest size, with their growth against the smallest size
    (the steps that grow faster than the lines are the ones to fix first)."""
    small, big = min(results), max(results)
    a, b = results[small].get("cells", {}), results[big].get("cells", {})
    if not a or not b or small == big:
        return
    print(f"slowest cells at {big:,} lines (growth vs {small:,}; lines grew {big / small:.0f}x):")
    for k in sorted(b, key=b.get, reverse=True)[:top]:
        ratio = b[k] / a[k] if a.get(k) else float("nan")
        print(f"  {b[k]:8.1f} s  {a.get(k, float('nan')):7.1f} s  {ratio:5.1f}x  {k}")


def generate(lines: int, data: Path) -> tuple[float, float]:
    """Generate the demo client of ``lines`` lines in ``data`` (its own process): seconds, MB."""
    t0 = time.perf_counter()
    gen = subprocess.run(
        [sys.executable, "-c", _GEN, str(lines), str(data)],
        check=True,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - t0, float(gen.stdout.strip().splitlines()[-1])


def run_once(lines: int, work: Path, data: Path, scheduler: str | None) -> dict:
    """Run every stage on the demo client in ``data``; return times and per-process peaks."""
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
    run_dir = work / f"run{lines}"
    if run_dir.exists():
        run_dir = work / f"run{lines}-{int(time.time())}"
    proc = subprocess.Popen(
        [sys.executable, "-c", _RUN, str(pfile), str(run_dir), scheduler or ""],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peaks: dict[int, float] = {proc.pid: 0.0}
    kinds: dict[int, str] = {proc.pid: "runner"}
    order: list[int] = []
    while proc.poll() is None:
        for pid, cmd in _children(proc.pid):
            if pid not in kinds:
                kinds[pid] = _kind(cmd)
                order.append(pid)
        for pid in peaks.keys() | set(kinds):
            peaks[pid] = max(peaks.get(pid, 0.0), _hwm_mb(pid))
        time.sleep(0.5)
    out, err = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"run of {lines:,} lines failed:\n{err[-4000:]}")
    r = json.loads(out.strip().splitlines()[-1])
    r["cells"] = _cell_seconds(run_dir, list(r["stages"]))
    kernels = [pid for pid in order if kinds[pid] == "kernel"]
    r["runner_mb"] = peaks[proc.pid]
    r["kernel_mb"] = {name: peaks[pid] for name, pid in zip(r["stages"], kernels, strict=False)}
    r["worker_mb"] = [peaks[pid] for pid in order if kinds[pid] == "dask worker"]
    r["reader_mb"] = [peaks[pid] for pid in order if kinds[pid] == "835 reader"]
    r["other_mb"] = [peaks[pid] for pid in order if kinds[pid] == "other"]
    r["peak_mb"] = max(
        [r["runner_mb"], *r["kernel_mb"].values(), *r["worker_mb"], *r["reader_mb"], *r["other_mb"]]
    )
    return r


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--keep", type=Path, help="keep the data and run folders here")
    ap.add_argument(
        "--data-root", type=Path, help="demo clients live in DIR/demo_<lines> (made when missing)"
    )
    ap.add_argument("--scheduler", help="run the stages on Dask (local:N or tcp://...)")
    ap.add_argument("--json", type=Path, help="write the figures here as JSON")
    args = ap.parse_args()
    os.environ.setdefault("OONPLAYBOOK_PHI_SALT", "benchmark-salt")
    results: dict[int, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for n in args.lines:
            data = (args.data_root or work) / f"demo_{n}"
            if (data / "truth.json").exists():
                gen_s, gen_mb = float("nan"), float("nan")
            else:
                gen_s, gen_mb = generate(n, data)
            r = run_once(n, work, data, args.scheduler)
            r.update(generate=gen_s, generate_mb=gen_mb)
            results[n] = r
            stages = "  ".join(f"{k}={v:.1f}s" for k, v in r["stages"].items())
            kern = "  ".join(f"{k[:2]}={v:,.0f}" for k, v in r["kernel_mb"].items())
            workers = f" | dask workers {max(r['worker_mb']):,.0f} MB" if r["worker_mb"] else ""
            if r["reader_mb"]:
                workers += f" | 835 readers {max(r['reader_mb']):,.0f} MB"
            print(
                f"{n:>10,} lines: {stages} | run total {r['total']:.1f}s | "
                f"{n / r['total']:,.0f} lines/s | peak RSS MB: runner {r['runner_mb']:,.0f}, "
                f"kernels {kern}{workers} | largest {r['peak_mb']:,.0f} MB | "
                f"(demo generation {gen_s:.1f}s, {gen_mb:,.0f} MB, not counted)",
                flush=True,
            )
    if len(results) >= 2:
        small = min(results)
        for big in sorted(results)[1:]:
            ratio = results[big]["total"] / results[small]["total"]
            print(
                f"cost ratio {big:,}/{small:,} lines (baseline: the {small:,}-line run): "
                f"{ratio:.2f}x for {big / small:.0f}x the lines"
            )
    if len(results) >= 2:
        _print_cells(results)
    checks = []
    if 1_000_000 in results:
        r = results[1_000_000]
        checks.append(("1M total <= 119 s", r["total"] <= GOALS["1M_seconds"]))
        checks.append(("1M every process <= 3.4 GB", r["peak_mb"] <= GOALS["1M_mb"]))
    if 10_000_000 in results:
        r = results[10_000_000]
        checks.append(("10M total < 20 min", r["total"] < GOALS["10M_seconds"]))
        checks.append(("10M every process < 12 GB", r["peak_mb"] < GOALS["10M_mb"]))
        if 1_000_000 in results:
            ratio = r["total"] / results[1_000_000]["total"]
            checks.append((f"10M/1M cost ratio <= 11x ({ratio:.2f}x)", ratio <= 11))
    for name, ok in checks:
        print(f"goal {name}: {'met' if ok else 'NOT met'}")
    if args.json:
        args.json.write_text(json.dumps({str(k): v for k, v in results.items()}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
