"""Blocking sync operations for the CLI and the desktop's worker thread.

Each call runs its network part in a short-lived asyncio loop on the calling
thread — the thread that owns the session (ARCHITECTURE §12) — and saves the
sync status and clock offset in the profile so that the next call, or
``status``, knows them. :func:`listen` is the one exception: it runs in its
own thread, touches no session, and only reports that something changed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from shared.members import MembersState
from shared.protocol import Role

from ..documents.live import LiveDocument
from ..errors import InputError, KoprogoError
from ..i18n import N_, _, ngettext
from ..identity import DeviceIdentity, device_identity
from ..keys import KeyStorage, PassphraseProvider
from ..session import Session
from . import machine, membership
from .engine import (
    REMOVED,
    RoundReport,
    SyncEngine,
    SyncError,
    TooLarge,
    members_state,
    publish_directory,
    status_in_words,
)
from .relay_client import RelayClient, RelayError

log = logging.getLogger(__name__)

T = TypeVar("T")


class SyncInterrupted(KoprogoError):
    """The round was ended early through its :class:`Interrupt`; nothing of
    it is lost (what it sent or applied is kept, the rest comes next round)."""


class Interrupt:
    """Lets another thread end a sync round at its next wait for the relay:
    a person's edit must not wait behind a relay that is slow to answer
    (the desktop's rounds share the session's thread with every edit).
    Ending a round there is what a lost connection does at that point, which
    a round always survives. Thread-safe; asking before the round starts
    ends it at its first wait."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._asked = False
        self._held = False
        self._running: tuple[asyncio.AbstractEventLoop, asyncio.Task[Any]] | None = None

    @property
    def asked(self) -> bool:
        return self._asked

    def ask(self) -> None:
        with self._lock:
            self._asked = True
            running = None if self._held else self._running
        if running is not None:
            loop, task = running
            loop.call_soon_threadsafe(task.cancel)

    def hold(self) -> None:
        """From now on an ask is only noted: the work has passed a point
        where ending it would leave things half done (a join the relay may
        have accepted). Called on the working thread."""
        with self._lock:
            self._held = True

    def release(self) -> None:
        """Asks end the work again (at its next wait, if one was noted)."""
        with self._lock:
            self._held = False

    def _bind(self) -> None:
        task = asyncio.current_task()
        assert task is not None
        with self._lock:
            self._running = (asyncio.get_running_loop(), task)
            cut = self._asked and not self._held
        if cut:
            task.cancel()

    def _unbind(self) -> None:
        with self._lock:
            self._running = None


def relay_url(session: Session) -> str:
    url = session.profile.store.get_meta("relay_url")
    if not url:
        raise InputError(
            _("This building is not connected to a relay yet: run 'relay connect URL'.")
        )
    return url


def load_status(session: Session) -> machine.Status:
    raw = session.profile.store.get_meta("sync_status")
    if not raw:
        return machine.Status()
    data = json.loads(raw)
    return status_in_words(
        machine.Status(
            machine.State(data["state"]),
            data["last_sync"],
            data["failures"],
            data["retry_at"],
            data["error"],
            data["error_code"],
        )
    )


def removed_from_building(session: Session) -> bool:
    """Whether the relay refused this device as removed (it can never sync
    again; what is changed here stays here)."""
    status = load_status(session)
    return status.state is machine.State.REJECTED and status.error_code in REMOVED


def save_status(session: Session, status: machine.Status) -> None:
    session.profile.store.set_meta({"sync_status": json.dumps(status.to_json())})


def with_engine(
    session: Session,
    work: Callable[[SyncEngine], Awaitable[T]],
    connect_timeout: float | None = None,
    interrupt: Interrupt | None = None,
) -> T:
    """Run ``work`` with an engine connected to this building's relay
    (``connect_timeout`` shortens the wait for an unreachable relay, e.g.
    for background rounds). Through ``interrupt`` another thread may end it
    early: :class:`SyncInterrupted`, and the sync status as it was."""

    async def engine_work() -> T:
        store = session.profile.store
        async with RelayClient(
            relay_url(session), building_id=session.building_id, connect_timeout=connect_timeout
        ) as client:
            engine = SyncEngine(session, client)
            client.identity = engine.identity
            client.offset = int(store.get_meta("clock_offset") or 0)
            engine.status = before = load_status(session)
            try:
                return await work(engine)
            except asyncio.CancelledError:
                engine.status = before  # a round ended early leaves the status as it was
                raise
            finally:
                save_status(session, engine.status)
                keep_clock_offset(store, client)

    paused = _("Sync was paused for your change; it goes on right after.")
    return _run(engine_work, interrupt, paused)


def _run(work: Callable[[], Awaitable[T]], interrupt: Interrupt | None, cancelled: str) -> T:
    """``work()`` in a fresh event loop; ended early through ``interrupt``:
    :class:`SyncInterrupted` saying ``cancelled``."""

    async def run() -> T:
        if interrupt is None:
            return await work()
        interrupt._bind()
        try:
            return await work()
        except asyncio.CancelledError:
            if not interrupt.asked:
                raise
            raise SyncInterrupted(cancelled) from None
        finally:
            interrupt._unbind()

    return asyncio.run(run())


# -- operations ------------------------------------------------------------------------


def relay_address(url: str) -> str:
    """``url`` as a relay's address (no trailing slash), or a refusal in words
    (found by hand: ``127.0.0.1:8765`` was said to be "unreachable")."""
    address = url.strip().rstrip("/")
    scheme, _sep, rest = address.partition("://")
    if scheme.lower() not in ("http", "https") or not rest or rest.startswith(("/", ":")):
        raise InputError(
            _(
                "{url!r} is not a relay address: type it as given by its operator, starting "
                "with https:// (for example https://relay.example.org)."
            ).format(url=url)
        )
    return address


def connect(session: Session, url: str, interrupt: Interrupt | None = None) -> bool:
    """Register the building at ``url`` (True) or reconnect to it (False).
    Through ``interrupt`` the person may cancel until the building's first
    entry is sent to the relay (:class:`SyncInterrupted`, nothing changed)."""
    url = relay_address(url)
    hold = interrupt.hold if interrupt is not None else None
    registered = _run(
        lambda: membership.connect(session, url, committing=hold),
        interrupt,
        _("Connecting was cancelled; nothing was changed."),
    )
    save_status(session, machine.resume(load_status(session)))
    return registered


def sync_once(
    session: Session, connect_timeout: float | None = None, interrupt: Interrupt | None = None
) -> RoundReport:
    """One round: members, push, pull. Raises :class:`SyncError` with a
    readable message; the status saved in the profile says the rest;
    :class:`SyncInterrupted` when ended early through ``interrupt``."""
    return with_engine(session, sync_round, connect_timeout, interrupt)


async def sync_round(engine: SyncEngine) -> RoundReport:
    """One round (:meth:`SyncEngine.sync_once`); then, on a syndic's device,
    the erasures it undid are done again (decision 0014): a person erased
    while this device, offline, changed their data, which it has just sent;
    or every erased person, when the relay turned out restored from a
    backup that still held them. Their records that came back are deleted
    and the documents that held them compacted, at the relay too."""
    report = await engine.sync_once()
    if report.erase_again:
        await _erase_again(engine, report.erase_again, everywhere=report.relay_restored)
    unfinished = _pending_erasures(engine.session)
    if unfinished and engine.role is Role.SYNDIC:  # an erasure cut short: finish it
        for person in unfinished:
            await _revoke_devices_of(engine, person)
        await _erase_again(engine, frozenset(unfinished), everywhere=True)
        for person in unfinished:
            _pending_erasures(engine.session, done=person)
    return report


async def _erase_again(engine: SyncEngine, persons: frozenset[str], everywhere: bool) -> None:
    session = engine.session
    docs = ["registry"]
    for person in sorted(persons):
        session.registry.drop_erased(person)
        docs += _erase_elsewhere(session, person, everywhere)
    log.warning("erasing %d person(s) again (data came back)", len(persons))
    lives = [session.document(doc_id) for doc_id in dict.fromkeys(docs)]
    for live in lives:
        live.forget_history()
    await _compact_and_forget(engine, lives, await engine.sync_once())


def create_invite(
    session: Session,
    role: Role,
    person: str | None = None,
    days: int = membership.INVITE_DAYS,
    kiosk: bool = False,
) -> membership.CreatedInvite:
    return with_engine(session, lambda e: membership.create_invite(e, role, person, days, kiosk))


def enrol_person(session: Session, code: str, pin: str) -> str:
    """On the kiosk: keep a person's keys under their PIN (kiosk invite)."""
    from . import kiosk

    return with_engine(session, lambda engine: kiosk.enrol(engine, code, pin))


def kiosk_inbox(session: Session, person: str, pin: str) -> list:
    """On the kiosk: a person's inbox, opened with their PIN, in memory only."""
    from . import kiosk

    unlocked = kiosk.unlock(session, person, pin)
    try:
        return with_engine(session, lambda engine: kiosk.read_inbox(engine, unlocked))
    except RelayError as exc:
        if not exc.unreachable:
            raise
        raise SyncError(  # found by hand: only "the relay cannot be reached"
            _(
                "At the shared computer an inbox is read from the relay, and the relay cannot "
                "be reached now. Try again later."
            )
        ) from exc


def join(
    path: Path,
    url: str,
    code: str,
    provider: PassphraseProvider | None = None,
    key_storage: KeyStorage | None = None,
    interrupt: Interrupt | None = None,
) -> Session:
    """Join with an invite code; returns the new profile's session, synced
    once if the relay allowed it (the status says otherwise).

    Through ``interrupt`` the person may cancel: before this device asks the
    relay to enrol it, the join ends with :class:`SyncInterrupted` and no
    profile; once asked, the join is finished (the relay may have accepted
    it, and the invite works once) and only the first sync is skipped."""
    address = relay_address(url)
    hold = interrupt.hold if interrupt is not None else None
    session = _run(
        lambda: membership.join(path, address, code, provider, key_storage, committing=hold),
        interrupt,
        _("Joining was cancelled; this computer has not joined the building."),
    )
    if interrupt is not None:
        interrupt.release()
    try:
        sync_once(session, interrupt=interrupt)
    except (RelayError, SyncInterrupted):
        pass  # the status in the profile says what went wrong; the next round catches up
    except Exception:
        session.close()
        raise
    return session


def refresh_members(session: Session) -> None:
    with_engine(session, lambda engine: engine.refresh_members())


def devices(session: Session, state: MembersState | None = None) -> list[dict[str, Any]]:
    """The building's devices as this profile knows them (refresh first for
    the newest list); ``state``: the members log already replayed."""
    state = members_state(session) if state is None else state
    return membership.device_list(state, device_identity(session.profile.store).device_id)


WITHDRAWN = "withdrawn_invites"  # meta: ids of the invites withdrawn from this device


def invites(session: Session, state: MembersState | None = None) -> list[dict[str, Any]]:
    """The invites waiting to be used: not used, not expired, not withdrawn
    from this device; soonest to expire first (found by hand: a code sent to
    the wrong person stayed valid for a week, unseen). Refresh the members
    first for the newest list."""
    store = session.profile.store
    withdrawn = set(json.loads(store.get_meta(WITHDRAWN) or "[]"))
    now = session.now().timestamp()
    waiting = [
        invite
        for invite in (members_state(session) if state is None else state).invites.values()
        if invite.used_by is None and invite.expires > now and invite.id not in withdrawn
    ]
    return [
        {
            "id": invite.id,
            "role": invite.role.value,
            "person": invite.person,
            "kiosk": invite.kiosk,
            "expires_at": iso(invite.expires),
        }
        for invite in sorted(waiting, key=lambda i: (i.expires, i.id))
    ]


def withdraw_invite(session: Session, invite_id: str) -> None:
    """Withdraw an invite not used yet: the relay deletes it and refuses a
    join with it (protocol 1.4)."""
    if invite_id not in {i["id"] for i in invites(session)}:
        raise InputError(_("No invite {id} is waiting to be used.").format(id=invite_id))

    async def run(engine: SyncEngine) -> None:
        try:
            await engine.client.withdraw_invite(invite_id)
        except RelayError as exc:
            if exc.code not in ("not-found", "not-a-relay", "method-not-allowed"):
                raise
            raise SyncError(  # a relay older than 1.4 has no such endpoint
                _(
                    "This relay is too old to withdraw an invite (it needs KoproGo's sync "
                    "protocol 1.4); ask its operator to update it. The invite still works "
                    "until it expires."
                )
            ) from exc

    with_engine(session, run)
    store = session.profile.store
    withdrawn = json.loads(store.get_meta(WITHDRAWN) or "[]")
    store.set_meta({WITHDRAWN: json.dumps(sorted({*withdrawn, invite_id}))})


def revoke(session: Session, device_id: str) -> int:
    """Remove a device; returns the new key epoch."""
    return with_engine(session, lambda engine: membership.revoke(engine, device_id))


def devices_left_behind(session: Session, person_id: str) -> list[str]:
    """The active devices of a person who no longer holds a lot nor lives
    in one (found by hand: after a sale the seller's devices kept
    receiving the building's directory, meetings and community news, and
    nothing said so). Empty on a device that is not the syndic's."""
    store = session.profile.store
    if store.get_meta("role") not in (None, Role.SYNDIC.value) or not session.can_read("registry"):
        return []
    registry = session.registry.read()
    if any(o.person_id == person_id for o in registry.ownerships) or any(
        o.person_id == person_id for o in registry.occupants
    ):
        return []
    members = members_state(session)
    return sorted(d.id for d in members.devices.values() if d.person == person_id and not d.revoked)


def council_devices_without_mandate(session: Session, person_id: str | None = None) -> list[str]:
    """Active council devices whose person holds no council mandate running
    today (or will hold one): they still receive the registry, the accounts
    and every inbox (found by hand: after a sale, or the end of a mandate,
    nothing said so). Devices that name no person are not judged. Empty on a
    device that is not the syndic's."""
    store = session.profile.store
    if store.get_meta("role") not in (None, Role.SYNDIC.value) or not session.can_read("registry"):
        return []
    today = session.now().date()
    seated = {m.person_id for m in session.governance.council() if m.seated_from(today)}
    return sorted(
        d.id
        for d in members_state(session).devices.values()
        if d.role is Role.COUNCIL
        and d.person
        and not d.revoked
        and d.person not in seated
        and (person_id is None or d.person == person_id)
    )


async def _revoke_devices_of(engine: SyncEngine, person_id: str) -> list[str]:
    """Remove every active device of a person from the building; their ids."""
    theirs = sorted(
        d.id for d in engine.members.devices.values() if d.person == person_id and not d.revoked
    )
    for device_id in theirs:
        await membership.revoke(engine, device_id)
    return theirs


def revoke_person(session: Session, person_id: str, name: str | None = None) -> list[str]:
    """Remove every active device of a person; returns their ids. ``name``:
    the person's, for the messages."""

    async def run(engine: SyncEngine) -> list[str]:
        await engine.refresh_members()
        theirs = await _revoke_devices_of(engine, person_id)
        if not theirs:
            raise InputError(
                _("No device of {id} is in the building.").format(id=name or person_id)
            )
        return theirs

    return with_engine(session, run)


def iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def status(session: Session) -> dict[str, Any]:
    """What ``status --json`` prints and the desktop's indicator shows."""
    store = session.profile.store
    current = load_status(session)
    docs = {}
    for ref in store.documents():
        state = store.sync_state(ref)
        docs[ref.doc_id] = {
            "cursor": state.cursor,
            "counter": state.counter,
            "snapshot_seq": state.snapshot_seq,
        }
    return {
        "relay": store.get_meta("relay_url"),
        "building": store.get_meta("building_id"),
        "device": store.get_meta("device_id"),
        "role": store.get_meta("role"),
        "state": current.state.value,
        "last_sync": iso(current.last_sync),
        "retry_at": iso(current.retry_at),
        "pending_envelopes": store.outbox_count(),
        "documents": docs,
        "errors": (
            [{"code": current.error_code, "message": current.error}] if current.error else []
        )
        + _unfinished_erasures(session),
    }


def _unfinished_erasures(session: Session) -> list[dict[str, str]]:
    pending = json.loads(session.profile.store.get_meta(ERASURES_PENDING) or "[]")
    if not pending:
        return []
    return [
        {
            "code": "erasure-unfinished",
            "message": ngettext(
                "An erasure is not finished at the relay yet ({ids}): the next sync finishes it.",
                "Erasures are not finished at the relay yet ({ids}): the next sync finishes them.",
                len(pending),
            ).format(ids=", ".join(pending)),
        }
    ]


# what an erasure leaves, said when it is done (found by hand: the accounts
# still held an erased owner's account number and the bank's free text)
ACCOUNTS_KEEP = N_(
    "The accounts keep what accounting law requires: their entries under an opaque id, and "
    "their bank movements as the bank sent them (name, account number, communication)."
)


def erase_person(session: Session, person_id: str) -> dict[str, Any]:
    """Erase a person everywhere (ARCHITECTURE §6): from the registry, from
    this profile's files, from the relay (a snapshot replaces every envelope
    that held them) and, as they sync, from the other devices.

    With a relay, everything queued is pushed first, so no queued change
    still holding the person can leave later; if the relay cannot be reached
    nothing is erased and the error says so."""
    # what stops it is said first (found by hand: an unknown id with the
    # relay down was answered "nothing was erased: syncing failed")
    session.registry.check_erasable(person_id)
    connected = bool(session.profile.store.get_meta("relay_url"))
    if connected:
        try:
            sync_once(session)
        except KoprogoError as exc:  # "changes are kept and will be sent later" would mislead
            raise SyncError(
                _(
                    "Nothing was erased: the erasure must reach the relay, and syncing with it "
                    "failed ({reason}). Erase again once the relay can be reached."
                ).format(reason=_first_clause(exc))
            ) from exc
    again = person_id in session.registry.erased()  # e.g. a relay restored from a backup
    session.registry.erase_person(person_id)
    _pending_erasures(session, add=person_id)  # until the relay has it (connected or not)
    try:
        result = erase_documents(
            session,
            ["registry", *_erase_elsewhere(session, person_id, everywhere=again)],
            revoke_person=person_id,
        )
    except KoprogoError as exc:
        # Found by hand: "the relay cannot be reached" after the person was
        # already erased here, which read as if nothing had happened.
        raise SyncError(
            _(
                "Erased on this device, but not yet from the relay and the other devices: "
                "{reason}. Run erase-person again once the relay can be reached; it finishes "
                "the erasure."
            ).format(reason=_first_clause(exc))
        ) from exc
    _pending_erasures(session, done=person_id)
    return result


def _first_clause(exc: BaseException) -> str:
    """Why a sync failed, without what a sync does next (found by hand:
    "Nothing was erased: … (The relay cannot be reached; changes are kept
    and will be sent later)")."""
    return str(exc).split(";")[0].rstrip(".")


ERASURES_PENDING = "erasures_pending"  # meta: persons erased here, not yet at the relay


def _pending_erasures(session: Session, add: str = "", done: str = "") -> list[str]:
    """The persons erased on this device whose erasure has not reached the
    relay yet (found by hand: after "erased on this device, but not yet from
    the relay", the next syncs said "up to date" while the relay kept the
    envelopes naming them). A sync finishes them; ``status`` says so."""
    store = session.profile.store
    pending = json.loads(store.get_meta(ERASURES_PENDING) or "[]")
    changed = sorted({*pending, add} - {done, ""})
    if changed != pending:
        store.set_meta({ERASURES_PENDING: json.dumps(changed)})
    return changed


def _erase_elsewhere(session: Session, person_id: str, everywhere: bool = False) -> list[str]:
    """Take the person out of the documents that copy them from the registry
    (found by hand: their name stayed in the directory's history, in every
    meeting's names, and their inbox stayed whole); returns those to compact:
    the meetings that name them, or, ``everywhere``, every meeting (erasing
    again: a restored relay serves older copies that named them)."""
    touched = []
    if session.profile.store.document(session.building_id, "directory", create=False):
        publish_directory(session)
        touched.append("directory")  # its history names them, changed now or not
    named = session.assembly.forget_name(person_id)
    touched += [f"assembly/{m.id}" for m in session.assembly.meetings()] if everywhere else named
    if session.inbox.erase(person_id):
        touched.append(f"inbox/{person_id}")
    return list(dict.fromkeys(touched))


def erase_documents(
    session: Session, doc_ids: list[str], revoke_person: str | None = None
) -> dict[str, Any]:
    """Make what was just deleted from ``doc_ids`` leave every file: this
    profile's (its log folded into one checkpoint), the relay's (a snapshot
    replaces every envelope of the document) and, as they sync, the other
    devices'. Without a relay only this profile is cleaned. The devices of
    ``revoke_person`` are removed from the building first, so the snapshots
    go under a key epoch they do not hold (found by hand: an erased former
    owner's device kept receiving the building's news)."""
    lives = [session.document(doc_id) for doc_id in doc_ids]
    for live in lives:  # the undo history keeps deleted content, which a snapshot would carry
        live.forget_history()
    if not session.profile.store.get_meta("relay_url"):
        session.profile.store.vacuum()
        return {"relay": False, "compacted": [], "revoked": []}

    revoked: list[str] = []

    async def push_and_compact(engine: SyncEngine) -> list[str]:
        report = await engine.sync_once()
        if revoke_person:
            revoked.extend(await _revoke_devices_of(engine, revoke_person))
        await _compact_and_forget(engine, lives, report)
        return sorted(report.compacted)

    compacted = with_engine(session, push_and_compact)
    return {"relay": True, "compacted": compacted, "revoked": revoked}


async def _compact_and_forget(
    engine: SyncEngine, lives: list[LiveDocument], report: RoundReport
) -> None:
    """Replace each document at the relay by one snapshot and fold it here
    (the outbox pushed and the documents pulled by ``report``'s round)."""
    from .maintenance import compact, forget

    too_large = []
    for live in lives:
        try:
            done = await compact(engine, live, report)
            if not done:  # someone compacted meanwhile: pull theirs, then ours
                await engine.sync_once()
                await compact(engine, live, report)
        except TooLarge:
            too_large.append(live.ref.doc_id)
        forget(engine, live)
    if too_large:
        raise SyncError(
            _(
                "Erased on this computer, but {docs} is too large to be replaced at the "
                "relay in one piece: the relay still holds its older copies."
            ).format(docs=", ".join(too_large))
        )


# -- notifications ------------------------------------------------------------------------


def keep_clock_offset(store, client: RelayClient) -> None:  # type: ignore[no-untyped-def]
    """Keep how far this computer's clock is from the relay's, with when it
    was measured (by this computer's clock: see :meth:`Session.now`)."""
    if client.learned_at is not None:
        store.set_meta(
            {"clock_offset": str(client.offset), "clock_offset_at": str(int(client.learned_at))}
        )


def listener_credentials(session: Session) -> tuple[str, str, DeviceIdentity, int]:
    """What :func:`listen` needs, read on the session's thread."""
    store = session.profile.store
    return (
        relay_url(session),
        session.building_id,
        device_identity(store),
        int(store.get_meta("clock_offset") or 0),
    )


def listen(
    credentials: tuple[str, str, DeviceIdentity, int],
    on_change: Callable[[dict[str, Any]], None],
    stop: threading.Event,
    retry_seconds: float = 5.0,
) -> None:
    """Call ``on_change`` for every relay notification until ``stop`` is set;
    returns within about 0.1 s of it, closing the WebSocket even while
    connected. Runs in its own thread with its own loop (it touches no
    session) and reconnects after failures."""
    url, building, identity, offset = credentials

    async def receive() -> None:
        while not stop.is_set():
            try:
                async with RelayClient(url, identity, building, offset=offset) as client:
                    async for message in client.notifications():
                        if stop.is_set():
                            return
                        on_change(message)
            except RelayError:
                pass
            await asyncio.sleep(retry_seconds)

    async def stopped() -> None:
        while not stop.is_set():
            await asyncio.sleep(0.1)

    async def run() -> None:
        tasks = {asyncio.ensure_future(receive()), asyncio.ensure_future(stopped())}
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(run())
