"""Reference status: every packaged or imported reference table, its vintage, what is stale.

``oonplaybook reference status [--claims CLAIM_LINES.parquet] [--json]`` and the report's
data-vintage block both read :func:`reference_status`. One row per table part:

* the Medicare PFS parts per year (RVUs, GPCIs, locality anesthesia CFs; packaged or imported
  with ``oonplaybook reference import``), the conversion factors, anesthesia base units,
* CMS's ZIP5 ZIP-to-locality file,
* the state surprise-billing table, one row per state (its ``last_checked`` date),
* any other file in ``reference/data`` (named with its SHA-256, so nothing is left unlisted).

Given the claims at hand, a row is **stale** when the claims need something it lacks: services
of a year priced with another year's RVUs or GPCIs, anesthesia lines of a year without CMS's
ANES file, ZIP-located lines with services after the ZIP file's quarter, a state row never
checked or last checked before a statute change it records (``statute_changed`` /
``amended`` / ``law_changed`` dates, read when present) for a state the claims are in.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass
from datetime import date
from importlib import resources
from typing import Any

import pandas as pd
import yaml

from oonplaybook.reference import pfs
from oonplaybook.reference.localities import zip5_vintage

#: State-table keys that may record when the statute last changed (read defensively).
STATUTE_CHANGE_KEYS = ("statute_changed", "amended", "law_changed", "statute_amended")


@dataclass(frozen=True)
class TableStatus:
    """One reference table (part): what it is, its vintage and source, and whether it is stale."""

    table: str  # e.g. "PFS RVUs", "PFS GPCIs", "state surprise billing"
    key: str  # the year, state or file it covers
    vintage: str  # CMS release / quarter / last-checked date
    source: str  # file name and SHA-256 (first 12 hex digits)
    origin: str  # "packaged" or the import cache folder
    stale: bool
    detail: str  # why it is stale, or what it covers

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        return asdict(self)


def _src(file: str | None, sha: str | None) -> str:
    """``file (sha256 <12 hex>)`` for a table row, "-" when there is no file."""
    if not file:
        return "-"
    return f"{file} (sha256 {sha[:12]})" if sha else str(file)


def _claim_facts(claims: pd.DataFrame | None) -> dict[str, Any]:
    """What the claims at hand need: service years (with line counts), anesthesia, ZIP use."""
    facts: dict[str, Any] = {
        "years": {},
        "anes_years": {},
        "zip_lines": 0,
        "last_service": None,
        "states": set(),
    }
    if claims is None or claims.empty:
        return facts
    sd = (
        pd.to_datetime(claims["service_date"], errors="coerce")
        if "service_date" in claims.columns
        else pd.Series(pd.NaT, index=claims.index)
    )
    yr = sd.dt.year
    facts["years"] = {int(y): int(n) for y, n in yr.value_counts().sort_index().items()}
    if "cpt" in claims.columns:
        cpt = claims["cpt"].astype("str")
        anes = cpt.str.fullmatch(r"0[01]\d{3}") & (cpt >= "00100") & (cpt <= "01999")
        facts["anes_years"] = {
            int(y): int(n) for y, n in yr[anes].value_counts().sort_index().items()
        }
    if "service_zip" in claims.columns:
        loc = claims["locality"].astype("str").str.strip() if "locality" in claims else ""
        z = claims["service_zip"].astype("str").str.strip()
        facts["zip_lines"] = int(((loc == "") & (z != "")).sum())
    if sd.notna().any():
        facts["last_service"] = sd.max().date()
    if "state" in claims.columns:
        facts["states"] = {s for s in claims["state"].astype("str").str.upper() if s}
    return facts


def _pfs_rows(facts: dict[str, Any]) -> list[TableStatus]:
    """Rows for each PFS year (RVUs, GPCIs, anesthesia CFs), the CFs and the base units."""
    rows: list[TableStatus] = []
    years = sorted(set(pfs.available_years()) | set(facts["years"]))
    for y in years:
        n = facts["years"].get(y, 0)
        try:
            t, note = pfs.tables_for(y)
        except pfs.ReferenceError as e:
            rows.append(TableStatus("PFS RVUs", str(y), "none", "-", "-", n > 0, str(e)))
            continue
        m = t.manifest.get("pprrvu") or {}
        gm = t.manifest.get("gpci") or {}
        am = t.manifest.get("anesthesia_cf") or {}
        used = f"{n:,} lines of {y} services" if n else f"no {y} services in the claims"
        own_rvu = t.rvu_year == y
        rows.append(
            TableStatus(
                "PFS RVUs",
                str(y),
                f"CMS PFS {t.rvu_year} {m.get('release', '')} release ({m.get('released', '')})",
                _src(m.get("file"), m.get("sha256")),
                t.origin,
                stale=n > 0 and not own_rvu,
                detail=f"{used}; " + (f"CMS's {y} RVU file installed" if own_rvu else note),
            )
        )
        own_gpci = t.gpci_year == y
        rows.append(
            TableStatus(
                "PFS GPCIs",
                str(y),
                f"CY{t.gpci_year} Addendum E ({gm.get('localities', len(t.gpci))} localities)",
                _src(gm.get("file"), gm.get("sha256")),
                t.gpci_origin,
                stale=n > 0 and not own_gpci,
                detail=used + ("" if own_gpci else f"; {t.gpci_year} GPCIs stand in"),
            )
        )
        na = facts["anes_years"].get(y, 0)
        has_anes = t.anesthesia_cf is not None
        rows.append(
            TableStatus(
                "PFS anesthesia CFs",
                str(y),
                f"CMS ANES{y} ({am.get('localities', '?')} localities)"
                if has_anes
                else f"national CF x GPCI shares {pfs.ANESTHESIA_SHARES} (fitted)",
                _src(am.get("file"), am.get("sha256")) if has_anes else "-",
                t.origin if has_anes else "-",
                stale=na > 0 and not has_anes,
                detail=(f"{na:,} anesthesia lines of {y}" if na else f"no {y} anesthesia lines")
                + ("" if has_anes else f"; import CMS's ANES{y} file for CMS's locality CFs"),
            )
        )
    cfs = ", ".join(
        f"{y}{' QP' if q else ''} {v}" for (y, q), v in sorted(pfs.CONVERSION_FACTORS.items())
    )
    missing_cf = sorted(y for y in facts["years"] if (y, False) not in pfs.CONVERSION_FACTORS)
    rows.append(
        TableStatus(
            "PFS conversion factors",
            "all",
            cfs,
            "oonplaybook.reference.pfs.CONVERSION_FACTORS",
            "packaged",
            stale=bool(missing_cf),
            detail=f"no CF for {missing_cf}" if missing_cf else "CY2024-2026 PFS final rules",
        )
    )
    bu = pfs.load_anesthesia_base_units()
    rows.append(
        TableStatus(
            "anesthesia base units",
            "all",
            f"{len(bu)} codes",
            "anesthesia_base_units.csv",
            "packaged",
            stale=False,
            detail="bring your own with pfs.load_anesthesia_base_units(path) for other codes",
        )
    )
    return rows


def _quarter_end(yyyyq: str) -> date | None:
    """Last day of a CMS ``YYYYQ`` quarter (None when malformed)."""
    m = re.fullmatch(r"(\d{4})([1-4])", yyyyq)
    if not m:
        return None
    y, q = int(m.group(1)), int(m.group(2))
    return (pd.Timestamp(y, 3 * q, 1) + pd.offsets.MonthEnd(0)).date()


def _zip_row(facts: dict[str, Any]) -> TableStatus:
    """The ZIP5 table's row: stale when ZIP-located lines run past the file's quarter."""
    v = zip5_vintage()
    if not v:
        return TableStatus("ZIP to locality", "ZIP5", "none", "-", "-", facts["zip_lines"] > 0, "")
    quarters = v.get("year_quarter", [])
    end = _quarter_end(quarters[-1]) if quarters else None
    last = facts["last_service"]
    later = bool(facts["zip_lines"] and end and last and last > end)
    detail = (
        f"{v.get('zips', 0):,} ZIPs, {v.get('needs_zip9', 0)} flagged as needing ZIP9; "
        f"{facts['zip_lines']:,} claim lines located by ZIP"
    )
    if later:
        detail += f"; services run to {last} after the file's quarter (ends {end}): check CMS for a newer ZIP5 file"
    return TableStatus(
        "ZIP to locality",
        "ZIP5",
        f"CMS ZIP5 {', '.join(quarters)}",
        _src(v.get("file"), v.get("sha256")),
        "packaged",
        stale=later,
        detail=detail,
    )


def _as_date(value: Any) -> date | None:
    """A date from a YAML value (date or ISO text), None when it is not one."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except (TypeError, ValueError):
        return None


def _state_rows(facts: dict[str, Any], raw: bytes | None = None) -> list[TableStatus]:
    """One row per state of the surprise-billing table (``raw``: the YAML; default packaged)."""
    f = resources.files("oonplaybook.reference") / "data" / "state_surprise_billing.yaml"
    name = "state_surprise_billing.yaml"
    if raw is None:
        if not f.is_file():
            return []
        raw = f.read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    try:
        doc = yaml.safe_load(raw) or {}
    except yaml.YAMLError as e:
        return [
            TableStatus(
                "state surprise billing", "all", "unreadable", _src(name, sha), "packaged", True,
                f"{name} does not parse: {e}",
            )
        ]  # fmt: skip
    table = doc.get("surprise_billing") if isinstance(doc, dict) else None
    rows: list[TableStatus] = []
    for st, row in sorted((table or {}).items()):
        row = row if isinstance(row, dict) else {}
        checked = _as_date(row.get("last_checked") or row.get("checked"))
        changes = [d for k in STATUTE_CHANGE_KEYS if (d := _as_date(row.get(k))) is not None]
        changed = max(changes) if changes else None
        relevant = str(st).upper() in facts["states"]
        why = []
        if checked is None:
            why.append("never checked against its source (no last_checked date)")
        elif changed is not None and changed > checked:
            why.append(f"last checked {checked}, before the statute change of {changed}")
        enabled = bool(row.get("enabled", False))
        detail = "; ".join(why) or (
            f"checked {checked}" + (f", statute changed {changed}" if changed else "")
        )
        detail += "" if enabled else " (row not applied: enabled false)"
        if relevant:
            detail += "; the claims have services in this state"
        rows.append(
            TableStatus(
                "state surprise billing",
                str(st).upper(),
                f"checked {checked}" if checked else "unchecked",
                _src(name, sha),
                "packaged",
                stale=bool(why) and relevant,
                detail=detail,
            )
        )
    return rows


#: Files in reference/data that the rows above already describe.
_DESCRIBED = re.compile(
    r"(pprrvu|gpci|anes_cf)_\d{4}\.(parquet|csv)|pfs_\d{4}\.json|zip5_locality\.(parquet|json)"
    r"|anesthesia_base_units\.csv|state_surprise_billing\.yaml|README\.md"
)


def _other_files() -> list[TableStatus]:
    """Rows for packaged files no other row describes (so nothing goes unlisted)."""
    data = resources.files("oonplaybook.reference") / "data"
    rows = []
    for p in sorted(data.iterdir(), key=lambda p: p.name):
        if not p.is_file() or _DESCRIBED.fullmatch(p.name):
            continue
        sha = hashlib.sha256(p.read_bytes()).hexdigest()
        rows.append(
            TableStatus(
                "packaged file", p.name, "see the file", _src(p.name, sha), "packaged", False, ""
            )
        )
    return rows


def reference_status(claims: pd.DataFrame | None = None) -> list[TableStatus]:
    """Every reference table with its vintage, flagged stale for ``claims`` (claim lines).

    Without claims nothing is stale for lack of need; the rows still say what is installed.
    The report's data-vintage block and ``oonplaybook reference status`` both use this.
    """
    facts = _claim_facts(claims)
    return [*_pfs_rows(facts), _zip_row(facts), *_state_rows(facts), *_other_files()]


def status_frame(claims: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`reference_status` as a table (one row per table part), for reports."""
    rows = [r.to_dict() for r in reference_status(claims)]
    cols = ["table", "key", "vintage", "source", "origin", "stale", "detail"]
    return pd.DataFrame(rows, columns=cols)
