"""oonplaybook: turn a provider's claims and remittances into evidence and action on
out-of-network claims. The stable public surface is :mod:`oonplaybook.api`."""

__version__ = "0.1.0"
