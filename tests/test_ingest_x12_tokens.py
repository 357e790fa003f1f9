"""The shared tokenising layer (ingest/x12_tokens.py): strict value parsers, encodings, ISA."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from oonplaybook.ingest import NotX12Error
from oonplaybook.ingest import x12_tokens as tok


@pytest.mark.parametrize(
    ("value", "cents"),
    [
        ("12.50", 1250),
        ("-86.76", -8676),
        (".5", 50),
        ("1175.4", 117540),
        ("3", 300),
        (" 7.00 ", 700),
        ("+1.50", 150),
        ("2.500", 250),
    ],
)
def test_parse_cents_valid(value: str, cents: int) -> None:
    assert tok.parse_cents(value) == cents == tok.cents(value)


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("\uff11\uff12", "non-ASCII digits"),
        ("\u00b2", "non-ASCII digits"),
        ("1e309", "exponent"),
        ("inf", "exponent, inf or NaN"),
        ("NaN", "exponent, inf or NaN"),
        ("1.234", "3 decimals"),
        ("BUDD", "4 letters, not a number"),
        ("33344555510", "over $10,000,000"),
        ("", "empty"),
        ("1-2", "not a number"),
    ],
)
def test_parse_cents_refuses_with_a_reason_that_never_quotes(value: str, why: str) -> None:
    with pytest.raises(tok.InvalidValue) as e:
        tok.parse_cents(value, "CAS03 amount")
    msg = str(e.value)
    assert msg.startswith("CAS03 amount: ") and why in msg
    assert not value or repr(value) not in msg


def test_parse_decimal_integer_quantity() -> None:
    assert tok.parse_decimal("1.10", max_decimals=None) == Decimal("1.10")
    assert tok.parse_integer("42") == 42
    for bad in ("4.2", "\uff14", "1e3", ""):
        with pytest.raises(tok.InvalidValue):
            tok.parse_integer(bad)
    assert tok.parse_quantity("2.5") == 2.5 and tok.parse_quantity("-1") == -1.0
    for bad in ("1e309", "inf", "\u00b2", "1000000"):
        with pytest.raises(tok.InvalidValue):
            tok.parse_quantity(bad)


def test_parse_date_strict() -> None:
    assert tok.parse_date("20250131") == dt.date(2025, 1, 31)
    for bad, why in [
        ("2025011", "not a date in the form CCYYMMDD"),
        ("20250230", "not a calendar date"),
        ("18991231", "year 1899 outside"),
        ("\uff12\uff10\uff12\uff15\uff10\uff11\uff10\uff11", "not a date"),
    ]:
        with pytest.raises(tok.InvalidValue, match=why):
            tok.parse_date(bad, "DTM*472")
    # two-digit years: the stated century rule, then the year check
    fmts = ("%m/%d/%y", "%m/%d/%Y")
    assert tok.parse_date("1/2/25", formats=fmts) == dt.date(2025, 1, 2)
    assert tok.parse_date("01/02/2025", formats=fmts) == dt.date(2025, 1, 2)
    with pytest.raises(tok.InvalidValue, match="year 1968 outside"):
        tok.parse_date("01/02/68", formats=fmts)
    assert tok.two_digit_year(49) == 2049 and tok.two_digit_year(50) == 1950


def test_describe_never_shows_the_value() -> None:
    assert tok.describe("BUDD") == "4 letters"
    assert tok.describe("33344555510") == "11 digits"
    assert tok.describe("JO HN") == "5 characters (letters, spaces)"
    assert tok.describe("") == "empty"
    assert tok.shown_code("45", "[0-9]{1,3}") == "45"
    assert tok.shown_code("BUDD", "[0-9]{1,3}") == "(4 letters)"


def test_decode_order_bom_utf8_cp1252() -> None:
    assert tok.decode(b"abc") == ("abc", "ascii")
    assert tok.decode("Soci\u00e9t\u00e9".encode()) == ("Soci\u00e9t\u00e9", "utf-8")
    assert tok.decode(b"\xef\xbb\xbfabc") == ("abc", "utf-8-sig")
    assert tok.decode("Soci\u00e9t\u00e9 \u201cG\u201d".encode("cp1252")) == (
        "Soci\u00e9t\u00e9 \u201cG\u201d",
        "cp1252",
    )
    assert tok.decode(b"\x81x") == ("\x81x", "cp1252+latin-1")
    assert tok.decode("ab".encode("utf-16")) == ("ab", "utf-16")


def test_isa_damage_that_cannot_be_repaired_is_refused() -> None:
    with pytest.raises(NotX12Error, match="fewer than 16 elements"):
        tok.tokenize(b"ISA*00*  *00*", "short.835")
    with pytest.raises(NotX12Error, match="not X12"):
        tok.tokenize(b"claim_id,billed\nC1,10\n", "x.csv")
