"""CMS NCCI reference tables: procedure-to-procedure (PTP) edits and MUEs, in CMS's own layouts.

CMS publishes both quarterly behind an AMA CPT licence click-through, so oonplaybook never ships
the real files: a user downloads them and imports them (``oonplaybook coding import``), and the
demo carries a small synthetic table in the same layouts. The readers keep every quirk of the
real files (see ``tests/data/ncci/README.md``):

* PTP (practitioner): tab-delimited, Latin-1, an AMA notice line, a title line and a header
  wrapped over four lines; seven fields per record (column 1, column 2, "in existence prior to
  1996" flag, effective date, deletion date or ``*`` for none, modifier indicator 0/1/9,
  rationale). A release is four files with code pairs repeated across them: de-duplicated with
  a count. A file cut inside its last record (no final line break) is reported, not guessed at.
* MUE (practitioner services): CSV, Latin-1, a quoted multi-line AMA notice as the first record,
  a header cell with a line break inside (``"HCPCS/\\nCPT Code"``), the MUE value, the adjudication
  indicator as number plus text (``2 Date of Service Edit: Policy``) and the rationale; the
  effective date is only in the file name (``..._Eff_07-01-2026.csv``).

Every record is either in the table or in the rejects list with file, line and reason.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from oonplaybook.reference.pfs import ReferenceError, cache_dir

#: Modifier indicator meanings (NCCI PTP file header; NCCI Policy Manual ch. I §E).
MODIFIER_INDICATORS = {
    "0": "not allowed: no modifier bypasses the edit",
    "1": "allowed: an NCCI-associated modifier bypasses the edit when clinically appropriate",
    "9": "not applicable: the edit was deleted on its effective date",
}
#: MUE adjudication indicators (CMS MUE file; NCCI Policy Manual ch. I §V).
MAI_MEANINGS = {
    1: "line edit (units per claim line)",
    2: "date of service edit: policy (absolute; not appealable)",
    3: "date of service edit: clinical (appealable with documentation)",
}

PTP_COLUMNS = [
    "column1",
    "column2",
    "prior_1996",
    "effective_date",
    "deletion_date",
    "modifier_indicator",
    "rationale",
    "n_files",
    "source",
]
MUE_COLUMNS = ["hcpcs", "mue_value", "mai", "mai_text", "rationale", "effective_date", "source"]

#: The first lines of CMS's practitioner PTP file: AMA notice, title and the wrapped header
#: (for writing test and demo files in the real layout).
PTP_HEADER = (
    "CPT only copyright 2025 American Medical Association.  All rights reserved.\t\t\t\t\t\t\r\n"
    "Column1/Column2 Edits\t\t\t\t\t\t\r\n"
    "Column 1\tColumn 2\t*=in existence\tEffective\tDeletion\tModifier\tPTP Edit Rationale\r\n"
    "\t\tprior to 1996\tDate\tDate\t0=not allowed\t\r\n"
    "\t\t\t\t*=no data\t1=allowed\t\r\n"
    "\t\t\t\t\t9=not applicable\t\r\n"
)


def ptp_file_bytes(records: Iterable[str]) -> bytes:
    """A PTP file in CMS's layout (Latin-1, CRLF) holding the given tab-separated records."""
    return (PTP_HEADER + "".join(r + "\r\n" for r in records)).encode("latin-1")


_CODE = re.compile(r"[0-9A-Z]{5}")
_DATE = re.compile(r"(19|20)\d{6}")
_MUE_EFF = re.compile(r"Eff[_ -]?(\d{2})[-_](\d{2})[-_](\d{4})", re.I)


@dataclass
class NcciReadReport:
    """What a reader accepted, rejected and noticed in one or more files."""

    files: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_accepted: int = 0
    duplicates: int = 0
    rejects: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def reject(self, file: str, line: int, record: str, reason: str) -> None:
        """Record one rejected record with its place (never silently dropped)."""
        self.rejects.append(
            {"file": file, "location": f"line {line}", "record": record, "reason": reason}
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON manifests."""
        return {
            "files": self.files,
            "rows_read": self.rows_read,
            "rows_accepted": self.rows_accepted,
            "duplicates": self.duplicates,
            "rejects": len(self.rejects),
            "warnings": self.warnings,
        }


def _text_of(source: str | Path | bytes, name: str | None) -> tuple[str, str]:
    """Decode CMS's Latin-1 text (UTF-8 BOM tolerated); returns (text, display name)."""
    if isinstance(source, bytes):
        raw, label = source, name or "<bytes>"
    else:
        raw, label = Path(source).read_bytes(), name or str(source)
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8"), label
    try:
        return raw.decode("utf-8"), label
    except UnicodeDecodeError:
        return raw.decode("latin-1"), label  # CMS's NCCI files are Latin-1 (0xAE = ®)


def _date(value: str) -> pd.Timestamp | None:
    return pd.Timestamp(f"{value[:4]}-{value[4:6]}-{value[6:8]}") if value else None


def _raw_of(source: str | Path | bytes, name: str | None) -> tuple[bytes, str]:
    if isinstance(source, bytes):
        return source, name or "<bytes>"
    return Path(source).read_bytes(), name or str(source)


def read_ptp(
    source: str | Path | bytes, name: str | None = None
) -> tuple[pd.DataFrame, NcciReadReport]:
    """Parse one NCCI PTP edit file (practitioner or hospital layout) into a typed table.

    Lines before the first record are the notice, title and wrapped header. A record that is
    not seven valid fields is rejected with its line. A last record without a line break is
    kept when its fields are valid (only the rationale text can be cut) and reported. Read with
    pyarrow's CSV reader (a release holds ~2.6M records), Latin-1 as CMS writes it.
    """
    import pyarrow as pa
    import pyarrow.csv as pcsv

    raw, label = _raw_of(source, name)
    rep = NcciReadReport(files=[label])
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    head = raw[:65536].split(b"\n")[:200]
    start = next(
        (
            k
            for k, ln in enumerate(head)
            if b"\t" in ln and _CODE.fullmatch(ln.split(b"\t", 1)[0].strip().decode("latin-1"))
        ),
        None,
    )
    if start is None:
        raise ReferenceError(
            f"{label}: no PTP edit record found (expected tab-separated 'column 1, column 2, ...'); "
            "pass the ccipra/ccioph .txt files from CMS's NCCI PTP zip"
        )
    offset = sum(len(ln) + 1 for ln in head[:start])
    body = raw[offset:]
    # physical line of the k-th non-empty row (pyarrow numbers rows without the blank lines)
    blanks = np.array(
        [body.count(b"\n", 0, m.start()) + 2 for m in re.finditer(rb"\n\r?(?=\n)", body)],
        dtype=np.int64,
    )

    def physical(ordinal: np.ndarray) -> np.ndarray:
        shift = np.searchsorted(blanks - np.arange(len(blanks)), ordinal, side="right")
        return start + ordinal + shift

    names = ["c1", "c2", "prior", "eff", "dele", "mi", "why"]
    invalid: list[tuple[int, str, str]] = []

    def on_invalid(row: Any) -> str:
        fields = row.text.split("\t")
        where = f"{fields[0].strip()[:5]}/{fields[1].strip()[:5]}" if len(fields) > 1 else "?"
        invalid.append(
            (row.number, where, f"{row.actual_columns} tab-separated fields, expected 7")
        )
        return "skip"

    table = pcsv.read_csv(
        pa.py_buffer(body),
        read_options=pcsv.ReadOptions(column_names=names, use_threads=False, encoding="latin-1"),
        parse_options=pcsv.ParseOptions(
            delimiter="\t", quote_char=False, invalid_row_handler=on_invalid
        ),
        convert_options=pcsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
        ),
    )
    f = table.to_pandas(types_mapper=pd.ArrowDtype).apply(lambda c: c.astype("str").str.strip())
    bad_ord = np.array(sorted(n for n, _, _ in invalid), dtype=np.int64)
    ordinal = np.setdiff1d(np.arange(1, len(f) + len(bad_ord) + 1), bad_ord)
    f.index = pd.Index(physical(ordinal))
    rep.rows_read = len(f) + len(invalid)
    c1, c2, prior, eff, dele, mi, why = (f[k] for k in names)
    problems = [
        (
            ~c1.str.fullmatch(_CODE.pattern) | ~c2.str.fullmatch(_CODE.pattern),
            "column 1/column 2 is not a 5-character HCPCS/CPT code",
        ),
        (~prior.isin(["", "*"]), "prior-1996 flag is neither '*' nor empty"),
        (~eff.str.fullmatch(_DATE.pattern), "effective date is not YYYYMMDD"),
        (
            (dele != "*") & ~dele.str.fullmatch(_DATE.pattern),
            "deletion date is neither YYYYMMDD nor '*'",
        ),
        (~mi.isin(list(MODIFIER_INDICATORS)), "modifier indicator is not 0, 1 or 9"),
    ]
    reason = pd.Series("", index=f.index, dtype="object")
    for mask, why_bad in problems:
        reason = reason.where((reason != "") | ~mask.to_numpy(), why_bad)
    found = [(int(physical(np.array([n]))[0]), w, r) for n, w, r in invalid]
    found += [(int(k), f"{c1[k][:5]}/{c2[k][:5]}", str(reason[k])) for k in f.index[reason != ""]]
    for line, where, why_bad in sorted(found):
        rep.reject(label, line, where, why_bad)
    ok = (reason == "").to_numpy()
    if (
        not body.endswith(b"\n")
        and len(f)
        and ok[-1]
        and (not found or max(found)[0] < f.index[-1])
    ):
        rep.warnings.append(
            f"{label} line {int(f.index[-1])}: the file ends inside this record (no line "
            "break); its fields are complete and it is kept, but its rationale text may be cut"
        )
    g = f[ok]
    df = pd.DataFrame(
        {
            "column1": g["c1"].astype("str"),
            "column2": g["c2"].astype("str"),
            "prior_1996": (g["prior"] == "*").astype(bool),
            "effective_date": pd.to_datetime(g["eff"], format="%Y%m%d").astype("datetime64[us]"),
            "deletion_date": pd.to_datetime(
                g["dele"].where(g["dele"] != "*"), format="%Y%m%d"
            ).astype("datetime64[us]"),
            "modifier_indicator": g["mi"].astype("str"),
            "rationale": g["why"].astype("str"),
            "n_files": 1,
            "source": label + ":" + pd.Series(g.index.astype(str), index=g.index),
        }
    ).reset_index(drop=True)[PTP_COLUMNS]
    rep.rows_accepted = len(df)
    return df, rep


def combine_ptp(
    frames: list[pd.DataFrame], reports: list[NcciReadReport]
) -> tuple[pd.DataFrame, NcciReadReport]:
    """Concatenate PTP files of one release, de-duplicating identical edits with a file count."""
    rep = NcciReadReport()
    for r in reports:
        rep.files += r.files
        rep.rows_read += r.rows_read
        rep.rejects += r.rejects
        rep.warnings += r.warnings
    if not frames:
        return pd.DataFrame(columns=PTP_COLUMNS), rep
    df = pd.concat(frames, ignore_index=True)
    key = ["column1", "column2", "effective_date", "deletion_date", "modifier_indicator"]
    out = (
        df.groupby(key, sort=True, dropna=False)
        .agg(
            prior_1996=("prior_1996", "max"),
            rationale=("rationale", "first"),
            n_files=("n_files", "sum"),
            source=("source", "first"),
        )
        .reset_index()[PTP_COLUMNS]
    )
    rep.duplicates = len(df) - len(out)
    rep.rows_accepted = len(out)
    return out, rep


def mue_effective_date(name: str) -> pd.Timestamp | None:
    """The MUE table's effective date, which CMS gives only in the file name."""
    m = _MUE_EFF.search(Path(name).name)
    return pd.Timestamp(f"{m.group(3)}-{m.group(1)}-{m.group(2)}") if m else None


def read_mue(
    source: str | Path | bytes, name: str | None = None, effective_date: str | None = None
) -> tuple[pd.DataFrame, NcciReadReport]:
    """Parse one CMS MUE table (CSV with the AMA notice and the broken header cell)."""
    text, label = _text_of(source, name)
    rep = NcciReadReport(files=[label])
    eff = pd.Timestamp(effective_date) if effective_date else mue_effective_date(label)
    if eff is None:
        rep.warnings.append(
            f"{label}: no effective date in the file name (CMS names it ..._Eff_MM-DD-YYYY.csv); "
            "pass effective_date"
        )
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[tuple] = []
    line = 1
    for rec in reader:
        at = line
        line = reader.line_num + 1
        if header is None:
            first = " ".join(rec[0].split()).upper() if rec else ""
            if first.startswith("HCPCS") and len(rec) >= 3:
                header = [" ".join(c.split()).upper() for c in rec]
            continue
        if not any(c.strip() for c in rec):
            continue
        rep.rows_read += 1
        code = rec[0].strip()
        if len(rec) < 3:
            rep.reject(label, at, code[:5] or "?", f"{len(rec)} fields, expected at least 3")
            continue
        value, mai_text = rec[1].strip(), rec[2].strip()
        why = rec[3].strip() if len(rec) > 3 else ""
        m = re.match(r"([123])\b", mai_text)
        if not _CODE.fullmatch(code):
            rep.reject(label, at, "?", "HCPCS/CPT code is not 5 characters")
        elif not value.isascii() or not value.isdigit():
            rep.reject(label, at, code, "MUE value is not a whole number")
        elif not m:
            rep.reject(label, at, code, "adjudication indicator does not start with 1, 2 or 3")
        else:
            rows.append((code, int(value), int(m.group(1)), mai_text, why, eff, f"{label}:{at}"))
    if header is None:
        raise ReferenceError(
            f"{label}: no header row starting 'HCPCS/CPT Code' found; pass CMS's MUE CSV "
            "(MCR_MUE_PractitionerServices_Eff_MM-DD-YYYY.csv)"
        )
    df = pd.DataFrame(rows, columns=MUE_COLUMNS)
    df["effective_date"] = pd.to_datetime(df["effective_date"]).astype("datetime64[us]")
    before = len(df)
    df = df.drop_duplicates(["hcpcs", "mue_value", "mai"]).sort_values("hcpcs", kind="stable")
    rep.duplicates = before - len(df)
    dup_codes = df["hcpcs"][df["hcpcs"].duplicated()].unique()
    for c in dup_codes:
        rep.warnings.append(f"{label}: code {c} appears with different MUE values; all kept")
    rep.rows_accepted = len(df)
    return df.reset_index(drop=True), rep


# --- the user's store ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NcciTables:
    """PTP edits and MUEs of one import, with their vintage."""

    ptp: pd.DataFrame
    mue: pd.DataFrame
    manifest: dict[str, Any]

    @property
    def vintage(self) -> str:
        """Human label, e.g. 'NCCI PTP ccipra-v322r0 (4 files); MUE effective 2026-07-01'."""
        return self.manifest.get("vintage", "")


def _members(path: Path) -> list[tuple[str, bytes]]:
    """(name, bytes) of every .txt/.csv in a zip, a folder or a single file."""
    if path.is_file() and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            return [
                (f"{path.name}:{n}", z.read(n))
                for n in sorted(z.namelist())
                if n.lower().endswith((".txt", ".csv"))
            ]
    if path.is_dir():
        return [
            (str(p), p.read_bytes())
            for p in sorted(path.iterdir())
            if p.suffix.lower() in (".txt", ".csv")
        ]
    if path.is_file():
        return [(str(path), path.read_bytes())]
    raise ReferenceError(f"{path}: not found")


def _is_mue(name: str, data: bytes) -> bool:
    return "MUE" in Path(name).name.upper() or b"MUE Adjudication" in data[:4000]


def is_ncci_release(path: str | Path) -> bool:
    """Whether a path (zip, folder or file) holds CMS NCCI PTP or MUE files, by name or content."""
    try:
        members = _members(Path(path))
    except (ReferenceError, OSError, zipfile.BadZipFile):
        return False
    for name, data in members:
        base = Path(name.split(":")[-1]).name.lower()
        if "mue" in base or base.startswith(("ccipra", "ccioph", "ccicpt")):
            return True
        if b"Column1/Column2 Edits" in data[:2000] or b"MUE Adjudication" in data[:4000]:
            return True
    return False


def read_release(paths: list[str | Path]) -> tuple[NcciTables, NcciReadReport]:
    """Read PTP and MUE files (zips, folders or files) into one :class:`NcciTables`."""
    ptp_frames, ptp_reps, mue_frames = [], [], []
    mue_rep = NcciReadReport()
    for p in paths:
        for name, data in _members(Path(p)):
            if _is_mue(name, data):
                df, r = read_mue(data, name)
                mue_frames.append(df)
                mue_rep.files += r.files
                mue_rep.rows_read += r.rows_read
                mue_rep.rejects += r.rejects
                mue_rep.warnings += r.warnings
                mue_rep.duplicates += r.duplicates
            elif name.lower().endswith(".txt"):
                df, r = read_ptp(data, name)
                ptp_frames.append(df)
                ptp_reps.append(r)
    ptp, rep = combine_ptp(ptp_frames, ptp_reps)
    mue = (
        pd.concat(mue_frames, ignore_index=True)
        if mue_frames
        else pd.DataFrame(columns=MUE_COLUMNS)
    )
    rep.files += mue_rep.files
    rep.rows_read += mue_rep.rows_read
    rep.rows_accepted += len(mue)
    rep.rejects += mue_rep.rejects
    rep.warnings += mue_rep.warnings
    rep.duplicates += mue_rep.duplicates
    if ptp.empty and mue.empty:
        raise ReferenceError(
            f"{', '.join(map(str, paths))}: no NCCI PTP (.txt) or MUE (.csv) file found"
        )
    mue_eff = sorted({str(d.date()) for d in mue["effective_date"].dropna()}) if len(mue) else []
    ptp_names = sorted(
        {Path(f.split(":")[-1]).stem for f in rep.files if f.lower().endswith(".txt")}
    )
    vintage = "; ".join(
        x
        for x in (
            f"NCCI PTP {', '.join(ptp_names)} ({len(ptp):,} edits)" if len(ptp) else "",
            f"MUE effective {', '.join(mue_eff)} ({len(mue):,} codes)" if len(mue) else "",
        )
        if x
    )
    manifest = {"vintage": vintage, "read": rep.to_dict()}
    return NcciTables(ptp=ptp, mue=mue, manifest=manifest), rep


def import_release(
    paths: list[str | Path], dest: Path | None = None
) -> tuple[Path, NcciReadReport]:
    """Read the user's CMS NCCI downloads and store them in the reference cache (``ncci/``)."""
    tables, rep = read_release(paths)
    folder = (dest if dest is not None else cache_dir()) / "ncci"
    folder.mkdir(parents=True, exist_ok=True)
    if len(tables.ptp):
        tables.ptp.to_parquet(folder / "ptp.parquet", index=False)
    if len(tables.mue):
        tables.mue.to_parquet(folder / "mue.parquet", index=False)
    if rep.rejects:
        pd.DataFrame(rep.rejects).to_csv(folder / "rejects.csv", index=False, lineterminator="\n")
    (folder / "manifest.json").write_text(
        json.dumps(tables.manifest, indent=2, sort_keys=True) + "\n"
    )
    return folder, rep


def load_imported(root: Path | None = None) -> NcciTables | None:
    """The NCCI tables the user imported, or ``None`` when none were."""
    folder = (root if root is not None else cache_dir()) / "ncci"
    if not (folder / "manifest.json").is_file():
        return None
    ptp = (
        pd.read_parquet(folder / "ptp.parquet")
        if (folder / "ptp.parquet").is_file()
        else pd.DataFrame(columns=PTP_COLUMNS)
    )
    mue = (
        pd.read_parquet(folder / "mue.parquet")
        if (folder / "mue.parquet").is_file()
        else pd.DataFrame(columns=MUE_COLUMNS)
    )
    return NcciTables(ptp=ptp, mue=mue, manifest=json.loads((folder / "manifest.json").read_text()))
