"""Writing a run's letters: each selected row's letter (.md and .docx), its staff cover note
(``internal/<stem>.md``), and ``index.csv`` (one row per letter: file, type, recipient, claim,
batch, merge fields), then the worklist's ``letter`` column set from what was written.

Every external letter is checked against its audience's rules before it is written: a letter
that would carry internal content is an error, not a file (see :mod:`letters.audiences`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from oonplaybook.letters import contexts as cx
from oonplaybook.letters import select as sel
from oonplaybook.letters.audiences import LETTER_TYPES, internal_content, merge_fields_in
from oonplaybook.letters.render import render_markdown, write_docx_all

INDEX_FILE = "index.csv"
INTERNAL_DIR = "internal"
INDEX_COLUMNS = [
    "file",
    "docx",
    "internal_note",
    "letter_type",
    "recipient",
    "claim_id",
    "route",
    "rank",
    "batch_id",
    "merge_fields",
]


@dataclass
class LetterRun:
    """What one call wrote: the index (one row per letter), the coverage per type, warnings."""

    index: pd.DataFrame
    coverage: pd.DataFrame
    warnings: list[str] = field(default_factory=list)

    @property
    def paths(self) -> list[str]:
        """Relative paths of every external letter file written (.md and .docx)."""
        return sorted([*self.index["file"], *[d for d in self.index["docx"] if d]])


def _safe(name: str) -> str:
    """A file-name-safe form of an id (letters, digits, ``_.-``; at most 80 characters)."""
    return re.sub(r"[^0-9A-Za-z_.-]+", "_", name)[:80]


def _profiles(profiles: Mapping[str, Any] | Sequence[Any] | None) -> dict[str, Any]:
    """Specialty profiles by name, from a mapping or the list ``load_profiles`` returns."""
    if profiles is None:
        return {}
    if isinstance(profiles, Mapping):
        return dict(profiles)
    return {p.name: p for p in profiles}


def _clear(out: Path) -> None:
    """Remove the letters of an earlier call (the files its index names), so none go stale."""
    idx = out / INDEX_FILE
    if not idx.exists():
        return
    old = pd.read_csv(idx, dtype="str", keep_default_na=False)
    for col in ("file", "docx", "internal_note"):
        for name in old.get(col, []):
            if name:
                (out / name).unlink(missing_ok=True)
    idx.unlink()


def _check(kind: str, md: str, where: str) -> None:
    """Refuse an external letter that carries internal content, naming what and where."""
    found = internal_content(md, LETTER_TYPES[kind].audience)
    if found:
        raise ValueError(
            f"{where}: the {kind} letter would carry internal content ({'; '.join(found[:5])}); "
            "internal guidance belongs in the staff cover note (letters/internal/)"
        )


def write_letters(
    worklist: pd.DataFrame,
    *,
    claim_lines: pd.DataFrame,
    targets: pd.DataFrame,
    out_dir: str | Path,
    as_of: date,
    client_name: str,
    limit: int | None = 50,
    limits: Mapping[str, int] | None = None,
    due_days: int = 14,
    profiles: Mapping[str, Any] | Sequence[Any] | None = None,
    disputes: pd.DataFrame | None = None,
    batches: pd.DataFrame | None = None,
    protections: pd.DataFrame | None = None,
    appeals: pd.DataFrame | None = None,
    benchmarks: pd.DataFrame | None = None,
    contact: str = "",
    practice_size: str = "",
    docx: bool = True,
) -> LetterRun:
    """Write the letters of the selected open worklist rows and IDR batches, with cover notes.

    ``limit``/``limits`` cap each letter type (``None`` = every candidate); rows due within
    ``due_days`` of ``as_of`` come first within a type. Returns the index and the coverage.
    """
    from oonplaybook.playbook._adapters import isin, line_frame

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / INTERNAL_DIR).mkdir(exist_ok=True)
    _clear(out)
    rows = sel.select_rows(worklist, as_of=as_of, limit=limit, limits=limits, due_days=due_days)
    chosen_batches = sel.select_batches(batches, limit=limit, limits=limits)
    claim_ids = set(rows["claim_id"])
    if disputes is not None and len(chosen_batches):
        claim_ids |= set(
            disputes.loc[isin(disputes["batch_id"], chosen_batches["batch_id"]), "claim_id"]
        )
    lines = line_frame(
        claim_lines[isin(claim_lines["claim_id"], pd.Series(sorted(claim_ids)))], benchmarks
    )
    data = cx.LetterData(
        lines=lines,
        targets=targets,
        as_of=as_of,
        disputes=disputes,
        protections=protections,
        appeals=appeals,
        profiles=_profiles(profiles),
    )
    sender = cx.Sender(client_name, contact, practice_size)
    prot = (
        protections.set_index("claim_id") if protections is not None and len(protections) else None
    )
    warnings: list[str] = []
    if not contact:
        warnings.append(
            "no billing-office contact in the params (playbook.contact): letters carry "
            "«CONTACT_NAME», «CONTACT_PHONE» and «CONTACT_EMAIL» to fill before sending"
        )
    index: list[dict[str, Any]] = []
    docx_jobs: list[tuple[str, str]] = []
    for w in rows.to_dict("records"):
        kind = w["letter_type"]
        template = LETTER_TYPES[kind].template_name
        cl = cx.claim_lines(data, w["claim_id"], w.get("lines", ""))
        if kind == "appeal":
            ctx = cx.appeal_context(w, cl, data, sender)
        elif kind == "open_negotiation_notice":
            ctx = cx.notice_context(w, cl, data, sender)
        elif template == "payer_negotiation":
            ctx = cx.negotiation_context(w, cl, data, sender)
        elif kind == "patient_explanation":
            if prot is None or w["claim_id"] not in prot.index:
                continue  # no protections row: the patient letter has nothing to say
            p = prot.loc[w["claim_id"]]
            p = (p.iloc[0] if isinstance(p, pd.DataFrame) else p).to_dict()
            ctx = cx.patient_context(w, p, data, sender)
        else:
            raise ValueError(f"worklist row {w['claim_id']}: unknown letter type {kind!r}")
        stem = f"{int(w['rank']):05d}_{kind}_{_safe(str(w['claim_id']))}"
        md = render_markdown(template, **ctx)
        _check(kind, md, f"worklist rank {w['rank']} (claim {w['claim_id']})")
        index.append(
            _write(
                out,
                stem,
                kind,
                md,
                docx,
                w=w,
                lines=cl,
                data=data,
                warnings=[],
                batch=None,
                docx_jobs=docx_jobs,
            )
        )
    for b in chosen_batches.to_dict("records"):
        ctx, warn = cx.brief_context(b, data, sender)
        for x in warn:
            if x not in warnings:
                warnings.append(x)
        md = render_markdown("idr_offer_brief", **ctx)
        _check("idr_offer_brief", md, f"IDR batch {b['batch_id']}")
        d = disputes[disputes["batch_id"] == b["batch_id"]] if disputes is not None else None
        bl = (
            lines.merge(d[["claim_id", "line_no"]], on=["claim_id", "line_no"])
            if d is not None
            else lines.iloc[:0]
        )
        stem = f"idr_{_safe(str(b['batch_id']))}_offer_brief"
        index.append(
            _write(
                out,
                stem,
                "idr_offer_brief",
                md,
                docx,
                w=None,
                lines=bl,
                data=data,
                warnings=warn,
                batch=b,
                docx_jobs=docx_jobs,
            )
        )
    write_docx_all(docx_jobs)
    idx = pd.DataFrame(index, columns=INDEX_COLUMNS)
    idx.to_csv(out / INDEX_FILE, index=False)
    cov = sel.coverage(
        worklist, idx, batches, limit=limit, limits=limits, as_of=as_of, due_days=due_days
    )
    return LetterRun(idx, cov, warnings)


def _write(
    out: Path,
    stem: str,
    kind: str,
    md: str,
    docx: bool,
    *,
    w: Mapping[str, Any] | None,
    lines: pd.DataFrame,
    data: cx.LetterData,
    warnings: list[str],
    batch: Mapping[str, Any] | None,
    docx_jobs: list[tuple[str, str]],
) -> dict[str, Any]:
    """Write one letter (.md; its .docx queued on ``docx_jobs``) and its cover note; return
    its index row."""
    (out / f"{stem}.md").write_text(md, encoding="utf-8")
    if docx:
        docx_jobs.append((md, str(out / f"{stem}.docx")))  # written together at the end
    fields = merge_fields_in(md)
    note = cx.cover_note(
        kind,
        f"{stem}.md",
        w=w,
        lines=lines,
        data=data,
        fields=fields,
        warnings=warnings,
        batch=batch,
    )
    note_name = f"{INTERNAL_DIR}/{stem}.md"
    (out / note_name).write_text(render_markdown("internal/cover_note", **note), encoding="utf-8")
    return {
        "file": f"{stem}.md",
        "docx": f"{stem}.docx" if docx else "",
        "internal_note": note_name,
        "letter_type": kind,
        "recipient": LETTER_TYPES[kind].audience.key,
        "claim_id": "" if w is None else str(w["claim_id"]),
        "route": "" if w is None else str(w["route"]),
        "rank": "" if w is None else int(w["rank"]),
        "batch_id": str(batch["batch_id"])
        if batch is not None
        else str((w or {}).get("batch_id", "") or ""),
        "merge_fields": " ".join(fields),
    }


def with_letter_files(worklist: pd.DataFrame, index: pd.DataFrame) -> pd.DataFrame:
    """The worklist with ``letter`` = the file written for the row (empty when none).

    Keeps the letter type in ``letter_type`` (created from the route when the worklist has
    none). IDR-route rows name their batch's offer brief when one was written.
    """
    w = worklist.copy()
    w["letter_type"] = sel.letter_types(w)
    per_row = index[index["claim_id"].astype("str").ne("")]
    by_key = {
        (str(c), str(r), str(k)): f
        for c, r, k, f in zip(
            per_row["claim_id"], per_row["route"], per_row["rank"], per_row["file"], strict=True
        )
    }
    briefs = {
        str(b): f
        for b, f, t in zip(index["batch_id"], index["file"], index["letter_type"], strict=True)
        if t == "idr_offer_brief"
    }
    # a few hundred letters against a worklist of up to millions of rows: only the rows that
    # can have one are looked up one by one (the claims with a letter, the offer-brief rows)
    letter = np.full(len(w), "", dtype=object)
    ids = {c for c, _r, _k in by_key}
    cand = np.flatnonzero(w["claim_id"].astype("str").isin(ids).to_numpy())
    cid, route, rank = (w[c].to_numpy(dtype=object) for c in ("claim_id", "route", "rank"))
    for i in cand:
        letter[i] = by_key.get((str(cid[i]), str(route[i]), str(rank[i])), "")
    batch = w["batch_id"].to_numpy(dtype=object) if "batch_id" in w else np.full(len(w), "", object)
    for i in np.flatnonzero(w["letter_type"].astype("str").eq("idr_offer_brief").to_numpy()):
        if not letter[i]:
            b = batch[i]
            first = str(b).split(":")[0] if str(b) not in ("", "nan") else ""
            letter[i] = briefs.get(first, "")
    w["letter"] = pd.Series(letter, index=w.index, dtype="str")
    return w
