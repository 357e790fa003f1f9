"""Synthetic out-of-network practice portfolio with planted ground truth (the demo dataset).

Why: every stage of oonplaybook must be checkable against a known answer. The demo is a
multi-specialty OON billing portfolio whose payers each carry one planted behaviour; the
parameters of the data-generating process (DGP) are written beside the data as ``truth.json``
so tests can check that the analysis recovers them (within its confidence intervals).

DGP (the contract with ``payers.py``; every coefficient lands in ``truth.json``):

* **Denial (claim level)**: ``logit P(denied) = a0 + b_payer[p] + b_specialty[s] +
  b_emergency*E + b_pos[g] + b_logbilled*(log(claim billed) - centre)``. ``b_payer`` sums to
  zero over the payers, so ``truth.payers[p].denial_odds_ratio = exp(b_payer[p])`` is the odds
  ratio against the average payer (deviation coding recovers exactly this). The
  ``er_prior_auth`` payer additionally denies each *emergency* claim for "no prior
  authorization" (CO-197 + RARC M62) with probability ``er_prior_auth_denial_rate``, before the
  model applies; other payers never use CO-197 on emergency claims (it is improper under the
  NSA, docs/domain.md §1.1), so CO-197 on an emergency claim marks exactly the planted
  behaviour. Denied claims: every line paid 0, allowed 0, one consistent CARC/RARC.
* **Payment level (paid lines)**: ``allowed = medicare_allowed * M[p] * exp(eps)``,
  ``eps ~ N(0, sigma_p)``, no code-family effect; ``truth.paid_multiple_of_medicare = M[p]``
  (geometric-mean multiple of Medicare of the allowed amount). The repricer payer has
  ``sigma = 0.02`` around ``repricer_multiple``; the cut payer pays ``M * cut_factor`` for
  service months ``>= cut_month``. Allowed is capped at billed (payers allow the lesser of
  billed and their amount); the capped share is reported in ``truth.payers[p].capped_lines``.
  ``paid = allowed - patient_resp``; patient_resp is PR-1/PR-2/PR-3 cost sharing, on
  NSA-protected claims computed on the recognized amount ``min(QPA, billed)`` (in-network cost
  sharing, 42 U.S.C. 300gg-111(a)(1)(C)(iii); docs/domain.md §1.1) and never above allowed.
* **Time to pay**: days from submitted_date to remit_date ``~ ceil(Exponential(rate =
  lambda0 * exp(h[p])))``, at least 1; ``h`` sums to zero; ``payment_hazard_ratio =
  exp(h[p])``. Denied claims use the same clock. A claim whose remit would fall after
  ``cutoff_date`` is ``pending`` (no remit, no outcome: censored at the cut-off).
* **Appeals**: a share of adjudicated denials (by reason group) is appealed at level 1;
  upheld level-1 appeals may go to level 2, and upheld medical-necessity appeals to external
  review (level 3; 29 CFR 2590.715-2719(d)(1) limits external review to medical judgment).
  ``logit P(overturned) = c0 + c_payer[p] + c_reason[group] + c_level[level]`` with ``c_payer``
  summing to zero; ``appeal_odds_ratio = exp(c_payer[p])``. An appeal decided after the cut-off
  is ``pending``. Overturned appeals recover the amount the claim would have been paid
  (``appeals.recovered``); the claim lines keep their initial adjudication (the 835 that
  denied them).
* **Charges**: one charge-master price per code, modifiers and locality: the Medicare fee
  (without the 51/QK payment reductions, which a practice does not bill) times the specialty's
  billed multiple (docs/domain.md §3.2) times a per-code lognormal deviation, rounded up to
  $1/$5; anesthesia per case from its (base + time) units.
* **Self-pay**: a few behavioural-health and elective orthopaedic claims are self-pay
  (payer ``Self Pay``, plan_type ``self_pay``) with a line-level good-faith estimate
  (``gfe_amount``, 45 CFR 149.610); some bill more than GFE + $400 (the patient-provider
  dispute threshold, 45 CFR 149.620). They have no remittance (status ``pending``) and are
  not part of any payer's truth: payer models must exclude ``plan_type == "self_pay"``.
* **Downcoding** (``truth.downcoding``, RNG stream ``[seed, 7001]``): the payers of
  ``DOWNCODE_PAYERS`` pay ~10% of their eligible paid 99285 lines as 99284 (``cpt`` = paid
  code, ``billed_cpt`` = 99285, ``recoded``; the 835 carries SVC06 = 99285, the export the
  billed 99285). Allowed is Medicare(99284) x M x cut x exp(eps) with the line's own eps, so
  allowed / medicare_allowed and every payment-model number are unchanged.
* **Defects** (``truth.defects``, RNG stream ``[seed, 7002]``): export rows and a damaged 835
  resend (``remits/zz_payer_resend_damaged.835``) on NEW claim ids (``DZ...``), each with one
  real defect ingest must reject (row / segment named in the truth), plus resend claims it
  must accept although they do not balance. No payer truth involves them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from oonplaybook import schema

# --- fixed demo settings ------------------------------------------------------------------------

#: Salt for the demo's patient_key. Public on purpose: the demo's patients are fake. A real
#: client's salt comes from phi.resolve_salt() and never from the repository.
DEMO_SALT = "oonplaybook-demo-salt"

#: Medicare fee-schedule year the demo's prices (and so its multiples) are computed in.
FEE_SCHEDULE_YEAR = 2025

#: Export column order of ``claims_export.csv`` (practice-management export; the ingest
#: ``generic`` mapping reads it). PHI columns carry FAKE values.
EXPORT_COLUMNS: tuple[str, ...] = (
    "claim_id",
    "line_no",
    "patient_name",
    "member_id",
    "birth_date",
    "payer",
    "payer_id",
    "plan_type",
    "provider_npi",
    "provider_tin",
    "specialty",
    "service_date",
    "submitted_date",
    "cpt",
    "modifiers",
    "units",
    "unit_type",
    "pos",
    "state",
    "locality",
    "billed",
    "qpa",
    "emergency",
    "facility_in_network",
    "air_ambulance",
    "notice_consent",
    "gfe_amount",
)

#: Medicare MAC-localities the demo's claims are spread over (mix weights). Codes and names
#: from CMS CY2025 PFS Addendum E (GPCI2025.csv): MAC 13202 loc 01 Manhattan, 04412 loc 18
#: Houston, 04412 loc 11 Dallas, 01182 loc 18 Los Angeles, 09102 loc 04 Miami, 02102 loc 01
#: Alaska.
LOCALITY_MIX: dict[str, tuple[str, str, float]] = {
    "13202-01": ("NY", "MANHATTAN", 0.28),
    "04412-18": ("TX", "HOUSTON", 0.18),
    "04412-11": ("TX", "DALLAS", 0.10),
    "01182-18": ("CA", "LOS ANGELES-LONG BEACH-ANAHEIM", 0.20),
    "09102-04": ("FL", "MIAMI", 0.17),
    "02102-01": ("AK", "ALASKA", 0.07),
}

#: Place-of-service codes (CMS POS code set) grouped for the denial model. Facility POS for
#: the NSA "participating health care facility" test (hospital inpatient/outpatient, ED, ASC;
#: 45 CFR 149.30 definition of health care facility).
POS_GROUP: dict[str, str] = {
    "23": "emergency_department",
    "21": "inpatient",
    "22": "outpatient",
    "24": "outpatient",  # ambulatory surgical center
    "11": "office",
    "81": "office",  # independent laboratory
    "02": "telehealth",
    "10": "telehealth",
}
FACILITY_POS = frozenset({"21", "22", "23", "24"})

#: Specialties whose services are "ancillary" (notice-and-consent can never waive NSA
#: protection): 42 U.S.C. 300gg-132(b)(2); 45 CFR 149.420(b); docs/domain.md §1.3.
ANCILLARY_SPECIALTIES = frozenset(
    {"emergency_medicine", "anesthesiology", "radiology", "pathology"}
)

#: Assistant-at-surgery modifiers (80 physician assistant surgeon; AS PA/NP/CNS assistant):
#: assistant surgeons are ancillary under 300gg-132(b)(2)(A).
ASSISTANT_MODIFIERS = ("80", "AS")


@dataclass(frozen=True)
class PayerSpec:
    """One demo payer and its planted behaviour (raw, before sum-to-zero centring)."""

    name: str
    payer_id: str
    behaviour: str
    share: float  # share of insured patients
    denial_b: float  # raw payer denial log-odds effect
    multiple: float  # M: allowed as a multiple of Medicare (geometric mean)
    sigma: float  # sd of log(allowed / (medicare*M))
    hazard_h: float  # raw log hazard-ratio of the time-to-pay clock
    appeal_c: float  # raw log-odds of an appeal overturn
    qpa_multiple: float  # QPA as a multiple of Medicare (payer's 2019 median, indexed)
    erisa_share: float  # share of its members in self-funded ERISA plans
    repricer: str | None = None
    cut_month_offset: int | None = None  # months after start: first month at the cut level
    cut_factor: float | None = None
    er_prior_auth_denial_rate: float | None = None


#: Fictional payers. The repricer vendor is named as it appears on real 835s (PER segment,
#: docs/domain.md §3.4: MultiPlan reprices mostly self-funded employer plans).
PAYERS: tuple[PayerSpec, ...] = (
    PayerSpec("Keystone Mutual Health", "KMH01", "fair", 0.18, -0.30, 1.85, 0.15, 0.15, -0.20, 1.45, 0.45),
    PayerSpec("Heartland Care Insurance", "HCI02", "fair", 0.12, -0.10, 1.70, 0.18, 0.10, 0.00, 1.35, 0.50),
    PayerSpec("Summit Benefit Plans", "SBP03", "high_denial", 0.15, 1.10, 1.60, 0.20, 0.10, 0.50, 1.30, 0.50),
    PayerSpec("Great Lakes Health Alliance", "GLH04", "slow", 0.15, 0.00, 1.75, 0.18, -0.80, 0.00, 1.40, 0.40),
    PayerSpec(
        "Pinnacle Employer Health", "PEH05", "repricer", 0.14, 0.10, 1.25, 0.02, 0.00, -0.30, 1.15, 0.85,
        repricer="MultiPlan",
    ),
    PayerSpec(
        "Coastal Health Partners", "CHP06", "cut", 0.14, -0.20, 1.90, 0.15, 0.15, 0.00, 1.50, 0.45,
        cut_month_offset=10, cut_factor=0.72,
    ),
    PayerSpec(
        "Frontier Choice Health", "FCH07", "er_prior_auth", 0.12, 0.00, 1.55, 0.18, 0.00, 0.60, 1.25, 0.50,
        er_prior_auth_denial_rate=0.30,
    ),
)  # fmt: skip

SELF_PAY_NAME = "Self Pay"
SELF_PAY_ID = "SELFPAY"

# --- denial model (claim level) -------------------------------------------------------------------

DENIAL_A0 = (
    -1.9
)  # base log-odds: ~10% of claims denied (KFF 2023, Premier 2022: 14-37%; docs/domain.md §6)
DENIAL_B_SPECIALTY: dict[str, float] = {
    "emergency_medicine": 0.0,
    "anesthesiology": -0.3,
    "radiology": -0.2,
    "pathology": -0.5,
    "orthopedic_surgery": 0.5,
    "behavioral_health": 0.3,
}
DENIAL_B_EMERGENCY = -0.4
DENIAL_B_POS: dict[str, float] = {
    "emergency_department": 0.0,
    "inpatient": 0.25,
    "outpatient": 0.10,
    "office": 0.0,
    "telehealth": 0.35,
}
DENIAL_B_LOGBILLED = 0.2
DENIAL_LOGBILLED_CENTRE = math.log(1000.0)  # claims centred at $1,000 billed

#: Denial reason groups -> (group, CARC, RARC) options and their weights. CARC meanings and
#: typical groups: docs/domain.md §4.2 (WPC list). RARCs: M62 missing/invalid treatment
#: authorization code; M15 separately billed services bundled; MA04 secondary payment needs the
#: primary payer's information; N290 invalid rendering provider identifier (CO-16 needs a RARC);
#: N130 consult plan benefit documents (CO-96 needs a RARC). RARC texts checked against the WPC
#: list as vendored in openemr (interface/billing/remark_codes.php).
DENIAL_REASONS: dict[str, tuple[tuple[str, str, str, float], ...]] = {
    "medical_necessity": (("CO", "50", "", 1.0),),
    "authorization": (("CO", "197", "M62", 1.0),),
    "coding": (("CO", "97", "M15", 0.6), ("CO", "4", "", 0.4)),
    "timely_filing": (("CO", "29", "", 1.0),),
    "eligibility": (("CO", "27", "", 0.6), ("CO", "22", "MA04", 0.4)),
    "information": (("CO", "16", "N290", 1.0),),
    "network": (("CO", "242", "", 1.0),),
    "non_covered": (("CO", "96", "N130", 1.0),),
}
REASON_GROUPS: tuple[str, ...] = tuple(DENIAL_REASONS)

#: P(reason group | denied, specialty) before exclusions. Exclusions: no CO-197 on emergency
#: claims except the planted payer; no CO-242 (network) on NSA-protected claims; timely filing
#: only where the late-filed claim is still adjudicated before the cut-off (service at least
#: TIMELY_FILING_WINDOW_DAYS before it), so censoring never depends on the denial reason.
REASON_WEIGHTS: dict[str, tuple[float, ...]] = {
    "emergency_medicine": (0.20, 0.10, 0.20, 0.05, 0.20, 0.15, 0.05, 0.05),
    "anesthesiology": (0.20, 0.15, 0.25, 0.05, 0.15, 0.10, 0.05, 0.05),
    "radiology": (0.20, 0.15, 0.25, 0.05, 0.15, 0.10, 0.05, 0.05),
    "pathology": (0.15, 0.05, 0.35, 0.05, 0.15, 0.15, 0.05, 0.05),
    "orthopedic_surgery": (0.25, 0.30, 0.15, 0.03, 0.10, 0.07, 0.05, 0.05),
    "behavioral_health": (0.25, 0.20, 0.10, 0.05, 0.15, 0.10, 0.05, 0.10),
}

# --- time to pay ----------------------------------------------------------------------------------

TIMELY_FILING_WINDOW_DAYS = 400  # 180-day late filing + ~220 days to pay (P(later) < 2%)
PAY_MEAN_DAYS = 24.0  # 1/lambda0: mean days submitted -> remit for the average payer
#: First service date of the demo: 18 months to 2026-10-31, pulled 2026-12-01 (a December-2026 client)
DEFAULT_START = "2025-05-01"
CUTOFF_LAG_DAYS = 31  # cut-off = last service date + this (export pulled a month later)

# --- appeals --------------------------------------------------------------------------------------

APPEAL_C0 = -0.3
APPEAL_C_REASON: dict[str, float] = {
    "medical_necessity": 0.2,
    "authorization": 0.6,
    "coding": 0.3,
    "timely_filing": -1.2,
    "eligibility": -0.8,
    "information": 0.0,
    "network": 0.1,
    "non_covered": -0.7,
}
APPEAL_C_LEVEL: dict[int, float] = {1: 0.0, 2: -0.4, 3: 0.5}
#: P(level-1 appeal | denied, reason group). CO-16 is corrected and resubmitted, not appealed
#: (docs/domain.md §4.2).
APPEAL_FILE_RATE: dict[str, float] = {
    "medical_necessity": 0.55,
    "authorization": 0.60,
    "coding": 0.35,
    "timely_filing": 0.15,
    "eligibility": 0.20,
    "information": 0.0,
    "network": 0.50,
    "non_covered": 0.30,
}
APPEAL_L2_RATE = 0.45  # share of upheld level-1 appeals taken to level 2
APPEAL_EXTERNAL_RATE = 0.50  # share of upheld level-2 medical-necessity appeals sent to IRO

# --- specialties, codes and charges ---------------------------------------------------------------


@dataclass(frozen=True)
class SpecialtySpec:
    """One specialty of the demo practice: claim share, charge multiple, lines per claim."""

    share: float
    # charges / Medicare, docs/domain.md §3.2 (Bai & Anderson, JAMA 2017): anesthesiology 5.8,
    # emergency medicine 4.0, pathology 4.0, diagnostic radiology 3.8. Orthopaedics (3.0) and
    # behavioural health (2.8) have no specialty figure there: set just above the all-specialty
    # median of 2.5 (a demo choice, not a sourced number).
    billed_multiple: float
    lines_p: tuple[float, float, float, float]  # P(1..4 lines per claim)
    tin: str
    npi_base: int


SPECIALTIES: dict[str, SpecialtySpec] = {
    "emergency_medicine": SpecialtySpec(0.30, 4.0, (0.45, 0.30, 0.17, 0.08), "841234561", 170000001),
    "anesthesiology": SpecialtySpec(0.15, 5.8, (0.80, 0.15, 0.05, 0.0), "841234562", 170000101),
    "radiology": SpecialtySpec(0.22, 3.8, (0.60, 0.25, 0.10, 0.05), "841234563", 170000201),
    "pathology": SpecialtySpec(0.15, 4.0, (0.50, 0.25, 0.15, 0.10), "841234564", 170000301),
    "orthopedic_surgery": SpecialtySpec(0.08, 3.0, (0.65, 0.30, 0.05, 0.0), "841234565", 170000401),
    "behavioral_health": SpecialtySpec(0.10, 2.8, (0.88, 0.12, 0.0, 0.0), "841234566", 170000501),
}  # fmt: skip
SPECIALTY_NAMES: tuple[str, ...] = tuple(SPECIALTIES)
CHARGE_CODE_SIGMA = 0.12  # sd of log charge-master deviation per code from the specialty multiple
NPIS_PER_SPECIALTY = 4

#: Anesthesia codes (ASA/CPT 00100-01999) used by the demo with typical case minutes. Base
#: units come from the PFS engine's anesthesia base-unit table.
ANESTHESIA_CODES: dict[str, tuple[float, float]] = {
    # code: (weight, median minutes)
    "00142": (0.10, 30),  # lens surgery
    "00400": (0.08, 50),  # integumentary, extremities/trunk
    "00731": (0.12, 20),  # upper GI endoscopy
    "00811": (0.12, 30),  # lower GI endoscopy
    "00813": (0.06, 40),  # combined upper/lower GI endoscopy
    "00790": (0.10, 150),  # intraperitoneal upper abdomen
    "00840": (0.10, 120),  # intraperitoneal lower abdomen
    "01402": (0.08, 120),  # total knee arthroplasty
    "01214": (0.06, 130),  # total hip arthroplasty
    "01480": (0.06, 90),  # open procedures lower leg/ankle
    "01967": (0.08, 240),  # neuraxial labor analgesia
    "00670": (0.04, 240),  # extensive spine procedures
}
DEMO_ANESTHESIA_CODES: tuple[str, ...] = tuple(ANESTHESIA_CODES)

# Menus: (code, weight, modifier rule). Rules: "" none; "prof" -> 26 at facility POS, else
# global/TC; "51" multiple procedure; "59" distinct service; "25" on E/M with other lines.
_MENUS: dict[str, tuple[tuple[str, float, str], ...]] = {
    "em_primary": (
        ("99281", 0.02, "25"), ("99282", 0.05, "25"), ("99283", 0.18, "25"),
        ("99284", 0.38, "25"), ("99285", 0.30, "25"), ("99291", 0.07, "25"),
    ),
    "em_secondary": (
        ("93010", 0.35, ""), ("12001", 0.20, ""), ("12002", 0.10, ""), ("12011", 0.08, ""),
        ("29125", 0.10, ""), ("10060", 0.07, ""), ("31500", 0.05, ""), ("36556", 0.05, ""),
    ),
    "anes_secondary": (("64447", 0.50, "59"), ("36620", 0.35, ""), ("76937", 0.15, "26")),
    "rad": (
        ("71046", 0.25, "prof"), ("70450", 0.20, "prof"), ("74177", 0.15, "prof"),
        ("71250", 0.10, "prof"), ("72148", 0.08, "prof"), ("73721", 0.05, "prof"),
        ("76700", 0.07, "prof"), ("76805", 0.05, "prof"), ("73610", 0.05, "prof"),
    ),
    "path": (
        ("88305", 0.60, "prof"), ("88307", 0.12, "prof"), ("88342", 0.18, "prof"),
        ("88312", 0.05, "prof"), ("88331", 0.05, "prof"),
    ),
    "ortho_elective": (("27447", 0.30, ""), ("29881", 0.40, ""), ("29880", 0.12, ""), ("27130", 0.18, "")),
    "ortho_emergency": (("27245", 0.45, ""), ("27236", 0.30, ""), ("25607", 0.25, "")),
    "ortho_secondary": (("29876", 0.40, "51"), ("20680", 0.30, "51"), ("20610", 0.30, "59")),
    "ortho_assistant_secondary": (("20680", 1.0, "51"),),
    "ortho_office": (("99203", 0.25, ""), ("99204", 0.15, ""), ("99213", 0.35, ""), ("99214", 0.25, "")),
    "ortho_office_secondary": (("20610", 0.60, ""), ("73562", 0.40, "")),
    "bh_primary": (("90791", 0.22, ""), ("90837", 0.45, ""), ("90834", 0.23, ""), ("90832", 0.10, "")),
    "bh_secondary": (("90785", 1.0, ""),),
}  # fmt: skip

#: (POS, weight, P(emergency | POS)) per specialty. Emergency medicine is always in the ED and
#: always an emergency service (42 U.S.C. 300gg-111(a)(3)(C)); other specialties see ED and
#: admitted-from-ED patients.
_POS_MIX: dict[str, tuple[tuple[str, float, float], ...]] = {
    "emergency_medicine": (("23", 1.0, 1.0),),
    "anesthesiology": (("21", 0.35, 0.40), ("22", 0.40, 0.0), ("24", 0.25, 0.0)),
    "radiology": (("23", 0.35, 1.0), ("21", 0.20, 0.30), ("22", 0.30, 0.0), ("11", 0.15, 0.0)),
    "pathology": (("21", 0.30, 0.20), ("22", 0.60, 0.0), ("81", 0.10, 0.0)),
    "orthopedic_surgery": (("21", 0.25, 0.45), ("22", 0.30, 0.0), ("24", 0.25, 0.0), ("11", 0.20, 0.0)),
    "behavioral_health": (("11", 0.70, 0.0), ("02", 0.12, 0.0), ("10", 0.10, 0.0), ("21", 0.08, 0.0)),
}  # fmt: skip
#: P(the facility is in the payer's network | facility POS): the classic OON-at-in-network
#: facility setting of hospital-based specialties (docs/domain.md §3.2, Sun et al. 2019).
FACILITY_IN_NETWORK_P: dict[str, float] = {
    "emergency_medicine": 0.90,
    "anesthesiology": 0.88,
    "radiology": 0.90,
    "pathology": 0.90,
    "orthopedic_surgery": 0.75,
    "behavioral_health": 0.70,
}
NOTICE_CONSENT_P = 0.25  # share of consent-eligible claims with a signed notice-and-consent
ASSISTANT_CLAIM_P = 0.08  # share of surgical ortho claims billed by the assistant surgeon
SELF_PAY_P = {"behavioral_health": 0.06, "orthopedic_surgery": 0.03}
GFE_OVER_P = 0.30  # share of self-pay claims (billed >= $1,500) whose bill exceeds GFE + $400
GFE_DISPUTE_THRESHOLD = 400.0  # 45 CFR 149.620(a)(2)(ii) "substantially in excess": >= $400

# Patient cost sharing (PR-1 deductible, PR-2 coinsurance, PR-3 copay), docs/domain.md §4.1.
_COINS_IN = (np.array([0.0, 0.1, 0.2, 0.3]), np.array([0.15, 0.30, 0.40, 0.15]))
_COINS_OON = (np.array([0.3, 0.4, 0.5]), np.array([0.4, 0.4, 0.2]))
_ED_COPAY = (np.array([0, 5000, 10000, 15000]), np.array([0.70, 0.15, 0.10, 0.05]))  # cents
DEDUCTIBLE_P = 0.20  # share of claims with some deductible remaining
DEDUCTIBLE_RANGE = (50, 1000)  # whole dollars of deductible remaining, uniform

_FIRST = (
    "Avery Blake Cameron Dakota Emerson Finley Harper Jordan Kendall Logan Morgan Parker Quinn "
    "Reese Riley Rowan Sawyer Skyler Taylor Alden Brynn Corin Delaney Ellery Greer Hollis Indigo "
    "Jules Kit Lennox Marlow Noor Oakley Perrin Remy Sage Tatum Wren Zephyr Arlo Bellamy Caspian "
    "Dorian Evander Fenwick Gideon Hadley Ingram Jasper Kestrel Linden Merritt Nolan Orrin"
).split()
_LAST = (
    "Ashdown Brackett Calloway Dunmore Ellingsworth Farrow Galloway Hartwell Ivers Jessup "
    "Kittredge Lockhart Merriweather Northcott Oakhurst Pemberton Quimby Radcliffe Sterling "
    "Thackeray Underhill Vance Whitlock Yardley Zeller Abernathy Blackwood Carrow Delacroix "
    "Everly Fairbanks Glenwood Holloway Inglewood Jarrow Kingsley Larkspur Montague Nightingale "
    "Ormsby Prescott Rutherford Sinclair Thornbury Upton Vandermeer Wexford Ainsley Bramwell"
).split()

PriceFn = Callable[[pd.DataFrame], pd.Series]


@dataclass
class DemoPortfolio:
    """The generated tables: canonical claim lines, adjustments, appeals, fake PHI, truth."""

    claim_lines: pd.DataFrame
    adjustments: pd.DataFrame
    appeals: pd.DataFrame
    phi: pd.DataFrame
    truth: dict[str, Any] = field(default_factory=dict)
    #: planted data-quality defects write_demo appends (export rows, damaged 835); see
    #: truth["defects"]. Empty = a clean demo folder.
    defects: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Chunk:
    """One chunk of a streamed (multi-chunk) demo, see :func:`write_streaming`.

    ``index``: chunk number (its RNG is ``SeedSequence(seed, spawn_key=(index,))``);
    ``claim_offset``: claims in the earlier chunks (claim ids continue after them);
    ``member_block``: (start, size) of the 9-digit member-number range only this chunk draws
    from (patients never repeat across chunks); ``book``: the per-code draws shared by every
    chunk (charge-master deviation and list price per code, QPA factor per payer and code), so
    a code keeps one charge and one QPA per locality in the whole demo.
    """

    index: int
    claim_offset: int
    member_block: tuple[int, int]
    book: dict[str, dict[str, float]] = field(default_factory=dict)


def _shared(
    book: dict[str, dict[str, float]],
    name: str,
    keys: np.ndarray,
    fresh: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    """``book[name]`` values of ``keys``; keys not yet there get ``fresh(positions)`` and stay."""
    table = book.setdefault(name, {})
    missing = np.array([k not in table for k in keys.tolist()], dtype=bool)
    if missing.any():
        new = np.asarray(fresh(np.flatnonzero(missing)), dtype=float)
        for k, v in zip(keys[missing].tolist(), new.tolist(), strict=True):
            table[k] = v
    return np.array([table[k] for k in keys.tolist()], dtype=float)


def _keys(*parts: np.ndarray) -> np.ndarray:
    """Text keys "a|b|..." of aligned value arrays (for :func:`_shared`)."""
    out = np.asarray(parts[0], dtype=object).astype(str).astype(object)
    for p in parts[1:]:
        out = out + "|" + np.asarray(p, dtype=object).astype(str).astype(object)
    return out


# --- helpers ----------------------------------------------------------------------------------------


def _npi_check_digit(base9: int) -> int:
    """Luhn check digit of an NPI (prefix 80840 per the CMS NPI check-digit standard)."""
    digits = [int(c) for c in f"80840{base9:09d}"]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def demo_npis(specialty: str) -> list[str]:
    """The rendering NPIs (Luhn-valid, fictional) of one demo specialty group."""
    base = SPECIALTIES[specialty].npi_base
    return [f"{b:09d}{_npi_check_digit(b)}" for b in range(base, base + NPIS_PER_SPECIALTY)]


def _centred(values: list[float]) -> np.ndarray:
    """Sum-to-zero version of a raw effect vector (deviation coding)."""
    arr = np.asarray(values, dtype=float)
    return arr - arr.mean()


def _choice(rng: np.random.Generator, n: int, p: np.ndarray) -> np.ndarray:
    """Vectorised categorical draw of ``n`` indices with probabilities ``p``."""
    cum = np.cumsum(p / p.sum())
    return np.minimum(np.searchsorted(cum, rng.random(n), side="right"), len(p) - 1)


def _rowwise_choice(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One categorical draw per row of a (n, k) weight matrix (rows need not be normalised)."""
    cum = np.cumsum(weights, axis=1)
    u = rng.random(len(weights)) * cum[:, -1]
    return np.minimum((cum < u[:, None]).sum(axis=1), weights.shape[1] - 1)


def _str_take(uniques: np.ndarray | pd.Index, idx: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """A ``str`` column built by taking from its distinct values (fast for repeated strings)."""
    return pd.array(np.asarray(uniques, dtype=object), dtype="str").take(idx)


def _str(values: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """A ``str`` column from an object array, converting each distinct value once."""
    codes, uniq = pd.factorize(values)
    return _str_take(np.asarray(uniq, dtype=object), codes)


def _append_modifier(mods: np.ndarray, mask: np.ndarray, extra: np.ndarray) -> np.ndarray:
    """Append a modifier (":"-joined) to the lines in ``mask``."""
    out = mods.copy()
    cur = out[mask]
    add = extra[mask]
    out[mask] = np.where(cur == "", add, cur + ":" + add)
    return out


def _claim_ids(n: int, offset: int = 0) -> np.ndarray:
    """Provider claim ids (CLM01 patient control numbers) DM00000001.. in service order.

    ``offset``: claims of the earlier chunks of a streamed demo (ids continue after them).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    num = pc.utf8_lpad(pa.array(np.arange(offset + 1, offset + n + 1)).cast(pa.string()), 8, "0")
    return np.asarray(
        pc.binary_join_element_wise("DM", num, "").to_numpy(zero_copy_only=False), dtype=object
    )


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _month_add(start: pd.Timestamp, months: int) -> pd.Timestamp:
    return start + pd.DateOffset(months=months)


def pfs_price(lines: pd.DataFrame) -> pd.Series:
    """Medicare allowed per line from the real 2025 PFS engine (the shipped default)."""
    from oonplaybook.reference import pfs

    priced = pfs.medicare_allowed(lines, year=FEE_SCHEDULE_YEAR)
    return pd.Series(priced["medicare_allowed"].to_numpy(dtype=float), index=lines.index)


def _price_lines(
    parts: dict[str, tuple[np.ndarray, np.ndarray]], units: np.ndarray, price_fn: PriceFn
) -> np.ndarray:
    """Price each distinct (code, modifiers, units, unit type, POS, locality) once.

    ``parts`` maps a text column to (distinct values, per-line index), so only the distinct
    combinations are ever turned into strings. Fails naming the combinations left unpriced.
    """
    names = list(parts)
    u_code, u_uniq = pd.factorize(units, sort=True)
    key = np.zeros(len(units), dtype=np.int64)
    sizes = [len(parts[n][0]) for n in names] + [len(u_uniq)]
    for size, code in zip(sizes, [parts[n][1] for n in names] + [u_code], strict=True):
        key = key * size + np.asarray(code, dtype=np.int64)
    uniq_key, line_gid = np.unique(key, return_inverse=True)
    digits = []
    rest = uniq_key.copy()
    for size in reversed(sizes):
        digits.append(rest % size)
        rest //= size
    digits.reverse()
    uniq = pd.DataFrame(
        {
            n: pd.array(np.asarray(parts[n][0], dtype=object)[digits[i]], dtype="str")
            for i, n in enumerate(names)
        }
    )
    uniq["units"] = np.asarray(u_uniq, dtype=float)[digits[-1]]
    uniq = uniq[["cpt", "modifiers", "units", "unit_type", "pos", "locality"]]
    prices = np.asarray(price_fn(uniq), dtype=float)
    bad = ~np.isfinite(prices) | (prices <= 0)
    if bad.any():
        missing = uniq.loc[bad, ["cpt", "modifiers", "pos", "locality"]].drop_duplicates()
        raise ValueError(
            "demo: the Medicare price function returned no price for "
            f"{len(missing)} code/modifier/POS/locality combinations, e.g. "
            f"{missing.head(5).to_dict('records')}; the demo needs every demo code priced "
            "(check reference/pfs.py and its anesthesia base-unit table)"
        )
    return prices[np.asarray(line_gid).reshape(-1)]


# --- planted downcoding ----------------------------------------------------------------------------

#: Seed-stream tag of the downcoding draws: ``default_rng([seed, DOWNCODE_STREAM])`` is
#: independent of the main stream, so every draw of the base portfolio keeps its value.
DOWNCODE_STREAM = 7001
#: Emergency E/M downcoding, a classic OON payer tactic: a level-5 ED visit (99285) paid as
#: level 4 (99284), the remittance naming the billed code in SVC06 (X12 835 005010X221A1
#: 2110 SVC06, "original submitted procedure code"; X12.md). ED E/M levels: CPT 99281-99285.
DOWNCODE_FROM = "99285"
DOWNCODE_TO = "99284"
#: Payers that downcode and the share of their eligible paid 99285 lines they downcode (a demo
#: choice). Two "fair"/"slow" payers: their planted truth (denial, hazard, appeal, multiple of
#: Medicare) does not involve E/M levels, and allowed/medicare_allowed keeps its exact value
#: because a downcoded line is priced on the paid code with the same eps draw.
DOWNCODE_PAYERS: dict[str, float] = {
    "Heartland Care Insurance": 0.10,
    "Great Lakes Health Alliance": 0.10,
}


def _downcode(rng: np.random.Generator, **k: Any) -> dict[str, Any]:
    """Pick the planted downcoded lines and reprice them on the paid code (99284).

    Eligible: paid, insured, line 1 ``99285`` of a downcoding payer, allowed not capped at
    billed, and a deductible that the line absorbs whether priced as 99285 or 99284 (so no
    other line's cost sharing moves). Allowed = Medicare(99284) x M x cut x exp(eps) with the
    line's own eps: allowed / medicare_allowed is unchanged. The QPA is the payer's QPA for the
    paid code at the same locality (45 CFR 149.140(d)(1)(ii), 87 FR 52618 (2022): a QPA based
    on a downcoded code is disclosed as such [unverified: not in docs/domain.md]); cost sharing is
    recomputed on the new amounts with the claim's draws (deductible, coinsurance, copay).
    """
    cpt = k["cpt"]
    names = [p.name for p in PAYERS]
    rate = np.zeros(len(PAYERS))
    for name, r in DOWNCODE_PAYERS.items():
        rate[names.index(name)] = r
    l_pi = k["l_pi"]
    cand = (
        k["paid_line"]
        & ~k["self_pay_l"]
        & (cpt == DOWNCODE_FROM)
        & (k["line_no"] == 1)
        & ~k["capped"]
        & (rate[l_pi] > 0)
    )
    idx = np.flatnonzero(cand)
    empty = np.zeros(0, dtype=np.int64)
    out: dict[str, Any] = {"mask": np.zeros(len(cpt), dtype=bool), "eligible": cand}
    if not len(idx):
        return out | {"medicare": np.zeros(0), "qpa_c": empty, "allowed_c": empty,
                      "pr1_c": empty, "pr2_c": empty, "pr3_c": empty, "paid_c": empty}  # fmt: skip
    parts = {n: (u, np.asarray(c)[idx]) for n, (u, c) in k["parts"].items()}
    parts = {"cpt": (np.array([DOWNCODE_TO], dtype=object), np.zeros(len(idx), np.int64)), **parts}
    med = np.round(_price_lines(parts, k["units"][idx], k["price_fn"]), 2)
    allowed = np.round(med * k["mult_l"][idx] * 100).astype(np.int64)
    billed = k["billed_c"][idx]
    # QPA of the paid code: the q-factor of the payer's 99284 lines at this locality/modifier
    cmod, loc = k["q_key"]
    key_all = pd.DataFrame({"m": cmod, "l": loc, "p": l_pi})
    ref = key_all[cpt == DOWNCODE_TO].assign(q=k["q_factor"][cpt == DOWNCODE_TO])
    ref = ref.drop_duplicates(["m", "l", "p"])
    qf = key_all.iloc[idx].merge(ref, on=["m", "l", "p"], how="left")["q"].to_numpy()
    qf = np.where(np.isnan(qf), k["q_factor"][idx], qf)
    qpa = np.round(med * k["qpa_mult"][idx] * qf * 100).astype(np.int64)
    prot = k["l_prot"][idx]
    base = np.where(prot, np.minimum(qpa, billed), allowed)
    ded = k["ded_c"][idx]
    # no ripple: the deductible is used up by this line at both prices (or there is none)
    keep = (allowed < billed) & (ded <= np.minimum(base, k["old_base_c"][idx]))
    keep &= ded <= allowed
    idx, med, allowed, qpa, base, ded = (x[keep] for x in (idx, med, allowed, qpa, base, ded))
    pick = rng.random(len(idx)) < rate[l_pi[idx]]
    idx, med, allowed, qpa, base, ded = (x[pick] for x in (idx, med, allowed, qpa, base, ded))
    pr1 = np.minimum(ded, allowed)
    pr3 = np.minimum(k["copay_c"][idx], allowed - pr1)
    pr2 = np.where(
        k["copay_c"][idx] > 0, 0, np.round((base - pr1) * k["coins"][idx]).astype(np.int64)
    )
    pr2 = np.minimum(pr2, allowed - pr1 - pr3)
    out["mask"][idx] = True
    return out | {
        "medicare": med,
        "qpa_c": qpa,
        "allowed_c": allowed,
        "pr1_c": pr1,
        "pr2_c": pr2,
        "pr3_c": pr3,
        "paid_c": allowed - pr1 - pr2 - pr3,
    }


# --- planted data-quality defects ------------------------------------------------------------------

#: Seed-stream tag of the defect draws (templates, amounts): independent of the main stream.
DEFECT_STREAM = 7002
#: The damaged 835 resend written beside the payers' remittances (one valid ISA/GS/ST envelope).
DAMAGED_835_NAME = "zz_payer_resend_damaged.835"
#: Payer of the damaged resend (its 3 accepted claims are 835-only lines of this payer).
DAMAGED_835_PAYER = "Keystone Mutual Health"

#: Export rows with one real PM-export defect each: (defect, export column, bad value, the
#: fragment of the reader's reject reason). Claim ids DZ0000nn are new (not in the portfolio),
#: so the planted truth is untouched. The anesthesia code 01967 saved through a spreadsheet as a
#: number loses its leading zero (docs/domain.md: codes are always 5-character strings).
EXPORT_DEFECTS: tuple[tuple[str, str, str, str], ...] = (
    ("code_lost_leading_zero", "cpt", "1967", "code '1967' has lost its leading zeros"),
    ("impossible_date", "service_date", "2025-02-30", "service_date '2025-02-30' matches none"),
    ("money_letter_o", "billed", "$1,2O4.00", "billed '$1,2O4.00' is not an amount"),
    ("missing_claim_id", "claim_id", "", "claim id is empty"),
    ("negative_units", "units", "-2", "units '-2' is negative"),
    ("unknown_unit_type", "unit_type", "XX", "unit type 'XX' is not UN (units) or MJ (minutes)"),
)
#: Defects deliberately NOT planted because the reader does not reject them (reported upstream).
DEFECTS_LEFT_OUT: dict[str, str] = {}


def _isa(date8: str, control: str) -> str:
    """A fixed-width ISA segment (106 characters with its terminator, X12 005010 ISA)."""
    return (
        f"ISA*00*{'':10}*00*{'':10}*ZZ*{'OONPAYER':15}*ZZ*{'OONPROVIDER':15}*{date8[2:]}*1200*^*"
        f"00501*{control}*0*P*:"
    )


def _plan_defects(
    seed: int, cl: pd.DataFrame, n_rows: int | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The planted export/835 defects: (what write_demo writes, truth.json "defects").

    ``n_rows``: export data rows before the defect rows (default ``len(cl)``; a streamed demo
    plans from its first chunk and appends the rows after every chunk's lines).
    """
    rng = np.random.default_rng([seed, DEFECT_STREAM])
    n = len(cl)
    n_rows = n if n_rows is None else n_rows
    ins = np.flatnonzero(cl["plan_type"].ne("self_pay").to_numpy())
    pool = ins if len(ins) else np.arange(n)
    templates = np.sort(rng.choice(pool, size=len(EXPORT_DEFECTS), replace=len(pool) < 5))
    export_rows: list[dict[str, Any]] = []
    expected: list[dict[str, str]] = []
    for k, ((defect, col, value, reason), t) in enumerate(
        zip(EXPORT_DEFECTS, templates, strict=True), start=1
    ):
        cid = "" if col == "claim_id" else f"DZ{k:06d}"
        values = {"claim_id": cid, "line_no": "1", col: value}
        if defect == "code_lost_leading_zero":
            values |= {"unit_type": "MJ", "units": "240", "modifiers": "AA"}
        export_rows.append({"template_row": int(t), "values": values})
        row = n_rows + 1 + k  # header is row 1, data row i is row i + 1
        expected.append(
            {
                "file": "claims_export.csv",
                "location": f"row {row}",
                "claim_id": cid,
                "defect": defect,
                "reason_contains": reason,
            }  # fmt: skip
        )

    # the damaged 835 resend: three claims the reader must reject, three it must accept
    end = pd.Timestamp(cl["remit_date"].max()) if cl["remit_date"].notna().any() else None
    day = (end or pd.Timestamp(cl["service_date"].max())).strftime("%Y%m%d")
    icn = rng.integers(10**10, 10**11, 6)
    payer = next(p for p in PAYERS if p.name == DAMAGED_835_PAYER)
    billed, paid, co45, pr2 = 400.0, 180.0, 150.0, 70.0  # a 99283 ED visit, balanced
    segs: list[str] = []
    rejects: list[dict[str, str]] = []
    balance: list[dict[str, Any]] = []

    def claim(cid: str, *, clp: str | None = None, svc: str | None = None,
              cas_co: str | None = None, cas_pr: str | None = None,
              reject: tuple[str, str] | None = None, reject_at: str = "CLP") -> None:  # fmt: skip
        start = len(segs) + 1
        segs.append(
            clp
            or f"CLP*{cid}*1*{billed:.2f}*{paid:.2f}*{pr2:.2f}*12*{payer.payer_id[:3]}"
            f"{icn[len(rejects) % 6]}*23*1"
        )
        segs.append(f"NM1*QC*1*RESEND*PATIENT****MI*{payer.payer_id[:3]}RS{cid[-3:] or '000'}")
        segs.append(f"DTM*232*{day}")
        segs.append(svc or f"SVC*HC:99283*{billed:.2f}*{paid:.2f}**1")
        segs.append(f"DTM*472*{day}")
        segs.append(cas_co or f"CAS*CO*45*{co45:.2f}")
        cas_at = len(segs) + 1
        segs.append(cas_pr or f"CAS*PR*2*{pr2:.2f}")
        segs.append(f"AMT*B6*{billed - co45:.2f}")
        if reject:
            at = start if reject_at == "CLP" else cas_at
            rejects.append(
                {
                    "file": DAMAGED_835_NAME,
                    "location": f"segment {at}",
                    "record": reject[0],
                    "claim_id": cid,
                    "reason_contains": reject[1],
                }  # fmt: skip
            )

    head = [
        _isa(day, "000009999"),
        f"GS*HP*OONPAYER*OONPROVIDER*{day}*1200*9999*X*005010X221A1",
        "ST*835*9999",
    ]
    segs.extend(head)
    bpr_at = len(segs)
    segs.append("BPR")  # filled in below
    segs += [
        f"TRN*1*RESEND{day}*1{SPECIALTIES['emergency_medicine'].tin}",
        f"DTM*405*{day}",
        f"N1*PR*{payer.name}",
        "N3*PO BOX 1000",
        "N4*NEW YORK*NY*10001",
        f"REF*2U*{payer.payer_id}",
        "PER*BL*PROVIDER SERVICES*TE*8005550100",
        f"N1*PE*PROVIDER GROUP {SPECIALTIES['emergency_medicine'].tin}*XX*"
        f"{demo_npis('emergency_medicine')[0]}",
        f"REF*TJ*{SPECIALTIES['emergency_medicine'].tin}",
        "LX*1",
    ]
    claim(
        "DZ000101",
        clp=f"CLP*DZ000101*1*4OO.00*{paid:.2f}*{pr2:.2f}*12*KMH{icn[0]}*23*1",
        reject=(
            "claim DZ000101",
            "CLP03 charge: 6 characters (letters, digits, punctuation), not a number; claim not read",
        ),
    )
    claim(
        "DZ000102",
        clp=f"CLP*DZ000102*1*{billed:.2f}",
        reject=("claim DZ000102", "CLP04 paid: empty (truncated CLP)"),
    )
    claim(
        "",
        clp=f"CLP**1*{billed:.2f}*{paid:.2f}*{pr2:.2f}*12*KMH{icn[2]}*23*1",
        reject=("claim ?", "CLP01 (patient control number) is empty; claim not read"),
    )
    claim(
        "DZ000104",
        cas_pr="CAS*PR*2",
        reject=("claim DZ000104 CAS PR-2", "CAS03 amount: empty; adjustment not read"),
        reject_at="CAS",
    )
    claim("DZ000105", svc=f"SVC*HC>99283*{billed:.2f}*{paid:.2f}**1")
    claim("DZ000106", cas_co=f"CAS*CO*45*{co45 - 10:.2f}")
    accepted = ["DZ000104", "DZ000105", "DZ000106"]
    segs[bpr_at] = (
        f"BPR*I*{paid * len(accepted):.2f}*C*ACH*CCP*01*999999999*DA*123456789*1512345678**01*"
        f"999999999*DA*987654321*{day}"
    )
    n_tx = len(segs) - 2 + 1  # ST .. SE inclusive
    segs += [f"SE*{n_tx}*9999", "GE*1*9999", "IEA*1*000009999"]
    balance = [
        {"claim_id": "DZ000104", "difference": pr2,
         "cause": "CAS PR-2 amount missing (rejected), so the line and claim no longer balance"},
        {"claim_id": "DZ000106", "difference": 10.0,
         "cause": "CAS CO-45 10.00 short of billed - paid: accepted and reported, never dropped"},
    ]  # fmt: skip
    text = "~\n".join(segs) + "~\n"
    writes = {"export_rows": export_rows, "remit_835": text}
    truth = {
        "notes": (
            "Planted data-quality defects on NEW claim ids (DZ...), outside every payer's "
            "truth: export rows the reader must reject, a damaged 835 resend whose damaged "
            "claims are rejected per claim, and claims it must accept although they do not "
            "balance. Locations are 1-based export rows (header = row 1) and 835 segment "
            "numbers (ISA = segment 1)."
        ),
        "export_rejects": expected,
        "remit_file": DAMAGED_835_NAME,
        "remit_rejects": rejects,
        "remit_accepted_claims": {
            "claim_ids": accepted,
            "payer": payer.name,
            "lines_per_claim": 1,
            "paid_each": paid,
            "component_separator_mismatch": ["DZ000105"],
        },
        "unbalanced_claims": balance,
        "left_out": DEFECTS_LEFT_OUT,
    }
    return writes, truth


# --- generation -------------------------------------------------------------------------------------


def _draw_claims(rng: np.random.Generator, lines: int) -> tuple[np.ndarray, np.ndarray]:
    """Specialty index and line count per claim, with line counts summing exactly to ``lines``."""
    spec_p = np.array([s.share for s in SPECIALTIES.values()])
    mean_lines = float(sum(s.share * np.dot(s.lines_p, [1, 2, 3, 4]) for s in SPECIALTIES.values()))
    n_guess = int(lines / mean_lines * 1.1) + 20
    spec = _choice(rng, n_guess, spec_p)
    lp = np.array([s.lines_p for s in SPECIALTIES.values()])
    n_lines = _rowwise_choice(rng, lp[spec]) + 1
    while n_lines.sum() < lines:  # extremely unlikely; keeps the count exact anyway
        extra_spec = _choice(rng, n_guess, spec_p)
        spec = np.concatenate([spec, extra_spec])
        n_lines = np.concatenate([n_lines, _rowwise_choice(rng, lp[extra_spec]) + 1])
    cum = np.cumsum(n_lines)
    k = int(np.searchsorted(cum, lines)) + 1
    spec, n_lines = spec[:k], n_lines[:k].copy()
    n_lines[-1] -= int(cum[k - 1] - lines)
    return spec, n_lines


def _menu_draw(rng: np.random.Generator, menu: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    items = _MENUS[menu]
    idx = _choice(rng, n, np.array([w for _, w, _ in items]))
    codes = np.array([c for c, _, _ in items], dtype=object)
    rules = np.array([r for _, _, r in items], dtype=object)
    return codes[idx], rules[idx]


def generate(
    lines: int = 20000,
    seed: int = 0,
    *,
    start: str = DEFAULT_START,
    months: int = 18,
    price_fn: PriceFn | None = None,
    _chunk: _Chunk | None = None,
) -> DemoPortfolio:
    """Generate the demo portfolio (exactly ``lines`` claim lines) and its planted truth.

    ``price_fn`` maps a frame of (cpt, modifiers, units, unit_type, pos, locality) to the
    Medicare allowed amount per row; the default is the real 2025 PFS engine.

    Everything is held in memory (about 5 GB per million lines); the CLI writes demos larger
    than :data:`CHUNK_LINES` chunk by chunk instead (:func:`write_streaming`, which calls this
    with ``_chunk`` for each chunk of a multi-chunk demo; without ``_chunk`` the output is the
    one-chunk demo, byte for byte what this function always produced).
    """
    if lines < 1:
        raise ValueError(f"demo: lines must be >= 1, got {lines}")
    if months < 12:
        raise ValueError(f"demo: months must be >= 12 (payer cut at month 10), got {months}")
    price_fn = price_fn or pfs_price
    if _chunk is None:
        rng = np.random.default_rng(seed)
    else:
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_chunk.index,)))
    start_ts = pd.Timestamp(start)
    end_ts = _month_add(start_ts, months) - pd.Timedelta(days=1)
    cutoff_ts = end_ts + pd.Timedelta(days=CUTOFF_LAG_DAYS)
    n_days = (end_ts - start_ts).days + 1

    spec_names = np.array(SPECIALTY_NAMES, dtype=object)
    payer_names = [p.name for p in PAYERS]

    # ---- claims -------------------------------------------------------------------------------
    spec, n_lines = _draw_claims(rng, lines)
    n_claims = len(spec)
    spec_name = spec_names[spec]

    service_off = np.sort(rng.integers(0, n_days, n_claims))  # claim ids follow service order
    service = start_ts.to_datetime64() + service_off.astype("timedelta64[D]")

    # POS and emergency
    pos = np.empty(n_claims, dtype=object)
    emergency = np.zeros(n_claims, dtype=bool)
    for s_i, s in enumerate(SPECIALTY_NAMES):
        m = spec == s_i
        mix = _POS_MIX[s]
        j = _choice(rng, int(m.sum()), np.array([w for _, w, _ in mix]))
        pos[m] = np.array([p for p, _, _ in mix], dtype=object)[j]
        emergency[m] = rng.random(int(m.sum())) < np.array([e for _, _, e in mix])[j]
    is_facility = np.isin(pos, list(FACILITY_POS))
    fin_p = np.array([FACILITY_IN_NETWORK_P[s] for s in SPECIALTY_NAMES])[spec]
    facility_in_network = is_facility & (rng.random(n_claims) < fin_p)

    # ortho claim kinds: office visit / surgery (emergency or elective) / assistant surgeon
    ortho = spec_name == "orthopedic_surgery"
    ortho_surgical = ortho & is_facility
    assistant = ortho_surgical & (rng.random(n_claims) < ASSISTANT_CLAIM_P)

    # notice and consent: only non-emergency, non-ancillary services at a facility
    consent_eligible = (
        ~emergency & is_facility & ~np.isin(spec_name, list(ANCILLARY_SPECIALTIES)) & ~assistant
    )
    notice_consent = consent_eligible & (rng.random(n_claims) < NOTICE_CONSENT_P)

    # self-pay (uninsured/self-pay: good-faith estimates, no remittance)
    sp_p = np.array([SELF_PAY_P.get(s, 0.0) for s in SPECIALTY_NAMES])[spec]
    self_pay = (rng.random(n_claims) < sp_p) & ~emergency & ~assistant
    nsa_protected = ~self_pay & (emergency | (is_facility & facility_in_network & ~notice_consent))

    # locality
    loc_codes = np.array(list(LOCALITY_MIX), dtype=object)
    loc_state = np.array([v[0] for v in LOCALITY_MIX.values()], dtype=object)
    loc_i = _choice(rng, n_claims, np.array([v[2] for v in LOCALITY_MIX.values()]))
    state = loc_state[loc_i]

    # patients: insured pool (each patient has one payer and plan) and a self-pay pool
    n_ins = max(1, int(n_claims * 0.65))  # patients return: ~1.5 claims each
    pat_payer = _choice(rng, n_ins, np.array([p.share for p in PAYERS]))
    erisa_p = np.array([p.erisa_share for p in PAYERS])[pat_payer]
    pat_erisa = rng.random(n_ins) < erisa_p
    n_sp = max(1, int(self_pay.sum()))
    claim_pat = rng.integers(0, n_ins, n_claims)
    claim_pat_sp = rng.integers(0, n_sp, n_claims)
    payer_i = np.where(self_pay, -1, pat_payer[claim_pat])
    plan_type = np.where(
        self_pay,
        "self_pay",
        np.where(pat_erisa[claim_pat], "self_funded_erisa", "fully_insured"),
    ).astype(object)

    # providers
    npi = np.empty(n_claims, dtype=object)
    tin = np.empty(n_claims, dtype=object)
    for s_i, s in enumerate(SPECIALTY_NAMES):
        m = spec == s_i
        npis = np.array(demo_npis(s), dtype=object)
        npi[m] = npis[rng.integers(0, len(npis), int(m.sum()))]
        tin[m] = SPECIALTIES[s].tin

    # ---- lines --------------------------------------------------------------------------------
    c_of_l = np.repeat(np.arange(n_claims), n_lines)
    starts = np.cumsum(n_lines) - n_lines
    line_no = np.arange(lines) - starts[c_of_l] + 1
    first = line_no == 1
    l_spec = spec_name[c_of_l]
    l_pos = pos[c_of_l]
    l_fac = is_facility[c_of_l]
    l_em = emergency[c_of_l]
    cpt = np.empty(lines, dtype=object)
    rule = np.empty(lines, dtype=object)
    units = np.ones(lines, dtype=float)
    unit_type = np.full(lines, "UN", dtype=object)
    mods = np.full(lines, "", dtype=object)

    def put(mask: np.ndarray, menu: str) -> None:
        c, r = _menu_draw(rng, menu, int(mask.sum()))
        cpt[mask], rule[mask] = c, r

    em = l_spec == "emergency_medicine"
    put(em & first, "em_primary")
    put(em & ~first, "em_secondary")
    anes = l_spec == "anesthesiology"
    m = anes & first
    a_codes = np.array(list(ANESTHESIA_CODES), dtype=object)
    a_i = _choice(rng, int(m.sum()), np.array([w for w, _ in ANESTHESIA_CODES.values()]))
    a_min = np.array([mn for _, mn in ANESTHESIA_CODES.values()])[a_i]
    cpt[m], rule[m] = a_codes[a_i], "anes"
    units[m] = np.maximum(8.0, np.round(a_min * np.exp(rng.normal(0.0, 0.35, int(m.sum())))))
    unit_type[m] = "MJ"
    put(anes & ~first, "anes_secondary")
    put(l_spec == "radiology", "rad")
    path = l_spec == "pathology"
    put(path, "path")
    path_units = np.minimum(1 + rng.poisson(0.6, lines), 4).astype(float)
    units = np.where(path & np.isin(cpt, ["88305", "88342"]), path_units, units)
    l_ortho_office = ortho[c_of_l] & ~l_fac
    l_ortho_surg = ortho[c_of_l] & l_fac
    put(l_ortho_office & first, "ortho_office")
    put(l_ortho_office & ~first, "ortho_office_secondary")
    put(l_ortho_surg & first & l_em, "ortho_emergency")
    put(l_ortho_surg & first & ~l_em, "ortho_elective")
    put(l_ortho_surg & ~first, "ortho_secondary")
    # an assistant surgeon bills only procedures Medicare pays an assistant for (PPRRVU ASST SURG
    # indicator 2; 29876 and 20610 carry indicator 1: assistant not paid)
    put(assistant[c_of_l] & ~first, "ortho_assistant_secondary")
    bh = l_spec == "behavioral_health"
    put(bh & first, "bh_primary")
    put(bh & ~first, "bh_secondary")

    # modifiers
    multi = n_lines[c_of_l] > 1
    mods = np.where((rule == "25") & multi, "25", mods)
    mods = np.where(np.isin(rule, ["51", "59", "26"]), rule, mods)
    prof = rule == "prof"
    office_tc = rng.random(lines) < 0.2
    mods = np.where(prof & l_fac, "26", mods)
    mods = np.where(prof & ~l_fac & office_tc & (l_pos == "11"), "TC", mods)
    # anesthesia payment modifiers: AA personally performed, QK medical direction of 2-4
    # concurrent cases, QZ CRNA without medical direction (CMS Claims Processing Manual ch.12 s.50)
    anes_mod = np.array(["AA", "QK", "QZ"], dtype=object)[
        _choice(rng, lines, np.array([0.70, 0.25, 0.05]))
    ]
    mods = np.where(rule == "anes", anes_mod, mods)
    # assistant surgeon claims: 80 (physician) or AS (PA/NP) on every surgical line
    asst_mod = np.array(ASSISTANT_MODIFIERS, dtype=object)[rng.integers(0, 2, lines)]
    l_asst = assistant[c_of_l]
    mods = _append_modifier(mods, l_asst, asst_mod)
    # telehealth behavioural health: modifier 95 (synchronous telemedicine)
    tele = bh & np.isin(l_pos, ["02", "10"])
    mods = _append_modifier(mods, tele, np.full(lines, "95", dtype=object))

    cpt_code, cpt_uniq = pd.factorize(cpt, sort=True)
    mod_code, mod_uniq = pd.factorize(mods, sort=True)
    pos_code, pos_uniq = pd.factorize(pos, sort=True)
    loc_code = loc_i[c_of_l]
    mj = unit_type == "MJ"
    parts = {
        "cpt": (cpt_uniq, cpt_code),
        "modifiers": (mod_uniq, mod_code),
        "unit_type": (np.array(["UN", "MJ"], dtype=object), mj.astype(np.int64)),
        "pos": (pos_uniq, pos_code[c_of_l]),
        "locality": (loc_codes, loc_code),
    }
    medicare = np.round(_price_lines(parts, units, price_fn), 2)

    # ---- charges: practice charge master ---------------------------------------------------------
    # A practice charges the same for a service whatever the payer later reduces: the charge
    # basis is the Medicare fee without the payment-reduction modifiers 51 (multiple procedure,
    # 50% on the 2nd+ procedure) and QK (medical direction, 50%), i.e. as if billed plain / AA.
    cmod_uniq = np.array(
        [":".join("AA" if m == "QK" else m for m in u.split(":") if m != "51") for u in mod_uniq],
        dtype=object,
    )
    cmod_code_u, cmod_uniq2 = pd.factorize(cmod_uniq, sort=True)
    cmod_code = cmod_code_u[mod_code]
    if len(cmod_uniq2) == len(mod_uniq) and (np.asarray(cmod_uniq2) == mod_uniq).all():
        charge_basis = medicare
    else:
        charge_parts = dict(parts, modifiers=(np.asarray(cmod_uniq2, dtype=object), cmod_code))
        charge_basis = np.round(_price_lines(charge_parts, units, price_fn), 2)
    spec_mult = np.array([SPECIALTIES[s].billed_multiple for s in SPECIALTY_NAMES])[spec[c_of_l]]
    _, cm_first, cm_inv = np.unique(
        cpt_code * len(cmod_uniq2) + cmod_code, return_index=True, return_inverse=True
    )
    cm_inv = cm_inv.reshape(-1)
    if _chunk is None:
        cm_factor = np.exp(rng.normal(0.0, CHARGE_CODE_SIGMA, int(cm_inv.max()) + 1))[cm_inv]
    else:  # one charge-master deviation per code + modifiers across all chunks
        cm_key = _keys(
            np.asarray(cpt_uniq, dtype=object)[cpt_code[cm_first]],
            np.asarray(cmod_uniq2, dtype=object)[cmod_code[cm_first]],
        )
        cm_factor = _shared(
            _chunk.book, "charge_factor", cm_key,
            lambda idx: np.exp(rng.normal(0.0, CHARGE_CODE_SIGMA, len(idx))),
        )[cm_inv]  # fmt: skip
    unit_price = np.where(mj, charge_basis, charge_basis / units)
    # one list price per code+modifiers+locality: the highest Medicare unit fee seen for it
    # (non-facility), times the specialty multiple and the code's charge-master deviation,
    # rounded up to $1 (under $100) or $5
    loc_key = cm_inv * len(LOCALITY_MIX) + loc_code
    ref_unit = pd.Series(unit_price).groupby(loc_key).transform("max").to_numpy()
    if _chunk is not None:  # the list price fixed where a chunk first bills the code there
        _, lk_first, lk_inv = np.unique(loc_key, return_index=True, return_inverse=True)
        lk_key = _keys(cm_key[cm_inv[lk_first]], loc_codes[loc_code[lk_first]])
        ref_unit = _shared(_chunk.book, "ref_unit", lk_key, lambda idx: ref_unit[lk_first[idx]])[
            lk_inv.reshape(-1)
        ]
    raw_charge = ref_unit * spec_mult * cm_factor
    step = np.where(raw_charge >= 100.0, 5.0, 1.0)
    unit_charge = np.ceil(raw_charge / step) * step
    # anesthesia is charged per case from its (base + time) units: fee x multiple, whole $
    anes_charge = np.ceil(charge_basis * spec_mult * cm_factor)
    billed_c = np.where(mj, anes_charge * 100, unit_charge * units * 100).astype(np.int64)
    claim_billed = np.bincount(c_of_l, weights=billed_c, minlength=n_claims) / 100.0

    # ---- claim outcomes ----------------------------------------------------------------------------
    b_pay = _centred([p.denial_b for p in PAYERS])
    h_pay = _centred([p.hazard_h for p in PAYERS])
    c_pay = _centred([p.appeal_c for p in PAYERS])
    pos_group = np.array([POS_GROUP[p] for p in pos], dtype=object)
    ins = ~self_pay
    pi = np.where(ins, payer_i, 0)
    lin = (
        DENIAL_A0
        + b_pay[pi]
        + np.array([DENIAL_B_SPECIALTY[s] for s in SPECIALTY_NAMES])[spec]
        + DENIAL_B_EMERGENCY * emergency
        + pd.Series(pos_group).map(DENIAL_B_POS).to_numpy(dtype=float)
        + DENIAL_B_LOGBILLED * (np.log(claim_billed) - DENIAL_LOGBILLED_CENTRE)
    )
    base_denied = ins & (rng.random(n_claims) < _expit(lin))
    er_rate = np.array([p.er_prior_auth_denial_rate or 0.0 for p in PAYERS])[pi]
    er_denied = ins & emergency & (rng.random(n_claims) < er_rate)
    denied = base_denied | er_denied

    # submission and remit dates
    normal_lag = 1 + rng.poisson(4.0, n_claims)
    late_ok = service_off <= (n_days - 1 + CUTOFF_LAG_DAYS - TIMELY_FILING_WINDOW_DAYS)
    reason_w = np.array([REASON_WEIGHTS[s] for s in SPECIALTY_NAMES])[spec].copy()
    g_idx = {g: i for i, g in enumerate(REASON_GROUPS)}
    reason_w[emergency, g_idx["authorization"]] = 0.0
    reason_w[nsa_protected, g_idx["network"]] = 0.0
    reason_w[~late_ok, g_idx["timely_filing"]] = 0.0
    reason = _rowwise_choice(rng, reason_w)
    reason = np.where(er_denied, g_idx["authorization"], reason)
    timely = denied & (reason == g_idx["timely_filing"])
    late_lag = rng.integers(95, 181, n_claims)
    sub_lag = np.where(timely, late_lag, normal_lag)
    submitted = service + sub_lag.astype("timedelta64[D]")
    rate = np.exp(h_pay[pi]) / PAY_MEAN_DAYS
    days = np.maximum(1, np.ceil(rng.exponential(1.0, n_claims) / rate)).astype(np.int64)
    remit = submitted + days.astype("timedelta64[D]")
    adjudicated = ins & (remit <= cutoff_ts.to_datetime64())
    status = np.where(adjudicated, np.where(denied, "denied", "paid"), "pending").astype(object)

    # CARC option within the reason group
    carc_grp = np.empty(n_claims, dtype=object)
    carc_code = np.empty(n_claims, dtype=object)
    carc_rarc = np.empty(n_claims, dtype=object)
    for g, opts in DENIAL_REASONS.items():
        m = reason == g_idx[g]
        j = _choice(rng, int(m.sum()), np.array([o[3] for o in opts]))
        carc_grp[m] = np.array([o[0] for o in opts], dtype=object)[j]
        carc_code[m] = np.array([o[1] for o in opts], dtype=object)[j]
        carc_rarc[m] = np.array([o[2] for o in opts], dtype=object)[j]

    # ---- line money (cents) -------------------------------------------------------------------------
    l_pi = pi[c_of_l]
    mult = np.array([p.multiple for p in PAYERS])[l_pi]
    sigma = np.array([p.sigma for p in PAYERS])[l_pi]
    service_l = service[c_of_l]
    service_month = service_l.astype("datetime64[M]")
    cut_factor_l = np.ones(lines)
    cut_months: dict[str, str] = {}
    for k, p in enumerate(PAYERS):
        if p.cut_month_offset is not None and p.cut_factor is not None:
            cm = _month_add(start_ts, p.cut_month_offset).to_datetime64().astype("datetime64[M]")
            cut_months[p.name] = str(cm)
            cut_factor_l = np.where((l_pi == k) & (service_month >= cm), p.cut_factor, cut_factor_l)
    eps = rng.normal(0.0, 1.0, lines) * sigma
    shadow_allowed_c = np.round(medicare * mult * cut_factor_l * np.exp(eps) * 100).astype(np.int64)
    capped = shadow_allowed_c > billed_c
    shadow_allowed_c = np.minimum(shadow_allowed_c, billed_c)

    # QPA: one amount per payer x code x modifiers x locality (the payer's indexed median)
    l_prot = nsa_protected[c_of_l]
    qpa_mult = np.array([p.qpa_multiple for p in PAYERS])[l_pi]
    _, q_first, q_inv = np.unique(
        loc_key * len(PAYERS) + l_pi, return_index=True, return_inverse=True
    )
    q_inv = q_inv.reshape(-1)
    if _chunk is None:
        q_factor = np.exp(rng.normal(0.0, 0.06, int(q_inv.max()) + 1))[q_inv]
    else:  # one QPA per payer x code x modifiers x locality across all chunks
        q_key = _keys(cm_key[cm_inv[q_first]], loc_codes[loc_code[q_first]], l_pi[q_first])
        q_factor = _shared(
            _chunk.book, "qpa_factor", q_key, lambda idx: np.exp(rng.normal(0.0, 0.06, len(idx)))
        )[q_inv]
    qpa_c = np.round(medicare * qpa_mult * q_factor * 100).astype(np.int64)

    # cost sharing: per claim deductible remaining, coinsurance, ED copay
    ded_c = np.where(
        rng.random(n_claims) < DEDUCTIBLE_P,
        rng.integers(DEDUCTIBLE_RANGE[0], DEDUCTIBLE_RANGE[1] + 1, n_claims) * 100,
        0,
    )
    coins_in = _COINS_IN[0][_choice(rng, n_claims, _COINS_IN[1])]
    coins_oon = _COINS_OON[0][_choice(rng, n_claims, _COINS_OON[1])]
    copay_c = _ED_COPAY[0][_choice(rng, n_claims, _ED_COPAY[1])]
    base_c = np.where(l_prot, np.minimum(qpa_c, billed_c), shadow_allowed_c)
    cum_prev = pd.Series(base_c).groupby(c_of_l).cumsum().to_numpy() - base_c
    pr1 = np.clip(ded_c[c_of_l] - cum_prev, 0, base_c)
    is_em_visit = em & first & (copay_c[c_of_l] > 0)
    pr3 = np.where(is_em_visit, copay_c[c_of_l], 0)
    coins = np.where(l_prot, coins_in[c_of_l], coins_oon[c_of_l])
    pr2 = np.where(is_em_visit, 0, np.round((base_c - pr1) * coins)).astype(np.int64)
    pr1 = np.minimum(pr1, shadow_allowed_c)
    pr3 = np.minimum(pr3, shadow_allowed_c - pr1)
    pr2 = np.minimum(pr2, shadow_allowed_c - pr1 - pr3)
    shadow_paid_c = shadow_allowed_c - pr1 - pr2 - pr3

    l_status = status[c_of_l]
    paid_line = l_status == "paid"
    denied_line = l_status == "denied"
    pending_line = l_status == "pending"
    allowed_c = np.where(paid_line, shadow_allowed_c, 0)
    pr1_c, pr2_c, pr3_c = (np.where(paid_line, x, 0) for x in (pr1, pr2, pr3))
    paid_c = np.where(paid_line, shadow_paid_c, 0)
    co45_c = np.where(paid_line, billed_c - allowed_c, 0)

    # ---- planted E/M downcoding (own RNG stream: every draw above keeps its value) -----------------
    dc = _downcode(
        np.random.default_rng([seed, DOWNCODE_STREAM] + ([] if _chunk is None else [_chunk.index])),
        cpt=cpt,
        line_no=line_no,
        l_pi=l_pi,
        paid_line=paid_line,
        self_pay_l=self_pay[c_of_l],
        capped=capped,
        parts={
            "modifiers": (mod_uniq, mod_code),
            "unit_type": (np.array(["UN", "MJ"], dtype=object), mj.astype(np.int64)),
            "pos": (pos_uniq, pos_code[c_of_l]),
            "locality": (loc_codes, loc_code),
        },
        units=units,
        price_fn=price_fn,
        mult_l=mult * cut_factor_l * np.exp(eps),
        billed_c=billed_c,
        l_prot=l_prot,
        qpa_mult=qpa_mult,
        q_key=(cmod_code, loc_code),
        q_factor=q_factor,
        ded_c=ded_c[c_of_l],
        copay_c=np.where(is_em_visit, copay_c[c_of_l], 0),
        coins=coins,
        old_base_c=base_c,
    )
    m_dc = dc["mask"]
    dc_before = {"allowed": allowed_c[m_dc].copy(), "paid": paid_c[m_dc].copy()}
    if m_dc.any():
        medicare = medicare.copy()
        medicare[m_dc] = dc["medicare"]
        qpa_c = qpa_c.copy()
        qpa_c[m_dc] = dc["qpa_c"]
        allowed_c, pr1_c, pr2_c, pr3_c, paid_c = (
            x.copy() for x in (allowed_c, pr1_c, pr2_c, pr3_c, paid_c)
        )
        allowed_c[m_dc] = dc["allowed_c"]
        pr1_c[m_dc], pr2_c[m_dc], pr3_c[m_dc] = dc["pr1_c"], dc["pr2_c"], dc["pr3_c"]
        paid_c[m_dc] = dc["paid_c"]
        co45_c = np.where(paid_line, billed_c - allowed_c, 0)
        cpt_uniq = np.asarray(cpt_uniq, dtype=object)
        if DOWNCODE_TO not in set(cpt_uniq):
            cpt_uniq = np.append(cpt_uniq, DOWNCODE_TO)
        cpt_code = np.where(m_dc, int(np.flatnonzero(cpt_uniq == DOWNCODE_TO)[0]), cpt_code)

    # ---- claim-lines table -------------------------------------------------------------------------------
    claim_ids = _claim_ids(n_claims, 0 if _chunk is None else _chunk.claim_offset)
    payer_name = np.where(self_pay, SELF_PAY_NAME, np.array(payer_names, dtype=object)[pi])
    payer_id = np.where(
        self_pay, SELF_PAY_ID, np.array([p.payer_id for p in PAYERS], dtype=object)[pi]
    )
    icn_num = rng.integers(10**10, 10**11, n_claims)
    payer_claim_id = np.full(n_claims, "", dtype=object)
    prefix3 = np.array([p.payer_id[:3] for p in PAYERS], dtype=object)
    payer_claim_id[adjudicated] = prefix3[pi[adjudicated]] + icn_num[adjudicated].astype(
        str
    ).astype(object)
    remit_l = np.where(pending_line, np.datetime64("NaT"), remit[c_of_l]).astype("datetime64[us]")
    paid_date = np.where(paid_line & (paid_c > 0), remit_l, np.datetime64("NaT")).astype(
        "datetime64[us]"
    )
    money = np.where(pending_line, np.nan, 1.0)

    # primary CARC and RARC per line
    largest_pr = np.select(
        [(pr1_c >= pr2_c) & (pr1_c >= pr3_c), pr2_c >= pr3_c], ["PR-1", "PR-2"], "PR-3"
    )
    paid_carc = np.where(co45_c > 0, "CO-45", np.where(pr1_c + pr2_c + pr3_c > 0, largest_pr, ""))
    deny_carc = (carc_grp + "-" + carc_code)[c_of_l]
    carc = np.where(denied_line, deny_carc, np.where(paid_line, paid_carc, "")).astype(object)
    # N864 NSA emergency / N865 non-emergency at an in-network facility; N869 cost share based
    # on the QPA / N870 billed below the QPA; N877 initial payment, open negotiation available
    # (docs/domain.md §1.4)
    nsa_rarcs = np.array(
        ["N865:N869:N877", "N865:N870:N877", "N864:N869:N877", "N864:N870:N877"], dtype=object
    )
    nsa_rarc = nsa_rarcs[l_em.astype(int) * 2 + (billed_c < qpa_c).astype(int)]
    rarc = np.where(
        denied_line, carc_rarc[c_of_l], np.where(paid_line & l_prot, nsa_rarc, "")
    ).astype(object)
    repricer_names = np.array([p.repricer or "" for p in PAYERS], dtype=object)
    repricer = np.where(paid_line, repricer_names[l_pi], "")
    repricer = np.where(self_pay[c_of_l], "", repricer)
    qpa_out = np.where(l_prot & ~pending_line, qpa_c / 100.0, np.nan)

    # good-faith estimates (self-pay), line level
    l_sp = self_pay[c_of_l]
    gfe_scale = rng.uniform(0.95, 1.05, n_claims)
    over = self_pay & (claim_billed >= 1500.0) & (rng.random(n_claims) < GFE_OVER_P)
    over_amt = GFE_DISPUTE_THRESHOLD + rng.uniform(50.0, 900.0, n_claims)
    over_scale = np.clip(1.0 - over_amt / np.maximum(claim_billed, 1.0), 0.05, 1.0)
    g_scale = np.where(over, over_scale, gfe_scale)[c_of_l]
    gfe = np.where(l_sp, np.floor(billed_c * g_scale) / 100.0, np.nan)

    cl = pd.DataFrame(
        {
            "claim_id": _str_take(claim_ids, c_of_l),
            "line_no": line_no.astype(np.int64),
            "payer_claim_id": _str_take(payer_claim_id, c_of_l),
            "payer": _str_take(payer_name, c_of_l),
            "payer_id": _str_take(payer_id, c_of_l),
            "plan_type": _str_take(plan_type, c_of_l),
            "provider_npi": _str_take(npi, c_of_l),
            "provider_tin": _str_take(tin, c_of_l),
            "specialty": _str_take(spec_name, c_of_l),
            "patient_key": _str_take(np.array([""], dtype=object), np.zeros(lines, dtype=np.int64)),
            "service_date": service_l.astype("datetime64[us]"),
            "submitted_date": submitted[c_of_l].astype("datetime64[us]"),
            "remit_date": remit_l,
            "paid_date": paid_date,
            "cpt": _str_take(cpt_uniq, cpt_code),
            "billed_cpt": _str_take(
                np.array(["", DOWNCODE_FROM], dtype=object), m_dc.astype(np.int64)
            ),
            "modifiers": _str_take(mod_uniq, mod_code),
            "units": units,
            "unit_type": _str_take(np.array(["UN", "MJ"], dtype=object), mj.astype(np.int64)),
            "pos": _str_take(pos_uniq, pos_code[c_of_l]),
            "state": _str_take(state, c_of_l),
            "locality": _str_take(loc_codes, loc_code),
            "service_zip": _str_take(np.array([""], dtype=object), np.zeros(lines, dtype=np.int64)),
            "billed": billed_c / 100.0,
            "allowed": allowed_c / 100.0 * money,
            "paid": paid_c / 100.0 * money,
            "patient_resp": (pr1_c + pr2_c + pr3_c) / 100.0 * money,
            "claim_status": _str_take(status, c_of_l),
            "claim_status_code": _str(
                np.where(paid_line, "1", np.where(denied_line, "4", "")).astype(object)
            ),
            "carc": _str(carc),
            "rarc": _str(rarc),
            "qpa": qpa_out,
            "emergency": l_em,
            "facility_in_network": facility_in_network[c_of_l],
            "air_ambulance": False,
            "notice_consent": notice_consent[c_of_l],
            "gfe_amount": gfe,
            "repricer": _str(repricer.astype(object)),
            "recoded": m_dc,
            "source": _str_take(np.array(["demo"], dtype=object), np.zeros(lines, dtype=np.int64)),
            "medicare_allowed": medicare,
        }
    )

    # ---- fake PHI and patient keys --------------------------------------------------------------------
    phi_df, pkeys = _fake_patients(
        rng, n_ins, n_sp, pat_payer, None if _chunk is None else _chunk.member_block
    )
    pat_index = np.where(self_pay, n_ins + claim_pat_sp, claim_pat)
    cl["patient_key"] = _str_take(pkeys, pat_index[c_of_l])
    claim_phi = phi_df.iloc[pat_index].reset_index(drop=True)
    claim_phi.insert(0, "claim_id", claim_ids)
    claim_phi = claim_phi.astype("str")
    for col in ("claim_paid", "claim_level_adjustments"):  # remit-only (CLP04, claim CAS)
        cl[col] = np.nan
    cl = cl[[*schema.CLAIM_LINE_COLUMNS, "medicare_allowed"]]
    if any(str(cl[c].dtype) != t for c, t in schema.CLAIM_LINE_COLUMNS.items()):
        cl = schema.conform(cl)  # built with canonical dtypes; conform only if one drifted

    # ---- adjustments -----------------------------------------------------------------------------------
    adjustments = _adjustments(cl, co45_c, pr1_c, pr2_c, pr3_c, billed_c, paid_line, denied_line)

    # ---- appeals -----------------------------------------------------------------------------------------
    claim_shadow_paid = np.bincount(c_of_l, weights=shadow_paid_c, minlength=n_claims) / 100.0
    appeals, appeal_stats = _appeals(
        rng,
        claim_ids=claim_ids,
        payer_name=payer_name,
        pi=pi,
        eligible=adjudicated & denied,
        reason=reason,
        remit=remit,
        cutoff=cutoff_ts,
        c_pay=c_pay,
        recoverable=claim_shadow_paid,
    )

    # ---- truth -------------------------------------------------------------------------------------------
    truth = _truth(
        seed=seed,
        lines=lines,
        n_claims=n_claims,
        start_ts=start_ts,
        end_ts=end_ts,
        cutoff_ts=cutoff_ts,
        b_pay=b_pay,
        h_pay=h_pay,
        c_pay=c_pay,
        cut_months=cut_months,
        cl=cl,
        capped=capped,
        appeal_stats=appeal_stats,
        self_pay=self_pay,
        over=over,
        emergency=emergency,
        er_denied=er_denied,
        adjudicated=adjudicated,
        payer_i=payer_i,
    )
    truth["downcoding"] = _downcode_truth(cl, m_dc, dc["eligible"], dc_before)
    from oonplaybook import demo_coding

    if _chunk is None or _chunk.index == 0:  # a streamed demo plants the cases in chunk 0
        cl, adjustments, claim_phi, truth["coding"] = demo_coding.plant(
            seed, cl, adjustments, claim_phi
        )
    truth["claims_by_status"] = demo_coding.claims_by_status(cl)
    defect_writes: dict[str, Any] = {}
    if _chunk is None:  # a streamed demo plans its defects once, after chunk 0
        defect_writes, truth["defects"] = _plan_defects(seed, cl)
    return DemoPortfolio(
        claim_lines=cl,
        adjustments=adjustments,
        appeals=appeals,
        phi=claim_phi,
        truth=truth,
        defects=defect_writes,
    )


def _downcode_truth(
    cl: pd.DataFrame, mask: np.ndarray, eligible: np.ndarray, before: dict[str, np.ndarray]
) -> dict[str, Any]:
    """truth.json "downcoding": per payer, the planted 99285 -> 99284 lines and their dollars."""
    payer = cl["payer"].to_numpy()
    out: dict[str, Any] = {}
    for name, rate in sorted(DOWNCODE_PAYERS.items()):
        m = mask & (payer == name)
        mb = payer[mask] == name
        out[name] = {
            "from": DOWNCODE_FROM,
            "to": DOWNCODE_TO,
            "rate": rate,
            "eligible_lines": int((eligible & (payer == name)).sum()),
            "lines": int(m.sum()),
            "claim_ids": sorted(cl.loc[m, "claim_id"].astype("str").tolist()),
            "allowed": round(float(cl.loc[m, "allowed"].sum()), 2),
            "paid": round(float(cl.loc[m, "paid"].sum()), 2),
            "allowed_as_billed": round(int(before["allowed"][mb].sum()) / 100, 2),
            "paid_as_billed": round(int(before["paid"][mb].sum()) / 100, 2),
        }
    return out


def _fake_patients(
    rng: np.random.Generator,
    n_ins: int,
    n_sp: int,
    pat_payer: np.ndarray,
    member_block: tuple[int, int] | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Fake names, member ids and birth dates for the insured then self-pay pools, and keys.

    ``member_block`` (start, size): draw the member numbers from that part of the 9-digit range
    only (a streamed demo gives each chunk its own block, so no member id repeats).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    n = n_ins + n_sp
    initials = "ABCDEFGHJKLMNPRSTW"
    # every "Last, First M" combination once (~50k), then taken per patient
    combos = [f"{la}, {fi} {mi}" for la in _LAST for fi in _FIRST for mi in initials]
    idx = rng.integers(0, len(combos), n)
    names = pa.array(combos).take(pa.array(idx))
    # ingest.identity.normalise_name: upper-case word tokens, sorted
    combos_norm = [" ".join(sorted(re.findall(r"[A-Z0-9]+", c.upper()))) for c in combos]
    prefix = np.array([p.payer_id[:3] for p in PAYERS], dtype=object)[pat_payer]
    # distinct 9-digit member numbers (a shared id would merge two patients' keys)
    b0, bsize = member_block or (0, 9 * 10**8)
    if n_ins > bsize:
        raise ValueError(f"demo: {n_ins} patients do not fit a member block of {bsize}")
    digits = (10**8 + b0 + rng.choice(bsize, size=n_ins, replace=False)).astype(str).astype(object)
    member = pa.array(np.concatenate([prefix + digits, np.full(n_sp, "", dtype=object)]))
    age_days = np.clip(rng.normal(45.0, 20.0, n), 0.5, 95.0) * 365.25
    dob = (np.datetime64("2025-06-30") - age_days.astype("timedelta64[D]")).astype("datetime64[D]")
    dob_s = pc.strftime(pa.array(dob), format="%Y-%m-%d")
    df = pd.DataFrame(
        {
            "patient_name": pd.array(names, dtype="str"),
            "member_id": pd.array(member, dtype="str"),
            "birth_date": pd.array(dob_s, dtype="str"),
        }
    )
    # The key rule of ingest.identity.identity_key (one rule for every reader), in one pass:
    # phi.patient_key(salt, "MID", member_id) when there is a member id, else
    # phi.patient_key(salt, "NAME", normalised name, birth date). The parts are already
    # normalised, so the HMAC messages below are the same bytes (tested).
    ins_msgs = ["MID|" + m for m in member.to_pylist()[:n_ins]]
    sp_names = [combos_norm[i] for i in idx[n_ins:]]
    sp_dob = dob_s.to_pylist()[n_ins:]
    msgs = ins_msgs + [f"NAME|{nm}|{d}" for nm, d in zip(sp_names, sp_dob, strict=True)]
    h0 = hmac.new(DEMO_SALT.encode(), digestmod=hashlib.sha256)
    keys = np.empty(n, dtype=object)
    for i, m in enumerate(msgs):
        h = h0.copy()
        h.update(m.encode())
        keys[i] = h.hexdigest()[:16]
    return df, keys


def _adjustments(
    cl: pd.DataFrame,
    co45_c: np.ndarray,
    pr1_c: np.ndarray,
    pr2_c: np.ndarray,
    pr3_c: np.ndarray,
    billed_c: np.ndarray,
    paid_line: np.ndarray,
    denied_line: np.ndarray,
) -> pd.DataFrame:
    """The CAS table: CO-45 / PR-1/2/3 on paid lines, the denial CARC for the full charge."""
    rows: list[np.ndarray] = []
    kinds: list[np.ndarray] = []
    amounts: list[np.ndarray] = []
    labels: list[tuple[str, str]] = [("CO", "45"), ("PR", "1"), ("PR", "2"), ("PR", "3")]
    for k, amt in enumerate((co45_c, pr1_c, pr2_c, pr3_c)):
        r = np.flatnonzero(paid_line & (amt > 0))
        rows.append(r)
        kinds.append(np.full(len(r), k))
        amounts.append(amt[r])
    r = np.flatnonzero(denied_line)
    d_code, d_uniq = pd.factorize(cl["carc"].to_numpy()[r])
    labels += [tuple(str(u).split("-", 1)) for u in d_uniq]  # type: ignore[misc]
    rows.append(r)
    kinds.append(d_code + 4)
    amounts.append(billed_c[r])
    row = np.concatenate(rows)
    kind = np.concatenate(kinds)
    order = np.lexsort((kind, row))  # claim lines are already in claim/line order
    row, kind = row[order], kind[order]
    amount = np.concatenate(amounts)[order] / 100.0
    n = len(row)
    adj = pd.DataFrame(
        {
            "claim_id": cl["claim_id"].array.take(row),
            "line_no": cl["line_no"].to_numpy()[row],
            "group": _str_take(np.array([g for g, _ in labels], dtype=object), kind),
            "reason": _str_take(np.array([c for _, c in labels], dtype=object), kind),
            "amount": amount,
            "quantity": np.full(n, np.nan),
            "source": _str_take(np.array(["demo"], dtype=object), np.zeros(n, dtype=np.int64)),
        }
    )
    return schema.conform(adj, schema.ADJUSTMENT_COLUMNS)


def _appeals(
    rng: np.random.Generator,
    *,
    claim_ids: np.ndarray,
    payer_name: np.ndarray,
    pi: np.ndarray,
    eligible: np.ndarray,
    reason: np.ndarray,
    remit: np.ndarray,
    cutoff: pd.Timestamp,
    c_pay: np.ndarray,
    recoverable: np.ndarray,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Appeal history: level 1, some level 2, few external reviews; pending past the cut-off."""
    n = len(claim_ids)
    cut = cutoff.to_datetime64()
    groups = np.array(REASON_GROUPS, dtype=object)
    file_rate = np.array([APPEAL_FILE_RATE[g] for g in REASON_GROUPS])[reason]
    c_reason = np.array([APPEAL_C_REASON[g] for g in REASON_GROUPS])[reason]
    rows: list[pd.DataFrame] = []
    # level 1: filed 7-120 days after the denial; decided within 30-60 days
    # (29 CFR 2560.503-1(i)(2)(iii): 60 days for one level, 30 per level for two)
    active = eligible & (rng.random(n) < file_rate)
    filed = remit + rng.integers(7, 121, n).astype("timedelta64[D]")
    level = 1
    while True:
        active = active & (filed <= cut)
        decide_days = {1: (20, 61), 2: (15, 31), 3: (20, 46)}[level]
        decided = filed + rng.integers(*decide_days, n).astype("timedelta64[D]")
        p_over = _expit(APPEAL_C0 + c_pay[pi] + c_reason + APPEAL_C_LEVEL[level])
        over = rng.random(n) < p_over
        done = decided <= cut
        m = active
        outcome = np.where(done, np.where(over, "overturned", "upheld"), "pending")
        rows.append(
            pd.DataFrame(
                {
                    "claim_id": claim_ids[m],
                    "payer": payer_name[m],
                    "appeal_level": level,
                    "denial_reason_group": groups[reason][m],
                    "filed_date": filed[m].astype("datetime64[us]"),
                    "decided_date": np.where(done, decided, np.datetime64("NaT"))[m].astype(
                        "datetime64[us]"
                    ),
                    "outcome": outcome[m],
                    "recovered": np.where(
                        done, np.where(over, np.round(recoverable, 2), 0.0), np.nan
                    )[m],
                }
            )
        )
        upheld = active & done & ~over
        if level == 1:
            active = upheld & (rng.random(n) < APPEAL_L2_RATE)
            filed = decided + rng.integers(10, 91, n).astype("timedelta64[D]")
        elif level == 2:
            # external review only for medical judgment (29 CFR 2590.715-2719(d)(1));
            # requested within 4 months of the final internal denial ((d)(2)(i)(B)... state
            # processes vary), decided within 45 days
            mn = reason == REASON_GROUPS.index("medical_necessity")
            active = upheld & mn & (rng.random(n) < APPEAL_EXTERNAL_RATE)
            filed = decided + rng.integers(15, 121, n).astype("timedelta64[D]")
        else:
            break
        level += 1
    appeals = pd.concat(rows, ignore_index=True)
    appeals = appeals.sort_values(["claim_id", "appeal_level"], kind="stable").reset_index(
        drop=True
    )
    appeals = schema.conform(appeals, schema.APPEAL_COLUMNS)
    stats: dict[str, Any] = {}
    decided_rows = appeals[appeals["outcome"] != "pending"]
    for p in PAYERS:
        sub = decided_rows[decided_rows["payer"] == p.name]
        stats[p.name] = {
            "appeals": int((appeals["payer"] == p.name).sum()),
            "decided": len(sub),
            "overturn_rate": round(float((sub["outcome"] == "overturned").mean()), 6)
            if len(sub)
            else None,
        }
    return appeals, stats


def _truth(**k: Any) -> dict[str, Any]:
    """The planted truth written as truth.json (deterministic, rounded floats)."""
    cl: pd.DataFrame = k["cl"]
    payers: dict[str, Any] = {}
    payer_i = k["payer_i"]
    emergency, er_denied, adjudicated = k["emergency"], k["er_denied"], k["adjudicated"]
    capped = k["capped"]
    paid = (cl["claim_status"] == "paid").to_numpy()
    payer_col = cl["payer"].to_numpy()
    for i, p in enumerate(PAYERS):
        em_adj = (payer_i == i) & emergency & adjudicated
        payers[p.name] = {
            "payer_id": p.payer_id,
            "behaviour": p.behaviour,
            "denial_log_odds": round(float(k["b_pay"][i]), 6),
            "denial_odds_ratio": round(math.exp(k["b_pay"][i]), 6),
            "paid_multiple_of_medicare": p.multiple,
            "payment_sigma": p.sigma,
            "payment_log_hazard": round(float(k["h_pay"][i]), 6),
            "payment_hazard_ratio": round(math.exp(k["h_pay"][i]), 6),
            "appeal_log_odds": round(float(k["c_pay"][i]), 6),
            "appeal_odds_ratio": round(math.exp(k["c_pay"][i]), 6),
            "appeal_overturn_rate_observed": k["appeal_stats"][p.name]["overturn_rate"],
            "appeals": k["appeal_stats"][p.name]["appeals"],
            "repricer": p.repricer,
            "repricer_multiple": p.multiple if p.repricer else None,
            "cut_month": k["cut_months"].get(p.name),
            "cut_factor": p.cut_factor,
            "er_prior_auth_denial_rate": p.er_prior_auth_denial_rate,
            "er_prior_auth_denials": int((er_denied & em_adj).sum()),
            "emergency_claims_adjudicated": int(em_adj.sum()),
            "qpa_multiple": p.qpa_multiple,
            "self_funded_erisa_share": p.erisa_share,
            "capped_lines": int((capped & paid & (payer_col == p.name)).sum()),
        }
    claims_by_status = (
        cl.loc[cl["line_no"] == 1, "claim_status"].value_counts().sort_index().astype(int)
    )
    return {
        "seed": k["seed"],
        "lines": k["lines"],
        "claims": k["n_claims"],
        "start_date": k["start_ts"].date().isoformat(),
        "end_date": k["end_ts"].date().isoformat(),
        "cutoff_date": k["cutoff_ts"].date().isoformat(),
        "fee_schedule_year": FEE_SCHEDULE_YEAR,
        "locality_mix": {
            c: {"state": v[0], "name": v[1], "weight": v[2]} for c, v in LOCALITY_MIX.items()
        },
        "payers": payers,
        "specialties": {
            s: {
                "billed_multiple_of_medicare": v.billed_multiple,  # of the unreduced fee
                "charge_code_sigma": CHARGE_CODE_SIGMA,
                "claim_share": v.share,
                "lines_per_claim_p": list(v.lines_p),
                "tin": v.tin,
                "npis": demo_npis(s),
            }
            for s, v in SPECIALTIES.items()
        },
        "denial_model": {
            "formula": "logit P(denied) = a0 + b_payer[p] + b_specialty[s] + b_emergency*E "
            "+ b_pos[pos_group] + b_logbilled*(log(claim billed) - centre)",
            "a0": DENIAL_A0,
            "b_payer": {p.name: round(float(k["b_pay"][i]), 6) for i, p in enumerate(PAYERS)},
            "b_specialty": DENIAL_B_SPECIALTY,
            "b_emergency": DENIAL_B_EMERGENCY,
            "b_pos": DENIAL_B_POS,
            "pos_group": POS_GROUP,
            "b_logbilled": DENIAL_B_LOGBILLED,
            "logbilled_centre": round(DENIAL_LOGBILLED_CENTRE, 9),
            "reason_groups": {g: [f"{o[0]}-{o[1]}" for o in v] for g, v in DENIAL_REASONS.items()},
            "reason_weights": {
                s: dict(zip(REASON_GROUPS, w, strict=True)) for s, w in REASON_WEIGHTS.items()
            },
        },
        "payment_model": {
            "formula": "allowed = medicare_allowed * M[p] * cut(p, month) * exp(eps), "
            "eps ~ N(0, sigma_p); allowed capped at billed",
            "time_to_pay": "days = max(1, ceil(Exponential(rate = exp(h[p]) / mean_days)))",
            "mean_days": PAY_MEAN_DAYS,
        },
        "appeal_model": {
            "formula": "logit P(overturned) = c0 + c_payer[p] + c_reason[group] + c_level[level]",
            "c0": APPEAL_C0,
            "c_payer": {p.name: round(float(k["c_pay"][i]), 6) for i, p in enumerate(PAYERS)},
            "c_reason": APPEAL_C_REASON,
            "c_level": {str(lv): v for lv, v in APPEAL_C_LEVEL.items()},
            "file_rate": APPEAL_FILE_RATE,
            "level2_rate": APPEAL_L2_RATE,
            "external_review_rate": APPEAL_EXTERNAL_RATE,
        },
        "claims_by_status": {str(s): int(n) for s, n in claims_by_status.items()},
        "self_pay": {
            "payer": SELF_PAY_NAME,
            "claims": int(k["self_pay"].sum()),
            "claims_over_gfe_plus_400": int(k["over"].sum()),
        },
        "demo_salt": DEMO_SALT,
        "notes": (
            "Synthetic data; every name, member id, birth date, NPI and TIN is fictional. "
            "Payer effects (denial, hazard, appeal) sum to zero over the payers: each odds/hazard "
            "ratio is relative to the average payer. The er_prior_auth payer's extra CO-197 "
            "denials of emergency claims are drawn before the denial model; recover its denial "
            "odds ratio from claims that are not CO-197 emergency denials. Payment multiples are "
            "geometric means of allowed/medicare_allowed (2025 PFS) on paid lines, pre-cut for "
            "the cut payer. Self-pay claims (payer 'Self Pay') carry GFEs, have no remittance and "
            "belong to no payer's truth. Appeal recoveries are not re-remitted in the 835s."
        ),
    }


# --- writing ----------------------------------------------------------------------------------------


def _money_fmt(values: pd.Series) -> pd.Series:
    """Format dollars like a PM export ("$1,234.50"); blank for missing."""
    uniq = pd.unique(values.dropna())
    lookup = {v: f"${v:,.2f}" for v in uniq}
    return values.map(lookup).fillna("").astype("str")


def _plain_fmt(values: pd.Series) -> pd.Series:
    """Format dollars as plain decimals ("1234.50"); blank for missing."""
    uniq = pd.unique(values.dropna())
    lookup = {v: f"{v:.2f}" for v in uniq}
    return values.map(lookup).fillna("").astype("str")


def export_frame(portfolio: DemoPortfolio) -> pd.DataFrame:
    """The practice-management export (billed side, context and fake PHI), as text columns."""
    cl = portfolio.claim_lines
    ph = portfolio.phi
    codes, uniq = pd.factorize(cl["claim_id"])
    if len(uniq) == len(ph) and (ph["claim_id"].to_numpy() == np.asarray(uniq)).all():
        take = codes  # phi rows are in claim order (as generated): take by position
    else:
        take = pd.Index(ph["claim_id"]).get_indexer(cl["claim_id"])
        if (take < 0).any():
            raise ValueError("demo: some claim lines have no PHI row (portfolio.phi)")
    out: dict[str, Any] = {}
    for col in EXPORT_COLUMNS:
        if col in ("patient_name", "member_id", "birth_date"):
            out[col] = ph[col].array.take(take)
        elif col in ("service_date", "submitted_date"):
            out[col] = cl[col].dt.strftime("%Y-%m-%d").fillna("")
        elif col == "cpt":
            # the practice exports what it billed: a downcoded line keeps its billed code
            out[col] = cl["cpt"].where(cl["billed_cpt"].eq(""), cl["billed_cpt"])
        elif col == "billed":
            out[col] = _money_fmt(cl[col])
        elif col in ("qpa", "gfe_amount"):
            out[col] = _plain_fmt(cl[col])
        elif col in ("emergency", "facility_in_network", "air_ambulance", "notice_consent"):
            out[col] = np.where(cl[col].to_numpy(), "Y", "N")
        elif col == "units":
            uniq_u = pd.unique(cl[col])
            out[col] = cl[col].map({u: f"{u:g}" for u in uniq_u})
        elif col == "line_no":
            uniq_l = pd.unique(cl[col])
            out[col] = cl[col].map({u: str(u) for u in uniq_l})
        else:
            out[col] = cl[col]
    frame = pd.DataFrame(
        {
            c: pd.array(
                np.asarray(v, dtype=object) if isinstance(v, np.ndarray) else v, dtype="str"
            )
            for c, v in out.items()
        }
    )
    return frame


def _defect_rows(frame: pd.DataFrame, defects: dict[str, Any]) -> pd.DataFrame:
    """The planted defect rows (each a copy of its template row of ``frame``, values changed)."""
    rows = defects.get("export_rows") or []
    extra = frame.iloc[[r["template_row"] for r in rows]].reset_index(drop=True)
    for i, r in enumerate(rows):
        for col, value in r["values"].items():
            extra.loc[i, col] = value
    return extra


def _with_defect_rows(frame: pd.DataFrame, defects: dict[str, Any]) -> pd.DataFrame:
    """The export with the planted defect rows appended (each a copy of a template row)."""
    if not defects.get("export_rows"):
        return frame
    return pd.concat([frame, _defect_rows(frame, defects)], ignore_index=True)


def _appeals_text(appeals: pd.DataFrame) -> pd.DataFrame:
    """appeals.csv as text columns (ISO dates, plain decimals, blanks for missing)."""
    ap = appeals.copy()
    for c in ("filed_date", "decided_date"):
        ap[c] = ap[c].dt.strftime("%Y-%m-%d").fillna("")
    ap["recovered"] = _plain_fmt(ap["recovered"])
    return ap.astype("str")


def write_csv_text(
    frame: pd.DataFrame, path: Path, *, append: bool = False, header: bool = True
) -> None:
    """Write a frame of text columns as RFC 4180 CSV (quotes only where needed), fast and stable.

    ``append``: add the rows to the end of ``path`` (a streamed demo writes one chunk per call,
    the header only with the first: ``header=False`` after it). Quoting is decided per value,
    so a file written in chunks has the bytes of the file written at once.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    cols = []
    for c in frame.columns:
        arr = pa.array(frame[c].astype("str").fillna(""), type=pa.large_string())
        needs = pc.match_substring_regex(arr, r'[",\r\n]')
        if pc.any(needs).as_py():
            q = pa.scalar('"', pa.large_string())
            empty = pa.scalar("", pa.large_string())
            quoted = pc.binary_join_element_wise(q, pc.replace_substring(arr, '"', '""'), q, empty)
            arr = pc.if_else(needs, quoted, arr)
        cols.append(arr)
    head = ",".join(f'"{c}"' if re.search(r'[",\r\n]', c) else c for c in frame.columns)
    sep = pa.scalar(",", pa.large_string())
    rows = pc.binary_join_element_wise(*cols, sep) if cols else pa.array([], pa.large_string())
    with open(path, "a" if append else "w", encoding="utf-8", newline="") as fh:
        if header:
            fh.write(head + "\n")
        if len(rows):
            fh.write("\n".join(rows.to_pylist()))
            fh.write("\n")


def write_demo(
    portfolio: DemoPortfolio, out_dir: Path, *, remits: bool = True, claims_per_file: int = 5000
) -> dict[str, Path]:
    """Write the demo folder (export CSV, 835 remits, appeals, truth, parquet) and return paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    paths["claims_export"] = out_dir / "claims_export.csv"
    write_csv_text(
        _with_defect_rows(export_frame(portfolio), portfolio.defects), paths["claims_export"]
    )

    paths["appeals"] = out_dir / "appeals.csv"
    write_csv_text(_appeals_text(portfolio.appeals), paths["appeals"])

    from oonplaybook import demo_tic

    _, paths["tic_rates"], portfolio.truth["tic"] = demo_tic.write(
        portfolio.claim_lines, out_dir, int(portfolio.truth.get("seed", 0))
    )
    paths["truth"] = out_dir / "truth.json"
    paths["truth"].write_text(
        json.dumps(portfolio.truth, sort_keys=True, indent=2, ensure_ascii=True) + "\n"
    )
    from oonplaybook import demo_coding

    paths["ncci_ptp"], paths["ncci_mue"] = demo_coding.write_tables(
        portfolio.truth.get("coding", {}), out_dir
    )
    paths["portfolio"] = out_dir / "portfolio.parquet"
    portfolio.claim_lines.to_parquet(paths["portfolio"], index=False)
    paths["adjustments"] = out_dir / "adjustments.parquet"
    portfolio.adjustments.to_parquet(paths["adjustments"], index=False)

    if remits:
        remit_dir = _clear_remits(out_dir)
        _write_remits(portfolio, remit_dir, claims_per_file)
        if portfolio.defects.get("remit_835"):
            (remit_dir / DAMAGED_835_NAME).write_text(portfolio.defects["remit_835"])
        paths["remits"] = remit_dir
    return paths


def _clear_remits(out_dir: Path) -> Path:
    """The ``remits`` folder of a demo folder, emptied of earlier .835 files."""
    remit_dir = out_dir / "remits"
    if remit_dir.exists():
        for old in remit_dir.glob("*.835"):
            old.unlink()
    return remit_dir


def _write_remits(
    portfolio: DemoPortfolio, remit_dir: Path, claims_per_file: int, **kw: Any
) -> list[Path]:
    """The 835s of a portfolio's adjudicated claims (``kw``: x12_writer chunk options)."""
    from oonplaybook.ingest.x12_writer import write_835_files

    cl = portfolio.claim_lines
    done = cl[cl["claim_status"].isin(["paid", "denied"])]
    adj = portfolio.adjustments
    adj = adj[adj["claim_id"].isin(done["claim_id"].unique())]
    return write_835_files(
        done.reset_index(drop=True),
        adj.reset_index(drop=True),
        remit_dir,
        claims_per_file=claims_per_file,
        **kw,
    )


# --- streamed (chunked) generation ---------------------------------------------------------------

#: Claim lines per chunk of a streamed demo (:func:`write_streaming`, ``oonplaybook demo-data``).
#: A demo of at most this many lines is one chunk: ``generate`` + ``write_demo``, byte for byte
#: the folder they always wrote (the default 20k demo and the golden notebooks rely on it). A
#: larger demo is generated and written chunk by chunk, so memory is bounded by one chunk
#: (about 1.5 GB) whatever ``--lines``. Part of the determinism contract: the same lines,
#: seed and chunk size give the same bytes; another chunk size gives another (equally valid)
#: multi-chunk demo.
CHUNK_LINES = 250_000
#: Control-number block of each chunk's 835s (ISA13/GS06/ST02/TRN02 start at chunk x this).
_CONTROL_BLOCK = 1_000_000
#: Per-payer truth counts a streamed demo adds over its chunks.
_SUMMED_PAYER_KEYS = ("appeals", "er_prior_auth_denials", "emergency_claims_adjudicated",
                      "capped_lines")  # fmt: skip


def chunk_sizes(lines: int, chunk_lines: int = CHUNK_LINES) -> list[int]:
    """Lines per chunk: one chunk when ``lines <= chunk_lines``, else the fewest chunks of at
    most ``chunk_lines`` lines, as equal as possible (the first ones one line longer)."""
    if lines < 1 or chunk_lines < 1:
        raise ValueError(f"demo: lines and chunk_lines must be >= 1, got {lines}, {chunk_lines}")
    n = -(-lines // chunk_lines)
    q, r = divmod(lines, n)
    return [q + 1] * r + [q] * (n - r)


def _merge_truth(acc: dict[str, Any], t: dict[str, Any]) -> None:
    """Add one chunk's truth (its counts and planted lines) into the demo's truth ``acc``."""
    acc["lines"] += t["lines"]
    acc["claims"] += t["claims"]
    for name, p in t["payers"].items():
        a = acc["payers"][name]
        for k in _SUMMED_PAYER_KEYS:
            a[k] += p[k]
    by_status = dict(acc["claims_by_status"])
    for s, n in t["claims_by_status"].items():
        by_status[s] = by_status.get(s, 0) + n
    acc["claims_by_status"] = dict(sorted(by_status.items()))
    for k in ("claims", "claims_over_gfe_plus_400"):
        acc["self_pay"][k] += t["self_pay"][k]
    for name, d in t["downcoding"].items():
        a = acc["downcoding"][name]
        for k in ("eligible_lines", "lines"):
            a[k] += d[k]
        a["claim_ids"] = a["claim_ids"] + d["claim_ids"]  # chunks' ids ascend: still sorted
        for k in ("allowed", "paid", "allowed_as_billed", "paid_as_billed"):
            a[k] = round(a[k] + d[k], 2)


def _appeal_counts(appeals: pd.DataFrame) -> pd.DataFrame:
    """Decided and overturned appeals per payer (to recompute the observed overturn rates)."""
    decided = appeals["outcome"].ne("pending")
    over = appeals["outcome"].eq("overturned")
    return (
        pd.DataFrame({"decided": decided, "overturned": over, "payer": appeals["payer"]})
        .groupby("payer")[["decided", "overturned"]]
        .sum()
    )


def write_streaming(
    out_dir: str | Path,
    lines: int = 20000,
    seed: int = 0,
    *,
    start: str = DEFAULT_START,
    months: int = 18,
    remits: bool = True,
    claims_per_file: int = 5000,
    chunk_lines: int = CHUNK_LINES,
    price_fn: PriceFn | None = None,
    progress: Callable[[int, int, int], None] | None = None,
) -> tuple[dict[str, Any], dict[str, Path]]:
    """Generate and write the demo folder chunk by chunk; return (truth, paths).

    Up to ``chunk_lines`` lines this is exactly ``write_demo(generate(...))`` (same bytes).
    Beyond, the demo is :func:`chunk_sizes` chunks, each a :func:`generate` portfolio with its
    own child seed (``numpy.random.SeedSequence(seed, spawn_key=(chunk,))``), its own claim ids
    (continuing the previous chunk's), its own patients (a disjoint member-number block) and
    the charge master and QPAs shared with every chunk; each chunk is written and dropped
    before the next: claims_export.csv and appeals.csv appended, portfolio.parquet and
    adjustments.parquet one row group per chunk (pyarrow ParquetWriter), the chunk's 835s
    (files ``{payer}_{week}_k{chunk}_{seq}.835``, control numbers from chunk x 1,000,000).
    What needs every chunk is kept small and written last: truth.json (counts added over the
    chunks, observed appeal overturn rates recomputed, ``generation`` naming the chunks), the
    TiC files (exact per payer and code medians from summed QPA counts), the planted defect
    rows (appended after the last chunk's lines; planned from chunk 0) and the NCCI tables
    (the coding cases are planted in chunk 0 only). Every planted effect (payer denial odds,
    multiples, hazards, appeal odds, downcoding, the cut) is a parameter of the shared DGP, so
    ``truth.json`` describes the whole folder. ``progress(chunk, chunks, lines_done)`` is
    called after each chunk.
    """
    sizes = chunk_sizes(lines, chunk_lines)
    if len(sizes) == 1:
        port = generate(lines, seed, start=start, months=months, price_fn=price_fn)
        paths = write_demo(port, Path(out_dir), remits=remits, claims_per_file=claims_per_file)
        if progress:
            progress(1, 1, lines)
        return port.truth, paths
    if len(sizes) * _CONTROL_BLOCK > 999_999_999:
        raise ValueError(f"demo: {len(sizes)} chunks; use a larger chunk_lines (at most 999)")
    import pyarrow as pa
    import pyarrow.parquet as pq

    from oonplaybook import demo_coding, demo_tic

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {
        "claims_export": out_dir / "claims_export.csv",
        "appeals": out_dir / "appeals.csv",
        "portfolio": out_dir / "portfolio.parquet",
        "adjustments": out_dir / "adjustments.parquet",
    }
    remit_dir = _clear_remits(out_dir) if remits else None
    block = 9 * 10**8 // len(sizes)
    book: dict[str, dict[str, float]] = {}
    writers: dict[str, Any] = {}
    truth: dict[str, Any] = {}
    defect_writes: dict[str, Any] = {}
    defect_truth: dict[str, Any] = {}
    defect_rows = pd.DataFrame()
    tic_counts: pd.Series | None = None
    appeal_n: pd.DataFrame | None = None
    claims = done = 0
    claims_per_chunk: list[int] = []
    try:
        for i, n in enumerate(sizes):
            chunk = _Chunk(index=i, claim_offset=claims, member_block=(i * block, block), book=book)
            port = generate(n, seed, start=start, months=months, price_fn=price_fn, _chunk=chunk)
            claims += port.truth["claims"]
            claims_per_chunk.append(int(port.truth["claims"]))
            cl = port.claim_lines
            frame = export_frame(port)
            if i == 0:
                defect_writes, defect_truth = _plan_defects(seed, cl, n_rows=lines)
                defect_rows = _defect_rows(frame, defect_writes)
            write_csv_text(frame, paths["claims_export"], append=i > 0, header=i == 0)
            del frame
            write_csv_text(
                _appeals_text(port.appeals), paths["appeals"], append=i > 0, header=i == 0
            )
            counts = demo_tic.plan_counts(cl)
            tic_counts = counts if tic_counts is None else tic_counts.add(counts, fill_value=0)
            ac = _appeal_counts(port.appeals)
            appeal_n = ac if appeal_n is None else appeal_n.add(ac, fill_value=0)
            for key, df in (("portfolio", cl), ("adjustments", port.adjustments)):
                if key not in writers:
                    table = pa.Table.from_pandas(df, preserve_index=False)
                    writers[key] = pq.ParquetWriter(paths[key], table.schema)
                else:
                    table = pa.Table.from_pandas(
                        df, schema=writers[key].schema, preserve_index=False
                    )
                writers[key].write_table(table)
                del table
            if remit_dir is not None:
                _write_remits(
                    port, remit_dir, claims_per_file,
                    control_offset=i * _CONTROL_BLOCK, name_tag=f"k{i:03d}_",
                )  # fmt: skip
            if i == 0:
                truth = port.truth
            else:
                _merge_truth(truth, port.truth)
            done += n
            del port, cl
            if progress:
                progress(i + 1, len(sizes), done)
    finally:
        for w in writers.values():
            w.close()
    write_csv_text(defect_rows, paths["claims_export"], append=True, header=False)
    for name, p in truth["payers"].items():
        got = appeal_n.loc[name] if appeal_n is not None and name in appeal_n.index else None
        dec = int(got["decided"]) if got is not None else 0
        p["appeal_overturn_rate_observed"] = (
            round(float(got["overturned"]) / dec, 6) if got is not None and dec else None
        )
    truth["defects"] = defect_truth
    truth["generation"] = {
        "chunks": len(sizes),
        "chunk_lines": chunk_lines,
        "lines_per_chunk": sizes,
        "claims_per_chunk": claims_per_chunk,
        "child_seed": "numpy.random.SeedSequence(seed, spawn_key=(chunk,)), chunk = 0, 1, ...",
        "notes": (
            "Streamed demo: each chunk is a demo portfolio of its own lines (own claims, "
            "patients and seed; claim ids continue across chunks) drawn from the same DGP, "
            "charge master and QPAs; the counts here are summed over the chunks. Coding cases "
            "are planted in chunk 0 only; the defect rows follow the last chunk's lines."
        ),
    }
    assert tic_counts is not None
    _, paths["tic_rates"], truth["tic"] = demo_tic.write(
        None, out_dir, seed, planned=demo_tic.plan_from_counts(tic_counts, seed)
    )
    paths["truth"] = out_dir / "truth.json"
    paths["truth"].write_text(json.dumps(truth, sort_keys=True, indent=2, ensure_ascii=True) + "\n")
    paths["ncci_ptp"], paths["ncci_mue"] = demo_coding.write_tables(
        truth.get("coding", {}), out_dir
    )
    if remit_dir is not None:
        if defect_writes.get("remit_835"):
            (remit_dir / DAMAGED_835_NAME).write_text(defect_writes["remit_835"])
        paths["remits"] = remit_dir
    return truth, paths


def load_truth(directory: str | Path) -> dict[str, Any]:
    """Read ``truth.json`` from a demo folder, naming the file and the fix when it is absent."""
    path = Path(directory) / "truth.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no truth.json; generate the demo first: "
            f"oonplaybook demo-data --out {Path(directory)}"
        )
    return json.loads(path.read_text())
