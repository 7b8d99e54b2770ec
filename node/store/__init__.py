"""Encrypted local storage of CRDT documents (ARCHITECTURE §3, §12)."""

from .store import DocumentRef, OutboxItem, Store, StoredUpdate, SyncState

__all__ = ["DocumentRef", "OutboxItem", "Store", "StoredUpdate", "SyncState"]
