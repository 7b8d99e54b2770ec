"""The members log: a signed, append-only, hash-chained list of who may do what.

ARCHITECTURE §4, docs/sync-protocol.md §5. The log holds only public keys,
roles, opaque ids and keys *sealed* to devices; the relay reads it to
authorise requests and every node verifies it with this same code.

Each entry is a canonical JSON object (sorted keys, no spaces, ASCII) with
``v`` (1), ``seq`` (0, 1, 2...), ``prev`` (SHA-256 hex of the previous entry's
bytes, ``""`` for the first), ``building``, ``type`` and ``signer`` (a device
id), signed with Ed25519 over ``b"koprogo-members-v1\\0" || bytes``.

Entry types:

``genesis``   the creator's device (role syndic), self-signed; seq 0.
``invite``    an admin announces an invite: id, role, person, the invite's
              public key (derived from the code) and its expiry (unix seconds).
``join``      a device joins with an invite: its keys and a ``proof``, the
              invite key's signature over the device record. Signed by the
              joining device itself.
``keys``      an admin seals audience keys of an epoch to devices:
              ``{"epoch": n, "sealed": {device: {audience: base64}}}``. An
              epoch above the current one starts a new epoch.
``revoke``    an admin removes a device; the relay refuses it from then on.
``person``    a kiosk keeps a person's keys, with a kiosk invite naming that
              person: ``{"person": {id, sign, box}, "invite", "proof"}``, signed
              by the kiosk. ``keys`` entries may then seal that person's key to
              ``box`` under ``to_persons: {"<person>/<kiosk>": {...}}``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import nacl.bindings
import nacl.exceptions
import nacl.public
import nacl.signing

from .ids import is_ulid
from .protocol import ADMIN_ROLES, ROLE_AUDIENCES, Audience, Role

CONTEXT = b"koprogo-members-v1\x00"
INVITE_CONTEXT = b"koprogo-invite-v1\x00"
MAX_ENTRY_BYTES = 64 * 1024
ENTRY_TYPES = ("genesis", "invite", "join", "person", "keys", "revoke")


class MembersError(ValueError):
    """An entry that does not fit the log: bad signature, chain, signer or shape."""


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (ValueError, TypeError) as exc:
        raise MembersError("bad base64") from exc


@dataclass(frozen=True)
class SignedEntry:
    body: bytes
    signature: bytes

    @property
    def data(self) -> dict[str, Any]:
        return json.loads(self.body)

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    def to_json(self) -> dict[str, str]:
        return {"body": self.body.decode(), "signature": b64(self.signature)}

    @classmethod
    def from_json(cls, obj: Any) -> SignedEntry:
        if not isinstance(obj, dict) or not isinstance(obj.get("body"), str):
            raise MembersError("an entry is {body, signature}")
        body = obj["body"].encode()
        if len(body) > MAX_ENTRY_BYTES:
            raise MembersError("entry too large")
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:  # RecursionError: nested too deep
            raise MembersError("entry body is not JSON") from exc
        if not isinstance(data, dict):
            raise MembersError("entry body is not a JSON object")
        if canonical(data) != body:
            raise MembersError("entry body is not canonical JSON")
        return cls(body, unb64(obj.get("signature", "")))


def sign_entry(data: dict[str, Any], signing_seed: bytes) -> SignedEntry:
    body = canonical(data)
    signature = nacl.signing.SigningKey(signing_seed).sign(CONTEXT + body).signature
    return SignedEntry(body, signature)


def _verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        nacl.signing.VerifyKey(public_key).verify(message, signature)
        return True
    except (nacl.exceptions.BadSignatureError, ValueError, TypeError):
        return False


def invite_proof_message(invite_id: str, device: dict[str, Any]) -> bytes:
    return INVITE_CONTEXT + invite_id.encode() + b"\x00" + canonical(device)


def seal_key(audience_key: bytes, box_public: bytes) -> str:
    """An audience key sealed to one device's X25519 key (libsodium sealed box)."""
    return b64(nacl.bindings.crypto_box_seal(audience_key, box_public))


def open_sealed_key(sealed: str, box_private: bytes) -> bytes:
    private = nacl.public.PrivateKey(box_private)
    return nacl.public.SealedBox(private).decrypt(unb64(sealed))


@dataclass
class Device:
    id: str
    sign_key: bytes
    box_key: bytes
    role: Role
    person: str | None = None
    revoked: bool = False
    joined_seq: int = 0


@dataclass
class Invite:
    id: str
    role: Role
    person: str | None
    public_key: bytes
    expires: int
    used_by: str | None = None
    kiosk: bool = False  # for a person's key on the kiosk, not for a device


@dataclass(frozen=True)
class PersonKey:
    """A person's keys kept on one device (the kiosk), under their PIN there."""

    person: str
    device: str
    sign_key: bytes
    box_key: bytes


@dataclass
class MembersState:
    """What a verified log says: devices, invites, the current key epoch and
    the keys sealed to each device."""

    building_id: str = ""
    length: int = 0
    head: str = ""
    epoch: int = 0
    devices: dict[str, Device] = field(default_factory=dict)
    invites: dict[str, Invite] = field(default_factory=dict)
    # (epoch, device id) -> {audience name: sealed key}
    sealed: dict[tuple[int, str], dict[str, str]] = field(default_factory=dict)
    # person id -> {device id: the person's public keys kept on that device}
    person_keys: dict[str, dict[str, PersonKey]] = field(default_factory=dict)
    # (epoch, person id, device id) -> {"person:<id>": key sealed to the person's box key}
    sealed_persons: dict[tuple[int, str, str], dict[str, str]] = field(default_factory=dict)
    # a device was revoked and no new epoch has started since (§5.3: the
    # syndic's node starts it; its `keys` entry may have been lost)
    new_epoch_due: bool = False

    def active(self, device_id: str) -> Device | None:
        device = self.devices.get(device_id)
        return device if device is not None and not device.revoked else None

    def persons_of(self, device_id: str) -> frozenset[str]:
        """The persons ``device_id`` writes for: the person it belongs to,
        and on a kiosk every person whose keys it keeps."""
        device = self.devices.get(device_id)
        own = {device.person} if device is not None and device.person else set()
        kept = {person for person, by in self.person_keys.items() if device_id in by}
        return frozenset(own | kept)

    def apply(self, entry: SignedEntry, now: int | None = None) -> None:
        """Check ``entry`` against the log so far and take it in.

        ``now`` (unix seconds) is given by the relay to refuse expired
        invites; nodes replay the relay-accepted log with ``now=None``.
        Raises :class:`MembersError` and leaves the state unchanged on refusal.
        """
        data = entry.data
        _require(isinstance(data, dict) and _is_int(data.get("v"), 1), "unknown entry version")
        _require(_is_int(data.get("seq")), "seq is an integer")
        _require(data["seq"] == self.length, "entry out of sequence")
        _require(data.get("prev") == self.head, "entry does not follow the log")
        kind = data.get("type")
        _require(kind in ENTRY_TYPES, "unknown entry type")
        if self.length == 0:
            _require(kind == "genesis", "the log starts with a genesis entry")
            _require(is_ulid(str(data.get("building"))), "bad building id")
        else:
            _require(data.get("building") == self.building_id, "entry of another building")
        getattr(self, f"_apply_{kind}")(entry, data, now)
        self.length += 1
        self.head = entry.hash

    # -- entry types -----------------------------------------------------------

    def _admin(self, entry: SignedEntry, data: dict[str, Any]) -> Device:
        signer = self.active(str(data.get("signer")))
        _require(signer is not None, "signer is not an active device")
        assert signer is not None
        _require(signer.role in ADMIN_ROLES, "signer may not administer the building")
        _require(_verify(signer.sign_key, CONTEXT + entry.body, entry.signature), "bad signature")
        return signer

    def _apply_genesis(self, entry: SignedEntry, data: dict[str, Any], now: int | None) -> None:
        device = _device(data.get("device"))
        _require(device.role is Role.SYNDIC, "the creator is a syndic")
        _require(data.get("signer") == device.id, "genesis is signed by its device")
        _require(_verify(device.sign_key, CONTEXT + entry.body, entry.signature), "bad signature")
        self.building_id = data["building"]
        self.devices[device.id] = device
        self._take_sealed(data)

    def _apply_invite(self, entry: SignedEntry, data: dict[str, Any], now: int | None) -> None:
        self._admin(entry, data)
        invite = data.get("invite")
        _require(isinstance(invite, dict), "invite missing")
        invite_id = str(invite.get("id"))
        _require(is_ulid(invite_id) and invite_id not in self.invites, "bad or reused invite id")
        person = invite.get("person")
        _require(person is None or is_ulid(str(person)), "bad person id")
        expires = invite.get("expires")
        _require(_is_int(expires) and expires > 0, "bad expiry")
        kiosk = invite.get("kiosk", False)
        _require(isinstance(kiosk, bool), "bad kiosk flag")
        _require(not kiosk or person is not None, "a kiosk invite names its person")
        self.invites[invite_id] = Invite(
            invite_id,
            _role(invite.get("role")),
            person,
            _key(invite.get("key")),
            expires,
            kiosk=kiosk,
        )

    def _apply_join(self, entry: SignedEntry, data: dict[str, Any], now: int | None) -> None:
        invite = self.invites.get(str(data.get("invite")))
        _require(invite is not None, "unknown invite")
        assert invite is not None
        _require(invite.used_by is None, "the invite was already used")
        _require(not invite.kiosk, "a kiosk invite enrols a person on the kiosk, not a device")
        _require(now is None or now <= invite.expires, "the invite has expired")
        device = _device(data.get("device"))
        _require(device.id not in self.devices, "device already enrolled")
        _require(
            device.role is invite.role and device.person == invite.person,
            "device does not match its invite",
        )
        _require(data.get("signer") == device.id, "a join is signed by the joining device")
        _require(_verify(device.sign_key, CONTEXT + entry.body, entry.signature), "bad signature")
        proof = invite_proof_message(invite.id, data["device"])
        _require(
            _verify(invite.public_key, proof, unb64(str(data.get("proof")))), "bad invite proof"
        )
        invite.used_by = device.id
        device.joined_seq = self.length
        self.devices[device.id] = device

    def _apply_person(self, entry: SignedEntry, data: dict[str, Any], now: int | None) -> None:
        """A person's keys on the kiosk, with a kiosk invite naming them: the
        key that opens their inbox there is sealed to ``box``, whose private
        half the kiosk keeps under the person's PIN."""
        invite = self.invites.get(str(data.get("invite")))
        _require(invite is not None and invite.kiosk, "unknown kiosk invite")
        assert invite is not None
        _require(invite.used_by is None, "the invite was already used")
        _require(now is None or now <= invite.expires, "the invite has expired")
        device = self.active(str(data.get("signer")))
        _require(
            device is not None and device.role is Role.KIOSK,
            "a person's keys are kept by an active kiosk",
        )
        assert device is not None
        _require(_verify(device.sign_key, CONTEXT + entry.body, entry.signature), "bad signature")
        record = data.get("person")
        _require(isinstance(record, dict), "person record missing")
        person = str(record.get("id"))
        _require(person == invite.person, "person does not match the invite")
        keys = PersonKey(person, device.id, _key(record.get("sign")), _key(record.get("box")))
        proof = invite_proof_message(invite.id, record)
        _require(
            _verify(invite.public_key, proof, unb64(str(data.get("proof")))), "bad invite proof"
        )
        invite.used_by = device.id
        self.person_keys.setdefault(person, {})[device.id] = keys

    def _apply_keys(self, entry: SignedEntry, data: dict[str, Any], now: int | None) -> None:
        self._admin(entry, data)
        epoch = data.get("epoch")
        _require(_is_int(epoch) and self.epoch <= epoch <= self.epoch + 1, "bad epoch")
        to_persons = data.get("to_persons", {})
        _require(isinstance(to_persons, dict), "bad person keys")
        for target, keys in to_persons.items():
            person, _sep, device = str(target).partition("/")
            _require(
                device in self.person_keys.get(person, {}), "keys sealed to an unknown person key"
            )
            _require(
                isinstance(keys, dict)
                and set(keys) <= {person_label(person)}
                and all(isinstance(v, str) for v in keys.values()),
                "a person key only carries that person's key",
            )
        self._take_sealed(data)
        for target, keys in to_persons.items():
            person, _sep, device = str(target).partition("/")
            self.sealed_persons.setdefault((epoch, person, device), {}).update(keys)

    def _apply_revoke(self, entry: SignedEntry, data: dict[str, Any], now: int | None) -> None:
        signer = self._admin(entry, data)
        target = self.active(str(data.get("device")))
        _require(target is not None, "no such active device")
        assert target is not None
        _require(target.id != signer.id, "a device cannot revoke itself")
        target.revoked = True
        self.new_epoch_due = True

    def _take_sealed(self, data: dict[str, Any]) -> None:
        """Check every sealed key first, then take them all (all or nothing)."""
        epoch, sealed = data.get("epoch"), data.get("sealed")
        _require(_is_int(epoch) and epoch >= 1, "bad epoch")
        _require(isinstance(sealed, dict), "sealed keys missing")
        for device_id, keys in sealed.items():
            device = self.active(device_id)
            _require(device is not None, "keys sealed to an unknown or revoked device")
            assert device is not None
            _require(isinstance(keys, dict), "bad sealed keys")
            _require(
                all(may_hold(device, label) for label in keys),
                "keys sealed to a role that may not read them",
            )
            _require(all(isinstance(v, str) for v in keys.values()), "bad sealed key")
        for device_id, keys in sealed.items():
            self.sealed.setdefault((epoch, device_id), {}).update(keys)
        if epoch > self.epoch:
            self.new_epoch_due = False
        self.epoch = max(self.epoch, epoch)


def person_label(person_id: str) -> str:
    """The key label of one person's documents (``inbox/<person>``)."""
    return f"person:{person_id}"


def may_hold(device: Device, label: str) -> bool:
    """Whether a key with ``label`` may be sealed to ``device``: the audiences
    its role reads; a person's key to management devices and to that
    person's own devices (docs/sync-protocol.md §5.4)."""
    audiences = ROLE_AUDIENCES[device.role]
    if label.startswith("person:"):
        person = label.removeprefix("person:")
        return is_ulid(person) and (Audience.MANAGEMENT in audiences or device.person == person)
    return label in {a.name.lower() for a in audiences}


def _require(condition: bool, reason: str) -> None:
    if not condition:
        raise MembersError(reason)


def _is_int(value: Any, equal_to: int | None = None) -> bool:
    """Whether ``value`` is a JSON integer (and ``equal_to``, when given):
    not a bool, not a float such as ``3.0``, although Python finds
    ``True == 1`` and ``3.0 == 3``; another verifier of the same log would
    not."""
    whole = isinstance(value, int) and not isinstance(value, bool)
    return whole and (equal_to is None or value == equal_to)


def _role(value: Any) -> Role:
    try:
        return Role(value)
    except ValueError as exc:
        raise MembersError("unknown role") from exc


def _key(value: Any) -> bytes:
    raw = unb64(str(value))
    _require(len(raw) == 32, "a public key is 32 bytes")
    return raw


def _device(record: Any) -> Device:
    _require(isinstance(record, dict), "device record missing")
    device_id = str(record.get("id"))
    _require(is_ulid(device_id), "bad device id")
    person = record.get("person")
    _require(person is None or is_ulid(str(person)), "bad person id")
    return Device(
        device_id,
        _key(record.get("sign")),
        _key(record.get("box")),
        _role(record.get("role")),
        person,
    )


def device_record(
    device_id: str, sign_public: bytes, box_public: bytes, role: Role, person: str | None = None
) -> dict[str, Any]:
    return {
        "id": device_id,
        "sign": b64(sign_public),
        "box": b64(box_public),
        "role": role.value,
        "person": person,
    }


def replay(entries: list[SignedEntry], now: int | None = None) -> MembersState:
    """Verify a whole log from the start."""
    state = MembersState()
    for entry in entries:
        state.apply(entry, now)
    return state
