"""Build the packaged reference tables (src/oonplaybook/reference/data) from CMS's own files.

Usage: ``.venv/bin/python scripts/build_reference.py [CMS_FOLDER [OUT_FOLDER]]`` (default
``../shared/data/real/cms`` into ``src/oonplaybook/reference/data``). Per PFS year it reads what the folder holds:

* ``PPRRVU<year>_*.csv`` (the full national RVU file; files named ``*excerpt*`` are skipped:
  an excerpt must never stand in for a year's RVUs),
* ``GPCI<year>.csv`` (Addendum E),
* ``ANES<year>.csv`` and/or ``ANES<year>.txt`` (CMS's locality anesthesia CFs; when both are
  there they must agree in every locality),

and, once, ``ZIP5_*.txt`` (CMS's ZIP-to-carrier-locality file) -> ``zip5_locality.parquet``.
Keeps only code, modifier, indicator and numeric columns (no AMA descriptors) and records each
CMS file's name, release and SHA-256 in ``pfs_<year>.json`` / ``zip5_locality.json``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from oonplaybook.reference import localities, pfs

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "oonplaybook" / "reference" / "data"


def _by_year(files: list[Path], pattern: str) -> dict[int, Path]:
    """The last (sorted) file per year whose name matches ``pattern`` (group 1 = year)."""
    out: dict[int, Path] = {}
    for f in sorted(files):
        m = re.fullmatch(pattern, f.name, re.I)
        if m and "excerpt" not in f.name.lower():
            out[int(m.group(1))] = f
    return out


def main(argv: list[str]) -> int:
    """Parse the CMS files in the folder given (or the shared default) and write the tables."""
    src = Path(argv[0]) if argv else ROOT.parent / "shared" / "data" / "real" / "cms"
    out = Path(argv[1]) if len(argv) > 1 else OUT
    files = [p for p in src.iterdir() if p.is_file()] if src.is_dir() else []
    rvus = _by_year(files, r"PPRRVU(\d{4})_.*\.csv")
    gpcis = _by_year(files, r"GPCI(\d{4})\.csv")
    anes_csv = _by_year(files, r"ANES(\d{4})\.csv")
    anes_txt = _by_year(files, r"ANES(\d{4})\.txt")
    if not gpcis:
        print(
            f"{src}: need GPCIyyyy.csv (and PPRRVUyyyy_*.csv): CMS RVU zip contents",
            file=sys.stderr,
        )
        return 2
    for year in sorted(gpcis):
        anes = anes_csv.get(year) or anes_txt.get(year)
        if anes_csv.get(year) and anes_txt.get(year):
            a = pfs.read_anesthesia_cf(anes_csv[year])
            b = pfs.read_anesthesia_cf(anes_txt[year])
            same = a[["locality", "anes_cf"]].equals(b[["locality", "anes_cf"]])
            if not same:
                print(f"{anes_csv[year].name} and {anes_txt[year].name} disagree", file=sys.stderr)
                return 2
        rvu, g, a, manifest = pfs.build_tables(rvus.get(year), gpcis[year], anes, year=year)
        if rvu is None:
            manifest["pprrvu_note"] = (
                f"CMS's full {year} RVU file was not among the build's CMS files; {year} lines use "
                f"the nearest year's RVUs until `oonplaybook reference import` loads it"
            )
        paths = pfs.write_tables(out, rvu, g, a, manifest, packaged=True)
        for p in paths:
            print(f"wrote {p} ({p.stat().st_size:,} bytes)")
        rel = manifest["pprrvu"] or {}
        print(
            f"PFS {year}: RVUs {rel.get('release', 'none')} ({rel.get('released', '-')}), "
            f"{len(rvu) if rvu is not None else 0:,} rows; {len(g)} GPCI localities; "
            f"ANES {len(a) if a is not None else 'none'}"
        )
    zips = sorted(f for f in files if re.fullmatch(r"ZIP5_.*\.txt", f.name, re.I))
    if zips:
        z = localities.read_zip5(zips[-1])
        for p in localities.write_zip5(out, z, zips[-1]):
            print(f"wrote {p} ({p.stat().st_size:,} bytes)")
        print(f"ZIP5 {zips[-1].name}: {len(z):,} ZIPs, {int(z['needs_zip9'].sum())} need ZIP9")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
