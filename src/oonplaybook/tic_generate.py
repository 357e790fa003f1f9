"""Deterministic TiC in-network files (schema 2.0.0) for the demo, the tests and the benchmark.

The shape follows CMS's examples and what real payer files do: root plan fields, a
``provider_references`` array of groups (each TIN with several NPIs), then ``in_network``
items whose ``negotiated_rates`` point at those groups, with every negotiated type, bundles,
modifiers, place-of-service lists, and a few zero and negative rates (they pass CMS's
validator). ``filler_codes`` pads the file with items for codes nobody asked for, which is what
makes real files large: a reader must skip them cheaply. Truth (the rates written per code) is
returned so tests can check what a reader gives back.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

NEGOTIATED_TYPES = ("negotiated", "derived", "fee schedule", "percentage", "per diem")


@dataclass(frozen=True)
class Group:
    """One provider group: id, TIN and NPIs (the same NPIs may appear under several TINs)."""

    group_id: int
    tin: str
    npis: tuple[int, ...]
    network: str = "Demo Network"


def make_groups(n: int, seed: int, npis_per_tin: int = 6) -> list[Group]:
    """``n`` provider groups with distinct 9-digit TINs and 10-digit NPIs."""
    rng = np.random.default_rng(seed)
    out = []
    for g in range(n):
        tin = f"{rng.integers(10, 99)}-{rng.integers(1000000, 9999999)}"
        npis = tuple(
            int(x) for x in 1_000_000_000 + rng.choice(8_999_999_999, npis_per_tin, replace=False)
        )
        out.append(Group(g + 1, tin, npis))
    return out


def _price(ntype: str, rate: float, pos: list[str], modifier: list[str] | None) -> dict[str, Any]:
    p: dict[str, Any] = {
        "negotiated_type": ntype,
        "negotiated_rate": rate,
        "expiration_date": "9999-12-31",
        "billing_class": "professional",
        "setting": "outpatient",
        "service_code": pos,
    }
    if modifier:
        p["billing_code_modifier"] = modifier
    return p


def write_in_network(
    path: str | Path,
    *,
    payer: str,
    rates: dict[str, list[tuple[int, str, float]]],
    groups: list[Group],
    plan_name: str = "Demo PPO",
    last_updated_on: str = "2026-11-01",
    filler_codes: int = 0,
    filler_rates: int = 20,
    bundles: dict[str, list[str]] | None = None,
    modifiers: dict[str, list[str]] | None = None,
    references_last: bool = False,
    seed: int = 0,
    gz: bool | None = None,
) -> dict[str, Any]:
    """Write one in-network file; ``rates[code]`` = [(group id, negotiated type, value), ...].

    Returns the truth: the rows written for the wanted codes (code, group, type, value) and
    the file size. ``gz`` defaults to the ``.gz`` suffix.
    """
    path = Path(path)
    gz = path.suffix == ".gz" if gz is None else gz
    rng = np.random.default_rng(seed)
    by_id = {g.group_id: g for g in groups}
    root = {
        "reporting_entity_name": payer,
        "reporting_entity_type": "health insurance issuer",
        "plan_name": plan_name,
        "issuer_name": payer,
        "plan_id_type": "ein",
        "plan_id": "1234567890",
        "plan_market_type": "group",
        "last_updated_on": last_updated_on,
        "version": "2.0.0",
    }
    refs = [
        {
            "provider_group_id": g.group_id,
            "network_name": [g.network],
            "provider_groups": [
                {
                    "npi": list(g.npis),
                    "tin": {
                        "type": "ein",
                        "value": g.tin,
                        "business_name": f"Group {g.group_id} (synthetic)",
                    },
                }
            ],
        }
        for g in groups
    ]
    truth: list[dict[str, Any]] = []

    def item(code: str, entries: list[tuple[int, str, float]]) -> dict[str, Any]:
        negotiated = []
        for gid, ntype, value in entries:
            pos = ["11", "22"] if ntype != "per diem" else ["21"]
            mod = (modifiers or {}).get(code)
            negotiated.append(
                {
                    "provider_references": [gid],
                    "negotiated_prices": [_price(ntype, value, pos, mod)],
                }
            )
        it: dict[str, Any] = {
            "negotiation_arrangement": "bundle" if bundles and code in bundles else "ffs",
            "name": f"Synthetic service {code}",
            "billing_code_type": "CPT",
            "billing_code_type_version": "2026",
            "billing_code": code,
            "description": 'Synthetic "quoted" {description} with [brackets] and a \\ backslash',
            "negotiated_rates": negotiated,
        }
        if bundles and code in bundles:
            it["bundled_codes"] = [
                {
                    "billing_code_type": "CPT",
                    "billing_code_type_version": "2026",
                    "billing_code": b,
                    "description": "bundled",
                }
                for b in bundles[code]
            ]
        return it

    import contextlib
    import io

    with contextlib.ExitStack() as stack:
        if gz:  # mtime 0: the same content gives the same bytes (the demo is byte-compared)
            raw = stack.enter_context(path.open("wb"))
            z = stack.enter_context(gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1, mtime=0))
            f = stack.enter_context(io.TextIOWrapper(z, encoding="utf-8"))
        else:
            f = stack.enter_context(path.open("w", encoding="utf-8"))
        head = json.dumps(root)[:-1]
        f.write(head)
        if not references_last:
            f.write(', "provider_references": ' + json.dumps(refs))
        f.write(', "in_network": [')
        first = True
        for code in sorted(rates):
            for gid, ntype, value in rates[code]:
                if gid in by_id:
                    truth.append(
                        {
                            "billing_code": code,
                            "provider_group_id": gid,
                            "negotiated_type": ntype,
                            "value": value,
                            "n_npi": len(by_id[gid].npis),
                        }
                    )
            f.write(("" if first else ",") + json.dumps(item(code, rates[code])))
            first = False
        if filler_codes:
            gids = [g.group_id for g in groups]
            template = json.dumps(
                item(
                    "@@@@@",
                    [(gids[k % len(gids)], "negotiated", 100.0 + k) for k in range(filler_rates)],
                )
            )
            for k in range(filler_codes):
                code = f"F{k % 10000:04d}"
                f.write(("" if first else ",") + template.replace("@@@@@", code))
                first = False
        f.write("]")
        if references_last:
            f.write(', "provider_references": ' + json.dumps(refs))
        f.write("}")
    _ = rng
    return {"rows": truth, "bytes": path.stat().st_size}
