"""The ingest area's own exception types: every unreadable input raises one of these."""

from __future__ import annotations


class IngestError(ValueError):
    """A file cannot be read at all; the message names the file and the fix."""


class NotX12Error(IngestError):
    """The bytes are not X12 (empty, CSV, binary...): no ISA envelope and no ST segment."""


class MappingError(IngestError):
    """A tabular export matches no mapping profile, or a mapping YAML is invalid."""


class X12StructureError(IngestError):
    """X12 bytes whose envelope or delimiters are too damaged to read their claims at all."""
