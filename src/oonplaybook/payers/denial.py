"""Denial model: which payers deny more than the average payer, after case mix.

A binomial GLM (logit link) of claim denial on payer, specialty, code family (of the principal
line), emergency flag, place-of-service group and log billed amount (centred). The payer factor
uses **sum (deviation) coding**: each payer's odds ratio is against the *average payer of this
portfolio* (the payer log-odds effects sum to zero), so "Payer X: OR 2.4" reads "X denies 2.4
times the odds of the average payer for the same kind of claim". Standard errors are
cluster-robust by claim (at claim level each claim is its own cluster, i.e. HC0 sandwich).

Improper emergency denials (CO-197 no prior authorization, CO-242 not in network, ... on an
emergency claim) are scanned first; a payer flagged for them gets its own emergency-by-payer
term, so its reported odds ratio describes its *other* denials and the improper ones are
reported separately (they are a compliance finding, not a denial propensity).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from oonplaybook.payers._base import (
    AUTH_CARCS,
    NSA_IMPROPER_ER_CARCS,
    InsufficientDataError,
    ModelResult,
    carc_number,
    clean_summary,
    clopper_pearson,
    coef_text,
    contrast_table,
    drop_aliased,
    holm,
    indicator_code,
    levels_of,
    logit_grouped,
    sum_code,
    sum_contrasts,
)

#: Fewest claims, denials and non-denials a payer needs to get its own denial coefficient
#: (rule of thumb: >= 5 events per cell keeps the logit MLE away from separation).
MIN_CLAIMS = 30
MIN_EVENTS = 5
#: Smallest excess rate of improper emergency denials worth flagging (2 percentage points).
MIN_IMPROPER_EXCESS = 0.02
#: Centre of log(claim billed) so the intercept is at a typical claim (about $665).
LOG_BILLED_CENTRE = 6.5


@dataclass
class ImproperERResult(ModelResult):
    """Improper NSA emergency denials per payer (CARC 197/198/284/296/242/243/279)."""

    flagged: list[str] = field(default_factory=list)


def improper_er_denials(
    claims: pd.DataFrame, alpha: float = 0.05, min_excess: float = MIN_IMPROPER_EXCESS
) -> ImproperERResult:
    """Per payer: share of adjudicated emergency claims denied for prior authorization or
    network reasons (``estimate``, exact 95% CI), against the other payers' share.

    Flagged when Fisher's exact test (one-sided, vs the other payers; Holm across payers) is
    significant and the excess is at least ``min_excess``. ``auth_rate`` counts the prior
    authorization CARCs alone (197/198/284/296). Emergency services need no prior authorization
    and are covered regardless of network: 45 CFR 149.110(b); docs/domain.md §1.1.
    """
    em = claims[claims["emergency"] & claims["adjudicated"]].copy()
    num = carc_number(em["carc"])
    em["improper"] = em["denied"] & num.isin(NSA_IMPROPER_ER_CARCS)
    em["auth"] = em["denied"] & num.isin(AUTH_CARCS)
    rows = []
    for payer, g in em.groupby("payer", sort=True):
        rest = em[em["payer"] != payer]
        n, k, ka = len(g), int(g["improper"].sum()), int(g["auth"].sum())
        n0, k0 = len(rest), int(rest["improper"].sum())
        lo, hi = clopper_pearson(np.array([k, ka]), np.array([n, n]))
        p = (
            stats.fisher_exact([[k, n - k], [k0, n0 - k0]], alternative="greater").pvalue
            if n and n0
            else np.nan
        )
        rows.append(
            {
                "term": str(payer),
                "estimate": k / n,
                "ci_low": float(lo[0]),
                "ci_high": float(hi[0]),
                "p_value": p,
                "n": n,
                "improper_denials": k,
                "others_rate": k0 / n0 if n0 else np.nan,
                "excess_rate": k / n - k0 / n0 if n0 else np.nan,
                "auth_denials": ka,
                "auth_rate": ka / n,
                "auth_ci_low": float(lo[1]),
                "auth_ci_high": float(hi[1]),
            }
        )
    tab = pd.DataFrame(rows)
    msgs: list[str] = []
    flagged: list[str] = []
    if len(tab):
        tab["p_holm"] = holm(tab["p_value"].to_numpy())
        tab["flagged"] = (tab["p_holm"] < alpha) & (tab["excess_rate"] >= min_excess)
        flagged = tab.loc[tab["flagged"], "term"].tolist()
        for _, r in tab[tab["flagged"]].iterrows():
            msgs.append(
                f"{r['term']}: {r['improper_denials']} of {r['n']} emergency claims "
                f"({r['estimate']:.1%}, 95% CI {r['ci_low']:.1%}-{r['ci_high']:.1%}) denied for "
                f"prior authorization or network (other payers {r['others_rate']:.1%}); "
                "improper for NSA emergency services (45 CFR 149.110(b))"
            )
    else:
        msgs.append("no adjudicated emergency claims: improper emergency denials not assessed")
    return ImproperERResult(
        name="improper_emergency_denials",
        table=tab,
        n_obs=int(len(em)),
        messages=msgs,
        details="rate = improper denials / adjudicated emergency claims; Fisher exact vs others, Holm",
        flagged=flagged,
    )


@dataclass
class DenialResult(ModelResult):
    """Denial GLM result: payer odds ratios (vs the average payer), adjusted denial rates."""

    payer_table: pd.DataFrame = field(default_factory=pd.DataFrame)
    excluded: dict[str, str] = field(default_factory=dict)


def _log_billed(claims: pd.DataFrame) -> np.ndarray:
    """log(claim billed), centred at LOG_BILLED_CENTRE ($1 floor)."""
    return np.log(np.maximum(claims["billed"].to_numpy(float), 1.0)) - LOG_BILLED_CENTRE


def _design(
    claims: pd.DataFrame,
    payers: list[str],
    er_flagged: list[str],
    log_billed: np.ndarray | None = None,
) -> tuple[np.ndarray, list[str], int]:
    """Intercept | payer (sum) | improper-ER terms | specialty, family, POS group (sum) | E | log
    billed (``log_billed`` when given: the grouped fit's cell means)."""
    blocks = [np.ones((len(claims), 1))]
    names = ["Intercept"]
    xp, np_ = sum_code(claims["payer"], payers, "payer")
    blocks.append(xp)
    names += np_
    for p in er_flagged:
        blocks.append(((claims["payer"] == p) & claims["emergency"]).to_numpy(float)[:, None])
        names.append(f"improper_er[{p}]")
    keep_first = sum(b.shape[1] for b in blocks)
    for col, pre in (
        ("specialty", "specialty"),
        ("family", "code_family"),
        ("pos_group", "pos_group"),
    ):
        lv = levels_of(claims[col])
        if len(lv) > 1:
            x, nm = sum_code(claims[col], lv, pre)
            blocks.append(x)
            names += nm
    blocks.append(claims["emergency"].to_numpy(float)[:, None])
    names.append("emergency")
    lb = _log_billed(claims) if log_billed is None else log_billed
    blocks.append(lb[:, None])
    names.append("log_billed_centred")
    return np.hstack(blocks), names, keep_first


#: Cell columns of the grouped denial fit (the categorical covariates; billed is binned).
CELL_COLUMNS = ("payer", "specialty", "family", "pos_group", "emergency")
#: Width of a log-billed bin in the grouped fit: 0.01 on the log scale (bills within ~1% of each
#: other share a cell, whose covariate is their mean log billed). 0 groups on the exact amount.
GROUPED_BILLED_BIN = 0.01


def denial_cells(claims: pd.DataFrame, billed_bin: float = GROUPED_BILLED_BIN) -> pd.DataFrame:
    """Sufficient statistics of the denial logit: adjudicated claims per covariate cell (``n``),
    denials (``k``) and the sum of centred log billed (``lb_sum``), sorted by cell.

    Cells from separate partitions of one portfolio add up (group by the key columns and sum),
    so a partitioned stage never needs every claim at once."""
    d = claims.loc[claims["adjudicated"], [*CELL_COLUMNS, "billed", "denied"]]
    lb = _log_billed(d)
    key = np.round(lb / billed_bin) if billed_bin > 0 else lb
    g = d.assign(lb_bin=key, lb=lb).groupby([*CELL_COLUMNS, "lb_bin"], sort=True, observed=True)
    cells = g.agg(n=("denied", "size"), k=("denied", "sum"), lb_sum=("lb", "sum"))
    return cells.reset_index().astype({"n": "int64", "k": "int64"})


#: Covariates whose levels are checked for perfect prediction before the denial fit.
SEPARATION_COLUMNS = ("specialty", "family", "pos_group")


def drop_separated_levels(
    d: pd.DataFrame, columns: tuple[str, ...] = SEPARATION_COLUMNS
) -> tuple[pd.DataFrame, list[tuple[str, str, int, int]]]:
    """Claims of covariate levels that are all denied or all paid left out, with what was
    left out as (column, level, claims, denials).

    Such a level predicts the outcome perfectly: its coefficient has no finite MLE and Newton
    walks off to infinity until the Hessian is singular (a 3-claim blank specialty did that at
    3M lines). Leaving those claims out is the usual treatment (Stata's logit does the same) and
    leaves every other estimate the MLE of the remaining claims. Repeated until no level is
    separated (leaving claims out can separate another level)."""
    gone: list[tuple[str, str, int, int]] = []
    for _ in range(10):
        drop = np.zeros(len(d), dtype=bool)
        for col in columns:
            if col not in d:
                continue
            key = d[col].astype("str")
            agg = d["denied"].astype("int64").groupby(key, sort=True).agg(["size", "sum"])
            sep = agg[(agg["sum"] == 0) | (agg["sum"] == agg["size"])]
            if len(agg) < 2 or sep.empty:
                continue
            for lv, r in sep.iterrows():
                gone.append((col, str(lv), int(r["size"]), int(r["sum"])))
            drop |= key.isin(sep.index).to_numpy()
        if not drop.any():
            break
        d = d.loc[~drop]
    return d, gone


def fit_denial(
    claims: pd.DataFrame,
    er_flagged: list[str] | None = None,
    min_claims: int = MIN_CLAIMS,
    min_events: int = MIN_EVENTS,
    grouped: bool = False,
    billed_bin: float = GROUPED_BILLED_BIN,
) -> DenialResult:
    """Fit the claim-level denial logit; payers with too little data are excluded with a reason.

    ``grouped=True`` fits the same logit on ``denial_cells`` (counts per covariate cell, log
    billed binned by ``billed_bin``) with the exact HC0 covariance from the counts: the
    estimates move only by the binning (``billed_bin=0``: equal to the claim-level fit)."""
    d = claims[claims["adjudicated"]].copy()
    if d.empty:
        raise InsufficientDataError("denial model: no adjudicated (paid or denied) claims")
    agg = d.groupby("payer", sort=True)["denied"].agg(["size", "sum"])
    excluded: dict[str, str] = {}
    for payer, r in agg.iterrows():
        n, k = int(r["size"]), int(r["sum"])
        if n < min_claims:
            excluded[str(payer)] = f"only {n} adjudicated claims (need {min_claims})"
        elif k < min_events or n - k < min_events:
            excluded[str(payer)] = (
                f"{k} denied and {n - k} paid claims (need at least {min_events} of each for a "
                "stable odds ratio)"
            )
    payers = [p for p in agg.index.astype(str) if p not in excluded]
    if len(payers) < 2:
        raise InsufficientDataError(
            f"denial model: need at least 2 payers with >= {min_claims} claims and >= "
            f"{min_events} denials and paid claims each; have {len(payers)}",
            excluded,
        )
    d = d[d["payer"].isin(payers)]
    d, separated = drop_separated_levels(d)
    er = [p for p in (er_flagged or []) if p in payers]
    if grouped:
        cells = denial_cells(d, billed_bin)
        x, names, keep_first = _design(cells, payers, er, (cells["lb_sum"] / cells["n"]).to_numpy())
        x, names, dropped = drop_aliased(x, names, keep_first)
        params, cov, n_iter = logit_grouped(x, cells["k"].to_numpy(), cells["n"].to_numpy())
        frame, wts = cells, cells["n"].to_numpy(float)
    else:
        x, names, keep_first = _design(d, payers, er)
        x, names, dropped = drop_aliased(x, names, keep_first)
        y = d["denied"].to_numpy(float)
        # Newton from the intercept-only fit: its Hessian is X'WX by matrix products, ~5x faster
        # than IRLS's QR of the full design on 10^5-10^6 claims (same MLE, same sandwich SEs)
        start = np.zeros(x.shape[1])
        start[0] = np.log(y.mean() / (1 - y.mean()))
        try:
            res = sm.GLM(y, x, family=sm.families.Binomial()).fit(
                method="newton", start_params=start, cov_type="HC0", maxiter=100
            )
        except np.linalg.LinAlgError:
            raise InsufficientDataError(
                "denial logit: the information matrix is singular (a combination of covariates "
                "predicts the outcome perfectly); the model is left out of this run"
            ) from None
        params, cov = np.asarray(res.params), np.asarray(res.cov_params())
        frame, wts = d, None

    k = len(payers)
    rows = np.zeros((k, len(names)))
    rows[:, 1 : 1 + (k - 1)] = sum_contrasts(k)
    n_by = d["payer"].value_counts().reindex(payers).to_numpy()
    ptab = contrast_table(params, cov, rows, [f"payer[{p}]" for p in payers], list(n_by))
    other_rows = np.eye(len(names))[keep_first - len(er) :]
    other = contrast_table(
        params, cov, other_rows, names[keep_first - len(er) :], [len(d)] * len(other_rows)
    )
    table = pd.concat([ptab, other], ignore_index=True)

    # adjusted (standardised) denial rate: the portfolio's own claims, priced as if this payer
    xs = x.copy()
    adj = []
    pc = sum_contrasts(k)
    for i, p in enumerate(payers):
        xs[:, 1 : 1 + (k - 1)] = pc[i]
        for q in er:
            col = names.index(f"improper_er[{q}]")
            xs[:, col] = frame["emergency"].to_numpy(float) * (q == p)
        prob = 1 / (1 + np.exp(-(xs @ params)))
        adj.append(float(np.mean(prob) if wts is None else np.average(prob, weights=wts)))
    raw = d.groupby("payer", sort=True)["denied"].mean().reindex(payers).to_numpy()
    payer_table = pd.DataFrame(
        {
            "payer": payers,
            "odds_ratio": ptab["estimate"].to_numpy(),
            "ci_low": ptab["ci_low"].to_numpy(),
            "ci_high": ptab["ci_high"].to_numpy(),
            "p_value": ptab["p_value"].to_numpy(),
            "n": n_by,
            "raw_denial_rate": raw,
            "adjusted_denial_rate": adj,
        }
    )
    msgs = [f"payer {p} excluded: {why}" for p, why in sorted(excluded.items())]
    msgs += [
        f"{col} {lv!r}: its {n} claims are all {'denied' if k else 'paid'} (it predicts the "
        "outcome perfectly, so its odds ratio is infinite); those claims are left out of the fit"
        for col, lv, n, k in separated
    ]
    if dropped:
        msgs.append(f"terms dropped as aliased (nested in another factor): {', '.join(dropped)}")
    for p in er:
        msgs.append(
            f"{p}: improper emergency denials modelled by their own term; its odds ratio "
            "describes its other denials"
        )
    if grouped:
        msgs.append(
            f"fit on {len(frame):,} covariate cells of {len(d):,} claims (log billed binned by "
            f"{billed_bin:g}; HC0 covariance exact from the cell counts, {n_iter} Newton steps)"
        )
        details = coef_text(names, params, cov, "Binomial logit on cell counts, HC0 SE")
    elif len(names) <= 60:
        details = clean_summary(res.summary(xname=names).as_text())
    else:
        details = ""
    return DenialResult(
        name="denial_odds_ratio",
        table=table.drop(columns=["log_estimate", "log_se"]),
        n_obs=int(len(d)),
        messages=msgs,
        details=details,
        payer_table=payer_table,
        excluded=excluded,
    )


__all__ = [
    "DenialResult",
    "drop_separated_levels",
    "ImproperERResult",
    "denial_cells",
    "fit_denial",
    "improper_er_denials",
    "indicator_code",
]
