"""A small, fast simulator of the payer data-generating process (DGP) agreed with ``demo.py``.

Used by the payer tests and the Monte-Carlo coverage benchmark, where thousands of portfolios
are needed and the full demo (835 files, PHI columns) would be too slow. It follows the DGP in
the ``demo.py`` contract: sum-to-zero payer effects for denial (logit), time to pay (hazard) and
appeal overturn (logit); allowed = Medicare x M[payer] x lognormal noise; one repricer at a fixed
multiple with remit marks; one payer that cuts its level at a given month; one payer that denies
emergency claims for "no prior authorization" (CO-197). Medicare prices here are illustrative
round numbers for simulation only, not CMS values (the real ones come from reference.pfs).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from oonplaybook.schema import conform


@dataclass(frozen=True)
class SimPayer:
    """One simulated payer and its planted behaviour (link-scale effects before centring)."""

    name: str
    behaviour: str
    denial: float = 0.0  # logit effect (centred to sum to zero across payers)
    multiple: float = 1.8  # geometric-mean allowed / Medicare
    sigma: float = 0.18  # sd of log(allowed / Medicare)
    hazard: float = 0.0  # log hazard of remittance (centred)
    appeal: float = 0.0  # logit of overturn (centred)
    repricer: str = ""
    cut_month: str = ""  # YYYY-MM, first service month at the new level
    cut_factor: float = 1.0
    er_prior_auth_rate: float = 0.0
    weight: float = 1.0  # share of claims


DEFAULT_PAYERS: tuple[SimPayer, ...] = (
    SimPayer("Aetna Choice", "fair", denial=0.0, multiple=2.1, hazard=0.25, appeal=0.2),
    SimPayer("Bluecrest Health", "high_denial", denial=0.9, multiple=1.9, hazard=0.2, appeal=-0.3),
    SimPayer("Cardinal Mutual", "slow", denial=-0.1, multiple=1.7, hazard=-0.8, appeal=0.1),
    SimPayer(
        "Delta Benefit Trust",
        "repricer",
        denial=-0.2,
        multiple=1.25,
        sigma=0.02,
        hazard=0.1,
        repricer="MultiPlan",
        appeal=-0.2,
    ),
    SimPayer(
        "Evergreen Assurance",
        "cut",
        denial=-0.3,
        multiple=2.3,
        hazard=0.15,
        cut_month="2025-01",
        cut_factor=0.8,
        appeal=0.3,
    ),
    SimPayer(
        "Frontier Care",
        "er_prior_auth",
        denial=-0.2,
        multiple=1.8,
        hazard=0.1,
        er_prior_auth_rate=0.25,
        appeal=-0.1,
    ),
)

#: specialty -> (codes, illustrative Medicare price per code, billed multiple of Medicare)
SPECIALTIES: dict[str, tuple[tuple[str, ...], tuple[float, ...], float]] = {
    "emergency_medicine": (("99283", "99284", "99285", "99291"), (68.0, 118.0, 172.0, 275.0), 4.5),
    "anesthesiology": (("00790", "01402", "00840"), (420.0, 380.0, 360.0), 3.5),
    "radiology": (("70450", "74177", "71046"), (42.0, 80.0, 30.0), 4.0),
    "pathology": (("88305", "88307"), (40.0, 90.0), 3.8),
    "orthopedic_surgery": (("27447", "29881"), (1300.0, 500.0), 3.0),
    "behavioral_health": (("90791", "90837"), (175.0, 160.0), 3.0),
}
_POS = {
    "emergency_department": "23",
    "inpatient": "21",
    "outpatient_hospital": "22",
    "office": "11",
}
_DENIAL_CARCS = ("CO-50", "CO-197", "CO-97", "CO-4", "CO-29", "CO-27", "CO-22", "CO-16")
_CARC_P = (0.25, 0.1, 0.2, 0.1, 0.08, 0.12, 0.07, 0.08)
_REASON = {
    "CO-50": "medical_necessity",
    "CO-197": "authorization",
    "CO-97": "coding_bundling",
    "CO-4": "coding_bundling",
    "CO-29": "timely_filing",
    "CO-27": "eligibility_cob",
    "CO-22": "eligibility_cob",
    "CO-16": "missing_information",
}


@dataclass
class SimulatedPortfolio:
    """Simulated claim lines (canonical columns + ``medicare_allowed``), appeals and the truth."""

    claim_lines: pd.DataFrame
    appeals: pd.DataFrame
    truth: dict = field(default_factory=dict)


def _centre(v: np.ndarray) -> np.ndarray:
    return v - v.mean()


def simulate_portfolio(
    n_claims: int = 4000,
    seed: int = 0,
    payers: tuple[SimPayer, ...] = DEFAULT_PAYERS,
    start: str = "2024-07-01",
    months: int = 18,
    lambda0: float = 1 / 25,
    appeal_share: float = 0.5,
) -> SimulatedPortfolio:
    """Simulate one portfolio following the agreed DGP; the truth dict mirrors truth.json."""
    rng = np.random.default_rng(seed)
    names = [p.name for p in payers]
    k = len(payers)
    b_pay = _centre(np.array([p.denial for p in payers]))
    h_pay = _centre(np.array([p.hazard for p in payers]))
    c_pay = _centre(np.array([p.appeal for p in payers]))
    spec_names = list(SPECIALTIES)
    b_spec = dict(zip(spec_names, [0.0, 0.2, -0.3, -0.2, 0.4, 0.1], strict=True))
    b_pos = {
        "emergency_department": 0.0,
        "inpatient": 0.1,
        "outpatient_hospital": -0.1,
        "office": -0.2,
    }
    a0, b_em, b_lb, centre = -1.7, 0.3, 0.25, 6.5
    c0, c_level = -0.2, {1: 0.0, 2: -0.3, 3: 0.4}
    c_reason = {
        "medical_necessity": 0.3,
        "authorization": 0.5,
        "coding_bundling": 0.0,
        "timely_filing": -0.8,
        "eligibility_cob": -0.5,
        "missing_information": 0.2,
    }

    start_ts = pd.Timestamp(start)
    end_ts = start_ts + pd.DateOffset(months=months) - pd.Timedelta(days=1)
    cutoff = end_ts + pd.Timedelta(days=30)
    span = (end_ts - start_ts).days + 1

    w = np.array([p.weight for p in payers], dtype=float)
    pay_idx = rng.choice(k, size=n_claims, p=w / w.sum())
    spec_idx = rng.integers(0, len(spec_names), n_claims)
    specs = np.array(spec_names)[spec_idx]
    is_ed = specs == "emergency_medicine"
    pos_name = np.where(
        is_ed,
        "emergency_department",
        rng.choice(
            ["inpatient", "outpatient_hospital", "office", "emergency_department"],
            n_claims,
            p=[0.3, 0.35, 0.25, 0.1],
        ),
    )
    emergency = pos_name == "emergency_department"
    service = start_ts + pd.to_timedelta(rng.integers(0, span, n_claims), unit="D")
    submitted = service + pd.to_timedelta(rng.integers(1, 15, n_claims), unit="D")
    n_lines = rng.integers(1, 4, n_claims)

    # lines
    claim_of_line = np.repeat(np.arange(n_claims), n_lines)
    starts = np.repeat(np.cumsum(n_lines) - n_lines, n_lines)
    line_no = np.arange(len(claim_of_line)) - starts + 1
    nl = len(claim_of_line)
    cpt = np.empty(nl, dtype=object)
    medicare = np.empty(nl)
    billed = np.empty(nl)
    units = np.ones(nl)
    unit_type = np.full(nl, "UN", dtype=object)
    modifiers = np.full(nl, "", dtype=object)
    for s in spec_names:
        m = specs[claim_of_line] == s
        codes, prices, bmult = SPECIALTIES[s]
        j = rng.integers(0, len(codes), m.sum())
        cpt[m] = np.array(codes)[j]
        price = np.array(prices)[j] * rng.uniform(0.9, 1.15, m.sum())  # locality spread
        if s == "anesthesiology":
            mins = rng.integers(30, 181, m.sum()).astype(float)
            units[m] = mins
            unit_type[m] = "MJ"
            price = price * (1 + mins / 120.0) / 2.0
        if s in ("radiology", "pathology"):
            modifiers[m] = "26"
        medicare[m] = np.round(price, 2)
        billed[m] = np.round(price * bmult * np.exp(rng.normal(0, 0.25, m.sum())), 2)

    claim_billed = np.bincount(claim_of_line, weights=billed, minlength=n_claims)
    eta = (
        a0
        + b_pay[pay_idx]
        + pd.Series(specs).map(b_spec).to_numpy()
        + b_em * emergency
        + pd.Series(pos_name).map(b_pos).to_numpy()
        + b_lb * (np.log(claim_billed) - centre)
    )
    # the er_prior_auth payer denies emergency claims for "no prior auth" first (as demo.py)
    er_rate = np.array([p.er_prior_auth_rate for p in payers])[pay_idx]
    er_denied = emergency & (rng.random(n_claims) < er_rate)
    base_denied = rng.random(n_claims) < 1 / (1 + np.exp(-eta))
    denied = er_denied | base_denied
    # base denials use any reason except CO-197 on emergency claims (improper under the NSA)
    carc = rng.choice(_DENIAL_CARCS, n_claims, p=_CARC_P)
    carc = np.where(emergency & (carc == "CO-197"), "CO-50", carc)
    carc = np.where(er_denied, "CO-197", np.where(denied, carc, ""))

    # time to remit (same clock for paid and denied claims)
    rate = lambda0 * np.exp(h_pay[pay_idx])
    days = np.maximum(1, np.ceil(rng.exponential(1 / rate)))
    remit = submitted + pd.to_timedelta(days, unit="D")
    pending = remit > cutoff

    # payment level (line level)
    pl = pay_idx[claim_of_line]
    mult = np.array([p.multiple for p in payers])[pl]
    sig = np.array([p.sigma for p in payers])[pl]
    month = service[claim_of_line].strftime("%Y-%m").to_numpy()
    cut_month = np.array([p.cut_month for p in payers])[pl]
    cut = (cut_month != "") & (month >= cut_month)
    mult = np.where(cut, mult * np.array([p.cut_factor for p in payers])[pl], mult)
    # payers allow the lesser of billed and their own amount (as demo.py)
    allowed = np.minimum(np.round(medicare * mult * np.exp(rng.normal(0, sig)), 2), billed)
    den_l = denied[claim_of_line]
    pend_l = pending[claim_of_line]
    coins = np.where(rng.random(nl) < 0.6, 0.2, 0.0)
    pr = np.round(allowed * coins, 2)
    status = np.where(pend_l, "pending", np.where(den_l, "denied", "paid"))
    allowed_out = np.where(pend_l, np.nan, np.where(den_l, 0.0, allowed))
    paid_out = np.where(pend_l, np.nan, np.where(den_l, 0.0, allowed - pr))
    pr_out = np.where(pend_l, np.nan, np.where(den_l, 0.0, pr))
    line_carc = np.where(pend_l, "", np.where(den_l, carc[claim_of_line], "CO-45"))
    repricer = np.array([p.repricer for p in payers], dtype=object)[pl]
    repricer = np.where(status == "paid", repricer, "")
    remit_l = remit[claim_of_line]
    remit_out = pd.Series(remit_l).where(~pend_l)

    claim_ids = (
        f"SIM{seed:04d}-" + pd.Series(np.arange(n_claims)).astype("str").str.zfill(6)
    ).to_numpy()
    lines = pd.DataFrame(
        {
            "claim_id": claim_ids[claim_of_line],
            "line_no": line_no.astype("int64"),
            "payer": np.array(names)[pl],
            "plan_type": "self_funded_erisa",
            "specialty": specs[claim_of_line],
            "patient_key": "",
            "service_date": service[claim_of_line],
            "submitted_date": submitted[claim_of_line],
            "remit_date": remit_out.to_numpy(),
            "paid_date": remit_out.where(status == "paid").to_numpy(),
            "cpt": cpt.astype(str),
            "modifiers": modifiers.astype(str),
            "units": units,
            "unit_type": unit_type.astype(str),
            "pos": pd.Series(pos_name).map(_POS).to_numpy()[claim_of_line],
            "locality": "13202-01",
            "billed": billed,
            "allowed": allowed_out,
            "paid": paid_out,
            "patient_resp": pr_out,
            "claim_status": status,
            "carc": line_carc,
            "emergency": emergency[claim_of_line],
            "repricer": repricer.astype(str),
        }
    )
    lines = conform(lines)
    lines["medicare_allowed"] = medicare

    # appeals: a share of adjudicated denied claims
    den_claims = np.flatnonzero(denied & ~pending)
    app = den_claims[rng.random(len(den_claims)) < appeal_share]
    level = rng.choice([1, 2, 3], len(app), p=[0.75, 0.2, 0.05])
    reason = np.array([_REASON[c] for c in carc[app]]) if len(app) else np.array([], dtype=str)
    eta_a = (
        c0
        + c_pay[pay_idx[app]]
        + np.array([c_reason[r] for r in reason])
        + np.array([c_level[v] for v in level])
    )
    over = rng.random(len(app)) < 1 / (1 + np.exp(-eta_a))
    filed = remit[app] + pd.to_timedelta(rng.integers(5, 60, len(app)), unit="D")
    appeals = pd.DataFrame(
        {
            "claim_id": claim_ids[app],
            "payer": np.array(names)[pay_idx[app]],
            "appeal_level": level.astype("int64"),
            "denial_reason_group": reason,
            "filed_date": filed,
            "decided_date": filed + pd.Timedelta(days=30),
            "outcome": np.where(over, "overturned", "upheld"),
            "recovered": np.where(over, np.round(claim_billed[app] * 0.4, 2), 0.0),
        }
    )
    truth = {
        "seed": seed,
        "claims": int(n_claims),
        "lines": int(nl),
        "start_date": start_ts.date().isoformat(),
        "end_date": end_ts.date().isoformat(),
        "cutoff_date": cutoff.date().isoformat(),
        "payers": {
            p.name: {
                "behaviour": p.behaviour,
                "denial_odds_ratio": float(np.exp(b_pay[i])),
                "paid_multiple_of_medicare": p.multiple,
                "payment_hazard_ratio": float(np.exp(h_pay[i])),
                "appeal_odds_ratio": float(np.exp(c_pay[i])),
                "repricer": p.repricer or None,
                "repricer_multiple": p.multiple if p.repricer else None,
                "cut_month": p.cut_month or None,
                "cut_factor": p.cut_factor if p.cut_month else None,
                "er_prior_auth_denial_rate": p.er_prior_auth_rate,
            }
            for i, p in enumerate(payers)
        },
        "denial_model": {
            "intercept": a0,
            "emergency": b_em,
            "log_billed": b_lb,
            "log_billed_centre": centre,
            "specialty": b_spec,
            "pos": b_pos,
        },
    }
    return SimulatedPortfolio(claim_lines=lines, appeals=appeals, truth=truth)


def coverage_study(n_portfolios: int = 200, n_claims: int = 3000, seed: int = 0) -> pd.DataFrame:
    """Monte-Carlo check of the 95% CIs: fit every model on ``n_portfolios`` simulated
    portfolios and record, per model x payer x portfolio, whether the CI covers the truth.

    The er_prior_auth payer's denial odds ratio is left out (its planted behaviour is a rate,
    checked separately). Returns one row per (portfolio, model, payer) with ``covered``.
    """
    from oonplaybook.payers.scorecard import fit_all

    rows = []
    for i in range(n_portfolios):
        s = simulate_portfolio(n_claims, seed=seed + i)
        pm = fit_all(s.claim_lines, s.appeals, cutoff_date=s.truth["cutoff_date"], seed=seed + i)
        eff = pm.payer_effects()
        for _, r in eff.iterrows():
            t = s.truth["payers"][r["payer"]]
            if r["model"] == "denial_odds_ratio" and t["behaviour"] == "er_prior_auth":
                continue
            truth = t[r["model"]]
            ok = bool(r["ci_low"] <= truth <= r["ci_high"]) if pd.notna(r["estimate"]) else False
            rows.append(
                {
                    "portfolio": i,
                    "model": r["model"],
                    "payer": r["payer"],
                    "behaviour": t["behaviour"],
                    "truth": truth,
                    "estimate": r["estimate"],
                    "covered": ok,
                    "fitted": bool(pd.notna(r["estimate"])),
                }
            )
    return pd.DataFrame(rows)
