"""All payer models in one call, the payer-effects table and the payer scorecard.

``fit_all`` runs, in order: claim table -> improper emergency denial scan -> denial GLM ->
payment level (first pass) -> mix-adjusted monthly index and break scan -> payment level with
payer regimes at the breaks found -> repricer fingerprint -> time to pay (KM + Cox) -> appeals.
A model that lacks data records why (``PayerModels.errors`` / the scorecard ``notes``) instead
of failing the run or leaving a silent NaN.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from oonplaybook.payers._base import (
    EFFECT_COLUMNS,
    EFFECT_MODELS,
    InsufficientDataError,
    ModelResult,
    claim_table,
    default_cutoff,
)
from oonplaybook.payers.appeals import AppealResult, fit_appeals, prepare_appeals
from oonplaybook.payers.denial import (
    DenialResult,
    ImproperERResult,
    fit_denial,
    improper_er_denials,
)
from oonplaybook.payers.drift import DriftResult, drift_scan, monthly_index
from oonplaybook.payers.payment import PaymentResult, expected_payment, fit_payment, paid_lines
from oonplaybook.payers.repricer import repricer_fingerprint
from oonplaybook.payers.survival import TimeToPayResult, fit_time_to_pay, survival_table
from oonplaybook.schema import conform

REQUIRED = ("claim_id", "line_no", "payer", "claim_status")


def _num(v: object) -> object:
    """JSON-safe, platform-stable number: NaN -> None, floats to 10 significant digits."""
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return None if not math.isfinite(f) else float(f"{f:.10g}")
    return v


def _records(df: pd.DataFrame) -> list[dict]:
    """DataFrame -> JSON-safe records (column order kept)."""
    return [{k: _num(v) for k, v in r.items()} for r in df.to_dict(orient="records")]


@dataclass
class PayerModels:
    """Every payer model's result, with the tables the notebook, CLI and playbook consume."""

    claims: pd.DataFrame
    lines_summary: pd.DataFrame
    cutoff_date: pd.Timestamp
    denial: DenialResult | None = None
    improper_er: ImproperERResult | None = None
    payment: PaymentResult | None = None
    drift: DriftResult | None = None
    repricer: ModelResult | None = None
    time_to_pay: TimeToPayResult | None = None
    appeals: AppealResult | None = None
    errors: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: model -> payer -> that payer's own shortfall when the whole model could not be fit
    shortfalls: dict[str, dict[str, str]] = field(default_factory=dict)
    seed: int = 0
    #: wall-clock seconds per step (for benchmarks; never written to the JSON artifact)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def payers(self) -> list[str]:
        """Every payer in the data, sorted."""
        return sorted(self.lines_summary["payer"].astype(str).tolist())

    def results(self) -> dict[str, ModelResult]:
        """The fitted results by name (models that could not be fit are absent)."""
        items = {
            "denial": self.denial,
            "improper_er": self.improper_er,
            "payment": self.payment,
            "drift": self.drift,
            "repricer": self.repricer,
            "time_to_pay": self.time_to_pay,
            "appeals": self.appeals,
        }
        return {k: v for k, v in items.items() if v is not None}

    def summary(self) -> str:
        """Text summary of every model plus the reasons any model was not fit."""
        parts = [r.summary() for r in self.results().values()]
        parts += [f"NOT FIT {k}: {v}" for k, v in sorted(self.errors.items())]
        parts += [f"note: {n}" for n in self.notes]
        return "\n\n".join(parts)

    # --- payer effects --------------------------------------------------------------------------

    def payer_effects(self) -> pd.DataFrame:
        """Long table: model, payer, estimate, ci_low, ci_high, p_value, n, note (one row per
        model x payer; a missing estimate always carries its reason in ``note``)."""
        rows = []

        def add(
            model: str,
            src: pd.DataFrame | None,
            est: str,
            excluded: dict[str, str],
            err: str,
            key: str = "",
        ) -> None:
            by = src.set_index("payer") if src is not None and len(src) else None
            for p in self.payers:
                if by is not None and p in by.index and pd.notna(by.loc[p, est]):
                    r = by.loc[p]
                    rows.append(
                        (
                            model,
                            p,
                            r[est],
                            r["ci_low"],
                            r["ci_high"],
                            r.get("p_value", np.nan),
                            int(r["n"]),
                            "",
                        )
                    )
                else:
                    short = self.shortfalls.get(key, {}).get(p, "")
                    why = excluded.get(p) or "; ".join(x for x in (short, err) if x)
                    why = why or "no data for this payer"
                    rows.append((model, p, np.nan, np.nan, np.nan, np.nan, 0, why))

        d = self.denial
        add(
            "denial_odds_ratio",
            d.payer_table.rename(columns={"odds_ratio": "est"}) if d else None,
            "est",
            d.excluded if d else {},
            self.errors.get("denial", ""),
            "denial",
        )
        pm = self.payment
        add(
            "paid_multiple_of_medicare",
            pm.payer_table.rename(columns={"multiple": "est"}) if pm else None,
            "est",
            pm.excluded if pm else {},
            self.errors.get("payment", ""),
            "payment",
        )
        t = self.time_to_pay
        tt = None
        if t is not None and len(t.table):
            tt = t.table.assign(payer=t.table["term"].str.slice(6, -1)).rename(
                columns={"estimate": "est"}
            )
        add(
            "payment_hazard_ratio",
            tt,
            "est",
            t.excluded if t else {},
            self.errors.get("time_to_pay", ""),
            "time_to_pay",
        )
        a = self.appeals
        at, aexcl = None, {}
        if a is not None and a.modelled:
            at = a.payer_table.rename(
                columns={
                    "odds_ratio": "est",
                    "or_ci_low": "ci_low",
                    "or_ci_high": "ci_high",
                    "appeals": "n",
                }
            )
            at = at.drop(columns=["rate_ci_low", "rate_ci_high"])
            for _, r in a.payer_table[a.payer_table["odds_ratio"].isna()].iterrows():
                aexcl[r["payer"]] = (
                    f"too few appeals for an odds ratio; raw overturn rate "
                    f"{r['overturn_rate']:.0%} ({r['rate_ci_low']:.0%}-{r['rate_ci_high']:.0%}, "
                    f"n={r['appeals']})"
                )
        elif a is not None:
            for _, r in a.payer_table.iterrows():
                aexcl[r["payer"]] = (
                    f"appeal model not fit (too few appeals); raw overturn rate "
                    f"{r['overturn_rate']:.0%} (exact 95% CI {r['rate_ci_low']:.0%}-"
                    f"{r['rate_ci_high']:.0%}, n={r['appeals']})"
                )
        add("appeal_odds_ratio", at, "est", aexcl, self.errors.get("appeals", ""))
        out = pd.DataFrame(rows, columns=list(EFFECT_COLUMNS))
        out["model"] = pd.Categorical(out["model"], categories=list(EFFECT_MODELS))
        out = out.sort_values(["model", "payer"], kind="stable").reset_index(drop=True)
        out["model"] = out["model"].astype("str")
        out["n"] = out["n"].astype("int64")
        for c in ("estimate", "ci_low", "ci_high", "p_value"):
            out[c] = out[c].astype("float64")
        return out

    # --- scorecard ------------------------------------------------------------------------------

    def scorecard(self) -> pd.DataFrame:
        """One row per payer: volume, money, denial, payment level, speed, appeals, drift,
        repricer, improper emergency denials, notes, and a rank (1 = needs attention first).

        Drift columns: ``drift_month`` is "" and ``drift_size`` 1.0 (no change) unless the break
        scan flagged the payer; the size and its CI come from the regime-split payment model.

        Rank: payers are ordered by the number of red flags (drift cut, repricer, improper
        emergency denials, denial OR significantly > 1, paying significantly below the average
        payer, significantly slow), then by a mix score (mean percentile of adjusted denial rate,
        low multiple of Medicare and long median days), then by dollars at stake.
        """
        sc = self.lines_summary.copy()
        notes: dict[str, list[str]] = {p: [] for p in sc["payer"]}
        eff = self.payer_effects()
        for m in EFFECT_MODELS:
            e = eff[eff["model"] == m].set_index("payer")
            sc[m] = sc["payer"].map(e["estimate"])
            sc[f"{m}_ci_low"] = sc["payer"].map(e["ci_low"])
            sc[f"{m}_ci_high"] = sc["payer"].map(e["ci_high"])
            sc[f"{m}_p"] = sc["payer"].map(e["p_value"])
            for p, why in e.loc[e["note"] != "", "note"].items():
                notes[p].append(f"{m}: {why}")
        if self.denial is not None:
            dt = self.denial.payer_table.set_index("payer")
            sc["adjusted_denial_rate"] = sc["payer"].map(dt["adjusted_denial_rate"])
        else:
            sc["adjusted_denial_rate"] = np.nan
        if self.payment is not None:
            pt = self.payment.payer_table.set_index("payer")
            sc["current_multiple_of_medicare"] = sc["payer"].map(pt["current_multiple"])
        else:
            sc["current_multiple_of_medicare"] = np.nan
        if self.time_to_pay is not None:
            km = self.time_to_pay.payer_table.set_index("payer")
            for c in ("median_days", "median_ci_low", "median_ci_high"):
                sc[f"{c}_to_pay" if c == "median_days" else f"days_{c}"] = sc["payer"].map(km[c])
            sc["days_to_pay_clock"] = self.time_to_pay.clock_label
        else:
            sc["median_days_to_pay"] = np.nan
            sc["days_to_pay_clock"] = ""
        if self.appeals is not None:
            ap = self.appeals.payer_table.set_index("payer")
            sc["appeals"] = sc["payer"].map(ap["appeals"]).fillna(0).astype("int64")
            sc["appeal_overturn_rate"] = sc["payer"].map(ap["overturn_rate"])
            sc["appeal_rate_ci_low"] = sc["payer"].map(ap["rate_ci_low"])
            sc["appeal_rate_ci_high"] = sc["payer"].map(ap["rate_ci_high"])
        else:
            sc["appeals"] = 0
            sc["appeal_overturn_rate"] = np.nan
        # drift
        sc["drift_flag"] = False
        sc["drift_month"] = ""
        for c in ("drift_size", "drift_ci_low", "drift_ci_high", "drift_p_holm"):
            sc[c] = np.nan
        sc["drift_month_low"] = ""
        sc["drift_month_high"] = ""
        if self.drift is not None and len(self.drift.table):
            dt = self.drift.table.set_index("term")
            sc["drift_flag"] = sc["payer"].map(dt["flagged"]).fillna(False).astype(bool)
            sc["drift_p_holm"] = sc["payer"].map(dt["p_holm"])
            fl = sc["drift_flag"]
            sc["drift_month"] = (
                sc["payer"].map(dt["break_month"]).where(fl, "").fillna("").astype("str")
            )
            sc["drift_month_low"] = (
                sc["payer"].map(dt["break_month_low"]).where(fl, "").fillna("").astype("str")
            )
            sc["drift_month_high"] = (
                sc["payer"].map(dt["break_month_high"]).where(fl, "").fillna("").astype("str")
            )
            # size: the payment model's after/before ratio (line level, censoring-aware) when the
            # break entered it; else the scan's index ratio
            br = self.payment.break_ratio if self.payment is not None else {}
            size = {p: v[0] for p, v in br.items()}
            lo = {p: v[1] for p, v in br.items()}
            hi = {p: v[2] for p, v in br.items()}
            sc["drift_size"] = (
                sc["payer"].map(size).fillna(sc["payer"].map(dt["estimate"])).where(fl, 1.0)
            )
            sc["drift_ci_low"] = sc["payer"].map(lo).fillna(sc["payer"].map(dt["ci_low"])).where(fl)
            sc["drift_ci_high"] = (
                sc["payer"].map(hi).fillna(sc["payer"].map(dt["ci_high"])).where(fl)
            )
            for p, n in dt.loc[dt["note"] != "", "note"].items():
                notes[p].append(f"drift: {n}")
        elif "payment" in self.errors:
            for p in notes:
                notes[p].append("drift: not tested (no payment model)")
        # repricer
        sc["repricer_flag"] = False
        sc["repricer_level"] = ""
        sc["repricer_evidence"] = ""
        if self.repricer is not None and len(self.repricer.table):
            rt = self.repricer.table.set_index("term")
            sc["repricer_flag"] = sc["payer"].map(rt["flagged"]).fillna(False).astype(bool)
            sc["repricer_level"] = sc["payer"].map(rt["level"]).fillna("").astype("str")
            sc["repricer_evidence"] = sc["payer"].map(rt["evidence"]).fillna("").astype("str")
        # improper emergency denials
        sc["improper_er_flag"] = False
        sc["improper_er_denials"] = 0
        sc["improper_er_rate"] = np.nan
        sc["improper_er_excess_rate"] = np.nan
        if self.improper_er is not None and len(self.improper_er.table):
            it = self.improper_er.table.set_index("term")
            sc["improper_er_flag"] = sc["payer"].map(it["flagged"]).fillna(False).astype(bool)
            sc["improper_er_denials"] = (
                sc["payer"].map(it["improper_denials"]).fillna(0).astype("int64")
            )
            sc["improper_er_rate"] = sc["payer"].map(it["estimate"])
            sc["improper_er_excess_rate"] = sc["payer"].map(it["excess_rate"])
        for k, v in self.errors.items():
            for p in notes:
                notes[p].append(f"{k}: {v}")
        sc["notes"] = sc["payer"].map(lambda p: " | ".join(dict.fromkeys(notes[p]))).astype("str")

        # rank
        sig_den = (sc["denial_odds_ratio_ci_low"] > 1).fillna(False)
        sig_low = (sc["paid_multiple_of_medicare_p"] < 0.05).fillna(False) & (
            sc["paid_multiple_of_medicare"] < sc["paid_multiple_of_medicare"].mean()
        )
        sig_slow = (sc["payment_hazard_ratio_ci_high"] < 1).fillna(False)
        sc["red_flags"] = (
            sc["drift_flag"].astype(int) * (sc["drift_size"] < 1).astype(int)
            + sc["repricer_flag"].astype(int)
            + sc["improper_er_flag"].astype(int)
            + sig_den.astype(int)
            + sig_low.astype(int)
            + sig_slow.astype(int)
        )
        pct = pd.concat(
            [
                sc["adjusted_denial_rate"].rank(pct=True),
                sc["current_multiple_of_medicare"].rank(pct=True, ascending=False),
                sc["median_days_to_pay"].rank(pct=True),
            ],
            axis=1,
        )
        sc["mix_score"] = pct.mean(axis=1, skipna=True)
        sc = sc.sort_values(
            ["red_flags", "mix_score", "dollars_at_stake", "payer"],
            ascending=[False, False, False, True],
            kind="stable",
        )
        sc["rank"] = np.arange(1, len(sc) + 1)
        return sc.sort_values("payer", kind="stable").reset_index(drop=True)

    def expected_payment(self, lines: pd.DataFrame) -> pd.DataFrame:
        """Expected allowed per line from the payment model (see payment.expected_payment)."""
        if self.payment is None:
            raise InsufficientDataError(
                f"no payment model: {self.errors.get('payment', 'not fit')}"
            )
        return expected_payment(self.payment, lines)

    def km_curves(self) -> pd.DataFrame:
        """Kaplan-Meier curves by payer (empty when time to pay was not fit)."""
        return self.time_to_pay.km_curves() if self.time_to_pay is not None else pd.DataFrame()

    def drift_index(self) -> pd.DataFrame:
        """Monthly mix-adjusted payment index per payer (empty without a payment model)."""
        return self.drift.index.copy() if self.drift is not None else pd.DataFrame()

    def to_dict(self) -> dict:
        """Everything needed to audit the run, JSON-safe and deterministic."""
        out = {
            "cutoff_date": self.cutoff_date.date().isoformat(),
            "seed": self.seed,
            "payers": self.payers,
            "errors": dict(sorted(self.errors.items())),
            "notes": self.notes,
            "payer_effects": _records(self.payer_effects()),
            "scorecard": _records(self.scorecard()),
            "models": {},
            "time_to_pay_clock": self.time_to_pay.clock if self.time_to_pay else None,
        }
        for name, r in sorted(self.results().items()):
            out["models"][name] = {
                "name": r.name,
                "n": r.n_obs,
                "messages": r.messages,
                "tidy": _records(r.tidy()),
            }
        return out

    def to_json(self) -> str:
        """Deterministic JSON (sorted keys, 10 significant digits, no timestamps)."""
        return json.dumps(self.to_dict(), sort_keys=True, indent=1, allow_nan=False)


def _lines_summary(lines: pd.DataFrame, claims: pd.DataFrame) -> pd.DataFrame:
    """Volume and money per payer; dollars at stake = billed - paid - patient resp (adjudicated)."""
    adj = lines["claim_status"].isin(("paid", "denied"))
    d = lines.assign(
        adj_billed=lines["billed"].where(adj, 0.0).fillna(0.0),
        adj_paid=lines["paid"].where(adj, 0.0).fillna(0.0),
        adj_pr=lines["patient_resp"].where(adj, 0.0).fillna(0.0),
        denied_billed=lines["billed"].where(lines["claim_status"].eq("denied"), 0.0).fillna(0.0),
    )
    g = d.groupby("payer", sort=True)
    out = pd.DataFrame(
        {
            "lines": g.size(),
            "billed": g["billed"].sum(),
            "allowed": g["allowed"].sum(),
            "paid": g["paid"].sum(),
            "patient_resp": g["patient_resp"].sum(),
            "denied_billed": g["denied_billed"].sum(),
            "dollars_at_stake": g["adj_billed"].sum() - g["adj_paid"].sum() - g["adj_pr"].sum(),
        }
    )
    cg = claims.groupby("payer", sort=True)
    out["claims"] = cg.size().reindex(out.index).fillna(0).astype("int64")
    out["adjudicated_claims"] = cg["adjudicated"].sum().reindex(out.index).fillna(0).astype("int64")
    out["pending_claims"] = cg["pending"].sum().reindex(out.index).fillna(0).astype("int64")
    den = claims[claims["adjudicated"]].groupby("payer", sort=True)["denied"].mean()
    out["raw_denial_rate"] = den.reindex(out.index)
    money = ["billed", "allowed", "paid", "patient_resp", "denied_billed", "dollars_at_stake"]
    out[money] = out[money].round(2)  # dollars to the cent (no float noise in the CSV)
    out.index.name = "payer"
    out = out.reset_index()
    out["payer"] = out["payer"].astype("str")
    return out


def fit_all(
    claim_lines: pd.DataFrame,
    appeals: pd.DataFrame | None = None,
    *,
    cutoff_date: str | pd.Timestamp | None = None,
    seed: int = 0,
    alpha: float = 0.05,
    grouped: bool = False,
) -> PayerModels:
    """Fit every payer model on canonical claim lines (with ``medicare_allowed`` for the payment
    models) and an optional appeal history; never raises for thin data, records why instead.

    ``grouped=True`` fits the denial logit and the payment model on sufficient statistics
    (counts and sums per covariate cell; see docs/scale.md for the tolerances against the
    line-level fits); the time-to-pay model switches to its exact grouped-time form by size."""
    clock = time.perf_counter()
    missing = [c for c in REQUIRED if c not in claim_lines.columns]
    if missing:
        raise ValueError(
            f"claim lines lack required columns {missing}; see schema.CLAIM_LINE_COLUMNS"
        )
    lines = conform(claim_lines)
    self_pay = lines["plan_type"].eq("self_pay") | lines["payer"].astype("str").str.strip().eq("")
    lines = lines[~self_pay].reset_index(drop=True)
    if lines.empty:
        raise InsufficientDataError("claim lines table is empty")
    cutoff = (
        pd.Timestamp(cutoff_date).normalize() if cutoff_date is not None else default_cutoff(lines)
    )

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        pm.timings[name] = pm.timings.get(name, 0.0) + now - clock
        clock = now

    claims = claim_table(lines)
    pm = PayerModels(
        claims=claims, lines_summary=_lines_summary(lines, claims), cutoff_date=cutoff, seed=seed
    )
    if self_pay.any():
        pm.notes.append(
            f"{int(self_pay.sum())} self-pay/no-payer lines left out (no payer behaviour to model)"
        )
    lap("prepare")
    try:
        pm.improper_er = improper_er_denials(claims, alpha=alpha)
    except InsufficientDataError as e:
        pm.errors["improper_er"] = str(e)
        pm.shortfalls["improper_er"] = e.per_payer
    try:
        pm.denial = fit_denial(
            claims, pm.improper_er.flagged if pm.improper_er else [], grouped=grouped
        )
    except InsufficientDataError as e:
        pm.errors["denial"] = str(e)
        pm.shortfalls["denial"] = e.per_payer
    lap("denial")
    try:
        paid = paid_lines(lines)
        first = fit_payment(paid, grouped=grouped)
        lap("payment")
        used = paid[~paid["payer"].isin(list(first.excluded))]
        used = used.assign(y=first.y_used.reindex(used.index).fillna(used["y"]))
        idx = monthly_index(used, first.family_effects_of(used["family"]))
        pm.drift = drift_scan(idx, alpha=alpha, seed=seed)
        lap("drift")
        pm.payment = fit_payment(paid, pm.drift.breaks, grouped=grouped)
        lap("payment")
        pm.repricer = repricer_fingerprint(paid)
        lap("repricer")
    except InsufficientDataError as e:
        pm.errors["payment"] = str(e)
        pm.shortfalls["payment"] = e.per_payer
    try:
        surv, msgs = survival_table(claims, cutoff)
        pm.time_to_pay = fit_time_to_pay(surv)
        pm.time_to_pay.messages = msgs + pm.time_to_pay.messages
    except InsufficientDataError as e:
        pm.errors["time_to_pay"] = str(e)
        pm.shortfalls["time_to_pay"] = e.per_payer
    lap("time_to_pay")
    if appeals is None or len(appeals) == 0:
        pm.errors["appeals"] = (
            "no appeal history given (appeals.parquet / --appeals): appeal success not assessed"
        )
    else:
        try:
            pm.appeals = fit_appeals(prepare_appeals(appeals, claims))
        except InsufficientDataError as e:
            pm.errors["appeals"] = str(e)
            pm.shortfalls["appeals"] = e.per_payer
    lap("appeals")
    return pm
