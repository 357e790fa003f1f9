"""Ingest: X12 835 remittances, 837P claims and CSV/XLSX practice exports -> canonical tables.

Public interface: :func:`ingest_paths` (files, folders, globs -> :class:`IngestResult`),
:func:`read_appeals`, :func:`classify`, the per-format readers (:func:`read_835`,
:func:`read_837p`, :func:`read_table`), the 835 writer (:mod:`oonplaybook.ingest.x12_writer`)
and the error types (:class:`IngestError` and subclasses).
"""

from __future__ import annotations

from oonplaybook.ingest.core import IngestResult, classify, ingest_paths, read_appeals
from oonplaybook.ingest.errors import IngestError, MappingError, NotX12Error
from oonplaybook.ingest.tabular import builtin_mappings, load_mapping, read_table
from oonplaybook.ingest.x12 import read_835, tokenize
from oonplaybook.ingest.x837 import read_837p

__all__ = [
    "IngestError",
    "IngestResult",
    "MappingError",
    "NotX12Error",
    "builtin_mappings",
    "classify",
    "ingest_paths",
    "load_mapping",
    "read_835",
    "read_837p",
    "read_appeals",
    "read_table",
    "tokenize",
]
