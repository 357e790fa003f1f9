"""Code families: CPT/HCPCS codes grouped the way payers, benchmarks and IDR batching see them.

Families follow the AMA CPT section ranges (Category I numeric ranges) refined where OON
disputes turn on them (emergency E/M, critical care, neonatal care, IONM). The IDR batching
groups (CMS "same or similar items" code groupings) are finer and live in
``reference/idr_groups.py``.
"""

from __future__ import annotations

import pandas as pd

#: (family, first code, last code) -- inclusive numeric ranges of 5-digit CPT codes.
#: Source: AMA CPT section ranges (Anesthesia 00100-01999, Surgery 10004-69990,
#: Radiology 70010-79999, Path/Lab 80047-89398, Medicine 90281-99607, E/M 99202-99499);
#: ED E/M 99281-99285 and critical care 99291-99292 per CPT E/M guidelines; neonatal/pediatric
#: critical care 99468-99480; IONM 95940-95941 (with HCPCS G0453).
_RANGES: tuple[tuple[str, int, int], ...] = (
    ("anesthesia", 100, 1999),
    ("surgery_musculoskeletal", 20100, 29999),
    ("surgery_nervous_system", 61000, 64999),
    ("surgery_other", 10004, 69990),
    ("radiology_diagnostic", 70010, 76499),
    ("radiology_ultrasound", 76506, 76999),
    ("radiology_other", 77001, 79999),
    ("pathology_lab", 80047, 89398),
    ("psychiatry", 90785, 90899),
    ("neuro_monitoring", 95940, 95941),
    ("neurology_testing", 95700, 96020),
    ("medicine_other", 90281, 99199),
    ("em_emergency", 99281, 99285),
    ("critical_care", 99291, 99292),
    ("neonatal_critical_care", 99468, 99480),
    ("em_other", 99202, 99499),
    ("medicine_other", 99500, 99607),
)

#: HCPCS Level II codes with a known family (letter-prefixed codes otherwise fall to hcpcs_other).
_HCPCS: dict[str, str] = {
    "G0453": "neuro_monitoring",  # continuous intraoperative neurophysiology monitoring
    # Ground ambulance: outside the NSA (Naviguard: protections cover "all emergency services
    # (except ground ambulance)"). A0427 is ground ALS1 emergency (Noridian JE Part B, Ground
    # Ambulance: "A0427: ALS1 emergency transport"), never air.
    **dict.fromkeys(
        ("A0425", "A0426", "A0427", "A0428", "A0429", "A0433", "A0434"), "ground_ambulance"
    ),
    "A0430": "air_ambulance",  # fixed wing air transport
    "A0431": "air_ambulance",  # rotary wing air transport
    "A0435": "air_ambulance",  # fixed wing air mileage
    "A0436": "air_ambulance",  # rotary wing air mileage
}

FAMILIES: tuple[str, ...] = tuple(
    dict.fromkeys(
        [r[0] for r in _RANGES] + ["air_ambulance", "ground_ambulance", "hcpcs_other", "unknown"]
    )
)


def code_family(code: str) -> str:
    """Family of one CPT/HCPCS code (``"unknown"`` for a malformed code, never a guess)."""
    code = str(code).strip().upper()
    if code in _HCPCS:
        return _HCPCS[code]
    if len(code) != 5:
        return "unknown"
    if code.isdigit():
        n = int(code)
        for fam, lo, hi in _RANGES:
            if lo <= n <= hi:
                return fam
        return "unknown"
    if code[0].isalpha() and code[1:].isdigit():
        return "hcpcs_other"
    if code[:4].isdigit() and code[4] in "FTU":  # Category II / III / PLA codes
        return {"F": "category_ii", "T": "category_iii", "U": "pathology_lab"}[code[4]]
    return "unknown"


def code_families(codes: pd.Series) -> pd.Series:
    """Vectorised :func:`code_family` (maps each distinct code once)."""
    uniq = pd.unique(codes.astype("str"))
    lookup = {c: code_family(c) for c in uniq}
    return codes.astype("str").map(lookup).astype("str")
