"""Write canonical claim lines + adjustments as valid 5010 X221A1 835 remittance files.

One ST (one check: BPR/TRN) per payer x remit date x payee TIN, split every ``claims_per_file``
claims, so BPR02 = ΣCLP04 − ΣPLB holds per transaction; one file (ISA/GS) per payer per remit
week holding that week's checks (as a clearinghouse delivers them), at most ``claims_per_file``
claims per file.
Segments are built column-wise with vectorised string operations and joined once per claim and
per file (no per-segment objects), so a million lines write in seconds.

What is written, and why (X221A1 loop/segment; docs/domain.md §5.1):

* ISA/GS (GS08 ``005010X221A1``)/ST*835; BPR (``I`` ACH payment, ``H`` when the total is 0;
  BPR16 = remit date), TRN*1 trace number, DTM*405 production date.
* 1000A payer: N1*PR name, N3/N4, REF*2U payer id, PER*BL (required in 5010).
  1000B payee: N1*PE with the first rendering NPI of the batch (XX), REF*TJ = billing TIN.
* 2100 claim: CLP (CLP02 from ``claim_status_code`` when it is a CLP02 code, else from
  ``claim_status``: paid 1, denied 4, reversal 22, forwarded 19; CLP03 = Σ billed, CLP04 = Σ
  paid − Σ claim-level adjustments, CLP05 = Σ patient_resp + claim-level PR, CLP06 filing
  indicator from plan_type, CLP07 payer claim number, CLP08 POS); claim-level CAS; NM1*QC with the
  pseudonymous ``patient_key`` as member id (never PHI); NM1*82 rendering NPI; DTM*232
  statement date; DTM*050 received date; PER*CX naming the repricer when ``repricer`` is set
  (e.g. ``PER*CX*MULTIPLAN - FOR DISCOUNT QUESTIONS``, the carrier :mod:`x12` recognises).
* 2110 line: SVC (SVC06 = billed code when ``recoded``), DTM*472, CAS per group with at most
  six triplets per segment (split beyond), REF*6R = ``line_control`` (else the line number), so
  the reader joins back; AMT*B6 allowed; LQ*HE per remark code.
* PLB after the claims when ``provider_adjustments`` are given (attached to the payer's first
  file).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

#: claim_status -> CLP02 (docs/domain.md §5.1 table).
STATUS_TO_CLP02 = {"paid": "1", "denied": "4", "reversal": "22", "forwarded": "19"}
_CLP02_CODES = frozenset({"1", "2", "3", "4", "19", "20", "21", "22", "23", "25"})
#: plan_type -> CLP06 claim filing indicator (X221A1 CLP06 code list: 12 PPO, 16 HMO Medicare
#: Risk, MC Medicaid). Commercial plans are written as 12 (PPO): the 835 cannot say whether a
#: plan is fully insured or self-funded, so this is a writer choice, not data.
PLAN_TO_CLP06 = {"medicare_advantage": "16", "medicaid_managed_care": "MC"}
DEFAULT_CLP06 = "12"
#: Repricer -> the PER*CX text written for it (recognised by x12.REPRICER_MARKS).
REPRICER_TEXT = {
    "MultiPlan": "MULTIPLAN",
    "Data iSight": "DATA ISIGHT",
    "Zelis": "ZELIS",
    "Naviguard": "NAVIGUARD",
    "HealthSmart": "HEALTHSMART",
}
MAX_CAS_TRIPLETS = 6  # X221A1 CAS: up to six reason/amount/quantity triplets per segment
SEG = "~\n"  # "~" terminator, a newline after each segment for readability


def _clean(s: pd.Series) -> pd.Series:
    """Text safe inside an element: delimiters (* ~ : ^) and newlines become spaces."""
    return s.astype("str").fillna("").str.replace(r"[*~:^\r\n]", " ", regex=True).str.strip()


def _cents(values: pd.Series, what: str, ids: pd.Series) -> np.ndarray:
    """Integer cents of a money column; an unknown amount cannot be written, so it raises."""
    v = values.to_numpy(dtype="float64", na_value=np.nan)
    bad = np.isnan(v)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{what} is missing on claim {ids.iloc[i]!r} ({int(bad.sum())} lines): an 835 "
            "cannot carry an unknown amount; fill it or drop the line before writing"
        )
    return np.round(v * 100).astype("int64")


def _money(c: np.ndarray) -> pd.Series:
    """Integer cents -> X12 decimal text ("-86.76", "1234.50")."""
    a = np.abs(c)
    whole = pd.Series(a // 100).astype("str")
    frac = pd.Series(a % 100).astype("str").str.zfill(2)
    sign = pd.Series(np.where(c < 0, "-", ""), dtype="str")
    return sign + whole + "." + frac


def _m1(c: int) -> str:
    """One amount in cents -> X12 decimal text."""
    a = abs(c)
    return f"{'-' if c < 0 else ''}{a // 100}.{a % 100:02d}"


def _c1(v: object) -> str:
    """One value cleaned like :func:`_clean`."""
    return re.sub(r"[*~:^\r\n]", " ", "" if v is None or v != v else str(v)).strip()


def _join_runs(keys: np.ndarray, strings: list[str], sep: str) -> tuple[np.ndarray, list[str]]:
    """Join ``strings`` over runs of equal consecutive ``keys`` (keys must be sorted)."""
    if len(keys) == 0:
        return keys, []
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)]
    return keys[starts], [sep.join(strings[s:e]) for s, e in zip(starts, ends, strict=True)]


def _slug(s: str) -> str:
    """File-name-safe payer name."""
    return re.sub(r"[^A-Za-z0-9]+", "_", s).strip("_").lower() or "payer"


def _ymd(s: pd.Series) -> pd.Series:
    """CCYYMMDD strings ("" for NaT)."""
    return pd.to_datetime(s).dt.strftime("%Y%m%d").fillna("").astype("str")


def write_835_files(  # noqa: C901 - one pass, many segments
    claim_lines: pd.DataFrame,
    adjustments: pd.DataFrame,
    out_dir: Path,
    *,
    claims_per_file: int = 5000,
    provider_adjustments: pd.DataFrame | None = None,
    sender_id: str = "OONPAYER",
    receiver_id: str = "OONPROVIDER",
    control_offset: int = 0,
    name_tag: str = "",
) -> list[Path]:
    """Write the adjudicated lines (status not pending) as 835 files; return the paths written.

    Adjustments join lines on (claim_id, line_no); ``line_no`` 0 rows are claim-level CAS. A
    claim id that appears with two statuses (e.g. a reversal and its correction) needs a
    ``claim_status`` column in ``adjustments`` to say which instance each adjustment belongs to.

    Writing a portfolio in several calls (the streamed demo writes one call per chunk of
    claims): give each call its own ``control_offset`` (interchange/group/transaction control
    numbers and TRN02 check numbers start after it, so no two files share a check) and its own
    ``name_tag`` (files are named ``{payer}_{week}_{name_tag}{seq}.835``, so no call overwrites
    another's files). The defaults write what a single call always wrote.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if claims_per_file < 1:
        raise ValueError("claims_per_file must be at least 1")
    if control_offset < 0:
        raise ValueError("control_offset must be >= 0")
    cl = claim_lines.loc[claim_lines["claim_status"].astype("str").ne("pending")]
    if cl.empty:
        return []
    cl = cl.reset_index(drop=True)
    ids = cl["claim_id"].astype("str")
    raw_code = (
        cl["claim_status_code"].astype("str") if "claim_status_code" in cl else ids.where(False, "")
    )
    status = cl["claim_status"].astype("str")
    # CLP02 per claim instance: the line's raw CLP02 when it is one; else reversal lines form
    # their own instance (22); else the claim is 4 when every line is denied, 19 when forwarded,
    # else 1 (a claim with paid and denied lines is one CLP02=1 claim, as payers send it)
    part = np.where(
        raw_code.isin(_CLP02_CODES), raw_code, np.where(status.eq("reversal"), "22", "")
    )
    part_s = pd.Series(part, dtype="str")
    g = ids + "\x1f" + part_s
    all_denied = status.eq("denied").groupby(g).transform("all")
    any_fwd = status.eq("forwarded").groupby(g).transform("any")
    derived = np.where(all_denied, "4", np.where(any_fwd, "19", "1"))
    code = pd.Series(np.where(part_s.ne(""), part_s, derived), dtype="str")
    remit = cl["remit_date"].where(cl["remit_date"].notna(), cl["service_date"])
    remit_s = _ymd(remit)
    if remit_s.eq("").any():
        i = int(np.flatnonzero(remit_s.eq("").to_numpy())[0])
        raise ValueError(
            f"claim {ids.iloc[i]!r} has neither remit_date nor service_date; BPR16 needs a date"
        )
    tin = _clean(cl["provider_tin"])
    payer = _clean(cl["payer"])
    payer = payer.where(payer.ne(""), "UNKNOWN PAYER")
    # claim instances (claim id x CLP02) sorted into check batches (payer x date x TIN)
    frame = pd.DataFrame(
        {
            "payer": payer,
            "remit": remit_s,
            "tin": tin,
            "claim_id": ids,
            "code": code,
            "line_no": cl["line_no"].to_numpy(dtype="int64"),
            "row": np.arange(len(cl)),
        }
    )
    frame = frame.sort_values(
        ["payer", "remit", "tin", "claim_id", "code", "line_no", "row"], kind="stable"
    )
    order = frame["row"].to_numpy()
    cl = cl.iloc[order].reset_index(drop=True)
    f = frame.reset_index(drop=True)
    inst_key = f["claim_id"] + "\x1f" + f["code"]
    inst = pd.factorize(f["payer"] + "\x1f" + f["remit"] + "\x1f" + f["tin"] + "\x1f" + inst_key)[
        0
    ].astype("int64")
    billed = _cents(cl["billed"], "billed", f["claim_id"])
    paid = _cents(cl["paid"], "paid", f["claim_id"])
    presp_v = cl["patient_resp"].to_numpy(dtype="float64", na_value=np.nan)
    presp = np.round(np.nan_to_num(presp_v) * 100).astype("int64")
    is_line = f["line_no"].to_numpy() > 0
    if f["line_no"].max() >= 100_000:
        raise ValueError("line_no must be below 100000 (an 835 claim has at most 999 lines)")

    # ---- adjustments -> CAS strings per (instance, line) ------------------------------------
    adj = adjustments.copy()
    if len(adj):
        key_cols = ["claim_id", "line_no"]
        lines_key = pd.DataFrame(
            {"claim_id": f["claim_id"], "line_no": f["line_no"], "_inst": inst, "code": f["code"]}
        )
        if "claim_status" in adj:
            adj["code"] = adj["claim_status"].astype("str").map(STATUS_TO_CLP02).fillna("1")
            key_cols = ["claim_id", "line_no", "code"]
        # claim-level rows (line_no 0) attach to the instance's first line key
        inst_of = lines_key.drop_duplicates(
            key_cols if len(key_cols) == 3 else ["claim_id", "line_no"]
        )
        amb = inst_of.duplicated(key_cols, keep=False)
        if amb.any():
            bad = inst_of.loc[amb, "claim_id"].iloc[0]
            raise ValueError(
                f"claim {bad!r} appears with several statuses; add a claim_status column to the "
                "adjustments so each CAS goes to the right claim instance"
            )
        claim_inst = lines_key.drop_duplicates(key_cols[:1] + key_cols[2:])[
            key_cols[:1] + key_cols[2:] + ["_inst"]
        ]
        lvl0 = adj["line_no"].astype("int64").eq(0)
        a_line = adj.loc[~lvl0].merge(inst_of[key_cols + ["_inst"]], on=key_cols, how="left")
        a_claim = adj.loc[lvl0].merge(claim_inst, on=key_cols[:1] + key_cols[2:], how="left")
        adj = pd.concat([a_line, a_claim], ignore_index=True)
        orphan = adj["_inst"].isna()
        if orphan.any():
            r = adj.loc[orphan].iloc[0]
            raise ValueError(
                f"{int(orphan.sum())} adjustments have no adjudicated line to attach to, e.g. "
                f"claim {r['claim_id']!r} line {r['line_no']}; drop them or add the line"
            )
        adj["_inst"] = adj["_inst"].astype("int64")
        adj["_g"] = pd.Categorical(
            adj["group"].astype("str"), categories=["CO", "PR", "OA", "PI", "CR"], ordered=True
        )
        adj = adj.sort_values(["_inst", "line_no", "_g", "reason"], kind="stable").reset_index(
            drop=True
        )
        a_cents = np.round(adj["amount"].to_numpy(dtype="float64") * 100).astype("int64")
        qty = (
            adj["quantity"].to_numpy(dtype="float64", na_value=np.nan)
            if "quantity" in adj
            else np.full(len(adj), np.nan)
        )
        qty_s = (
            pd.Series([("" if q != q else f"{q:g}") for q in qty], dtype="str")
            if len(adj)
            else pd.Series([], dtype="str")
        )
        trip = (
            adj["reason"].astype("str").str.strip() + "*" + _money(a_cents) + "*" + qty_s
        ).tolist()
        grp_key = (
            adj["_inst"].to_numpy() * 1_000_000
            + adj["line_no"].to_numpy(dtype="int64") * 10
            + adj["_g"].cat.codes.to_numpy()
        )
        k = adj.groupby(grp_key, sort=False).cumcount().to_numpy() // MAX_CAS_TRIPLETS
        seg_key = grp_key * 100_000 + k
        seg_keys, seg_body = _join_runs(seg_key, trip, "*")
        seg_group = (
            adj["group"]
            .astype("str")
            .to_numpy()[np.r_[0, np.flatnonzero(seg_key[1:] != seg_key[:-1]) + 1]]
        )
        cas_segs = [f"CAS*{g}*{b.rstrip('*')}" for g, b in zip(seg_group, seg_body, strict=True)]
        line_keys, cas_str = _join_runs(seg_keys // 1_000_000, cas_segs, SEG)
        cas_map = dict(zip(line_keys.tolist(), cas_str, strict=True))  # inst * 100_000 + line_no
        # claim-level adjustment cents by instance (they reduce CLP04; PR ones add to CLP05)
        lvl0 = adj["line_no"].to_numpy() == 0
        cl_adj = np.bincount(
            adj["_inst"].to_numpy()[lvl0], weights=a_cents[lvl0], minlength=inst.max() + 1
        )
        pr0 = lvl0 & (adj["group"].astype("str").to_numpy() == "PR")
        cl_pr = np.bincount(
            adj["_inst"].to_numpy()[pr0], weights=a_cents[pr0], minlength=inst.max() + 1
        )
    else:
        cas_map = {}
        cl_adj = np.zeros(inst.max() + 1)
        cl_pr = np.zeros(inst.max() + 1)
    cl_adj = np.round(cl_adj).astype("int64")
    cl_pr = np.round(cl_pr).astype("int64")

    # ---- service lines ---------------------------------------------------------------------
    cpt = _clean(cl["cpt"]).str.upper()
    mods = _clean(cl["modifiers"].astype("str").str.replace(":", " ")).str.split().str.join(":")
    proc = "HC:" + cpt + mods.where(mods.eq(""), ":" + mods)
    units = cl["units"].to_numpy(dtype="float64", na_value=1.0)
    units_s = pd.Series([f"{u:g}" for u in units], dtype="str")
    bcpt = _clean(cl["billed_cpt"]).str.upper() if "billed_cpt" in cl else cpt.where(False, "")
    recoded = (
        cl["recoded"].to_numpy(dtype=bool) if "recoded" in cl else np.zeros(len(cl), bool)
    ) & bcpt.ne("").to_numpy()
    svc06 = pd.Series(np.where(recoded, "*HC:" + bcpt, ""), dtype="str")
    svc = "SVC*" + proc + "*" + _money(billed) + "*" + _money(paid) + "**" + units_s + svc06
    sdate = _ymd(cl["service_date"])
    dtm = pd.Series(np.where(sdate.ne(""), SEG + "DTM*472*" + sdate, ""), dtype="str")
    ctl = (
        _clean(cl["line_control"])
        if "line_control" in cl
        else pd.Series([""] * len(cl), dtype="str")
    )
    ctl = ctl.where(ctl.ne(""), f["line_no"].astype("str"))
    ref = SEG + "REF*6R*" + ctl
    allowed_v = cl["allowed"].to_numpy(dtype="float64", na_value=np.nan)
    allowed_c = np.round(np.nan_to_num(allowed_v) * 100).astype("int64")
    amt = pd.Series(
        np.where(~np.isnan(allowed_v), SEG + "AMT*B6*" + _money(allowed_c), ""), dtype="str"
    )
    rarc = (
        _clean(cl["rarc"].astype("str").str.replace(":", " ")).str.split().str.join(SEG + "LQ*HE*")
    )
    lq = pd.Series(np.where(rarc.ne(""), SEG + "LQ*HE*" + rarc, ""), dtype="str")
    line_nos = f["line_no"].to_numpy()
    cas_line = pd.Series(
        [c and (SEG + c) for c in _cas_lookup(cas_map, inst, line_nos)], dtype="str"
    )
    block = svc + dtm + cas_line + ref + amt + lq
    block = block.where(is_line, "")

    # ---- claims ----------------------------------------------------------------------------
    firsts = np.r_[0, np.flatnonzero(inst[1:] != inst[:-1]) + 1]
    n_inst = len(firsts)
    c_billed = np.add.reduceat(billed, firsts)
    # claim-level CAS reduce CLP04 (and PR adds to CLP05) only when the claim has service
    # lines; a claim without SVC carries its paid/patient amounts on the claim-level line itself
    has_svc = np.add.reduceat(is_line.astype("int64"), firsts) > 0
    c_paid = np.add.reduceat(paid, firsts) - np.where(has_svc, cl_adj, 0)
    c_presp = np.add.reduceat(presp, firsts) + np.where(has_svc, cl_pr, 0)
    head = cl.iloc[firsts].reset_index(drop=True)
    fh = f.iloc[firsts].reset_index(drop=True)
    plan = head["plan_type"].astype("str") if "plan_type" in head else pd.Series([""] * n_inst)
    clp06 = plan.map(PLAN_TO_CLP06).fillna(DEFAULT_CLP06)
    pcn = _clean(head["payer_claim_id"]) if "payer_claim_id" in head else pd.Series([""] * n_inst)
    pcn = pcn.where(pcn.ne(""), "PCN" + pd.Series(np.arange(n_inst)).astype("str").str.zfill(9))
    pos = _clean(head["pos"]) if "pos" in head else pd.Series([""] * n_inst)
    clp = (
        "CLP*"
        + _clean(fh["claim_id"])
        + "*"
        + fh["code"]
        + "*"
        + _money(c_billed)
        + "*"
        + _money(c_paid)
        + "*"
        + _money(c_presp)
        + "*"
        + clp06
        + "*"
        + pcn
        + "*"
        + pos
        + "*1"
    )
    ccas = pd.Series(
        [c and (SEG + c) for c in _cas_lookup(cas_map, inst[firsts], np.zeros(n_inst, "int64"))],
        dtype="str",
    )
    pkey = _clean(head["patient_key"]) if "patient_key" in head else pd.Series([""] * n_inst)
    qc = (
        SEG
        + "NM1*QC*1*PATIENT*"
        + pkey.str[:4].where(pkey.ne(""), "UNKNOWN")
        + "****MI*"
        + pkey.where(pkey.ne(""), "UNKNOWN")
    )
    npi = _clean(head["provider_npi"])
    nm82 = pd.Series(
        np.where(npi.ne(""), SEG + "NM1*82*2*RENDERING PROVIDER*****XX*" + npi, ""), dtype="str"
    )
    svc_from = pd.Series(pd.to_datetime(cl["service_date"]).to_numpy()).groupby(inst).min()
    s232 = _ymd(pd.Series(svc_from.to_numpy()))
    d232 = pd.Series(np.where(s232.ne(""), SEG + "DTM*232*" + s232, ""), dtype="str")
    recv = _ymd(head["submitted_date"]) if "submitted_date" in head else pd.Series([""] * n_inst)
    d050 = pd.Series(np.where(recv.ne(""), SEG + "DTM*050*" + recv, ""), dtype="str")
    rep = (
        cl["repricer"].astype("str").groupby(inst).max().reset_index(drop=True)
        if "repricer" in cl
        else pd.Series([""] * n_inst, dtype="str")
    )
    rep_text = rep.map(lambda r: REPRICER_TEXT.get(r, r.upper()) if r else "")
    per = pd.Series(
        np.where(
            rep_text.ne(""),
            SEG + "PER*CX*" + _clean(rep_text) + " - FOR DISCOUNT QUESTIONS*TE*8005550199",
            "",
        ),
        dtype="str",
    )
    _, line_blocks = _join_runs(inst, [b and (SEG + b) for b in block.tolist()], "")
    claim_block = (
        clp + ccas + qc + nm82 + d232 + d050 + per + pd.Series(line_blocks, dtype="str")
    ).tolist()

    # ---- files -----------------------------------------------------------------------------
    batch = pd.factorize(fh["payer"] + "\x1f" + fh["remit"] + "\x1f" + fh["tin"])[0]
    plb_by_payer: dict[str, list[tuple[str, int]]] = {}
    if provider_adjustments is not None and len(provider_adjustments):
        for r in provider_adjustments.itertuples(index=False):
            c = int(round(float(r.amount) * 100))
            fd = pd.Timestamp(r.fiscal_period_date) if pd.notna(r.fiscal_period_date) else None
            ref = _c1(getattr(r, "reference", ""))
            seg = (
                f"PLB*{_c1(r.provider_id)}*{fd.strftime('%Y%m%d') if fd is not None else '{date}'}"
                f"*{_c1(r.reason)}{':' + ref if ref else ''}*{_m1(c)}"
            )
            plb_by_payer.setdefault(_c1(r.payer) or "UNKNOWN PAYER", []).append((seg, c))
    payer_l = fh["payer"].tolist()
    remit_l = fh["remit"].tolist()
    tin_l = fh["tin"].tolist()
    pid_l = _clean(head["payer_id"]).tolist() if "payer_id" in head else [""] * n_inst
    npi_first = npi.groupby(batch).first().tolist()
    c_paid_l = c_paid.tolist()
    week_l = pd.to_datetime(fh["remit"], format="%Y%m%d").dt.strftime("%G-W%V").tolist()
    paths: list[Path] = []
    bstarts = np.r_[0, np.flatnonzero(batch[1:] != batch[:-1]) + 1].tolist()
    bends = bstarts[1:] + [n_inst]
    # transactions: one ST per check (payer x remit date x TIN, split every claims_per_file)
    txs: list[tuple[str, str, int, int, int]] = []  # (payer, week, batch, start, end)
    for b, (s, e) in enumerate(zip(bstarts, bends, strict=True)):
        for cs in range(s, e, claims_per_file):
            txs.append((payer_l[s], week_l[s], b, cs, min(cs + claims_per_file, e)))
    # files: one per payer per remit week, holding its checks, at most claims_per_file claims
    files: list[list[tuple[str, str, int, int, int]]] = []
    for tx in txs:
        cur = files[-1] if files else None
        if (
            cur
            and cur[0][:2] == tx[:2]
            and sum(t[4] - t[3] for t in cur) + tx[4] - tx[3] <= claims_per_file
        ):
            cur.append(tx)
        else:
            files.append([tx])
    ctrl = control_offset
    st_no = control_offset
    if control_offset + max(len(files), len(txs)) > 999_999_999:
        raise ValueError(
            f"control numbers past 999999999 (ISA13 has 9 digits): control_offset "
            f"{control_offset} + {len(txs)} checks"
        )
    seq: dict[str, int] = {}
    for group in files:
        ctrl += 1
        sts = []
        for payer_name, _week, b, cs, ce in group:
            st_no += 1
            payer_id, date = pid_l[cs], remit_l[cs]
            btin = tin_l[cs] or "999999999"
            plb = plb_by_payer.pop(payer_name, [])
            plb_segs = [seg.replace("{date}", date) for seg, _ in plb]
            plb_cents = sum(c for _, c in plb)
            total = sum(c_paid_l[cs:ce]) - plb_cents
            tot_s = _m1(total)
            bpr = (
                f"BPR*I*{tot_s}*C*ACH*CCP*01*999999999*DA*123456789*1512345678**01*999999999"
                f"*DA*987654321*{date}"
                if total != 0
                else f"BPR*H*{tot_s}*C*NON************{date}"
            )
            hdr = [
                f"ST*835*{st_no:09d}",
                bpr,
                f"TRN*1*{st_no:09d}{date}*1{btin}",
                f"DTM*405*{date}",
                f"N1*PR*{payer_name}",
                "N3*PO BOX 1000",
                "N4*NEW YORK*NY*10001",
            ]
            if payer_id:
                hdr.append(f"REF*2U*{payer_id}")
            hdr += [
                "PER*BL*PROVIDER SERVICES*TE*8005550100",
                f"N1*PE*PROVIDER GROUP {btin}*XX*{npi_first[b] or '9999999999'}",
                f"REF*TJ*{btin}",
                "LX*1",
            ]
            body = SEG.join(hdr) + SEG + SEG.join(claim_block[cs:ce]) + SEG
            if plb_segs:
                body += SEG.join(plb_segs) + SEG
            nseg = body.count("~") + 1
            sts.append(f"{body}SE*{nseg}*{st_no:09d}{SEG}")
        payer_name, week = group[0][0], group[0][1]
        date = remit_l[group[0][3]]
        isa = (
            f"ISA*00*          *00*          *ZZ*{sender_id:<15.15}*ZZ*{receiver_id:<15.15}*"
            f"{date[2:]}*1200*^*00501*{ctrl:09d}*0*P*:"
        )
        text = (
            f"{isa}{SEG}GS*HP*{sender_id}*{receiver_id}*{date}*1200*{ctrl}*X*005010X221A1{SEG}"
            + "".join(sts)
            + f"GE*{len(sts)}*{ctrl}{SEG}IEA*1*{ctrl:09d}{SEG}"
        )
        stem = f"{_slug(payer_name)}_{week}"
        seq[stem] = seq.get(stem, 0) + 1
        path = out_dir / f"{stem}_{name_tag}{seq[stem]:03d}.835"
        path.write_text(text, encoding="ascii", errors="replace")
        paths.append(path)
    if plb_by_payer:
        raise ValueError(
            f"provider adjustments for payer(s) {sorted(plb_by_payer)} match no remitted claim; "
            "an 835 PLB must travel with a payment from that payer"
        )
    return paths


def _cas_lookup(cas_map: dict[int, str], inst_ids: np.ndarray, line_nos: np.ndarray) -> list[str]:
    """CAS segment text for each (claim instance, line number); "" when it has none."""
    keys = np.asarray(inst_ids, dtype="int64") * 100_000 + np.asarray(line_nos, dtype="int64")
    return [cas_map.get(k, "") for k in keys.tolist()]
