"""IDR disputes and batches with expected value net of the fees the provider bears.

Per dispute (line item): EV = p_win x (offer - amount already paid) - administrative fee share -
P(provider bears the IDRE fee) x IDRE fee share; one entity decides a batch, so the provider
bears the batch's IDRE fee when it loses the batch (``idr.expected_value_frame``,
``batch_fee_rule="entity"``). p_win and the award come from CMS's supplemental tables by
specialty, QPA band and quarter (``idr.IdrPriors``); each batch also gets its present value and
90% interval (``ev_net_pv``, ``ev_low``, ``ev_high``) from ``idr.simulate_recovery``. Who pays what (45 CFR 149.510(d)(1)-(2); 42 U.S.C.
300gg-111(c)(5)(F); docs/domain.md §1.10): each party pays the non-refundable administrative fee per
dispute; each pays the certified IDRE's fee up front and the prevailing party's fee is refunded,
so the provider bears the IDRE fee only when it loses. A batch is one dispute: one administrative
fee and one (batched) IDRE fee for all its line items, which is why batching raises net EV.

Fees and the batch EV (majority rule for the IDRE fee of a batch) come from :mod:`oonplaybook.idr`;
batching (same TIN, payer, CMS code group, 30-business-day window, line cap; docs/domain.md §1.8) from
:func:`oonplaybook.nsa.batch_disputes`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from oonplaybook import idr, nsa
from oonplaybook.config import PlaybookSettings
from oonplaybook.playbook._adapters import idr_prior, isin, join_assessment, line_frame
from oonplaybook.playbook.targets import line_targets

# --- fees (oonplaybook.idr owns the fee schedule, docs/domain.md §1.10) -----------------------------


def dispute_fees(initiation_date: date, *, batched: bool, n_lines: int) -> tuple[float, float]:
    """(administrative fee, IDRE fee) one party pays for one dispute initiated on that date.

    The IDRE fee is the top of the published range (``idr.fees(..., fee_point="high")``), the
    conservative figure for the provider's expected value.
    """
    f = idr.fees(
        pd.Timestamp(initiation_date).date(),
        batched and n_lines > 1,
        n_lines if batched and n_lines > 1 else 1,
    )
    return float(f.admin_fee), float(f.idre_fee)


def dispute_ev(p_win: float, offer: float, paid: float, admin_fee: float, idre_fee: float) -> float:
    """Expected value of one IDR dispute to the provider: p x (offer - paid) - admin - (1 - p) x IDRE fee."""
    return p_win * (offer - paid) - admin_fee - (1.0 - p_win) * idre_fee


# --- batching ------------------------------------------------------------------------------------


DISPUTE_COLUMNS = [
    "claim_id",
    "line_no",
    "payer",
    "payer_id",
    "idr_eligible",
    "provider_tin",
    "provider_npi",
    "specialty",
    "cpt",
    "idr_code_group",
    "service_date",
    "initiation_date",
    "qpa",
    "billed",
    "paid",
    "offer",
    "win_probability",
    "award_x_qpa",
    "admin_fee",
    "idre_fee",
    "ev_single",
]


def idr_offer(
    lines: pd.DataFrame, targets: pd.DataFrame, *, priors: Any = None
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(offer, win probability, award multiple of QPA) per line for an IDR dispute.

    Offer = QPA x the CMS prior's award multiple for the line's specialty and QPA band (latest
    published quarter up to the service quarter, ``idr.IdrPriors.cell``) when the QPA is known,
    else the line's negotiation target; capped at billed. ``priors`` may be a dict of fixed
    per-specialty priors (tests, what-ifs).
    """
    spec = lines["specialty"].astype("str").replace("", "generic")
    sd = pd.to_datetime(lines["service_date"])
    if isinstance(priors, dict):
        year = int(sd.dt.year.max()) if sd.notna().any() else None
        pri = {s: idr_prior(s, year, priors) for s in pd.unique(spec)}
        p = spec.map({s: v.p_win for s, v in pri.items()}).astype("float64")
        award = spec.map({s: v.award_x_qpa for s, v in pri.items()}).astype("float64")
    else:
        p, award, _ = prior_columns(lines, priors)
    if "line_target" in lines.columns:
        fallback = lines["line_target"]
    else:
        fallback = line_targets(lines, targets)["line_target"]
    offer = (lines["qpa"] * award).where(lines["qpa"] > 0, fallback).clip(upper=lines["billed"])
    return offer, p, award


def prior_columns(
    lines: pd.DataFrame, priors: Any = None
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(win probability, award multiple, Beta concentration) per line from the CMS priors.

    One lookup per distinct (specialty, QPA band, service quarter); lines without a QPA use the
    specialty's all-band value.
    """
    from oonplaybook.reference.idr_priors import qpa_band

    pri = priors if isinstance(priors, idr.IdrPriors) else idr.IdrPriors.default()
    spec = lines["specialty"].astype("str").replace("", "generic")
    sd = pd.to_datetime(lines["service_date"])
    quarter = (
        sd.dt.year.astype("Int64").astype("str") + "Q" + sd.dt.quarter.astype("Int64").astype("str")
    ).where(sd.notna(), "")
    qpa = pd.to_numeric(lines["qpa"], errors="coerce")
    # bands and prior cells worked out per distinct value, then taken by position (a per-line
    # Python lookup took ~3 s per call at 1M lines)
    bands = {v: qpa_band(float(v)) for v in qpa.dropna().unique() if v >= 0}
    band = qpa.map(bands).fillna("all").astype("str")
    key = pd.DataFrame({"s": spec.to_numpy(), "b": band.to_numpy(), "q": quarter.to_numpy()})
    uniq = key.drop_duplicates().reset_index(drop=True)
    cells = [
        pri.cell(s_, None if b_ == "all" else _band_mid(b_), q_ or None)
        for s_, b_, q_ in uniq.itertuples(index=False)
    ]
    pos = pd.MultiIndex.from_frame(uniq).get_indexer(pd.MultiIndex.from_frame(key))
    idx = lines.index

    def col(values: list[float]) -> pd.Series:
        return pd.Series(np.asarray(values, dtype="float64")[pos], index=idx, dtype="float64")

    return (
        col([c.win_probability for c in cells]),
        col([c.award_multiple_of_qpa for c in cells]),
        col([c.win_concentration for c in cells]),
    )


def _band_mid(band: str) -> float:
    """A QPA inside a Table 13 band (its lower bound), to look the band up again."""
    from oonplaybook.reference.idr_priors import QPA_BANDS

    return next(lo for name, lo, _ in QPA_BANDS if name == band)


def idr_disputes(
    claim_lines: pd.DataFrame,
    benchmarks: pd.DataFrame | None,
    nsa_assessment: pd.DataFrame | None,
    worklist: pd.DataFrame,
    targets: pd.DataFrame,
    *,
    as_of: date,
    priors: Any = None,
) -> pd.DataFrame:
    """One row per IDR line item of the worklist's IDR candidates, with offer, p_win and single-dispute EV.

    Offer = QPA x the specialty's observed award multiple (docs/domain.md §2.3) when a QPA is known, else
    the line's negotiation target; capped at billed. ``amount already paid`` = the line's paid.
    """
    cand = worklist.loc[worklist["idr_candidate"].astype("bool"), ["claim_id"]].drop_duplicates()
    # filter to the candidates' claims before the benchmark join (a few % of 1M lines)
    lines = line_frame(claim_lines[isin(claim_lines["claim_id"], cand["claim_id"])], benchmarks)
    lines = join_assessment(lines, nsa_assessment).reset_index(drop=True)
    lines = lines[
        lines["nsa_applies"] & lines["claim_status"].astype("str").isin(["paid", "denied"])
    ].reset_index(drop=True)
    if lines.empty:
        return pd.DataFrame(
            columns=[
                "claim_id",
                "line_no",
                "payer",
                "provider_tin",
                "cpt",
                "idr_code_group",
                "service_date",
                "qpa",
                "paid",
                "offer",
                "p_win",
                "award_x_qpa",
                "admin_fee",
                "idre_fee",
                "ev_single",
            ]
        )
    spec = lines["specialty"].astype("str").replace("", "generic")
    offer, p, award = idr_offer(lines, targets, priors=priors)
    paid = lines["paid"].fillna(0.0) + lines["patient_resp"].fillna(0.0)
    # the playbook sends the open negotiation notice on ``as_of``; IDR is initiated on the last day
    # of the 4-business-day window that follows its 30-business-day period (45 CFR 149.510(b)(2)(i)).
    # Where a notice is already on record (``open_negotiation_notice_date``) the assessment's date stands.
    planned = pd.Timestamp(nsa.deadlines(as_of, notice_date=as_of).idr_initiate_by)
    init = pd.Series(planned, index=lines.index)
    if "open_negotiation_notice_date" in lines.columns and "idr_initiate_by" in lines.columns:
        sent = pd.to_datetime(lines["open_negotiation_notice_date"]).notna()
        init = init.where(~sent, pd.to_datetime(lines["idr_initiate_by"]))
    out = pd.DataFrame(
        {
            "claim_id": lines["claim_id"],
            "line_no": lines["line_no"],
            "payer": lines["payer"],
            "payer_id": lines["payer_id"],
            "idr_eligible": True,
            "provider_tin": lines["provider_tin"],
            "provider_npi": lines["provider_npi"],
            "specialty": spec,
            "cpt": lines["cpt"],
            "idr_code_group": nsa.idr_code_groups(lines["cpt"]),
            "service_date": lines["service_date"],
            "initiation_date": init.astype("datetime64[us]"),
            "qpa": lines["qpa"],
            "billed": lines["billed"],
            "paid": paid,
            "offer": offer.round(2),
            "win_probability": p,
            "award_x_qpa": award,
        }
    )
    if not isinstance(priors, dict):
        out["win_concentration"] = prior_columns(lines, priors)[2].to_numpy()
    single = idr.expected_value_frame(out, batch_col="_single_")  # no batch column: each line alone
    out["admin_fee"] = single["admin_fee_share"]
    out["idre_fee"] = single["idre_fee_share"]
    out["ev_single"] = single["expected_value"].round(2)
    return out.sort_values(["claim_id", "line_no"], kind="stable").reset_index(drop=True)


def build_idr_batches(
    disputes: pd.DataFrame,
    *,
    as_of: date,
    settings: PlaybookSettings,
) -> pd.DataFrame:
    """Group IDR line items into batches and price each: EV per batch net of one admin + one batched IDRE fee.

    ``disputes`` is :func:`idr_disputes` output; the batch id is also written back onto it
    (column ``batch_id``) so each dispute line can be traced. Sorted by net EV, highest first.
    """
    cols = [
        "batch_id",
        "payer",
        "provider_tin",
        "idr_code_group",
        "n_lines",
        "n_claims",
        "first_service",
        "last_service",
        "initiate_by",
        "offer_total",
        "paid_total",
        "qpa_total",
        "p_win",
        "ev_gross",
        "admin_fee",
        "idre_fee",
        "expected_fees",
        "ev_net",
        "ev_net_if_single",
        "batching_gain",
        "ev_net_pv",
        "ev_low",
        "ev_high",
        "expected_idre_fee_cost",
        "worth_filing",
        "disputes",
    ]
    if disputes.empty:
        return pd.DataFrame(columns=cols)
    d = disputes.copy()
    d = nsa.batch_disputes(
        d,
        max_lines=settings.idr_batch_max_lines,
        window_business_days=settings.idr_batch_window_days,
        rule_date=as_of,  # batches filed now: the rule version in force on as_of (rules.py)
        rule_overrides=settings.rule_applicability,
    )
    disputes["batch_id"] = d["batch_id"]
    disputes["idr_code_group"] = d["idr_code_group"]
    ev = idr.expected_value_frame(d, batch_col="batch_id")
    d["expected_value"] = ev["expected_value"]
    d["expected_fees"] = ev["expected_fees"]
    d["gross"] = ev["expected_recovery"]
    d["admin_fee_b"] = ev["admin_fee_share"] * ev["batch_lines"]
    d["idre_fee_b"] = ev["idre_fee_share"] * ev["batch_lines"]
    d["p_bears"] = ev["p_provider_bears_idre_fee"]
    disputes["ev_in_batch"] = d["expected_value"].round(2)
    g = d.groupby("batch_id", sort=True)
    b = g.agg(
        payer=("payer", "first"),
        provider_tin=("provider_tin", "first"),
        idr_code_group=("idr_code_group", "first"),
        n_lines=("line_no", "size"),
        n_claims=("claim_id", "nunique"),
        first_service=("service_date", "min"),
        last_service=("service_date", "max"),
        initiate_by=("initiation_date", "min"),
        offer_total=("offer", "sum"),
        paid_total=("paid", "sum"),
        qpa_total=("qpa", "sum"),
        p_win=("win_probability", "mean"),
        ev_gross=("gross", "sum"),
        admin_fee=("admin_fee_b", "first"),
        idre_fee=("idre_fee_b", "first"),
        p_provider_bears_idre_fee=("p_bears", "first"),
        expected_fees=("expected_fees", "sum"),
        ev_net=("expected_value", "sum"),
        ev_net_if_single=("ev_single", "sum"),
    ).reset_index()
    b["batching_gain"] = b["ev_net"] - b["ev_net_if_single"]
    # the batch's outcome simulated as one entity's decision, with the priors' uncertainty and
    # time to payment (idr.simulate_recovery): present value and its 90% interval
    sim = idr.simulate_recovery(d, batch_col="batch_id", n_sims=2000).batches.set_index("batch")
    b["ev_net_pv"] = b["batch_id"].astype("str").map(sim["expected_value"])
    b["ev_low"] = b["batch_id"].astype("str").map(sim["ev_low"])
    b["ev_high"] = b["batch_id"].astype("str").map(sim["ev_high"])
    b["expected_idre_fee_cost"] = b["batch_id"].astype("str").map(sim["expected_fee_cost"])
    b["worth_filing"] = b["ev_net"] > settings.min_dispute_amount
    b["disputes"] = g.apply(
        lambda x: ":".join(f"{c}/{n}" for c, n in zip(x["claim_id"], x["line_no"], strict=True)),
        include_groups=False,
    ).to_numpy()
    for c in (
        "offer_total",
        "paid_total",
        "qpa_total",
        "ev_gross",
        "admin_fee",
        "idre_fee",
        "expected_fees",
        "ev_net",
        "ev_net_if_single",
        "batching_gain",
        "ev_net_pv",
        "ev_low",
        "ev_high",
        "expected_idre_fee_cost",
    ):
        b[c] = b[c].astype("float64").round(2)
    return b.sort_values(
        ["ev_net", "batch_id"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)[cols]
