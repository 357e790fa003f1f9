"""Data-quality tables for the ingest stage: counts, missing fields, date range, rejects,
balance failures and recodes, so a consultant can see what was read and what was not."""

from __future__ import annotations

import pandas as pd

#: Fields whose absence weakens a later stage, with the stage that needs them.
KEY_FIELDS: dict[str, str] = {
    "payer": "all stages",
    "cpt": "benchmarks (Medicare price)",
    "locality": "benchmarks (Medicare price; falls back to the params locality)",
    "service_date": "drift, deadlines",
    "submitted_date": "time to pay",
    "remit_date": "NSA and appeal deadlines",
    "allowed": "payment-level model",
    "qpa": "IDR targets (NSA claims only)",
    "plan_type": "NSA vs state law, ERISA appeals",
    "specialty": "specialty playbook",
}


def overview(claim_lines: pd.DataFrame, rejects: pd.DataFrame) -> pd.DataFrame:
    """One-column table: claims, lines, payers, date range, rejected records."""
    sd = claim_lines["service_date"].dropna()
    rows = {
        "claims": claim_lines["claim_id"].nunique(),
        "service lines": len(claim_lines),
        "payers": claim_lines["payer"].nunique(),
        "specialties": claim_lines["specialty"].replace("", pd.NA).nunique(),
        "first service date": sd.min().date().isoformat() if len(sd) else "",
        "last service date": sd.max().date().isoformat() if len(sd) else "",
        "records rejected": len(rejects),
    }
    return pd.DataFrame(
        {"value": [str(v) for v in rows.values()]}, index=pd.Index(list(rows), name="measure")
    )


def missing_fields(claim_lines: pd.DataFrame) -> pd.DataFrame:
    """Share of lines missing each key field, with the stage that needs it."""
    out = []
    n = max(len(claim_lines), 1)
    for col, needed_by in KEY_FIELDS.items():
        if col not in claim_lines:
            missing = len(claim_lines)
        else:
            s = claim_lines[col]
            miss = s.isna()
            if s.dtype == "str":
                miss = miss | (s == "")
            missing = int(miss.sum())
        out.append(
            {
                "field": col,
                "missing_lines": missing,
                "missing_share": missing / n,
                "needed_by": needed_by,
            }
        )
    return pd.DataFrame(out)


def rejects_by_reason(rejects: pd.DataFrame) -> pd.DataFrame:
    """Rejected records counted by reason, most frequent first."""
    if rejects.empty:
        return pd.DataFrame({"reason": pd.Series(dtype="str"), "records": pd.Series(dtype="int64")})
    g = rejects.groupby("reason").size().rename("records").reset_index()
    return g.sort_values(["records", "reason"], ascending=[False, True], ignore_index=True)


def status_counts(claim_lines: pd.DataFrame) -> pd.DataFrame:
    """Lines and billed dollars by claim status."""
    g = claim_lines.groupby("claim_status").agg(
        lines=("claim_id", "size"), billed=("billed", "sum")
    )
    return g.sort_values("lines", ascending=False).reset_index()


def recodes(claim_lines: pd.DataFrame) -> pd.DataFrame:
    """Lines the payer paid under a different code than billed (downcodes), by billed->paid code."""
    if "recoded" not in claim_lines or not claim_lines["recoded"].any():
        return pd.DataFrame(columns=["billed_cpt", "cpt", "lines", "billed", "paid"])
    r = claim_lines[claim_lines["recoded"]]
    g = r.groupby(["billed_cpt", "cpt"]).agg(
        lines=("claim_id", "size"), billed=("billed", "sum"), paid=("paid", "sum")
    )
    return g.sort_values("lines", ascending=False).reset_index()


def ingest_summary(report: dict, appeals: pd.DataFrame, appeal_rejects: pd.DataFrame) -> str:
    """Markdown paragraph accounting for every record read (from the ingest report)."""
    files = report.get("files", 0)
    nfiles = len(files) if isinstance(files, (list, dict)) else int(files)
    return (
        f"Read **{nfiles} files**: {report.get('claims', 0):,} claims and "
        f"{report.get('lines', 0):,} service lines; **{report.get('accepted_lines', 0):,} lines "
        f"accepted**, {report.get('rejected', 0):,} records rejected. "
        f"Billed ${report.get('billed', 0):,.2f}, allowed ${report.get('allowed', 0):,.2f}, "
        f"paid ${report.get('paid', 0):,.2f} (cash on claims), patient responsibility "
        f"${report.get('patient_resp', 0):,.2f}. Appeal history: {len(appeals):,} appeals read, "
        f"{len(appeal_rejects):,} rejected."
    )


def balance_failures(
    claim_lines: pd.DataFrame, adjustments: pd.DataFrame, tolerance: float = 0.005
) -> pd.DataFrame:
    """Remitted claims whose adjustments do not explain billed minus paid (X12: ΣCAS = CLP03 − CLP04).

    Reported, never used to drop data: the claim's lines stay in the tables.
    """
    remitted = claim_lines[~claim_lines["claim_status"].isin(["pending"])]
    per_claim = remitted.groupby("claim_id").agg(
        payer=("payer", "first"),
        billed=("billed", "sum"),
        paid=("paid", "sum"),
        source=("source", "first"),
    )
    adj = adjustments.groupby("claim_id")["amount"].sum().rename("adjustments")
    t = per_claim.join(adj, how="left").fillna({"adjustments": 0.0})
    t["difference"] = (t["billed"] - t["paid"] - t["adjustments"]).round(2)
    bad = t[t["difference"].abs() > tolerance].reset_index()
    return bad.sort_values(["payer", "claim_id"], ignore_index=True)


def balance_sentence(unbalanced: pd.DataFrame, claim_lines: pd.DataFrame) -> str:
    """One sentence on remittance balancing."""
    n = claim_lines.loc[claim_lines["claim_status"] != "pending", "claim_id"].nunique()
    if unbalanced.empty:
        return (
            f"All {n:,} remitted claims balance: adjustments explain billed minus paid to the cent."
        )
    return (
        f"**{len(unbalanced):,} of {n:,} remitted claims do not balance** (adjustments differ from "
        f"billed minus paid by ${unbalanced['difference'].abs().sum():,.2f} in all); they are kept "
        "and listed below for the payer's remittance team."
    )


def recode_sentence(claim_lines: pd.DataFrame) -> str:
    """One sentence on lines paid under a different code than billed."""
    n = int(claim_lines["recoded"].sum()) if "recoded" in claim_lines else 0
    if n == 0:
        return "No line was paid under a different code than billed."
    billed = claim_lines.loc[claim_lines["recoded"], "billed"].sum()
    return f"**{n:,} lines were paid under a different code than billed** (billed ${billed:,.2f}): check each for downcoding."
