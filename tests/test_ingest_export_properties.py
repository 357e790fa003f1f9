"""Property test over mutated PM exports: nothing lost, nothing altered, no PHI in rejects.

A clean export (every row a distinct code/amount, so no single mutation makes two rows equal)
is damaged row by row: a cell replaced by a hostile value (full-width digits, exponents, inf,
commas, quotes, control characters, non-ASCII, empty), a field dropped or added, an unquoted
thousands comma, a row repeated, blank rows inserted, the whole file re-encoded or re-delimited.
For every mutant the reader either raises its own :class:`IngestError` or returns, and then:

* accepted rows + rejected rows = data rows of the mutant (blank rows are not data);
* every row not mutated is accepted with exactly its original values;
* no patient name or member id appears in any reject.
"""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from oonplaybook.ingest import IngestError, read_table

HEADER = [
    "claim_id",
    "line_no",
    "cpt",
    "service_date",
    "units",
    "billed",
    "payer",
    "member_id",
    "patient_name",
]
N_ROWS = 12
CODES = [
    "99213",
    "99214",
    "99285",
    "93010",
    "36415",
    "71045",
    "00100",
    "J1100",
    "G0378",
    "99284",
    "70450",
    "99283",
]


def clean_rows() -> list[list[str]]:
    """N_ROWS distinct rows: claim C<i // 2> lines 1-2, one patient per claim."""
    rows = []
    for i in range(N_ROWS):
        rows.append(
            [
                f"C{i // 2:03d}",
                str(i % 2 + 1),
                CODES[i],
                f"2025-0{1 + i % 9}-1{i % 10}",
                str(1 + i % 3),
                f"{100 + 17 * i}.{i:02d}",
                ["Acme", "Bolt", "Société Générale"][i % 3],
                f"MEMBERX{i // 2:04d}",
                f"Patient{i // 2} Q Test",
            ]
        )
    return rows


HOSTILE = st.one_of(
    st.sampled_from(
        [
            "１２",
            "1e309",
            "inf",
            "NaN",
            "²",
            "",
            " ",
            "1,234.50",
            '"',
            "12.345",
            "2025011",
            "01/02/68",
            "-0",
            "99999999999",
            "\x00",
            "\t",
            ";",
            "|",
            "é",
            "\u200b",
            "(12.00)",
            "12-",
        ]
    ),
    st.text(st.characters(blacklist_characters="\r\n"), min_size=0, max_size=8),
)

MUTATION = st.one_of(
    st.tuples(st.just("cell"), st.integers(0, len(HEADER) - 3), HOSTILE),
    st.tuples(st.just("drop_field"), st.integers(0, len(HEADER) - 1), st.just("")),
    st.tuples(st.just("add_field"), st.integers(0, len(HEADER)), HOSTILE),
    st.tuples(st.just("thousands"), st.just(5), st.just("")),
    st.tuples(st.just("repeat"), st.just(0), st.just("")),
    st.tuples(st.just("blank_after"), st.just(0), st.just("")),
)

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


def _quote(cell: str, delim: str) -> str:
    """A cell as a CSV writer would write it (quotes when needed)."""
    if any(c in cell for c in (delim, '"', "\n", "\r")):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def build(
    mutations: dict[int, tuple[str, int, str]], delim: str
) -> tuple[str, list[int | None], set[int]]:
    """(text, original row index of each physical line after the header or None, mutated rows)."""
    rows = clean_rows()
    lines = [delim.join(HEADER)]
    origin: list[int | None] = []
    mutated: set[int] = set()
    for i, row in enumerate(rows):
        kind, col, value = mutations.get(i, ("none", 0, ""))
        cells = [_quote(c, delim) for c in row]
        extra: list[str] = []
        if kind == "cell":
            cells[col] = _quote(value, delim)
            mutated.add(i)
        elif kind == "drop_field":
            del cells[col]
            mutated.add(i)
        elif kind == "add_field":
            cells.insert(col, _quote(value, delim))
            mutated.add(i)
        elif kind == "thousands":  # an unquoted thousands separator in billed: "1,117.01"
            cells[col] = "1," + row[col]
            mutated.add(i)
        elif kind == "repeat":
            extra = [delim.join(cells)]
        elif kind == "blank_after":
            extra = [""]
        lines.append(delim.join(cells))
        origin.append(i)
        for x in extra:
            lines.append(x)
            origin.append(None if x == "" else -1)  # -1: a repeat of the row above
    return "\n".join(lines) + "\n", origin, mutated


@SETTINGS
@example(
    mutations={
        0: ("drop_field", len(HEADER) - 1, ""),  # a cut row whose missing field would be empty
        2: ("add_field", len(HEADER), ""),  # a trailing delimiter: a layout, accepted as is
        3: ("thousands", 5, ""),
        4: ("cell", 5, "１２"),
        5: ("cell", 4, "1e309"),
        6: ("repeat", 0, ""),
        7: ("blank_after", 0, ""),
    },
    delim=",",
    encoding="cp1252",
)
@given(
    mutations=st.dictionaries(st.integers(0, N_ROWS - 1), MUTATION, max_size=6),
    delim=st.sampled_from([",", ";", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
)
def test_mutated_exports_lose_and_alter_nothing(
    mutations: dict[int, tuple[str, int, str]], delim: str, encoding: str
) -> None:
    text, origin, mutated = build(mutations, delim)
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    try:
        t = read_table(data, "mutant.csv", "csv", salt="s")
    except IngestError:
        return
    data_lines = [n for n, o in enumerate(origin, start=2) if o is not None]
    # a data line whose cells are all blank after mutation is a spacer, not data
    rows_in = _nonblank_lines(text, data_lines, delim)
    got_rows = {int(s.rsplit(" ", 1)[1]) for s in t.claim_lines["source"]}
    rej_rows = {int(r["location"].split()[1]) for r in t.rejects}
    assert not got_rows & rej_rows, "a row both accepted and rejected"
    assert got_rows | rej_rows == rows_in, (sorted(got_rows | rej_rows), sorted(rows_in))
    assert len(t.claim_lines) + len(t.rejects) == len(rows_in)
    clean = clean_rows()
    by_row = t.claim_lines.set_index(
        t.claim_lines["source"].str.rsplit(" ", n=1).str[1].astype(int)
    )
    for line_no, o in enumerate(origin, start=2):
        if o is None or o < 0:
            continue
        kind, col, value = mutations.get(o, ("none", 0, ""))
        if o not in mutated:
            assert line_no in by_row.index, f"unmutated row {line_no} not accepted: {t.rejects}"
        if line_no not in by_row.index:
            continue
        # an accepted row: every column the mutation did not touch keeps its original value
        # (a row whose field count changed is accepted only for an empty trailing field)
        if kind == "drop_field" or (kind == "add_field" and (value.strip() or col < len(HEADER))):
            raise AssertionError(f"row {line_no} with {kind} accepted: {by_row.loc[line_no]}")
        if kind == "thousands" and delim == ",":
            raise AssertionError(f"row {line_no}: an unquoted thousands comma shifted columns")
        touched = {col} if kind in ("cell", "thousands") else set()
        got = by_row.loc[line_no]
        want = clean[o]
        checks = {
            0: got["claim_id"] == want[0],
            1: int(got["line_no"]) == int(want[1]),
            2: got["cpt"] == want[2],
            3: got["service_date"] == pd.Timestamp(want[3]),
            4: got["units"] == float(want[4]),
            5: got["billed"] == float(want[5]),
            6: got["payer"] == want[6],  # "Société Générale" in any of the encodings
        }
        bad = [HEADER[c] for c, ok in checks.items() if c not in touched and not ok]
        assert not bad, f"row {line_no} ({kind}) altered in {bad}"
    blob = repr(t.rejects)
    for row in clean:
        assert row[7] not in blob and row[8] not in blob


def _nonblank_lines(text: str, data_lines: list[int], delim: str) -> set[int]:
    """Physical line numbers (1-based) of data lines with a non-blank cell."""
    import csv
    import io

    rows = list(csv.reader(io.StringIO(text), delimiter=delim))
    return {n for n in data_lines if n - 1 < len(rows) and any(c.strip() for c in rows[n - 1])}
