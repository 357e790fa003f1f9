"""Benchmark: TiC in-network extraction against ijson and against gzip decompression alone.

Run: ``.venv/bin/python benchmarks/tic_extract.py [--gb 2.0] [--files 8]``. Generates a v2
in-network file of ``--gb`` GB uncompressed (50 wanted codes among filler items, as in a real
payer file) and its gzip, then times, each in a fresh child with its own peak memory (VmHWM):

* ``read_rates`` with a 50-code filter on the plain file and on the .gz (MB/s of uncompressed
  JSON, peak MB);
* the baseline: ijson's full parse of every ``in_network`` item (the usual streaming reader);
* the floor: ``gzip -dc file.gz > /dev/null`` (decompression alone);
* the Dask fan-out: ``--files`` files of ``gb/files`` GB each through ``extract`` with 1 and 2
  workers (ratio 2 workers / 1 worker).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _child import run_child as _child  # noqa: E402

from oonplaybook import tic_generate as tg  # noqa: E402

CODES = [f"{99200 + k}" for k in range(50)]


def _make(path: Path, gb: float, seed: int) -> int:
    groups = tg.make_groups(40, seed=seed, npis_per_tin=8)
    rates = {
        c: [(1 + (k + j) % 40, "negotiated", 80.0 + k + j) for j in range(12)]
        for k, c in enumerate(CODES)
    }
    # one filler item with 20 rates is ~5.0 KB (measured: 3,435 MB for 689,705 items)
    per_item = 4980
    tg.write_in_network(
        path,
        payer=f"Bench Plan {seed}",
        rates=rates,
        groups=groups,
        filler_codes=int(gb * 1e9 / per_item),
        filler_rates=20,
        seed=seed,
    )
    return path.stat().st_size


def main() -> None:
    """Generate, then time our reader, ijson, zcat and the Dask fan-out."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--gb", type=float, default=2.0)
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--tmp", default=None, help="scratch folder (needs ~2.5x --gb free)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        t = Path(tmp)
        big = t / "big.json"
        t0 = time.perf_counter()
        size = _make(big, args.gb, 0)
        subprocess.run(f"gzip -1 -c {big} > {big}.gz", shell=True, check=True)
        gz = Path(f"{big}.gz")
        mb = size / 1e6
        print(
            f"generated {mb:,.0f} MB (gzip {gz.stat().st_size / 1e6:,.0f} MB) in {time.perf_counter() - t0:.0f} s"
        )
        ours = {}
        for label, f in (("plain", big), ("gzip", gz)):
            r = _child(f"""
                import time
                from oonplaybook import tic_in_network as tin
                t = time.perf_counter()
                df, st = tin.read_rates({str(f)!r}, {CODES!r})
                s = time.perf_counter() - t
                print(f"s={{s}} rows={{len(df)}} items={{st.items_seen}} peak={{peak_mb()}}")
            """)
            ours[label] = r
            print(f"oonplaybook read_rates ({label:5}) {r['s']:6.1f} s  {mb / r['s']:7.0f} MB/s  {r['rows']:,.0f} rows of "
                  f"{r['items']:,.0f} items  peak {r['peak']:,.0f} MB")  # fmt: skip
        base = _child(f"""
            import time, ijson
            t = time.perf_counter()
            n = 0
            with open({str(big)!r}, "rb") as f:
                for item in ijson.items(f, "in_network.item"):
                    n += 1
            s = time.perf_counter() - t
            print(f"s={{s}} items={{n}} backend_c={{int(ijson.backend == 'yajl2_c')}} peak={{peak_mb()}}")
        """)
        print(f"baseline ijson full parse  {base['s']:6.1f} s  {mb / base['s']:7.0f} MB/s  (yajl2_c backend: {bool(base['backend_c'])})  "
              f"peak {base['peak']:,.0f} MB")  # fmt: skip
        t0 = time.perf_counter()
        subprocess.run(f"gzip -dc {gz} > /dev/null", shell=True, check=True)
        zcat = time.perf_counter() - t0
        print(f"floor gzip -dc             {zcat:6.1f} s  {mb / zcat:7.0f} MB/s")
        print(f"-> plain: {base['s'] / ours['plain']['s']:.1f}x ijson; gzip: {ours['gzip']['s'] / zcat:.2f}x the time of "
              f"decompression alone; peak {max(r['peak'] for r in ours.values()):,.0f} MB")  # fmt: skip
        big.unlink()
        gz.unlink()
        # Dask fan-out over several files
        d = t / "files"
        d.mkdir()
        fan_mb = 0.0
        for k in range(args.files):
            fan_mb += _make(d / f"f{k}.json", args.gb / args.files, k + 1) / 1e6
            subprocess.run(f"gzip -1 {d / f'f{k}.json'}", shell=True, check=True)
        times = {}
        for w in (1, 2):  # both through a local Dask cluster (its start-up counted)
            out = t / f"out{w}"
            r = _child(f"""
                import time
                from oonplaybook import tic_in_network as tin
                t = time.perf_counter()
                st = tin.extract([{str(d)!r}], {CODES!r}, {str(out)!r}, workers={w}, cluster=True)
                s = time.perf_counter() - t
                print(f"s={{s}} rows={{int(st['rows'].sum())}} peak={{peak_mb()}}")
            """)
            times[w] = r["s"]
            print(f"extract {args.files} .gz files, {w} worker{'s' if w > 1 else ' '} {r['s']:6.1f} s  "
                  f"{fan_mb / r['s']:7.0f} MB/s  {r['rows']:,.0f} rows  (driver peak {r['peak']:,.0f} MB)")  # fmt: skip
            shutil.rmtree(out, ignore_errors=True)
        print(f"-> 2 workers / 1 worker: {times[1] / times[2]:.2f}x the throughput")


if __name__ == "__main__":
    main()
