"""The in-network benchmark rung and the QPA check (hand-worked, and the demo's planted case).

The QPA is meant to be the plan's median contracted rate for the item in the area (45 CFR
149.140(a)(1), indexed from 2019), so a QPA far below the same payer's published in-network
median is evidence worth putting in front of the payer; percentage-of-billed contracts are a
share of the line's own charge and are never averaged with dollar rates.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oonplaybook import tic_benchmark as tb
from oonplaybook import tic_generate as tg
from oonplaybook import tic_in_network as tin

GROUPS = tg.make_groups(6, seed=3, npis_per_tin=4)


@pytest.fixture(scope="module")
def rates(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    d = tmp_path_factory.mktemp("tic")
    tg.write_in_network(
        d / "a.json.gz",
        payer="Keystone Mutual Health",
        groups=GROUPS,
        rates={
            "99285": [
                (1, "negotiated", 300.0),
                (2, "negotiated", 400.0),
                (3, "negotiated", 500.0),
                (4, "derived", 0.0),
                (5, "percentage", 40.0),
            ],
            "99284": [(1, "negotiated", 200.0), (6, "per diem", 1500.0)],
        },
    )
    tg.write_in_network(
        d / "b.json.gz",
        payer="Summit Benefit Plans",
        groups=GROUPS,
        rates={"99285": [(1, "negotiated", 600.0), (2, "negotiated", 700.0)]},
    )
    tin.extract([d], ["99285", "99284"], d / "rates")
    return tin.read_dataset(d / "rates")


def _lines() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "payer": [
                "Keystone Mutual Health",
                "Keystone Mutual Health",
                "Summit Benefit Plans",
                "Other Plan",
            ],
            "cpt": ["99285", "99284", "99285", "99285"],
            "modifiers": ["", "", "", ""],
            "pos": ["23", "23", "23", "23"],
            "billed": [1000.0, 500.0, 1000.0, 1000.0],
            "qpa": [250.0, 190.0, 640.0, np.nan],
            "allowed": [350.0, 180.0, 600.0, 300.0],
            "medicare_allowed": [170.0, 120.0, 170.0, 170.0],
        }
    )


def test_rung_hand_worked(rates: pd.DataFrame) -> None:
    r = tb.in_network_rung(_lines(), rates)
    # Keystone 99285: dollars 300, 400, 500 (the $0 derived rate is flagged and left out)
    assert r.loc[0, "innet_median"] == 400.0 and r.loc[0, "innet_groups"] == 3
    assert r.loc[0, "innet_p25"] == 350.0 and r.loc[0, "innet_p75"] == 450.0
    assert r.loc[0, "innet_rates"] == 3
    # the 40%-of-billed contract applies to this line's own $1,000 charge, apart from dollars
    assert r.loc[0, "innet_pct_of_billed_median"] == 40.0 and r.loc[0, "innet_pct_amount"] == 400.0
    # 99284: the per-diem price is no professional benchmark
    assert r.loc[1, "innet_median"] == 200.0 and r.loc[1, "innet_groups"] == 1
    # all payers, 99285: 300, 400, 500, 600, 700
    # (the two payers contract with the same groups 1-2: 3 distinct provider groups)
    assert r.loc[0, "innet_all_median"] == 500.0 and r.loc[0, "innet_all_groups"] == 3
    # Summit's own rates: 600 and 700
    assert r.loc[2, "innet_median"] == 650.0
    # a payer with no published file gets no own-payer rung, only the regional one
    assert np.isnan(r.loc[3, "innet_median"]) and r.loc[3, "innet_all_median"] == 500.0
    assert r.loc[0, "innet_match"] == "payer+code+modifier"  # no file lists POS 23
    assert "a.json.gz" in r.loc[0, "innet_source"] and "2026-11" in r.loc[0, "innet_vintage"]


def test_qpa_check_flags_far_below_with_evidence(rates: pd.DataFrame) -> None:
    r = tb.in_network_rung(_lines(), rates, qpa_flag_below=0.8)
    assert r.loc[0, "qpa_to_innet_median"] == pytest.approx(0.625)  # 250 / 400
    assert r.loc[0, "qpa_check"].startswith("QPA is 0.62x the payer's own in-network median")
    assert "3 provider groups" in r.loc[0, "qpa_check"] and "a.json.gz" in r.loc[0, "qpa_check"]
    assert r.loc[1, "qpa_check"] == ""  # 190 / 200 = 0.95
    assert r.loc[2, "qpa_check"] == ""  # 640 / 650


def test_no_dataset_gives_empty_rung() -> None:
    r = tb.in_network_rung(_lines(), None)
    assert r["innet_median"].isna().all() and (r["qpa_check"] == "").all()


def test_missing_dataset_path_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="oonplaybook tic extract"):
        tb.load(tmp_path / "nope")


def test_demo_planted_qpa_check(demo_data: Path) -> None:
    """The demo's TiC files: the payer whose QPAs sit at 0.6x its in-network median is flagged."""
    import json

    from oonplaybook import benchmark as bm
    from oonplaybook import demo_tic

    truth = json.loads((demo_data / "truth.json").read_text())["tic"]
    cl = pd.read_parquet(demo_data / "portfolio.parquet")
    cl = cl[cl["payer"] != "Self Pay"].head(6000)
    data = tb.load(demo_data / truth["dataset"])
    bench = bm.build_benchmarks(cl, year=2025, default_locality="13202-01", in_network=data)
    assert bench["innet_median"].notna().mean() > 0.5
    # per line a QPA varies with the locality; per payer and code the planted ratio shows
    table = tb.qpa_check_table(bench)
    by_payer = table.groupby("payer")["qpa_to_innet_median"].median()
    assert sorted(by_payer[by_payer < 0.8].index) == truth["qpa_below"]
    assert by_payer[truth["qpa_below"]].iloc[0] == pytest.approx(truth["ratio_flagged"], abs=0.03)
    assert (by_payer.drop(truth["qpa_below"]) - truth["ratio_fair"]).abs().max() < 0.03
    payer, code = truth["qpa_below"][0], next(iter(sorted(truth["medians"][truth["qpa_below"][0]])))
    got = bench.loc[(bench["payer"] == payer) & (bench["cpt"] == code), "innet_median"].dropna()
    if len(got):
        assert got.iloc[0] == pytest.approx(demo_tic.median_written(truth, payer, code), abs=0.01)
