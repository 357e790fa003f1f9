"""Repricer fingerprint: payers whose allowed amounts sit at a fixed multiple of Medicare, with
or without a repricing vendor (MultiPlan/Claritev, Data iSight, Zelis, ...) named on the remit.

Two levels (column ``level``):

- **named repricer**: the cluster is tight and the remits name a vendor on at least
  :data:`MIN_MARK_SHARE` of paid lines (or a vendor is named on most lines);
- **formula / reference-based pricing**: the same tight cluster at one multiple of Medicare,
  across at least :data:`MIN_CODES_FORMULA` different codes, with no vendor named: the payer
  (or an unnamed vendor) prices out-of-network claims by formula. Ordinary out-of-network
  payment varies 15-40% line to line; a formula does not, whatever the remit says.

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
#: Fewest distinct codes a formula cluster must hold across (one code at one price is a fee,
#: not a multiple of Medicare).
MIN_CODES_FORMULA = 3
#: The levels of the ``level`` column ("" = not flagged).
NAMED = "named repricer"
FORMULA = "formula / reference-based pricing"


def repricer_fingerprint(paid: pd.DataFrame, min_lines: int = 20) -> ModelResult:
    """Per payer repricer evidence, flag and level (named repricer, or formula pricing).

    The cluster is measured on lines not capped at billed (a line whose charge was below the
    formula is allowed at billed and says nothing about the formula).
    """
    rows, msgs = [], []
    for payer, g in paid.groupby("payer", sort=True):
        marks = g["repricer"].astype("str").str.strip()
        marked = marks != ""
        vendors = sorted(set(marks[marked]))
        known = [v for v in vendors if any(k in v.upper() for k in REPRICER_VENDORS)]
        capped = g["capped"].to_numpy(bool) if "capped" in g else np.zeros(len(g), bool)
        gc = g[~capped] if (~capped).sum() >= min_lines else g
        n = len(gc)
        n_codes = int(gc["cpt"].nunique()) if "cpt" in gc else 0
        y = gc["y"].to_numpy(float)
        med = float(np.median(y))
        spread = float(stats.median_abs_deviation(y, scale="normal")) if n > 1 else np.nan
        near = float(np.mean(np.abs(y - med) <= np.log1p(NEAR)))
        ys = np.sort(y)
        j = stats.binom.ppf([0.025, 0.975], n, 0.5).astype(int)
        lo, hi = float(np.exp(ys[max(j[0] - 1, 0)])), float(np.exp(ys[min(j[1], n - 1)]))
        c45 = float(carc_number(g["carc"]).isin({"45", "131"}).mean())
        mark_share = float(marked.mean())
        tight = n >= min_lines and spread < MAX_LOG_SPREAD and near >= MIN_SHARE_NEAR
        named = bool(
            (tight and mark_share >= MIN_MARK_SHARE) or (n >= min_lines and mark_share >= 0.8)
        )
        formula = bool(tight and not named and ("cpt" not in gc or n_codes >= MIN_CODES_FORMULA))
        level = NAMED if named else FORMULA if formula else ""
        flag = bool(level)
        ev = []
        if mark_share > 0:
            ev.append(f"{mark_share:.0%} of paid lines name a repricer ({', '.join(vendors)})")
        if tight:
            codes = f" across {n_codes} codes" if n_codes else ""
            ev.append(
                f"allowed clusters at {np.exp(med):.3f}x Medicare{codes} (robust sd "
                f"{spread:.3f}, {near:.0%} of {n} lines within {NEAR:.0%})"
            )
        if formula:
            ev.append("no repricing vendor named on the remits")
        elif tight and not named and n_codes < MIN_CODES_FORMULA:
            ev.append(f"only {n_codes} codes: a fixed fee, not shown to be a multiple of Medicare")
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
                "codes": n_codes,
                "flagged": flag,
                "level": level,
                "evidence": "; ".join(ev),
            }
        )
        if named:
            msgs.append(f"{payer}: repricer fingerprint ({NAMED}): {'; '.join(ev)}")
        elif formula:
            msgs.append(f"{payer}: {FORMULA}: {'; '.join(ev)}")
        elif tight:
            msgs.append(f"{payer}: fixed-amount cluster on few codes: {'; '.join(ev)}")
    return ModelResult(
        name="repricer_fingerprint",
        table=pd.DataFrame(rows),
        n_obs=int(len(paid)),
        messages=msgs,
        details="estimate = median allowed/Medicare with an exact order-statistic 95% CI",
    )
