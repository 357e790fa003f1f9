"""Worklist: routes, deadlines, lost-not-dropped, hand-computed expected recovery."""

from __future__ import annotations

import pandas as pd
import pytest

from oonplaybook.config import PlaybookSettings
from oonplaybook.playbook import build_targets, build_worklist, patient_protections
from oonplaybook.playbook.worklist import (
    APPEAL_PRIOR_WEIGHT,
    APPEAL_SUCCESS_PRIOR,
    CORRECTED_CLAIM_SUCCESS,
)
from tests._playbook_fixtures import AS_OF, PRIORS, appeals, assessment, portfolio

S = PlaybookSettings()


@pytest.fixture(scope="module")
def wl() -> pd.DataFrame:
    lines = portfolio()
    a = assessment(lines)
    t = build_targets(lines, None, None, None, S, nsa_assessment=a, priors=PRIORS)
    return build_worklist(
        lines, None, a, t, None, as_of=AS_OF, settings=S, appeals=appeals(), priors=PRIORS
    ).set_index("claim_id")


def test_every_problem_claim_is_listed_and_adequate_ones_are_not(wl: pd.DataFrame) -> None:
    assert set(wl.index) == {"E1", "E2", "E3", "M1", "C1", "M2", "S1"}  # M0 is paid at target


def test_improper_emergency_prior_auth_denial_goes_to_open_negotiation(wl: pd.DataFrame) -> None:
    e1 = wl.loc["E1"]
    assert e1["route"] == "open_negotiation" and e1["status"] == "open"
    assert e1["next_step"] == "idr" and bool(e1["idr_candidate"])
    assert e1["letter_type"] == "open_negotiation_notice"
    assert e1["deadline"] > pd.Timestamp(AS_OF)
    # EV = 0.8 x ($1,000 offer - $0 paid) - ($115 admin + 0.2 x $840 IDRE fee, 2025 schedule) = $517
    assert e1["at_stake"] == pytest.approx(1000.0)
    assert e1["expected_recovery"] == pytest.approx(517.0)


def test_past_deadline_is_lost_not_dropped(wl: pd.DataFrame) -> None:
    e2 = wl.loc["E2"]
    assert e2["status"] == "lost"
    assert e2["expected_recovery"] == 0.0 and e2["priority"] == 0.0
    # IDR offer QPA $400 x 2.5 award = $1,000 less the $300 already paid, at p_win 0.8
    assert e2["at_stake"] == pytest.approx(700.0)
    assert e2["lost_revenue"] == pytest.approx(0.8 * 700.0)
    # a payment-amount dispute under the NSA has no appeal fallback once open negotiation lapses
    assert e2["route"] == "open_negotiation"
    assert e2["days_left"] < 0
    assert list(wl.index).index("E2") > list(wl.index).index(
        "E3"
    )  # lost items sort after open ones


def test_medical_necessity_goes_to_appeal_with_records(wl: pd.DataFrame) -> None:
    m1 = wl.loc["M1"]
    assert m1["route"] == "appeal_l1"
    assert "medical records" in m1["documents_needed"]
    assert m1["letter_type"] == "appeal"
    # one upheld medical-necessity appeal at Beta shrinks the 54.3% prior: p = (0 + 20*0.543)/(1 + 20)
    p = (APPEAL_PRIOR_WEIGHT * APPEAL_SUCCESS_PRIOR) / (1 + APPEAL_PRIOR_WEIGHT)
    assert m1["probability"] == pytest.approx(p)
    # overturned, Beta pays its usual 1.6x Medicare = $2,400; minus the $57.23 cost of working it
    assert m1["at_stake"] == pytest.approx(2400.0)
    assert m1["expected_recovery"] == pytest.approx(round(p * 2400.0 - 57.23, 2), abs=0.01)
    # ERISA does not apply (fully insured): contract window 180 days from 2025-06-01
    assert m1["deadline"] == pd.Timestamp("2025-11-28")


def test_upheld_level_one_moves_to_level_two(wl: pd.DataFrame) -> None:
    m2 = wl.loc["M2"]
    assert m2["route"] == "appeal_l2"
    assert m2["deadline"] == pd.Timestamp("2025-05-01") + pd.Timedelta(days=180)
    assert m2["next_step"] == "external_review"


def test_coding_denial_goes_to_corrected_claim(wl: pd.DataFrame) -> None:
    c1 = wl.loc["C1"]
    assert c1["route"] == "corrected_claim"
    assert c1["expected_recovery"] == pytest.approx(
        CORRECTED_CLAIM_SUCCESS * 2400.0 - 57.23, abs=0.01
    )
    assert c1["deadline"] == pd.Timestamp("2025-06-01") + pd.Timedelta(days=365)


def test_self_pay_goes_to_patient_bill(wl: pd.DataFrame) -> None:
    s1 = wl.loc["S1"]
    assert s1["route"] == "patient_bill" and s1["letter_type"] == "patient_explanation"


def test_priority_is_ev_times_urgency(wl: pd.DataFrame) -> None:
    open_ = wl[wl["status"] == "open"]
    exp = (open_["expected_recovery"].clip(lower=0) * open_["urgency"]).round(2)
    assert (open_["priority"] - exp).abs().max() < 0.011
    assert open_["priority"].is_monotonic_decreasing


def test_patient_protections() -> None:
    lines = portfolio()
    pp = patient_protections(lines, assessment(lines)).set_index("claim_id")
    assert bool(pp.loc["S1", "ppdr_eligible"]) and pp.loc["S1", "bill_over_gfe"] == pytest.approx(
        500.0
    )
    assert not bool(pp.loc["E1", "balance_bill_allowed"])
    assert bool(pp.loc["M1", "balance_bill_allowed"])
    assert (
        pp.loc["S1", "ppdr_window_end"] is pd.NaT
        or pd.isna(pp.loc["S1", "ppdr_window_end"]) is False
    )


def test_arrow_isin_equals_pandas_isin_with_missing_values():
    from oonplaybook.playbook._adapters import isin

    values = pd.Series(["C1", "C2", None, "C3", "C1"], dtype="str", index=[5, 4, 3, 2, 1])
    probe = pd.Series(["C1", "C3", "C9"], dtype="str")
    got = isin(values, probe)
    assert got.tolist() == values.isin(probe).tolist() == [True, False, False, True, True]
    assert got.index.tolist() == [5, 4, 3, 2, 1] and got.dtype == bool
    assert not isin(values, []).any()


def test_read_benchmarks_reads_only_the_joined_columns(tmp_path):
    from oonplaybook.payers.io import read_benchmarks as payer_read
    from oonplaybook.playbook import read_benchmarks

    df = pd.DataFrame(
        {
            "claim_id": ["A", "B"],
            "line_no": [1, 1],
            "medicare_allowed": [10.0, 20.0],
            "ucr_p80": [30.0, 40.0],
            "medicare_source": ["x", "y"],
        }
    )
    df.to_parquet(tmp_path / "benchmarks.parquet", index=False)
    got = read_benchmarks(tmp_path / "benchmarks.parquet")
    assert set(got.columns) == {"claim_id", "line_no", "medicare_allowed", "ucr_p80"}
    assert list(payer_read(tmp_path / "benchmarks.parquet").columns) == [
        "claim_id",
        "line_no",
        "medicare_allowed",
    ]
    with pytest.raises(FileNotFoundError, match="20_benchmark"):
        read_benchmarks(tmp_path / "missing.parquet")


def test_write_csv_is_byte_identical_to_pandas(tmp_path):
    import io

    import numpy as np

    from oonplaybook.playbook import write_csv

    stamps = ["2025-01-01", None, "2025-02-03", "2025-01-01", None, "2024-12-31"]
    frame = pd.DataFrame(
        {
            "text": pd.Series(["a", "b,c", 'q"x', "line\nbreak", "", None], dtype="str"),
            "money": [1.0, 0.1 + 0.2, np.nan, 1e16, -0.0, 0.0],
            "n": np.arange(6, dtype="int64"),
            "flag": [True, False, True, False, True, False],
            "day": pd.to_datetime(stamps).astype("datetime64[us]"),
            "stamp": pd.to_datetime([s and f"{s} 10:30" for s in stamps]).astype("datetime64[us]"),
            "count": pd.array([1, None, 3, 4, 5, 6], dtype="Int64"),
            "cat": pd.Categorical(["x", "y,z", None, "x", "x", "y,z"]),
        }
    )
    for df in (frame, frame.head(0), frame[["text"]]):
        want = io.StringIO()
        df.to_csv(want, index=False)
        got = write_csv(df, tmp_path / "out.csv").read_bytes().decode("utf-8")
        assert got == want.getvalue()
        blocks = write_csv(df, tmp_path / "blocks.csv", block_rows=4).read_bytes().decode("utf-8")
        assert blocks == want.getvalue()  # rows assembled in blocks of 4: the same bytes
