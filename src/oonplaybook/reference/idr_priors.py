"""IDR priors from CMS's Federal IDR supplemental tables: loader, shrinkage, packaged priors.

CMS publishes, per quarter, Table 12 (payment determination outcomes: provider / plan
prevailing, split, one-offer determinations), Table 13 (median prevailing offer by QPA band)
and Table 14 (median prevailing offer by specialty / CPT range). This module reads them in two
layouts -- the shared Parquet extract (``naborel/cms_idr_puf``, one file per table, every
quarter stacked) and CMS's own XLSX release (one sheet per table, title rows above the header,
percent cells as text) -- and normalises their traps:

* **Unit switch**: the median prevailing offer is a multiple of QPA through 2024Q4 (3.07) and a
  percent from 2025Q1 (314); every value is stored here as a multiple of QPA.
* **Missing medians** (2023Q3-Q4 in the Parquet extract): kept as missing; a prior for such a
  quarter carries the latest earlier quarter with a value and says so (``median_quarter``).
* **Name drift**: Table 14 specialties are aliased to one label ("Pathology and Lab" ->
  "Pathology and Laboratory", inpatient + observation merged, trailing spaces, footnote digits).
* **Mislabelled files**: tables are recognised by their content, never by file name
  (``supp_closure_reasons`` holds Table 4, ``supp_eligibility`` Table 5).

Priors per specialty x QPA band x quarter (:func:`build_priors`):

* win probability = provider-prevailing / determinations (Table 12; OON column, air-ambulance
  column for air ambulance) with a Wilson 95% interval; CMS publishes no specialty split, so
  every specialty shares the quarter's rate (said in the source). ``one_offer_share`` is the
  share of determinations where only one party submitted an offer (default decisions).
* award multiple = the specialty's median prevailing offer, empirical-Bayes shrunk on the log
  scale toward the all-specialty value (the determinations-weighted log median of Table 13's
  bands), then scaled by the QPA band's ratio to that all-specialty value (a log-additive
  specialty + band model: an assumption, stated in every source).

The packaged tables (``reference/data/idr_supplemental/``) are small derived CSVs (one row per
quarter x table cell, units normalised) with their vintage and source in ``meta.json``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

PACKAGED_DIR = Path(__file__).parent / "data" / "idr_supplemental"

#: Within-cell spread of log(prevailing offer / QPA): robust SD (IQR / 1.349) of the CMS
#: air-ambulance line-level PUF, 2025Q1 0.60 and 2025Q2 0.76 (the only line-level offers we
#: have). Used for the sampling variance of a cell's log median: (pi / 2) x sigma^2 / n.
SIGMA_LOG_OFFER = 0.7

#: Median days from IDR initiation to determination: 41 in the 2025Q2 air-ambulance PUF
#: ("Length of Time to Make Determination").
DAYS_TO_DETERMINATION = 41

#: QPA bands of Table 13: canonical label, lower bound (inclusive), upper bound (exclusive).
QPA_BANDS: tuple[tuple[str, float, float], ...] = (
    ("<$100", 0.0, 100.0),
    ("$100-$500", 100.0, 500.0),
    ("$500-$1,000", 500.0, 1000.0),
    ("$1,000-$5,000", 1000.0, 5000.0),
    ("$5,000-$10,000", 5000.0, 10000.0),
    (">=$10,000", 10000.0, math.inf),
)

#: Project specialty key -> Table 14 label (canonical, after aliasing) it is priced from.
SPECIALTY_CATEGORY: dict[str, str] = {
    "emergency_medicine": "Emergency Department Services",
    "anesthesiology": "Anesthesia",
    "radiology": "Radiology",
    "pathology": "Pathology and Laboratory",
    "neonatology": "Inpatient Neonatal Intensive Care Services and Pediatric/Neonatal "
    "Critical Care Services",
    "orthopedic_surgery": "Surgery",
    "neurosurgery_ionm": "Neurology and Neuromuscular Procedures",
    "behavioral_health": "Psychiatry",
    "air_ambulance": "Air Ambulance",
}

#: Normalised drifting Table 14 names -> canonical label (see the Parquet README's traps).
_NAME_ALIASES: dict[str, str] = {
    "pathology and lab": "Pathology and Laboratory",
    "non-invasive vascular diagnostic studies": "Noninvasive Vascular Diagnostic Studies",
    "cardiovascular procedures": "Cardiovascular",
    "hospital inpatient services": "Hospital Inpatient and Observation Care Services",
    "hospital observation services": "Hospital Inpatient and Observation Care Services",
    "inpatient neonatal intensive care services and pediatric and neonatal critical care "
    "services": "Inpatient Neonatal Intensive Care Services and Pediatric/Neonatal Critical "
    "Care Services",
    "delivery/birthing room attendance and resuscitation services": "Delivery/Birthing Room",
    "ed services": "Emergency Department Services",
    "emergency department": "Emergency Department Services",
}

_HYDRATION = "Hydration, Infusions and Chemotherapy Administration"


class IdrTablesError(ValueError):
    """A supplemental table that cannot be read: the message names the file, place and fix."""


# --- names, quarters, units ----------------------------------------------------------------------


def canonical_specialty(name: object) -> str:
    """One label for a Table 14 specialty whatever the quarter's spelling (strip, footnotes, aliases)."""
    s = " ".join(str(name).split())
    s = re.sub(r"\s+\d{1,3}$", "", s)  # footnote suffix: "Newborn Care Services 29"
    s = s.rstrip("*").strip()
    low = s.lower()
    if low.startswith("hydration"):
        return _HYDRATION
    return _NAME_ALIASES.get(low, s)


def canonical_band(label: object) -> str:
    """Table 13 band label in one spelling (``>$10,000`` and ``$5,000 - 10,000`` drift)."""
    s = re.sub(r"\s+", "", str(label)).replace("$", "")
    m = re.fullmatch(r"(<|>=|>|≥)?([\d,]+)(?:-([\d,]+))?", s)
    if not m:
        raise IdrTablesError(f"QPA band {label!r} is not a Table 13 band like '$100 - $500'")
    op, lo, hi = m.group(1), float(m.group(2).replace(",", "")), m.group(3)
    if op == "<":
        lo, hi_v = 0.0, lo
    elif op in (">", ">=", "≥"):
        hi_v = math.inf
    else:
        hi_v = float(hi.replace(",", "")) if hi else math.inf
    for name, blo, bhi in QPA_BANDS:
        if blo == lo and bhi == hi_v:
            return name
    raise IdrTablesError(f"QPA band {label!r} matches none of Table 13's six bands")


def qpa_band(qpa: float) -> str:
    """The Table 13 band a QPA in dollars falls in."""
    if not qpa >= 0:
        raise ValueError(f"QPA must be a non-negative dollar amount, got {qpa!r}")
    for name, lo, hi in QPA_BANDS:
        if lo <= qpa < hi:
            return name
    return QPA_BANDS[-1][0]


def parse_quarter(value: object) -> str:
    """``"2025Q2"`` from ``2025Q2``, ``Q2 2025``, ``2025 Q2`` or ``Q2-2025``."""
    s = str(value).strip().upper()
    m = re.search(r"(20\d\d)\s*-?\s*Q([1-4])", s) or re.search(r"Q([1-4])\s*-?\s*(20\d\d)", s)
    if not m:
        raise ValueError(f"quarter {value!r} is not like 2025Q2 or 'Q2 2025'")
    a, b = m.groups()
    year, q = (a, b) if len(a) == 4 else (b, a)
    return f"{year}Q{q}"


def median_as_multiple(value: float, quarter: str) -> float:
    """A Table 13/14 median as a multiple of QPA: percent from 2025Q1, multiple before.

    A value that contradicts its quarter's unit (a "multiple" over 60 before 2025, a "percent"
    under 30 from 2025) is refused rather than guessed.
    """
    if value is None or not np.isfinite(value):
        return float("nan")
    if quarter >= "2025Q1":
        if value < 30:
            raise IdrTablesError(
                f"{quarter}: median {value} looks like a multiple of QPA, but CMS reports "
                "percent of QPA from 2025Q1; check the column's unit"
            )
        return float(value) / 100.0
    if value > 60:
        raise IdrTablesError(
            f"{quarter}: median {value} looks like a percent of QPA, but CMS reports a "
            "multiple of QPA through 2024Q4; check the column's unit"
        )
    return float(value)


def _pct_cell(v: object) -> float:
    """A cell such as 312, '312%', '1,319%' or '3.07' as a float (NaN when blank or suppressed)."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return float("nan")
    s = str(v).strip().replace(",", "").rstrip("%").strip()
    if s in ("", "NR", "N/R", "*", "^", "+", "-", "nan", "<NA>"):
        return float("nan")
    try:
        return float(s)
    except ValueError:
        return float("nan")


# --- the normalised tables -------------------------------------------------------------------


@dataclass(frozen=True)
class SupplementalTables:
    """Tables 12-14 in canonical columns, units normalised, with where each came from."""

    outcomes: (
        pd.DataFrame
    )  # quarter, segment (oon/air), determinations, provider_wins, payer_wins, split, one_offer
    bands: pd.DataFrame  # quarter, band, median_x, determinations
    specialties: pd.DataFrame  # quarter, specialty, median_x, determinations, source
    source: str
    vintage: str  # the latest quarter
    notes: tuple[str, ...] = field(default_factory=tuple)


_OUTCOME_METRICS = (
    ("determinations", r"^total payment determinations"),
    ("provider_wins", r"provider.*prevailing party"),
    ("payer_wins", r"(?:health plan|issuer).*prevailing party"),
    ("split", r"split decision"),
    ("one_offer", r"only one party"),
)


def _norm(s: object) -> str:
    return " ".join(str(s).strip().lower().replace("_", " ").split())


def _col(df: pd.DataFrame, *patterns: str) -> str | None:
    for c in df.columns:
        n = _norm(c)
        if any(re.search(p, n) for p in patterns):
            return str(c)
    return None


def _classify(df: pd.DataFrame) -> str | None:
    """Which CMS table a frame holds, from its columns and first-column text (never its name)."""
    first = df.iloc[:, 0].astype("str").str.lower() if len(df.columns) else pd.Series(dtype=str)
    if _col(df, r"^specialty$", r"specialty") and _col(df, r"median prevailing"):
        return "table14"
    if _col(df, r"qpa.?range", r"qpa band", r"qpa amount") and _col(df, r"median prevailing"):
        return "table13"
    if first.str.contains("total payment determinations made").any():
        return "table12"
    if first.str.contains("challenged as ineligible").any():
        return "table4"
    if first.str.contains("payment determination reached").any():
        return "table5"
    return None


def _value_cols(df: pd.DataFrame) -> tuple[str, str | None]:
    oon = _col(df, r"^oon nonemergency$", r"oon.*emergency", r"non.?emergency")
    air = _col(df, r"air")
    if oon is None:
        raise IdrTablesError("Table 12 has no OON emergency/non-emergency column")
    return oon, air


def _outcomes(df: pd.DataFrame, where: str) -> pd.DataFrame:
    oon, air = _value_cols(df)
    metric = df.iloc[:, 0].astype("str").map(_norm)
    rows = []
    for q, g in df.assign(_m=metric).groupby("quarter", sort=True):
        for seg, col in (("oon", oon), ("air", air)):
            if col is None:
                continue
            rec: dict[str, object] = {"quarter": q, "segment": seg}
            for key, pat in _OUTCOME_METRICS:
                hit = g[g["_m"].str.contains(pat, regex=True)]
                rec[key] = float(hit[col].map(_pct_cell).sum()) if len(hit) else np.nan
            if not rec["determinations"] or not np.isfinite(rec["determinations"]):
                raise IdrTablesError(
                    f"{where}: quarter {q} has no 'Total Payment Determinations Made' count in "
                    f"column {col!r}; is this CMS Table 12?"
                )
            rows.append(rec)
    return pd.DataFrame(rows)


def _medians(df: pd.DataFrame, key_col: str, key_fn, where: str) -> pd.DataFrame:
    med = _col(df, r"median prevailing")
    det = _col(df, r"total.?payment.?determinations", r"determinations")
    assert med is not None
    rows = []
    for i, r in df.iterrows():
        q = str(r["quarter"])
        raw = _pct_cell(r[med])
        try:
            mult = median_as_multiple(raw, q)
        except IdrTablesError as e:
            raise IdrTablesError(f"{where} row {i}: {e}") from None
        n = _pct_cell(r[det]) if det else np.nan
        rows.append(
            {"quarter": q, "key": key_fn(r[key_col]), "median_x": mult, "determinations": n}
        )
    out = pd.DataFrame(rows)

    # rows that alias to one label in a quarter (inpatient + observation in 2023) are merged:
    # determinations summed, median = determinations-weighted geometric mean (an approximation)
    def _merge(g: pd.DataFrame) -> pd.Series:
        w = g["determinations"].fillna(0.0)
        ok = g["median_x"].notna() & (w > 0)
        if ok.any():
            m = float(np.exp(np.average(np.log(g.loc[ok, "median_x"]), weights=w[ok])))
        else:
            m = float("nan")
        return pd.Series({"median_x": m, "determinations": float(w.sum()), "merged": len(g)})

    return (
        out.groupby(["quarter", "key"], sort=True).apply(_merge, include_groups=False).reset_index()
    )


def _with_quarter(df: pd.DataFrame, where: str, default_quarter: str | None) -> pd.DataFrame:
    qc = _col(df, r"^quarter$", r"reporting quarter")
    if qc is not None:
        out = df.copy()
        out["quarter"] = out[qc].map(parse_quarter)
        return out
    if default_quarter is None:
        raise IdrTablesError(
            f"{where}: no Quarter column and no quarter in the title or file name; name the "
            "file like 'federal-idr-supplemental-tables-q2-2025.xlsx'"
        )
    return df.assign(quarter=default_quarter)


def _read_xlsx(path: Path) -> list[tuple[str, pd.DataFrame, str | None]]:
    """CMS's XLSX release: one sheet per table, title rows above the header, footnotes below."""
    out = []
    xl = pd.ExcelFile(path)
    for sh in xl.sheet_names:
        raw = pd.read_excel(xl, sheet_name=sh, header=None, dtype="object")
        if raw.empty:
            continue
        title = " ".join(
            str(v) for v in raw.iloc[: min(5, len(raw)), 0].tolist() if isinstance(v, str)
        )
        quarter = None
        for text in (title, path.name.replace("-", " ").replace("_", " ")):
            try:
                quarter = parse_quarter(text)
                break
            except ValueError:
                continue
        hdr = None
        for i in range(min(15, len(raw))):
            cells = [_norm(v) for v in raw.iloc[i].tolist() if isinstance(v, str)]
            if len(cells) >= 2 and (  # a header has several cells; a title row has one
                any("median prevailing" in c for c in cells)
                or any(c.startswith("oon") or "air ambulance" in c for c in cells)
            ):
                hdr = i
                break
        if hdr is None:
            continue
        body = raw.iloc[hdr + 1 :].copy()
        body.columns = [
            str(c).strip() if isinstance(c, str) else f"col{j}" for j, c in enumerate(raw.iloc[hdr])
        ]
        body = body.dropna(how="all")
        # footnotes ("Source: ...", "Notes: ...") are text rows without numbers
        nums = body.iloc[:, 1:].apply(lambda s: s.map(_pct_cell)).notna().any(axis=1)
        body = body[nums].reset_index(drop=True)
        out.append((f"{path.name} sheet {sh!r}", body, quarter))
    return out


def _read_any(path: Path) -> list[tuple[str, pd.DataFrame, str | None]]:
    if path.suffix.lower() == ".parquet":
        return [(path.name, pd.read_parquet(path), None)]
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    if path.suffix.lower() == ".csv":
        return [(path.name, pd.read_csv(path, dtype="str"), None)]
    return []


def load_supplemental(paths: str | Path | list[str | Path]) -> SupplementalTables:
    """Read Tables 12-14 from a folder or files (Parquet extract or CMS XLSX), by content.

    Raises :class:`IdrTablesError` naming the file when a needed table is missing or unreadable.
    """
    plist = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]
    files: list[Path] = []
    for p in plist:
        if p.is_dir():
            files += sorted(
                f for f in p.iterdir() if f.suffix.lower() in (".parquet", ".xlsx", ".xlsm")
            )
        elif p.is_file():
            files.append(p)
        else:
            raise IdrTablesError(f"{p}: no such file or folder of IDR supplemental tables")
    found: dict[str, list[pd.DataFrame]] = {"table12": [], "table13": [], "table14": []}
    notes: list[str] = []
    where_of: dict[str, list[str]] = {k: [] for k in found}
    for f in files:
        for where, df, q in _read_any(f):
            kind = _classify(df)
            if kind is None:
                continue
            if kind in ("table4", "table5"):
                label = (
                    "Table 4 (disputes challenged as ineligible)"
                    if kind == "table4"
                    else ("Table 5 (closed disputes by closure reason)")
                )
                notes.append(f"{where} holds {label}, whatever its name says; not used for priors")
                continue
            found[kind].append(_with_quarter(df, where, q))
            where_of[kind].append(where)
    missing = [k for k, v in found.items() if not v]
    if missing:
        names = {
            "table12": "Table 12 (payment determination outcomes)",
            "table13": "Table 13 (median prevailing offer by QPA band)",
            "table14": "Table 14 (median prevailing offer by specialty)",
        }
        raise IdrTablesError(
            f"{', '.join(map(str, plist))}: no {', '.join(names[m] for m in missing)} found; "
            "give the folder of CMS's Federal IDR supplemental tables (XLSX) or the Parquet extract"
        )
    t12 = pd.concat(found["table12"], ignore_index=True)
    outcomes = _outcomes(t12, "; ".join(where_of["table12"]))
    t13 = pd.concat(found["table13"], ignore_index=True)
    bcol = _col(t13, r"qpa.?range", r"qpa band", r"qpa amount")
    bands = _medians(t13, bcol, canonical_band, "; ".join(where_of["table13"])).rename(
        columns={"key": "band"}
    )
    t14 = pd.concat(found["table14"], ignore_index=True)
    scol = _col(t14, r"^specialty$", r"specialty")
    specs = _medians(t14, scol, canonical_specialty, "; ".join(where_of["table14"])).rename(
        columns={"key": "specialty"}
    )
    for name, t in (("Table 13", bands), ("Table 14", specs)):
        gone = sorted(t.loc[t["median_x"].isna(), "quarter"].unique())
        if gone:
            notes.append(
                f"{name}: median prevailing offer missing in {', '.join(gone)} "
                "(values lost in the source's conversion); earlier quarters carried"
            )
    vintage = str(outcomes["quarter"].max())
    return SupplementalTables(
        outcomes=outcomes.sort_values(["quarter", "segment"]).reset_index(drop=True),
        bands=bands[["quarter", "band", "median_x", "determinations"]],
        specialties=specs[["quarter", "specialty", "median_x", "determinations", "merged"]],
        source="CMS Federal IDR supplemental tables 12-14 ("
        + ", ".join(sorted({Path(w.split(" sheet")[0]).name for v in where_of.values() for w in v}))
        + ")",
        vintage=vintage,
        notes=tuple(notes),
    )


def air_ambulance_medians(path: str | Path) -> pd.DataFrame:
    """Median prevailing offer (multiple of QPA) per quarter from CMS's air-ambulance line-level PUF.

    The extract's "as % of QPA" columns hold ratios (2.41 = 241%); quarters whose offers are all
    null (2024Q3-Q4) are left out.
    """
    path = Path(path)
    df = pd.read_parquet(path)
    col = _col(df, r"prevailing party offer as % of qpa")
    if col is None or "Quarter" not in df.columns:
        raise IdrTablesError(f"{path}: no 'Prevailing Party Offer as % of QPA' / Quarter column")
    v = pd.to_numeric(df[col].replace("<NA>", np.nan), errors="coerce")
    d = pd.DataFrame({"quarter": df["Quarter"].map(parse_quarter), "v": v})
    d = d[d["v"] > 0]
    g = d.groupby("quarter")["v"].agg(["median", "size"]).reset_index()
    return pd.DataFrame(
        {
            "quarter": g["quarter"],
            "specialty": "Air Ambulance",
            "median_x": g["median"],
            "determinations": g["size"].astype("float64"),
            "merged": 1,
        }
    )


# --- shrinkage and priors ------------------------------------------------------------------------


def shrink_log_medians(
    median_x: np.ndarray, n: np.ndarray, center: float, sigma: float = SIGMA_LOG_OFFER
) -> tuple[np.ndarray, np.ndarray, float]:
    """Empirical-Bayes shrinkage of cell medians toward ``center`` (a multiple) on the log scale.

    Cell i: log median ~ N(theta_i, v_i), v_i = (pi/2) sigma^2 / n_i (the median's sampling
    variance); theta_i ~ N(log center, tau^2), tau^2 by the DerSimonian-Laird moment estimate.
    Returns (shrunk multiples, posterior SD of log theta, tau^2).
    """
    y = np.log(np.asarray(median_x, dtype="float64"))
    nn = np.maximum(np.asarray(n, dtype="float64"), 1.0)
    v = (math.pi / 2.0) * sigma**2 / nn
    mu = math.log(center)
    ok = np.isfinite(y)
    w = 1.0 / v[ok]
    k = int(ok.sum())
    if k >= 2:
        q = float(np.sum(w * (y[ok] - mu) ** 2))
        tau2 = max(0.0, (q - k) / (w.sum() - (w**2).sum() / w.sum()))  # centre known: k dof
    else:
        tau2 = 0.0
    b = v / (v + tau2) if tau2 > 0 else np.ones_like(v)
    post = b * mu + (1.0 - b) * y
    post_sd = np.sqrt((1.0 - b) * v + b * 0.0) if tau2 > 0 else np.zeros_like(v)
    post = np.where(ok, post, np.nan)
    return np.exp(post), np.where(ok, post_sd, np.nan), tau2


def wilson(wins: float, n: float, conf: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (statsmodels)."""
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(int(round(wins)), int(round(n)), alpha=1 - conf, method="wilson")
    return float(lo), float(hi)


PRIOR_COLUMNS = [
    "quarter",
    "specialty",
    "band",
    "segment",
    "win_probability",
    "win_low",
    "win_high",
    "determinations",
    "one_offer_share",
    "award_multiple_of_qpa",
    "award_low",
    "award_high",
    "specialty_median_raw",
    "specialty_median_shrunk",
    "specialty_determinations",
    "all_specialty_median",
    "band_median",
    "median_quarter",
    "source",
]


def _all_specialty(bands_q: pd.DataFrame) -> float:
    """All-specialty median multiple of a quarter: determinations-weighted log mean of the bands."""
    b = bands_q[bands_q["median_x"].notna() & (bands_q["determinations"] > 0)]
    if b.empty:
        return float("nan")
    return float(np.exp(np.average(np.log(b["median_x"]), weights=b["determinations"])))


def build_priors(tables: SupplementalTables) -> pd.DataFrame:
    """Priors per quarter x Table 14 specialty (plus "All specialties") x QPA band (plus "all")."""
    rows = []
    quarters = sorted(tables.outcomes["quarter"].unique())
    last_med_q: str | None = None
    for q in quarters:
        bq = tables.bands[tables.bands["quarter"].eq(q)]
        sq = tables.specialties[tables.specialties["quarter"].eq(q)]
        med_q = q
        if _all_specialty(bq) != _all_specialty(bq) or sq["median_x"].notna().sum() < 2:
            if last_med_q is None:
                continue
            med_q = last_med_q
            bq = tables.bands[tables.bands["quarter"].eq(med_q)]
            sq = tables.specialties[tables.specialties["quarter"].eq(med_q)]
        else:
            last_med_q = q
        center = _all_specialty(bq)
        sq = sq[sq["median_x"].notna()]
        shrunk, post_sd, tau2 = shrink_log_medians(
            sq["median_x"].to_numpy(), sq["determinations"].to_numpy(), center
        )
        cells = [("All specialties", center, center, 0.0, float(bq["determinations"].sum()))]
        cells += [
            (s, float(raw), float(sh), float(sd), float(n))
            for s, raw, sh, sd, n in zip(
                sq["specialty"], sq["median_x"], shrunk, post_sd, sq["determinations"], strict=True
            )
        ]
        band_med = dict(zip(bq["band"], bq["median_x"], strict=True))
        for seg in ("oon", "air"):
            o = tables.outcomes[
                tables.outcomes["quarter"].eq(q) & tables.outcomes["segment"].eq(seg)
            ]
            if o.empty:
                continue
            o = o.iloc[0]
            n_det, wins = float(o["determinations"]), float(o["provider_wins"])
            p = wins / n_det
            lo, hi = wilson(wins, n_det)
            one = float(o["one_offer"]) / n_det if np.isfinite(o["one_offer"]) else np.nan
            for spec, raw, sh, sd, n in cells:
                if (seg == "air") != (spec == "Air Ambulance"):
                    if not (seg == "air" and spec == "All specialties"):
                        continue
                for band in ("all",) + tuple(b for b, _, _ in QPA_BANDS):
                    ratio = 1.0 if band == "all" else band_med.get(band, np.nan) / center
                    if spec == "Air Ambulance" and band != "all":
                        ratio = 1.0  # no air-ambulance band table: the specialty value
                    award = sh * ratio
                    src = (
                        f"win: Table 12 {q} {'air ambulance' if seg == 'air' else 'OON'} "
                        f"{int(wins):,}/{int(n_det):,} provider-prevailing (all specialties; CMS "
                        f"publishes no specialty split); award: Table 14 {med_q} {spec} median "
                        f"{raw:.2f}x QPA on {int(n):,} determinations"
                    )
                    if spec != "All specialties" and abs(sh - raw) > 0.005:
                        src += f", shrunk to {sh:.2f}x toward the all-specialty {center:.2f}x"
                    if band != "all" and spec != "Air Ambulance":
                        src += (
                            f"; x Table 13 band {band} {band_med.get(band, np.nan):.2f}x / "
                            f"all-specialty {center:.2f}x (specialty + band, log-additive: an assumption)"
                        )
                    if med_q != q:
                        src += f"; {q} medians missing in the tables: {med_q} carried"
                    rows.append(
                        {
                            "quarter": q,
                            "specialty": spec,
                            "band": band,
                            "segment": seg,
                            "win_probability": p,
                            "win_low": lo,
                            "win_high": hi,
                            "determinations": n_det,
                            "one_offer_share": one,
                            "award_multiple_of_qpa": award,
                            "award_low": award * math.exp(-1.645 * sd),
                            "award_high": award * math.exp(1.645 * sd),
                            "specialty_median_raw": raw,
                            "specialty_median_shrunk": sh,
                            "specialty_determinations": n,
                            "all_specialty_median": center,
                            "band_median": band_med.get(band, np.nan) if band != "all" else center,
                            "median_quarter": med_q,
                            "source": src,
                        }
                    )
    return pd.DataFrame(rows, columns=PRIOR_COLUMNS)


# --- packaged tables ------------------------------------------------------------------------------


def write_packaged(tables: SupplementalTables, out_dir: str | Path, *, source_note: str) -> Path:
    """Write the normalised tables as small CSVs plus ``meta.json`` (vintage, source, notes)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tables.outcomes.to_csv(out / "outcomes.csv", index=False)
    tables.bands.to_csv(out / "qpa_bands.csv", index=False)
    tables.specialties.to_csv(out / "specialties.csv", index=False)
    meta = {
        "vintage": tables.vintage,
        "source": tables.source,
        "source_note": source_note,
        "units": "median_x is a multiple of QPA in every quarter (CMS: multiple through 2024Q4, "
        "percent from 2025Q1; converted here)",
        "notes": list(tables.notes),
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return out


def read_packaged(path: str | Path = PACKAGED_DIR) -> SupplementalTables:
    """The packaged (or a written) set of normalised tables."""
    p = Path(path)
    try:
        meta = json.loads((p / "meta.json").read_text(encoding="utf-8"))
        outcomes = pd.read_csv(p / "outcomes.csv", dtype={"quarter": "str", "segment": "str"})
        bands = pd.read_csv(p / "qpa_bands.csv", dtype={"quarter": "str", "band": "str"})
        specs = pd.read_csv(p / "specialties.csv", dtype={"quarter": "str", "specialty": "str"})
    except FileNotFoundError as e:
        raise IdrTablesError(
            f"{p}: packaged IDR tables incomplete ({e.filename} missing)"
        ) from None
    return SupplementalTables(
        outcomes,
        bands,
        specs,
        source=meta["source"],
        vintage=meta["vintage"],
        notes=tuple(meta.get("notes", ())),
    )


@lru_cache(maxsize=4)
def packaged_priors(path: str = str(PACKAGED_DIR)) -> tuple[pd.DataFrame, str, str]:
    """(priors table, source, vintage) built from the packaged tables, once per process."""
    t = read_packaged(path)
    return build_priors(t), t.source, t.vintage


# --- a newer release ------------------------------------------------------------------------------


def cache_dir() -> Path:
    """Where an imported release is kept: ``<cache>/idr_supplemental`` (the PFS import's cache root)."""
    from oonplaybook.reference import pfs

    return pfs.cache_dir() / "idr_supplemental"


def import_release(path: str | Path, dest: str | Path | None = None) -> SupplementalTables:
    """Read a newer CMS release (folder or XLSX files) and keep its normalised tables in the cache.

    From then on :func:`current_tables` (and ``idr.IdrPriors.default()``) use it when its
    vintage is newer than the packaged one. Nothing is written when the release cannot be read.
    """
    t = load_supplemental(path)
    write_packaged(t, Path(dest) if dest else cache_dir(), source_note=f"imported from {path}")
    packaged_priors.cache_clear()
    return t


def current_dir() -> Path:
    """The newest set of tables: an imported release when newer than the packaged one."""
    c = cache_dir()
    try:
        imported = json.loads((c / "meta.json").read_text(encoding="utf-8"))["vintage"]
        packaged = json.loads((PACKAGED_DIR / "meta.json").read_text(encoding="utf-8"))["vintage"]
    except (FileNotFoundError, KeyError, json.JSONDecodeError):
        return PACKAGED_DIR
    return c if imported > packaged else PACKAGED_DIR
