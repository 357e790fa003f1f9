"""Regional in-network rates from Transparency-in-Coverage in-network files (schema 2.0 and 1.x).

``extract_file`` streams one ``.json``/``.json.gz`` file through :mod:`oonplaybook.tic_scan`
(only the items whose billing code the client bills are parsed), resolves provider references
(in-file, or v1 remote ``location`` files the user downloaded), applies the provider filters
(NPI or TIN lists, or an area through NPPES and CMS's ZIP5 file) and writes one Parquet part
into a dataset partitioned by payer and file month, readable by DuckDB, Spark, Trino or Dask:

    rates/payer_key=<payer slug>/file_month=YYYY-MM/part-<file sha256[:16]>.parquet

One row per (code, modifiers, provider group TIN, price). The same rate repeated for every NPI
under a TIN is one row with ``n_npi``. Each negotiated type keeps its own value column and is
never averaged with another: ``dollar_rate`` (negotiated, derived, fee schedule),
``percent_of_billed`` (percentage: a whole number, 40.5 = 40.5% of billed charges) and
``per_diem_rate`` (dollars per day). Zero and negative rates pass CMS's validator: they are kept
and flagged in ``rate_flag``. ``extract`` fans files out over Dask (one file per task, since a
gzip stream does not split), on a local cluster or any scheduler address.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from oonplaybook import partitions, tic_scan

RATE_COLUMNS: dict[str, str] = {
    "payer": "str",  # reporting entity name
    "reporting_entity_type": "str",
    "plan_name": "str",
    "plan_id": "str",
    "plan_market_type": "str",
    "issuer_name": "str",
    "last_updated_on": "str",
    "schema_version": "str",
    "billing_code_type": "str",
    "billing_code": "str",
    "billing_code_modifier": "str",  # ":"-joined, sorted
    "negotiation_arrangement": "str",  # ffs | bundle | capitation
    "bundled_codes": "str",  # ":"-joined codes of a bundle / capitation
    "matched_in_bundle": "bool",  # the wanted code is one of the bundled codes, not the item's
    "provider_group_id": "int64",  # -1 for inline (v1) groups
    "network_name": "str",
    "tin_type": "str",  # ein | npi | "unresolved" (a v1 remote reference not downloaded)
    "tin_value": "str",
    "business_name": "str",
    "n_npi": "int64",  # NPIs under the TIN carrying this rate (after the NPI filter)
    "negotiated_type": "str",  # negotiated | derived | fee schedule | percentage | per diem
    "dollar_rate": "float64",
    "percent_of_billed": "float64",
    "per_diem_rate": "float64",
    "rate_flag": "str",  # "" | zero | negative
    "expiration_date": "str",
    "service_code": "str",  # place of service codes, ":"-joined ("" = any)
    "billing_class": "str",  # professional | institutional | both
    "setting": "str",  # inpatient | outpatient | both ("" in v1)
    "source_file": "str",
    "item_offset": "int64",  # byte offset of the in_network item in the uncompressed file
    "file_sha256": "str",
}
DOLLAR_TYPES = ("negotiated", "derived", "fee schedule")


class TicRateError(ValueError):
    """An in-network file (or an item in it) that cannot be read: names the file and the place."""


@dataclass(frozen=True)
class ProviderFilter:
    """Which providers count as "my region": NPI and/or TIN lists (None = everyone)."""

    npis: frozenset[int] | None = None
    tins: frozenset[str] | None = None

    def keep(self, npis: list[int], tin: str) -> list[int] | None:
        """The group's NPIs that pass (an empty list = TIN-level match), or None to drop it."""
        real = [n for n in npis if n]  # npi [0] means a TIN-level contract (CMS convention)
        if self.npis is None and self.tins is None:
            return real
        if self.tins is not None and _norm_tin(tin) in self.tins:
            return real
        if self.npis is not None:
            hit = [n for n in real if n in self.npis]
            return hit or None
        return None


@dataclass
class FileStats:
    """What one file gave: counts, where it stopped, problems (never silent)."""

    file: str
    bytes_read: int = 0
    items_seen: int = 0
    items_matched: int = 0
    rows: int = 0
    part: str = ""
    sha256: str = ""
    truncated_at: int | None = None
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for the extraction report)."""
        return dict(self.__dict__)


def _norm_tin(value: str) -> str:
    return re.sub(r"\D", "", str(value))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "unknown"


def _codes_str(values: Iterable[Any]) -> str:
    return ":".join(sorted({str(v).strip() for v in values if str(v).strip()}))


def _groups_of(ref: dict[str, Any], where: str) -> list[dict[str, Any]]:
    groups = ref.get("provider_groups")
    if not isinstance(groups, list):
        raise TicRateError(f"{where}: provider_groups is not a list")
    return groups


def resolve_references(
    spans: list[dict[str, Any]], remote_dir: Path | None, where: str, problems: list[str]
) -> dict[int, tuple[str, list[dict[str, Any]]]]:
    """provider_group_id -> (network name, provider groups), loading v1 ``location`` files locally."""
    out: dict[int, tuple[str, list[dict[str, Any]]]] = {}
    for ref in spans:
        gid = ref.get("provider_group_id")
        if not isinstance(gid, int) or isinstance(gid, bool):
            raise TicRateError(
                f"{where}: provider_group_id {type(gid).__name__}, expected a whole number"
            )
        net = ref.get("network_name") or []
        net_s = ":".join(str(n) for n in (net if isinstance(net, list) else [net]))
        if "location" in ref and "provider_groups" not in ref:
            loc = str(ref["location"])
            local = (remote_dir / Path(loc).name) if remote_dir else None
            if local is not None and local.is_file():
                doc = json.loads(local.read_bytes())
                out[gid] = (net_s, _groups_of(doc, f"{local}"))
            else:
                problems.append(
                    f"provider group {gid} is in a remote file ({loc}) that was not downloaded: its "
                    "rates are kept with tin_type 'unresolved' (pass --provider-refs DIR)"
                )
                out[gid] = (net_s, [])
            continue
        out[gid] = (net_s, _groups_of(ref, f"{where} provider_group_id {gid}"))
    return out


def _number(x: Any, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TicRateError(f"{what} is {type(x).__name__}, expected a number")
    f = float(x)
    if not math.isfinite(f):
        raise TicRateError(f"{what} is not finite")
    return f


def item_rows(
    item: dict[str, Any],
    refs: dict[int, tuple[str, list[dict[str, Any]]]],
    codes: frozenset[str] | None,
    pfilter: ProviderFilter,
    where: str,
) -> list[dict[str, Any]]:
    """The rate rows of one ``in_network`` item (before the file-level columns are added)."""
    code = str(item.get("billing_code", "")).strip()
    bundled = [
        str(b.get("billing_code", "")).strip()
        for key in ("bundled_codes", "covered_services")
        for b in (item.get(key) or [])
        if isinstance(b, dict)
    ]
    in_bundle = codes is not None and code not in codes and bool(set(bundled) & codes)
    if codes is not None and code not in codes and not in_bundle:
        return []  # the byte pre-filter matched a nested code only partially
    rates = item.get("negotiated_rates")
    if not isinstance(rates, list):
        raise TicRateError(f"{where}: negotiated_rates is not a list")
    base = {
        "billing_code_type": str(item.get("billing_code_type", "")),
        "billing_code": code,
        "negotiation_arrangement": str(item.get("negotiation_arrangement", "")),
        "bundled_codes": _codes_str(bundled),
        "matched_in_bundle": in_bundle,
    }
    rows: list[dict[str, Any]] = []
    for r_i, rate in enumerate(rates):
        w = f"{where} negotiated_rates[{r_i}]"
        if not isinstance(rate, dict):
            raise TicRateError(f"{w}: not an object")
        groups: list[tuple[int, str, dict[str, Any] | None]] = []
        for gid in rate.get("provider_references") or []:
            if gid not in refs:
                raise TicRateError(
                    f"{w}: provider_references id {gid!r} is not in the file's provider_references"
                )
            net, gs = refs[gid]
            groups += [(gid, net, g) for g in gs] or [(gid, net, None)]
        for g in rate.get("provider_groups") or []:  # v1 inline groups
            groups.append((-1, "", g))
        prices = rate.get("negotiated_prices")
        if not isinstance(prices, list):
            raise TicRateError(f"{w}: negotiated_prices is not a list")
        for gid, net, g in groups:
            if g is None:
                tin_type, tin_value, bname, kept = "unresolved", "", "", []
            else:
                tin = g.get("tin") or {}
                tin_type = str(tin.get("type", ""))
                tin_value = str(tin.get("value", ""))
                bname = str(tin.get("business_name", ""))
                raw_npi = g.get("npi", g.get("providers", []))
                if not isinstance(raw_npi, list):
                    raise TicRateError(f"{w}: npi is {type(raw_npi).__name__}, expected a list")
                npis = []
                for n in raw_npi:
                    try:
                        npis.append(int(n))
                    except (TypeError, ValueError) as e:
                        raise TicRateError(
                            f"{w}: npi value of {len(str(n))} characters is not a number"
                        ) from e
                kept = pfilter.keep(npis, tin_value)
                if kept is None:
                    continue
            for p_i, price in enumerate(prices):
                wp = f"{w} negotiated_prices[{p_i}]"
                if not isinstance(price, dict):
                    raise TicRateError(f"{wp}: not an object")
                ntype = str(price.get("negotiated_type", "")).strip().lower()
                value = _number(price.get("negotiated_rate"), f"{wp} negotiated_rate")
                row = dict(base)
                row.update(
                    provider_group_id=gid,
                    network_name=net,
                    tin_type=tin_type,
                    tin_value=tin_value,
                    business_name=bname,
                    n_npi=len(kept),
                    negotiated_type=ntype,
                    dollar_rate=value if ntype in DOLLAR_TYPES else math.nan,
                    percent_of_billed=value if ntype == "percentage" else math.nan,
                    per_diem_rate=value if ntype == "per diem" else math.nan,
                    rate_flag="zero" if value == 0 else ("negative" if value < 0 else ""),
                    expiration_date=str(price.get("expiration_date", "")),
                    service_code=_codes_str(price.get("service_code") or []),
                    billing_class=str(price.get("billing_class", "")),
                    setting=str(price.get("setting", "")),
                    billing_code_modifier=_codes_str(price.get("billing_code_modifier") or []),
                )
                if ntype not in (*DOLLAR_TYPES, "percentage", "per diem"):
                    raise TicRateError(f"{wp}: negotiated_type {ntype!r} is not one of CMS's five")
                rows.append(row)
    return rows


def _root_fields(root: bytes, where: str) -> dict[str, str]:
    try:
        doc = json.loads(root) if root else {}
    except json.JSONDecodeError:
        doc = {}
    if not isinstance(doc, dict):
        raise TicRateError(f"{where}: the root is not a JSON object")
    plans = doc.get("reporting_plans") if isinstance(doc.get("reporting_plans"), list) else []
    first = plans[0] if plans and isinstance(plans[0], dict) else {}
    get = lambda k: str(doc.get(k) if doc.get(k) is not None else first.get(k, ""))  # noqa: E731
    return {
        "payer": get("reporting_entity_name"),
        "reporting_entity_type": get("reporting_entity_type"),
        "plan_name": get("plan_name"),
        "plan_id": get("plan_id"),
        "plan_market_type": get("plan_market_type"),
        "issuer_name": get("issuer_name"),
        "last_updated_on": get("last_updated_on"),
        "schema_version": get("version"),
    }


def read_rates(
    path: str | Path,
    codes: Iterable[str] | None,
    *,
    pfilter: ProviderFilter | None = None,
    remote_dir: str | Path | None = None,
) -> tuple[pd.DataFrame, FileStats]:
    """All rate rows of the wanted codes in one in-network file, with its stats.

    Provider references are resolved after the scan, so files that put ``provider_references``
    after ``in_network`` work too. A truncated file keeps the items read and reports where it
    stopped; a damaged one raises :class:`TicRateError` naming the file and the byte.
    """
    path = Path(path)
    stats = FileStats(file=str(path))
    wanted = frozenset(str(c).strip() for c in codes) if codes is not None else None
    pfilter = pfilter or ProviderFilter()
    sha = hashlib.sha256()
    res = tic_scan.ScanResult()
    refs_raw: list[dict[str, Any]] = []
    items: list[tuple[int, dict[str, Any]]] = []
    try:
        for span in tic_scan.scan(
            tic_scan.prefetch(tic_scan.open_stream(path, sha)), wanted, result=res
        ):
            try:
                obj = json.loads(span.data)
            except (json.JSONDecodeError, RecursionError) as e:
                raise TicRateError(
                    f"{path}: the {span.array} element at byte {span.offset:,} is not valid JSON ({e})"
                ) from e
            if not isinstance(obj, dict):
                raise TicRateError(
                    f"{path}: the {span.array} element at byte {span.offset:,} is not an object"
                )
            if span.array == "provider_references":
                refs_raw.append(obj)
            else:
                items.append((span.offset, obj))
    except tic_scan.TicScanError as e:
        msg = str(e)
        if "ends early" in msg:  # truncated gzip: keep what was decompressed
            stats.problems.append(msg)
            stats.truncated_at = res.bytes_read
        else:
            raise TicRateError(f"{path}: {msg}" if not msg.startswith(str(path)) else msg) from e
    if res.problem:
        stats.problems.append(f"{path}: {res.problem}")
        stats.truncated_at = res.truncated_at
    stats.bytes_read, stats.items_seen, stats.items_matched = (
        res.bytes_read,
        res.items_seen,
        res.items_matched,
    )
    stats.sha256 = sha.hexdigest()
    if not res.arrays and not items and stats.truncated_at is None:
        raise TicRateError(f"{path}: no in_network array (not a TiC in-network rate file?)")
    root = _root_fields(res.root, str(path))
    refs = resolve_references(
        refs_raw, Path(remote_dir) if remote_dir else None, str(path), stats.problems
    )
    rows: list[dict[str, Any]] = []
    for offset, item in items:
        for r in item_rows(
            item, refs, wanted, pfilter, f"{path} in_network item at byte {offset:,}"
        ):
            r.update(root, source_file=path.name, item_offset=offset, file_sha256=stats.sha256)
            rows.append(r)
    df = pd.DataFrame(rows, columns=list(RATE_COLUMNS))
    if len(df):
        key = [c for c in RATE_COLUMNS if c not in ("n_npi", "item_offset")]
        # the same rate for every NPI under a TIN (or repeated across items) is one row
        df = (
            df.groupby(key, dropna=False, sort=True)
            .agg(n_npi=("n_npi", "sum"), item_offset=("item_offset", "min"))
            .reset_index()[list(RATE_COLUMNS)]
        )
    df = df.astype(RATE_COLUMNS)
    stats.rows = len(df)
    return df, stats


def file_month(last_updated_on: str, path: Path) -> str:
    """The file's month (YYYY-MM) from last_updated_on, else a YYYY-MM(-DD) in its name."""
    m = re.match(r"(\d{4})-(\d{2})", last_updated_on or "")
    if not m:
        m = re.search(r"(20\d{2})[-_]?(0[1-9]|1[0-2])", path.name)
    return f"{m.group(1)}-{m.group(2)}" if m else "unknown"


def extract_file(
    path: str | Path,
    codes: Iterable[str] | None,
    out: str | Path,
    *,
    pfilter: ProviderFilter | None = None,
    remote_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Read one file and write its part of the partitioned dataset; returns its stats."""
    path = Path(path)
    df, stats = read_rates(path, codes, pfilter=pfilter, remote_dir=remote_dir)
    if len(df):
        payer = _slug(df["payer"].iloc[0])
        month = file_month(df["last_updated_on"].iloc[0], path)
        part = (
            Path(out)
            / f"payer_key={payer}"
            / f"file_month={month}"
            / f"part-{stats.sha256[:16]}.parquet"
        )
        part.parent.mkdir(parents=True, exist_ok=True)
        tmp = part.with_suffix(".parquet.tmp")
        df.to_parquet(tmp, index=False)
        tmp.replace(part)
        stats.part = str(part)
    return stats.to_dict()


def expand_inputs(paths: Iterable[str | Path]) -> tuple[list[Path], list[str]]:
    """Files to read: folders expanded, tables of contents turned into their downloaded files.

    A table of contents (``reporting_structure``) lists in-network file URLs; each is looked up
    by its file name beside the table of contents. Missing downloads are reported, not guessed.
    """
    files: list[Path] = []
    missing: list[str] = []
    todo: list[tuple[Path, bool]] = []
    for p in map(Path, paths):
        if p.is_dir():
            todo += [
                (x, True) for x in sorted(p.rglob("*")) if x.name.endswith((".json", ".json.gz"))
            ]
        else:
            todo.append((p, False))
    for p, in_folder in todo:
        if in_folder and p.suffix == ".json" and p.stat().st_size < (1 << 20):
            head = p.read_bytes()
            if b'"in_network"' not in head and b'"reporting_structure"' not in head:
                continue  # a v1 provider-reference file (used through --provider-refs)
        if not p.is_file():
            missing.append(f"{p}: not found")
            continue
        if p.stat().st_size < (64 << 20) and b"reporting_structure" in p.read_bytes()[:4096]:
            doc = json.loads(p.read_bytes())
            for rs in doc.get("reporting_structure", []):
                for f in rs.get("in_network_files", []):
                    local = p.parent / Path(str(f.get("location", ""))).name
                    if local.is_file():
                        files.append(local)
                    else:
                        missing.append(
                            f"{p}: {f.get('location')} listed but not downloaded beside it"
                        )
            continue
        files.append(p)
    seen: set[Path] = set()
    uniq = [f for f in files if not (f.resolve() in seen or seen.add(f.resolve()))]
    return uniq, missing


def codes_from(spec: str) -> list[str]:
    """``--codes``: comma-separated codes, a file of codes, or a claim-lines Parquet's codes."""
    p = Path(spec)
    if p.exists() and p.suffix == ".parquet":  # a file or a part dataset folder
        cl = partitions.read_all(p, columns=["cpt"])
        return sorted({str(c) for c in cl["cpt"] if str(c)})
    if p.is_file():
        return sorted({t for t in re.split(r"[\s,]+", p.read_text()) if t})
    return sorted({t.strip() for t in spec.split(",") if t.strip()})


def npi_filter_from_nppes(
    nppes: str | Path, *, localities: set[str] | None = None, taxonomies: set[str] | None = None
) -> frozenset[int]:
    """NPIs of the NPPES data file whose practice ZIP is in ``localities`` (via CMS ZIP5) and
    whose primary taxonomy is in ``taxonomies`` (either filter optional)."""
    zip_col = "Provider Business Practice Location Address Postal Code"
    tax_col = "Healthcare Provider Taxonomy Code_1"
    cols = ["NPI", zip_col, tax_col]
    keep: set[int] = set()
    for chunk in pd.read_csv(
        nppes, usecols=cols, dtype=str, chunksize=500_000, keep_default_na=False
    ):
        mask = pd.Series(True, index=chunk.index)
        if taxonomies:
            mask &= chunk[tax_col].isin(taxonomies)
        if localities:
            from oonplaybook.reference.localities import zip_localities

            loc = zip_localities(chunk[zip_col].str[:5])["locality"]  # ZIP9-split ZIPs: ""
            mask &= loc.isin(localities).to_numpy()
        keep |= {int(n) for n in chunk.loc[mask, "NPI"] if n.isdigit()}
    return frozenset(keep)


def extract(
    paths: Iterable[str | Path],
    codes: Iterable[str] | None,
    out: str | Path,
    *,
    pfilter: ProviderFilter | None = None,
    remote_dir: str | Path | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    progress: bool = False,
    cluster: bool | None = None,
) -> pd.DataFrame:
    """Extract every file into the dataset at ``out``, one Dask task per file; stats per file.

    ``workers=1`` without a scheduler runs in-process (no cluster; ``cluster=True`` forces one);
    otherwise a local ``dask.distributed`` cluster of ``workers`` single-threaded processes, or
    the cluster at ``scheduler``. Each file's read already overlaps decompression and scanning
    on two threads, so on a 2-core machine the fan-out adds little; it is for more cores. A failing file is reported with its error and the others go on.
    """
    files, missing = expand_inputs(paths)
    codes = sorted(set(codes)) if codes is not None else None
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    results: list[dict[str, Any]] = [{"file": m, "problems": [m], "rows": 0} for m in missing]
    sizes = {str(f): f.stat().st_size for f in files}

    def run_one(f: Path) -> dict[str, Any]:
        try:
            return extract_file(f, codes, out, pfilter=pfilter, remote_dir=remote_dir)
        except (TicRateError, tic_scan.TicScanError, OSError) as e:
            return {"file": str(f), "rows": 0, "problems": [str(e)], "error": True}

    bar = _progress(progress, len(files), sum(sizes.values()))
    if cluster is None:
        cluster = scheduler is not None or workers > 1
    if not cluster:
        for f in files:
            results.append(run_one(f))
            bar.advance(sizes[str(f)])
    else:
        from distributed import as_completed

        from oonplaybook.cluster import client_for

        with client_for(scheduler or f"local:{workers}") as client:
            futures = [
                client.submit(
                    _extract_task, str(f), codes, str(out), pfilter, remote_dir, pure=False
                )
                for f in files
            ]
            for fut in as_completed(futures):
                r = fut.result()
                results.append(r)
                bar.advance(sizes.get(r["file"], 0))
    bar.close()
    return pd.DataFrame(results).sort_values("file").reset_index(drop=True)


def _extract_task(
    path: str, codes: list[str] | None, out: str, pfilter: ProviderFilter | None, remote_dir: Any
) -> dict[str, Any]:
    """The Dask task: one file (module-level so it pickles)."""
    try:
        return extract_file(path, codes, out, pfilter=pfilter, remote_dir=remote_dir)
    except (TicRateError, tic_scan.TicScanError, OSError) as e:
        return {"file": path, "rows": 0, "problems": [str(e)], "error": True}


class _NoBar:
    def advance(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


class _RichBar:
    """Files and bytes done (rich)."""

    def __init__(self, files: int, total: int) -> None:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TransferSpeedColumn,
        )

        self.p = Progress(
            TextColumn("{task.fields[done]}/{task.fields[files]} files"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
        )
        self.t = self.p.add_task("tic", total=total, done=0, files=files)
        self.p.start()

    def advance(self, n: int) -> None:
        task = self.p.tasks[0]
        self.p.update(self.t, advance=n, done=task.fields["done"] + 1)

    def close(self) -> None:
        self.p.stop()


def _progress(on: bool, files: int, total: int) -> _NoBar | _RichBar:
    return _RichBar(files, total) if on else _NoBar()


def read_dataset(out: str | Path, codes: Iterable[str] | None = None) -> pd.DataFrame:
    """Read the extracted dataset back (pyarrow dataset; partition columns included)."""
    import pyarrow.dataset as ds

    d = ds.dataset(str(out), format="parquet", partitioning="hive")
    flt = ds.field("billing_code").isin(sorted(set(codes))) if codes else None
    return d.to_table(filter=flt).to_pandas()
