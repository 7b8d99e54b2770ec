"""Who signs on this device, and checking what others signed (ballots,
consents): a person's own device signs with its device key; on the
building's shared PC (the kiosk) an enrolled owner signs with their own
keys, opened with their PIN (node.sync.kiosk). Signatures are checked
against the members log, so every device agrees on what is genuine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import nacl.exceptions
import nacl.public
import nacl.signing

from shared.protocol import Role

from ..errors import InputError
from ..i18n import _

if TYPE_CHECKING:
    from ..session import Session

KIOSK_PREFIX = "kiosk:"


@dataclass(frozen=True)
class Signer:
    """The keys a person signs and receives with on this device."""

    id: str  # the device id, or "kiosk:<device id>" for keys kept on the kiosk
    person: str
    sign_seed: bytes
    box_private: bytes

    @property
    def box_public(self) -> bytes:
        return bytes(nacl.public.PrivateKey(self.box_private).public_key)

    def sign(self, message: bytes) -> bytes:
        return nacl.signing.SigningKey(self.sign_seed).sign(message).signature


def signer(session: Session, person: str | None = None, pin: str | None = None) -> Signer:
    """This device's signer for ``person``: its own person, or on the kiosk
    an enrolled person with their PIN. Clear errors otherwise."""
    from ..identity import device_identity

    store = session.profile.store
    identity = device_identity(store)
    if store.get_meta("role") == Role.KIOSK.value:
        if not person or pin is None:
            raise InputError(
                _("On the building's shared computer, choose who you are and give your PIN.")
            )
        from ..sync import kiosk

        unlocked = kiosk.unlock(session, person, pin)
        return Signer(
            KIOSK_PREFIX + identity.device_id, person, unlocked.sign_seed, unlocked.box_private
        )
    own = store.get_meta("person")
    if not own:
        raise InputError(_("This device belongs to no owner: it cannot sign for anyone."))
    if person and person != own:
        raise InputError(_("A device signs only for the owner it belongs to."))
    return Signer(identity.device_id, own, identity.sign_seed, identity.box_private)


class Verifier:
    """Public keys from the members log (or, on a profile that never
    synced, this device's own keys). :attr:`members` is only read: a
    :class:`VerifierCache` hands the same one to every caller."""

    def __init__(self, session: Session) -> None:
        from ..identity import device_identity
        from ..sync.engine import members_state

        self.members = members_state(session)
        self.own = device_identity(session.profile.store)
        self.own_person = session.profile.store.get_meta("person") or ""

    def _keys(self, signer: str, person: str) -> tuple[bytes, bytes] | None:
        if signer.startswith(KIOSK_PREFIX):
            kept = self.members.person_keys.get(person, {}).get(signer[len(KIOSK_PREFIX) :])
            return (kept.sign_key, kept.box_key) if kept is not None else None
        device = self.members.devices.get(signer)
        if device is not None:
            return (device.sign_key, device.box_key) if device.person == person else None
        if not self.members.devices and signer == self.own.device_id and person == self.own_person:
            return self.own.sign_public, self.own.box_public
        return None

    def sign_key(self, signer: str, person: str) -> bytes | None:
        keys = self._keys(signer, person)
        return keys[0] if keys else None

    def box_key(self, signer: str, person: str) -> bytes | None:
        keys = self._keys(signer, person)
        return keys[1] if keys else None

    def verifies(self, signer: str, person: str, message: bytes, signature: bytes) -> bool:
        key = self.sign_key(signer, person)
        if key is None:
            return False
        try:
            nacl.signing.VerifyKey(key).verify(message, signature)
        except (nacl.exceptions.BadSignatureError, ValueError):
            return False
        return True


class VerifierCache:
    """One :class:`Verifier`, kept while the members log and this device's
    own id and person stay as they were, so that reading a screen does not
    replay the whole log each time (replaying checks every entry's
    signature). Every :meth:`get` reads the log's version first (one small
    query): an entry appended here or by another process on the profile (a
    device revoked, a new key epoch) means a new verifier at that call.

    The version is read before the log is replayed: an entry landing in
    between is then in the verifier but not in its key, which only costs
    one more replay, never a stale answer. The key and its verifier are
    replaced as one tuple, so a caller on another thread never pairs a
    key with another key's verifier (the desktop runs node calls on one
    worker thread; this keeps it right anyway)."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._kept: tuple[tuple[object, ...], Verifier] | None = None

    def _key(self) -> tuple[object, ...]:
        store = self._session.profile.store
        return store.members_version(), store.get_meta("device_id"), store.get_meta("person")

    def get(self) -> Verifier:
        """A verifier for the members log as stored now."""
        key = self._key()
        kept = self._kept
        if kept is not None and kept[0] == key:
            return kept[1]
        verifier = Verifier(self._session)
        self._kept = (key, verifier)
        return verifier
