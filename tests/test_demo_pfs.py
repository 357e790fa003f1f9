"""The demo on the real 2025 PFS engine (its shipped default price function)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oonplaybook import demo
from oonplaybook.reference import pfs


@pytest.fixture(scope="module")
def port() -> demo.DemoPortfolio:
    return demo.generate(20000, seed=11)


def test_localities_are_real_pfs_localities() -> None:
    known = pfs.localities(demo.FEE_SCHEDULE_YEAR).set_index("locality")
    for loc, (state, name, _w) in demo.LOCALITY_MIX.items():
        assert loc in known.index, loc
        assert known.loc[loc, "state"] == state
        assert name.split()[0] in str(known.loc[loc, "name"]).upper()


def test_medicare_column_is_the_pfs_price(port: demo.DemoPortfolio) -> None:
    cl = port.claim_lines
    again = pfs.medicare_allowed(cl, year=demo.FEE_SCHEDULE_YEAR)["medicare_allowed"]
    assert again.notna().all()
    np.testing.assert_allclose(cl["medicare_allowed"].to_numpy(), again.to_numpy(), atol=0.005)
    assert (cl["medicare_allowed"] > 0).all()


def test_every_demo_code_is_priced_everywhere() -> None:
    """Each demo code/modifier the generator can emit prices in every demo locality and POS."""
    rows = []
    for code in demo.DEMO_ANESTHESIA_CODES:
        for mod in ("AA", "QK", "QZ"):
            rows.append((code, mod, 60.0, "MJ", "21"))
    for menu in demo._MENUS.values():
        for code, _w, rule in menu:
            mods = {"prof": ["26", "", "TC"], "": [""], "25": ["25"]}.get(rule, [rule])
            for mod in mods:
                rows.append((code, mod, 1.0, "UN", "22"))
                rows.append((code, mod, 1.0, "UN", "11"))
    df = pd.DataFrame(rows, columns=["cpt", "modifiers", "units", "unit_type", "pos"])
    df = df.merge(pd.DataFrame({"locality": list(demo.LOCALITY_MIX)}), how="cross")
    priced = pfs.medicare_allowed(df, year=demo.FEE_SCHEDULE_YEAR)
    bad = df[priced["medicare_allowed"].isna()]
    assert bad.empty, bad.drop_duplicates(["cpt", "modifiers"]).head(10).to_dict("records")


def test_planted_multiples_against_pfs(port: demo.DemoPortfolio) -> None:
    cl, t = port.claim_lines, port.truth
    paid = cl[cl["claim_status"] == "paid"]
    rep = next(n for n, p in t["payers"].items() if p["behaviour"] == "repricer")
    sub = paid[paid["payer"] == rep]
    gm = float(np.exp(np.log(sub["allowed"] / sub["medicare_allowed"]).mean()))
    assert gm == pytest.approx(t["payers"][rep]["repricer_multiple"], rel=0.01)
    full = cl[~cl["modifiers"].str.contains(r"\b(?:51|QK)\b")]
    billed = np.exp(
        np.log(full["billed"] / full["medicare_allowed"]).groupby(full["specialty"]).mean()
    )
    for spec, s in demo.SPECIALTIES.items():
        assert billed[spec] == pytest.approx(s.billed_multiple, rel=0.12), spec
