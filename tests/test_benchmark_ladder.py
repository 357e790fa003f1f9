"""Benchmark ladder: rungs side by side, UCR fall-back, FAIR Health BYO, TiC, bootstrap CI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from oonplaybook import benchmark, tic


def _lines(n: int, *, cpt="99285", loc="13202-01", state="NY", billed=None, paid=None, **kw):
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "claim_id": [f"C{i:05d}" for i in range(n)],
            "line_no": 1,
            "payer": kw.get("payer", "Acme"),
            "specialty": "emergency_medicine",
            "cpt": cpt,
            "modifiers": kw.get("modifiers", ""),
            "units": 1.0,
            "unit_type": "UN",
            "pos": "23",
            "state": state,
            "locality": loc,
            "billed": billed if billed is not None else np.round(rng.uniform(500, 1500, n), 2),
            "allowed": paid if paid is not None else 300.0,
            "paid": paid if paid is not None else 300.0,
            "qpa": kw.get("qpa", np.nan),
            "claim_status": "paid",
            "provider_npi": kw.get("npi", "1234567893"),
        }
    )
    return df


def test_one_row_per_line_keyed_and_medicare_rung():
    lines = _lines(30)
    out = benchmark.build_benchmarks(lines.iloc[::-1], year=2025, default_locality="13202-01")
    assert len(out) == 30 and not out.duplicated(["claim_id", "line_no"]).any()
    assert out["claim_id"].is_monotonic_increasing
    # 99285 Manhattan facility = 190.63 (hand-computed in test_reference_pfs)
    assert (out["medicare_allowed"] == 190.63).all()
    assert out["paid_x_medicare"].iloc[0] == pytest.approx(300 / 190.63)
    for rung in ("medicare", "ucr", "fh", "qpa", "tic"):
        assert f"{rung}_source" in out.columns and f"{rung}_vintage" in out.columns


def test_ucr_code_level_percentiles_exact():
    billed = np.arange(1, 41) * 10.0  # 10..400, n = 40 >= 20
    out = benchmark.build_benchmarks(
        _lines(40, billed=billed), year=2025, default_locality="13202-01"
    )
    expected = np.quantile(billed, [0.5, 0.75, 0.8, 0.9])
    got = out[["ucr_p50", "ucr_p75", "ucr_p80", "ucr_p90"]].iloc[0].to_numpy()
    np.testing.assert_allclose(got, np.round(expected, 2))
    assert (out["ucr_level"] == "code+mod+locality").all() and (out["ucr_count"] == 40).all()


def test_ucr_falls_back_to_state_then_code_then_family():
    a = _lines(25, loc="13202-01", billed=np.full(25, 1000.0))
    b = _lines(5, loc="13202-02", billed=np.full(5, 2000.0))  # same state, too few alone
    c = _lines(3, loc="02102-01", state="AK", billed=np.full(3, 3000.0))
    d = _lines(2, cpt="99284", loc="02102-01", state="AK", billed=np.full(2, 900.0))
    lines = pd.concat([a, b, c, d], ignore_index=True)
    lines["claim_id"] = [f"C{i:03d}" for i in range(len(lines))]
    out = benchmark.build_benchmarks(
        lines, year=2025, default_locality="13202-01", ucr_min_count=20
    )
    lvl = out.set_index("claim_id")["ucr_level"]
    assert set(lvl.iloc[:25]) == {"code+mod+locality"}
    assert set(lvl.iloc[25:30]) == {"code+mod+state"}  # NY: 30 charges of 99285
    assert set(lvl.iloc[30:33]) == {"code+mod"}  # AK 99285: all 33 charges of the code
    # 99284 in AK: 2 charges; family em_emergency over all 35 lines -> multiple x Medicare
    assert set(lvl.iloc[33:]) == {"family"}
    assert out["ucr_count"].iloc[33] == 35
    fam_mult = (lines["billed"] / out["medicare_allowed"]).to_numpy()
    assert out["ucr_p50"].iloc[33] == pytest.approx(
        np.median(fam_mult) * out["medicare_allowed"].iloc[33], abs=0.01
    )


def test_ucr_none_when_too_few_everywhere():
    out = benchmark.build_benchmarks(
        _lines(3), year=2025, default_locality="13202-01", ucr_min_count=20
    )
    assert out["ucr_p80"].isna().all()
    assert out["ucr_level"].str.startswith("none").all()


def test_fair_health_byo_table(tmp_path):
    p = tmp_path / "fh.csv"
    p.write_text(
        "code,modifier,area,p50,p75,p80,p90,vintage\n"
        "99285,,13202-01,900,1100,1200,1500,FH 2025H1\n"
        "99285,,NY,800,1000,1100,1400,FH 2025H1\n"
    )
    fh = benchmark.read_fair_health(p)
    lines = pd.concat([_lines(2), _lines(1, loc="13202-02")], ignore_index=True)
    lines["claim_id"] = ["A", "B", "C"]
    out = benchmark.build_benchmarks(lines, year=2025, default_locality="13202-01", fair_health=fh)
    assert out["fh_p80"].tolist() == [1200.0, 1200.0, 1100.0]
    assert out["fh_level"].tolist() == ["locality", "locality", "state"]
    assert (out["fh_vintage"] == "FH 2025H1").all()
    assert out["gap_fh_p80"].tolist() == [900.0, 900.0, 800.0]
    bad = tmp_path / "bad.csv"
    bad.write_text("code,modifier,area,p80\n790,,NY,50\n")
    with pytest.raises(benchmark.BenchmarkInputError, match="leading"):
        benchmark.read_fair_health(bad)


def test_qpa_and_tic_rungs(tmp_path):
    doc = {
        "reporting_entity_name": "Acme",
        "last_updated_on": "2025-05-01",
        "version": "1.0.0",
        "out_of_network": [
            {
                "billing_code_type": "CPT",
                "billing_code": "99285",
                "allowed_amounts": [
                    {
                        "tin": "1",
                        "service_code": ["23"],
                        "payments": [
                            {
                                "allowed_amount": 350.0,
                                "providers": [{"billed_charge": 1000, "npi": [1234567893]}],
                            },
                            {
                                "allowed_amount": 250.0,
                                "providers": [{"billed_charge": 900, "npi": [999]}],
                            },
                            {
                                "allowed_amount": 270.0,
                                "providers": [{"billed_charge": 900, "npi": [998]}],
                            },
                        ],
                    }
                ],
            }
        ],
    }
    (tmp_path / "aa.json").write_text(json.dumps(doc))
    aa = tic.read_allowed_amounts(tmp_path / "aa.json")
    lines = pd.concat(
        [_lines(1, qpa=310.0), _lines(1, npi="5555555555"), _lines(1, payer="Beacon Health")],
        ignore_index=True,
    )
    lines["claim_id"] = ["A", "B", "C"]
    out = benchmark.build_benchmarks(
        lines, year=2025, default_locality="13202-01", allowed_amounts=aa
    )
    assert out["qpa"].tolist()[0] == 310.0 and out["gap_qpa"].iloc[0] == 10.0
    assert out["qpa_source"].iloc[0] != "" and out["qpa_source"].iloc[1] == ""
    # the file's reporting entity "Acme" is the claims' payer "Acme": Beacon's line gets nothing
    assert out["tic_match"].tolist() == ["code+npi+payer", "code+payer", ""]
    assert out["tic_allowed_median"].iloc[:2].tolist() == [350.0, 270.0]
    assert np.isnan(out["tic_allowed_median"].iloc[2])
    assert out["tic_n"].tolist() == [1, 3, 0]
    assert out["tic_vintage"].iloc[0] == "last_updated_on 2025-05-01"
    # an entity matching no payer is used for every payer, and says so
    doc["reporting_entity_name"] = "Zeta Administrators LLC"
    (tmp_path / "zeta.json").write_text(json.dumps(doc))
    zeta = tic.read_allowed_amounts(tmp_path / "zeta.json")
    out = benchmark.build_benchmarks(
        lines, year=2025, default_locality="13202-01", allowed_amounts=zeta
    )
    assert out["tic_match"].str.endswith("(TiC entity matched to no payer)").all()


def test_match_tic_payers_by_distinctive_words():
    t = pd.DataFrame(
        {
            "reporting_entity_name": [
                "KEYSTONE MUTUAL HEALTH PLAN INC",
                "Health Plan Inc",
                "Pinnacle",
            ],
            "plan_name": ["", "", "Employer PPO"],
        }
    )
    got = benchmark.match_tic_payers(t, ["Keystone Mutual Health", "Pinnacle Employer Health"])
    assert got.tolist() == ["Keystone Mutual Health", "", "Pinnacle Employer Health"]


def test_bootstrap_ci_coverage_near_nominal_and_deterministic():
    # 95% percentile-bootstrap CI of the median of lognormal(log 1.6, 0.2) samples of 150:
    # coverage over 200 independent samples must be near 95% (binomial sd ~1.5 points)
    rng = np.random.default_rng(7)
    hits = 0
    for k in range(200):
        x = np.exp(rng.normal(np.log(1.6), 0.2, 150))
        med, lo, hi = benchmark.bootstrap_median_ci(x, reps=300, seed=k)
        assert lo <= med <= hi
        hits += lo <= 1.6 <= hi
    assert 0.88 <= hits / 200 <= 0.99
    x = np.exp(rng.normal(0, 1, 50))
    assert benchmark.bootstrap_median_ci(x, seed=3) == benchmark.bootstrap_median_ci(x, seed=3)
    assert np.isnan(benchmark.bootstrap_median_ci([np.nan])[0])


def test_demo_repricer_payer_at_planted_multiple():
    from oonplaybook import demo

    port = demo.generate(lines=6000, seed=11)
    bench = benchmark.build_benchmarks(port.claim_lines, year=2025, default_locality="13202-01")
    mult = benchmark.multiples_by_payer(bench, value="allowed_x_medicare", reps=300)
    allrows = mult[mult["code_family"] == "ALL"].set_index("payer")
    repricers = {p: t for p, t in port.truth["payers"].items() if t.get("repricer_multiple")}
    assert repricers
    for payer, t in repricers.items():
        r = allrows.loc[payer]
        assert r["ci_low"] <= t["repricer_multiple"] <= r["ci_high"], (payer, r.to_dict())
    # and the repricer is the lowest-paying payer of the portfolio
    assert allrows["median"].idxmin() in repricers
    text = benchmark.benchmark_summary_text(mult)
    assert any(p in text[0] for p in repricers)


def test_empty_claim_lines_give_empty_ladder_and_figures():
    from oonplaybook import schema

    bench = benchmark.build_benchmarks(
        schema.empty_claim_lines(), year=2025, default_locality="13202-01"
    )
    assert bench.empty and "medicare_allowed" in bench.columns
    mult = benchmark.multiples_by_payer(bench)
    assert benchmark.findings(mult) == [
        "No paid lines with a Medicare price: nothing to benchmark."
    ]
    fig = benchmark.plot_multiples(bench, mult=mult)
    assert "no paid lines" in fig.axes[0].texts[0].get_text()


def test_claim_level_lines_kept_with_reason():
    lines = _lines(2)
    lines.loc[1, ["line_no", "cpt"]] = [0, ""]
    out = benchmark.build_benchmarks(lines, year=2025, default_locality="13202-01")
    assert len(out) == 2
    row = out[out["line_no"] == 0].iloc[0]
    assert np.isnan(row["medicare_allowed"]) and row["medicare_reason"] != ""


def test_exact_bootstrap_ci_matches_monte_carlo_for_large_groups(monkeypatch):
    # the exact bootstrap distribution of the median (used from EXACT_BOOTSTRAP_MIN_N on) must
    # agree with many Monte Carlo resamples to within Monte Carlo error, odd and even n
    rng = np.random.default_rng(5)
    for n in (3001, 3000):
        x = np.exp(rng.normal(np.log(1.6), 0.3, n))
        exact = benchmark.bootstrap_median_ci(x, seed=1)
        monkeypatch.setattr(benchmark, "EXACT_BOOTSTRAP_MIN_N", 10**9)
        mc = benchmark.bootstrap_median_ci(x, reps=4000, seed=1)
        monkeypatch.setattr(benchmark, "EXACT_BOOTSTRAP_MIN_N", 1_000)
        assert exact[0] == mc[0]
        width = mc[2] - mc[1]
        assert abs(exact[1] - mc[1]) < 0.05 * width and abs(exact[2] - mc[2]) < 0.05 * width
        assert exact[1] < exact[0] < exact[2]


def test_gap_table_compares_benchmarks_with_allowed() -> None:
    """One basis (issue 14): allowed-level benchmarks against allowed (plan payment + patient
    share); the plan payment's gap to Medicare apart; a rung no line has is missing, not $0."""
    import math

    from oonplaybook import benchmark as bm

    bench = pd.DataFrame(
        {
            "payer": ["A", "A"],
            "claim_status": ["paid", "paid"],
            "paid": [80.0, 150.0],
            "patient_resp": [20.0, 0.0],
            "allowed": [100.0, 150.0],
            "medicare_allowed": [120.0, 100.0],
            "qpa": [110.0, float("nan")],
            "fh_p80": [float("nan"), float("nan")],
        }
    )
    g = bm.gap_table(bench).iloc[0]
    assert g["Medicare: allowed below ($)"] == 20.0  # 120 - 100; the second line is above
    assert g["Medicare: plan payment below ($)"] == 40.0  # 120 - 80
    assert g["QPA: allowed below ($)"] == 10.0 and g["QPA: lines"] == 1
    assert math.isnan(g["FAIR Health p80: allowed below ($)"])
    assert g["allowed"] == 250.0 and g["paid"] == 230.0
