"""Drift: did a payer quietly cut (or raise) what it pays, and from which month?

Per payer, a monthly payment index: the mean of log(allowed / Medicare) of the month's paid
lines after removing code-family effects (mix-adjusted), reported as a multiple of Medicare.
On that series a **sup-F (Andrews 1993) scan of single-break Chow tests** over every candidate
month, with weights = lines per month and the residual scale estimated from the series itself
(so month-to-month noise beyond sampling error makes the test more cautious, not less). The null
distribution of the sup-F is simulated exactly for the payer's own month weights (Gaussian
errors), giving a proper p-value despite scanning many months; p-values are Holm-corrected
across payers. A payer is flagged when the corrected p < alpha *and* the level moved by at least
``min_drift`` (default 3%): a consultant needs a material, defensible change, not noise.

Break size = ratio of the levels after/before, with a t-interval conditional on the break month
(break dates are estimated super-consistently, Bai 1997). The break month's 95% interval comes
from a parametric bootstrap of the fitted break model. statsmodels' OLS-residual CUSUM test
(Ploberger & Kramer 1992) is reported alongside as a cross-check.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.diagnostic import breaks_cusumolsresid

from oonplaybook.payers._base import ModelResult, holm

#: Minimum paid lines for a payer-month to enter the index.
MIN_LINES_PER_MONTH = 5
#: Minimum months on each side of a candidate break.
MIN_SEGMENT = 2
#: Smallest level change worth flagging (3%): below it a "cut" is within fee-schedule noise.
MIN_DRIFT = 0.03


def monthly_index(paid: pd.DataFrame, family_effect: np.ndarray) -> pd.DataFrame:
    """Payer x month mix-adjusted payment index (multiple of Medicare) with its standard error."""
    d = pd.DataFrame(
        {
            "payer": paid["payer"].astype("str").to_numpy(),
            "month": paid["month"].astype("str").to_numpy(),
            "z": paid["y"].to_numpy(float) - family_effect,
        }
    )
    g = d.groupby(["payer", "month"], sort=True)["z"]
    out = g.agg(n="size", log_mean="mean", var="var").reset_index()
    # pooled within-month sd per payer: stabler than each month's own sd for small months
    dev = d["z"] - g.transform("mean")
    pooled = (dev**2).groupby(d["payer"]).sum() / (
        d.groupby("payer").size() - d.groupby("payer")["month"].nunique()
    ).clip(lower=1)
    out["sd"] = np.sqrt(out["payer"].map(pooled).to_numpy(float))
    out["log_se"] = out["sd"] / np.sqrt(out["n"])
    out["index"] = np.exp(out["log_mean"])
    return out.drop(columns=["var"])


def _split_stats(
    y: np.ndarray, w: np.ndarray, ks: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For series y (R x T) and weights w (T): F stat, pre mean, post mean, RSS1 at each split k."""
    cw = np.cumsum(w)
    cwy = np.cumsum(w * y, axis=-1)
    cwy2 = np.cumsum(w * y * y, axis=-1)
    W, WY, WY2 = cw[-1], cwy[..., -1:], cwy2[..., -1:]
    rss0 = WY2 - WY**2 / W
    w1 = cw[ks - 1]
    s1, q1 = cwy[..., ks - 1], cwy2[..., ks - 1]
    w2, s2, q2 = W - w1, WY - s1, WY2 - q1
    rss1 = (q1 - s1**2 / w1) + (q2 - s2**2 / w2)
    t = y.shape[-1]
    rss1 = np.maximum(rss1, 1e-300)
    f = (rss0 - rss1) / (rss1 / (t - 2))
    return f, s1 / w1, s2 / w2, rss1


@dataclass
class DriftResult(ModelResult):
    """Break scan per payer plus the monthly index used to find it."""

    index: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def breaks(self) -> dict[str, str]:
        """Flagged payers -> first month at the new level (YYYY-MM)."""
        t = self.table
        if t.empty:
            return {}
        return dict(
            zip(t.loc[t["flagged"], "term"], t.loc[t["flagged"], "break_month"], strict=True)
        )


def drift_scan(
    index: pd.DataFrame,
    alpha: float = 0.05,
    min_drift: float = MIN_DRIFT,
    min_segment: int = MIN_SEGMENT,
    min_lines_per_month: int = MIN_LINES_PER_MONTH,
    n_sim: int = 2000,
    n_boot: int = 500,
    seed: int = 0,
) -> DriftResult:
    """Sup-F break scan of every payer's monthly index; Holm across payers; sizes with CIs."""
    rng = np.random.default_rng(seed)
    rows = []
    msgs: list[str] = []
    for payer, g in index.groupby("payer", sort=True):
        g = g[g["n"] >= min_lines_per_month].sort_values("month")
        t = len(g)
        if t < 2 * min_segment + 2:
            msgs.append(
                f"{payer}: drift not tested, only {t} months with >= {min_lines_per_month} paid "
                f"lines (need {2 * min_segment + 2})"
            )
            rows.append({"term": str(payer), "months": t, "note": "insufficient months"})
            continue
        y = g["log_mean"].to_numpy(float)
        se = np.maximum(g["log_se"].to_numpy(float), 1e-6)
        w = 1.0 / se**2
        ks = np.arange(min_segment, t - min_segment + 1)
        f, m1, m2, rss1 = _split_stats(y[None, :], w, ks)
        j = int(np.argmax(f[0]))
        sup = float(f[0, j])
        # exact null of sup-F for these weights: y = mu + e, e ~ N(0, se^2) (scale-free statistic)
        sim = rng.standard_normal((n_sim, t)) * se
        fs, *_ = _split_stats(sim, w, ks)
        p = (1 + int((fs.max(axis=1) >= sup).sum())) / (n_sim + 1)
        k = int(ks[j])
        phi = float(rss1[0, j] / (t - 2))
        delta = float(m2[0, j] - m1[0, j])
        w1, w2 = w[:k].sum(), w[k:].sum()
        dse = np.sqrt(phi * (1 / w1 + 1 / w2))
        crit = float(stats.t.ppf(0.975, t - 2))
        # parametric bootstrap of the break month
        fitted = np.where(np.arange(t) < k, m1[0, j], m2[0, j])
        boot = fitted + rng.standard_normal((n_boot, t)) * se * np.sqrt(phi)
        fb, *_ = _split_stats(boot, w, ks)
        kb = ks[np.argmax(fb, axis=1)]
        klo, khi = (
            int(np.quantile(kb, 0.025, method="lower")),
            int(np.quantile(kb, 0.975, method="higher")),
        )
        months = g["month"].tolist()
        cus = breaks_cusumolsresid((y - np.average(y, weights=w)) * np.sqrt(w / w.mean()), ddof=1)
        rows.append(
            {
                "term": str(payer),
                "months": t,
                "break_month": months[k],
                "break_month_low": months[klo],
                "break_month_high": months[khi],
                "estimate": float(np.exp(delta)),
                "ci_low": float(np.exp(delta - crit * dse)),
                "ci_high": float(np.exp(delta + crit * dse)),
                "p_value": p,
                "n": int(g["n"].sum()),
                "sup_f": sup,
                "level_before": float(np.exp(m1[0, j])),
                "level_after": float(np.exp(m2[0, j])),
                "cusum_p": float(cus[1]),
                "note": "",
            }
        )
    tab = pd.DataFrame(rows)
    cols = ["term", "estimate", "ci_low", "ci_high", "p_value", "n"]
    for c in cols + ["break_month", "break_month_low", "break_month_high"]:
        if c not in tab:
            tab[c] = (
                np.nan
                if c not in ("term", "break_month", "break_month_low", "break_month_high")
                else ""
            )
    if len(tab):
        tab["p_holm"] = holm(tab["p_value"].to_numpy(float))
        tab["flagged"] = (tab["p_holm"] < alpha) & (np.abs(tab["estimate"] - 1) >= min_drift)
        tab["flagged"] = tab["flagged"].fillna(False).astype(bool)
        for c in ("break_month", "break_month_low", "break_month_high", "note"):
            tab[c] = tab[c].fillna("").astype("str")
        for _, r in tab[tab["flagged"]].iterrows():
            msgs.append(
                f"{r['term']}: payment level changed by a factor {r['estimate']:.3f} (95% CI "
                f"{r['ci_low']:.3f}-{r['ci_high']:.3f}) from {r['break_month']} (month 95% CI "
                f"{r['break_month_low']} to {r['break_month_high']}), Holm p = {r['p_holm']:.2g}"
            )
    tab = tab[cols + [c for c in tab.columns if c not in cols]]
    return DriftResult(
        name="payment_drift",
        table=tab,
        n_obs=int(index["n"].sum()) if len(index) else 0,
        messages=msgs,
        details=(
            f"sup-F single-break scan, min {min_segment} months per segment, simulated null "
            f"({n_sim} draws), Holm across payers, flag if |change| >= {min_drift:.0%}"
        ),
        index=index,
    )
