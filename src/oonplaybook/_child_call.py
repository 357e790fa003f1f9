"""Child process of :mod:`oonplaybook.child_calls`: runs one library function call.

Reads ``{"func": "module:function", "args": (...), "out": path}`` as a pickle on stdin (so a
PHI salt in the arguments never shows on a command line) and writes the return value as a
pickle to ``out``."""

from __future__ import annotations

import pickle
import sys

from oonplaybook.child_calls import resolve


def main() -> None:
    """Run the call on stdin; its result goes to the file the job names."""
    job = pickle.loads(sys.stdin.buffer.read())  # noqa: S301 - written by our parent
    result = resolve(job["func"])(*job["args"])
    with open(job["out"], "wb") as fh:
        pickle.dump(result, fh, protocol=5)


if __name__ == "__main__":
    main()
