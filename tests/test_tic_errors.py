"""The TiC allowed-amounts reader: every damaged file is one TicFormatError with file and path."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from oonplaybook import tic
from oonplaybook.tic import TicFileError, TicFormatError, read_allowed_amounts


def _item(**over: object) -> dict:
    item = {
        "billing_code_type": "CPT",
        "billing_code": "99285",
        "allowed_amounts": [
            {
                "tin": {"type": "ein", "value": "111111111"},
                "service_code": ["23"],
                "billing_class": "professional",
                "payments": [
                    {"allowed_amount": 410.0, "providers": [{"billed_charge": 900.0, "npi": [1]}]}
                ],
            }
        ],
    }
    item.update(over)
    return item


def _doc(*items: object, **top: object) -> dict:
    return {"reporting_entity_name": "Acme", "out_of_network": list(items), **top}


def _fails(tmp_path: Path, body: str | bytes, name: str = "f.json") -> TicFormatError:
    p = tmp_path / name
    p.write_bytes(body if isinstance(body, bytes) else body.encode())
    with pytest.raises(TicFormatError) as e:
        read_allowed_amounts(p)
    assert str(p) in str(e.value) and e.value.file == str(p)
    return e.value


def _payment(**pay: object) -> dict:
    base = {"allowed_amount": 410.0, "providers": [{"billed_charge": 900.0, "npi": [1]}]}
    base.update(pay)
    aa = _item()["allowed_amounts"][0] | {"payments": [base]}
    return _item(allowed_amounts=[aa])


def test_one_error_type() -> None:
    assert TicFileError is TicFormatError and issubclass(TicFormatError, ValueError)


def test_truncated_gzip(tmp_path: Path) -> None:
    full = gzip.compress(json.dumps(_doc(*[_item()] * 50)).encode())
    e = _fails(tmp_path, full[: len(full) // 2], "t.json.gz")
    assert "gzip data is truncated or damaged" in e.problem and "download" in e.problem


def test_damaged_gzip_body(tmp_path: Path) -> None:
    full = bytearray(gzip.compress(json.dumps(_doc(*[_item()] * 50)).encode()))
    full[20:40] = b"\xff" * 20
    e = _fails(tmp_path, bytes(full), "d.json.gz")
    assert "gzip" in e.problem or "JSON" in e.problem


def test_mislabelled_gzip_is_read_by_its_bytes(tmp_path: Path) -> None:
    plain = tmp_path / "plain.json.gz"  # named .gz, plain JSON inside
    plain.write_text(json.dumps(_doc(_item())))
    zipped = tmp_path / "zipped.json"  # named .json, gzip inside
    zipped.write_bytes(gzip.compress(json.dumps(_doc(_item())).encode()))
    df = read_allowed_amounts([plain, zipped])
    assert len(df) == 2 and set(df["file"]) == {"plain.json.gz", "zipped.json"}


def test_truncated_json_names_the_item(tmp_path: Path) -> None:
    text = json.dumps(_doc(_item(), _item()))
    e = _fails(tmp_path, text[: len(text) - 40])
    assert "truncated" in e.problem and e.json_path.startswith("out_of_network[1]")
    assert e.offset is not None


@pytest.mark.parametrize(
    ("item", "path", "needle"),
    [
        (1, "out_of_network[0]", "expected an object, got a number"),
        ("x", "out_of_network[0]", "got a string"),
        (None, "out_of_network[0]", "got null"),
        ([1, 2], "out_of_network[0]", "got a list"),
        (_item(billing_code=None), "out_of_network[0].billing_code", "missing or null"),
        (_item(billing_code=""), "out_of_network[0].billing_code", "empty"),
        (_item(billing_code=100), "out_of_network[0].billing_code", "leading zeros"),
        (_item(billing_code={"x": 1}), "out_of_network[0].billing_code", "got an object"),
        (_item(allowed_amounts={"a": 1}), "out_of_network[0].allowed_amounts", "expected a list"),
        (_item(allowed_amounts=[3]), "out_of_network[0].allowed_amounts[0]", "expected an object"),
        (
            _payment(providers={"npi": [1]}),
            "out_of_network[0].allowed_amounts[0].payments[0].providers",
            "expected a list",
        ),
        (
            _payment(providers=[{"npi": "1234567893"}]),
            "out_of_network[0].allowed_amounts[0].payments[0].providers[0].npi",
            "expected a list, got a string",
        ),
        (
            _payment(providers=[{"npi": [{"a": 1}]}]),
            "out_of_network[0].allowed_amounts[0].payments[0].providers[0].npi[0]",
            "expected a string",
        ),
        (
            _payment(allowed_amount="NaN"),
            "out_of_network[0].allowed_amounts[0].payments[0].allowed_amount",
            "not a finite amount",
        ),
        (
            _payment(allowed_amount="inf"),
            "out_of_network[0].allowed_amounts[0].payments[0].allowed_amount",
            "not a finite amount",
        ),
        (
            _payment(allowed_amount=True),
            "out_of_network[0].allowed_amounts[0].payments[0].allowed_amount",
            "got a boolean",
        ),
        (
            _payment(allowed_amount=-5),
            "out_of_network[0].allowed_amounts[0].payments[0].allowed_amount",
            "negative",
        ),
        (
            _payment(allowed_amount="abc"),
            "out_of_network[0].allowed_amounts[0].payments[0].allowed_amount",
            "not a number",
        ),
        (
            _payment(providers=[{"billed_charge": "Infinity", "npi": [1]}]),
            "out_of_network[0].allowed_amounts[0].payments[0].providers[0].billed_charge",
            "not a finite amount",
        ),
    ],
)
def test_wrong_types_name_the_json_path(
    tmp_path: Path, item: object, path: str, needle: str
) -> None:
    e = _fails(tmp_path, json.dumps(_doc(item)))
    assert e.json_path == path, str(e)
    assert needle in e.problem, str(e)
    assert path in str(e)


def test_error_in_a_later_item_names_its_index(tmp_path: Path) -> None:
    e = _fails(tmp_path, json.dumps(_doc(_item(), _item(), _item(billing_code=None))))
    assert e.json_path == "out_of_network[2].billing_code"


def test_out_of_network_not_a_list(tmp_path: Path) -> None:
    e = _fails(tmp_path, json.dumps({"out_of_network": {"billing_code": "99285"}}))
    assert e.json_path == "out_of_network" and "got an object" in e.problem


def test_duplicated_key_with_different_values(tmp_path: Path) -> None:
    body = json.dumps(_doc(_item())).replace(
        '"allowed_amount": 410.0', '"allowed_amount": 410.0, "allowed_amount": 41.0'
    )
    e = _fails(tmp_path, body)
    assert e.json_path == "out_of_network[0].allowed_amounts[0].payments[0].allowed_amount"
    assert "given twice with different values (410.0 and 41.0)" in e.problem


def test_duplicated_key_with_the_same_value_is_fine(tmp_path: Path) -> None:
    body = json.dumps(_doc(_item())).replace(
        '"billing_code": "99285"', '"billing_code": "99285", "billing_code": "99285"'
    )
    p = tmp_path / "same.json"
    p.write_text(body)
    assert read_allowed_amounts(p)["billing_code"].tolist() == ["99285"]


def test_duplicated_top_level_field(tmp_path: Path) -> None:
    body = json.dumps(_doc(_item())).replace(
        '"reporting_entity_name": "Acme"',
        '"reporting_entity_name": "Acme", "reporting_entity_name": "Other"',
    )
    e = _fails(tmp_path, body)
    assert e.json_path == "reporting_entity_name" and "'Acme' and 'Other'" in e.problem


def test_deep_nesting_is_bounded(tmp_path: Path) -> None:
    depth = 200_000
    body = '{"out_of_network": [{"billing_code": "99285", "x": ' + "[" * depth + "]" * depth + "}]}"
    e = _fails(tmp_path, body)
    assert f"deeper than {tic.MAX_DEPTH}" in e.problem
    assert e.json_path.startswith("out_of_network[0].x")


def test_deep_nesting_outside_items(tmp_path: Path) -> None:
    e = _fails(tmp_path, '{"a": ' + "[" * 5000 + "]" * 5000 + ', "out_of_network": []}')
    assert "deeper than" in e.problem


def test_codes_filter_still_checks_the_skipped_items_code(tmp_path: Path) -> None:
    p = tmp_path / "f.json"
    p.write_text(json.dumps(_doc(_item(), _item(billing_code=None))))
    with pytest.raises(TicFormatError, match=r"out_of_network\[1\]\.billing_code"):
        read_allowed_amounts(p, codes=["99285"])


def test_empty_and_missing_file(tmp_path: Path) -> None:
    _fails(tmp_path, b"", "empty.json")
    with pytest.raises(TicFormatError, match="cannot read"):
        read_allowed_amounts(tmp_path / "absent.json")
