"""Worker threads fed by the event loop in batches (signatures, reads).

``loop.run_in_executor`` costs the event loop a concurrent future, a
wrapping asyncio future, a lock-protected work queue and one self-pipe
wake-up per call: at a thousand calls a second that is a noticeable part
of a relay request. A :class:`Lane` costs the loop one asyncio future and
one ``SimpleQueue.put`` per call; its threads take every call queued so
far, run them, and hand the results back with one wake-up per handful of
calls.

The calls run in the lane's threads. What they do in C with the GIL
released (Ed25519 verification in libsodium, SQLite's own work) runs in
parallel with the event loop; their Python parts still take turns with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

SETTLE_EVERY = 16  # results handed back to the loop at least every this many calls

_Job = tuple[asyncio.Future[Any], Callable[..., Any], tuple[Any, ...]]
_Done = tuple[asyncio.Future[Any], Any, BaseException | None]


def _settle(done: list[_Done]) -> None:
    """On the loop: resolve the futures of finished calls."""
    for future, result, error in done:
        if future.done():  # the caller was cancelled meanwhile
            continue
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)


class Lane:
    """``threads`` threads running calls submitted with :meth:`call`.

    ``setup`` runs in each thread before its first call, ``teardown`` after
    its last one (per-thread database connections). :meth:`close` lets the
    queued calls finish and joins the threads.
    """

    def __init__(
        self,
        name: str,
        threads: int = 1,
        setup: Callable[[], None] | None = None,
        teardown: Callable[[], None] | None = None,
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._setup, self._teardown = setup, teardown
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}_{i}", daemon=True)
            for i in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def threads(self) -> list[threading.Thread]:
        return list(self._threads)

    def call(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Run ``fn(*args)`` in a lane thread; await the returned future."""
        future: asyncio.Future[T] = self.loop.create_future()
        self._jobs.put((future, fn, args))
        return future

    async def close(self) -> None:
        for _ in self._threads:
            self._jobs.put(None)
        await self.loop.run_in_executor(None, self._join)

    def _join(self) -> None:
        for thread in self._threads:
            thread.join()

    def _work(self) -> None:
        if self._setup is not None:
            self._setup()
        try:
            self._serve()
        finally:
            if self._teardown is not None:
                self._teardown()

    def _serve(self) -> None:
        get, get_nowait = self._jobs.get, self._jobs.get_nowait
        while True:
            jobs = [get()]
            while True:
                try:
                    jobs.append(get_nowait())
                except queue.Empty:
                    break
            stop = False
            done: list[_Done] = []
            for job in jobs:
                if job is None:
                    if stop:  # another thread's stop: leave it to that thread
                        self._jobs.put(None)
                    stop = True
                    continue
                future, fn, args = job
                try:
                    done.append((future, fn(*args), None))
                except BaseException as exc:
                    done.append((future, None, exc))
                if len(done) >= SETTLE_EVERY:
                    self._hand_back(done)
                    done = []
            self._hand_back(done)
            if stop:
                return

    def _hand_back(self, done: list[_Done]) -> None:
        if done:
            # a closed loop has nobody waiting any more
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(_settle, done)
