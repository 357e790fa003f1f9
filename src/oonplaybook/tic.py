"""Streaming reader for Transparency-in-Coverage out-of-network "allowed amounts" files.

Schema: CMSgov/price-transparency-guide ``schemas/allowed-amounts`` (docs/domain.md §3.5). Top level:
``reporting_entity_name``, ``reporting_entity_type``, ``plan_name`` / ``reporting_plans[]``,
``last_updated_on``, ``version``, ``out_of_network[]``; each item: ``billing_code_type``,
``billing_code``, ``allowed_amounts[]`` with ``tin``, ``service_code`` (POS), ``billing_class``,
``payments[]`` (``allowed_amount``, ``billing_code_modifier``, ``providers[]`` with
``billed_charge`` and ``npi[]``). Each allowed amount covers a 90-day period starting 180 days
before publication; amounts for a provider+item with fewer than 20 claims are suppressed (an
empty ``out_of_network`` is a legitimate file).

The reader is event-driven (``ijson.parse``): one ``out_of_network`` item is built at a time,
flattened to rows and dropped, so a multi-GB file needs memory only for the rows kept (filter
with ``codes=`` to keep the client's codes). Top-level fields are read wherever they appear
(before or after ``out_of_network``). Tolerated drift seen in CMS's own examples: ``tin`` as a
string, number or ``{type, value}``; ``service_code`` as a string or list; ``billed_amount``
instead of ``billed_charge``; modifiers at the allowed-amount or payment level; no ``version``;
duplicated NPIs. ``.json.gz`` files are read through gzip.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import ijson
import pandas as pd

TIC_COLUMNS: dict[str, str] = {
    "billing_code": "str",
    "billing_code_type": "str",
    "modifiers": "str",  # ":"-joined billing_code_modifier
    "service_code": "str",  # ":"-joined place-of-service codes
    "billing_class": "str",
    "tin": "str",
    "allowed_amount": "float64",
    "billed_charge": "float64",
    "npis": "str",  # ":"-joined, de-duplicated, sorted
    "n_npi": "int64",
    "reporting_entity_name": "str",
    "plan_name": "str",  # plan_name, or the reporting_plans[] names ":"-joined
    "last_updated_on": "str",
    "version": "str",
    "file": "str",
    "item_index": "int64",  # position of the out_of_network item in the file (0-based)
}

_TOP_SCALARS = (
    "reporting_entity_name",
    "reporting_entity_type",
    "plan_name",
    "plan_id_type",
    "plan_id",
    "plan_market_type",
    "last_updated_on",
    "version",
)


class TicFormatError(ValueError):
    """An allowed-amounts file does not follow the schema; the message names file and place."""


def _open(path: Path) -> BinaryIO:
    if path.suffix == ".gz":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def _join(values: Any) -> str:
    if values is None:
        return ""
    if isinstance(values, str | int | float):
        values = [values]
    return ":".join(str(v).strip() for v in values if str(v).strip())


def _tin(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("value", "")).strip()
    return "" if value is None else str(value).strip()


def _num(value: Any, where: str) -> float:
    if value is None or value == "":
        return float("nan")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TicFormatError(f"{where}: {value!r} is not a number") from None


def _flatten(item: dict[str, Any], idx: int, where: str) -> Iterator[dict[str, Any]]:
    code = str(item.get("billing_code", "")).strip().upper()
    if not code:
        raise TicFormatError(f"{where}: out_of_network[{idx}] has no billing_code")
    ctype = str(item.get("billing_code_type", "")).strip().upper()
    for a_i, aa in enumerate(item.get("allowed_amounts") or []):
        base_mods = aa.get("billing_code_modifier")
        for p_i, pay in enumerate(aa.get("payments") or []):
            at = f"{where}: out_of_network[{idx}].allowed_amounts[{a_i}].payments[{p_i}]"
            allowed = _num(pay.get("allowed_amount"), f"{at}.allowed_amount")
            mods = _join(pay.get("billing_code_modifier", base_mods))
            providers = pay.get("providers") or [{}]
            for prov in providers:
                npis = sorted({str(n).strip() for n in (prov.get("npi") or []) if str(n).strip()})
                billed = prov.get("billed_charge", prov.get("billed_amount"))
                yield {
                    "billing_code": code,
                    "billing_code_type": ctype,
                    "modifiers": mods,
                    "service_code": _join(aa.get("service_code")),
                    "billing_class": str(aa.get("billing_class", "")),
                    "tin": _tin(aa.get("tin")),
                    "allowed_amount": allowed,
                    "billed_charge": _num(billed, f"{at}.billed_charge"),
                    "npis": ":".join(npis),
                    "n_npi": len(npis),
                    "item_index": idx,
                }


def iter_allowed_amounts(
    path: str | Path, codes: Iterable[str] | None = None
) -> tuple[dict[str, str], Iterator[dict[str, Any]]]:
    """Stream one file: returns a dict that fills with top-level metadata and a row iterator.

    The metadata dict is complete once the iterator is exhausted (fields may follow the items).
    """
    path = Path(path)
    keep = {c.strip().upper() for c in codes} if codes is not None else None
    meta: dict[str, str] = {}

    def rows() -> Iterator[dict[str, Any]]:
        plans: list[str] = []
        builder: ijson.ObjectBuilder | None = None
        idx = -1
        seen_oon = False
        try:
            with _open(path) as f:
                for prefix, event, value in ijson.parse(f, use_float=True):
                    if builder is not None:
                        builder.event(event, value)
                        if prefix == "out_of_network.item" and event == "end_map":
                            item = builder.value
                            builder = None
                            if (
                                keep is None
                                or str(item.get("billing_code", "")).strip().upper() in keep
                            ):
                                yield from _flatten(item, idx, str(path))
                        continue
                    if prefix == "out_of_network.item" and event == "start_map":
                        idx += 1
                        builder = ijson.ObjectBuilder()
                        builder.event(event, value)
                    elif prefix == "out_of_network" and event == "start_array":
                        seen_oon = True
                    elif prefix in _TOP_SCALARS and event in ("string", "number"):
                        meta[prefix] = str(value)
                    elif prefix == "reporting_plans.item.plan_name" and event == "string":
                        plans.append(str(value))
        except ijson.JSONError as e:
            raise TicFormatError(f"{path}: not valid JSON ({e}); is the file truncated?") from None
        if not seen_oon:
            raise TicFormatError(
                f"{path}: no 'out_of_network' array; not a Transparency-in-Coverage allowed-amounts "
                "file (in-network rate files use 'in_network')"
            )
        if plans and "plan_name" not in meta:
            meta["plan_name"] = ":".join(plans)

    return meta, rows()


def read_allowed_amounts(
    paths: str | Path | Iterable[str | Path], codes: Iterable[str] | None = None
) -> pd.DataFrame:
    """Read one or more allowed-amounts files into one long table (:data:`TIC_COLUMNS`)."""
    if isinstance(paths, str | Path):
        paths = [paths]
    codes_list = list(codes) if codes is not None else None
    frames = []
    for p in sorted(Path(x) for x in paths):
        meta, it = iter_allowed_amounts(p, codes_list)
        recs = list(it)
        df = pd.DataFrame(recs, columns=[c for c in TIC_COLUMNS if c in recs[0]] if recs else None)
        for k in ("reporting_entity_name", "plan_name", "last_updated_on", "version"):
            df[k] = meta.get(k, "")
        df["file"] = p.name
        frames.append(df)
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    for col, dtype in TIC_COLUMNS.items():
        if col not in out.columns:
            out[col] = pd.Series(dtype=dtype)
        out[col] = out[col].astype(dtype)
    return (
        out[list(TIC_COLUMNS)]
        .sort_values(["billing_code", "file", "item_index", "allowed_amount"], kind="stable")
        .reset_index(drop=True)
    )
