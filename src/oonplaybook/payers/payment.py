"""Payment level model: each payer's allowed amount as a multiple of Medicare.

OLS of ``log(allowed / medicare_allowed)`` on paid lines, with one level per payer (or per
payer *regime* when the drift scan found a break: before / from the break month) and code
family effects (sum coding), cluster-robust standard errors by claim. A payer's multiple is
``exp(level + family effects averaged over the portfolio's own code mix)``: the geometric-mean
allowed/Medicare ratio this payer would pay on this practice's mix of codes. Geometric, not
arithmetic, because payment ratios are right-skewed and multiplicative.

We model the *allowed* amount rather than paid: paid = allowed - patient cost share, and cost
share swings with deductible resets every January, which would look like a payer "cut".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from oonplaybook.payers._base import (
    InsufficientDataError,
    ModelResult,
    coef_text,
    contrast_table,
    drop_aliased,
    indicator_code,
    levels_of,
    month_labels,
    ols_cluster,
    sum_code,
    sum_contrasts,
)
from oonplaybook.reference.code_families import code_families

#: Fewest paid lines with a Medicare benchmark a payer (or regime) needs for its own level.
MIN_LINES = 20


def paid_lines(lines: pd.DataFrame) -> pd.DataFrame:
    """Paid lines with a positive allowed amount and Medicare benchmark, with y = log ratio."""
    if "medicare_allowed" not in lines.columns:
        raise InsufficientDataError(
            "payment model: claim lines have no medicare_allowed column; run the benchmark stage "
            "(artifacts/benchmarks.parquet) or pass --locality/--year so the CLI can price lines"
        )
    m = (
        lines["claim_status"].eq("paid")
        & (lines["allowed"] > 0)
        & (lines["medicare_allowed"] > 0)
        & lines["service_date"].notna()
    )
    d = lines.loc[
        m,
        [
            "claim_id",
            "line_no",
            "payer",
            "cpt",
            "service_date",
            "allowed",
            "medicare_allowed",
            "repricer",
            "carc",
        ],
    ].copy()
    # allowed == billed: the payer allowed the lesser of billed and its own amount, so the
    # log ratio is right-censored at log(billed / medicare) (handled by fit_payment's EM)
    d["capped"] = (lines.loc[m, "billed"] > 0) & (d["allowed"] >= lines.loc[m, "billed"] - 0.005)
    d["family"] = code_families(d["cpt"])
    d["month"] = month_labels(d["service_date"])
    d["ratio"] = d["allowed"] / d["medicare_allowed"]
    d["y"] = np.log(d["ratio"])
    return d.reset_index(drop=True)


def regime_labels(payer: pd.Series, month: pd.Series, breaks: dict[str, str]) -> pd.Series:
    """Payer regime of each line: the payer, or 'payer | before M' / 'payer | from M' at a break."""
    out = payer.astype("str").copy()
    for p, m in breaks.items():
        sel = payer == p
        out = out.where(~sel, np.where(month >= m, f"{p} | from {m}", f"{p} | before {m}"))
    return out.astype("str")


def _censored_em(
    x: np.ndarray,
    y: np.ndarray,
    cens: np.ndarray,
    grp: np.ndarray,
    tol: float = 1e-9,
    max_iter: int = 200,
) -> tuple[np.ndarray, int, np.ndarray]:
    """EM for a right-censored normal linear model with one sigma per group: returns y with the
    censored values replaced by E[y | y > c] at the fixed point (so OLS on it gives beta), the
    iteration count, and each line's bread weight for the sandwich covariance."""
    xtx = x.T @ x
    beta = np.linalg.solve(xtx, x.T @ y)
    ng = int(grp.max()) + 1
    cnt = np.bincount(grp, minlength=ng).astype(float)
    r = y - x @ beta
    sig = np.sqrt(np.bincount(grp, weights=r * r, minlength=ng) / cnt)
    ci = np.flatnonzero(cens)
    xc, yc, gc = x[ci], y[ci], grp[ci]
    xty_obs = x[~cens].T @ y[~cens]  # the uncensored part of X'y never changes
    y_imp = y.copy()

    def e_step(beta: np.ndarray, sig: np.ndarray) -> tuple[np.ndarray, ...]:
        mu = xc @ beta
        sc = np.maximum(sig[gc], 1e-6)
        a = (yc - mu) / sc
        lam = np.exp(stats.norm.logpdf(a) - stats.norm.logsf(a))
        return mu, sc, a, lam

    n_iter = 0
    for _ in range(max_iter):
        n_iter += 1
        mu, sc, a, lam = e_step(beta, sig)
        y_imp[ci] = mu + sc * lam
        new = np.linalg.solve(xtx, xty_obs + xc.T @ y_imp[ci])
        r = y_imp - x @ new
        extra = np.bincount(gc, weights=sc * sc * (1 + a * lam - lam * lam), minlength=ng)
        sig = np.sqrt((np.bincount(grp, weights=r * r, minlength=ng) + extra) / cnt)
        done = np.max(np.abs(new - beta)) < tol
        beta = new
        if done:
            break
    # bread weights of the estimating equation X'(E[y | data] - X beta) = 0: d E[y|y>c]/d mu
    # = 1 - lambda(lambda - a), so a censored line carries h = lambda(lambda - a) in (0, 1)
    mu, sc, a, lam = e_step(beta, sig)
    y_imp[ci] = mu + sc * lam
    h = np.ones(len(y))
    h[ci] = lam * (lam - a)
    return y_imp, n_iter, h


@dataclass
class PaymentResult(ModelResult):
    """Payment level result: multiples of Medicare per payer (regime), and what predicts a line."""

    payer_table: pd.DataFrame = field(default_factory=pd.DataFrame)
    regimes: list[str] = field(default_factory=list)
    breaks: dict[str, str] = field(default_factory=dict)
    level: dict[str, float] = field(default_factory=dict)  # log level per regime (mix-standardised)
    family_effect: dict[str, float] = field(default_factory=dict)  # log effect per family
    regime_coef: dict[str, float] = field(default_factory=dict)  # raw regime coefficient
    smear: dict[str, float] = field(default_factory=dict)  # mean exp(residual) per regime
    resid_q: dict[str, tuple[float, float]] = field(default_factory=dict)  # 2.5/97.5% residual
    excluded: dict[str, str] = field(default_factory=dict)
    #: payer -> (ratio from/before, ci_low, ci_high) for payers with a break
    break_ratio: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    #: the response used (censored lines replaced by E[y | y > cap] at the MLE), input index
    y_used: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))

    def family_effects_of(self, family: pd.Series) -> np.ndarray:
        """Log family effect of each line (0 for a family the model has not seen)."""
        return family.map(self.family_effect).fillna(0.0).to_numpy(float)


def _cell_fit(
    xc: np.ndarray,
    cell: np.ndarray,
    y: np.ndarray,
    cens: np.ndarray,
    grp: np.ndarray,
    claims: np.ndarray,
    tol: float = 1e-9,
    max_iter: int = 200,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The payment OLS (with the censored-normal EM when lines are capped) on a per-cell design:
    ``xc`` holds one row per covariate cell and each line only its cell index, so no
    lines-by-terms matrix is formed. Returns params, the claim-cluster covariance (same
    estimator and small-sample factor as ``ols_cluster``), the response used and iterations.

    Every term is a function of the cell, so X'X, X'y and the claim scores sum_i x_i e_i are
    cell sums: X'X = Xc' diag(n_c) Xc and the meat is Xc' (A'A) Xc with A the sparse
    claim-by-cell matrix of residual sums (nnz <= lines, C x C after the product)."""
    from scipy import sparse

    ncell = xc.shape[0]
    n_c = np.bincount(cell, minlength=ncell).astype(float)
    xtx = (xc * n_c[:, None]).T @ xc
    y_imp = y.astype(float, copy=True)

    def solve(yv: np.ndarray, mat: np.ndarray = xtx) -> np.ndarray:
        return np.linalg.solve(mat, xc.T @ np.bincount(cell, weights=yv, minlength=ncell))

    beta = solve(y_imp)
    h = np.ones(len(y))
    n_iter = 0
    if cens.any():
        ng = int(grp.max()) + 1
        cnt = np.bincount(grp, minlength=ng).astype(float)
        r = y - (xc @ beta)[cell]
        sig = np.sqrt(np.bincount(grp, weights=r * r, minlength=ng) / cnt)
        ci = np.flatnonzero(cens)
        yc, gc, cc = y[ci], grp[ci], cell[ci]

        def e_step(beta: np.ndarray, sig: np.ndarray) -> tuple[np.ndarray, ...]:
            mu = (xc @ beta)[cc]
            sc = np.maximum(sig[gc], 1e-6)
            a = (yc - mu) / sc
            lam = np.exp(stats.norm.logpdf(a) - stats.norm.logsf(a))
            return mu, sc, a, lam

        for _ in range(max_iter):
            n_iter += 1
            mu, sc, a, lam = e_step(beta, sig)
            y_imp[ci] = mu + sc * lam
            new = solve(y_imp)
            r = y_imp - (xc @ new)[cell]
            extra = np.bincount(gc, weights=sc * sc * (1 + a * lam - lam * lam), minlength=ng)
            sig = np.sqrt((np.bincount(grp, weights=r * r, minlength=ng) + extra) / cnt)
            done = np.max(np.abs(new - beta)) < tol
            beta = new
            if done:
                break
        mu, sc, a, lam = e_step(beta, sig)
        y_imp[ci] = mu + sc * lam
        h[ci] = lam * (lam - a)
        beta = solve(y_imp)
    e = y_imp - (xc @ beta)[cell]
    bread = np.linalg.inv((xc * np.bincount(cell, weights=h, minlength=ncell)[:, None]).T @ xc)
    g = int(claims.max()) + 1
    a_mat = sparse.csr_matrix((e, (claims, cell)), shape=(g, ncell))
    meat = xc.T @ (a_mat.T @ a_mat).toarray() @ xc
    n, k = len(y), xc.shape[1]
    g = int((np.bincount(claims, minlength=g) > 0).sum())
    corr = g / (g - 1) * (n - 1) / (n - k) if g > 1 and n > k else 1.0
    return beta, corr * bread @ meat @ bread, y_imp, n_iter


def fit_payment(
    paid: pd.DataFrame,
    breaks: dict[str, str] | None = None,
    min_lines: int = MIN_LINES,
    grouped: bool = False,
) -> PaymentResult:
    """Fit the log-ratio OLS with payer regimes and code-family effects (cluster-robust by claim).

    ``grouped=True`` builds the design per (regime, code family) cell instead of per line
    (``_cell_fit``): the same estimator, estimates and cluster-robust intervals equal to the
    line-level fit up to rounding, without the lines-by-terms matrix."""
    breaks = dict(breaks or {})
    if paid.empty:
        raise InsufficientDataError("payment model: no paid lines with a Medicare benchmark")
    d = paid.copy()
    d["regime"] = regime_labels(d["payer"], d["month"], breaks)
    counts = d.groupby("payer", sort=True).size()
    excluded = {
        str(p): f"only {int(n)} paid lines with a Medicare benchmark (need {min_lines})"
        for p, n in counts.items()
        if n < min_lines
    }
    rcounts = d.groupby("regime", sort=True).size()
    for p, m in list(breaks.items()):
        if any(rcounts.get(f"{p} | {s} {m}", 0) < min_lines for s in ("before", "from")):
            breaks.pop(p)
    d["regime"] = regime_labels(d["payer"], d["month"], breaks)
    d = d[~d["payer"].isin(list(excluded))]
    if d["payer"].nunique() < 1 or len(d) < min_lines:
        raise InsufficientDataError(
            f"payment model: no payer has {min_lines} or more paid lines with a Medicare benchmark",
            excluded,
        )
    regimes = levels_of(d["regime"])
    fams = levels_of(d["family"])
    if grouped:
        cell, uniq = pd.MultiIndex.from_arrays([d["regime"], d["family"]]).factorize()
        src = uniq.to_frame(index=False, name=["regime", "family"])
        # aliasing judged on the line-weighted cell design (the same X'X as the line design)
        root_n = np.sqrt(np.bincount(cell, minlength=len(src)))[:, None]
    else:
        src = d
    xr, nr = indicator_code(src["regime"], regimes, "regime")
    blocks, names = [xr], nr
    if len(fams) > 1:
        xf, nf = sum_code(src["family"], fams, "code_family")
        blocks.append(xf)
        names = names + nf
    x = np.hstack(blocks)
    groups = pd.factorize(d["claim_id"])[0]
    y = d["y"].to_numpy(float)
    cens = d["capped"].to_numpy(bool) if "capped" in d else np.zeros(len(d), bool)
    n_iter = 0
    h = None
    if grouped:
        all_names = names
        _, names, dropped = drop_aliased(x * root_n, names, len(regimes))
        x = x[:, [all_names.index(nm) for nm in names]]
        params, cov, y, n_iter = _cell_fit(x, cell, y, cens, pd.factorize(d["regime"])[0], groups)
        fitted = (x @ params)[cell]
    else:
        x, names, dropped = drop_aliased(x, names, len(regimes))
        if cens.any():
            y, n_iter, h = _censored_em(x, y, cens, pd.factorize(d["regime"])[0])
        params, cov, _ = ols_cluster(x, y, groups, bread_weights=h)
        fitted = x @ params

    # family effects: map sum-coded coefficients (those not dropped) to every family
    fam_cols = [
        names.index(f"code_family[S.{f}]") if f"code_family[S.{f}]" in names else -1
        for f in fams[:-1]
    ]
    fc = np.zeros((len(fams), len(names)))
    if len(fams) > 1:
        sc = sum_contrasts(len(fams))
        for j, col in enumerate(fam_cols):
            if col >= 0:
                fc[:, col] = sc[:, j]
    fam_eff = fc @ params
    w = d["family"].value_counts(normalize=True).reindex(fams).fillna(0).to_numpy()
    mix = w @ fc  # portfolio-mix average of the family effects, as a contrast row
    rows = np.zeros((len(regimes), len(names)))
    rows[:, : len(regimes)] = np.eye(len(regimes))
    rows += mix
    n_r = d["regime"].value_counts().reindex(regimes).to_numpy()
    tab = contrast_table(params, cov, rows, [f"regime[{r}]" for r in regimes], list(n_r))
    # p-value: does this regime pay differently from the average payer (mean of the payers'
    # baseline levels)? "multiple = 1x Medicare" is not a question anyone asks.
    base = [i for i, r in enumerate(regimes) if " | from " not in r]
    dev = rows - rows[base].mean(axis=0)
    tab["p_value"] = contrast_table(params, cov, dev, list(tab["term"]), list(n_r))[
        "p_value"
    ].to_numpy()
    resid = y - fitted
    rs = pd.Series(resid).groupby(d["regime"].to_numpy())
    smear = {str(k): float(v) for k, v in rs.apply(lambda s: np.mean(np.exp(s))).items()}
    q = {str(k): (float(np.quantile(s, 0.025)), float(np.quantile(s, 0.975))) for k, s in rs}
    sd = rs.std()

    # one row per payer: the baseline regime (before the break) is the payer's multiple
    prow = []
    for p in levels_of(d["payer"]):
        base = f"{p} | before {breaks[p]}" if p in breaks else p
        cur = f"{p} | from {breaks[p]}" if p in breaks else p
        b = tab.set_index("term").loc[f"regime[{base}]"]
        c = tab.set_index("term").loc[f"regime[{cur}]"]
        prow.append(
            {
                "payer": p,
                "multiple": b["estimate"],
                "ci_low": b["ci_low"],
                "ci_high": b["ci_high"],
                "p_value": b["p_value"],
                "n": int((d["payer"] == p).sum()),
                "current_multiple": c["estimate"],
                "current_ci_low": c["ci_low"],
                "current_ci_high": c["ci_high"],
                "log_sd": float(sd.get(base, np.nan)),
            }
        )
    ratio = {}
    for p, m in sorted(breaks.items()):
        i_b, i_a = regimes.index(f"{p} | before {m}"), regimes.index(f"{p} | from {m}")
        row = np.zeros((1, len(names)))
        row[0, i_a], row[0, i_b] = 1.0, -1.0
        c = contrast_table(params, cov, row, [p], [int(n_r[i_a])])
        ratio[p] = (float(c["estimate"][0]), float(c["ci_low"][0]), float(c["ci_high"][0]))
    msgs = [f"payer {p} excluded: {why}" for p, why in sorted(excluded.items())]
    if dropped:
        msgs.append(f"terms dropped as aliased: {', '.join(dropped)}")
    if cens.any():
        msgs.append(
            f"{int(cens.sum())} paid lines allowed at the full billed amount (capped) treated as "
            f"right-censored at billed (censored-normal EM, {n_iter} iterations; sandwich "
            "covariance of its estimating equation)"
        )
    for p, m in sorted(breaks.items()):
        msgs.append(f"{p}: level estimated separately before and from {m} (drift break)")
    return PaymentResult(
        name="paid_multiple_of_medicare",
        table=tab.drop(columns=["log_estimate", "log_se"]),
        n_obs=int(len(d)),
        messages=msgs,
        details=coef_text(
            names, params, cov, "OLS of log(allowed/Medicare), cluster-robust SE by claim"
        ),
        payer_table=pd.DataFrame(prow),
        regimes=regimes,
        breaks=breaks,
        level={r: float(v) for r, v in zip(regimes, tab["log_estimate"], strict=True)},
        family_effect={f: float(v) for f, v in zip(fams, fam_eff, strict=True)},
        regime_coef={r: float(params[i]) for i, r in enumerate(regimes)},
        smear=smear,
        resid_q=q,
        excluded=excluded,
        break_ratio=ratio,
        y_used=pd.Series(y, index=d.index),
    )


def expected_payment(result: PaymentResult, lines: pd.DataFrame) -> pd.DataFrame:
    """Expected allowed amount of each line from the payment model (with a 95% prediction band).

    ``expected_allowed`` is the mean (Duan smearing within the payer regime); ``typical_allowed``
    the geometric-mean prediction; ``basis`` says where the level came from ("payer",
    "portfolio_average" for a payer the model has not seen, "no_medicare_benchmark").
    """
    if "medicare_allowed" not in lines.columns:
        raise InsufficientDataError("expected_payment: lines need a medicare_allowed column")
    fam = code_families(lines["cpt"])
    month = month_labels(lines["service_date"])
    regime = regime_labels(lines["payer"].astype("str"), month, result.breaks)
    coef = regime.map(result.regime_coef)
    known = coef.notna()
    avg = float(np.mean(list(result.regime_coef.values())))
    smear_avg = float(np.mean(list(result.smear.values())))
    qlo_avg = float(np.mean([v[0] for v in result.resid_q.values()]))
    qhi_avg = float(np.mean([v[1] for v in result.resid_q.values()]))
    eta = coef.fillna(avg).to_numpy(float) + result.family_effects_of(fam)
    smear = regime.map(result.smear).fillna(smear_avg).to_numpy(float)
    qlo = regime.map({k: v[0] for k, v in result.resid_q.items()}).fillna(qlo_avg).to_numpy(float)
    qhi = regime.map({k: v[1] for k, v in result.resid_q.items()}).fillna(qhi_avg).to_numpy(float)
    med = lines["medicare_allowed"].to_numpy(float)
    has_med = np.isfinite(med) & (med > 0)
    basis = np.where(
        ~has_med, "no_medicare_benchmark", np.where(known, "payer", "portfolio_average")
    )
    return pd.DataFrame(
        {
            "claim_id": lines["claim_id"].astype("str").to_numpy(),
            "line_no": lines["line_no"].to_numpy(),
            "payer": lines["payer"].astype("str").to_numpy(),
            "regime": regime.to_numpy(),
            "medicare_allowed": med,
            "expected_multiple": np.exp(eta) * smear,
            "typical_allowed": med * np.exp(eta),
            "expected_allowed": med * np.exp(eta) * smear,
            "expected_allowed_low": med * np.exp(eta + qlo),
            "expected_allowed_high": med * np.exp(eta + qhi),
            "basis": pd.array(basis, dtype="str"),
        }
    )
