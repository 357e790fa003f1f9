"""CSV/Excel practice-management exports -> canonical claim lines, driven by YAML mapping profiles.

A mapping profile (``ingest/mappings/*.yaml``, or a user's YAML file) lists, for each canonical
column, the export headers that carry it; the date formats the export uses; the PHI columns that
become ``patient_key`` (and are then dropped); and how the export's status words map to
:data:`schema.CLAIM_STATUSES`. Header matching ignores case, spaces and punctuation.

``mapping="auto"`` tries every shipped profile on each of the first rows (exports often have
title rows) and picks the profile and header row that match the most columns while covering the
required ones; the report names the chosen profile and every ignored column. Cells are read as
text, so ``00100`` stays ``00100``. Money accepts ``$1,234.50``, ``(12.00)`` and ``12.00-``.
A row that cannot be mapped goes to rejects with its row number and every problem found; the
rest of the file is kept. Rows that carry outcome columns (allowed, paid or status) are claim
lines with an outcome on their own; rows without are the billed side (status "pending").
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from oonplaybook import schema
from oonplaybook.ingest.errors import IngestError, MappingError
from oonplaybook.ingest.identity import _hmac16, identity_key
from oonplaybook.ingest.x12_tokens import (
    DATE_MAX_YEAR,
    DATE_MIN_YEAR,
    MAX_AMOUNT_DOLLARS,
    MAX_QUANTITY,
    TWO_DIGIT_YEAR_PIVOT,
    two_digit_year,
)
from oonplaybook.ingest.x12_tokens import decode as decode_bytes

#: Columns a row must map to for the file to be a claim export at all.
REQUIRED = ("claim_id", "cpt", "service_date")
#: Outcome columns: their presence makes each row a claim line with an adjudication.
OUTCOME = ("allowed", "paid", "claim_status")
MONEY = ("billed", "allowed", "paid", "patient_resp", "qpa", "gfe_amount")
DATES = ("service_date", "submitted_date", "remit_date")
FLAGS = ("emergency", "facility_in_network", "air_ambulance", "notice_consent")
#: Formats tried after the profile's own (Excel cells arrive as ISO timestamps).
ALWAYS_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d")
HEADER_SCAN_ROWS = 25

_TRUE = frozenset({"Y", "YES", "TRUE", "T", "1", "X"})
_FALSE = frozenset({"N", "NO", "FALSE", "F", "0", ""})
_CODE = re.compile(r"^[0-9A-Z]{5}$")
_LOCALITY = re.compile(r"^(\d{5})-(\d{1,2})$")
_AMOUNT = re.compile(r"^-?(?:[0-9]+(?:\.[0-9]{0,2})?|\.[0-9]{1,2})$")

#: Free-text plan funding labels -> schema.PLAN_TYPES (keys normalised like headers).
PLAN_TYPE_WORDS: dict[str, str] = {
    **{p: p for p in schema.PLAN_TYPES},
    "fully_insured_plan": "fully_insured",
    "insured": "fully_insured",
    "fi": "fully_insured",
    "commercial_fully_insured": "fully_insured",
    "erisa": "self_funded_erisa",
    "self_funded": "self_funded_erisa",
    "aso": "self_funded_erisa",
    "self_insured": "self_funded_erisa",
    "non_erisa": "self_funded_non_erisa",
    "church_plan": "self_funded_non_erisa",
    "government_plan": "self_funded_non_erisa",
    "ma": "medicare_advantage",
    "medicare_advantage_plan": "medicare_advantage",
    "medicaid": "medicaid_managed_care",
    "medicaid_mco": "medicaid_managed_care",
    "mco": "medicaid_managed_care",
    "self_pay_uninsured": "self_pay",
    "uninsured": "self_pay",
    "selfpay": "self_pay",
    "": "unknown",
}


def norm_header(h: object) -> str:
    """Header key: lower case, runs of non-alphanumerics to one underscore ("Claim #" -> "claim")."""
    return re.sub(r"[^a-z0-9]+", "_", str(h).lower()).strip("_")


@dataclass(frozen=True)
class Mapping:
    """A tabular mapping profile (see module docstring)."""

    name: str
    description: str
    date_formats: tuple[str, ...]
    columns: dict[str, tuple[str, ...]]
    phi: dict[str, tuple[str, ...]]
    status_values: dict[str, str] = field(default_factory=dict)  # upper word -> status
    origin: str = ""

    def lookup(self) -> dict[str, tuple[str, str]]:
        """Normalised header -> (kind, target) with kind "col" or "phi"."""
        out: dict[str, tuple[str, str]] = {}
        for target, aliases in self.phi.items():
            for a in aliases:
                out.setdefault(norm_header(a), ("phi", target))
        for target, aliases in self.columns.items():
            for a in aliases:
                out.setdefault(norm_header(a), ("col", target))
        return out


def _parse_mapping(data: Any, origin: str) -> Mapping:
    """Validate a mapping YAML document into a :class:`Mapping`."""
    if not isinstance(data, dict) or "columns" not in data:
        raise MappingError(f"{origin}: a mapping YAML needs a 'columns:' section")
    cols = data["columns"]
    if not isinstance(cols, dict):
        raise MappingError(f"{origin}: 'columns' must map canonical names to header lists")
    known = set(schema.CLAIM_LINE_COLUMNS) | {"line_control"}
    bad = sorted(set(cols) - known)
    if bad:
        raise MappingError(
            f"{origin}: unknown canonical column(s) {bad}; use names from schema.CLAIM_LINE_COLUMNS"
        )
    status: dict[str, str] = {}
    for st, words in (data.get("status_values") or {}).items():
        if st not in schema.CLAIM_STATUSES:
            raise MappingError(
                f"{origin}: status_values key {st!r} is not one of {schema.CLAIM_STATUSES}"
            )
        for w in words or []:
            status[str(w).strip().upper()] = st

    def aliases(v: Any) -> tuple[str, ...]:
        return tuple(str(x) for x in (v if isinstance(v, list) else [v]))

    return Mapping(
        name=str(data.get("name") or Path(origin).stem),
        description=str(data.get("description", "")),
        date_formats=tuple(data.get("date_formats") or ("%Y-%m-%d", "%m/%d/%Y")),
        columns={k: aliases(v) for k, v in cols.items()},
        phi={k: aliases(v) for k, v in (data.get("phi") or {}).items()},
        status_values=status,
        origin=origin,
    )


def builtin_mappings() -> dict[str, Mapping]:
    """The shipped profiles by name (sorted, ``generic`` first in ties)."""
    out: dict[str, Mapping] = {}
    folder = resources.files("oonplaybook.ingest") / "mappings"
    for f in sorted(folder.iterdir(), key=lambda p: p.name):
        if f.name.endswith(".yaml"):
            m = _parse_mapping(yaml.safe_load(f.read_text()), f"mappings/{f.name}")
            out[m.name] = m
    return out


#: The broad synonym table of PM report headers: tried last, so a profile written for one
#: layout wins a tie (both recognising every column).
SYNONYM_PROFILE = "pm_reports"


def auto_order(mappings: Any) -> list[Mapping]:
    """Profiles in the order ``mapping: auto`` tries them (the synonym table last)."""
    return sorted(mappings, key=lambda m: (m.name == SYNONYM_PROFILE, m.name))


def load_mapping(name_or_path: str, base: Path | None = None) -> Mapping:
    """A shipped profile by name, or a YAML file path (relative to ``base``)."""
    shipped = builtin_mappings()
    if name_or_path in shipped:
        return shipped[name_or_path]
    p = Path(name_or_path)
    if not p.is_absolute() and base is not None:
        p = base / p
    if p.suffix in (".yaml", ".yml") and p.is_file():
        try:
            data = yaml.safe_load(p.read_text())
        except yaml.YAMLError as e:
            raise MappingError(f"{p}: not valid YAML ({e}); fix the mapping file") from None
        return _parse_mapping(data, str(p))
    raise MappingError(
        f"mapping {name_or_path!r} is neither a shipped profile {sorted(shipped)} nor a YAML "
        "file; give --mapping NAME or a path to a mapping YAML"
    )


# --- raw reading ------------------------------------------------------------------------------


#: Delimiters an export may use, in order of preference when two fit equally well.
DELIMITERS = (",", ";", "\t", "|")
#: Rows read to choose the delimiter (title rows, the header and the first data rows).
SNIFF_ROWS = 60
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")


@dataclass(frozen=True)
class TextLayout:
    """How an export's bytes were read: its encoding, delimiter and quote character."""

    encoding: str
    delimiter: str
    quotechar: str = '"'
    mixed_lines: tuple[int, ...] = ()  # 1-based lines read as cp1252 in an otherwise UTF-8 file


def decode_export(data: bytes, name: str) -> tuple[str, str, tuple[int, ...]]:
    """(text, encoding, cp1252 lines) of a CSV export: BOM, else UTF-8 if valid, else cp1252.

    A file that is UTF-8 except a few lines (an export appended to by another tool) is read
    line by line, so neither part is turned into mojibake ("Société" never becomes
    "SociÃ©tÃ©"); the report names the lines read as cp1252. No byte becomes U+FFFD."""
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise IngestError(
            f"{name}: binary content (NUL bytes); not a CSV export. Export as CSV or XLSX"
        )
    text, enc = decode_bytes(data)
    if not enc.startswith("cp1252") or not _UTF8_MULTIBYTE.search(data):
        return text, enc, ()
    parts: list[str] = []
    odd: list[int] = []
    for i, raw in enumerate(data.splitlines(keepends=True), start=1):
        try:
            parts.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            parts.append(decode_bytes(raw)[0])
            odd.append(i)
    return "".join(parts), "utf-8 with cp1252 lines", tuple(odd)


def sniff_delimiter(text: str) -> str:
    """The delimiter (, ; tab |) of an export: see :func:`sniff_layout`."""
    return sniff_layout(text)[0]


def sniff_layout(text: str) -> tuple[str, str]:
    """(delimiter, quote character) giving the most rows of one consistent width (at least 2).

    Each candidate (, ; tab | with " or ' quoting) splits the first rows with the csv module
    (so quoted cells count once); the width most rows share wins, then the wider one (a ";"
    file whose names hold one comma splits every row in two on commas, in ten on ";"), then
    the usual double quote. csv.Sniffer guesses from character frequencies and picked "," for
    such files."""
    head = text.splitlines()[:SNIFF_ROWS]
    best, best_score = (",", '"'), (0, 0, 0)
    for q in ('"', "'"):
        for d in DELIMITERS:
            rows = csv.reader(head, delimiter=d, quotechar=q)
            widths = [len(r) for r in rows if any(c.strip() for c in r)]
            if not widths:
                continue
            counts: dict[int, int] = {}
            for w in widths:
                counts[w] = counts.get(w, 0) + 1
            width, n = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
            score = (n, width, int(q == '"')) if width >= 2 else (0, 0, 0)
            if score > best_score:
                best, best_score = (d, q), score
    return best


def csv_rows(text: str, delim: str, quote: str = '"') -> list[list[str]]:
    """All rows of a CSV text split on ``delim``, cells quoted with ``quote``."""
    return [row for row in csv.reader(io.StringIO(text), delimiter=delim, quotechar=quote)]


def read_raw(data: bytes, name: str, kind: str) -> tuple[list[list[str]], TextLayout]:
    """Rows of text cells from a CSV or XLSX file (first sheet), and how they were read."""
    if kind == "xlsx":
        try:
            df = pd.read_excel(io.BytesIO(data), header=None, dtype=str, sheet_name=0)
        except Exception as e:  # openpyxl raises many types on a damaged workbook
            raise IngestError(
                f"{name}: cannot open the workbook ({type(e).__name__}: {e}); "
                "re-save it as .xlsx or export CSV"
            ) from None
        return df.fillna("").astype("str").to_numpy().tolist(), TextLayout("xlsx", "")
    text, enc, odd = decode_export(data, name)
    delim, quote = sniff_layout(text)
    return csv_rows(text, delim, quote), TextLayout(enc, delim, quote, odd)


# --- header detection -------------------------------------------------------------------------


@dataclass
class HeaderMatch:
    """How one profile matches one candidate header row."""

    mapping: Mapping
    row: int
    matched: dict[int, tuple[str, str]]  # column index -> (kind, target)
    missing: list[str]
    header: list[str] = field(default_factory=list)

    @property
    def score(self) -> int:
        """Number of header cells this profile recognises."""
        return len(self.matched)


def _match(m: Mapping, header: list[str], row: int) -> HeaderMatch:
    """How profile ``m`` matches the header row ``header``."""
    lk = m.lookup()
    matched: dict[int, tuple[str, str]] = {}
    for i, h in enumerate(header):
        hit = lk.get(norm_header(h))
        if hit:
            matched[i] = hit
    targets = {t for k, t in matched.values() if k == "col"}
    accounts = any(k == "phi" and t == "account" for k, t in matched.values())
    # no claim-number column: a patient account column keys the claims (account + DOS + ...)
    missing = [c for c in REQUIRED if c not in targets and not (c == "claim_id" and accounts)]
    return HeaderMatch(m, row, matched, missing)


def detect_header(rows: list[list[str]], mappings: list[Mapping], name: str) -> HeaderMatch:
    """The (profile, header row) recognising the most columns among those covering REQUIRED."""
    best: HeaderMatch | None = None
    nearest: HeaderMatch | None = None
    for r, header in enumerate(rows[:HEADER_SCAN_ROWS]):
        if not any(str(c).strip() for c in header):
            continue
        for m in mappings:
            hm = _match(m, header, r)
            if not hm.missing and (best is None or hm.score > best.score):
                best = hm
            if nearest is None or (len(hm.missing), -hm.score) < (
                len(nearest.missing),
                -nearest.score,
            ):
                nearest = hm
    if best is not None:
        return best
    if not rows:
        raise MappingError(f"{name}: the file has no rows; expected a claim export with a header")
    hint = ""
    if nearest is not None and nearest.score:
        hint = (
            f" Closest: profile {nearest.mapping.name!r} on row {nearest.row + 1} lacks "
            f"{nearest.missing}."
        )
    raise MappingError(
        f"{name}: not a known tabular layout: no mapping profile "
        f"({', '.join(m.name for m in mappings)}) finds the required columns {list(REQUIRED)} "
        f"in the first {HEADER_SCAN_ROWS} rows.{hint} Fix: pass --mapping with a YAML profile "
        "listing this export's headers (see ingest/mappings/generic.yaml)."
    )


# --- cell conversion (vectorised) ----------------------------------------------------------------


#: Python's ``\s`` (str.isspace) spelled out for RE2, so pyarrow's regex kernels strip the same
#: characters the Python ``re`` module would (RE2's own ``\s`` is ASCII only).
_WS = r"\s\x0b\x1c-\x1f\x85\xa0\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}"


def _re_sub(s: pd.Series, pattern: str, repl: str) -> pd.Series:
    """``s.str.replace(pattern, repl, regex=True)`` in pyarrow (RE2): pandas 3 runs Python ``re``
    per cell for these patterns (~1 s per 300k cells)."""
    arr = pa.array(s.astype("str"), type=pa.large_string())
    out = pc.replace_substring_regex(arr, pattern=pattern, replacement=repl)
    return pd.Series(out, index=s.index, dtype="str")


def parse_money(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Dollars from '$1,234.50', '(12.00)', '12.00-', '-5'; returns (values, bad mask). Empty=NaN.

    Strict: ASCII digits only (full-width or superscript digits are refused, not NaN), no
    exponent, inf or NaN, at most 2 decimals, at most ±$10,000,000 (the X12 reader's bound)."""
    t = s.astype("str").str.strip()
    neg_paren = t.str.match(r"^\(.*\)$")
    neg_trail = t.str.match(r"^[^-].*-$")
    bare = _re_sub(t, rf"[$(){_WS}]", "")
    # a comma must be a thousands separator ("1,234.50"); "12,00" (decimal comma) is refused
    comma_ok = ~bare.str.contains(",", regex=False) | bare.str.fullmatch(
        r"-?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?-?"
    )
    core = bare.str.replace(",", "", regex=False)
    core = core.where(~neg_trail, core.str[:-1])
    empty = core.eq("")
    ok = (empty | core.str.fullmatch(_AMOUNT.pattern.strip("^$"))) & comma_ok
    vals = pd.to_numeric(core.where(ok & ~empty), errors="coerce").astype("float64")
    ok = ok & ~(vals.abs() > MAX_AMOUNT_DOLLARS)
    vals = vals.where(ok)
    vals = vals.where(~(neg_paren | neg_trail), -vals)
    return vals, ~ok


def parse_units(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Units/minutes as floats (empty = 1); returns (values, bad mask).

    A plain ASCII decimal within ±999,999 (the X12 reader's quantity bound): ``1e309``, ``inf``,
    ``NaN``, full-width or superscript digits are refused, never read as inf or 1."""
    t = s.astype("str").str.strip()
    t = t.where(t.ne(""), "1")
    ok = t.str.fullmatch(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
    vals = pd.to_numeric(t.where(ok), errors="coerce").astype("float64")
    ok = ok & vals.notna() & ~(vals.abs() > MAX_QUANTITY)
    return vals.where(ok), ~ok


_DATE_PARTS = {
    "%Y": "(?P<Y>[0-9]{4})",
    "%y": "(?P<y>[0-9]{2})",
    "%b": "[A-Za-z]{3}",
    "%H": "[0-9]{2}",
    "%M": "[0-9]{2}",
    "%S": "[0-9]{2}",
}


def date_regex(fmt: str) -> str:
    """A strict regex (ASCII digits of the format's widths) for a strptime format.

    ``%m``/``%d`` take 2 digits in a format without separators (so ``2025011`` matches no
    ``%Y%m%d`` date), else 1-2; ``%Y`` exactly 4, ``%y`` exactly 2. strptime alone is lenient
    (it reads ``2025011`` as 2025-01-01)."""
    tokens = re.findall(r"%[A-Za-z]|%%|[^%]", fmt)
    fixed = all(t.startswith("%") for t in tokens)
    out = []
    for t in tokens:
        if t in ("%m", "%d"):
            out.append("[0-9]{2}" if fixed else "[0-9]{1,2}")
        elif t in _DATE_PARTS:
            out.append(_DATE_PARTS[t])
        elif t.startswith("%") and t != "%%":
            raise MappingError(
                f"date format {fmt!r}: {t} is not supported (use %Y %y %m %d %b %H %M %S)"
            )
        else:
            out.append(re.escape(t[-1]))
    return "".join(out)


def parse_dates(s: pd.Series, formats: tuple[str, ...]) -> tuple[pd.Series, pd.Series]:
    """Dates trying each format in turn; returns (datetime64[us], bad mask). Empty = NaT."""
    vals, bad, _ = parse_dates_detail(s, formats)
    return vals, bad


def parse_dates_detail(
    s: pd.Series, formats: tuple[str, ...]
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(dates, bad mask, read-from-a-two-digit-year mask), strictly.

    Each value must match a format's strict regex (:func:`date_regex`) and be a calendar date
    with a year in the X12 reader's range (1980-2049). A two-digit year follows the X12
    reader's stated pivot (:data:`TWO_DIGIT_YEAR_PIVOT`: 00-49 -> 20xx, 50-99 -> 19xx), then the caller checks it against
    the file's service period (:func:`implausible_two_digit_years`)."""
    t = s.astype("str").str.strip()
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]")
    two = pd.Series(False, index=s.index)
    todo = t.ne("")
    for fmt in tuple(formats) + ALWAYS_DATE_FORMATS:
        if not todo.any():
            break
        cand = todo & t.str.fullmatch(date_regex(fmt)).fillna(False).astype(bool)
        if not cand.any():
            continue
        txt, f2 = t.where(cand, None), fmt
        if "%y" in fmt:  # the stated pivot, not strptime's (00-68 -> 20xx)
            txt = _four_digit_years(t.loc[cand], fmt).reindex(s.index)
            f2 = fmt.replace("%y", "%Y")
        d = pd.to_datetime(txt, format=f2, errors="coerce")
        yr = d.dt.year
        hit = d.notna() & cand & yr.between(DATE_MIN_YEAR, DATE_MAX_YEAR)
        out = out.where(~hit, d.astype("datetime64[us]"))
        if "%y" in fmt:
            two = two | hit
        todo = todo & ~hit
    return out, todo, two


def _four_digit_years(t: pd.Series, fmt: str) -> pd.Series:
    """Values of a ``%y`` format with the two-digit year written out by the stated pivot."""
    rx = re.compile(date_regex(fmt))

    def one(b: str) -> str:
        m = rx.fullmatch(b)
        if not m:
            return b
        year = two_digit_year(int(m.group("y")))
        return b[: m.start("y")] + str(year) + b[m.end("y") :]

    return pd.Series([one(b) for b in t], index=t.index, dtype="str")


#: A date written with a two-digit year further than this from the file's median service
#: date is refused (``01/02/68`` in a 2025 export is not 2068 nor 1968 with any confidence).
TWO_DIGIT_YEAR_WINDOW_DAYS = 5 * 366


def implausible_two_digit_years(
    dates: pd.Series, two_digit: pd.Series, service_dates: pd.Series
) -> pd.Series:
    """Rows whose two-digit-year date lies over 5 years from the median service date."""
    if not two_digit.any():
        return pd.Series(False, index=dates.index)
    ref = service_dates.dropna()
    if ref.empty:
        return pd.Series(False, index=dates.index)
    mid = ref.sort_values().iloc[len(ref) // 2]
    far = (dates - mid).abs() > pd.Timedelta(days=TWO_DIGIT_YEAR_WINDOW_DAYS)
    return two_digit & far.fillna(False)


def parse_flags(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Y/N style booleans; returns (bool values, bad mask)."""
    t = s.astype("str").str.strip().str.upper()
    return t.isin(_TRUE), ~(t.isin(_TRUE) | t.isin(_FALSE))


def account_claim_keys(
    salt: str,
    account: pd.Series,
    service_date: pd.Series,
    payer: pd.Series | None,
    npi: pd.Series | None,
) -> pd.Series:
    """Claim keys for an export without claim numbers: ``A`` + a salted HMAC of account, date of
    service, payer and rendering NPI (one claim per patient, day, payer and provider). The
    account is PHI-adjacent: only its hash enters the key; "" where the account is empty."""
    empty = pd.Series("", index=account.index, dtype="str")
    frame = pd.DataFrame(
        {
            "a": account.astype("str").str.strip(),
            "d": service_date.dt.strftime("%Y%m%d").fillna(""),
            "p": (empty if payer is None else payer.astype("str")).str.strip().str.upper(),
            "n": (empty if npi is None else npi.astype("str")).str.strip(),
        }
    )
    uniq = frame.drop_duplicates()
    keys = [
        "" if not a else "A" + _hmac16(salt, "|".join(("CLAIM", a.upper(), d, p, n)))
        for a, d, p, n in uniq.itertuples(index=False)
    ]
    lut = pd.Series(keys, index=pd.MultiIndex.from_frame(uniq), dtype="str")
    return pd.Series(
        lut.reindex(pd.MultiIndex.from_frame(frame)).to_numpy(), index=account.index, dtype="str"
    )


def account_patient_keys(salt: str, account: pd.Series) -> pd.Series:
    """patient_key from the account number when the export carries no other identity."""
    acct = account.astype("str").str.strip().str.upper()
    lut = {a: (_hmac16(salt, "ACCT|" + a) if a else "") for a in pd.unique(acct)}
    return acct.map(lut).astype("str")


#: Targets that legitimately span several columns (Mod 1, Mod 2, ...), joined, not compared.
MULTI_COLUMN_TARGETS = frozenset({"modifiers"})


def _resolve_duplicate_columns(
    raw: pd.DataFrame,
    header: list[str],
    by_target: dict[str, list[int]],
    phi_cols: dict[str, list[int]],
    name: str,
) -> list[dict[str, Any]]:
    """Several columns for one target (``code`` twice, or ``CPT Code`` and ``HCPCS``).

    Columns that agree on every row (or where one is empty) are one column: the first
    non-empty value of each row is used (``raw`` is filled in place) and the report says so.
    Columns that disagree on a row reject the file: which one is right cannot be guessed."""
    out: list[dict[str, Any]] = []
    for kind, targets in (("col", by_target), ("phi", phi_cols)):
        for target, idx in targets.items():
            if len(idx) < 2 or target in MULTI_COLUMN_TARGETS:
                continue
            first = raw[idx[0]].astype("str").str.strip()
            merged = first
            for j in idx[1:]:
                other = raw[j].astype("str").str.strip()
                clash = merged.ne("") & other.ne("") & merged.ne(other)
                if clash.any():
                    k = int(np.flatnonzero(clash.to_numpy())[0])
                    shown = "" if kind == "phi" else f" ({merged.iloc[k]!r} vs {other.iloc[k]!r})"
                    raise MappingError(
                        f"{name}: columns {idx[0] + 1} {header[idx[0]]!r} and {j + 1} "
                        f"{header[j]!r} both give {target} and disagree on data row {k + 1}"
                        f"{shown}; fix: remove the wrong column from the export, or pass "
                        "--mapping with a profile that names only the right one"
                    )
                merged = merged.where(merged.ne(""), other)
            filled = int((first.eq("") & merged.ne("")).sum())
            raw[idx[0]] = merged
            out.append(
                {
                    "target": target,
                    "used": f"column {idx[0] + 1} {header[idx[0]]!r}",
                    "also": [f"column {j + 1} {header[j]!r}" for j in idx[1:]],
                    "why": (
                        "the columns agree on every row"
                        + (
                            f"; {filled} empty cells of the first taken from the others"
                            if filled
                            else ""
                        )
                    ),
                }
            )
    return out


def _repeated_rows(out: dict[str, Any], index: pd.Index) -> pd.Series:
    """Rows that repeat an earlier row's claim, patient, payer, line and content exactly."""
    if "line_no" not in out:
        return pd.Series(False, index=index)
    cols = ("claim_id", "patient_key", "payer", "line_no", "cpt", "modifiers", "units")
    cols += ("billed", "service_date")
    frame = pd.DataFrame({c: out[c] for c in cols if c in out}, index=index)
    return frame.duplicated(keep="first")


def _claim_instances(
    cid: pd.Series,
    pk: pd.Series | None,
    payer: pd.Series | None,
    line_no: pd.Series | None,
    skip: pd.Series,
) -> tuple[pd.Series, pd.Series]:
    """(line numbers, claim-instance ordinals) of export rows.

    Rows of one claim number are one claim per (patient key, payer); within that, the k-th
    repeat of a line number starts the k-th claim (an export listing two claims under one
    number). Without a line-number column the lines are numbered in file order per claim.
    :mod:`.claim_instances` then keeps distinct claims apart and reports true duplicates.
    ``skip`` rows (exact repeats, rejected) count in no claim.
    """
    empty = pd.Series("", index=cid.index, dtype="str")
    g = pd.DataFrame(
        {"c": cid, "k": empty if pk is None else pk, "p": empty if payer is None else payer}
    )
    g = g.fillna("")
    if line_no is None:
        ln = g.groupby(["c", "k", "p"], sort=False).cumcount().astype("int64") + 1
        g["r"] = 0
    else:
        ln = line_no.astype("int64")
        keep = ~skip.to_numpy()
        g["r"] = -1
        g.loc[keep, "r"] = (
            g.loc[keep].assign(n=ln[keep]).groupby(["c", "k", "p", "n"], sort=False).cumcount()
        )
    inst = g.groupby(["c", "k", "p", "r"], sort=False).ngroup().astype("int64")
    return ln, inst


@dataclass
class TableRead:
    """What :func:`read_table` returns."""

    claim_lines: pd.DataFrame
    rejects: list[dict[str, str]]
    stats: dict[str, Any]


_THOUSANDS_SPLIT = re.compile(r"\$?\(?-?\d{1,3}")
_THOUSANDS_TAIL = re.compile(r"\d{3}(?:\.\d*)?\)?-?")


def _width_problem(r: list[str], width: int, named: int) -> str | None:
    """Why a row's field count does not fit the header, or None when it fits.

    Fits: exactly ``width`` fields; extra fields that are all empty (a trailing delimiter on
    every row is a layout, not a shift); fewer fields only where the header's own trailing
    columns are unnamed (``named`` = header width without them)."""
    n = len(r)
    if n == width:
        return None
    if n > width:
        if not any(str(c).strip() for c in r[width:]):
            return None
        split = next(
            (
                i
                for i in range(n - 1)
                if _THOUSANDS_SPLIT.fullmatch(str(r[i]).strip())
                and _THOUSANDS_TAIL.fullmatch(str(r[i + 1]).strip())
            ),
            None,
        )
        hint = (
            f"; fields {split + 1}-{split + 2} look like an amount with an unquoted thousands "
            "separator (quote amounts, or export them without separators)"
            if split is not None
            else "; an unquoted delimiter inside a cell shifts the columns (quote such cells)"
        )
        return f"row has {n} fields, header has {width}{hint}; row not read"
    if n >= named:
        return None
    return f"row has {n} fields, header has {width} (a cut or merged row); row not read"


def body_rows(
    body: list[list[str]],
    header_row: int,
    header: list[str],
    name: str,
    rejects: list[dict[str, str]],
) -> tuple[pd.DataFrame, list[int]]:
    """Data rows as a str DataFrame (blank rows skipped; a row whose field count does not fit
    the header is rejected as such, never padded or cut into shifted columns)."""
    width = len(header)
    named = width
    while named > 0 and not str(header[named - 1]).strip():
        named -= 1
    keep_rows: list[list[str]] = []
    rownums: list[int] = []
    for i, r in enumerate(body):
        rn = header_row + 2 + i  # 1-based record number in the file (header is header_row + 1)
        if not any(str(c).strip() for c in r):
            continue  # blank spacer row: nothing to lose
        why = _width_problem(r, width, named)
        if why is not None:
            rejects.append(
                {"file": name, "location": f"row {rn}", "record": f"row {rn}", "reason": why}
            )
            continue
        r = list(r[:width]) + [""] * (width - len(r))
        keep_rows.append([str(c) for c in r])
        rownums.append(rn)
    raw = pd.DataFrame(keep_rows, columns=range(width), dtype="str")
    if raw.empty:
        raw = pd.DataFrame({i: pd.Series(dtype="str") for i in range(width)})
    return raw, rownums


#: What ``str.splitlines`` ends a line at ("\r\n" counts once).
_LINE_BREAKS = ("\n", "\r", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


def count_lines(text: str) -> int:
    """``len(text.splitlines())`` without building the list (1M Python strings at 1M rows)."""
    breaks = sum(text.count(b) for b in _LINE_BREAKS) - text.count("\r\n")
    return breaks + (1 if text and text[-1] not in _LINE_BREAKS else 0)


def first_lines(text: str, n: int) -> list[str]:
    """``text.splitlines()[:n]``, splitting only as much of the text as those lines need."""
    size = 1 << 16
    while True:
        head = text[:size].splitlines()
        if len(head) > n or size >= len(text):
            return head[:n]
        size *= 4


def _csv_fast(
    text: str, layout: TextLayout, name: str, mappings: list[Mapping]
) -> tuple[HeaderMatch, pd.DataFrame, list[int]] | None:
    """The pyarrow path for regular CSVs (a million rows in seconds).

    The header is found with the csv module on the first rows; the body is read by pyarrow's
    CSV reader with every row's field count checked. Anything irregular (a row of another
    width, quoted newlines that would shift row numbers) returns None and the caller takes the
    row-by-row path, which says what is wrong with each such row."""
    import pyarrow.csv as pv

    head_rows = csv_rows(
        "\n".join(first_lines(text, HEADER_SCAN_ROWS + 1)), layout.delimiter, layout.quotechar
    )
    hm = detect_header(head_rows, mappings, name)
    width = len(head_rows[hm.row])
    irregular: list[int] = []

    def bad(row: Any) -> str:
        irregular.append(1)
        return "skip"

    try:
        table = pv.read_csv(
            io.BytesIO(text.encode("utf-8", "surrogatepass")),
            read_options=pv.ReadOptions(
                skip_rows=hm.row + 1, column_names=[str(i) for i in range(width)], use_threads=True
            ),
            parse_options=pv.ParseOptions(
                delimiter=layout.delimiter,
                quote_char=layout.quotechar,
                ignore_empty_lines=False,
                invalid_row_handler=bad,
            ),
            convert_options=pv.ConvertOptions(
                column_types={str(i): pa.large_string() for i in range(width)},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeEncodeError):
        return None
    if irregular or table.num_rows != count_lines(text) - (hm.row + 1):
        return None  # a ragged row, or quoted newlines: record numbers would not match lines
    raw = pd.DataFrame({i: pd.Series(table.column(str(i)), dtype="str") for i in range(width)})
    del table
    nonblank = np.zeros(len(raw), dtype=bool)
    for c in raw.columns:
        nonblank |= raw[c].str.strip().ne("").to_numpy()
    rownums = (np.flatnonzero(nonblank) + hm.row + 2).tolist()
    raw = raw.loc[nonblank].reset_index(drop=True)
    hm.header = head_rows[hm.row]
    return hm, raw, rownums


def read_table(  # noqa: C901 - one pass over the mapped columns
    data: bytes, name: str, kind: str, *, salt: str, mapping: str = "auto", base: Path | None = None
) -> TableRead:
    """Read a CSV/XLSX export with a mapping profile into canonical claim lines + rejects."""
    mappings = (
        auto_order(builtin_mappings().values())
        if mapping == "auto"
        else [load_mapping(mapping, base)]
    )
    rejects: list[dict[str, str]] = []
    fast = None
    if kind == "csv":
        text, enc, odd = decode_export(data, name)
        del data  # the decoded text is what is read (the caller hands its bytes over)
        layout = TextLayout(enc, *sniff_layout(text), odd)
        fast = _csv_fast(text, layout, name, mappings)
        if fast is not None:
            del text
    if fast is not None:
        hm, raw, rownums = fast
        header = [str(h) for h in hm.header]
        width = len(header)
        m = hm.mapping
    else:
        if kind == "csv":
            rows = csv_rows(text, layout.delimiter, layout.quotechar)
            del text
        else:
            rows, layout = read_raw(data, name, kind)
        hm = detect_header(rows, mappings, name)
        m = hm.mapping
        header = rows[hm.row]
        width = len(header)
        raw, rownums = body_rows(rows[hm.row + 1 :], hm.row, header, name, rejects)
    rn = pd.Series(rownums, dtype="int64")
    by_target: dict[str, list[int]] = {}
    phi_cols: dict[str, list[int]] = {}
    for i, (kind_, target) in sorted(hm.matched.items()):
        (by_target if kind_ == "col" else phi_cols).setdefault(target, []).append(i)
    ignored = [str(header[i]) for i in range(width) if i not in hm.matched and str(header[i])]
    duplicate_columns = _resolve_duplicate_columns(raw, header, by_target, phi_cols, name)

    def col(target: str) -> pd.Series | None:
        idx = by_target.get(target)
        if not idx:
            return None
        return raw[idx[0]].astype("str").str.strip()

    problems = pd.Series("", index=raw.index, dtype="str")

    def flag(mask: pd.Series, *msg: pd.Series | str) -> None:
        """Add the reason ``msg`` (text and row-aligned columns, joined) to each masked row's
        problems; the reason is built for the flagged rows only (a 1M-row file with a few bad
        rows must not join 1M reason strings per check). A missing mask value flags the row."""
        nonlocal problems
        if not mask.any():
            return
        rows = np.flatnonzero(mask.to_numpy(dtype=bool, na_value=True))
        text = pd.Series(problems.to_numpy()[rows], dtype="str")
        for part in msg:
            text = text + (
                part if isinstance(part, str) else pd.Series(part.to_numpy()[rows], dtype="str")
            )
        problems.iloc[rows] = (text + "; ").to_numpy()

    out: dict[str, Any] = {}
    cid = col("claim_id")
    account_keyed = cid is None
    if cid is None:  # built from the account below, once the date, payer and NPI are read
        cid = pd.Series("", index=raw.index, dtype="str")
    else:
        flag(cid.eq(""), "claim id is empty")
    out["claim_id"] = cid
    cpt = col("cpt")
    assert cpt is not None
    cpt = cpt.str.upper()
    out["cpt"] = cpt
    lost_zero = cpt.str.fullmatch(r"\d{1,4}")
    flag(
        lost_zero,
        "code '",
        cpt,
        "' has lost its leading zeros (format the column as text in the export)",
    )
    flag(
        ~cpt.str.fullmatch(_CODE.pattern) & ~lost_zero,
        "code '",
        cpt,
        "' is not a 5-character CPT/HCPCS",
    )
    for c in MONEY:
        s = col(c)
        if s is None:
            continue
        vals, bad = parse_money(s)
        out[c] = vals
        flag(bad, f"{c} '", s, "' is not an amount")
    two_digit: dict[str, pd.Series] = {}
    for c in DATES:
        s = col(c)
        if s is None:
            continue
        vals, bad, two = parse_dates_detail(s, m.date_formats)
        out[c] = vals
        flag(
            bad,
            f"{c} '",
            s,
            f"' matches none of the date formats {list(m.date_formats)}",
            f" (strictly, with a year in {DATE_MIN_YEAR}-{DATE_MAX_YEAR})",
        )
        two_digit[c] = two
    for c, two in two_digit.items():
        far = implausible_two_digit_years(out[c], two, out["service_date"].where(~two))
        if not far.any() and c == "service_date":
            far = implausible_two_digit_years(out[c], two, out[c])
        flag(
            far,
            f"{c} '",
            col(c).astype("str"),
            "' has a two-digit year read as ",
            out[c].dt.year.astype("Int64").astype("str"),
            f" (00-{TWO_DIGIT_YEAR_PIVOT} -> 20xx), over 5 years from the file's service dates;",
            " export the year with 4 digits",
        )
        out[c] = out[c].where(~far)
    flag(
        out["service_date"].isna() & ~problems.str.contains("service_date"), "service_date is empty"
    )
    for c in FLAGS:
        s = col(c)
        if s is None:
            continue
        vals, bad = parse_flags(s)
        out[c] = vals
        flag(bad, f"{c} '", s, "' is not Y/N")
    if "modifiers" in by_target:
        parts = [
            _re_sub(raw[i].astype("str").str.upper(), rf"[{_WS},;/]+", ":")
            for i in by_target["modifiers"]
        ]
        joined = parts[0]
        for p in parts[1:]:
            joined = joined + ":" + p
        out["modifiers"] = _re_sub(joined, r":+", ":").str.strip(":")
    s = col("units")
    if s is not None:
        u, bad_u = parse_units(s)
        flag(
            bad_u,
            "units '",
            s,
            "' is not a plain number up to 999,999 (ASCII digits; no exponent, inf or NaN)",
        )
        flag(u < 0, "units '", s, "' is negative (a reversal belongs on the remittance)")
        out["units"] = u.fillna(0.0).astype("float64")
    s = col("line_no")
    if s is not None:
        whole = s.str.fullmatch(r"[0-9]{1,4}(?:\.0*)?")  # ASCII digits: never "1e3" or "１"
        ln = pd.to_numeric(s.where(whole), errors="coerce")
        flag(ln.isna() | (ln < 1), "line_no '", s, "' is not 1, 2, ...")
        out["line_no"] = ln.fillna(0).astype("int64")
    s = col("unit_type")
    if s is not None:
        u = s.str.upper()
        minutes = u.isin(["MIN", "MINS", "MINUTES", "MJ"])
        units = u.isin(["", "UN", "UNIT", "UNITS"])
        flag(~minutes & ~units, "unit type '", s, "' is not UN (units) or MJ (minutes)")
        out["unit_type"] = u.where(~minutes, "MJ").where(lambda x: x == "MJ", "UN")
    s = col("plan_type")
    unmapped_plan: list[str] = []
    if s is not None:
        uniq = pd.unique(s)
        lut = {u: PLAN_TYPE_WORDS.get(norm_header(u)) for u in uniq}
        pt = s.map(lut)
        unmapped_plan = sorted(set(s[pt.isna()]))
        out["plan_type"] = pt.fillna("unknown").astype("str")
    s = col("locality")
    bad_loc = 0
    if s is not None:
        okl = s.str.fullmatch(_LOCALITY.pattern.strip("^$"))
        loc = s.str.slice(6)
        loc = loc.where(loc.str.len() != 1, "0" + loc)
        out["locality"] = (s.str.slice(0, 5) + "-" + loc).where(okl, "")
        bad_loc = int((~okl & s.ne("")).sum())
    for c in (
        "payer",
        "payer_id",
        "payer_claim_id",
        "provider_npi",
        "provider_tin",
        "specialty",
        "pos",
        "carc",
        "rarc",
        "repricer",
        "line_control",
    ):
        s = col(c)
        if s is not None:
            out[c] = s
    if "state" in by_target:
        out["state"] = col("state").str.upper()  # type: ignore[union-attr]
    if "pos" in out:
        p = out["pos"]
        out["pos"] = p.where(~p.str.fullmatch(r"\d"), p.str.zfill(2))
    # outcome
    has_outcome = any(c in by_target for c in OUTCOME)
    status_raw = col("claim_status")
    if has_outcome:
        paid = out.get("paid", pd.Series(np.nan, index=raw.index))
        derived = pd.Series(
            np.where(paid > 0, "paid", np.where(paid.notna(), "denied", "pending")),
            index=raw.index,
            dtype="str",
        )
        if status_raw is not None:
            up = status_raw.str.upper()
            mapped = up.map(m.status_values).astype("str")
            canon = status_raw.str.lower().where(status_raw.str.lower().isin(schema.CLAIM_STATUSES))
            st = mapped.fillna(canon)
            unknown = st.isna() & up.ne("")
            flag(
                unknown,
                "claim_status '",
                status_raw,
                "' is not a known status (add it to status_values in the mapping)",
            )
            out["claim_status"] = st.fillna(derived).astype("str")
            out["claim_status_code"] = status_raw
        else:
            out["claim_status"] = derived
        if "paid" in out and "remit_date" in out:
            out["paid_date"] = out["remit_date"].where(out["paid"] > 0)
    else:
        out["claim_status"] = pd.Series("pending", index=raw.index, dtype="str")

    # PHI -> patient_key, then the raw columns are gone
    def phicol(t: str) -> pd.Series:
        idx = phi_cols.get(t)
        return raw[idx[0]].astype("str").str.strip() if idx else pd.Series("", index=raw.index)

    claim_key = ""
    if account_keyed:
        if not salt:
            raise MappingError(
                f"{name}: no claim-number column, so claims are keyed by the hashed patient "
                "account; set the PHI salt ($OONPLAYBOOK_PHI_SALT) to read it"
            )
        acct = phicol("account")
        cid = account_claim_keys(
            salt, acct, out["service_date"], out.get("payer"), out.get("provider_npi")
        )
        out["claim_id"] = cid
        flag(
            acct.eq(""),
            "patient account is empty (no claim-number column: the claim key is built from it)",
        )
        used = [header[phi_cols["account"][0]], header[by_target["service_date"][0]]]
        used += [header[by_target[c][0]] for c in ("payer", "provider_npi") if c in by_target]
        claim_key = (
            "no claim-number column: claims keyed by "
            + " + ".join(repr(u) for u in used)
            + " (the account is hashed with the PHI salt, never written)"
        )
    if (
        salt
        and "account" in phi_cols
        and not (phi_cols.keys() & {"member_id", "patient_name", "birth_date"})
    ):
        out["patient_key"] = account_patient_keys(salt, phicol("account"))

    ident = pd.DataFrame(
        {"m": phicol("member_id"), "n": phicol("patient_name"), "d": phicol("birth_date")}
    )
    if salt and (phi_cols.keys() & {"member_id", "patient_name", "birth_date"}):
        uniq = ident.drop_duplicates()
        keys = [identity_key(salt, a, b, c) for a, b, c in uniq.itertuples(index=False)]
        lut = pd.Series(keys, index=pd.MultiIndex.from_frame(uniq), dtype="str")
        out["patient_key"] = pd.Series(
            lut.reindex(pd.MultiIndex.from_frame(ident)).to_numpy(), index=raw.index, dtype="str"
        )
    out["source"] = f"{name}:row " + rn.astype("str")
    dup = _repeated_rows(out, raw.index) & problems.eq("")
    if dup.any():
        keys = [out[c] if c in out else "" for c in ("claim_id", "patient_key", "payer")]
        first_row = rn.groupby([*keys, out["line_no"]]).transform("first")
        flag(
            dup,
            "true duplicate of row ",
            first_row.astype("str"),
            " (same claim, patient, payer, line number, code, units, amount and date); ",
            "that row is kept",
        )
    out["line_no"], out["_claim"] = _claim_instances(
        cid, out.get("patient_key"), out.get("payer"), out.get("line_no"), dup
    )
    df = pd.DataFrame(out, index=raw.index)
    bad = problems.ne("")
    for i in np.flatnonzero(bad.to_numpy()):
        rejects.append(
            {
                "file": name,
                "location": f"row {rownums[i]}",
                "record": f"row {rownums[i]}" + (f" claim {cid.iloc[i]}" if cid.iloc[i] else ""),
                "reason": problems.iloc[i].rstrip("; "),
            }
        )
    df = df[~bad].reset_index(drop=True)
    if "line_control" not in df:
        df["line_control"] = df["line_no"].astype("str")
    stats = {
        "mapping": m.name,
        "mapping_origin": m.origin,
        "header_row": hm.row + 1,
        "rows": len(raw) + sum(1 for j in rejects if " fields, header has " in j["reason"]),
        "duplicate_columns": duplicate_columns,
        "claim_key": claim_key,
        "encoding": layout.encoding,
        "delimiter": {"\t": "tab"}.get(layout.delimiter, layout.delimiter),
        "quote": layout.quotechar,
        "lines_read_as_cp1252": list(layout.mixed_lines[:50]),
        "ignored_columns": ignored,
        "phi_columns_hashed": sorted(phi_cols),
        "has_outcome": has_outcome,
        "unmapped_plan_types": unmapped_plan,
        "invalid_localities_blanked": bad_loc,
    }
    return TableRead(claim_lines=schema.conform(df), rejects=rejects, stats=stats)
