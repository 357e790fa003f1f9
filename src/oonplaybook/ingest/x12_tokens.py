"""X12 tokenising and strict value parsing: the layer both 835 routes (and the 837 reader) stand on.

Why one module: the scalar walk (:mod:`.x12`) and the columnar route (:mod:`.x12_columnar`) must
cut a file into interchanges and segments identically and judge every value by the same rule,
so the pieces they share live here, below both (neither imports the other's internals).

* **Encoding** (:func:`decode`): a UTF-8 BOM (or UTF-16 BOM) decides; else the bytes are UTF-8
  if they are valid UTF-8, else cp1252 (latin-1 for the five bytes cp1252 leaves undefined).
  The encoding used is returned and reported; nothing is ever replaced by U+FFFD, so an
  identifier (a claim id, a payer name) is never changed silently.
* **Delimiters** (:func:`isa_delimiters`): the element separator is ``ISA[3]``; ISA16 (the
  component separator) is the character after the 16th element separator and the segment
  terminator the next one, line breaks around it ignored (``ISA...*:`` + newline + ``~GS``
  is a ``~`` file laid out one segment a line, not a newline-terminated one). The result is
  checked against the start of the GS that follows; a damaged ISA (its terminator byte hit,
  ISA11 equal to the element separator, ISA16 missing) is repaired from the GS segment with a
  warning, or refused with :class:`NotX12Error` naming the file and the fix.
* **Interchanges** (:func:`interchange_end`): an interchange ends after its IEA, or where the
  next ISA starts when that comes first (an unterminated interchange followed by one with other
  delimiters is read with each one's own delimiters).
* **Values**: money (X12 ``R``) as exact integer cents (:func:`cents`); the strict parsers
  :func:`parse_decimal`, :func:`parse_cents`, :func:`parse_integer` (``N0``),
  :func:`parse_quantity` and :func:`parse_date` (``DT`` CCYYMMDD / YYMMDD, and export formats)
  accept ASCII digits only and raise :class:`InvalidValue` whose message describes the value by
  length and kind (:func:`describe`), never by its text, so a damaged field carrying a patient's
  name cannot leak through a reject reason. Full-width digits, superscripts, ``1e309``,
  ``inf``, ``NaN``, a third non-zero decimal and 7-digit dates are refused, each with a reason.
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

from oonplaybook.ingest.errors import NotX12Error

BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

#: Fallback delimiters for an envelope-less ``ST..SE`` fragment (the X12 defaults).
DEFAULT_COMPONENT = ":"
DEFAULT_TERMINATOR = "~"

#: CAS01 adjustment group codes (schema.ADJUSTMENT_GROUPS; kept here so both routes share it).
CAS_GROUPS = frozenset({"CO", "PR", "OA", "PI", "CR"})

#: The regular X12 money form (ASCII digits, at most 2 decimals), matched with one regex call;
#: a value it does not match is checked by the full rule (:func:`cents`). Also RE2 syntax.
MONEY_PATTERN = r"-?[0-9]{1,13}(?:\.[0-9]{1,2})?"
money = re.compile(MONEY_PATTERN).fullmatch
#: A plain ASCII decimal (no exponent, no inf/NaN, no non-ASCII digits).
NUMBER = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)").fullmatch
#: The form of a claim adjustment reason code (CARC): 1-3 digits, or a letter and 1-2 digits
#: (A1, B13, P12, W1...). No CARC is letters only, so a member id or name never passes.
CARC_FORM = re.compile(r"(?:[0-9]{1,3}|[A-Z][0-9]{1,2})").fullmatch
COMPOSITE_QUALIFIERS = frozenset({"HC", "AD", "ER", "IV", "N4", "NU", "WK", "ZZ", "XX", "HP"})
ALT_COMPONENT = "><:^|\\!"

#: Year bounds of a plausible claim date (service, payment, receipt). A date outside them is a
#: damaged or mis-parsed value (a 7-digit date, a two-digit year read in the wrong century).
DATE_MIN_YEAR = 1980
DATE_MAX_YEAR = 2049
#: Two-digit years: YY <= 49 is 20YY, YY >= 50 is 19YY, then checked against the bounds above,
#: so "01/02/25" is 2025 and "01/02/68" is 1968, refused as a claim date (not silently 2068).
TWO_DIGIT_YEAR_PIVOT = 49
#: Largest plausible single claim amount in dollars: a value above it is a damaged field (an
#: 11-digit member id run into an amount by a lost terminator), refused rather than accepted.
MAX_AMOUNT_DOLLARS = 10_000_000
#: Largest plausible number of units/minutes on one service line.
MAX_QUANTITY = 999_999


#: X12 segment identifiers an unknown-segment summary may name (the 835, 837, 999 and 277 guides'
#: segments and the envelope). Any other first element, e.g. a name that became a "tag" when a
#: terminator was lost, is summarised by its length and kind, never by its text.
X12_SEGMENT_IDS = frozenset(
    "AAA ACT AK1 AK2 AK3 AK4 AK5 AK9 AMT BHT BPR CAS CL1 CLM CLP CN1 CR1 CR2 CR3 CR4 CR5 CR6 CR7 "
    "CR8 CRC CTP CTX CUR DMG DN1 DN2 DSB DTM DTP FRM GE GS HCP HI HL HSD IEA IK3 IK4 IK5 IMM INS "
    "ISA K3 LE LIN LQ LS LUI LX MEA MIA MOA N1 N2 N3 N4 NM1 NTE OI PAT PER PLB PRV PS1 PWK QTY RDM "
    "REF SBR SE ST STC SV1 SV2 SV3 SV4 SV5 SV6 SV7 SVC SVD TA1 TOO TRN TS2 TS3 UR ZZZ".split()
)


def shown_code(value: str, form: str) -> str:
    """``value`` itself when it has the code form ``form`` (a regex), else its description: codes
    are safe to show, a value that is not in its element's form may be a patient's data."""
    if re.fullmatch(form, value):
        return value
    return f"({describe(value)})"


class InvalidValue(ValueError):  # noqa: N818 (the name reads as what it reports)
    """A value not in the form its element requires; the message never quotes the value."""


def describe(value: str) -> str:
    """A PHI-safe description of a value, its length and kinds of characters ("4 letters").

    Used in every reject reason and warning about a value in an unexpected form: the value itself
    may be a patient's name or member id from a damaged segment, so it is never shown."""
    if value == "":
        return "empty"
    n = len(value)
    kinds = []
    if any(c.isascii() and c.isalpha() for c in value):
        kinds.append("letters")
    if any(c.isascii() and c.isdigit() for c in value):
        kinds.append("digits")
    if any(c == " " for c in value):
        kinds.append("spaces")
    if any(c.isascii() and not c.isalnum() and c != " " for c in value):
        kinds.append("punctuation")
    if any(not c.isascii() for c in value):
        kinds.append("non-ASCII characters")
    unit = "character" if n == 1 else "characters"
    if len(kinds) == 1 and kinds[0] in ("letters", "digits"):
        return f"{n} {kinds[0][:-1] if n == 1 else kinds[0]}"
    return f"{n} {unit} ({', '.join(kinds)})"


# --- encoding --------------------------------------------------------------------------------


def decode(data: bytes) -> tuple[str, str]:
    """Text of X12/CSV bytes and the encoding used: BOM, else UTF-8 if valid, else cp1252.

    Never replaces a byte with U+FFFD: cp1252 decodes every byte except five, which are read as
    latin-1 (the encoding is then reported as ``cp1252+latin-1``). A UTF-8 BOM is dropped."""
    prefix = ""
    if data.startswith(BOM):
        data, prefix = data[3:], "utf-8-sig"
    elif data.startswith(_UTF16_BOMS):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return text, prefix or ("ascii" if data.isascii() else "utf-8")
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="oonplaybook_latin1"), "cp1252+latin-1"


def _latin1_fallback(err: UnicodeError) -> tuple[str, int]:
    """Decode the bytes cp1252 leaves undefined as latin-1 (a one-to-one byte mapping)."""
    assert isinstance(err, UnicodeDecodeError)
    return err.object[err.start : err.end].decode("latin-1"), err.end


codecs.register_error("oonplaybook_latin1", _latin1_fallback)


# --- delimiters and segments -----------------------------------------------------------------


@dataclass(frozen=True)
class Delimiters:
    """The three X12 delimiters of one interchange."""

    element: str
    component: str
    segment: str


@dataclass
class Chunk:
    """The segments of one interchange (or of the envelope-less fragment)."""

    delimiters: Delimiters
    segments: list[str]
    first_no: int  # 1-based file-wide number of segments[0]


@dataclass
class Tokenized:
    """A tokenized X12 file: chunks of segments plus file-level warnings and the encoding."""

    chunks: list[Chunk]
    warnings: list[str] = field(default_factory=list)
    enveloped: bool = True
    encoding: str = "ascii"

    def iter_segments(self) -> list[tuple[int, list[str], Delimiters]]:
        """All segments as (number, elements, delimiters); convenient for tests, not the hot path."""
        out = []
        for ch in self.chunks:
            for i, s in enumerate(ch.segments):
                out.append((ch.first_no + i, s.split(ch.delimiters.element), ch.delimiters))
        return out


_BREAKS = " \t\r\n"


def _plausible_terminator(c: str, sep: str, comp: str) -> bool:
    """A segment terminator is one printable or control character distinct from the others."""
    return len(c) == 1 and not c.isalnum() and c not in (sep, comp) and c != " "


def _terminator_at(text: str, i: int) -> tuple[str, int]:
    """The terminator starting at ``text[i]``, line breaks around it ignored: (terminator, index of
    the next segment). A line break followed by a non-alphanumeric character is layout before the
    real terminator (``\\n~GS``); a line break followed by a tag is itself the terminator."""
    n = len(text)
    c = text[i] if i < n else ""
    if c not in "\r\n":
        return c, i + 1
    j = i
    while j < n and text[j] in _BREAKS:
        j += 1
    nxt = text[j] if j < n else ""
    if nxt and not nxt.isalnum():
        return nxt, j + 1
    return "\n", i + 1


def _starts_segment(text: str, j: int, sep: str, tags: tuple[str, ...]) -> bool:
    """Whether, after whitespace, ``text[j:]`` starts one of ``tags`` followed by ``sep``."""
    n = len(text)
    while j < n and text[j] in _BREAKS:
        j += 1
    return any(text.startswith(t + sep, j) for t in tags)


_AFTER_ISA = ("GS", "ST", "TA1", "IEA")


def _gs_terminator(text: str, isa16: int, sep: str) -> tuple[int, str] | None:
    """(start of GS, the terminator ending it) for the GS right after the ISA whose 16th element
    separator is at ``isa16`` (ISA11 equal to the separator puts it one element early)."""
    gs = text.find("GS" + sep, isa16 + 1, isa16 + 40)
    if gs < 0:
        return None
    i = gs
    for _ in range(8):
        i = text.find(sep, i + 1, i + 200)
        if i < 0:
            return None
    k = i + 1
    while k < len(text) and text[k].isalnum():
        k += 1
    term, nxt = _terminator_at(text, k)
    if not term or (term != "\n" and term.isalnum()):
        return None
    if not _starts_segment(text, nxt, sep, ("ST", "GE")):
        return None
    return gs, term


def isa_delimiters(text: str, pos: int, name: str) -> tuple[Delimiters, str]:
    """Delimiters of the ISA at ``pos`` and a repair note ("" when the ISA is sound).

    Read from the ISA itself (not fixed-width: masked ISAs exist), checked against the GS that
    follows; when the ISA's own terminator or ISA16 is damaged, the GS decides (noted)."""
    sep = text[pos + 3] if len(text) > pos + 3 else ""
    if not sep or sep.isalnum() or sep.isspace():
        raise NotX12Error(
            f"{name}: ISA at character {pos} has no element separator after 'ISA'; "
            "the file is not valid X12 (re-export it from the clearinghouse)"
        )
    i = pos
    for _ in range(16):
        i = text.find(sep, i + 1)
        if i < 0:
            raise NotX12Error(
                f"{name}: the ISA header at character {pos} has fewer than 16 elements; "
                "the file is truncated or not X12 (re-download it)"
            )
    if len(text) < i + 3:
        raise NotX12Error(f"{name}: the file ends inside the ISA header (truncated; re-download)")
    comp = text[i + 1]
    term, nxt = _terminator_at(text, i + 2)
    sound = (
        not comp.isalnum()
        and comp not in (sep, " ")
        and (term == "\n" or _plausible_terminator(term, sep, comp))
        and (nxt >= len(text.rstrip()) or _starts_segment(text, nxt, sep, _AFTER_ISA))
    )
    gs = _gs_terminator(text, i, sep)
    if sound and (gs is None or gs[1] == term):
        return Delimiters(sep, comp, term), ""
    if gs is not None:
        gs_pos, g_term = gs
        k = gs_pos - 1  # back from the GS: the ISA's terminator (if intact), then ISA16
        while k > pos and text[k] in _BREAKS:
            k -= 1
        if text[k] == g_term:
            k -= 1
            while k > pos and text[k] in _BREAKS:
                k -= 1
        g_comp = ""
        if text[k - 1] == sep:  # text[k] is ISA16 (the terminator byte missing or intact)
            g_comp = text[k]
        elif k - 2 > pos and text[k - 2] == sep:  # text[k] is a damaged terminator byte
            g_comp = text[k - 1]
        if g_comp and not g_comp.isalnum() and g_comp not in (sep, g_term, " "):
            note = (
                f"{name}: the ISA header at character {pos} is damaged (its component separator "
                f"or segment terminator is not where ISA16 should be); read with the GS "
                f"segment's terminator {g_term!r} and component separator {g_comp!r}"
            )
            return Delimiters(sep, g_comp, g_term), note
    if term.isalnum() or term == " ":
        raise NotX12Error(
            f"{name}: ISA16 is not followed by a segment terminator (found {describe(term)}); "
            "the ISA header is damaged (re-export the file)"
        )
    raise NotX12Error(
        f"{name}: the ISA header at character {pos} is damaged (ISA16/terminator not where "
        "16 elements put them, and no GS segment to read them from); re-export the file"
    )


def _next_isa(text: str, start: int, term: str, stop: int) -> int:
    """Position of the next ``ISA`` segment start in ``text[start:stop]`` (after a terminator or
    a line break, followed by a separator), -1 if none. ``str.find`` first: a regex scan of a
    50 MB remit costs ~0.2 s, the substring search a fifth of that."""
    i = text.find("ISA", start, stop)
    while i >= 0:
        j = i - 1
        broke = False
        while j >= start and text[j] in _BREAKS:
            broke = broke or text[j] in "\r\n"
            j -= 1
        after = text[i + 3] if i + 3 < len(text) else ""
        if (broke or (j >= start and text[j] == term)) and after and not after.isalnum():
            if not after.isspace():
                return i
        i = text.find("ISA", i + 3, stop)
    return -1


def interchange_end(text: str, pos: int, d: Delimiters) -> tuple[int, bool]:
    """Where the interchange starting at ``pos`` ends: after its IEA's terminator, or at the next
    ISA when that starts first (then ``True``: the interchange has no IEA)."""
    n = len(text)
    term = re.escape(d.segment)
    iea = re.compile(term + r"\s*IEA" + re.escape(d.element)).search(text, pos)
    isa = _next_isa(text, pos + 3, d.segment, iea.start() if iea else n)
    if isa >= 0:
        return isa, True
    if iea:
        end = text.find(d.segment, iea.end())
        return (n if end < 0 else end + 1), False
    return n, False


def split_segments(chunk: str, d: Delimiters) -> list[str]:
    """Segments of one interchange, trimmed of CR/LF and indentation, empties dropped."""
    if d.segment == "\n":
        chunk = chunk.replace("\r", "\n")
    parts = chunk.split(d.segment)
    out = [p.strip() for p in parts]
    return [p for p in out if p]


def tokenize(data: bytes, name: str = "<bytes>") -> Tokenized:
    """Split X12 bytes into segments per interchange, finding the delimiters from each ISA."""
    text, encoding = decode(data)
    text = text.lstrip().lstrip("\ufeff")
    if not text:
        raise NotX12Error(f"{name}: file is empty; expected an X12 835/837 (ISA... or ST...)")
    tok = Tokenized(chunks=[], encoding=encoding)
    if encoding not in ("ascii", "utf-8", "utf-8-sig"):
        tok.warnings.append(
            f"{name}: not valid UTF-8; read as {encoding} (names and ids kept as those bytes "
            "mean in it; check them, or re-export the file as UTF-8)"
        )
    pos, seg_no, prev = 0, 0, None
    n = len(text)
    while pos < n:
        if text.startswith("ISA", pos):
            d, note = isa_delimiters(text, pos, name)
            if note:
                tok.warnings.append(note)
        elif prev is None:
            if text.startswith("ST", pos) and len(text) > 2 and not text[2].isalnum():
                sep = text[2]
                term = DEFAULT_TERMINATOR if DEFAULT_TERMINATOR in text else "\n"
                d = Delimiters(sep, DEFAULT_COMPONENT, term)
                tok.enveloped = False
                tok.warnings.append(
                    f"{name}: no ISA/GS envelope (starts at ST); assumed delimiters "
                    f"'{sep}' element, '{DEFAULT_COMPONENT}' component, {term!r} segment"
                )
            else:
                raise NotX12Error(
                    f"{name}: not X12: expected 'ISA' or 'ST' at the start, found "
                    f"{describe(text[:40])}; give an 835/837 file, or a CSV/XLSX export with a "
                    "mapping profile"
                )
        else:
            d = prev
            tok.warnings.append(
                f"{name}: data after IEA that does not start with ISA (segment {seg_no + 1}); "
                "read with the previous interchange's delimiters"
            )
        end, _ = interchange_end(text, pos, d)
        segs = split_segments(text[pos:end], d)
        tok.chunks.append(Chunk(d, segs, seg_no + 1))
        seg_no += len(segs)
        prev = d
        pos = end
        while pos < n and text[pos].isspace():
            pos += 1
    return tok


def composite(s: str, comp: str) -> tuple[list[str], bool]:
    """Split a composite; tolerate a file whose data uses another component separator."""
    if comp in s:
        return s.split(comp), False
    if len(s) > 3 and s[:2] in COMPOSITE_QUALIFIERS and s[2] in ALT_COMPONENT:
        return s.split(s[2]), True
    return [s], False


# --- values ----------------------------------------------------------------------------------


def cents(s: str) -> int | None:
    """Exact integer cents of an X12 decimal ("-86.76", "1175.4", ".5"), None when invalid.

    At most 2 decimals (a third non-zero decimal is refused, not rounded) and 13 integer digits.
    Integer arithmetic on ASCII digits only: no float anywhere, full-width digits refused."""
    if money(s):  # the regular form: ASCII digits, optional "-", at most 2 decimals
        dot = s.find(".")
        if dot < 0:
            return int(s) * 100
        v = int(s[:dot] + s[dot + 1 :])
        return v if len(s) - dot == 3 else v * 10
    neg = s[:1] == "-"
    t = s[1:] if neg else s
    dot = t.find(".")
    if dot < 0:
        if t.isascii() and t.isdigit() and len(t) <= 13:
            return -int(t) * 100 if neg else int(t) * 100
        return _cents_slow(s)
    w, f = t[:dot], t[dot + 1 :]
    if t.isascii() and (w.isdigit() or not w) and (f.isdigit() or not f) and (w or f):
        if len(f) > 2:
            if f[2:].strip("0"):
                return None
            f = f[:2]
        if len(w) > 13:
            return None
        c = (int(w) * 100 if w else 0) + (int(f) * (10 if len(f) == 1 else 1) if f else 0)
        return -c if neg else c
    return _cents_slow(s)


def _cents_slow(s: str) -> int | None:
    """The rare forms: surrounding spaces, a leading "+"; anything else is invalid."""
    t = s.strip()
    if t != s:
        return cents(t) if t else None
    if t[:1] == "+" and t[1:2] != "-":
        return cents(t[1:])
    return None


def _why_not_number(s: str) -> str:
    """Why ``s`` is not an X12 decimal, without quoting it."""
    t = s.strip()
    if not t:
        return "empty"
    if any(not c.isascii() for c in t) and any(c.isdigit() for c in t):
        return f"{describe(s)}: non-ASCII digits (full-width or superscript), not a number"
    low = t.lower().lstrip("+-")
    if low in ("inf", "infinity", "nan") or re.fullmatch(r"[0-9.]+e[+-]?[0-9]+", low):
        return f"{describe(s)}: not a plain decimal (exponent, inf or NaN are not X12 numbers)"
    return f"{describe(s)}, not a number"


def parse_decimal(
    s: str, what: str = "amount", *, max_integer_digits: int = 13, max_decimals: int | None = 2
) -> Decimal:
    """An X12 ``R`` value as an exact Decimal, or :class:`InvalidValue` with a PHI-safe reason.

    ASCII digits with an optional leading "-" (a "+" and surrounding spaces tolerated), at most
    one ".", no exponent; decimals beyond ``max_decimals`` must be zeros (refused, not rounded)."""
    t = s.strip()
    if t[:1] == "+" and t[1:2] != "-":
        t = t[1:]
    if not NUMBER(t) or not t.isascii() or t[:1] == "+":
        raise InvalidValue(f"{what}: {_why_not_number(s)}")
    neg = t[:1] == "-"
    body = t[1:] if neg else t
    w, _, f = body.partition(".")
    if len(w.lstrip("0")) > max_integer_digits:
        raise InvalidValue(f"{what}: {len(w)} integer digits (at most {max_integer_digits})")
    if max_decimals is not None and len(f) > max_decimals and f[max_decimals:].strip("0"):
        raise InvalidValue(f"{what}: {len(f)} decimals (at most {max_decimals}; not rounded)")
    return Decimal(t)


def parse_cents(s: str, what: str = "amount", *, max_dollars: int = MAX_AMOUNT_DOLLARS) -> int:
    """An X12 money value as exact integer cents within ±``max_dollars``, else InvalidValue."""
    c = cents(s)
    if c is None:
        parse_decimal(s, what)  # raises with the precise reason
        raise InvalidValue(f"{what}: {describe(s)}, not a number")  # pragma: no cover
    if abs(c) > max_dollars * 100:
        raise InvalidValue(
            f"{what}: {len(s.strip().lstrip('-+').split('.')[0])} integer digits, over "
            f"${max_dollars:,} (a damaged field, e.g. an id run into an amount)"
        )
    return c


def parse_integer(s: str, what: str = "count", *, max_digits: int = 9) -> int:
    """An X12 ``N0`` value (ASCII digits, optional "-", no decimal point), else InvalidValue."""
    t = s.strip()
    body = t[1:] if t[:1] in "+-" else t
    if not (body.isascii() and body.isdigit()):
        raise InvalidValue(f"{what}: {_why_not_number(s)} (a whole number is required)")
    if len(body.lstrip("0")) > max_digits:
        raise InvalidValue(f"{what}: {len(body)} digits (at most {max_digits})")
    return int(t)


def parse_quantity(s: str, what: str = "units", *, max_value: int = MAX_QUANTITY) -> float:
    """A quantity (units, minutes; X12 ``R``): a finite decimal within ±``max_value``."""
    v = parse_decimal(s, what, max_integer_digits=len(str(max_value)), max_decimals=None)
    if abs(v) > max_value:
        raise InvalidValue(f"{what}: over {max_value:,} (not a plausible quantity)")
    return float(v)


def two_digit_year(yy: int) -> int:
    """The century rule for two-digit years: 00-49 are 2000-2049, 50-99 are 1950-1999."""
    return 2000 + yy if yy <= TWO_DIGIT_YEAR_PIVOT else 1900 + yy


def check_year(year: int, what: str = "date") -> None:
    """Refuse a year outside the plausible claim-date range (a damaged or mis-read date)."""
    if not DATE_MIN_YEAR <= year <= DATE_MAX_YEAR:
        raise InvalidValue(
            f"{what}: year {year} outside {DATE_MIN_YEAR}-{DATE_MAX_YEAR} (damaged date, or a "
            "two-digit year in the wrong century)"
        )


_DIRECTIVES = {"%Y": "(?P<Y>[0-9]{4})", "%y": "(?P<y>[0-9]{2})", "%m": "m", "%d": "d"}
_FORMAT_RE: dict[str, re.Pattern[str]] = {}


def _format_regex(fmt: str) -> re.Pattern[str]:
    """A strict regex for a strptime-like date format using %Y %y %m %d (ASCII digits only);
    month and day are 2 digits in a format without separators, else 1-2 digits."""
    got = _FORMAT_RE.get(fmt)
    if got is not None:
        return got
    tokens = re.findall(r"%[Yymd]|%.|[^%]", fmt)
    fixed = all(t.startswith("%") for t in tokens)
    out = []
    for t in tokens:
        if t in ("%m", "%d"):
            width = "{2}" if fixed else "{1,2}"
            out.append(f"(?P<{t[1]}>[0-9]{width})")
        elif t in _DIRECTIVES:
            out.append(_DIRECTIVES[t])
        elif t.startswith("%"):
            raise ValueError(f"date format {fmt!r}: only %Y %y %m %d are supported")
        else:
            out.append(re.escape(t))
    pat = re.compile("".join(out))
    _FORMAT_RE[fmt] = pat
    return pat


#: X12 date forms: DT CCYYMMDD (D8) and the 6-digit YYMMDD of the ISA.
X12_DATE_FORMATS = ("%Y%m%d",)


def parse_date(
    s: str, what: str = "date", *, formats: tuple[str, ...] = X12_DATE_FORMATS
) -> dt.date:
    """A date in one of ``formats`` (strptime-like, %Y %y %m %d), strictly: ASCII digits of the
    exact width, a real calendar date, a year within the plausible range; else InvalidValue.

    ``2025011`` (7 digits) is refused, not read as 2025-01-01; a two-digit year follows
    :func:`two_digit_year` and is then checked like any other year."""
    t = s.strip()
    for fmt in formats:
        m = _format_regex(fmt).fullmatch(t)
        if not m:
            continue
        g = m.groupdict()
        year = int(g["Y"]) if g.get("Y") else two_digit_year(int(g["y"]))
        try:
            d = dt.date(year, int(g["m"]), int(g["d"]))
        except ValueError:
            raise InvalidValue(f"{what}: {describe(s)}, not a calendar date") from None
        check_year(year, what)
        return d
    forms = " or ".join(
        f.replace("%Y", "CCYY").replace("%y", "YY").replace("%m", "MM").replace("%d", "DD")
        for f in formats
    )
    raise InvalidValue(f"{what}: {describe(s)}, not a date in the form {forms}")
