"""The writer thread: every database change of the process, in order.

Members-log changes, registrations and request counts (:meth:`Writer.call`)
run one at a time; appends (:meth:`Writer.submit`) that arrive together are
stored in one transaction (group commit, ``RelayCore.append``) and
answered after the commit, so an acknowledged envelope survives a crash
(docs/sync-protocol.md §7.1). Under load this turns one fsync per envelope
into one per batch; alone, an append is stored at once.

The thread takes its work from a queue itself: when a batch is committed
it starts on the appends queued meanwhile at once, without waiting for the
event loop (which, serving hundreds of connections, may take a while to
come round). Results go back to the loop with one wake-up per batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from shared.envelope import Kind

from .errors import disk_full
from .storage import AppendItem, Outcome, Staged, Stored

log = logging.getLogger("koprogo.relay")

T = TypeVar("T")

MAX_BATCH = 256
MAX_BATCH_BYTES = 16 << 20

OnStored = Callable[[list[tuple[AppendItem, Stored]]], None]
Store = Callable[[list[AppendItem]], list[Outcome]]

_Append = tuple[asyncio.Future[Outcome], AppendItem]
_Call = tuple[asyncio.Future[Any], Callable[..., Any], tuple[Any, ...]]


class Writer:
    """One thread; :meth:`call` and :meth:`submit` from the event loop.
    ``store`` (``RelayCore.append``) must be set before the first append."""

    def __init__(self, on_stored: OnStored, name: str = "relay-writer") -> None:
        self.loop = asyncio.get_running_loop()
        self.on_stored = on_stored
        self.store: Store | None = None
        self.batches = 0  # group commits made
        self.batched = 0  # appends in them
        self.seconds = 0.0  # time spent storing them, wall clock
        self.staged = 0  # of them, begun and staged on the event loop (StagingWriter)
        self._jobs: queue.SimpleQueue[_Append | _Call | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    @property
    def threads(self) -> list[threading.Thread]:
        return [self._thread]

    # -- on the event loop ----------------------------------------------------

    def call(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Run ``fn(*args)`` on the writer thread, after what is queued."""
        future: asyncio.Future[T] = self.loop.create_future()
        self._jobs.put((future, fn, args))
        return future

    async def submit(self, item: AppendItem) -> Outcome:
        """Store ``item`` in the next group commit; its outcome once committed."""
        future: asyncio.Future[Outcome] = self.loop.create_future()
        self._jobs.put((future, item))
        return await future

    async def close(self) -> None:
        """Finish what is queued, then stop the thread."""
        self._jobs.put(None)
        await self.loop.run_in_executor(None, self._thread.join)

    def _settle(
        self,
        futures: list[asyncio.Future[Any]],
        outcomes: list[Any],
        items: list[AppendItem] | None,
    ) -> None:
        for future, outcome in zip(futures, outcomes, strict=True):
            if future.done():  # the request was cancelled meanwhile
                continue
            if isinstance(outcome, _Failed):
                future.set_exception(outcome.error)
            else:
                future.set_result(outcome)
        if items:
            stored = [
                (item, outcome)
                for item, outcome in zip(items, outcomes, strict=True)
                if isinstance(outcome, Stored) and not outcome.duplicate
            ]
            if stored:
                self.on_stored(stored)

    # -- on the writer thread ---------------------------------------------------

    def _work(self) -> None:
        pending: deque[_Append | _Call | None] = deque()
        while True:
            if not pending:
                pending.append(self._jobs.get())
            while True:
                try:
                    pending.append(self._jobs.get_nowait())
                except queue.Empty:
                    break
            job = pending.popleft()
            if job is None:
                if pending:  # stop after what was queued before the stop
                    pending.append(None)
                    continue
                return
            if len(job) == 3:
                self._call(job)  # type: ignore[arg-type]
                continue
            batch = [job]
            size = len(job[1].data)
            while (
                pending
                and pending[0] is not None
                and len(pending[0]) == 2
                and len(batch) < MAX_BATCH
                and size < MAX_BATCH_BYTES
            ):
                batch.append(pending.popleft())  # type: ignore[arg-type]
                size += len(batch[-1][1].data)
            self._commit(batch)

    def _call(self, job: _Call) -> None:
        future, fn, args = job
        try:
            result: Any = fn(*args)
        except BaseException as exc:
            result = _Failed(exc)
        self._hand_back([future], [result], None)

    def _commit(self, batch: list[_Append]) -> None:
        futures = [future for future, _ in batch]
        items = [item for _, item in batch]
        started = time.perf_counter()
        try:
            assert self.store is not None, "the writer has no store yet"
            outcomes: list[Any] = self.store(items)
        except BaseException as exc:  # the database failed: every waiter hears it
            outcomes = [_Failed(exc)] * len(batch)
        finally:
            self.batches += 1
            self.batched += len(batch)
            self.seconds += time.perf_counter() - started
        self._hand_back(futures, outcomes, items)

    def _hand_back(
        self,
        futures: list[asyncio.Future[Any]],
        outcomes: list[Any],
        items: list[AppendItem] | None,
    ) -> None:
        # a closed loop has nobody waiting any more
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self._settle, futures, outcomes, items)


class Staging(NamedTuple):
    """How :class:`StagingWriter` stores a batch in two steps (SQLite)."""

    take_lock: Callable[[bool], bool]  # Storage.take_lock(wait)
    begin: Callable[[], None]  # Storage.begin_staged, the lock taken
    release_lock: Callable[[], None]  # Storage.release_lock
    stage: Callable[[list[AppendItem]], Staged]  # RelayCore.stage: the statements
    commit: Callable[[Staged], None]  # Storage.commit_staged
    abandon: Callable[[], None]  # Storage.abandon_staged


class StagingWriter(Writer):
    """The writer of a SQLite relay: the same jobs, in the same order, one at
    a time, with the statements of a batch of updates run on the event loop
    and only its commit, the wait for the disk, on the writer thread.

    Run on the writer thread, every step of a statement lets the event loop
    take the GIL and the writer then waits for it back; under load that
    hand-over cost the writer thread about twice the CPU of the statements
    themselves (docs/performance.md). On the loop the statements run straight
    through (a batch of updates is a few indexed statements, well under a
    millisecond), and the loop goes on serving while the commit waits for
    the disk. The queue is kept on the loop, which starts the next job when
    the last is done, taking every append that arrived meanwhile.

    When another process holds the write lock, the writer thread waits for
    it and the loop then stages the batch, with what arrived meanwhile.
    Whole on the writer thread, as :class:`Writer` runs them: calls, a batch
    holding a snapshot (its deletions may be long), and a batch whose
    statements or commit failed (it is then stored again whole, then item
    by item, by ``RelayCore.append``)."""

    def __init__(self, on_stored: OnStored, name: str = "relay-writer") -> None:
        self.staging: Staging | None = None  # must be set before the first append
        self._waiting: deque[_Append | _Call] = deque()
        self._busy = False  # a job is on its way; the next waits
        self._scheduled = False
        self._drained: asyncio.Future[None] | None = None
        super().__init__(on_stored, name)

    # -- on the event loop ----------------------------------------------------

    def call(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        future: asyncio.Future[T] = self.loop.create_future()
        self._waiting.append((future, fn, args))
        self._kick()
        return future

    async def submit(self, item: AppendItem) -> Outcome:
        future: asyncio.Future[Outcome] = self.loop.create_future()
        self._waiting.append((future, item))
        self._kick()
        return await future

    async def close(self) -> None:
        if self._busy or self._waiting:
            self._drained = self.loop.create_future()
            await self._drained
        await super().close()

    def _kick(self) -> None:
        if not self._busy and not self._scheduled:
            self._scheduled = True
            self.loop.call_soon(self._next)  # after this turn's requests: a fuller batch

    def _next(self) -> None:
        self._scheduled = False
        if self._busy:
            return
        if not self._waiting:
            if self._drained is not None and not self._drained.done():
                self._drained.set_result(None)
            return
        self._busy = True
        job = self._waiting.popleft()
        if len(job) == 3:
            self._jobs.put(functools.partial(self._call, job))
            return
        batch = self._more([job])
        staging = self.staging
        if staging is None or any(item.kind is Kind.SNAPSHOT for _, item in batch):
            self._jobs.put(functools.partial(self._commit, batch))
            return
        try:
            locked = staging.take_lock(False)
        except Exception:  # the lock file cannot be opened: the thread meets it too, and says so
            self._jobs.put(functools.partial(self._commit, batch))
            return
        if locked:
            self._stage(batch)
        else:  # another process is writing: the thread waits for it, the loop goes on
            self._jobs.put(functools.partial(self._wait_for_lock, batch))

    def _more(self, batch: list[_Append]) -> list[_Append]:
        """``batch`` and the appends waiting after it, up to a batch's size;
        not past a call or a snapshot."""
        size = sum(len(item.data) for _, item in batch)
        waiting = self._waiting
        while (
            waiting
            and len(waiting[0]) == 2
            and waiting[0][1].kind is not Kind.SNAPSHOT  # type: ignore[union-attr]
            and len(batch) < MAX_BATCH
            and size < MAX_BATCH_BYTES
        ):
            batch.append(waiting.popleft())  # type: ignore[arg-type]
            size += len(batch[-1][1].data)
        return batch

    def _locked(self, batch: list[_Append]) -> None:
        """The writer thread took the lock for ``batch``: stage it here,
        with the appends that arrived while it waited."""
        self._stage(self._more(batch))

    def _stage(self, batch: list[_Append]) -> None:
        """Begin and stage ``batch`` here (the lock taken), then hand its
        commit to the writer thread; if it cannot be begun or staged, the
        thread stores it whole."""
        staging = self.staging
        assert staging is not None
        started = time.perf_counter()
        try:
            staging.begin()
        except Exception as exc:
            _log_failure(
                exc, "could not begin a batch on the event loop; the writer thread takes it"
            )
            self._jobs.put(functools.partial(self._commit, batch))
            return
        try:
            staged = staging.stage([item for _, item in batch])
        except Exception as exc:
            _log_failure(
                exc,
                f"a batch of {len(batch)} appends failed on the event loop; the writer thread "
                "stores it",
                logging.WARNING,
            )
            with contextlib.suppress(Exception):
                staging.abandon()
            self._jobs.put(functools.partial(self._commit, batch))
            return
        self._jobs.put(functools.partial(self._commit_staged, batch, staged, started))

    def _settle(
        self,
        futures: list[asyncio.Future[Any]],
        outcomes: list[Any],
        items: list[AppendItem] | None,
    ) -> None:
        self._busy = False
        self._kick()
        super()._settle(futures, outcomes, items)

    # -- on the writer thread ---------------------------------------------------

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            job()  # type: ignore[operator]

    def _wait_for_lock(self, batch: list[_Append]) -> None:
        assert self.staging is not None
        try:
            self.staging.take_lock(True)
        except Exception:
            self._commit(batch)  # meets the same trouble, and tells the waiters
            return
        try:
            self.loop.call_soon_threadsafe(self._locked, batch)
        except RuntimeError:  # the loop is closed: nobody waits any more
            self.staging.release_lock()

    def _commit_staged(self, batch: list[_Append], staged: Staged, started: float) -> None:
        assert self.staging is not None
        try:
            self.staging.commit(staged)
        except Exception as exc:
            _log_failure(exc, f"commit of a batch of {len(batch)} appends failed; storing it again")
            self._commit(batch)
            return
        self.batches += 1
        self.batched += len(batch)
        self.staged += 1
        self.seconds += time.perf_counter() - started
        self._hand_back([future for future, _ in batch], staged.outcomes, [i for _, i in batch])


def _log_failure(exc: BaseException, message: str, level: int = logging.ERROR) -> None:
    """With its traceback, unless the disk is full: that is said in one line
    where the request is answered (found by hand: a traceback per batch)."""
    if disk_full(exc):
        log.warning("%s: the disk is full", message)
    else:
        log.log(level, message, exc_info=exc)


class _Failed:
    """An exception to raise in the waiting request."""

    def __init__(self, error: BaseException) -> None:
        self.error = error
