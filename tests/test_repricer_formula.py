"""Formula / reference-based pricing: a tight multiple of Medicare flagged without a vendor name."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from oonplaybook.payers import fit_all
from oonplaybook.payers.figures import readings
from oonplaybook.payers.repricer import FORMULA, NAMED, repricer_fingerprint

from .conftest import ensure_demo_data


def _paid(payer: str, multiple: float, sd: float, n: int, codes: int, mark: str, seed: int):
    """Simulated paid lines: allowed = multiple x Medicare x lognormal(0, sd) noise."""
    rng = np.random.default_rng(seed)
    y = np.log(multiple) + rng.normal(0, sd, n)
    return pd.DataFrame(
        {
            "payer": payer,
            "cpt": [f"{99281 + i % codes}" for i in range(n)],
            "y": y,
            "repricer": mark,
            "carc": "45",
            "capped": False,
        }
    )


def _fit() -> pd.DataFrame:
    paid = pd.concat(
        [
            _paid("Formula", 1.40, 0.01, 80, 12, "", 1),
            _paid("Dispersed", 1.60, 0.25, 80, 12, "", 2),
            _paid("Named", 1.25, 0.01, 80, 12, "MULTIPLAN", 3),
            _paid("OneCode", 1.30, 0.005, 80, 1, "", 4),
            _paid("Few", 1.40, 0.01, 10, 5, "", 5),
        ],
        ignore_index=True,
    )
    return repricer_fingerprint(paid).table.set_index("term")


def test_tight_multiple_without_vendor_is_formula_pricing() -> None:
    t = _fit()
    r = t.loc["Formula"]
    assert r["flagged"] and r["level"] == FORMULA
    assert abs(r["estimate"] - 1.40) < 0.01 and r["log_spread"] < 0.05
    assert "1.40" in r["evidence"] and "across 12 codes" in r["evidence"]
    assert "no repricing vendor named" in r["evidence"]


def test_dispersed_payer_is_not_flagged() -> None:
    r = _fit().loc["Dispersed"]
    assert not r["flagged"] and r["level"] == "" and not r["tight_cluster"]


def test_named_vendor_stays_its_own_level() -> None:
    r = _fit().loc["Named"]
    assert r["flagged"] and r["level"] == NAMED and "MULTIPLAN" in r["evidence"]


def test_one_code_at_one_price_and_thin_payers_are_not_formula() -> None:
    t = _fit()
    assert t.loc["OneCode"]["level"] == "" and "fixed fee" in t.loc["OneCode"]["evidence"]
    assert t.loc["Few"]["level"] == "" and "not assessed" in t.loc["Few"]["evidence"]


def test_capped_lines_do_not_hide_the_formula() -> None:
    paid = _paid("Formula", 1.40, 0.01, 80, 12, "", 1)
    # 30 lines billed below the formula: allowed at billed, far below 1.4x Medicare
    capped = _paid("Formula", 0.8, 0.2, 30, 12, "", 9).assign(capped=True)
    r = repricer_fingerprint(pd.concat([paid, capped])).table.set_index("term").loc["Formula"]
    assert r["level"] == FORMULA and r["n"] == 80


def test_demo_payer_switched_to_formula_pricing_is_named_in_the_findings() -> None:
    d = ensure_demo_data()
    truth = json.loads((d / "truth.json").read_text())
    lines = pd.read_parquet(d / "portfolio.parquet")
    fair = next(p for p, t in truth["payers"].items() if t["behaviour"] == "fair")
    m = (
        lines["payer"].eq(fair)
        & lines["claim_status"].eq("paid")
        & (lines["medicare_allowed"] > 0)
        & (lines["billed"] > 2 * lines["medicare_allowed"])
    )
    lines.loc[m, "allowed"] = (1.45 * lines.loc[m, "medicare_allowed"]).round(2)
    lines.loc[lines["payer"].eq(fair), "repricer"] = ""
    pm = fit_all(lines, None, cutoff_date=truth["cutoff_date"], seed=0)
    sc = pm.scorecard().set_index("payer")
    assert sc.loc[fair, "repricer_level"] == FORMULA
    named = [p for p, t in truth["payers"].items() if t["behaviour"] == "repricer"]
    assert all(sc.loc[p, "repricer_level"] == NAMED for p in named)
    others = [p for p in sc.index if p != fair and p not in named]
    assert not sc.loc[others, "repricer_flag"].any()
    text = " ".join(readings(pm))
    assert f"{fair} prices by formula (reference-based pricing, no vendor named)" in text


def test_executive_summary_names_formula_pricing() -> None:
    from oonplaybook.executive import payer_findings as executive_findings

    sc = pd.DataFrame(
        {
            "payer": ["F", "N"],
            "repricer_flag": [True, True],
            "repricer_level": [FORMULA, NAMED],
            "repricer_evidence": ["allowed clusters at 1.400x Medicare", "MULTIPLAN"],
        }
    )
    text = executive_findings(sc)
    assert any(t.startswith("F pays by formula (reference-based pricing") for t in text), text
    assert any(t.startswith("N pays by a repricer's formula") for t in text), text
