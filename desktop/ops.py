"""Run node calls on the one thread that owns the session (ARCHITECTURE §12).

pycrdt documents must stay on the thread that made them, and a slow call
(Argon2 when unlocking, a write to SQLite) must not freeze the window. So a
single worker thread opens the :class:`~node.session.Session` and runs every
node call; the GUI submits callables and gets plain values back through a
Qt signal, on the GUI thread. Screens make their edits in one line, like
Anki's operations (STYLE §3)::

    self.ops.change(lambda s: s.registry.add_lot("A1", LotType.APARTMENT, 500))

and every screen refreshes from the :class:`~desktop.state.Update` that the
:attr:`Ops.changed` signal carries.

Errors: a :class:`~node.errors.KoprogoError` carries a translated message
for the user; it goes to the call's ``on_error`` or, by default, to the
:attr:`Ops.error` signal (shown in a dialog). Anything else is a bug: it is
logged with its traceback and reported with a generic message; the app goes on.

Slow calls: when the worker has been busy for :data:`SLOW_MS` without an
answer (Argon2 when unlocking, loading a big profile), :attr:`Ops.slow`
turns on so the windows can show a busy cursor and "Working…"; it turns
off with the answer. Background jobs (``background=True``: sync rounds)
turn it on only while a person's call waits behind them. The GUI thread
never waits.

Sync rounds wait for the relay on that same thread; a relay that is slow to
answer (or never does) must not hold a person's edit. A round submitted
with an :class:`~node.sync.service.Interrupt` is ended at its next wait for
the relay once a person's call has waited :data:`SLOW_MS` behind it; the
round's owner runs it again afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from node.errors import KoprogoError, ProfileError
from node.i18n import _
from node.services.registry import Change
from node.session import Session
from node.sync.service import Interrupt

from .qt import QObject, QTimer, Signal
from .state import Opened, Update, read_opened, read_state

log = logging.getLogger(__name__)

SLOW_MS = 300  # a call running longer than this gets a busy indicator
DAILY_MS = 24 * 60 * 60 * 1000

T = TypeVar("T")
OnError = Callable[[KoprogoError], None]


@dataclass
class _Job:
    work: Callable[[], Any]
    on_done: Callable[[Any], None] | None
    on_error: OnError | None
    background: bool = False
    interrupt: Interrupt | None = None  # ends the job early for a person's call
    result: Any = None
    error: BaseException | None = field(default=None)


class Ops(QObject):
    """The GUI's only way to the node."""

    changed = Signal(object)  # Update, after every successful change
    error = Signal(str)  # a message for the user, when no on_error was given
    busy_changed = Signal(bool)  # whether any call is pending
    slow = Signal(bool)  # busy for longer than SLOW_MS without an answer; off when idle

    _finished = Signal(object)  # emitted on the worker, delivered on the GUI thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # One thread, kept for the whole run: it owns the session's documents.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="koprogo-node")
        self._session: Session | None = None  # touched only on the worker thread
        self._pending = 0
        self._waiting = 0  # calls a person waits for (not background jobs)
        self._stopped = False
        self._slow = False
        self._slow_timer = QTimer(self)
        self._slow_timer.setSingleShot(True)
        self._slow_timer.setInterval(SLOW_MS)
        self._slow_timer.timeout.connect(self._on_slow)
        self._interruptible: list[Interrupt] = []  # of the jobs not yet delivered
        self._people = 0  # a person's calls pending that no Interrupt ends
        self._interrupt_timer = QTimer(self)
        self._interrupt_timer.setSingleShot(True)
        self._interrupt_timer.setInterval(SLOW_MS)
        self._interrupt_timer.timeout.connect(self._interrupt)
        self._finished.connect(self._deliver)
        # ARCHITECTURE §6, DOMAIN §11: per-unit energy data is deleted when
        # due, at start-up (on open) and then daily while the app runs
        self._daily = QTimer(self)
        self._daily.setInterval(DAILY_MS)
        self._daily.timeout.connect(self._housekeeping)
        self._daily.start()

    # -- what screens call ----------------------------------------------------

    def run(
        self,
        fn: Callable[[Session], T],
        on_done: Callable[[T], None] | None = None,
        on_error: OnError | None = None,
        background: bool = False,
        interrupt: Interrupt | None = None,
    ) -> None:
        """Run ``fn(session)`` on the worker; ``on_done(result)`` on the GUI
        thread. A ``background`` job (sync) shows no busy indicator of its own;
        one given an ``interrupt`` (a sync round, which passes it on) is ended
        through it when a person's call has waited SLOW_MS behind it."""
        self._submit(lambda: fn(self._require_session()), on_done, on_error, background, interrupt)

    def change(
        self,
        fn: Callable[[Session], Change],
        on_done: Callable[[Update], None] | None = None,
        on_error: OnError | None = None,
    ) -> None:
        """Make one edit and read the state right after it, in one worker job,
        so the screens never see a state between the two."""

        def work() -> Update:
            session = self._require_session()
            change = fn(session)
            return Update(change, read_state(session))

        def done(update: Update) -> None:
            self.changed.emit(update)
            if on_done is not None:
                on_done(update)

        self._submit(work, done, on_error)

    def call(
        self,
        fn: Callable[[], T],
        on_done: Callable[[T], None] | None = None,
        on_error: OnError | None = None,
    ) -> None:
        """Run a node call that needs no open session (listing profiles...)."""
        self._submit(fn, on_done, on_error)

    def open(
        self,
        factory: Callable[[], Session],
        on_done: Callable[[Opened], None] | None = None,
        on_error: OnError | None = None,
    ) -> None:
        """Make the worker's new session with ``factory`` (open, create or demo),
        then close the one it replaces; ``on_done`` gets what was opened. If the
        factory fails (wrong passphrase), the open session stays open."""

        def work() -> Opened:
            new = factory()
            self._close_session()
            self._session = new
            housekeeping(new)
            return read_opened(new)

        self._submit(work, on_done, on_error)

    def _housekeeping(self) -> None:
        self.run(housekeeping, background=True, on_error=lambda exc: None)  # none open: skip

    def close(self, on_done: Callable[[None], None] | None = None) -> None:
        """Close the session (checkpointing its documents) on the worker."""
        self._submit(self._close_session, on_done, None)

    def shutdown(self) -> None:
        """Close the session and stop the worker; blocks until both are done."""
        if self._stopped:
            return
        self._stopped = True
        self._slow_timer.stop()
        self._set_slow(False)
        future = self._executor.submit(self._close_session)
        try:
            future.result()
        except Exception:
            log.exception("closing the session at exit failed")
        self._executor.shutdown(wait=True)

    @property
    def busy(self) -> bool:
        return self._pending > 0

    @property
    def is_slow(self) -> bool:
        return self._slow

    # -- the worker side --------------------------------------------------------

    def _require_session(self) -> Session:
        if self._session is None:
            raise ProfileError(_("No building is open."))
        return self._session

    def _close_session(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.close()

    def _execute(self, job: _Job) -> None:
        try:
            job.result = job.work()
        except BaseException as exc:  # reported on the GUI thread, never lost
            job.error = exc
        if not self._stopped:
            self._finished.emit(job)

    # -- the GUI side -------------------------------------------------------------

    def _submit(
        self,
        work: Callable[[], Any],
        on_done: Callable[[Any], None] | None,
        on_error: OnError | None,
        background: bool = False,
        interrupt: Interrupt | None = None,
    ) -> None:
        if self._stopped:
            log.warning("a node call was submitted after shutdown; ignored")
            return
        self._pending += 1
        if interrupt is not None:
            self._interruptible.append(interrupt)
        elif not background:
            self._people += 1
            if self._interruptible and not self._interrupt_timer.isActive():
                self._interrupt_timer.start()
        if not background:
            self._waiting += 1
            if self._waiting == 1:
                self._slow_timer.start()
        if self._pending == 1:
            self.busy_changed.emit(True)
        job = _Job(work, on_done, on_error, background, interrupt)
        self._executor.submit(self._execute, job)

    def _deliver(self, job: _Job) -> None:
        if self._stopped:
            # Finished before shutdown, delivered after it: the windows are
            # gone and no busy indicator may come back on.
            return
        self._pending -= 1
        if not job.background:
            self._waiting -= 1
        if job.interrupt is not None:
            self._interruptible.remove(job.interrupt)
        elif not job.background:
            self._people -= 1
        try:
            if job.error is None:
                if job.on_done is not None:
                    job.on_done(job.result)
            elif isinstance(job.error, KoprogoError):
                if job.on_error is not None:
                    job.on_error(job.error)
                else:
                    self.error.emit(str(job.error))
            else:
                report_unexpected(job.error)
                self.error.emit(generic_error_message())
        except Exception as exc:  # a bug in a screen's callback: keep running
            report_unexpected(exc)
            self.error.emit(generic_error_message())
        finally:
            if self._pending == 0:
                self.busy_changed.emit(False)
            if self._waiting == 0:
                self._slow_timer.stop()
                self._set_slow(False)
            else:
                # An answer came: the busy indicator goes off, and the next
                # call gets its own SLOW_MS (background sync jobs queued
                # behind a slow one must not keep it on).
                self._set_slow(False)
                self._slow_timer.start()

    def _interrupt(self) -> None:
        """A person's call has waited SLOW_MS: end the sync rounds before it."""
        if self._people > 0 and not self._stopped:
            for interrupt in self._interruptible:
                interrupt.ask()

    def _on_slow(self) -> None:
        if self._waiting > 0 and not self._stopped:
            self._set_slow(True)

    def _set_slow(self, slow: bool) -> None:
        if slow != self._slow:
            self._slow = slow
            self.slow.emit(slow)


def housekeeping(session: Session) -> None:
    """What a profile does on its own when opened and daily: delete the
    per-unit energy data that is due. A failure (relay unreachable) is
    logged and retried at the next run; it never stops the app."""
    try:
        report = session.energy.retention()
    except KoprogoError as exc:
        log.warning("retention: %s", exc)
        return
    for error in report.errors:
        log.warning("retention: %s", error)


def generic_error_message() -> str:
    return _(
        "Something went wrong and the action was not completed. Your saved data is safe. "
        "The details were written to the log."
    )


def report_unexpected(exc: BaseException) -> None:
    log.error("unexpected error", exc_info=(type(exc), exc, exc.__traceback__))
