"""Owners on the shared building PC (the kiosk), each behind their own PIN.

ARCHITECTURE §4, docs/sync-protocol.md §5.4. The kiosk is one device shared
by everyone in the building; it reads what concerns the whole building.
An owner who wants their own inbox there enrols once, with a kiosk invite
from the syndic (naming them) and a PIN they choose:

* the kiosk makes the person's keys (Ed25519 to sign, X25519 to receive),
  keeps the private halves in the profile only sealed under a key derived
  from the PIN with Argon2id, and publishes the public halves in a
  ``person`` entry of the members log, proven with the invite's code;
* the syndic's device seals that person's inbox key, for every epoch, to
  the published box key (``keys`` entries, ``to_persons``);
* reading the inbox asks for the PIN, opens the person's keys in memory,
  fetches ``inbox/<person>`` from the relay and decrypts it in memory.
  Nothing of the inbox is written to the kiosk's disk, so the next person
  at the kiosk finds nothing of it there.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import nacl.public
import nacl.pwhash.argon2id as argon2id
import nacl.signing
import nacl.utils
import pycrdt

from shared import envelope as env
from shared import invites
from shared.crypto import DecryptionError, open_sealed, seal
from shared.envelope import Kind
from shared.ids import is_ulid
from shared.members import SignedEntry, b64, invite_proof_message, open_sealed_key, person_label
from shared.protocol import Role

from ..documents import directory_doc, inbox_doc
from ..documents.live import covers
from ..domain.registry import match_names
from ..errors import InputError, KeyAccessError
from ..i18n import _
from ..session import KEPT_PERSON_PREFIX, Session
from .engine import SyncEngine

MIN_PIN = 6
PIN_ENV = "KOPROGO_PIN"
_AAD = b"koprogo-person-pin-v1"
_COSTS = {
    "moderate": (argon2id.OPSLIMIT_MODERATE, argon2id.MEMLIMIT_MODERATE),
    "interactive": (argon2id.OPSLIMIT_INTERACTIVE, argon2id.MEMLIMIT_INTERACTIVE),
}


def _secret_name(person: str) -> str:
    return f"{KEPT_PERSON_PREFIX}{person}"


@dataclass(frozen=True)
class UnlockedPerson:
    """A person's keys, opened with their PIN, held in memory only."""

    person: str
    sign_seed: bytes
    box_private: bytes
    keys: dict[int, bytes]  # epoch -> inbox key known when enrolling

    def inbox_key(self, engine: SyncEngine, epoch: int) -> bytes | None:
        if epoch in self.keys:
            return self.keys[epoch]
        sealed = engine.members.sealed_persons.get(
            (epoch, self.person, engine.identity.device_id), {}
        ).get(person_label(self.person))
        return None if sealed is None else open_sealed_key(sealed, self.box_private)


def _seal_under_pin(pin: str, content: dict) -> str:
    cost = os.environ.get("KOPROGO_ARGON2", "moderate")
    opslimit, memlimit = _COSTS[cost]
    salt = nacl.utils.random(argon2id.SALTBYTES)
    key = argon2id.kdf(32, pin.encode(), salt, opslimit=opslimit, memlimit=memlimit)
    return json.dumps(
        {
            "salt": b64(salt),
            "opslimit": opslimit,
            "memlimit": memlimit,
            "sealed": b64(seal(key, json.dumps(content).encode(), _AAD)),
        }
    )


def _open_under_pin(pin: str, blob: str) -> dict:
    record = json.loads(blob)
    key = argon2id.kdf(
        32,
        pin.encode(),
        base64.b64decode(record["salt"]),
        opslimit=int(record["opslimit"]),
        memlimit=int(record["memlimit"]),
    )
    try:
        return json.loads(open_sealed(key, base64.b64decode(record["sealed"]), _AAD))
    except DecryptionError as exc:
        raise KeyAccessError(
            _(
                "The PIN is not correct. Forgotten? Ask the syndic for a new invite for this "
                "computer, and enrol again."
            )
        ) from exc


def enrolled(session: Session) -> list[str]:
    """Persons whose keys this kiosk keeps (each behind their PIN)."""
    prefix = KEPT_PERSON_PREFIX
    return [name.removeprefix(prefix) for name in session.profile.store.secret_names(prefix)]


def enrolled_names(session: Session) -> dict[str, str]:
    """Enrolled person id -> their name as the directory gives it ("" when it
    does not name them: not a voting holder)."""
    names: dict[str, str] = {}
    if session.can_read("directory"):
        names = directory_doc.person_names(session.document("directory").doc)
    return {person: names.get(person, "") for person in enrolled(session)}


def enrolled_named(session: Session, ref: str) -> str:
    """The enrolled person ``ref`` means: their id, or their name (case does
    not matter, a unique start will do). Found by hand: an owner at the PC
    had to type a 26-character id, and her name was answered "not
    enrolled"."""
    if is_ulid(ref):  # an id: whether enrolled is said by require_enrolled
        return ref
    names = enrolled_names(session)
    matches = match_names(names, ref)
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise InputError(_("Nobody named {name!r} is enrolled on this PC.").format(name=ref))
    raise InputError(
        _("{name!r} names several persons ({names}); give more of the name or the id.").format(
            name=ref, names=", ".join(sorted(names[m] for m in matches))
        )
    )


async def enrol(engine: SyncEngine, code: str, pin: str) -> str:
    """Enrol a person on this kiosk with their kiosk invite code and a new
    PIN; returns the person id."""
    if engine.role is not Role.KIOSK:
        raise InputError(_("Only the building's shared computer keeps owners' keys under a PIN."))
    if len(pin) < MIN_PIN:
        raise InputError(_("The PIN must have at least {n} characters.").format(n=MIN_PIN))
    if not invites.is_well_formed(code):
        raise InputError(
            _("{code!r} is not an invite code (ten letters and digits).").format(code=code)
        )
    secrets = invites.derive(code)
    offer = await engine.client.get_invite(secrets.invite_id)
    try:
        payload = invites.open_payload(secrets, base64.b64decode(offer["payload"]))
    except Exception as exc:
        raise InputError(_("This invite code does not open the invite.")) from exc
    await engine.refresh_members()
    invite = engine.members.invites.get(secrets.invite_id)
    if invite is None or not invite.kiosk or invite.person is None:
        raise InputError(_("This code is not an invite for the building's shared computer."))
    person = invite.person
    sign_seed = bytes(nacl.signing.SigningKey.generate())
    box = nacl.public.PrivateKey.generate()
    label = person_label(person)
    # the person's key of every epoch the invite carries: what was written
    # before a revocation stays under its epoch's key (found by hand: an
    # owner enrolled after any removal saw an empty inbox)
    held = {**payload.get("older", {}), str(payload["epoch"]): payload["keys"]}
    keys = {str(epoch): k[label] for epoch, k in held.items() if label in k}
    record = {
        "id": person,
        "sign": b64(bytes(nacl.signing.SigningKey(sign_seed).verify_key)),
        "box": b64(bytes(box.public_key)),
    }
    members, identity = engine.members, engine.identity
    data = {
        "v": 1,
        "seq": members.length,
        "prev": members.head,
        "building": members.building_id,
        "type": "person",
        "signer": identity.device_id,
        "invite": invite.id,
        "person": record,
        "proof": b64(secrets.sign(invite_proof_message(invite.id, record))),
    }
    entry = SignedEntry(*_sign(data, identity.sign_seed))
    engine.store.set_secret(
        _secret_name(person),
        _seal_under_pin(
            pin,
            {
                "sign": b64(sign_seed),
                "box": b64(bytes(box)),
                "keys": keys,
            },
        ).encode(),
    )
    try:
        await engine.client.join(invite.id, entry)
    except BaseException:
        engine.store.delete_secret(_secret_name(person))
        raise
    await engine.refresh_members()
    return person


def _sign(data: dict, seed: bytes) -> tuple[bytes, bytes]:
    from shared.members import sign_entry

    entry = sign_entry(data, seed)
    return entry.body, entry.signature


def require_enrolled(session: Session, person: str) -> bytes:
    """The person's keys sealed under their PIN; refused before the PIN is
    asked (found by hand: it was asked first)."""
    blob = session.profile.store.get_secret(_secret_name(person))
    if blob is None:
        raise InputError(_("This person has not been enrolled on this PC."))
    return blob


FREE_PIN_TRIES = 5  # then each wrong PIN doubles the wait before the next try
FIRST_WAIT_SECONDS = 60


def unlock(
    session: Session, person: str, pin: str, clock: Callable[[], float] = time.time
) -> UnlockedPerson:
    """A person's keys, opened with their PIN. Wrong PINs are counted per
    person on this PC: after :data:`FREE_PIN_TRIES` of them in a row, the
    next try waits a minute, then 2, 4… (found by hand: tries were
    unlimited, at the building's shared PC)."""
    blob = require_enrolled(session, person)
    store = session.profile.store
    name = f"pin_failures:{person}"

    def take_a_try(value: str | None) -> str:
        failures, last = (int(x) for x in (value or "0:0").split(":"))
        if failures >= FREE_PIN_TRIES:
            wait = FIRST_WAIT_SECONDS * 2 ** (failures - FREE_PIN_TRIES) - (clock() - last)
            if wait > 0:
                raise KeyAccessError(
                    _("Too many wrong PINs for this person: try again in {n} min.").format(
                        n=max(1, round(wait / 60))
                    )
                )
        return f"{failures + 1}:{int(clock())}"

    # Counted as wrong before the (slow) check, in one transaction, and
    # forgiven once right (found by hand: twelve tries started together all
    # read the same count, and were all checked).
    store.update_meta(name, take_a_try)
    content = _open_under_pin(pin, blob.decode())
    store.set_meta({name: "0:0"})
    return UnlockedPerson(
        person,
        base64.b64decode(content["sign"]),
        base64.b64decode(content["box"]),
        {int(epoch): base64.b64decode(key) for epoch, key in content["keys"].items()},
    )


async def read_inbox(engine: SyncEngine, unlocked: UnlockedPerson) -> list[inbox_doc.InboxItem]:
    """Fetch and decrypt ``inbox/<person>`` in memory; nothing is stored."""
    await engine.refresh_members()
    doc_id = f"inbox/{unlocked.person}"
    doc = pycrdt.Doc()
    waiting: list[tuple[bytes, bytes]] = []
    after = 0
    while True:
        page = await engine.client.pull(doc_id, after)
        for seq, raw in page.records:
            after = seq
            envelope = env.decode(raw)
            header = envelope.header
            sender = engine.members.devices.get(header.device_id)
            if sender is None or header.doc_id != doc_id:
                continue
            envelope.verify(sender.sign_key)
            key = unlocked.inbox_key(engine, header.key_epoch)
            if key is None or header.kind not in (Kind.UPDATE, Kind.SNAPSHOT, Kind.REPLY):
                continue
            _schema, deps, payload = env.decode_body(envelope.open(env.document_key(key, doc_id)))
            waiting.append((deps, payload))
        if not page.more or not page.records:
            break
    progress = True
    while progress and waiting:  # causal order, as for stored documents (decision 0001)
        progress = False
        for item in list(waiting):
            deps, payload = item
            if not deps or covers(doc.get_state(), deps):
                doc.apply_update(payload)
                waiting.remove(item)
                progress = True
    return inbox_doc.read(doc)
