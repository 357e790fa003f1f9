"""Claim instances: one claim number shared by several billed claims, kept apart or reported.

A practice may reuse one claim number (CLM01 / the export's claim column) for several claims:
some PM systems send the patient account number as CLM01, a resubmission repeats it, and two
exports of the same period overlap. Each reader tags the rows of one claim with a claim
instance (``_file`` = input order, ``_claim`` = the claim's ordinal in that file: the CLM
position in an 837P; the (claim, patient, payer, k-th repeat of the line number) group in an
export). This module then decides, per claim number shared by several instances:

* **corrections** (837P CLM05-3): a replacement claim (7) supersedes the earlier copies of its
  claim number, a void (8) cancels them and itself, in input order; the superseded lines are
  rejected naming the correcting claim (``corrected_claims`` in the report).

* **true duplicates**: the same lines (line number, code, modifiers, units, billed cents,
  service date) and the same patient (or a patient unknown on one side). One copy is kept
  (the one with an outcome, else the first read); each line of the others goes to rejects
  naming both sources, and the report lists them (``duplicate_claims``).
* **distinct claims**: anything else. The first keeps the claim number; the k-th distinct
  claim becomes ``<claim number>#k`` (a free suffix when that id exists), so no later stage
  can merge them. The report lists every renamed claim (``claim_ids_disambiguated``).

Remit claims (CLP01 = the shared number) are then paired with one of the distinct billed
claims by patient key, billed total (CLP03 vs the claim's lines), and service-date overlap
(:func:`assign_remits`); a remit claim no candidate matches better keeps the first.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

#: Line fields that make two copies of a claim the same claim (plus a compatible patient key).
CONTENT_COLUMNS = ("line_no", "cpt", "modifiers", "units", "billed", "service_date")
#: Largest number of renamed / duplicate claims listed one by one in the report.
REPORT_LIMIT = 200


def _instance_ids(df: pd.DataFrame) -> np.ndarray:
    """One int64 per row naming its claim instance (file order x 2**32 + claim ordinal)."""
    f = df["_file"].to_numpy(dtype="int64") if "_file" in df else np.zeros(len(df), "int64")
    if "_claim" in df:
        c = df["_claim"].to_numpy(dtype="int64")
    else:  # frames built by hand: the k-th repeat of (claim, line) is the k-th instance
        c = df.groupby(["claim_id", "line_no"], sort=False).cumcount().to_numpy(dtype="int64")
    return f * (1 << 32) + c


def _split_source(src: pd.Series) -> tuple[pd.Series, pd.Series]:
    """("file", "row N"/"segment N") from sources like ``file:row N``."""
    parts = src.astype("str").str.rsplit(":", n=1, expand=True)
    if parts.shape[1] < 2:
        return parts[0], pd.Series("", index=src.index, dtype="str")
    return parts[0], parts[1].fillna("")


def resolve_billed_instances(
    lines: pd.DataFrame,
) -> tuple[pd.DataFrame, list[dict[str, str]], dict[str, Any]]:
    """Billed lines with one claim id per distinct claim, corrected and duplicate copies removed.

    Returns (lines, rejects for the removed lines, report entries). Rows keep their order;
    ``_inst`` (the instance id) is added for :func:`assign_remits`. Replacement and void
    claims (837P CLM05-3 = 7 / 8) are applied first (:func:`_apply_corrections`).
    """
    out = lines.copy(deep=False)
    out["_inst"] = _instance_ids(out)
    out["_base"] = out["claim_id"]
    out, fix_rejects, fixes = _apply_corrections(out)
    out, rejects, stats = _resolve(out)
    stats.update(fixes)
    return out, fix_rejects + rejects, stats


def _line_rejects(rows: pd.DataFrame, reason_of: dict[int, str]) -> list[dict[str, str]]:
    """One reject per line of the removed instances, with its instance's reason."""
    files, locs = _split_source(rows["source"])
    return [
        {
            "file": str(f),
            "location": str(loc),
            "record": f"claim {cid} line {int(no)}",
            "reason": reason_of[int(ins)],
        }
        for f, loc, cid, no, ins in zip(
            files, locs, rows["claim_id"], rows["line_no"], rows["_inst"], strict=True
        )
    ]


def _apply_corrections(
    out: pd.DataFrame,
) -> tuple[pd.DataFrame, list[dict[str, str]], dict[str, Any]]:
    """Replacement (CLM05-3 = 7) and void (8) claims, in input order per claim number.

    A replacement supersedes every earlier copy of its claim number; a void cancels them and
    itself. The superseded lines are rejected naming the correcting claim, never merged."""
    fixes: dict[str, Any] = {"claims_replaced": 0, "claims_voided": 0, "corrected_claims": []}
    if "_freq" not in out or not out["_freq"].isin(["7", "8"]).any():
        return out, [], fixes
    inst = out[["claim_id", "_inst", "_freq", "source"]].drop_duplicates("_inst")
    ids = inst.loc[inst["_freq"].isin(["7", "8"]), "claim_id"].unique()
    cand = inst.loc[inst["claim_id"].isin(ids)].sort_values("_inst", kind="stable")
    reason: dict[int, str] = {}
    listing: list[dict[str, str]] = []
    for cid, g in cand.groupby("claim_id", sort=False):
        alive: list[tuple[int, str]] = []
        for ins, fr, src in zip(g["_inst"], g["_freq"], g["source"], strict=True):
            if fr == "7":
                for a, asrc in alive:
                    reason[a] = f"replaced by the corrected claim {cid} (CLM05-3 = 7) read at {src}"
                    listing.append({"claim_id": cid, "replaced": asrc, "by": src})
                    fixes["claims_replaced"] += 1
                alive = [(int(ins), str(src))]
            elif fr == "8":
                for a, asrc in alive:
                    reason[a] = f"voided by claim {cid} (CLM05-3 = 8) read at {src}"
                    listing.append({"claim_id": cid, "voided": asrc, "by": src})
                reason[int(ins)] = (
                    f"void of claim {cid} (CLM05-3 = 8): the claim is cancelled, its lines are "
                    "not billed"
                )
                fixes["claims_voided"] += 1
                alive = []
            else:
                alive.append((int(ins), str(src)))
    fixes["corrected_claims"] = listing[:REPORT_LIMIT]
    gone = out["_inst"].isin(list(reason)).to_numpy()
    rejects = _line_rejects(out.loc[gone], reason)
    return out.loc[~gone], rejects, fixes


def _resolve(out: pd.DataFrame) -> tuple[pd.DataFrame, list[dict[str, str]], dict[str, Any]]:
    """:func:`resolve_billed_instances` after the corrections: duplicates and distinct claims."""
    stats: dict[str, Any] = {
        "duplicate_billed_lines": 0,
        "duplicate_claims": [],
        "claim_ids_disambiguated": [],
        "claims_disambiguated": 0,
        "duplicate_claim_copies": 0,
    }
    if out.empty:
        return out, [], stats
    pairs = out[["claim_id", "_inst"]].drop_duplicates()
    n_inst = pairs.groupby("claim_id", sort=False)["_inst"].transform("size")
    shared = pairs.loc[n_inst.to_numpy() > 1]
    if shared.empty:
        return out, [], stats
    sub_mask = out["_inst"].isin(shared["_inst"]).to_numpy()
    sub = out.loc[sub_mask]
    # one content hash per instance: the sum of its lines' hashes (order-independent)
    content = sub[list(CONTENT_COLUMNS)].copy()
    content["billed"] = np.round(content["billed"].to_numpy(dtype="float64") * 100)
    row_hash = pd.util.hash_pandas_object(content, index=False).to_numpy()
    inst = pd.DataFrame({"_inst": sub["_inst"].to_numpy(), "h": row_hash})
    fp = inst.groupby("_inst", sort=False)["h"].agg(
        lambda h: int(np.sum(h.to_numpy(), dtype="uint64"))
    )
    first = sub.groupby("_inst", sort=False).agg(
        claim_id=("claim_id", "first"),
        patient_key=("patient_key", "first"),
        source=("source", "first"),
        status=("claim_status", lambda s: bool(s.ne("pending").any())),
        n=("claim_id", "size"),
    )
    first["fp"] = fp.reindex(first.index).to_numpy()
    first = first.reset_index().sort_values("_inst", kind="stable", ignore_index=True)
    first["order"] = np.arange(len(first))
    pk = first["patient_key"].astype("str").where(first["patient_key"].astype("str").ne(""))
    first["pk"] = pk.fillna(pk.groupby([first["claim_id"], first["fp"]]).transform("first")).fillna(
        ""
    )
    # a duplicate group keeps the copy with an outcome, else the first read
    first = first.sort_values(
        ["claim_id", "fp", "pk", "status", "order"],
        ascending=[True, True, True, False, True],
        kind="stable",
        ignore_index=True,
    )
    dup = first.duplicated(["claim_id", "fp", "pk"], keep="first")
    kept_src = first.groupby(["claim_id", "fp", "pk"], sort=False)["source"].transform("first")
    drop = first.loc[dup]
    rejects: list[dict[str, str]] = []
    if len(drop):
        gone = out["_inst"].isin(drop["_inst"])
        why = {
            int(ins): (
                f"true duplicate of claim {cid} read at {src} (same lines, codes, units, billed"
                " amounts, dates and patient); that copy is kept"
            )
            for ins, cid, src in zip(drop["_inst"], drop["claim_id"], kept_src[dup], strict=True)
        }
        rejects = _line_rejects(out.loc[gone], why)
        stats["duplicate_billed_lines"] = int(gone.sum())
        stats["duplicate_claim_copies"] = len(drop)
        stats["duplicate_claims"] = [
            {"claim_id": c, "kept": k, "duplicate": s}
            for c, k, s in zip(drop["claim_id"], kept_src[dup], drop["source"], strict=True)
        ][:REPORT_LIMIT]
        out = out.loc[~gone.to_numpy()]
    # distinct instances left under one claim number: the k-th becomes "<id>#k"
    rest = first.loc[~dup].sort_values("order", kind="stable")
    rank = rest.groupby("claim_id", sort=False).cumcount().to_numpy()
    rest = rest.assign(rank=rank)
    renamed = rest.loc[rest["rank"] > 0]
    if len(renamed):
        taken = set(out["claim_id"].unique().tolist())
        new_ids: dict[int, str] = {}
        listing = []
        for cid, k, ins, src in zip(
            renamed["claim_id"], renamed["rank"], renamed["_inst"], renamed["source"], strict=True
        ):
            new = f"{cid}#{k + 1}"
            while new in taken:
                new += "b"
            taken.add(new)
            new_ids[int(ins)] = new
            listing.append({"claim_id": cid, "key": new, "source": src})
        m = out["_inst"].map(new_ids)
        out["claim_id"] = m.where(m.notna(), out["claim_id"]).astype("str")
        stats["claims_disambiguated"] = len(listing)
        stats["claim_ids_disambiguated"] = listing[:REPORT_LIMIT]
    return out.reset_index(drop=True), rejects, stats


def assign_remits(ctx: pd.DataFrame, R: pd.DataFrame, A: pd.DataFrame, renamed: list[str]) -> int:
    """Point each remit claim whose CLP01 is a shared claim number at one distinct billed claim.

    ``renamed`` lists the claim numbers that were split. Each remit claim instance (``_clp``)
    takes the candidate with the best score (patient key +4, billed total +2, service dates
    overlapping +1); ties go to a candidate no remit claim has taken yet, then to the first.
    ``R`` and ``A`` are changed in place; returns the number of remit claims moved to a
    ``#k`` claim.
    """
    if not renamed or R.empty:
        return 0
    base_of = ctx["_base"] if "_base" in ctx else ctx["claim_id"]
    cand_rows = ctx.loc[base_of.isin(renamed)]
    if cand_rows.empty:
        return 0
    cands = (
        cand_rows.assign(_b=base_of[cand_rows.index], _c=np.round(cand_rows["billed"] * 100))
        .groupby(["_b", "claim_id"], sort=False)
        .agg(
            pk=("patient_key", "first"),
            billed=("_c", "sum"),
            dmin=("service_date", "min"),
            dmax=("service_date", "max"),
            order=("_inst", "min"),
        )
        .reset_index()
        .sort_values("order", kind="stable")
    )
    rm = R["claim_id"].isin(renamed)
    if not rm.any():
        return 0
    rr = (
        R.loc[rm]
        .assign(_c=np.round(R.loc[rm, "billed"] * 100))
        .groupby("_clp", sort=True)
        .agg(
            cid=("claim_id", "first"),
            pk=("patient_key", "first"),
            billed=("_c", "sum"),
            dmin=("service_date", "min"),
            dmax=("service_date", "max"),
        )
    )
    taken: set[str] = set()
    choice: dict[int, str] = {}
    by_base = {b: g for b, g in cands.groupby("_b", sort=False)}
    for clp, r in rr.iterrows():
        g = by_base.get(r["cid"])
        if g is None:
            continue
        score = np.zeros(len(g))
        if r["pk"]:
            score += 4 * (g["pk"].to_numpy() == r["pk"])
        score += 2 * (g["billed"].to_numpy() == r["billed"])
        if pd.notna(r["dmin"]):
            overlap = (g["dmin"] <= r["dmax"]) & (g["dmax"] >= r["dmin"])
            score += overlap.fillna(False).to_numpy(dtype=float)
        free = ~g["claim_id"].isin(taken).to_numpy()
        order = np.lexsort((np.arange(len(g)), ~free, -score))
        pick = str(g["claim_id"].iloc[order[0]])
        taken.add(pick)
        choice[int(clp)] = pick
    moved = {k: v for k, v in choice.items() if v != rr.loc[k, "cid"]}
    if moved:
        m = R["_clp"].map(moved)
        R["claim_id"] = m.where(m.notna(), R["claim_id"]).astype("str")
        if len(A) and "_clp" in A:
            ma = A["_clp"].map(moved)
            A["claim_id"] = ma.where(ma.notna(), A["claim_id"]).astype("str")
    return len(moved)
