"""Group commit (docs/sync-protocol.md §7.1): a batch of appends stored in
one transaction decides exactly what storing them one by one decides.

With SQLite the storage reads and writes a batch's updates together, in
memory between one read and three writes (``Storage._append_many``); an
envelope must still see those before it in the batch: its own earlier
copy (duplicate), its device's previous counter, its document's head, its
building's bytes. Random batches are stored once as one batch and once
envelope by envelope through the per-envelope path (PostgreSQL's, and
every append's before), in the batch's order, into two fresh databases;
the outcomes and the stored rows must be the same.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from shared.envelope import Kind
from shared.ids import new_ulid
from sync_server import database, schema
from sync_server.errors import RelayError
from sync_server.storage import AppendItem, MembersChanged, Storage, Stored

BUILDINGS = [new_ulid(), new_ulid()]
UNKNOWN_BUILDING = new_ulid()
DEVICES = [new_ulid(), new_ulid()]
DOCS = ["registry", "ledger/2026"]
QUOTA = 2_000  # bytes per building: a few envelopes, so quotas are hit


@dataclass
class Op:
    building: int  # 2: a building the relay does not know
    doc: int
    device: int
    counter: int  # offset from the next counter: 0 next, 1 a gap, -1 reused
    resend: int | None  # re-send the op at this index (same envelope id)
    snapshot: bool
    base: int | None  # snapshots: the envelope id of this earlier op, None for "-"
    replaces: int
    size: int
    stale_members: bool


ops = st.lists(
    st.builds(
        Op,
        building=st.sampled_from([0, 0, 0, 1, 1, 2]),
        doc=st.integers(0, 1),
        device=st.integers(0, 1),
        counter=st.sampled_from([0, 0, 0, 0, 1, -1]),
        resend=st.one_of(st.none(), st.none(), st.integers(0, 30)),
        snapshot=st.sampled_from([False] * 7 + [True]),
        base=st.one_of(st.none(), st.integers(0, 30)),
        replaces=st.integers(0, 4),
        size=st.integers(50, 700),
        stale_members=st.sampled_from([False] * 15 + [True]),
    ),
    min_size=1,
    max_size=60,
)


def items_of(plan: list[Op]) -> list[AppendItem]:
    items: list[AppendItem] = []
    counters: dict[tuple[int, int, int], int] = {}
    for op in plan:
        if op.resend is not None and op.resend < len(items):
            items.append(items[op.resend])
            continue
        b = [*BUILDINGS, UNKNOWN_BUILDING][op.building]
        key = (op.building, op.doc, op.device)
        counter = max(1, counters.get(key, 0) + 1 + op.counter)
        if op.counter == 0:  # a gap or a reused counter is refused: the next one is the same
            counters[key] = counter
        base = items[op.base].envelope_id if op.base is not None and op.base < len(items) else None
        items.append(
            AppendItem(
                b,
                DOCS[op.doc],
                new_ulid(),
                DEVICES[op.device],
                counter,
                Kind.SNAPSHOT if op.snapshot else Kind.UPDATE,
                bytes([op.size % 251]) * op.size,
                2 if op.stale_members else 1,
                1_000_000.0,
                op.replaces if op.snapshot else 0,
                base if op.snapshot else None,
            )
        )
    return items


def fresh_storage(folder: Path, name: str) -> Storage:
    engine = database.make_engine(f"sqlite:///{folder / name}")
    schema.metadata.create_all(engine)
    with engine.begin() as conn:
        for building_id in BUILDINGS:
            conn.execute(
                insert(schema.buildings).values(
                    id=building_id, created_at=0, members_length=1, epoch=1, bytes_stored=0
                )
            )
    return Storage(engine)


def admit(item: AppendItem, bytes_stored: int, delta: int) -> None:
    if delta > 0 and bytes_stored + delta > QUOTA:
        raise RelayError(507, "quota-exceeded", "full")


def comparable(outcome: object) -> object:
    if isinstance(outcome, RelayError):
        return ("refused", outcome.status, outcome.code, outcome.extra)
    if isinstance(outcome, MembersChanged):
        return "members-changed"
    return outcome


def contents(storage: Storage) -> dict[str, list[tuple[object, ...]]]:
    with storage.engine.connect() as conn:
        return {
            table.name: sorted(tuple(row) for row in conn.execute(select(table)))
            for table in (schema.envelopes, schema.documents, schema.counters, schema.buildings)
        }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=ops)
def test_a_batch_decides_what_one_by_one_decides(plan: list[Op]) -> None:
    items = items_of(plan)
    # the batch takes its items in (building, document) order, keeping arrival order
    order = sorted(range(len(items)), key=lambda i: (items[i].building_id, items[i].doc_id))
    with tempfile.TemporaryDirectory() as folder:
        together = fresh_storage(Path(folder), "batch.sqlite3")
        alone = fresh_storage(Path(folder), "alone.sqlite3")
        alone.bulk = False  # envelope by envelope: _append_one
        try:
            batched = [comparable(o) for o in together.append_batch(items, admit)]
            single: list[object] = [None] * len(items)
            for i in order:
                single[i] = comparable(alone.append_batch([items[i]], admit)[0])
            assert batched == single
            assert contents(together) == contents(alone)
        finally:
            together.engine.dispose()
            alone.engine.dispose()


def test_request_counts_add_up_across_flushes_and_months(database_url: str) -> None:
    """``Storage.add_usage`` (the writer's periodic flush, many rows per
    statement): counts add to what is stored, totals come back per
    building and month, over more buildings than one statement takes."""
    engine = database.make_engine(database_url)
    try:
        storage = Storage(engine)
        ids = sorted(new_ulid() for _ in range(230))
        first = {(b, "2026-11"): i + 1 for i, b in enumerate(ids)}
        first[(ids[0], "2026-12")] = 7
        assert storage.add_usage(first) == first
        second = {(b, "2026-11"): 10 for b in ids[:150]}
        totals = storage.add_usage(second)
        assert totals == {key: first[key] + 10 for key in second}
        assert dict(((b, "2026-11"), n) for b, n in storage.usage_of("2026-11")) == {
            (b, "2026-11"): i + 1 + (10 if i < 150 else 0) for i, b in enumerate(ids)
        }
        assert storage.add_usage({}) == {}
    finally:
        engine.dispose()


def test_a_failed_batch_leaves_nothing_and_the_writer_connection_goes_on(tmp_path: Path) -> None:
    """The writer thread's own SQLite connection (``open_writer``): a batch
    that fails midway is rolled back whole, and the next batch commits."""
    storage = fresh_storage(tmp_path, "writer.sqlite3")
    storage.open_writer()
    try:
        plan = [Op(0, 0, 0, 0, None, False, None, 0, 100, False) for _ in range(3)]
        items = items_of(plan)
        real = storage._insert_many
        calls = []

        def failing(cur, sql, width, rows):  # type: ignore[no-untyped-def]
            calls.append(sql)
            if len(calls) == 2:  # after the envelopes were inserted
                raise RuntimeError("disk on fire")
            real(cur, sql, width, rows)

        storage._insert_many = failing  # type: ignore[method-assign]
        try:
            storage.append_batch(items, admit)
        except RuntimeError:
            pass
        else:
            raise AssertionError("the batch should have failed")
        storage._insert_many = real  # type: ignore[method-assign]
        assert all(not rows for name, rows in contents(storage).items() if name != "buildings")
        again = items_of(plan)  # new envelopes with the same counters: nothing was used up
        outcomes = storage.append_batch(again, admit)
        assert outcomes == [Stored(seq, duplicate=False) for seq in (1, 2, 3)]
        assert len(contents(storage)["envelopes"]) == 3
    finally:
        storage.close_writer()
        storage.engine.dispose()


def test_a_workers_batch_announces_every_new_head_once_committed(tmp_path: Path) -> None:
    """Under ``serve --workers`` (SQLite) a batch's new heads go to the other
    workers after its commit, in announcements of at most 100 events."""
    storage = fresh_storage(tmp_path, "announce.sqlite3")
    sent: list[str] = []
    storage.announce, storage.origin = sent.append, "me"
    try:
        items = [
            AppendItem(BUILDINGS[0], f"optins/{i:03d}/p", new_ulid(), DEVICES[0], 1, Kind.UPDATE,
                       b"x" * 60, 1, 1_000_000.0)
            for i in range(250)
        ]  # fmt: skip
        outcomes = storage.append_batch(items, lambda *_: None)  # no quota here
        assert all(isinstance(o, Stored) and o.seq == 1 for o in outcomes)
        messages = [json.loads(text) for text in sent]
        assert [len(m["events"]) for m in messages] == [100, 100, 50]
        assert {m["o"] for m in messages} == {"me"}
        heads = [(e["b"], e["doc"], e["seq"]) for m in messages for e in m["events"]]
        assert sorted(heads) == sorted((BUILDINGS[0], item.doc_id, 1) for item in items)
        sent.clear()  # a batch refused as a whole (unknown building) announces nothing
        stranger = AppendItem(UNKNOWN_BUILDING, "registry", new_ulid(), DEVICES[0], 1,
                              Kind.UPDATE, b"x", 1, 1_000_000.0)  # fmt: skip
        assert isinstance(storage.append_batch([stranger], admit)[0], RelayError)
        assert sent == []
    finally:
        storage.engine.dispose()
