"""Targets: hand-computed opening ask, target and walk-away for NSA and non-NSA families."""

from __future__ import annotations

import pandas as pd
import pytest

from oonplaybook.config import PlaybookSettings
from oonplaybook.playbook import build_targets, line_targets
from oonplaybook.playbook._adapters import IdrPrior, line_frame
from oonplaybook.schema import conform

PRIORS = {"generic": IdrPrior(0.8, 2.5, "test"), "emergency_medicine": IdrPrior(0.8, 2.5, "test")}


def _lines() -> pd.DataFrame:
    rows = []
    for i in range(4):  # NSA emergency lines: Medicare 200, billed 8x, paid 1.5x, QPA 2x, UCR80 5x
        rows.append(
            dict(
                claim_id=f"E{i}",
                line_no=1,
                payer="Acme",
                cpt="99285",
                specialty="emergency_medicine",
                billed=1600.0,
                allowed=300.0,
                paid=300.0,
                qpa=400.0,
                emergency=True,
                medicare_allowed=200.0,
                ucr_p80=1000.0,
            )
        )
    for i, (payer, allowed) in enumerate(
        [("Acme", 120.0), ("Acme", 120.0), ("Beta", 250.0), ("Beta", 250.0)]
    ):
        rows.append(
            dict(
                claim_id=f"R{i}",
                line_no=1,
                payer=payer,
                cpt="70450",
                specialty="radiology",
                billed=500.0,
                allowed=allowed,
                paid=allowed,
                qpa=float("nan"),
                emergency=False,
                medicare_allowed=100.0,
                ucr_p80=400.0,
            )
        )
    df = pd.DataFrame(rows)
    df["claim_status"] = "paid"
    df["plan_type"] = "self_funded_erisa"
    df["patient_key"] = "k"
    df["service_date"] = pd.Timestamp("2025-03-03")
    df["units"] = 1.0
    return conform(df)


def test_hand_computed_targets() -> None:
    lines = _lines()
    bench = lines[["claim_id", "line_no", "medicare_allowed", "ucr_p80"]]
    t = build_targets(
        bench,
        None,
        None,
        None,
        PlaybookSettings(),
        claim_lines=lines.drop(columns=["medicare_allowed", "ucr_p80"]),
        priors=PRIORS,
    )
    t = t.set_index(["payer", "code_family"])
    ed = t.loc[("Acme", "em_emergency")]
    # NSA: opening = IDR award QPA 2.0x * 2.5 = 5.0x (the practice's UCR p80 only caps)
    assert ed["opening_ask_x"] == pytest.approx(5.0)
    # walk-away = IDR net: 1.5 + [0.8 * (5.0 - 1.5) * 200 - (115 + 0.2 * 1173) / 4 - 57.23 / 4]
    # x 1.08^(-(119 - 30) / 365) / 200 (4-line batch initiated 2025-03-03: admin 115, IDRE 1173)
    gain = 0.8 * 3.5 * 200 - (115 + 0.2 * 1173) / 4 - 57.23 / 4
    assert ed["walk_away_x"] == pytest.approx(1.5 + gain * 1.08 ** (-(119 - 30) / 365) / 200)
    # target = 0.8 * 5.0 + 0.2 * 1.5 = 4.3x -> $860 on a $200 Medicare line
    assert ed["target_x"] == pytest.approx(4.3)
    assert ed["target"] == pytest.approx(860.0)
    assert "4.30x" in ed["target_rationale"] and "QPA 2.00x" in ed["target_rationale"]
    rad = t.loc[("Acme", "radiology_diagnostic")]
    # non-NSA: market median allowed across payers = median(1.2, 1.2, 2.5, 2.5) = 1.85x; the
    # appeal (0.543 * 0.65 * 100 - 57.23 < 0) is worth nothing more: walk = current 1.2 -> floor 1.5
    assert rad["target_x"] == pytest.approx(1.85)
    assert rad["walk_away_x"] == pytest.approx(1.5)
    assert rad["opening_ask_x"] == pytest.approx(2.5)  # the other payer's p75 allowed
    assert "other payers' p75 allowed = 2.50x" in rad["opening_rationale"]
    beta = t.loc[("Beta", "radiology_diagnostic")]
    assert beta["walk_away_x"] == pytest.approx(2.5)  # Beta already pays 2.5x: never below it
    assert beta["target_x"] == pytest.approx(2.5)
    assert "target = walk-away" in beta["room_note"] and "ask = target" in beta["room_note"]


def test_line_targets_scale_by_medicare_and_cap_at_billed() -> None:
    lines = _lines()
    t = build_targets(lines, None, None, None, PlaybookSettings(), priors=PRIORS)
    lf = line_frame(lines, None)
    lt = line_targets(lf, t)
    assert lt.loc[0, "line_target"] == pytest.approx(860.0)
    assert (lt["line_opening_ask"] <= lf["billed"]).all()


def test_walk_away_floor_from_settings() -> None:
    lines = _lines()
    t = build_targets(
        lines, None, None, None, PlaybookSettings(walk_away_multiple_of_medicare=3.0), priors=PRIORS
    )
    assert (t["walk_away_x"] >= 3.0).all()
    assert (t["target_x"] >= t["walk_away_x"]).all() and (t["opening_ask_x"] >= t["target_x"]).all()


def test_in_network_p75_is_ask_evidence() -> None:
    """The payer's own in-network p75 (TiC) is independent evidence for the opening ask."""
    from oonplaybook.playbook.targets import appeal_points

    base = dict(
        current_x=1.2, market_x=1.5, market_p75_x=1.7, medicare=100.0, p_appeal=0.5, work_cost=25.0
    )
    without = appeal_points(**base)
    with_tic = appeal_points(**base, in_network_p75_x=2.1)
    assert without.opening_x == 1.7 and with_tic.opening_x == 2.1
    assert "in-network p75 (TiC)" in with_tic.opening_rationale
    assert appeal_points(**base, in_network_p75_x=2.1, billed_x=1.9).opening_x == 1.9  # billed caps
