"""Which worklist rows and IDR batches get a letter, and the coverage the report states.

Every **open** worklist row whose route needs a letter is a candidate (corrected claims and
write-offs need none). A limit applies per letter type (``playbook.letter_limit``, or
``playbook.letter_limits[type]``); within a type, rows due within ``playbook.letter_due_days``
come first, then the rest in worklist rank order, so the limit falls on the rows with the most
time left. ``oonplaybook letters RUN_DIR --all`` writes every candidate. Patient letters go
only to the worklist's patient rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import pandas as pd

from oonplaybook.letters.audiences import LETTER_TYPES, ROUTE_LETTER_TYPE


def letter_types(worklist: pd.DataFrame) -> pd.Series:
    """The letter type each row needs: the worklist's ``letter_type`` column, else by route."""
    if "letter_type" in worklist.columns:
        s = worklist["letter_type"].astype("str").replace({"nan": "", "None": ""})
    else:
        s = worklist["route"].astype("str").map(ROUTE_LETTER_TYPE).fillna("")
    unknown = sorted(set(s) - set(LETTER_TYPES) - {""})
    if unknown:
        raise ValueError(
            f"worklist: unknown letter type(s) {unknown}; known types are {sorted(LETTER_TYPES)}"
        )
    return s


def _limit(kind: str, limit: int | None, limits: Mapping[str, int]) -> int | None:
    """The per-type cap (``None`` = no cap)."""
    return limits.get(kind, limit)


def candidate_rows(worklist: pd.DataFrame) -> pd.DataFrame:
    """Open rows that need a per-row letter, with ``letter_type``, in rank order."""
    kinds = letter_types(worklist)
    per_row = {k for k, t in LETTER_TYPES.items() if t.per == "worklist_row"}
    keep = worklist["status"].astype("str").eq("open") & kinds.isin(per_row)
    out = worklist[keep].assign(letter_type=kinds[keep])
    return out.sort_values("rank", kind="stable")


def _due_soon(rows: pd.DataFrame, as_of: date, due_days: int) -> pd.Series:
    """Rows whose deadline falls within ``due_days`` of ``as_of`` (and has not passed)."""
    days = (pd.to_datetime(rows["deadline"]) - pd.Timestamp(as_of)).dt.days
    return days.le(due_days) & days.ge(0)


def select_rows(
    worklist: pd.DataFrame,
    *,
    as_of: date,
    limit: int | None,
    limits: Mapping[str, int] | None = None,
    due_days: int = 14,
) -> pd.DataFrame:
    """The candidate rows to write now: per type, rows due within ``due_days`` first, then the
    rest in rank order, up to the type's limit (``None``: every candidate)."""
    cand = candidate_rows(worklist)
    limits = dict(limits or {})
    unknown = sorted(set(limits) - set(LETTER_TYPES))
    if unknown:
        raise ValueError(
            f"playbook.letter_limits: unknown letter type(s) {unknown}; use {sorted(LETTER_TYPES)}"
        )
    urgent = _due_soon(cand, as_of, due_days)
    cand = cand.assign(_u=~urgent).sort_values(["_u", "rank"], kind="stable").drop(columns="_u")
    order = cand.groupby("letter_type", sort=False).cumcount()
    cap = cand["letter_type"].map(lambda k: _limit(k, limit, limits))
    keep = cap.isna() | (order < cap.fillna(0))
    return cand[keep].sort_values("rank", kind="stable")


def select_batches(
    batches: pd.DataFrame | None, *, limit: int | None, limits: Mapping[str, int] | None = None
) -> pd.DataFrame:
    """IDR batches worth filing that get an offer brief (in the batches' order, capped)."""
    if batches is None or batches.empty:
        return pd.DataFrame()
    worth = batches[batches["worth_filing"].astype("str").str.lower().isin(["true", "1"])]
    cap = _limit("idr_offer_brief", limit, dict(limits or {}))
    return worth if cap is None else worth.head(cap)


def coverage(
    worklist: pd.DataFrame,
    written: pd.DataFrame,
    batches: pd.DataFrame | None,
    *,
    limit: int | None,
    limits: Mapping[str, int] | None = None,
    as_of: date | None = None,
    due_days: int = 14,
) -> pd.DataFrame:
    """Per letter type: recipient, letters needed, written, not yet written, those due soon
    (and due soon but not written), and the limit used."""
    cand = candidate_rows(worklist)
    need = cand["letter_type"].value_counts()
    soon_rows = cand[_due_soon(cand, as_of, due_days)] if as_of is not None else cand.iloc[:0]
    soon = soon_rows["letter_type"].value_counts()
    done_keys = set(zip(written.get("claim_id", []), written.get("route", []), strict=True))
    is_done = pd.Series(
        [
            (c, r) in done_keys
            for c, r in zip(soon_rows["claim_id"], soon_rows["route"], strict=True)
        ],
        index=soon_rows.index,
        dtype="bool",
    )
    missed = soon_rows.loc[~is_done, "letter_type"].value_counts()
    n_batches = (
        0
        if batches is None or batches.empty
        else int(batches["worth_filing"].astype("str").str.lower().isin(["true", "1"]).sum())
    )
    done = written["letter_type"].value_counts() if len(written) else pd.Series(dtype="int64")
    rows = []
    for key, lt in LETTER_TYPES.items():
        needed = n_batches if lt.per == "idr_batch" else int(need.get(key, 0))
        got = int(done.get(key, 0))
        cap = _limit(key, limit, dict(limits or {}))
        rows.append(
            {
                "Letter": lt.title,
                "Recipient": lt.audience.title,
                "Needed": needed,
                "Written": got,
                "Not yet written": max(needed - got, 0),
                f"Due within {due_days} days": int(soon.get(key, 0)),
                "Due soon, not written": int(missed.get(key, 0)),
                "Limit per type": "none" if cap is None else str(cap),
            }
        )
    return pd.DataFrame(rows)
