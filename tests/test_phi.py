"""PHI safeguards: salted keys, and a clear error when no salt is configured."""

from __future__ import annotations

import pytest

from oonplaybook.phi import SALT_ENV, MissingSaltError, patient_key, resolve_salt


def test_key_is_salted_normalised_and_short() -> None:
    a = patient_key("salt-1", "MID", "abc 123")
    assert a == patient_key("salt-1", "mid", "  ABC   123 ")
    assert a != patient_key("salt-2", "MID", "abc 123")
    assert len(a) == 16 and "ABC" not in a.upper()


def test_missing_salt_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SALT_ENV, raising=False)
    with pytest.raises(MissingSaltError, match=SALT_ENV):
        resolve_salt(None)
    monkeypatch.setenv(SALT_ENV, "from-env")
    assert resolve_salt(None) == "from-env"
    assert resolve_salt("from-params") == "from-params"
