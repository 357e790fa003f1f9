"""The fields each template reads, built from a worklist row (or IDR batch) and its claim lines.

External contexts carry only facts the recipient needs: claim identifiers, dates, codes,
amounts paid and asked, the law. Internal numbers (targets, walk-away, model output, tactics,
priorities) go only into :func:`cover_note`, the staff note written beside each letter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from oonplaybook.letters import arguments as arg
from oonplaybook.letters.render import day, iso, money, mult, pct


@dataclass(frozen=True)
class Sender:
    """The practice as it signs its letters; empty contact details become merge fields."""

    name: str
    contact: str = ""
    practice_size: str = ""


@dataclass
class LetterData:
    """Everything the letters draw on besides the row: claim lines (with benchmarks), targets,
    the IDR disputes, patient protections, appeal history and specialty profiles."""

    lines: pd.DataFrame
    targets: pd.DataFrame
    as_of: date
    disputes: pd.DataFrame | None = None
    protections: pd.DataFrame | None = None
    appeals: pd.DataFrame | None = None
    profiles: Mapping[str, Any] = field(default_factory=dict)
    payer_effects: pd.DataFrame | None = None
    _per_line: pd.DataFrame | None = None

    def per_line(self) -> pd.DataFrame:
        """IDR offer and opening ask of every line, computed once (indexed like ``lines``)."""
        if self._per_line is None:
            from oonplaybook.playbook.idr_batches import idr_offer
            from oonplaybook.playbook.targets import line_targets

            if self.lines.empty:
                self._per_line = pd.DataFrame({"offer": [], "ask": []}, dtype="float64")
            else:
                offer, _, _ = idr_offer(self.lines, self.targets)
                ask = line_targets(self.lines, self.targets)["line_opening_ask"]
                ask = ask.fillna(self.lines["billed"])
                # without a QPA the IDR offer rule falls back to the negotiation target, which
                # never leaves the practice: the notice offers the opening ask instead
                has_qpa = self.lines["qpa"].astype("float64") > 0
                self._per_line = pd.DataFrame(
                    {"offer": offer.where(has_qpa, ask), "ask": ask}, index=self.lines.index
                ).astype("float64")
        return self._per_line


def profile_for(specialty: str, profiles: Mapping[str, Any]) -> Any:
    """The specialty's profile, else the generic one."""
    from oonplaybook.specialties import profile_or_generic

    return profiles.get(specialty) or profiles.get("generic") or profile_or_generic(specialty)


def claim_lines(data: LetterData, claim_id: str, line_nos: Any) -> pd.DataFrame:
    """The row's lines (``lines`` like ``1:3``), else every line of the claim, by line number."""
    nos = {int(x) for x in str(line_nos).split(":") if x.strip().isdigit()}
    c = data.lines[data.lines["claim_id"] == claim_id]
    return (c[c["line_no"].isin(nos)] if nos else c).sort_values("line_no")


def _first(lines: pd.DataFrame, col: str) -> str:
    """First non-empty value of a column as text ('' when absent)."""
    if col not in lines.columns or lines.empty:
        return ""
    s = lines[col].astype("str")
    s = s[~s.isin(["", "nan", "None"])]
    return str(s.iloc[0]) if len(s) else ""


def _sender(sender: Sender, lines: pd.DataFrame) -> dict[str, Any]:
    """The sender block: practice name, contact (or merge fields), NPI and TIN from the lines."""
    return {
        "name": sender.name or "«PRACTICE_NAME»",
        "contact": sender.contact,
        "npi": _first(lines, "provider_npi"),
        "tin": _first(lines, "provider_tin"),
    }


def _claim(w: Mapping[str, Any], lines: pd.DataFrame) -> dict[str, Any]:
    """The claim identifiers every payer letter prints (no patient identifiers: those merge)."""
    dates = (
        sorted({iso(x) for x in lines["service_date"]}) if len(lines) else [iso(w["service_date"])]
    )
    return {
        "claim_id": str(w["claim_id"]),
        "payer": str(w["payer"]),
        "payer_claim_id": _first(lines, "payer_claim_id"),
        "service_dates": ", ".join(day(d) for d in dates),
        "state": _first(lines, "state"),
        "plan_type": arg.plan_type_words(str(w.get("plan_type", ""))),
    }


def _denial_date(lines: pd.DataFrame) -> str:
    """The adverse determination's date: the remittance date of the denial."""
    return day(pd.to_datetime(lines["remit_date"]).min()) if len(lines) else "—"


def appeal_context(
    w: Mapping[str, Any], lines: pd.DataFrame, data: LetterData, sender: Sender
) -> dict[str, Any]:
    """Fields of an appeal (level 1, level 2 or external review) for one worklist row."""
    route = str(w["route"])
    level = {"appeal_l1": 1, "appeal_l2": 2, "external_review": 3}.get(route, 1)
    group = str(w.get("denial_group", "other"))
    emergency = bool(lines["emergency"].astype("bool").any()) if "emergency" in lines else False
    grounds = [arg.EMERGENCY_GROUND] if emergency and group in ("authorization", "network") else []
    coding = arg.coding_ground(str(w.get("coding_verdict", "")), str(w.get("coding_evidence", "")))
    if coding:  # the NCCI check's finding is the ground (coding_edits.csv has the full edit)
        grounds = [coding]
    if not grounds:
        grounds = [arg.GROUNDS.get(group, arg.GROUNDS["other"])]
    enclosures = list(arg.ROUTE_ENCLOSURES.get(route, ()))
    if coding and str(w.get("coding_verdict", "")) == "documentation_needed":
        enclosures.append("Medical record documenting the units provided")
    enclosures += [e for e in arg.GROUP_ENCLOSURES.get(group, ()) if e not in enclosures]
    prior: dict[str, str] = {}
    if data.appeals is not None and len(data.appeals) and level >= 2:
        a = data.appeals[data.appeals["claim_id"] == w["claim_id"]].sort_values("appeal_level")
        if len(a):
            last = a.iloc[-1]
            prior = {"filed": day(last["filed_date"]), "decided": day(last["decided_date"])}
    return {
        "sender": _sender(sender, lines),
        "claim": _claim(w, lines),
        "level": level,
        "title": {
            1: "Request for review of an adverse benefit determination (first-level appeal)",
            2: "Request for review of an adverse benefit determination (second-level appeal)",
            3: "Request for external review",
        }[level],
        "carc": str(w["carc"]),
        "carc_meaning": arg.carc_meaning(str(w["carc"])),
        "denial_date": _denial_date(lines),
        "prior": prior,
        "medical_judgment": group in ("medical_necessity", "non_covered", "network"),
        "lines": [
            {
                "cpt": r.cpt,
                "date": iso(r.service_date),
                "billed": money(r.billed),
                "paid": money(r.paid),
            }
            for r in lines.itertuples()
        ],
        "grounds": grounds,
        "enclosures": enclosures,
    }


def _offers(w: Mapping[str, Any], lines: pd.DataFrame, data: LetterData) -> dict[int, float]:
    """Offer per line: the priced IDR dispute line when there is one, else the IDR offer rule."""
    pl = data.per_line().loc[lines.index, "offer"] if len(lines) else pd.Series(dtype="float64")
    offers = {int(n): float(v) for n, v in zip(lines["line_no"], pl, strict=True)}
    if data.disputes is not None and len(data.disputes):
        d = data.disputes[data.disputes["claim_id"] == w["claim_id"]]
        if "qpa" in d.columns:
            d = d[d["qpa"].astype("float64") > 0]
        offers.update({int(n): float(v) for n, v in zip(d["line_no"], d["offer"], strict=True)})
    return offers


def notice_context(
    w: Mapping[str, Any], lines: pd.DataFrame, data: LetterData, sender: Sender
) -> dict[str, Any]:
    """Fields of the open negotiation notice (45 CFR 149.510(b)(1)(ii)(A); OMB 1210-0169)."""
    offers = _offers(w, lines, data)
    rows = []
    for r in lines.itertuples():
        denied = str(r.claim_status) == "denied"
        paid = float(r.paid) + (float(r.patient_resp) if r.patient_resp == r.patient_resp else 0.0)
        rows.append(
            {
                "date": iso(r.service_date),
                "cpt": r.cpt,
                "initial": f"denied {iso(r.remit_date)}"
                if denied
                else f"{money(paid)} ({iso(r.remit_date)})",
                "paid": 0.0 if denied else paid,
                "offer": offers.get(int(r.line_no), float("nan")),
            }
        )
    emergency = bool(lines["emergency"].astype("bool").any()) if len(lines) else False
    air = bool(lines["air_ambulance"].astype("bool").any()) if len(lines) else False
    return {
        "sender": _sender(sender, lines),
        "claim": _claim(w, lines),
        "payer_id": _first(lines, "payer_id"),
        "service_type": "air ambulance services"
        if air
        else (
            "emergency services"
            if emergency
            else "non-emergency services furnished by a nonparticipating provider at a participating facility"
        ),
        "received": day(pd.to_datetime(lines["remit_date"]).min()) if len(lines) else "—",
        "lines": rows,
        "total_paid": sum(r["paid"] for r in rows),
        "total_offer": sum(r["offer"] for r in rows if r["offer"] == r["offer"]),
    }


def _opening_ask(lines: pd.DataFrame, data: LetterData) -> pd.Series:
    """The requested amount per line: the opening ask (never the target or the walk-away)."""
    if lines.empty:
        return pd.Series(dtype="float64")
    return data.per_line().loc[lines.index, "ask"]


def published_benchmarks(profile: Any) -> list[str]:
    """The profile's published payment benchmarks (a payment level as a multiple of Medicare or
    of the QPA, with a source year), without commentary; other statistics are not for payers."""
    import re

    out = []
    for b in getattr(profile, "negotiation_benchmarks", []):
        text = str(b).split(" -- ")[0].strip()
        level = re.search(r"\d(\.\d+)?x (Medicare|QPA)|\d+% of (the )?QPA", text)
        if level and re.search(r"\b(19|20)\d{2}\b", text):
            out.append(text)
    return out


def negotiation_context(
    w: Mapping[str, Any], lines: pd.DataFrame, data: LetterData, sender: Sender
) -> dict[str, Any]:
    """Fields of the payment review request: the payment, the amount asked, public benchmarks."""
    from oonplaybook.playbook import appeals as ap

    ask = _opening_ask(lines, data)
    rows = []
    for (_, r), a in zip(lines.iterrows(), ask, strict=True):
        m = float(r.get("medicare_allowed", float("nan")))
        rows.append(
            {
                "cpt": r["cpt"],
                "billed": money(r["billed"]),
                "allowed": money(r["allowed"]),
                "medicare": money(m),
                "allowed_x": mult(float(r["allowed"]) / m)
                if m == m and m > 0 and float(r["allowed"]) > 0
                else "—",
                "asked": money(a),
            }
        )
    pp = ap.prompt_pay_interest(lines) if len(lines) else pd.DataFrame()
    interest = float(pp["prompt_pay_interest"].sum()) if len(pp) else 0.0
    denied = float(w.get("denied_amount", 0) or 0) > 0
    group = str(w.get("denial_group", ""))
    emergency = bool(lines["emergency"].astype("bool").any()) if len(lines) else False
    law = str(w.get("state_law", "") or "")
    return {
        "sender": _sender(sender, lines),
        "claim": _claim(w, lines),
        "billed": money(w["billed"]),
        "allowed": money(w["allowed"]),
        "paid": money(w["paid"]),
        "asked_total": money(float(ask.sum())),
        "denied": denied,
        "carc": str(w.get("carc", "")),
        "carc_meaning": arg.carc_meaning(str(w.get("carc", ""))),
        "emergency_ground": arg.EMERGENCY_GROUND
        if denied and emergency and group in ("authorization", "network")
        else "",
        "state_law": law.split(": ", 1)[-1] if str(w["route"]) == "state_idr" else "",
        "heading": "Payment dispute under state law"
        if str(w["route"]) == "state_idr"
        else "Request for payment review",
        "lines": rows,
        "benchmarks": published_benchmarks(profile_for(str(w["specialty"]), data.profiles)),
        "interest": money(interest) if interest > 0 else "",
        "days_late": int(pp["days_late"].max()) if len(pp) and interest > 0 else 0,
    }


def brief_context(
    b: Mapping[str, Any], data: LetterData, sender: Sender
) -> tuple[dict[str, Any], list[str]]:
    """Fields of the IDR offer for one batch, and the warnings for what params lack."""
    d = (
        data.disputes[data.disputes["batch_id"] == b["batch_id"]]
        if data.disputes is not None
        else pd.DataFrame()
    )
    d = d.sort_values(["claim_id", "line_no"])
    keys = d[["claim_id", "line_no"]]
    lines = (
        data.lines.merge(keys, on=["claim_id", "line_no"], how="inner")
        if len(d)
        else data.lines.iloc[:0]
    )
    spec = str(d["specialty"].mode().iloc[0]) if len(d) and "specialty" in d else "generic"
    prof = profile_for(spec, data.profiles)
    warnings = []
    if not sender.practice_size:
        warnings.append(
            "practice size is required in an IDR offer (45 CFR 149.510(c)(4)(i)); it is left as "
            "«PRACTICE_SIZE»: set playbook.practice_size in the params (e.g. '51-100 employees')"
        )
    rows = [
        {
            "claim": f"{r.claim_id} / {int(r.line_no)}",
            "cpt": r.cpt,
            "qpa": money(r.qpa),
            "offer": money(r.offer),
            "pct": f"{100.0 * float(r.offer) / float(r.qpa):.0f}%"
            if r.qpa and r.qpa == r.qpa
            else "—",
        }
        for r in d.itertuples()
    ]
    qpa_total = float(b["qpa_total"])
    plan_types = (
        sorted({arg.plan_type_words(p) for p in lines["plan_type"].astype("str")})
        if len(lines)
        else []
    )
    states = sorted(set(lines["state"].astype("str"))) if len(lines) else []
    ctx = {
        "sender": _sender(sender, lines),
        "practice_size": sender.practice_size or "«PRACTICE_SIZE»",
        "specialty": getattr(prof, "display_name", spec),
        "b": dict(b),
        "first_service": day(b["first_service"]),
        "last_service": day(b["last_service"]),
        "plan_types": "; ".join(plan_types) or "not stated on the remittances",
        "coverage_area": ", ".join(states) or "«COVERAGE_AREA»",
        "service_type": "emergency services"
        if len(lines) and lines["emergency"].astype("bool").all()
        else "qualified IDR items and services",
        "disputes": rows,
        "qpa_total": money(qpa_total),
        "offer_total": money(b["offer_total"]),
        "batch_pct": f"{100.0 * float(b['offer_total']) / qpa_total:.0f}%"
        if qpa_total > 0
        else "—",
        "circumstances": arg.supported_circumstances(lines),
    }
    return ctx, warnings


def patient_context(
    w: Mapping[str, Any], p: Mapping[str, Any], data: LetterData, sender: Sender
) -> dict[str, Any]:
    """Fields of the patient letter: second person, what the patient owes, rights still open."""
    p = dict(p)
    gfe = p.get("gfe_amount")
    gfe_known = gfe is not None and gfe == gfe
    window_end = pd.to_datetime(p.get("ppdr_window_end")) if p.get("ppdr_eligible") else pd.NaT
    ppdr_open = (
        bool(p.get("ppdr_eligible"))
        and window_end is not pd.NaT
        and window_end.date() >= data.as_of
    )
    billed = float(p["billed"])
    owed = billed - float(p["paid"])
    if p.get("plan_type") == "self_pay" and bool(p.get("ppdr_eligible")) and gfe_known:
        owed = min(billed, float(gfe) + 399.99)
    return {
        "sender": _sender(sender, pd.DataFrame()),
        "claim_id": str(w["claim_id"]),
        "service_date": day(p["service_date"]),
        "self_pay": p.get("plan_type") == "self_pay",
        "protected": bool(p.get("nsa_applies")) and not bool(p.get("balance_bill_allowed")),
        "billed": money(billed),
        "gfe": money(gfe) if gfe_known else "",
        "over_gfe": money(p.get("bill_over_gfe")) if bool(p.get("ppdr_eligible")) else "",
        "ppdr_open": ppdr_open,
        "ppdr_by": day(window_end) if ppdr_open else "",
        "patient_resp": money(p.get("patient_resp")),
        "over_cap": money(p.get("excess_over_cap"))
        if bool(p.get("patient_resp_exceeds_cap"))
        else "",
        "owed": money(owed),
    }


# --- the staff cover note ---------------------------------------------------------------------


def _target_row(data: LetterData, payer: str, family: str) -> dict[str, Any] | None:
    """The (payer, code family) targets row, for the staff note only."""
    t = data.targets
    if t is None or t.empty:
        return None
    hit = t[(t["payer"] == payer) & (t["code_family"] == family)]
    return hit.iloc[0].to_dict() if len(hit) else None


def _send_row(received: date, sent: date) -> dict[str, str]:
    """One 'if sent on' row: the period end and the IDR window for a send date."""
    from oonplaybook import nsa

    dl = nsa.deadlines(received, notice_date=sent)
    return {
        "sent": iso(sent),
        "ends": iso(dl.open_negotiation_period_end),
        "idr_from": iso(dl.idr_window_start),
        "idr_to": iso(dl.idr_initiate_by),
    }


def send_on_table(received: Any, as_of: date, rows: int = 6) -> list[dict[str, str]]:
    """'If sent on …' rows: for send dates from the first business day on or after ``as_of``
    (weekly), the open negotiation end and the IDR initiation window; empty when the last
    day to send has passed."""
    from oonplaybook import nsa
    from oonplaybook.reference import calendar as bd

    if received is None or pd.isna(received):
        return []
    ipd = pd.Timestamp(received).date()
    last = nsa.deadlines(ipd).open_negotiation_initiate_by
    d = bd.roll_forward(max(ipd, as_of))
    out: list[dict[str, str]] = []
    while d <= last and len(out) < rows:
        out.append(_send_row(ipd, d))
        d = bd.add_business_days(d, 5)
    if out and out[-1]["sent"] != iso(last):
        out.append(_send_row(ipd, last))
    return out


def _num(v: Any) -> float:
    """A number from a worklist cell (NaN when blank or not a number)."""
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def _days(v: Any) -> str:
    """Days left in words ('12 days left', 'no deadline')."""
    x = _num(v)
    return "no deadline" if x != x else f"{int(x):,} days left"


def cover_note(
    kind: str,
    letter_file: str,
    *,
    w: Mapping[str, Any] | None,
    lines: pd.DataFrame,
    data: LetterData,
    fields: list[str],
    warnings: list[str],
    batch: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Context of the staff cover note: what to send, by when, the guardrails and the tactics."""
    from oonplaybook.letters.audiences import LETTER_TYPES

    lt = LETTER_TYPES[kind]
    facts: list[tuple[str, str]] = []
    sections: list[tuple[str, list[str]]] = []
    send_on: list[dict[str, str]] = []
    spec = str((w or {}).get("specialty", "")) or (
        str(
            data.disputes.loc[data.disputes["batch_id"] == batch["batch_id"], "specialty"]
            .mode()
            .iloc[0]
        )
        if batch is not None
        and data.disputes is not None
        and "specialty" in data.disputes
        and (data.disputes["batch_id"] == batch["batch_id"]).any()
        else "generic"
    )
    prof = profile_for(spec, data.profiles)
    if w is not None:
        facts += [
            ("Claim", str(w["claim_id"])),
            ("Payer", str(w["payer"])),
            ("Worklist rank", str(w.get("rank", ""))),
            ("Route / next step", f"{w['route']} / {w.get('next_step', '')}"),
            (
                "Deadline",
                f"{iso(w.get('deadline'))} ({_days(w.get('days_left'))} as of {iso(data.as_of)})",
            ),
            (
                "Billed / allowed / paid",
                f"{money(w['billed'])} / {money(w['allowed'])} / {money(w['paid'])}",
            ),
            (
                "Expected recovery",
                f"{money(w.get('expected_recovery'))} (probability {pct(100 * _num(w.get('probability')))})",
            ),
        ]
        t = _target_row(data, str(w["payer"]), str(w.get("code_family", "")))
        if t and kind in ("payer_negotiation", "state_dispute_notice", "open_negotiation_notice"):
            sections.append(
                (
                    "Negotiation guardrails (never share with the payer)",
                    [
                        f"Opening ask {mult(t['opening_ask_x'])} Medicare: {t['opening_rationale']}",
                        f"Target {mult(t['target_x'])} Medicare: {t['target_rationale']}",
                        f"Walk-away {mult(t['walk_away_x'])} Medicare: {t['walk_away_rationale']}",
                        f"This claim's line target total: {money(w.get('target'))}",
                    ]
                    + (
                        [f"Payer model: {t['payer_evidence']}"]
                        if str(t.get("payer_evidence", "") or "")
                        else []
                    ),
                )
            )
        tactics = [
            f"{t.tactic} — counter: {t.counter}"
            for t in getattr(prof, "payer_tactics", [])
            if not t.carcs or str(w.get("carc", "")) in t.carcs or kind != "appeal"
        ]
        if tactics:
            sections.append(
                (f"What {getattr(prof, 'display_name', spec)} payers tend to do", tactics)
            )
        docs = [d for d in str(w.get("documents_needed", "")).split("; ") if d]
        if docs:
            sections.append(("Full documentation checklist (attach what applies)", docs))
        group = str(w.get("denial_group", ""))
        if kind == "appeal" and group in arg.ALTERNATIVE_GROUNDS:
            sections.append(
                ("If the ground in the letter does not fit", [arg.ALTERNATIVE_GROUNDS[group]])
            )
        if kind == "open_negotiation_notice":
            received = pd.to_datetime(lines["remit_date"]).min() if len(lines) else None
            send_on = send_on_table(received, data.as_of)
            sections.append(
                (
                    "Sending the notice",
                    [
                        "Send it to the open-negotiation contact printed on the remittance or EOB (CMS: using other contact details is a common reason a notice is disputed).",
                        "The 30-business-day period starts the day the notice is sent; the merge command fills the dates from --sent-on.",
                        "Keep proof of delivery: the IDR entity may ask for it.",
                    ]
                    + (
                        []
                        if send_on
                        else [
                            "The last day to send this notice has passed as of the analysis date."
                        ]
                    ),
                )
            )
        if kind == "patient_explanation" and data.protections is not None:
            p = data.protections[data.protections["claim_id"] == w["claim_id"]]
            if len(p):
                sections.append(
                    (
                        "Patient protections for this claim",
                        [
                            str(p.iloc[0]["explanation"]),
                            f"May bill the patient: {p.iloc[0]['may_bill_patient']}",
                        ],
                    )
                )
    if batch is not None:
        facts += [
            ("IDR batch", str(batch["batch_id"])),
            ("Payer", str(batch["payer"])),
            ("Line items / claims", f"{batch['n_lines']} / {batch['n_claims']}"),
            ("Initiate IDR by", iso(batch["initiate_by"])),
            ("Expected value net of fees", money(batch.get("ev_net"))),
            ("Win probability (prior)", str(batch.get("p_win", ""))),
        ]
        supported = arg.supported_circumstances(lines)
        missing = arg.unsupported_factors(supported)
        hints = {a.factor: a.argument for a in getattr(prof, "idr_arguments", [])}
        sections.append(
            (
                "Additional circumstances not asserted (add only with the practice's own evidence)",
                [f"{arg.FACTOR_TITLES[f]}: {hints.get(f, 'no profile text')}" for f in missing],
            )
        )
        sections.append(
            (
                "Before submitting",
                [
                    "Redact PHI from every attachment before uploading to the federal IDR portal (CMS: a common mistake).",
                    "Fill «DISPUTE_NUMBER» from the portal's initiation confirmation and «OPEN_NEGOTIATION_START» with the day the notices were sent.",
                ],
            )
        )
    return {
        "title": lt.title,
        "letter_file": letter_file,
        "recipient": lt.audience.title,
        "facts": facts,
        "sections": sections,
        "send_on": send_on,
        "fields": fields,
        "warnings": warnings,
    }
