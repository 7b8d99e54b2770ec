"""Several relay processes on one machine: ``koprogo-relay serve --workers N``.

One relay process uses about one core: its threads share one Python
interpreter lock (docs/performance.md, "Relay"). With ``--workers N`` the
command forks N worker processes that each run the whole relay on the same
address (``SO_REUSEPORT``: the kernel spreads new connections among them)
and share one database, whose locks keep sequences, counters and the
members log exact across them: SQLite's write lock (every write
transaction is ``BEGIN IMMEDIATE``, :func:`sync_server.database.writing`)
or PostgreSQL's row locks.

The parent process serves nothing. It

* restarts a worker that dies (and gives up, stopping the others, when
  one dies again and again within seconds of starting, e.g. the port is
  taken);
* stops every worker on SIGTERM or SIGINT and waits for them;
* with SQLite, passes each worker's announcements (a document's new head,
  a members-log change; :meth:`Storage._announce`) on to the other
  workers, which hand them to their WebSockets and refresh their members
  cache (:class:`sync_server.notify.WorkerListener`) — what
  ``LISTEN/NOTIFY`` does for processes sharing a PostgreSQL database.
  Announcements go through a pair of Unix datagram sockets per worker; one
  a worker does not read in time (its buffer full) is dropped and logged:
  a device then learns of the change at its next pull instead of at once.

A worker whose parent disappears (killed) stops itself within a second.
POSIX only (``os.fork``).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import selectors
import signal
import socket
import time
import traceback
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

log = logging.getLogger("koprogo.relay")

MAX_MESSAGE = 64 * 1024  # an announcement is ~100 bytes
QUICK_DEATH = 5.0  # seconds: a worker dying sooner after its start counts as failing to start
MAX_QUICK_DEATHS = 3  # in a row, for one worker: give up
SEND_TIMEOUT = 0.5  # seconds a worker waits to hand an announcement to its parent
STOP_TIMEOUT = 20.0  # seconds the workers get to finish before SIGKILL (systemd waits 30)


def supported() -> bool:
    """Whether ``--workers`` can run here (fork and SO_REUSEPORT)."""
    return hasattr(os, "fork") and hasattr(socket, "SO_REUSEPORT")


class Link:
    """A worker's sockets to its parent: :meth:`send` from any thread (the
    writer thread, after a commit), :meth:`received` on the event loop."""

    def __init__(self, up: socket.socket, down: socket.socket) -> None:
        self.up = up
        self.up.settimeout(SEND_TIMEOUT)  # a stuck parent must not stop the writer
        self.down = down
        self.parent = os.getppid()
        self._warned = False

    def send(self, payload: str) -> None:
        data = payload.encode()
        if len(data) > MAX_MESSAGE:
            log.warning("announcement of %d bytes not passed on", len(data))
            return
        try:
            self.up.send(data)
        except OSError as exc:  # a timeout included: dropped, devices learn at their next pull
            if not self._warned:
                self._warned = True
                log.warning("cannot hand an announcement to the relay's parent process: %s", exc)

    async def received(self) -> AsyncIterator[str]:
        """The other workers' announcements, as they come; checks every
        second that the parent is still there, and stops this worker (as
        SIGTERM does) when it is not."""
        self.down.setblocking(False)
        loop = asyncio.get_running_loop()
        while True:
            try:
                data = await asyncio.wait_for(loop.sock_recv(self.down, MAX_MESSAGE), 1.0)
            except TimeoutError:
                if os.getppid() != self.parent:
                    log.error("the relay's parent process is gone; this worker stops")
                    os.kill(os.getpid(), signal.SIGTERM)
                    return
                continue
            yield data.decode(errors="replace")


@dataclass
class _Worker:
    index: int
    pid: int
    started: float
    up: socket.socket | None  # the parent's ends (None without the bus)
    down: socket.socket | None
    quick_deaths: int = 0


def share_pages() -> None:
    """Before forking: collect, then freeze what the parent holds (modules,
    configuration). A forked worker shares the parent's memory pages until
    it writes to them, and the cyclic garbage collector writes to every
    object it visits; frozen objects are never visited, so their pages stay
    shared instead of being copied into every worker (two workers under
    load: PSS 147–149 MiB before, 118–122 after; docs/performance.md)."""
    gc.collect()
    gc.freeze()


RunWorker = Callable[[int, Link | None], int]
"""``run_worker(index, link)`` runs one worker (in the forked child) and
returns its exit status; ``link`` is None when no bus is needed."""


class Supervisor:
    """The parent process of ``serve --workers N``."""

    def __init__(self, count: int, run_worker: RunWorker, bus: bool) -> None:
        self.count = count
        self.run_worker = run_worker
        self.bus = bus
        self.workers: dict[int, _Worker] = {}  # by pid
        self.dropped = 0  # announcements a worker's full buffer refused
        self._selector = selectors.DefaultSelector()
        self._stopping = False
        self._failed = False
        self._wake: tuple[socket.socket, socket.socket] | None = None

    # -- starting workers ----------------------------------------------------------

    def _start(self, index: int, quick_deaths: int = 0) -> None:
        up_parent = up_child = down_parent = down_child = None
        if self.bus:
            up_parent, up_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
            down_parent, down_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        pid = os.fork()
        if pid == 0:  # the worker
            status = 1
            try:
                self._in_child(up_parent, down_parent)
                link = None if up_child is None else Link(up_child, down_child)  # type: ignore[arg-type]
                status = self.run_worker(index, link)
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(status)
        for sock in (up_child, down_child):
            if sock is not None:
                sock.close()
        worker = _Worker(index, pid, time.monotonic(), up_parent, down_parent, quick_deaths)
        self.workers[pid] = worker
        if up_parent is not None and down_parent is not None:
            up_parent.setblocking(False)
            down_parent.setblocking(False)
            self._selector.register(up_parent, selectors.EVENT_READ, worker)
        log.info("worker started", extra={"fields": {"worker": index, "pid": pid}})

    def _in_child(self, *mine: socket.socket | None) -> None:
        """In a freshly forked worker: default signal handling, and none of
        the parent's sockets (its own ends and the other workers')."""
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
            signal.signal(signum, signal.SIG_DFL)
        self._selector.close()
        for sock in self._wake or ():
            sock.close()
        for worker in self.workers.values():
            for sock in (worker.up, worker.down):
                if sock is not None:
                    sock.close()
        for sock in mine:
            if sock is not None:
                sock.close()

    # -- the parent's loop --------------------------------------------------------

    def run(self) -> int:
        """Start the workers and supervise them until a stop signal; the
        exit status: 0 after a stop, 1 when a worker kept failing."""
        wake_r, wake_w = self._wake = socket.socketpair()
        wake_r.setblocking(False)
        wake_w.setblocking(False)
        previous_fd = signal.set_wakeup_fd(wake_w.fileno())
        previous = {
            signum: signal.signal(signum, self._on_signal)
            for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD)
        }
        self._selector.register(wake_r, selectors.EVENT_READ, None)
        share_pages()
        try:
            for index in range(1, self.count + 1):
                self._start(index)
            while self.workers:
                for key, _ in self._selector.select(timeout=1.0):
                    if key.data is None:
                        with contextlib.suppress(BlockingIOError):
                            while wake_r.recv(512):
                                pass
                    else:
                        self._pass_on(key.data)
                self._reap()
                if self._stopping:
                    self._stop_all()
        finally:
            signal.set_wakeup_fd(previous_fd)
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            self._selector.close()
            wake_r.close()
            wake_w.close()
        return 1 if self._failed else 0

    def _on_signal(self, signum: int, _frame: object) -> None:
        if signum in (signal.SIGTERM, signal.SIGINT):
            self._stopping = True

    def _pass_on(self, sender: _Worker) -> None:
        """Every announcement waiting on ``sender``'s socket, to every other worker."""
        assert sender.up is not None
        while True:
            try:
                data = sender.up.recv(MAX_MESSAGE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            for worker in list(self.workers.values()):
                if worker is sender or worker.down is None:
                    continue
                try:
                    worker.down.send(data)
                except (BlockingIOError, InterruptedError):
                    self.dropped += 1
                    if self.dropped in (1, 10, 100) or self.dropped % 1000 == 0:
                        log.warning(
                            "a worker is not reading announcements; %d dropped",
                            self.dropped,
                            extra={"fields": {"worker": worker.index}},
                        )
                except OSError:
                    pass  # that worker is gone; _reap restarts it

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            worker = self.workers.pop(pid, None)
            if worker is None:
                continue
            self._forget(worker)
            if self._stopping:
                continue
            lived = time.monotonic() - worker.started
            quick = worker.quick_deaths + 1 if lived < QUICK_DEATH else 0
            log.error(
                "worker exited; restarting it",
                extra={
                    "fields": {
                        "worker": worker.index,
                        "pid": pid,
                        "status": _describe(status),
                        "seconds": round(lived, 1),
                    }
                },
            )
            if quick >= MAX_QUICK_DEATHS:
                log.error(
                    "a worker keeps failing at start (see above); stopping the relay",
                    extra={"fields": {"worker": worker.index}},
                )
                self._failed = True
                self._stopping = True
                continue
            self._start(worker.index, quick)

    def _forget(self, worker: _Worker) -> None:
        for sock in (worker.up, worker.down):
            if sock is None:
                continue
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(sock)
            sock.close()

    def _stop_all(self) -> None:
        """SIGTERM to every worker, SIGKILL to those still there after
        :data:`STOP_TIMEOUT`; returns once all are reaped."""
        for pid in list(self.workers):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while self.workers and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.05)
        for pid in list(self.workers):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            self._forget(self.workers.pop(pid))


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"
