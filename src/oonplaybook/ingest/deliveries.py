"""The same 835 delivered twice: recognised at ingest, read once, the copy reported.

Payers and clearinghouses re-send remittances (a re-pushed ERA, the same file saved under two
names, a second download). Reading both would double every claim, every dollar and break the
one-row-per-(claim, line) contract later stages join on. A delivery is the same as an earlier
one when its transactions carry the same TRN reassociation traces (TRN02 check/EFT number,
TRN03 payer id) and the same content segment for segment. The envelope (ISA/GS/GE/IEA), the
transaction control numbers (ST02/SE02) and the delimiters may differ: a re-send gets new ones.

Only files whose TRN set equals an earlier file's are compared segment by segment (a cheap byte
scan finds the TRNs), so a folder of distinct remits costs one regex pass per file. A file
whose TRNs match but whose content differs (a corrected remit reusing the check number) is not
a duplicate: it is read, and the report says so.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from oonplaybook.ingest.errors import NotX12Error
from oonplaybook.ingest.x12_tokens import cents as cents_of
from oonplaybook.ingest.x12_tokens import tokenize

_TRN = re.compile(rb"TRN([^\w\s])\s*1\s*\1([^\r\n~']{0,80})")
_ENVELOPE = frozenset({"ISA", "GS", "GE", "IEA"})


def trn_keys(data: bytes) -> tuple[bytes, ...]:
    """The TRN02/TRN03 pairs of a file's bytes (sorted), the cheap first test of sameness."""
    out = []
    for m in _TRN.finditer(data):
        parts = m.group(2).split(m.group(1))
        out.append(b"|".join(p.strip() for p in parts[:2]))
    return tuple(sorted(out))


def content_fingerprint(data: bytes, name: str) -> str:
    """SHA-256 of the transactions' segments with the envelope, ST02/SE02 and delimiters
    normalised away (the same remittance re-sent hashes the same)."""
    h = hashlib.sha256()
    for _no, el, _d in tokenize(data, name).iter_segments():
        tag = el[0].strip()
        if tag in _ENVELOPE:
            continue
        el = [e.strip() for e in el]
        if tag in ("ST", "SE") and len(el) > 2:
            el = [*el[:2], *el[3:]] if tag == "ST" else el[:2]
        if tag == "SE":
            el = el[:1]  # SE01 counts segments, SE02 is the control number
        h.update("*".join(el).encode("utf-8", "surrogatepass") + b"~")
    return h.hexdigest()


@dataclass(frozen=True)
class Transaction:
    """One ST..SE transaction of an 835: its segment range, TRN, content hash and money."""

    first: int  # segment number of ST (file-wide, as the reader numbers them)
    last: int  # segment number of SE (or of the last segment when SE is missing)
    trn: str  # TRN02|TRN03
    fingerprint: str
    cents: tuple[tuple[str, int], ...]  # ("bpr", ..), ("plb", ..), ("clp_paid", ..), ...
    claims: int  # CLP segments


_MONEY_AT = {"CLP": ((4, "clp_paid"), (3, "clp_billed"), (5, "clp_presp"))}


def transactions(data: bytes, name: str) -> list[Transaction]:
    """The 835 transactions of a file with their fingerprints (see :func:`content_fingerprint`)
    and the money the ingest totals count (BPR02, PLB, CLP03/04/05), for a partial re-send."""
    out: list[Transaction] = []
    h = None
    first = last = 0
    trn = ""
    cents: dict[str, int] = {}
    claims = 0

    def close() -> None:
        if h is not None:
            out.append(
                Transaction(first, last, trn, h.hexdigest(), tuple(sorted(cents.items())), claims)
            )

    for no, el, _d in tokenize(data, name).iter_segments():
        el = [e.strip() for e in el]
        tag = el[0]
        if tag in _ENVELOPE:
            continue
        if tag == "ST":
            close()
            h, first, trn, cents, claims = hashlib.sha256(), no, "", {}, 0
            el = [*el[:2], *el[3:]]
        if h is None:
            continue
        last = no
        if tag == "SE":
            el = el[:1]
        elif tag == "TRN" and len(el) > 2:
            trn = "|".join(el[2:4])
        elif tag == "BPR" and len(el) > 2:
            cents["bpr"] = cents.get("bpr", 0) + (cents_of(el[2]) or 0)
        elif tag == "PLB":
            for i in range(4, len(el), 2):
                cents["plb"] = cents.get("plb", 0) + (cents_of(el[i]) or 0)
        elif tag == "CLP":
            claims += 1
            for i, k in _MONEY_AT["CLP"]:
                if len(el) > i:
                    cents[k] = cents.get(k, 0) + (cents_of(el[i]) or 0)
        h.update("*".join(el).encode("utf-8", "surrogatepass") + b"~")
        if tag == "SE":
            close()
            h = None
    close()
    return out


@dataclass
class DeliveryIndex:
    """The 835 deliveries read so far in one ingest, to recognise a re-sent one."""

    by_trn: dict[tuple[bytes, ...], list[tuple[str, Path]]] = field(default_factory=dict)
    fingerprints: dict[str, str] = field(default_factory=dict)
    same_trn_other_content: list[dict[str, str]] = field(default_factory=list)
    by_single_trn: dict[bytes, list[tuple[str, Path]]] = field(default_factory=dict)
    tx_cache: dict[str, list[Transaction]] = field(default_factory=dict)

    def repeated_transactions(
        self, data: bytes, name: str, path: Path
    ) -> list[tuple[Transaction, str]]:
        """Transactions of this file that repeat one of an earlier file (same TRN and content),
        with that file's name: a delivery that re-sends part of an earlier one. Only files
        sharing a TRN with an earlier file are tokenised; call after :meth:`duplicate_of`."""
        keys = set(trn_keys(data))
        earlier: dict[str, Path] = {}
        for k in keys:
            for prev, prev_path in self.by_single_trn.get(k, []):
                if prev != name:
                    earlier.setdefault(prev, prev_path)
            self.by_single_trn.setdefault(k, []).append((name, path))
        if not earlier:
            return []
        try:
            mine = self._transactions(data, name)
            seen: dict[tuple[str, str], str] = {}
            for prev, prev_path in earlier.items():
                for t in self._transactions(None, prev, prev_path):
                    seen.setdefault((t.trn, t.fingerprint), prev)
        except NotX12Error:
            return []
        return [(t, seen[(t.trn, t.fingerprint)]) for t in mine if (t.trn, t.fingerprint) in seen]

    def _transactions(
        self, data: bytes | None, name: str, path: Path | None = None
    ) -> list[Transaction]:
        """A file's transactions, computed once per ingest."""
        if name not in self.tx_cache:
            raw = data if data is not None else path.read_bytes()  # type: ignore[union-attr]
            self.tx_cache[name] = transactions(raw, name)
        return self.tx_cache[name]

    def duplicate_of(self, data: bytes, name: str, path: Path) -> str | None:
        """The earlier file this one repeats, or None (it is then remembered by path, so the
        bytes of a folder of remits are not all held in memory)."""
        keys = trn_keys(data)
        if not keys:
            return None
        earlier = self.by_trn.setdefault(keys, [])
        if earlier:
            try:
                fp = content_fingerprint(data, name)
            except NotX12Error:
                return None  # the reader reports it
            for prev, prev_path in earlier:
                if prev not in self.fingerprints:
                    self.fingerprints[prev] = content_fingerprint(prev_path.read_bytes(), prev)
                if self.fingerprints[prev] == fp:
                    return prev
            self.fingerprints[name] = fp
            self.same_trn_other_content.append(
                {"file": name, "same_trn_as": earlier[0][0], "trn": _show(keys)}
            )
        earlier.append((name, path))
        return None


def _show(keys: tuple[bytes, ...]) -> str:
    """TRN02|TRN03 pairs as text for the report (check/EFT numbers, payer ids: not PHI)."""
    return ", ".join(k.decode("utf-8", "replace") for k in keys[:5]) + (
        f" (+{len(keys) - 5} more)" if len(keys) > 5 else ""
    )


def describe(data: bytes) -> str:
    """The TRN pairs of a file as report text."""
    return _show(trn_keys(data))
