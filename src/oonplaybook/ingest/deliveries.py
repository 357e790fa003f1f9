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


@dataclass
class DeliveryIndex:
    """The 835 deliveries read so far in one ingest, to recognise a re-sent one."""

    by_trn: dict[tuple[bytes, ...], list[tuple[str, Path]]] = field(default_factory=dict)
    fingerprints: dict[str, str] = field(default_factory=dict)
    same_trn_other_content: list[dict[str, str]] = field(default_factory=list)

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
