"""837P (5010 X222A1) reader: the billed side of each claim, keyed for the join to the 835.

Walks the HL hierarchy (2000A billing provider, 2000B subscriber/payer, 2000C patient), the 2300
claim (CLM01 is the key to the 835's CLP01), the 2310B rendering and 2310C service-facility
NM1s, and each 2400 line (LX/SV1/DTP*472/REF*6R). Money is integer cents until the table is
built. A CLM or SV1 whose amount is not a number is rejected with its segment number; the rest
of the file is kept. 2430 (prior-payer SVD/CAS) is COB history, not this payer's outcome: it is
counted, not read as adjustments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from oonplaybook import schema
from oonplaybook.ingest.identity import identity_key
from oonplaybook.ingest.x12 import _cents, _composite, _dates, _money, tokenize
from oonplaybook.ingest.x12_tokens import InvalidValue, describe, parse_quantity

#: SBR09 claim filing indicator -> plan type. Only code 16 ("Health Maintenance Organization
#: (HMO) Medicare Risk", X222A1 2000B SBR09) fixes the funding; the others (CI commercial, 12
#: PPO, HM HMO...) do not say whether the plan is fully insured or self-funded, so they map to
#: "unknown" and the export/params must supply it.
SBR09_PLAN_TYPE = {"16": "medicare_advantage"}


@dataclass
class ClaimsRead:
    """What :func:`read_837p` returns: billed-side canonical lines, rejects and stats."""

    claim_lines: pd.DataFrame
    rejects: list[dict[str, str]]
    stats: dict[str, Any]


def _d8(v: str) -> str:
    """First date of a D8 or RD8 (``CCYYMMDD-CCYYMMDD``) value."""
    return v.split("-")[0].strip()


def read_837p(data: bytes, name: str, *, salt: str) -> ClaimsRead:  # noqa: C901 - one walker
    """Read an 837P into billed-side claim lines (claim_status "pending" until a remit joins)."""
    tok = tokenize(data, name)
    warnings = list(tok.warnings)
    rejects: list[dict[str, str]] = []
    rows: dict[str, list] = {
        k: []
        for k in (
            "claim_id",
            "line_no",
            "payer",
            "payer_id",
            "plan_type",
            "provider_npi",
            "provider_tin",
            "patient_key",
            "service_date",
            "submitted_date",
            "cpt",
            "modifiers",
            "units",
            "unit_type",
            "pos",
            "state",
            "service_zip",
            "billed",
            "emergency",
            "line_control",
            "source",
            "_claim",
            "_freq",
        )
    }
    stats: dict[str, Any] = {
        "claims_in_file": 0,
        "claims": 0,
        "claims_rejected": 0,
        "lines_rejected": 0,
        "cob_segments": 0,
        "unknown_segments": {},
        "versions": {},
        "other_transactions": {},
    }
    prov: dict[str, str] = {}
    sub: dict[str, str] = {}
    pat: dict[str, str] = {}
    claim: dict[str, Any] | None = None
    line: dict[str, Any] | None = None
    level = ""  # 20/22/23 HL level; "2310B"/"2310C"/"2420" sub-loops inside a claim
    nm1 = ""
    bht_date = ""
    skip_claim = False
    skip_line = False

    def reject(segno: int, record: str, reason: str) -> None:
        rejects.append(
            {"file": name, "location": f"segment {segno}", "record": record, "reason": reason}
        )

    def close_line() -> None:
        nonlocal line
        ln, line = line, None
        if ln is None or claim is None:
            return
        claim["lines"].append(ln)

    def close_claim() -> None:
        nonlocal claim
        close_line()
        cl, claim = claim, None
        if cl is None:
            return
        if not cl["lines"] and cl["lines_rejected"]:
            # every service line was rejected (each with its reason): no claim-level stand-in
            # carrying CLM02, which would count the rejected lines' charges as accepted
            stats["claims_rejected"] += 1
            warnings.append(f"{cl['src']}: every service line rejected; claim not read")
            return
        stats["claims"] += 1
        total = sum(ln["billed"] for ln in cl["lines"])
        if cl["lines"] and total != cl["billed"]:
            warnings.append(
                f"{cl['src']}: CLM02 {cl['billed'] / 100:.2f} != sum of SV102 {total / 100:.2f}"
            )
        key = identity_key(salt, cl["member_id"], cl["pname"], cl["dob"]) if salt else ""
        lines = cl["lines"] or [
            {
                "no": 0,
                "cpt": "",
                "mods": "",
                "billed": cl["billed"],
                "units": 1.0,
                "unit": "UN",
                "pos": cl["pos"],
                "date": cl["date"],
                "ctl": "",
                "emergency": False,
                "npi": "",
                "src": cl["src"],
            }
        ]
        for ln in lines:
            rows["claim_id"].append(cl["id"])
            rows["line_no"].append(ln["no"])
            rows["payer"].append(cl["payer"])
            rows["payer_id"].append(cl["payer_id"])
            rows["plan_type"].append(cl["plan_type"])
            rows["provider_npi"].append(ln["npi"] or cl["npi"])
            rows["provider_tin"].append(cl["tin"])
            rows["patient_key"].append(key)
            rows["service_date"].append(ln["date"] or cl["date"])
            rows["submitted_date"].append(bht_date)
            rows["cpt"].append(ln["cpt"])
            rows["modifiers"].append(ln["mods"])
            rows["units"].append(ln["units"])
            rows["unit_type"].append(ln["unit"])
            rows["pos"].append(ln["pos"] or cl["pos"])
            rows["state"].append(cl["state"])
            rows["service_zip"].append(cl["zip"])
            rows["billed"].append(ln["billed"])
            rows["emergency"].append(ln["emergency"])
            rows["line_control"].append(ln["ctl"] or (str(ln["no"]) if ln["no"] else ""))
            rows["source"].append(ln["src"])
            rows["_claim"].append(stats["claims"])
            rows["_freq"].append(cl["freq"])

    saw_iea = False
    for chunk in tok.chunks:
        sep, comp = chunk.delimiters.element, chunk.delimiters.component
        segno = chunk.first_no - 1
        for seg in chunk.segments:
            segno += 1
            e = seg.split(sep)
            tag = e[0]

            def el(i: int, e: list[str] = e) -> str:
                return e[i].strip() if len(e) > i else ""

            if tag in ("ISA", "GS", "GE", "IEA", "ST", "SE", "BHT"):
                if tag == "GS":
                    stats["versions"][el(8)] = stats["versions"].get(el(8), 0) + 1
                elif tag == "ST" and el(1) != "837":
                    stats["other_transactions"][el(1)] = 1
                    warnings.append(f"{name}: segment {segno}: ST*{el(1)} is not an 837")
                elif tag == "BHT":
                    bht_date = el(4)
                elif tag == "SE":
                    close_claim()
                elif tag == "IEA":
                    saw_iea = True
                continue
            if tag == "HL":
                close_claim()
                skip_claim = False
                level = el(3)
                if level == "20":
                    prov = {}
                elif level == "22":
                    sub = {}
                    pat = {}
                elif level == "23":
                    pat = {}
                nm1 = ""
                continue
            if tag == "CLM":
                close_claim()
                skip_claim = False
                stats["claims_in_file"] += 1
                cid, amt_s = el(1), el(2)
                amt = _cents(amt_s)
                if not cid or amt is None:
                    why = (
                        "CLM01 is empty"
                        if not cid
                        else f"CLM02 charge: {describe(amt_s)}, not a number"
                    )
                    reject(segno, f"claim {cid or '?'}", f"{why}; claim not read")
                    stats["claims_rejected"] += 1
                    skip_claim = True
                    continue
                clm05 = _composite(el(5), comp)[0] if el(5) else [""]
                pos = clm05[0]
                # CLM05-3 claim frequency: 1 original, 7 replacement, 8 void (claim_instances)
                freq = clm05[2].strip() if len(clm05) > 2 else ""
                who = pat if pat.get("pname") else sub
                claim = {
                    "id": cid,
                    "billed": amt,
                    "pos": pos,
                    "date": "",
                    "lines": [],
                    "payer": sub.get("payer", ""),
                    "payer_id": sub.get("payer_id", ""),
                    "plan_type": SBR09_PLAN_TYPE.get(sub.get("sbr09", ""), "unknown"),
                    "npi": prov.get("npi", ""),
                    "tin": prov.get("tin", ""),
                    "state": prov.get("state", ""),
                    "zip": prov.get("zip", ""),  # 2010AA N403 until a 2310C N4 replaces it
                    "member_id": sub.get("member_id", ""),
                    "pname": who.get("pname", ""),
                    "dob": who.get("dob", ""),
                    "src": f"{name}:segment {segno}",
                    "lines_rejected": 0,
                    "freq": freq,
                }
                nm1 = ""
                continue
            if skip_claim and tag in ("LX", "SV1", "DTP", "REF", "NM1", "N3", "N4", "HI"):
                continue
            if tag == "LX":
                close_line()
                skip_line = False
                continue
            if tag == "SV1":
                close_line()
                skip_line = False
                if claim is None:
                    reject(segno, "SV1", "SV1 outside a claim (no CLM before it)")
                    stats["lines_rejected"] += 1
                    continue
                parts, _ = _composite(el(1), comp)
                amt = _cents(el(2))
                no = len(claim["lines"]) + 1
                if amt is None:
                    reject(
                        segno,
                        f"claim {claim['id']} line {no}",
                        f"SV102 charge: {describe(el(2))}, not a number; line not read",
                    )
                    stats["lines_rejected"] += 1
                    claim["lines_rejected"] += 1
                    skip_line = True
                    continue
                q = el(4)
                try:
                    units = parse_quantity(q, "SV104 units") if q else 1.0
                except InvalidValue as err:  # 1e309, inf, full-width digits: never inf or 1
                    reject(segno, f"claim {claim['id']} line {no}", f"{err}; line not read")
                    stats["lines_rejected"] += 1
                    claim["lines_rejected"] += 1
                    skip_line = True
                    continue
                unit = el(3) if el(3) in schema.UNIT_TYPES else "UN"
                line = {
                    "no": no,
                    "cpt": (parts[1] if len(parts) > 1 else parts[0]).strip().upper(),
                    "mods": ":".join(m.strip() for m in parts[2:6] if m.strip()),
                    "billed": amt,
                    "units": units,
                    "unit": unit,
                    "pos": el(5),
                    "date": "",
                    "ctl": "",
                    "emergency": el(9) == "Y",  # SV109 emergency indicator
                    "npi": "",
                    "src": f"{name}:segment {segno}",
                }
                nm1 = ""
                continue
            if skip_line and tag in ("DTP", "REF", "NM1"):
                continue
            if tag == "DTP":
                if el(1) == "472":
                    if line is not None:
                        line["date"] = _d8(el(3))
                    elif claim is not None:
                        claim["date"] = _d8(el(3))
                continue
            if tag == "REF":
                if line is not None and el(1) == "6R":
                    line["ctl"] = el(2)
                elif claim is None and level == "20" and el(1) == "EI":
                    prov["tin"] = el(2)
                continue
            if tag == "NM1":
                nm1 = el(1)
                if line is not None:
                    if nm1 == "82" and el(8) == "XX":
                        line["npi"] = el(9)
                elif claim is not None:
                    if nm1 == "82" and el(8) == "XX":
                        claim["npi"] = el(9)
                    elif nm1 == "77":
                        claim["facility_npi"] = el(9)
                elif nm1 == "85":
                    if el(8) == "XX":
                        prov["npi"] = el(9)
                elif nm1 == "IL":
                    sub["member_id"] = el(9)
                    sub["pname"] = f"{el(3)} {el(4)}"
                elif nm1 == "PR":
                    sub["payer"] = el(3)
                    sub["payer_id"] = el(9)
                elif nm1 == "QC":
                    pat["pname"] = f"{el(3)} {el(4)}"
                continue
            if tag == "N4":
                st = el(2)
                if claim is not None and nm1 == "77" and line is None:
                    claim["state"] = st  # 2310C service facility: where the service happened
                    claim["zip"] = el(3)  # N403: its ZIP gives the Medicare locality
                elif claim is None and nm1 == "85":
                    prov["state"] = st
                    prov["zip"] = el(3)  # 2010AA billing provider ZIP (no 2310C: same place)
                continue
            if tag == "DMG":
                target = pat if level == "23" else sub
                target["dob"] = el(2)
                continue
            if tag == "SBR":
                sub["sbr09"] = el(9)
                continue
            if tag in ("SVD", "CAS") or (tag == "AMT" and line is not None):
                stats["cob_segments"] += 1
                continue
            if tag in (
                "PER",
                "PRV",
                "N3",
                "HI",
                "PAT",
                "CN1",
                "AMT",
                "NTE",
                "PWK",
                "CR1",
                "CRC",
                "OI",
                "MOA",
                "LIN",
                "CTP",
                "PS1",
                "HCP",
                "K3",
                "QTY",
                "MEA",
                "CUR",
                "DTM",
            ):
                continue
            stats["unknown_segments"][tag] = stats["unknown_segments"].get(tag, 0) + 1
    close_claim()
    if tok.enveloped and not saw_iea:
        warnings.append(f"{name}: no IEA at the end of the file (truncated?)")
    src = rows["source"]
    df = pd.DataFrame(
        {
            "claim_id": pd.Series(rows["claim_id"], dtype="str"),
            "line_no": np.asarray(rows["line_no"], dtype="int64"),
            "payer": pd.Series(rows["payer"], dtype="str"),
            "payer_id": pd.Series(rows["payer_id"], dtype="str"),
            "plan_type": pd.Series(rows["plan_type"], dtype="str"),
            "provider_npi": pd.Series(rows["provider_npi"], dtype="str"),
            "provider_tin": pd.Series(rows["provider_tin"], dtype="str"),
            "patient_key": pd.Series(rows["patient_key"], dtype="str"),
            "service_date": _dates(rows["service_date"], src, warnings),
            "submitted_date": _dates(rows["submitted_date"], src, warnings),
            "cpt": pd.Series(rows["cpt"], dtype="str"),
            "modifiers": pd.Series(rows["modifiers"], dtype="str"),
            "units": np.asarray(rows["units"], dtype="float64"),
            "unit_type": pd.Series(rows["unit_type"], dtype="str"),
            "pos": pd.Series(rows["pos"], dtype="str"),
            "state": pd.Series(rows["state"], dtype="str"),
            "service_zip": pd.Series(rows["service_zip"], dtype="str"),
            "billed": _money(rows["billed"]),
            "claim_status": "pending",
            "emergency": np.asarray(rows["emergency"], dtype="bool"),
            "line_control": pd.Series(rows["line_control"], dtype="str"),
            "source": pd.Series(src, dtype="str"),
            # the claim's ordinal in the file: CLM01 can repeat (claim_instances keeps the
            # claims apart or reports true duplicates)
            "_claim": np.asarray(rows["_claim"], dtype="int64"),
            "_freq": pd.Series(rows["_freq"], dtype="str"),
        }
    )
    stats["warnings"] = warnings
    stats["lines"] = len(df)
    stats["encoding"] = tok.encoding
    return ClaimsRead(claim_lines=schema.conform(df), rejects=rejects, stats=stats)
