"""The stage-40 frames the letters are written from, kept in the run folder for ``oonplaybook
letters RUN_DIR --all`` (so a later call writes exactly what the notebook would have written).

Saved as parquet under ``artifacts/letter_inputs/``: worklist, IDR disputes and batches,
patient protections and targets. They hold claim ids and salted patient keys, never names.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

INPUTS_DIR = "letter_inputs"
FRAMES = ("worklist", "disputes", "batches", "protections", "targets")


def save_inputs(
    run_dir: str | Path, *, as_of: date | None = None, **frames: pd.DataFrame | None
) -> Path:
    """Write the given frames (names from :data:`FRAMES`) as parquet, and the as-of date the
    deadlines were counted to; return the folder."""
    unknown = sorted(set(frames) - set(FRAMES))
    if unknown:
        raise ValueError(f"save_inputs: unknown frame(s) {unknown}; expected some of {FRAMES}")
    d = Path(run_dir) / "artifacts" / INPUTS_DIR
    d.mkdir(parents=True, exist_ok=True)
    if as_of is not None:
        (d / "as_of.txt").write_text(as_of.isoformat(), encoding="utf-8")
    for name, df in frames.items():
        if df is None:
            (d / f"{name}.parquet").unlink(missing_ok=True)
            continue
        df.reset_index(drop=True).to_parquet(d / f"{name}.parquet", index=False)
    return d


def load_as_of(run_dir: str | Path) -> date | None:
    """The as-of date saved with the inputs (``None`` when not saved)."""
    p = Path(run_dir) / "artifacts" / INPUTS_DIR / "as_of.txt"
    return date.fromisoformat(p.read_text(encoding="utf-8").strip()) if p.exists() else None


def load_inputs(run_dir: str | Path) -> dict[str, pd.DataFrame | None]:
    """Read the saved frames (``None`` for one not saved); error naming the stage to run."""
    d = Path(run_dir) / "artifacts" / INPUTS_DIR
    if not (d / "worklist.parquet").exists():
        raise FileNotFoundError(
            f"{d}: no saved letter inputs; run the playbook stage first "
            "(oonplaybook run PARAMS writes them with the letters)"
        )
    return {
        n: pd.read_parquet(d / f"{n}.parquet") if (d / f"{n}.parquet").exists() else None
        for n in FRAMES
    }
