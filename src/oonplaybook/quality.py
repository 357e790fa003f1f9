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
    files = report.get("files", [])
    nfiles = len(files) if isinstance(files, list) else int(files)
    return (
        f"Read **{nfiles:,} files** holding {report.get('source_records_read', 0):,} service-line "
        f"records (export rows, 837P and 835 lines). Joined billed to remitted lines: "
        f"**{report.get('accepted_lines', 0):,} canonical lines accepted** "
        f"({report.get('remitted_lines', 0):,} with a remittance, {report.get('pending_lines', 0):,} "
        f"still pending), **{report.get('rejected', 0):,} records rejected** with their reason and "
        f"place. Billed ${report.get('billed', 0):,.2f}, allowed ${report.get('allowed', 0):,.2f}, "
        f"paid ${report.get('paid', 0):,.2f} (cash on claims, which reconciles with the payments "
        f"of ${report.get('bpr_total', 0):,.2f} once ${report.get('plb', 0):,.2f} of provider-level "
        f"adjustments are added back), patient responsibility ${report.get('patient_resp', 0):,.2f}. "
        f"Appeal history: {len(appeals):,} appeals read, {len(appeal_rejects):,} rejected."
    )


def sources(report: dict) -> pd.DataFrame:
    """Files read, by kind (835, 837P, CSV, XLSX): how many, claims, lines, claims rejected."""
    files = pd.DataFrame(report.get("files", []))
    if files.empty:
        return pd.DataFrame(columns=["kind", "files", "claims", "lines", "claims_rejected"])
    for col in ("claims", "lines", "claims_rejected"):
        if col not in files:
            files[col] = 0
    files[["claims", "lines", "claims_rejected"]] = (
        files[["claims", "lines", "claims_rejected"]].fillna(0).astype("int64")
    )
    g = files.groupby("kind").agg(
        files=("file", "size"),
        claims=("claims", "sum"),
        lines=("lines", "sum"),
        claims_rejected=("claims_rejected", "sum"),
    )
    return g.reset_index()


def balance_summary(failures: pd.DataFrame) -> pd.DataFrame:
    """Balance failures the reader found, counted by check (line, claim, transaction vs BPR).

    The checks are the X12 ones: SVC02 - ΣCAS = SVC03 per line, CLP03 - ΣCAS = CLP04 per claim,
    BPR02 = ΣCLP04 - ΣPLB per payment. They are reported, never used to drop data.
    """
    if failures.empty:
        return pd.DataFrame(
            {
                "check": pd.Series(dtype="str"),
                "failures": pd.Series(dtype="int64"),
                "abs_difference": pd.Series(dtype="float64"),
            }
        )
    g = failures.assign(abs_difference=failures["difference"].abs()).groupby("check")
    out = g.agg(failures=("difference", "size"), abs_difference=("abs_difference", "sum"))
    return out.sort_values("failures", ascending=False).reset_index()


def balance_sentence(failures: pd.DataFrame, claim_lines: pd.DataFrame) -> str:
    """One sentence on remittance balancing."""
    n = claim_lines.loc[claim_lines["claim_status"] != "pending", "claim_id"].nunique()
    if failures.empty:
        return (
            f"All {n:,} remitted claims balance: adjustments explain billed minus paid to the cent."
        )
    claims = failures.loc[failures["claim_id"] != "", "claim_id"].nunique()
    return (
        f"**{claims:,} of {n:,} remitted claims do not balance** (by "
        f"${failures['difference'].abs().sum():,.2f} in all); they are kept in the tables and listed "
        "in `summary.xlsx` with the file and segment, for the payer's remittance team."
    )


def recode_sentence(claim_lines: pd.DataFrame) -> str:
    """One sentence on lines paid under a different code than billed."""
    n = int(claim_lines["recoded"].sum()) if "recoded" in claim_lines else 0
    if n == 0:
        return "No line was paid under a different code than billed."
    billed = claim_lines.loc[claim_lines["recoded"], "billed"].sum()
    return f"**{n:,} lines were paid under a different code than billed** (billed ${billed:,.2f}): check each for downcoding."
