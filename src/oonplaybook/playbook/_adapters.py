"""Adapters to the other areas' APIs (nsa, idr, specialties, benchmarks), in one place.

The playbook codes against the documented interfaces; where an input arrives in a slightly
different shape (line- vs claim-level NSA assessment, benchmarks without payer/cpt) the
adapters here normalise it, and they say so in their errors instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from oonplaybook.reference.code_families import code_families

KEY = ["claim_id", "line_no"]

#: The benchmark rungs the playbook reads (benchmarks.parquet carries many more, e.g. sources).
BENCHMARK_COLUMNS = frozenset(
    {
        "medicare_allowed",
        "qpa",
        "ucr_p50",
        "ucr_p75",
        "ucr_p80",
        "ucr_p90",
        "code_family",
        "tic_allowed_median",
    }
)


#: The NSA assessment columns the playbook reads (nsa.assess_claims returns more).
ASSESSMENT_COLUMNS = frozenset(
    {
        "nsa_applies",
        "idr_eligible",
        "state_law_governs",
        "state_law",
        "open_negotiation_initiate_by",
        "open_negotiation_notice_date",
        "idr_initiate_by",
        "balance_bill_allowed",
        "deadline_passed",
        "patient_cost_share_cap",
        "patient_resp_exceeds_cap",
    }
)

#: Claim-line columns the playbook reads; others are not carried through its joins.
LINE_COLUMNS = (
    "claim_id", "line_no", "payer_claim_id", "payer", "payer_id", "plan_type", "provider_npi",
    "provider_tin", "specialty", "patient_key", "service_date", "submitted_date", "remit_date",
    "paid_date", "cpt", "units", "state", "billed", "allowed", "paid", "patient_resp",
    "claim_status", "carc", "qpa", "emergency", "facility_in_network", "air_ambulance",
    "notice_consent", "gfe_amount", "medicare_allowed", "code_family",
)  # fmt: skip


#: Claim-line columns stage 40 reads (:data:`LINE_COLUMNS` and what the NSA assessment, the IDR
#: batches and the letters read besides): every canonical column but the ones nothing in the
#: playbook reads (``source`` alone is one distinct string per line). A column used later must
#: be added here, or the stage reads it as missing.
PLAYBOOK_STAGE_COLUMNS = (
    *(c for c in LINE_COLUMNS if c not in ("medicare_allowed", "code_family")),  # benchmarks'
    "modifiers", "unit_type", "pos", "rarc",
)  # fmt: skip


def isin(values: pd.Series, probe: object) -> pd.Series:
    """``values.isin(probe)`` for string columns via one pyarrow ``is_in`` (pandas 3 boxes every
    probe value in Python: seconds for 600k claim ids); same result, same index."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(values.astype("str"))
    probe_arr = pa.array(pd.Series(pd.unique(pd.Series(probe, dtype="str")), dtype="str"))
    got = pc.is_in(arr, value_set=probe_arr.cast(arr.type), skip_nulls=True).fill_null(False)
    return pd.Series(got.to_numpy(zero_copy_only=False), index=values.index, dtype=bool)


def read_benchmarks(path: str | Path) -> pd.DataFrame:
    """The benchmark columns the playbook joins (:data:`BENCHMARK_COLUMNS`, keys, QPA, Medicare)
    from ``benchmarks.parquet``, not all of its columns (memory at 1M lines)."""
    from oonplaybook.benchmark import read_benchmarks as _read

    return _read(path, [*KEY, *sorted(BENCHMARK_COLUMNS), "qpa", "medicare_allowed"])


def line_frame(claim_lines: pd.DataFrame, benchmarks: pd.DataFrame | None) -> pd.DataFrame:
    """Claim lines with their benchmark columns joined on (claim_id, line_no), plus code_family."""
    lines = claim_lines[[c for c in LINE_COLUMNS if c in claim_lines.columns]].copy()
    if benchmarks is not None and len(benchmarks.columns):
        missing = [k for k in KEY if k not in benchmarks.columns]
        if missing:
            raise KeyError(
                f"benchmarks table lacks key columns {missing}; it must be keyed (claim_id, line_no) "
                "as written by oonplaybook.benchmark.build_benchmarks (artifacts/benchmarks.parquet)"
            )
        extra = [
            c for c in benchmarks.columns if c in BENCHMARK_COLUMNS and c not in lines.columns
        ] + KEY
        shared = [
            c for c in ("qpa", "medicare_allowed") if c in benchmarks.columns and c in lines.columns
        ]
        b = benchmarks[extra + shared].drop_duplicates(KEY)
        b = b.rename(columns={c: f"_bm_{c}" for c in shared})
        lines = lines.merge(b, on=KEY, how="left", validate="one_to_one")
        for (
            c
        ) in shared:  # the line's own value first (e.g. QPA from the remit), else the benchmark's
            lines[c] = lines[c].fillna(lines.pop(f"_bm_{c}"))
    if "code_family" not in lines.columns:
        lines["code_family"] = code_families(lines["cpt"])
    for col in ("medicare_allowed", "qpa", "ucr_p50", "ucr_p75", "ucr_p80", "ucr_p90"):
        if col not in lines.columns:
            lines[col] = float("nan")
    return lines


def join_assessment(lines: pd.DataFrame, nsa_assessment: pd.DataFrame | None) -> pd.DataFrame:
    """Attach the NSA assessment (claim- or line-level) to lines; absent -> not NSA-protected."""
    if nsa_assessment is None or nsa_assessment.empty:
        out = lines.copy()
        out["nsa_applies"] = False
        out["idr_eligible"] = False
        return out
    a = nsa_assessment.copy()
    keys = [k for k in KEY if k in a.columns]
    if "claim_id" not in keys:
        raise KeyError("NSA assessment has no claim_id column; pass nsa.assess_claims(...) output")
    if "nsa_applies" not in a.columns:
        for alt in ("nsa_protected", "protected", "nsa"):
            if alt in a.columns:
                a = a.rename(columns={alt: "nsa_applies"})
                break
    cols = keys + [c for c in a.columns if c in ASSESSMENT_COLUMNS and c not in lines.columns]
    out = lines.merge(a[cols].drop_duplicates(keys), on=keys, how="left")
    for flag in ("nsa_applies", "idr_eligible", "balance_bill_allowed", "deadline_passed"):
        if flag in out.columns:
            out[flag] = out[flag].fillna(False).astype("bool")
    if "nsa_applies" not in out.columns:
        out["nsa_applies"] = False
    if "idr_eligible" not in out.columns:
        out["idr_eligible"] = False
    return out


@dataclass(frozen=True)
class IdrPrior:
    """Win probability and award level (multiple of QPA) for IDR disputes of one specialty."""

    p_win: float
    award_x_qpa: float
    source: str


def idr_prior(specialty: str, year: int | None = None, priors: Any = None) -> IdrPrior:
    """Win probability and award multiple of QPA for a specialty, from ``oonplaybook.idr`` priors."""
    if isinstance(priors, dict):  # explicit per-specialty priors (tests, what-if analyses)
        return _as_prior(priors.get(specialty, priors.get("generic")))
    pri = priors if priors is not None else _default_priors()
    p, award, src = pri.lookup(specialty, int(year) if year is not None else 2025)
    return IdrPrior(float(p), float(award), str(src))


_DEFAULT_PRIORS: Any = None


def _default_priors() -> Any:
    """``idr.IdrPriors.default()``, built once (published IDR statistics, docs/domain.md §2.2-2.3)."""
    global _DEFAULT_PRIORS
    if _DEFAULT_PRIORS is None:
        from oonplaybook import idr

        _DEFAULT_PRIORS = idr.IdrPriors.default()
    return _DEFAULT_PRIORS


def _as_prior(got: Any) -> IdrPrior:
    if isinstance(got, IdrPrior):
        return got
    if isinstance(got, dict):
        g = got
    else:
        g = {k: getattr(got, k) for k in dir(got) if not k.startswith("_")}
    p = g.get("p_win", g.get("win_probability", g.get("provider_win_rate")))
    a = g.get("award_x_qpa", g.get("award_multiple_of_qpa", g.get("award_pct_qpa")))
    if a is not None and float(a) > 20:  # given in percent of QPA
        a = float(a) / 100.0
    if p is None or a is None:
        raise TypeError(f"IDR prior {got!r} has no win probability / award multiple of QPA")
    return IdrPrior(float(p), float(a), str(g.get("source", "oonplaybook.idr priors")))


#: Plan types outside the NSA's group-health-plan protections (Medicare Advantage, Medicaid
#: managed care: public programmes; self-pay: no plan). docs/domain.md §1.1.
NON_NSA_PLAN_TYPES = frozenset({"self_pay", "medicare_advantage", "medicaid_managed_care"})

#: Specialties for which notice-and-consent can never waive NSA protection (ancillary services,
#: 42 U.S.C. 300gg-132(b)(2); docs/domain.md §1.3).
ANCILLARY = frozenset(
    {"emergency_medicine", "anesthesiology", "pathology", "radiology", "neonatology"}
)


def nsa_assessment(
    claim_lines: pd.DataFrame, *, as_of: Any, state_table: Any = None
) -> pd.DataFrame:
    """The NSA assessment per claim: ``nsa.assess_claims`` when it exists, else the fallback below."""
    from oonplaybook import nsa

    fn = getattr(nsa, "assess_claims", None)
    if fn is not None:
        return fn(claim_lines, state_table=state_table, as_of=as_of)
    return fallback_nsa_assessment(claim_lines, as_of=as_of)


def fallback_nsa_assessment(claim_lines: pd.DataFrame, *, as_of: Any) -> pd.DataFrame:
    """Minimal per-claim NSA assessment when ``nsa.assess_claims`` is not available.

    Protection: emergency, OON provider at an in-network facility, or air ambulance (docs/domain.md §1.1)
    on a group-health plan, unless a valid notice-and-consent (non-emergency, non-ancillary)
    lifts it (docs/domain.md §1.3). No state-law table: federal IDR assumed. Clocks from
    ``nsa.deadlines`` on the remit date. The cost-share cap is not computed (NaN).
    """
    from oonplaybook import nsa
    from oonplaybook.reference import calendar as bd

    g = claim_lines.groupby("claim_id", sort=True)
    c = g.agg(
        plan_type=("plan_type", "first"),
        specialty=("specialty", "first"),
        emergency=("emergency", "any"),
        facility_in_network=("facility_in_network", "any"),
        air_ambulance=("air_ambulance", "any"),
        notice_consent=("notice_consent", "all"),
        remit_date=("remit_date", "min"),
        status=("claim_status", "first"),
    ).reset_index()
    covered = ~c["plan_type"].astype("str").isin(NON_NSA_PLAN_TYPES)
    basis = c["emergency"] | c["facility_in_network"] | c["air_ambulance"]
    consent = c["notice_consent"] & ~c["emergency"] & ~c["specialty"].astype("str").isin(ANCILLARY)
    c["nsa_applies"] = covered & basis & ~consent
    c["idr_eligible"] = (
        c["nsa_applies"] & c["remit_date"].notna() & c["status"].isin(["paid", "denied"])
    )
    c["balance_bill_allowed"] = ~c["nsa_applies"]
    rem = pd.to_datetime(c["remit_date"])
    on_by = bd.period_end_series(rem, nsa.OPEN_NEGOTIATION_INITIATE_BD)
    period_end = bd.period_end_series(on_by, nsa.OPEN_NEGOTIATION_PERIOD_BD)
    window_start = bd.add_business_days_series(period_end, 1)
    idr_by = bd.period_end_series(window_start, nsa.IDR_INITIATION_WINDOW_BD)
    c["open_negotiation_initiate_by"] = on_by.where(c["nsa_applies"])
    c["idr_initiate_by"] = idr_by.where(c["nsa_applies"])
    asof = pd.Timestamp(as_of)
    c["days_left"] = (c["open_negotiation_initiate_by"] - asof).dt.days
    c["deadline_passed"] = c["days_left"] < 0
    c["patient_cost_share_cap"] = float("nan")
    return c[
        [
            "claim_id",
            "nsa_applies",
            "idr_eligible",
            "balance_bill_allowed",
            "open_negotiation_initiate_by",
            "idr_initiate_by",
            "days_left",
            "deadline_passed",
            "patient_cost_share_cap",
        ]
    ]


def run_reduce(
    df: pd.DataFrame,
    keys: list[str],
    *,
    first: tuple[str, ...] = (),
    sum: tuple[str, ...] = (),  # noqa: A002 - reads like the aggregation it is
    any: tuple[str, ...] = (),  # noqa: A002
    all: tuple[str, ...] = (),  # noqa: A002
    min: tuple[str, ...] = (),  # noqa: A002
    max: tuple[str, ...] = (),  # noqa: A002
) -> pd.DataFrame:
    """Group ``df`` by ``keys`` with one vectorised pass per column (sorted runs + ``reduceat``).

    A pandas groupby on string keys with ``first`` is ~10x slower on a million lines; here the
    frame is sorted by the keys so each group is a contiguous run. NaN-aware: sums skip NaN (a
    group of only NaN sums to 0 unless ``min``/``max``, which give NaN); dates work in min/max.
    """
    import numpy as np

    d = df.sort_values(keys, kind="stable").reset_index(drop=True)
    n = len(d)
    brk = np.ones(n, dtype=bool)
    if n > 1:
        change = np.zeros(n - 1, dtype=bool)
        for k in keys:
            v = d[k].to_numpy()
            change |= v[1:] != v[:-1]
        brk[1:] = change
    start = np.flatnonzero(brk) if n else np.array([], dtype=np.int64)
    out = pd.DataFrame({k: d[k].to_numpy()[start] for k in keys})
    for c in first:
        out[c] = d[c].to_numpy()[start]
    if n == 0:
        for c in (*sum, *any, *all, *min, *max):
            out[c] = pd.Series(dtype="float64")
        return out
    for c in sum:
        out[c] = np.add.reduceat(np.nan_to_num(d[c].astype("float64").to_numpy(), nan=0.0), start)
    for c in any:
        out[c] = np.maximum.reduceat(
            d[c].fillna(False).astype(bool).to_numpy().astype(np.uint8), start
        ).astype(bool)
    for c in all:
        out[c] = np.minimum.reduceat(
            d[c].fillna(False).astype(bool).to_numpy().astype(np.uint8), start
        ).astype(bool)
    for cols, fn in ((min, np.fmin), (max, np.fmax)):
        for c in cols:
            s = d[c]
            if pd.api.types.is_datetime64_any_dtype(s):
                v = s.to_numpy().astype("datetime64[us]").astype("float64")
                v[s.isna().to_numpy()] = np.nan
                r = fn.reduceat(v, start)
                out[c] = pd.to_datetime(pd.Series(r), unit="us").astype("datetime64[us]").to_numpy()
            else:
                out[c] = fn.reduceat(s.astype("float64").to_numpy(), start)
    return out


def _csv_field(value: str) -> str:
    """One string field as pandas.to_csv quotes it (QUOTE_MINIMAL: delimiter, quote, "\\n")."""
    if any(ch in value for ch in ',"\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def write_csv(frame: pd.DataFrame, path: str | Path, *, block_rows: int = 100_000) -> Path:
    """``frame.to_csv(path, index=False)``, byte for byte, formatting each distinct value once.

    pandas formats and quotes every cell in Python (16 s for the 600k-row, 440 MB worklist at
    1M lines); here each column is factorised, its distinct values are formatted by pandas
    itself (numbers, booleans, dates) or quoted like csv.QUOTE_MINIMAL (strings), and rows are
    assembled with pyarrow ``block_rows`` at a time (memory: one block's text, not the file's).
    Tested equal to ``to_csv`` on every dtype the playbook writes.
    """
    import io

    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    path = Path(path)
    # pandas itself for mixed objects (1 and True factorise together) and one-column frames
    # (the csv module quotes an empty lone field as "")
    if frame.shape[1] < 2 or any(pd.api.types.is_object_dtype(t) for t in frame.dtypes):
        frame.to_csv(path, index=False)
        return path
    cols = []
    for j in range(frame.shape[1]):
        s = frame.iloc[:, j]
        if pd.api.types.is_float_dtype(s.dtype):  # by bit pattern: -0.0 is not 0.0 in a CSV
            v = s.to_numpy(dtype="float64", na_value=np.nan)
            codes, bits = pd.factorize(v.view("int64"))
            uniq = bits.view("float64")
            codes = np.where(np.isnan(v), -1, codes)
        else:
            codes, uniq = pd.factorize(s, use_na_sentinel=True)
        if isinstance(s.dtype, pd.StringDtype):
            text = [_csv_field(str(u)) for u in uniq]
        else:  # numbers, booleans, dates: pandas' own formatting of the distinct values
            buf = io.StringIO()
            pd.DataFrame({"v": pd.Series(uniq, dtype=s.dtype)}).to_csv(
                buf, index=False, header=False, lineterminator="\n"
            )
            text = buf.getvalue().split("\n")[: len(uniq)]
        table = pa.array([*text, ""], type=pa.string())  # the last entry is NA's empty field
        cols.append((table, np.where(codes < 0, len(uniq), codes).astype(np.int32)))
    header = ",".join(_csv_field(str(c)) for c in frame.columns)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(header + "\n")
        step = max(1, block_rows)
        for start in range(0, len(frame) if cols else 0, step):
            block = [pc.take(t, pa.array(c[start : start + step])) for t, c in cols]
            rows = pc.binary_join_element_wise(*block, ",")
            fh.write("\n".join(rows.to_pylist()) + "\n")
    return path
