"""Letters filled from the worklist: Markdown (jinja2 templates) and Word (.docx, python-docx).

Templates in ``letters/templates``: ``appeal`` (levels 1, 2 and external review),
``open_negotiation_notice`` (the content 45 CFR 149.510(b)(1)(ii)(A) and the CMS standard notice
require: items and services with dates, service codes, initial payment or denial, the offer, and
the sender's contact information), ``idr_offer_brief`` (per IDR batch, built on the additional
circumstances only), ``payer_negotiation`` (benchmark evidence) and ``patient_explanation``.

PHI: letters carry the claim id and the salted ``patient_key`` as the patient reference, dates
of service and codes; never names, member ids or birth dates (the canonical tables do not hold
them). Letters are written only under the run folder the caller passes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from oonplaybook.playbook.appeals import CARC_GROUPS

LETTER_TYPES = (
    "appeal",
    "open_negotiation_notice",
    "idr_offer_brief",
    "payer_negotiation",
    "patient_explanation",
)

#: Short CARC meanings for letters (WPC CARC list as paraphrased in DOMAIN.md §4.2).
CARC_MEANINGS: dict[str, str] = {
    "4": "procedure code inconsistent with the modifier, or a modifier is missing",
    "16": "claim lacks information or has billing errors",
    "18": "exact duplicate claim/service",
    "22": "may be covered by another payer (coordination of benefits)",
    "27": "expenses incurred after coverage terminated",
    "29": "time limit for filing has expired",
    "45": "charge exceeds fee schedule/maximum allowable",
    "50": "not deemed a medical necessity by the payer",
    "96": "non-covered charge",
    "97": "benefit included in the payment for another service",
    "109": "claim not covered by this payer",
    "131": "claim-specific negotiated discount",
    "150": "payer deems the information submitted does not support this level of service",
    "197": "precertification/authorization/notification absent",
    "204": "service not covered under the patient's current benefit plan",
    "226": "information requested from the provider was not provided",
    "242": "services not provided by network/primary care providers",
    "243": "services not authorized by network/primary care providers",
    "252": "an attachment/other documentation is required",
}

#: Arguments per denial group for appeal letters. Emergency rules: 45 CFR 149.110(b)(1) (no prior
#: authorization, regardless of network status); prudent layperson: 45 CFR 149.110(b)(2)(i)
#: (coverage by presenting symptoms, not final diagnosis). External review: 29 CFR 2590.715-2719.
GROUP_ARGUMENTS: dict[str, tuple[str, ...]] = {
    "medical_necessity": (
        "The enclosed medical records document the clinical indication for each service billed; the treating physician's letter explains why the service was necessary for this patient.",
        "A denial for medical necessity must identify the clinical criteria applied and is subject to external review by an independent review organization (29 CFR 2590.715-2719(d)).",
    ),
    "authorization": (
        "The enclosed authorization record (or retro-authorization request) shows the service was authorized or could not have been delayed to obtain authorization.",
    ),
    "network": (
        "Emergency services and ancillary services at an in-network facility may not be denied because the provider is out of network (45 CFR 149.110(b)(1); 42 U.S.C. 300gg-132(b)).",
        "No participating provider was available to furnish this service at the facility; a network-adequacy denial involving that question is eligible for external review (29 CFR 2590.715-2719(d)(1)(ii), Example 2).",
    ),
    "coding_bundling": (
        "The procedure note supports a distinct, separately identifiable service; the modifier on the claim (59/XS/XU) reflects a separate session, site or encounter under NCCI policy.",
    ),
    "missing_info": ("The requested records are enclosed; please reprocess the claim.",),
    "timely_filing": (
        "The enclosed clearinghouse acceptance report shows the claim was filed within the plan's timely-filing limit.",
    ),
    "eligibility_cob": (
        "The enclosed eligibility response and primary-payer EOB establish coverage and the order of benefits on the date of service.",
    ),
    "non_covered": (
        "The service is a covered benefit under the plan document for the condition documented in the enclosed records.",
    ),
    "credentialing": (
        "The rendering provider was credentialed/enrolled on the date of service (confirmation enclosed).",
    ),
    "underpayment": (
        "The allowed amount is below any reasonable measure of the market value of the service (benchmarks enclosed).",
    ),
    "other": (
        "The determination is not supported by the claim record; please reprocess or explain the specific basis for the denial.",
    ),
}

#: Emergency claims: prior authorization and network status may not be required (45 CFR
#: 149.110(b)(1)); the emergency is judged by presenting symptoms (45 CFR 149.110(b)(2)(i)).
EMERGENCY_ARGUMENT = (
    "This was an emergency service: the plan must cover it without any prior authorization determination "
    "and regardless of network status (45 CFR 149.110(b)(1)), judging the emergency by the presenting "
    "symptoms, not the final diagnosis (45 CFR 149.110(b)(2)(i)). The denial is improper under the No "
    "Surprises Act; a complaint may also go to the No Surprises Help Desk (1-800-985-3059)."
)

#: Human titles of the IDR factors in specialty profiles (45 CFR 149.510(c)(4)(iii)(B)(1)-(5), (C)).
FACTOR_TITLES = {
    "training_experience_quality": "Level of training, experience and quality and outcome measurements",
    "market_share": "Market share of the parties in the geographic region",
    "acuity_complexity": "Acuity of the patient and complexity of the service",
    "teaching_status_case_mix": "Teaching status, case mix and scope of services of the facility",
    "good_faith_network_efforts": "Good-faith efforts to enter a network agreement; prior contracted rates",
    "other_credible_information": "Other credible information relating to the offer",
}

NSA_HELP_DESK = "1-800-985-3059"  # No Surprises Help Desk (DOMAIN.md §1.4)


def _money(v: Any) -> str:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return "n/a"
    if x != x:
        return "n/a"
    return f"${x:,.2f}"


def _pct(v: Any) -> str:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if x != x else f"{x:.0f}%"


def _mult(v: Any) -> str:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if x != x else f"{x:.2f}x"


def _d(v: Any) -> str:
    if v is None or v is pd.NaT or (isinstance(v, float) and v != v):
        return "n/a"
    return pd.Timestamp(v).date().isoformat()


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("oonplaybook.letters", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # Markdown output, not HTML
        keep_trailing_newline=True,
        trim_blocks=False,
    )
    env.globals.update(money=_money, pct=_pct, mult=_mult)
    return env


def render_markdown(template: str, **context: Any) -> str:
    """Render one letter template to Markdown (StrictUndefined: a missing field is an error)."""
    if template not in LETTER_TYPES:
        raise ValueError(f"unknown letter template {template!r}; choose from {LETTER_TYPES}")
    text = _env().get_template(f"{template}.md.j2").render(**context)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


# --- Markdown -> .docx ---------------------------------------------------------------------------

_BOLD = re.compile(r"(\*\*[^*]+\*\*|`[^`]+`)")


def _add_runs(par: Any, text: str) -> None:
    for part in _BOLD.split(text):
        if not part:
            continue
        if part.startswith("**") and part.endswith("**"):
            par.add_run(part[2:-2]).bold = True
        elif part.startswith("`") and part.endswith("`"):
            par.add_run(part[1:-1]).italic = True
        else:
            par.add_run(part)


def markdown_to_docx(markdown: str, path: Path) -> Path:
    """Write the Markdown subset the templates use (headings, paragraphs, bullets, tables, bold) as .docx."""
    from docx import Document
    from docx.shared import Pt

    doc = Document()
    doc.core_properties.author = "oonplaybook"
    doc.core_properties.created = pd.Timestamp("2000-01-01").to_pydatetime()
    doc.core_properties.modified = pd.Timestamp("2000-01-01").to_pydatetime()
    doc.core_properties.last_modified_by = "oonplaybook"
    doc.core_properties.revision = 1
    style = doc.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(10.5)
    bullet = doc.styles["List Bullet"]
    grid = doc.styles["Table Grid"]
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("|"):
            block = []
            while i < len(lines) and lines[i].startswith("|"):
                block.append(lines[i])
                i += 1
            rows = [
                [c.strip() for c in r.strip().strip("|").split("|")]
                for r in block
                if not re.fullmatch(r"\|[\s\-|:]+\|?", r.strip())
            ]
            ncol = max(len(r) for r in rows)
            table = doc.add_table(rows=0, cols=ncol)
            table.style = grid
            for r_i, row in enumerate(rows):
                cells = (
                    table.add_row().cells
                )  # one cells lookup per row (python-docx cell() is O(n^2))
                for c_i, cell in enumerate(cells):
                    _add_runs(cell.paragraphs[0], row[c_i] if c_i < len(row) else "")
                    if r_i == 0:
                        for run in cell.paragraphs[0].runs:
                            run.bold = True
            continue
        m = re.match(r"^(#{1,3})\s+(.*)$", line)
        if m:
            doc.add_heading(m.group(2), level=len(m.group(1)))
        elif line.startswith("- "):
            _add_runs(doc.add_paragraph(style=bullet), line[2:])
        elif line.strip():
            _add_runs(doc.add_paragraph(), line)
        i += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    _save_deterministic(doc, path)
    return path


def _save_deterministic(doc: Any, path: Path) -> None:
    """Save a python-docx document with fixed zip-entry times (python-docx stamps the wall
    clock on every entry), so the same letter is byte-identical across runs."""
    import io
    import zipfile

    buf = io.BytesIO()
    doc.save(buf)
    buf.seek(0)
    with (
        zipfile.ZipFile(buf) as zin,
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zout,
    ):
        for item in zin.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = item.external_attr
            zout.writestr(info, zin.read(item.filename))


# --- contexts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LetterInputs:
    """Everything the letters draw on besides the worklist row."""

    claim_lines: pd.DataFrame
    targets: pd.DataFrame
    client_name: str
    as_of: date
    contact: str = ""
    practice_size: str = ""
    profiles: Mapping[str, Any] | None = None


def _profiles_by_name(profiles: Mapping[str, Any] | Sequence[Any] | None) -> dict[str, Any]:
    if profiles is None:
        return {}
    if isinstance(profiles, Mapping):
        return dict(profiles)
    return {p.name: p for p in profiles}


def _profile_for(specialty: str, profiles: dict[str, Any]) -> Any:
    from oonplaybook.specialties import profile_or_generic

    return profiles.get(specialty) or profiles.get("generic") or profile_or_generic(specialty)


def _claim_lines(li: LetterInputs, claim_id: str, line_nos: str) -> pd.DataFrame:
    nos = {int(x) for x in str(line_nos).split(":") if x != ""}
    c = li.claim_lines[li.claim_lines["claim_id"] == claim_id]
    return c[c["line_no"].isin(nos)].sort_values("line_no") if nos else c.sort_values("line_no")


def _with_family(lines: pd.DataFrame) -> pd.DataFrame:
    """Lines with ``code_family`` and the benchmark columns the target/offer helpers read."""
    from oonplaybook.playbook._adapters import line_frame

    return line_frame(lines, None)


def _common(w: Mapping[str, Any], li: LetterInputs, lines: pd.DataFrame) -> dict[str, Any]:
    dates = (
        sorted({_d(x) for x in lines["service_date"]}) if len(lines) else [_d(w["service_date"])]
    )
    return {
        "w": dict(w),
        "client_name": li.client_name or "The practice",
        "contact": li.contact,
        "as_of": li.as_of.isoformat(),
        "service_dates": ", ".join(dates),
        "deadline": _d(w.get("deadline")),
        "payer_claim_id": str(lines["payer_claim_id"].iloc[0])
        if len(lines) and "payer_claim_id" in lines
        else "",
        "n_lines": int(len(lines)),
    }


def _appeal_context(w: Mapping[str, Any], li: LetterInputs, lines: pd.DataFrame) -> dict[str, Any]:
    ctx = _common(w, li, lines)
    code = str(w["carc"]).split("-", 1)[-1]
    level = {"appeal_l1": 1, "appeal_l2": 2, "external_review": 3}.get(str(w["route"]), 1)
    prof = _profile_for(str(w["specialty"]), _profiles_by_name(li.profiles))
    args = list(GROUP_ARGUMENTS.get(str(w["denial_group"]), GROUP_ARGUMENTS["other"]))
    emergency = bool(lines["emergency"].any()) if len(lines) and "emergency" in lines else False
    if emergency and str(w["denial_group"]) in ("authorization", "network"):
        args = [EMERGENCY_ARGUMENT]
    for t in getattr(prof, "payer_tactics", []):
        if str(w["carc"]) in t.carcs:
            args.append(f"{prof.display_name}: {t.counter}")
    ctx.update(
        level=level,
        level_title={1: "Level-1 appeal", 2: "Level-2 appeal", 3: "Request for external review"}[
            level
        ],
        carc_meaning=CARC_MEANINGS.get(code, f"CARC {code} ({CARC_GROUPS.get(code, 'other')})"),
        lines=[
            {"line_no": int(r.line_no), "cpt": r.cpt, "billed": r.billed, "paid": r.paid}
            for r in lines.itertuples()
        ],
        arguments=args,
        documents=[d for d in str(w["documents_needed"]).split("; ") if d],
    )
    return ctx


def _nsa_context(
    w: Mapping[str, Any], li: LetterInputs, lines: pd.DataFrame, disputes: pd.DataFrame | None
) -> dict[str, Any]:
    from oonplaybook import nsa

    ctx = _common(w, li, lines)
    from oonplaybook.playbook.idr_batches import idr_offer

    lines = _with_family(lines)
    offer_s, _, _ = (
        idr_offer(lines, li.targets) if len(lines) else (pd.Series(dtype="float64"), None, None)
    )
    offers = dict(zip(lines["line_no"].astype(int), offer_s, strict=True))
    if disputes is not None and len(disputes):  # the priced dispute lines win when present
        d = disputes[disputes["claim_id"] == w["claim_id"]]
        offers.update(dict(zip(d["line_no"].astype(int), d["offer"], strict=True)))
    remit = pd.to_datetime(lines["remit_date"]).min() if len(lines) else pd.NaT
    dl = (
        nsa.deadlines(remit.date(), notice_date=li.as_of)
        if remit is not pd.NaT and li.as_of >= remit.date()
        else None
    )
    rows = []
    for r in lines.itertuples():
        offer = float(offers.get(int(r.line_no), float("nan")))
        rows.append(
            {
                "service_date": _d(r.service_date),
                "cpt": r.cpt,
                "denied": r.claim_status == "denied",
                "remit_date": _d(r.remit_date),
                "paid": float(r.paid)
                + float(r.patient_resp if r.patient_resp == r.patient_resp else 0.0),
                "offer": offer,
            }
        )
    emergency = bool(lines["emergency"].any()) if len(lines) else False
    air = bool(lines["air_ambulance"].any()) if len(lines) else False
    ctx.update(
        lines=rows,
        total_paid=sum(r["paid"] for r in rows),
        total_offer=sum(r["offer"] for r in rows),
        payer_id=str(lines["payer_id"].iloc[0]) if len(lines) else "",
        npi=str(lines["provider_npi"].iloc[0]) if len(lines) else "",
        tin=str(lines["provider_tin"].iloc[0]) if len(lines) else "",
        state=str(lines["state"].iloc[0]) if len(lines) else "",
        service_type="air ambulance"
        if air
        else (
            "emergency services"
            if emergency
            else "non-emergency services by a nonparticipating provider at a participating facility"
        ),
        offer_basis="Each offer is the qualifying payment amount times the median award level in federal IDR determinations for this specialty (CMS IDR public use files and published analyses), capped at the charge.",
        on_period_end=_d(dl.open_negotiation_period_end) if dl else "n/a",
        idr_window_start=_d(dl.idr_window_start) if dl else "n/a",
        idr_initiate_by=_d(dl.idr_initiate_by) if dl else "n/a",
    )
    ctx["w"]["remit_date_str"] = _d(remit)
    return ctx


def _negotiation_context(
    w: Mapping[str, Any], li: LetterInputs, lines: pd.DataFrame
) -> dict[str, Any]:
    from oonplaybook.playbook import appeals as ap
    from oonplaybook.playbook.targets import line_targets

    ctx = _common(w, li, lines)
    lf = _with_family(lines)
    lt = line_targets(lf, li.targets) if len(lf) else pd.DataFrame()
    rows = []
    for (_, r), (_, t) in zip(lf.iterrows(), lt.iterrows(), strict=True):
        m = float(r["medicare_allowed"])
        rows.append(
            {
                "line_no": int(r["line_no"]),
                "cpt": r["cpt"],
                "billed": r["billed"],
                "allowed": r["allowed"],
                "medicare": m,
                "allowed_x": float(r["allowed"]) / m if m and m == m else float("nan"),
                "target": t["line_target"],
            }
        )
    tg = li.targets[
        (li.targets["payer"] == w["payer"]) & (li.targets["code_family"] == w["code_family"])
    ]
    evidence = []
    if len(tg):
        t0 = tg.iloc[0]
        evidence = [
            f"Opening: {t0['opening_rationale']}",
            f"Target: {t0['target_rationale']}",
            f"Floor: {t0['walk_away_rationale']}",
        ]
        if str(t0.get("payer_evidence", "")):
            evidence.append(f"Payer model: {t0['payer_evidence']}")
    prof = _profile_for(str(w["specialty"]), _profiles_by_name(li.profiles))
    evidence += list(getattr(prof, "negotiation_benchmarks", []))
    pp = (
        ap.prompt_pay_interest(lines)
        if len(lines)
        else pd.DataFrame({"prompt_pay_interest": [], "days_late": []})
    )
    ctx.update(
        lines=rows,
        evidence=evidence,
        interest=float(pp["prompt_pay_interest"].sum()),
        days_late=int(pp["days_late"].max()) if len(pp) else 0,
        state=str(lines["state"].iloc[0]) if len(lines) else "",
        tactics=[f"{t.tactic}: {t.counter}" for t in getattr(prof, "payer_tactics", [])[:3]],
    )
    return ctx


def _patient_context(p: Mapping[str, Any], li: LetterInputs) -> dict[str, Any]:
    p = dict(p)
    p["gfe_amount_known"] = (
        p.get("gfe_amount") == p.get("gfe_amount") and p.get("gfe_amount") is not None
    )
    p["ppdr_window_end"] = _d(p.get("ppdr_window_end")) if p.get("ppdr_eligible") else ""
    p["balance"] = float(p["billed"]) - float(p["paid"])
    return {
        "p": p,
        "client_name": li.client_name or "The practice",
        "contact": li.contact,
        "as_of": li.as_of.isoformat(),
        "service_dates": _d(p["service_date"]),
    }


def _brief_context(
    b: Mapping[str, Any], disputes: pd.DataFrame, li: LetterInputs
) -> dict[str, Any]:
    d = disputes[disputes["batch_id"] == b["batch_id"]].sort_values(["claim_id", "line_no"])
    spec = str(d["specialty"].mode().iloc[0]) if len(d) else "generic"
    prof = _profile_for(spec, _profiles_by_name(li.profiles))
    args = [
        {
            "title": FACTOR_TITLES.get(a.factor, a.factor),
            "argument": a.argument,
            "evidence": "; ".join(a.evidence),
        }
        for a in getattr(prof, "idr_arguments", [])
    ]
    rows = [
        {
            "claim_id": r.claim_id,
            "line_no": int(r.line_no),
            "cpt": r.cpt,
            "qpa": r.qpa,
            "offer": r.offer,
            "offer_pct_qpa": 100.0 * float(r.offer) / float(r.qpa)
            if r.qpa and r.qpa == r.qpa
            else float("nan"),
        }
        for r in d.itertuples()
    ]
    qpa_total = float(b["qpa_total"])
    return {
        "b": dict(b),
        "client_name": li.client_name or "The practice",
        "specialty_name": getattr(prof, "display_name", spec),
        "practice_size": li.practice_size,
        "first_service": _d(b["first_service"]),
        "last_service": _d(b["last_service"]),
        "initiate_by": _d(b["initiate_by"]),
        "disputes": rows,
        "batch_pct": 100.0 * float(b["offer_total"]) / qpa_total if qpa_total > 0 else float("nan"),
        "idr_arguments": args,
    }


def _safe(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z_.-]+", "_", name)[:80]


def render_letters(
    worklist: pd.DataFrame,
    *,
    claim_lines: pd.DataFrame,
    targets: pd.DataFrame,
    out_dir: str | Path,
    limit: int,
    client_name: str,
    as_of: date,
    profiles: Mapping[str, Any] | Sequence[Any] | None = None,
    disputes: pd.DataFrame | None = None,
    batches: pd.DataFrame | None = None,
    protections: pd.DataFrame | None = None,
    contact: str = "",
    practice_size: str = "",
    docx: bool = True,
    benchmarks: pd.DataFrame | None = None,
) -> list[Path]:
    """Render the letters of the top open worklist items (by rank) and the top IDR batches.

    Up to ``limit`` worklist letters, plus one IDR offer brief per batch worth filing (up to
    ``limit``), each as ``.md`` and (``docx=True``) ``.docx`` under ``out_dir``. Returns the
    written paths, sorted. Patient explanations come from ``protections`` rows of the claims.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    w = (
        worklist[worklist["status"].eq("open") & worklist["letter"].astype("str").ne("")]
        .sort_values("rank")
        .head(limit)
    )
    prot = (
        protections.set_index("claim_id") if protections is not None and len(protections) else None
    )
    from oonplaybook.playbook._adapters import isin, line_frame

    # only the claims that get a letter, with their benchmark rungs (Medicare, QPA, UCR) joined
    by_claim = line_frame(claim_lines[isin(claim_lines["claim_id"], w["claim_id"])], benchmarks)
    li = LetterInputs(by_claim, targets, client_name, as_of, contact, practice_size, profiles)
    for row in w.to_dict("records"):
        lines = _claim_lines(li, row["claim_id"], row["lines"])
        kind = row["letter"]
        if kind == "appeal":
            md = render_markdown("appeal", **_appeal_context(row, li, lines))
        elif kind == "open_negotiation_notice":
            md = render_markdown(
                "open_negotiation_notice", **_nsa_context(row, li, lines, disputes)
            )
        elif kind == "payer_negotiation":
            md = render_markdown("payer_negotiation", **_negotiation_context(row, li, lines))
        elif kind == "patient_explanation":
            if prot is None or row["claim_id"] not in prot.index:
                continue
            p = prot.loc[row["claim_id"]].to_dict() | {"claim_id": row["claim_id"]}
            md = render_markdown("patient_explanation", **_patient_context(p, li))
        elif kind == "idr_offer_brief":
            continue  # briefs are per batch, below
        else:
            raise ValueError(f"worklist row {row['claim_id']}: unknown letter {kind!r}")
        stem = f"{int(row['rank']):05d}_{kind}_{_safe(str(row['claim_id']))}"
        written += _write(out, stem, md, docx)
    if batches is not None and disputes is not None and len(batches):
        for b in batches[batches["worth_filing"].astype("bool")].head(limit).to_dict("records"):
            md = render_markdown("idr_offer_brief", **_brief_context(b, disputes, li))
            written += _write(out, f"idr_{_safe(str(b['batch_id']))}_offer_brief", md, docx)
    return sorted(written)


def render_patient_letters(
    protections: pd.DataFrame,
    *,
    out_dir: str | Path,
    limit: int,
    client_name: str,
    as_of: date,
    contact: str = "",
    docx: bool = True,
) -> list[Path]:
    """Plain-language explanations for the claims where the patient needs one first.

    Priority: self-pay bills $400+ over the estimate, then patient responsibility above the NSA
    cap, then other NSA-protected claims; ties by claim id.
    """
    out = Path(out_dir)
    li = LetterInputs(pd.DataFrame(), pd.DataFrame(), client_name, as_of, contact)
    p = protections.assign(
        _o=(~protections["ppdr_eligible"]).astype(int) * 2
        + (~protections["patient_resp_exceeds_cap"]).astype(int)
    )
    p = p[p["ppdr_eligible"] | p["patient_resp_exceeds_cap"] | p["nsa_applies"]]
    p = p.sort_values(["_o", "claim_id"], kind="stable").head(limit)
    written: list[Path] = []
    for row in p.drop(columns="_o").to_dict("records"):
        md = render_markdown("patient_explanation", **_patient_context(row, li))
        written += _write(out, f"patient_{_safe(str(row['claim_id']))}", md, docx)
    return sorted(written)


def _write(out: Path, stem: str, md: str, docx: bool) -> list[Path]:
    path = out / f"{stem}.md"
    path.write_text(md, encoding="utf-8")
    paths = [path]
    if docx:
        paths.append(markdown_to_docx(md, out / f"{stem}.docx"))
    return paths
