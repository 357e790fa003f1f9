"""Abusive params files: every case is a ParamsError naming file, line, key, value and fix."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from oonplaybook.config import ParamsError, load_config
from oonplaybook.params_yaml import MAX_ALIASES, load_params_yaml

#: A fixed params file (not params/demo.yaml, which others edit), so line numbers are stable.
BASE = """\
# Demo-like client for the params tests.
client: demo
client_name: "Demo Physician Partners (synthetic)"
inputs:
  - ../data/demo/claims_export.csv
  - ../data/demo/remits
mapping: auto
specialties:
  - emergency_medicine
  - anesthesiology
  - radiology
  - pathology
  - orthopedic_surgery
  - behavioral_health
  - neonatology
  - generic
  - neurosurgery_ionm
state: NY
locality: "13202-01"            # Manhattan (MAC 13202, locality 01)
fee_schedule_year: 2025
benchmark:
  ucr_percentiles: [50, 75, 80, 90]
  ucr_min_count: 20
  bootstrap_reps: 500
playbook:
  idr_batch_max_lines: 25
  walk_away_multiple_of_medicare: 1.5
  contract_appeal_days: 180
  letter_limit: 40
output_root: ../outputs
seed: 20251
phi_salt_env: OONPLAYBOOK_PHI_SALT
"""


def _load(tmp_path: Path, text: str | bytes) -> str:
    """Load a params file expected to fail; return the message (with the file's name)."""
    p = tmp_path / "client.yaml"
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text)
    with pytest.raises(ParamsError) as e:
        load_config(p, check_inputs=False)
    msg = str(e.value)
    assert str(p) in msg, "the message names the file"
    assert "Traceback" not in msg
    return msg


def _swap(old: str, new: str) -> str:
    assert old in BASE
    return BASE.replace(old, new)


@pytest.mark.parametrize(
    ("old", "new", "needles"),
    [
        ("seed: 20251", "seed: true", ["line 31", "seed = true", "not a number", "fix"]),
        ("seed: 20251", "seed: false", ["seed = false", "not a number"]),
        ("ucr_min_count: 20", "ucr_min_count: true", ["benchmark.ucr_min_count = true"]),
        (
            "walk_away_multiple_of_medicare: 1.5",
            "walk_away_multiple_of_medicare: .inf",
            ["line 27", "walk_away_multiple_of_medicare = .inf", "finite", "fix"],
        ),
        (
            "walk_away_multiple_of_medicare: 1.5",
            "walk_away_multiple_of_medicare: .nan",
            ["= .nan", "finite"],
        ),
        (
            "state: NY",
            "state: NO",
            ["line 18", "state = NO", "'NO' is not a 2-letter US state", "fix: give"],
        ),
        ("client: demo", 'client: "demo\\n"', ["line 2", "client", "line breaks"]),
        ("client: demo", "client: " + "a" * 300, ["line 2", "300 characters", "at most 64"]),
    ],
)
def test_bad_values_name_line_key_value_and_fix(
    tmp_path: Path, old: str, new: str, needles: list[str]
) -> None:
    msg = _load(tmp_path, _swap(old, new))
    for n in needles:
        assert n in msg, (n, msg)


def test_norway_is_a_string_not_false(tmp_path: Path) -> None:
    # YAML 1.2 booleans: NO/yes/on stay strings; only true/false are booleans.
    p = tmp_path / "c.yaml"
    p.write_text("a: NO\nb: yes\nc: on\nd: true\ne: False\nf: 2025-01-02\n")
    assert load_params_yaml(p).data == {
        "a": "NO",
        "b": "yes",
        "c": "on",
        "d": True,
        "e": False,
        "f": "2025-01-02",
    }


def test_unquoted_code_fix_quotes_it_as_written(tmp_path: Path) -> None:
    msg = _load(
        tmp_path,
        _swap(
            "  letter_limit: 40", '  letter_limit: 40\n  codes_of_interest: [99285, 00100, "01996"]'
        ),
    )
    assert "line 30" in msg and "playbook.codes_of_interest" in msg
    assert 'Quote it as written: "99285", "00100"' in msg
    assert '"64"' not in msg, "the fix quotes the code as typed, not YAML's number"


def test_yaml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    msg = _load(tmp_path, _swap("state: NY", "state: [NY"))
    assert "client.yaml:19:9" in msg and "YAML syntax error" in msg and "fix:" in msg
    assert "(in state = [NY, line 18)" in msg, "names the key where the broken value began"


def test_tab_indentation(tmp_path: Path) -> None:
    msg = _load(tmp_path, _swap("  ucr_min_count: 20", "\tucr_min_count: 20"))
    assert "client.yaml:23" in msg and "tab" in msg and "indent with spaces" in msg
    assert "ucr_min_count = 20" in msg


def test_latin1_file_names_line_column_and_byte(tmp_path: Path) -> None:
    text = _swap('client_name: "Demo', 'client_name: "Soci\u00e9t\u00e9 Demo')
    msg = _load(tmp_path, text.encode("latin-1"))
    assert "client.yaml:3" in msg and "0xE9" in msg and "column 19" in msg
    assert "client_name = " in msg
    assert "'é'" in msg and "save the file as UTF-8" in msg


def test_utf8_bom_is_fine(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_bytes(b"\xef\xbb\xbf" + BASE.encode())
    cfg, _ = load_config(p, check_inputs=False)
    assert cfg.client == "demo" and cfg.seed == 20251


def test_alias_bomb_is_refused_fast(tmp_path: Path) -> None:
    rows = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for prev, cur in zip("abcdefgh", "bcdefghi", strict=True):
        rows.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 9) + "]")
    t0 = time.perf_counter()
    msg = _load(tmp_path, "\n".join(rows) + "\n")
    assert time.perf_counter() - t0 < 5
    assert "alias" in msg and "fix:" in msg


def test_many_aliases_are_refused(tmp_path: Path) -> None:
    text = "a: &a x\nb: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]\n"
    msg = _load(tmp_path, text)
    assert f"more than {MAX_ALIASES} alias uses" in msg and "client.yaml:2" in msg


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    msg = _load(tmp_path, "a: " + "[" * 200 + "]" * 200 + "\n")
    assert "nested" in msg


def test_duplicate_key_names_both_lines(tmp_path: Path) -> None:
    msg = _load(tmp_path, BASE + "\nseed: 3\n")
    assert "'seed' is given twice" in msg and "lines 31 and 34" in msg


@pytest.mark.parametrize("text", ["", "# only a comment\n", "- a\n- b\n", "just text\n"])
def test_empty_or_not_a_mapping(tmp_path: Path, text: str) -> None:
    msg = _load(tmp_path, text)
    assert "empty" in msg or "mapping" in msg


def test_huge_file_is_refused(tmp_path: Path) -> None:
    msg = _load(tmp_path, BASE + "#" * 1_100_000 + "\n")
    assert "too large" in msg
