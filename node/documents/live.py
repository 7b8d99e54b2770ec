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
* remote updates are applied only once the updates they depend on are
  here (causal delivery); until then they wait, encrypted, in the store's
  pending table. yrs loses data when several updates wait inside it at once
  (docs/decisions/0001-causal-delivery.md), so it is never given one early;
* one thread owns the document; only bytes cross threads.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pycrdt

from ..errors import ReadOnlyError, StorageError
from ..i18n import N_, _
from ..store import DocumentRef, Store

_NEWER = N_(
    "This document was written by a newer version of KoproGo. It is shown read-only; "
    "update KoproGo to edit it."
)
LOCAL = "local"
LOCAL_KEPT = "local-kept"  # a local edit undo does not cover
REMOTE = "remote"
KIND_UPDATE = 1  # shared.envelope.Kind.UPDATE


def fresh_client_id() -> int:
    """A random Yjs client id (Yjs ids are unsigned 32-bit)."""
    return secrets.randbits(32)


def decode_state_vector(state: bytes) -> dict[int, int]:
    """A Yjs state vector: how many items of each client a replica holds."""
    decoder = pycrdt.Decoder(state)
    count = decoder.read_var_uint()
    pairs = (decoder.read_var_uint() for _ in range(2 * count))
    return dict(zip(pairs, pairs, strict=True))


def covers(state: bytes, deps: bytes) -> bool:
    """Whether a replica at ``state`` holds everything ``deps`` names."""
    have = decode_state_vector(state)
    return all(have.get(client, 0) >= clock for client, clock in decode_state_vector(deps).items())


@dataclass(frozen=True)
class Change:
    """One committed update with the state it was made on (its dependencies)."""

    deps: bytes
    update: bytes
    local: bool = True  # made here (edit, undo, redo), not received


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
        self._read_only = False
        self._write_denied: str | None = None  # msgid: this device's role may not write
        self._pending: list[Change] = []
        self._waiting: list[tuple[int, bytes, bytes]] = []  # (row, deps, update)
        self.committed: list[Change] = []  # the last flush's changes, for sync
        self.outbox_enabled = False  # set by the session once a relay is configured
        self._origin = LOCAL
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
        self.newest_schema = newest
        if newest[0] > self.schema[0]:
            self._read_only = True
        self._subscription = doc.observe(self._on_transaction)
        scopes = [doc.get(name, type=pycrdt.Map) for name in self.roots]
        self._undo = pycrdt.UndoManager(scopes=scopes, capture_timeout_millis=0)
        self._undo.include_origin(LOCAL)
        self.version += 1
        self._waiting = [
            (row, deps, update) for row, _schema, deps, update in self.store.read_pending(self.ref)
        ]
        if self._waiting:
            self._drain()

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
            self._pending.append(Change(event.before_state, update, self._origin == LOCAL))

    # -- changing -------------------------------------------------------------

    @contextmanager
    def edit(self, undoable: bool = True) -> Iterator[pycrdt.Doc]:
        """``with live.edit() as doc:`` — one local, undoable, durable change.
        ``undoable=False`` for a record another document's edit made and
        that undo here must not take back alone (e.g. a convocation's
        channels, kept in the registry by the meeting's convocation)."""
        self._check_writable()
        try:
            with self.doc.transaction(origin=LOCAL if undoable else LOCAL_KEPT):
                yield self.doc
        except BaseException:
            # A CRDT transaction cannot roll back: drop the half-made change by
            # reloading what the disk holds.
            self.reload()
            raise
        self._flush()

    def apply_remote(
        self, update: bytes, deps: bytes | None = None, schema: tuple[int, int] | None = None
    ) -> bool:
        """Merge another replica's update and keep it on disk.

        ``deps`` is the state vector the update was made on (see
        :class:`Change`); ``None`` means the update was computed against this
        replica's own state (a state-vector diff), so it applies now. Returns
        False when the update must wait for its dependencies (it is stored
        and applied as soon as they arrive). ``schema`` is the sender's
        document schema; a newer major makes this document read-only here.
        """
        if schema is not None and schema > self.newest_schema:
            self.newest_schema = schema
            if schema[0] > self.schema[0]:
                self._read_only = True
        if deps is not None and not covers(self.doc.get_state(), deps):
            row = self.store.add_pending(self.ref, schema or self.schema, deps, update)
            self._waiting.append((row, deps, update))
            return False
        self._apply_remote_now(update)
        self._flush()
        self._drain()
        return True

    def _apply_remote_now(self, update: bytes) -> None:
        self._origin = REMOTE
        try:
            with self.doc.transaction(origin=REMOTE):
                self.doc.apply_update(update)
        finally:
            self._origin = LOCAL

    def _drain(self) -> None:
        """Apply every waiting update whose dependencies are now here."""
        progress = True
        while progress and self._waiting:
            progress = False
            for item in list(self._waiting):
                row, deps, update = item
                if covers(self.doc.get_state(), deps):
                    self._apply_remote_now(update)
                    self._flush(resolved_pending=[row])
                    self._waiting.remove(item)
                    progress = True

    @property
    def waiting_count(self) -> int:
        return len(self._waiting)

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

    def clear_undo(self) -> None:
        """Forget the undo history (e.g. after creating a building: undoing
        the creation itself would leave an empty, broken registry)."""
        self._undo.clear()

    def can_undo(self) -> bool:
        return self._undo.can_undo()

    def can_redo(self) -> bool:
        return self._undo.can_redo()

    def _flush(self, resolved_pending: list[int] = ()) -> None:  # type: ignore[assignment]
        pending, self._pending = self._pending, []
        if not pending and not resolved_pending:
            return
        try:
            with self.store.transaction():
                self.store.append(
                    self.ref,
                    self.newest_schema,
                    [c.update for c in pending],
                    list(resolved_pending),
                )
                if self.outbox_enabled:
                    for change in pending:
                        if change.local:
                            self.store.enqueue(
                                self.ref, self.schema, KIND_UPDATE, change.deps, change.update
                            )
        except StorageError:
            # Memory must not claim what the disk does not hold.
            self.reload()
            raise
        self.committed = pending
        self.version += 1
        self._notify()

    def deny_writes(self, reason: str) -> None:
        """Refuse local edits (``reason`` is a message id, translated when shown):
        this device's role may read the document but not change it."""
        self._write_denied = reason

    @property
    def read_only_reason(self) -> str | None:
        """Why this document cannot be edited here, in the user's language."""
        if self._read_only:
            return _(_NEWER)
        return _(self._write_denied) if self._write_denied else None

    def _check_writable(self) -> None:
        reason = self.read_only_reason
        if reason:
            raise ReadOnlyError(reason)

    # -- reading and housekeeping --------------------------------------------

    def get_update(self, state: bytes | None = None) -> bytes:
        return self.doc.get_update(state) if state is not None else self.doc.get_update()

    def get_state(self) -> bytes:
        return self.doc.get_state()

    def checkpoint(self) -> int:
        """Fold this document's updates on disk into one checkpoint."""
        return self.store.checkpoint(self.ref)

    def forget_history(self) -> None:
        """Keep only the current state, on disk and in memory: fold the log
        into a checkpoint (merged in a fresh document, which garbage-collects
        deleted content) and reload from it, dropping the undo history, which
        keeps deleted items alive (Yjs keeps them for undo)."""
        self.checkpoint()
        self.reload()

    def subscribe(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()
