"""The relay's storage: synchronous SQLAlchemy Core, one transaction per call.

The transport runs these calls in thread executors: every write through one
writer thread per process (SQLite has one writer anyway), reads in a small
pool. With PostgreSQL several processes may share one database, so every
write first locks its building's row (``SELECT … FOR UPDATE``), then the
document's head row, always in the order (building id, document id): that
serialises sequence assignment per document across processes without
deadlocks (docs/sync-protocol.md §7.1 step 6). Changes are announced with
``pg_notify`` inside the same transaction, so a notification is sent if and
only if the change committed.

This layer knows tables and locks, not the protocol's rules: checks that
need stored state (idempotency, counters, compare-and-swap) are made here
and reported as :class:`~sync_server.errors.RelayError`; the decision of
whether a request may be admitted (quotas, rates) is a callback from the
core.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, func, insert, select, update

from shared.envelope import Kind
from shared.members import SignedEntry

from .database import file_lock, write_lock, writing
from .errors import RelayError, conflict
from .schema import brokers, buildings, documents, envelopes, invites, members, usage

NOTIFY_CHANNEL = "koprogo_relay"
log = logging.getLogger("koprogo.relay")


class MembersChanged(Exception):
    """The members log grew in the database since this process last read it
    (another relay process appended): refresh, then check again."""


@dataclass(frozen=True)
class AppendItem:
    """An envelope that passed every check that needs no stored state."""

    building_id: str
    doc_id: str
    envelope_id: str
    device_id: str
    counter: int
    kind: Kind
    data: bytes
    members_length: int  # the log length the authorisation was checked against
    now: float
    replaces: int = 0
    base: str | None = None  # snapshots: the snapshot replaced, None for "-"


@dataclass(frozen=True)
class Staged:
    """A batch's statements run, not yet committed: each item's outcome, and
    the documents' new heads to announce once committed."""

    outcomes: list[Outcome]
    events: list[tuple[str, dict[str, object]]]


@dataclass(frozen=True)
class Stored:
    seq: int
    duplicate: bool
    deleted: int = 0


Admit = Callable[[AppendItem, int, int], None]
"""``admit(item, bytes_stored, delta)`` raises RelayError to refuse (quota, rate)."""

Outcome = Stored | RelayError | MembersChanged


@dataclass
class _Batch:
    """What one group commit has learnt and changed so far."""

    buildings: dict[str, tuple[int, int]] = field(default_factory=dict)  # locked: length, bytes
    deltas: dict[str, int] = field(default_factory=dict)  # bytes added per building
    heads: dict[tuple[str, str], int] = field(default_factory=dict)  # newest seq per document


_SQL = {
    "lock_building": "SELECT members_length, bytes_stored FROM buildings WHERE id = :b",
    "find_envelope": "SELECT seq FROM envelopes WHERE building_id = :b AND envelope_id = :e",
    "counter": "SELECT last_counter FROM counters "
    "WHERE building_id = :b AND doc_id = :d AND device_id = :v",
    "head": "SELECT last_seq, snapshot_id, snapshot_seq FROM documents "
    "WHERE building_id = :b AND doc_id = :d",
    "superseded": "SELECT count(*), coalesce(sum(size), 0) FROM envelopes "
    "WHERE building_id = :b AND doc_id = :d AND (seq <= :n OR envelope_id = :s)",
    "delete_superseded": "DELETE FROM envelopes "
    "WHERE building_id = :b AND doc_id = :d AND (seq <= :n OR envelope_id = :s)",
    "insert_envelope": "INSERT INTO envelopes "
    "(building_id, doc_id, seq, envelope_id, device_id, kind, size, data) "
    "VALUES (:b, :d, :s, :e, :v, :k, :z, :x)",
    "upsert_head": "INSERT INTO documents (building_id, doc_id, last_seq, snapshot_id, "
    "snapshot_seq) VALUES (:b, :d, :s, :i, :n) ON CONFLICT (building_id, doc_id) DO UPDATE "
    "SET last_seq = excluded.last_seq, snapshot_id = excluded.snapshot_id, "
    "snapshot_seq = excluded.snapshot_seq",
    "upsert_counter": "INSERT INTO counters (building_id, doc_id, device_id, last_counter) "
    "VALUES (:b, :d, :v, :c) ON CONFLICT (building_id, doc_id, device_id) DO UPDATE "
    "SET last_counter = excluded.last_counter",
    "add_bytes": "UPDATE buildings SET bytes_stored = bytes_stored + :d WHERE id = :b",
    "notify": "SELECT pg_notify(:c, :p)",
    "sizes": "SELECT seq, size FROM envelopes WHERE building_id = :b AND doc_id = :d "
    "AND seq > :a ORDER BY seq LIMIT :l",
    "page": "SELECT seq, data FROM envelopes WHERE building_id = :b AND doc_id = :d "
    "AND seq > :a AND seq <= :u ORDER BY seq",
}
"""Hot-path statements, with ``:name`` parameters (SQLite's named style);
for psycopg they become ``%(name)s``. Written for both dialects; the tables
are those of :mod:`sync_server.schema`."""

_EVENTS_PER_ANNOUNCEMENT = 100  # ~13 KB at most: well within one datagram
_ROWS_PER_STATEMENT = 100  # rows of a multi-row statement (SQLite allows 999 parameters)

_STATE_OF_MANY = (
    "WITH batch(i, b, d, e, v) AS (VALUES {values}) "
    "SELECT batch.i, buildings.members_length, buildings.bytes_stored, "
    "(SELECT seq FROM envelopes WHERE building_id = batch.b AND envelope_id = batch.e), "
    "(SELECT last_counter FROM counters "
    "WHERE building_id = batch.b AND doc_id = batch.d AND device_id = batch.v), "
    "documents.last_seq, documents.snapshot_id, documents.snapshot_seq "
    "FROM batch LEFT JOIN buildings ON buildings.id = batch.b "
    "LEFT JOIN documents ON documents.building_id = batch.b AND documents.doc_id = batch.d"
)
"""SQLite: what the append rules need to know of each envelope of a batch
(its building, whether it is stored, its device's counter, its document's
head), one row per envelope."""

_ADD_USAGE = (
    "INSERT INTO usage (building_id, month, requests) VALUES {values} "
    "ON CONFLICT (building_id, month) DO UPDATE SET requests = usage.requests + excluded.requests"
)

_INSERT_ENVELOPES = (
    "INSERT INTO envelopes (building_id, doc_id, seq, envelope_id, device_id, kind, size, data) "
    "VALUES {values}"
)
_UPSERT_HEADS = (
    "INSERT INTO documents (building_id, doc_id, last_seq, snapshot_id, snapshot_seq) "
    "VALUES {values} ON CONFLICT (building_id, doc_id) DO UPDATE "
    "SET last_seq = excluded.last_seq, snapshot_id = excluded.snapshot_id, "
    "snapshot_seq = excluded.snapshot_seq"
)
_UPSERT_COUNTERS = (
    "INSERT INTO counters (building_id, doc_id, device_id, last_counter) "
    "VALUES {values} ON CONFLICT (building_id, doc_id, device_id) DO UPDATE "
    "SET last_counter = excluded.last_counter"
)

_LOCKING = ("lock_building", "head")  # PostgreSQL: row locks, in (building, document) order


def _prepare(postgresql: bool) -> dict[str, str]:
    prepared = {}
    for name, sql in _SQL.items():
        if postgresql:
            sql = re.sub(r":([a-z])\b", r"%(\1)s", sql)
            if name in _LOCKING:
                sql += " FOR UPDATE"
        prepared[name] = sql
    return prepared


class Storage:
    def __init__(
        self, engine: Engine, origin: str = "", announce: Callable[[str], None] | None = None
    ) -> None:
        self.engine = engine
        self.origin = origin  # this process's id in notifications
        # SQLite with several worker processes (sync_server.workers): told
        # each change after its commit, for the other workers
        self.announce = announce
        self.postgresql = engine.dialect.name == "postgresql"
        self._sql = _prepare(self.postgresql)
        self.bulk = not self.postgresql  # updates read and written a batch at a time
        self._local = threading.local()  # a reader thread's own SQLite connection
        self._writer: Any = None  # the writer's own SQLite connection (open_writer)
        self._lock = file_lock(engine)  # what write_lock holds, for staged batches (None: none)

    # -- reader threads --------------------------------------------------------

    def open_reader(self) -> None:
        """Called in each reader thread before its first read, and in the
        event loop's thread (:meth:`pull_here`). With SQLite the thread
        keeps one connection for its pulls (taking one from the pool for
        each pull cost three times the pull itself); PostgreSQL connections
        come from the pool, checked before use."""
        if not self.postgresql:
            self._local.reader = self.engine.raw_connection()

    def close_reader(self) -> None:
        reader = getattr(self._local, "reader", None)
        if reader is not None:
            self._local.reader = None
            reader.close()

    def open_writer(self) -> None:
        """Called in the writer thread: with SQLite it keeps one connection
        for its group commits (a pool checkout, a SQLAlchemy transaction and
        a rollback on return cost as much as a small batch)."""
        if not self.postgresql:
            self._local.writer = self._writer = self.engine.raw_connection()

    def close_writer(self) -> None:
        writer = getattr(self._local, "writer", None)
        if writer is not None:
            self._local.writer = self._writer = None
            writer.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Any]:
        """A DBAPI connection in a transaction, committed at the end: the
        writer thread's own (:meth:`open_writer`) or one from the pool."""
        writer = getattr(self._local, "writer", None)
        if writer is None:
            with writing(self.engine) as conn:
                yield conn.connection
            return
        with write_lock(self.engine):
            try:
                writer.execute("BEGIN IMMEDIATE")  # see database.writing
                yield writer
                writer.commit()
            except BaseException:
                with contextlib.suppress(Exception):
                    writer.rollback()
                raise

    # -- members log ---------------------------------------------------------

    def load_members(self, building_id: str | None = None, after: int = -1) -> dict[str, list]:
        """Entries of every building (or one), in order, with seq > ``after``."""
        query = select(members.c.building_id, members.c.body, members.c.signature).order_by(
            members.c.building_id, members.c.seq
        )
        if building_id is not None:
            query = query.where(members.c.building_id == building_id, members.c.seq > after)
        logs: dict[str, list[SignedEntry]] = {}
        with self.engine.connect() as conn:
            for building, body, signature in conn.execute(query):
                logs.setdefault(building, []).append(SignedEntry(bytes(body), bytes(signature)))
        return logs

    def create_building(self, building_id: str, entry: SignedEntry, epoch: int, now: int) -> bool:
        """Store a new building and its genesis entry; False if it exists."""
        with writing(self.engine) as conn:
            exists = conn.execute(select(buildings.c.id).where(buildings.c.id == building_id))
            if exists.first() is not None:
                return False
            conn.execute(
                insert(buildings).values(
                    id=building_id,
                    created_at=int(now),
                    members_length=1,
                    epoch=epoch,
                    bytes_stored=0,
                )
            )
            conn.execute(
                insert(members).values(
                    building_id=building_id, seq=0, body=entry.body, signature=entry.signature
                )
            )
        return True

    def append_member(
        self,
        building_id: str,
        entry: SignedEntry,
        seq: int,
        epoch: int,
        invite_payload: tuple[str, bytes] | None = None,
        used_invite: str | None = None,
    ) -> None:
        """Append ``entry`` as ``seq``; raise :class:`MembersChanged` if the
        stored log is no longer ``seq`` long. An invite entry stores its
        payload; a join deletes the used invite's payload."""
        with writing(self.engine) as conn:
            length, _ = self._lock_building(conn, building_id)
            if length != seq:
                raise MembersChanged
            conn.execute(
                insert(members).values(
                    building_id=building_id, seq=seq, body=entry.body, signature=entry.signature
                )
            )
            conn.execute(
                update(buildings)
                .where(buildings.c.id == building_id)
                .values(members_length=seq + 1, epoch=epoch)
            )
            if invite_payload is not None:
                invite_id, payload = invite_payload
                conn.execute(
                    insert(invites).values(id=invite_id, building_id=building_id, payload=payload)
                )
            if used_invite is not None:
                conn.execute(delete(invites).where(invites.c.id == used_invite))
            self._notify(conn, building_id, {"members": seq + 1})
        self._announce([(building_id, {"members": seq + 1})])

    def is_broker_key(self, sign_key: bytes) -> bool:
        """Whether a broker registered this public key (docs/sync-protocol.md
        §9.3: no key is both a device's and a broker's)."""
        if not sign_key:
            return False
        with self.engine.connect() as conn:
            found = conn.execute(select(brokers.c.name).where(brokers.c.sign_key == sign_key))
            return found.first() is not None

    def withdraw_invite(self, building_id: str, invite_id: str) -> bool:
        """Delete an unused invite's payload: nobody can join with it any
        more (§6). Whether there was one."""
        with writing(self.engine) as conn:
            gone = conn.execute(
                delete(invites).where(
                    (invites.c.id == invite_id) & (invites.c.building_id == building_id)
                )
            )
            return bool(gone.rowcount)

    def invite(self, invite_id: str) -> tuple[str, bytes] | None:
        """(building id, sealed payload) of a stored, unused invite."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(invites.c.building_id, invites.c.payload).where(invites.c.id == invite_id)
            ).first()
        return None if row is None else (row[0], bytes(row[1]))

    # -- envelopes -----------------------------------------------------------

    def append_batch(self, items: list[AppendItem], admit: Admit) -> list[Outcome]:
        """Store a batch of envelopes in one transaction (group commit).

        Items are taken in (building, document) order, keeping the order of
        arrival within a document, so locks are always taken in one order.
        An unexpected database error fails the batch; the caller then retries
        the items one by one.

        This is the relay's hot path: its statements are prepared once as
        SQL text (:data:`_SQL`) and run on the transaction's DBAPI cursor,
        which costs a tenth of building SQLAlchemy expressions per envelope.
        With SQLite, updates are moreover read and written a batch at a time
        (:meth:`_append_many`): each statement lets the event loop's thread
        take the GIL, and the writer then waits to get it back, so the number
        of statements per envelope, more than their cost, bounds how many
        envelopes the writer stores per second. PostgreSQL takes its row locks
        envelope by envelope (:meth:`_append_one`), as do snapshots.
        """
        with self._transaction() as dbapi:
            staged = self._append_statements(dbapi, items, admit)
        self._announce(staged.events)
        if any(isinstance(o, Stored) and o.deleted for o in staged.outcomes):
            self._forget_deleted()
        return staged.outcomes

    def _forget_deleted(self) -> None:
        """After a snapshot deleted the envelopes it replaces: with SQLite,
        copy the write-ahead log into the file and empty it, so that no old
        page still holds them (found by hand: after an erasure the replaced
        envelopes stayed in ``relay.sqlite3-wal`` and in free pages; the
        pages are zeroed by ``secure_delete``). Best effort: a reader still
        busy leaves it to the next one. PostgreSQL frees dead rows at its
        vacuum (docs/relay-operations.md)."""
        if self.engine.dialect.name != "sqlite":
            return
        connection = self.engine.raw_connection()
        try:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except Exception:
            log.warning("could not empty the write-ahead log after a snapshot", exc_info=True)
        finally:
            connection.close()

    # A batch of updates begun and staged on the event loop's thread, then
    # committed on the writer thread (sync_server.writer.StagingWriter, SQLite):
    # the statements run without handing the GIL back and forth between two
    # threads at every step of a statement, and the loop never waits for the
    # disk. The transaction is the same as append_batch's.

    def take_lock(self, wait: bool) -> bool:
        """Take the write lock for a staged batch, waiting for it (on the
        writer thread) or not (on the loop: False when another process
        holds it)."""
        return self._lock is None or self._lock.acquire(blocking=wait)

    def begin_staged(self) -> None:
        """Begin the batch's transaction on the writer's connection, the
        lock taken; when it cannot begin, the lock is released."""
        try:
            self._writer.execute("BEGIN IMMEDIATE")  # see database.writing
        except BaseException:
            self.release_lock()
            raise

    def stage(self, items: list[AppendItem], admit: Admit) -> Staged:
        """The statements of :meth:`append_batch`, in the begun transaction."""
        return self._append_statements(self._writer, items, admit)

    def commit_staged(self, staged: Staged) -> None:
        """Commit (the disk's wait), release the lock, then announce. When
        the commit fails, the transaction is rolled back and the lock released."""
        try:
            self._writer.commit()
        except BaseException:
            with contextlib.suppress(Exception):
                self._writer.rollback()
            raise
        finally:
            self.release_lock()
        self._announce(staged.events)

    def abandon_staged(self) -> None:
        """Roll the begun transaction back and release the lock."""
        try:
            self._writer.rollback()
        finally:
            self.release_lock()

    def release_lock(self) -> None:
        if self._lock is not None:
            self._lock.release()

    def _append_statements(self, dbapi: Any, items: list[AppendItem], admit: Admit) -> Staged:
        order = sorted(range(len(items)), key=lambda i: (items[i].building_id, items[i].doc_id))
        outcomes: list[Outcome | None] = [None] * len(items)
        cursor = dbapi.cursor()
        batch = _Batch()
        try:
            run: list[int] = []  # updates to store together (SQLite)
            for i in order:
                if self.bulk and items[i].kind is not Kind.SNAPSHOT:
                    run.append(i)
                    continue
                self._append_many(cursor, batch, items, run, admit, outcomes)
                run = []
                try:
                    outcomes[i] = self._append_one(cursor, batch, items[i], admit)
                except (RelayError, MembersChanged) as refusal:
                    outcomes[i] = refusal
            self._append_many(cursor, batch, items, run, admit, outcomes)
            deltas = [(b, delta) for b, delta in sorted(batch.deltas.items()) if delta]
            if self.bulk:
                self._add_bytes_many(cursor, deltas)
            for building_id, delta in [] if self.bulk else deltas:
                cursor.execute(self._sql["add_bytes"], {"b": building_id, "d": delta})
            events = [(b, {"doc": d, "seq": seq}) for (b, d), seq in sorted(batch.heads.items())]
            if self.postgresql:
                for building_id, event in events:
                    payload = self._payload(building_id, event)
                    cursor.execute(self._sql["notify"], {"c": NOTIFY_CHANNEL, "p": payload})
        finally:
            cursor.close()
        return Staged([o for o in outcomes if o is not None], events)

    def _append_one(self, cur: Any, batch: _Batch, item: AppendItem, admit: Admit) -> Stored:
        """§7.1 steps 3–6 (and §7.2 for snapshots), inside the batch's transaction."""
        sql = self._sql
        b, d = item.building_id, item.doc_id
        if b not in batch.buildings:
            cur.execute(sql["lock_building"], {"b": b})
            row = cur.fetchone()
            if row is None:
                raise RelayError(404, "unknown-building", "no such building on this relay")
            batch.buildings[b] = (int(row[0]), int(row[1]))
        length, bytes_stored = batch.buildings[b]
        if length != item.members_length:
            raise MembersChanged
        cur.execute(sql["find_envelope"], {"b": b, "e": item.envelope_id})
        known = cur.fetchone()
        if known is not None:
            return Stored(int(known[0]), duplicate=True)
        key = {"b": b, "d": d, "v": item.device_id}
        cur.execute(sql["counter"], key)
        row = cur.fetchone()
        expected = (int(row[0]) if row else 0) + 1
        if item.counter > expected:
            raise conflict(
                "counter-gap", f"counter {item.counter} skips {expected}", expected=expected
            )
        if item.counter < expected:
            raise conflict(
                "counter-reused", f"counter {item.counter} was already used", expected=expected
            )
        cur.execute(sql["head"], {"b": b, "d": d})
        head = cur.fetchone()
        last_seq, snapshot_id, snapshot_seq = (
            (int(head[0]), head[1], int(head[2])) if head else (0, None, 0)
        )
        deleted_rows, deleted_bytes = 0, 0
        doomed = {"b": b, "d": d, "n": item.replaces, "s": snapshot_id or ""}
        if item.kind is Kind.SNAPSHOT:
            if item.base != snapshot_id:
                raise conflict(
                    "snapshot-conflict",
                    "the snapshot's base is not the current one",
                    current=snapshot_id or "-",
                )
            if item.replaces > last_seq:
                raise conflict(
                    "snapshot-conflict",
                    "the snapshot replaces unknown sequences",
                    current=snapshot_id or "-",
                    last_seq=last_seq,
                )
            cur.execute(sql["superseded"], doomed)
            deleted_rows, deleted_bytes = (int(x) for x in cur.fetchone())
        delta = len(item.data) - deleted_bytes
        admit(item, bytes_stored + batch.deltas.get(b, 0), delta)
        seq = last_seq + 1
        if deleted_rows:
            cur.execute(sql["delete_superseded"], doomed)
        if item.kind is Kind.SNAPSHOT:
            snapshot_id, snapshot_seq = item.envelope_id, seq
        cur.execute(
            sql["insert_envelope"],
            {"b": b, "d": d, "s": seq, "e": item.envelope_id, "v": item.device_id,
             "k": int(item.kind), "z": len(item.data), "x": item.data},
        )  # fmt: skip
        cur.execute(
            sql["upsert_head"], {"b": b, "d": d, "s": seq, "i": snapshot_id, "n": snapshot_seq}
        )
        cur.execute(sql["upsert_counter"], {**key, "c": item.counter})
        batch.deltas[b] = batch.deltas.get(b, 0) + delta
        batch.heads[(b, d)] = seq
        return Stored(seq, duplicate=False, deleted=deleted_rows)

    def _append_many(
        self,
        cur: Any,
        batch: _Batch,
        items: list[AppendItem],
        run: list[int],
        admit: Admit,
        outcomes: list[Outcome | None],
    ) -> None:
        """§7.1 steps 3–6 for ``items[i]`` for each i in ``run`` (updates,
        SQLite): the stored state of them all read by one statement, the
        checks made in order in memory (an envelope sees those before it in
        the batch), then the new rows written by three statements."""
        if not run:
            return
        rows: dict[int, tuple[Any, ...]] = {}
        for start in range(0, len(run), _ROWS_PER_STATEMENT):
            chunk = run[start : start + _ROWS_PER_STATEMENT]
            values = ", ".join(["(?, ?, ?, ?, ?)"] * len(chunk))
            params: list[Any] = []
            for i in chunk:
                item = items[i]
                params += (i, item.building_id, item.doc_id, item.envelope_id, item.device_id)
            cur.execute(_STATE_OF_MANY.format(values=values), params)
            rows.update((int(row[0]), row[1:]) for row in cur.fetchall())
        known: dict[tuple[str, str], int] = {}  # envelope ids stored in this run
        counters: dict[tuple[str, str, str], int] = {}
        heads: dict[tuple[str, str], tuple[int, str | None, int]] = {}
        new_envelopes: list[tuple[Any, ...]] = []
        for i in run:
            item = items[i]
            b, d = item.building_id, item.doc_id
            length, stored_bytes, seen, counter, last_seq, snapshot_id, snapshot_seq = rows[i]
            try:
                if b not in batch.buildings:
                    if length is None:
                        raise RelayError(404, "unknown-building", "no such building on this relay")
                    batch.buildings[b] = (int(length), int(stored_bytes))
                length, bytes_stored = batch.buildings[b]
                if length != item.members_length:
                    raise MembersChanged
                if (b, item.envelope_id) in known:
                    outcomes[i] = Stored(known[(b, item.envelope_id)], duplicate=True)
                    continue
                if seen is not None:
                    outcomes[i] = Stored(int(seen), duplicate=True)
                    continue
                key = (b, d, item.device_id)
                last = counters[key] if key in counters else int(counter or 0)
                expected = last + 1
                if item.counter > expected:
                    raise conflict(
                        "counter-gap", f"counter {item.counter} skips {expected}", expected=expected
                    )
                if item.counter < expected:
                    raise conflict(
                        "counter-reused",
                        f"counter {item.counter} was already used",
                        expected=expected,
                    )
                head = heads.get((b, d)) or (
                    int(last_seq or 0),
                    snapshot_id,
                    int(snapshot_seq or 0),
                )
                delta = len(item.data)
                admit(item, bytes_stored + batch.deltas.get(b, 0), delta)
            except (RelayError, MembersChanged) as refusal:
                outcomes[i] = refusal
                continue
            seq = head[0] + 1
            new_envelopes.append(
                (b, d, seq, item.envelope_id, item.device_id, int(item.kind), delta, item.data)
            )
            heads[(b, d)] = (seq, head[1], head[2])
            counters[key] = item.counter
            known[(b, item.envelope_id)] = seq
            batch.deltas[b] = batch.deltas.get(b, 0) + delta
            batch.heads[(b, d)] = seq
            outcomes[i] = Stored(seq, duplicate=False)
        self._insert_many(cur, _INSERT_ENVELOPES, 8, new_envelopes)
        self._insert_many(cur, _UPSERT_HEADS, 5, [(*k, *v) for k, v in heads.items()])
        self._insert_many(cur, _UPSERT_COUNTERS, 4, [(*k, v) for k, v in counters.items()])

    @staticmethod
    def _add_bytes_many(cur: Any, deltas: list[tuple[str, int]]) -> None:
        """The batch's bytes added to each building's total, a hundred
        buildings a statement (SQLite; one statement each cost a GIL
        hand-over each, and a batch often holds one append per building)."""
        for start in range(0, len(deltas), _ROWS_PER_STATEMENT):
            chunk = deltas[start : start + _ROWS_PER_STATEMENT]
            cases = " ".join(["WHEN ? THEN ?"] * len(chunk))
            marks = ", ".join(["?"] * len(chunk))
            cur.execute(
                f"UPDATE buildings SET bytes_stored = bytes_stored + CASE id {cases} END "
                f"WHERE id IN ({marks})",
                [value for pair in chunk for value in pair] + [b for b, _ in chunk],
            )

    @staticmethod
    def _insert_many(cur: Any, sql: str, width: int, rows: list[tuple[Any, ...]]) -> None:
        row = "(" + ", ".join(["?"] * width) + ")"
        for start in range(0, len(rows), _ROWS_PER_STATEMENT):
            chunk = rows[start : start + _ROWS_PER_STATEMENT]
            cur.execute(
                sql.format(values=", ".join([row] * len(chunk))),
                [value for values in chunk for value in values],
            )

    def _lock_building(self, conn: Connection, building_id: str) -> tuple[int, int]:
        row = conn.execute(
            select(buildings.c.members_length, buildings.c.bytes_stored)
            .where(buildings.c.id == building_id)
            .with_for_update()
        ).first()
        if row is None:
            raise RelayError(404, "unknown-building", "no such building on this relay")
        return int(row[0]), int(row[1])

    def _notify(self, conn: Connection, building_id: str, event: dict[str, object]) -> None:
        """PostgreSQL: announce ``event`` to the other relay processes in the
        transaction that makes the change (sent if and only if it commits)."""
        if self.postgresql:
            payload = self._payload(building_id, event)
            conn.execute(select(func.pg_notify(NOTIFY_CHANNEL, payload)))

    def _payload(self, building_id: str, event: dict[str, object]) -> str:
        """A PostgreSQL notification: this process, the building, the event."""
        return json.dumps({"o": self.origin, "b": building_id, **event})

    def _announce(self, events: list[tuple[str, dict[str, object]]]) -> None:
        """SQLite with worker processes: the same announcements, once
        committed, a transaction's together (``{"o", "events": [{"b", …}]}``)."""
        if self.announce is None or self.postgresql:
            return
        listed = [{"b": building_id, **event} for building_id, event in events]
        for start in range(0, len(listed), _EVENTS_PER_ANNOUNCEMENT):
            chunk = listed[start : start + _EVENTS_PER_ANNOUNCEMENT]
            self.announce(json.dumps({"o": self.origin, "events": chunk}))

    # -- reads ---------------------------------------------------------------

    def pull(
        self,
        building_id: str,
        doc_id: str,
        after: int,
        limit: int,
        max_bytes: int,
        at_most: int | None = None,
    ) -> tuple[list[tuple[int, bytes]], bool] | None:
        """Envelopes with seq > ``after`` in order: at most ``limit`` of them
        and ``max_bytes`` in all (at least one), and whether more follow (§7.3).
        Sizes are read first so that a page never loads more than it sends;
        both reads see one snapshot of the database. With ``at_most``, None
        instead of a page of more bytes than that (see :meth:`pull_here`)."""
        params = {"b": building_id, "d": doc_id, "a": after, "l": limit + 1}
        reader = getattr(self._local, "reader", None)
        if reader is not None:  # SQLite, in a thread with its own connection
            cursor = reader.cursor()
            try:
                cursor.execute("BEGIN")
                try:
                    return self._page(cursor, params, limit, max_bytes, at_most)
                finally:
                    cursor.execute("COMMIT")
            finally:
                cursor.close()
        options = {"isolation_level": "REPEATABLE READ"} if self.postgresql else {}
        with self.engine.connect().execution_options(**options) as conn, conn.begin():
            cursor = conn.connection.cursor()
            try:
                return self._page(cursor, params, limit, max_bytes, at_most)
            finally:
                cursor.close()

    def pull_here(
        self, building_id: str, doc_id: str, after: int, limit: int, max_bytes: int, at_most: int
    ) -> tuple[list[tuple[int, bytes]], bool] | None:
        """:meth:`pull` in the calling thread (the event loop's) when it has
        a connection of its own (SQLite, see :meth:`open_reader`) and the
        page holds at most ``at_most`` bytes; else None, and the caller
        pulls on a reader thread. A SQLite read in WAL mode never waits for
        the writer, and a small page costs less than handing it to a thread."""
        if getattr(self._local, "reader", None) is None:
            return None
        return self.pull(building_id, doc_id, after, limit, max_bytes, at_most)

    def _page(
        self,
        cursor: Any,
        params: dict[str, Any],
        limit: int,
        max_bytes: int,
        at_most: int | None = None,
    ) -> tuple[list[tuple[int, bytes]], bool] | None:
        cursor.execute(self._sql["sizes"], params)
        sizes = cursor.fetchall()
        taken, total = 0, 0
        for _, size in sizes[:limit]:
            if taken and total + size > max_bytes:
                break
            taken, total = taken + 1, total + size
        if not taken:
            return [], False
        if at_most is not None and total > at_most:
            return None
        cursor.execute(self._sql["page"], {**params, "u": sizes[taken - 1][0]})
        rows = cursor.fetchall()
        return [(int(s), bytes(data)) for s, data in rows], len(sizes) > taken

    def heads(self, building_id: str) -> dict[str, dict[str, object]]:
        """Each document's head: its last sequence, its snapshot, and (1.5)
        the id of the envelope at the head, by which a device whose cursor
        is at the head tells that a restored relay holds another envelope
        there (protocol §7.1)."""
        at_head = and_(
            envelopes.c.building_id == documents.c.building_id,
            envelopes.c.doc_id == documents.c.doc_id,
            envelopes.c.seq == documents.c.last_seq,
        )
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    documents.c.doc_id,
                    documents.c.last_seq,
                    documents.c.snapshot_id,
                    documents.c.snapshot_seq,
                    envelopes.c.envelope_id,
                )
                .select_from(documents.outerjoin(envelopes, at_head))
                .where(documents.c.building_id == building_id)
            ).all()
        heads: dict[str, dict[str, object]] = {}
        for doc, seq, snap, snap_seq, last in rows:
            heads[doc] = {"seq": int(seq), "snapshot": snap, "snapshot_seq": int(snap_seq)}
            if last is not None:
                heads[doc]["last"] = last
        return heads

    def members_lengths(self) -> dict[str, int]:
        """Each building's stored members-log length (see
        ``app._catch_up_members_forever``)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(buildings.c.id, buildings.c.members_length))
            return {building_id: int(length) for building_id, length in rows}

    def members_length(self, building_id: str) -> int | None:
        """One building's stored members-log length (None: no such building)."""
        with self.engine.connect() as conn:
            length = conn.execute(
                select(buildings.c.members_length).where(buildings.c.id == building_id)
            ).scalar()
        return None if length is None else int(length)

    def ping(self) -> None:
        """One small read of a real table (``/healthz``): raises when the
        database cannot be reached or read."""
        with self.engine.connect() as conn:
            conn.execute(select(func.count()).select_from(buildings).limit(1)).one()

    def totals(self) -> tuple[int, int]:
        """(buildings, bytes stored) for the metrics gauges."""
        with self.engine.connect() as conn:
            n, size = conn.execute(
                select(func.count(), func.coalesce(func.sum(buildings.c.bytes_stored), 0))
            ).one()
        return int(n), int(size)

    def counts(self, building_id: str) -> dict[str, int]:
        """Stored envelopes and bytes of one building (tests, admin)."""
        with self.engine.connect() as conn:
            n, size = conn.execute(
                select(func.count(), func.coalesce(func.sum(envelopes.c.size), 0)).where(
                    envelopes.c.building_id == building_id
                )
            ).one()
        return {"envelopes": int(n), "bytes": int(size)}

    # -- monthly usage ---------------------------------------------------------

    def add_usage(self, pending: dict[tuple[str, str], int]) -> dict[tuple[str, str], int]:
        """Add this process's request counts; return the new totals. Runs on
        the writer thread every few seconds with a row per active building:
        prepared statements, a hundred rows each."""
        if not pending:
            return {}
        mark = "%s" if self.postgresql else "?"
        totals: dict[tuple[str, str], int] = {}
        rows = sorted(pending.items())
        with writing(self.engine) as conn:
            cursor = conn.connection.cursor()
            try:
                for start in range(0, len(rows), _ROWS_PER_STATEMENT):
                    chunk = rows[start : start + _ROWS_PER_STATEMENT]
                    values = ", ".join([f"({mark}, {mark}, {mark})"] * len(chunk))
                    cursor.execute(
                        _ADD_USAGE.format(values=values),
                        [value for (b, month), n in chunk for value in (b, month, n)],
                    )
                    for month in sorted({month for (_, month), _ in chunk}):
                        ids = [b for (b, m), _ in chunk if m == month]
                        cursor.execute(
                            "SELECT building_id, requests FROM usage WHERE month = "
                            f"{mark} AND building_id IN ({', '.join([mark] * len(ids))})",
                            [month, *ids],
                        )
                        for building_id, n in cursor.fetchall():
                            totals[(building_id, month)] = int(n)
            finally:
                cursor.close()
        return totals

    def usage_of(self, month: str) -> Iterator[tuple[str, int]]:
        with self.engine.connect() as conn:
            yield from conn.execute(
                select(usage.c.building_id, usage.c.requests).where(usage.c.month == month)
            ).all()
