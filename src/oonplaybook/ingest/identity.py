"""One rule for turning patient identity into a ``patient_key``, shared by every reader.

The 835 carries the member id and name (NM1*QC) but no birth date; exports and 837s carry all
three. So the key is the salted hash of the member id when there is one (the same person gets the
same key from the 835 and the export), else of the normalised name plus birth date. Caveat: a
dependant billed under the subscriber's member id shares the subscriber's key.
"""

from __future__ import annotations

import re

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
        return phi.patient_key(salt, "MID", mid)
    nm = normalise_name(name)
    dob = str(birth_date or "").strip()
    if not nm and not dob:
        return ""
    return phi.patient_key(salt, "NAME", nm, dob)
