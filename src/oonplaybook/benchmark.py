"""The benchmark ladder: every benchmark that applies to a claim line, side by side.

Rungs (each with ``<rung>_source`` and ``<rung>_vintage`` columns):

* **medicare**: Medicare PFS allowed amount for the line's locality and the fee-schedule year
  (``reference.pfs``); ``paid_x_medicare``, ``allowed_x_medicare``, ``billed_x_medicare``.
  Medicare rates are not an IDR factor (45 CFR 149.510(c)(4)(v); docs/domain.md §1.7): they are the
  analyst's yardstick, not an argument to an IDR entity.
* **ucr**: percentiles of the client's own billed charges (``ucr_p50`` ...), per unit. Cells
  need ``ucr_min_count`` charges; fall-back ladder (first level with enough charges wins,
  ``ucr_level`` and ``ucr_count`` say which and how many):

  1. ``code+mod+locality``  same code and pricing modifier (26/TC/none) in the line's locality
  2. ``code+mod+state``     same code and modifier, any locality of the state
  3. ``code+mod``           same code and modifier, all of the client's charges
  4. ``family+locality``    percentiles of the charge-to-Medicare multiple of the code family
     (``reference.code_families``) in the locality, times this line's Medicare amount
  5. ``family``             the same multiple over the whole family, times Medicare

  Per unit means charge / units for unit lines and charge / (base + time units) for anesthesia
  (minutes, ``MJ``), the way FAIR Health reports anesthesia (a $/unit conversion factor).
  Billed charges and UCR are **not** IDR factors (45 CFR 149.510(c)(4)(v)); they matter for
  state UCR standards (e.g. NY's 80th percentile, docs/domain.md §3.3) and plan appeals.
* **fh**: the same percentiles from a bring-your-own FAIR-Health-format table
  (:func:`read_fair_health`; FAIR Health data is licensed and never shipped).
* **qpa**: the payer's QPA where the remit/export carries it (must be considered by an IDRE,
  45 CFR 149.510(c)(4)(iii)(A)).
* **tic**: the payer's own out-of-network allowed amounts for the code from Transparency-in-
  Coverage allowed-amounts files (``oonplaybook.tic``); provider-NPI match preferred.

Gaps: ``gap_<rung> = benchmark - (paid + patient responsibility)`` in dollars (positive = below
the benchmark), one basis for every allowed-level rung; ``gap_plan_payment_medicare`` (Medicare -
plan payment) is the plan-payment gap, shown apart.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from oonplaybook.reference import pfs
from oonplaybook.reference.code_families import code_families
from oonplaybook.reference.localities import fill_localities_from_zip

#: Published charge-to-Medicare multiples by specialty (Bai & Anderson, JAMA 2017; docs/domain.md
#: §3.2). Keys are oonplaybook specialty profiles; specialties without a published figure use
#: the all-specialty median (2.5x).
PUBLISHED_CHARGE_MULTIPLES: dict[str, tuple[float, str]] = {
    "anesthesiology": (5.8, "Anesthesiology 5.8x"),
    "emergency_medicine": (4.0, "Emergency medicine 4.0x"),
    "pathology": (4.0, "Pathology 4.0x"),
    "neurosurgery_ionm": (4.0, "Neurosurgery 4.0x"),
    "radiology": (3.8, "Diagnostic radiology 3.8x (interventional 4.5x)"),
}
ALL_SPECIALTIES_CHARGE_MULTIPLE = (2.5, "All specialties (median) 2.5x")
PUBLISHED_SOURCE = "Bai & Anderson, JAMA 2017"  # docs/domain.md §3.2

UCR_LEVELS = ("code+mod+locality", "code+mod+state", "code+mod", "family+locality", "family")

#: Bring-your-own FAIR Health table: required columns (extra columns are ignored).
#: ``code`` 5-char CPT/HCPCS (quoted, leading zeros kept); ``modifier`` "", "26" or "TC";
#: ``area`` a MAC-locality ("13202-01") or a 2-letter state (map FAIR Health geozips to one of
#: these yourself); ``p50``/``p75``/``p80``/``p90`` (any ``pNN`` present) dollars **per unit**
#: (anesthesia: per base+time unit); optional ``vintage`` (e.g. "FH Benchmarks 2025 H1").
FAIR_HEALTH_REQUIRED = ("code", "modifier", "area")


class BenchmarkInputError(ValueError):
    """Bad benchmark input; the message names the file/column and the fix."""


def read_fair_health(path: str | Path) -> pd.DataFrame:
    """Read a bring-your-own FAIR-Health-format CSV (schema: :data:`FAIR_HEALTH_REQUIRED`)."""
    path = Path(path)
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.columns = [c.strip().lower() for c in df.columns]
    missing = [c for c in FAIR_HEALTH_REQUIRED if c not in df.columns]
    pcts = [c for c in df.columns if c.startswith("p") and c[1:].isdigit()]
    if missing or not pcts:
        raise BenchmarkInputError(
            f"{path}: FAIR Health table needs columns code, modifier, area and p50/p75/p80/p90 "
            f"(missing: {missing or 'percentile columns'})"
        )
    bad = ~df["code"].str.fullmatch(r"[0-9A-Z]{5}")
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise BenchmarkInputError(
            f"{path}: row {i + 2}: code {df['code'].iloc[i]!r} is not 5 characters; keep leading "
            "zeros (00790), quote codes when exporting from Excel"
        )
    for c in pcts:
        vals = pd.to_numeric(df[c].str.replace(r"[$,]", "", regex=True), errors="coerce")
        if vals.isna().any():
            i = int(np.flatnonzero(vals.isna().to_numpy())[0])
            raise BenchmarkInputError(
                f"{path}: row {i + 2}: {c} = {df[c].iloc[i]!r} is not a number"
            )
        df[c] = vals
    df["area"] = [_norm_area(a) for a in df["area"]]
    if "vintage" not in df.columns:
        df["vintage"] = path.name
    return df


def _norm_area(a: str) -> str:
    a = a.strip().upper()
    if len(a) == 2 and a.isalpha():
        return a
    return pfs.normalize_locality(a)


def _pricing_mod(mods: pd.Series) -> pd.Series:
    """The component modifier that changes what a charge is for: 26, TC or ""."""
    uniq = pd.unique(mods.astype("str"))
    m = {}
    for u in uniq:
        parts = str(u).upper().replace(",", ":").split(":")
        m[u] = "26" if "26" in parts else ("TC" if "TC" in parts else "")
    return mods.astype("str").map(m).astype("str")


def _group_ids(keys: list[pd.Series]) -> np.ndarray:
    """Dense int64 id of each row's key tuple (factorise each column, combine, renumber)."""
    combined = np.zeros(len(keys[0]), dtype="int64")
    for k in keys:
        codes, uniq = pd.factorize(k, use_na_sentinel=False)
        combined = combined * (len(uniq) + 1) + codes
    return np.unique(combined, return_inverse=True)[1].reshape(-1)


def _group_quantiles(
    keys: list[pd.Series], values: pd.Series, pcts: Sequence[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(group id per line, percentiles per group, count per group)`` of ``values`` grouped by
    the key tuple (linear interpolation, as numpy). NaN values are left out of their group.

    Vectorised: one sort by (group, value)."""
    gid = _group_ids(keys)
    v = values.to_numpy(dtype="float64")
    ok = ~np.isnan(v)
    g_ok, v_ok = gid[ok], v[ok]
    order = np.lexsort((v_ok, g_ok))
    g_s, v_s = g_ok[order], v_ok[order]
    n_groups = int(gid.max()) + 1 if len(gid) else 0
    counts = np.bincount(g_s, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    q = np.full((n_groups, len(pcts)), np.nan)
    have = counts > 0
    for j, p in enumerate(pcts):
        pos = (p / 100) * (counts[have] - 1)
        lo = np.floor(pos).astype("int64")
        hi = np.minimum(lo + 1, counts[have] - 1)
        base = starts[have]
        q[have, j] = v_s[base + lo] + (v_s[base + hi] - v_s[base + lo]) * (pos - lo)
    return gid, q, counts


def _per_line_quantiles(
    keys: list[pd.Series], values: pd.Series, pcts: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Each line's group percentiles (linear interpolation, as numpy) and group count."""
    gid, q, counts = _group_quantiles(keys, values, pcts)
    return q[gid], counts[gid]


def _lookup(table: pd.DataFrame, keys: list[pd.Series]) -> pd.DataFrame:
    """Rows of a (Multi)Indexed ``table`` for each line's key tuple, NaN when absent.

    Looks up each distinct key tuple once and broadcasts, so 1M lines cost one factorisation.
    """
    gid = _group_ids(keys)
    _, first = np.unique(gid, return_index=True)
    if len(keys) == 1:
        idx = pd.Index(keys[0].to_numpy()[first])
    else:
        idx = pd.MultiIndex.from_arrays([k.to_numpy()[first] for k in keys])
    got = table.reindex(idx)
    return got.iloc[gid].reset_index(drop=True)


#: The UCR fall-back levels: name, the key columns of :func:`ucr_inputs`, the value grouped
#: (charge per unit, or charge as a multiple of Medicare) and what a percentile is scaled by.
UCR_LEVELS: tuple[tuple[str, tuple[str, ...], str, str], ...] = (
    ("code+mod+locality", ("cpt", "mod", "loc"), "per_unit", "units"),
    ("code+mod+state", ("cpt", "mod", "state"), "per_unit", "units"),
    ("code+mod", ("cpt", "mod"), "per_unit", "units"),
    ("family+locality", ("family", "loc"), "multiple", "medicare"),
    ("family", ("family",), "multiple", "medicare"),
)


_UCR_KEYS = ("cpt", "mod", "loc", "state", "family")


def ucr_inputs(
    lines: pd.DataFrame, per_unit_charge: pd.Series, charge_multiple: pd.Series
) -> pd.DataFrame:
    """The narrow table UCR percentiles are computed from: each line's level keys (code,
    pricing modifier, Medicare locality ``_loc``, state, code family) and its two charge values.

    Per part of a large client these are concatenated so the percentiles are exact over the
    whole client (:func:`ucr_tables`), not averaged per part."""
    return pd.DataFrame(
        {
            "cpt": lines["cpt"].astype("str").to_numpy(),
            "mod": _pricing_mod(lines["modifiers"]).to_numpy(),
            "loc": lines["_loc"].to_numpy(),
            "state": lines["state"].astype("str").to_numpy(),
            "family": code_families(lines["cpt"]).to_numpy(),
            "per_unit": per_unit_charge.to_numpy(dtype="float64"),
            "multiple": charge_multiple.to_numpy(dtype="float64"),
        }
    )


def ucr_tables(inputs: pd.DataFrame, percentiles: Sequence[int]) -> dict[str, pd.DataFrame]:
    """Per UCR level, one row per group of its keys: the percentiles (``q50``...) and the count
    of the group's charges, over every line of ``inputs`` (exact whatever parts they came from)."""
    pcts = sorted({int(p) for p in percentiles})
    out = {}
    for name, keys, value, _ in UCR_LEVELS:
        cols = [inputs[k].reset_index(drop=True) for k in keys]
        gid, q, counts = _group_quantiles(cols, inputs[value].reset_index(drop=True), pcts)
        _, first = np.unique(gid, return_index=True)
        table = pd.DataFrame({k: c.to_numpy()[first] for k, c in zip(keys, cols, strict=True)})
        for j, p in enumerate(pcts):
            table[f"q{p}"] = q[:, j]
        table["count"] = counts
        out[name] = table
    return out


def ucr_ladder(
    lines: pd.DataFrame,
    per_unit_charge: pd.Series,
    charge_multiple: pd.Series,
    charge_units: pd.Series,
    medicare: pd.Series,
    *,
    percentiles: Sequence[int] = (50, 75, 80, 90),
    min_count: int = 20,
    tables: dict[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """UCR percentiles (line dollars) from the client's charges with the documented fall-back.

    ``tables`` (:func:`ucr_tables` over the whole client) prices one part of a large client
    with the whole client's percentiles; without them the percentiles are those of ``lines``."""
    n = len(lines)
    percentiles = sorted({int(p) for p in percentiles})
    inputs = ucr_inputs(lines, per_unit_charge, charge_multiple)
    out = {f"ucr_p{p}": np.full(n, np.nan) for p in percentiles}
    count = np.zeros(n, dtype="int64")
    level = np.full(n, "", dtype=object)
    todo = np.ones(n, dtype=bool)
    scales = {"units": charge_units, "medicare": medicare}
    for name, keys, value, scale_name in UCR_LEVELS:
        if not todo.any():
            break
        if tables is None:
            q, cnt = _per_line_quantiles([inputs[k] for k in keys], inputs[value], percentiles)
        else:
            got = inputs[list(keys)].merge(tables[name], how="left", on=list(keys))
            q = got[[f"q{p}" for p in percentiles]].to_numpy(dtype="float64")
            cnt = got["count"].fillna(0).to_numpy(dtype="int64")
        sc = scales[scale_name].to_numpy(dtype="float64")
        ok = todo & (cnt >= min_count) & ~np.isnan(sc)
        for j, p in enumerate(percentiles):
            out[f"ucr_p{p}"][ok] = q[ok, j] * sc[ok]
        count[ok] = cnt[ok]
        level[ok] = name
        todo &= ~ok
    level[todo] = f"none (fewer than {min_count} charges at every level)"
    res = pd.DataFrame({k: np.round(v, 2) for k, v in out.items()}, index=lines.index)
    res["ucr_count"] = count
    res["ucr_level"] = pd.array(level.astype(str), dtype="str")
    return res


#: Words too common in payer names to identify one (for matching TiC reporting entities).
_PAYER_STOPWORDS = frozenset(
    "the of and inc llc co corp company health healthcare insurance insurer plan plans benefit "
    "benefits care group mutual services network".split()
)


def _name_tokens(name: str) -> frozenset[str]:
    return frozenset(re.sub(r"[^a-z0-9 ]", " ", str(name).lower()).split()) - _PAYER_STOPWORDS


def match_tic_payers(tic: pd.DataFrame, payers: Sequence[str]) -> pd.Series:
    """The claim-line payer each TiC row belongs to ("" when no single payer matches).

    A row's reporting entity / plan name matches a payer when the distinctive words of one
    contain the other's (e.g. "Keystone Mutual Health" ~ "KEYSTONE MUTUAL HEALTH PLAN INC").
    """
    ptoks = {p: _name_tokens(p) for p in sorted(set(payers)) if _name_tokens(p)}
    labels = (
        tic["reporting_entity_name"].astype("str") + " " + tic["plan_name"].astype("str")
    ).str.replace(":", " ")
    out = {}
    for lab in pd.unique(labels):
        et = _name_tokens(lab)
        hits = [p for p, pt in ptoks.items() if et and (pt <= et or et <= pt)]
        out[lab] = hits[0] if len(hits) == 1 else ""
    return labels.map(out).astype("str")


def _tic_rung(
    lines: pd.DataFrame, tic: pd.DataFrame | None, payers: Sequence[str] | None = None
) -> pd.DataFrame:
    """Payer's TiC allowed amounts per line: provider NPI match first, then the code.

    TiC rows are tied to a claim payer by their reporting entity (:func:`match_tic_payers`, or
    a ``payer`` column you add); rows of an entity that matches no payer are used for every
    payer's lines and say so in ``tic_match``.
    """
    n = len(lines)
    res = pd.DataFrame(
        {
            "tic_allowed_median": np.full(n, np.nan),
            "tic_allowed_min": np.full(n, np.nan),
            "tic_allowed_max": np.full(n, np.nan),
            "tic_n": np.zeros(n, dtype="int64"),
            "tic_match": "",
            "tic_source": "",
            "tic_vintage": "",
        },
        index=lines.index,
    )
    if tic is None or tic.empty:
        return res
    t = tic.copy()
    t["billing_code"] = t["billing_code"].astype("str").str.upper()
    if "payer" not in t.columns:
        if payers is None:
            payers = lines["payer"].astype("str").unique().tolist()
        t["payer"] = match_tic_payers(t, payers)
    t["_mod"] = _pricing_mod(t["modifiers"]) if "modifiers" in t.columns else ""
    lmod = _pricing_mod(lines["modifiers"])
    code_keys = [lines["cpt"].astype("str"), lmod]
    payer_key = [lines["payer"].astype("str")]
    npi_key = [lines["provider_npi"].astype("str")] if "provider_npi" in lines.columns else None
    mapped, unmapped = t[t["payer"] != ""], t[t["payer"] == ""]
    stages = []
    for table, with_payer, label in (
        (mapped, True, ""),
        (unmapped, False, " (TiC entity matched to no payer)"),
    ):
        if table.empty:
            continue
        tk = ["billing_code", "_mod"] + (["payer"] if with_payer else [])
        lk = code_keys + (payer_key if with_payer else [])
        name = "code" + ("+payer" if with_payer else "")
        if npi_key is not None:
            t_npi = table.assign(npi=table["npis"].astype("str").str.split(":")).explode("npi")
            t_npi = t_npi[t_npi["npi"].astype("str") != ""]
            stages.append(
                (name.replace("code", "code+npi") + label, t_npi, tk + ["npi"], lk + npi_key)
            )
        stages.append((name + label, table, tk, lk))
    todo = np.ones(n, dtype=bool)
    for name, table, tkeys, lkeys in stages:
        agg = table.groupby(tkeys, sort=True, observed=True).agg(
            med=("allowed_amount", "median"),
            lo=("allowed_amount", "min"),
            hi=("allowed_amount", "max"),
            n=("allowed_amount", "size"),
            src=("file", lambda s: ":".join(sorted(set(s)))),
            ent=("reporting_entity_name", lambda s: ":".join(sorted(set(s)))),
            vin=("last_updated_on", lambda s: ":".join(sorted(set(s)))),
        )
        got = _lookup(agg, lkeys)
        ok = todo & got["med"].notna().to_numpy()
        if not ok.any():
            continue
        for col, src in (
            ("tic_allowed_median", "med"),
            ("tic_allowed_min", "lo"),
            ("tic_allowed_max", "hi"),
        ):
            res.loc[ok, col] = got[src].to_numpy()[ok]
        res.loc[ok, "tic_n"] = got["n"].to_numpy()[ok].astype("int64")
        res.loc[ok, "tic_match"] = name
        res.loc[ok, "tic_source"] = (
            "TiC allowed amounts "
            + got["ent"].astype("str")
            + " ("
            + got["src"].astype("str")
            + ")"
        ).to_numpy()[ok]
        res.loc[ok, "tic_vintage"] = ("last_updated_on " + got["vin"].astype("str")).to_numpy()[ok]
        todo &= ~ok
    return res


def _fh_rung(
    lines: pd.DataFrame, fh: pd.DataFrame, units: pd.Series, pcts: Sequence[int]
) -> pd.DataFrame:
    """FAIR Health percentiles per line: locality row first, else the state row."""
    n = len(lines)
    have = [p for p in pcts if f"p{p}" in fh.columns]
    res = pd.DataFrame({f"fh_p{p}": np.full(n, np.nan) for p in have}, index=lines.index)
    res["fh_level"] = ""
    res["fh_source"] = ""
    res["fh_vintage"] = ""
    f = fh.copy()
    f["modifier"] = f["modifier"].astype("str").str.upper().str.strip()
    tab = f.drop_duplicates(["code", "modifier", "area"], keep="last").set_index(
        ["code", "modifier", "area"]
    )
    lmod = _pricing_mod(lines["modifiers"])
    todo = np.ones(n, dtype=bool)
    for name, area in (("locality", lines["_loc"]), ("state", lines["state"].astype("str"))):
        got = _lookup(tab, [lines["cpt"].astype("str"), lmod, area])
        # lines without a unit count (anesthesia without base units) get no FH amount
        ok = todo & got[f"p{have[0]}"].notna().to_numpy() & units.notna().to_numpy()
        for p in have:
            res.loc[ok, f"fh_p{p}"] = np.round(
                got[f"p{p}"].to_numpy()[ok] * units.to_numpy()[ok], 2
            )
        res.loc[ok, "fh_level"] = name
        res.loc[ok, "fh_source"] = "FAIR Health (bring-your-own table)"
        res.loc[ok, "fh_vintage"] = got["vintage"].astype("str").to_numpy()[ok]
        todo &= ~ok
    return res


@dataclass(frozen=True)
class ClientWide:
    """What one part of a large client needs from the whole client to benchmark its lines as
    the whole table would: the UCR percentile tables, the charge window and the payer names."""

    ucr: dict[str, pd.DataFrame]
    window: str
    payers: tuple[str, ...]


def _service_range(lines: pd.DataFrame) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """First and last service date of ``lines`` (``None``s when no line has one)."""
    if "service_date" not in lines.columns:
        return None, None
    sd = pd.to_datetime(lines["service_date"]).dropna()
    return (sd.min(), sd.max()) if len(sd) else (None, None)


def _charge_window(lo: pd.Timestamp | None, hi: pd.Timestamp | None) -> str:
    """The UCR vintage: the service dates the client's charges span."""
    if lo is None or hi is None:
        return "client charges (service dates unknown)"
    return f"client charges {lo:%Y-%m-%d}..{hi:%Y-%m-%d}"


def _priced(
    claim_lines: pd.DataFrame, *, year: int, default_locality: str, qp: bool
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.Series, pd.Series, pd.Series]:
    """Lines with defaults filled and their Medicare pricing: ``(lines, localities, med,
    charge_units, billed_pos, m_pos)``, the per-line inputs of every rung."""
    need = {"claim_id", "line_no", "cpt"}
    missing = need - set(claim_lines.columns)
    if missing:
        raise BenchmarkInputError(f"claim lines lack column(s) {sorted(missing)}; run ingest first")
    # every line is kept, claim-level lines (line_no 0) included: they get a stated reason
    lines = claim_lines.reset_index(drop=True)
    for col, default in (
        ("modifiers", ""),
        ("state", ""),
        ("payer", ""),
        ("specialty", ""),
        ("claim_status", ""),
    ):
        if col not in lines.columns:
            lines[col] = default
    for col in ("billed", "allowed", "paid", "qpa", "units"):
        if col not in lines.columns:
            lines[col] = np.nan if col != "units" else 1.0
    # a line without a locality takes its service-facility ZIP's (CMS ZIP5), then the default
    loc = fill_localities_from_zip(
        lines["locality"] if "locality" in lines.columns else pd.Series("", index=lines.index),
        lines["service_zip"] if "service_zip" in lines.columns else None,
        default_locality,
    )
    lines["locality"] = loc["locality"]
    med = pfs.medicare_allowed(
        lines, year=year, default_locality=default_locality, qp=qp, detail=True
    )
    lines["_loc"] = med["medicare_locality"]
    m = med["medicare_allowed"]
    m_pos = m.where(m > 0)
    is_anes = med["medicare_status"].eq("J").to_numpy() & med["anes_base"].notna().to_numpy()
    units = pd.to_numeric(lines["units"], errors="coerce").fillna(1.0)
    anes_units = med["anes_base"].fillna(0) + med["time_units"].fillna(0)
    charge_units = pd.Series(np.where(is_anes, anes_units, units), index=lines.index)
    charge_units = charge_units.where(charge_units > 0)
    billed = pd.to_numeric(lines["billed"], errors="coerce")
    billed_pos = billed.where(billed > 0)
    return lines, loc, med, charge_units, billed_pos, m_pos


def client_wide_part(
    claim_lines: pd.DataFrame, *, year: int, default_locality: str, qp: bool = False
) -> tuple[pd.DataFrame, list[str], pd.Timestamp | None, pd.Timestamp | None]:
    """One part's share of :class:`ClientWide`: its UCR inputs, payers and service-date range."""
    lines, _, _, charge_units, billed_pos, m_pos = _priced(
        claim_lines, year=year, default_locality=default_locality, qp=qp
    )
    inputs = ucr_inputs(lines, billed_pos / charge_units, billed_pos / m_pos)
    for c in _UCR_KEYS:
        inputs[c] = inputs[c].astype("category")  # 10M lines: codes, not strings
    lo, hi = _service_range(lines)
    return inputs, sorted(set(lines["payer"].astype("str"))), lo, hi


def combine_client_wide(
    shares: Sequence[tuple[pd.DataFrame, list[str], Any, Any]], percentiles: Sequence[int]
) -> ClientWide:
    """The whole client's :class:`ClientWide` from every part's :func:`client_wide_part`."""
    from pandas.api.types import union_categoricals

    frames = [s[0] for s in shares]
    inputs = pd.DataFrame(
        {
            c: (
                union_categoricals([f[c] for f in frames]).astype("object")
                if c in _UCR_KEYS
                else np.concatenate([f[c].to_numpy() for f in frames])
            )
            for c in frames[0].columns
        }
    )
    los = [s[2] for s in shares if s[2] is not None]
    his = [s[3] for s in shares if s[3] is not None]
    window = _charge_window(min(los) if los else None, max(his) if his else None)
    payers = tuple(sorted({p for s in shares for p in s[1]}))
    return ClientWide(ucr=ucr_tables(inputs, percentiles), window=window, payers=payers)


def build_benchmarks(
    claim_lines: pd.DataFrame,
    *,
    year: int,
    default_locality: str,
    ucr_percentiles: Sequence[int] = (50, 75, 80, 90),
    ucr_min_count: int = 20,
    fair_health: pd.DataFrame | None = None,
    allowed_amounts: pd.DataFrame | None = None,
    qp: bool = False,
    in_network: pd.DataFrame | None = None,
    qpa_flag_below: float = 0.8,
    client_wide: ClientWide | None = None,
) -> pd.DataFrame:
    """One row per claim line (keyed claim_id, line_no) with every benchmark rung side by side.

    ``qp`` prices with the qualifying-APM-participant conversion factors (2026 on; params
    ``benchmark.qualifying_apm_participant``). ``in_network`` is an extracted TiC rate dataset
    (:mod:`oonplaybook.tic_benchmark`): the in-network rung and the QPA check.
    ``client_wide`` benchmarks one part of a large client as the whole table would
    (:func:`build_benchmark_parts`); by default ``claim_lines`` is the whole client.
    """
    pcts = sorted({int(p) for p in ucr_percentiles})
    lines, loc, med, charge_units, billed_pos, m_pos = _priced(
        claim_lines, year=year, default_locality=default_locality, qp=qp
    )
    m = med["medicare_allowed"]
    units = pd.to_numeric(lines["units"], errors="coerce").fillna(1.0)
    billed = pd.to_numeric(lines["billed"], errors="coerce")
    out = pd.DataFrame(
        {
            "claim_id": lines["claim_id"].astype("str"),
            "line_no": lines["line_no"].astype("int64"),
            "payer": lines["payer"].astype("str"),
            "specialty": lines["specialty"].astype("str"),
            "cpt": lines["cpt"].astype("str"),
            "modifiers": lines["modifiers"].astype("str"),
            "code_family": code_families(lines["cpt"]),
            "locality": med["medicare_locality"],
            "locality_source": loc["locality_source"],
            "state": lines["state"].astype("str"),
            "facility": med["medicare_facility"],
            "units": units,
            "claim_status": lines["claim_status"].astype("str"),
            "billed": billed,
            "allowed": pd.to_numeric(lines["allowed"], errors="coerce"),
            "paid": pd.to_numeric(lines["paid"], errors="coerce"),
            "medicare_allowed": m,
            "medicare_status": med["medicare_status"],
            "medicare_reason": med["medicare_reason"],
            "medicare_source": pd.Series("CMS Medicare PFS", index=lines.index, dtype="str"),
            "medicare_vintage": med["medicare_vintage"],
        }
    )
    for what in ("paid", "allowed", "billed"):
        v = out[what]
        out[f"{what}_x_medicare"] = (v / m_pos).where(v.notna())
    ucr = ucr_ladder(
        lines,
        billed_pos / charge_units,
        billed_pos / m_pos,
        charge_units,
        m_pos,
        percentiles=pcts,
        min_count=ucr_min_count,
        tables=client_wide.ucr if client_wide is not None else None,
    )
    out = pd.concat([out, ucr], axis=1)
    if client_wide is not None:
        window = client_wide.window
    else:
        window = _charge_window(*_service_range(lines))
    out["ucr_source"] = pd.Series("client's billed charges", index=out.index, dtype="str")
    out["ucr_vintage"] = pd.Series(window, index=out.index, dtype="str")
    if fair_health is not None and not fair_health.empty:
        out = pd.concat([out, _fh_rung(lines, fair_health, charge_units, pcts)], axis=1)
    else:
        for p in pcts:
            out[f"fh_p{p}"] = np.nan
        out["fh_level"] = ""
        out["fh_source"] = "not supplied (bring-your-own FAIR Health table)"
        out["fh_vintage"] = ""
    qpa = pd.to_numeric(lines["qpa"], errors="coerce")
    out["qpa"] = qpa
    out["qpa_source"] = np.where(qpa.notna(), "payer QPA on remit/export", "")
    out["qpa_source"] = out["qpa_source"].astype("str")
    if "service_date" in lines.columns:
        yr = pd.to_datetime(lines["service_date"]).dt.year
        out["qpa_vintage"] = np.where(
            qpa.notna() & yr.notna(), "service year " + yr.astype("Int64").astype("str"), ""
        )
    else:
        out["qpa_vintage"] = np.where(qpa.notna(), "as reported", "")
    out["qpa_vintage"] = out["qpa_vintage"].astype("str")
    out["qpa_x_medicare"] = qpa / m_pos
    payers = client_wide.payers if client_wide is not None else None
    out = pd.concat([out, _tic_rung(lines, allowed_amounts, payers)], axis=1)
    from oonplaybook.tic_benchmark import in_network_rung

    out = pd.concat(
        [out, in_network_rung(lines, in_network, qpa_flag_below=qpa_flag_below, payers=payers)],
        axis=1,
    )
    # gaps on one basis (issue 14): every rung is an allowed-level amount, so it is compared
    # with what the provider has, plan payment + patient responsibility; the plan-payment gap
    # to Medicare is kept apart (``gap_plan_payment_medicare``)
    paid = out["paid"]
    if "patient_resp" in lines.columns:
        have = paid + pd.to_numeric(lines["patient_resp"], errors="coerce").fillna(0.0).to_numpy()
    else:
        have = out["allowed"].fillna(paid)
    out["gap_medicare"] = (m - have).round(2)
    out["gap_plan_payment_medicare"] = (m - paid).round(2)
    for p in pcts:
        out[f"gap_ucr_p{p}"] = (out[f"ucr_p{p}"] - have).round(2)
        out[f"gap_fh_p{p}"] = (out[f"fh_p{p}"] - have).round(2)
    out["gap_qpa"] = (qpa - have).round(2)
    out["gap_tic"] = (out["tic_allowed_median"] - have).round(2)
    out["gap_tic_in_network"] = (out["innet_median"] - have).round(2)
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].astype("str")
    return out.sort_values(["claim_id", "line_no"], kind="stable").reset_index(drop=True)


# --- statistics for the notebook ---------------------------------------------------------------


#: Groups at least this large get the exact bootstrap distribution of the median instead of
#: Monte Carlo resampling: same estimand, no Monte Carlo error, O(n log n) instead of
#: O(reps x n) (500 reps of a 150k-line payer group is 75M draws).
EXACT_BOOTSTRAP_MIN_N = 1_000


def _exact_bootstrap_quantiles(xs: np.ndarray, probs: Sequence[float]) -> list[float]:
    """Quantiles of the exact bootstrap distribution of the median of sorted ``xs``.

    A resample's k-th order statistic is <= x_(j) iff at least k of its n draws are <= x_(j),
    so P(x*_(k) <= x_(j)) = P(Binomial(n, j/n) >= k) (Maritz & Jarrett 1978; Efron 1979 §3).
    Odd n: the median is x*_((n+1)/2). Even n: the median is the mean of x*_(n/2) and
    x*_(n/2+1); we average the two order statistics' quantiles (adjacent, comonotone order
    statistics, so the error is below one gap between neighbouring sorted values).
    """
    from scipy.stats import binom

    n = xs.size
    j = np.arange(1, n + 1)
    ks = [(n + 1) // 2] if n % 2 else [n // 2, n // 2 + 1]
    out = []
    for p in probs:
        vals = []
        for k in ks:
            cdf = binom.sf(k - 1, n, j / n)  # nondecreasing in j
            vals.append(xs[min(int(np.searchsorted(cdf, p, side="left")), n - 1)])
        out.append(float(np.mean(vals)))
    return out


def bootstrap_median_ci(
    values: Sequence[float] | np.ndarray | pd.Series,
    *,
    reps: int = 500,
    alpha: float = 0.05,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Median and percentile-bootstrap (1 - alpha) CI; (nan, nan, nan) for no finite values.

    Below :data:`EXACT_BOOTSTRAP_MIN_N` values: ``reps`` seeded Monte Carlo resamples. From
    there on: the percentiles of the exact bootstrap distribution of the median (the limit of
    infinitely many resamples, see :func:`_exact_bootstrap_quantiles`), so 1M-line portfolios
    cost a sort per group rather than hundreds of millions of draws.
    """
    x = np.asarray(values, dtype="float64")
    x = x[np.isfinite(x)]
    if x.size == 0:
        return (float("nan"),) * 3
    if x.size == 1:
        return (float(x[0]),) * 3
    if x.size >= EXACT_BOOTSTRAP_MIN_N:
        xs = np.sort(x)
        lo, hi = _exact_bootstrap_quantiles(xs, [alpha / 2, 1 - alpha / 2])
        return float(np.median(xs)), lo, hi
    rng = np.random.default_rng(seed)
    meds = np.empty(reps)
    chunk = max(1, 5_000_000 // x.size)
    for start in range(0, reps, chunk):
        k = min(chunk, reps - start)
        idx = rng.integers(0, x.size, size=(k, x.size))
        meds[start : start + k] = np.median(x[idx], axis=1)
    lo, hi = np.quantile(meds, [alpha / 2, 1 - alpha / 2])
    return float(np.median(x)), float(lo), float(hi)


def multiples_by_payer(
    bench: pd.DataFrame,
    *,
    by: Sequence[str] = ("payer", "code_family"),
    value: str = "paid_x_medicare",
    reps: int = 500,
    alpha: float = 0.05,
    seed: int = 0,
    include_all: bool = True,
) -> pd.DataFrame:
    """Median multiple of Medicare (with bootstrap CI) per payer (x family), paid lines only.

    Rows with ``code_family == "ALL"`` pool every family of the payer. Also reports the
    geometric mean, quartiles and the dollars paid below Medicare.
    """
    cols = list(dict.fromkeys([*by, value, "paid", "medicare_allowed"]))
    keep = (bench["claim_status"] == "paid") & np.isfinite(bench[value]) & (bench[value] > 0)
    b = bench.loc[keep, cols]  # only the columns used: no copy of the 1M-line frame
    groups = [list(by)]
    if include_all and len(by) > 1:
        groups.append([by[0]])
    rows = []
    for keys in groups:
        for i, (k, g) in enumerate(b.groupby(keys, sort=True, observed=True)):
            k = k if isinstance(k, tuple) else (k,)
            med, lo, hi = bootstrap_median_ci(g[value], reps=reps, alpha=alpha, seed=seed + i)
            rec = dict(zip(keys, k, strict=True))
            for extra in by:
                rec.setdefault(extra, "ALL")
            v = g[value].to_numpy()
            rec.update(
                n_lines=len(g),
                median=med,
                ci_low=lo,
                ci_high=hi,
                geo_mean=float(np.exp(np.mean(np.log(v)))),
                p25=float(np.quantile(v, 0.25)),
                p75=float(np.quantile(v, 0.75)),
                paid=float(g["paid"].sum()),
                medicare=float(g["medicare_allowed"].sum()),
                gap_to_medicare=float((g["medicare_allowed"] - g["paid"]).clip(lower=0).sum()),
            )
            rows.append(rec)
    cols = list(by) + [
        "n_lines",
        "median",
        "ci_low",
        "ci_high",
        "geo_mean",
        "p25",
        "p75",
        "paid",
        "medicare",
        "gap_to_medicare",
    ]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(list(by), kind="stable").reset_index(drop=True)


def billed_vs_published(bench: pd.DataFrame, *, reps: int = 500, seed: int = 0) -> pd.DataFrame:
    """Median billed multiple of Medicare per specialty against the published multiple (§3.2)."""
    keep = np.isfinite(bench["billed_x_medicare"]) & (bench["billed_x_medicare"] > 0)
    b = bench.loc[keep, ["specialty", "billed_x_medicare"]]
    rows = []
    for i, (spec, g) in enumerate(b.groupby("specialty", sort=True)):
        med, lo, hi = bootstrap_median_ci(g["billed_x_medicare"], reps=reps, seed=seed + i)
        pub, label = PUBLISHED_CHARGE_MULTIPLES.get(spec, ALL_SPECIALTIES_CHARGE_MULTIPLE)
        rows.append(
            {
                "specialty": spec,
                "n_lines": len(g),
                "billed_multiple_median": med,
                "ci_low": lo,
                "ci_high": hi,
                "published_multiple": pub,
                "published_label": label,
                "ratio_to_published": med / pub,
                "source": PUBLISHED_SOURCE,
            }
        )
    return pd.DataFrame(rows)


def benchmark_summary_text(mult: pd.DataFrame) -> list[str]:
    """Plain-English findings, one sentence per payer, computed from :func:`multiples_by_payer`."""
    out = []
    allrows = mult[mult["code_family"] == "ALL"] if "code_family" in mult.columns else mult
    for _, r in allrows.sort_values("median").iterrows():
        out.append(
            f"{r['payer']} paid a median {r['median']:.2f}x Medicare (95% CI {r['ci_low']:.2f}-"
            f"{r['ci_high']:.2f}) on {int(r['n_lines']):,} paid lines; "
            f"${r['gap_to_medicare']:,.0f} was paid below the Medicare amount."
        )
    return out


def _client_wide_task(
    claim_path: str, part: int, year: int, default_locality: str, qp: bool
) -> tuple[pd.DataFrame, list[str], Any, Any]:
    from oonplaybook import partitions

    lines = partitions.read_part(claim_path, part)
    return client_wide_part(lines, year=year, default_locality=default_locality, qp=qp)


def _benchmark_task(
    claim_path: str, out_path: str, part: int, options: dict[str, Any], wide: ClientWide | None
) -> int:
    from oonplaybook import partitions

    bench = build_benchmarks(partitions.read_part(claim_path, part), client_wide=wide, **options)
    partitions.write_part(bench, out_path, part)
    return len(bench)


def build_benchmark_parts(
    claim_lines_path: str | Path,
    out_path: str | Path,
    *,
    scheduler: str | None = None,
    **options: Any,
) -> int:
    """Benchmark every part of the claim-lines dataset into the ``benchmarks`` dataset, one part
    at a time (in-process or on the Dask cluster ``scheduler``); returns the lines written.

    ``options`` are :func:`build_benchmarks`' keywords. With more than one part a first pass
    collects what needs the whole client (:class:`ClientWide`: every part's charges, so the
    UCR percentiles are exact over the client, the charge window and the payers), then each
    part is benchmarked with it, so the dataset read whole (sorted by claim and line, as
    :func:`build_benchmarks` sorts) equals the one-table result."""
    from oonplaybook import cluster, partitions

    claim_path = str(claim_lines_path)
    ks = partitions.parts(claim_path)
    labels = [f"benchmark part {k}" for k in ks]
    wide = None
    if len(ks) > 1:
        shares = cluster.map_parts(
            _client_wide_task,
            [
                (
                    claim_path,
                    k,
                    options["year"],
                    options["default_locality"],
                    options.get("qp", False),
                )
                for k in ks
            ],
            scheduler=scheduler,
            labels=labels,
        )
        wide = combine_client_wide(shares, options.get("ucr_percentiles", (50, 75, 80, 90)))
    out = partitions.reset(out_path)
    written = cluster.map_parts(
        _benchmark_task,
        [(claim_path, str(out), k, options, wide) for k in ks],
        scheduler=scheduler,
        labels=labels,
    )
    partitions.set_order(out, ["claim_id", "line_no"])
    return int(sum(written))


def read_benchmarks(path: str | Path, columns: Sequence[str]) -> pd.DataFrame:
    """Only ``columns`` (those present) of ``benchmarks.parquet``: later stages need a few of its
    60 columns, and reading all of them costs ~1 GB at 1M lines."""
    from oonplaybook import partitions

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: benchmarks artifact is missing; run the 20_benchmark stage first"
        )
    return partitions.read_present(path, columns)


def read_benchmark_inputs(
    fair_health_file: str | Path | None,
    allowed_amounts_files: Sequence[str | Path],
    codes: Sequence[str] | None = None,
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """Load the optional FAIR Health table and TiC files named in the params (paths resolved)."""
    from oonplaybook import tic

    fh = read_fair_health(fair_health_file) if fair_health_file else None
    aa = (
        tic.read_allowed_amounts(list(allowed_amounts_files), codes=codes)
        if allowed_amounts_files
        else None
    )
    return fh, aa


# --- tables and figures for the 20_benchmark notebook --------------------------------------------

#: Rungs compared with paid in :func:`gap_table`: (label, column).
GAP_RUNGS: tuple[tuple[str, str], ...] = (
    ("Medicare", "medicare_allowed"),
    ("QPA", "qpa"),
    ("UCR p80 (client charges)", "ucr_p80"),
    ("FAIR Health p80", "fh_p80"),
    ("TiC allowed (median)", "tic_allowed_median"),
    ("In-network median (TiC)", "innet_median"),
)


def gap_table(bench: pd.DataFrame, by: str = "payer") -> pd.DataFrame:
    """Dollars allowed below each benchmark (sum of positive gaps) per group, paid lines only.

    One basis for every rung: the benchmarks are allowed-level amounts, so they are compared
    with what was allowed (plan payment + the patient's share); the plan payment's own gap to
    Medicare is shown apart. A rung no line has is missing ("—"), not $0.
    """
    cols = [by, "paid", "allowed", "patient_resp", *(c for _, c in GAP_RUNGS)]
    b = bench.loc[
        bench["claim_status"] == "paid", [c for c in dict.fromkeys(cols) if c in bench.columns]
    ]
    paid = b["paid"].fillna(0.0)
    resp = b["patient_resp"].fillna(0.0) if "patient_resp" in b.columns else 0.0
    basis = b["allowed"].fillna(paid + resp) if "allowed" in b.columns else paid + resp
    b = b.assign(_basis=basis, _paid=paid)
    rows = []
    for key, g in b.groupby(by, sort=True):
        rec: dict[str, object] = {
            by: key,
            "n_lines": len(g),
            "paid": float(g["_paid"].sum()),
            "allowed": float(g["_basis"].sum()),
        }
        for label, col in GAP_RUNGS:
            if col not in g.columns:
                continue
            have = g[col].notna()
            rec[f"{label}: lines"] = int(have.sum())
            rec[f"{label}: allowed below ($)"] = (
                float((g.loc[have, col] - g.loc[have, "_basis"]).clip(lower=0).sum())
                if have.any()
                else float("nan")
            )
        if "medicare_allowed" in g.columns:
            have = g["medicare_allowed"].notna()
            rec["Medicare: plan payment below ($)"] = (
                float((g.loc[have, "medicare_allowed"] - g.loc[have, "_paid"]).clip(lower=0).sum())
                if have.any()
                else float("nan")
            )
        rows.append(rec)
    return pd.DataFrame(rows)


def payment_dispersion(mult: pd.DataFrame) -> pd.DataFrame:
    """Per payer: median multiple and the spread p75/p25 (a tight spread marks a repricing formula)."""
    allrows = mult[mult["code_family"] == "ALL"] if "code_family" in mult.columns else mult
    out = allrows[["payer", "n_lines", "median", "ci_low", "ci_high", "p25", "p75"]].copy()
    out["spread_p75_over_p25"] = out["p75"] / out["p25"]
    return out.sort_values("median").reset_index(drop=True)


def findings(
    mult: pd.DataFrame, published: pd.DataFrame | None = None, value_label: str = "allowed"
) -> list[str]:
    """Plain-English findings computed from the multiples (and billed-vs-published) tables."""
    disp = payment_dispersion(mult)
    if disp.empty:
        return ["No paid lines with a Medicare price: nothing to benchmark."]
    out = []
    lo, hi = disp.iloc[0], disp.iloc[-1]
    out.append(
        f"{lo['payer']} has the lowest {value_label} level, a median {lo['median']:.3f}x Medicare "
        f"(95% CI {lo['ci_low']:.3f}-{lo['ci_high']:.3f}); {hi['payer']} the highest at "
        f"{hi['median']:.3f}x ({hi['ci_low']:.3f}-{hi['ci_high']:.3f})."
    )
    tight = disp[disp["spread_p75_over_p25"] < 1.10]
    for _, r in tight.iterrows():
        out.append(
            f"{r['payer']}'s amounts sit in a narrow band (middle half within "
            f"{(r['spread_p75_over_p25'] - 1) * 100:.0f}% of each other) around {r['median']:.2f}x "
            "Medicare across codes: the signature of a fixed repricing formula (e.g. a Medicare "
            "percentage), not of negotiated or charge-based rates."
        )
    below = disp[disp["ci_high"] < 1.0]
    for _, r in below.iterrows():
        out.append(
            f"{r['payer']} pays below Medicare (median {r['median']:.2f}x, CI entirely under 1)."
        )
    if published is not None and not published.empty:
        for _, r in published.iterrows():
            word = (
                "above"
                if r["ratio_to_published"] > 1.1
                else ("below" if r["ratio_to_published"] < 0.9 else "in line with")
            )
            out.append(
                f"{str(r['specialty']).replace('_', ' ')}: charges are a median {r['billed_multiple_median']:.1f}x Medicare, "
                f"{word} the published {r['published_label']} ({r['source']})."
            )
    out.append(
        "Medicare multiples and billed charges are yardsticks for negotiation and appeals; an IDR "
        "entity may not consider Medicare rates or billed charges (45 CFR 149.510(c)(4)(v)), but "
        "must consider the QPA."
    )
    return out


def _empty_figure(title: str, why: str):
    """A small figure that says there is nothing to draw (and why), instead of failing."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 1.6))
    ax.axis("off")
    ax.set_title(title)
    ax.text(0.5, 0.4, why, ha="center", va="center")
    return fig


def plot_multiples(
    bench: pd.DataFrame, value: str = "allowed_x_medicare", mult: pd.DataFrame | None = None
):
    """Distribution of the multiple of Medicare per payer (log scale) with median and 95% CI."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    keep = (bench["claim_status"] == "paid") & np.isfinite(bench[value]) & (bench[value] > 0)
    b = bench.loc[keep, ["payer", value]]
    if b.empty:
        return _empty_figure("Multiples of Medicare", "no paid lines with a Medicare price")
    order = b.groupby("payer")[value].median().sort_values().index.tolist()
    fig, ax = plt.subplots(figsize=(9, 0.55 * max(len(order), 3) + 1.5))
    sns.boxenplot(data=b, x=value, y="payer", order=order, ax=ax, color="#9ecae1", showfliers=False)
    if mult is not None:
        m = mult[mult["code_family"] == "ALL"].set_index("payer").reindex(order)
        ax.errorbar(
            m["median"],
            range(len(order)),
            xerr=[m["median"] - m["ci_low"], m["ci_high"] - m["median"]],
            fmt="o",
            color="#08306b",
            capsize=4,
            label="median, 95% bootstrap CI",
        )
    from oonplaybook.plots import legend_outside, log_axis

    ax.axvline(1.0, color="#e34a33", ls="--", lw=1, label="Medicare (1x)")
    log_axis(ax, "x")  # a few round ticks; the default minor labels overlapped
    legend_outside(ax)
    ax.set_xlabel(f"{value.split('_x_')[0]} / Medicare allowed (log scale)")
    ax.set_ylabel("")
    what = {"allowed_x_medicare": "allows", "paid_x_medicare": "pays (plan share)"}.get(
        value, value
    )
    ax.set_title(f"What each payer {what}, as a multiple of Medicare (paid lines)")
    fig.tight_layout()
    return fig


def plot_family_heatmap(mult: pd.DataFrame):
    """Median multiple of Medicare by payer and code family (cells with >= 10 lines)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    m = mult[(mult["code_family"] != "ALL") & (mult["n_lines"] >= 10)]
    if m.empty:
        return _empty_figure(
            "Multiple of Medicare by family", "no payer x family cell has 10 paid lines"
        )
    grid = m.pivot(index="payer", columns="code_family", values="median")
    fig, ax = plt.subplots(
        figsize=(1.0 * max(grid.shape[1], 4) + 3, 0.5 * max(grid.shape[0], 3) + 1.5)
    )
    sns.heatmap(
        grid,
        annot=True,
        fmt=".2f",
        cmap="RdYlGn",
        center=1.5,
        ax=ax,
        cbar_kws={"label": "x Medicare"},
    )
    from oonplaybook.plots import readable

    ax.set_xticklabels(
        [readable(t.get_text()) for t in ax.get_xticklabels()], rotation=45, ha="right"
    )
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title("Median multiple of Medicare by payer and code family")
    fig.tight_layout()
    return fig


def _money(v: float, _pos: int = 0) -> str:
    a = abs(v)
    if a >= 1e6:
        return f"${v / 1e6:,.1f}M"
    return f"${v / 1e3:,.0f}K" if a >= 1e3 else f"${v:,.0f}"


def plot_gaps(gaps: pd.DataFrame, by: str = "payer"):
    """Dollars allowed below each benchmark, per payer (grouped bars)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    cols = [c for c in gaps.columns if c.endswith(": allowed below ($)")]
    if gaps.empty or not cols:
        return _empty_figure("Gap to benchmarks", "no paid lines")
    long = gaps.melt(id_vars=[by], value_vars=cols, var_name="benchmark", value_name="dollars")
    long["benchmark"] = long["benchmark"].str.replace(": allowed below ($)", "", regex=False)
    long = long[long["dollars"] > 0]
    fig, ax = plt.subplots(figsize=(10, 0.6 * max(gaps[by].nunique(), 3) + 1.5))
    if not long.empty:
        sns.barplot(data=long, y=by, x="dollars", hue="benchmark", ax=ax, orient="h")
    ax.set_xlabel("dollars allowed (plan payment + patient share) below the benchmark, paid lines")
    ax.set_ylabel("")
    ax.xaxis.set_major_formatter(
        plt.FuncFormatter(lambda v, _p: f"${v / 1e3:,.0f}K" if abs(v) >= 1e3 else f"${v:,.0f}")
    )
    ax.set_title("The gap between what was allowed and each benchmark")
    if ax.get_legend() is not None:  # beside the bars, never over them
        from oonplaybook.plots import below_axes

        sns.move_legend(
            ax,
            "upper center",
            bbox_to_anchor=(0.5, 0.0),
            bbox_transform=below_axes(ax, 0.6),
            ncol=3,
            frameon=False,
        )
    fig.tight_layout()
    return fig


def plot_billed_vs_published(table: pd.DataFrame):
    """Median billed multiple of Medicare (with CI) per specialty against the published multiple."""
    import matplotlib.pyplot as plt

    if table.empty:
        return _empty_figure(
            "Billed vs published multiples", "no billed lines with a Medicare price"
        )
    t = table.sort_values("billed_multiple_median")
    fig, ax = plt.subplots(figsize=(8, 0.55 * max(len(t), 3) + 1.5))
    y = np.arange(len(t))
    ax.errorbar(
        t["billed_multiple_median"],
        y,
        xerr=[
            t["billed_multiple_median"] - t["ci_low"],
            t["ci_high"] - t["billed_multiple_median"],
        ],
        fmt="o",
        color="#08306b",
        capsize=4,
        label="client: median billed / Medicare",
    )
    ax.scatter(
        t["published_multiple"],
        y,
        marker="|",
        s=400,
        color="#e34a33",
        label="published (Bai & Anderson 2017)",
    )
    from oonplaybook.plots import legend_outside, readable

    ax.set_yticks(y, [readable(v) for v in t["specialty"]])
    ax.set_xlabel("charges as a multiple of Medicare")
    legend_outside(ax)
    ax.set_title("Billed charges against the specialty's published multiple")
    fig.tight_layout()
    return fig


def _distinct(s: pd.Series) -> set:
    """Distinct values of a column (hashed in C, not by iterating 1M Python strings)."""
    return set(s.unique().tolist())


def coverage_table(bench: pd.DataFrame) -> pd.DataFrame:
    """How many lines each rung covers, with its source and vintage (one row per rung)."""
    rungs = [
        ("Medicare PFS", "medicare_allowed", "medicare_source", "medicare_vintage"),
        ("UCR (client charges)", "ucr_p80", "ucr_source", "ucr_vintage"),
        ("FAIR Health", "fh_p80", "fh_source", "fh_vintage"),
        ("QPA", "qpa", "qpa_source", "qpa_vintage"),
        ("TiC allowed amounts", "tic_allowed_median", "tic_source", "tic_vintage"),
        ("TiC in-network rates", "innet_median", "innet_source", "innet_vintage"),
    ]
    rows = []
    for label, col, src, vin in rungs:
        if col not in bench.columns:
            continue
        have = bench[col].notna()
        source = "; ".join(sorted(_distinct(bench.loc[have, src]) - {""}))
        if not have.any():
            source = "; ".join(sorted(_distinct(bench[src]) - {""})) or "not supplied"
        rows.append(
            {
                "benchmark": label,
                "lines": int(have.sum()),
                "share": float(have.mean()) if len(bench) else 0.0,
                "source": source[:200],
                "vintage": "; ".join(sorted(_distinct(bench.loc[have, vin]) - {""}))[:200],
            }
        )
    return pd.DataFrame(rows)


def coverage_sentence(bench: pd.DataFrame) -> str:
    """One sentence: lines benchmarked and how many have a Medicare price."""
    n = len(bench)
    m = int(bench["medicare_allowed"].notna().sum())
    q = int(bench["qpa"].notna().sum())
    return (
        f"**{n:,} claim lines** benchmarked; {m:,} ({m / max(n, 1):.1%}) have a Medicare price, "
        f"{q:,} carry the payer's QPA. Levels used for UCR: "
        + ", ".join(f"{k} {v:,}" for k, v in bench["ucr_level"].value_counts().items())
        + "."
    )


def unpriced_table(bench: pd.DataFrame) -> pd.DataFrame:
    """Lines without a Medicare price grouped by reason, with example codes and billed dollars."""
    u = bench[bench["medicare_allowed"].isna()]
    if u.empty:
        return pd.DataFrame(columns=["reason", "lines", "billed", "codes"])
    g = u.groupby("medicare_reason", sort=True)
    out = pd.DataFrame(
        {
            "lines": g.size(),
            "billed": g["billed"].sum(),
            "codes": g["cpt"].agg(lambda s: ", ".join(sorted(set(s))[:8])),
        }
    ).reset_index(names="reason")
    return out.sort_values("lines", ascending=False, kind="stable").reset_index(drop=True)
