"""IDR batching code groups: which CPT/HCPCS codes are "the same or similar items" for a batch.

A reference table below both ``nsa`` (batching) and ``specialties`` (profile vocabulary), so
imports run one way: ``nsa`` -> ``reference.idr_groups`` <- ``specialties``. Items batch only
when they relate to "the treatment of a similar condition" (42 U.S.C. 300gg-111(c)(3)(A)(iii);
45 CFR 149.510(c)(3)(i)(C)); see docs/domain.md §1.8.
"""

from __future__ import annotations

import pandas as pd

#: (group, first, last) inclusive numeric ranges of 5-digit CPT codes, first match wins.
#: Items batch only when they relate to "the treatment of a similar condition"
#: (42 U.S.C. 300gg-111(c)(3)(A)(iii)). After TMA IV (E.D. Tex. 2023-08-03) vacated the
#: "same service code" batching rule, the Departments' guidance groups codes by CMS code
#: ranges; the CMS batching guidance (as quoted by commence.ai/idre/batching) gives the diagnostic-radiology grouping (70010-71555, 72020-72295,
#: 73000-73725, 74018-74363, 74400-74775, 75557-75989, 76000-76499, HCPCS R0070-R0076).
#: Other groups follow the AMA CPT section/subsection ranges at the same level of detail
#: (surgery by body system, radiology by modality, E/M by setting). Configurable: pass
#: ``ranges=`` to :func:`idr_code_group`.
IDR_CODE_GROUP_RANGES: tuple[tuple[str, int, int], ...] = (
    ("anesthesia", 100, 1999),
    ("surgery_integumentary", 10004, 19499),
    ("surgery_musculoskeletal", 20100, 29999),
    ("surgery_respiratory", 30000, 32999),
    ("surgery_cardiovascular", 33016, 37799),
    ("surgery_hemic_lymphatic_mediastinum", 38100, 39599),
    ("surgery_digestive", 40490, 49999),
    ("surgery_urinary_genital", 50010, 55980),
    ("surgery_female_genital_maternity", 56405, 59899),
    ("surgery_endocrine", 60000, 60699),
    ("surgery_nervous_system", 61000, 64999),
    ("surgery_eye_ear", 65091, 69990),
    ("radiology_diagnostic", 70010, 76499),
    ("radiology_ultrasound", 76506, 76999),
    ("radiology_guidance", 77001, 77022),
    ("radiology_breast_bone", 77046, 77086),
    ("radiation_oncology", 77261, 77799),
    ("nuclear_medicine", 78012, 79999),
    ("pathology_clinical_lab", 80047, 87999),
    ("pathology_anatomic_surgical", 88000, 88399),
    ("pathology_other", 88720, 89398),
    ("psychiatry", 90785, 90899),
    ("cardiovascular_medicine", 92920, 93998),
    ("neurology_neuromuscular", 95700, 96020),
    ("medicine_other", 90281, 99199),
    ("em_office_outpatient", 99202, 99215),
    ("em_hospital_inpatient_observation", 99221, 99239),
    ("em_emergency_department", 99281, 99285),
    ("em_critical_care", 99291, 99292),
    ("em_neonatal_pediatric_critical_care", 99466, 99480),
    ("em_other", 99242, 99499),
    ("medicine_other", 99500, 99607),
)

#: HCPCS Level II codes with a known group. Air ambulance: one transport and its mileage may
#: be batched (docs/domain.md §1.8). Ground ambulance (A0425-A0429, A0433, A0434) is outside
#: the NSA (Naviguard; Georgetown/Health Affairs) and has no group here.
IDR_CODE_GROUP_HCPCS: dict[str, str] = {
    "A0430": "air_ambulance",
    "A0431": "air_ambulance",
    "A0435": "air_ambulance",
    "A0436": "air_ambulance",
    "G0453": "neurology_neuromuscular",  # IONM per 15 min (Medicare); grouping [unverified]
    **{f"R00{n}": "radiology_diagnostic" for n in range(70, 77)},  # portable x-ray transport
}

IDR_CODE_GROUPS: tuple[str, ...] = tuple(
    dict.fromkeys([g for g, _, _ in IDR_CODE_GROUP_RANGES] + ["air_ambulance", "hcpcs_other"])
)


def idr_code_group(
    cpt: str, *, ranges: tuple[tuple[str, int, int], ...] = IDR_CODE_GROUP_RANGES
) -> str:
    """IDR batching group of a CPT/HCPCS code ("unknown" for a malformed code)."""
    code = str(cpt).strip().upper()
    if code in IDR_CODE_GROUP_HCPCS:
        return IDR_CODE_GROUP_HCPCS[code]
    if len(code) != 5:
        return "unknown"
    if code.isdigit():
        n = int(code)
        for grp, lo, hi in ranges:
            if lo <= n <= hi:
                return grp
        return "unknown"
    if code[0].isalpha() and code[1:].isdigit():
        return "hcpcs_other"
    if code[:4].isdigit() and code[4] == "U":
        return "pathology_clinical_lab"  # PLA codes
    return "unknown"


def idr_code_groups(codes: pd.Series) -> pd.Series:
    """Vectorised :func:`idr_code_group` (each distinct code mapped once)."""
    s = codes.astype("str")
    lut = {c: idr_code_group(c) for c in pd.unique(s)}
    return s.map(lut).astype("str")
