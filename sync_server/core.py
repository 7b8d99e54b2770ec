"""The relay core: the rules of docs/sync-protocol.md §4–§7, clock-free.

Every method takes ``now`` (unix seconds, read once per request by the
transport) and plain values; none reads a clock or knows aiohttp (STYLE §8).
Methods that touch the database are synchronous and are run by the
transport in a thread executor: those that write (``register``,
``append_member``, ``join``, ``post_invite``, ``append``, ``refresh``) on the
process's single writer thread, so the in-memory members cache is only
ever changed from that thread and read, as whole immutable snapshots, from
anywhere.

Each building's verified members log (``shared.members.MembersState``) is
cached in memory, rebuilt from the database when the relay starts, and
refreshed when the stored log has grown (another relay process sharing a
PostgreSQL database appended to it).
"""

from __future__ import annotations

import base64
import copy
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import nacl.bindings
import nacl.exceptions

from shared import auth
from shared.envelope import Envelope, EnvelopeError, Kind, decode
from shared.ids import is_ulid
from shared.members import Device as MemberDevice
from shared.members import MembersError, MembersState, SignedEntry, unb64
from shared.protocol import ADMIN_ROLES, audience_of, doc_person, is_valid_doc_id, may_write

from .config import Limits
from .errors import RelayError, bad_request, conflict, not_found, too_many, unauthorized
from .limits import ReplayCache, RequestCounter, TokenBuckets, seconds_to_next_month
from .storage import AppendItem, MembersChanged, Outcome, Staged, Storage, Stored

log = logging.getLogger("koprogo.relay")


@dataclass(frozen=True)
class Building:
    """One building's verified members log, replaced whole on every change."""

    state: MembersState
    entries: tuple[SignedEntry, ...] = field(default=())

    @property
    def length(self) -> int:
        return self.state.length

    def active_devices(self) -> int:
        return sum(1 for d in self.state.devices.values() if not d.revoked)


def _entries_json(entries: tuple[SignedEntry, ...]) -> list[dict[str, str]]:
    return [entry.to_json() for entry in entries]


def _withdrawn() -> RelayError:
    return RelayError(410, "invite-withdrawn", "the syndic withdrew this invite")


@contextmanager
def _refusals_about(building_id: str) -> Iterator[None]:
    """Name ``building_id`` on the refusals raised inside: the invites'
    paths do not name their building, and the access log should."""
    try:
        yield
    except RelayError as refusal:
        refusal.building = refusal.building or building_id
        raise


class RelayCore:
    def __init__(self, storage: Storage, limits: Limits) -> None:
        self.storage = storage
        self.limits = limits
        self.buildings: dict[str, Building] = {}
        self.replay = ReplayCache(auth.WINDOW)
        self.device_rate = TokenBuckets(limits.device_rate, limits.device_burst)
        self.address_rate = TokenBuckets(limits.address_rate, limits.address_burst)
        self.requests = RequestCounter()
        self._write_lock = threading.Lock()  # members cache changes (writer thread)

    # -- members cache (writer thread) ------------------------------------------

    def load(self) -> int:
        """Rebuild every building's verified state from the database."""
        for building_id, entries in self.storage.load_members().items():
            self._install(building_id, entries)
        return len(self.buildings)

    def _install(self, building_id: str, entries: list[SignedEntry]) -> Building:
        state = MembersState()
        for entry in entries:
            state.apply(entry)  # now=None: already accepted by a relay
        building = Building(state, tuple(entries))
        self.buildings[building_id] = building
        return building

    def refresh(self, building_id: str) -> Building | None:
        """Take in entries stored since this process last read the log."""
        with self._write_lock:
            known = self.buildings.get(building_id)
            after = -1 if known is None else known.length - 1
            new = self.storage.load_members(building_id, after).get(building_id, [])
            if known is None:
                return self._install(building_id, new) if new else None
            if not new:
                stored = self.storage.members_length(building_id)
                if stored is not None and stored < known.length:
                    # found by hand: a relay left running across pg_restore
                    # answered every append "busy", its log saying nothing
                    log.warning(
                        "the members log in the database is shorter than this process's "
                        "(restored from a backup while it ran?): taking the database's",
                        extra={"fields": {"building": building_id}},
                    )
                    entries = self.storage.load_members(building_id, -1).get(building_id, [])
                    return self._install(building_id, entries)
                return known
            state = copy.deepcopy(known.state)
            for entry in new:
                state.apply(entry)
            building = Building(state, known.entries + tuple(new))
            self.buildings[building_id] = building
            return building

    def building(self, building_id: str) -> Building:
        found = self.buildings.get(building_id)
        if found is None:
            raise not_found("unknown-building", "no such building on this relay")
        return found

    # -- signed requests (§4) ----------------------------------------------------

    def authenticate(
        self, building_id: str, headers: Any, method: str, path: str, body: bytes, now: float
    ) -> MemberDevice:
        """The active device that signed this request, or a 401 refusal: the
        three steps below, with the signature verified here."""
        signed, device = self.identify(building_id, headers, now)
        check = request_check(signed, device, method, path, body)
        return self.admit_signed(building_id, signed, signatures_valid((check,))[0], now)

    def identify(
        self, building_id: str, headers: Any, now: float
    ) -> tuple[auth.SignedRequest, MemberDevice]:
        """§4 before the signature: the headers, the timestamp, an active
        device of the building (401 otherwise)."""
        try:
            signed = auth.parse_headers(headers)
            auth.check_fresh(signed.timestamp, now)
        except auth.StaleTimestamp as exc:
            raise stale_timestamp() from exc
        except auth.AuthError as exc:
            raise unauthorized("unauthenticated", str(exc)) from exc
        return signed, self._active_device(building_id, signed.device_id)

    def admit_signed(
        self, building_id: str, signed: auth.SignedRequest, valid: bool, now: float
    ) -> MemberDevice:
        """§4 after the signature was verified (``valid``, see
        :func:`request_check`): 401 for a bad signature, then the replay
        cache. The device is looked up again, so one revoked while its
        signature was being checked is refused."""
        if not valid:
            raise unauthorized("bad-request-signature", "bad signature")
        device = self._active_device(building_id, signed.device_id)
        if self.replay.seen(signed.signature, now, signed.timestamp):
            raise unauthorized("replayed", "this request was already received")
        return device

    def _active_device(self, building_id: str, device_id: str) -> MemberDevice:
        device = self.building(building_id).state.devices.get(device_id)
        if device is None:
            raise unauthorized("unknown-device", "this device is not in the building's members log")
        if device.revoked:
            raise unauthorized("revoked-device", "this device was revoked")
        return device

    def admit_request(self, building_id: str, device_id: str, now: float) -> None:
        """The device's token bucket and the building's monthly requests (§7.4)."""
        wait = self.device_rate.take(device_id, now)
        if wait:
            raise too_many("rate-limited", "too many requests from this device", int(wait) + 1)
        if self.requests.count(building_id, now) > self.limits.max_requests_per_month:
            raise too_many(
                "request-quota",
                "the building used its requests for this month",
                seconds_to_next_month(now),
            )

    def admit_address(self, address: str, now: float) -> None:
        wait = self.address_rate.take(address, now)
        if wait:
            raise too_many("rate-limited", "too many requests from this address", int(wait) + 1)

    # -- buildings and the members log (§5, §7) -----------------------------------

    def register(self, body: Any, now: float) -> str:
        """``POST /buildings``: a verified genesis entry makes a building."""
        entry = _entry(body, "genesis")
        state = MembersState()
        try:
            state.apply(entry, int(now))
        except MembersError as exc:
            raise bad_request("bad-entry", str(exc)) from exc
        with self._write_lock:
            if not self.storage.create_building(state.building_id, entry, state.epoch, int(now)):
                raise conflict("building-exists", "this building is already registered")
            self.buildings[state.building_id] = Building(state, (entry,))
        return state.building_id

    def members_after(self, building_id: str, after: int) -> dict[str, Any]:
        building = self.building(building_id)
        start = max(0, after + 1)
        return {"entries": _entries_json(building.entries[start:]), "length": building.length}

    def append_member(self, building_id: str, device: MemberDevice, body: Any, now: float) -> int:
        """``POST /buildings/{b}/members`` from an admin device (invite, keys, revoke)."""
        if device.role not in ADMIN_ROLES:
            raise RelayError(403, "forbidden", "only a syndic device may change the members log")
        entry = _entry(body, "entry")
        if entry.data.get("type") in ("genesis", "join", "person"):
            raise bad_request("bad-entry", "genesis and join entries have their own endpoints")
        if entry.data.get("type") == "invite":
            raise bad_request("bad-entry", "post invites with their payload to /invites")
        return self._append_entry(building_id, entry, now)

    def post_invite(self, building_id: str, device: MemberDevice, body: Any, now: float) -> int:
        """``POST /buildings/{b}/invites``: the invite entry and its sealed payload (§6)."""
        if device.role not in ADMIN_ROLES:
            raise RelayError(403, "forbidden", "only a syndic device may invite")
        entry = _entry(body, "entry")
        if entry.data.get("type") != "invite":
            raise bad_request("bad-entry", "an invite entry is expected")
        payload = body.get("payload") if isinstance(body, dict) else None
        try:
            sealed = unb64(payload) if isinstance(payload, str) else b""
        except MembersError:
            sealed = b""
        if not sealed or len(sealed) > 16 * 1024:
            raise bad_request("bad-payload", "the invite payload must be base64, at most 16 KiB")
        invite = entry.data.get("invite")
        invite_id = str(invite.get("id")) if isinstance(invite, dict) else ""
        return self._append_entry(building_id, entry, now, invite_payload=(invite_id, sealed))

    def withdraw_invite(self, building_id: str, device: MemberDevice, invite_id: str) -> None:
        """``DELETE /buildings/{b}/invites/{invite}`` (protocol 1.4): a syndic's
        device withdraws an invite not used yet; its payload is deleted, and
        a join with it is refused from then on (``invite-withdrawn``)."""
        if device.role not in ADMIN_ROLES:
            raise RelayError(403, "forbidden", "only a syndic device may withdraw an invite")
        invite = self.building(building_id).state.invites.get(invite_id)
        if invite is None:
            raise not_found("unknown-invite", "no such invite")
        if invite.used_by is not None:
            raise RelayError(410, "invite-used", "this invite was already used")
        self.storage.withdraw_invite(building_id, invite_id)  # again: already done

    def get_invite(self, invite_id: str, now: float) -> dict[str, Any]:
        """``GET /invites/{invite}``: payload and members log, for the joining
        device. A used invite's payload is deleted when it is used (§6)."""
        found = self.storage.invite(invite_id) if is_ulid(invite_id) else None
        if found is None:
            for used_in, b in self.buildings.items():
                if invite_id in b.state.invites:
                    with _refusals_about(used_in):
                        if b.state.invites[invite_id].used_by is not None:
                            raise RelayError(410, "invite-used", "this invite was already used")
                        raise _withdrawn()
            raise not_found("unknown-invite", "no such invite")
        building_id, payload = found
        building = self.buildings.get(building_id) or self.refresh(building_id)
        invite = building.state.invites.get(invite_id) if building else None
        if building is None or invite is None:
            raise not_found("unknown-invite", "no such invite")
        with _refusals_about(building_id):
            self._check_invite_usable(invite.used_by, invite.expires, now)
        return {
            "building": building_id,
            "payload": _b64(payload),
            "entries": _entries_json(building.entries),
        }

    @staticmethod
    def _check_invite_usable(used_by: str | None, expires: int, now: float) -> None:
        if used_by is not None:
            raise RelayError(410, "invite-used", "this invite was already used")
        if now > expires:
            raise RelayError(410, "invite-expired", "this invite has expired")

    def join(self, invite_id: str, body: Any, now: float) -> tuple[str, int]:
        """``POST /invites/{invite}/join``: the join entry's own signature and
        proof — or a ``person`` entry, a kiosk keeping an owner's keys with a
        kiosk invite (§5.4)."""
        entry = _entry(body, "entry")
        kind = entry.data.get("type")
        if kind not in ("join", "person") or entry.data.get("invite") != invite_id:
            raise bad_request("bad-entry", "a join entry for this invite is expected")
        building_id = str(entry.data.get("building"))
        building = self.buildings.get(building_id)
        if building is None and is_ulid(building_id):
            building = self.refresh(building_id)
        invite = building.state.invites.get(invite_id) if building else None
        if building is None or invite is None:
            raise not_found("unknown-invite", "no such invite")
        with _refusals_about(building_id):
            self._check_invite_usable(invite.used_by, invite.expires, now)
            if self.storage.invite(invite_id) is None:  # its payload deleted, unused
                raise _withdrawn()
            if kind == "join" and building.active_devices() >= self.limits.max_devices_per_building:
                message = "the building has its maximum number of devices"
                raise RelayError(507, "device-quota", message)
            record = entry.data.get("device" if kind == "join" else "person")
            if self.storage.is_broker_key(_record_key(record)):
                raise bad_request("bad-entry", "a broker's key cannot be a device's (§9.3)")
            seq = self._append_entry(building_id, entry, now, used_invite=invite_id)
        return building_id, seq

    def restore_members(self, building_id: str, device: MemberDevice, body: Any, now: float) -> int:
        """``POST /buildings/{b}/members/restore`` (§5.5): entries this relay
        lost (its database restored from a backup), sent back by a syndic
        device, in order from where the log now ends. Each is verified as
        when it was first taken (signatures, chain, rules), an invite's
        expiry aside: it was taken in time then. Invites come back without
        their payload (a device cannot join with them any more). Returns the
        log's new length."""
        if device.role not in ADMIN_ROLES:
            raise RelayError(403, "forbidden", "only a syndic device may restore the members log")
        raw = body.get("entries") if isinstance(body, dict) else None
        if not isinstance(raw, list) or not 1 <= len(raw) <= 100:
            raise bad_request("bad-entry", "entries: a list of 1 to 100 entries")
        entries = [_entry({"entry": e}, "entry") for e in raw]
        length = self.building(building_id).length
        for entry in entries:
            kind = entry.data.get("type")
            used = entry.data.get("invite") if kind in ("join", "person") else None
            self._append_entry(
                building_id, entry, None, used_invite=used if isinstance(used, str) else None
            )
            length += 1
        return length

    def _append_entry(
        self, building_id: str, entry: SignedEntry, now: float | None, **extra: Any
    ) -> int:
        """Verify ``entry`` against the cached log and store it (409 when it
        does not follow the log, 400 when it breaks a rule of §5.1). ``now``
        None: an invite's expiry is not checked (a restored entry)."""
        for _attempt in range(3):
            with self._write_lock:
                building = self.building(building_id)
                data = entry.data
                if data.get("seq") != building.length or data.get("prev") != building.state.head:
                    raise conflict(
                        "members-conflict",
                        "the entry does not follow the log",
                        length=building.length,
                    )
                state = copy.deepcopy(building.state)
                try:
                    state.apply(entry, None if now is None else int(now))
                except MembersError as exc:
                    raise bad_request("bad-entry", str(exc)) from exc
                try:
                    self.storage.append_member(
                        building_id, entry, building.length, state.epoch, **extra
                    )
                except MembersChanged:
                    pass
                else:
                    self.buildings[building_id] = Building(state, (*building.entries, entry))
                    return building.length
            self.refresh(building_id)
        raise conflict("members-conflict", "the members log is changing; retry")

    # -- envelopes (§7.1, §7.2) ----------------------------------------------------

    @staticmethod
    def decode_envelope(raw: bytes) -> Envelope:
        """§7.1 step 1: a malformed envelope is refused (400) before anything else."""
        try:
            return decode(raw)
        except EnvelopeError as exc:
            raise bad_request("malformed-envelope", str(exc)) from exc

    def sender(self, building_id: str, doc_id: str, envelope: Envelope) -> MemberDevice:
        """An append's device: the active member its envelope's header names
        (401 otherwise), once the header is found to be for this building
        and document (400 otherwise, §7.1 step 2's order); the append is
        authenticated by the envelope's own signature (§4), verified next
        by :func:`envelope_check`."""
        header = envelope.header
        if header.building_id != building_id or header.doc_id != doc_id:
            raise bad_request("wrong-document", "the envelope is for another building or document")
        return self._active_device(building_id, header.device_id)

    def recheck_device(self, building_id: str, device_id: str) -> MemberDevice:
        """The device again after the members log changed under a request."""
        return self._active_device(building_id, device_id)

    def check_envelope(
        self,
        building_id: str,
        doc_id: str,
        device: MemberDevice,
        envelope: Envelope,
        raw: bytes,
        now: float,
        snapshot_base: str | None = None,
        snapshot: bool = False,
        signature_valid: bool | None = None,
    ) -> AppendItem:
        """§7.1 step 2: every check that needs no stored state, in the
        spec's order. Pure: reads only the members cache. The envelope's
        signature is verified here unless ``signature_valid`` gives the
        result of :func:`envelope_check` verified beforehand."""
        header = envelope.header
        if header.building_id != building_id or header.doc_id != doc_id:
            raise bad_request("wrong-document", "the envelope is for another building or document")
        check_document(doc_id)
        if header.device_id != device.id:
            raise bad_request("wrong-device", "an envelope is sent by the device that made it")
        if signature_valid is None:
            signature_valid = signatures_valid((envelope_check(envelope, device),))[0]
        if not signature_valid:
            raise bad_request("bad-signature", "the envelope's signature does not verify")
        building = self.building(building_id)
        # the persons a device writes for matter only for per-person documents
        persons = building.state.persons_of(device.id) if doc_person(doc_id) else frozenset()
        if not may_write(device.role, doc_id, persons):
            role = device.role.value
            article = "an" if role[0] in "aeiou" else "a"
            message = f"{article} {role} device may not write this document"
            raise RelayError(403, "forbidden", message)
        if header.audience is not audience_of(doc_id):
            raise bad_request("wrong-audience", "the envelope's audience is not the document's")
        if header.key_epoch != building.state.epoch:
            raise conflict(
                "stale-epoch",
                "the envelope uses another key epoch; fetch the members log",
                epoch=building.state.epoch,
            )
        if snapshot != (header.kind is Kind.SNAPSHOT):
            raise bad_request("wrong-kind", "snapshots go to /snapshot, other kinds to /envelopes")
        if header.counter < 1:
            raise bad_request("malformed-envelope", "counters start at 1")
        return AppendItem(
            building_id,
            doc_id,
            header.envelope_id,
            device.id,
            header.counter,
            header.kind,
            raw,
            building.length,
            now,
            header.replaces,
            snapshot_base,
        )

    def admit_append(self, item: AppendItem, bytes_stored: int, delta: int) -> None:
        """§7.1 step 5, called by storage inside the append's transaction."""
        if delta > 0 and bytes_stored + delta > self.limits.max_bytes_per_building:
            raise RelayError(507, "quota-exceeded", "the building's storage quota is full")
        self.admit_request(item.building_id, item.device_id, item.now)

    def append(self, items: list[AppendItem]) -> list[Outcome]:
        """Store a batch (writer thread); on an unexpected database error,
        retry each item alone so one bad item cannot fail the others."""
        try:
            return self.storage.append_batch(items, self.admit_append)
        except RelayError:
            raise
        except Exception:
            if len(items) == 1:
                raise
            log.exception("batch of %d appends failed; retrying one by one", len(items))
            return [self.storage.append_batch([item], self.admit_append)[0] for item in items]

    def stage(self, items: list[AppendItem]) -> Staged:
        """A batch's statements in the transaction ``Storage.begin_staged``
        began (sync_server.writer.StagingWriter, on the event loop)."""
        return self.storage.stage(items, self.admit_append)

    def heads(self, building_id: str) -> dict[str, Any]:
        building = self.building(building_id)
        return {"docs": self.storage.heads(building_id), "epoch": building.state.epoch}


# -- signatures ---------------------------------------------------------------------

SignatureCheck = tuple[bytes, bytes, bytes]
"""(Ed25519 public key, signed message, signature)."""


def check_document(doc_id: str) -> None:
    """400 ``bad-document`` for an id §2 does not allow (the path's pattern
    lets through ``foo`` or ``ledger/20266``), to append to or to pull."""
    if not is_valid_doc_id(doc_id):
        raise bad_request("bad-document", "not a document id of the protocol")


def stale_timestamp() -> RelayError:
    """401 for a request signed too far from the relay's clock (§4)."""
    return unauthorized(
        "stale-timestamp",
        "the request's timestamp is too far from the relay's clock (see KoproGo-Time)",
    )


def request_check(
    signed: auth.SignedRequest, device: MemberDevice, method: str, path: str, body: bytes
) -> SignatureCheck:
    """What a signed request's signature must verify (§4, ``shared.auth``)."""
    message = auth.message(method, path, body, signed.timestamp, signed.nonce)
    return device.sign_key, message, signed.signature


def envelope_check(envelope: Envelope, device: MemberDevice) -> SignatureCheck:
    """What an envelope's signature must verify (§3.1, ``shared.envelope``)."""
    return device.sign_key, envelope.signed_part(), envelope.signature


def signatures_valid(checks: tuple[SignatureCheck, ...]) -> list[bool]:
    """Verify each check; libsodium runs with the GIL released, so the
    transport may call this from a thread while the event loop goes on.

    What ``nacl.signing.VerifyKey(key).verify(message, signature)`` decides,
    without building a key object per call: a key that is not 32 bytes, or
    a signature that is not 64, does not verify."""
    valid = []
    for key, message, signature in checks:
        if len(key) != _KEY_BYTES or len(signature) != _SIGNATURE_BYTES:
            valid.append(False)
            continue
        try:
            _sign_open(signature + message, key)
        except nacl.exceptions.BadSignatureError:
            valid.append(False)
        else:
            valid.append(True)
    return valid


_sign_open = nacl.bindings.crypto_sign_open
_KEY_BYTES = nacl.bindings.crypto_sign_PUBLICKEYBYTES
_SIGNATURE_BYTES = nacl.bindings.crypto_sign_BYTES


def _entry(body: Any, key: str) -> SignedEntry:
    if not isinstance(body, dict) or key not in body:
        raise bad_request("bad-request", f"a JSON object with {key!r} is expected")
    try:
        return SignedEntry.from_json(body[key])
    except MembersError as exc:
        raise bad_request("bad-entry", str(exc)) from exc


def _record_key(record: Any) -> bytes:
    """The signing key of a join's device record or a person record, or b""."""
    sign = record.get("sign") if isinstance(record, dict) else None
    try:
        return unb64(sign) if isinstance(sign, str) else b""
    except MembersError:
        return b""


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


__all__ = ["AppendItem", "Building", "RelayCore", "Stored"]
