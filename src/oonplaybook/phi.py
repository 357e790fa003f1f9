"""PHI safeguards: patient identity becomes a salted hash at read time and is never stored.

The salt comes from the params file (``phi_salt``) or the ``OONPLAYBOOK_PHI_SALT`` environment
variable, never from the repository. The same salt gives the same ``patient_key`` across runs,
so a client's patients can be followed over time without keeping who they are.
"""

from __future__ import annotations

import hashlib
import hmac
import os

SALT_ENV = "OONPLAYBOOK_PHI_SALT"


class MissingSaltError(RuntimeError):
    """No PHI salt was configured."""


def resolve_salt(salt: str | None = None) -> str:
    """Return the salt given, else the environment's; raise with the fix when neither is set."""
    value = salt if salt else os.environ.get(SALT_ENV, "")
    if not value:
        raise MissingSaltError(
            f"no PHI salt: set phi_salt in the params file or the {SALT_ENV} environment "
            "variable (any secret string, kept out of the repository)"
        )
    return value


def _norm(part: object) -> str:
    if part is None or (isinstance(part, float) and part != part):
        return ""
    return " ".join(str(part).strip().upper().split())


def patient_key(salt: str, *parts: object) -> str:
    """Salted HMAC-SHA256 of the normalised identity parts (e.g. member id, name, birth date).

    Returns the first 16 hex characters: enough to keep ~10^9 patients collision-free, short
    enough to read in a worklist.
    """
    msg = "|".join(_norm(p) for p in parts).encode()
    return hmac.new(salt.encode(), msg, hashlib.sha256).hexdigest()[:16]
