"""Shared pieces of the payer models: errors, the tidy-result contract, factor coding, prep.

Coding of the payer factor (used by every model): **sum (deviation) coding**. Each payer's
coefficient is its deviation from the *unweighted average payer* of the portfolio, so
``exp(coef)`` reads "this payer vs the average payer" (an odds ratio for denials, a hazard ratio
for time to pay) and the payer effects sum to zero on the link scale. The last payer (sorted)
has no column of its own; its effect is minus the sum of the others, with its standard error
from the full covariance matrix (a linear contrast), so every payer gets an estimate and a CI.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field

# Pin the statsmodels formula engine for stable term names (NOTEBOOKS.md §1.7, §2.7).
os.environ.setdefault("SM_FORMULA_ENGINE", "patsy")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

from oonplaybook.reference.code_families import code_families  # noqa: E402

#: Columns of every ``tidy()`` table (natural scale: odds ratios, multiples, hazard ratios).
TIDY_COLUMNS = ("term", "estimate", "ci_low", "ci_high", "p_value", "n")

#: Columns of ``PayerModels.payer_effects()`` (plus a trailing ``note`` for missing estimates).
EFFECT_COLUMNS = ("model", "payer", "estimate", "ci_low", "ci_high", "p_value", "n", "note")

#: The four payer-effect models, in report order.
EFFECT_MODELS = (
    "denial_odds_ratio",
    "paid_multiple_of_medicare",
    "payment_hazard_ratio",
    "appeal_odds_ratio",
)

Z95 = float(stats.norm.ppf(0.975))


class InsufficientDataError(ValueError):
    """Too little data for a model; the message says what is missing and what would fix it.

    ``per_payer`` carries each payer's own shortfall so tables can say why *this* payer has no
    estimate."""

    def __init__(self, message: str, per_payer: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.per_payer = dict(per_payer or {})


@dataclass
class ModelResult:
    """Base of every payer-model result: a tidy table, messages, and a text summary."""

    name: str
    table: pd.DataFrame  # TIDY_COLUMNS (+ extra columns allowed after them)
    n_obs: int = 0
    messages: list[str] = field(default_factory=list)
    details: str = ""  # statsmodels summary text (or the method note when no model was fit)

    def tidy(self) -> pd.DataFrame:
        """The estimates on the natural scale: term, estimate, ci_low, ci_high, p_value, n."""
        return self.table.reset_index(drop=True).copy()

    def summary(self) -> str:
        """Plain-text summary: the tidy table, the messages and the underlying model summary."""
        parts = [f"== {self.name} (n = {self.n_obs:,}) =="]
        if len(self.table):
            with pd.option_context("display.width", 160, "display.max_columns", 20):
                parts.append(self.table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        parts += [f"note: {m}" for m in self.messages]
        if self.details:
            parts.append(self.details)
        return "\n".join(parts)

    def _repr_html_(self) -> str:  # notebooks
        """HTML rendering for notebooks (the tidy table and the messages)."""
        msgs = "".join(f"<p><em>{m}</em></p>" for m in self.messages)
        return f"<h4>{self.name}</h4>" + self.table.to_html(index=False) + msgs


# --- factor coding ------------------------------------------------------------------------------


def levels_of(values: pd.Series) -> list[str]:
    """Sorted distinct levels of a categorical column (deterministic order)."""
    return sorted(pd.unique(values.astype("str")).tolist())


def sum_code(values: pd.Series, levels: list[str], prefix: str) -> tuple[np.ndarray, list[str]]:
    """Sum (deviation) coding: k-1 columns; the last level is -1 in every column."""
    codes = pd.Categorical(values.astype("str"), categories=levels).codes
    if (codes < 0).any():
        raise ValueError(f"{prefix}: values outside the known levels")
    k = len(levels)
    x = np.zeros((len(codes), max(k - 1, 0)))
    if k > 1:
        rows = np.flatnonzero(codes < k - 1)
        x[rows, codes[rows]] = 1.0
        x[codes == k - 1, :] = -1.0
    return x, [f"{prefix}[S.{lv}]" for lv in levels[:-1]]


def indicator_code(
    values: pd.Series, levels: list[str], prefix: str
) -> tuple[np.ndarray, list[str]]:
    """Cell-means coding: one 0/1 column per level (no intercept alongside)."""
    codes = pd.Categorical(values.astype("str"), categories=levels).codes
    x = np.zeros((len(codes), len(levels)))
    ok = codes >= 0
    x[np.flatnonzero(ok), codes[ok]] = 1.0
    return x, [f"{prefix}[{lv}]" for lv in levels]


def sum_contrasts(k: int) -> np.ndarray:
    """Rows map the k-1 sum-coded coefficients to all k level effects (last = -sum)."""
    c = np.zeros((k, max(k - 1, 0)))
    if k > 1:
        c[: k - 1] = np.eye(k - 1)
        c[k - 1] = -1.0
    return c


def drop_aliased(
    x: np.ndarray, names: list[str], keep_first: int
) -> tuple[np.ndarray, list[str], list[str]]:
    """Drop columns that are linear combinations of earlier ones (e.g. a code family nested in a
    specialty); the first ``keep_first`` columns (intercept, payer) are never dropped."""
    g = x.T @ x
    kept: list[int] = []
    dropped: list[str] = []
    for j in range(x.shape[1]):
        if j < keep_first or not kept:
            kept.append(j)
            continue
        gkk = g[np.ix_(kept, kept)]
        gkj = g[kept, j]
        sol = np.linalg.lstsq(gkk, gkj, rcond=None)[0]
        resid = g[j, j] - gkj @ sol
        if g[j, j] <= 0 or resid <= 1e-8 * g[j, j]:
            dropped.append(names[j])
        else:
            kept.append(j)
    return x[:, kept], [names[j] for j in kept], dropped


def contrast_table(
    params: np.ndarray,
    cov: np.ndarray,
    rows: np.ndarray,
    terms: list[str],
    n: list[int],
    transform: str = "exp",
    df: float | None = None,
) -> pd.DataFrame:
    """Estimates, 95% CIs and two-sided p-values (H0: link-scale value 0) of linear contrasts."""
    est = rows @ params
    se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", rows, cov, rows), 0.0))
    crit = float(stats.t.ppf(0.975, df)) if df else Z95
    with np.errstate(divide="ignore", invalid="ignore"):
        zval = np.where(se > 0, est / se, np.nan)
    pval = 2 * (stats.t.sf(np.abs(zval), df) if df else stats.norm.sf(np.abs(zval)))
    lo, hi = est - crit * se, est + crit * se
    f = (lambda v: np.exp(np.clip(v, -700, 700))) if transform == "exp" else (lambda v: v)
    return pd.DataFrame(
        {
            "term": terms,
            "estimate": f(est),
            "ci_low": f(lo),
            "ci_high": f(hi),
            "p_value": pval,
            "n": np.asarray(n, dtype="int64"),
            "log_estimate": est,
            "log_se": se,
        }
    )


def ols_cluster(
    x: np.ndarray, y: np.ndarray, groups: np.ndarray, bread_weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """OLS by the normal equations with cluster-robust covariance (statsmodels' ``cluster``
    estimator incl. its G/(G-1)*(N-1)/(N-K) correction); returns params, cov, residuals.

    Why not ``sm.OLS``: its QR/pinv of the full design costs ~10x more on a million lines; the
    result is identical (checked in tests/test_payers_models.py). ``bread_weights`` (h_i) make
    the bread sum(h_i x_i x_i') for estimating equations whose derivative is not X'X (censored
    lines)."""
    n, k = x.shape
    xtx = x.T @ x
    params = np.linalg.solve(xtx, x.T @ y)
    e = y - x @ params
    inv = np.linalg.inv(xtx if bread_weights is None else (x * bread_weights[:, None]).T @ x)
    g = int(groups.max()) + 1
    sg = np.column_stack([np.bincount(groups, weights=x[:, j] * e, minlength=g) for j in range(k)])
    meat = sg.T @ sg
    g = int((np.bincount(groups, minlength=g) > 0).sum())  # clusters present
    corr = g / (g - 1) * (n - 1) / (n - k) if g > 1 and n > k else 1.0
    return params, corr * inv @ meat @ inv, e


def logit_grouped(
    x: np.ndarray, k: np.ndarray, n: np.ndarray, tol: float = 1e-10, max_iter: int = 100
) -> tuple[np.ndarray, np.ndarray, int]:
    """Binomial logit MLE on grouped data (``k`` events of ``n`` trials per design row) by
    Newton; returns params, the HC0 sandwich covariance of the underlying 0/1 rows, iterations.

    Every unit of a cell shares the cell's x and fitted p, so the per-unit meat sum
    x x' (y - p)^2 is x x' [k (1 - p)^2 + (n - k) p^2] per cell: the HC0 covariance of the
    unit-level fit is exact from (k, n); only the cells, never the units, are held."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    beta = np.zeros(x.shape[1])
    rate = k.sum() / n.sum()
    beta[0] = np.log(rate / (1 - rate))  # column 0 is the intercept
    it = 0
    while it < max_iter:
        it += 1
        p = 1 / (1 + np.exp(-(x @ beta)))
        w = n * p * (1 - p)
        try:
            step = np.linalg.solve((x * w[:, None]).T @ x, x.T @ (k - n * p))
        except np.linalg.LinAlgError:
            raise InsufficientDataError(
                f"grouped logit: the information matrix became singular at Newton step {it} "
                "(a combination of covariates predicts the outcome perfectly); the model is "
                "left out of this run"
            ) from None
        beta = beta + step
        if np.max(np.abs(step)) < tol:
            break
    p = 1 / (1 + np.exp(-(x @ beta)))
    bread = np.linalg.inv((x * (n * p * (1 - p))[:, None]).T @ x)
    meat_w = k * (1 - p) ** 2 + (n - k) * p**2
    return beta, bread @ ((x * meat_w[:, None]).T @ x) @ bread, it


def coef_text(names: list[str], params: np.ndarray, cov: np.ndarray, title: str) -> str:
    """A plain coefficient table (link scale) for models fit without a statsmodels results object."""
    se = np.sqrt(np.maximum(np.diag(cov), 0))
    rows = [f"{title}", f"{'term':<48}{'coef':>12}{'std err':>12}"]
    rows += [f"{nm:<48}{b:>12.5f}{s:>12.5f}" for nm, b, s in zip(names, params, se, strict=True)]
    return "\n".join(rows)


def clopper_pearson(
    k: np.ndarray, n: np.ndarray, alpha: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Clopper-Pearson) binomial CI; NaN where n == 0."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(k > 0, stats.beta.ppf(alpha / 2, k, n - k + 1), 0.0)
        hi = np.where(k < n, stats.beta.ppf(1 - alpha / 2, k + 1, n - k), 1.0)
    lo = np.where(n > 0, lo, np.nan)
    hi = np.where(n > 0, hi, np.nan)
    return lo, hi


def holm(p: np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values (NaN stays NaN); controls the family-wise error rate."""
    p = np.asarray(p, dtype=float)
    out = np.full_like(p, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    if not len(ok):
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    m = len(order)
    adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out[order] = adj
    return out


def clean_summary(text: str) -> str:
    """A statsmodels summary without its wall-clock Date/Time fields (deterministic output)."""
    text = re.sub(r"(Date:\s+)\w{3}, \d{2} \w{3} \d{4}", r"\1(omitted)       ", text)
    return re.sub(r"(Time:\s+)\d{2}:\d{2}:\d{2}", r"\1(omitted)", text)


def month_labels(dates: pd.Series) -> pd.Series:
    """YYYY-MM label of each date (formats each distinct month once: fast on millions of rows)."""
    ym = dates.dt.year.to_numpy() * 12 + dates.dt.month.to_numpy() - 1
    ym = np.where(dates.isna().to_numpy(), -1, ym)
    uniq, inv = np.unique(ym, return_inverse=True)
    labels = np.array(
        [f"{u // 12:04d}-{u % 12 + 1:02d}" if u >= 0 else "" for u in uniq], dtype=object
    )
    return pd.Series(labels[inv], index=dates.index, dtype="str")


def fmt_num(v: float, digits: int = 3) -> str:
    """Format a number for plain-English readings (NaN -> 'n/a')."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return f"{v:.{digits}g}"


# --- CARC reason groups (docs/domain.md §4.2; meanings from the WPC CARC list) ---------------------

#: CARC (number/letter, without group) -> denial reason group used by the denial and appeal models.
CARC_REASON_GROUP: dict[str, str] = {
    **dict.fromkeys(["50", "56", "150", "151", "119"], "medical_necessity"),
    **dict.fromkeys(["197", "198", "284", "296", "15", "62"], "authorization"),
    **dict.fromkeys(
        ["97", "59", "234", "236", "4", "5", "6", "11", "181", "182"], "coding_bundling"
    ),
    **dict.fromkeys(["16", "226", "252", "A1"], "missing_information"),
    "29": "timely_filing",
    **dict.fromkeys(["27", "26", "200", "31", "32", "33", "22", "23", "109"], "eligibility_cob"),
    **dict.fromkeys(["242", "243", "279"], "network"),
    **dict.fromkeys(["96", "204", "49", "B1"], "coverage"),
    "18": "duplicate",
    **dict.fromkeys(["170", "185", "B7"], "credentialing"),
}

#: CARCs that are improper on an NSA emergency claim: prior authorization absent (197, 198, 284,
#: 296) and not-in-network (242, 243, 279). Emergency services must be covered "without the need
#: for any prior authorization determination" and regardless of network status:
#: 42 U.S.C. 300gg-111(a)(1)(A)-(B); 45 CFR 149.110(b)(1)-(2); docs/domain.md §1.1.
NSA_IMPROPER_ER_CARCS = frozenset({"197", "198", "284", "296", "242", "243", "279"})
#: The prior-authorization subset (CARC 197 absent, 198 exceeded, 284 not for these services,
#: 296 not for this provider; WPC CARC list via docs/domain.md §4.2).
AUTH_CARCS = frozenset({"197", "198", "284", "296"})


def carc_number(carc: pd.Series) -> pd.Series:
    """The reason part of a ``GROUP-CODE`` CARC ("CO-197" -> "197")."""
    s = carc.astype("str").fillna("")
    return s.str.replace(r"^.*-", "", regex=True).str.strip().str.upper()


def reason_groups(carc: pd.Series) -> pd.Series:
    """Denial reason group of each CARC ('other' when unlisted, 'none' when blank)."""
    num = carc_number(carc)
    out = num.map(CARC_REASON_GROUP).fillna("other").astype("str")
    return out.where(num != "", "none")


# --- place of service groups (CMS Place of Service code set) ----------------------------------

#: POS code -> group. Source: CMS Place of Service Code Set (cms.gov, "Place of Service Codes
#: for Professional Claims"): 23 ED, 21 inpatient, 19/22 outpatient hospital, 24 ASC, 11 office,
#: 02/10 telehealth, 41/42 ambulance.
POS_GROUP: dict[str, str] = {
    "23": "emergency_department",
    "21": "inpatient",
    "51": "inpatient",
    "61": "inpatient",
    "19": "outpatient_hospital",
    "22": "outpatient_hospital",
    "24": "asc",
    "11": "office",
    "02": "telehealth",
    "10": "telehealth",
    "81": "independent_lab",
    "41": "ambulance",
    "42": "ambulance",
}


def pos_groups(pos: pd.Series) -> pd.Series:
    """Place-of-service group of each POS code ('other' when unlisted)."""
    return pos.astype("str").str.strip().str.zfill(2).map(POS_GROUP).fillna("other").astype("str")


# --- claim-level preparation ------------------------------------------------------------------

ADJUDICATED = ("paid", "denied")


def claim_table(lines: pd.DataFrame, cutoff_date: pd.Timestamp | None = None) -> pd.DataFrame:
    """One row per claim with the claim-level outcome and covariates the models need.

    ``denied`` = every adjudicated line of the claim was denied; ``status`` is ``adjudicated``
    when any line has a paid/denied status, else ``pending``. The principal line (highest
    billed) supplies the code family and POS. Reversal/forwarded-only claims are excluded.
    """
    df = lines[
        [
            "claim_id",
            "line_no",
            "payer",
            "specialty",
            "cpt",
            "pos",
            "billed",
            "paid",
            "claim_status",
            "carc",
            "emergency",
            "submitted_date",
            "remit_date",
            "service_date",
        ]
    ].copy()
    df["is_adj"] = df["claim_status"].isin(ADJUDICATED)
    df["is_denied"] = df["claim_status"].eq("denied")
    df["is_pending"] = df["claim_status"].eq("pending")
    df["billed0"] = df["billed"].fillna(0.0)
    df = df.sort_values(
        ["claim_id", "billed0", "line_no"], ascending=[True, False, True], kind="stable"
    )
    g = df.groupby("claim_id", sort=True)
    first = g.first()
    out = pd.DataFrame(
        {
            "payer": first["payer"].astype("str"),
            "specialty": first["specialty"].astype("str"),
            "cpt": first["cpt"].astype("str"),
            "pos": first["pos"].astype("str"),
            "emergency": g["emergency"].any(),
            "lines": g.size(),
            "billed": g["billed0"].sum(),
            "paid": g["paid"].sum(min_count=1),
            "n_adj": g["is_adj"].sum(),
            "n_denied": g["is_denied"].sum(),
            "n_pending": g["is_pending"].sum(),
            "submitted_date": g["submitted_date"].min(),
            "remit_date": g["remit_date"].min(),
            "service_date": g["service_date"].min(),
        }
    )
    # primary CARC of the claim: the first non-blank CARC on a denied line (principal line first)
    den = df[df["is_denied"] & df["carc"].astype("str").ne("")]
    carc = den.groupby("claim_id", sort=True)["carc"].first()
    out["carc"] = carc.reindex(out.index).fillna("").astype("str")
    out["adjudicated"] = out["n_adj"] > 0
    out["denied"] = out["adjudicated"] & (out["n_denied"] == out["n_adj"])
    out["pending"] = ~out["adjudicated"] & (out["n_pending"] > 0)
    out["family"] = code_families(out["cpt"])
    out["pos_group"] = pos_groups(out["pos"])
    out = out[out["adjudicated"] | out["pending"]]
    out.index.name = "claim_id"
    return out.reset_index()


def default_cutoff(lines: pd.DataFrame) -> pd.Timestamp:
    """Data cut-off when none is given: the latest remit/paid/submitted date in the table."""
    cands = [lines[c].max() for c in ("remit_date", "paid_date", "submitted_date") if c in lines]
    cands = [c for c in cands if pd.notna(c)]
    if not cands:
        raise InsufficientDataError(
            "no remit, paid or submitted dates in the claim lines; pass cutoff_date explicitly"
        )
    return pd.Timestamp(max(cands)).normalize()
