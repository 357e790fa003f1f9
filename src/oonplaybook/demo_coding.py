"""The demo's planted coding-compliance cases and its small synthetic NCCI tables.

CMS's real NCCI files carry AMA CPT content behind a licence click-through, so the demo ships
its own PTP and MUE tables in CMS's layouts (``ncci/`` in the demo folder), built around the
planted cases, plus decoys (deleted and withdrawn edits). Each case turns an existing demo line
into the situation it names and records the verdict and route ``coding.check_claims`` must give:

* ``ptp_correct_indicator_0``: column-2 line bundled (CO-97), indicator 0: the payer is right;
* ``ptp_correct_missing_modifier``: indicator 1, no modifier: corrected claim if documented;
* ``ptp_payer_ignored_modifier``: indicator 1 with 59/XS on the claim: the payer is wrong;
* ``ptp_deleted_edit`` / ``non_ncci_bundle``: the pair's edit was deleted before the date of
  service, or there is no such pair: the payer's own edit;
* ``mue_policy`` (MAI 2) and ``mue_clinical`` (MAI 3): units above the MUE, denied CO-151;
* ``em_in_global`` / ``em_in_global_with_24``: an E/M 20 days after a 90-day-global surgery by
  the same surgeon, bundled, without and with modifier 24.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from oonplaybook import schema
from oonplaybook.reference import ncci

PTP_NAME = "ccipra-demo-f1.txt"
MUE_NAME = "MCR_MUE_PractitionerServices_Eff_01-01-2024.csv"
_EFFECTIVE = "20190101"

_MUE_HEADER = (
    "\"Synthetic demo table in the layout of CMS's MUE file. Not CMS data.\n\n"
    "CMS's real file carries the AMA CPT notice here.\",,,\r\n"
    '"HCPCS/\nCPT Code",Practitioner Services MUE Values,MUE Adjudication Indicator,MUE Rationale\r\n'
)


def _deny(cl: pd.DataFrame, adj: pd.DataFrame, i: int, carc: str) -> pd.DataFrame:
    """Turn paid line ``i`` into a line denied with ``carc`` for its full charge (835-consistent)."""
    cid, ln = cl.at[i, "claim_id"], cl.at[i, "line_no"]
    for c in ("allowed", "paid", "patient_resp"):
        cl.at[i, c] = 0.0
    cl.at[i, "claim_status"] = "denied"
    cl.at[i, "carc"] = carc
    # RARC M15 "separately billed services have been bundled" goes with a bundling denial
    cl.at[i, "rarc"] = "M15" if carc == "CO-97" else ""
    cl.at[i, "paid_date"] = pd.NaT
    keep = ~((adj["claim_id"] == cid) & (adj["line_no"] == ln))
    group, reason = carc.split("-", 1)
    row = pd.DataFrame(
        {
            "claim_id": [cid],
            "line_no": [ln],
            "group": [group],
            "reason": [reason],
            "amount": [float(cl.at[i, "billed"])],
            "quantity": [np.nan],
            "source": ["demo"],
        }
    )
    return pd.concat([adj[keep], schema.conform(row, schema.ADJUSTMENT_COLUMNS)], ignore_index=True)


def _add_modifier(cl: pd.DataFrame, i: int, mod: str) -> None:
    cur = str(cl.at[i, "modifiers"] or "")
    cl.at[i, "modifiers"] = f"{cur}:{mod}" if cur else mod


def plant(
    seed: int, cl: pd.DataFrame, adj: pd.DataFrame, phi: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Plant the coding cases into the demo tables; returns the tables and ``truth["coding"]``.

    Deterministic for a seed. A case whose candidates the portfolio lacks (tiny demos) is left
    out and listed under ``skipped``.
    """
    rng = np.random.default_rng(seed + 1913)
    # no defensive copies: pandas copy-on-write copies only the columns this function writes,
    # so the caller's frames stay unchanged without holding two full copies of each table
    cases: list[dict[str, Any]] = []
    ptp_rows: list[tuple[str, str, str, str, str]] = []  # c1, c2, effective, deletion, indicator
    mue_rows: list[tuple[str, int, str]] = []
    skipped: list[str] = []
    used: set[str] = set()

    n_lines = cl.groupby("claim_id")["line_no"].transform("size")
    paid_claim = cl.groupby("claim_id")["claim_status"].transform(lambda s: (s == "paid").all())
    multi = cl[(n_lines >= 2) & paid_claim & (cl["specialty"] == "orthopedic_surgery")]
    # pairs of distinct codes on one paid orthopaedic claim: (line 1 index, line 2 index)
    firsts = multi[multi["line_no"] == 1].set_index("claim_id")
    # line 2 without modifiers, so no other edit (assistant, bilateral) decides its verdict
    seconds = multi[(multi["line_no"] == 2) & (multi["modifiers"] == "")].set_index("claim_id")
    both = firsts.index.intersection(seconds.index)
    # row label of each claim's first line 1 and first line 2: one pass over the table, not a
    # full-table comparison per claim (that was quadratic: 1M-line demos spent minutes here)
    row_of = {}
    for no in (1, 2):
        m = (cl["line_no"] == no).to_numpy()
        lab = pd.Series(cl.index[m], index=cl["claim_id"].to_numpy()[m])
        row_of[no] = lab[~lab.index.duplicated(keep="first")]
    pairs = [
        (int(row_of[1][c]), int(row_of[2][c]))
        for c in both
        if firsts.at[c, "cpt"] != seconds.at[c, "cpt"]
    ]
    order = rng.permutation(len(pairs))
    pairs = [pairs[k] for k in order]
    taken_codes: set[tuple[str, str]] = set()

    def next_pair() -> tuple[int, int] | None:
        while pairs:
            a, b = pairs.pop()
            key = (cl.at[a, "cpt"], cl.at[b, "cpt"])
            if key in taken_codes or (key[1], key[0]) in taken_codes:
                continue
            taken_codes.add(key)
            return a, b
        return None

    def record(i: int, case: str, verdict: str, route: str, **extra: Any) -> None:
        cases.append(
            {
                "claim_id": str(cl.at[i, "claim_id"]),
                "line_no": int(cl.at[i, "line_no"]),
                "case": case,
                "verdict": verdict,
                "route": route,
                "cpt": str(cl.at[i, "cpt"]),
                **extra,
            }
        )
        used.add(str(cl.at[i, "claim_id"]))

    ptp_cases = [
        ("ptp_correct_indicator_0", "0", None, "*", "payer_edit_correct", "write_off"),
        ("ptp_correct_missing_modifier", "1", None, "*", "payer_edit_correct", "corrected_claim"),
        ("ptp_payer_ignored_modifier", "1", "59", "*", "payer_edit_wrong", "appeal"),
        ("ptp_payer_ignored_modifier", "1", "XS", "*", "payer_edit_wrong", "appeal"),
        ("ptp_deleted_edit", "1", None, "20231231", "payer_edit_not_ncci", "appeal"),
        ("non_ncci_bundle", None, None, "*", "payer_edit_not_ncci", "appeal"),
    ]
    for case, mi, mod, deletion, verdict, route in ptp_cases:
        got = next_pair()
        if got is None:
            skipped.append(case)
            continue
        a, b = got
        adj = _deny(cl, adj, b, "CO-97")
        if mod:
            _add_modifier(cl, b, mod)
        if mi is not None:
            ptp_rows.append((cl.at[a, "cpt"], cl.at[b, "cpt"], _EFFECTIVE, deletion, mi))
        record(b, case, verdict, route, column1_code=str(cl.at[a, "cpt"]))

    # MUE: a paid line with 2+ units denied CO-151; the MUE value is one unit below
    multi_unit = cl[
        (cl["units"] >= 2)
        & (cl["claim_status"] == "paid")
        & (cl["unit_type"] == "UN")
        & (cl["modifiers"].isin(["", "26", "TC"]))
    ]
    multi_unit = multi_unit[~multi_unit["claim_id"].isin(used)]
    seen_codes: set[str] = {r[0] for r in ptp_rows} | {r[1] for r in ptp_rows}
    for case, mai, verdict, route in (
        ("mue_policy", 2, "payer_edit_correct", "write_off"),
        ("mue_clinical", 3, "documentation_needed", "appeal_with_records"),
    ):
        cand = multi_unit[~multi_unit["cpt"].isin(seen_codes)]
        if cand.empty:
            skipped.append(case)
            continue
        i = int(cand.index[rng.integers(0, len(cand))])
        code = str(cl.at[i, "cpt"])
        value = int(cl.at[i, "units"]) - 1
        # the MUE applies per date of service: every same-day line of the code counts
        mue_rows.append(
            (code, value, f"{mai} Date of Service Edit: {'Policy' if mai == 2 else 'Clinical'}")
        )
        seen_codes.add(code)
        adj = _deny(cl, adj, i, "CO-151")
        record(i, case, verdict, route, mue_value=value, mai=mai)

    # E/M inside a 90-day global period: the surgeon's patient seen again 20 days later
    surg = cl[
        cl["cpt"].isin(["27447", "27130"])
        & (cl["claim_status"] == "paid")
        & ~cl["claim_id"].isin(used)
    ]
    ems = cl[
        cl["cpt"].isin(["99213", "99214"])
        & (cl["claim_status"] == "paid")
        & (n_lines == 1)
        & (cl["modifiers"] == "")
        & (cl["specialty"] == "orthopedic_surgery")
        & ~cl["claim_id"].isin(used)
    ]
    for case, mod, verdict, route in (
        ("em_in_global", None, "payer_edit_correct", "corrected_claim"),
        ("em_in_global_with_24", "24", "payer_edit_wrong", "appeal"),
    ):
        if surg.empty or ems.empty:
            skipped.append(case)
            continue
        s = int(surg.index[rng.integers(0, len(surg))])
        same_payer = ems[ems["payer"] == cl.at[s, "payer"]]
        pool = same_payer if len(same_payer) else ems
        e = int(pool.index[rng.integers(0, len(pool))])
        surg = surg.drop(index=s)
        ems = ems.drop(index=e)
        shift = cl.at[s, "service_date"] + pd.Timedelta(days=20) - cl.at[e, "service_date"]
        for c in ("service_date", "submitted_date", "remit_date", "paid_date"):
            cl.at[e, c] = cl.at[e, c] + shift
        for c in ("provider_npi", "provider_tin", "patient_key", "payer", "payer_id", "plan_type"):
            cl.at[e, c] = cl.at[s, c]
        # same place as the surgery, at that locality's charge-master price (one price per
        # code, modifiers, locality and units) when the demo bills the code there
        price = cl.loc[
            (cl["cpt"] == cl.at[e, "cpt"])
            & (cl["modifiers"] == "")
            & (cl["locality"] == cl.at[s, "locality"])
            & (cl["units"] == cl.at[e, "units"])
            & (cl["pos"] == cl.at[e, "pos"])
            & (cl["billed_cpt"] == ""),
            ["billed", "medicare_allowed"],
        ]
        if len(price):
            cl.at[e, "billed"] = float(price["billed"].iloc[0])
            cl.at[e, "medicare_allowed"] = float(price["medicare_allowed"].iloc[0])
            for c in ("state", "locality"):
                cl.at[e, c] = cl.at[s, c]
        src_phi = phi.index[phi["claim_id"] == cl.at[s, "claim_id"]]
        dst_phi = phi.index[phi["claim_id"] == cl.at[e, "claim_id"]]
        for c in phi.columns:
            if c != "claim_id":
                phi.loc[dst_phi, c] = phi.loc[src_phi, c].to_numpy()
        adj = _deny(cl, adj, e, "CO-97")
        if mod:
            _add_modifier(cl, e, mod)
        used.add(str(cl.at[s, "claim_id"]))
        record(e, case, verdict, route, column1_code=str(cl.at[s, "cpt"]))

    # decoys: a withdrawn edit (indicator 9) and an edit deleted long ago on codes the demo bills
    codes = sorted(set(cl["cpt"][cl["specialty"] == "radiology"]))[:3]
    if len(codes) >= 3:
        ptp_rows.append((codes[0], codes[1], "20200101", "20200101", "9"))
        ptp_rows.append((codes[0], codes[2], "20150101", "20171231", "1"))
    adj = adj.sort_values(["claim_id", "line_no"], kind="stable").reset_index(drop=True)
    truth = {
        "cases": sorted(cases, key=lambda c: (c["case"], c["claim_id"])),
        "ptp": [list(r) for r in ptp_rows],
        "mue": [list(r) for r in mue_rows],
        "skipped": skipped,
        "files": [f"ncci/{PTP_NAME}", f"ncci/{MUE_NAME}"],
    }
    return cl, adj, phi, truth


def write_tables(truth: dict[str, Any], out_dir: Path) -> list[Path]:
    """Write the demo's synthetic PTP and MUE files in CMS's layouts (``out_dir/ncci/``)."""
    folder = Path(out_dir) / "ncci"
    folder.mkdir(parents=True, exist_ok=True)
    ptp = folder / PTP_NAME
    body = (
        f"{c1}\t{c2}\t\t{eff}\t{dele}\t{mi}\tSynthetic demo edit (not CMS data)"
        for c1, c2, eff, dele, mi in sorted(map(tuple, truth.get("ptp", [])))
    )
    ptp.write_bytes(ncci.ptp_file_bytes(body))
    mue = folder / MUE_NAME
    rows = "".join(
        f"{code},{value},{mai},Synthetic demo value\r\n"
        for code, value, mai in sorted(map(tuple, truth.get("mue", [])))
    )
    mue.write_bytes((_MUE_HEADER + rows).encode("latin-1"))
    return [ptp, mue]


def claims_by_status(cl: pd.DataFrame) -> dict[str, int]:
    """Claims per status once the cases are planted: denied when every line is denied, paid when
    any line is paid, pending when every line is pending (the NSA assessment's claim rule)."""
    s = cl["claim_status"]
    g = cl["claim_id"]
    n = s.groupby(g, sort=False).size()
    den = (s == "denied").groupby(g, sort=False).sum()
    paid = (s == "paid").groupby(g, sort=False).any()
    pend = (s == "pending").groupby(g, sort=False).all()
    status = np.select([den.eq(n), paid, pend], ["denied", "paid", "pending"], "other")
    out = pd.Series(status).value_counts().sort_index()
    return {str(k): int(v) for k, v in out.items()}
