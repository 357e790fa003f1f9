"""Build the packaged PFS tables (src/oonplaybook/reference/data) from CMS's own files.

Usage: ``.venv/bin/python scripts/build_reference.py [CMS_FOLDER]`` (default
``../shared/data/real/cms``: PPRRVU2025_Oct.csv, GPCI2025.csv, optional ANES2025.csv). Keeps only
code, modifier, indicator and numeric columns (no AMA descriptors) and records the CMS release,
its date and the source files' SHA-256 in ``pfs_YYYY.json``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from oonplaybook.reference import pfs

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "oonplaybook" / "reference" / "data"


def main(argv: list[str]) -> int:
    """Parse the CMS files in the folder given (or the shared default) and write the tables."""
    src = Path(argv[0]) if argv else ROOT.parent / "shared" / "data" / "real" / "cms"
    pprrvu = sorted(src.glob("PPRRVU*.csv"))
    gpci = sorted(src.glob("GPCI*.csv"))
    anes = sorted(src.glob("ANES*.csv"))
    if not pprrvu or not gpci:
        print(f"{src}: need PPRRVU*.csv and GPCI*.csv (CMS RVU zip contents)", file=sys.stderr)
        return 2
    rvu, g, a, manifest = pfs.build_tables(pprrvu[-1], gpci[-1], anes[-1] if anes else None)
    manifest["pprrvu"]["file"] = pprrvu[-1].name
    manifest["gpci"]["file"] = gpci[-1].name
    paths = pfs.write_tables(OUT, rvu, g, a, manifest, packaged=True)
    for p in paths:
        print(f"wrote {p.relative_to(ROOT)} ({p.stat().st_size:,} bytes)")
    print(
        f"PFS {manifest['year']} {manifest['pprrvu']['release']} release "
        f"({manifest['pprrvu']['released']}): {len(rvu):,} HCPCS+MOD rows, {len(g)} localities, "
        f"CF {manifest['conversion_factor_file']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
