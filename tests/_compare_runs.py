"""Compare two run folders' artifacts (the partitioned / cluster path against the default one).

Tables are compared as tables, not bytes: a partitioned dataset is read whole (its ``part``
column dropped) and sorted by its keys; a CSV keeps its row order (the worklist's rank order is
part of the output); floats agree to a relative 1e-9 (sums over parts may differ in the last
bits). Letters compare by file name and text; workbooks by every cell's value.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from oonplaybook import partitions

#: Keys a claim-keyed table is sorted by before comparing (those present).
SORT_KEYS = ["claim_id", "line_no", "group", "reason", "amount"]

#: Strings that name the run folder (they differ between two runs by construction).
RTOL = 1e-9


def _table(path: Path) -> pd.DataFrame:
    frame = partitions.read_all(path) if path.is_dir() else pd.read_parquet(path)
    keys = [c for c in SORT_KEYS if c in frame.columns]
    if keys:
        frame = frame.sort_values(keys, kind="stable")
    else:
        frame = frame.sort_values(list(frame.columns), kind="stable")
    return frame.reset_index(drop=True)


def _equal_frames(a: pd.DataFrame, b: pd.DataFrame, what: str) -> list[str]:
    try:
        pd.testing.assert_frame_equal(
            a, b, check_exact=False, rtol=RTOL, check_categorical=False, check_dtype=False
        )
    except AssertionError as e:
        return [f"{what}: {str(e).splitlines()[0:6]}"]
    return []


def _equal_json(a: Any, b: Any, where: str) -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{where}: keys differ {sorted(set(a) ^ set(b))}"]
        return [d for k in a for d in _equal_json(a[k], b[k], f"{where}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} vs {len(b)} items"]
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in _equal_json(x, y, f"{where}[{i}]")
        ]
    if isinstance(a, float) and isinstance(b, float | int):
        return (
            []
            if math.isclose(a, b, rel_tol=RTOL, abs_tol=1e-12) or (math.isnan(a) and math.isnan(b))
            else [f"{where}: {a} vs {b}"]
        )
    return [] if a == b else [f"{where}: {a!r} vs {b!r}"]


def _workbook_values(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return {
            ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets
        }
    finally:
        wb.close()


def _docx_text(path: Path) -> str:
    import docx

    return "\n".join(p.text for p in docx.Document(str(path)).paragraphs)


def compare_artifacts(a: Path, b: Path, *, skip: tuple[str, ...] = ()) -> list[str]:
    """Every difference between the artifacts of run folders ``a`` and ``b`` (empty: equal)."""
    art_a, art_b = Path(a) / "artifacts", Path(b) / "artifacts"
    names_a = {p.name for p in art_a.iterdir() if not p.name.startswith(".")}
    names_b = {p.name for p in art_b.iterdir() if not p.name.startswith(".")}
    diffs = [f"only in one run: {sorted(names_a ^ names_b)}"] if names_a != names_b else []
    for name in sorted(names_a & names_b):
        if name in skip:
            continue
        pa_, pb_ = art_a / name, art_b / name
        if name.endswith(".parquet"):
            diffs += _equal_frames(_table(pa_), _table(pb_), name)
        elif name.endswith(".csv"):
            diffs += _equal_frames(
                pd.read_csv(pa_, low_memory=False), pd.read_csv(pb_, low_memory=False), name
            )
        elif name.endswith(".json"):
            diffs += _equal_json(json.loads(pa_.read_text()), json.loads(pb_.read_text()), name)
        elif name.endswith(".xlsx"):
            diffs += _equal_json(_workbook_values(pa_), _workbook_values(pb_), name)
        elif pa_.is_dir():  # letters/
            fa = sorted(p.relative_to(pa_) for p in pa_.rglob("*") if p.is_file())
            fb = sorted(p.relative_to(pb_) for p in pb_.rglob("*") if p.is_file())
            if fa != fb:
                diffs.append(
                    f"{name}: files differ {sorted(set(map(str, fa)) ^ set(map(str, fb)))[:10]}"
                )
                continue
            for rel in fa:
                x, y = pa_ / rel, pb_ / rel
                if x.suffix == ".docx":
                    same = _docx_text(x) == _docx_text(y)
                elif x.suffix == ".xlsx":
                    same = _workbook_values(x) == _workbook_values(y)
                else:
                    same = x.read_bytes() == y.read_bytes()
                if not same:
                    diffs.append(f"{name}/{rel}: contents differ")
        elif pa_.read_bytes() != pb_.read_bytes():
            diffs.append(f"{name}: bytes differ")
    return diffs
