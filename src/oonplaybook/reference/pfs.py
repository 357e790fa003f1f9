"""Medicare Physician Fee Schedule (PFS) pricing from CMS's own files, to the cent.

Formula (42 CFR 414.20, 414.22; CMS RVU file README; docs/domain.md §3.1)::

    fee = [(work RVU x work GPCI) + (PE RVU x PE GPCI) + (MP RVU x MP GPCI)] x CF

* PE RVU is the **facility** PE RVU when the place of service is a facility setting
  (:data:`FACILITY_POS`), else the non-facility PE RVU (42 CFR 414.22(b)(5)(i)).
* **Rounding.** The fee for one unit is computed exactly (integer arithmetic on the file's
  2-decimal RVUs, 3-decimal GPCIs and 4-decimal CF) and rounded once, half up, to the cent, as
  CMS's PFS payment files publish it. Payment adjustments (bilateral, multiple procedure,
  assistant, co-surgery, medical direction) and units are then applied to that rounded fee and
  the line total is rounded half up to the cent again.
* **Anesthesia** (status J codes 00100-01999; 42 CFR 414.46, Medicare Claims Processing Manual
  Pub. 100-04 Ch. 12 §50): ``(base units + time units) x locality anesthesia CF``. Time units are
  minutes / 15 rounded to one decimal (configurable), base units come from
  ``anesthesia_base_units.csv`` (bring your own with :func:`load_anesthesia_base_units`).
  The locality anesthesia CF is CMS's published ANESyyyy value (ANES2025 ships for all 109
  localities; both CMS layouts read), otherwise the national anesthesia CF x GPCIs weighted by
  :data:`ANESTHESIA_SHARES`, rounded to the cent. Modifier AD (medical supervision) pays 3 base
  units, plus 1 time unit when presence at induction is flagged, not 50% (Palmetto GBA).
* **Status codes** CMS does not price under the PFS get NaN and a stated reason, never 0.
* **Not applied** (documented, shown in ``medicare_note``): the OPPS cap on non-facility imaging
  (needs CMS's OPPSCAP file; it can only lower some non-facility imaging amounts), endoscopic
  base-code reductions (indicator 3 is approximated as the standard 50%), MAC-priced (status C)
  codes. Multiple-procedure
  reductions are applied per line from modifier 51 (the line says it is a subsequent
  procedure); ranking a claim's procedures by amount is left to the biller.

Tables ship in ``reference/data`` (built by ``scripts/build_reference.py`` from CMS's files):
2025 RVUs (PPRRVU2025_Oct.csv), GPCIs and ANES CFs; 2026 GPCIs (GPCI2026.csv). Each part of a
year (RVUs, GPCIs, ANES CFs) comes from the user cache (:func:`cache_dir`, written by
``oonplaybook reference import``) first, then the packaged files. A year without CMS's RVU file
(2026 until it is imported) is priced with the nearest year's RVUs, its own GPCIs and CF, and
says so on every line and once per run (:func:`pricing_note`). The RVU reader finds columns by
their stacked header text, so the 31-column 2024/2025 layout and the 32-column 2026 layout
(``PRIC IND`` inserted as column 24) both read.
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import functools
import io
import json
import os
import re
import warnings
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from oonplaybook.reference.localities import ReferenceError, normalize_locality, read_locco

# ReferenceError and normalize_locality live in the lower module (localities) so imports run one
# way (pfs -> localities); callers keep using pfs.ReferenceError / pfs.normalize_locality.

# --- domain constants ---------------------------------------------------------------------------

#: PFS conversion factors by (year, qualifying APM participant). docs/domain.md §3.1 table.
#: 2024: $33.2875 is the CF effective 2024-03-09 (CAA 2024 fix; $32.7442 applied 01-01..03-08);
#: 2025: $32.3465, equal to the CONV FACTOR column of every row of PPRRVU2025_Oct.csv (checked
#: by scripts/build_reference.py and tests); 2026: non-QP $33.4009, QP $33.5675 (CY2026 PFS
#: final rule, pbn.decisionhealth.com; AAMC). Before 2026 there is a single CF (QP == non-QP).
CONVERSION_FACTORS: dict[tuple[int, bool], Decimal] = {
    (2024, False): Decimal("33.2875"),
    (2024, True): Decimal("33.2875"),
    (2025, False): Decimal("32.3465"),
    (2025, True): Decimal("32.3465"),
    (2026, False): Decimal("33.4009"),
    (2026, True): Decimal("33.5675"),
}

#: National anesthesia CFs (docs/domain.md, Medicare PFS). 2025 $20.3178 is also the header of
#: CMS's ANES2025 file ("National Anes CF of 20.3178"). 2026 non-QP $20.4976 (CY2026 PFS final
#: rule; PBN "non-APM anesthesia CF (final) $20.4976"); 2026 QP $20.5998 (Ventra Health, "a
#: separate CF of $20.5998 for physicians participating in Advanced APMs"; check: 20.4976 x
#: 1.0075 / 1.0025 = 20.5998; docs/domain.md §3.1).
ANESTHESIA_CONVERSION_FACTORS: dict[tuple[int, bool], Decimal | None] = {
    (2024, False): Decimal("20.7739"),
    (2024, True): Decimal("20.7739"),
    (2025, False): Decimal("20.3178"),
    (2025, True): Decimal("20.3178"),
    (2026, False): Decimal("20.4976"),
    (2026, True): Decimal("20.5998"),
}

#: Work / PE / MP shares used to locality-adjust the anesthesia CF only for a year without CMS's
#: ANESyyyy file (2025 ships CMS's own ANES2025 values for all 109 localities; 2026 has none
#: yet). CMS publishes its shares on the "Anesthesia Shares" tab of its anesthesia CF file,
#: which was not found in a public source, so these are FITTED: a 0.0001 grid search over
#: shares summing to 1 finds (0.769, 0.166, 0.065) (and 0.7689/0.1661/0.0650) reproducing
#: CMS's ANES2025 value in all 109 localities to the cent from 20.3178 and the 2025 GPCIs; the
#: earlier (0.7686, 0.1664, 0.0650) missed 6. Configurable via ``anesthesia_shares=``.
ANESTHESIA_SHARES: tuple[float, float, float] = (0.769, 0.166, 0.065)

#: Places of service paid at the facility PE RVU (42 CFR 414.22(b)(5)(i); Medicare Claims
#: Processing Manual Pub. 100-04 Ch. 12 §20.4.2; CY2024 PFS final rule: POS 02 telehealth at the
#: facility rate, POS 10 telehealth in the home at the non-facility rate). Everything else
#: (11 office, 12 home, 10, 20 urgent care, 49, 50, 65, 71, 72, 81, ...) is non-facility.
FACILITY_POS: frozenset[str] = frozenset(
    {
        "02",  # telehealth other than patient's home
        "19",  # off-campus outpatient hospital
        "21",  # inpatient hospital
        "22",  # on-campus outpatient hospital
        "23",  # emergency room - hospital
        "24",  # ambulatory surgical center
        "26",  # military treatment facility
        "31",  # skilled nursing facility (Part A stay)
        "34",  # hospice
        "41",  # ambulance - land
        "42",  # ambulance - air or water
        "51",  # inpatient psychiatric facility
        "52",  # psychiatric facility partial hospitalization
        "53",  # community mental health center
        "56",  # psychiatric residential treatment center
        "61",  # comprehensive inpatient rehabilitation facility
    }
)

#: PFS status codes (CMS RVU file README, "Status Code" field) -> why CMS pays no PFS amount.
#: A (active), R (restricted coverage: priced, paid only if covered) and T (injection: priced,
#: paid only if no other PFS service that day) are priced; J (anesthesia) uses the anesthesia
#: formula.
STATUS_REASONS: dict[str, str] = {
    "B": "status B: bundled; payment is included in another service, no separate Medicare payment",
    "C": "status C: carrier-priced; the MAC sets the amount case by case, no national price",
    "D": "status D: deleted code",
    "E": "status E: excluded from the PFS by regulation (paid under another fee schedule)",
    "F": "status F: deleted/discontinued code, no grace period",
    "G": "status G: not valid for Medicare; CMS uses another code",
    "H": "status H: deleted modifier for this code",
    "I": "status I: not valid for Medicare purposes; Medicare uses another code",
    "M": "status M: measurement (quality reporting) code, no payment",
    "N": "status N: non-covered service",
    "P": "status P: bundled/excluded; no PFS payment (paid under another system if covered)",
    "X": "status X: statutory exclusion; not a PFS service (e.g. lab, ambulance fee schedules)",
}
PRICED_STATUSES = frozenset({"A", "R", "T"})
NOTE_STATUSES = {
    "R": "status R: restricted coverage, priced if covered",
    "T": "status T: paid only if no other PFS service is paid the same day",
}

#: Payment-modifier fractions, as (numerator over 1000) of the fee schedule amount.
#: Bilateral (mod 50) by BILAT SURG indicator (RVU README; Pub. 100-04 Ch. 12 §40.7):
#: 1 -> 150%, 0/2 -> 100% (adjustment does not apply / RVUs already bilateral),
#: 3 -> 100% each side = 200% for the one line, 9 -> concept does not apply (100%).
BILATERAL_MILLI: dict[str, int] = {"0": 1000, "1": 1500, "2": 1000, "3": 2000, "9": 1000}
#: Multiple procedure (mod 51) by MULT PROC indicator (Pub. 100-04 Ch. 12 §40.6): 2 standard
#: (secondary procedure at 50%), 3 endoscopic (approximated at 50%; base-code rule not
#: applied), 0/9 no reduction. 4-7 (imaging, therapy, cardio, ophthalmology MPPR) reduce only
#: the TC/PE part and need the day's other lines: not applied, flagged in the note.
MULT_PROC_MILLI: dict[str, int] = {"0": 1000, "2": 500, "3": 500, "9": 1000}
#: Family MPPR (mod 51 on a subsequent procedure; Pub. 100-04 Ch. 12 §40.6, RVU README "MULT
#: PROC"): indicator -> (TC reduction, PC reduction) in 1/1000. 4 diagnostic imaging: TC 50%,
#: PC 5% (CY2012/CY2017 PFS rules); 6 cardiovascular diagnostics: TC 25%; 7 ophthalmology
#: diagnostics: TC 20% (CY2013 PFS rule). Indicator 5 (therapy) reduces the PE of subsequent
#: units 50% (CY2013 onwards). Global lines are reduced by the reduction of their TC and PC
#: parts priced from the TC/26 rows; each part and each reduction is rounded to the cent.
MPPR_COMPONENT_MILLI: dict[str, tuple[int, int]] = {"4": (500, 50), "6": (250, 0), "7": (200, 0)}
#: Assistant at surgery: 16% of the fee schedule amount (mod 80/81/82; Pub. 100-04 Ch. 12
#: §20.4.3); AS (PA/NP/CNS assistant) 85% x 16% = 13.6% (§120). ASST SURG indicator 1 = statutory
#: restriction (no payment), 9 = concept does not apply; 0 = payable with documentation.
ASSISTANT_MILLI: dict[str, int] = {"80": 160, "81": 160, "82": 160, "AS": 136}
#: Co-surgeons (mod 62): 62.5% each (Pub. 100-04 Ch. 12 §40.8). CO-SURG indicator 0 = not
#: permitted, 1 = with documentation, 2 = permitted, 9 = concept does not apply.
CO_SURGEON_MILLI = 625
#: Anesthesia medical direction (Pub. 100-04 Ch. 12 §50.C; 42 CFR 414.46(d)): QK/QX/QY pay
#: 50% of the allowance; AA/QZ 100%.
ANESTHESIA_MILLI: dict[str, int] = {"QK": 500, "QX": 500, "QY": 500}
#: Modifier AD (medical supervision of more than four concurrent procedures) is not a 50% split:
#: Medicare pays 3 base units per procedure, plus 1 time unit when the physician documents
#: presence at induction, and no other time (Palmetto GBA, "HCPCS Modifier AD": "based on three
#: base units per procedure with an additional unit of time if the physician documents that he
#: or she was present at induction"; Pub. 100-04 Ch. 12 §50.C; docs/domain.md §3.1).
ANESTHESIA_AD_BASE_UNITS = 3
ANESTHESIA_AD_INDUCTION_TIME_UNITS = 1

#: Pricing (row-selecting) modifiers present as separate rows of the RVU file.
ROW_MODIFIERS = ("26", "TC", "53")

ANESTHESIA_TIME_UNIT_MINUTES = 15  # Pub. 100-04 Ch. 12 §50.G: time unit = 15 minutes
ANESTHESIA_TIME_UNIT_DECIMALS = 1  # §50.G: time units rounded to one decimal place

CACHE_ENV = "OONPLAYBOOK_CACHE"
_RVU_SCALE, _GPCI_SCALE, _CF_SCALE = 100, 1000, 10000

# --- CMS file readers -------------------------------------------------------------------------

#: Canonical column -> the CMS PPRRVU header text (multi-row header cells joined top to bottom).
PPRRVU_COLUMNS: dict[str, str] = {
    "hcpcs": "HCPCS",
    "mod": "MOD",
    "status": "STATUS CODE",
    "not_used_for_medicare": "NOT USED FOR MEDICARE PAYMENT",
    "work_rvu": "WORK RVU",
    "pe_nf_rvu": "NON-FAC PE RVU",
    "nf_na": "NON-FAC NA INDICATOR",
    "pe_f_rvu": "FACILITY PE RVU",
    "f_na": "FACILITY NA INDICATOR",
    "mp_rvu": "MP RVU",
    "total_nf": "NON-FACILITY TOTAL",
    "total_f": "FACILITY TOTAL",
    "pctc": "PCTC IND",
    "glob_days": "GLOB DAYS",
    "mult_proc": "MULT PROC",
    "bilat_surg": "BILAT SURG",
    "asst_surg": "ASST SURG",
    "co_surg": "CO- SURG",
    "team_surg": "TEAM SURG",
    "endo_base": "ENDO BASE",
    "conv_factor": "CONV FACTOR",
    "diag_supervision": "PHYSICIAN SUPERVISION OF DIAGNOSTIC PROCEDURES",
    "calc_flag": "CALCULATION FLAG",
    "imaging_family": "DIAGNOSTIC IMAGING FAMILY INDICATOR",
    "opps_pe_nf": "NON-FACILITY PE USED FOR OPPS PAYMENT AMOUNT",
    "opps_pe_f": "FACILITY PE USED FOR OPPS PAYMENT AMOUNT",
    "opps_mp": "MP USED FOR OPPS PAYMENT AMOUNT",
}
#: Columns only some layouts have: ``PRIC IND`` is new in 2026 (column 24 of 32, between TEAM
#: SURG and ENDO BASE, moving every later column one place right). "" when the layout lacks it.
PPRRVU_OPTIONAL_COLUMNS: dict[str, str] = {"pric_ind": "PRIC IND"}
_RVU_NUMERIC = (
    "work_rvu",
    "pe_nf_rvu",
    "pe_f_rvu",
    "mp_rvu",
    "total_nf",
    "total_f",
    "conv_factor",
    "opps_pe_nf",
    "opps_pe_f",
    "opps_mp",
)


def _norm_header(text: str) -> str:
    return " ".join(text.replace("-", "- ").split()).replace("- ", "-").upper()


def _rows_of(source: str | Path | bytes) -> tuple[list[list[str]], str]:
    if isinstance(source, bytes):
        text, name = source.decode("utf-8-sig", errors="replace"), "<bytes>"
    else:
        name = str(source)
        text = Path(source).read_bytes().decode("utf-8-sig", errors="replace")
    dialect = "excel-tab" if text.count("\t") > text.count(",") else "excel"
    return list(csv.reader(io.StringIO(text), dialect=dialect)), name


def read_pprrvu(source: str | Path | bytes, name: str | None = None) -> tuple[pd.DataFrame, dict]:
    """Parse CMS's PPRRVU relative value file (title rows, multi-row header) into a typed table.

    Returns the table (one row per HCPCS+modifier, no descriptors) and metadata (title, release
    date). Raises :class:`ReferenceError` naming the file and the missing column when the layout
    is not CMS's.
    """
    rows, fname = _rows_of(source)
    fname = name or fname
    hdr = next((i for i, r in enumerate(rows) if r and r[0].strip().upper() == "HCPCS"), None)
    if hdr is None:
        raise ReferenceError(
            f"{fname}: no header row starting with 'HCPCS' found; expected CMS's PPRRVU layout "
            "(PPRRVUyyyy_*.csv from the RVU zip)"
        )
    width = len(rows[hdr])
    joined = []
    for j in range(width):
        cells = [rows[i][j] for i in range(max(0, hdr - 4), hdr + 1) if j < len(rows[i])]
        # title rows put text in the DESCRIPTION column only; header cells are short
        cells = [c for c in cells if c.strip() and len(c) < 40]
        joined.append(_norm_header(" ".join(cells)))
    where: dict[str, int] = {}
    for canon, cms_name in PPRRVU_COLUMNS.items():
        want = _norm_header(cms_name)
        hits = [j for j, h in enumerate(joined) if h == want]
        if not hits:
            near = difflib.get_close_matches(want, joined, n=1)
            raise ReferenceError(
                f"{fname}: header row {hdr + 1}: column {cms_name!r} not found"
                + (f" (closest: {near[0]!r})" if near else "")
                + "; is this a CMS PPRRVU file?"
            )
        where[canon] = hits[0]
    for canon, cms_name in PPRRVU_OPTIONAL_COLUMNS.items():
        hits = [j for j, h in enumerate(joined) if h == _norm_header(cms_name)]
        if hits:
            where[canon] = hits[0]
    body = [r for r in rows[hdr + 1 :] if r and r[0].strip()]
    data = {c: [r[j].strip() if j < len(r) else "" for r in body] for c, j in where.items()}
    df = pd.DataFrame(data)
    for canon in PPRRVU_OPTIONAL_COLUMNS:
        if canon not in df.columns:
            df[canon] = ""
    for c in _RVU_NUMERIC:
        vals = pd.to_numeric(df[c].replace("", "0"), errors="coerce")
        bad = vals.isna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise ReferenceError(
                f"{fname}: row {hdr + 2 + i}: column {PPRRVU_COLUMNS[c]!r} = {df[c].iloc[i]!r} "
                "is not a number"
            )
        df[c] = vals.astype("float64")
    df["hcpcs"] = df["hcpcs"].str.upper()
    df["mod"] = df["mod"].str.upper()
    dup = df.duplicated(["hcpcs", "mod"])
    if dup.any():
        first = df.loc[dup, ["hcpcs", "mod"]].iloc[0]
        raise ReferenceError(f"{fname}: duplicate HCPCS+MOD row {first['hcpcs']}{first['mod']}")
    title = " ".join(c.strip() for r in rows[:hdr] for c in r if c.strip())
    m = re.search(r"RELEASED\s+(\d{1,2})/(\d{1,2})/(\d{4})", title)
    released = f"{m.group(3)}-{int(m.group(1)):02d}-{int(m.group(2)):02d}" if m else ""
    y = re.search(r"(20\d\d)\s+National Physician Fee Schedule", title, re.I)
    rel = re.search(r"Relative Value File\s+(\w+)\s+Release", title, re.I)
    meta = {
        "file": Path(fname).name,
        "title": title[:200],
        "year": int(y.group(1)) if y else None,
        "release": rel.group(1) if rel else "",
        "released": released,
        "rows": len(df),
        "columns": width,
        "optional_columns": sorted(c for c in PPRRVU_OPTIONAL_COLUMNS if c in where),
        "conv_factor_values": sorted({f"{v:.4f}" for v in df["conv_factor"] if v > 0}),
    }
    df = df.sort_values(["hcpcs", "mod"], kind="stable").reset_index(drop=True)
    return df, meta


def read_gpci(source: str | Path | bytes, name: str | None = None) -> pd.DataFrame:
    """Parse CMS's GPCI file (Addendum E layout: title, footnotes, unpadded MAC/locality)."""
    rows, fname = _rows_of(source)
    fname = name or fname
    hdr = next(
        (i for i, r in enumerate(rows) if any("LOCALITY NUMBER" in c.upper() for c in r)), None
    )
    if hdr is None:
        raise ReferenceError(
            f"{fname}: no header row with 'Locality Number'; expected CMS's GPCI file "
            "(GPCIyyyy.csv / Addendum E)"
        )
    head = [c.strip().upper() for c in rows[hdr]]

    def col(*needles: str) -> int:
        for j, h in enumerate(head):
            if all(n in h for n in needles):
                return j
        raise ReferenceError(
            f"{fname}: header row {hdr + 1}: no column containing {' + '.join(needles)!r}"
        )

    c_mac = next(
        (
            j
            for j, h in enumerate(head)
            if "CONTRACTOR" in h or h.startswith("MAC") or "CARRIER" in h
        ),
        0,
    )
    c_state, c_loc, c_name = col("STATE"), col("LOCALITY NUMBER"), col("LOCALITY NAME")
    c_w, c_pe, c_mp = col("PW", "GPCI"), col("PE", "GPCI"), col("MP", "GPCI")
    recs = []
    for i, r in enumerate(rows[hdr + 1 :], start=hdr + 2):
        if len(r) <= max(c_mp, c_w, c_pe) or not r[c_mac].strip().isdigit():
            continue  # blank spacer, "MAC Assignments as of ..." and footnote rows
        try:
            w, pe, mp = (float(r[c]) for c in (c_w, c_pe, c_mp))
        except ValueError:
            raise ReferenceError(
                f"{fname}: row {i}: GPCI values {r[c_w : c_mp + 1]} are not numbers"
            ) from None
        name_raw = r[c_name].strip()
        recs.append(
            {
                "locality": normalize_locality(f"{r[c_mac].strip()}-{r[c_loc].strip()}"),
                "mac": f"{int(r[c_mac]):05d}",
                "locality_number": f"{int(r[c_loc]):02d}",
                "state": r[c_state].strip().upper(),
                "name": name_raw.rstrip("*").strip(),
                "footnote": "*" * (len(name_raw) - len(name_raw.rstrip("*"))),
                "gpci_work": w,
                "gpci_pe": pe,
                "gpci_mp": mp,
            }
        )
    if not recs:
        raise ReferenceError(f"{fname}: no locality rows under the header (row {hdr + 1})")
    df = pd.DataFrame(recs)
    dup = df["locality"].duplicated()
    if dup.any():
        raise ReferenceError(f"{fname}: locality {df.loc[dup, 'locality'].iloc[0]} appears twice")
    df = df.sort_values("locality").reset_index(drop=True)
    y = re.search(r"(20\d\d)\s+PW\s+GPCI", " ".join(rows[hdr]), re.I)
    df.attrs["year"] = int(y.group(1)) if y else None
    return df


#: ANESyyyy.txt fixed-width record (CMS layout; 1-based columns): contractor 1-5, locality
#: 13-14, name 19-58 (cut to 40 characters), CF 74-77 with two implied decimals (1931 = 19.31).
_ANES_TXT_RE = re.compile(r"^(\d{5}) {7}(\d{2}) {4}(.{0,40}?)\s+(\d{3,5})$")
_ANES_NATIONAL_RE = re.compile(r"NATIONAL\s+ANES\w*\s+CF\s+(?:OF\s+)?\$?(\d+\.\d+)", re.I)


def read_anesthesia_cf(source: str | Path | bytes, name: str | None = None) -> pd.DataFrame:
    """Parse CMS's locality anesthesia CF file (ANESyyyy) in either of CMS's two layouts.

    The CSV (``Contractor,Locality,Locality Name,National Anes CF of 20.3178``, values padded
    with spaces) or the fixed-width ``.txt`` (implied decimals, trailing Ctrl-Z). Returns one
    row per locality (``locality``, ``name``, ``anes_cf``); the CSV header's national CF is in
    ``df.attrs["national_cf"]`` (None for the .txt). Raises :class:`ReferenceError` naming the
    file and line of anything it cannot read.
    """
    if isinstance(source, bytes):
        raw, fname = source, name or "<bytes>"
    else:
        raw, fname = Path(source).read_bytes(), name or str(source)
    text = raw.decode("utf-8-sig", errors="replace").replace("\x1a", "")
    lines = text.splitlines()
    recs: list[dict[str, Any]] = []
    national: str | None = None
    if any("CONTRACTOR" in ln.upper() and "," in ln for ln in lines[:5]):
        rows = list(csv.reader(io.StringIO(text)))
        hdr = next(i for i, r in enumerate(rows) if r and "CONTRACTOR" in r[0].upper())
        if len(rows[hdr]) < 4:
            raise ReferenceError(
                f"{fname}: line {hdr + 1}: header has {len(rows[hdr])} columns; CMS's ANES CSV "
                "has Contractor, Locality, Locality Name, CF"
            )
        m = _ANES_NATIONAL_RE.search(",".join(rows[hdr]))
        national = m.group(1) if m else None
        for i, r in enumerate(rows[hdr + 1 :], start=hdr + 2):
            cells = [c.strip() for c in r]
            if not any(cells):
                continue  # CMS ends the file with a ",,," row
            if len(cells) < 4 or not cells[0].isdigit():
                raise ReferenceError(
                    f"{fname}: line {i}: {r!r} is not 'contractor,locality,name,CF'; fix or "
                    "delete the line"
                )
            try:
                cf = Decimal(cells[3].replace("$", ""))
            except ArithmeticError:
                raise ReferenceError(
                    f"{fname}: line {i}: anesthesia CF {cells[3]!r} is not a number"
                ) from None
            recs.append(
                {
                    "locality": normalize_locality(f"{cells[0]}-{cells[1]}"),
                    "name": cells[2].rstrip("*").strip(),
                    "anes_cf": float(cf),
                }
            )
    else:
        for i, ln in enumerate(lines, start=1):
            if not ln.strip():
                continue
            m = _ANES_TXT_RE.match(ln.rstrip())
            if not m:
                raise ReferenceError(
                    f"{fname}: line {i}: not a CMS ANES record (contractor 1-5, locality 13-14, "
                    "name 19-58, CF 74-77 with implied decimals) and no CSV header; is this an "
                    "ANESyyyy file?"
                )
            recs.append(
                {
                    "locality": normalize_locality(f"{m.group(1)}-{m.group(2)}"),
                    "name": m.group(3).strip(),
                    "anes_cf": int(m.group(4)) / 100,
                }
            )
    if not recs:
        raise ReferenceError(f"{fname}: no locality rows; expected CMS's ANESyyyy file")
    df = pd.DataFrame(recs)
    dup = df["locality"].duplicated(keep=False)
    if dup.any():
        clash = df[dup].groupby("locality")["anes_cf"].nunique()
        if (clash > 1).any():
            raise ReferenceError(
                f"{fname}: locality {clash[clash > 1].index[0]} listed twice with different CFs"
            )
    df = df.drop_duplicates("locality").sort_values("locality").reset_index(drop=True)
    df.attrs["national_cf"] = national
    return df


def load_anesthesia_base_units(path: str | Path | None = None) -> pd.DataFrame:
    """Anesthesia base units by code (CSV columns code, base_units, source); default: packaged."""
    if path is None:
        text = (
            resources.files("oonplaybook.reference") / "data" / "anesthesia_base_units.csv"
        ).read_text()
        name = "anesthesia_base_units.csv (packaged)"
    else:
        text, name = Path(path).read_text(), str(path)
    df = pd.read_csv(io.StringIO(text), dtype=str, comment="#", keep_default_na=False)
    missing = {"code", "base_units"} - set(df.columns)
    if missing:
        raise ReferenceError(
            f"{name}: missing column(s) {sorted(missing)}; need code,base_units,source"
        )
    df["code"] = df["code"].str.strip().str.upper()
    bad = ~df["code"].str.fullmatch(r"\d{5}")
    if bad.any():
        raise ReferenceError(
            f"{name}: row {int(np.flatnonzero(bad.to_numpy())[0]) + 2}: code "
            f"{df.loc[bad, 'code'].iloc[0]!r} is not a 5-digit anesthesia code (keep leading zeros)"
        )
    df["base_units"] = pd.to_numeric(df["base_units"], errors="raise").astype("float64")
    if "source" not in df.columns:
        df["source"] = name
    return (
        df[["code", "base_units", "source"]]
        .drop_duplicates("code", keep="last")
        .reset_index(drop=True)
    )


# --- table loading -----------------------------------------------------------------------------


def cache_dir() -> Path:
    """User cache for imported CMS releases: ``$OONPLAYBOOK_CACHE`` or ``~/.cache/oonplaybook``."""
    root = os.environ.get(CACHE_ENV)
    return Path(root) if root else Path.home() / ".cache" / "oonplaybook"


@dataclass(frozen=True)
class ReferenceTables:
    """The PFS tables used for one year: RVUs, GPCIs, anesthesia base units, CMS anes CFs.

    Each part comes from the newest source for the year (imported cache, else packaged). When
    CMS's RVU file for the year is not installed, ``rvu_year`` names the year whose RVUs stand in
    (e.g. 2025 RVUs with the packaged 2026 GPCIs); :func:`pricing_note` says so.
    """

    year: int
    rvu: pd.DataFrame
    gpci: pd.DataFrame
    anesthesia_base_units: pd.DataFrame
    anesthesia_cf: pd.DataFrame | None
    manifest: dict[str, Any]
    origin: str  # where the RVUs came from: "packaged" or the cache folder
    rvu_year: int = 0
    gpci_year: int = 0
    gpci_origin: str = "packaged"

    @functools.cached_property
    def codes(self) -> frozenset[str]:
        """Every HCPCS code in the RVU table (for fast membership checks)."""
        return frozenset(self.rvu["hcpcs"])

    @property
    def vintage(self) -> str:
        """Human label of the CMS release, e.g. 'CMS PFS 2025 October release (2025-09-11)'."""
        m = self.manifest.get("pprrvu") or {}
        rvu_year = self.rvu_year or self.year
        label = f"CMS PFS {rvu_year} {m.get('release', '')} release ({m.get('released', '')})"
        label = label.replace("  ", " ")
        if rvu_year != self.year or (self.gpci_year or self.year) != rvu_year:
            gfile = (self.manifest.get("gpci") or {}).get("file", "")
            label += f" RVUs with the CY{self.gpci_year or self.year} GPCIs" + (
                f" ({gfile})" if gfile else ""
            )
        return label


_PACKAGED_NAMES = {
    "rvu": "pprrvu_{year}.parquet",
    "gpci": "gpci_{year}.csv",
    "anes": "anes_cf_{year}.csv",
}
_CACHED_NAMES = {"rvu": "pprrvu.parquet", "gpci": "gpci.csv", "anes": "anes_cf.csv"}
_MANIFEST_KEY = {"rvu": "pprrvu", "gpci": "gpci", "anes": "anesthesia_cf"}


def _packaged_years() -> list[int]:
    """Years with a packaged ``pfs_YYYY.json`` manifest."""
    data = resources.files("oonplaybook.reference") / "data"
    return sorted(
        int(m.group(1)) for p in data.iterdir() if (m := re.fullmatch(r"pfs_(\d{4})\.json", p.name))
    )


def _cached_years() -> list[int]:
    """Years imported into the user cache (a ``reference/YYYY/manifest.json``)."""
    root = cache_dir() / "reference"
    if not root.is_dir():
        return []
    return sorted(
        int(p.name) for p in root.iterdir() if p.name.isdigit() and (p / "manifest.json").is_file()
    )


def available_years() -> list[int]:
    """Years with PFS tables of their own (RVUs or GPCIs; packaged or imported)."""
    return sorted(set(_packaged_years()) | set(_cached_years()))


def _component(year: int, kind: str, cache_root: str) -> tuple[Any, dict, str] | None:
    """Where ``kind`` (rvu/gpci/anes) of ``year`` comes from: (file, its manifest, origin)."""
    folder = Path(cache_root) / "reference" / str(year)
    f = folder / _CACHED_NAMES[kind]
    if f.is_file() and (folder / "manifest.json").is_file():
        return f, json.loads((folder / "manifest.json").read_text()), str(folder)
    data = resources.files("oonplaybook.reference") / "data"
    pf, mpath = data / _PACKAGED_NAMES[kind].format(year=year), data / f"pfs_{year}.json"
    if pf.is_file() and mpath.is_file():
        return pf, json.loads(mpath.read_text()), "packaged"
    return None


def _component_years(kind: str, cache_root: str) -> list[int]:
    """Years that have their own ``kind`` part (cache or packaged)."""
    return [y for y in available_years() if _component(y, kind, cache_root) is not None]


def _nearest(year: int, years: list[int]) -> int:
    """The nearest year, the earlier one on a tie (2025 RVUs stand in for 2026, not 2027's)."""
    return min(years, key=lambda y: (abs(y - year), y))


def _read_component(src: Any, kind: str) -> pd.DataFrame:
    """Read one part (RVU parquet, GPCI or ANES CSV) with its code columns as strings."""
    if kind == "rvu":
        with resources.as_file(src) as p:
            return pd.read_parquet(p)
    text = src.read_text()
    if kind == "gpci":
        return pd.read_csv(io.StringIO(text), dtype={"mac": str, "locality_number": str})
    return pd.read_csv(io.StringIO(text), dtype={"locality": str})


@functools.lru_cache(maxsize=8)
def _load_tables_cached(year: int, cache_root: str) -> ReferenceTables:
    if year not in available_years():
        raise ReferenceError(
            f"no PFS tables for {year} (have {available_years()}); import CMS's RVU zip with "
            f"`oonplaybook reference import rvu{str(year)[2:]}a.zip`"
        )
    parts: dict[str, tuple[int, Any, dict, str]] = {}
    for kind in ("rvu", "gpci"):
        got = _component(year, kind, cache_root)
        use_year = year
        if got is None:
            years = _component_years(kind, cache_root)
            if not years:
                raise ReferenceError(
                    f"no PFS {'RVU' if kind == 'rvu' else 'GPCI'} table installed; run "
                    "scripts/build_reference.py or `oonplaybook reference import`"
                )
            use_year = _nearest(year, years)
            got = _component(use_year, kind, cache_root)
        if got is None:  # unreachable: use_year was chosen among the years that have it
            raise ReferenceError(f"no PFS {kind} table for {use_year}")
        parts[kind] = (use_year, *got)
    anes_src = _component(year, "anes", cache_root)
    rvu_year, rvu_src, rvu_man, origin = parts["rvu"]
    gpci_year, gpci_src, gpci_man, gpci_origin = parts["gpci"]
    rvu = _read_component(rvu_src, "rvu")
    gpci = _read_component(gpci_src, "gpci")
    anes = _read_component(anes_src[0], "anes") if anes_src is not None else None
    for c in (
        "hcpcs",
        "mod",
        "status",
        "pctc",
        "mult_proc",
        "bilat_surg",
        "asst_surg",
        "co_surg",
        "team_surg",
        "nf_na",
        "f_na",
        "glob_days",
        "pric_ind",
    ):
        if c not in rvu.columns:
            rvu[c] = ""
        rvu[c] = rvu[c].astype("str").where(rvu[c].notna(), "")
    gpci["locality"] = gpci["locality"].astype("str")
    manifest = dict(rvu_man)
    manifest["year"] = year
    manifest["pprrvu"] = rvu_man.get("pprrvu")
    manifest["gpci"] = gpci_man.get("gpci")
    manifest["anesthesia_cf"] = anes_src[1].get("anesthesia_cf") if anes_src else None
    return ReferenceTables(
        year=year,
        rvu=rvu,
        gpci=gpci,
        anesthesia_base_units=load_anesthesia_base_units(),
        anesthesia_cf=anes,
        manifest=manifest,
        origin=origin,
        rvu_year=rvu_year,
        gpci_year=gpci_year,
        gpci_origin=gpci_origin,
    )


def load_tables(year: int = 2025) -> ReferenceTables:
    """The PFS tables for ``year``: the user cache first, then the packaged tables."""
    return _load_tables_cached(int(year), str(cache_dir()))


def _stand_in_note(year: int, t: ReferenceTables) -> str:
    """The sentence a line priced with another year's RVUs/GPCIs carries ("" when exact)."""
    rvu_year, gpci_year = t.rvu_year or t.year, t.gpci_year or t.year
    if rvu_year == year and gpci_year == year:
        return ""
    m = t.manifest.get("pprrvu") or {}
    rel = f"{m.get('release', '')} release".strip()
    what = f"{rvu_year} RVUs (CMS PFS {rvu_year} {rel})" if rvu_year != year else ""
    if gpci_year != year:
        what = _join_and(what, f"{gpci_year} GPCIs")
    have = f"the {year} GPCIs and " if gpci_year == year else ""
    missing = "RVU" if rvu_year != year else "GPCI"
    return (
        f"{what} used with {have}the {year} conversion factor: CMS's {year} {missing} file is "
        f"not imported (import it for exact amounts: oonplaybook reference import "
        f"PPRRVU{year}_*.csv or rvu{str(year)[2:]}a.zip)"
    )


def _join_and(a: str, b: str) -> str:
    """``a and b``, or ``b`` alone when ``a`` is empty."""
    return f"{a} and {b}" if a else b


def _tables_for(year: int) -> tuple[ReferenceTables, str]:
    """Tables for ``year`` and the stand-in note ("" when CMS's own files for it are installed)."""
    years = available_years()
    if not years:
        raise ReferenceError("no PFS tables installed; run scripts/build_reference.py")
    t = load_tables(year if year in years else _nearest(year, years))
    if year not in years:  # another year's tables wholesale; its CMS anesthesia CFs do not apply
        t = dataclasses.replace(t, year=int(year), anesthesia_cf=None)
    note = _stand_in_note(int(year), t)
    if note:
        warnings.warn(f"PFS {year}: {note}", stacklevel=3)
    return t, note


def tables_for(year: int) -> tuple[ReferenceTables, str]:
    """The tables pricing ``year`` uses and their stand-in note ("" when exact); no warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _tables_for(int(year))


def pricing_note(year: int) -> str:
    """One run-level sentence when ``year`` is priced with another year's RVUs ("" if exact).

    E.g. for 2026 until CMS's 2026 RVU file is imported: "2025 RVUs (CMS PFS 2025 October
    release) used with the 2026 GPCIs and the 2026 conversion factor: ...". The report's
    executive summary shows it once; every priced line's ``medicare_note`` carries it too.
    """
    _, note = tables_for(year)
    return f"Medicare PFS {year}: {note}" if note else ""


def localities(year: int = 2025) -> pd.DataFrame:
    """Medicare localities with GPCIs: locality ("CCCCC-LL"), mac, locality_number, state, name, gpcis."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t, _ = _tables_for(year)
    cols = [
        "locality",
        "mac",
        "locality_number",
        "state",
        "name",
        "gpci_work",
        "gpci_pe",
        "gpci_mp",
    ]
    return t.gpci[cols].copy()


def reference_vintages() -> dict[str, Any]:
    """CMS release, date, origin and source hashes of every PFS table set (for run manifests).

    Each ``pfs_<year>`` entry says where its RVUs and GPCIs come from (``rvu_year`` differs
    from the year when another year's RVUs stand in) and carries that year's
    :func:`pricing_note`; ``notes`` lists every such note once, for the report's summary.
    """
    out: dict[str, Any] = {}
    notes: list[str] = []
    for y in available_years():
        t = load_tables(y)
        m = t.manifest.get("pprrvu") or {}
        gm = t.manifest.get("gpci") or {}
        am = t.manifest.get("anesthesia_cf") or {}
        note = pricing_note(y)
        out[f"pfs_{y}"] = {
            "rvu_year": t.rvu_year,
            "release": m.get("release", ""),
            "released": m.get("released", ""),
            "pprrvu_file": m.get("file", ""),
            "pprrvu_sha256": m.get("sha256", ""),
            "gpci_year": t.gpci_year,
            "gpci_file": gm.get("file", ""),
            "gpci_sha256": gm.get("sha256", ""),
            "origin": t.origin,
            "gpci_origin": t.gpci_origin,
            "conversion_factor_file": t.manifest.get("conversion_factor_file", []),
            "anesthesia_cf": f"CMS {am.get('file', 'ANES file')} ({am.get('localities', '?')} localities)"
            if t.anesthesia_cf is not None
            else f"national anesthesia CF x GPCI shares {ANESTHESIA_SHARES} (no CMS ANES{y} file)",
            "anesthesia_cf_sha256": am.get("sha256", ""),
            "note": note,
        }
        if note:
            notes.append(note)
    out["notes"] = notes
    out["conversion_factors"] = {
        f"{y}{' QP' if q else ''}": str(v) for (y, q), v in CONVERSION_FACTORS.items()
    }
    out["anesthesia_conversion_factors"] = {
        f"{y}{' QP' if q else ''}": (str(v) if v is not None else None)
        for (y, q), v in ANESTHESIA_CONVERSION_FACTORS.items()
    }
    out["anesthesia_base_units"] = (
        f"{len(load_anesthesia_base_units())} codes (packaged anesthesia_base_units.csv)"
    )
    from oonplaybook.reference.localities import zip5_vintage

    out["zip5_locality"] = zip5_vintage()
    return out


def conversion_factor(year: int, qp: bool = False) -> Decimal:
    """The PFS conversion factor for a year (QP = qualifying APM participant, from 2026)."""
    try:
        return CONVERSION_FACTORS[(int(year), bool(qp))]
    except KeyError:
        raise ReferenceError(
            f"no PFS conversion factor for {year} (known: {sorted({y for y, _ in CONVERSION_FACTORS})})"
        ) from None


# --- pricing -----------------------------------------------------------------------------------


def _half_up_div(num: np.ndarray, den: int) -> np.ndarray:
    """Exact half-up rounding of non-negative int64 ``num / den``."""
    return (2 * num + den) // (2 * den)


def _scaled(values: pd.Series | np.ndarray, scale: int, what: str) -> np.ndarray:
    arr = np.asarray(values, dtype="float64") * scale
    out = np.rint(arr)
    if np.nanmax(np.abs(arr - out), initial=0.0) > 1e-6:
        raise ReferenceError(
            f"{what} has more decimals than CMS publishes (1/{scale}); check the file"
        )
    return out.astype("int64")


def _split_modifiers(mods: pd.Series) -> pd.DataFrame:
    """Classify each distinct ':'-joined modifier string once (row modifier + payment modifiers)."""
    uniq = pd.unique(mods.astype("str"))
    rec = []
    for s in uniq:
        parts = [p.strip().upper() for p in re.split(r"[:,\s]+", str(s)) if p.strip()]
        row_mod = next((p for p in parts if p in ROW_MODIFIERS), "")
        rec.append(
            {
                "modifiers": s,
                "row_mod": row_mod,
                "m50": "50" in parts,
                "m51": "51" in parts,
                "m62": "62" in parts,
                "asst": next((p for p in parts if p in ASSISTANT_MILLI), ""),
                "anes_mod": next((p for p in parts if p in ANESTHESIA_MILLI), ""),
                "ad": "AD" in parts,
            }
        )
    return pd.DataFrame(
        rec, columns=["modifiers", "row_mod", "m50", "m51", "m62", "asst", "anes_mod", "ad"]
    )


def _price_combos(
    combos: pd.DataFrame,
    t: ReferenceTables,
    cf: Decimal,
    anes_cf: Decimal | None,
    anesthesia_shares: tuple[float, float, float],
) -> pd.DataFrame:
    """Price distinct (cpt, modifiers, locality, facility) combinations; return per-combo terms."""
    c = combos.merge(_split_modifiers(combos["modifiers"]), on="modifiers", how="left")
    rvu = t.rvu[t.rvu["hcpcs"].isin(pd.unique(combos["cpt"]))]  # only the codes priced here
    # the row modifier's own row when the file has it; else the global row (decided below)
    c["lookup_mod"] = c["row_mod"]
    keyed = rvu.set_index(["hcpcs", "mod"])
    has_mod_row = pd.MultiIndex.from_arrays([c["cpt"], c["row_mod"]]).isin(keyed.index)
    c["mod_row_missing"] = (c["row_mod"] != "") & ~has_mod_row
    c.loc[c["mod_row_missing"], "lookup_mod"] = ""
    c = c.merge(rvu, left_on=["cpt", "lookup_mod"], right_on=["hcpcs", "mod"], how="left")
    g = t.gpci.set_index("locality")
    c = c.join(g[["gpci_work", "gpci_pe", "gpci_mp"]], on="locality")
    n = len(c)
    reason = np.full(n, "", dtype=object)
    note = np.full(n, "", dtype=object)
    status = c["status"].fillna("").astype("str").to_numpy()
    known = c["hcpcs"].notna().to_numpy()
    reason[~known] = "code not in the CMS PFS relative value file"
    bad_loc = c["gpci_work"].isna().to_numpy()
    no_loc = (c["locality"] == "").to_numpy()
    reason[known & no_loc] = "no locality on the line and no default locality"
    reason[known & bad_loc & ~no_loc] = [
        f"unknown Medicare locality {loc.lstrip('?')!r}"
        for loc in c.loc[known & bad_loc & ~no_loc, "locality"]
    ]
    for code, why in STATUS_REASONS.items():
        reason[known & (status == code) & (reason == "")] = why
    for code, why in NOTE_STATUSES.items():
        note[known & (status == code)] = why
    # modifier 26/TC/53 without its own row
    pctc = c["pctc"].fillna("").astype("str").to_numpy()
    mm = c["mod_row_missing"].to_numpy()
    redundant = mm & np.isin(pctc, ["2", "3"]) & (c["row_mod"].isin(["26", "TC"]).to_numpy())
    note[redundant] = np.char.add(
        note[redundant].astype(str), "modifier redundant (PC/TC indicator 2/3); global row used"
    )
    mm_bad = mm & ~redundant & known
    reason[mm_bad & (reason == "")] = [
        f"modifier {m} not payable for this code (PC/TC indicator {p}; no {m} row in the RVU file)"
        for m, p in zip(
            c.loc[mm_bad & (reason == ""), "row_mod"],
            c.loc[mm_bad & (reason == ""), "pctc"],
            strict=True,
        )
    ]
    is_anes = known & (status == "J")
    # --- payment-modifier fraction (milli) -----------------------------------------------------
    milli = np.full(n, 1000, dtype="int64")
    bil = c["bilat_surg"].fillna("9").astype("str").to_numpy()
    m50 = c["m50"].to_numpy() & ~is_anes
    milli[m50] = milli[m50] * np.array([BILATERAL_MILLI.get(b, 1000) for b in bil[m50]]) // 1000
    for b in np.unique(bil[m50]):
        sel = m50 & (bil == b)
        note[sel] = [
            _join(x, f"bilateral (50) indicator {b}: {BILATERAL_MILLI.get(b, 1000) / 10:g}%")
            for x in note[sel]
        ]
    mp = c["mult_proc"].fillna("9").astype("str").to_numpy()
    m51 = c["m51"].to_numpy() & ~is_anes
    for v in np.unique(mp[m51]):
        sel = m51 & (mp == v)
        if v in MULT_PROC_MILLI:
            milli[sel] = milli[sel] * MULT_PROC_MILLI[v] // 1000
            note[sel] = [
                _join(x, f"multiple procedure (51) indicator {v}: {MULT_PROC_MILLI[v] / 10:g}%")
                for x in note[sel]
            ]
        elif v not in MPPR_COMPONENT_MILLI and v != "5":
            note[sel] = [
                _join(x, f"multiple procedure indicator {v} unknown; no reduction applied")
                for x in note[sel]
            ]
    asst = c["asst"].to_numpy()
    ai = c["asst_surg"].fillna("9").astype("str").to_numpy()
    has_asst = (asst != "") & known & ~is_anes
    for a in np.unique(asst[has_asst]):
        sel = has_asst & (asst == a)
        stat = sel & np.isin(ai, ["1", "9"])
        reason[stat & (reason == "")] = [
            f"assistant at surgery ({a}) not paid: ASST SURG indicator {i}"
            for i in ai[stat & (reason == "")]
        ]
        ok = sel & ~np.isin(ai, ["1", "9"])
        milli[ok] = milli[ok] * ASSISTANT_MILLI[a] // 1000
        note[ok] = [
            _join(
                x,
                f"assistant at surgery ({a}): {ASSISTANT_MILLI[a] / 10:g}%"
                + (" (documentation required)" if i == "0" else ""),
            )
            for x, i in zip(note[ok], ai[ok], strict=True)
        ]
    cs = c["co_surg"].fillna("9").astype("str").to_numpy()
    m62 = c["m62"].to_numpy() & known & ~is_anes
    bad62 = m62 & np.isin(cs, ["0", "9"])
    reason[bad62 & (reason == "")] = [
        f"co-surgery (62) not permitted: CO-SURG indicator {v}" for v in cs[bad62 & (reason == "")]
    ]
    ok62 = m62 & ~np.isin(cs, ["0", "9"])
    milli[ok62] = milli[ok62] * CO_SURGEON_MILLI // 1000
    note[ok62] = [_join(x, "co-surgeon (62): 62.5%") for x in note[ok62]]
    am = c["anes_mod"].to_numpy()
    ad = is_anes & c["ad"].to_numpy(dtype=bool)
    sel = is_anes & (am != "") & ~ad
    milli[sel] = 500
    note[sel] = [
        _join(x, f"medical direction ({m}): 50%") for x, m in zip(note[sel], am[sel], strict=True)
    ]
    # --- the fee for one unit, exact -----------------------------------------------------------
    fac = c["facility"].to_numpy(dtype=bool)
    priced = known & ~bad_loc & np.isin(status, list(PRICED_STATUSES)) & (reason == "")
    pe = np.where(fac, c["pe_f_rvu"].fillna(0.0), c["pe_nf_rvu"].fillna(0.0))
    rv = np.stack([c["work_rvu"].fillna(0.0), pe, c["mp_rvu"].fillna(0.0)])
    gp = np.stack([c["gpci_work"].fillna(0.0), c["gpci_pe"].fillna(0.0), c["gpci_mp"].fillna(0.0)])
    rv_i, gp_i = _scaled(rv, _RVU_SCALE, "an RVU"), _scaled(gp, _GPCI_SCALE, "a GPCI")
    cf_i = int(cf * _CF_SCALE)
    total = (rv_i * gp_i).sum(axis=0)  # scale 1e5
    den = _RVU_SCALE * _GPCI_SCALE * _CF_SCALE // 100  # -> cents
    fee_cents = np.where(priced, _half_up_div(total * cf_i, den), -1)
    zero = priced & (fee_cents == 0)
    reason[zero] = "CMS publishes no RVUs for this code/modifier (all RVUs are zero)"
    fee_cents[zero] = -1
    # --- NA indicators (RVU README): priced as the file lists, but said ----------------------
    f_na = c["f_na"].fillna("").astype("str").to_numpy() == "NA"
    nf_na = c["nf_na"].fillna("").astype("str").to_numpy() == "NA"
    for sel, text in (
        (
            priced & fac & f_na,
            "facility NA indicator: CMS does not expect this service in a facility",
        ),
        (priced & ~fac & nf_na, "non-facility NA indicator: rarely/never done in an office"),
    ):
        note[sel] = [_join(x, text) for x in note[sel]]
    # --- family multiple-procedure reductions on modifier 51 (indicators 4-7) ----------------
    fam = m51 & priced & (fee_cents > 0)
    therapy = fam & (mp == "5")  # PE of the subsequent unit reduced 50%
    if therapy.any():
        w_t, pe_t, mp_t = rv_i * gp_i
        fee_cents[therapy] = _half_up_div(
            (2 * w_t[therapy] + pe_t[therapy] + 2 * mp_t[therapy]) * cf_i, 2 * den
        )
        note[therapy] = [
            _join(x, "multiple procedure (51) indicator 5: PE -50%") for x in note[therapy]
        ]
    for v, (tc_red, pc_red) in MPPR_COMPONENT_MILLI.items():
        sel = fam & (mp == v)
        if not sel.any():
            continue
        comp = c["lookup_mod"].to_numpy()
        tc_sel, pc_sel, glob = sel & (comp == "TC"), sel & (comp == "26"), sel & (comp == "")
        fee_cents[tc_sel] -= _half_up_div(fee_cents[tc_sel] * tc_red, 1000)
        fee_cents[pc_sel] -= _half_up_div(fee_cents[pc_sel] * pc_red, 1000)
        if glob.any():
            for mod, red in (("TC", tc_red), ("26", pc_red)):
                part = (
                    c.loc[glob, ["cpt"]]
                    .assign(mod=mod)
                    .merge(rvu, left_on=["cpt", "mod"], right_on=["hcpcs", "mod"], how="left")
                )
                pe_p = np.where(
                    fac[glob], part["pe_f_rvu"].fillna(0.0), part["pe_nf_rvu"].fillna(0.0)
                )
                rv_p = np.stack([part["work_rvu"].fillna(0.0), pe_p, part["mp_rvu"].fillna(0.0)])
                part_cents = _half_up_div(
                    (_scaled(rv_p, _RVU_SCALE, "an RVU") * gp_i[:, glob]).sum(axis=0) * cf_i, den
                )
                fee_cents[glob] -= _half_up_div(part_cents * red, 1000)
        label = {
            "4": "imaging TC -50%, PC -5%",
            "6": "cardiovascular TC -25%",
            "7": "ophthalmology TC -20%",
        }[v]
        note[sel] = [_join(x, f"multiple procedure (51) indicator {v}: {label}") for x in note[sel]]
    # --- anesthesia ----------------------------------------------------------------------------
    base = t.anesthesia_base_units.set_index("code")["base_units"]
    c["anes_base"] = c["cpt"].map(base)
    # AD: 3 base units whatever the code's own base units (time units are set per line)
    c.loc[ad, "anes_base"] = float(ANESTHESIA_AD_BASE_UNITS)
    ad_time = (
        f"+ {ANESTHESIA_AD_INDUCTION_TIME_UNITS} time unit (present at induction)"
        if combos.attrs.get("ad_induction", False)
        else "no time units (presence at induction not flagged)"
    )
    note[ad] = [
        _join(x, f"medical supervision (AD): {ANESTHESIA_AD_BASE_UNITS} base units {ad_time}")
        for x in note[ad]
    ]
    anes_ok = is_anes & ~bad_loc & (reason == "")
    no_base = anes_ok & c["anes_base"].isna().to_numpy()
    reason[no_base] = (
        "anesthesia code without base units; supply a base-units CSV (code,base_units,source)"
    )
    anes_ok &= ~no_base
    anes_cf_cents = np.full(n, -1, dtype="int64")
    if anes_ok.any() and anes_cf is None:
        reason[anes_ok] = (
            "no anesthesia CF for this year/QP status; pass anesthesia_cf= or import CMS's ANES file"
        )
        anes_ok[:] = False
    if anes_ok.any():
        use_cms = (
            t.anesthesia_cf is not None
            and combos.attrs.get("requested_year") == t.year
            and not combos.attrs.get("custom_anes_cf", False)
        )
        if use_cms:
            loc_cf = c["locality"].map(t.anesthesia_cf.set_index("locality")["anes_cf"]).to_numpy()
            have = anes_ok & ~np.isnan(loc_cf)
            file_cf = (t.manifest.get("anesthesia_cf") or {}).get("national_cf")
            if file_cf and Decimal(str(file_cf)) != anes_cf:
                # CMS's file is for another national CF (e.g. the QP CF): same locality ratio
                ratio = anes_cf / Decimal(str(file_cf))
                anes_cf_cents[have] = [
                    int((Decimal(str(v)) * ratio).quantize(Decimal("0.01"), ROUND_HALF_UP) * 100)
                    for v in loc_cf[have]
                ]
                label = f"CMS locality anesthesia CF (ANES file) x {anes_cf}/{file_cf}"
            else:
                anes_cf_cents[have] = np.rint(loc_cf[have] * 100).astype("int64")
                label = "CMS locality anesthesia CF (ANES file)"
            note[have] = [_join(x, label) for x in note[have]]
        rest = anes_ok & (anes_cf_cents < 0)
        if rest.any():
            sw, sp, sm = (Decimal(str(s)) for s in anesthesia_shares)
            gpc = c[["gpci_work", "gpci_pe", "gpci_mp"]].to_numpy()[rest]
            anes_cf_cents[rest] = [
                int(
                    (
                        anes_cf
                        * (sw * Decimal(str(w)) + sp * Decimal(str(p)) + sm * Decimal(str(m)))
                    ).quantize(Decimal("0.01"), ROUND_HALF_UP)
                    * 100
                )
                for w, p, m in gpc
            ]
            note[rest] = [
                _join(x, f"anesthesia CF {anes_cf} x GPCI shares {anesthesia_shares}")
                for x in note[rest]
            ]
    c["anes_base10"] = np.where(
        anes_ok, np.rint(c["anes_base"].fillna(0).to_numpy() * 10), 0
    ).astype("int64")
    return pd.DataFrame(
        {
            "fee_cents": fee_cents,
            "milli": milli,
            "is_anes": anes_ok,
            "ad": ad & anes_ok,
            "anes_base10": c["anes_base10"].to_numpy(),
            "anes_cf_cents": anes_cf_cents,
            "status": np.where(known, status, ""),
            "reason": reason.astype(str),
            "note": note.astype(str),
            "work_rvu": c["work_rvu"].to_numpy(),
            "pe_rvu": pe,
            "mp_rvu": c["mp_rvu"].to_numpy(),
            "gpci_work": c["gpci_work"].to_numpy(),
            "gpci_pe": c["gpci_pe"].to_numpy(),
            "gpci_mp": c["gpci_mp"].to_numpy(),
            "pctc": pctc,
            "row_mod": c["lookup_mod"].to_numpy(),
            "anes_base": c["anes_base"].to_numpy(),
        },
        index=combos.index,
    )


def _join(a: str, b: str) -> str:
    return f"{a}; {b}" if a else b


def _facility_flags(lines: pd.DataFrame) -> np.ndarray:
    if "facility" in lines.columns:
        return lines["facility"].fillna(False).astype(bool).to_numpy()
    pos = lines["pos"].astype("str").str.strip().str.zfill(2) if "pos" in lines.columns else None
    if pos is None:
        return np.zeros(len(lines), dtype=bool)
    return pos.isin(FACILITY_POS).to_numpy()


def medicare_allowed(
    lines: pd.DataFrame,
    *,
    year: int = 2025,
    default_locality: str | None = None,
    qp: bool = False,
    anesthesia_cf: float | None = None,
    anesthesia_shares: tuple[float, float, float] = ANESTHESIA_SHARES,
    ad_present_at_induction: bool = False,
    detail: bool = False,
) -> pd.DataFrame:
    """Medicare PFS allowed amount per claim line (vectorised: prices each distinct combo once).

    Uses ``cpt``, ``modifiers``, ``units``, ``unit_type`` (``MJ`` = anesthesia minutes), ``pos``
    (or a boolean ``facility`` column) and ``locality`` (blank -> ``default_locality``). Returns
    a frame indexed like ``lines`` with ``medicare_allowed`` (NaN when CMS does not price the
    line), ``medicare_status``, ``medicare_reason`` ("" when priced), ``medicare_facility``,
    ``medicare_locality``, ``medicare_note`` and ``medicare_vintage``. ``qp`` picks the 2026+
    qualifying-APM-participant CFs; ``ad_present_at_induction`` adds AD's one time unit.
    """
    if "cpt" not in lines.columns:
        raise ReferenceError("claim lines have no 'cpt' column; cannot price")
    t, fallback_note = _tables_for(year)
    cf = conversion_factor(year, qp)
    a_cf = (
        Decimal(str(anesthesia_cf))
        if anesthesia_cf is not None
        else ANESTHESIA_CONVERSION_FACTORS.get((int(year), bool(qp)))
    )
    n = len(lines)
    if n == 0:
        cols = {
            "medicare_allowed": "float64",
            "medicare_status": "str",
            "medicare_reason": "str",
            "medicare_facility": "bool",
            "medicare_locality": "str",
            "medicare_note": "str",
            "medicare_vintage": "str",
        }
        if detail:
            cols |= {
                c: "float64"
                for c in (
                    "work_rvu",
                    "pe_rvu",
                    "mp_rvu",
                    "gpci_work",
                    "gpci_pe",
                    "gpci_mp",
                    "anes_base",
                    "fraction",
                    "anes_cf",
                    "time_units",
                )
            }
            cols["fee_cents"] = "int64"
        return pd.DataFrame({c: pd.Series(dtype=d) for c, d in cols.items()}, index=lines.index)

    def codes_of(col: str, norm: Any) -> tuple[np.ndarray, np.ndarray]:
        if col not in lines.columns:
            return np.zeros(n, dtype="int64"), np.array([norm("")], dtype=object)
        codes, uniq = pd.factorize(lines[col].astype("str").fillna(""), use_na_sentinel=False)
        return codes.astype("int64"), np.array([norm(u) for u in uniq], dtype=object)

    default = normalize_locality(default_locality) if default_locality else ""

    def norm_loc(u: str) -> str:
        u = str(u).strip() or default
        try:
            return normalize_locality(u) if u else ""
        except ReferenceError:
            return "?" + u

    c_cpt, u_cpt = codes_of("cpt", lambda u: str(u).strip().upper())
    c_mod, u_mod = codes_of("modifiers", lambda u: str(u).strip().upper())
    c_loc, u_loc = codes_of("locality", norm_loc)
    fac = _facility_flags(lines)
    # one integer key per (cpt, modifiers, locality, facility), then its distinct values
    k = ((c_cpt * len(u_mod) + c_mod) * len(u_loc) + c_loc) * 2 + fac.astype("int64")
    uk, gid = np.unique(k, return_inverse=True)
    k_fac = (uk % 2).astype(bool)
    rest = uk // 2
    k_loc = rest % len(u_loc)
    rest //= len(u_loc)
    k_mod, k_cpt = rest % len(u_mod), rest // len(u_mod)
    combos = pd.DataFrame(
        {
            "cpt": u_cpt[k_cpt].astype(str),
            "modifiers": u_mod[k_mod].astype(str),
            "locality": u_loc[k_loc].astype(str),
            "facility": k_fac,
        }
    )
    combos.attrs["requested_year"] = int(year)
    combos.attrs["custom_anes_cf"] = anesthesia_cf is not None
    combos.attrs["ad_induction"] = bool(ad_present_at_induction)
    priced = _price_combos(combos, t, cf, a_cf, anesthesia_shares)
    raw_units = (
        pd.to_numeric(lines["units"], errors="coerce").to_numpy(dtype="float64")
        if "units" in lines.columns
        else np.ones(n)
    )
    units_missing = np.isnan(raw_units)
    units_negative = raw_units < 0
    units = np.abs(np.where(units_missing, 1.0, raw_units))
    if "unit_type" in lines.columns:
        ut_codes, ut_uniq = pd.factorize(lines["unit_type"].astype("str").fillna(""))
        mj_line = np.isin(ut_codes, [i for i, u in enumerate(ut_uniq) if str(u).upper() == "MJ"])
    else:
        mj_line = np.zeros(n, dtype=bool)
    fee = priced["fee_cents"].to_numpy()[gid]
    milli = priced["milli"].to_numpy()[gid]
    is_anes = priced["is_anes"].to_numpy()[gid]
    cents = np.full(n, -1, dtype="int64")
    # PFS lines: fee x fraction x units
    pfs_line = fee >= 0
    whole = pfs_line & (np.abs(units - np.rint(units)) < 1e-9) & (units >= 0)
    u_i = np.rint(units).astype("int64")
    cents[whole] = _half_up_div(fee[whole] * milli[whole] * u_i[whole], 1000)
    frac = pfs_line & ~whole & (units >= 0)
    cents[frac] = np.floor(fee[frac] * milli[frac] * units[frac] / 1000 + 0.5 + 1e-9).astype(
        "int64"
    )
    # anesthesia lines: (base + minutes/15 rounded to 0.1) x locality anesthesia CF x fraction;
    # AD lines: 3 base units + 1 time unit only when present at induction (minutes ignored)
    ad_line = priced["ad"].to_numpy()[gid]
    mj = is_anes & (mj_line | ad_line)
    scale = 10**ANESTHESIA_TIME_UNIT_DECIMALS
    minutes = np.where(mj & ~ad_line, units, 0.0)
    tu10 = np.floor(minutes * scale / ANESTHESIA_TIME_UNIT_MINUTES + 0.5 + 1e-9).astype("int64")
    if ad_present_at_induction:
        tu10[ad_line] = ANESTHESIA_AD_INDUCTION_TIME_UNITS * scale
    total10 = priced["anes_base10"].to_numpy()[gid] * (scale // 10) + tu10
    acf = priced["anes_cf_cents"].to_numpy()[gid]
    cents[mj] = _half_up_div(total10[mj] * acf[mj] * milli[mj], scale * 1000)
    allowed = np.where(cents >= 0, cents / 100.0, np.nan)
    # string columns: built once per combo, then taken per line (arrow take is fast)
    reasons = list(priced["reason"]) + [
        "anesthesia time must be reported in minutes (unit type MJ)"
    ]
    r_idx = np.where(is_anes & ~mj_line & ~ad_line, len(priced), gid)
    notes = priced["note"].tolist()
    if fallback_note:
        notes = [_join(x, fallback_note) for x in notes]
    vintage = f"{t.vintage}; CF {cf}" + (" QP" if qp else "")
    line_note = np.full(n, "", dtype=object)
    line_note[units_missing] = "units missing: priced as 1"
    line_note[units_negative] = "negative units (reversal): priced on |units|"

    def take(values: list[str], idx: np.ndarray) -> pd.Series:
        return pd.Series(pd.array(values, dtype="str").take(idx), index=lines.index)

    out = pd.DataFrame(
        {
            "medicare_allowed": pd.Series(allowed, index=lines.index),
            "medicare_status": take(priced["status"].tolist(), gid),
            "medicare_reason": take(reasons, r_idx),
            "medicare_facility": pd.Series(fac, index=lines.index),
            "medicare_locality": take(
                ["" if x.startswith("?") else x for x in combos["locality"]], gid
            ),
            "medicare_note": take(notes, gid),
            "medicare_vintage": take([vintage], np.zeros(n, dtype="int64")),
        },
        index=lines.index,
    )
    special = units_missing | units_negative
    if special.any():
        base_note = out.loc[special, "medicare_note"].to_numpy()
        out.loc[special, "medicare_note"] = [
            _join(str(a), str(b)) for a, b in zip(base_note, line_note[special], strict=True)
        ]
    if detail:
        for c in ("work_rvu", "pe_rvu", "mp_rvu", "gpci_work", "gpci_pe", "gpci_mp", "anes_base"):
            out[c] = priced[c].to_numpy()[gid]
        out["fee_cents"] = fee
        out["fraction"] = milli / 1000
        out["anes_cf"] = np.where(acf >= 0, acf / 100.0, np.nan)
        out["time_units"] = tu10 / scale
    return out


@dataclass(frozen=True)
class PriceResult:
    """One priced service with every component of the CMS formula."""

    code: str
    modifier: str
    locality: str
    locality_name: str
    year: int
    allowed: float | None
    work_rvu: float | None
    pe_rvu: float | None
    mp_rvu: float | None
    gpci_work: float | None
    gpci_pe: float | None
    gpci_mp: float | None
    conversion_factor: float
    facility: bool
    status: str
    reason: str
    units: float
    fee_per_unit: float | None
    payment_fraction: float
    anesthesia_base_units: float | None = None
    anesthesia_time_units: float | None = None
    anesthesia_cf: float | None = None
    note: str = ""
    vintage: str = ""
    extras: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        return asdict(self)


def nearest_codes(code: str, year: int = 2025, n: int = 5) -> list[str]:
    """Closest HCPCS codes in the RVU file (numeric distance for CPT, spelling otherwise)."""
    t, _ = _tables_for(year)
    codes = pd.unique(t.rvu["hcpcs"])
    if code.isdigit():
        num = sorted((abs(int(c) - int(code)), c) for c in codes if c.isdigit())
        return [c for _, c in num[:n]]
    same = [c for c in codes if c[:1] == code[:1] and c[1:].isdigit() and code[1:].isdigit()]
    if same:
        return sorted(same, key=lambda c: abs(int(c[1:]) - int(code[1:])))[:n]
    return difflib.get_close_matches(code, list(codes), n=n, cutoff=0.4)


def nearest_localities(value: str, year: int = 2025, n: int = 5) -> list[str]:
    """Closest localities (by MAC prefix, number or name) as 'CCCCC-LL NAME, ST'."""
    g = localities(year)
    label = g["locality"] + " " + g["name"] + ", " + g["state"]
    digits = re.sub(r"\D", "", value)
    hits: list[str] = []
    if digits:
        mac = digits[:5] if len(digits) >= 5 else digits
        hits = label[g["mac"].str.lstrip("0") == mac.lstrip("0")].tolist()
        if not hits:
            near = sorted(g["mac"].unique(), key=lambda m: abs(int(m) - int(mac or 0)))[:2]
            hits = label[g["mac"].isin(near)].tolist()
    else:
        words = value.strip().upper()
        hits = label[g["name"].str.contains(words, regex=False) | (g["state"] == words)].tolist()
        hits = hits or difflib.get_close_matches(words, label.tolist(), n=n, cutoff=0.2)
    return hits[:n]


def price(
    code: str,
    *,
    modifier: str = "",
    locality: str,
    year: int = 2025,
    facility: bool = False,
    units: float = 1,
    minutes: float | None = None,
    qp: bool = False,
    anesthesia_cf: float | None = None,
    ad_present_at_induction: bool = False,
) -> PriceResult:
    """Price one service; raises :class:`ReferenceError` with nearest matches on unknown input."""
    code = str(code).strip().upper()
    try:
        loc = normalize_locality(locality)
    except ReferenceError as e:
        raise ReferenceError(
            f"{e}; nearest: {'; '.join(nearest_localities(locality, year))}"
        ) from None
    t, _ = _tables_for(year)
    if code not in t.codes:
        raise ReferenceError(
            f"unknown code {code!r}; nearest: {', '.join(nearest_codes(code, year))}"
        )
    g = t.gpci.set_index("locality")
    if loc not in g.index:
        raise ReferenceError(
            f"unknown locality {locality!r}; nearest: {'; '.join(nearest_localities(locality, year))}"
        )
    is_anes_minutes = minutes is not None
    line = pd.DataFrame(
        {
            "cpt": [code],
            "modifiers": [modifier],
            "units": [float(minutes if is_anes_minutes else units)],
            "unit_type": ["MJ" if is_anes_minutes else "UN"],
            "locality": [loc],
            "facility": [bool(facility)],
        }
    )
    r = medicare_allowed(
        line,
        year=year,
        qp=qp,
        anesthesia_cf=anesthesia_cf,
        ad_present_at_induction=ad_present_at_induction,
        detail=True,
    ).iloc[0]
    allowed = None if pd.isna(r["medicare_allowed"]) else float(r["medicare_allowed"])

    def f(x: Any) -> float | None:
        return None if pd.isna(x) else float(x)

    return PriceResult(
        code=code,
        modifier=modifier,
        locality=loc,
        locality_name=f"{g.loc[loc, 'name']}, {g.loc[loc, 'state']}",
        year=int(year),
        allowed=allowed,
        work_rvu=f(r["work_rvu"]),
        pe_rvu=f(r["pe_rvu"]),
        mp_rvu=f(r["mp_rvu"]),
        gpci_work=f(r["gpci_work"]),
        gpci_pe=f(r["gpci_pe"]),
        gpci_mp=f(r["gpci_mp"]),
        conversion_factor=float(conversion_factor(year, qp)),
        facility=bool(r["medicare_facility"]),
        status=str(r["medicare_status"]),
        reason=str(r["medicare_reason"]),
        units=float(units),
        fee_per_unit=None if r["fee_cents"] < 0 else r["fee_cents"] / 100.0,
        payment_fraction=float(r["fraction"]),
        anesthesia_base_units=f(r["anes_base"]) if r["medicare_status"] == "J" else None,
        anesthesia_time_units=f(r["time_units"])
        if is_anes_minutes or r["medicare_status"] == "J"
        else None,
        anesthesia_cf=f(r["anes_cf"]),
        note=str(r["medicare_note"]),
        vintage=str(r["medicare_vintage"]),
    )


# --- building and importing releases -------------------------------------------------------------


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _source_name(src: str | Path | bytes, given: str | None) -> str:
    """The file name a part is recorded under (the given name, else the path's)."""
    return Path(given or (str(src) if not isinstance(src, bytes) else "<bytes>")).name


def _source_sha256(src: str | Path | bytes) -> str:
    """SHA-256 of a part's bytes or file ("" when neither), for the manifest."""
    import hashlib

    if isinstance(src, bytes):
        return hashlib.sha256(src).hexdigest()
    return _sha256(Path(src)) if Path(src).is_file() else ""


def build_tables(
    pprrvu: str | Path | bytes | None,
    gpci: str | Path | bytes | None,
    anes_cf: str | Path | bytes | None = None,
    *,
    names: dict[str, str] | None = None,
    year: int | None = None,
) -> tuple[pd.DataFrame | None, pd.DataFrame | None, pd.DataFrame | None, dict[str, Any]]:
    """Parse CMS's PPRRVU + GPCI (+ ANES) files into compact tables and a manifest.

    Any part may be missing (None): a year CMS's RVU file is not shipped for still packages its
    GPCIs and anesthesia CFs (``year`` then says which year). Checks the PPRRVU file's CONV FACTOR
    column against :data:`CONVERSION_FACTORS` (QP or non-QP) for its year and refuses a file
    whose CF disagrees (the fix: update the constant with its source). Every part's file name
    and SHA-256 go into the manifest.
    """
    names = names or {}
    rvu, meta = read_pprrvu(pprrvu, names.get("pprrvu")) if pprrvu is not None else (None, None)
    g = read_gpci(gpci, names.get("gpci")) if gpci is not None else None
    anes = read_anesthesia_cf(anes_cf, names.get("anes")) if anes_cf is not None else None
    if meta is not None:
        if meta["year"] is None:
            raise ReferenceError(f"{meta['file']}: title rows do not say the PFS year")
        if year is not None and year != meta["year"]:
            raise ReferenceError(
                f"{meta['file']}: a {meta['year']} RVU file, but the {year} tables were asked for"
            )
        year = meta["year"]
    if year is None:
        raise ReferenceError("build_tables: no PPRRVU file to take the year from; pass year=")
    cfs = meta["conv_factor_values"] if meta is not None else []
    known = {f"{v:.4f}" for (y, _), v in CONVERSION_FACTORS.items() if y == year}
    if meta is not None and known and not set(cfs) <= known:
        raise ReferenceError(
            f"{meta['file']}: CONV FACTOR column {cfs} differs from the {year} CF {sorted(known)} "
            "in oonplaybook.reference.pfs.CONVERSION_FACTORS; update the constant (with its source)"
        )
    if g is not None and g.attrs.get("year") not in (None, year):
        raise ReferenceError(
            f"{_source_name(gpci, names.get('gpci'))}: GPCIs for {g.attrs['year']}, not {year}"
        )
    if anes is not None and g is None and year not in available_years():
        raise ReferenceError(f"{year}: an ANES file needs that year's GPCI file beside it")
    manifest: dict[str, Any] = {
        "year": year,
        "pprrvu": meta,
        "gpci": None
        if g is None
        else {"file": _source_name(gpci, names.get("gpci")), "localities": len(g)},
        "anesthesia_cf": None
        if anes is None
        else {
            "file": _source_name(anes_cf, names.get("anes")),
            "localities": len(anes),
            "national_cf": anes.attrs.get("national_cf"),
        },
        "conversion_factor_file": cfs,
        "conversion_factor_table": {
            f"{y}{' QP' if q else ''}": str(v) for (y, q), v in CONVERSION_FACTORS.items()
        },
    }
    for k, src in (("pprrvu", pprrvu), ("gpci", gpci), ("anesthesia_cf", anes_cf)):
        if src is not None and isinstance(manifest.get(k), dict):
            manifest[k]["sha256"] = _source_sha256(src)
    return rvu, g, anes, manifest


def write_tables(
    folder: Path,
    rvu: pd.DataFrame | None,
    g: pd.DataFrame | None,
    anes: pd.DataFrame | None,
    manifest: dict,
    *,
    packaged: bool,
) -> list[Path]:
    """Write tables in the packaged (``pprrvu_YYYY.parquet``...) or cache (``YYYY/``) layout."""
    year = manifest["year"]
    folder.mkdir(parents=True, exist_ok=True)
    names = (
        {k: v.format(year=year) for k, v in _PACKAGED_NAMES.items()}
        if packaged
        else dict(_CACHED_NAMES)
    )
    mpath = folder / (f"pfs_{year}.json" if packaged else "manifest.json")
    out: list[Path] = []
    for kind, table in (("rvu", rvu), ("gpci", g), ("anes", anes)):
        path = folder / names[kind]
        if table is None:
            continue
        if kind == "rvu":
            table.to_parquet(path, index=False, compression="zstd")
        else:
            table.to_csv(path, index=False, lineterminator="\n")
        out.append(path)
    mpath.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    out.append(mpath)
    _load_tables_cached.cache_clear()
    return out


@dataclass(frozen=True)
class ImportReport:
    """What an imported CMS release changed relative to the tables it replaces."""

    year: int
    folder: str
    release: str
    released: str
    codes: int
    codes_added: list[str]
    codes_removed: list[str]
    localities: int
    conversion_factor_file: list[str]
    previous_conversion_factor: list[str]
    previous_vintage: str
    locco_localities: int = 0
    localities_without_counties: list[str] = field(default_factory=list)
    columns: int = 0  # columns of the PPRRVU layout (31 in 2024/2025, 32 from 2026)
    gpci_source: str = "file"
    warnings: list[str] = field(default_factory=list)


def _find_members(names: list[str]) -> dict[str, str]:
    """Pick CMS's files out of an RVU zip/folder listing (from 2026 CMS ships a non-QP and a QP
    PPRRVU file with the same RVUs and different CONV FACTORs: the non-QP one is read)."""
    pick: dict[str, str] = {}
    rvus = []
    for n in sorted(names):
        base = Path(n).name.upper()
        if not base.endswith((".CSV", ".TXT")):
            continue
        if base.startswith("PPRRVU") and base.endswith(".CSV"):
            rvus.append(n)
        elif base.startswith("GPCI") and base.endswith(".CSV") and "gpci" not in pick:
            pick["gpci"] = n
        elif base.startswith("ANES") and "anes" not in pick:
            pick["anes"] = n
        elif "LOCCO" in base and base.endswith(".CSV") and "locco" not in pick:
            pick["locco"] = n
    if rvus:
        # non-QP first ("_NONQPP" / no QP mark), then a QP-only release
        def is_qp(n: str) -> bool:
            b = Path(n).name.upper()
            return "QPP" in b and "NONQPP" not in b

        rvus.sort(key=lambda n: (is_qp(n), n))
        pick["pprrvu"] = rvus[0]
    return pick


def import_release(path: str | Path, dest: Path | None = None) -> ImportReport:
    """Load a CMS RVU release into the user cache: the rvuYYx.zip, a folder of its CSVs, or the
    PPRRVU CSV alone (then the installed GPCIs of its year are used, e.g. the packaged 2026 ones).

    Columns are found by their header text, so the 2024/2025 (31-column) and 2026 (32-column,
    ``PRIC IND``) layouts both load. Validates the layout (raises :class:`ReferenceError` naming
    the file and the fix) and reports codes added/removed and the CF change against the tables
    it supersedes.
    """
    import zipfile

    path = Path(path)
    blobs: dict[str, bytes] = {}
    names: dict[str, str] = {}
    if path.is_file() and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            found = _find_members(z.namelist())
            for k, member in found.items():
                blobs[k], names[k] = z.read(member), f"{path.name}:{member}"
    elif path.is_dir():
        found = _find_members([str(p) for p in path.iterdir()])
        for k, member in found.items():
            blobs[k], names[k] = Path(member).read_bytes(), member
    elif path.is_file() and path.suffix.lower() in (".csv", ".txt"):
        blobs["pprrvu"], names["pprrvu"] = path.read_bytes(), str(path)
    elif path.is_file():
        raise ReferenceError(
            f"{path}: not a zip, folder or CSV; pass CMS's rvuYYx.zip, the folder holding its "
            "CSVs, or its PPRRVUyyyy_*.csv"
        )
    else:
        raise ReferenceError(f"{path}: not found")
    if "pprrvu" not in blobs:
        raise ReferenceError(
            f"{path}: no PPRRVU*.csv inside; CMS's RVU zip holds PPRRVUyyyy_*.csv and GPCIyyyy.csv"
        )
    rvu, g, anes, manifest = build_tables(
        blobs["pprrvu"], blobs.get("gpci"), blobs.get("anes"), names=names
    )
    year = manifest["year"]
    if g is None and year not in available_years():
        raise ReferenceError(
            f"{path}: a {year} RVU file without GPCIs and no {year} GPCIs installed; import CMS's "
            f"whole rvu{str(year)[2:]}a.zip (it holds GPCI{year}.csv)"
        )
    previous = None
    if year in available_years():
        previous = load_tables(year)
    elif available_years():
        previous = load_tables(_nearest(year, available_years()))
    root = dest if dest is not None else cache_dir()
    folder = root / "reference" / str(year)
    locco_n, uncovered = 0, []
    gpci_locs = set(g["locality"]) if g is not None else set(load_tables(year).gpci["locality"])
    if "locco" in blobs:
        locco = read_locco(blobs["locco"], names["locco"])
        locco_n = len(locco)
        uncovered = sorted(gpci_locs - set(locco["locality"]))
        manifest["locco"] = {
            "file": names["locco"],
            "localities": locco_n,
            "duplicates_dropped": locco.attrs.get("duplicates", []),
        }
    write_tables(folder, rvu, g, anes, manifest, packaged=False)
    if "locco" in blobs:
        locco.to_csv(folder / "locco.csv", index=False, lineterminator="\n")
    if rvu is None:  # unreachable: a PPRRVU member was found above
        raise ReferenceError(f"{path}: no PPRRVU table read")
    new_codes = set(rvu["hcpcs"])
    old_codes = set(previous.rvu["hcpcs"]) if previous is not None else set()
    return ImportReport(
        year=year,
        folder=str(folder),
        release=manifest["pprrvu"]["release"],
        released=manifest["pprrvu"]["released"],
        codes=len(new_codes),
        codes_added=sorted(new_codes - old_codes),
        codes_removed=sorted(old_codes - new_codes) if previous is not None else [],
        localities=len(gpci_locs),
        conversion_factor_file=manifest["conversion_factor_file"],
        previous_conversion_factor=previous.manifest.get("conversion_factor_file", [])
        if previous
        else [],
        previous_vintage=previous.vintage if previous else "",
        locco_localities=locco_n,
        localities_without_counties=uncovered,
        columns=int(manifest["pprrvu"].get("columns", 0)),
        gpci_source="file" if g is not None else f"installed {year} GPCIs",
        warnings=[
            f"only {len(new_codes):,} codes ({len(old_codes):,} before): an excerpt, not CMS's "
            f"full national file? Codes it lacks are now unpriced for {year}"
        ]
        if old_codes and len(new_codes) < len(old_codes) // 2
        else [],
    )
