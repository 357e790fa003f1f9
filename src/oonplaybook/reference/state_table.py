"""The state surprise-billing and prompt-pay table, and the state clocks read from it.

``reference/data/state_surprise_billing.yaml`` (docs/domain.md §1.11, §4.3): which state laws
govern which plans and services, each state's dispute filing clock, the bifurcated-state list,
and prompt-pay clocks with their day unit (calendar, working or business days). Reference
data: imports only the calendar, so ``nsa``, ``rules`` and ``playbook.appeals`` read it from
below.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import yaml

from oonplaybook.reference import calendar as bd

NSA_BASES = (
    "emergency",
    "ancillary_at_in_network_facility",
    "non_emergency_at_in_network_facility",
    "air_ambulance",
    "none",
)


@lru_cache(maxsize=1)
def _packaged_state_yaml() -> dict[str, Any]:
    """The packaged table, parsed once."""
    text = (
        resources.files("oonplaybook.reference")
        .joinpath("data/state_surprise_billing.yaml")
        .read_text(encoding="utf-8")
    )
    return yaml.safe_load(text)


def load_state_table(path: str | None = None) -> dict[str, Any]:
    """The state surprise-billing + prompt-pay table (packaged YAML, or ``path`` to override)."""
    if path is None:
        data = _packaged_state_yaml()
    else:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    for key in ("surprise_billing", "prompt_pay"):
        if key not in data:
            raise ValueError(
                f"{path or 'state_surprise_billing.yaml'}: missing top-level key {key!r}"
            )
    for st, row in data["surprise_billing"].items():
        bad = [b for b in row.get("scope", []) if b not in NSA_BASES]
        if bad:
            raise ValueError(
                f"{path or 'state_surprise_billing.yaml'}: surprise_billing.{st}.scope has "
                f"unknown bases {bad}; use {list(NSA_BASES[:-1])}"
            )
    return data


STATE_DEADLINE_NOT_ENCODED = "state deadline not encoded; check"


def state_dispute_deadline(
    state: str,
    initial_payment_date: date | str | None,
    *,
    state_table: Mapping[str, Any] | None = None,
) -> tuple[date | None, str]:
    """(deadline, rule) for starting the state dispute process of ``state``.

    From the table row's ``dispute_clock`` (e.g. TX 90 days from the initial payment, Tex. Ins.
    Code §1467.084(a); NY 3 years from the original payment, N.Y. FIS §601). When the state has
    no encoded clock the date is None and the rule says ``"state deadline not encoded; check
    <law>"``; never a guessed date.
    """
    if state_table is None:
        state_table = load_state_table()
    sb = state_table.get("surprise_billing", state_table)
    row = sb.get(state) or {}
    clock = row.get("dispute_clock")
    law = row.get("law", state)
    if not clock:
        return None, f"{STATE_DEADLINE_NOT_ENCODED} {state}: {law}"
    cite = clock.get("citation", law)
    start_event = str(clock.get("from", "initial_payment"))
    if start_event != "initial_payment":
        return None, (
            f"{state}: {clock['n']} {str(clock['unit']).replace('_', ' ')} from the "
            f"{start_event.replace('_', ' ')} ({cite}); that date is not in the claim data: check"
        )
    if initial_payment_date is None:
        return None, f"{state}: {clock['n']} {clock['unit']} from the initial payment ({cite})"
    start = bd._as_date(initial_payment_date)
    n, unit = int(clock["n"]), str(clock["unit"])
    if unit == "calendar_days":
        due = bd.add_calendar_days(start, n)
    elif unit == "business_days":
        due = bd.add_business_days(start, n)
    elif unit == "years":
        due = bd.add_months(start, 12 * n)
    else:
        raise ValueError(
            f"state_surprise_billing.yaml: {state}.dispute_clock.unit {unit!r} is not "
            "calendar_days, business_days or years"
        )
    return due, f"{state}: {n} {unit.replace('_', ' ')} from the initial payment ({cite})"


def state_dispute_deadlines(
    states: pd.Series,
    initial_payment_dates: pd.Series,
    *,
    state_table: Mapping[str, Any] | None = None,
) -> tuple[pd.Series, pd.Series]:
    """Vectorised :func:`state_dispute_deadline`: (deadline, rule) Series per row.

    Each distinct (state, date) pair is computed once; the deadline is NaT where not encoded;
    the rule texts come back as a categorical (few distinct texts, any number of rows).
    """
    idx = pd.Series(states).index
    st = pd.Series(states).astype("str").to_numpy()
    dt = pd.to_datetime(pd.Series(initial_payment_dates)).astype("datetime64[us]").to_numpy()
    if len(st) == 0:
        empty = pd.Series([], dtype="datetime64[us]")
        return empty.set_axis(idx), pd.Series([], dtype="str").set_axis(idx)
    if state_table is None:
        state_table = load_state_table()
    # one computation per distinct (state, date) pair, then integer gathers (fast for 1M claims)
    s_codes, s_uniq = pd.factorize(st, sort=False)
    d_codes, d_uniq = pd.factorize(dt, sort=False, use_na_sentinel=False)
    comb = s_codes.astype(np.int64) * (len(d_uniq) + 1) + d_codes
    uniq_comb, first, inv = np.unique(comb, return_index=True, return_inverse=True)
    dues = np.full(len(uniq_comb), np.datetime64("NaT"), dtype="datetime64[us]")
    rules_: list[str] = []
    for j, row in enumerate(first):
        d_ = dt[row]
        due, rule = state_dispute_deadline(
            str(st[row]), None if pd.isna(d_) else pd.Timestamp(d_).date(), state_table=state_table
        )
        if due is not None:
            dues[j] = np.datetime64(due, "us")
        rules_.append(rule)
    r_codes, r_uniq = pd.factorize(pd.Series(rules_, dtype=object), sort=False)
    rule = pd.Categorical.from_codes(r_codes[inv], categories=pd.Index(r_uniq, dtype=object))
    return (
        pd.Series(dues[inv], index=idx, dtype="datetime64[us]"),
        pd.Series(rule, index=idx),
    )


# --- prompt pay --------------------------------------------------------------------------------


def prompt_pay_row(table: Mapping[str, Any], state: str, regulator: str = "") -> dict | None:
    """The prompt-pay row of ``state``, or its ``variants[regulator]`` (CA: ``dmhc``) when given."""
    row = table.get(state)
    if row is None:
        return None
    var = (row.get("variants") or {}).get(str(regulator or "").strip().lower())
    return {**row, **var} if var else dict(row)


def prompt_pay_due(received: date, days: int, unit: str = "calendar") -> date:
    """Clean-claim due date: ``days`` calendar, working or business days after ``received``.

    Working and business days are Monday-Friday less the federal holidays (state holidays are
    not modelled); e.g. GA electronic claims: 15 working days (O.C.G.A. §33-24-59.14(b)(1)).
    """
    if unit == "calendar":
        return bd.add_calendar_days(received, days)
    if unit in ("working", "business"):
        return bd.add_business_days(received, days)
    raise ValueError(f"prompt-pay day unit {unit!r} is not calendar, working or business")
