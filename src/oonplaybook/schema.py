"""The canonical tables every stage reads and writes, and their validation.

One row per service line in ``claim_lines``; adjustments (CAS) in a long table; provider-level
adjustments (PLB) in their own table; appeal history in ``appeals``. Money is float64 dollars
in the canonical tables (readers keep Decimal/cents until they write). Codes (CPT/HCPCS, POS,
ZIP, NPI, TIN, CARC, RARC, modifiers) are *always* strings so ``00100`` stays ``00100``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa

# --- value sets -------------------------------------------------------------------------------

#: Normalised line status. ``paid`` (paid > 0), ``denied`` (paid == 0 and a denial CARC or
#: CLP02=4), ``reversal`` (CLP02=22), ``forwarded`` (CLP02=19/20/21 crossovers, not denials),
#: ``pending`` (no remittance yet), ``predetermination`` (CLP02=25: priced, nothing paid; neither
#: a payment nor a denial, so no payment or denial model counts it).
CLAIM_STATUSES = ("paid", "denied", "reversal", "forwarded", "pending", "predetermination")

#: Plan funding. NSA applies to both; state surprise-billing law can only reach fully insured
#: plans (ERISA pre-emption), and ERISA internal appeal rules apply to employer plans.
PLAN_TYPES = (
    "fully_insured",
    "self_funded_erisa",
    "self_funded_non_erisa",
    "medicare_advantage",
    "medicaid_managed_care",
    "self_pay",
    "unknown",
)

#: Units qualifier: ``UN`` units, ``MJ`` minutes (anesthesia time).
UNIT_TYPES = ("UN", "MJ")

ADJUSTMENT_GROUPS = ("CO", "PR", "OA", "PI", "CR")

# --- column contracts ---------------------------------------------------------------------------

#: claim_lines: column -> pandas dtype. Order is the canonical column order.
CLAIM_LINE_COLUMNS: dict[str, str] = {
    "claim_id": "str",  # provider's claim id (CLM01 / CLP01 patient control number)
    "line_no": "int64",  # 1-based service line; 0 = claim-level line (claim with no SVC)
    "payer_claim_id": "str",  # payer's internal control number (CLP07), "" if unknown
    "payer": "str",  # payer name (N1*PR)
    "payer_id": "str",  # payer identifier (N1*PR 04 / REF*2U / export column)
    "plan_type": "str",  # one of PLAN_TYPES
    "provider_npi": "str",  # rendering (or billing) NPI, 10 digits
    "provider_tin": "str",  # billing TIN, 9 digits
    "specialty": "str",  # specialty profile key, e.g. "emergency_medicine"
    "patient_key": "str",  # salted SHA-256 of patient identity; never a raw identifier
    "service_date": "datetime64[us]",
    "submitted_date": "datetime64[us]",  # date the claim was received by the payer (DTM*050)
    "remit_date": "datetime64[us]",  # date of the initial payment or denial (835 BPR16/DTM*405)
    "paid_date": "datetime64[us]",  # remit_date when paid > 0, else NaT
    "cpt": "str",  # CPT/HCPCS code as billed/paid, 5 chars
    "billed_cpt": "str",  # code on the 837/export when it differs from the remit ("" if same)
    "modifiers": "str",  # ":"-joined, e.g. "26" or "26:59"; "" when none
    "units": "float64",
    "unit_type": "str",  # UN or MJ (minutes)
    "pos": "str",  # place of service, 2 chars
    "state": "str",  # 2-letter state of service
    "locality": "str",  # Medicare MAC-locality "CCCCC-LL", e.g. "13202-01"
    # optional: ZIP (5 or 9 digits) of the service facility (837P 2310C N403), else of the
    # billing provider (2010AA N403); gives the locality when a line has none ("" = unknown)
    "service_zip": "str",
    "billed": "float64",
    "allowed": "float64",
    "paid": "float64",
    "patient_resp": "float64",
    # claim-level money of a remitted claim, on its FIRST line only (0.0 on its other lines, NaN on
    # lines not from an 835), so a plain column sum counts each claim once: claim_paid is CLP04
    # (sum(claim_paid) - sum(PLB) = sum(BPR02), the cash), claim_level_adjustments the claim-level
    # CAS total (line paid + these adjustments do not add up to cash without it)
    "claim_paid": "float64",
    "claim_level_adjustments": "float64",
    "claim_status": "str",  # one of CLAIM_STATUSES
    "claim_status_code": "str",  # raw CLP02 (or export status)
    "carc": "str",  # primary reason code, "GROUP-CODE" e.g. "CO-45"; "" when none
    "rarc": "str",  # remark codes ":"-joined, e.g. "N130:M15"
    "qpa": "float64",  # qualifying payment amount where the remit/export carries it (NaN else)
    "emergency": "bool",
    "facility_in_network": "bool",
    "air_ambulance": "bool",
    "notice_consent": "bool",  # patient signed NSA notice-and-consent
    "gfe_amount": "float64",  # good-faith estimate for self-pay/uninsured (NaN else)
    "repricer": "str",  # repricer named on the remit (MultiPlan, Zelis, ...), "" if none
    "recoded": "bool",  # remit paid a different code than billed
    "source": "str",  # "file:line" or "file:segment N"
}

ADJUSTMENT_COLUMNS: dict[str, str] = {
    "claim_id": "str",
    "line_no": "int64",  # 0 = claim-level adjustment (claim CAS)
    "group": "str",  # CO PR OA PI CR
    "reason": "str",  # CARC, string
    "amount": "float64",  # may be negative (reversals)
    "quantity": "float64",
    "source": "str",
}

PROVIDER_ADJUSTMENT_COLUMNS: dict[str, str] = {
    "provider_id": "str",
    "fiscal_period_date": "datetime64[us]",
    "reason": "str",  # PLB adjustment reason (e.g. WO, L6, FB)
    "reference": "str",
    "amount": "float64",
    "payer": "str",
    "source": "str",
}

APPEAL_COLUMNS: dict[str, str] = {
    "claim_id": "str",
    "payer": "str",
    "appeal_level": "int64",  # 1, 2, 3 = external review
    "denial_reason_group": "str",
    "filed_date": "datetime64[us]",
    "decided_date": "datetime64[us]",
    "outcome": "str",  # overturned | upheld | partial | pending
    "recovered": "float64",
}

REJECT_COLUMNS: dict[str, str] = {
    "file": "str",
    "location": "str",  # "line 12", "segment 57", "row 4"
    "record": "str",  # what was rejected (claim id, row, segment id) -- never PHI
    "reason": "str",
}


def _typed_empty(columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()})


def empty_claim_lines() -> pd.DataFrame:
    """An empty claim-lines table with canonical dtypes."""
    return _typed_empty(CLAIM_LINE_COLUMNS)


def empty_adjustments() -> pd.DataFrame:
    """An empty adjustments table with canonical dtypes."""
    return _typed_empty(ADJUSTMENT_COLUMNS)


def empty_provider_adjustments() -> pd.DataFrame:
    """An empty PLB table with canonical dtypes."""
    return _typed_empty(PROVIDER_ADJUSTMENT_COLUMNS)


def empty_rejects() -> pd.DataFrame:
    """An empty rejects table."""
    return _typed_empty(REJECT_COLUMNS)


# Defaults used to complete a partial table (e.g. a CSV export without QPA) so downstream code
# can rely on every column existing. Missing money stays NaN (unknown), never 0.
_DEFAULTS: dict[str, object] = {
    "payer_claim_id": "",
    "payer_id": "",
    "plan_type": "unknown",
    "provider_npi": "",
    "provider_tin": "",
    "specialty": "",
    "billed_cpt": "",
    "modifiers": "",
    "unit_type": "UN",
    "pos": "",
    "state": "",
    "locality": "",
    "claim_status_code": "",
    "carc": "",
    "rarc": "",
    "repricer": "",
    "emergency": False,
    "facility_in_network": False,
    "air_ambulance": False,
    "notice_consent": False,
    "recoded": False,
    "source": "",
}


def conform(df: pd.DataFrame, columns: dict[str, str] = CLAIM_LINE_COLUMNS) -> pd.DataFrame:
    """Return ``df`` with every canonical column, canonical dtypes and canonical order.

    Missing text/flag columns get their documented default; missing money and dates stay
    NaN/NaT (unknown), never a guessed value. Extra columns are kept after the canonical ones.
    """
    out = df.copy()
    n = len(out)
    for col, dtype in columns.items():
        if col not in out.columns:
            if col in _DEFAULTS:
                out[col] = pd.Series([_DEFAULTS[col]] * n, index=out.index)
            elif dtype.startswith("datetime"):
                out[col] = pd.Series(pd.NaT, index=out.index, dtype=dtype)
            elif dtype == "float64":
                out[col] = pd.Series(float("nan"), index=out.index, dtype="float64")
            elif dtype == "str":
                out[col] = pd.Series([""] * n, index=out.index, dtype="str")
            else:
                raise KeyError(f"required column {col!r} is missing")
        if dtype == "str":
            out[col] = out[col].astype("str").where(out[col].notna(), "")
            out[col] = out[col].astype("str")
        elif dtype.startswith("datetime"):
            out[col] = pd.to_datetime(out[col]).astype(dtype)
        elif dtype == "bool":
            out[col] = out[col].fillna(False).astype("bool")
        else:
            out[col] = out[col].astype(dtype)
    extra = [c for c in out.columns if c not in columns]
    return out[list(columns) + extra]


# --- pandera schemas ------------------------------------------------------------------------------

_CODE5 = r"^[0-9A-Z]{5}$"

ClaimLineSchema = pa.DataFrameSchema(
    {
        "claim_id": pa.Column(str, pa.Check.str_length(min_value=1)),
        "line_no": pa.Column("int64", pa.Check.ge(0)),
        "payer": pa.Column(str, pa.Check.str_length(min_value=1)),
        "plan_type": pa.Column(str, pa.Check.isin(PLAN_TYPES)),
        "patient_key": pa.Column(str),
        "service_date": pa.Column("datetime64[us]"),
        "cpt": pa.Column(str, pa.Check.str_matches(_CODE5)),
        "units": pa.Column("float64", pa.Check.ge(0)),
        "unit_type": pa.Column(str, pa.Check.isin(UNIT_TYPES)),
        "billed": pa.Column("float64", nullable=True),
        "allowed": pa.Column("float64", nullable=True),
        "paid": pa.Column("float64", nullable=True),
        "patient_resp": pa.Column("float64", nullable=True),
        "claim_status": pa.Column(str, pa.Check.isin(CLAIM_STATUSES)),
        "qpa": pa.Column("float64", nullable=True),
        "emergency": pa.Column(bool),
        "facility_in_network": pa.Column(bool),
    },
    strict=False,
    coerce=False,
)

AdjustmentSchema = pa.DataFrameSchema(
    {
        "claim_id": pa.Column(str),
        "line_no": pa.Column("int64", pa.Check.ge(0)),
        "group": pa.Column(str, pa.Check.isin(ADJUSTMENT_GROUPS)),
        "reason": pa.Column(str, pa.Check.str_length(min_value=1)),
        "amount": pa.Column("float64"),
    },
    strict=False,
)


@dataclass(frozen=True)
class TableSet:
    """The tables one ingest produces."""

    claim_lines: pd.DataFrame
    adjustments: pd.DataFrame
    provider_adjustments: pd.DataFrame
    rejects: pd.DataFrame


def validate_claim_lines(df: pd.DataFrame) -> pd.DataFrame:
    """Validate a claim-lines table (lazy: all failures reported at once)."""
    return ClaimLineSchema.validate(df, lazy=True)


def validate_adjustments(df: pd.DataFrame) -> pd.DataFrame:
    """Validate an adjustments table."""
    return AdjustmentSchema.validate(df, lazy=True)
