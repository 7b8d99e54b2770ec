"""The SQLite relay's writer (``sync_server.writer.StagingWriter``): a batch
of updates is begun and staged on the event loop and committed on the
writer thread; a call, a batch with a snapshot, a batch meeting another
process's write lock, and a batch whose statements or commit fail run
whole on the writer thread instead. Either way the outcomes are what the
writer thread alone decides (``Writer``), nothing is lost or stored twice,
and jobs keep their order.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import tempfile
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.envelope import Kind
from shared.ids import new_ulid
from sync_server.database import file_lock
from sync_server.storage import AppendItem, Staged, Storage, Stored
from sync_server.writer import Staging, StagingWriter, Writer
from tests.relay.test_group_commit import (
    BUILDINGS,
    DEVICES,
    Op,
    comparable,
    contents,
    fresh_storage,
    items_of,
    ops,
)


def no_quota(*_: object) -> None:
    return None


class Spy:
    """The storage's staging steps, counted, with failures on demand."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.staged: list[list[AppendItem]] = []
        self.fail_stage = 0  # how many next stage() calls raise
        self.fail_commit = 0  # how many next commits fail (rolled back)
        self.lock_waits: list[str] = []  # the threads that waited for the write lock

    def take_lock(self, wait: bool) -> bool:
        if wait:
            self.lock_waits.append(threading.current_thread().name)
        return self.storage.take_lock(wait)

    def stage(self, items: list[AppendItem]) -> Staged:
        if self.fail_stage:
            self.fail_stage -= 1
            raise RuntimeError("statement failed")
        self.staged.append(items)
        return self.storage.stage(items, no_quota)

    def commit(self, staged: Staged) -> None:
        if self.fail_commit:
            self.fail_commit -= 1
            self.storage.abandon_staged()  # what commit_staged does when the disk refuses
            raise OSError(28, "No space left on device")
        self.storage.commit_staged(staged)

    def staging(self) -> Staging:
        storage = self.storage
        return Staging(self.take_lock, storage.begin_staged, storage.release_lock, self.stage,
                       self.commit, storage.abandon_staged)  # fmt: skip


async def started(writer: Writer, storage: Storage) -> None:
    writer.store = lambda items: storage.append_batch(items, no_quota)
    await writer.call(storage.open_writer)


async def stopped(writer: Writer, storage: Storage) -> None:
    await writer.call(storage.close_writer)
    await writer.close()
    storage.engine.dispose()


async def staging_writer(tmp_path: Path) -> tuple[StagingWriter, Storage, Spy]:
    storage = fresh_storage(tmp_path, "staged.sqlite3")
    writer = StagingWriter(lambda stored: None)
    await started(writer, storage)
    spy = Spy(storage)
    writer.staging = spy.staging()
    return writer, storage, spy


@pytest_asyncio.fixture
async def staged(tmp_path: Path) -> AsyncIterator[tuple[StagingWriter, Storage, Spy]]:
    """A staging writer on a fresh database, stopped afterwards (not stuck)."""
    writer, storage, spy = await staging_writer(tmp_path)
    try:
        yield writer, storage, spy
    finally:
        await asyncio.wait_for(stopped(writer, storage), 10)


def update(counter: int, doc: str = "registry", device: int = 0) -> AppendItem:
    return AppendItem(BUILDINGS[0], doc, new_ulid(), DEVICES[device], counter, Kind.UPDATE,
                      b"u" * 80, 1, 1_000_000.0)  # fmt: skip


# A plan with duplicates, gaps, reused counters, snapshots, an unknown
# building and a stale members log; no quota, so that where batches begin
# and end cannot change an outcome.
PLAN = [
    Op(building=i % 3 if i % 7 else 2, doc=i % 2, device=(i // 2) % 2,
       counter=[0, 0, 0, 1, 0, -1, 0][i % 7], resend=i - 3 if i % 5 == 4 else None,
       snapshot=i % 11 == 10, base=None, replaces=1, size=60 + i,
       stale_members=i % 13 == 12)
    for i in range(60)
]  # fmt: skip


@pytest.mark.asyncio
async def test_staged_batches_decide_what_the_writer_thread_decides(tmp_path: Path) -> None:
    items = items_of(PLAN)
    staged_writer, staged_storage, spy = await staging_writer(tmp_path)
    thread_storage = fresh_storage(tmp_path, "thread.sqlite3")
    thread_writer = Writer(lambda stored: None)
    await started(thread_writer, thread_storage)
    try:
        staged, alone = [], []
        for start in range(0, len(items), 6):  # batches of up to six, some with a snapshot
            group = items[start : start + 6]
            staged += await asyncio.gather(*(staged_writer.submit(i) for i in group))
            alone += await asyncio.gather(*(thread_writer.submit(i) for i in group))
        assert [comparable(o) for o in staged] == [comparable(o) for o in alone]
        assert contents(staged_storage) == contents(thread_storage)
        assert spy.staged, "no batch was staged on the event loop"
        assert all(i.kind is Kind.UPDATE for batch in spy.staged for i in batch)
        assert staged_writer.batched == len(items)
    finally:
        await stopped(staged_writer, staged_storage)
        await stopped(thread_writer, thread_storage)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=ops, group=st.integers(1, 12))
def test_any_plan_in_any_groups_is_decided_as_the_writer_thread_decides(
    plan: list[Op], group: int
) -> None:
    """Random plans (those of the group-commit property), sent ``group``
    appends at a time to a staging writer and to a thread writer."""

    async def both(folder: Path) -> None:
        items = items_of(plan)
        staged_writer, staged_storage, _ = await staging_writer(folder)
        thread_storage = fresh_storage(folder, "thread.sqlite3")
        thread_writer = Writer(lambda stored: None)
        await started(thread_writer, thread_storage)
        try:
            for start in range(0, len(items), group):
                some = items[start : start + group]
                staged = await asyncio.gather(*(staged_writer.submit(i) for i in some))
                alone = await asyncio.gather(*(thread_writer.submit(i) for i in some))
                assert [comparable(o) for o in staged] == [comparable(o) for o in alone]
            assert contents(staged_storage) == contents(thread_storage)
        finally:
            await stopped(staged_writer, staged_storage)
            await stopped(thread_writer, thread_storage)

    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(both(Path(folder)))


@pytest.mark.asyncio
async def test_a_batch_meeting_another_process_lock_waits_for_it_off_the_loop(
    tmp_path: Path, staged: tuple[StagingWriter, Storage, Spy]
) -> None:
    writer, storage, spy = staged
    lock = file_lock(storage.engine)
    assert lock is not None and lock.path == tmp_path / "staged.sqlite3-writer.lock"
    # another open file description: held as another process would hold it
    other = os.open(lock.path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(other, fcntl.LOCK_EX)
        pending = asyncio.ensure_future(writer.submit(update(1)))
        await asyncio.sleep(0.3)
        assert not pending.done()
        assert spy.lock_waits == ["relay-writer"]  # the writer thread waits, not the loop
        late = asyncio.ensure_future(writer.submit(update(2)))  # arrives while it waits
        await asyncio.sleep(0.1)
        assert spy.staged == []
        fcntl.flock(other, fcntl.LOCK_UN)
        assert await asyncio.wait_for(pending, 10) == Stored(1, duplicate=False)
        assert await asyncio.wait_for(late, 10) == Stored(2, duplicate=False)
        # once the lock was free, the loop staged both, in one batch
        assert [[item.counter for item in batch] for batch in spy.staged] == [[1, 2]]
        assert writer.staged == writer.batches == 1
    finally:
        os.close(other)


@pytest.mark.asyncio
async def test_failed_statements_or_commit_leave_nothing_and_the_batch_is_stored_once(
    staged: tuple[StagingWriter, Storage, Spy],
) -> None:
    writer, storage, spy = staged
    spy.fail_stage = 1
    assert await writer.submit(update(1)) == Stored(1, duplicate=False)
    spy.fail_commit = 1
    outcomes = await asyncio.gather(writer.submit(update(2)), writer.submit(update(3)))
    assert outcomes == [Stored(2, duplicate=False), Stored(3, duplicate=False)]
    assert spy.fail_stage == spy.fail_commit == 0
    stored = contents(storage)
    assert [row[2] for row in stored["envelopes"]] == [1, 2, 3]  # seq: each stored once
    assert stored["counters"][0][-1] == 3
    # the lock and the connection are free: staging goes on
    before = len(spy.staged)
    assert await writer.submit(update(4)) == Stored(4, duplicate=False)
    assert len(spy.staged) == before + 1


@pytest.mark.asyncio
async def test_calls_and_appends_keep_their_order_and_close_finishes_the_queue(
    tmp_path: Path,
) -> None:
    writer, storage, spy = await staging_writer(tmp_path)

    def count() -> int:
        return len(contents(storage)["envelopes"])

    first = asyncio.ensure_future(writer.submit(update(1)))
    await asyncio.sleep(0)  # queued
    seen = writer.call(count)
    rest = [asyncio.ensure_future(writer.submit(update(n))) for n in range(2, 40)]
    snapshot = AppendItem(BUILDINGS[0], "registry", new_ulid(), DEVICES[1], 1, Kind.SNAPSHOT,
                          b"s" * 80, 1, 1_000_000.0, replaces=39, base=None)  # fmt: skip
    last = asyncio.ensure_future(writer.submit(snapshot))
    await asyncio.sleep(0)  # the requests are queued
    await writer.call(storage.close_writer)
    await writer.close()
    try:
        assert all(f.done() for f in (first, seen, *rest, last))
        assert await seen == 1  # after the first append, before the others
        assert [await f for f in rest] == [Stored(n, duplicate=False) for n in range(2, 40)]
        assert (await last).seq == 40
        assert all(i.kind is Kind.UPDATE for batch in spy.staged for i in batch)
    finally:
        storage.engine.dispose()


@pytest.mark.asyncio
async def test_a_lock_that_cannot_be_taken_fails_the_batch_and_the_writer_goes_on(
    tmp_path: Path, staged: tuple[StagingWriter, Storage, Spy]
) -> None:
    writer, storage, spy = staged
    lock = file_lock(storage.engine)
    assert lock is not None and lock.path == tmp_path / "staged.sqlite3-writer.lock"
    path, lock.path = lock.path, tmp_path / "gone" / "writer.lock"  # a folder removed
    lock._pid = 0  # opened anew at the next try
    try:
        with pytest.raises(FileNotFoundError):
            await asyncio.wait_for(writer.submit(update(1)), 10)
        assert contents(storage)["envelopes"] == []
        lock.path, lock._pid = path, 0
        assert await asyncio.wait_for(writer.submit(update(1)), 10) == Stored(1, duplicate=False)
        assert len(spy.staged) == 1
    finally:
        lock.path = path  # then the fixture stops the writer, within 10 s (not stuck)
