"""Encrypted local storage of CRDT documents (ARCHITECTURE §3, §12)."""

from .store import DocumentRef, Store, StoredUpdate

__all__ = ["DocumentRef", "Store", "StoredUpdate"]
