"""This device's keys, and the audience keys it holds (ARCHITECTURE §4).

The device's Ed25519 seed and X25519 private key are made on first need and
kept in the profile's ``secrets`` table, sealed with the storage key (which
is itself in the OS keyring or in the passphrase-protected key file): never
a plain file. The device id is an opaque ULID, kept in clear.

Audience keys arrive sealed to this device (members log ``keys`` entries) or
in an invite payload, and are kept the same way, one secret per epoch and
audience: ``audience:<epoch>:<name>``.
"""

from __future__ import annotations

from dataclasses import dataclass

import nacl.public
import nacl.signing

from shared.ids import new_ulid
from shared.members import device_record, open_sealed_key
from shared.protocol import Audience, Role

from .store import Store

_DEVICE_SECRET = "device"


@dataclass(frozen=True)
class DeviceIdentity:
    device_id: str
    sign_seed: bytes
    box_private: bytes

    @property
    def sign_public(self) -> bytes:
        return bytes(nacl.signing.SigningKey(self.sign_seed).verify_key)

    @property
    def box_public(self) -> bytes:
        return bytes(nacl.public.PrivateKey(self.box_private).public_key)

    def record(self, role: Role, person: str | None = None) -> dict:
        return device_record(self.device_id, self.sign_public, self.box_public, role, person)


def device_identity(store: Store) -> DeviceIdentity:
    """This profile's device keys, made the first time they are needed."""
    device_id = store.get_meta("device_id")
    secret = store.get_secret(_DEVICE_SECRET)
    if device_id and secret:
        return DeviceIdentity(device_id, secret[:32], secret[32:])
    identity = DeviceIdentity(
        new_ulid(),
        bytes(nacl.signing.SigningKey.generate()),
        bytes(nacl.public.PrivateKey.generate()),
    )
    with store.transaction():
        store.set_secret(_DEVICE_SECRET, identity.sign_seed + identity.box_private)
        store.set_meta({"device_id": identity.device_id})
    return identity


def _name(epoch: int, audience: Audience | str) -> str:
    label = audience.name.lower() if isinstance(audience, Audience) else audience
    return f"audience:{epoch:08d}:{label}"


def keep_audience_key(store: Store, epoch: int, audience: Audience | str, key: bytes) -> None:
    store.set_secret(_name(epoch, audience), key)


def audience_key(store: Store, epoch: int, audience: Audience | str) -> bytes | None:
    return store.get_secret(_name(epoch, audience))


def take_sealed_keys(
    store: Store, identity: DeviceIdentity, sealed: dict[tuple[int, str], dict[str, str]]
) -> int:
    """Open and keep every audience key sealed to this device in the
    (verified) members log; returns how many were new or replaced. The log
    is the authority: a key held for the same epoch and label that differs
    (made here for an epoch that never came, as a refused revocation once
    did) is replaced, or everything sealed with the real one is unreadable."""
    new = 0
    for (epoch, device_id), keys in sealed.items():
        if device_id != identity.device_id:
            continue
        for label, blob in keys.items():
            key = open_sealed_key(blob, identity.box_private)
            if audience_key(store, epoch, label) != key:
                keep_audience_key(store, epoch, label, key)
                new += 1
    return new


def held_epochs(store: Store) -> dict[int, set[str]]:
    """Which audience keys this device holds, by epoch."""
    held: dict[int, set[str]] = {}
    for name in store.secret_names("audience:"):
        _prefix, epoch, label = name.split(":", 2)
        held.setdefault(int(epoch), set()).add(label)
    return held
