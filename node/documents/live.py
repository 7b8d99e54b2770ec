"""A loaded pycrdt document bound to its rows in the profile store.

Rules from ARCHITECTURE §3 and §12 that live here:

* a fresh Yjs client id every time a document is loaded, so two loads of
  one profile (or a restored backup) never reuse an id;
* an edit is durable before it is reported done: :meth:`LiveDocument.edit`
  commits the transaction's update to SQLite when the ``with`` block ends;
  if that write fails, the in-memory document is reloaded from disk so that
  memory never shows a change the disk does not hold;
* remote updates are applied under their own origin and are not undoable;
  undo/redo only ever revert this user's own edits;
* one thread owns the document; only bytes cross threads.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pycrdt

from ..errors import ReadOnlyError, StorageError
from ..i18n import _
from ..store import DocumentRef, Store

LOCAL = "local"
REMOTE = "remote"


def fresh_client_id() -> int:
    """A random Yjs client id (Yjs ids are unsigned 32-bit)."""
    return secrets.randbits(32)


class LiveDocument:
    """One document in memory, kept equal to what its store holds."""

    def __init__(
        self, store: Store, ref: DocumentRef, schema: tuple[int, int], roots: tuple[str, ...]
    ) -> None:
        self.store = store
        self.ref = ref
        self.schema = schema
        self.roots = roots  # the top-level maps; undo covers them all
        self.version = 0  # bumps on every change; projections cache on it
        self.read_only_reason: str | None = None
        self._pending: list[bytes] = []
        self._listeners: list[Callable[[], None]] = []
        self._load()

    # -- loading ------------------------------------------------------------

    def _load(self) -> None:
        doc = pycrdt.Doc(client_id=fresh_client_id())
        newest = self.schema
        for stored in self.store.read(self.ref):
            newest = max(newest, stored.schema)
            doc.apply_update(stored.update)
        self.doc = doc
        if newest[0] > self.schema[0]:
            self.read_only_reason = _(
                "This document was written by a newer version of KoproGo. It is shown "
                "read-only; update KoproGo to edit it."
            )
        self._subscription = doc.observe(self._on_transaction)
        scopes = [doc.get(name, type=pycrdt.Map) for name in self.roots]
        self._undo = pycrdt.UndoManager(scopes=scopes, capture_timeout_millis=0)
        self._undo.include_origin(LOCAL)
        self.version += 1

    def reload(self) -> None:
        """Drop the in-memory state and load again from disk (new client id)."""
        self.doc.unobserve(self._subscription)
        self._pending.clear()
        self._load()
        self._notify()

    def _on_transaction(self, event: pycrdt.TransactionEvent) -> None:
        update = event.update
        # An empty update (no inserts, no deletes) is 2 bytes: nothing to keep.
        if len(update) > 2:
            self._pending.append(update)

    # -- changing -------------------------------------------------------------

    @contextmanager
    def edit(self) -> Iterator[pycrdt.Doc]:
        """``with live.edit() as doc:`` — one local, undoable, durable change."""
        self._check_writable()
        try:
            with self.doc.transaction(origin=LOCAL):
                yield self.doc
        except BaseException:
            # A CRDT transaction cannot roll back: drop the half-made change by
            # reloading what the disk holds.
            self.reload()
            raise
        self._flush()

    def apply_remote(self, update: bytes) -> None:
        """Merge another replica's update and keep it on disk."""
        with self.doc.transaction(origin=REMOTE):
            self.doc.apply_update(update)
        self._flush()

    def undo(self) -> bool:
        self._check_writable()
        if not self._undo.can_undo():
            return False
        self._undo.undo()
        self._flush()
        return True

    def redo(self) -> bool:
        self._check_writable()
        if not self._undo.can_redo():
            return False
        self._undo.redo()
        self._flush()
        return True

    def can_undo(self) -> bool:
        return self._undo.can_undo()

    def can_redo(self) -> bool:
        return self._undo.can_redo()

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        if not pending:
            return
        try:
            self.store.append(self.ref, self.schema, pending)
        except StorageError:
            # Memory must not claim what the disk does not hold.
            self.reload()
            raise
        self.version += 1
        self._notify()

    def _check_writable(self) -> None:
        if self.read_only_reason:
            raise ReadOnlyError(self.read_only_reason)

    # -- reading and housekeeping --------------------------------------------

    def get_update(self, state: bytes | None = None) -> bytes:
        return self.doc.get_update(state) if state is not None else self.doc.get_update()

    def get_state(self) -> bytes:
        return self.doc.get_state()

    def checkpoint(self) -> int:
        """Fold this document's updates on disk into one checkpoint."""
        return self.store.checkpoint(self.ref)

    def subscribe(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()
