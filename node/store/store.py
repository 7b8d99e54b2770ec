"""Our own small store of pycrdt updates and checkpoints on SQLite (WAL).

Why our own: pycrdt-store lost data when squashing and could not reload
compressed updates (ARCHITECTURE §12). This store is deliberately plain:

* one SQLite file per profile, WAL journal, ``synchronous=FULL`` so that a
  committed edit survives a killed process and a power cut;
* every update and checkpoint is sealed with the profile storage key
  (XChaCha20-Poly1305); the associated data names the building, document and
  row kind, so a blob copied elsewhere does not open;
* inside the ciphertext, a 3-byte frame (format, schema major, schema minor)
  precedes the pycrdt bytes, so a newer document is recognised before it is
  interpreted (ARCHITECTURE §12, "invalid-schema");
* checkpointing is computed from what is *on disk* inside one write
  transaction, never from a document in memory, so updates written by another
  process holding the same profile are folded in, not lost.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pycrdt
from sqlalchemy import Connection, create_engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import StaticPool

from shared.crypto import DecryptionError, open_sealed, seal
from shared.ids import new_ulid

from ..errors import ProfileError, StorageError
from ..i18n import _

SCHEMA_VERSION = 1
FRAME_FORMAT = 1


@dataclass(frozen=True)
class DocumentRef:
    """A document held by this profile: its row id and its identity."""

    pk: int
    building_id: str
    doc_id: str


@dataclass(frozen=True)
class SyncState:
    """Where a document stands with the relay."""

    cursor: int = 0  # last relay sequence applied
    counter: int = 0  # this device's last envelope counter
    snapshot_id: str = ""  # the relay's current snapshot, as last seen
    snapshot_seq: int = 0


@dataclass(frozen=True)
class OutboxItem:
    """A local change waiting to be pushed, with its fixed envelope id and counter."""

    row_id: int
    ref: DocumentRef
    envelope_id: str
    counter: int
    kind: int
    schema: tuple[int, int]
    deps: bytes
    payload: bytes
    attempted: bool = False


@dataclass(frozen=True)
class StoredUpdate:
    """One decrypted update or checkpoint as read back from disk."""

    row_id: int
    schema: tuple[int, int]
    update: bytes
    is_checkpoint: bool


def _frame(schema: tuple[int, int], update: bytes) -> bytes:
    return bytes((FRAME_FORMAT, schema[0], schema[1])) + update


def _unframe(plain: bytes) -> tuple[tuple[int, int], bytes]:
    if len(plain) < 3 or plain[0] != FRAME_FORMAT:
        raise StorageError(_("A stored change has an unknown format; this KoproGo is too old."))
    return (plain[1], plain[2]), plain[3:]


def _aad(ref: DocumentRef, kind: bytes) -> bytes:
    return b"\x00".join((b"koprogo-store-v1", ref.building_id.encode(), ref.doc_id.encode(), kind))


def _is_disk_full(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", exc)
    return isinstance(orig, sqlite3.OperationalError) and "full" in str(orig).lower()


class Store:
    """The encrypted update log of one profile. Used from one thread."""

    FILE_NAME = "koprogo.sqlite"

    def __init__(self, path: Path, key: bytes | None = None) -> None:
        self.path = path
        self._key = key
        self._engine = create_engine(
            f"sqlite:///{path}",
            poolclass=StaticPool,
            connect_args={"check_same_thread": False, "timeout": 30},
            # We issue BEGIN ourselves: BEGIN IMMEDIATE for writes, so that two
            # processes on one profile serialise instead of failing, and a
            # deferred BEGIN for multi-statement reads (a consistent snapshot).
            isolation_level="AUTOCOMMIT",
        )
        event.listen(self._engine, "connect", self._on_connect)
        self._depth = 0
        try:
            self._conn: Connection = self._engine.connect()
            self._migrate()
            self.written_elsewhere()  # from now on (see there)
        except DBAPIError as exc:
            self._engine.dispose()
            if _is_read_only(exc, path):
                raise ProfileError(_read_only_words(path)) from exc
            raise ProfileError(
                _("The profile database {path} cannot be opened: {error}").format(
                    path=path, error=exc.orig
                )
            ) from exc

    @staticmethod
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    # -- schema -------------------------------------------------------------

    def _migrate(self) -> None:
        version = self._conn.exec_driver_sql("PRAGMA user_version").scalar_one()
        if version > SCHEMA_VERSION:
            raise ProfileError(
                _(
                    "This profile was written by a newer version of KoproGo "
                    "(storage format {found}, this version knows {known}). Update KoproGo."
                ).format(found=version, known=SCHEMA_VERSION)
            )
        if version == 0:
            # A brand-new file (or a file that is not ours: refuse it).
            tables = self._conn.exec_driver_sql(
                "SELECT count(*) FROM sqlite_master WHERE type='table'"
            ).scalar_one()
            if tables:
                raise ProfileError(
                    _("{path} is not a KoproGo profile database.").format(path=self.path)
                )
            sql = resources.files("node.store").joinpath("schema/v1.sql").read_text()
            raw = self._conn.connection.dbapi_connection
            assert raw is not None
            raw.executescript(f"BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = 1;\nCOMMIT;")

    # -- key and meta ---------------------------------------------------------

    def set_key(self, key: bytes) -> None:
        self._key = key

    @property
    def key(self) -> bytes:
        if self._key is None:
            raise RuntimeError("the store is not unlocked")
        return self._key

    def written_elsewhere(self) -> bool:
        """Whether another connection (another process on this profile: the
        app, `sync --watch`, a command) committed since this was last asked.
        SQLite's ``data_version`` moves only for other connections' commits."""
        version = int(self._conn.exec_driver_sql("PRAGMA data_version").scalar_one())
        seen, self._data_version = getattr(self, "_data_version", None), version
        return seen is not None and version != seen

    def get_meta(self, name: str) -> str | None:
        return self._conn.execute(
            text("SELECT value FROM meta WHERE key = :k"), {"k": name}
        ).scalar_one_or_none()

    def update_meta(self, name: str, change: Callable[[str | None], str]) -> str:
        """Read one meta value and replace it with ``change(value)`` in one
        write transaction: another process doing the same waits for it.
        ``change`` may raise, leaving the value as it was."""
        with self._write():
            value = change(self.get_meta(name))
            self.set_meta({name: value})
        return value

    def set_meta(self, values: dict[str, str]) -> None:
        with self._write():
            for name, value in values.items():
                self._conn.execute(
                    text(
                        "INSERT INTO meta (key, value) VALUES (:k, :v) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
                    ),
                    {"k": name, "v": value},
                )

    # -- documents ------------------------------------------------------------

    def document(self, building_id: str, doc_id: str, create: bool = True) -> DocumentRef | None:
        params = {"b": building_id, "d": doc_id}
        select = text("SELECT id FROM documents WHERE building_id = :b AND doc_id = :d")
        row = self._conn.execute(select, params).scalar_one_or_none()
        if row is None and create:
            with self._write():
                self._conn.execute(
                    text(
                        "INSERT INTO documents (building_id, doc_id) VALUES (:b, :d) "
                        "ON CONFLICT DO NOTHING"
                    ),
                    params,
                )
                row = self._conn.execute(select, params).scalar_one()
        return None if row is None else DocumentRef(row, building_id, doc_id)

    def documents(self) -> list[DocumentRef]:
        rows = self._conn.execute(text("SELECT id, building_id, doc_id FROM documents ORDER BY id"))
        return [DocumentRef(*row) for row in rows]

    # -- updates --------------------------------------------------------------

    def append(
        self,
        ref: DocumentRef,
        schema: tuple[int, int],
        updates: list[bytes],
        resolved_pending: list[int] = (),  # type: ignore[assignment]
    ) -> int:
        """Seal and commit ``updates`` in one transaction; returns the last row id.

        ``resolved_pending`` rows of the pending table are deleted in the same
        transaction (their update is now applied and logged). When this
        returns, the updates are on disk (WAL, fsync). On failure nothing is
        written and :class:`StorageError` says why.
        """
        aad = _aad(ref, b"update")
        blobs = [{"d": ref.pk, "b": seal(self.key, _frame(schema, u), aad)} for u in updates]
        with self._write():
            last = 0
            for blob in blobs:
                last = self._conn.execute(
                    text("INSERT INTO updates (document, blob) VALUES (:d, :b) RETURNING id"), blob
                ).scalar_one()
            for row_id in resolved_pending:
                self._conn.execute(
                    text("DELETE FROM pending WHERE id = :i AND document = :d"),
                    {"i": row_id, "d": ref.pk},
                )
        return last

    def add_pending(
        self, ref: DocumentRef, schema: tuple[int, int], deps: bytes, update: bytes
    ) -> int:
        """Keep a remote update whose dependencies are not here yet."""
        payload = len(deps).to_bytes(4, "big") + deps + update
        blob = seal(self.key, _frame(schema, payload), _aad(ref, b"pending"))
        with self._write():
            return self._conn.execute(
                text("INSERT INTO pending (document, blob) VALUES (:d, :b) RETURNING id"),
                {"d": ref.pk, "b": blob},
            ).scalar_one()

    def read_pending(self, ref: DocumentRef) -> list[tuple[int, tuple[int, int], bytes, bytes]]:
        """(row id, schema, deps, update) of the document's waiting updates."""
        rows = self._conn.execute(
            text("SELECT id, blob FROM pending WHERE document = :d ORDER BY id"), {"d": ref.pk}
        ).all()
        waiting = []
        for row in rows:
            schema, payload = _unframe(self._open(row.blob, _aad(ref, b"pending")))
            size = int.from_bytes(payload[:4], "big")
            waiting.append((row.id, schema, payload[4 : 4 + size], payload[4 + size :]))
        return waiting

    def read(self, ref: DocumentRef) -> Iterator[StoredUpdate]:
        """The document's checkpoint (if any) then its later updates, decrypted."""
        with self._transaction("BEGIN"):
            checkpoint, rows = self._read_rows(ref)
        if checkpoint is not None:
            schema, update = _unframe(self._open(checkpoint.blob, _aad(ref, b"checkpoint")))
            yield StoredUpdate(checkpoint.through_update, schema, update, True)
        aad = _aad(ref, b"update")
        for row in rows:
            schema, update = _unframe(self._open(row.blob, aad))
            yield StoredUpdate(row.id, schema, update, False)

    def _read_rows(self, ref: DocumentRef) -> tuple:
        checkpoint = self._conn.execute(
            text("SELECT through_update, blob FROM checkpoints WHERE document = :d"),
            {"d": ref.pk},
        ).one_or_none()
        rows = self._conn.execute(
            text("SELECT id, blob FROM updates WHERE document = :d ORDER BY id"), {"d": ref.pk}
        ).all()
        return checkpoint, rows

    def is_readable(self, ref: DocumentRef) -> bool:
        """Whether every stored change of the document decrypts (a damaged
        file, not a wrong key: the key was checked when the profile opened)."""
        try:
            for _stored in self.read(ref):
                pass
        except StorageError:
            return False
        return True

    def forget_copy(self, ref: DocumentRef) -> None:
        """Drop this profile's copy of a document (its changes, checkpoint,
        waiting changes and the relay's position in it), to pull it again
        whole from the relay, which holds everything sent. The outbox, what
        was not sent yet, and this device's counter stay."""
        with self._write():
            for table in ("updates", "pending", "checkpoints", "peer_counters"):
                self._conn.execute(text(f"DELETE FROM {table} WHERE document = :d"), {"d": ref.pk})
            self._conn.execute(
                text(
                    "UPDATE sync_state SET cursor = 0, snapshot_id = '', snapshot_seq = 0 "
                    "WHERE document = :d"
                ),
                {"d": ref.pk},
            )

    def update_count(self, ref: DocumentRef) -> int:
        return self._conn.execute(
            text("SELECT count(*) FROM updates WHERE document = :d"), {"d": ref.pk}
        ).scalar_one()

    def checkpoint(self, ref: DocumentRef) -> int:
        """Replace the document's checkpoint and updates by one compacted state.

        Reads what is on disk inside a write transaction, merges it into a
        fresh document, and writes ``doc.get_update()`` (ARCHITECTURE §12:
        ``merge_updates`` does not squash across clients). Returns the number
        of updates folded in.
        """
        with self._write():
            stored = list(self.read(ref))
            updates = [s for s in stored if not s.is_checkpoint]
            if not updates:
                return 0
            merged = pycrdt.Doc()
            schema = max(s.schema for s in stored)
            for item in stored:
                merged.apply_update(item.update)
            state = merged.get_update()
            through = updates[-1].row_id
            blob = seal(self.key, _frame(schema, state), _aad(ref, b"checkpoint"))
            self._conn.execute(
                text(
                    "INSERT INTO checkpoints (document, blob, through_update) VALUES (:d, :b, :t) "
                    "ON CONFLICT (document) DO UPDATE SET blob = excluded.blob, "
                    "through_update = excluded.through_update"
                ),
                {"d": ref.pk, "b": blob, "t": through},
            )
            self._conn.execute(
                text("DELETE FROM updates WHERE document = :d AND id <= :t"),
                {"d": ref.pk, "t": through},
            )
        return len(updates)

    # -- transactions shared by several calls -------------------------------------

    def transaction(self) -> _Transaction:
        """``with store.transaction():`` — the calls inside commit together."""
        return self._write()

    # -- secrets ----------------------------------------------------------------

    def set_secret(self, name: str, value: bytes) -> None:
        blob = seal(self.key, value, b"koprogo-secret-v1\x00" + name.encode())
        with self._write():
            self._conn.execute(
                text(
                    "INSERT INTO secrets (name, blob) VALUES (:n, :b) "
                    "ON CONFLICT (name) DO UPDATE SET blob = excluded.blob"
                ),
                {"n": name, "b": blob},
            )

    def get_secret(self, name: str) -> bytes | None:
        blob = self._conn.execute(
            text("SELECT blob FROM secrets WHERE name = :n"), {"n": name}
        ).scalar_one_or_none()
        if blob is None:
            return None
        return self._open(blob, b"koprogo-secret-v1\x00" + name.encode())

    def delete_secret(self, name: str) -> None:
        with self._write():
            self._conn.execute(text("DELETE FROM secrets WHERE name = :n"), {"n": name})

    def secret_names(self, prefix: str) -> list[str]:
        rows = self._conn.execute(
            text("SELECT name FROM secrets WHERE name LIKE :p ORDER BY name"), {"p": prefix + "%"}
        )
        return [row[0] for row in rows]

    # -- sync bookkeeping ----------------------------------------------------------

    def sync_state(self, ref: DocumentRef) -> SyncState:
        row = self._conn.execute(
            text(
                "SELECT cursor, counter, snapshot_id, snapshot_seq FROM sync_state "
                "WHERE document = :d"
            ),
            {"d": ref.pk},
        ).one_or_none()
        return SyncState(*row) if row else SyncState()

    def set_sync_state(self, ref: DocumentRef, **fields: Any) -> None:
        state = dataclasses.replace(self.sync_state(ref), **fields)
        with self._write():
            self._conn.execute(
                text(
                    "INSERT INTO sync_state (document, cursor, counter, snapshot_id, "
                    "snapshot_seq) VALUES (:d, :c, :n, :s, :q) ON CONFLICT (document) DO "
                    "UPDATE SET cursor = excluded.cursor, counter = excluded.counter, "
                    "snapshot_id = excluded.snapshot_id, snapshot_seq = excluded.snapshot_seq"
                ),
                {
                    "d": ref.pk,
                    "c": state.cursor,
                    "n": state.counter,
                    "s": state.snapshot_id,
                    "q": state.snapshot_seq,
                },
            )

    def enqueue(
        self, ref: DocumentRef, schema: tuple[int, int], kind: int, deps: bytes, payload: bytes
    ) -> OutboxItem:
        """Queue a change for the relay with the next counter of this device
        for this document (joins the caller's transaction)."""
        with self._write():
            counter = self.sync_state(ref).counter + 1
            self.set_sync_state(ref, counter=counter)
            envelope_id = new_ulid()
            body = len(deps).to_bytes(4, "big") + deps + payload
            blob = seal(self.key, _frame(schema, body), _aad(ref, b"outbox"))
            row = self._conn.execute(
                text(
                    "INSERT INTO outbox (document, envelope_id, counter, kind, blob) "
                    "VALUES (:d, :e, :c, :k, :b) RETURNING id"
                ),
                {"d": ref.pk, "e": envelope_id, "c": counter, "k": kind, "b": blob},
            ).scalar_one()
        return OutboxItem(row, ref, envelope_id, counter, kind, schema, deps, payload)

    def outbox(self, ref: DocumentRef | None = None, limit: int = 1000) -> list[OutboxItem]:
        refs = {r.pk: r for r in self.documents()}
        query = "SELECT id, document, envelope_id, counter, kind, attempted, blob FROM outbox"
        params: dict[str, Any] = {"l": limit}
        if ref is not None:
            query += " WHERE document = :d"
            params["d"] = ref.pk
        rows = self._conn.execute(text(query + " ORDER BY id LIMIT :l"), params).all()
        items = []
        for row in rows:
            doc = refs[row.document]
            schema, body = _unframe(self._open(row.blob, _aad(doc, b"outbox")))
            size = int.from_bytes(body[:4], "big")
            items.append(
                OutboxItem(
                    row.id,
                    doc,
                    row.envelope_id,
                    row.counter,
                    row.kind,
                    schema,
                    body[4 : 4 + size],
                    body[4 + size :],
                    bool(row.attempted),
                )
            )
        return items

    def coalesce_outbox(
        self, ref: DocumentRef, merge: Callable[[list[bytes]], bytes], max_bytes: int
    ) -> int:
        """Replace runs of queued updates of ``ref`` by merged ones, before
        pushing, so that a day of offline edits leaves as a few envelopes, not
        thousands. Done in one transaction *before* anything is sent, so a
        crash never resends a different content under an envelope id the relay
        already has. Counters are renumbered to stay contiguous. Returns the
        number of rows removed."""
        with self._write():
            # Only items never sent: one that may have reached the relay keeps
            # its content, or a re-send would be taken as a duplicate of it.
            attempted = {
                row[0]
                for row in self._conn.execute(
                    text("SELECT id FROM outbox WHERE document = :d AND attempted = 1"),
                    {"d": ref.pk},
                )
            }
            items = [i for i in self.outbox(ref, limit=1_000_000) if i.row_id not in attempted]
            if len(items) < 2 or any(i.kind != 1 for i in items):
                return 0  # only plain updates are merged (snapshots, replies stay)
            groups: list[list[OutboxItem]] = [[]]
            size = 0
            for item in items:
                if groups[-1] and size + len(item.payload) > max_bytes:
                    groups.append([])
                    size = 0
                groups[-1].append(item)
                size += len(item.payload)
            if len(groups) == len(items):
                return 0
            first_counter = items[0].counter
            self._conn.execute(
                text("DELETE FROM outbox WHERE document = :d AND attempted = 0"), {"d": ref.pk}
            )
            for offset, group in enumerate(groups):
                payload = merge([i.payload for i in group]) if len(group) > 1 else group[0].payload
                body = len(group[0].deps).to_bytes(4, "big") + group[0].deps + payload
                schema = max(i.schema for i in group)
                self._conn.execute(
                    text(
                        "INSERT INTO outbox (document, envelope_id, counter, kind, blob) "
                        "VALUES (:d, :e, :c, 1, :b)"
                    ),
                    {
                        "d": ref.pk,
                        "e": group[0].envelope_id,
                        "c": first_counter + offset,
                        "b": seal(self.key, _frame(schema, body), _aad(ref, b"outbox")),
                    },
                )
            self.set_sync_state(ref, counter=first_counter + len(groups) - 1)
        return len(items) - len(groups)

    def renumber_outbox(self, ref: DocumentRef, row_id: int, first: int) -> None:
        """Give ``ref``'s queued items from ``row_id`` on the counters
        ``first``, ``first + 1``… The relay holds another envelope of this
        device under the old ones (a snapshot whose answer was lost), or lost
        some it had (restored from a backup): these items, which it does not
        hold (it would have answered "duplicate"), take the counters it
        expects; their content and envelope ids stay."""
        with self._write():
            rows = self._conn.execute(
                text("SELECT id FROM outbox WHERE document = :d AND id >= :i ORDER BY id"),
                {"d": ref.pk, "i": row_id},
            ).all()
            for offset, (item,) in enumerate(rows):
                self._conn.execute(
                    text("UPDATE outbox SET counter = :c WHERE id = :i"),
                    {"c": first + offset, "i": item},
                )
            if rows:  # they are this document's newest counters: the next follows them
                self.set_sync_state(ref, counter=first + len(rows) - 1)

    def outbox_count(self) -> int:
        return self._conn.execute(text("SELECT count(*) FROM outbox")).scalar_one()

    def mark_attempted(self, item_id: int) -> None:
        """Record, before sending, that this item may reach the relay."""
        with self._write():
            self._conn.execute(
                text("UPDATE outbox SET attempted = 1 WHERE id = :i"), {"i": item_id}
            )

    def remove_from_outbox(self, item_ids: list[int]) -> None:
        with self._write():
            for item_id in item_ids:
                self._conn.execute(text("DELETE FROM outbox WHERE id = :i"), {"i": item_id})

    def peer_counter(self, ref: DocumentRef, device: str) -> int:
        return (
            self._conn.execute(
                text("SELECT counter FROM peer_counters WHERE document = :d AND device = :v"),
                {"d": ref.pk, "v": device},
            ).scalar_one_or_none()
            or 0
        )

    def set_peer_counter(self, ref: DocumentRef, device: str, counter: int) -> None:
        with self._write():
            self._conn.execute(
                text(
                    "INSERT INTO peer_counters (document, device, counter) VALUES (:d, :v, :c) "
                    "ON CONFLICT (document, device) DO UPDATE SET counter = excluded.counter"
                ),
                {"d": ref.pk, "v": device, "c": counter},
            )

    # -- members log ------------------------------------------------------------------

    def members_entries(self) -> list[tuple[bytes, bytes]]:
        rows = self._conn.execute(text("SELECT body, signature FROM members_log ORDER BY seq"))
        return [(row.body, row.signature) for row in rows]

    def members_version(self) -> tuple[int, int, bytes]:
        """(entries, last seq, last signature): changes whenever the members
        log does, read without reading the log. Entries are only appended, and
        the last one signs over the hash of the one before, so this names the
        whole log; a cache of what the log says is keyed on it."""
        row = self._conn.execute(
            text(
                "SELECT (SELECT count(*) FROM members_log) AS n, seq, signature "
                "FROM members_log ORDER BY seq DESC LIMIT 1"
            )
        ).one_or_none()
        return (0, -1, b"") if row is None else (row.n, row.seq, bytes(row.signature))

    def add_members_entries(self, first_seq: int, entries: list[tuple[bytes, bytes]]) -> None:
        with self._write():
            for offset, (body, signature) in enumerate(entries):
                self._conn.execute(
                    text("INSERT INTO members_log (seq, body, signature) VALUES (:s, :b, :g)"),
                    {"s": first_seq + offset, "b": body, "g": signature},
                )

    def vacuum(self) -> None:
        """Give freed pages back and truncate the WAL, so that deleted blobs are
        no longer in any file of the profile (used after erasure)."""
        raw = self._conn.connection.dbapi_connection
        assert raw is not None
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        raw.execute("VACUUM")
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        try:
            raw = self._conn.connection.dbapi_connection
            if raw is not None:
                raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error:
            pass
        self._conn.close()
        self._engine.dispose()

    # -- internals ------------------------------------------------------------

    def _open(self, blob: bytes, aad: bytes) -> bytes:
        try:
            return open_sealed(self.key, blob, aad)
        except DecryptionError as exc:
            raise StorageError(
                _(
                    "Stored data cannot be decrypted: the key does not match this profile "
                    "or the file was altered."
                )
            ) from exc

    def _write(self) -> _Transaction:
        return self._transaction("BEGIN IMMEDIATE")

    def _transaction(self, begin: str) -> _Transaction:
        return _Transaction(self, begin)


class _Transaction:
    """``with store._write():`` — one SQLite transaction, committed on exit and
    rolled back on error; nested uses join the outer one. SQLite failures
    become :class:`StorageError` with a message a user can act on."""

    def __init__(self, store: Store, begin: str) -> None:
        self._store = store
        self._begin = begin

    def __enter__(self) -> None:
        store = self._store
        if store._depth == 0:
            try:
                store._conn.exec_driver_sql(self._begin)
            except DBAPIError as exc:
                raise _storage_error(exc, store.path) from exc
        store._depth += 1

    def __exit__(self, exc_type, exc, tb) -> bool:
        store = self._store
        store._depth -= 1
        if store._depth > 0:
            return False
        if exc_type is None:
            try:
                store._conn.exec_driver_sql("COMMIT")
                return False
            except DBAPIError as commit_exc:
                # SQLite has already rolled back on a full disk: a second
                # error here hid the first (found by hand: a traceback)
                with contextlib.suppress(DBAPIError):
                    store._conn.exec_driver_sql("ROLLBACK")
                raise _storage_error(commit_exc, store.path) from commit_exc
        with contextlib.suppress(DBAPIError):
            store._conn.exec_driver_sql("ROLLBACK")
        if isinstance(exc, DBAPIError):
            raise _storage_error(exc, store.path) from exc
        return False


def _storage_error(exc: DBAPIError, path: Path) -> StorageError:
    if _is_disk_full(exc):
        return StorageError(_("The disk is full: the change was not saved. Free some space."))
    if _is_read_only(exc, path):
        return StorageError(_read_only_words(path))
    return StorageError(_("The change could not be saved: {error}").format(error=exc.orig))


def _is_read_only(exc: BaseException, path: Path) -> bool:
    """SQLite says "attempt to write a readonly database" when the file
    cannot be written, and only "unable to open database file" when its
    folder cannot (the write-ahead log lives beside it)."""
    text = str(getattr(exc, "orig", exc)).lower()
    if "readonly" in text or "read-only" in text:
        return True
    if "unable to open" not in text:
        return False
    folder = path.parent
    return (folder.is_dir() and not os.access(folder, os.W_OK)) or (
        path.exists() and not os.access(path, os.W_OK)
    )


def _read_only_words(path: Path) -> str:
    return _(
        "The profile folder {folder} cannot be written to (a read-only disk, or no "
        "permission): nothing was changed. Give your user write access to it, or copy the "
        "profile to a folder you can write to."
    ).format(folder=path.parent)
