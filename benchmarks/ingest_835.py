"""Benchmark: oonplaybook's 835 reader vs edi-835-parser on the same large 835 file.

Generates a seeded 5010 835 with ``--claims`` claims (default 100,000; two or three service
lines each, CAS segments with up to three triplets, claim-level CAS on one claim in five), then
times, each in its own process so peak memory (``resource.getrusage``) is its own:

* **oonplaybook**: ``read_835`` (tokenize, walk, build the canonical pandas tables), and the full
  ``ingest_paths`` (the same plus merge and report);
* optionally (``--oxedi``) **oxedi** 0.6 (Rust core), in its own venv, for reference;
* **edi-835-parser** (the baseline named in X12.md): ``parse(path).to_dataframe()``. It pins
  ``pandas<3``, so it is installed on demand into a separate venv (``--baseline-venv``, default
  /tmp/edi835-venv) with ``pip install edi-835-parser`` and run there by subprocess.

Each reader runs ``--repeat`` times (default 3, alternating readers so machine load hits both
alike); the table shows the median seconds, MB/s and the largest peak RSS. Prints the
throughput ratio (target >= 5x), and the CAS dollars each reports against the generator's
ground truth (edi-835-parser reads one triplet per CAS segment and no claim-level CAS, so it
loses adjustment dollars). The 1M-line pipeline hot path is timed by benchmarks/ingest_demo.py.

    .venv/bin/python benchmarks/ingest_835.py [--claims 100000] [--seed 0] [--keep FILE]
        [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
import venv
from pathlib import Path

import numpy as np
from _child import PEAK_MB

CODES = np.array(["99283", "99284", "99285", "93010", "36415", "71046", "00100", "70450"])


def generate(path: Path, claims: int, seed: int) -> dict[str, float]:
    """Write the benchmark 835 and return its ground truth (counts and cents totals)."""
    rng = np.random.default_rng(seed)
    n_lines = rng.integers(2, 4, size=claims)
    truth = {"claims": claims, "lines": int(n_lines.sum()), "cas_pairs": 0, "cas_cents": 0}
    out = [
        "ISA*00*          *00*          *ZZ*BENCHPAYER     *ZZ*BENCHPROV      *250110*1200*^"
        "*00501*000000001*0*P*:~GS*HP*BENCHPAYER*BENCHPROV*20250110*1200*1*X*005010X221A1~"
        "ST*835*0001~"
    ]
    body: list[str] = []
    total_paid = 0
    for i in range(claims):
        lines = []
        c_billed = c_paid = c_pr = 0
        line_cas_cents = 0
        for j in range(int(n_lines[i])):
            billed = int(rng.integers(5_000, 300_000))
            co = int(billed * rng.uniform(0.2, 0.6))
            oa = int(rng.integers(0, 500))
            pr1 = int(rng.integers(0, 5_000))
            pr2 = int(rng.integers(0, 3_000))
            pr3 = int(rng.integers(0, 2_000))
            paid = billed - co - oa - pr1 - pr2 - pr3
            c_billed += billed
            c_paid += paid
            c_pr += pr1 + pr2 + pr3
            line_cas_cents += co + oa + pr1 + pr2 + pr3
            truth["cas_pairs"] += 5
            code = CODES[(i + j) % len(CODES)]
            lines.append(
                f"SVC*HC:{code}*{billed / 100:.2f}*{paid / 100:.2f}**1~DTM*472*20250101~"
                f"CAS*CO*45*{co / 100:.2f}**253*{oa / 100:.2f}~"
                f"CAS*PR*1*{pr1 / 100:.2f}**2*{pr2 / 100:.2f}**3*{pr3 / 100:.2f}~"
                f"REF*6R*{j + 1}~AMT*B6*{(billed - co - oa) / 100:.2f}~LQ*HE*N130~"
            )
        claim_cas = ""
        if i % 5 == 0:
            a2 = int(rng.integers(100, 2_000))
            claim_cas = f"CAS*CO*A2*{a2 / 100:.2f}~"
            c_paid -= a2
            line_cas_cents += a2
            truth["cas_pairs"] += 1
        truth["cas_cents"] += line_cas_cents
        total_paid += c_paid
        body.append(
            f"CLP*BENCH{i:07d}*1*{c_billed / 100:.2f}*{c_paid / 100:.2f}*{c_pr / 100:.2f}*12"
            f"*ICN{i:09d}*11*1~{claim_cas}NM1*QC*1*DOE*JANE****MI*M{i:08d}~"
            f"NM1*82*1*DOC*A****XX*1234567893~DTM*050*20250105~" + "".join(lines)
        )
    head = (
        f"BPR*I*{total_paid / 100:.2f}*C*ACH*CCP*01*999999999*DA*1*1512345678**01*999999999*DA*2"
        "*20250110~TRN*1*BENCH1*1512345678~DTM*405*20250109~N1*PR*BENCH HEALTH PLAN~"
        "N3*PO BOX 1~N4*HARTFORD*CT*06101~PER*BL*PROVIDER SERVICES*TE*8005551212~"
        "N1*PE*GOOD DOCTORS PC*XX*1234567893~REF*TJ*123456789~LX*1~"
    )
    text = out[0] + head + "".join(body)
    nseg = text.count("~") - 2 + 1  # ST..SE
    text += f"SE*{nseg}*0001~GE*1*1~IEA*1*000000001~"
    path.write_text(text)
    return truth


OURS = PEAK_MB + textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from oonplaybook.ingest import ingest_paths, read_835
    p = Path(sys.argv[1]); mode = sys.argv[2]
    t = time.perf_counter()
    if mode == "read_835":
        r = read_835(p.read_bytes(), p.name, salt="bench")
        cl, adj = r.claim_lines, r.adjustments
    else:
        r = ingest_paths([p], salt="bench")
        cl, adj = r.claim_lines, r.adjustments
    dt = time.perf_counter() - t
    print(json.dumps({"seconds": dt, "rows": len(cl), "cas_pairs": len(adj),
                      "cas_cents": int(round(adj["amount"].sum() * 100)),
                      "peak_mb": peak_mb()}))
    """
)

BASELINE = PEAK_MB + textwrap.dedent(
    """
    import json, sys, time, warnings
    warnings.simplefilter("ignore")
    from edi_835_parser import parse
    t = time.perf_counter()
    df = parse(sys.argv[1]).to_dataframe()
    dt = time.perf_counter() - t
    amt = [c for c in df.columns if c.startswith("adj_") and c.endswith("_amount")]
    cents = int(round(sum(float(df[c].fillna(0).astype(float).sum()) for c in amt) * 100))
    pairs = int(sum(df[c].notna().sum() for c in amt))
    print(json.dumps({"seconds": dt, "rows": len(df), "cas_pairs": pairs, "cas_cents": cents,
                      "peak_mb": peak_mb()}))
    """
)


OXEDI = PEAK_MB + textwrap.dedent(
    """
    import json, sys, time
    import oxedi
    t = time.perf_counter()
    res = oxedi.parse_file(sys.argv[1])
    tabs = res.tables.to_pandas()
    dt = time.perf_counter() - t
    adj = tabs["adjustments"]
    print(json.dumps({"seconds": dt, "rows": len(tabs["services"]), "cas_pairs": len(adj),
                      "cas_cents": int(round(adj["amount"].astype(float).sum() * 100)),
                      "peak_mb": peak_mb()}))
    """
)


def ensure_venv(venv_dir: Path, module: str, packages: list[str]) -> Path | None:
    """A separate venv's python with ``packages`` installed (created on demand), or None."""
    py = venv_dir / "bin" / "python"
    try:
        if not py.exists():
            venv.EnvBuilder(with_pip=True).create(venv_dir)
        ok = subprocess.run([str(py), "-c", f"import {module}"], capture_output=True)
        if ok.returncode != 0:
            subprocess.run(
                [str(py), "-m", "pip", "install", "-q", *packages],
                check=True,
                capture_output=True,
            )
        return py
    except (subprocess.CalledProcessError, OSError) as e:
        print(f"{packages} could not be installed into {venv_dir}: {e}", file=sys.stderr)
        return None


def run(python: str, code: str, *args: str) -> dict[str, float]:
    """Run a timing child and parse its JSON line."""
    res = subprocess.run([python, "-c", code, *args], capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(res.stderr[-2000:])
    return json.loads(res.stdout.strip().splitlines()[-1])


def median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    """The median-seconds view of repeated runs (largest peak memory, counts of the first)."""
    out = dict(runs[0])
    out["seconds"] = statistics.median(r["seconds"] for r in runs)
    out["peak_mb"] = max(r["peak_mb"] for r in runs)
    out["all_seconds"] = [round(r["seconds"], 2) for r in runs]
    return out


def main() -> None:
    """Generate, time both readers, print the comparison."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--claims", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", type=Path, default=None, help="write the 835 here and keep it")
    ap.add_argument("--baseline-venv", type=Path, default=Path("/tmp/edi835-venv"))
    ap.add_argument("--no-baseline", action="store_true", help="time oonplaybook only")
    ap.add_argument("--oxedi", action="store_true", help="also time oxedi (Rust) for reference")
    ap.add_argument("--oxedi-venv", type=Path, default=Path("/tmp/oxedi-venv"))
    ap.add_argument("--repeat", type=int, default=3, help="runs per reader (median reported)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = a.keep or Path(tmp) / "bench.835"
        truth = generate(path, a.claims, a.seed)
        mb = path.stat().st_size / 1e6
        print(
            f"file: {path.name}  {mb:.1f} MB  {truth['claims']:,} claims  {truth['lines']:,} "
            f"lines  {truth['cas_pairs']:,} CAS pairs  ${truth['cas_cents'] / 100:,.2f} CAS"
        )
        rows = []
        base_py = None
        if not a.no_baseline:
            base_py = ensure_venv(a.baseline_venv, "edi_835_parser", ["edi-835-parser"])
        r_ours: list[dict[str, float]] = []
        r_full: list[dict[str, float]] = []
        r_base: list[dict[str, float]] = []
        for _ in range(max(1, a.repeat)):  # interleaved: load changes hit every reader alike
            r_ours.append(run(sys.executable, OURS, str(path), "read_835"))
            r_full.append(run(sys.executable, OURS, str(path), "ingest_paths"))
            if base_py is not None:
                r_base.append(run(str(base_py), BASELINE, str(path)))
        ours, full = median_run(r_ours), median_run(r_full)
        rows.append(("oonplaybook read_835 (tables)", ours))
        rows.append(("oonplaybook ingest_paths (+merge, report)", full))
        base = median_run(r_base) if r_base else None
        if base is not None:
            rows.append(("edi-835-parser 1.8 to_dataframe", base))
        if a.oxedi:
            py = ensure_venv(a.oxedi_venv, "oxedi", ["oxedi", "pyarrow", "pandas"])
            if py is not None:
                rows.append(
                    ("oxedi 0.6 (Rust) to_pandas, for reference", run(str(py), OXEDI, str(path)))
                )
        print(
            f"{'reader':44s} {'s':>7s} {'MB/s':>7s} {'peak MB':>8s} {'rows':>9s} "
            f"{'CAS pairs':>10s} {'CAS $ lost':>14s}"
        )
        for name, r in rows:
            lost = (truth["cas_cents"] - r["cas_cents"]) / 100
            print(
                f"{name:44s} {r['seconds']:7.2f} {mb / r['seconds']:7.1f} {r['peak_mb']:8.0f} "
                f"{r['rows']:9,d} {r['cas_pairs']:10,d} {lost:14,.2f}  runs {r.get('all_seconds')}"
            )
        if base is not None:
            ratio = base["seconds"] / ours["seconds"]
            per_run = [
                round(b["seconds"] / o["seconds"], 1) for b, o in zip(r_base, r_ours, strict=True)
            ]
            lost = (truth["cas_cents"] - base["cas_cents"]) / 100
            share = lost / (truth["cas_cents"] / 100)
            print(
                f"\nthroughput ratio oonplaybook/edi-835-parser: {ratio:.1f}x of the medians "
                f"(per run {per_run}; ingest_paths {base['seconds'] / full['seconds']:.1f}x; "
                "target >= 5x); "
                f"edi-835-parser loses ${lost:,.2f} of ${truth['cas_cents'] / 100:,.2f} CAS dollars "
                f"({share:.1%}) and {truth['cas_pairs'] - base['cas_pairs']:,} of "
                f"{truth['cas_pairs']:,} CAS pairs; oonplaybook loses "
                f"${(truth['cas_cents'] - ours['cas_cents']) / 100:,.2f}."
            )


if __name__ == "__main__":
    main()
