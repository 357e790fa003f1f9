"""Child process of :mod:`oonplaybook.ingest.remit_pool`: reads one batch of 835 files.

Reads the job (paths, display names, PHI salt, output path) as a pickle on stdin, so the salt
never shows on a command line, and writes :func:`remit_pool._read_batch`'s result as a pickle."""

from __future__ import annotations

import pickle
import sys

from oonplaybook.ingest.remit_pool import _read_batch


def main() -> None:
    """Run the batch on stdin; the result goes to the file the job names."""
    job = pickle.loads(sys.stdin.buffer.read())  # noqa: S301 - written by our parent
    result = _read_batch(job["paths"], job["names"], job["salt"])
    with open(job["out"], "wb") as fh:
        pickle.dump(result, fh, protocol=5)


if __name__ == "__main__":
    main()
