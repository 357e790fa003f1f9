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
duplicated NPIs. A gzip file is recognised by its magic bytes, whatever its name (a ``.json``
that is gzip, or a ``.json.gz`` that is plain JSON, are both read).

What is refused, always as one :class:`TicFormatError` naming the file, the JSON path and the
byte offset where known: truncated or damaged gzip and JSON; an item that is not an object; a
missing, null or non-text ``billing_code`` (a number that cannot be a 5-digit code); a list
field (``allowed_amounts``, ``payments``, ``providers``, ``npi``) that is not a list; an amount
that is not a finite, non-negative number (``"NaN"``, ``"inf"``, ``true``); a key given twice
with different values (ijson would keep the last silently); nesting deeper than
:data:`MAX_DEPTH` (the schema needs 6 levels), so a hostile file cannot exhaust memory.
"""

from __future__ import annotations

import gzip
import json
import math
import zlib
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


#: Deepest nesting read (the schema needs 6 levels; a deeper file is refused, not built).
MAX_DEPTH = 32


class TicFormatError(ValueError):
    """An allowed-amounts file cannot be read as the schema says.

    The one error the reader raises: the message names the file, the JSON path
    (``out_of_network[3].allowed_amounts[0].payments[1].allowed_amount``), the byte offset
    where known, the problem and the fix; the same facts are attributes.
    """

    def __init__(
        self, file: Path | str, path: str, problem: str, offset: int | None = None
    ) -> None:
        self.file, self.json_path, self.problem, self.offset = str(file), path, problem, offset
        where = f" at {path}" if path else ""
        near = f" (near byte {offset:,})" if offset is not None else ""
        super().__init__(f"{file}{where}{near}: {problem}")


#: The same error under the name the issue uses.
TicFileError = TicFormatError

_GZIP_MAGIC = b"\x1f\x8b"


def _open(path: Path) -> BinaryIO:
    """The file's bytes, gunzipped when it *is* gzip (by its magic bytes, not its name)."""
    f = path.open("rb")
    head = f.read(2)
    f.seek(0)
    if head == _GZIP_MAGIC:
        return gzip.GzipFile(fileobj=f, mode="rb")  # type: ignore[return-value]
    return f


def _kind(value: Any) -> str:
    """A JSON kind name for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class _Bad(Exception):
    """A schema problem inside one item: its JSON path and what is wrong."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(problem)
        self.path, self.problem = path, problem


def _obj(value: Any, at: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Bad(at, f"expected an object, got {_kind(value)}; fix: regenerate the file")
    return value


def _list(value: Any, at: str, optional: bool = True) -> list[Any]:
    if value is None and optional:
        return []
    if not isinstance(value, list):
        raise _Bad(at, f"expected a list, got {_kind(value)}; fix: regenerate the file")
    return value


def _text(value: Any, at: str) -> str:
    """A string field (numbers accepted as their text); objects, lists and booleans refused."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _Bad(at, f"expected a string, got {_kind(value)}")
    return str(value).strip()


def _join(values: Any, at: str) -> str:
    if values is None:
        return ""
    if isinstance(values, str | int | float) and not isinstance(values, bool):
        values = [values]
    items = [_text(v, f"{at}[{i}]") for i, v in enumerate(_list(values, at))]
    return ":".join(v for v in items if v)


def _tin(value: Any, at: str) -> str:
    if isinstance(value, dict):
        return _text(value.get("value"), f"{at}.value")
    return _text(value, at)


def _num(value: Any, at: str) -> float:
    """A finite, non-negative dollar amount (empty -> NaN); anything else is refused."""
    if value is None or value == "":
        return float("nan")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _Bad(at, f"expected a number, got {_kind(value)}")
    try:
        x = float(value)
    except ValueError:
        raise _Bad(at, f"{value!r} is not a number") from None
    if not math.isfinite(x):
        raise _Bad(at, f"{value!r} is not a finite amount; fix: the publisher must correct it")
    if x < 0:
        raise _Bad(at, f"{value!r} is a negative amount")
    return x


def _code(item: dict[str, Any], at: str) -> str:
    """The item's billing code as a string; a missing, null or non-text code is refused."""
    raw = item.get("billing_code")
    if raw is None:
        raise _Bad(f"{at}.billing_code", "has no billing_code (missing or null)")
    if isinstance(raw, int) and not isinstance(raw, bool) and not 10_000 <= raw <= 99_999:
        raise _Bad(
            f"{at}.billing_code",
            f"{raw} is a number that is not a 5-digit code (leading zeros lost?); the schema "
            "gives codes as strings",
        )
    code = _text(raw, f"{at}.billing_code").upper()
    if not code:
        raise _Bad(f"{at}.billing_code", "has no billing_code (empty)")
    return code


def _flatten(item: Any, idx: int) -> Iterator[dict[str, Any]]:
    """The rows of one ``out_of_network`` item (one per payment x provider), type-checked."""
    at = f"out_of_network[{idx}]"
    item = _obj(item, at)
    code = _code(item, at)
    ctype = _text(item.get("billing_code_type"), f"{at}.billing_code_type").upper()
    for a_i, aa in enumerate(_list(item.get("allowed_amounts"), f"{at}.allowed_amounts")):
        aat = f"{at}.allowed_amounts[{a_i}]"
        aa = _obj(aa, aat)
        base_mods = aa.get("billing_code_modifier")
        service = _join(aa.get("service_code"), f"{aat}.service_code")
        bclass = _text(aa.get("billing_class"), f"{aat}.billing_class")
        tin = _tin(aa.get("tin"), f"{aat}.tin")
        for p_i, pay in enumerate(_list(aa.get("payments"), f"{aat}.payments")):
            pat = f"{aat}.payments[{p_i}]"
            pay = _obj(pay, pat)
            allowed = _num(pay.get("allowed_amount"), f"{pat}.allowed_amount")
            mods = _join(
                pay.get("billing_code_modifier", base_mods), f"{pat}.billing_code_modifier"
            )
            providers = _list(pay.get("providers"), f"{pat}.providers") or [{}]
            for v_i, prov in enumerate(providers):
                vat = f"{pat}.providers[{v_i}]"
                prov = _obj(prov, vat)
                npi_list = _list(prov.get("npi"), f"{vat}.npi")
                npis = sorted(
                    {n for i, x in enumerate(npi_list) if (n := _text(x, f"{vat}.npi[{i}]"))}
                )
                billed_key = "billed_charge" if "billed_charge" in prov else "billed_amount"
                yield {
                    "billing_code": code,
                    "billing_code_type": ctype,
                    "modifiers": mods,
                    "service_code": service,
                    "billing_class": bclass,
                    "tin": tin,
                    "allowed_amount": allowed,
                    "billed_charge": _num(prov.get(billed_key), f"{vat}.{billed_key}"),
                    "npis": ":".join(npis),
                    "n_npi": len(npis),
                    "item_index": idx,
                }


class _Builder:
    """Builds one JSON value from ijson events, refusing a key repeated with another value.

    (ijson's ObjectBuilder keeps the last of two equal keys silently.) ``path()`` is the JSON
    path of the value being built, for messages.
    """

    def __init__(self, root: str) -> None:
        self.root = root
        self.stack: list[tuple[Any, str | int | None]] = []  # (container, current key/index)
        self.value: Any = None
        self.done = False

    def path(self) -> str:
        out = self.root
        for container, key in self.stack:
            if isinstance(container, dict) and key is not None:
                out += f".{key}"
            elif isinstance(container, list):
                out += f"[{len(container)}]"
        return out

    def _put(self, value: Any) -> None:
        if not self.stack:
            self.value, self.done = value, True
            return
        container, key = self.stack[-1]
        if isinstance(container, list):
            container.append(value)
            return
        if key in container and container[key] != value:
            raise _Bad(
                self.path(),
                f"key {key!r} is given twice with different values ({_brief(container[key])} "
                f"and {_brief(value)}); fix: the publisher must correct the file",
            )
        container[key] = value
        self.stack[-1] = (container, None)

    def event(self, event: str, value: Any) -> None:
        """Feed one ijson event."""
        if event == "map_key":
            container, _ = self.stack[-1]
            self.stack[-1] = (container, value)
        elif event in ("start_map", "start_array"):
            self.stack.append(({} if event == "start_map" else [], None))
        elif event in ("end_map", "end_array"):
            container, _ = self.stack.pop()
            self._put(container)
        else:
            self._put(value)


def _dotted(names: list[str | None]) -> str:
    """ijson's prefix notation (``out_of_network.item``) for a path of keys and ``item``."""
    return ".".join(n for n in names if n is not None)


def _brief(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def iter_allowed_amounts(
    path: str | Path, codes: Iterable[str] | None = None
) -> tuple[dict[str, str], Iterator[dict[str, Any]]]:
    """Stream one file: returns a dict that fills with top-level metadata and a row iterator.

    The metadata dict is complete once the iterator is exhausted (fields may follow the items).
    Every problem raises :class:`TicFormatError` naming the file and the JSON path.
    """
    path = Path(path)
    keep = {c.strip().upper() for c in codes} if codes is not None else None
    meta: dict[str, str] = {}

    def rows() -> Iterator[dict[str, Any]]:
        plans: list[str] = []
        builder: _Builder | None = None
        idx = -1
        seen_oon = False
        f: BinaryIO | None = None

        last_pos: list[int | None] = [None]

        def offset() -> int | None:
            """Bytes read so far (decompressed for gzip): the error is at or before it."""
            try:
                return f.tell() if f is not None and not f.closed else last_pos[0]
            except (OSError, ValueError):
                return last_pos[0]

        try:
            f = _open(path)
            try:
                # basic_parse + our own path: ijson.parse builds every event's prefix string,
                # which costs O(depth) per event and explodes on hostile nesting.
                names: list[str | None] = []
                for event, value in ijson.basic_parse(f, use_float=True):
                    if event in ("start_map", "start_array"):
                        if len(names) >= MAX_DEPTH:
                            where = builder.path() if builder is not None else _dotted(names)
                            raise TicFormatError(
                                path,
                                where,
                                f"nested deeper than {MAX_DEPTH} levels (the schema needs 6); "
                                "not an allowed-amounts file, or a damaged one",
                                offset(),
                            )
                        prefix = _dotted(names) if builder is None else ""
                        names.append(None if event == "start_map" else "item")
                    elif event in ("end_map", "end_array"):
                        names.pop()
                        prefix = _dotted(names) if builder is None else ""
                    elif event == "map_key":
                        names[-1] = value
                        prefix = ""
                    else:
                        prefix = _dotted(names) if builder is None else ""
                    if builder is not None:
                        builder.event(event, value)
                        if builder.done:
                            item, builder = builder.value, None
                            at = f"out_of_network[{idx}]"
                            if keep is None or _code(_obj(item, at), at) in keep:
                                yield from _flatten(item, idx)
                        continue
                    if prefix == "out_of_network.item":
                        idx += 1
                        if event in ("start_map", "start_array"):
                            builder = _Builder(f"out_of_network[{idx}]")
                            builder.event(event, value)
                        else:
                            raise TicFormatError(
                                path,
                                f"out_of_network[{idx}]",
                                f"expected an object, got {_kind(value)}; fix: regenerate the file",
                                offset(),
                            )
                    elif prefix == "out_of_network" and event == "start_array":
                        seen_oon = True
                    elif prefix == "out_of_network" and event not in ("end_array",):
                        raise TicFormatError(
                            path,
                            "out_of_network",
                            "expected a list of items, got "
                            + ("an object" if event == "start_map" else _kind(value)),
                            offset(),
                        )
                    elif prefix in _TOP_SCALARS and event in ("string", "number"):
                        text = str(value)
                        if prefix in meta and meta[prefix] != text:
                            raise TicFormatError(
                                path,
                                prefix,
                                f"given twice with different values ({meta[prefix]!r} and "
                                f"{text!r}); fix: the publisher must correct the file",
                                offset(),
                            )
                        meta[prefix] = text
                    elif prefix == "reporting_plans.item.plan_name" and event == "string":
                        plans.append(str(value))
            finally:
                last_pos[0] = offset()
                f.close()
        except _Bad as e:
            raise TicFormatError(path, e.path, e.problem, offset()) from None
        except ijson.JSONError as e:
            raise TicFormatError(
                path,
                builder.path() if builder is not None else "",
                f"not valid JSON ({e}); is the file truncated? fix: download it again",
                offset(),
            ) from None
        except (EOFError, gzip.BadGzipFile, zlib.error) as e:
            raise TicFormatError(
                path,
                builder.path() if builder is not None else "",
                f"the gzip data is truncated or damaged ({type(e).__name__}: {e}); fix: "
                "download the file again",
                offset(),
            ) from None
        except RecursionError:
            raise TicFormatError(path, "", f"nested too deeply (limit {MAX_DEPTH})") from None
        except OSError as e:
            raise TicFormatError(path, "", f"cannot read the file: {e.strerror or e}") from None
        if not seen_oon:
            raise TicFormatError(
                path,
                "",
                "no 'out_of_network' array; not a Transparency-in-Coverage allowed-amounts "
                "file (in-network rate files use 'in_network')",
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
