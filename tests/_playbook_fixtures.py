"""A small hand-built portfolio for the playbook tests (every number chosen to be hand-checkable)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from oonplaybook.playbook._adapters import IdrPrior
from oonplaybook.schema import conform

AS_OF = date(2025, 6, 30)
PRIORS = {"generic": IdrPrior(0.8, 2.5, "test"), "emergency_medicine": IdrPrior(0.8, 2.5, "test")}


def _row(claim_id: str, **kw: object) -> dict:
    base = dict(
        claim_id=claim_id,
        line_no=1,
        payer="Acme",
        plan_type="self_funded_erisa",
        provider_npi="1234567893",
        provider_tin="123456789",
        specialty="emergency_medicine",
        patient_key=f"pk{claim_id}",
        service_date=pd.Timestamp("2025-06-01"),
        submitted_date=pd.Timestamp("2025-06-05"),
        cpt="99285",
        units=1.0,
        state="NY",
        billed=1600.0,
        allowed=300.0,
        paid=300.0,
        patient_resp=0.0,
        claim_status="paid",
        carc="CO-45",
        qpa=400.0,
        emergency=True,
        medicare_allowed=200.0,
        ucr_p80=1000.0,
    )
    base.update(kw)
    return base


def portfolio() -> pd.DataFrame:
    """Claim lines with benchmark columns (medicare_allowed, ucr_p80) included."""
    rows = [
        # NSA emergency, improperly denied for no prior auth, remit 10 days before as-of
        _row(
            "E1",
            claim_status="denied",
            allowed=0.0,
            paid=0.0,
            carc="CO-197",
            remit_date=pd.Timestamp("2025-06-20"),
        ),
        # NSA emergency underpaid, remitted 2024-10-01: every window closed by 2025-06-30
        _row(
            "E2",
            remit_date=pd.Timestamp("2024-10-01"),
            service_date=pd.Timestamp("2024-09-01"),
            submitted_date=pd.Timestamp("2024-09-05"),
        ),
        # NSA emergency underpaid, recent
        _row("E3", remit_date=pd.Timestamp("2025-06-25")),
        # non-NSA orthopaedics at Beta (fully insured)
        _row(
            "M0",
            payer="Beta",
            plan_type="fully_insured",
            specialty="orthopedic_surgery",
            cpt="27447",
            emergency=False,
            billed=6000.0,
            allowed=2400.0,
            paid=2400.0,
            carc="",
            qpa=float("nan"),
            medicare_allowed=1500.0,
            ucr_p80=float("nan"),
            remit_date=pd.Timestamp("2025-05-01"),
        ),
        _row(
            "M1",
            payer="Beta",
            plan_type="fully_insured",
            specialty="orthopedic_surgery",
            cpt="27447",
            emergency=False,
            billed=6000.0,
            allowed=0.0,
            paid=0.0,
            claim_status="denied",
            carc="CO-50",
            qpa=float("nan"),
            medicare_allowed=1500.0,
            ucr_p80=float("nan"),
            remit_date=pd.Timestamp("2025-06-01"),
        ),
        _row(
            "C1",
            payer="Beta",
            plan_type="fully_insured",
            specialty="orthopedic_surgery",
            cpt="27447",
            emergency=False,
            billed=6000.0,
            allowed=0.0,
            paid=0.0,
            claim_status="denied",
            carc="CO-4",
            qpa=float("nan"),
            medicare_allowed=1500.0,
            ucr_p80=float("nan"),
            remit_date=pd.Timestamp("2025-06-01"),
        ),
        _row(
            "M2",
            payer="Beta",
            plan_type="fully_insured",
            specialty="orthopedic_surgery",
            cpt="27447",
            emergency=False,
            billed=6000.0,
            allowed=0.0,
            paid=0.0,
            claim_status="denied",
            carc="CO-50",
            qpa=float("nan"),
            medicare_allowed=1500.0,
            ucr_p80=float("nan"),
            remit_date=pd.Timestamp("2025-03-01"),
        ),
        # self-pay with a good-faith estimate of $500, billed $1,000
        _row(
            "S1",
            payer="SELF PAY",
            plan_type="self_pay",
            specialty="orthopedic_surgery",
            cpt="99213",
            emergency=False,
            billed=1000.0,
            allowed=0.0,
            paid=0.0,
            claim_status="pending",
            carc="",
            qpa=float("nan"),
            medicare_allowed=90.0,
            ucr_p80=float("nan"),
            gfe_amount=500.0,
            remit_date=pd.NaT,
        ),
    ]
    df = pd.DataFrame(rows)
    df["paid_date"] = df["remit_date"].where(df["paid"] > 0)
    return conform(df)


def appeals() -> pd.DataFrame:
    """M2's level-1 appeal was upheld on 2025-05-01."""
    return pd.DataFrame(
        {
            "claim_id": ["M2"],
            "payer": ["Beta"],
            "appeal_level": [1],
            "denial_reason_group": ["medical_necessity"],
            "filed_date": [pd.Timestamp("2025-03-15")],
            "decided_date": [pd.Timestamp("2025-05-01")],
            "outcome": ["upheld"],
            "recovered": [0.0],
        }
    )


def assessment(lines: pd.DataFrame) -> pd.DataFrame:
    """Claim-level NSA assessment in the nsa.assess_claims shape, from nsa.deadlines."""
    from oonplaybook import nsa

    rows = []
    for r in lines.itertuples(index=False):
        applies = bool(r.emergency) and r.plan_type != "self_pay"
        row = {"claim_id": r.claim_id, "nsa_applies": applies, "idr_eligible": applies}
        if applies and pd.notna(r.remit_date):
            d = nsa.deadlines(r.remit_date.date())
            row["open_negotiation_initiate_by"] = pd.Timestamp(d.open_negotiation_initiate_by)
            row["idr_initiate_by"] = pd.Timestamp(d.idr_initiate_by)
        rows.append(row)
    return pd.DataFrame(rows)
