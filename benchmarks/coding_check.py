"""Benchmark: NCCI reading and ``coding.check_claims`` at health-system size.

Run: ``.venv/bin/python benchmarks/coding_check.py [--lines 1000000] [--ptp-rows 2600000]``.
Generates a PTP edit file in CMS's practitioner layout (notice, wrapped header, tab-separated,
Latin-1) with ``--ptp-rows`` edits, an MUE table and ``--lines`` claim lines, then times, each in
a fresh child process with its own peak memory (VmHWM):

* ``read_ptp`` on the generated file (MB/s, rows/s);
* ``check_claims`` (every edit with verdicts and evidence);
* the baseline: a plain pandas merge of same-patient/provider/date line pairs with the PTP table
  (the join alone, no dates, modifiers, MUEs, indicators or verdicts), the least any
  implementation must do. The ratio says what the full rules cost on top of that join.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from oonplaybook.reference import ncci

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _child import run_child as _child  # noqa: E402


def _codes(n: int) -> np.ndarray:
    return np.array([f"{10000 + 7 * i:05d}" for i in range(n)])


def make_inputs(folder: Path, lines: int, ptp_rows: int, seed: int) -> tuple[Path, Path, Path]:
    """Write the PTP file, the MUE table (parquet) and the claim lines (parquet)."""
    rng = np.random.default_rng(seed)
    codes = _codes(4000)
    c1 = codes[rng.integers(0, len(codes), ptp_rows)]
    c2 = codes[rng.integers(0, len(codes), ptp_rows)]
    eff = rng.choice(["19960101", "20150101", "20200101", "20260101"], ptp_rows)
    dele = rng.choice(["*", "*", "*", "20231231"], ptp_rows)
    mi = rng.choice(["0", "1", "1", "1"], ptp_rows)
    why = rng.choice(
        ["Misuse of Column Two code with Column One code", "Mutually exclusive procedures"],
        ptp_rows,
    )
    body = pd.DataFrame({"a": c1, "b": c2, "p": "", "e": eff, "d": dele, "m": mi, "r": why})
    ptp_path = folder / "ccipra-bench-f1.txt"
    with ptp_path.open("w", encoding="latin-1", newline="") as f:
        f.write(ncci.PTP_HEADER)
        body.to_csv(f, sep="\t", header=False, index=False, lineterminator="\r\n")
    mue = pd.DataFrame(
        {
            "hcpcs": codes,
            "mue_value": rng.integers(1, 5, len(codes)),
            "mai": rng.choice([1, 2, 3], len(codes)),
            "mai_text": "",
            "rationale": "",
            "effective_date": pd.Timestamp("2026-01-01"),
            "source": "bench",
        }
    )
    mue_path = folder / "mue.parquet"
    mue.to_parquet(mue_path)
    claims = lines // 2
    claim = np.repeat(np.arange(claims), 2)[:lines]
    patient = (claim // 2).astype(str)
    status = rng.choice(["paid", "denied", "pending"], lines, p=[0.7, 0.25, 0.05])
    cl = pd.DataFrame(
        {
            "claim_id": pd.Series(claim).map("C{:08d}".format),
            "line_no": np.tile([1, 2], claims + 1)[:lines],
            "patient_key": patient,
            "provider_npi": "1234567890",
            "service_date": pd.Timestamp("2026-01-05") + pd.to_timedelta(claim % 300, unit="D"),
            "cpt": codes[rng.integers(0, 600, lines)],
            "modifiers": rng.choice(["", "", "", "59", "25"], lines),
            "units": rng.integers(1, 4, lines).astype(float),
            "claim_status": status,
            "carc": np.where(
                status == "denied", rng.choice(["CO-97", "CO-151", "CO-45"], lines), ""
            ),
            "billed": 100.0,
        }
    )
    lines_path = folder / "claim_lines.parquet"
    cl.to_parquet(lines_path)
    return ptp_path, mue_path, lines_path


def main() -> None:
    """Generate, then time the reader, the edits and the merge baseline in fresh processes."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--ptp-rows", type=int, default=2_600_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        ptp_path, mue_path, lines_path = make_inputs(
            Path(tmp), args.lines, args.ptp_rows, args.seed
        )
        mb = ptp_path.stat().st_size / 1e6
        print(f"generated {args.ptp_rows:,} PTP edits ({mb:,.0f} MB) and {args.lines:,} lines "
              f"in {time.perf_counter() - t0:.1f} s")  # fmt: skip
        ptp_parquet = Path(tmp) / "ptp.parquet"
        r = _child(f"""
            import time
            from oonplaybook.reference import ncci
            t = time.perf_counter()
            df, rep = ncci.read_ptp({str(ptp_path)!r})
            s = time.perf_counter() - t
            df.to_parquet({str(ptp_parquet)!r})
            print(f"s={{s}} rows={{len(df)}} peak={{peak_mb()}}")
        """)
        print(f"read_ptp        {r['s']:6.1f} s  {mb / r['s']:6.1f} MB/s  {r['rows'] / r['s']:10,.0f} rows/s  "
              f"peak {r['peak']:,.0f} MB")  # fmt: skip
        c = _child(f"""
            import time, pandas as pd
            from oonplaybook import coding
            from oonplaybook.reference import pfs
            lines = pd.read_parquet({str(lines_path)!r})
            ptp = pd.read_parquet({str(ptp_parquet)!r})
            mue = pd.read_parquet({str(mue_path)!r})
            ind = coding.PolicyIndicators.from_rvu(pfs.load_tables(2025).rvu)
            t = time.perf_counter()
            e = coding.check_claims(lines, ptp, mue, ind)
            s = time.perf_counter() - t
            print(f"s={{s}} edits={{len(e)}} peak={{peak_mb()}}")
        """)
        b = _child(f"""
            import time, pandas as pd
            lines = pd.read_parquet({str(lines_path)!r})
            ptp = pd.read_parquet({str(ptp_parquet)!r})
            t = time.perf_counter()
            k = ["patient_key", "provider_npi", "service_date"]
            p = lines[k + ["cpt"]].merge(lines[k + ["cpt"]], on=k)
            p = p[p["cpt_x"] != p["cpt_y"]]
            h = p.merge(ptp, left_on=["cpt_x", "cpt_y"], right_on=["column1", "column2"])
            s = time.perf_counter() - t
            print(f"s={{s}} hits={{len(h)}} peak={{peak_mb()}}")
        """)
        print(f"check_claims    {c['s']:6.1f} s  {args.lines / c['s']:10,.0f} lines/s  {c['edits']:,.0f} edits  "
              f"peak {c['peak']:,.0f} MB")  # fmt: skip
        print(f"baseline merge  {b['s']:6.1f} s  {args.lines / b['s']:10,.0f} lines/s  {b['hits']:,.0f} pair hits  "
              f"peak {b['peak']:,.0f} MB")  # fmt: skip
        print(f"check_claims / plain pandas merge baseline: {c['s'] / b['s']:.2f}x the time, "
              f"{c['peak'] / b['peak']:.2f}x the peak memory (for every rule, verdict and evidence sentence)")  # fmt: skip


if __name__ == "__main__":
    main()
