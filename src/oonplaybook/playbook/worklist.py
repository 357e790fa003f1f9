"""The worklist: every underpaid or denied claim, its route, deadline, expected recovery and priority.

One row per (claim, route): a claim whose lines need different routes (one line denied for
bundling, another underpaid) gets one row per route, so nothing is merged away. Claims whose
every route has passed its deadline stay on the list with ``status = "lost"`` and their dollars in
``lost_revenue``; they are never dropped.

Routing, per line:

1. NSA-protected lines (emergency; OON provider at an in-network facility; air ambulance) that
   were underpaid, or denied for a reason the NSA forbids (no prior authorisation, not in network:
   docs/domain.md §1.1, §4.2), go to **open negotiation** (notice due 30 business days after the initial
   payment or denial, 45 CFR 149.510(b)(1)(ii)(B)) and then **IDR**; once an open-negotiation
   notice is on record (``open_negotiation_notice_date`` in the assessment) the route is IDR itself.
   Where a specified state law governs (``state_law_governs`` in the assessment, e.g. New York
   for fully insured plans) the route is ``state_idr``: the state's process replaces the federal
   one (docs/domain.md §1.1, §1.11); its clocks are not encoded, so the plan/contract dispute window
   (``contract_appeal_days`` from the remit) bounds it.
2. Everything else follows the appeal ladder of its denial-reason group (``appeals.LADDERS``);
   history in ``appeals`` moves a claim up the ladder (level-1 upheld -> level 2 -> external
   review) or marks it in progress / resolved.
3. The first rung whose deadline has not passed on ``as_of`` is the route; when none is open,
   the first rung is shown as lost.

One route per row, and everything on the row agrees with it (:func:`coherence_problems` checks):
``next_step`` is the rung that follows the route on its ladder (:data:`ROUTE_NEXT`; empty once
nothing follows, and on rows that are not open), ``letter_type`` is the letter the route needs
(:data:`ROUTE_LETTER_TYPE`), ``action`` says in words what to do and by when. A patient is never
billed on a claim the protections table marks "balance-bill not allowed" (that rung is taken off
the ladder), a self-pay bill is never more than the good-faith estimate + $399.99 (45 CFR
149.620), and a patient bill carries the practice's own billing deadline
(``playbook.patient_billing_days`` after the remit, or the date of service for self-pay).
Rows not worth working are ``status = "write_off"`` (with ``route_if_worked``), not open items.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from oonplaybook.coding import per_distinct
from oonplaybook.config import PlaybookSettings
from oonplaybook.partitions import claim_chunks
from oonplaybook.playbook import appeals as ap
from oonplaybook.playbook._adapters import isin, join_assessment, line_frame
from oonplaybook.playbook.idr_batches import idr_offer
from oonplaybook.playbook.protections import patient_bill_limits
from oonplaybook.playbook.targets import line_targets

#: Denial groups the NSA route handles for protected claims: payment-amount disputes and denials
#: that are improper under the NSA (prior auth / network for emergency and ancillary services,
#: docs/domain.md §1.1 and §4.2). Coverage and medical-necessity denials stay on the appeal ladder: IDR
#: decides payment amounts, not coverage (docs/domain.md §4.2 row 96/204).
NSA_ROUTE_GROUPS = frozenset(
    {"underpayment", "authorization", "network", "none", "other", "patient_cost_share"}
)

#: NSA-route denial groups that are also appealable (the denial itself is improper).
NSA_DENIAL_GROUPS = frozenset({"authorization", "network"})

#: Appeal success prior: 54.3% of denials eventually overturned (Premier 2022 claims, 516
#: hospitals; docs/domain.md §6). Shrunk toward each payer's own appeal history.
APPEAL_SUCCESS_PRIOR = 0.543
#: Weight of the prior, in pseudo-appeals (a payer with 20 decided appeals weighs its own rate and
#: the prior equally). A modelling choice, not a published figure.
APPEAL_PRIOR_WEIGHT = 20.0
#: Corrected-claim recovery: 63% of denied claims are recoverable (Change Healthcare Denials
#: Index, 2016 hospital claims; docs/domain.md §6).
CORRECTED_CLAIM_SUCCESS = 0.63
#: Urgency half-life: a route with this many calendar days left has urgency 0.5
#: (urgency = H / (H + days_left)); no-clock routes get ``NO_CLOCK_URGENCY``. Modelling choices.
URGENCY_HALF_DAYS = 30.0
NO_CLOCK_URGENCY = 0.25

#: The letter each route needs (empty: none; a corrected claim is an 837, not a letter). Letter
#: types are not route names except where the route *is* the letter (payer negotiation), so a
#: row never names two routes. ``state_dispute_notice``: the notice to the payer that payment is
#: governed by the state's surprise-billing law and will go to its dispute process.
ROUTE_LETTER_TYPE: dict[str, str] = {
    **ap.ROUTE_LETTER,
    "state_idr": "state_dispute_notice",
}

#: The rung that may follow each route (its next step when it fails or lapses); "" = nothing
#: follows. IDR and the state processes end in a binding determination (45 CFR
#: 149.510(c)(4)(vii)), so nothing follows them; an improper denial still reaches the appeal
#: ladder when their window has closed, as the row's route.
ROUTE_NEXT: dict[str, frozenset[str]] = {
    "corrected_claim": frozenset({"appeal_l1", "patient_bill", ""}),
    "appeal_l1": frozenset({"appeal_l2", ""}),
    "appeal_l2": frozenset({"external_review", ""}),
    "external_review": frozenset({""}),
    "payer_negotiation": frozenset({"appeal_l1", ""}),
    "open_negotiation": frozenset({"idr"}),
    "idr": frozenset({""}),
    "state_idr": frozenset({""}),
    "patient_bill": frozenset({""}),
    "write_off": frozenset({""}),
}

#: Worklist statuses: ``open`` rows are the work; the others are listed, never dropped.
STATUSES: tuple[str, ...] = ("open", "in_progress", "write_off", "resolved", "lost")

#: Route names as a biller reads them.
ROUTE_LABELS: dict[str, str] = {
    "corrected_claim": "corrected claim",
    "appeal_l1": "level-1 appeal",
    "appeal_l2": "level-2 appeal",
    "external_review": "external review",
    "payer_negotiation": "negotiation with the payer",
    "open_negotiation": "open negotiation",
    "idr": "federal IDR",
    "state_idr": "state dispute process",
    "patient_bill": "patient bill",
    "write_off": "write-off",
}

#: What to do on an open row of each route.
_ROUTE_ACTION: dict[str, str] = {
    "corrected_claim": "Submit a corrected claim (frequency code 7, original claim number)",
    "appeal_l1": "File a level-1 appeal",
    "appeal_l2": "File a level-2 appeal",
    "external_review": "Request external review",
    "payer_negotiation": "Send the negotiation letter to the payer",
    "open_negotiation": "Send the open-negotiation notice",
    "idr": "Initiate federal IDR",
    "state_idr": "Send the state-law dispute notice, then file the state's dispute process",
    "patient_bill": "Bill the patient",
    "write_off": "Approve the write-off",
}


#: Lines per chunk of :func:`build_worklist`'s per-claim work: its temporaries are ~2 KB per
#: line of the chunk (measured at 1M lines), so 250k lines bound them to ~0.5 GB at any size.
WORKLIST_CHUNK_LINES = 250_000

WORKLIST_COLUMNS = [
    "rank",
    "claim_id",
    "route",
    "status",
    "payer",
    "specialty",
    "plan_type",
    "patient_key",
    "service_date",
    "remit_date",
    "lines",
    "cpts",
    "code_family",
    "denial_group",
    "carc",
    "coding_verdict",
    "coding_evidence",
    "nsa_applies",
    "state_law",
    "idr_eligible",
    "idr_candidate",
    "batch_id",
    "billed",
    "allowed",
    "paid",
    "target",
    "underpaid",
    "denied_amount",
    "at_stake",
    "probability",
    "expected_recovery",
    "expected_recovery_low",
    "expected_recovery_high",
    "lost_revenue",
    "prompt_pay_interest",
    "deadline",
    "days_left",
    "urgency",
    "priority",
    "next_step",
    "route_if_worked",
    "letter_type",
    "action",
    "documents_needed",
    "letter",
]


#: Ladders of coding denials by the coding check's route (:mod:`oonplaybook.coding`): a correct
#: edit with a missing modifier is fixed by a corrected claim (then appealed if the payer still
#: denies); a correct edit without a bypass is written off with its reason; a wrong or non-NCCI
#: edit and a clinical MUE are appealed (coding disputes are no medical-judgment determination,
#: so no external review: 29 CFR 2590.715-2719(d)(1)).
CODING_LADDERS: dict[str, tuple[str, ...]] = {
    "corrected_claim": ("corrected_claim", "appeal_l1"),
    "write_off": ("write_off",),
    "appeal": ("appeal_l1", "appeal_l2"),
    "appeal_with_records": ("appeal_l1", "appeal_l2"),
}


def attach_coding(lines: pd.DataFrame, coding: pd.DataFrame | None) -> pd.DataFrame:
    """The coding verdict, route and evidence of each line ("" where the check said nothing)."""
    cols = ["coding_verdict", "coding_route", "coding_evidence"]
    if coding is None or coding.empty:
        return lines.assign(**dict.fromkeys(cols, ""))
    c = coding[["claim_id", "line_no", *cols]].copy()
    c["claim_id"] = c["claim_id"].astype("str")
    c["line_no"] = c["line_no"].astype("int64")
    c = c[c["coding_verdict"].astype("str") != "ok"].drop_duplicates(["claim_id", "line_no"])
    out = lines.drop(columns=[x for x in cols if x in lines.columns]).merge(
        c, on=["claim_id", "line_no"], how="left"
    )
    out.index = lines.index
    for x in cols:
        out[x] = out[x].fillna("").astype("str")
    return out


def _profile_checklists(profiles: Mapping[str, Any] | Sequence[Any] | None) -> dict[str, list[str]]:
    """Specialty -> documentation checklist, from ``specialties.load_profiles`` output."""
    if profiles is None:
        return {}
    items = (
        profiles.items()
        if isinstance(profiles, Mapping)
        else [(getattr(p, "name", getattr(p, "key", "")), p) for p in profiles]
    )
    out: dict[str, list[str]] = {}
    for key, p in items:
        checklist = None
        for attr in ("documentation_checklist", "documentation", "checklist", "documents"):
            checklist = p.get(attr) if isinstance(p, Mapping) else getattr(p, attr, None)
            if checklist:
                break
        if checklist:
            out[str(key)] = [str(getattr(c, "item", c)) for c in checklist]
    return out


def _appeal_state(appeals: pd.DataFrame | None, claim_ids: pd.Series) -> pd.DataFrame:
    """Latest appeal level, outcome and decision date per claim (empty frame when no history)."""
    cols = ["claim_id", "last_level", "last_outcome", "last_decided"]
    if appeals is None or appeals.empty:
        return pd.DataFrame(columns=cols).astype({"claim_id": "str"})
    a = appeals[isin(appeals["claim_id"], claim_ids)].copy()
    if a.empty:
        return pd.DataFrame(columns=cols).astype({"claim_id": "str"})
    a = a.sort_values(["claim_id", "appeal_level", "filed_date"], kind="stable")
    last = a.groupby("claim_id", sort=True).tail(1)
    return pd.DataFrame(
        {
            "claim_id": last["claim_id"].astype("str").to_numpy(),
            "last_level": last["appeal_level"].astype("int64").to_numpy(),
            "last_outcome": last["outcome"].astype("str").str.lower().to_numpy(),
            "last_decided": pd.to_datetime(last["decided_date"]).to_numpy(),
        }
    )


def appeal_success_rates(
    appeals: pd.DataFrame | None,
    scorecard: pd.DataFrame | None = None,
    *,
    prior: float = APPEAL_SUCCESS_PRIOR,
    weight: float = APPEAL_PRIOR_WEIGHT,
) -> pd.DataFrame:
    """Overturn probability per (payer, denial group): beta-binomial shrinkage of decided appeals.

    p = (overturned + partial/2 + weight x prior_payer) / (decided + weight), where prior_payer is
    the payer's scorecard appeal-overturn rate when given, else ``prior``.
    """
    cols = ["payer", "denial_group", "n_decided", "p_success"]
    if appeals is None or appeals.empty:
        return pd.DataFrame(columns=cols)
    a = appeals[
        appeals["outcome"].astype("str").str.lower().isin(["overturned", "upheld", "partial"])
    ]
    if a.empty:
        return pd.DataFrame(columns=cols)
    won = a["outcome"].str.lower().map({"overturned": 1.0, "partial": 0.5, "upheld": 0.0})
    g = (
        a.assign(won=won, denial_group=_normalise_group(a["denial_reason_group"]))
        .groupby(["payer", "denial_group"], sort=True)
        .agg(n_decided=("won", "size"), won=("won", "sum"))
        .reset_index()
    )
    payer_prior = _scorecard_rate(scorecard)
    pr = g["payer"].map(payer_prior).fillna(prior)
    g["p_success"] = (g["won"] + weight * pr) / (g["n_decided"] + weight)
    return g[cols]


def _scorecard_rate(scorecard: pd.DataFrame | None) -> dict[str, float]:
    if scorecard is None or scorecard.empty or "payer" not in scorecard.columns:
        return {}
    for col in ("appeal_overturn_rate", "appeal_overturn", "overturn_rate"):
        if col in scorecard.columns:
            v = pd.to_numeric(scorecard[col], errors="coerce")
            return {
                p: float(x)
                for p, x in zip(scorecard["payer"].astype("str"), v, strict=True)
                if x == x
            }
    return {}


def _normalise_group(g: pd.Series) -> pd.Series:
    """Map other areas' denial-group spellings onto the ladder's keys."""
    aliases = {
        "prior_auth": "authorization",
        "prior_authorization": "authorization",
        "auth": "authorization",
        "coding": "coding_bundling",
        "bundling": "coding_bundling",
        "eligibility": "eligibility_cob",
        "cob": "eligibility_cob",
        "coordination_of_benefits": "eligibility_cob",
        "out_of_network": "network",
        "medical_necessity": "medical_necessity",
        "not_covered": "non_covered",
        "noncovered": "non_covered",
        "co45": "underpayment",
        "missing_information": "missing_info",
    }
    s = g.astype("str").str.lower().str.replace(r"[\s/-]+", "_", regex=True)
    return s.map(lambda x: aliases.get(x, x)).astype("str")


#: Routes that an upheld appeal at each level has used up (29 CFR 2560.503-1(c)(2): at most two
#: internal levels; level 3 = external review, the last rung).
_DONE_THROUGH: dict[int, tuple[str, ...]] = {
    1: (
        "corrected_claim",
        "payer_negotiation",
        "appeal_l1",
        "open_negotiation",
        "idr",
        "state_idr",
    ),
    2: (
        "corrected_claim",
        "payer_negotiation",
        "appeal_l1",
        "appeal_l2",
        "open_negotiation",
        "idr",
        "state_idr",
    ),
    3: ap.ROUTES,
}


def _ladder(key: str) -> tuple[str, ...]:
    """The rungs for one ladder key ``base#upheld_level#notice#external_review#patient_bill``
    (see :func:`route_claims`)."""
    base, upheld, notice, ext, bill = key.split("#")
    if base == "self_pay":
        rungs: tuple[str, ...] = ("patient_bill",)
    elif base.startswith("coding|"):
        rungs = CODING_LADDERS[base.split("|", 1)[1]]
    elif base.startswith(("nsa|", "state|")):
        # improper denials (no prior auth, not in network) may also be appealed; a payment-amount
        # dispute under the NSA has only open negotiation then IDR (docs/domain.md §4.2, CO-45). Where a
        # specified state law governs, its own process replaces the federal one (docs/domain.md §1.1, §1.11).
        kind, g = base.split("|", 1)
        fallback = ap.LADDERS["authorization"] if g in NSA_DENIAL_GROUPS else ()
        first = "open_negotiation" if kind == "nsa" else "state_idr"
        if notice == "n" and first == "open_negotiation":
            first = "idr"  # the open negotiation notice is on record: IDR is next
        rungs = (first, *fallback)
    else:
        g, c = base.split("|", 1)
        rungs = tuple(ap.appeal_ladder({"denial_group": g, "carc": f"CO-{c}"}))
    if ext != "x":
        rungs = tuple(r for r in rungs if r != "external_review")
    level = int(upheld or 0)
    if level:
        rungs = tuple(r for r in rungs if r not in _DONE_THROUGH[min(level, 3)])
    if bill != "b" and "patient_bill" in rungs:
        # the protections table says the patient may not be balance-billed (NSA, public plans)
        rungs = tuple(r for r in rungs if r != "patient_bill") or ("write_off",)
    return rungs


def route_claims(
    lines: pd.DataFrame,
    *,
    as_of: date,
    settings: PlaybookSettings,
    appeals: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Route each problem line: route, status, deadline and next step (index aligned with ``lines``).

    ``lines`` needs the claim-line columns plus ``nsa_applies`` and, for NSA lines, the assessment's
    ``open_negotiation_initiate_by`` / ``idr_initiate_by`` (and optional ``open_negotiation_notice_date``).
    An optional ``patient_bill_allowed`` (from :func:`protections.patient_bill_limits`) takes the
    patient-bill rung off the ladder where it is False. ``next_step`` is empty on rows that are
    not open and where nothing follows the route (:data:`ROUTE_NEXT`).
    """
    as_of_ts = pd.Timestamp(as_of)
    group = lines["denial_group"].astype("str")
    # the reason code of each CARC ("CO-45" -> "45"), split once per distinct CARC string
    code = per_distinct(
        lines["carc"].astype("str"), lambda u: u.str.split("-", n=1).str[-1].str.upper()
    )
    state = _appeal_state(appeals, lines["claim_id"])
    st = lines[["claim_id"]].merge(state, on="claim_id", how="left")
    st.index = lines.index
    self_pay = lines["plan_type"].astype("str").eq("self_pay")
    nsa = lines["nsa_applies"].astype("bool") & group.isin(NSA_ROUTE_GROUPS) & ~self_pay
    state_law = (
        lines["state_law_governs"].fillna(False).astype("bool")
        if "state_law_governs" in lines.columns
        else pd.Series(False, index=lines.index)
    )
    prefix = np.where(state_law, "state|", "nsa|")

    # ladder key per line (base ladder | appeal-history level upheld | notice on record); the
    # ladders themselves are built once per distinct key, then looked up by integer id
    lvl = st["last_level"].fillna(0).astype("int64")
    outcome = st["last_outcome"].fillna("").astype("str")
    upheld_lvl = np.where(outcome.eq("upheld"), lvl.clip(0, 3), 0)
    notice = (
        pd.to_datetime(lines["open_negotiation_notice_date"])
        if "open_negotiation_notice_date" in lines.columns
        else pd.Series(pd.NaT, index=lines.index)
    )
    sent = (nsa & notice.notna()).to_numpy()
    base = np.where(self_pay, "self_pay", np.where(nsa, prefix + group, group + "|" + code))
    if "coding_route" in lines.columns:  # coding denials: the NCCI/PFS verdict picks the ladder
        cr = lines["coding_route"].fillna("").astype("str")
        use = (
            ~nsa & ~self_pay & cr.ne("") & lines["claim_status"].astype("str").eq("denied")
        ).to_numpy()
        base = np.where(use, "coding|" + cr.to_numpy(dtype=object), base)
    from oonplaybook.nsa import ERISA_ACA_PLAN_TYPES

    # federal external review exists for ERISA/ACA group and individual plans only
    # (29 CFR 2590.715-2719; 45 CFR 147.136)
    ext_ok = lines["plan_type"].astype("str").isin(list(ERISA_ACA_PLAN_TYPES)).to_numpy()
    bill_ok = (
        lines["patient_bill_allowed"].fillna(True).astype("bool").to_numpy()
        if "patient_bill_allowed" in lines.columns
        else np.ones(len(lines), dtype=bool)
    )
    full = (
        pd.Series(base, index=lines.index, dtype="str")
        + "#"
        + pd.Series(upheld_lvl, index=lines.index).astype("str")
        + np.where(sent, "#n", "#")
        + np.where(ext_ok, "#x", "#")
        + np.where(bill_ok, "#b", "#")
    )
    ids, uniq = pd.factorize(full, sort=True)
    tables = [_ladder(k) for k in uniq]
    max_len = max((len(t) for t in tables), default=0)
    # rung k of every ladder as an array indexed by ladder id ("" past its end)
    rung_k = [
        np.array([t[k] if len(t) > k else "" for t in tables] + [""], dtype=object)
        for k in range(max_len)
    ]
    n_rungs = np.array([len(t) for t in tables] + [0])[ids]

    on_by = (
        pd.to_datetime(lines["open_negotiation_initiate_by"])
        if "open_negotiation_initiate_by" in lines.columns
        else pd.Series(pd.NaT, index=lines.index)
    )
    idr_by = (
        pd.to_datetime(lines["idr_initiate_by"])
        if "idr_initiate_by" in lines.columns
        else pd.Series(pd.NaT, index=lines.index)
    )
    decided = st["last_decided"]
    # the practice's own deadline for billing the patient: from the plan's remit, when the
    # patient's share is known, else (self-pay) from the date of service
    billable = pd.to_datetime(lines["remit_date"]).fillna(pd.to_datetime(lines["service_date"]))
    bill_by = (billable + pd.Timedelta(days=settings.patient_billing_days)).astype("datetime64[us]")

    route = pd.Series("", index=lines.index, dtype="str")
    deadline = pd.Series(pd.NaT, index=lines.index, dtype="datetime64[us]")
    chosen = np.zeros(len(lines), dtype=bool)
    chosen_k = np.zeros(len(lines), dtype=np.int64)
    first_deadline = pd.Series(pd.NaT, index=lines.index, dtype="datetime64[us]")
    for k in range(max_len):
        has = n_rungs > k
        cand = pd.Series(rung_k[k][ids], index=lines.index, dtype="str")
        dl = ap.rung_deadlines(
            lines,
            cand,
            contract_appeal_days=settings.contract_appeal_days,
            corrected_claim_days=settings.timely_filing_days,
            last_decision=decided,
        )
        dl = dl.where(~cand.eq("open_negotiation"), on_by).where(~cand.eq("idr"), idr_by)
        dl = dl.where(~cand.eq("patient_bill"), bill_by)
        if k == 0:
            first_deadline = dl.astype("datetime64[us]")
        open_ = has & ~chosen & (dl.isna() | (dl >= as_of_ts)).to_numpy()
        route[open_] = cand[open_]
        deadline[open_] = dl[open_]
        chosen_k[open_] = k
        chosen |= open_
    lost = ~chosen
    first_route = pd.Series(
        np.where(n_rungs > 0, rung_k[0][ids] if max_len else "", "write_off"),
        index=lines.index,
        dtype="str",
    )
    route[lost] = first_route[lost]
    deadline[lost] = first_deadline[lost]
    # every rung used up (highest appeal level upheld): lost as of that last decision
    exhausted = lost & (n_rungs == 0)
    deadline[exhausted] = pd.to_datetime(decided[exhausted]).astype("datetime64[us]")
    status = pd.Series(np.where(lost, "lost", "open"), index=lines.index, dtype="str")
    pending = outcome.eq("pending")
    status[pending] = "in_progress"
    route[pending] = ("appeal_l" + lvl.clip(1, 2).astype("str"))[pending].where(
        lvl[pending] < 3, "external_review"
    )
    resolved = outcome.isin(["overturned", "partial"])
    status[resolved] = "resolved"
    # the step after the chosen one (lost items: after the first rung)
    nk = np.where(lost, 1, chosen_k + 1)
    nxt = np.full(len(lines), "", dtype=object)
    for k in range(1, max_len):
        m = nk == k
        nxt[m] = rung_k[k][ids[m]]
    rt = route.to_numpy()
    nxt = np.where(rt == "open_negotiation", "idr", nxt)
    # binding determinations: nothing follows IDR or the state process. A state process whose
    # filing clock is not encoded (rules.state_dispute_deadline) keeps NaT and its ``action``
    # says "state deadline not encoded; check" (never an invented date).
    nxt = np.where(np.isin(rt, ["idr", "state_idr"]), "", nxt)
    nxt = np.where(pending.to_numpy() | resolved.to_numpy() | lost, "", nxt)
    return pd.DataFrame(
        {
            "route": route,
            "status": status,
            "deadline": deadline.astype("datetime64[us]"),
            "next_step": pd.Series(nxt, index=lines.index, dtype="str"),
        },
        index=lines.index,
    )


def build_worklist(
    claim_lines: pd.DataFrame,
    benchmarks: pd.DataFrame | None,
    nsa_assessment: pd.DataFrame | None,
    targets: pd.DataFrame,
    scorecard: pd.DataFrame | None,
    *,
    as_of: date,
    settings: PlaybookSettings,
    profiles: Mapping[str, Any] | Sequence[Any] | None = None,
    appeals: pd.DataFrame | None = None,
    priors: Any = None,
    coding: pd.DataFrame | None = None,
    chunk_lines: int | None = None,
) -> pd.DataFrame:
    """Every underpaid or denied claim with route, deadline, expected recovery, probability and priority.

    ``coding`` (one verdict per line, :func:`oonplaybook.coding.line_verdicts`) routes coding
    denials by what CMS's edits say: a correct edit is a corrected claim or a write-off, a wrong
    or non-NCCI edit an appeal citing the edit, a clinical MUE an appeal with the record.

    Sorted: open items by priority (highest first), then in-progress, write-offs, resolved and
    lost items, ties by claim id. ``as_of`` is the date deadlines count to (params or data
    cut-off). Patient bills follow the protections table (:func:`patient_bill_limits`): none
    where balance billing is not allowed, never more than ``max_patient_bill``.

    The per-claim work runs on chunks of whole claims (``chunk_lines`` lines each, default
    :data:`WORKLIST_CHUNK_LINES`; :func:`oonplaybook.partitions.claim_chunks`) and only the
    ranking sees every row, so the temporaries are one chunk's, not the client's (issue 16);
    the rows are the same whatever the chunk size (every row is one claim's, the sort is total).
    """
    rows = []
    for cl, bm, nsa_c, cod in claim_chunks(
        [claim_lines, benchmarks, nsa_assessment, coding],
        chunk_lines=chunk_lines or WORKLIST_CHUNK_LINES,
    ):
        part = _worklist_rows(
            cl, bm, nsa_c, targets, scorecard, as_of=as_of, settings=settings,
            profiles=profiles, appeals=appeals, priors=priors, coding=cod,
        )  # fmt: skip
        if len(part):
            rows.append(part)
    if not rows:
        return pd.DataFrame(columns=WORKLIST_COLUMNS)
    if len(rows) == 1 or any(list(r.columns) != list(rows[0].columns) for r in rows):
        agg = rows[0] if len(rows) == 1 else pd.concat(rows, ignore_index=True)
        del rows
        return _rank(agg)[WORKLIST_COLUMNS]
    return _rank_chunks(rows)[WORKLIST_COLUMNS]


def _worklist_rows(
    claim_lines: pd.DataFrame,
    benchmarks: pd.DataFrame | None,
    nsa_assessment: pd.DataFrame | None,
    targets: pd.DataFrame,
    scorecard: pd.DataFrame | None,
    *,
    as_of: date,
    settings: PlaybookSettings,
    profiles: Mapping[str, Any] | Sequence[Any] | None,
    appeals: pd.DataFrame | None,
    priors: Any,
    coding: pd.DataFrame | None,
) -> pd.DataFrame:
    """:func:`build_worklist`'s rows for the claims in ``claim_lines``, not yet ranked (no
    ``priority`` or ``rank``); empty when none of the claims is underpaid or denied."""
    lines = line_frame(claim_lines, benchmarks)
    lines = join_assessment(lines, nsa_assessment)
    lines = lines.reset_index(drop=True)
    if "state_law" not in lines.columns:
        lines["state_law"] = ""
    lines["state_law"] = lines["state_law"].fillna("").astype("str")
    lt = line_targets(lines, targets)
    lines = pd.concat([lines, lt], axis=1)
    lines["denial_group"] = ap.denial_groups(lines["carc"])
    status = lines["claim_status"].astype("str")
    self_pay = lines["plan_type"].astype("str").eq("self_pay")
    allowed = lines["allowed"].fillna(0.0)
    paid = lines["paid"].fillna(0.0)
    gap = (lines["line_target"] - allowed).where(status.eq("paid")).fillna(0.0)
    underpaid = status.eq("paid") & (gap > max(settings.min_dispute_amount, 0.01)) & ~self_pay
    denied = status.eq("denied") & ~self_pay
    sp_balance = (lines["billed"].fillna(0.0) - paid).where(self_pay, 0.0)
    selfpay_due = self_pay & (sp_balance > 0.01)
    problem = underpaid | denied | selfpay_due
    # what the protections table allows billing the patient, per claim (all lines of the claim)
    limits = patient_bill_limits(
        claim_lines[isin(claim_lines["claim_id"], lines.loc[problem, "claim_id"])],
        nsa_assessment,
    )
    lines = lines[problem].copy()
    if lines.empty:
        return lines.iloc[:0]
    lines = attach_coding(lines, coding)
    lim = lines[["claim_id"]].merge(limits, on="claim_id", how="left")
    lines["patient_bill_allowed"] = lim["balance_bill_allowed"].fillna(True).to_numpy()
    gap = gap[problem]
    lines["underpaid"] = gap.where(underpaid[problem], 0.0)
    # a denied line, once overturned, is paid at the payer's usual rate (its current multiple)
    cur = lines[["payer", "code_family"]].merge(
        targets[["payer", "code_family", "current_x", "market_x", "walk_away_x"]],
        on=["payer", "code_family"],
        how="left",
    )
    cur.index = lines.index
    usual_x = cur["current_x"].fillna(cur["market_x"]).fillna(cur["walk_away_x"])
    usual = (usual_x * lines["medicare_allowed"]).where(
        lines["medicare_allowed"] > 0, lines["line_walk_away"]
    )
    # no Medicare price: the family's target share of billed (line_target's fallback); with no
    # basis at all the line stays on the list valued at 0 (it shows, it is not dropped)
    usual = usual.fillna(lines["line_target"]).fillna(0.0)
    is_denied = lines["claim_status"].astype("str").eq("denied")
    lines["denied_amount"] = usual.where(is_denied, 0.0)
    lines.loc[lines["plan_type"].astype("str").eq("self_pay"), "denied_amount"] = 0.0

    # state prompt-pay interest owed on late payments (fully insured plans, docs/domain.md §4.3)
    lines["prompt_pay_interest"] = ap.prompt_pay_interest(lines)["prompt_pay_interest"]
    routed = route_claims(lines, as_of=as_of, settings=settings, appeals=appeals)
    lines = pd.concat([lines, routed], axis=1)
    r = lines["route"]
    # amount at stake on this route
    nsa_route = r.isin(["open_negotiation", "idr", "state_idr"])
    amount = lines["underpaid"] + lines["denied_amount"]
    # NSA routes: what an IDR win adds over what the provider already has (paid + cost share)
    offer, pwin, _ = idr_offer(lines, targets, priors=priors)
    have = lines["paid"].fillna(0.0) + lines["patient_resp"].fillna(0.0)
    amount = amount.where(~nsa_route, (offer - have).clip(lower=0.0))
    amount = amount.where(
        ~r.eq("patient_bill"),
        (lines["billed"].fillna(0.0) - lines["paid"].fillna(0.0)).clip(lower=0.0),
    )
    lines["at_stake"] = amount.fillna(0.0)

    # probability of recovery on the route
    rates = appeal_success_rates(appeals, scorecard)
    pr = (
        lines[["payer", "denial_group"]]
        .merge(rates, on=["payer", "denial_group"], how="left")["p_success"]
        .to_numpy()
    )
    payer_prior = (
        lines["payer"].map(_scorecard_rate(scorecard)).fillna(APPEAL_SUCCESS_PRIOR).to_numpy()
    )
    p_appeal = np.where(np.isnan(pr.astype("float64")), payer_prior, pr)
    prob = pd.Series(p_appeal, index=lines.index, dtype="float64")
    prob[r.eq("corrected_claim")] = CORRECTED_CLAIM_SUCCESS
    # federal IDR win rates by specialty and year (idr priors); for a state process the same
    # rates stand in (no state outcome statistics in docs/domain.md: an assumption, stated here)
    prob[nsa_route] = pwin[nsa_route]
    prob[r.eq("patient_bill")] = settings.patient_collection_rate
    prob[r.eq("write_off")] = 0.0
    lines["probability"] = prob
    lines["gross_ev"] = lines["at_stake"] * lines["probability"]

    agg = _aggregate(lines)
    # a patient bill is never more than the protections table allows (self-pay: the good-faith
    # estimate + $399.99 when the charges are $400 or more over it, 45 CFR 149.620)
    cap = agg[["claim_id"]].merge(limits, on="claim_id", how="left")["max_patient_bill"]
    bill = agg["route"].eq("patient_bill") & cap.notna().to_numpy()
    capped = np.fmin(agg["at_stake"].to_numpy(), cap.to_numpy())
    agg.loc[bill, "at_stake"] = capped[bill.to_numpy()]
    agg.loc[bill, "gross_ev"] = agg.loc[bill, "at_stake"] * agg.loc[bill, "probability"]
    # costs: IDR fees for NSA routes (per-dispute EV net of the fees the provider bears), work cost otherwise
    fee = _idr_fee_per_claim(agg, as_of)
    work = np.where(agg["route"].isin(["write_off"]), 0.0, settings.work_cost_per_claim)
    cost = np.where(agg["route"].isin(["open_negotiation", "idr"]), fee, work)
    agg["expected_recovery"] = (agg["gross_ev"] - cost).where(agg["status"].eq("open"), 0.0)
    # routes not worth working become write-offs (never silently dropped)
    nsa_rows = agg["route"].isin(["open_negotiation", "idr"])  # priced per batch: link_idr_batches
    not_worth = ~nsa_rows & (
        agg["status"].eq("open") & (agg["expected_recovery"] <= 0) & ~agg["route"].eq("write_off")
    )
    agg["route_if_worked"] = ""
    agg.loc[not_worth, "route_if_worked"] = agg.loc[not_worth, "route"]
    agg.loc[not_worth, "next_step"] = ""
    agg.loc[not_worth, "route"] = "write_off"
    agg.loc[not_worth, "expected_recovery"] = 0.0
    # a write-off is a decision, not an open item (its expected recovery is $0)
    agg.loc[agg["route"].eq("write_off") & agg["status"].eq("open"), "status"] = "write_off"
    agg.loc[agg["status"].eq("write_off"), "next_step"] = ""
    # lost: the expected value forgone (probability x amount) once every route has closed
    agg["lost_revenue"] = (agg["at_stake"] * agg["probability"]).where(
        agg["status"].eq("lost"), 0.0
    )
    days = (agg["deadline"] - pd.Timestamp(as_of)).dt.days
    agg["days_left"] = days.astype("float64")
    urg = URGENCY_HALF_DAYS / (URGENCY_HALF_DAYS + days.clip(lower=0))
    agg["urgency"] = (
        urg.fillna(NO_CLOCK_URGENCY).where(agg["status"].eq("open"), 0.0).astype("float64")
    )
    agg["idr_candidate"] = (
        agg["route"].isin(["open_negotiation", "idr"])
        & agg["idr_eligible"]
        & agg["status"].eq("open")
    )
    agg["documents_needed"] = _documents(agg, profiles)
    agg["batch_id"] = ""
    for c in (
        "at_stake",
        "expected_recovery",
        "lost_revenue",
        "underpaid",
        "denied_amount",
        "target",
        "billed",
        "allowed",
        "paid",
    ):
        agg[c] = agg[c].astype("float64").round(2)
    # after the rounding: the recovery range is around the expected recovery in cents, as
    # link_idr_batches computes it for the rows it reprices
    return _row_columns(agg)


def _finalise(agg: pd.DataFrame) -> pd.DataFrame:
    """:func:`_row_columns`, then rank."""
    return _rank(_row_columns(agg))


#: The columns :func:`_row_columns` sets.
_ROW_COLUMNS = (
    "letter_type", "letter", "action", "expected_recovery_low", "expected_recovery_high",
)  # fmt: skip


def _row_columns(agg: pd.DataFrame) -> pd.DataFrame:
    """The columns that follow from route and status (letter type, letter, action, recovery
    range), row by row (no ranking: :func:`_rank`).

    Only open rows need a letter. ``letter`` is empty here: the letters package sets it to the
    file it actually writes (``letters.with_letter_files``), so it never names a letter that
    does not exist.
    """
    agg = agg.copy(deep=False)  # columns are added, not changed in place (copy-on-write)
    is_open = agg["status"].eq("open")
    lt = agg["route"].map(ROUTE_LETTER_TYPE).fillna("").astype("str").where(is_open, "")
    agg["letter_type"] = lt
    agg["letter"] = pd.Series("", index=agg.index, dtype="str")
    agg["action"] = _actions(agg)
    from oonplaybook.playbook.targets import recovery_columns  # 90% range (issue 14)

    agg[["expected_recovery_low", "expected_recovery_high"]] = recovery_columns(agg)
    return agg


def _actions(agg: pd.DataFrame) -> pd.Series:
    """What to do on each row, in words, consistent with its route, status and next step.

    Each status's wording is built for that status's rows only (it used to be built for every
    row four times, once per status, and picked after: ~6 s per 600k rows)."""
    route = agg["route"].astype("str")
    status = agg["status"].astype("str")
    deadline = pd.to_datetime(agg["deadline"])
    out = np.full(len(agg), "Resolved: overturned on appeal", dtype=object)

    def due_of(rows: np.ndarray) -> pd.Series:
        return deadline[rows].dt.strftime("%Y-%m-%d").fillna("")

    def label_of(r: pd.Series) -> pd.Series:
        return r.map(ROUTE_LABELS).fillna(r)

    rows = status.eq("open").to_numpy()
    if rows.any():
        r, due = route[rows], due_of(rows)
        by = (" by " + due).where(due.ne(""), "")
        nxt = agg["next_step"].astype("str")[rows]
        then = ("; if it fails: " + label_of(nxt)).where(nxt.ne(""), "")
        opened = r.map(_ROUTE_ACTION).fillna("Work the claim") + by + then
        state_no_clock = r.eq("state_idr") & due.eq("")
        opened = opened.where(~state_no_clock, opened + " (state deadline not encoded; check)")
        bill = r.eq("patient_bill")
        if bill.any():
            money = agg["at_stake"][rows][bill].astype("float64").map(lambda v: f"${v:,.2f}")
            opened[bill] = "Bill the patient at most " + money + by[bill]
        out[rows] = opened.to_numpy(dtype=object)
    rows = status.eq("write_off").to_numpy()
    if rows.any():
        worked = agg.get("route_if_worked", pd.Series("", index=agg.index)).astype("str")[rows]
        wo = (
            "Write off: the expected recovery on "
            + label_of(worked)
            + " does not cover the cost of working it"
        ).where(
            worked.ne(""),
            np.where(
                agg["denial_group"].astype("str")[rows].eq("duplicate"),
                "Write off: a duplicate claim is not appealable (check the original claim was "
                "paid)",
                "Write off: the patient may not be balance-billed on this claim and no payer "
                "route is open",
            ),
        )
        out[rows] = wo.to_numpy(dtype=object)
    rows = status.eq("lost").to_numpy()
    if rows.any():
        r, due = route[rows], due_of(rows)
        lost = (
            "Lost: the "
            + label_of(r)
            + " deadline"
            + (" passed on " + due).where(due.ne(""), " passed")
        )
        lost = lost.where(
            ~r.eq("write_off"),
            "Lost: every appeal level was used"
            + (" (last decision " + due + ")").where(due.ne(""), ""),
        )
        out[rows] = lost.to_numpy(dtype=object)
    rows = status.eq("in_progress").to_numpy()
    if rows.any():
        pending = "Pending: " + label_of(route[rows]) + " filed; follow up with the payer"
        out[rows] = pending.to_numpy(dtype=object)
    return pd.Series(out, index=agg.index, dtype="str")


def coherence_problems(
    worklist: pd.DataFrame, protections: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Rows whose route, status, next step and letter type disagree, with the rule broken.

    Rules: one known route per row; open rows' ``next_step`` in :data:`ROUTE_NEXT` of the route
    and ``letter_type`` = :data:`ROUTE_LETTER_TYPE` of the route; rows that are not open have no
    next step and no letter type; write-offs are never open; with ``protections``, no patient
    bill on a claim where balance billing is not allowed, none above ``max_patient_bill``.
    Empty when the worklist is coherent (tests and the notebook assert it).
    """
    w = worklist
    route = w["route"].astype("str")
    status = w["status"].astype("str")
    nxt = w["next_step"].fillna("").astype("str")
    lt = w["letter_type"].fillna("").astype("str")
    is_open = status.eq("open")
    ok_next = pd.Series(
        [n in ROUTE_NEXT.get(r, frozenset()) for r, n in zip(route, nxt, strict=True)],
        index=w.index,
    )
    rules = {
        "unknown route": ~route.isin(list(ROUTE_NEXT)),
        "unknown status": ~status.isin(list(STATUSES)),
        "next step does not follow the route": is_open & ~ok_next,
        "letter type is not the route's": is_open & lt.ne(route.map(ROUTE_LETTER_TYPE).fillna("")),
        "next step on a row that is not open": ~is_open & nxt.ne(""),
        "letter type on a row that is not open": ~is_open & lt.ne(""),
        "open write-off": is_open & route.eq("write_off"),
    }
    if protections is not None and len(protections):
        p = w[["claim_id"]].merge(
            protections[["claim_id", "balance_bill_allowed", "max_patient_bill"]],
            on="claim_id",
            how="left",
        )
        p.index = w.index
        bill = route.eq("patient_bill") & is_open
        rules["patient bill where balance billing is not allowed"] = bill & ~p[
            "balance_bill_allowed"
        ].fillna(True).astype("bool")
        rules["patient bill above the most the patient may be billed"] = bill & (
            w["at_stake"].astype("float64") > p["max_patient_bill"].astype("float64") + 0.005
        )
    found = [
        w.loc[m, ["claim_id", "route", "status", "next_step", "letter_type"]].assign(rule=name)
        for name, m in rules.items()
        if m.any()
    ]
    cols = ["claim_id", "route", "status", "next_step", "letter_type", "rule"]
    return pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=cols)


def _rank_order(keys: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(row positions in rank order, priority per row) from the sort columns of :func:`_rank`."""
    priority = (keys["expected_recovery"].clip(lower=0) * keys["urgency"]).round(2)
    order = keys["status"].map({s: i for i, s in enumerate(STATUSES)}).fillna(len(STATUSES))
    sort = pd.DataFrame(
        {
            "_o": order.to_numpy(),
            "priority": priority.to_numpy(),
            "claim_id": keys["claim_id"].to_numpy(),
            "route": keys["route"].to_numpy(),
        }
    )
    pos = sort.sort_values(
        list(sort.columns), ascending=[True, False, True, True], kind="stable"
    ).index.to_numpy()
    return pos, priority.to_numpy()


_RANK_KEYS = ("expected_recovery", "urgency", "status", "claim_id", "route")


def _rank_chunks(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """:func:`_rank` of the chunks' rows, which are joined and put in order one column at a
    time (each chunk's column released once taken): the peak is one worklist and a column, not
    the two worklists a join and then a sort hold (stage 40's peak at 1M lines)."""
    keys = pd.DataFrame(
        {c: pd.concat([p[c] for p in parts], ignore_index=True) for c in _RANK_KEYS}
    )
    pos, priority = _rank_order(keys)
    del keys
    cols: dict[str, pd.Series] = {}
    for c in list(parts[0].columns):
        col = pd.concat([p[c] for p in parts], ignore_index=True)
        for p in parts:
            del p[c]
        cols[c] = col.take(pos).reset_index(drop=True)
        del col
    out = pd.DataFrame(cols)
    del cols
    out["priority"] = priority[pos]
    out["rank"] = np.arange(1, len(out) + 1)
    return out


def _rank(agg: pd.DataFrame) -> pd.DataFrame:
    """Priority = EV x urgency; sort open items by it, then in-progress, write-offs, resolved, lost.

    The order is found on the four sort keys alone and the rows are taken once (one copy of
    the worklist, not the four a whole-frame sort makes: the peak of stage 40 at 1M lines).
    """
    pos, priority = _rank_order(agg.reset_index(drop=True)[list(_RANK_KEYS)])
    out = agg.take(pos).reset_index(drop=True)
    out["priority"] = priority[pos]
    out["rank"] = np.arange(1, len(out) + 1)
    return out


def link_idr_batches(
    worklist: pd.DataFrame, disputes: pd.DataFrame, batches: pd.DataFrame
) -> pd.DataFrame:
    """Worklist with NSA rows priced inside their IDR batch, and batches not worth filing written off.

    A claim's expected recovery on the NSA route becomes the sum of its lines' expected value in
    their batch (one admin fee and one batched IDRE fee shared by the batch, ``idr`` module);
    rows whose batches have non-positive net EV become ``write_off`` rows (``route_if_worked``
    keeps the route). Re-ranked afterwards.
    """
    w = worklist.copy(deep=False)  # copy-on-write: the caller's frame is never changed
    if disputes.empty or "batch_id" not in disputes.columns:
        return w
    worth = batches.loc[batches["worth_filing"].astype("bool"), "batch_id"]
    d = disputes[["claim_id", "batch_id", "ev_in_batch"]].assign(
        _worth=isin(disputes["batch_id"], worth)
    )
    per_claim = d.groupby("claim_id", sort=True).agg(
        ev=("ev_in_batch", "sum"),
        worth=("_worth", "any"),  # any of the claim's batches is worth filing
    )
    # the claim's distinct batches, sorted and ":"-joined (one sort, not one per claim)
    ids = d[["claim_id", "batch_id"]].drop_duplicates().sort_values(["claim_id", "batch_id"])
    per_claim["batch_id"] = ids.groupby("claim_id", sort=True)["batch_id"].agg(":".join)
    nsa_open = w["route"].isin(["open_negotiation", "idr"]) & w["status"].eq("open")
    m = nsa_open & isin(w["claim_id"], per_claim.index)
    claims_m = w.loc[m, "claim_id"]
    w.loc[m, "expected_recovery"] = claims_m.map(per_claim["ev"]).round(2)
    w.loc[m, "batch_id"] = claims_m.map(per_claim["batch_id"])
    # rows outside m are never dropped below, so their in_worth value does not matter
    in_worth = pd.Series(False, index=w.index)
    in_worth[m] = claims_m.map(per_claim["worth"]).astype("bool").to_numpy()
    # only rows that were priced as disputes can be written off here; NSA rows outside IDR (an
    # improper denial to contest first) keep their route and single-dispute value
    drop = m & (~in_worth | (w["expected_recovery"] <= 0))
    # NSA rows outside any batch (an improper denial contested first) keep their single-dispute
    # value; where even that is not positive they are not worth working either
    drop |= nsa_open & ~m & (w["expected_recovery"] <= 0)
    w.loc[drop, "route_if_worked"] = w.loc[drop, "route"]
    w.loc[drop, "next_step"] = ""
    w.loc[drop, "route"] = "write_off"
    w.loc[drop, "status"] = "write_off"
    w.loc[drop, "expected_recovery"] = 0.0
    w.loc[drop, "urgency"] = 0.0
    w.loc[drop, "idr_candidate"] = False
    # the columns that follow from each row (letter type, action, recovery range) change only
    # on the rows repriced or written off here: recomputed for those rows, then all re-ranked
    if not set(_ROW_COLUMNS) <= set(w.columns):
        return _finalise(w)[WORKLIST_COLUMNS]
    changed = (m | drop).to_numpy()
    if changed.any():
        sub = _row_columns(w[changed])
        for c in _ROW_COLUMNS:
            w.loc[changed, c] = sub[c].to_numpy()
    w["letter"] = pd.Series("", index=w.index, dtype="str")  # set by the letters package
    return _rank(w)[WORKLIST_COLUMNS]


_FIRST = (
    "state_law",
    "status",
    "payer",
    "specialty",
    "plan_type",
    "patient_key",
    "code_family",
    "denial_group",
    "carc",
    "next_step",
    "coding_verdict",
    "coding_evidence",
)
_SUM = (
    "billed",
    "allowed",
    "paid",
    "line_target",
    "underpaid",
    "denied_amount",
    "at_stake",
    "gross_ev",
    "probability",
    "prompt_pay_interest",
)
_MIN_DATE = ("service_date", "remit_date", "deadline")


def _aggregate(lines: pd.DataFrame) -> pd.DataFrame:
    """Lines -> one row per (claim, route), with contiguous-run reductions (``np.*.reduceat``).

    Sorting by (claim, route, line) makes each group a run of rows, so firsts, sums, minima and
    any() are single vectorised passes; a groupby with string keys is ~10x slower at 1M lines.
    """
    lines = lines.sort_values(["claim_id", "route", "line_no"], kind="stable").reset_index(
        drop=True
    )
    cid = lines["claim_id"].to_numpy()
    rte = lines["route"].to_numpy()
    n = len(lines)
    brk = np.ones(n, dtype=bool)
    if n > 1:
        brk[1:] = (cid[1:] != cid[:-1]) | (rte[1:] != rte[:-1])
    start = np.flatnonzero(brk)
    size = np.diff(np.append(start, n))
    out = pd.DataFrame({"claim_id": cid[start], "route": rte[start]})
    for c in _FIRST:
        out[c] = lines[c].to_numpy()[start]
    for c in _SUM:
        v = lines[c].astype("float64").to_numpy()
        out[c] = np.add.reduceat(np.nan_to_num(v, nan=0.0), start) if n else v
    for c in _MIN_DATE:
        v = pd.to_datetime(lines[c]).to_numpy().astype("datetime64[us]").astype("float64")
        v[pd.isna(lines[c]).to_numpy()] = np.nan
        m = np.fmin.reduceat(v, start) if n else v
        out[c] = pd.to_datetime(pd.Series(m), unit="us").astype("datetime64[us]").to_numpy()
    for c in ("nsa_applies", "idr_eligible"):
        out[c] = (
            np.maximum.reduceat(lines[c].astype("bool").to_numpy().astype(np.uint8), start).astype(
                bool
            )
            if n
            else []
        )
    out = out.rename(columns={"line_target": "target"})
    out["n_lines"] = size
    mean_p = out["probability"] / size
    out["probability"] = (out["gross_ev"] / out["at_stake"]).where(out["at_stake"] > 0, mean_p)
    ln = lines["line_no"].astype("str").to_numpy()
    cp = lines["cpt"].astype("str").to_numpy()
    joined_l = ln[start].astype(object)
    joined_c = cp[start].astype(object)
    for i in np.flatnonzero(size > 1):  # multi-line groups only (a minority)
        s0, s1 = start[i], start[i] + size[i]
        joined_l[i] = ":".join(ln[s0:s1])
        joined_c[i] = ":".join(cp[s0:s1])
    out["lines"] = pd.Series(joined_l, dtype="str")
    out["cpts"] = pd.Series(joined_c, dtype="str")
    for c in _FIRST + ("claim_id", "route"):
        out[c] = out[c].astype("str")
    return out


def _idr_fee_per_claim(agg: pd.DataFrame, as_of: date) -> np.ndarray:
    """Expected IDR fees the provider bears per single (unbatched) dispute on the NSA routes.

    Administrative fee always; IDRE fee only when the provider loses (45 CFR 149.510(d)(1)-(2),
    docs/domain.md §1.10). Batching lowers this; ``build_idr_batches`` prices batches exactly.
    """
    from oonplaybook.playbook.idr_batches import dispute_fees

    admin, idre = dispute_fees(as_of, batched=False, n_lines=1)
    p = agg["probability"].fillna(0.0).to_numpy()
    return admin + (1 - p) * idre


def _documents(agg: pd.DataFrame, profiles: Any) -> pd.Series:
    """Documents needed per row: route + denial group + the specialty's checklist."""
    checklists = _profile_checklists(profiles)
    key = agg["route"] + "|" + agg["denial_group"] + "|" + agg["specialty"]
    out = {}
    for k in pd.unique(key):
        route, group, spec = k.split("|", 2)
        docs = list(ap.ROUTE_DOCUMENTS.get(route, ()))
        if route not in ("open_negotiation", "idr", "patient_bill", "write_off"):
            docs += list(ap.GROUP_DOCUMENTS.get(group, ()))
        if route not in ("write_off", "patient_bill"):
            docs += checklists.get(spec, checklists.get("generic", []))
        out[k] = "; ".join(dict.fromkeys(docs))
    return key.map(out).astype("str")
