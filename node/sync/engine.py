"""One device's sync with the relay: members, push, pull (docs/sync-protocol.md).

The engine runs on the thread that owns the session (ARCHITECTURE §12): it
awaits the network, then touches documents and the store with no other
thread around. A round is: refresh the members log (verify it, take keys
sealed to us, grant keys to devices that joined), push the outbox, pull
every document this device can read. The state machine in
:mod:`node.sync.machine` says what the user sees.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pycrdt

from shared import envelope as env
from shared.envelope import EnvelopeError, Header, Kind
from shared.members import MembersError, MembersState, SignedEntry, person_label, replay
from shared.protocol import (
    Audience,
    Role,
    audience_of,
    is_valid_doc_id,
    may_read,
    may_write,
)

from ..documents import directory_doc
from ..errors import KoprogoError
from ..i18n import N_, _
from ..identity import DeviceIdentity, audience_key, device_identity, take_sealed_keys
from ..session import Session
from . import machine, maintenance
from .relay_client import RelayClient, RelayError

log = logging.getLogger(__name__)

COALESCE_BYTES = 256 * 1024  # merged updates stay well under the 1 MiB envelope cap


CURSOR_ENVELOPE = "cursor_envelope:"  # meta: the envelope id at a document's cursor


def _envelope_id(raw: bytes) -> str:
    try:
        return env.decode(raw).header.envelope_id
    except EnvelopeError:
        return ""  # skipped when applied; compared, it matches nothing


REMOVED = frozenset({"unknown-device", "revoked-device"})
UNREACHABLE = frozenset({"unreachable", "relay-unavailable", "tls-failed"})
STORAGE_FULL = frozenset({"quota-exceeded", "device-quota"})  # the relay's 507s


def _words(state: machine.State, code: str | None) -> str:
    if state is machine.State.READ_ONLY:
        return _(
            "The relay uses a newer version of the sync protocol. Update KoproGo; until then "
            "this device only keeps what it has."
        )
    if state is machine.State.BACKING_OFF:
        if code == "disk-full":
            return _(
                "The relay's disk is full; changes are kept here and sent once its operator "
                "frees space."
            )
        if code in UNREACHABLE:
            return _("The relay cannot be reached; changes are kept and will be sent later.")
        return _("The relay is busy; trying again shortly.")
    if code in REMOVED:
        return _(
            "This device was removed from the building; it can no longer sync. What it "
            "already had stays on it."
        )
    return _("The building's storage at the relay is full; ask the relay operator.")


def status_in_words(status: machine.Status) -> machine.Status:
    """``status`` with its problem in the current language: the status keeps
    the words of the language it was saved in (found by hand: ``--language
    en status`` after a French sync printed French), and its code, from
    which the words are made again where they are known (found by hand:
    "relay forgot this device" read "the relay is busy"; a copied profile's
    warning stayed French)."""
    state, code = status.state, status.error_code
    if status.error and code in _FIXED_WORDS:
        return replace(status, error=_(_FIXED_WORDS[code]))
    known = (
        state in (machine.State.READ_ONLY, machine.State.BACKING_OFF)
        or code in REMOVED
        or code in STORAGE_FULL
    )
    if not status.error or not known:
        return status
    return replace(status, error=_words(state, code))


FETCHED_AGAIN = N_(
    "This computer's copy of {docs} was damaged (the file was altered); it was fetched again "
    "whole from the relay, and nothing was lost. If it happens again, check the disk."
)
RELAY_FORGOT = N_(
    "The relay does not know this device any more (its data was restored from a backup?). "
    "It will know it again after the syndic's device syncs; KoproGo keeps trying."
)
COPY_WARNING_SECONDS = 7 * 86400  # how long a copy seen once stays in the status
JOIN_FAILED = N_(
    "The relay did not enrol this device: its join did not complete. Ask the syndic for a new "
    "invite, and join again in a new profile folder."
)
PROFILE_COPY = N_(
    "This building's folder is also used on another computer (a copy of it, with the same "
    "device keys). Both copies' changes are kept and merged, but use only one: give the other "
    "computer its own invite, and stop using the copy."
)
_FIXED_WORDS = {
    "relay-forgot-device": RELAY_FORGOT,
    "profile-copy": PROFILE_COPY,
    "join-failed": JOIN_FAILED,
}
"""Problems whose words are one fixed message (said again in the current language)."""


class SyncError(KoprogoError):
    """Sync cannot go on; the message says why in words."""


class TooLarge(SyncError):
    """A change, or a document's whole state, is larger than one envelope may
    be (protocol §3.1: 16 MiB; 1 MiB for a relay older than 1.3)."""

    def __init__(self, doc_id: str, size: int) -> None:
        super().__init__(
            _(
                "{doc} has a change of {size} MB, more than the relay takes in one piece: it "
                "stays on this computer, and the later changes of {doc} wait behind it. The "
                "other documents sync as usual."
            ).format(doc=doc_id, size=f"{size / 1_000_000:.1f}")
        )
        self.doc_id = doc_id


@dataclass
class RoundReport:
    pushed: int = 0
    pulled: int = 0
    applied: int = 0
    skipped: list[str] = field(default_factory=list)  # readable reasons, for status
    asked: dict[str, list[bytes]] = field(default_factory=dict)  # doc -> state vectors to answer
    snapshots: set[str] = field(default_factory=set)  # docs compacted by another device
    gaps: set[str] = field(default_factory=set)  # docs where a device counter jumped
    compacted: set[str] = field(default_factory=set)  # docs this device compacted
    changed: set[str] = field(default_factory=set)  # docs that received something new
    copied: set[str] = field(default_factory=set)  # docs a copy of this profile wrote to
    # persons to erase again (a syndic's device, decision 0014): erased while
    # this device, offline, changed their data and has now sent it; or all
    # erased persons, when the relay was found restored from a backup
    erase_again: frozenset[str] = frozenset()
    relay_restored: bool = False


class _MissingKey(Exception):
    def __init__(self, doc_id: str, epoch: int) -> None:
        super().__init__(doc_id, epoch)
        self.doc_id = doc_id
        self.epoch = epoch


def key_label(audience: Audience, doc_id: str) -> Audience | str:
    """Which kept key encrypts ``doc_id``: its audience's, or for a personal
    document (``inbox/<person>``) that person's key."""
    if audience is Audience.PERSONAL:
        return person_label(doc_id.split("/", 1)[1])
    return audience


def members_state(session: Session) -> MembersState:
    entries = [SignedEntry(body, sig) for body, sig in session.profile.store.members_entries()]
    return replay(entries)


class SyncEngine:
    def __init__(
        self, session: Session, client: RelayClient, clock: Callable[[], float] = time.time
    ) -> None:
        self.session = session
        self.store = session.profile.store
        self.client = client
        self.clock = clock
        self.identity: DeviceIdentity = device_identity(self.store)
        self.members: MembersState = members_state(session)
        self.status = machine.Status()
        self.dropped: list[str] = []  # outbox items the relay will never accept
        self.too_large: dict[str, str] = {}  # documents whose next change cannot be sent
        self._keys: dict[tuple[int, Audience, str], bytes] = {}  # document keys, cached
        self._restored = False  # this round found the relay restored from a backup

    @property
    def role(self) -> Role:
        device = self.members.devices.get(self.identity.device_id)
        if device is None:
            raise SyncError(_("This device is not a member of the building."))
        return device.role

    @property
    def persons(self) -> frozenset[str]:
        """The persons this device writes for (its own; on a kiosk, those
        whose keys it keeps)."""
        return self.members.persons_of(self.identity.device_id)

    # -- a whole round ------------------------------------------------------------

    async def sync_once(self) -> RoundReport:
        """Members, push, pull; updates :attr:`status` whatever happens."""
        report = RoundReport()
        now = self.clock()
        self.session.catch_up_with_disk()
        self._restored = False
        erased_before = self._erased()
        try:
            await self.refresh_members()
            if not self.session.sync_enabled:
                self._mend_a_cut_join()
            if self.role is Role.SYNDIC:
                self.publish_directory()
            self.status = machine.pushing(self.status)
            report.pushed = await self.push()
            self.status = machine.pulling(self.status)
            self.session.catch_up_with_disk()  # a command may have written meanwhile
            await self.pull(report)
        except RelayError as exc:
            self._on_relay_error(exc)
            raise SyncError(self.status.error or str(exc)) from exc
        erased = self._erased()
        if self._restored and erased:
            report.erase_again, report.relay_restored = erased, True
        elif report.pushed and erased - erased_before:
            report.erase_again = erased - erased_before
        self.status = machine.succeeded(self.status, now)
        fetched = json.loads(self.store.get_meta("fetched_again") or "[]")
        if fetched:  # said once, after the round that pulled them again
            self.store.set_meta({"fetched_again": "[]"})
        # a copy fetched again holds none of our own changes until pulled back
        if report.copied - set(fetched):
            log.warning("changes under this device's id that it did not make: a copied profile")
            self.store.set_meta({"profile_copy_seen": str(int(now))})
        if self.too_large:  # the rest synced; this stays in view until it is solved
            self.status = machine.with_problem(
                self.status, " ".join(sorted(self.too_large.values())), "too-large"
            )
        elif fetched:
            words = _(FETCHED_AGAIN).format(docs=", ".join(fetched))
            self.status = machine.with_problem(self.status, words, "fetched-again")
        elif now - float(self.store.get_meta("profile_copy_seen") or 0) < COPY_WARNING_SECONDS:
            self.status = machine.with_problem(self.status, _(PROFILE_COPY), "profile-copy")
        return report

    def _erased(self) -> frozenset[str]:
        """The persons erased from the building, as a syndic's device knows
        them (the others cannot erase)."""
        device = self.members.devices.get(self.identity.device_id)
        if device is None or device.role is not Role.SYNDIC:
            return frozenset()
        return self.session.registry.erased()

    def _on_relay_error(self, exc: RelayError) -> None:
        now = self.clock()
        if exc.status == 426:
            self.status = machine.read_only(self.status, _words(machine.State.READ_ONLY, None))
        elif exc.retryable:
            state = machine.State.BACKING_OFF
            self.status = machine.failed(self.status, now, _words(state, exc.code), exc.code)
        elif exc.code == "unknown-device" and self.store.get_meta("join_unsure"):
            # a join whose answer was lost, and the relay had not enrolled it
            self.status = machine.rejected(self.status, _(JOIN_FAILED), "join-failed")
        elif exc.code == "unknown-device" and self.members.active(self.identity.device_id):
            # The log this device holds lists it: the relay lost it (restored
            # from a backup) until the syndic's device gives it back (§5.5).
            # Not "removed": try again later, by itself.
            self.status = machine.failed(self.status, now, _(RELAY_FORGOT), "relay-forgot-device")
        elif (exc.status == 401 and exc.code in REMOVED) or exc.status == 507:
            words = _words(machine.State.REJECTED, exc.code)
            self.status = machine.rejected(self.status, words, exc.code)
        else:
            # in words when the client knows the code ("not-a-relay"...), else
            # "The relay refused: ..." with the relay's own text
            self.status = machine.rejected(self.status, str(exc), exc.code)

    # -- members ----------------------------------------------------------------------

    async def refresh_members(self) -> int:
        """Fetch new members-log entries, verify them, keep keys sealed to us."""
        entries, length = await self.client.members_page(after=self.members.length - 1)
        self._keep_entries(entries)
        if length < self.members.length and self.role is Role.SYNDIC:
            await self._restore_members(length)
        take_sealed_keys(self.store, self.identity, self.members.sealed)
        if self.members.active(self.identity.device_id) is None and self.members.length:
            raise RelayError(401, "revoked-device", "this device is not an active member")
        if self.role is Role.SYNDIC:
            await self.grant_keys()
        return len(entries)

    async def grant_keys(self) -> None:
        """Seal the current epoch's keys to active devices that lack them
        (devices that joined, ARCHITECTURE §4); first start the new epoch a
        revocation calls for, if its ``keys`` entry never reached the relay."""
        from .membership import grant_entry, new_epoch_entry

        if self.members.new_epoch_due:
            entry = new_epoch_entry(
                self.store, self.identity, self.members, self.session.registry.erased()
            )
            await self.client.post_member(entry)
            self._keep_entries(await self.client.members(after=self.members.length - 1))
            take_sealed_keys(self.store, self.identity, self.members.sealed)
        entry = grant_entry(self)
        if entry is not None:
            await self.client.post_member(entry)
            self._keep_entries(await self.client.members(after=self.members.length - 1))
            take_sealed_keys(self.store, self.identity, self.members.sealed)

    async def _restore_members(self, length: int) -> None:
        """The relay's members log is shorter than ours: its database was
        restored from a backup (docs/relay-operations.md). If what it kept is
        the start of ours, give it back the rest (§5.5); devices that joined
        meanwhile were unknown to it until now."""
        held = [SignedEntry(b, s) for b, s in self.store.members_entries()]
        if length:
            [last] = await self.client.members(after=length - 2)
            if last.body != held[length - 1].body:
                raise SyncError(
                    _(
                        "The relay's list of this building's devices differs from this "
                        "device's; nothing was sent to it. Ask the relay's operator."
                    )
                )
        lost = len(held) - length
        log.warning("relay lost %d members-log entries (restored?): sending them", lost)
        for start in range(length, len(held), 100):
            await self.client.restore_members(held[start : start + 100])

    def _keep_entries(self, entries: list[SignedEntry]) -> None:
        """Verify new entries on top of the log we hold, then keep them."""
        if not entries:
            return
        held = [SignedEntry(b, s) for b, s in self.store.members_entries()]
        try:
            trial = replay(held + entries)
        except MembersError as exc:
            raise SyncError(
                _(
                    "The relay sent a members log that does not verify ({reason}); nothing "
                    "was taken from it."
                ).format(reason=exc)
            ) from exc
        self.store.add_members_entries(len(held), [(e.body, e.signature) for e in entries])
        self.members = trial

    def publish_directory(self) -> bool:
        """Bring the ``directory`` document in line with the registry (what
        every member may see of it); True when it changed. Not while the
        registry is being fetched again (an empty registry would empty the
        directory of every device)."""
        if self.store.document(self.session.building_id, "registry", create=False) is None:
            return False
        self.session.document("registry")  # loaded first: a damaged copy is dropped now
        if "registry" in json.loads(self.store.get_meta("fetched_again") or "[]"):
            return False
        return publish_directory(self.session)

    # -- push -----------------------------------------------------------------------------

    def seal(
        self,
        doc_id: str,
        kind: Kind,
        envelope_id: str,
        counter: int,
        schema,
        deps: bytes,
        payload: bytes,
        replaces: int = 0,
    ) -> bytes:
        audience = audience_of(doc_id)
        epoch = self.members.epoch
        key = self._audience_key(epoch, audience, doc_id)
        if key is None:
            raise SyncError(_("This device has no key for {doc} yet.").format(doc=doc_id))
        header = Header(
            kind,
            audience,
            epoch,
            self.session.building_id,
            envelope_id,
            self.identity.device_id,
            counter,
            doc_id,
            replaces,
        )
        doc_key = env.document_key(key, doc_id)
        body = env.encode_body(schema, deps, payload)
        try:
            return env.seal(header, doc_key, body, self.identity.sign_seed).encode()
        except env.EnvelopeTooLarge as exc:
            raise TooLarge(doc_id, len(body)) from exc

    def seal_item(self, item) -> bytes:
        """The envelope of an outbox item, sealed now (with the current epoch)."""
        return self.seal(
            item.ref.doc_id,
            Kind(item.kind),
            item.envelope_id,
            item.counter,
            item.schema,
            item.deps,
            item.payload,
        )

    async def push(self) -> int:
        """Send the outbox in order; each item leaves it once the relay has it."""
        sent = 0
        for ref in self.store.documents():
            self.store.coalesce_outbox(ref, lambda us: pycrdt.merge_updates(*us), COALESCE_BYTES)
        while True:
            items = self.store.outbox(limit=200)
            if not items:
                return sent
            if any(item.ref.doc_id in self.too_large for item in items):
                return sent + await self._push_by_document()
            sent += await self._push_items(items)

    async def _push_by_document(self) -> int:
        """The outbox document by document, leaving out those whose next
        change is too large to send (found by hand: one such change stopped
        every document's sync, with a traceback, at every round)."""
        sent = 0
        for ref in self.store.documents():
            while ref.doc_id not in self.too_large and (items := self.store.outbox(ref, 200)):
                sent += await self._push_items(items)
        return sent

    async def _push_items(self, items: list) -> int:
        """Send ``items`` in order until one must be renumbered (then the
        caller reads the outbox again); the number sent."""
        sent = 0
        for item in items:
            try:
                raw = self.seal_item(item)
            except TooLarge as exc:
                self.too_large[item.ref.doc_id] = str(exc)
                return sent
            if not item.attempted:
                self.store.mark_attempted(item.row_id)
            try:
                await self._append(item, raw)
            except RelayError as exc:
                expected = exc.extra.get("expected")
                if exc.code == "counter-gap" and isinstance(expected, int):
                    # The relay lost envelopes of ours it had acknowledged (its
                    # database restored from a backup): carry on from its
                    # counter, and send this document whole, which holds them.
                    self.store.renumber_outbox(item.ref, item.row_id, expected)
                    self._send_whole(self.session.document(item.ref.doc_id))
                    return sent
                if exc.code == "counter-reused" and isinstance(expected, int):
                    # The relay does not hold this item (it would have answered
                    # "duplicate") but holds another envelope of ours under its
                    # counter: a snapshot whose answer was lost, or this item
                    # itself, since deleted by a snapshot. Send it (again: the
                    # content is idempotent) under the next free counter
                    # (expected > item.counter: each renumbering moves on).
                    self.store.renumber_outbox(item.ref, item.row_id, expected)
                    return sent
                if exc.status == 413:  # a relay older than 1.3 takes 1 MiB at most
                    self.too_large[item.ref.doc_id] = str(TooLarge(item.ref.doc_id, len(raw)))
                    return sent
                if exc.status == 403:
                    # Never acceptable (this role may not write it): keep the
                    # queue moving and say so, rather than block every change.
                    self.dropped.append(f"{item.ref.doc_id}: {exc.message}")
                else:
                    raise
            self.store.remove_from_outbox([item.row_id])
            sent += 1
        return sent

    async def _append(self, item, raw: bytes) -> None:
        try:
            await self.client.append(item.ref.doc_id, raw)
        except RelayError as exc:
            if exc.code != "stale-epoch":
                raise
            await self.refresh_members()  # a device was revoked: seal with the new epoch
            raw = self.seal_item(item)
            await self.client.append(item.ref.doc_id, raw)

    # -- pull --------------------------------------------------------------------------------

    async def pull(self, report: RoundReport) -> None:
        heads = await self.client.heads()
        for doc_id, head in sorted(heads.get("docs", {}).items()):
            if not is_valid_doc_id(doc_id) or not self._can_read(doc_id):
                continue
            if self._kind_known(doc_id):
                try:
                    self._after_a_restore(doc_id, head)
                    snapshot_seq = int(head.get("snapshot_seq") or 0)
                    await self.pull_document(doc_id, int(head.get("seq", 0)), report, snapshot_seq)
                except _MissingKey as missing:
                    # Keys reach a device in members-log entries the syndic's
                    # device writes when it syncs; until then this document
                    # waits (the rest of the building syncs on).
                    report.skipped.append(
                        _(
                            "{doc}: waiting for its key (epoch {epoch}) from the syndic's device"
                        ).format(doc=missing.doc_id, epoch=missing.epoch)
                    )

    def _after_a_restore(self, doc_id: str, head: dict) -> None:
        """The relay's head is behind what this device pulled: its database
        was restored from a backup (docs/relay-operations.md, Backups) and
        lost what came after it. Pull the document again from the start
        (applying is idempotent), and send this device's whole copy, which
        holds what the relay lost, from every device."""
        live = self.session.document(doc_id)
        state = self.store.sync_state(live.ref)
        seq = int(head.get("seq", 0))
        if seq > state.cursor or (
            seq == state.cursor and not self._other_at_head(doc_id, head, state.cursor)
        ):
            return
        log.warning("relay behind this device on %s (restored?): pulling it again", doc_id)
        self._restored = True
        self.store.set_sync_state(
            live.ref,
            cursor=0,
            snapshot_id=head.get("snapshot") or "",
            snapshot_seq=int(head.get("snapshot_seq") or 0),
        )
        self._send_whole(live)

    def _other_at_head(self, doc_id: str, head: dict, cursor: int) -> bool:
        """The relay's head is this device's cursor, but another envelope
        than the one this device applied there (relay 1.5 names it): the
        relay was restored, and others wrote up to the same sequence since
        (found by hand: such a device stayed out of date, saying nothing).
        A snapshot at or past the cursor replaced what was there."""
        last = head.get("last")
        if not last or cursor == 0 or int(head.get("snapshot_seq") or 0) >= cursor:
            return False
        known = self.store.get_meta(f"{CURSOR_ENVELOPE}{doc_id}")
        return bool(known) and known != last

    def _mend_a_cut_join(self) -> None:
        """A join killed after the relay accepted the device left a profile
        whose edits never reached the outbox (found by hand: a ballot cast
        there never left), or one whose answer was lost (``join_unsure``).
        The relay lists this device (the members refresh just checked):
        turn sync on and send what it holds, whole."""
        log.warning("sync was off on a member device (a join cut short): turning it on")
        self.session.enable_sync(initial_push=False)
        self.store.set_meta({"join_unsure": ""})
        for ref in self.store.documents():
            if ref.building_id == self.session.building_id:
                self._send_whole(self.session.document(ref.doc_id))

    def _send_whole(self, live) -> None:
        if may_write(self.role, live.ref.doc_id, self.persons):
            self.store.enqueue(live.ref, live.newest_schema, Kind.UPDATE, b"", live.get_update())

    def _can_read(self, doc_id: str) -> bool:
        audience = audience_of(doc_id)
        if audience is Audience.PERSONAL:  # management, or that person's own devices
            me = self.members.devices.get(self.identity.device_id)
            return may_read(self.role, audience) or (
                me is not None and me.person == doc_id.split("/", 1)[1]
            )
        return may_read(self.role, audience)

    def _kind_known(self, doc_id: str) -> bool:
        from ..session import document_kinds

        return doc_id.split("/")[0] in document_kinds()

    async def pull_document(
        self, doc_id: str, head: int, report: RoundReport, snapshot_seq: int = 0
    ) -> None:
        """Pull ``doc_id`` up to ``head``, a page at a time. Each page also
        fetches the envelope at this device's cursor: if the relay holds
        another one there (and no snapshot replaced it), its database was
        restored from a backup while this device was away, and others have
        since written past where this device had pulled."""
        live = self.session.document(doc_id)
        at_cursor = f"{CURSOR_ENVELOPE}{doc_id}"
        while True:
            cursor = self.store.sync_state(live.ref).cursor
            if cursor >= head:
                break
            known = self.store.get_meta(at_cursor) if cursor else None
            page = await self.client.pull(doc_id, cursor - 1 if known else cursor)
            records = page.records
            if known:
                first = records[0] if records else None
                if first is not None and first[0] == cursor and _envelope_id(first[1]) == known:
                    records = records[1:]
                elif snapshot_seq < cursor:  # not replaced by a snapshot: lost
                    self._after_a_restore(doc_id, {"seq": -1, "snapshot": None})
                    continue
                else:
                    records = [r for r in records if r[0] > cursor]
            peers: dict[str, int] = {}
            try:
                with self.store.transaction():  # one commit per page, not per envelope
                    for seq, raw in records:
                        self._apply_record(live, doc_id, seq, raw, report, peers)
                        report.pulled += 1
                    for device, counter in peers.items():
                        self.store.set_peer_counter(live.ref, device, counter)
                    if records:
                        self.store.set_sync_state(live.ref, cursor=records[-1][0])
                        self.store.set_meta({at_cursor: _envelope_id(records[-1][1])})
            except BaseException:
                live.reload()  # the page was not kept: memory must match the disk
                raise
            if not page.more or not records:
                break
        await maintenance.after_pull(self, live, report)

    def _audience_key(self, epoch: int, audience: Audience, doc_id: str) -> bytes | None:
        """The key of ``doc_id``'s audience at ``epoch``; a management device
        derives a person's key it was not sent yet (§5.4), as the device that
        first wrote to that person did (found by hand: the council could not
        read a new person's inbox until the syndic's next round)."""
        key = audience_key(self.store, epoch, key_label(audience, doc_id))
        manages = may_read(self.role, Audience.MANAGEMENT)
        if key is None and audience is Audience.PERSONAL and manages:
            from .membership import person_key

            key = person_key(self.store, epoch, doc_id.split("/", 1)[1])
        return key

    def _document_key(self, epoch: int, audience: Audience, doc_id: str) -> bytes | None:
        cached = self._keys.get((epoch, audience, doc_id))
        if cached is None:
            key = self._audience_key(epoch, audience, doc_id)
            if key is None:
                return None
            cached = self._keys[(epoch, audience, doc_id)] = env.document_key(key, doc_id)
        return cached

    def _apply_record(
        self,
        live,
        doc_id: str,
        seq: int,
        raw: bytes,
        report: RoundReport,
        peers: dict[str, int],
    ) -> None:
        """Check and apply one pulled envelope (inside the page's transaction;
        the caller records the cursor and the peers' counters)."""
        try:
            envelope = env.decode(raw)
            header = envelope.header
            sender = self.members.devices.get(header.device_id)
            if sender is None:
                raise EnvelopeError("sent by a device that is not in the members log")
            envelope.verify(sender.sign_key)
            if header.doc_id != doc_id or header.building_id != self.session.building_id:
                raise EnvelopeError("envelope filed under the wrong document")
            if header.kind in (Kind.UPDATE, Kind.SNAPSHOT) and not may_write(
                sender.role, doc_id, self.members.persons_of(sender.id)
            ):
                raise EnvelopeError("sent by a device whose role may not write this document")
        except EnvelopeError as exc:
            report.skipped.append(f"{doc_id}#{seq}: {exc}")
            log.warning("skipped envelope %s#%s: %s", doc_id, seq, exc)
            return
        own = header.device_id == self.identity.device_id
        if own and header.kind not in (Kind.UPDATE, Kind.REPLY, Kind.SNAPSHOT):
            return
        doc_key = self._document_key(header.key_epoch, header.audience, doc_id)
        if doc_key is None:
            raise _MissingKey(doc_id, header.key_epoch)
        try:
            schema, deps, payload = env.decode_body(envelope.open(doc_key))
        except (env.DecryptionError, EnvelopeError) as exc:
            report.skipped.append(f"{doc_id}#{seq}: cannot decrypt ({exc})")
            return
        if own:
            # Ours, so already applied, unless a copy of this profile's folder
            # (the same device keys) wrote it elsewhere (found by hand: two
            # copies drifted apart for good, each skipping the other's
            # changes). Applying it again changes nothing if it is ours.
            # A snapshot too (found by hand: one made by the other copy, an
            # erasure's, was skipped; later changes then waited on it for ever).
            before = live.get_state()
            live.apply_remote(payload, deps or None, schema)
            if live.get_state() != before:
                report.copied.add(doc_id)
                report.applied += 1
                report.changed.add(doc_id)
                if header.kind is Kind.SNAPSHOT:
                    report.snapshots.add(doc_id)
            if header.kind is Kind.SNAPSHOT:
                self.store.set_sync_state(
                    live.ref, snapshot_id=header.envelope_id, snapshot_seq=seq
                )
            return
        if header.kind in (Kind.UPDATE, Kind.REPLY, Kind.SNAPSHOT):
            live.apply_remote(payload, deps or None, schema)
            report.applied += 1
            report.changed.add(doc_id)
        if header.kind is Kind.STATE_VECTOR:
            report.asked.setdefault(doc_id, []).append(payload)
        if header.kind is Kind.SNAPSHOT:
            self.store.set_sync_state(live.ref, snapshot_id=header.envelope_id, snapshot_seq=seq)
            report.snapshots.add(doc_id)
        last = peers.get(header.device_id)
        if last is None:
            last = self.store.peer_counter(live.ref, header.device_id)
        if header.counter > last + 1 and header.kind is not Kind.SNAPSHOT:
            report.gaps.add(doc_id)  # envelopes of that device we never saw
        peers[header.device_id] = max(last, header.counter)


def publish_directory(session: Session) -> bool:
    """Write into ``directory`` what the registry says every member may see;
    True when that changed it."""
    content = directory_doc.derive(session.registry.read())
    live = session.document("directory")
    if not directory_doc.differs(live.doc, content):
        return False
    with live.edit() as doc:
        directory_doc.publish(doc, content)
    return True
