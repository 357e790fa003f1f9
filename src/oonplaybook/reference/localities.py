"""Medicare localities: the MAC-locality form, the LOCCO county crosswalk, ZIP to locality.

This is the lower module of ``reference``: it holds :class:`ReferenceError` and
:func:`normalize_locality`, which ``reference.pfs`` imports (never the other way round).

CMS locality/county crosswalk (the LOCCO file, ``YYLOCCO.csv`` in the RVU zip).

CMS ships it as a report, not a table: a title row, blank spacer rows, the state written only on
the first row of its group, ``*`` footnote marks on names ("REST OF STATE*": locality serviced by
two MACs), quoted county lists, trailing spaces and, in some years, a duplicated row (2017: MO 99).
:func:`read_locco` turns it into one row per MAC-locality; :func:`county_locality` answers "which
Medicare locality is this county in" (a named county wins over "ALL OTHER COUNTIES").
"""

from __future__ import annotations

import csv
import functools
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

_LOCALITY_RE = re.compile(r"^\s*(\d{3,5})\s*[-/ ]?\s*(\d{1,2})\s*$")
_LOCALITY_SEP_RE = re.compile(r"^\s*(\d{3,5})\s*[-/ ]\s*(\d{1,2})\s*$")


class ReferenceError(ValueError):
    """A reference file or lookup is invalid; the message names the place and the fix."""


def normalize_locality(value: str, strict_separator: bool = False) -> str:
    """Return the canonical ``"CCCCC-LL"`` form of a MAC-locality (accepts unpadded forms)."""
    pat = _LOCALITY_SEP_RE if strict_separator else _LOCALITY_RE
    m = pat.match(str(value))
    if not m:
        raise ReferenceError(
            f"locality {value!r} is not a MAC-locality; write it as MAC-LOC, e.g. 13202-01"
        )
    return f"{int(m.group(1)):05d}-{int(m.group(2)):02d}"


#: USPS codes for the state names CMS writes in LOCCO (incl. territories CMS prices).
STATE_CODES: dict[str, str] = {
    "ALABAMA": "AL", "ALASKA": "AK", "ARIZONA": "AZ", "ARKANSAS": "AR", "CALIFORNIA": "CA",
    "COLORADO": "CO", "CONNECTICUT": "CT", "DELAWARE": "DE", "DISTRICT OF COLUMBIA": "DC",
    "FLORIDA": "FL", "GEORGIA": "GA", "HAWAII": "HI", "HAWAII/GUAM": "HI", "IDAHO": "ID",
    "ILLINOIS": "IL", "INDIANA": "IN", "IOWA": "IA", "KANSAS": "KS", "KENTUCKY": "KY",
    "LOUISIANA": "LA", "MAINE": "ME", "MARYLAND": "MD", "MASSACHUSETTS": "MA", "MICHIGAN": "MI",
    "MINNESOTA": "MN", "MISSISSIPPI": "MS", "MISSOURI": "MO", "MONTANA": "MT", "NEBRASKA": "NE",
    "NEVADA": "NV", "NEW HAMPSHIRE": "NH", "NEW JERSEY": "NJ", "NEW MEXICO": "NM", "NEW YORK": "NY",
    "NORTH CAROLINA": "NC", "NORTH DAKOTA": "ND", "OHIO": "OH", "OKLAHOMA": "OK", "OREGON": "OR",
    "PENNSYLVANIA": "PA", "PUERTO RICO": "PR", "RHODE ISLAND": "RI", "SOUTH CAROLINA": "SC",
    "SOUTH DAKOTA": "SD", "TENNESSEE": "TN", "TEXAS": "TX", "UTAH": "UT", "VERMONT": "VT",
    "VIRGIN ISLANDS": "VI", "VIRGINIA": "VA", "WASHINGTON": "WA", "WEST VIRGINIA": "WV",
    "WISCONSIN": "WI", "WYOMING": "WY", "GUAM": "GU",
}  # fmt: skip

LOCCO_COLUMNS = [
    "locality",
    "mac",
    "locality_number",
    "state",
    "state_name",
    "fee_schedule_area",
    "counties",
    "footnote",
    "source_row",
]


def _clean(cell: str) -> str:
    return " ".join(cell.replace("\u00a0", " ").split())


def read_locco(source: str | Path | bytes, name: str | None = None) -> pd.DataFrame:
    """Parse a CMS LOCCO file (tab or comma separated) into one row per MAC-locality.

    Exact duplicate rows are dropped and listed in ``df.attrs["duplicates"]`` (never silently);
    a locality listed twice with *different* content raises :class:`ReferenceError`.
    """
    if isinstance(source, bytes):
        text, fname = source.decode("utf-8-sig", errors="replace"), name or "<bytes>"
    else:
        fname = name or str(source)
        text = Path(source).read_bytes().decode("utf-8-sig", errors="replace")
    dialect = "excel-tab" if text.count("\t") > text.count(",") else "excel"
    rows = list(csv.reader(io.StringIO(text), dialect=dialect))
    hdr = next(
        (
            i
            for i, r in enumerate(rows)
            if r and re.search(r"(CARRIER|CONTRACTOR|MAC)", r[0], re.I) and len(r) >= 5
        ),
        None,
    )
    if hdr is None:
        raise ReferenceError(
            f"{fname}: no header row starting 'Carrier Number' / 'Medicare Administrative "
            "Contractor'; expected CMS's LOCCO layout (MAC, locality, state, area, counties)"
        )
    recs: list[dict[str, object]] = []
    state_name = ""
    for i, r in enumerate(rows[hdr + 1 :], start=hdr + 2):
        cells = [_clean(c) for c in r] + [""] * 5
        if not cells[0].isdigit():
            continue  # spacer rows and footnotes ("* Payment locality is serviced by two carriers.")
        if cells[2]:
            state_name = cells[2].rstrip("*").strip().upper()
        if not state_name:
            raise ReferenceError(f"{fname}: row {i}: no state on this row or any row above it")
        area_raw = cells[3]
        recs.append(
            {
                "locality": normalize_locality(f"{cells[0]}-{cells[1]}"),
                "mac": f"{int(cells[0]):05d}",
                "locality_number": f"{int(cells[1]):02d}",
                "state": STATE_CODES.get(state_name, ""),
                "state_name": state_name,
                "fee_schedule_area": area_raw.rstrip("*").strip(),
                "counties": cells[4],
                "footnote": area_raw.endswith("*"),
                "source_row": i,
            }
        )
    if not recs:
        raise ReferenceError(f"{fname}: no locality rows below the header (row {hdr + 1})")
    df = pd.DataFrame(recs, columns=LOCCO_COLUMNS)
    unknown = df.loc[df["state"] == "", "state_name"].unique().tolist()
    if unknown:
        raise ReferenceError(f"{fname}: unknown state name(s) {unknown}; add them to STATE_CODES")
    content = ["locality", "state", "fee_schedule_area", "counties"]
    dup = df.duplicated(content)
    dropped = df.loc[dup, ["locality", "source_row"]].to_dict("records")
    df = df.loc[~dup]
    clash = df["locality"].duplicated(keep=False)
    # the same MAC-locality legitimately covers two fee-schedule areas only if CMS says so; the
    # rest-of-state rows serviced by two carriers differ in MAC, not in locality number
    if clash.any():
        bad = df.loc[clash].sort_values("locality")
        first = bad.iloc[0]
        raise ReferenceError(
            f"{fname}: locality {first['locality']} appears on rows "
            f"{bad.loc[bad['locality'] == first['locality'], 'source_row'].tolist()} with different "
            "content; fix the file or keep one row"
        )
    df = df.sort_values("locality").reset_index(drop=True)
    df.attrs["duplicates"] = dropped
    return df


def county_locality(locco: pd.DataFrame, state: str, county: str) -> str | None:
    """The MAC-locality whose county list names ``county`` in ``state`` (else the state's rest).

    Returns None when the state is not in the table.
    """
    rows = locco[locco["state"] == state.upper()]
    if rows.empty:
        return None
    want = county.strip().upper().removesuffix(" COUNTY")
    for loc, counties in zip(rows["locality"], rows["counties"], strict=True):
        names = {
            c.strip().removesuffix(" CNTY")
            for c in re.split(r",|;| AND ", counties.upper())
            if c.strip()
        }
        if want in names:
            return str(loc)
    fallback = rows[rows["counties"].str.upper().str.startswith("ALL ")]
    return str(fallback["locality"].iloc[0]) if not fallback.empty else None


# --- ZIP code to Medicare locality (CMS's ZIP5 file) -------------------------------------------

#: CMS ZIP5 record (``ZIP5lyout.txt``; 1-based, inclusive): state 1-2, ZIP 3-7, carrier (MAC)
#: 8-12, pricing locality 13-14, rural indicator 15 (blank urban, R rural, B super rural), lab CB
#: locality 16-17, plus-four flag 21 (1 = the ZIP spans localities: only the ZIP9 file places
#: it), Part B payment indicator 23, year/quarter 76-80.
ZIP5_FIELDS: dict[str, tuple[int, int]] = {
    "zip_state": (1, 2),
    "zip": (3, 7),
    "mac": (8, 12),
    "locality_number": (13, 14),
    "rural": (15, 15),
    "lab_cb_locality": (16, 17),
    "plus4_flag": (21, 21),
    "part_b_indicator": (23, 23),
    "year_quarter": (76, 80),
}
#: CMS writes Kansas and Missouri as pseudo-states split between two MACs (ZIP5 file).
ZIP5_PSEUDO_STATES: dict[str, str] = {"EK": "KS", "WK": "KS", "EM": "MO", "WM": "MO"}
ZIP5_COLUMNS = ["zip", "locality", "state", "zip_state", "rural", "needs_zip9", "year_quarter"]
ZIP5_PACKAGED = "zip5_locality.parquet"


def read_zip5(source: str | Path | bytes, name: str | None = None) -> pd.DataFrame:
    """Parse CMS's fixed-width ZIP5 file into one row per ZIP (``ZIP5_COLUMNS``).

    ``needs_zip9`` is True where CMS's plus-four flag says the ZIP is split between localities
    (its locality here is CMS's default, never to be used without the ZIP+4). Raises
    :class:`ReferenceError` naming the file and line of a record that is not CMS's layout.
    """
    if isinstance(source, bytes):
        raw, fname = source, name or "<bytes>"
    else:
        raw, fname = Path(source).read_bytes(), name or str(source)
    lines = raw.decode("ascii", errors="replace").replace("\x1a", "").splitlines()
    recs: dict[str, list[str]] = {k: [] for k in ZIP5_FIELDS}
    for i, ln in enumerate(lines, start=1):
        if not ln.strip():
            continue
        if len(ln) < 80 or not ln[2:14].isdigit():
            raise ReferenceError(
                f"{fname}: line {i}: not a CMS ZIP5 record (80 characters: state 1-2, ZIP 3-7, "
                "carrier 8-12, locality 13-14; see ZIP5lyout.txt)"
            )
        for k, (a, b) in ZIP5_FIELDS.items():
            recs[k].append(ln[a - 1 : b].strip())
    if not recs["zip"]:
        raise ReferenceError(f"{fname}: no ZIP5 records")
    df = pd.DataFrame(recs)
    df["locality"] = df["mac"] + "-" + df["locality_number"]
    df["state"] = df["zip_state"].map(lambda s: ZIP5_PSEUDO_STATES.get(s, s))
    df["needs_zip9"] = df["plus4_flag"] == "1"
    dup = df["zip"].duplicated()
    if dup.any():
        raise ReferenceError(f"{fname}: ZIP {df.loc[dup, 'zip'].iloc[0]} listed twice")
    df = df.sort_values("zip").reset_index(drop=True)[ZIP5_COLUMNS]
    for c in ZIP5_COLUMNS:
        if c != "needs_zip9":
            df[c] = df[c].astype("str")
    return df


def write_zip5(folder: Path, table: pd.DataFrame, source: Path) -> list[Path]:
    """Write the packaged ZIP table (parquet, dictionary-encoded) and its manifest (SHA-256)."""
    import hashlib
    import json

    folder.mkdir(parents=True, exist_ok=True)
    path, mpath = folder / ZIP5_PACKAGED, folder / "zip5_locality.json"
    table.to_parquet(path, index=False, compression="zstd")
    quarters = sorted(set(table["year_quarter"]))
    manifest = {
        "file": source.name,
        "sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
        "zips": len(table),
        "needs_zip9": int(table["needs_zip9"].sum()),
        "year_quarter": quarters,
        "localities": int(table["locality"].nunique()),
    }
    mpath.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    load_zip5.cache_clear()
    return [path, mpath]


@functools.lru_cache(maxsize=1)
def load_zip5() -> pd.DataFrame:
    """The packaged ZIP-to-locality table (CMS ZIP5 file), indexed by 5-digit ZIP."""
    from importlib import resources

    data = resources.files("oonplaybook.reference") / "data"
    with resources.as_file(data / ZIP5_PACKAGED) as p:
        return pd.read_parquet(p).set_index("zip")


def zip5_vintage() -> dict[str, object]:
    """The packaged ZIP5 table's manifest: CMS file name, SHA-256, YYYYQ, row counts."""
    import json
    from importlib import resources

    mpath = resources.files("oonplaybook.reference") / "data" / "zip5_locality.json"
    return json.loads(mpath.read_text()) if mpath.is_file() else {}


def zip_localities(zips: pd.Series) -> pd.DataFrame:
    """MAC-locality of each ZIP (5 digits, or ZIP+4 written 12345-6789 / 123456789).

    Returns, indexed like ``zips``: ``locality`` ("" when not resolved), ``zip5`` and
    ``zip_status``: "" when resolved, else why not: blank, malformed, not in CMS's file, or
    "needs ZIP9" (CMS splits that ZIP between localities; it is flagged, never guessed).
    Vectorised: each distinct value is looked up once.
    """
    s = zips.astype("str").fillna("").str.strip()
    uniq = pd.unique(s)
    z5 = pd.Series(uniq).str.extract(r"^(\d{5})(?:-?\d{4})?$")[0].fillna("")
    tab = load_zip5()
    got = tab.reindex(z5.to_numpy())
    loc = got["locality"].fillna("").to_numpy(dtype=object)
    needs9 = got["needs_zip9"].fillna(False).to_numpy(dtype=bool)
    status = np.full(len(uniq), "", dtype=object)
    blank = np.array([u in ("", "nan", "None", "<NA>") for u in uniq])
    status[(z5 == "").to_numpy() & ~blank] = "ZIP is not 5 digits (or ZIP+4)"
    status[blank] = "no ZIP"
    status[(z5 != "").to_numpy() & (loc == "")] = "ZIP not in CMS's ZIP5 file"
    status[needs9] = "ZIP needs ZIP9 (CMS splits it between localities); not guessed"
    loc[status != ""] = ""
    per = pd.DataFrame(
        {
            "locality": loc.astype(str),
            "zip5": z5.to_numpy(dtype=str),
            "zip_status": status.astype(str),
        },
        index=uniq,
    )
    out = per.reindex(s.to_numpy())
    out.index = zips.index
    return out


def fill_localities_from_zip(
    locality: pd.Series, zips: pd.Series | None, default: str | None = None
) -> pd.DataFrame:
    """Each line's MAC-locality: its own, else its service-facility ZIP's, else ``default``.

    Returns ``locality`` (the line's value, the ZIP's locality, or "" so the pricer's default
    applies) and ``locality_source`` saying which, e.g. "line", "ZIP 10001 (CMS ZIP5 20254)",
    "default 13202-01 (ZIP 01434: ZIP needs ZIP9 ...; not guessed)". A ZIP CMS splits between
    localities is never resolved from ZIP5 alone. Each distinct (locality, ZIP) pair is
    resolved once (1M lines in a fraction of a second).
    """
    n = len(locality)
    c_loc, u_loc = pd.factorize(locality.astype("str").fillna(""), use_na_sentinel=False)
    if zips is not None:
        c_zip, u_zip = pd.factorize(zips.astype("str").fillna(""), use_na_sentinel=False)
    else:
        c_zip, u_zip = np.zeros(n, dtype="int64"), np.array([""], dtype=object)
    combined = c_loc.astype("int64") * len(u_zip) + c_zip
    uniq, inv = np.unique(combined, return_inverse=True)
    pair_loc = pd.Series(
        np.asarray(u_loc, dtype=object)[uniq // len(u_zip)], dtype="str"
    ).str.strip()
    pair_loc = pair_loc.where(~pair_loc.isin(["nan", "None", "<NA>"]), "")
    pair_zip = pd.Series(np.asarray(u_zip, dtype=object)[uniq % len(u_zip)], dtype="str")
    have = (pair_loc != "").to_numpy()
    out_loc = pair_loc.to_numpy(dtype=object).copy()
    dflt = f"default {default}" if default else "no locality"
    src = np.where(have, "line", dflt).astype(object)
    if zips is not None and (~have).any():
        z = zip_localities(pair_zip[~have])
        quarter = ",".join(zip5_vintage().get("year_quarter", [])) or "?"
        idx = np.flatnonzero(~have)
        ok = (z["locality"] != "").to_numpy()
        out_loc[idx[ok]] = z["locality"].to_numpy()[ok]
        src[idx[ok]] = ("ZIP " + z["zip5"] + f" (CMS ZIP5 {quarter})").to_numpy()[ok]
        bad = ~ok & (z["zip_status"] != "no ZIP").to_numpy()
        src[idx[bad]] = (
            dflt + " (ZIP " + z["zip5"].where(z["zip5"] != "", "?") + ": " + z["zip_status"] + ")"
        ).to_numpy()[bad]
    return pd.DataFrame(
        {
            "locality": pd.array(out_loc.astype(str), dtype="str").take(inv),
            "locality_source": pd.array(src.astype(str), dtype="str").take(inv),
        },
        index=locality.index,
    )
