"""Appeal success: does an appeal to this payer get the denial overturned?

With enough decided appeals, a logit of overturn on payer (sum coding: odds ratio vs the average
payer), denial reason group and appeal level. With few appeals, a model would be fragile, so we
say so and report each payer's raw overturn rate with an exact (Clopper-Pearson) 95% CI instead.
A "partial" outcome counts as overturned (money was recovered); pending appeals are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm

from oonplaybook.payers._base import (
    InsufficientDataError,
    ModelResult,
    clean_summary,
    clopper_pearson,
    contrast_table,
    drop_aliased,
    levels_of,
    reason_groups,
    sum_code,
    sum_contrasts,
)

#: Decided appeals needed before fitting the logit, overall and per payer (with >= MIN_EACH of
#: each outcome per payer; ~10 events per parameter is the usual logistic-regression floor).
MIN_APPEALS = 100
MIN_PAYER_APPEALS = 20
MIN_EACH = 5
SUCCESS = ("overturned", "partial")


@dataclass
class AppealResult(ModelResult):
    """Appeal odds ratios (when modelled) and raw overturn rates with exact CIs (always)."""

    payer_table: pd.DataFrame = field(default_factory=pd.DataFrame)
    modelled: bool = False


def prepare_appeals(appeals: pd.DataFrame, claims: pd.DataFrame | None = None) -> pd.DataFrame:
    """Decided appeals with overturn flag, level and reason group (from the claim CARC if blank)."""
    need = {"claim_id", "payer", "outcome"}
    missing = need - set(appeals.columns)
    if missing:
        raise InsufficientDataError(
            f"appeals table lacks columns {sorted(missing)}; see schema.APPEAL_COLUMNS"
        )
    a = appeals.copy()
    a["outcome"] = a["outcome"].astype("str").str.strip().str.lower()
    a = a[a["outcome"].isin(("overturned", "partial", "upheld"))].copy()
    a["overturned"] = a["outcome"].isin(SUCCESS)
    a["appeal_level"] = a.get("appeal_level", pd.Series(1, index=a.index)).fillna(1).astype("int64")
    grp = a.get("denial_reason_group", pd.Series("", index=a.index)).fillna("").astype("str")
    if claims is not None and (grp == "").any():
        carc = claims.set_index("claim_id")["carc"]
        fill = reason_groups(a["claim_id"].map(carc).fillna("").astype("str"))
        grp = grp.where(grp != "", fill)
    a["reason_group"] = grp.replace("", "unknown").astype("str")
    a["payer"] = a["payer"].astype("str")
    return a.reset_index(drop=True)


def _pool_sparse(values: pd.Series, success: pd.Series) -> tuple[pd.Series, list[str]]:
    """Merge nuisance levels with < MIN_EACH of either outcome into 'pooled' (then, if that is
    still one-sided, into the most frequent level) so the logit has no separated cells."""
    tab = pd.crosstab(values, success)
    for c in (False, True):
        if c not in tab.columns:
            tab[c] = 0
    sparse = sorted(tab.index[(tab[True] < MIN_EACH) | (tab[False] < MIN_EACH)].astype(str))
    if not sparse:
        return values, []
    out = values.where(~values.isin(sparse), "pooled")
    t2 = pd.crosstab(out, success)
    if "pooled" in t2.index and (t2.loc["pooled"] < MIN_EACH).any():
        big = values[~values.isin(sparse)].value_counts()
        target = str(big.index[0]) if len(big) else "pooled"
        out = out.replace("pooled", target)
        sparse = [f"{v} (into {target})" for v in sparse]
    return out.astype("str"), sparse


def fit_appeals(
    a: pd.DataFrame, min_appeals: int = MIN_APPEALS, min_payer: int = MIN_PAYER_APPEALS
) -> AppealResult:
    """Raw overturn rates (exact CIs) for every payer, and the logit where the data allows."""
    if a.empty:
        raise InsufficientDataError(
            "appeals: no decided appeals (overturned/partial/upheld) in the appeal history"
        )
    agg = a.groupby("payer", sort=True)["overturned"].agg(["size", "sum"])
    lo, hi = clopper_pearson(agg["sum"].to_numpy(), agg["size"].to_numpy())
    raw = pd.DataFrame(
        {
            "payer": agg.index.astype(str),
            "appeals": agg["size"].to_numpy(),
            "overturned": agg["sum"].to_numpy(),
            "overturn_rate": (agg["sum"] / agg["size"]).to_numpy(),
            "rate_ci_low": lo,
            "rate_ci_high": hi,
        }
    )
    ok = (
        (agg["size"] >= min_payer)
        & (agg["sum"] >= MIN_EACH)
        & (agg["size"] - agg["sum"] >= MIN_EACH)
    )
    payers = agg.index[ok].astype(str).tolist()
    msgs = []
    d = a[a["payer"].isin(payers)]
    if len(d) < min_appeals or len(payers) < 2:
        msgs.append(
            f"too few decided appeals for a model ({len(a)} appeals; {len(payers)} payers with >= "
            f"{min_payer} appeals and >= {MIN_EACH} of each outcome; need {min_appeals} appeals "
            "across >= 2 such payers): raw overturn rates with exact Clopper-Pearson 95% CIs"
        )
        table = pd.DataFrame(
            {
                "term": "rate[" + raw["payer"] + "]",
                "estimate": raw["overturn_rate"],
                "ci_low": lo,
                "ci_high": hi,
                "p_value": np.nan,
                "n": raw["appeals"],
            }
        )
        return AppealResult("appeal_overturn_rate", table, len(a), msgs, "", raw, False)
    small = sorted(set(agg.index.astype(str)) - set(payers))
    if small:
        msgs.append(
            f"payers with too few appeals for an odds ratio (raw rates only): {', '.join(small)}"
        )
    blocks = [np.ones((len(d), 1))]
    names = ["Intercept"]
    x, nm = sum_code(d["payer"], payers, "payer")
    blocks.append(x)
    names += nm
    keep = 1 + x.shape[1]
    for col, pre in (("reason_group", "reason"), ("appeal_level", "level")):
        vals, pooled = _pool_sparse(d[col].astype("str"), d["overturned"])
        if pooled:
            msgs.append(
                f"{'denial reason' if pre == 'reason' else 'appeal level'} values with fewer than {MIN_EACH} overturned or upheld appeals pooled "
                f"(a level with one outcome only has no finite odds ratio): {', '.join(pooled)}"
            )
        lv = levels_of(vals)
        if len(lv) > 1:
            xx, nn = sum_code(vals, lv, pre)
            blocks.append(xx)
            names += nn
    X, names, dropped = drop_aliased(np.hstack(blocks), names, keep)
    res = sm.GLM(d["overturned"].to_numpy(float), X, family=sm.families.Binomial()).fit()
    rows = np.zeros((len(payers), len(names)))
    rows[:, 1:keep] = sum_contrasts(len(payers))
    n_by = d["payer"].value_counts().reindex(payers).to_numpy()
    ptab = contrast_table(
        np.asarray(res.params),
        np.asarray(res.cov_params()),
        rows,
        [f"payer[{p}]" for p in payers],
        list(n_by),
    )
    other = contrast_table(
        np.asarray(res.params),
        np.asarray(res.cov_params()),
        np.eye(len(names))[keep:],
        names[keep:],
        [len(d)] * (len(names) - keep),
    )
    if dropped:
        msgs.append(f"terms dropped as aliased: {', '.join(dropped)}")
    table = pd.concat([ptab, other], ignore_index=True).drop(columns=["log_estimate", "log_se"])
    raw = raw.merge(
        ptab[["term", "estimate", "ci_low", "ci_high", "p_value"]]
        .assign(payer=ptab["term"].str.slice(6, -1))
        .drop(columns="term")
        .rename(columns={"estimate": "odds_ratio", "ci_low": "or_ci_low", "ci_high": "or_ci_high"}),
        on="payer",
        how="left",
    )
    return AppealResult(
        "appeal_odds_ratio",
        table,
        int(len(d)),
        msgs,
        clean_summary(res.summary(xname=names).as_text()),
        raw,
        True,
    )
