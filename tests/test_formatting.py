"""The one formatting layer: kinds from column names, values for people, tables and HTML."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from oonplaybook import formatting as fmt
from oonplaybook import glossary
from oonplaybook.formatting import Kind


@pytest.mark.parametrize(
    ("column", "values", "kind"),
    [
        ("billed", [10994235.0], Kind.MONEY),
        ("expected_recovery", [1.0], Kind.MONEY),
        ("admin_fee", [115.0], Kind.MONEY_CENTS),
        ("paid_share_of_billed", [0.28], Kind.PERCENT),
        ("denial rate", [0.28], Kind.PERCENT),
        ("appeal overturn", [0.5], Kind.PERCENT),
        ("current_x", [1.85], Kind.MULTIPLE),
        ("x Medicare now", [1.85], Kind.MULTIPLE),
        ("denial_odds_ratio", [1.85], Kind.MULTIPLE),
        ("speed HR", [0.8], Kind.MULTIPLE),
        ("denial_odds_ratio_p", [5.6e-23], Kind.P_VALUE),
        ("p_value", [0.2], Kind.P_VALUE),
        ("drift_p_holm", [0.2], Kind.P_VALUE),
        ("open_items", [409.0], Kind.COUNT),
        ("lines", [3], Kind.COUNT),
        ("Medicare: lines", [3], Kind.COUNT),
        ("Medicare: paid below ($)", [3.0], Kind.MONEY),
        ("days_left", [9.0], Kind.DAYS),
        ("median days", [31.5], Kind.DAYS),
        ("service_date", pd.to_datetime(["2025-01-02"]), Kind.DATE),
        ("nsa_applies", [True], Kind.YES_NO),
        ("worth_filing", ["True"], Kind.YES_NO),
        ("claim_id", ["DM1"], Kind.CODE),
        ("provider_tin", [841234562], Kind.CODE),
        ("lines", ["1:2"], Kind.TEXT),
        ("target_rationale", ["because"], Kind.TEXT),
        ("patient_cost_share_cap", [250.0], Kind.MONEY),
        ("target_pct_billed", [0.4], Kind.PERCENT),
        ("drift size", [0.72], Kind.MULTIPLE),
        ("batching_gain", [1605.11], Kind.MONEY),
        ("unpaid_other", [1605.11], Kind.MONEY),
        ("overturned", [52], Kind.COUNT),
        ("deadline", ["2026-02-09", None], Kind.DATE),
        ("letter", ["open_negotiation/DM1.md"], Kind.CODE),
        ("overturn_rate", [0.38], Kind.PERCENT),
    ],
)
def test_kind_of(column: str, values: list, kind: Kind) -> None:
    assert fmt.kind_of(column, pd.Series(values)) is kind


def test_kind_of_by_name_only() -> None:
    assert fmt.kind_of("deadline") is Kind.DATE
    assert fmt.kind_of("initiate_by") is Kind.DATE
    assert fmt.kind_of("needed_by") is Kind.TEXT
    assert fmt.kind_of("claim_id") is Kind.CODE
    assert fmt.kind_of("billed") is Kind.MONEY


@pytest.mark.parametrize(
    ("value", "kind", "text"),
    [
        (10994235.0, Kind.MONEY, "$10,994,235"),
        (999.5, Kind.MONEY, "$999.50"),
        (1000.4, Kind.MONEY, "$1,000"),
        (-2500.0, Kind.MONEY, "-$2,500"),
        (0.0, Kind.MONEY, "$0.00"),
        (1234.5, Kind.MONEY_CENTS, "$1,234.50"),
        (0.28, Kind.PERCENT, "28.0%"),
        (1.853, Kind.MULTIPLE, "1.85x"),
        (5.6e-23, Kind.P_VALUE, "<0.001"),
        (0.0123, Kind.P_VALUE, "0.012"),
        (409.0, Kind.COUNT, "409"),
        (12411, Kind.COUNT, "12,411"),
        (9.0, Kind.DAYS, "9"),
        (pd.Timestamp("2026-02-09"), Kind.DATE, "2026-02-09"),
        (date(2026, 2, 9), Kind.DATE, "2026-02-09"),
        ("2026-02-09", Kind.DATE, "2026-02-09"),
        (True, Kind.YES_NO, "yes"),
        (np.False_, Kind.YES_NO, "no"),
        ("False", Kind.YES_NO, "no"),
        (841234562.0, Kind.CODE, "841234562"),
        ("00100", Kind.CODE, "00100"),
        (float("nan"), Kind.MONEY, "—"),
        (None, Kind.TEXT, "—"),
        (pd.NaT, Kind.DATE, "—"),
        (pd.NA, Kind.COUNT, "—"),
        ("nan", Kind.TEXT, "—"),
    ],
)
def test_format_value(value: object, kind: Kind, text: str) -> None:
    assert fmt.format_value(value, kind) == text


def test_labels_are_human() -> None:
    assert fmt.label("paid_share_of_billed") == "Paid / billed"
    assert fmt.label("underpaid_vs_target") == glossary.term("underpaid against target").name
    assert fmt.label("expected_recovery") == glossary.term("expected recoverable").name
    assert fmt.label("lost_revenue") == glossary.term("lost").name
    assert fmt.label("some_new_column") == "Some new column"
    assert fmt.label("x Medicare now") == "Allowed now (x Medicare)"
    assert fmt.label("Written for people") == "Written for people"
    assert "_" not in fmt.label("ev_net_if_single")


def test_format_table_no_index_no_raw_values() -> None:
    df = pd.DataFrame(
        {
            "specialty": ["radiology", None, ""],
            "billed": [10994235.0, np.nan, 5.0],
            "denial_rate_lines": [0.28, 0.1, np.nan],
            "worth_filing": [True, False, True],
            "deadline": pd.to_datetime(["2026-01-01", None, "2026-01-03"]),
        },
        index=[55, 67, 79],
    )
    out = fmt.format_table(df)
    assert list(out.index) == [0, 1, 2]
    assert list(out.columns) == [
        "Specialty",
        "Billed",
        "Denial rate (lines)",
        "Worth filing",
        "Deadline",
    ]
    assert out["Specialty"].tolist() == ["radiology", "specialty not recorded"] * 1 + [
        "specialty not recorded"
    ]
    cells = set(out.to_numpy().ravel())
    assert cells.isdisjoint({"NaN", "nan", "NaT", "None", "True", "False"})
    assert out.loc[0, "Billed"] == "$10,994,235"
    assert out.loc[1, "Deadline"] == "—"


def test_format_table_groupby_index_becomes_column() -> None:
    g = pd.DataFrame({"payer": ["a", "b"], "paid": [1.0, 2.0]}).groupby("payer").sum()
    out = fmt.format_table(g)
    assert list(out.columns) == ["Payer", "Paid"]


def test_to_html_top_n_names_where_rest_is() -> None:
    df = pd.DataFrame({"claim_id": [f"C{i}" for i in range(40)], "billed": range(40)})
    html = fmt.to_html(df, "Worklist", limit=15, where_rest="playbook.xlsx › Worklist")
    assert "Showing 15 of 40: the rest are in playbook.xlsx › Worklist." in html
    assert html.count("<tr>") == 16  # header + 15 rows
    assert 'class="num"' in html and "<caption>Worklist</caption>" in html
    with pytest.raises(ValueError, match="where_rest"):
        fmt.to_html(df, "Worklist", limit=15)
    assert "Showing" not in fmt.to_html(df.head(3), "x")


def test_to_html_total_rows_beyond_frame_and_escaping() -> None:
    df = pd.DataFrame({"reason": ["<b>bad</b> & worse"]})
    html = fmt.to_html(df, "R", total_rows=12411, where_rest="rejects.csv")
    assert "&lt;b&gt;bad&lt;/b&gt; &amp; worse" in html
    assert "Showing 1 of 12,411" in html
    assert 'class="wrap"' in html


def test_table_empty_sentence() -> None:
    t = fmt.table(pd.DataFrame({"a": []}), "x", empty="Nothing over the cap.")
    assert "Nothing over the cap." in t._repr_html_()


def test_excel_formats_cover_every_kind() -> None:
    assert set(fmt.EXCEL_FORMATS) == set(Kind)
    assert fmt.EXCEL_FORMATS[Kind.PERCENT] == "0.0%"
    assert fmt.EXCEL_FORMATS[Kind.MULTIPLE] == '0.00"x"'
    assert "$" in fmt.EXCEL_FORMATS[Kind.MONEY]
    assert "$" not in fmt.EXCEL_FORMATS[Kind.P_VALUE]
    assert fmt.EXCEL_FORMATS[Kind.COUNT] == "#,##0"


def test_glossary_terms() -> None:
    names = [t.name for t in glossary.TERMS]
    for needed in ("Billed not paid", "Underpaid against target", "Expected recoverable", "Lost"):
        assert needed in names
    assert len(glossary.glossary_table()) == len(glossary.TERMS)
    with pytest.raises(KeyError, match="not a glossary term"):
        glossary.term("revenue")


def test_vocabulary_values_read_as_words_and_small_tables_keep_together() -> None:
    df = pd.DataFrame({"route": ["open_negotiation"], "claim_id": ["DM_1"], "billed": [1.0]})
    out = fmt.format_table(df)
    assert out.loc[0, "Route"] == "open negotiation"
    assert out.loc[0, "Claim"] == "DM_1"  # identifiers are left as they are
    assert df.loc[0, "route"] == "open_negotiation"  # the input is not changed
    assert 'class="oop-table keep"' in fmt.to_html(df)
    many = pd.DataFrame({"billed": range(40)})
    assert "keep" not in fmt.to_html(many, limit=40)
    wide = pd.DataFrame({f"c{i}": [1] for i in range(fmt.WIDE_COLUMNS + 1)})
    assert "oop-table wide" in fmt.to_html(wide)


def test_identifiers_break_only_after_separators_and_dates_stay_whole() -> None:
    df = pd.DataFrame({"letter": ["payer/open_negotiation.md"], "deadline": ["2026-02-09"]})
    html = fmt.to_html(df)
    assert '<td class="code">payer/<wbr>open_<wbr>negotiation.<wbr>md</td>' in html
    assert '<td class="date">2026-02-09</td>' in html
