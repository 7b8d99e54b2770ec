"""Group commit: appends that arrive together are stored in one transaction.

Each append waits on a future; one task per process takes every append
queued so far (up to a cap), stores them on the writer thread in one
transaction (``RelayCore.append``), then answers them all. An answer is
sent only after the commit, so an acknowledged envelope survives a crash
(docs/sync-protocol.md §7.1). Under load this turns one fsync per envelope
into one per batch; alone, an append is stored at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor

from .core import RelayCore
from .storage import AppendItem, Outcome, Stored

MAX_BATCH = 256
MAX_BATCH_BYTES = 16 << 20

OnStored = Callable[[list[tuple[AppendItem, Stored]]], Awaitable[None]]


class BatchWriter:
    def __init__(self, core: RelayCore, executor: Executor, on_stored: OnStored) -> None:
        self.core = core
        self.executor = executor
        self.on_stored = on_stored
        self._queue: asyncio.Queue[tuple[AppendItem, asyncio.Future[Outcome]]] = asyncio.Queue()

    async def submit(self, item: AppendItem) -> Outcome:
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        await self._queue.put((item, future))
        return await future

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            size = len(batch[0][0].data)
            while not self._queue.empty() and len(batch) < MAX_BATCH and size < MAX_BATCH_BYTES:
                batch.append(self._queue.get_nowait())
                size += len(batch[-1][0].data)
            items = [item for item, _ in batch]
            try:
                outcomes = await loop.run_in_executor(self.executor, self.core.append, items)
            except asyncio.CancelledError:
                for _, future in batch:
                    future.cancel()
                raise
            except Exception as exc:  # the database failed: every waiter hears it
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            stored = []
            for (item, future), outcome in zip(batch, outcomes, strict=True):
                if isinstance(outcome, Stored) and not outcome.duplicate:
                    stored.append((item, outcome))
                if not future.done():
                    future.set_result(outcome)
            if stored:
                await self.on_stored(stored)
