"""Rewrite the parameters cell and the context cell of every stage notebook's .py source from
notebooks/_parameters.txt and notebooks/_context.txt, so all stages keep one contract.

    .venv/bin/python scripts/sync_notebook_params.py && make notebooks
"""

from __future__ import annotations

import re
from pathlib import Path

NB = Path(__file__).resolve().parents[1] / "notebooks"
PARAMS = (NB / "_parameters.txt").read_text().strip("\n")
CONTEXT = (NB / "_context.txt").read_text().strip("\n")
_CELL = re.compile(r"^# %%.*?(?=^# %%|\Z)", re.S | re.M)


def sync(text: str) -> str:
    """Replace the tagged parameters cell and the ``ctx = context.stage_context(`` cell."""

    def repl(m: re.Match[str]) -> str:
        cell = m.group(0)
        if cell.startswith('# %% tags=["parameters"]'):
            return PARAMS + "\n\n"
        if "ctx = context.stage_context(" in cell:
            return CONTEXT + "\n\n"
        return cell

    return _CELL.sub(repl, text)


def main() -> None:
    for py in sorted(NB.glob("[0-9]*.py")):
        new = sync(py.read_text())
        if new != py.read_text():
            py.write_text(new)
            print(f"updated {py.name}")


if __name__ == "__main__":
    main()
