"""Repricer fingerprint: payers whose allowed amounts sit at a fixed multiple of Medicare and
whose remits name a repricing vendor (MultiPlan/Claritev, Data iSight, Zelis, ...).

Evidence per payer: share of paid lines with a repricer named on the remit (PER/N1/REF
segments -> ``repricer`` column) and the vendor names; how tightly allowed/Medicare clusters
(robust spread: 1.4826 x MAD of the log ratio, and the share of lines within +-3% of the median
multiple); the median multiple with an exact order-statistic 95% CI; and the share of paid lines
whose CARC is 45 (charge exceeds fee schedule) or 131 (claim-specific negotiated discount),
the reduction codes repriced claims carry (docs/domain.md §3.4, §4.2).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from oonplaybook.payers._base import ModelResult, carc_number

#: Known repricing vendors (docs/domain.md §3.4): matched case-insensitively in the repricer column.
REPRICER_VENDORS = (
    "MULTIPLAN",
    "CLARITEV",
    "DATA ISIGHT",
    "ZELIS",
    "TALL TREE",
    "CORVEL",
    "HEALTHSMART",
)
#: A "tight" cluster: robust sd of log(allowed/Medicare) below 5% and >= 80% of lines within 3%
#: of the median. Ordinary OON payment varies 15-40% line to line; a repricer formula does not.
MAX_LOG_SPREAD = 0.05
MIN_SHARE_NEAR = 0.80
NEAR = 0.03
#: Share of paid lines that must carry a repricer mark to count as marked.
MIN_MARK_SHARE = 0.25


def repricer_fingerprint(paid: pd.DataFrame, min_lines: int = 20) -> ModelResult:
    """Per payer repricer evidence and flag (tight cluster AND remit marks, or marks on most lines)."""
    rows, msgs = [], []
    for payer, g in paid.groupby("payer", sort=True):
        n = len(g)
        marks = g["repricer"].astype("str").str.strip()
        marked = marks != ""
        vendors = sorted(set(marks[marked]))
        known = [v for v in vendors if any(k in v.upper() for k in REPRICER_VENDORS)]
        y = g["y"].to_numpy(float)
        med = float(np.median(y))
        spread = float(stats.median_abs_deviation(y, scale="normal")) if n > 1 else np.nan
        near = float(np.mean(np.abs(y - med) <= np.log1p(NEAR)))
        ys = np.sort(y)
        j = stats.binom.ppf([0.025, 0.975], n, 0.5).astype(int)
        lo, hi = float(np.exp(ys[max(j[0] - 1, 0)])), float(np.exp(ys[min(j[1], n - 1)]))
        c45 = float(carc_number(g["carc"]).isin({"45", "131"}).mean())
        mark_share = float(marked.mean())
        tight = n >= min_lines and spread < MAX_LOG_SPREAD and near >= MIN_SHARE_NEAR
        flag = bool(
            (tight and mark_share >= MIN_MARK_SHARE) or (n >= min_lines and mark_share >= 0.8)
        )
        ev = []
        if mark_share > 0:
            ev.append(f"{mark_share:.0%} of paid lines name a repricer ({', '.join(vendors)})")
        if tight:
            ev.append(
                f"allowed clusters at {np.exp(med):.3f}x Medicare (robust sd {spread:.3f}, "
                f"{near:.0%} of lines within {NEAR:.0%})"
            )
        if c45 > 0 and (tight or mark_share > 0):
            ev.append(f"{c45:.0%} of paid lines reduced with CARC 45/131")
        if n < min_lines:
            ev.append(f"only {n} paid lines with a Medicare benchmark: not assessed")
        rows.append(
            {
                "term": str(payer),
                "estimate": float(np.exp(med)),
                "ci_low": lo,
                "ci_high": hi,
                "p_value": np.nan,
                "n": n,
                "log_spread": spread,
                "share_near_median": near,
                "mark_share": mark_share,
                "vendors": "; ".join(vendors),
                "known_vendor": bool(known),
                "carc45_share": c45,
                "tight_cluster": bool(tight),
                "flagged": flag,
                "evidence": "; ".join(ev),
            }
        )
        if flag:
            msgs.append(f"{payer}: repricer fingerprint: {'; '.join(ev)}")
        elif tight:
            msgs.append(
                f"{payer}: fixed-multiple cluster without remit marks (possible unnamed repricer)"
            )
    return ModelResult(
        name="repricer_fingerprint",
        table=pd.DataFrame(rows),
        n_obs=int(len(paid)),
        messages=msgs,
        details="estimate = median allowed/Medicare with an exact order-statistic 95% CI",
    )
