"""Fill the letters' merge fields from a practice-held crosswalk, outside the run folder.

The run folder never holds PHI, so the identifiers a recipient needs (patient name, member ID,
date of birth, group number, addresses, the signer) are merge fields in the letters. The
practice keeps a CSV keyed by claim id (``claim_id`` plus one column per field, e.g.
``member_id``, ``patient_name``); :func:`merge_letters` writes filled copies (.md and .docx) to
a folder the user names, which must lie outside the run folder. Values from ``--set`` apply to
every letter (the signer, the practice address). The send date fills ``DATE_SENT`` and the
clocks that run from it (open negotiation end, IDR initiation window), computed on the federal
business-day calendar. Nothing from the crosswalk is logged: errors name rows and columns only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from oonplaybook import partitions
from oonplaybook.letters.audiences import MERGE_FIELD
from oonplaybook.letters.render import day, markdown_to_docx
from oonplaybook.letters.write import INDEX_FILE


class MergeError(ValueError):
    """A merge that cannot run (bad folder, crosswalk or field); the message says how to fix it."""


@dataclass
class MergeResult:
    """What a merge wrote and what it could not fill."""

    written: list[Path] = field(default_factory=list)
    unfilled: dict[str, list[str]] = field(default_factory=dict)  # letter file -> fields
    unknown_claims: list[str] = field(default_factory=list)  # crosswalk claims with no letter


def _inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or lies under it (after resolving links)."""
    p, f = path.resolve(), folder.resolve()
    return p == f or f in p.parents


def read_crosswalk(path: str | Path) -> dict[str, dict[str, str]]:
    """claim id -> {FIELD: value} from the practice's CSV; errors name the file, row and fix."""
    p = Path(path)
    if not p.is_file():
        raise MergeError(
            f"{p}: crosswalk file not found; pass the practice's CSV (claim_id, member_id, ...)"
        )
    try:
        df = pd.read_csv(p, dtype="str", keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        raise MergeError(
            f"{p}: not a readable CSV ({type(e).__name__}); save it as UTF-8 CSV"
        ) from None
    cols = {c: re.sub(r"[^0-9A-Za-z]+", "_", c.strip()).strip("_").upper() for c in df.columns}
    if "CLAIM_ID" not in cols.values():
        raise MergeError(
            f"{p}: no claim_id column (columns: {', '.join(df.columns)}); add a column 'claim_id' "
            "holding the practice's claim/account number as printed on the letters"
        )
    df = df.rename(columns=cols)
    ids = df["CLAIM_ID"].str.strip()
    blank = [i + 2 for i in ids.index[ids.eq("")]]
    if blank:
        raise MergeError(f"{p}: rows {blank[:10]} have an empty claim_id; fill or delete them")
    dup = ids[ids.duplicated(keep=False)]
    if len(dup):
        rows = [i + 2 for i in dup.index[:10]]
        raise MergeError(f"{p}: claim ids repeat on rows {rows}; keep one row per claim")
    return {
        cid: {k: str(v).strip() for k, v in row.items() if k != "CLAIM_ID" and str(v).strip()}
        for cid, row in zip(ids, df.to_dict("records"), strict=True)
    }


def clock_fields(received: date | None, sent: date) -> dict[str, str]:
    """DATE_SENT and, when the initial payment date is known, the open negotiation clocks."""
    from oonplaybook import nsa

    out = {"DATE_SENT": day(sent)}
    if received is not None and sent >= received:
        dl = nsa.deadlines(received, notice_date=sent)
        out |= {
            "OPEN_NEGOTIATION_END": day(dl.open_negotiation_period_end),
            "IDR_WINDOW_START": day(dl.idr_window_start),
            "IDR_WINDOW_END": day(dl.idr_initiate_by),
        }
    return out


def _iso_date(value: str, source: str | Path, key: str) -> date | None:
    """An ISO date from the crosswalk (empty = not given); errors name the file, key and fix."""
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise MergeError(
            f"{source}: {key}: open_negotiation_start {value!r} is not a date; use YYYY-MM-DD"
        ) from None


def fill(text: str, values: Mapping[str, str]) -> tuple[str, list[str]]:
    """Replace every «FIELD» that has a value; return the text and the fields left unfilled."""
    left: list[str] = []

    def sub(m: re.Match[str]) -> str:
        """The field's value, or the field itself (noted as left) when there is none."""
        v = values.get(m.group(1))
        if v:
            return v
        if m.group(1) not in left:
            left.append(m.group(1))
        return m.group(0)

    return MERGE_FIELD.sub(sub, text), left


def _received(run_dir: Path, claim_id: str, cache: dict[str, pd.DataFrame]) -> date | None:
    """The earliest remittance date of a claim (when the initial payment or denial arrived)."""
    if "lines" not in cache:
        p = run_dir / "artifacts" / "claim_lines.parquet"
        cache["lines"] = (
            partitions.read_all(p, columns=["claim_id", "remit_date"])
            if p.exists()
            else pd.DataFrame(columns=["claim_id", "remit_date"])
        )
    r = pd.to_datetime(
        cache["lines"].loc[cache["lines"]["claim_id"] == claim_id, "remit_date"]
    ).min()
    return None if pd.isna(r) else r.date()


def merge_letters(
    run_dir: str | Path,
    crosswalk: str | Path,
    out: str | Path,
    *,
    sent_on: date,
    values: Mapping[str, str] | None = None,
    docx: bool = True,
    only_listed: bool = False,
) -> MergeResult:
    """Write filled copies of a run's letters to ``out`` (which must be outside ``run_dir``);
    with ``only_listed``, only the letters whose claim (or IDR batch) the crosswalk lists."""
    run = Path(run_dir)
    letters = run / "artifacts" / "letters"
    index_path = letters / INDEX_FILE
    if not index_path.exists():
        raise MergeError(
            f"{index_path}: no letter index; run the pipeline (or `oonplaybook letters {run}`) first"
        )
    target = Path(out)
    if _inside(target, run):
        raise MergeError(
            f"{target}: the merged letters hold PHI and may not be written inside the run folder "
            f"{run}; choose a folder outside it (e.g. the practice's secure share)"
        )
    xwalk = read_crosswalk(crosswalk)
    given = {k.strip().upper(): v for k, v in (values or {}).items()}
    bad = [k for k in given if not re.fullmatch(r"[A-Z][A-Z0-9_]*", k)]
    if bad:
        raise MergeError(
            f"--set {bad}: field names are letters, digits and _ (e.g. SIGNER_NAME=Jane Roe)"
        )
    idx = pd.read_csv(index_path, dtype="str", keep_default_na=False)
    target.mkdir(parents=True, exist_ok=True)
    result = MergeResult()
    cache: dict[str, pd.DataFrame] = {}
    for row in idx.to_dict("records"):
        cid = row["claim_id"]
        if only_listed and cid not in xwalk and row["batch_id"] not in xwalk:
            continue
        if row["letter_type"] == "idr_offer_brief":  # keyed by batch id in the crosswalk
            vals = given | xwalk.get(row["batch_id"], {})
            start = _iso_date(vals.get("OPEN_NEGOTIATION_START", ""), crosswalk, row["batch_id"])
            clocks = clock_fields(start, start) if start else {}
            clocks |= {"DATE_SENT": day(sent_on)}
            if start:
                clocks["OPEN_NEGOTIATION_START"] = day(start)
                vals.pop("OPEN_NEGOTIATION_START")
            vals = clocks | vals
        else:
            vals = clock_fields(_received(run, cid, cache), sent_on) | given | xwalk.get(cid, {})
        text, left = fill((letters / row["file"]).read_text(encoding="utf-8"), vals)
        dest = target / row["file"]
        dest.write_text(text, encoding="utf-8")
        result.written.append(dest)
        if docx:
            result.written.append(markdown_to_docx(text, dest.with_suffix(".docx")))
        if left:
            result.unfilled[row["file"]] = left
    claims = set(idx["claim_id"]) | set(idx["batch_id"])
    result.unknown_claims = sorted(c for c in xwalk if c not in claims)
    return result
