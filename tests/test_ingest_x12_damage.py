"""Damaged and unusual 835 layouts (issue 10 items 2, 4, 6, 7, 10, 17): each class reproduced here.

Every input is written in the test (from :mod:`tests._ingest_samples`); each asserts that every
claim is read or rejected with its segment, never silently dropped, and that no patient value
from a damaged segment appears in a reject, warning or report.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from oonplaybook.ingest import IngestError, read_835
from oonplaybook.ingest.errors import X12StructureError
from oonplaybook.ingest.x12 import Remit835Reader
from tests._ingest_samples import make_835


def read(text: str | bytes, name: str = "t.835"):
    """Read one 835 (text encoded as UTF-8)."""
    data = text.encode() if isinstance(text, str) else text
    return read_835(data, name, salt="test-salt")


def one_segment_a_line_terminator_first(text: str) -> str:
    """``ISA...`` + newline, then every later segment on its own line starting with ``~``."""
    segs = [s for s in text.split("~") if s]
    return segs[0] + "\n" + "".join("~" + s + "\n" for s in segs[1:])


# --- item 2: the terminator after ISA16, line breaks around it ignored ------------------------


def test_4010_terminator_at_the_start_of_each_line() -> None:
    """The issue's case: 4010, ISA16 '^', newline, then '~GS', '~ST'... on each line."""
    base = make_835(2, version="004010X091A1", isa_version="00401", comp="^")
    base = base.replace("*^*00401", "*U*00401", 1)  # 4010: ISA11 is the standards id "U"
    r = read(one_segment_a_line_terminator_first(base))
    assert r.stats["claims"] == 2 and r.stats["claims_rejected"] == 0
    assert len(r.claim_lines) == 4 and len(r.adjustments) == 12
    assert r.stats["unknown_segments"] == {}
    assert not any("IEA" in w for w in r.stats["warnings"])
    assert set(r.claim_lines["cpt"]) == {"99213", "99214"}


def test_crlf_around_the_terminator_and_indentation() -> None:
    base = make_835(3)
    segs = [s for s in base.split("~") if s]
    text = segs[0] + "\r\n  ~" + "\r\n  ~".join(segs[1:]) + "\r\n~"
    r = read(text)
    assert r.stats["claims"] == 3 and r.rejects == []


def test_newline_terminated_file_still_reads() -> None:
    r = read(make_835(3, term="\n"))
    assert r.stats["claims"] == 3 and r.rejects == []


def _uncuttable() -> str:
    """An ISA that declares '~' while the rest (no GS to check it against) uses newlines."""
    base = make_835(2)
    isa, rest = base.split("~", 1)
    rest = rest.replace("GS*HP*PAYER*PROVIDER*20250110*1200*1*X*005010X221A1~", "")
    return isa + "~" + rest.replace("~", "\n")


def test_clp_bytes_that_give_no_claim_are_an_error() -> None:
    """A file whose CLP segments cannot be cut out raises, naming the file (never 0 and 0)."""
    with pytest.raises(X12StructureError) as e:
        read(_uncuttable(), "lost.835")
    assert "lost.835" in str(e.value) and "re-export" in str(e.value)


def test_failed_file_leaves_the_reader_untouched() -> None:
    """A file refused after its walk is rolled back: the next file reads as if alone."""
    r = Remit835Reader("s")
    with pytest.raises(IngestError):
        r.add(_uncuttable().encode(), "bad.835")
    r.add(make_835(2).encode(), "good.835")
    out = r.build()
    assert len(out.claim_lines) == 4 and r.names == ["good.835"] and len(r.file_stats) == 1


# --- item 4: damaged ISA on a many-claim file ---------------------------------------------------

BIG = make_835(375)
ISA_END = BIG.index("~")


@pytest.mark.parametrize(
    "damage",
    {
        "terminator_deleted": BIG[:ISA_END] + BIG[ISA_END + 1 :],
        "terminator_replaced_punct": BIG[:ISA_END] + "!" + BIG[ISA_END + 1 :],
        "terminator_replaced_letter": BIG[:ISA_END] + "X" + BIG[ISA_END + 1 :],
        "isa11_is_the_element_separator": BIG.replace("*^*00501", "***00501", 1),
    }.items(),
    ids=lambda kv: kv[0],
)
def test_damaged_isa_reads_every_claim_with_a_warning(damage: tuple[str, str]) -> None:
    r = read(damage[1])
    assert r.stats["claims"] == 375 and r.stats["claims_rejected"] == 0
    assert len(r.adjustments) == 6 * 375
    assert any("ISA header" in w and "damaged" in w for w in r.stats["warnings"])


# --- item 19: the tokenising layer below both routes ------------------------------------------


@pytest.mark.parametrize("module", ["x12_tokens", "x12_columnar", "x12"])
def test_each_module_imports_alone(module: str) -> None:
    code = f"import oonplaybook.ingest.{module}"
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_columnar_route_does_not_import_the_walk() -> None:
    from pathlib import Path

    import oonplaybook.ingest.x12_columnar as col
    import oonplaybook.ingest.x12_tokens as tok

    for mod in (col, tok):
        src = Path(mod.__file__).read_text()
        assert "ingest import x12\n" not in src and "ingest.x12 import" not in src
        assert "import x12_columnar" not in src or mod is col
