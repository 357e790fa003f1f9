"""Benchmark: peak memory of every stage kernel of one ``oonplaybook run`` (issue 16 item 2).

``benchmarks/pipeline.py`` reports the largest kernel only (``RUSAGE_CHILDREN``); this runs the
pipeline on an existing demo client (``oonplaybook demo-data`` output folder) in a child process
and polls its process tree every 0.2 s (psutil), so each stage's kernel (papermill starts one
per notebook, in stage order) gets its own peak RSS, next to the stage's time from the manifest
and the slowest cells from the executed notebooks (papermill's per-cell durations).

    .venv/bin/python benchmarks/stage_memory.py DEMO_DIR OUT_DIR
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import yaml

REPO = Path(__file__).resolve().parents[1]

_RUN = """
import sys
from oonplaybook.run import run_client
run_client(sys.argv[1], out=sys.argv[2], progress=False)
"""


def slowest_cells(nb: Path, top: int = 3) -> list[tuple[float, str]]:
    """The ``top`` slowest code cells of an executed notebook: (seconds, first source line)."""
    cells = json.loads(nb.read_text())["cells"]
    out = [
        (
            float(c.get("metadata", {}).get("papermill", {}).get("duration") or 0.0),
            "".join(c["source"]).strip().splitlines()[0][:70],
        )
        for c in cells
        if c["cell_type"] == "code" and c["source"]
    ]
    return sorted(out, reverse=True)[:top]


def main() -> int:
    """Run the pipeline on DEMO_DIR, poll memory, print per-stage figures."""
    data, out = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("OONPLAYBOOK_PHI_SALT", "benchmark-salt")
    text = (REPO / "params" / "demo.yaml").read_text().replace("../data/demo", str(data))
    params = yaml.safe_load(text)
    params.update(client="stagemem", output_root=str(out / "outputs"))
    pfile = out / "stagemem.yaml"
    pfile.write_text(yaml.safe_dump(params))
    proc = subprocess.Popen([sys.executable, "-c", _RUN, str(pfile), str(out / "run")])
    root = psutil.Process(proc.pid)
    peaks: dict[int, float] = {}
    order: list[int] = []
    runner_peak = 0.0
    while proc.poll() is None:
        try:
            runner_peak = max(runner_peak, root.memory_info().rss / 2**20)
            for ch in root.children(recursive=True):
                cmd = " ".join(ch.cmdline())
                if "ipykernel" not in cmd:
                    continue
                if ch.pid not in peaks:
                    order.append(ch.pid)
                    peaks[ch.pid] = 0.0
                peaks[ch.pid] = max(peaks[ch.pid], ch.memory_info().rss / 2**20)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
        time.sleep(0.2)
    if proc.returncode:
        print(f"run failed (exit {proc.returncode})")
        return 1
    stages = json.loads((out / "run" / "manifest.json").read_text())["stages"]
    print(f"runner process peak {runner_peak:,.0f} MB (polled)")
    for (name, st), pid in zip(stages.items(), order, strict=False):
        cells = "; ".join(
            f"{s:.1f}s {src}" for s, src in slowest_cells(out / "run" / f"{name}.ipynb")
        )
        print(f"{name:<14} {st['seconds']:7.1f} s  kernel peak {peaks[pid]:7,.0f} MB | {cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
