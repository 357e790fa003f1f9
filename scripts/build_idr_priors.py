"""Build the packaged IDR tables (``src/oonplaybook/reference/data/idr_supplemental/``).

Usage: ``.venv/bin/python scripts/build_idr_priors.py [SUPPLEMENTAL_DIR]`` (default: the shared
Parquet extract of CMS's Federal IDR supplemental tables). Adds the air-ambulance medians from the
line-level PUF when ``air_all_quarters.parquet`` is in the folder.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pandas as pd

from oonplaybook.reference import idr_priors as ip

SRC = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/work/shared/data/real/idr")


def main() -> None:
    """Read, normalise and write the tables with their vintage and source."""
    t = ip.load_supplemental(sorted(SRC.glob("supp_*.parquet")))
    air = SRC / "air_all_quarters.parquet"
    if air.is_file():
        a = ip.air_ambulance_medians(air)
        t = replace(
            t,
            specialties=pd.concat([t.specialties, a], ignore_index=True),
            source=t.source + "; air ambulance: CMS line-level PUF (air_all_quarters.parquet)",
        )
    note = (
        "CMS Federal IDR supplemental tables 2023Q1-2025Q2 as parsed to Parquet by the GitHub repo "
        "naborel/cms_idr_puf (commit 49c30e52b5495e6bb89db9a5b3ae547398a74946); the numbers are "
        "CMS's (US Government work). Units normalised to multiples of QPA."
    )
    out = ip.write_packaged(t, ip.PACKAGED_DIR, source_note=note)
    print(f"wrote {out} (vintage {t.vintage})")


if __name__ == "__main__":
    main()
