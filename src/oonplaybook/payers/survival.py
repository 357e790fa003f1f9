"""Time to pay: Kaplan-Meier curves and a Cox model of days from submission to remittance.

The clock runs from the date the payer received the claim (``submitted_date``) to its first
remittance. Many exports and remits carry no claim-received date (no DTM*050); when fewer than
half the claims have one, the clock runs from the **date of service** instead, for every claim
(one clock per portfolio, so payers stay comparable), and the result says so
(:attr:`TimeToPayResult.clock`, :data:`CLOCK_LABELS`) wherever it is shown. Days from service
include the provider's own billing lag, so they are longer than days from receipt; the payer
comparison (hazard ratios) is unaffected when that lag does not differ by payer. The first
remittance (payment or denial: a denial is also the payer's answer, and leaving denials out would
condition on the outcome). Claims with no remittance by the data cut-off are **censored** at the
cut-off. The Cox model (statsmodels PHReg, Efron ties) uses sum coding of the payer, so each
hazard ratio is against the average payer: HR 0.45 = "pays at 45% of the average payer's rate
at any point in time". Medians (days until half the claims are remitted) come from KM.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import SurvfuncRight

from oonplaybook.payers._base import (
    Z95,
    InsufficientDataError,
    ModelResult,
    clean_summary,
    coef_text,
    contrast_table,
    levels_of,
    sum_code,
    sum_contrasts,
)

#: Above this many claims the Cox model is fit in its grouped-time form (see _grouped_cox):
#: remittance days are whole days, so the exact model for day-grouped proportional hazards
#: (Prentice & Gloeckler 1978) is a complementary log-log binomial GLM on (payer, day) risk-set
#: counts, which estimates the same log hazard ratios from a few thousand aggregated rows.
COX_MAX_CLAIMS = 250_000
#: Fewest claims and remittances a payer needs for its own hazard ratio.
MIN_CLAIMS = 20
MIN_EVENTS = 5


#: What the time-to-pay clock counts, by clock (shown with every time-to-pay figure).
CLOCK_LABELS = {
    "submitted": "days from claim received to remittance",
    "service": "days from date of service to remittance (no claim-received date)",
}
#: Short column headings for each clock (scorecards, tables).
CLOCK_HEADINGS = {
    "submitted": "median days (from receipt)",
    "service": "median days (from date of service)",
}
#: Share of claims that must carry a claim-received date for the submitted-date clock.
MIN_SUBMITTED_SHARE = 0.5


def choose_clock(claims: pd.DataFrame) -> str:
    """``submitted`` when at least half the claims have a claim-received date, else ``service``."""
    has = claims["submitted_date"].notna() if "submitted_date" in claims else pd.Series(False)
    if len(claims) and has.mean() >= MIN_SUBMITTED_SHARE:
        return "submitted"
    if "service_date" in claims and claims["service_date"].notna().any():
        return "service"
    return "submitted"


def survival_table(claims: pd.DataFrame, cutoff: pd.Timestamp) -> tuple[pd.DataFrame, list[str]]:
    """Claim-level durations (days) and event flags; returns rows dropped with their reasons.

    The clock (``surv.attrs["clock"]``) starts at the claim-received date, or at the date of
    service when most claims have no received date (:func:`choose_clock`).
    """
    clock = choose_clock(claims)
    start_col = "submitted_date" if clock == "submitted" else "service_date"
    d = claims[["claim_id", "payer", start_col, "remit_date", "adjudicated"]].copy()
    msgs = []
    if clock == "service":
        n_sub = int(claims["submitted_date"].notna().sum()) if "submitted_date" in claims else 0
        msgs.append(
            f"time to pay counted from the date of service: only {n_sub} of {len(claims)} claims "
            "have a claim-received date (DTM*050 / submitted date); days from service include "
            "the billing lag"
        )
    no_start = d[start_col].isna()
    if no_start.any():
        what = "submitted" if clock == "submitted" else "service"
        msgs.append(f"{int(no_start.sum())} claims without a {what} date left out of time to pay")
    d = d[~no_start]
    event = d["remit_date"].notna() & (d["remit_date"] <= cutoff)
    end = d["remit_date"].where(event, cutoff)
    days = (end - d[start_col]).dt.days.astype(float)
    bad = days < 0
    if bad.any():
        msgs.append(
            f"{int(bad.sum())} claims remitted after the cut-off or dated after their "
            f"remittance left out of time to pay; check {start_col}/remit_date"
        )
    out = pd.DataFrame(
        {
            "claim_id": d["claim_id"],
            "payer": d["payer"],
            "days": days.clip(lower=0.5),
            "event": event.astype(float),
        }
    )[~bad.to_numpy()]
    out = out.reset_index(drop=True)
    out.attrs["clock"] = clock
    return out, msgs


def _quantile_ci(sf: SurvfuncRight, p: float = 0.5) -> tuple[float, float, float]:
    """Median (or p-quantile of time) with a Greenwood-based CI that stays defined on big data."""
    q = float(sf.quantile(p))
    with np.errstate(divide="ignore", invalid="ignore"):
        lo, hi = sf.quantile_ci(p)
    if np.isfinite(lo) and np.isfinite(hi):
        return q, float(lo), float(hi)
    s, se, t = sf.surv_prob, sf.surv_prob_se, sf.surv_times
    target = 1 - p
    below_hi = np.flatnonzero(s <= target + Z95 * se)
    below_lo = np.flatnonzero(s <= target - Z95 * se)
    lo = float(t[below_hi[0]]) if len(below_hi) else np.nan
    hi = float(t[below_lo[0]]) if len(below_lo) else np.nan
    return q, lo, hi


@dataclass
class TimeToPayResult(ModelResult):
    """Cox hazard ratios vs the average payer, KM medians and curves."""

    payer_table: pd.DataFrame = field(default_factory=pd.DataFrame)
    curves: pd.DataFrame = field(default_factory=pd.DataFrame)
    excluded: dict[str, str] = field(default_factory=dict)
    clock: str = "submitted"

    @property
    def clock_label(self) -> str:
        """What the days count (claim received or date of service, to remittance)."""
        return CLOCK_LABELS[self.clock]

    def km_curves(self) -> pd.DataFrame:
        """KM curves: payer, days, share still unpaid (with 95% band), share remitted.

        ``attrs["clock"]`` says where the days start (see :data:`CLOCK_LABELS`).
        """
        out = self.curves.copy()
        out.attrs["clock"] = self.clock
        return out


def _grouped_cox(d: pd.DataFrame, levels: list[str]) -> tuple[np.ndarray, np.ndarray, str]:
    """Grouped-time PH model: cloglog binomial GLM of events / at risk per (payer, day), one
    baseline term per day with events, sum-coded payers. Returns (params, cov, summary) of the
    payer columns only."""
    k = len(levels)
    code = pd.Categorical(d["payer"], categories=levels).codes
    days = np.maximum(np.ceil(d["days"].to_numpy(float)), 1).astype(int)
    ev = d["event"].to_numpy(float)
    t_max = int(days.max())
    by_dur = np.zeros((k, t_max + 2))
    by_ev = np.zeros((k, t_max + 2))
    np.add.at(by_dur, (code, days), 1.0)
    np.add.at(by_ev, (code, days), ev)
    at_risk = by_dur[:, ::-1].cumsum(axis=1)[:, ::-1]  # n with duration >= t
    ev_days = np.flatnonzero(by_ev.sum(axis=0) > 0)
    pi, ti = np.meshgrid(np.arange(k), ev_days, indexing="ij")
    pi, ti = pi.ravel(), ti.ravel()
    keep = at_risk[pi, ti] > 0
    pi, ti = pi[keep], ti[keep]
    events, risk = by_ev[pi, ti], at_risk[pi, ti]
    day = np.searchsorted(ev_days, ti)
    xp = sum_contrasts(k)[pi]
    # Fisher scoring for the cloglog binomial with one baseline term per day, eliminating the
    # day terms by their (diagonal) block of X'WX (Schur complement): exact, tiny systems.
    beta = np.zeros(k - 1)
    crude = np.clip(
        np.bincount(day, weights=events) / np.bincount(day, weights=risk), 1e-9, 1 - 1e-9
    )
    alpha = np.log(-np.log1p(-crude))
    info = np.eye(k - 1)
    for _ in range(100):
        eta = alpha[day] + xp @ beta
        ee = np.exp(eta)
        mu = np.clip(-np.expm1(-ee), 1e-12, 1 - 1e-12)
        dmu = np.exp(eta - ee)
        w = risk * dmu * dmu / (mu * (1 - mu))
        z = eta + (events / risk - mu) / dmu
        wt = np.bincount(day, weights=w)
        wxp = np.column_stack([np.bincount(day, weights=w * xp[:, j]) for j in range(k - 1)])
        wz = np.bincount(day, weights=w * z)
        info = (xp * w[:, None]).T @ xp - (wxp / wt[:, None]).T @ wxp
        rhs = (xp * (w * z)[:, None]).sum(axis=0) - (wxp / wt[:, None]).T @ wz
        new = np.linalg.solve(info, rhs)
        alpha = (wz - wxp @ new) / wt
        done = np.max(np.abs(new - beta)) < 1e-10
        beta = new
        if done:
            break
    cov = np.linalg.inv(info)
    names = [f"payer[S.{p}]" for p in levels[:-1]]
    txt = coef_text(names, beta, cov, f"grouped-time PH (cloglog), {len(ev_days)} daily risk sets")
    return beta, cov, txt


def fit_time_to_pay(
    surv: pd.DataFrame,
    min_claims: int = MIN_CLAIMS,
    min_events: int = MIN_EVENTS,
    cox_max_claims: int = COX_MAX_CLAIMS,
) -> TimeToPayResult:
    """KM per payer and a Cox PHReg (Efron ties) with sum-coded payers, censoring at cut-off."""
    clock = surv.attrs.get("clock", "submitted")
    if surv.empty:
        raise InsufficientDataError(
            "time to pay: no claims with a claim-received (submitted) or service date"
        )
    agg = surv.groupby("payer", sort=True)["event"].agg(["size", "sum"])
    excluded = {}
    for p, r in agg.iterrows():
        if r["size"] < min_claims or r["sum"] < min_events:
            excluded[str(p)] = (
                f"{int(r['size'])} claims, {int(r['sum'])} remitted (need {min_claims} and {min_events})"
            )
    payers = [p for p in agg.index.astype(str) if p not in excluded]
    kmrows, curves = [], []
    for p, g in surv.groupby("payer", sort=True):
        if g["event"].sum() == 0:
            kmrows.append(
                {
                    "payer": str(p),
                    "median_days": np.nan,
                    "median_ci_low": np.nan,
                    "median_ci_high": np.nan,
                    "claims": len(g),
                    "remitted": 0,
                    "censored": len(g),
                }
            )
            continue
        sf = SurvfuncRight(g["days"].to_numpy(), g["event"].to_numpy())
        med, lo, hi = _quantile_ci(sf) if sf.surv_prob.min() <= 0.5 else (np.nan, np.nan, np.nan)
        kmrows.append(
            {
                "payer": str(p),
                "median_days": med,
                "median_ci_low": lo,
                "median_ci_high": hi,
                "claims": len(g),
                "remitted": int(g["event"].sum()),
                "censored": int((g["event"] == 0).sum()),
            }
        )
        se = np.nan_to_num(sf.surv_prob_se)
        curves.append(
            pd.DataFrame(
                {
                    "payer": str(p),
                    "days": np.concatenate([[0.0], sf.surv_times]),
                    "unpaid": np.concatenate([[1.0], sf.surv_prob]),
                    "unpaid_low": np.concatenate([[1.0], np.clip(sf.surv_prob - Z95 * se, 0, 1)]),
                    "unpaid_high": np.concatenate([[1.0], np.clip(sf.surv_prob + Z95 * se, 0, 1)]),
                }
            )
        )
    km = pd.DataFrame(kmrows)
    cur = (
        pd.concat(curves, ignore_index=True)
        if curves
        else pd.DataFrame(columns=["payer", "days", "unpaid", "unpaid_low", "unpaid_high"])
    )
    cur["remitted"] = 1 - cur["unpaid"]
    msgs = [f"payer {p} has no hazard ratio: {why}" for p, why in sorted(excluded.items())]
    nomed = km.loc[km["median_days"].isna(), "payer"].tolist()
    if nomed:
        msgs.append(
            f"median days not reached (fewer than half remitted by the cut-off): {', '.join(nomed)}"
        )
    if len(payers) < 2:
        msgs.append("Cox model not fit: need at least 2 payers with enough claims and remittances")
        table = pd.DataFrame(columns=["term", "estimate", "ci_low", "ci_high", "p_value", "n"])
        return TimeToPayResult(
            "payment_hazard_ratio", table, int(len(surv)), msgs, "", km, cur, excluded, clock
        )
    d = surv[surv["payer"].isin(payers)]
    levels = levels_of(d["payer"])
    if len(d) <= cox_max_claims:
        x, names = sum_code(d["payer"], levels, "payer")
        res = PHReg(d["days"].to_numpy(), x, status=d["event"].to_numpy(), ties="efron").fit()
        params, cov = np.asarray(res.params), np.asarray(res.cov_params())
        details = clean_summary(res.summary(xname=names).as_text())
    else:
        params, cov, details = _grouped_cox(d, levels)
        msgs.append(
            f"{len(d):,} claims: proportional-hazards model fit in its exact grouped-time form "
            "(cloglog GLM on daily risk sets; remittance dates are whole days) instead of PHReg"
        )
    rows = sum_contrasts(len(levels))
    n_by = d["payer"].value_counts().reindex(levels).to_numpy()
    table = contrast_table(
        params,
        cov,
        rows,
        [f"payer[{p}]" for p in levels],
        list(n_by),
    ).drop(columns=["log_estimate", "log_se"])
    return TimeToPayResult(
        name="payment_hazard_ratio",
        table=table,
        n_obs=int(len(d)),
        messages=msgs,
        details=details,
        payer_table=km,
        curves=cur,
        excluded=excluded,
        clock=clock,
    )
