"""Demo portfolio: shape, determinism, accounting identities and every planted behaviour.

The generator is tested with a small stand-in Medicare price function built from the real
2025 PPRRVU totals (national, CF 32.3465) so these tests do not depend on the PFS engine;
``test_demo_pfs.py`` runs the generator on the real engine.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oonplaybook import demo, schema

CF_2025 = 32.3465  # CMS CY2025 PFS conversion factor (PPRRVU25 CONV FACTOR column)
ANES_CF_2025 = 20.3178  # CMS CY2025 anesthesia conversion factor (docs/domain.md §3.1)
# (non-facility total RVU, facility total RVU) from PPRRVU2025_Oct.csv for the demo's codes
_RVU = {
    ("10060", ""): (3.84, 3.24), ("12001", ""): (2.82, 1.34), ("12002", ""): (3.43, 1.76),
    ("12011", ""): (3.37, 1.67), ("20610", ""): (1.96, 1.36), ("20680", ""): (18.02, 12.8),
    ("25607", ""): (22.87, 22.87), ("27130", ""): (38.93, 38.93), ("27236", ""): (36.25, 36.25),
    ("27245", ""): (37.25, 37.25), ("27447", ""): (38.88, 38.88), ("29125", ""): (2.08, 1.23),
    ("29876", ""): (20.03, 20.03), ("29880", ""): (17.26, 17.26), ("29881", ""): (16.64, 16.64),
    ("31500", ""): (4.23, 4.23), ("36556", ""): (6.22, 2.49), ("36620", ""): (1.29, 1.29),
    ("64447", ""): (3.48, 1.9), ("70450", ""): (3.25, 3.25), ("70450", "26"): (1.2, 1.2),
    ("70450", "TC"): (2.05, 2.05), ("71046", ""): (1.01, 1.01), ("71046", "26"): (0.31, 0.31),
    ("71046", "TC"): (0.7, 0.7), ("71250", ""): (4.05, 4.05), ("71250", "26"): (1.52, 1.52),
    ("71250", "TC"): (2.53, 2.53), ("72148", ""): (5.82, 5.82), ("72148", "26"): (2.09, 2.09),
    ("72148", "TC"): (3.73, 3.73), ("73562", ""): (1.22, 1.22), ("73562", "26"): (0.27, 0.27),
    ("73562", "TC"): (0.95, 0.95), ("73610", ""): (1.09, 1.09), ("73610", "26"): (0.25, 0.25),
    ("73610", "TC"): (0.84, 0.84), ("73721", ""): (6.19, 6.19), ("73721", "26"): (1.91, 1.91),
    ("73721", "TC"): (4.28, 4.28), ("74177", ""): (9.19, 9.19), ("74177", "26"): (2.58, 2.58),
    ("74177", "TC"): (6.61, 6.61), ("76700", ""): (3.46, 3.46), ("76700", "26"): (1.14, 1.14),
    ("76700", "TC"): (2.32, 2.32), ("76805", ""): (4.02, 4.02), ("76805", "26"): (1.41, 1.41),
    ("76805", "TC"): (2.61, 2.61), ("76937", ""): (1.15, 1.15), ("76937", "26"): (0.4, 0.4),
    ("76937", "TC"): (0.75, 0.75), ("88305", ""): (2.15, 2.15), ("88305", "26"): (1.08, 1.08),
    ("88305", "TC"): (1.07, 1.07), ("88307", ""): (8.6, 8.6), ("88307", "26"): (2.37, 2.37),
    ("88307", "TC"): (6.23, 6.23), ("88312", ""): (3.35, 3.35), ("88312", "26"): (0.77, 0.77),
    ("88312", "TC"): (2.58, 2.58), ("88331", ""): (3.02, 3.02), ("88331", "26"): (1.8, 1.8),
    ("88331", "TC"): (1.22, 1.22), ("88342", ""): (3.37, 3.37), ("88342", "26"): (1.01, 1.01),
    ("88342", "TC"): (2.36, 2.36), ("90785", ""): (0.44, 0.38), ("90791", ""): (5.16, 4.42),
    ("90832", ""): (2.44, 2.13), ("90834", ""): (3.22, 2.81), ("90837", ""): (4.77, 4.16),
    ("93010", ""): (0.24, 0.24), ("99203", ""): (3.37, 2.45), ("99204", ""): (5.05, 3.99),
    ("99213", ""): (2.75, 1.97), ("99214", ""): (3.87, 2.9), ("99281", ""): (0.34, 0.34),
    ("99282", ""): (1.25, 1.25), ("99283", ""): (2.11, 2.11), ("99284", ""): (3.6, 3.6),
    ("99285", ""): (5.22, 5.22), ("99291", ""): (8.21, 6.36),
}  # fmt: skip
# ASA base units of the demo's anesthesia codes (CMS anesthesia base units file)
_BASE = {"00142": 4, "00400": 3, "00731": 5, "00811": 4, "00813": 5, "00790": 7, "00840": 6,
         "01402": 7, "01214": 8, "01480": 3, "01967": 5, "00670": 13}  # fmt: skip
_GAF = {"13202-01": 1.16, "04412-18": 1.02, "04412-11": 1.01, "01182-18": 1.10,
        "09102-04": 1.05, "02102-01": 1.27}  # fmt: skip
_FACILITY = {"21", "22", "23", "24"}


def toy_price(df: pd.DataFrame) -> pd.Series:
    """Stand-in Medicare price: national RVU x CF x rough GAF, 26/TC rows, 51/80/AS/QK rules."""
    out = []
    for r in df.itertuples(index=False):
        mods = [m for m in r.modifiers.split(":") if m]
        gaf = _GAF[r.locality]
        if r.unit_type == "MJ":
            amt = (_BASE[r.cpt] + r.units / 15.0) * ANES_CF_2025 * gaf
            amt *= 0.5 if "QK" in mods else 1.0
        else:
            pctc = "26" if "26" in mods else "TC" if "TC" in mods else ""
            nf, fac = _RVU[(r.cpt, pctc)]
            amt = (fac if r.pos in _FACILITY else nf) * CF_2025 * gaf * r.units
            amt *= 0.5 if "51" in mods else 1.0
            amt *= 0.16 if "80" in mods else 0.136 if "AS" in mods else 1.0
        out.append(round(amt, 2))
    return pd.Series(out, index=df.index, dtype=float)


N_LINES = 20000


@pytest.fixture(scope="module")
def port() -> demo.DemoPortfolio:
    return demo.generate(N_LINES, seed=7, price_fn=toy_price)


def _cents(x: pd.Series) -> pd.Series:
    return (x * 100).round().astype("int64")


# --- shape and schema ------------------------------------------------------------------------------


def test_shape_and_schema(port: demo.DemoPortfolio) -> None:
    cl = port.claim_lines
    assert len(cl) == N_LINES
    assert list(cl.columns[: len(schema.CLAIM_LINE_COLUMNS)]) == list(schema.CLAIM_LINE_COLUMNS)
    assert "medicare_allowed" in cl.columns
    schema.validate_claim_lines(cl)
    schema.validate_adjustments(port.adjustments)
    per_claim = cl.groupby("claim_id")["line_no"].agg(["min", "max", "count"])
    assert (per_claim["min"] == 1).all()
    assert (per_claim["max"] == per_claim["count"]).all()
    assert per_claim["count"].between(1, 4).all()
    assert port.truth["claims"] == len(per_claim)
    assert set(cl["specialty"]) == set(demo.SPECIALTY_NAMES)
    insured = cl[cl["plan_type"] != "self_pay"]
    assert set(insured["payer"]) == {p.name for p in demo.PAYERS}
    assert {"fully_insured", "self_funded_erisa", "self_pay"} <= set(cl["plan_type"])
    assert cl["service_date"].min() >= pd.Timestamp("2025-05-01")
    assert cl["service_date"].max() <= pd.Timestamp(port.truth["end_date"])
    months = cl["service_date"].dt.to_period("M").nunique()
    assert months == 18
    assert not cl["air_ambulance"].any()


def test_codes_are_real_and_consistent(port: demo.DemoPortfolio) -> None:
    cl = port.claim_lines
    assert cl["cpt"].str.fullmatch(r"[0-9]{5}").all()
    anes = cl[cl["unit_type"] == "MJ"]
    assert set(anes["cpt"]) <= set(demo.DEMO_ANESTHESIA_CODES)
    assert (anes["specialty"] == "anesthesiology").all()
    assert anes["modifiers"].str.split(":").str[0].isin(["AA", "QK", "QZ"]).all()
    assert anes["units"].min() >= 8
    ed = cl[cl["specialty"] == "emergency_medicine"]
    assert (ed["pos"] == "23").all() and ed["emergency"].all()
    first = ed[ed["line_no"] == 1]
    assert first["cpt"].isin(["99281", "99282", "99283", "99284", "99285", "99291"]).all()
    rad = cl[cl["specialty"] == "radiology"]
    assert rad["cpt"].str[:2].astype(int).between(70, 76).all()
    fac = rad["pos"].isin(["21", "22", "23"])
    assert (rad.loc[fac, "modifiers"] == "26").all()
    assert set(rad.loc[~fac, "modifiers"]) == {"", "TC"}
    path = cl[cl["specialty"] == "pathology"]
    assert path["cpt"].str.startswith("88").all()
    ortho = cl[cl["specialty"] == "orthopedic_surgery"]
    assert {"27447", "29881"} <= set(ortho["cpt"])
    assert ortho["modifiers"].str.contains(r"\b(?:80|AS)\b").any()
    bh = cl[cl["specialty"] == "behavioral_health"]
    assert {"90791", "90837", "90834"} <= set(bh["cpt"])
    # emergency is consistent with POS: every POS-23 claim is an emergency
    assert cl.loc[cl["pos"] == "23", "emergency"].all()
    assert not cl.loc[cl["pos"].isin(["11", "81", "02", "10", "22", "24"]), "emergency"].any()


def test_billed_multiples_by_specialty(port: demo.DemoPortfolio) -> None:
    cl = port.claim_lines
    # charges ignore the payment reductions of 51 (multiple procedure) and QK (medical direction)
    reduced = cl["modifiers"].str.contains(r"\b(?:51|QK)\b")
    full = cl[~reduced]
    ratio = np.log(full["billed"] / full["medicare_allowed"])
    gm = np.exp(ratio.groupby(full["specialty"]).mean())
    for spec, s in demo.SPECIALTIES.items():
        # charge-master rounding (up to $5) and the per-code deviation move it a little
        assert gm[spec] == pytest.approx(s.billed_multiple, rel=0.12), spec
    assert gm["anesthesiology"] > gm["emergency_medicine"] > gm["behavioral_health"]
    qk = cl[cl["modifiers"] == "QK"]
    assert np.exp(np.log(qk["billed"] / qk["medicare_allowed"]).mean()) > 1.8 * gm["anesthesiology"]
    # charge master: one price per code/modifier/locality/units for unit-priced lines
    un = cl[cl["unit_type"] == "UN"].assign(
        base_mods=lambda d: d["modifiers"].str.replace(r"^51$|^51:|:51\b", "", regex=True)
    )
    # the charge belongs to the billed code (a downcoded line keeps its 99285 charge)
    un = un.assign(code=un["billed_cpt"].where(un["billed_cpt"].ne(""), un["cpt"]))
    per = un.groupby(["code", "base_mods", "locality", "units"])["billed"].nunique()
    assert (per == 1).all()
    assert ((un["billed"] / un["units"]) % 1 == 0).all()


# --- accounting --------------------------------------------------------------------------------------


def test_accounting_identities(port: demo.DemoPortfolio) -> None:
    cl, adj = port.claim_lines, port.adjustments
    adj = adj.assign(c=_cents(adj["amount"]))
    key = ["claim_id", "line_no"]
    co = adj[adj["group"] == "CO"].groupby(key)["c"].sum()
    pr = adj[adj["group"] == "PR"].groupby(key)["c"].sum()
    done = cl[cl["claim_status"].isin(["paid", "denied"])].set_index(key)
    billed, allowed = _cents(done["billed"]), _cents(done["allowed"])
    paid, resp = _cents(done["paid"]), _cents(done["patient_resp"])
    co = co.reindex(done.index, fill_value=0)
    pr = pr.reindex(done.index, fill_value=0)
    assert (billed - allowed == co).all()  # billed - allowed = CO adjustments
    assert (allowed == paid + resp).all()  # allowed = paid + patient responsibility
    assert (resp == pr).all()
    assert (billed - co - pr == paid).all()  # SVC02 - sum(CAS) = SVC03
    assert (resp <= allowed).all() and (paid >= 0).all()
    denied = done[done["claim_status"] == "denied"]
    assert (denied["paid"] == 0).all() and (denied["allowed"] == 0).all()
    assert denied["carc"].str.match(r"^CO-\d+$").all()
    pend = cl[cl["claim_status"] == "pending"]
    assert pend[["allowed", "paid", "patient_resp"]].isna().all().all()
    assert pend["remit_date"].isna().all()
    assert not adj["claim_id"].isin(pend["claim_id"]).any()
    paid_lines = cl[cl["claim_status"] == "paid"]
    assert (paid_lines["remit_date"] > paid_lines["submitted_date"]).all()
    assert (paid_lines["submitted_date"] > paid_lines["service_date"]).all()
    # a whole claim shares one status (claim-level denial), except the planted coding cases,
    # whose bundled or unit-denied line sits on an otherwise paid claim (demo_coding)
    planted = {c["claim_id"] for c in port.truth["coding"]["cases"]}
    mixed = cl.groupby("claim_id")["claim_status"].nunique() > 1
    assert set(mixed[mixed].index) <= planted


# --- planted behaviours ---------------------------------------------------------------------------------


def _by_behaviour(truth: dict, behaviour: str) -> str:
    return next(n for n, p in truth["payers"].items() if p["behaviour"] == behaviour)


def test_truth_contract(port: demo.DemoPortfolio) -> None:
    t = port.truth
    for key in ("seed", "lines", "claims", "start_date", "end_date", "cutoff_date",
                "locality_mix", "payers", "specialties", "denial_model", "notes"):  # fmt: skip
        assert key in t
    assert len(t["payers"]) >= 6
    behaviours = {p["behaviour"] for p in t["payers"].values()}
    assert {"fair", "high_denial", "slow", "repricer", "cut", "er_prior_auth"} <= behaviours
    for field in ("denial_odds_ratio", "payment_hazard_ratio", "appeal_odds_ratio"):
        logs = [math.log(p[field]) for p in t["payers"].values()]
        assert abs(sum(logs)) < 1e-4, field  # sum-to-zero effects
    for p in t["payers"].values():
        for field in ("paid_multiple_of_medicare", "repricer", "repricer_multiple", "cut_month",
                      "cut_factor", "er_prior_auth_denial_rate", "qpa_multiple"):  # fmt: skip
            assert field in p
    cut = t["payers"][_by_behaviour(t, "cut")]
    assert re.fullmatch(r"\d{4}-\d{2}", cut["cut_month"])
    assert set(t["denial_model"]["b_payer"]) == set(t["payers"])
    json.dumps(t, sort_keys=True)  # serialisable


def test_repricer_tight_cluster(port: demo.DemoPortfolio) -> None:
    cl, t = port.claim_lines, port.truth
    name = _by_behaviour(t, "repricer")
    truth = t["payers"][name]
    paid = cl[(cl["payer"] == name) & (cl["claim_status"] == "paid")]
    ratio = paid["allowed"] / paid["medicare_allowed"]
    assert np.exp(np.log(ratio).mean()) == pytest.approx(truth["repricer_multiple"], rel=0.01)
    assert (
        ratio.between(truth["repricer_multiple"] * 0.92, truth["repricer_multiple"] * 1.08)
    ).mean() > 0.99
    assert (paid["repricer"] == truth["repricer"]).all()
    others = cl[(cl["payer"] != name) & (cl["claim_status"] == "paid")]
    assert (others["repricer"] == "").all()
    assert np.log(others["allowed"] / others["medicare_allowed"]).std() > 5 * np.log(ratio).std()


def test_cut_visible_in_monthly_means(port: demo.DemoPortfolio) -> None:
    cl, t = port.claim_lines, port.truth
    name = _by_behaviour(t, "cut")
    truth = t["payers"][name]
    paid = cl[(cl["payer"] == name) & (cl["claim_status"] == "paid")]
    month = paid["service_date"].dt.strftime("%Y-%m")
    lr = np.log(paid["allowed"] / paid["medicare_allowed"])
    before, after = lr[month < truth["cut_month"]], lr[month >= truth["cut_month"]]
    assert np.exp(before.mean()) == pytest.approx(truth["paid_multiple_of_medicare"], rel=0.03)
    assert np.exp(after.mean() - before.mean()) == pytest.approx(truth["cut_factor"], rel=0.04)
    monthly = np.exp(lr.groupby(month).mean())
    prev = (pd.Period(truth["cut_month"], "M") - 1).strftime("%Y-%m")
    assert monthly[truth["cut_month"]] < 0.85 * monthly[prev]


def test_payment_multiples_recoverable(port: demo.DemoPortfolio) -> None:
    cl, t = port.claim_lines, port.truth
    paid = cl[(cl["claim_status"] == "paid") & (cl["plan_type"] != "self_pay")]
    for name, p in t["payers"].items():
        if p["behaviour"] == "cut":
            continue
        sub = paid[paid["payer"] == name]
        lr = np.log(sub["allowed"] / sub["medicare_allowed"])
        se = lr.std() / math.sqrt(len(lr))
        # capping at billed only trims the far upper tail: allow 4 SE plus 1%
        assert abs(lr.mean() - math.log(p["paid_multiple_of_medicare"])) < 4 * se + 0.01, name


def _payer_rates(cl: pd.DataFrame, cutoff: pd.Timestamp) -> pd.Series:
    """Exponential MLE of the remit rate per payer: events / exposure days (censored)."""
    claims = cl[(cl["line_no"] == 1) & (cl["plan_type"] != "self_pay")]
    end = claims["remit_date"].fillna(cutoff)
    exposure = (end - claims["submitted_date"]).dt.days
    event = claims["remit_date"].notna()
    g = pd.DataFrame({"payer": claims["payer"], "t": exposure, "e": event})
    agg = g.groupby("payer").agg(t=("t", "sum"), e=("e", "sum"))
    return agg["e"] / agg["t"]


def test_slow_payer_takes_longer(port: demo.DemoPortfolio) -> None:
    cl, t = port.claim_lines, port.truth
    slow = _by_behaviour(t, "slow")
    done = cl[(cl["line_no"] == 1) & cl["remit_date"].notna()]
    days = (done["remit_date"] - done["submitted_date"]).dt.days.groupby(done["payer"]).median()
    assert days[slow] == days.max()
    assert days[slow] > 1.6 * days.drop(slow).median()
    assert (done["remit_date"] - done["submitted_date"]).dt.days.min() >= 1
    rates = _payer_rates(cl, pd.Timestamp(t["cutoff_date"]))
    log_hr = np.log(rates) - np.log(rates).mean()
    truth_hr = pd.Series({n: p["payment_hazard_ratio"] for n, p in t["payers"].items()})
    # rounding days up shifts every payer alike; relative hazards stay within ~12%
    assert np.exp(log_hr[slow]) == pytest.approx(truth_hr[slow], rel=0.12)
    # pending claims exist and are censored at the cut-off
    pend = cl[cl["claim_status"] == "pending"]
    assert len(pend) > 0 and pend["remit_date"].isna().all()


def test_high_denial_and_er_prior_auth(port: demo.DemoPortfolio) -> None:
    cl, t = port.claim_lines, port.truth
    claims = cl[(cl["line_no"] == 1) & cl["claim_status"].isin(["paid", "denied"])]
    er_payer = _by_behaviour(t, "er_prior_auth")
    improper = claims["emergency"] & (claims["carc"] == "CO-197")
    # CO-197 on an emergency claim happens only at the planted payer, at its planted rate
    assert set(claims.loc[improper, "payer"]) == {er_payer}
    em = claims[(claims["payer"] == er_payer) & claims["emergency"]]
    rate = t["payers"][er_payer]["er_prior_auth_denial_rate"]
    observed = (em["carc"] == "CO-197").mean()
    se = math.sqrt(rate * (1 - rate) / len(em))
    assert abs(observed - rate) < 4 * se
    assert (em.loc[em["carc"] == "CO-197", "rarc"] == "M62").all()
    # high-denial payer: highest raw denial rate once the improper ER denials are set aside
    base = claims[~improper]
    rates = (base["claim_status"] == "denied").groupby(base["payer"]).mean()
    high = _by_behaviour(t, "high_denial")
    assert rates.idxmax() == high
    fair = _by_behaviour(t, "fair")
    odds = rates / (1 - rates)
    assert odds[high] / odds[fair] > 2.0


def test_denial_reasons_consistent(port: demo.DemoPortfolio) -> None:
    cl = port.claim_lines
    planted = {(c["claim_id"], c["line_no"]) for c in port.truth["coding"]["cases"]}
    den = cl[cl["claim_status"] == "denied"]
    den = den[[k not in planted for k in zip(den["claim_id"], den["line_no"], strict=True)]]
    allowed = {f"{o[0]}-{o[1]}" for opts in demo.DENIAL_REASONS.values() for o in opts}
    assert set(den["carc"]) <= allowed
    assert (den.loc[den["carc"] == "CO-97", "rarc"] == "M15").all()
    assert (den.loc[den["carc"] == "CO-16", "rarc"] == "N290").all()
    tf = den[den["carc"] == "CO-29"]
    assert ((tf["submitted_date"] - tf["service_date"]).dt.days >= 95).all()
    # the classic OON "not a network provider" denial never hits an NSA emergency claim
    assert not (den["emergency"] & (den["carc"] == "CO-242")).any()


def test_nsa_context(port: demo.DemoPortfolio) -> None:
    cl = port.claim_lines
    consent = cl[cl["notice_consent"]]
    assert len(consent) > 0
    assert not consent["emergency"].any()
    assert not consent["specialty"].isin(sorted(demo.ANCILLARY_SPECIALTIES)).any()
    assert not consent["modifiers"].str.contains(r"\b(?:80|AS)\b").any()
    fac = cl[
        cl["pos"].isin(["21", "22", "23"])
        & cl["specialty"].isin(["radiology", "pathology", "emergency_medicine"])
    ]
    assert fac["facility_in_network"].mean() > 0.8
    # QPA on protected adjudicated claims only, around the payer's QPA multiple
    prot = (cl["emergency"] | (cl["facility_in_network"] & ~cl["notice_consent"])) & (
        cl["plan_type"] != "self_pay"
    )
    done = cl["claim_status"].isin(["paid", "denied"])
    assert cl.loc[prot & done, "qpa"].notna().all()
    assert cl.loc[~prot, "qpa"].isna().all()
    q = cl[prot & done]
    qm = np.exp(np.log(q["qpa"] / q["medicare_allowed"]).groupby(q["payer"]).mean())
    for name, p in port.truth["payers"].items():
        assert qm[name] == pytest.approx(p["qpa_multiple"], rel=0.05)
    paid_prot = cl[prot & (cl["claim_status"] == "paid")]
    assert paid_prot["rarc"].str.contains("N877").all()
    # self-pay: GFE on every line, some bills exceed the GFE by more than $400
    sp = cl[cl["plan_type"] == "self_pay"]
    assert len(sp) > 0 and sp["gfe_amount"].notna().all() and (sp["payer"] == "Self Pay").all()
    assert (sp["claim_status"] == "pending").all()
    tot = sp.groupby("claim_id")[["billed", "gfe_amount"]].sum()
    assert ((tot["billed"] - tot["gfe_amount"]) > 400).sum() == port.truth["self_pay"][
        "claims_over_gfe_plus_400"
    ]
    assert cl.loc[cl["plan_type"] != "self_pay", "gfe_amount"].isna().all()


def test_appeals(port: demo.DemoPortfolio) -> None:
    ap, cl, t = port.appeals, port.claim_lines, port.truth
    assert list(ap.columns) == list(schema.APPEAL_COLUMNS)
    assert len(ap) > 50
    denied_ids = set(cl.loc[cl["claim_status"] == "denied", "claim_id"])
    assert set(ap["claim_id"]) <= denied_ids
    assert set(ap["appeal_level"]) <= {1, 2, 3}
    assert (ap.loc[ap["appeal_level"] == 3, "denial_reason_group"] == "medical_necessity").all()
    assert set(ap["outcome"]) <= {"overturned", "upheld", "pending"}
    assert "information" not in set(ap["denial_reason_group"])
    decided = ap[ap["outcome"] != "pending"]
    assert (decided["decided_date"] <= pd.Timestamp(t["cutoff_date"])).all()
    assert (decided["decided_date"] > decided["filed_date"]).all()
    won = ap.loc[ap["outcome"] == "overturned", "recovered"]
    # an overturned claim can still pay $0 when the deductible absorbs all of it
    assert (won >= 0).all() and (won > 0).mean() > 0.8
    assert (ap.loc[ap["outcome"] == "upheld", "recovered"] == 0).all()
    assert ap.loc[ap["outcome"] == "pending", "recovered"].isna().all()
    remit = cl.groupby("claim_id")["remit_date"].first()
    assert (ap["filed_date"].to_numpy() > remit.reindex(ap["claim_id"]).to_numpy()).all()
    # a level-2 appeal follows an upheld level-1 appeal of the same claim
    l2 = ap[ap["appeal_level"] == 2]["claim_id"]
    l1 = ap[ap["appeal_level"] == 1].set_index("claim_id")["outcome"]
    assert (l1.reindex(l2) == "upheld").all()
    # the er_prior_auth payer's improper denials are overturned more often than the average
    er = _by_behaviour(t, "er_prior_auth")
    rates = decided.assign(o=decided["outcome"] == "overturned").groupby("payer")["o"].mean()
    assert rates[er] > rates.median()


# --- determinism and files ---------------------------------------------------------------------------------


def test_deterministic_for_seed(port: demo.DemoPortfolio) -> None:
    again = demo.generate(N_LINES, seed=7, price_fn=toy_price)
    pd.testing.assert_frame_equal(port.claim_lines, again.claim_lines)
    pd.testing.assert_frame_equal(port.adjustments, again.adjustments)
    pd.testing.assert_frame_equal(port.appeals, again.appeals)
    pd.testing.assert_frame_equal(port.phi, again.phi)
    assert port.truth == again.truth
    other = demo.generate(2000, seed=8, price_fn=toy_price)
    assert not other.claim_lines["billed"].head(200).equals(port.claim_lines["billed"].head(200))


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_write_demo_same_bytes_and_export(tmp_path: Path) -> None:
    p1 = demo.generate(3000, seed=3, price_fn=toy_price)
    p2 = demo.generate(3000, seed=3, price_fn=toy_price)
    a = demo.write_demo(p1, tmp_path / "a", remits=False)
    demo.write_demo(p2, tmp_path / "b", remits=False)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert demo.load_truth(tmp_path / "a") == json.loads(json.dumps(p1.truth))
    exp_all = pd.read_csv(a["claims_export"], dtype=str, keep_default_na=False)
    assert tuple(exp_all.columns) == demo.EXPORT_COLUMNS
    planted = p1.truth["defects"]["export_rejects"]
    assert len(exp_all) == 3000 + len(planted)
    # the planted defect rows come last, one defect each (tests/test_demo_defects.py)
    tail = exp_all.iloc[3000:]
    assert tail["claim_id"].tolist() == [d["claim_id"] for d in planted]
    exp = exp_all.iloc[:3000]
    # the export keeps the billed code of a downcoded line
    rec = p1.claim_lines["recoded"].to_numpy()
    assert (exp.loc[rec, "cpt"].to_numpy() == demo.DOWNCODE_FROM).all()
    assert (exp.loc[~rec, "cpt"].to_numpy() == p1.claim_lines.loc[~rec, "cpt"].to_numpy()).all()
    # codes keep their leading zeros; flags are Y/N; billed is a formatted currency
    assert exp["cpt"].str.fullmatch(r"\d{5}").all()
    assert exp["cpt"].str.startswith("0").any()
    assert exp["pos"].str.fullmatch(r"\d{2}").all() and exp["pos"].str.startswith("0").any()
    assert exp["locality"].str.fullmatch(r"\d{5}-\d{2}").all()
    assert exp["locality"].str.startswith("0").any()
    assert exp["billed"].str.fullmatch(r"\$\d{1,3}(,\d{3})*\.\d{2}").all()
    assert (exp["billed"].str.replace(r"[$,]", "", regex=True).astype(float).to_numpy()
            == p1.claim_lines["billed"].to_numpy()).all()  # fmt: skip
    for flag in ("emergency", "facility_in_network", "air_ambulance", "notice_consent"):
        assert set(exp[flag]) <= {"Y", "N"}
    assert exp["provider_npi"].str.fullmatch(r"\d{10}").all()
    assert exp["service_date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    # fake PHI is present in the export (so PHI scanning has something to find)...
    insured = exp["plan_type"] != "self_pay"
    assert (exp.loc[insured, "member_id"].str.len() > 5).all()
    assert exp["patient_name"].str.contains(", ").all()
    # ...and never in the canonical table
    por = pd.read_parquet(a["portfolio"])
    assert not set(por.columns) & {"patient_name", "member_id", "birth_date"}
    names = set(exp["patient_name"])
    assert not any(v in names for v in por.select_dtypes("str").stack().unique())
    ap = pd.read_csv(a["appeals"], dtype=str, keep_default_na=False)
    assert list(ap.columns) == list(schema.APPEAL_COLUMNS)


def test_patient_keys_follow_the_ingest_identity_rule(port: demo.DemoPortfolio) -> None:
    from oonplaybook.ingest.identity import identity_key

    cl = port.claim_lines
    first = cl[cl["line_no"] == 1].set_index("claim_id")
    ph = port.phi.set_index("claim_id").loc[first.index]
    sample = pd.concat([ph[ph["member_id"] == ""].head(50), ph[ph["member_id"] != ""].head(150)])
    keys = [
        identity_key(demo.DEMO_SALT, m, n, d)
        for m, n, d in zip(
            sample["member_id"], sample["patient_name"], sample["birth_date"], strict=True
        )
    ]
    assert keys == first.loc[sample.index, "patient_key"].tolist()
    assert first["patient_key"].nunique() < len(first)  # patients return
    # one patient, one payer; distinct member ids
    assert (first.groupby("patient_key")["payer"].nunique() == 1).all()
    members = port.phi.drop_duplicates("member_id")
    assert members.loc[members["member_id"] != "", "member_id"].is_unique


def test_npis_are_luhn_valid() -> None:
    for spec in demo.SPECIALTIES:
        for npi in demo.demo_npis(spec):
            digits = [int(c) for c in "80840" + npi]
            total = sum(
                d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2)
                for i, d in enumerate(reversed(digits))
            )
            assert total % 10 == 0, npi


def test_bad_inputs_and_missing_truth(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="lines must be"):
        demo.generate(0, price_fn=toy_price)

    def no_anesthesia(df: pd.DataFrame) -> pd.Series:
        s = toy_price(df)
        return s.where(df["unit_type"] != "MJ")

    with pytest.raises(ValueError, match="no price for"):
        demo.generate(2000, seed=1, price_fn=no_anesthesia)
    with pytest.raises(FileNotFoundError, match="oonplaybook demo-data"):
        demo.load_truth(tmp_path)
