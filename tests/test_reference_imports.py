"""Import direction in ``reference``: localities is the lower module, pfs imports it (issue 11 item 17)."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    ("module", "must_not_load"),
    [
        ("oonplaybook.reference.localities", "oonplaybook.reference.pfs"),
        ("oonplaybook.reference.pfs", None),
    ],
)
def test_each_module_imports_alone(module: str, must_not_load: str | None) -> None:
    """Each module imports in a fresh interpreter; localities never pulls pfs in.

    Source: issue 11 item 17 (the pfs <-> localities import circle: the error type and the
    locality normalisation move to the lower module so imports run one way).
    """
    code = (
        f"import sys, {module}\n"
        f"bad = {must_not_load!r}\n"
        "assert bad is None or bad not in sys.modules, sys.modules.keys()\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


def test_shared_names_are_one_object() -> None:
    """pfs re-exports the lower module's error type and normaliser (one class, not two).

    Source: issue 11 item 17.
    """
    from oonplaybook.reference import localities, pfs

    assert pfs.ReferenceError is localities.ReferenceError
    assert pfs.normalize_locality is localities.normalize_locality
    assert localities.normalize_locality("1112-5") == "01112-05"
    with pytest.raises(localities.ReferenceError, match="MAC-LOC"):
        localities.normalize_locality("Manhattan")
