"""``oonplaybook mapping suggest FILE``: a mapping profile drafted from an export's own headers.

A new client's export rarely matches a shipped profile exactly. This reads the header row the
shipped profiles recognise best (title rows are skipped), names each recognised header's
canonical column (the synonym table ``mappings/pm_reports.yaml`` and the other shipped
profiles), picks the date formats its date columns actually parse with, lists the status words
found with the status each maps to, and writes the unmatched headers as comments for the user
to assign or leave out. The YAML it writes loads as a mapping (``--mapping FILE``). No data
value is written except status words and header names (no PHI: PHI columns are named, their
values never read here).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from oonplaybook.ingest.tabular import (
    DATES,
    HEADER_SCAN_ROWS,
    MULTI_COLUMN_TARGETS,
    Mapping,
    builtin_mappings,
    date_regex,
    norm_header,
    read_raw,
)

#: Profiles consulted first when two know the same header (the synonym table leads).
PREFERENCE = ("pm_reports", "practice_charges", "encounter_ledger", "generic")
#: Data rows sampled to choose date formats and list status words.
SAMPLE_ROWS = 500


def _profiles() -> list[Mapping]:
    """Shipped profiles in :data:`PREFERENCE` order (any others after)."""
    shipped = builtin_mappings()
    first = [shipped[n] for n in PREFERENCE if n in shipped]
    return first + [m for n, m in sorted(shipped.items()) if n not in PREFERENCE]


def _lookup(profiles: list[Mapping]) -> dict[str, tuple[str, str]]:
    """Normalised header -> (kind, target) over all profiles, earlier profiles winning."""
    out: dict[str, tuple[str, str]] = {}
    for m in profiles:
        for k, v in m.lookup().items():
            out.setdefault(k, v)
    return out


def suggest_mapping(data: bytes, name: str, kind: str) -> str:
    """The text of a mapping YAML for this export (see module docstring)."""
    profiles = _profiles()
    lk = _lookup(profiles)
    rows, layout = read_raw(data, name, kind)
    scan = rows[:HEADER_SCAN_ROWS]
    if not scan:
        raise ValueError(f"{name}: the file has no rows; nothing to suggest a mapping from")
    counts = [sum(1 for c in r if norm_header(c) in lk) for r in scan]
    hrow = max(range(len(scan)), key=lambda i: (counts[i], -i))
    header = [str(c).strip() for c in scan[hrow]]
    body = [r for r in rows[hrow + 1 : hrow + 1 + SAMPLE_ROWS] if any(str(c).strip() for c in r)]
    columns: dict[str, list[str]] = {}
    phi: dict[str, list[str]] = {}
    unmatched: list[str] = []
    repeats: list[str] = []
    for h in header:
        if not h:
            continue
        hit = lk.get(norm_header(h))
        if hit is None:
            unmatched.append(h)
            continue
        kind_, target = hit
        dest = columns if kind_ == "col" else phi
        if target in dest and target not in MULTI_COLUMN_TARGETS:
            repeats.append(f"{h} (also {target}; the first such column is used)")
        dest.setdefault(target, []).append(h)

    def values(h: str) -> pd.Series:
        i = header.index(h)
        return pd.Series([str(r[i]) if i < len(r) else "" for r in body], dtype="str")

    formats = _date_formats([values(columns[c][0]) for c in DATES if c in columns], profiles)
    status: dict[str, list[str]] = {}
    unknown_status: list[str] = []
    if "claim_status" in columns:
        words = sorted({w.strip().upper() for w in values(columns["claim_status"][0]) if w.strip()})
        known = {}
        for m in reversed(profiles):
            known.update(m.status_values)
        for w in words[:50]:
            st = known.get(w) or (w.lower() if w.lower() in ("paid", "denied", "pending") else None)
            if st:
                status.setdefault(st, []).append(w)
            else:
                unknown_status.append(w)
    doc: dict[str, Any] = {
        "name": Path(name).stem.replace(" ", "_") or "suggested",
        "description": f"Suggested from the headers of {name}; review before use",
        "date_formats": formats,
        "columns": columns,
    }
    if phi:
        doc["phi"] = phi
    if status:
        doc["status_values"] = status
    notes = [
        f"# Mapping suggested by `oonplaybook mapping suggest` from {name}",
        f"# (header on row {hrow + 1}, encoding {layout.encoding}"
        + (f", delimiter {layout.delimiter!r})" if layout.delimiter else ")"),
        "# Check every line, then use it with --mapping FILE (or `mapping:` in the params).",
    ]
    if "claim_id" not in columns:
        notes.append(
            "# No claim-number column: claims will be keyed by the hashed patient account + date"
            " of service + payer + rendering NPI"
            + ("" if "account" in phi else " -- but no account column was found either: add one")
        )
    for c in ("cpt", "service_date"):
        if c not in columns:
            notes.append(f"# MISSING required column {c}: add the header that carries it")
    if unmatched:
        notes.append("# Unmatched headers (not read; add them under a canonical column if needed):")
        notes += [f"#   - {h}" for h in unmatched]
    if repeats:
        notes.append("# Headers matching a column already taken:")
        notes += [f"#   - {h}" for h in repeats]
    if unknown_status:
        notes.append("# Status words with no known meaning (add under status_values):")
        notes += [f"#   - {w}" for w in unknown_status]
    return "\n".join(notes) + "\n" + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def _date_formats(samples: list[pd.Series], profiles: list[Mapping]) -> list[str]:
    """The profiles' date formats that parse the sampled date values, most hits first."""
    cands: list[str] = []
    for m in profiles:
        for f in m.date_formats:
            if f not in cands:
                cands.append(f)
    vals = pd.concat(samples, ignore_index=True) if samples else pd.Series([], dtype="str")
    vals = vals[vals.str.strip().ne("")]
    hits = []
    for f in cands:
        ok = vals.str.strip().str.fullmatch(date_regex(f)).fillna(False).astype(bool)
        if not ok.any():
            continue
        parsed = pd.to_datetime(vals[ok].str.strip(), format=f, errors="coerce")
        if (n := int(parsed.notna().sum())) > 0:
            hits.append((n, f))
    hits.sort(key=lambda t: -t[0])
    return [f for _, f in hits] or ["%m/%d/%Y", "%Y-%m-%d"]
