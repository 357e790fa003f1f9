"""Negotiation targets per payer and code family: opening ask, target and walk-away.

All three are expressed as multiples of the line's Medicare allowed amount (so one number
prices every code in a family at its own RVUs) and as the median dollar amount per line.

- **Opening ask**: the UCR 80th percentile of charges (the New York "usual and customary"
  standard, docs/domain.md §3.3), capped at billed; for NSA-protected families at least the expected IDR
  award (QPA x observed award multiple, docs/domain.md §2.3), since that is what an arbitrator picks.
- **Walk-away**: the largest of the client's floor (``walk_away_multiple_of_medicare``), what
  the payer already pays, and for NSA families the QPA (the plan's own median in-network rate,
  42 U.S.C. 300gg-111(a)(3)(E)): settling under the QPA is worse than the IDR's worst case.
- **Target**: where a rational settlement lands. NSA families: the expected IDR outcome,
  p_win x award + (1 - p_win) x current payment (baseball arbitration picks one offer,
  docs/domain.md §1.7). Other families: the market median allowed multiple across the portfolio's payers.
  Always clipped to [walk-away, opening].
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from oonplaybook.config import PlaybookSettings
from oonplaybook.playbook._adapters import idr_prior, join_assessment, line_frame

#: A family counts as NSA-driven when at least this share of its lines is NSA-protected.
NSA_MAJORITY = 0.5

TARGET_COLUMNS = [
    "payer",
    "code_family",
    "specialty",
    "n_lines",
    "nsa_share",
    "median_medicare",
    "current_x",
    "market_x",
    "ucr_p80_x",
    "billed_x",
    "qpa_x",
    "idr_p_win",
    "idr_award_x_qpa",
    "opening_ask_x",
    "target_x",
    "walk_away_x",
    "target_pct_billed",
    "opening_ask",
    "target",
    "walk_away",
    "opening_rationale",
    "target_rationale",
    "walk_away_rationale",
    "payer_evidence",
]


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    return (num / den).where((den > 0) & num.notna())


def _nsa_flags(lines: pd.DataFrame) -> pd.Series:
    """NSA protection from the assessment, else from the line flags (emergency, in-net facility)."""
    if "nsa_applies" in lines.columns and lines["nsa_applies"].any():
        return lines["nsa_applies"].astype("bool")
    flags = lines["emergency"].astype("bool") | lines["facility_in_network"].astype("bool")
    if "air_ambulance" in lines.columns:
        flags |= lines["air_ambulance"].astype("bool")
    return flags & ~lines["plan_type"].astype("str").isin(
        ["self_pay", "medicare_advantage", "medicaid_managed_care"]
    )


def _payer_evidence(payer_effects: pd.DataFrame | None, payer: str) -> str:
    """The payer model's strongest significant finding for ``payer`` (one line, or "")."""
    if payer_effects is None or payer_effects.empty or "payer" not in payer_effects.columns:
        return ""
    pe = payer_effects[payer_effects["payer"].astype("str") == payer].copy()
    if pe.empty or "p_value" not in pe.columns:
        return ""
    pe["p_value"] = pd.to_numeric(pe["p_value"], errors="coerce")
    pe = pe[pe["p_value"] < 0.05].sort_values(
        ["p_value", "model"] if "model" in pe else ["p_value"]
    )
    if pe.empty:
        return ""
    r = pe.iloc[0]
    ci = ""
    if "ci_low" in r and "ci_high" in r:
        ci = f" (95% CI {float(r['ci_low']):.3g} to {float(r['ci_high']):.3g})"
    return f"{r.get('model', 'model')}: estimate {float(r['estimate']):.3g}{ci}, p={float(r['p_value']):.2g}"


def build_targets(
    benchmarks: pd.DataFrame,
    payer_effects: pd.DataFrame | None,
    scorecard: pd.DataFrame | None,
    profiles: Mapping[str, Any] | Sequence[Any] | None,
    settings: PlaybookSettings,
    *,
    claim_lines: pd.DataFrame | None = None,
    nsa_assessment: pd.DataFrame | None = None,
    priors: Any = None,
) -> pd.DataFrame:
    """Opening ask, target and walk-away per (payer, code family), each with a rationale citing its numbers.

    ``benchmarks`` must carry payer/cpt/billed/allowed/claim_status or ``claim_lines`` must be
    given to join them. Rows are sorted by payer then code family.
    """
    if claim_lines is not None:
        lines = line_frame(claim_lines, benchmarks)
    else:
        need = {"payer", "cpt", "billed", "allowed", "claim_status"} - set(benchmarks.columns)
        if need:
            raise KeyError(
                f"benchmarks lacks {sorted(need)}; pass claim_lines= so targets can join them"
            )
        lines = line_frame(benchmarks, None)
    lines = join_assessment(lines, nsa_assessment)
    if settings.codes_of_interest:
        lines = lines[lines["cpt"].isin(settings.codes_of_interest)]
    lines = lines[lines["plan_type"].astype("str") != "self_pay"]
    if lines.empty:
        return pd.DataFrame(columns=TARGET_COLUMNS)
    med = lines["medicare_allowed"].astype("float64")
    paid_line = lines["claim_status"].astype("str").eq("paid") & (lines["allowed"] > 0)
    frame = pd.DataFrame(
        {
            "payer": lines["payer"].astype("str"),
            "code_family": lines["code_family"].astype("str"),
            "specialty": lines["specialty"].astype("str").replace("", "generic"),
            "medicare": med,
            "billed": lines["billed"].astype("float64"),
            "nsa": _nsa_flags(lines),
            "allowed_x": _ratio(lines["allowed"], med).where(paid_line),
            "allowed_pct_billed": _ratio(lines["allowed"], lines["billed"]).where(paid_line),
            "ucr80_x": _ratio(lines["ucr_p80"], med),
            "billed_x": _ratio(lines["billed"], med),
            "qpa_x": _ratio(lines["qpa"], med),
        }
    )
    market = frame.groupby("code_family")["allowed_x"].median().rename("market_x")
    market_n = frame.groupby("code_family")["payer"].nunique().rename("market_payers")
    sc_x = _scorecard_multiple(scorecard)
    year = (
        int(pd.to_datetime(lines["service_date"]).dt.year.max())
        if lines["service_date"].notna().any()
        else None
    )
    rows = []
    for (payer, fam), g in frame.groupby(["payer", "code_family"], sort=True):
        spec = g["specialty"].mode().iloc[0]
        prior = idr_prior(spec, year, priors)
        nsa_share = float(g["nsa"].mean())
        current_x = float(g["allowed_x"].median()) if g["allowed_x"].notna().any() else np.nan
        market_x = float(market.get(fam, np.nan))
        ucr_x = float(g["ucr80_x"].median()) if g["ucr80_x"].notna().any() else np.nan
        billed_x = float(g["billed_x"].median()) if g["billed_x"].notna().any() else np.nan
        qpa_x = (
            float(g.loc[g["nsa"], "qpa_x"].median())
            if g.loc[g["nsa"], "qpa_x"].notna().any()
            else np.nan
        )
        med_medicare = float(g["medicare"].median()) if g["medicare"].notna().any() else np.nan
        nsa_family = nsa_share >= NSA_MAJORITY and not np.isnan(qpa_x)
        idr_x = qpa_x * prior.award_x_qpa if nsa_family else np.nan

        # opening ask
        cands = {"UCR p80": ucr_x}
        if nsa_family:
            cands[f"QPA x {prior.award_x_qpa:.2f} IDR award"] = idr_x
        cands = {k: v for k, v in cands.items() if not np.isnan(v)}
        if cands:
            o_name, opening_x = max(cands.items(), key=lambda kv: kv[1])
        elif not np.isnan(market_x):
            o_name, opening_x = "market median allowed", market_x
        else:
            o_name, opening_x = "walk-away floor", settings.walk_away_multiple_of_medicare
        capped = not np.isnan(billed_x) and opening_x > billed_x
        if capped:
            opening_x = billed_x

        # walk-away
        w = {
            f"client floor {settings.walk_away_multiple_of_medicare:.2f}x": settings.walk_away_multiple_of_medicare
        }
        if not np.isnan(current_x):
            w["payer's current median payment"] = current_x
        if nsa_family:
            w["QPA (plan's median in-network rate)"] = qpa_x
        w_name, walk_x = max(w.items(), key=lambda kv: kv[1])
        opening_x = max(opening_x, walk_x)

        # target
        if nsa_family:
            base = current_x if not np.isnan(current_x) else qpa_x
            raw_t = prior.p_win * idr_x + (1 - prior.p_win) * base
            t_text = (
                f"expected IDR outcome {prior.p_win:.0%} x {idr_x:.2f}x (QPA {qpa_x:.2f}x Medicare x "
                f"{prior.award_x_qpa:.2f} award) + {1 - prior.p_win:.0%} x {base:.2f}x current = {raw_t:.2f}x Medicare"
            )
        elif not np.isnan(market_x):
            raw_t = market_x
            t_text = f"market median allowed {market_x:.2f}x Medicare across {int(market_n.get(fam, 0))} payers"
        else:
            raw_t = walk_x
            t_text = "no paid lines in this family: target set at the walk-away"
        target_x = float(np.clip(raw_t, walk_x, opening_x))
        if target_x != raw_t:
            t_text += f", clipped to {target_x:.2f}x (between walk-away and opening)"
        pct_billed = (
            float(g["allowed_pct_billed"].median())
            if g["allowed_pct_billed"].notna().any()
            else np.nan
        )
        target_pct_billed = (
            target_x / billed_x if billed_x and not np.isnan(billed_x) else pct_billed
        )
        o_text = (
            f"{o_name} = {cands.get(o_name, opening_x):.2f}x Medicare (median of {len(g)} lines)"
        )
        if capped:
            o_text += f", capped at billed {billed_x:.2f}x"
        if not np.isnan(med_medicare):
            o_text += f"; ${opening_x * med_medicare:,.0f} on the median ${med_medicare:,.0f} Medicare line"
        cur_txt = f"{current_x:.2f}x" if not np.isnan(current_x) else "n/a"
        sc_txt = f"; scorecard multiple {sc_x[payer]:.2f}x" if payer in sc_x else ""
        wl_text = f"{w_name} = {walk_x:.2f}x Medicare (payer now pays {cur_txt}{sc_txt})"
        rows.append(
            {
                "payer": payer,
                "code_family": fam,
                "specialty": spec,
                "n_lines": int(len(g)),
                "nsa_share": nsa_share,
                "median_medicare": med_medicare,
                "current_x": current_x,
                "market_x": market_x,
                "ucr_p80_x": ucr_x,
                "billed_x": billed_x,
                "qpa_x": qpa_x,
                "idr_p_win": prior.p_win if nsa_family else np.nan,
                "idr_award_x_qpa": prior.award_x_qpa if nsa_family else np.nan,
                "opening_ask_x": opening_x,
                "target_x": target_x,
                "walk_away_x": walk_x,
                "target_pct_billed": target_pct_billed,
                "opening_ask": opening_x * med_medicare,
                "target": target_x * med_medicare,
                "walk_away": walk_x * med_medicare,
                "opening_rationale": o_text,
                "target_rationale": t_text,
                "walk_away_rationale": wl_text,
                "payer_evidence": _payer_evidence(payer_effects, payer),
            }
        )
    out = pd.DataFrame(rows, columns=TARGET_COLUMNS)
    return out.sort_values(["payer", "code_family"], kind="stable").reset_index(drop=True)


def _scorecard_multiple(scorecard: pd.DataFrame | None) -> dict[str, float]:
    """Payer -> multiple of Medicare from the payer scorecard (empty when not available)."""
    if scorecard is None or scorecard.empty or "payer" not in scorecard.columns:
        return {}
    for col in (
        "current_multiple_of_medicare",
        "multiple_of_medicare",
        "median_multiple_of_medicare",
        "allowed_multiple_of_medicare",
        "medicare_multiple",
    ):
        if col in scorecard.columns:
            vals = pd.to_numeric(scorecard[col], errors="coerce")
            return {
                p: float(v)
                for p, v in zip(scorecard["payer"].astype("str"), vals, strict=True)
                if v == v
            }
    return {}


def line_targets(lines: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    """Opening ask, target and walk-away in dollars for each line, from its (payer, family) row.

    Dollar amounts are the multiple times the line's Medicare amount; a line without a Medicare
    price falls back to the family's target share of billed. The opening ask never exceeds billed.
    """
    t = targets[
        ["payer", "code_family", "opening_ask_x", "target_x", "walk_away_x", "target_pct_billed"]
    ]
    m = (
        lines[["payer", "code_family"]]
        .astype("str")
        .merge(t, on=["payer", "code_family"], how="left")
    )
    m.index = lines.index
    med = lines["medicare_allowed"].astype("float64")
    billed = lines["billed"].astype("float64")
    has_med = med > 0
    out = pd.DataFrame(index=lines.index)
    for col in ("opening_ask", "target", "walk_away"):
        by_med = m[f"{col}_x"] * med
        by_billed = (
            (m["target_pct_billed"] * billed)
            if col == "target"
            else pd.Series(np.nan, index=lines.index)
        )
        out[f"line_{col}"] = by_med.where(has_med, by_billed)
    out["line_opening_ask"] = out["line_opening_ask"].clip(upper=billed)
    out["line_target"] = (
        out[["line_target", "line_opening_ask"]]
        .min(axis=1, skipna=False)
        .fillna(out["line_target"])
    )
    out["line_walk_away"] = out[["line_walk_away", "line_target"]].min(axis=1)
    return out
