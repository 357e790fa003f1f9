"""Negotiation targets per payer and code family: opening ask, target and walk-away.

All three are multiples of the line's Medicare allowed amount (one number prices every code in a
family at its own RVUs) and the median dollar amount per line. What the payer pays now is taken
on the allowed basis (plan payment + patient responsibility, :func:`allowed_basis`), the basis of
every benchmark.

- **Walk-away = the value of the best alternative**, never below the current payment. NSA
  families: federal IDR's expected value net of the fees the provider bears (admin + the IDRE
  fee when it loses, per line of a 25-line batch), the cost of working it and the time to
  payment at :data:`oonplaybook.idr.DISCOUNT_RATE` (:func:`nsa_points`). Other families: the
  appeal ladder's expected value (:func:`appeal_points`). The client's floor
  (``walk_away_multiple_of_medicare``) can raise it, and says so.
- **Target = the expected settlement**: NSA, the expected IDR determination p x award + (1 - p)
  x current (award = QPA x the CMS prior for the specialty and QPA band, ``idr.IdrPriors``);
  others, the market median allowed across payers.
- **Opening ask = the upper end of independent evidence**: the IDR award (NSA), FAIR Health p80
  where supplied, the payer's own in-network p75 from its TiC files where extracted, other
  payers' p75 allowed (non-NSA); the practice's own charges only cap it.
- ask >= target >= walk-away always; where two are equal ``room_note`` says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from oonplaybook import idr
from oonplaybook.config import PlaybookSettings
from oonplaybook.playbook._adapters import idr_prior, join_assessment, line_frame

#: A family counts as NSA-driven when at least this share of its lines is NSA-protected.
NSA_MAJORITY = 0.5

#: Appeal overturn probability when the scorecard has none (the worklist's prior, worklist.py).
APPEAL_SUCCESS_PRIOR_FALLBACK = 0.543

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
    "fair_health_p80_x",
    "billed_x",
    "qpa_x",
    "idr_p_win",
    "idr_award_x_qpa",
    "idr_prior_quarter",
    "alternative",
    "alternative_value_x",
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
    "room_note",
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


# --- the three points of one (payer, family), from the best alternative -----------------------

#: Days from settling an appeal to money in hand: the plan's 60-day post-service decision
#: (29 CFR 2560.503-1(i)(2)(iii)) + 30 days to pay.
DAYS_TO_APPEAL_PAYMENT = 90
#: Days to money in hand when the payer settles now (a negotiated payment).
DAYS_TO_SETTLEMENT_PAYMENT = 30
#: Lines per IDR batch assumed when a family's fees are shared (the first 25-line fee tier).
BATCH_LINES_ASSUMED = 25


@dataclass(frozen=True)
class NegotiationPoints:
    """Opening ask, target and walk-away (multiples of Medicare) with the reasons and numbers."""

    opening_x: float
    target_x: float
    walk_away_x: float
    alternative_value_x: float  # the best alternative's value before the current-payment floor
    opening_rationale: str
    target_rationale: str
    walk_away_rationale: str
    room_note: str  # why two points are equal, or the room between them


def _room(opening: float, target: float, walk: float, reasons: list[str]) -> str:
    """State the room between the points, or why two of them are equal."""
    parts = list(reasons)
    if not parts:
        parts.append(
            f"room: ask {opening:.2f}x > target {target:.2f}x > walk-away {walk:.2f}x Medicare"
        )
    return "; ".join(parts)


def nsa_points(
    *,
    current_x: float,
    qpa_x: float,
    medicare: float,
    p_win: float,
    award_x_qpa: float,
    fees: idr.IdrFees,
    work_cost: float,
    prior_text: str = "",
    fair_health_p80_x: float = float("nan"),
    billed_x: float = float("nan"),
    discount_rate: float = idr.DISCOUNT_RATE,
    in_network_p75_x: float = float("nan"),
) -> NegotiationPoints:
    """Points for an NSA family: the best alternative is federal IDR.

    award = QPA x award multiple (the provider's offer: at most billed); target (expected
    settlement) = p x award + (1 - p) x current;
    walk-away = current + discounted (p x (award - current) x Medicare - fees and work per line)
    / Medicare, never below current; ask = max(IDR award, FAIR Health p80), capped at billed.
    Fees per line: (admin + (1 - p) x IDRE fee) / lines of the dispute; work cost per dispute.
    """
    n = max(int(fees.n_lines), 1)
    award_x = qpa_x * award_x_qpa
    award_capped = billed_x == billed_x and award_x > billed_x
    if award_capped:  # the provider's offer, so the award if it wins, never exceeds its charge
        award_x = billed_x
    t_raw = p_win * award_x + (1 - p_win) * current_x
    fee_line = (fees.admin_fee + (1 - p_win) * fees.idre_fee) / n
    work_line = work_cost / n
    d_idr = float(idr.discount_factor(idr.DAYS_TO_IDR_PAYMENT, discount_rate))
    d_now = float(idr.discount_factor(DAYS_TO_SETTLEMENT_PAYMENT, discount_rate))
    gain = p_win * (award_x - current_x) * medicare - fee_line - work_line
    alt_x = current_x + (d_idr / d_now) * gain / medicare
    reasons: list[str] = []
    walk = max(alt_x, current_x)
    w_text = (
        f"IDR net of fees, work and time = {alt_x:.2f}x Medicare: current {current_x:.2f}x + "
        f"[{p_win:.1%} x ({award_x:.2f}x - {current_x:.2f}x) x ${medicare:,.2f} - fees "
        f"${fee_line:,.2f}/line (admin ${fees.admin_fee:,.0f} + {1 - p_win:.1%} x IDRE "
        f"${fees.idre_fee:,.0f}, over {n} lines) - work ${work_line:,.2f}/line] x "
        f"{d_idr / d_now:.3f} (paid in {idr.DAYS_TO_IDR_PAYMENT} vs {DAYS_TO_SETTLEMENT_PAYMENT} "
        f"days at {discount_rate:.0%} a year)"
    )
    if alt_x <= current_x:
        w_text += f"; below the current payment, so walk-away = current {current_x:.2f}x"
        reasons.append("walk-away = current payment: IDR is worth no more after fees and work")
    target = t_raw
    t_text = (
        f"expected IDR determination {p_win:.1%} x {award_x:.2f}x (QPA {qpa_x:.2f}x Medicare x "
        f"{award_x_qpa:.2f} award{', ' + prior_text if prior_text else ''}"
        f"{', offer capped at billed' if award_capped else ''}) + {1 - p_win:.1%} x "
        f"current {current_x:.2f}x = {t_raw:.2f}x Medicare"
    )
    if target < walk:
        target = walk
        t_text += f"; below the walk-away, so target = walk-away {walk:.2f}x"
        reasons.append("target = walk-away: the payer already pays at least IDR's expected outcome")
    cands = {
        f"IDR award (QPA x {award_x_qpa:.2f}{', capped at billed' if award_capped else ''})": award_x
    }
    if fair_health_p80_x == fair_health_p80_x:
        cands["FAIR Health p80"] = fair_health_p80_x
    if in_network_p75_x == in_network_p75_x:
        cands["payer's in-network p75 (TiC)"] = in_network_p75_x
    o_name, opening = max(cands.items(), key=lambda kv: kv[1])
    o_text = f"{o_name} = {opening:.2f}x Medicare"
    if billed_x == billed_x and opening > billed_x:
        opening = billed_x
        o_text += f", capped at the practice's billed {billed_x:.2f}x"
    if opening < target:
        o_text += f"; below the target {target:.2f}x, so ask = target"
        reasons.append("ask = target: the cap at billed charges leaves nothing to concede")
        opening = target
    return NegotiationPoints(
        opening, target, walk, alt_x, o_text, t_text, w_text, _room(opening, target, walk, reasons)
    )


def appeal_points(
    *,
    current_x: float,
    market_x: float,
    market_p75_x: float,
    medicare: float,
    p_appeal: float,
    work_cost: float,
    fair_health_p80_x: float = float("nan"),
    billed_x: float = float("nan"),
    discount_rate: float = idr.DISCOUNT_RATE,
    in_network_p75_x: float = float("nan"),
) -> NegotiationPoints:
    """Points for a non-NSA family: the best alternative is the appeal ladder.

    target (expected settlement) = the market median allowed across payers (never below current);
    walk-away = current + discounted (p_appeal x (market - current) x Medicare - work) / Medicare,
    never below current; ask = max(FAIR Health p80, other payers' p75 allowed), capped at billed.
    """
    base = current_x if current_x == current_x else 0.0
    mkt = market_x if market_x == market_x else base
    d_app = float(idr.discount_factor(DAYS_TO_APPEAL_PAYMENT, discount_rate))
    d_now = float(idr.discount_factor(DAYS_TO_SETTLEMENT_PAYMENT, discount_rate))
    gain = p_appeal * max(mkt - base, 0.0) * medicare - work_cost
    alt_x = base + (d_app / d_now) * gain / medicare
    reasons: list[str] = []
    walk = max(alt_x, base)
    w_text = (
        f"appeal ladder EV = {alt_x:.2f}x Medicare: current {base:.2f}x + [{p_appeal:.1%} x "
        f"({mkt:.2f}x - {base:.2f}x) x ${medicare:,.2f} - work ${work_cost:,.2f}] x "
        f"{d_app / d_now:.3f} (paid in {DAYS_TO_APPEAL_PAYMENT} vs {DAYS_TO_SETTLEMENT_PAYMENT} "
        f"days at {discount_rate:.0%} a year)"
    )
    if alt_x <= base:
        w_text += f"; not above the current payment, so walk-away = current {base:.2f}x"
        reasons.append("walk-away = current payment: an appeal is worth no more after its cost")
    target = mkt
    t_text = f"market median allowed {mkt:.2f}x Medicare (what other payers allow)"
    if target < walk:
        target = walk
        t_text += f"; below the walk-away, so target = walk-away {walk:.2f}x"
        reasons.append("target = walk-away: this payer already pays at or above the market")
    cands = {}
    if market_p75_x == market_p75_x:
        cands["other payers' p75 allowed"] = market_p75_x
    if fair_health_p80_x == fair_health_p80_x:
        cands["FAIR Health p80"] = fair_health_p80_x
    if in_network_p75_x == in_network_p75_x:
        cands["payer's in-network p75 (TiC)"] = in_network_p75_x
    if cands:
        o_name, opening = max(cands.items(), key=lambda kv: kv[1])
        o_text = f"{o_name} = {opening:.2f}x Medicare"
    else:
        o_name, opening, o_text = "target", target, "no independent evidence above the target"
    if billed_x == billed_x and opening > billed_x:
        opening = billed_x
        o_text += f", capped at the practice's billed {billed_x:.2f}x"
    if opening < target:
        o_text += f"; below the target {target:.2f}x, so ask = target"
        reasons.append(
            "ask = target: no independent evidence (or billed) above the expected settlement"
        )
        opening = target
    return NegotiationPoints(
        opening, target, walk, alt_x, o_text, t_text, w_text, _room(opening, target, walk, reasons)
    )


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
    as_of: Any = None,
) -> pd.DataFrame:
    """Opening ask, target and walk-away per (payer, code family), each with a rationale citing its numbers.

    ``benchmarks`` must carry payer/cpt/billed/allowed/claim_status or ``claim_lines`` must be
    given to join them. Rows are sorted by payer then code family. See the module docstring.
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
    extra = [
        c for c in ("fh_p80", "innet_p75") if c in benchmarks.columns and c not in lines.columns
    ]
    if extra and {"claim_id", "line_no"} <= set(benchmarks.columns):
        lines = lines.merge(
            benchmarks[["claim_id", "line_no", *extra]].drop_duplicates(["claim_id", "line_no"]),
            on=["claim_id", "line_no"],
            how="left",
        )
    if settings.codes_of_interest:
        lines = lines[lines["cpt"].isin(settings.codes_of_interest)]
    lines = lines[lines["plan_type"].astype("str") != "self_pay"]
    if lines.empty:
        return pd.DataFrame(columns=TARGET_COLUMNS)
    med = lines["medicare_allowed"].astype("float64")
    paid_line = lines["claim_status"].astype("str").eq("paid") & (lines["allowed"] > 0)
    basis = allowed_basis(lines)
    frame = pd.DataFrame(
        {
            "payer": lines["payer"].astype("str"),
            "code_family": lines["code_family"].astype("str"),
            "specialty": lines["specialty"].astype("str").replace("", "generic"),
            "medicare": med,
            "billed": lines["billed"].astype("float64"),
            "nsa": _nsa_flags(lines),
            "allowed_x": _ratio(basis, med).where(paid_line),
            "allowed_pct_billed": _ratio(basis, lines["billed"]).where(paid_line),
            "ucr80_x": _ratio(lines["ucr_p80"], med),
            "fh80_x": _ratio(lines["fh_p80"], med) if "fh_p80" in lines else np.nan,
            "innet75_x": _ratio(lines["innet_p75"], med) if "innet_p75" in lines else np.nan,
            "billed_x": _ratio(lines["billed"], med),
            "qpa_x": _ratio(lines["qpa"], med),
            "qpa": lines["qpa"].astype("float64"),
        }
    )
    market = frame.groupby("code_family")["allowed_x"].median().rename("market_x")
    market_n = frame.groupby("code_family")["payer"].nunique().rename("market_payers")
    sc_x = _scorecard_multiple(scorecard)
    sc_rate = _scorecard_appeal_rate(scorecard)
    sd = pd.to_datetime(lines["service_date"])
    year = int(sd.dt.year.max()) if sd.notna().any() else None
    quarter = f"{sd.max().year}Q{(sd.max().month - 1) // 3 + 1}" if sd.notna().any() else None
    pri = priors if isinstance(priors, idr.IdrPriors) else None
    if pri is None and not isinstance(priors, dict):
        pri = idr.IdrPriors.default()
    init = (
        pd.Timestamp(as_of).date()
        if as_of is not None
        else (sd.max().date() if sd.notna().any() else None)
    )
    rows = []
    for (payer, fam), g in frame.groupby(["payer", "code_family"], sort=True):
        spec = g["specialty"].mode().iloc[0]
        nsa_share = float(g["nsa"].mean())
        current_x = float(g["allowed_x"].median()) if g["allowed_x"].notna().any() else np.nan
        market_x = float(market.get(fam, np.nan))
        others = frame[(frame["code_family"] == fam) & (frame["payer"] != payer)]["allowed_x"]
        market_p75 = float(others.quantile(0.75)) if others.notna().any() else np.nan
        ucr_x = float(g["ucr80_x"].median()) if g["ucr80_x"].notna().any() else np.nan
        fh_x = float(g["fh80_x"].median()) if g["fh80_x"].notna().any() else np.nan
        innet_x = float(g["innet75_x"].median()) if g["innet75_x"].notna().any() else np.nan
        billed_x = float(g["billed_x"].median()) if g["billed_x"].notna().any() else np.nan
        nsa_q = g.loc[g["nsa"], "qpa_x"]
        qpa_x = float(nsa_q.median()) if nsa_q.notna().any() else np.nan
        qpa_usd = float(g.loc[g["nsa"], "qpa"].median()) if nsa_q.notna().any() else np.nan
        med_medicare = float(g["medicare"].median()) if g["medicare"].notna().any() else np.nan
        nsa_family = nsa_share >= NSA_MAJORITY and not np.isnan(qpa_x)
        cur = current_x if not np.isnan(current_x) else 0.0
        p_win = award = np.nan
        quarter_used = ""
        if nsa_family and not np.isnan(med_medicare) and med_medicare > 0:
            if pri is not None:
                cell = pri.cell(spec, qpa_usd, quarter)
                p_win, award, quarter_used = (
                    cell.win_probability,
                    cell.award_multiple_of_qpa,
                    cell.quarter,
                )
                ptxt = f"CMS {cell.quarter} {cell.specialty} {cell.band}"
            else:
                pr = idr_prior(spec, year, priors)
                p_win, award, ptxt = pr.p_win, pr.award_x_qpa, "given prior"
            n_batch = int(min(len(g), BATCH_LINES_ASSUMED))
            f = idr.fees(
                init or pd.Timestamp("2026-01-01").date(), batched=n_batch > 1, n_lines=n_batch
            )
            pts = nsa_points(
                current_x=cur,
                qpa_x=qpa_x,
                medicare=med_medicare,
                p_win=p_win,
                award_x_qpa=award,
                fees=f,
                work_cost=settings.work_cost_per_claim,
                prior_text=ptxt,
                fair_health_p80_x=fh_x,
                billed_x=billed_x,
                in_network_p75_x=innet_x,
            )
            basis_name = "IDR (NSA)"
        else:
            p_app = float(sc_rate.get(payer, APPEAL_SUCCESS_PRIOR_FALLBACK))
            pts = appeal_points(
                current_x=cur,
                market_x=market_x,
                market_p75_x=market_p75,
                medicare=med_medicare if med_medicare == med_medicare and med_medicare > 0 else 1.0,
                p_appeal=p_app,
                work_cost=settings.work_cost_per_claim,
                fair_health_p80_x=fh_x,
                billed_x=billed_x,
                in_network_p75_x=innet_x,
            )
            basis_name = "appeal ladder"
        # the client's floor (params) can only raise the walk-away; said when it binds
        walk_x, target_x, opening_x = pts.walk_away_x, pts.target_x, pts.opening_x
        wl_text = pts.walk_away_rationale
        room = pts.room_note
        floor = settings.walk_away_multiple_of_medicare
        if floor > walk_x:
            walk_x = floor
            wl_text += f"; raised to the client's floor {floor:.2f}x (params)"
            room += "; walk-away = client floor"
            if target_x < walk_x:
                target_x = walk_x
                room += "; target = walk-away (client floor)"
            if opening_x < target_x:
                opening_x = target_x
                room += "; ask = target (client floor)"
        pct_billed = (
            float(g["allowed_pct_billed"].median())
            if g["allowed_pct_billed"].notna().any()
            else np.nan
        )
        target_pct_billed = (
            target_x / billed_x if billed_x and not np.isnan(billed_x) else pct_billed
        )
        o_text = pts.opening_rationale + f" (median of {len(g)} lines)"
        if not np.isnan(med_medicare):
            o_text += f"; ${opening_x * med_medicare:,.0f} on the median ${med_medicare:,.0f} Medicare line"
        if not np.isnan(ucr_x):
            o_text += f"; the practice's own charge p80 {ucr_x:.2f}x is a cap, not evidence"
        cur_txt = f"{current_x:.2f}x" if not np.isnan(current_x) else "n/a"
        sc_txt = f"; scorecard multiple {sc_x[payer]:.2f}x" if payer in sc_x else ""
        wl_text += f" (payer now allows {cur_txt}{sc_txt})"
        t_text = pts.target_rationale
        if basis_name == "appeal ladder":
            t_text += f" across {int(market_n.get(fam, 0))} payers"
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
                "fair_health_p80_x": fh_x,
                "billed_x": billed_x,
                "qpa_x": qpa_x,
                "idr_p_win": p_win if nsa_family else np.nan,
                "idr_award_x_qpa": award if nsa_family else np.nan,
                "idr_prior_quarter": quarter_used,
                "alternative": basis_name,
                "alternative_value_x": pts.alternative_value_x,
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
                "room_note": room,
                "payer_evidence": _payer_evidence(payer_effects, payer),
            }
        )
    out = pd.DataFrame(rows, columns=TARGET_COLUMNS)
    return out.sort_values(["payer", "code_family"], kind="stable").reset_index(drop=True)


def _scorecard_column(scorecard: pd.DataFrame | None, names: tuple[str, ...]) -> dict[str, float]:
    """Payer -> the first of ``names`` the scorecard has, as numbers (empty when none)."""
    if scorecard is None or scorecard.empty or "payer" not in scorecard.columns:
        return {}
    for col in names:
        if col in scorecard.columns:
            vals = pd.to_numeric(scorecard[col], errors="coerce")
            return {
                p: float(v)
                for p, v in zip(scorecard["payer"].astype("str"), vals, strict=True)
                if v == v
            }
    return {}


def _scorecard_appeal_rate(scorecard: pd.DataFrame | None) -> dict[str, float]:
    """Payer -> appeal overturn rate from the scorecard (empty when not available)."""
    return _scorecard_column(
        scorecard, ("appeal_overturn_rate", "appeal_success_rate", "overturn_rate")
    )


def allowed_basis(lines: pd.DataFrame) -> pd.Series:
    """What the provider has on the allowed basis: plan payment + patient responsibility.

    Benchmarks (Medicare, QPA, UCR, FAIR Health, TiC) are allowed-level amounts, so the gap to
    them is measured against this, never against the plan payment alone.
    """
    paid = (
        lines["paid"].astype("float64") if "paid" in lines else pd.Series(np.nan, index=lines.index)
    )
    pr = (
        lines["patient_resp"].astype("float64").fillna(0.0)
        if "patient_resp" in lines
        else pd.Series(0.0, index=lines.index)
    )
    have = paid + pr
    if "allowed" in lines:
        have = have.fillna(lines["allowed"].astype("float64"))
    return have


def gap_on_one_basis(lines: pd.DataFrame, benchmark: pd.Series) -> pd.DataFrame:
    """The gap to an allowed-level benchmark on the allowed basis, and the plan-payment gap apart.

    ``gap_allowed`` = benchmark - (plan payment + patient responsibility): what is really
    missing. ``plan_payment_gap`` = benchmark - plan payment: the larger figure a naive
    comparison shows, kept apart; the difference is the patient's cost share.
    """
    have = allowed_basis(lines)
    paid = lines["paid"].astype("float64")
    return pd.DataFrame(
        {
            "allowed_basis": have,
            "gap_allowed": (benchmark - have).round(2),
            "plan_payment_gap": (benchmark - paid).round(2),
            "patient_share_in_gap": (have - paid).round(2),
        },
        index=lines.index,
    )


def _scorecard_multiple(scorecard: pd.DataFrame | None) -> dict[str, float]:
    """Payer -> multiple of Medicare from the payer scorecard (empty when not available)."""
    return _scorecard_column(
        scorecard,
        (
            "current_multiple_of_medicare",
            "multiple_of_medicare",
            "median_multiple_of_medicare",
            "allowed_multiple_of_medicare",
            "medicare_multiple",
        ),
    )


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


# --- expected recovery with its range (worklist rows and the portfolio) -----------------------

#: Beta concentration of a non-IDR route's success probability: the 20 pseudo-appeals the
#: worklist's beta-binomial shrinkage uses (``worklist.appeal_success_rates``).
ROUTE_PRIOR_STRENGTH = 20.0
#: Routes whose success is a federal IDR determination (CMS priors' uncertainty applies).
IDR_ROUTES = frozenset({"open_negotiation", "idr", "state_idr"})


def _route_uncertainty(worklist: pd.DataFrame, priors: Any = None) -> tuple[pd.Series, pd.Series]:
    """(group, Beta concentration) per worklist row: IDR rows share CMS's win-rate uncertainty,
    other rows share their payer x route's."""
    route = worklist["route"].astype("str")
    nsa = route.isin(IDR_ROUTES)
    pri = priors if isinstance(priors, idr.IdrPriors) else idr.IdrPriors.default()
    k_idr = pri.win_concentration(pri.quarters[-1])
    group = ("idr" + pd.Series("", index=worklist.index)).where(
        nsa, worklist["payer"].astype("str") + "|" + route
    )
    kappa = pd.Series(ROUTE_PRIOR_STRENGTH, index=worklist.index).where(~nsa, k_idr)
    return group, kappa


def _triples(gidx: np.ndarray, p: np.ndarray, kappa: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (group, p, kappa) triples of the rows and each row's triple: computed once per
    interval, not per simulation chunk (a sort of every row, the hot spot at 1M lines)."""
    pc = np.clip(p, 1e-6, 1 - 1e-6)
    trip, inv = np.unique(np.column_stack([gidx, pc, kappa]), axis=0, return_inverse=True)
    return trip, inv.ravel()


#: Cells (sims x rows) simulated at once by :func:`recovery_interval`: 4M doubles, 32 MB per
#: matrix, so a large worklist's interval costs one quantile call per 4M cells.
SIM_BLOCK_CELLS = 4_000_000


def _theta(u: np.ndarray, trip: np.ndarray, inv: np.ndarray) -> np.ndarray:
    """Win/success probabilities (sims x rows): Beta(kappa p, kappa (1 - p)) quantile of one
    uniform per group, so rows of a group move together (one quantile per distinct triple)."""
    from scipy.stats import beta as beta_dist

    g = trip[:, 0].astype("int64")
    th = beta_dist.ppf(
        np.take(u, g, axis=1), trip[:, 2] * trip[:, 1], trip[:, 2] * (1 - trip[:, 1])
    )
    return np.take(th, inv, axis=1)


def recovery_columns(
    worklist: pd.DataFrame, *, level: float = 0.90, priors: Any = None
) -> pd.DataFrame:
    """``expected_recovery_low/high`` per worklist row: the ``level`` interval of its expected recovery.

    expected recovery = p x at stake - cost, with p uncertain: Beta around the row's probability
    (IDR routes: CMS's quarter-to-quarter spread, ``IdrPriors.win_concentration``; other routes:
    20 pseudo-outcomes). Rows not open (or written off) have a zero-width interval.
    """
    from scipy.stats import beta as beta_dist

    er = worklist["expected_recovery"].astype("float64").fillna(0.0)
    p = worklist["probability"].astype("float64").fillna(0.0).clip(0, 1)
    a = worklist["at_stake"].astype("float64").fillna(0.0)
    _, kappa = _route_uncertainty(worklist, priors)
    pc = p.clip(1e-6, 1 - 1e-6)
    # the quantiles per distinct (kappa, p): a worklist has a few hundred, not a row's each
    pairs, inv = np.unique(
        np.column_stack([kappa.to_numpy(dtype="float64"), pc.to_numpy()]),
        axis=0,
        return_inverse=True,
    )
    ka, pa = pairs[:, 0], pairs[:, 1]
    lo = beta_dist.ppf((1 - level) / 2, ka * pa, ka * (1 - pa))[inv.ravel()]
    hi = beta_dist.ppf((1 + level) / 2, ka * pa, ka * (1 - pa))[inv.ravel()]
    live = worklist["status"].astype("str").eq("open") & (a > 0) & (p > 0)
    low = (er + (lo - p) * a).where(live, er)
    high = (er + (hi - p) * a).where(live, er)
    return pd.DataFrame(
        {"expected_recovery_low": low.round(2), "expected_recovery_high": high.round(2)},
        index=worklist.index,
    )


@dataclass(frozen=True)
class RecoveryInterval:
    """The portfolio's total expected recovery and the interval its realised total should fall in."""

    expected: float
    low: float
    high: float
    level: float
    n_sims: int
    note: str


def recovery_interval(
    worklist: pd.DataFrame,
    *,
    level: float = 0.90,
    n_sims: int = 4000,
    seed: int = 20251,
    priors: Any = None,
) -> RecoveryInterval:
    """Total expected recovery of the open worklist with the ``level`` interval of the realised total.

    Each row's realised recovery = expected recovery + (X - p) x at stake, X its success; X is
    shared by the rows of one IDR batch (one entity decides the batch) and drawn from a success
    rate that is itself uncertain and common to its group (IDR rows together; otherwise payer x
    route), so the interval carries both the priors' uncertainty and the outcomes' chance.
    """
    w = worklist[worklist["status"].astype("str").eq("open")]
    er = w["expected_recovery"].astype("float64").fillna(0.0).to_numpy()
    total = float(er.sum())
    if w.empty:
        return RecoveryInterval(0.0, 0.0, 0.0, level, 0, "no open rows")
    p = w["probability"].astype("float64").fillna(0.0).clip(0, 1).to_numpy()
    a = w["at_stake"].astype("float64").fillna(0.0).to_numpy()
    group, kappa = _route_uncertainty(w, priors)
    groups, gidx = np.unique(group.to_numpy(), return_inverse=True)
    # outcome units: an IDR batch (rows sharing a batch id) or the row itself
    bid = (
        w["batch_id"].fillna("").astype("str").replace("nan", "")
        if "batch_id" in w.columns
        else pd.Series("", index=w.index)
    )
    unit = bid.where(
        bid.ne("") & group.eq("idr").to_numpy(),
        "row" + pd.Series(range(len(w)), index=w.index).astype("str"),
    )
    units, uidx = np.unique(unit.to_numpy(), return_inverse=True)
    rng = np.random.default_rng(seed)
    totals = np.empty(n_sims)
    # a chunk of m sims draws m x groups uniforms then m x units (the stream the interval is
    # seeded on); several chunks are drawn as one block and simulated together, which is the
    # same stream (one double per draw) with one quantile call per block instead of per chunk
    n_g, n_u = len(groups), len(units)
    chunk = max(1, min(n_sims, 1_000_000 // max(len(w), 1)))
    per_block = max(1, SIM_BLOCK_CELLS // (chunk * max(len(w), 1)))
    trip, inv = _triples(gidx, p, kappa.to_numpy())
    base = total - float(p @ a)  # sum((x - p) a) = sum(x a) - p . a
    done = 0
    while done < n_sims:
        k = min(per_block, -(-(n_sims - done) // chunk))
        sizes = [min(chunk, n_sims - done - i * chunk) for i in range(k)]
        draws = rng.random(sum(sizes) * (n_g + n_u))
        g_parts, u_parts, at = [], [], 0
        for m in sizes:
            g_parts.append(draws[at : at + m * n_g].reshape(m, n_g))
            at += m * n_g
            u_parts.append(draws[at : at + m * n_u].reshape(m, n_u))
            at += m * n_u
        th = _theta(np.concatenate(g_parts), trip, inv)
        # one uniform per outcome unit; rows of a batch are won or lost together
        u = np.take(np.concatenate(u_parts), uidx, axis=1)
        rows = sum(sizes)
        totals[done : done + rows] = base + np.where(u < th, a, 0.0).sum(axis=1)
        done += rows
    q = (1 - level) / 2
    return RecoveryInterval(
        total,
        float(np.quantile(totals, q)),
        float(np.quantile(totals, 1 - q)),
        level,
        n_sims,
        f"{level:.0%} interval of the realised total over {n_sims} simulations (seed {seed}): "
        "success rates uncertain by group, one outcome per IDR batch",
    )
