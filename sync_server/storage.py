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

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, and_, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from shared.envelope import Kind
from shared.members import SignedEntry

from .errors import RelayError, conflict
from .schema import buildings, counters, documents, envelopes, invites, members, usage

NOTIFY_CHANNEL = "koprogo_relay"


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
class Stored:
    seq: int
    duplicate: bool
    deleted: int = 0


Admit = Callable[[AppendItem, int, int], None]
"""``admit(item, bytes_stored, delta)`` raises RelayError to refuse (quota, rate)."""

Outcome = Stored | RelayError | MembersChanged


class Storage:
    def __init__(self, engine: Engine, origin: str = "") -> None:
        self.engine = engine
        self.origin = origin  # this process's id in notifications
        self.postgresql = engine.dialect.name == "postgresql"

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
        with self.engine.begin() as conn:
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
        with self.engine.begin() as conn:
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
        """
        order = sorted(range(len(items)), key=lambda i: (items[i].building_id, items[i].doc_id))
        outcomes: list[Outcome | None] = [None] * len(items)
        with self.engine.begin() as conn:
            for i in order:
                try:
                    outcomes[i] = self._append_one(conn, items[i], admit)
                except (RelayError, MembersChanged) as refusal:
                    outcomes[i] = refusal
        return [o for o in outcomes if o is not None]

    def _append_one(self, conn: Connection, item: AppendItem, admit: Admit) -> Stored:
        """§7.1 steps 3–6 (and §7.2 for snapshots), inside the batch's transaction."""
        length, bytes_stored = self._lock_building(conn, item.building_id)
        if length != item.members_length:
            raise MembersChanged
        b, d = item.building_id, item.doc_id
        known = conn.execute(
            select(envelopes.c.seq).where(
                envelopes.c.building_id == b, envelopes.c.envelope_id == item.envelope_id
            )
        ).first()
        if known is not None:
            return Stored(int(known[0]), duplicate=True)
        last_counter = conn.execute(
            select(counters.c.last_counter).where(
                counters.c.building_id == b,
                counters.c.doc_id == d,
                counters.c.device_id == item.device_id,
            )
        ).scalar()
        expected = (last_counter or 0) + 1
        if item.counter > expected:
            raise conflict(
                "counter-gap", f"counter {item.counter} skips {expected}", expected=expected
            )
        if item.counter < expected:
            raise conflict(
                "counter-reused", f"counter {item.counter} was already used", expected=expected
            )
        head = conn.execute(
            select(documents.c.last_seq, documents.c.snapshot_id, documents.c.snapshot_seq)
            .where(documents.c.building_id == b, documents.c.doc_id == d)
            .with_for_update()
        ).first()
        last_seq, snapshot_id = (int(head[0]), head[1]) if head is not None else (0, None)
        deleted_rows, deleted_bytes = 0, 0
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
            doomed = self._superseded(item, snapshot_id)
            deleted_rows, deleted_bytes = conn.execute(
                select(func.count(), func.coalesce(func.sum(envelopes.c.size), 0)).where(doomed)
            ).one()
        delta = len(item.data) - int(deleted_bytes)
        admit(item, bytes_stored, delta)
        seq = last_seq + 1
        if item.kind is Kind.SNAPSHOT and deleted_rows:
            conn.execute(delete(envelopes).where(self._superseded(item, snapshot_id)))
        conn.execute(
            insert(envelopes).values(
                building_id=b,
                doc_id=d,
                seq=seq,
                envelope_id=item.envelope_id,
                device_id=item.device_id,
                kind=int(item.kind),
                size=len(item.data),
                data=item.data,
            )
        )
        head_values: dict[str, object] = {"last_seq": seq}
        if item.kind is Kind.SNAPSHOT:
            head_values.update(snapshot_id=item.envelope_id, snapshot_seq=seq)
        if head is None:
            conn.execute(
                insert(documents).values(
                    building_id=b, doc_id=d, snapshot_id=None, snapshot_seq=0, **head_values
                )
            )
        else:
            conn.execute(
                update(documents)
                .where(documents.c.building_id == b, documents.c.doc_id == d)
                .values(**head_values)
            )
        if last_counter is None:
            conn.execute(
                insert(counters).values(
                    building_id=b, doc_id=d, device_id=item.device_id, last_counter=item.counter
                )
            )
        else:
            conn.execute(
                update(counters)
                .where(
                    counters.c.building_id == b,
                    counters.c.doc_id == d,
                    counters.c.device_id == item.device_id,
                )
                .values(last_counter=item.counter)
            )
        conn.execute(
            update(buildings)
            .where(buildings.c.id == b)
            .values(bytes_stored=buildings.c.bytes_stored + delta)
        )
        self._notify(conn, b, {"doc": d, "seq": seq})
        return Stored(seq, duplicate=False, deleted=int(deleted_rows))

    @staticmethod
    def _superseded(item: AppendItem, snapshot_id: str | None):  # type: ignore[no-untyped-def]
        where = envelopes.c.seq <= item.replaces
        if snapshot_id is not None:
            where = or_(where, envelopes.c.envelope_id == snapshot_id)
        return and_(
            envelopes.c.building_id == item.building_id, envelopes.c.doc_id == item.doc_id, where
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
        if self.postgresql:
            payload = json.dumps({"o": self.origin, "b": building_id, **event})
            conn.execute(select(func.pg_notify(NOTIFY_CHANNEL, payload)))

    # -- reads ---------------------------------------------------------------

    def pull(
        self, building_id: str, doc_id: str, after: int, limit: int, max_bytes: int
    ) -> tuple[list[tuple[int, bytes]], bool]:
        """Envelopes with seq > ``after`` in order: at most ``limit`` of them
        and ``max_bytes`` in all (at least one), and whether more follow (§7.3)."""
        where = and_(envelopes.c.building_id == building_id, envelopes.c.doc_id == doc_id)
        conn_options = {"isolation_level": "REPEATABLE READ"} if self.postgresql else {}
        with self.engine.connect().execution_options(**conn_options) as conn, conn.begin():
            sizes = conn.execute(
                select(envelopes.c.seq, envelopes.c.size)
                .where(where, envelopes.c.seq > after)
                .order_by(envelopes.c.seq)
                .limit(limit + 1)
            ).all()
            taken, total = 0, 0
            for _, size in sizes[:limit]:
                if taken and total + size > max_bytes:
                    break
                taken, total = taken + 1, total + size
            if not taken:
                return [], False
            rows = conn.execute(
                select(envelopes.c.seq, envelopes.c.data)
                .where(where, envelopes.c.seq > after, envelopes.c.seq <= sizes[taken - 1][0])
                .order_by(envelopes.c.seq)
            ).all()
        return [(int(s), bytes(data)) for s, data in rows], len(sizes) > taken

    def heads(self, building_id: str) -> dict[str, dict[str, object]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    documents.c.doc_id,
                    documents.c.last_seq,
                    documents.c.snapshot_id,
                    documents.c.snapshot_seq,
                ).where(documents.c.building_id == building_id)
            ).all()
        return {
            doc: {"seq": int(seq), "snapshot": snap, "snapshot_seq": int(snap_seq)}
            for doc, seq, snap, snap_seq in rows
        }

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
        """Add this process's request counts; return the new totals."""
        if not pending:
            return {}
        dialect = postgresql if self.postgresql else sqlite
        totals: dict[tuple[str, str], int] = {}
        with self.engine.begin() as conn:
            for (building_id, month), n in sorted(pending.items()):
                stmt = dialect.insert(usage).values(
                    building_id=building_id, month=month, requests=n
                )
                conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["building_id", "month"],
                        set_={"requests": usage.c.requests + stmt.excluded.requests},
                    )
                )
                totals[(building_id, month)] = int(
                    conn.execute(
                        select(usage.c.requests).where(
                            usage.c.building_id == building_id, usage.c.month == month
                        )
                    ).scalar_one()
                )
        return totals

    def usage_of(self, month: str) -> Iterator[tuple[str, int]]:
        with self.engine.connect() as conn:
            yield from conn.execute(
                select(usage.c.building_id, usage.c.requests).where(usage.c.month == month)
            ).all()
