"""Background sync of the open building through its relay (issue 3).

One :class:`SyncController` per open building. Every sync round is a job on
the worker thread that owns the session (:mod:`desktop.ops`), like any other
node call: ``service.sync_once``, then the sync status and the registry are
read in the same job, and the screens get the new registry as after a change
of every collection.

When a round starts:

* when the building opens (or is connected to a relay);
* :data:`DEBOUNCE_MS` after the last local edit, so a burst of edits leaves
  in one round;
* every :data:`SYNC_EVERY_MS`;
* when the relay says something changed. A listener runs in a plain Python
  thread with credentials read on the worker
  (:func:`node.sync.service.listener_credentials`); it only emits a Qt
  signal (never touches the session), and it ends, closing its connection,
  when the building closes.

The state machine (:mod:`node.sync.machine`) is respected: while backing off
no automatic round starts before ``retry_at`` (a timer fires then); once
``rejected`` or ``read_only``, automatic sync stops and the indicator shows
why. "Sync now" is a person's choice and always tries.

A round waits for the relay on the session's thread, so a person's edit
made meanwhile ends it (:class:`~node.sync.service.Interrupt`, through
:class:`~desktop.ops.Ops`) once it has waited a moment; the round runs again
right after the edit.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from node.errors import KoprogoError
from node.i18n import _
from node.services.registry import ALL, Change
from node.session import Session
from node.sync import service
from node.sync.engine import REMOVED, UNREACHABLE, members_state
from node.sync.machine import State
from node.sync.membership import CreatedInvite
from shared.members import MembersState
from shared.protocol import Role

from .ops import Ops
from .qt import QObject, Qt, QTimer, Signal
from .state import RegistryState, Update, read_state

log = logging.getLogger(__name__)

SYNC_EVERY_MS = 30_000  # a round at least this often while connected
DEBOUNCE_MS = 1_500  # after the last local edit
CONNECT_TIMEOUT_S = 5.0  # an unreachable relay must not hold the worker for long
NOTIFY_COALESCE_MS = 300  # several notifications in a burst make one round
MIN_RETRY_MS = 500
LISTEN_RETRY_S = 5.0  # after the notification connection drops
RETRY_MARGIN_MS = 100  # fire just after retry_at, never just before


@dataclass(frozen=True)
class SyncStatus:
    """What the indicator and the sync panel show, read on the worker."""

    relay: str | None = None
    role: str | None = None
    device: str | None = None
    state: str = State.IDLE.value
    last_sync: float | None = None  # seconds since the epoch
    retry_at: float | None = None
    pending: int = 0  # changes made here, waiting to be sent
    error: str | None = None  # in the user's language
    person: str | None = None  # the person an owner's device belongs to
    error_code: str | None = None  # stable (node.sync.machine.Status.error_code)

    @property
    def connected(self) -> bool:
        return bool(self.relay)

    @property
    def stopped(self) -> bool:
        """Automatic sync waits for a person (rejected) or an update (read-only)."""
        return self.state in (State.REJECTED.value, State.READ_ONLY.value)

    @property
    def syndic(self) -> bool:
        return self.role == Role.SYNDIC.value

    @property
    def removed(self) -> bool:
        """This device was removed from the building: it can never sync again."""
        return self.state == State.REJECTED.value and self.error_code in REMOVED

    @property
    def unreachable(self) -> bool:
        return self.state == State.BACKING_OFF.value and self.error_code in UNREACHABLE


def read_sync_status(session: Session) -> SyncStatus:
    data = service.status(session)
    current = service.load_status(session)
    return SyncStatus(
        relay=data["relay"],
        role=data["role"],
        device=data["device"],
        state=current.state.value,
        last_sync=current.last_sync,
        retry_at=current.retry_at,
        pending=int(data["pending_envelopes"]),
        error=current.error,
        person=session.profile.store.get_meta("person") or None,
        error_code=current.error_code,
    )


@dataclass(frozen=True)
class SyncResult:
    status: SyncStatus
    state: RegistryState
    error: str | None  # why the round failed, in words; None when it worked
    interrupted: bool = False  # ended early for a person's call: runs again


@dataclass(frozen=True)
class Connected:
    registered: bool  # True: the building was registered at the relay now
    status: SyncStatus
    state: RegistryState


@dataclass(frozen=True)
class DeviceList:
    devices: tuple[dict[str, Any], ...]
    note: str | None  # why the list may be old (the relay could not be reached)
    invites: tuple[dict[str, Any], ...] = ()  # waiting to be used (the syndic's device)


def _sync_round(session: Session, interrupt: service.Interrupt | None = None) -> SyncResult:
    error, interrupted = None, False
    try:
        service.sync_once(session, connect_timeout=CONNECT_TIMEOUT_S, interrupt=interrupt)
    except service.SyncInterrupted:
        interrupted = True
    except KoprogoError as exc:  # SyncError, RelayError: the status says the rest
        error = str(exc)
    return SyncResult(read_sync_status(session), read_state(session), error, interrupted)


def _device_list(session: Session) -> DeviceList:
    note = None
    removed = service.removed_from_building(session)
    try:
        service.refresh_members(session)
    except KoprogoError as exc:  # offline: show what this device knows
        note = str(exc)
        if getattr(
            exc, "unreachable", False
        ):  # found by hand: "check the address", which was right
            note = _(
                "the relay cannot be reached right now, so the list may lack its latest changes."
            )
        removed = removed or getattr(exc, "code", None) in REMOVED
    # A removed device cannot read the log that says so (the relay refuses
    # it): it knows from the relay's refusal.
    state = members_state(session)  # replayed once for both lists
    devices = tuple(
        {**d, "revoked": d["revoked"] or (removed and d["this_device"])}
        for d in service.devices(session, state)
    )
    return DeviceList(devices, note, _waiting_invites(session, state))


def _waiting_invites(
    session: Session, state: MembersState | None = None
) -> tuple[dict[str, Any], ...]:
    """The invites not used yet, on the syndic's device (it alone invites)."""
    if session.profile.store.get_meta("role") not in (None, Role.SYNDIC.value):
        return ()
    return tuple(service.invites(session, state))


class _Listener:
    """Relay notifications in a daemon thread; ``notify`` is a signal's emit,
    the only thing the thread does with them."""

    def __init__(self, credentials: tuple, notify: Callable[[], None]) -> None:
        self.stop_event = threading.Event()
        self._credentials = credentials
        self._notify = notify
        self.thread = threading.Thread(target=self._run, name="koprogo-relay-listener", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            service.listen(
                self._credentials,
                lambda _message: self._on_change(),
                self.stop_event,
                LISTEN_RETRY_S,
            )
        except Exception:  # never let the thread die loudly; rounds still run on timers
            log.warning("relay notifications stopped", exc_info=True)

    def _on_change(self) -> None:
        if self.stop_event.is_set():
            return
        try:
            self._notify()
        except RuntimeError:  # the app is going away
            self.stop_event.set()

    def stop(self, wait: float = 0.0) -> None:
        """Ask the thread to end (it does within a fraction of a second)."""
        self.stop_event.set()
        if wait:
            self.thread.join(wait)


class SyncController(QObject):
    """Keeps the open building in sync; one per open building."""

    status_changed = Signal(object)  # SyncStatus
    busy_changed = Signal(bool)  # a round is running
    round_failed = Signal(str)  # the last round's error, in words
    synced = Signal(object)  # SyncResult, after every round (inboxes read again then)
    _notified = Signal()  # from the listener thread, delivered on the GUI thread

    def __init__(self, ops: Ops, path: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.path = Path(path)
        self.status = SyncStatus()
        self.busy = False
        self.last_error: str | None = None
        self._known = False  # the status was read at least once
        self._stopped = False
        self._again = False  # another round was asked for while one ran
        self._listener: _Listener | None = None
        self._last_state: RegistryState | None = None

        self._periodic = self._timer(SYNC_EVERY_MS, repeat=True)
        self._debounce = self._timer(DEBOUNCE_MS)
        self._retry = self._timer(MIN_RETRY_MS)
        self._coalesce = self._timer(NOTIFY_COALESCE_MS)
        self.notifications = 0  # relay notifications received (the panel, tests)
        self._notified.connect(self._on_notified)
        ops.changed.connect(self._on_changed)

    def _timer(self, interval: int, repeat: bool = False) -> QTimer:
        timer = QTimer(self)
        timer.setTimerType(Qt.TimerType.PreciseTimer)  # a coarse one may fire before retry_at
        timer.setSingleShot(not repeat)
        timer.setInterval(interval)
        timer.timeout.connect(lambda: self.sync_now(manual=False))
        return timer

    # -- lifecycle ---------------------------------------------------------------

    def start(self, state: RegistryState | None = None) -> None:
        """Read the status; when connected, listen and sync once."""
        self._last_state = state
        self.ops.run(
            self._guarded(read_sync_status),
            on_done=self._started,
            on_error=self._refused,
            background=True,
        )

    def _started(self, status: SyncStatus | None) -> None:
        if status is None or self._stopped:
            return
        self._set_status(status)
        if status.connected and not status.stopped:
            self._periodic.start()
            self._listen()
            self.sync_now(manual=False)

    def stop(self) -> None:
        """The building closes: no more rounds, no more notifications."""
        self._stopped = True
        for timer in (self._periodic, self._debounce, self._retry, self._coalesce):
            timer.stop()
        self._stop_listening(wait=1.0)  # its connection closes with the building
        with contextlib.suppress(RuntimeError, TypeError):
            self.ops.changed.disconnect(self._on_changed)

    @property
    def stopped(self) -> bool:
        return self._stopped

    @property
    def known(self) -> bool:
        """The status was read from the profile at least once."""
        return self._known

    def _guarded(self, fn: Callable[[Session], Any]) -> Callable[[Session], Any]:
        """Run ``fn`` only on this controller's building (the worker may have
        moved on to another one by the time the job runs)."""
        path = self.path

        def work(session: Session) -> Any:
            if Path(session.profile.path) != path:
                return None
            return fn(session)

        return work

    # -- rounds ----------------------------------------------------------------------

    def may_sync_automatically(self, now: float | None = None) -> bool:
        status = self.status
        if self._stopped or not status.connected or status.stopped:
            return False
        if status.state == State.BACKING_OFF.value and status.retry_at is not None:
            return (now if now is not None else time.time()) >= status.retry_at
        return True

    def sync_now(self, manual: bool = True) -> None:
        """One round on the worker; ``manual`` (the "Sync now" button) ignores
        the backoff and a stopped state."""
        if self._stopped or not self.status.connected:
            return
        if not manual and not self.may_sync_automatically():
            return
        if self.busy:
            self._again = True
            return
        self._set_busy(True)
        interrupt = service.Interrupt()  # a person's edit may end the round early
        self.ops.run(
            self._guarded(lambda session: _sync_round(session, interrupt)),
            on_done=lambda result: self._synced(result, manual),
            on_error=self._failed,
            background=not manual,
            interrupt=interrupt,
        )

    def _synced(self, result: SyncResult | None, manual: bool = False) -> None:
        self._set_busy(False)
        if result is None or self._stopped:
            return
        if result.interrupted:  # for a person's call, now done or queued first
            if result.state != self._last_state:  # pages applied before it ended
                self.ops.changed.emit(Update(Change.of(*ALL), result.state, remote=True))
            self.sync_now(manual)
            return
        self.last_error = result.error
        self._set_status(result.status)
        if result.state != self._last_state:
            # Another device's changes arrived (or keys, or rights): every
            # screen reads the registry again.
            self.ops.changed.emit(Update(Change.of(*ALL), result.state, remote=True))
        if result.error:
            self.round_failed.emit(result.error)
        self.synced.emit(result)
        self._plan_next()

    def _failed(self, exc: KoprogoError) -> None:
        """A round refused outside the round itself (no building open while closing)."""
        self._set_busy(False)
        self._refused(exc)

    def _refused(self, exc: KoprogoError) -> None:
        log.info("sync job refused: %s", exc)

    def _plan_next(self) -> None:
        status = self.status
        if status.stopped:
            self._periodic.stop()
            self._stop_listening()
            return
        if status.state == State.BACKING_OFF.value and status.retry_at is not None:
            delay = int((status.retry_at - time.time()) * 1000)
            self._retry.start(max(MIN_RETRY_MS, delay + RETRY_MARGIN_MS))
            return
        if self._again:
            self._again = False
            self._debounce.start()

    def _on_changed(self, update: Update) -> None:
        self._last_state = update.state
        if update.remote or not update.change.collections or self._stopped:
            return
        # A local edit: it waits in the outbox; show it, and send it soon.
        self.refresh_status()
        if self.status.connected and not self.status.stopped:
            self._debounce.start()

    def language_changed(self) -> None:
        """Say the status's problem again in the new language (found by hand:
        a removed device's panel stayed in English for good, as it never
        syncs again). The last round's words are dropped: the next round
        says them again."""
        self.last_error = None
        if self._known:
            self.refresh_status()

    def refresh_status(self) -> None:
        self.ops.run(
            self._guarded(read_sync_status),
            on_done=self._status_read,
            on_error=self._refused,
            background=True,
        )

    def _status_read(self, status: SyncStatus | None) -> None:
        if status is not None and not self._stopped:
            self._set_status(status)

    def _set_status(self, status: SyncStatus) -> None:
        self.status = status
        self._known = True
        self.status_changed.emit(status)

    def _set_busy(self, busy: bool) -> None:
        if busy != self.busy:
            self.busy = busy
            self.busy_changed.emit(busy)

    # -- notifications -------------------------------------------------------------------

    def _listen(self) -> None:
        self._stop_listening()

        def started(credentials: tuple | None) -> None:
            if credentials is None or self._stopped or self._listener is not None:
                return
            self._listener = _Listener(credentials, self._notified.emit)

        self.ops.run(
            self._guarded(service.listener_credentials),
            on_done=started,
            on_error=self._refused,
            background=True,
        )

    def _on_notified(self) -> None:
        self.notifications += 1
        self._coalesce.start()

    def _stop_listening(self, wait: float = 0.0) -> None:
        if self._listener is not None:
            self._listener.stop(wait)
            self._listener = None

    @property
    def listening(self) -> bool:
        return self._listener is not None

    # -- relay, invites, devices -------------------------------------------------------------

    def connect_relay(
        self,
        url: str,
        on_done: Callable[[Connected], None],
        on_error: Callable[[KoprogoError], None],
        interrupt: service.Interrupt | None = None,
    ) -> None:
        """Register the building at ``url``, or reconnect to it; through
        ``interrupt`` the person may cancel while it waits for the relay."""

        def work(session: Session) -> Connected:
            registered = service.connect(session, url, interrupt)
            return Connected(registered, read_sync_status(session), read_state(session))

        def done(connected: Connected | None) -> None:
            if connected is None or self._stopped:
                return
            self._set_status(connected.status)
            if connected.state != self._last_state:
                self.ops.changed.emit(Update(Change.of(*ALL), connected.state, remote=True))
            self._periodic.start()
            self._listen()
            self.sync_now(manual=True)
            on_done(connected)

        self.ops.run(self._guarded(work), on_done=done, on_error=on_error)

    def create_invite(
        self,
        role: Role,
        person: str | None,
        on_done: Callable[[CreatedInvite], None],
        on_error: Callable[[KoprogoError], None],
        kiosk: bool = False,
    ) -> None:
        """An invite code; ``kiosk``: for ``person`` to enrol on the
        building's shared computer (no new device joins with it)."""
        self.ops.run(
            self._guarded(lambda s: service.create_invite(s, role, person, kiosk=kiosk)),
            on_done=lambda created: created is not None and on_done(created),
            on_error=on_error,
        )

    # -- residents on the building's shared computer (kiosk) ---------------------------------

    def enrol_resident(
        self,
        code: str,
        pin: str,
        on_done: Callable[[str], None],
        on_error: Callable[[KoprogoError], None],
    ) -> None:
        """Keep a resident's keys on this kiosk under their new PIN; ``on_done``
        gets the person's id."""
        self.ops.run(
            self._guarded(lambda s: service.enrol_person(s, code, pin)),
            on_done=lambda person: person is not None and on_done(person),
            on_error=on_error,
        )

    def open_resident_inbox(
        self,
        person: str,
        pin: str,
        on_done: Callable[[list], None],
        on_error: Callable[[KoprogoError], None],
    ) -> None:
        """A resident's inbox, fetched from the relay and decrypted in memory
        with their PIN; nothing of it is kept (here nor by the node)."""
        self.ops.run(
            self._guarded(lambda s: service.kiosk_inbox(s, person, pin)),
            on_done=lambda items: items is not None and on_done(items),
            on_error=on_error,
        )

    def list_devices(
        self, on_done: Callable[[DeviceList], None], on_error: Callable[[KoprogoError], None]
    ) -> None:
        self.ops.run(
            self._guarded(_device_list),
            on_done=lambda listed: listed is not None and on_done(listed),
            on_error=on_error,
        )

    def revoke(
        self,
        device_id: str,
        on_done: Callable[[DeviceList], None],
        on_error: Callable[[KoprogoError], None],
    ) -> None:
        def work(session: Session) -> DeviceList:
            service.revoke(session, device_id)
            state = members_state(session)
            return DeviceList(
                tuple(service.devices(session, state)), None, _waiting_invites(session, state)
            )

        self.ops.run(
            self._guarded(work),
            on_done=lambda listed: listed is not None and on_done(listed),
            on_error=on_error,
        )

    def withdraw_invite(
        self,
        invite_id: str,
        on_done: Callable[[DeviceList], None],
        on_error: Callable[[KoprogoError], None],
    ) -> None:
        """Withdraw an invite not used yet; then the list again."""

        def work(session: Session) -> DeviceList:
            service.withdraw_invite(session, invite_id)
            return _device_list(session)

        self.ops.run(
            self._guarded(work),
            on_done=lambda listed: listed is not None and on_done(listed),
            on_error=on_error,
        )
