"""One rule for turning patient identity into a ``patient_key``, shared by every reader.

The 835 carries the member id and name (NM1*QC) but no birth date; exports and 837s carry all
three. So the key is the salted hash of the member id when there is one (the same person gets the
same key from the 835 and the export), else of the normalised name plus birth date. Caveat: a
dependant billed under the subscriber's member id shares the subscriber's key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from functools import lru_cache

from oonplaybook import phi

_WORD = re.compile(r"[A-Z0-9]+")


def normalise_name(*parts: str) -> str:
    """Upper-case name tokens, sorted, so "SMITH, JANE" and "Jane Smith" agree."""
    tokens: list[str] = []
    for p in parts:
        tokens.extend(_WORD.findall(str(p or "").upper()))
    return " ".join(sorted(tokens))


def identity_key(salt: str, member_id: str, name: str, birth_date: str) -> str:
    """The patient_key: member id if present, else name + birth date; "" when nothing is known."""
    mid = str(member_id or "").strip().upper()
    if mid:
        return _hmac16(salt, "MID|" + phi._norm(mid))
    nm = normalise_name(name)
    dob = str(birth_date or "").strip()
    if not nm and not dob:
        return ""
    return _hmac16(salt, "|".join(("NAME", phi._norm(nm), phi._norm(dob))))


@lru_cache(maxsize=8)
def _keyed(salt: str) -> hmac.HMAC:
    """The salted HMAC-SHA256 state, built once per salt (copying it skips the key schedule)."""
    return hmac.new(salt.encode(), digestmod=hashlib.sha256)


def _hmac16(salt: str, message: str) -> str:
    """Same value as ``phi.patient_key(salt, *parts)`` for the "|"-joined normalised parts."""
    h = _keyed(salt).copy()
    h.update(message.encode())
    return h.hexdigest()[:16]
