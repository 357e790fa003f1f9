"""The ingest orchestrator: classify each input by content, read it, join billed to remitted lines.

The practice export / 837P gives the billed side and the context (emergency, facility network,
plan type, specialty, locality, QPA, consent, PHI -> patient_key); the 835 gives the outcome.
Remit lines join billed lines by claim id (CLM01 = CLP01) and then, in order:

1. the line item control number (REF*6R; an export without one uses its line number, which is
   what :mod:`oonplaybook.ingest.x12_writer` echoes);
2. the billed code (SVC06 when the payer changed it, else SVC01) and its rank in the claim;
3. the line's position in the claim.

A remit line matched to a billed line with another code is ``recoded`` (``billed_cpt`` = billed
code). Billed lines no remit reaches stay ``pending``; remit lines with no billed line are kept.
Matched remit lines take the billed line's number, and their adjustments follow.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from oonplaybook import schema
from oonplaybook.config import resolve_inputs
from oonplaybook.ingest import remit_pool
from oonplaybook.ingest.claim_instances import assign_remits, resolve_billed_instances
from oonplaybook.ingest.deliveries import DeliveryIndex, Transaction
from oonplaybook.ingest.deliveries import describe as describe_trn
from oonplaybook.ingest.errors import IngestError
from oonplaybook.ingest.tabular import (
    body_rows,
    csv_rows,
    decode_export,
    norm_header,
    parse_dates,
    parse_money,
    read_table,
    sniff_layout,
)
from oonplaybook.ingest.x12 import Remit835Reader
from oonplaybook.ingest.x12_tokens import BOM
from oonplaybook.ingest.x837 import read_837p

#: Context columns the billed side (export/837) supplies to a matched remit line.
CONTEXT_FROM_BILLED = (
    "plan_type",
    "specialty",
    "locality",
    "state",
    "service_zip",
    "qpa",
    "emergency",
    "facility_in_network",
    "air_ambulance",
    "notice_consent",
    "gfe_amount",
    "pos",
    "unit_type",
)
#: Columns the remit supplies, falling back to the billed side when the remit lacks them.
REMIT_THEN_BILLED = (
    "payer",
    "payer_id",
    "provider_tin",
    "submitted_date",
    "service_date",
    "modifiers",
)
#: Columns the billed side supplies, falling back to the remit.
BILLED_THEN_REMIT = ("patient_key", "provider_npi")


class _Kind:
    """The formats :func:`classify` tells apart."""

    X835 = "835"
    X837P = "837P"
    CSV = "csv"
    XLSX = "xlsx"


_ST = re.compile(rb"(?:^|[~\n\r])\s*ST(.)(\d{3})")


def classify(data: bytes, name: str) -> str:
    """The file's format from its content: "835", "837P", "csv" or "xlsx"."""
    if not data.strip():
        raise IngestError(f"{name}: file is empty; remove it from the inputs or re-export it")
    if data[:4] == b"PK\x03\x04":
        return _Kind.XLSX
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise IngestError(f"{name}: legacy Excel .xls; save it as .xlsx or CSV and ingest that")
    head = data[3:] if data.startswith(BOM) else data
    head = head.lstrip()
    if head[:3] == b"ISA" or (head[:2] == b"ST" and len(head) > 2 and not head[2:3].isalnum()):
        m = _ST.search(head[:20000] if head[:2] != b"ST" else b"~" + head[:20000])
        st = m.group(2).decode() if m else ""
        if st == "835":
            return _Kind.X835
        if st == "837":
            gs = re.search(rb"X22[234]", head[:20000])
            if gs and gs.group(0) != b"X222":
                raise IngestError(
                    f"{name}: 837 {'institutional (837I)' if gs.group(0) == b'X223' else 'dental (837D)'}"
                    " is not supported; give the professional 837P or the payer's 835"
                )
            return _Kind.X837P
        if m is None and head[:3] == b"ISA":
            return _Kind.X835  # envelope without a readable ST: the 835 reader reports it
        raise IngestError(
            f"{name}: X12 transaction ST*{st} is not an 835 or 837P; remove it from the inputs"
        )
    if b"\x00" in data[:4096]:
        raise IngestError(
            f"{name}: binary file that is not X12, CSV or XLSX; remove it from the inputs"
        )
    return _Kind.CSV


@dataclass
class IngestResult:
    """The canonical tables of one ingest plus its report (see :func:`ingest_paths`)."""

    claim_lines: pd.DataFrame
    adjustments: pd.DataFrame
    provider_adjustments: pd.DataFrame
    rejects: pd.DataFrame
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def balance_failures(self) -> pd.DataFrame:
        """Balance-check failures (line, claim, transaction) as a table."""
        cols = ["file", "claim_id", "line_no", "location", "claim_location", "check", "difference"]
        return pd.DataFrame(self.report.get("balance_failures", []), columns=cols)

    def write(self, out_dir: Path, n_parts: int = 1) -> None:
        """Write the four tables and ingest_report.json (sorted keys) into ``out_dir``.

        Claim lines and adjustments are partitioned datasets of ``n_parts`` parts of whole
        claims (:mod:`oonplaybook.partitions`), so later stages can work one part at a time."""
        from oonplaybook import partitions

        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, frame in (("claim_lines", self.claim_lines), ("adjustments", self.adjustments)):
            path = partitions.reset(out_dir / f"{name}.parquet")
            key = partitions.part_of(frame["claim_id"], n_parts)
            written = partitions.write_parts(frame, path, key)
            if not written:  # an empty table still gets its part 0 (with the schema)
                partitions.write_part(frame, path, 0)
        self.provider_adjustments.to_parquet(out_dir / "provider_adjustments.parquet", index=False)
        self.rejects.to_csv(out_dir / "rejects.csv", index=False)
        (out_dir / "ingest_report.json").write_text(
            json.dumps(self.report, indent=2, sort_keys=True, default=str) + "\n"
        )


def _display_name(p: Path, base: Path | None) -> str:
    """The file name shown in sources and rejects: relative to base when possible."""
    if base is not None:
        try:
            return str(p.resolve().relative_to(Path(base).resolve()))
        except ValueError:
            pass
    return p.name


def _expand(paths: Sequence[str | Path], base: Path | None) -> list[Path]:
    """Files from files/folders/globs relative to base; a pattern matching nothing is an error."""
    root = Path(base) if base is not None else Path.cwd()
    out: list[Path] = []
    for p in paths:
        got = resolve_inputs([str(p)], root)
        if not got:
            raise IngestError(
                f"{p}: input not found (relative to {root}); fix the path, folder or glob"
            )
        out.extend(got)
    seen: set[Path] = set()
    return [x for x in out if not (x in seen or seen.add(x))]


def _cents_sum(s: pd.Series) -> int:
    """Exact sum of a dollar column in integer cents (NaN skipped)."""
    v = s.to_numpy(dtype="float64", na_value=np.nan)
    v = v[~np.isnan(v)]
    return int(np.round(v * 100).astype("int64").sum())


def _isin(s: pd.Series, values: Any) -> pd.Series:
    """``s.isin(values)`` for string columns via one pyarrow ``is_in``.

    pandas 3's ``str`` ``isin`` boxes every probe value as a pyarrow scalar in Python
    (~4 s per 200k ids); this hashes them in C. Non-string columns use pandas' own isin.
    """
    if s.dtype != "str":
        return s.isin(values)
    vals = pd.Series(values, dtype="str").dropna()
    probe = pa.array(s, type=pa.large_string())
    value_set = pc.unique(pa.array(vals, type=pa.large_string()))
    hit = pc.is_in(probe, value_set=value_set).to_numpy(zero_copy_only=False)
    return pd.Series(np.asarray(hit, dtype=bool) & s.notna().to_numpy(), index=s.index)


def _release() -> None:
    """Hand the memory pyarrow has freed back to the OS between phases.

    pyarrow's default pool (mimalloc) keeps freed pages for reuse; after the 1M-row export is
    read it held ~1.1 GB of them, which the 835 walk (Python lists, another allocator) and the
    merge then stacked on. Releasing them at phase boundaries cut the 1M-line ingest peak
    (``benchmarks/ingest_demo.py``); it costs milliseconds and changes no result.
    """
    pa.default_memory_pool().release_unused()
    if _TRIM is not None:  # glibc keeps freed heap (list/array blocks) too; hand it back
        _TRIM(0)


def _malloc_trim() -> Any:
    """glibc's ``malloc_trim`` when the C library has it (Linux), else None."""
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


_TRIM = _malloc_trim()


def _reason_kind(reason: str) -> str:
    """Reject reason without the record's values, for counting by kind."""
    first = reason.split("; ")[0]
    r = re.sub(r"'[^']*'", "'…'", first)
    r = re.sub(r"\[[^\]]*\]", "[…]", r)
    return re.sub(r"\b\d+\b", "N", r)


@dataclass
class _ReadAhead:
    """What the pre-pass settled for the ingest loop: the 835s being read by child processes and
    each 835's delivery verdict (duplicate of which file; re-sent transactions), worked out once
    on the index the report then reads."""

    pending: remit_pool.PendingPool | None
    deliveries: DeliveryIndex
    verdicts: dict[Path, tuple[str | None, list[tuple[Transaction, str]]]]


def _read_ahead(
    files: list[Path], base: Path | None, salt: str, workers: int | None
) -> _ReadAhead | None:
    """Start reading the 835s the ingest loop will read on several processes, while the loop
    reads the other files (None: the loop reads them in this process). The loop's own choice of
    files (by content, duplicates of an earlier delivery skipped) is made here, in the loop's
    order, and handed to it; any surprise (an unreadable or odd file) leaves everything to the
    loop, which reports it."""
    if workers is not None and workers <= 1:
        return None
    try:
        total = sum(p.stat().st_size for p in files)
        if remit_pool.auto_workers(total, workers) <= 1:
            return None
        index = DeliveryIndex()
        verdicts: dict[Path, tuple[str | None, list[tuple[Transaction, str]]]] = {}
        todo: list[tuple[Path, str]] = []
        for path in files:
            name = _display_name(path, base)
            data = path.read_bytes()
            if classify(data, name) != _Kind.X835:
                continue
            dup_of = index.duplicate_of(data, name, path)
            repeated = []
            if dup_of is None:
                todo.append((path, name))
                repeated = index.repeated_transactions(data, name, path)
            verdicts[path] = (dup_of, repeated)
        n = remit_pool.auto_workers(sum(p.stat().st_size for p, _ in todo), workers)
    except Exception:  # noqa: BLE001 - the loop raises the proper error for this file
        return None
    if n <= 1:
        return None
    return _ReadAhead(remit_pool.start_pooled(todo, salt, n), index, verdicts)


def ingest_paths(
    paths: Sequence[str | Path],
    *,
    salt: str,
    mapping: str = "auto",
    base: Path | None = None,
    workers: int | None = None,
) -> IngestResult:
    """Read 835/837P/CSV/XLSX inputs (files, folders, globs) into the canonical tables + report.

    ``workers`` processes read the 835s (:mod:`.remit_pool`; None: one per core from 32 MB of
    835s on, else one); the result is the same whatever the number."""
    files = _expand(paths, base)
    ahead = _read_ahead(files, base, salt, workers)
    try:
        return _ingest(files, salt=salt, mapping=mapping, base=base, ahead=ahead)
    finally:
        if ahead is not None and ahead.pending is not None:
            ahead.pending.close()


def _ingest(  # noqa: C901 - orchestration
    files: list[Path],
    *,
    salt: str,
    mapping: str,
    base: Path | None,
    ahead: _ReadAhead | None,
) -> IngestResult:
    """:func:`ingest_paths` on expanded files, the 835s maybe being read ahead."""
    pending = ahead.pending if ahead is not None else None
    pool: remit_pool.PooledRemits | None = None
    remit_reader = Remit835Reader(salt)
    billed: list[pd.DataFrame] = []
    outcome_rows: list[pd.DataFrame] = []
    rejects: list[dict[str, str]] = []
    balance: list[dict[str, Any]] = []
    per_file: list[dict[str, Any]] = []
    remit_stats: list[tuple[dict[str, Any], dict[str, Any]]] = []
    warnings: list[str] = []
    unknown: dict[str, int] = {}
    mappings_used: dict[str, str] = {}
    ignored: dict[str, list[str]] = {}
    totals = dict.fromkeys(
        ["bpr", "plb", "clp_paid", "clp_billed", "clp_presp", "claims_in_file"], 0
    )
    lines_read = 0
    deliveries = ahead.deliveries if ahead is not None else DeliveryIndex()
    duplicate_deliveries: list[dict[str, str]] = []
    repeated_tx: dict[str, list[tuple[Transaction, str]]] = {}
    for order, path in enumerate(files):
        name = _display_name(path, base)
        try:
            data = path.read_bytes()
        except OSError as e:
            raise IngestError(f"{name}: cannot read the file ({e}); check permissions") from None
        kind = classify(data, name)
        info: dict[str, Any] = {"file": name, "kind": kind}
        dup_of, repeated = None, []
        if kind == _Kind.X835:
            if ahead is not None:
                dup_of, repeated = ahead.verdicts[path]
            else:
                dup_of = deliveries.duplicate_of(data, name, path)
        if dup_of is not None:
            trn = describe_trn(data)
            info.update(duplicate_of=dup_of, claims=0, lines=0)
            duplicate_deliveries.append({"file": name, "duplicate_of": dup_of, "trn": trn})
            rejects.append(
                {
                    "file": name,
                    "location": "whole file",
                    "record": f"835 delivery TRN {trn}",
                    "reason": (
                        f"duplicate delivery of {dup_of}: same TRN (check/EFT number, payer) and"
                        " the same transactions; read once from that file, this copy not read"
                    ),
                }
            )
            warnings.append(f"{name}: duplicate delivery of {dup_of} (same TRN and content)")
        elif kind == _Kind.X835:
            if pending is not None:  # the first 835: wait for the children (None if one failed)
                pool, pending = pending.result(), None
            if pool is not None:
                st, n_walk_warnings = pool.take(name)
            else:
                st = remit_reader.add(data, name)
                n_walk_warnings = len(st["warnings"])
            totals["bpr"] += st["bpr_total_cents"]
            totals["plb"] += st["plb_cents"]
            totals["clp_paid"] += st["clp_paid_cents"]
            totals["clp_billed"] += st["clp_billed_cents"]
            totals["clp_presp"] += st["clp_patient_resp_cents"]
            totals["claims_in_file"] += st["claims_in_file"]
            for k, v in st["unknown_segments"].items():
                unknown[k] = unknown.get(k, 0) + v
            lines_read += st["lines"] + st["lines_rejected"]
            info.update(
                claims=st["claims"],
                claims_rejected=st["claims_rejected"],
                lines=st["lines"],
                adjustments=0,  # known after build() expands the CAS (remit_stats below)
                plb=st["plb"],
                transactions=st["transactions"],
                versions=st["versions"],
                encoding=st["encoding"],
                balance_failures=0,
                warnings=n_walk_warnings,
            )
            remit_stats.append((info, st))
            if ahead is None:
                repeated = deliveries.repeated_transactions(data, name, path)
            if repeated:
                _drop_repeated_totals(repeated, totals)
                repeated_tx[name] = repeated
                info["repeated_transactions"] = len(repeated)
        elif kind == _Kind.X837P:
            c = read_837p(data, name, salt=salt)
            c.claim_lines["_file"] = order
            c.claim_lines["_origin"] = "837"
            billed.append(c.claim_lines)
            rejects += c.rejects
            warnings += c.stats["warnings"]
            totals["claims_in_file"] += c.stats["claims_in_file"]
            lines_read += len(c.claim_lines) + c.stats["lines_rejected"]
            info.update(
                claims=c.stats["claims"],
                claims_rejected=c.stats["claims_rejected"],
                lines=len(c.claim_lines),
                versions=c.stats["versions"],
                encoding=c.stats["encoding"],
                warnings=len(c.stats["warnings"]),
            )
            del c
        else:
            box = [data]  # handed over: read_table frees the bytes once decoded (212 MB at 1M)
            del data
            t = read_table(box.pop(), name, kind, salt=salt, mapping=mapping, base=base)
            _release()
            t.claim_lines["_file"] = order
            t.claim_lines["_origin"] = "export"
            (outcome_rows if t.stats["has_outcome"] else billed).append(t.claim_lines)
            rejects += t.rejects
            mappings_used[name] = t.stats["mapping"]
            if t.stats["claim_key"]:
                warnings.append(f"{name}: {t.stats['claim_key']}")
            ignored[name] = t.stats["ignored_columns"]
            lines_read += t.stats["rows"]
            info.update(
                lines=len(t.claim_lines),
                rows=t.stats["rows"],
                mapping=t.stats["mapping"],
                header_row=t.stats["header_row"],
                ignored_columns=t.stats["ignored_columns"],
                has_outcome=t.stats["has_outcome"],
                unmapped_plan_types=t.stats["unmapped_plan_types"],
                invalid_localities_blanked=t.stats["invalid_localities_blanked"],
                duplicate_columns=t.stats["duplicate_columns"],
                claim_key=t.stats["claim_key"],
                encoding=t.stats["encoding"],
                delimiter=t.stats["delimiter"],
                lines_read_as_cp1252=t.stats["lines_read_as_cp1252"],
            )
            del t  # its table lives on in billed/outcome_rows only (freed after the merge)
        per_file.append(info)

    _release()
    if pool is not None:
        if pool.unused:
            raise RuntimeError(f"835 pool: {pool.unused} files read ahead unused")
        remits, contacts = pool.remits, pool.contacts
        del pool
    else:
        remits = remit_reader.build(consume=True)
        contacts = remit_reader.contacts
    del remit_reader  # its column buffers (Python lists, ~1 GB at 1M lines) are spent
    _release()
    for info, st in remit_stats:
        info.update(adjustments=st["adjustments"], balance_failures=st["balance_failures"])
    rejects = remits.rejects + rejects
    balance = remits.balance_failures
    warnings = remits.stats["warnings"] + warnings
    if repeated_tx:  # transactions re-sent inside a later delivery: read once
        rejects, balance, dropped = _drop_repeated(remits, rejects, balance, repeated_tx)
        for info, _st in remit_stats:
            if info["file"] in dropped:
                n_claims_gone, n_lines_gone = dropped[info["file"]]
                info["claims"] -= n_claims_gone
                info["lines"] -= n_lines_gone
                lines_read -= n_lines_gone
        for f, reps in sorted(repeated_tx.items()):
            for t, prev in reps:
                duplicate_deliveries.append(
                    {
                        "file": f,
                        "duplicate_of": prev,
                        "trn": t.trn,
                        "segments": f"{t.first}-{t.last}",
                    }
                )
                warnings.append(
                    f"{f}: segments {t.first}-{t.last} re-send the transaction TRN {t.trn} of "
                    f"{prev} (same content); read once from {prev}"
                )
    R = remits.claim_lines
    R["_file"] = 0  # _clp is unique across files
    R["_origin"] = "835"
    A = remits.adjustments
    A["_file"] = 0
    B = _cat(billed, schema.CLAIM_LINE_COLUMNS)
    X = _cat(outcome_rows, schema.CLAIM_LINE_COLUMNS)
    del billed, outcome_rows
    rev = _reversal_pairs(R)
    remit_ids = R["claim_id"]
    P = remits.provider_adjustments
    del remits
    _release()
    frames = {"B": B, "X": X, "R": R, "A": A}
    del B, X, R, A  # the merge holds the only references, so replaced columns are freed
    merged, A, stats = _merge(frames)
    rejects += stats.pop("duplicate_rejects")
    n_rej = pd.Series([j["file"] for j in rejects], dtype="str").value_counts().to_dict()
    for info in per_file:
        info["rejects"] = int(n_rej.get(info["file"], 0))
    _release()
    origin = (
        merged["_origin"].astype("str")
        if "_origin" in merged
        else pd.Series("", index=merged.index)
    )
    merged = merged.drop(columns=[c for c in ("_file", "_clp", "_origin") if c in merged])
    A = A.drop(columns=[c for c in ("_file", "_clp") if c in A])
    merged = schema.conform(merged)
    order_ = np.lexsort((merged["line_no"].to_numpy(), merged["claim_id"].to_numpy().astype(str)))
    merged = merged.iloc[order_].reset_index(drop=True)
    origin = origin.iloc[order_].reset_index(drop=True)
    A = schema.conform(A, schema.ADJUSTMENT_COLUMNS)
    A = A.sort_values(["claim_id", "line_no"], kind="stable", ignore_index=True)
    rej = schema.conform(
        pd.DataFrame(rejects, columns=list(schema.REJECT_COLUMNS)), schema.REJECT_COLUMNS
    )

    remitted = origin.eq("835")
    export_outcome = origin.ne("835") & merged["claim_status"].ne("pending")
    by_reason = (
        rej["reason"].map(_reason_kind).value_counts().sort_index().to_dict() if len(rej) else {}
    )
    unbalanced = {b["claim_location"] for b in balance if b["claim_location"]}
    n_claims = sum(f.get("claims", 0) for f in per_file if f["kind"] == _Kind.X835) + int(
        merged.loc[~remitted & ~_isin(merged["claim_id"], remit_ids), "claim_id"].nunique()
    )
    cents = {
        "billed": _cents_sum(merged["billed"]),
        "allowed": _cents_sum(merged["allowed"]),
        "line_paid": _cents_sum(merged["paid"]),
        "line_patient_resp": _cents_sum(merged["patient_resp"]),
        "adjustments": _cents_sum(A["amount"]),
        "claim_level_adjustments": _cents_sum(A.loc[A["line_no"].eq(0), "amount"]),
    }
    other_paid = _cents_sum(merged.loc[export_outcome, "paid"])
    other_presp = _cents_sum(merged.loc[export_outcome, "patient_resp"])
    paid = totals["clp_paid"] + other_paid
    report: dict[str, Any] = {
        "files": per_file,
        "claims": n_claims,
        "claims_in_x12_files": totals["claims_in_file"],
        "lines": len(merged) + len(rej),  # accepted lines + rejected records
        "source_records_read": lines_read,  # export rows + 837 lines + 835 lines, before joining
        "accepted_lines": len(merged),
        "remitted_lines": int(remitted.sum()),
        "pending_lines": int(merged["claim_status"].eq("pending").sum()),
        "lines_by_status": merged["claim_status"].value_counts().sort_index().to_dict(),
        "rejected": len(rej),
        "rejected_by_reason": by_reason,
        "unbalanced_claims": len(unbalanced),
        "balance_failures": balance,
        "recoded_lines": int(merged["recoded"].sum()),
        "billed": cents["billed"] / 100,
        "allowed": cents["allowed"] / 100,
        "paid": paid / 100,
        "patient_resp": (totals["clp_presp"] + other_presp) / 100,
        "line_paid": cents["line_paid"] / 100,
        "line_patient_resp": cents["line_patient_resp"] / 100,
        "adjustments": cents["adjustments"] / 100,
        "claim_level_adjustments": cents["claim_level_adjustments"] / 100,
        "plb": totals["plb"] / 100,
        "bpr_total": totals["bpr"] / 100,
        "payments_reconcile": totals["bpr"] == totals["clp_paid"] - totals["plb"],
        "clp_billed": totals["clp_billed"] / 100,
        "clp_paid": totals["clp_paid"] / 100,
        "mappings_used": dict(sorted(mappings_used.items())),
        "ignored_columns": dict(sorted(ignored.items())),
        "unknown_segments": dict(sorted(unknown.items())),
        "payer_contacts": {k: sorted(v) for k, v in sorted(contacts.items())},
        "repricers": merged.loc[merged["repricer"].ne(""), "repricer"]
        .value_counts()
        .sort_index()
        .to_dict(),
        "warnings": warnings,
        "duplicate_deliveries": duplicate_deliveries,
        "same_trn_other_content": deliveries.same_trn_other_content,
        **stats,
        **rev,
    }
    return IngestResult(merged, A, P, rej, report)


_TOTAL_OF = {
    "bpr": "bpr",
    "plb": "plb",
    "clp_paid": "clp_paid",
    "clp_billed": "clp_billed",
    "clp_presp": "clp_presp",
}


def _drop_repeated_totals(repeated: list[tuple[Transaction, str]], totals: dict[str, int]) -> None:
    """Take the re-sent transactions' money and claim counts out of the ingest totals."""
    for t, _prev in repeated:
        for k, v in t.cents:
            totals[_TOTAL_OF[k]] -= v
        totals["claims_in_file"] -= t.claims


_SEGNO = re.compile(r"segment (\d+)")


def _in_ranges(
    file: pd.Series, seg: pd.Series, ranges: dict[str, list[tuple[int, int]]]
) -> np.ndarray:
    """Rows whose (file, segment number) falls in one of that file's ranges."""
    hit = np.zeros(len(file), dtype=bool)
    f = file.to_numpy()
    n = seg.to_numpy(dtype="float64", na_value=np.nan)
    for name, rs in ranges.items():
        mine = f == name
        for a, b in rs:
            hit |= mine & (n >= a) & (n <= b)
    return hit


def _drop_repeated(
    remits: Any,
    rejects: list[dict[str, str]],
    balance: list[dict[str, Any]],
    repeated: dict[str, list[tuple[Transaction, str]]],
) -> tuple[list[dict[str, str]], list[dict[str, Any]], dict[str, tuple[int, int]]]:
    """Remove the rows of re-sent transactions from the remit tables (in place), their rejects and
    balance failures; one reject per re-sent transaction names it and the file read instead.
    Returns (rejects, balance failures, file -> (claims dropped, lines dropped))."""
    ranges = {f: [(t.first, t.last) for t, _ in reps] for f, reps in repeated.items()}

    def split(src: pd.Series) -> tuple[pd.Series, pd.Series]:
        parts = src.astype("str").str.rsplit(":segment ", n=1, expand=True)
        if parts.shape[1] < 2:
            return parts[0], pd.Series(np.nan, index=src.index)
        return parts[0], pd.to_numeric(parts[1], errors="coerce")

    dropped: dict[str, tuple[int, int]] = {}
    R = remits.claim_lines
    f, n = split(R["source"])
    gone = _in_ranges(f, n, ranges)
    clps = set(R.loc[gone, "_clp"].tolist())
    for name in ranges:
        mine = gone & (f.to_numpy() == name)
        dropped[name] = (int(R.loc[mine, "_clp"].nunique()), int(mine.sum()))
    remits.claim_lines = R.loc[~gone].reset_index(drop=True)
    A = remits.adjustments
    remits.adjustments = A.loc[~A["_clp"].isin(clps)].reset_index(drop=True)
    P = remits.provider_adjustments
    if len(P):
        pf, pn = split(P["source"])
        remits.provider_adjustments = P.loc[~_in_ranges(pf, pn, ranges)].reset_index(drop=True)

    def inside(file: str, text: str) -> bool:
        m = _SEGNO.search(str(text))
        return bool(m) and any(a <= int(m.group(1)) <= b for a, b in ranges.get(file, []))

    kept = [r for r in rejects if not inside(r["file"], r["location"])]
    for name, reps in sorted(repeated.items()):
        for t, prev in reps:
            kept.append(
                {
                    "file": name,
                    "location": f"segments {t.first}-{t.last}",
                    "record": f"835 transaction TRN {t.trn}",
                    "reason": (
                        f"duplicate delivery of a transaction in {prev}: same TRN (check/EFT "
                        "number, payer) and content; read once from that file, this copy not read"
                    ),
                }
            )
    bal = [
        b
        for b in balance
        if not inside(b.get("file", ""), f"{b.get('location', '')} {b.get('claim_location', '')}")
    ]
    return kept, bal, dropped


def _cat(frames: list[pd.DataFrame], columns: dict[str, str]) -> pd.DataFrame:
    """Concatenate non-empty frames, or an empty canonical table."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return schema.conform(schema._typed_empty(columns), columns)
    return pd.concat(frames, ignore_index=True)


def _reversal_pairs(R: pd.DataFrame) -> dict[str, Any]:
    """Pair CLP02=22 reversals with their original claim by payer claim number (CLP07)."""
    if R.empty:
        return {"reversals": 0, "reversals_paired": 0, "reversals_unpaired": []}
    claims = R.drop_duplicates(["_file", "_clp"]) if "_clp" in R else R
    is_rev = claims["claim_status_code"].eq("22")
    originals = claims.loc[~is_rev]
    orig_pcn = originals["payer_claim_id"][originals["payer_claim_id"].ne("")]
    orig_id = originals["claim_id"]
    rev = claims.loc[is_rev]
    paired = _isin(rev["payer_claim_id"], orig_pcn) | (
        rev["payer_claim_id"].eq("") & _isin(rev["claim_id"], orig_id)
    )
    return {
        "reversals": int(is_rev.sum()),
        "reversals_paired": int(paired.sum()),
        "reversals_unpaired": sorted(rev.loc[~paired, "claim_id"].unique().tolist()),
    }


class _TakenColumns:
    """``frame.iloc[rows]`` read one column at a time (``src[c]``, ``c in src``): the matched
    lines' billed context is taken column by column as it is used, not copied whole first
    (~0.3 GB at 1M lines, held across ingest's peak)."""

    def __init__(self, frame: pd.DataFrame, rows: np.ndarray) -> None:
        self._frame, self._rows = frame, rows

    def __contains__(self, col: object) -> bool:
        return col in self._frame.columns

    def __getitem__(self, col: str) -> pd.Series:
        return self._frame[col].iloc[self._rows].reset_index(drop=True)


def _set_rows(df: pd.DataFrame, rows: pd.Index, col: str, values: Any) -> None:
    """``df.loc[rows, col] = values``; a ``str`` column is rebuilt in one pass instead (pandas 3
    validates arrow setitem values one by one: ~0.1 s per 100k cells). Same result: only string
    values take the fast path, anything else goes through ``.loc`` (and its errors)."""
    s = df[col]
    vals = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
    if s.dtype == "str" and pd.api.types.infer_dtype(vals, skipna=True) in ("string", "empty"):
        arr = s.to_numpy(dtype=object, na_value=np.nan, copy=True)
        arr[df.index.get_indexer(rows)] = vals
        df[col] = pd.Series(arr, index=df.index, dtype=s.dtype)
    else:
        df.loc[rows, col] = values


def merge_billed_and_remits(
    B: pd.DataFrame, X: pd.DataFrame, R: pd.DataFrame, A: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Join remit lines R (with adjustments A) to billed lines B; X = export rows with outcomes.

    Returns the merged claim lines, the adjustments renumbered to the billed line numbers, and
    merge statistics for the report. The inputs are not modified.
    """
    return _merge({"B": B, "X": X, "R": R, "A": A})


def _merge(frames: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """:func:`merge_billed_and_remits` on frames it takes out of ``frames``: when the caller
    keeps no other reference, each column the merge rewrites frees its old data (copy-on-write
    sees one owner), ~0.3 GB less at 1M lines."""
    B, X, R, A = (frames.pop(k) for k in ("B", "X", "R", "A"))
    stats: dict[str, Any] = {}
    # the billed side: one claim id per distinct claim, true duplicates removed and reported
    # (claim_instances). Shallow copies: pandas 3 copy-on-write copies a column only when it
    # is written, so the caller's frames stay untouched without a second full copy.
    ctx = pd.concat([B, X], ignore_index=True) if len(X) else B.copy(deep=False)
    del B
    ctx, dup_rejects, inst_stats = resolve_billed_instances(ctx)
    stats.update(inst_stats)
    stats["duplicate_rejects"] = dup_rejects
    if "line_control" not in ctx:
        ctx["line_control"] = ctx["line_no"].astype("str")
    ctx["line_control"] = (
        ctx["line_control"]
        .astype("str")
        .where(ctx["line_control"].astype("str").ne(""), ctx["line_no"].astype("str"))
    )
    ctx["_bi"] = np.arange(len(ctx))
    R = R.copy(deep=False)
    if "line_control" not in R:
        R["line_control"] = ""
    A = A.copy(deep=False)
    split_ids = (
        ctx.loc[ctx["_base"].ne(ctx["claim_id"]), "_base"].unique().tolist()
        if inst_stats["claims_disambiguated"]
        else []
    )
    stats["remit_claims_to_disambiguated"] = assign_remits(ctx, R, A, split_ids)
    R["_ri"] = np.arange(len(R))
    R["_bi"] = -1
    known = _isin(R["claim_id"], ctx["claim_id"]) & R["line_no"].gt(0)
    # pass 1: line item control number
    k1 = ctx[["claim_id", "line_control", "_bi"]].drop_duplicates(["claim_id", "line_control"])
    cand = R.loc[known & R["line_control"].ne(""), ["_ri", "claim_id", "line_control"]]
    m1 = cand.merge(k1, on=["claim_id", "line_control"], how="inner")
    R.loc[m1["_ri"].to_numpy(), "_bi"] = m1["_bi"].to_numpy()
    stats["matched_by_control_number"] = len(m1)

    # passes 2 and 3 only use the billed lines this remit instance has not matched yet
    def free_lines(rest: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
        r = R.loc[rest, ["_ri", "claim_id", "cpt", "billed_cpt", "line_no", "_clp"]].copy()
        inst = r[["_clp", "claim_id"]].drop_duplicates()
        cand = inst.merge(ctx[["claim_id", "_bi", "cpt", "line_no"]], on="claim_id")
        used = R.loc[R["_bi"].ge(0) & R["_clp"].isin(inst["_clp"]), ["_clp", "_bi"]]
        cand = cand.merge(used.assign(_used=True), on=["_clp", "_bi"], how="left")
        cand = cand.loc[cand["_used"].isna()].drop(columns="_used")
        return r, cand.sort_values(["_clp", "line_no"], kind="stable")

    # pass 2: billed code (SVC06 if the payer changed it, else SVC01) + rank in the instance
    rest = known & R["_bi"].lt(0)
    stats["matched_by_code"] = 0
    if rest.any():
        r2, c2 = free_lines(rest)
        r2["code"] = r2["billed_cpt"].where(r2["billed_cpt"].ne(""), r2["cpt"])
        r2["k"] = r2.groupby(["_clp", "code"]).cumcount()
        c2 = c2.rename(columns={"cpt": "code"})
        c2["k"] = c2.groupby(["_clp", "code"]).cumcount()
        m2 = r2.merge(c2[["_clp", "code", "k", "_bi"]], on=["_clp", "code", "k"], how="inner")
        R.loc[m2["_ri"].to_numpy(), "_bi"] = m2["_bi"].to_numpy()
        stats["matched_by_code"] = len(m2)
    # pass 3: position among the lines still free on both sides
    rest = known & R["_bi"].lt(0)
    stats["matched_by_position"] = 0
    if rest.any():
        r3, c3 = free_lines(rest)
        r3 = r3.sort_values(["_clp", "line_no"], kind="stable")
        r3["k"] = r3.groupby("_clp").cumcount()
        c3["k"] = c3.groupby("_clp").cumcount()
        m3 = r3.merge(c3[["_clp", "k", "_bi"]], on=["_clp", "k"], how="inner")
        R.loc[m3["_ri"].to_numpy(), "_bi"] = m3["_bi"].to_numpy()
        stats["matched_by_position"] = len(m3)
    matched = R["_bi"].ge(0)
    # claim-level remits (no SVC) cover every billed line of their claim
    claim_level = R.loc[R["line_no"].eq(0), "claim_id"]
    first_line = ctx[["claim_id", "_bi"]].drop_duplicates("claim_id").set_index("claim_id")["_bi"]
    cl_mask = R["line_no"].eq(0) & _isin(R["claim_id"], first_line.index)
    if cl_mask.any():
        R.loc[cl_mask, "_bi"] = R.loc[cl_mask, "claim_id"].map(first_line).to_numpy(dtype="int64")
    stats["remit_lines_matched"] = int(matched.sum())
    stats["remit_only_lines"] = int((~matched & ~cl_mask).sum())

    # fill context from the billed line
    has = R["_bi"].ge(0)
    if has.any():
        bi = R.loc[has, "_bi"].to_numpy()
        used_cols = {*CONTEXT_FROM_BILLED, *REMIT_THEN_BILLED, *BILLED_THEN_REMIT}
        used_cols |= {"cpt", "line_no", "line_control"}
        src = _TakenColumns(ctx[[c for c in ctx.columns if c in used_cols]], bi)
        idx = R.index[has]
        for c in CONTEXT_FROM_BILLED:
            if c in src:
                v = src[c].to_numpy()
                if c == "plan_type":
                    cur = R.loc[idx, c].to_numpy()
                    v = np.where(v == "unknown", cur, v)
                _set_rows(R, idx, c, v)
        for c in REMIT_THEN_BILLED:
            cur = R.loc[idx, c]
            empty = cur.isna() | (cur.astype("str").eq("") if cur.dtype == "str" else False)
            _set_rows(R, idx, c, cur.where(~empty, src[c].to_numpy()))
        for c in BILLED_THEN_REMIT:
            b = pd.Series(src[c].to_numpy(), index=idx, dtype="str")
            _set_rows(R, idx, c, b.where(b.ne(""), R.loc[idx, c]))
        line_mask = R.loc[idx, "line_no"].to_numpy() > 0
        bcpt = src["cpt"].to_numpy()
        rcpt = R.loc[idx, "cpt"].to_numpy()
        rec = line_mask & (bcpt != "") & (rcpt != "") & (bcpt != rcpt)
        old_billed_cpt = R.loc[idx, "billed_cpt"].to_numpy()
        _set_rows(R, idx, "billed_cpt", np.where(rec, bcpt, old_billed_cpt))
        R.loc[idx, "recoded"] = rec | R.loc[idx, "recoded"].to_numpy()
        new_no = np.where(line_mask, src["line_no"].to_numpy(), 0)
        old_no = R.loc[idx, "line_no"].to_numpy()
        _set_rows(
            R,
            idx,
            "line_control",
            np.where(
                line_mask, src["line_control"].to_numpy(), R.loc[idx, "line_control"].to_numpy()
            ),
        )
        # renumber the adjustments of matched lines to the billed line number
        ren = pd.DataFrame(
            {
                "_file": R.loc[idx, "_file"].to_numpy(),
                "_clp": R.loc[idx, "_clp"].to_numpy(),
                "line_no": old_no,
                "_new": new_no,
            }
        )
        ren = ren[ren["line_no"] > 0]
        if len(A) and len(ren):
            A = A.merge(ren, on=["_file", "_clp", "line_no"], how="left")
            A["line_no"] = A["_new"].fillna(A["line_no"]).astype("int64")
            A = A.drop(columns="_new")
        R.loc[idx, "line_no"] = new_no
        del src, ren
        _release()
    # billed lines no remit reached
    covered = R.loc[R["_bi"].ge(0), "_bi"].unique()
    cl_claims = claim_level
    rem_claims = R["claim_id"]
    stats["billed_lines_covered_by_claim_level_remit"] = int(
        _isin(ctx["claim_id"], cl_claims).sum()
    )
    left = ctx.loc[~ctx["_bi"].isin(covered)]
    by_cl = _isin(left["claim_id"], cl_claims)
    left = left.loc[~by_cl]
    has_outcome = left["claim_status"].ne("pending")
    superseded = has_outcome & _isin(left["claim_id"], rem_claims)
    stats["export_lines_superseded_by_835"] = int(superseded.sum())
    left = left.loc[~superseded]
    stats["pending_billed_lines"] = int(left["claim_status"].eq("pending").sum())
    stats["export_outcome_lines"] = int(left["claim_status"].ne("pending").sum())
    out = pd.concat(
        [
            R.drop(columns=["_ri", "_bi"]),
            left.drop(
                columns=[c for c in ("_bi", "_inst", "_base", "_claim", "_freq") if c in left]
            ),
        ],
        ignore_index=True,
    )
    return out, A, stats


# --- appeals ---------------------------------------------------------------------------------

_APPEAL_ALIASES = {
    "claim_id": ("claim_id", "claim", "claim_no", "claim_number"),
    "payer": ("payer", "payer_name"),
    "appeal_level": ("appeal_level", "level"),
    "denial_reason_group": ("denial_reason_group", "denial_group", "reason_group"),
    "filed_date": ("filed_date", "date_filed", "submitted_date"),
    "decided_date": ("decided_date", "decision_date", "date_decided"),
    "outcome": ("outcome", "result", "decision"),
    "recovered": ("recovered", "amount_recovered", "recovered_amount"),
}
APPEAL_OUTCOMES = ("overturned", "upheld", "partial", "pending")


def read_appeals(
    path: str | Path | None, *, base: Path | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read an appeal-history CSV into schema.APPEAL_COLUMNS, with a rejects table."""
    empty = schema.conform(schema._typed_empty(schema.APPEAL_COLUMNS), schema.APPEAL_COLUMNS)
    if path is None or str(path) == "":
        return empty, schema.empty_rejects()
    p = Path(path)
    if not p.is_absolute() and base is not None:
        p = Path(base) / p
    if not p.is_file():
        raise IngestError(f"{p}: appeals file not found; fix appeals_file in the params")
    name = p.name
    try:
        data = p.read_bytes()
    except OSError as e:
        raise IngestError(
            f"{name}: cannot read the appeals file ({e.strerror}); check it"
        ) from None
    text, _enc, _odd = decode_export(data, name)  # BOM / UTF-8 / cp1252, never U+FFFD
    rows = csv_rows(text, *sniff_layout(text))
    if not rows or not any(str(c).strip() for c in rows[0]):
        raise IngestError(
            f"{name}: the appeals file has no header row; expected {list(_APPEAL_ALIASES)}"
        )
    shape_rejects: list[dict[str, str]] = []  # rows with more or fewer fields than the header
    raw, rownums = body_rows(rows[1:], 0, rows[0], name, shape_rejects)
    raw.columns = [str(h).strip() for h in rows[0]]
    raw = raw.loc[:, ~raw.columns.duplicated()]
    cols = {norm_header(c): c for c in raw.columns}
    pick: dict[str, str] = {}
    for target, aliases in _APPEAL_ALIASES.items():
        for a in aliases:
            if a in cols:
                pick[target] = cols[a]
                break
    missing = [c for c in ("claim_id", "payer", "outcome") if c not in pick]
    if missing:
        raise IngestError(
            f"{name}: appeals file lacks column(s) {missing}; expected headers like "
            f"{list(schema.APPEAL_COLUMNS)}"
        )
    df = pd.DataFrame(index=raw.index)
    problems = pd.Series("", index=raw.index, dtype="str")

    def flag(mask: pd.Series, msg: str) -> None:
        nonlocal problems
        problems = problems.where(~mask, problems + msg + "; ")

    for c in ("claim_id", "payer", "denial_reason_group"):
        df[c] = raw[pick[c]].str.strip() if c in pick else ""
    flag(df["claim_id"].eq(""), "claim id is empty")
    lvl = pd.to_numeric(raw[pick["appeal_level"]], errors="coerce") if "appeal_level" in pick else 1
    df["appeal_level"] = lvl
    flag(df["appeal_level"].isna() | ~df["appeal_level"].isin([1, 2, 3]), "appeal_level not 1-3")
    for c in ("filed_date", "decided_date"):
        if c in pick:
            d, bad = parse_dates(raw[pick[c]], ("%Y-%m-%d", "%m/%d/%Y"))
            df[c] = d
            flag(bad, f"{c} is not a date")
        else:
            df[c] = pd.NaT
    out = raw[pick["outcome"]].str.strip().str.lower()
    df["outcome"] = out
    flag(~out.isin(APPEAL_OUTCOMES), f"outcome not one of {APPEAL_OUTCOMES}")
    if "recovered" in pick:
        v, bad = parse_money(raw[pick["recovered"]])
        df["recovered"] = v
        flag(bad, "recovered is not an amount")
    bad = problems.ne("")
    rej = pd.DataFrame(
        {
            "file": name,
            "location": ["row " + str(rownums[i]) for i in np.flatnonzero(bad.to_numpy())],
            "record": ["appeal claim " + str(x) for x in df.loc[bad, "claim_id"]],
            "reason": problems[bad].str.rstrip("; ").tolist(),
        }
    )
    df = df.loc[~bad].reset_index(drop=True)
    df["appeal_level"] = df["appeal_level"].fillna(1).astype("int64")
    return (
        schema.conform(df, schema.APPEAL_COLUMNS),
        schema.conform(
            pd.concat(
                [pd.DataFrame(shape_rejects, columns=list(rej.columns)), rej], ignore_index=True
            ),
            schema.REJECT_COLUMNS,
        ),
    )
