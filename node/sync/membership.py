"""Members-log flows: register a building, invite, join, grant keys, revoke.

docs/sync-protocol.md §5–§6. Each flow builds signed entries with
:mod:`shared.members` and sends them through the relay client; the relay and
every node verify them with the same code.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared import envelope, invites
from shared.crypto import new_key
from shared.ids import ulid_time
from shared.members import (
    Device,
    SignedEntry,
    b64,
    invite_proof_message,
    may_hold,
    person_label,
    replay,
    seal_key,
    sign_entry,
)
from shared.protocol import ROLE_AUDIENCES, Audience, Role

from ..errors import InputError, KoprogoError
from ..i18n import _
from ..identity import DeviceIdentity, audience_key, device_identity, keep_audience_key
from ..keys import KeyStorage, PassphraseProvider
from ..session import Session
from .relay_client import RelayClient, RelayError

if TYPE_CHECKING:
    from .engine import SyncEngine

INVITE_DAYS = 7
MAX_INVITE_DAYS = 30  # a code guessed or leaked stays usable no longer
_AUDIENCES = (Audience.MANAGEMENT, Audience.BUILDING)


def _base(state_length: int, head: str, building: str, signer: str, kind: str) -> dict[str, Any]:
    return {
        "v": 1,
        "seq": state_length,
        "prev": head,
        "building": building,
        "type": kind,
        "signer": signer,
    }


def _sealed_for(store, epoch: int, device_box: bytes, role: Role) -> dict[str, str]:
    return {
        a.name.lower(): seal_key(audience_key(store, epoch, a), device_box)  # type: ignore[arg-type]
        for a in _AUDIENCES
        if a in ROLE_AUDIENCES[role]
    }


def person_key(store, epoch: int, person: str, create: bool = True) -> bytes | None:
    """The key of ``inbox/<person>`` for an epoch: the one held (from the
    members log), else derived from the epoch's management key the first
    time it is needed (docs/sync-protocol.md §5.4). Derived, not random:
    two syndic devices that each send a first message to a person while
    offline make the same key (found by hand: with random keys, one
    device's messages could be read by nobody else, and nothing said so)."""
    label = person_label(person)
    key = audience_key(store, epoch, label)
    if key is None and create:
        management = audience_key(store, epoch, Audience.MANAGEMENT)
        if management is None:
            return None  # not a management device: it never makes person keys
        key = envelope.person_key(management, person)
        keep_audience_key(store, epoch, label, key)
    return key


def _persons_with_keys(store, epoch: int) -> set[str]:
    prefix = f"audience:{epoch:08d}:person:"
    return {name.removeprefix(prefix) for name in store.secret_names(prefix)}


def _wanted(store, epoch: int, device: Device, persons: set[str]) -> dict[str, bytes]:
    """Every key a device should hold at ``epoch``: its role's audiences, and
    the person keys it may read (its own person's; every person's for
    management devices)."""
    wanted: dict[str, bytes] = {
        a.name.lower(): audience_key(store, epoch, a)  # type: ignore[misc]
        for a in _AUDIENCES
        if a in ROLE_AUDIENCES[device.role]
    }
    candidates = persons | ({device.person} if device.person else set())
    for person in sorted(candidates):
        if may_hold(device, person_label(person)):
            wanted[person_label(person)] = person_key(store, epoch, person)  # type: ignore[assignment]
    return wanted


def _seal_missing(store, epoch: int, members, devices) -> dict[str, dict[str, str]]:
    """Keys of ``epoch`` that active ``devices`` should hold and were not sealed to them."""
    persons = _persons_with_keys(store, epoch) | {d.person for d in devices if d.person}
    sealed: dict[str, dict[str, str]] = {}
    for device in devices:
        have = members.sealed.get((epoch, device.id), {}) if members is not None else {}
        missing = {
            label: seal_key(key, device.box_key)
            for label, key in _wanted(store, epoch, device, persons).items()
            if label not in have
        }
        if missing:
            sealed[device.id] = missing
    return sealed


# -- registering a building --------------------------------------------------------------


def genesis_entry(session: Session) -> SignedEntry:
    """Make this device's keys and the epoch-1 audience keys; sign the genesis."""
    store = session.profile.store
    identity = device_identity(store)
    for audience in _AUDIENCES:
        if audience_key(store, 1, audience) is None:
            keep_audience_key(store, 1, audience, new_key())
    data = _base(0, "", session.building_id, identity.device_id, "genesis")
    data.update(
        device=identity.record(Role.SYNDIC),
        epoch=1,
        sealed={identity.device_id: _sealed_for(store, 1, identity.box_public, Role.SYNDIC)},
    )
    return sign_entry(data, identity.sign_seed)


async def connect(
    session: Session, relay_url: str, committing: Callable[[], None] | None = None
) -> bool:
    """Register the building at the relay (first time) or reconnect to it.
    Returns True when the building was registered now. ``committing`` is
    called just before the building is registered (not to be cut short)."""
    store = session.profile.store
    registered = bool(store.members_entries())
    async with RelayClient(relay_url, device_identity(store), session.building_id) as client:
        if registered:
            try:
                await client.heads()  # reachable, and it knows us
            except RelayError as exc:
                current = store.get_meta("relay_url")
                if exc.code != "unknown-building" or not current or current == relay_url:
                    raise
                raise InputError(
                    _(
                        "This building syncs through {current}, and {url} does not know it. "
                        "Moving a building to another relay is not possible yet: keep {current}."
                    ).format(current=current, url=relay_url)
                ) from exc
        else:
            genesis = genesis_entry(session)
            if committing is not None:
                committing()
            await client.register(genesis)
            store.add_members_entries(0, [(genesis.body, genesis.signature)])
    store.set_meta(
        {
            "relay_url": relay_url,
            "role": Role.SYNDIC.value
            if not registered
            else store.get_meta("role") or Role.SYNDIC.value,
        }
    )
    if not registered:
        session.enable_sync(initial_push=True)
    return not registered


# -- granting keys and revoking ---------------------------------------------------------------


def grant_entry(engine: SyncEngine) -> SignedEntry | None:
    """A ``keys`` entry sealing the current epoch's keys to active devices
    that lack some (devices that joined, person keys made since) and to
    persons' keys kept on the kiosk."""
    members, store, identity = engine.members, engine.store, engine.identity
    epoch = members.epoch
    active = [d for d in members.devices.values() if not d.revoked]
    missing = _seal_missing(store, epoch, members, active)
    to_persons = _seal_to_persons(store, epoch, members, members, engine.session.registry.erased())
    if not missing and not to_persons:
        return None
    data = _base(members.length, members.head, members.building_id, identity.device_id, "keys")
    data.update(epoch=epoch, sealed=missing)
    if to_persons:
        data["to_persons"] = to_persons
    return sign_entry(data, identity.sign_seed)


def _seal_to_persons(
    store, epoch: int, state, sealed_from, erased: frozenset[str] = frozenset()
) -> dict[str, dict[str, str]]:
    """Each person's key, sealed to that person's keys on a (still active)
    kiosk, where not sealed already; never to an ``erased`` person's (found
    by hand: their enrolment on the kiosk kept receiving new keys)."""
    out: dict[str, dict[str, str]] = {}
    for person, kept in state.person_keys.items():
        if person in erased:
            continue
        for device_id, keys in kept.items():
            if state.active(device_id) is None:
                continue
            have = (
                sealed_from.sealed_persons.get((epoch, person, device_id), {})
                if sealed_from
                else {}
            )
            label = person_label(person)
            if label not in have:
                out[f"{person}/{device_id}"] = {
                    label: seal_key(person_key(store, epoch, person), keys.box_key)  # type: ignore[arg-type]
                }
    return out


async def revoke(engine: SyncEngine, device_id: str) -> int:
    """Revoke a device and start a new key epoch for everyone else."""
    await engine.refresh_members()
    members, store, identity = engine.members, engine.store, engine.identity
    if engine.role is not Role.SYNDIC:
        # Before anything is made or kept: a refused revocation used to leave
        # keys for an epoch that did not exist yet on this device.
        raise InputError(_("Only the syndic's device can remove devices."))
    if members.active(device_id) is None:
        if device_id in members.devices:  # found by hand: "no active device", for one removed
            raise InputError(_("Device {id} was already removed.").format(id=device_id))
        raise InputError(_("There is no active device {id}.").format(id=device_id or "?"))
    if device_id == identity.device_id:
        raise InputError(_("A device cannot remove itself."))
    data = _base(members.length, members.head, members.building_id, identity.device_id, "revoke")
    data["device"] = device_id
    revoke_entry = sign_entry(data, identity.sign_seed)
    trial = replay([SignedEntry(b, s) for b, s in store.members_entries()] + [revoke_entry])
    keys_entry = new_epoch_entry(store, identity, trial, engine.session.registry.erased())
    await engine.client.post_member(revoke_entry)
    # If this one is lost, the log says a new epoch is due and the next
    # round of this syndic device starts it (SyncEngine.refresh_members).
    await engine.client.post_member(keys_entry)
    await engine.refresh_members()
    return trial.epoch + 1


def new_epoch_entry(
    store, identity: DeviceIdentity, members, erased: frozenset[str] = frozenset()
) -> SignedEntry:
    """The ``keys`` entry starting epoch ``members.epoch + 1`` (§5.3): fresh
    audience and person keys, kept here and sealed to every active device,
    each only what its role reads."""
    epoch = members.epoch + 1
    for audience in _AUDIENCES:
        keep_audience_key(store, epoch, audience, new_key())
    for person in _persons_with_keys(store, members.epoch):  # new person keys as well
        person_key(store, epoch, person)
    active = [d for d in members.devices.values() if not d.revoked]
    sealed = _seal_missing(store, epoch, None, active)
    data = _base(members.length, members.head, members.building_id, identity.device_id, "keys")
    data.update(epoch=epoch, sealed=sealed)
    to_persons = _seal_to_persons(store, epoch, members, None, erased)
    if to_persons:
        data["to_persons"] = to_persons
    return sign_entry(data, identity.sign_seed)


# -- invites and joining ----------------------------------------------------------------


@dataclass(frozen=True)
class CreatedInvite:
    code: str
    invite_id: str
    role: Role
    person: str | None
    expires_at: int


async def create_invite(
    engine: SyncEngine,
    role: Role,
    person: str | None = None,
    days: int = INVITE_DAYS,
    kiosk: bool = False,
) -> CreatedInvite:
    """An invite for a new device of ``role`` (naming its ``person`` for an
    owner), or with ``kiosk`` for ``person``'s keys on the shared PC."""
    await engine.refresh_members()
    if engine.role is not Role.SYNDIC:
        raise InputError(_("Only the syndic's device can invite."))
    if days < 1:
        raise InputError(_("An invite lasts at least one day."))
    if days > MAX_INVITE_DAYS:  # found by hand: --days 1000, a code valid for three years
        raise InputError(
            _("An invite lasts {days} days at most; make a new one later.").format(
                days=MAX_INVITE_DAYS
            )
        )
    if kiosk and role not in (Role.OWNER, Role.KIOSK):
        # found by hand: --role syndic --kiosk silently became an owner's invite
        raise InputError(
            _("A kiosk invite is for an owner's keys on the shared computer: use the owner role.")
        )
    if role is Role.KIOSK and person is not None and not kiosk:
        raise InputError(_("The shared computer's own invite names no person."))
    if kiosk:
        role = Role.OWNER  # what the person is; the kiosk keeps their keys
    if role is Role.OWNER and person is None:
        raise InputError(_("An owner's invite names the person (--person)."))
    if person is not None:  # an id, or a name (a unique start will do)
        person = engine.session.registry.person_named(person).id
    code = invites.new_code()
    secrets = invites.derive(code)
    expires = int(engine.clock()) + engine.client.offset + days * 86_400
    members, store, identity = engine.members, engine.store, engine.identity
    data = _base(members.length, members.head, members.building_id, identity.device_id, "invite")
    data["invite"] = {
        "id": secrets.invite_id,
        "role": role.value,
        "person": person,
        "key": b64(secrets.public_key),
        "expires": expires,
        **({"kiosk": True} if kiosk else {}),
    }
    entry = sign_entry(data, identity.sign_seed)
    epoch = members.epoch
    payload = invites.seal_payload(
        secrets,
        {
            "building": members.building_id,
            "relay": engine.client.base_url,
            "epoch": epoch,
            "keys": _invite_keys(store, epoch, role, person, kiosk),
            # What was written before a revocation stays under older epochs'
            # keys until a snapshot replaces it: a device joining later reads
            # it with these (found by hand: it saw an empty registry).
            "older": {
                str(older): _invite_keys(store, older, role, person, kiosk, current=False)
                for older in range(1, epoch)
            },
        },
    )
    await engine.client.post_invite(entry, payload)
    await engine.refresh_members()
    return CreatedInvite(code, secrets.invite_id, role, person, expires)


async def join(
    path: Path,
    relay_url: str,
    code: str,
    provider: PassphraseProvider | None = None,
    key_storage: KeyStorage | None = None,
    committing: Callable[[], None] | None = None,
) -> Session:
    """Join a building with an invite code: a new profile at ``path``.
    ``committing`` is called just before the relay is asked to enrol this
    device (from there on the join must not be cut short)."""
    if not invites.is_well_formed(code):
        raise InputError(
            _("{code!r} is not an invite code (ten letters and digits).").format(code=code)
        )
    secrets = invites.derive(code)
    async with RelayClient(relay_url) as client:
        offer = await client.get_invite(secrets.invite_id)
        try:
            payload = invites.open_payload(secrets, base64.b64decode(offer["payload"]))
        except Exception as exc:
            raise InputError(_("This invite code does not open the invite.")) from exc
        entries = [SignedEntry.from_json(e) for e in offer["entries"]]
        state = replay(entries)
        invite = state.invites.get(secrets.invite_id)
        if invite is None or state.building_id != payload["building"]:
            raise InputError(_("The relay's answer does not match the invite."))
        if invite.kiosk:  # the relay would refuse it, in its own (English) words
            raise InputError(
                _(
                    "This code enrols a resident on the building's shared computer; it does "
                    "not make a new device join."
                )
            )
        created_folder = not Path(path).exists()
        session = Session.create(path, provider, key_storage)
        try:
            store = session.profile.store
            store.set_meta(
                {
                    "building_id": state.building_id,
                    "relay_url": relay_url,
                    "role": invite.role.value,
                    "person": invite.person or "",
                }
            )
            identity = device_identity(store)
            held = {int(payload["epoch"]): payload["keys"]}
            held.update({int(e): keys for e, keys in payload.get("older", {}).items()})
            for epoch, keys in held.items():
                for label, key in keys.items():
                    keep_audience_key(store, epoch, label, base64.b64decode(key))
            record = identity.record(invite.role, invite.person)
            data = _base(state.length, state.head, state.building_id, identity.device_id, "join")
            data.update(
                invite=invite.id,
                device=record,
                proof=b64(secrets.sign(invite_proof_message(invite.id, record))),
            )
            entry = sign_entry(data, identity.sign_seed)
            if committing is not None:
                committing()
            try:
                await client.join(invite.id, entry)
            except RelayError as exc:
                if not exc.retryable:
                    raise  # refused: nothing was enrolled
                # Found by hand: the answer lost, the profile was deleted while
                # the relay had enrolled the device -- the invite used up and a
                # device nobody holds left in the building. Keep the profile:
                # the next sync finishes the join if the relay took it.
                store.add_members_entries(0, [(e.body, e.signature) for e in entries])
                store.set_meta({JOIN_UNSURE: "1"})
                session.close()
                raise JoinUnsure(
                    _(
                        "No answer from the relay after it was asked to enrol this device "
                        "({reason}); it may have done so. Run koprogo-node sync (or open this "
                        "profile in the app): if the relay enrolled it, that finishes the join; "
                        "if not, it says so and you need a new invite."
                    ).format(reason=str(exc).rstrip("."))
                ) from exc
            store.add_members_entries(0, [(e.body, e.signature) for e in [*entries, entry]])
            session.enable_sync(initial_push=False)
        except JoinUnsure:
            raise
        except BaseException:
            session.close()
            _remove_profile(Path(path), created_folder)
            raise
    return session


JOIN_UNSURE = "join_unsure"  # meta: asked the relay to enrol, never heard back


class JoinUnsure(KoprogoError):
    """The relay was asked to enrol this device and never answered: the
    profile is kept; the next sync finishes the join or says it failed."""


def _invite_keys(
    store, epoch: int, role: Role, person: str | None, kiosk: bool, current: bool = True
) -> dict[str, str]:
    """The keys of ``epoch`` an invite carries: the role's audiences and the
    person keys it may read (made now for the ``current`` epoch if need be;
    of an older one, those that existed)."""
    keys = {
        a.name.lower(): b64(audience_key(store, epoch, a))  # type: ignore[arg-type]
        for a in _AUDIENCES
        if a in ROLE_AUDIENCES[role] and audience_key(store, epoch, a) is not None
    }
    for p in _payload_persons(store, epoch, role, person, kiosk):
        key = person_key(store, epoch, p, create=current)
        if key is not None:
            keys[person_label(p)] = b64(key)
    return keys


def _payload_persons(store, epoch: int, role: Role, person: str | None, kiosk: bool) -> set[str]:
    """Person keys an invite carries: the invited person's own, and for a
    management device every person key of the epoch (it reads every inbox)."""
    persons = {person} if person is not None else set()
    if not kiosk and Audience.MANAGEMENT in ROLE_AUDIENCES[role]:
        persons |= _persons_with_keys(store, epoch)
    return persons


def _remove_profile(path: Path, whole_folder: bool) -> None:
    """Undo a half-made profile after a refused join: its files, and the
    folder if the join created it. The key stays nowhere (a keyring entry
    is removed, a key file goes with the folder)."""
    import shutil

    from ..keys import forget_keyring_key
    from ..store import Store

    profile_id = None
    try:
        store = Store(path / Store.FILE_NAME)
        profile_id = store.get_meta("profile_id")
        store.close()
    except Exception:
        pass
    if profile_id:
        forget_keyring_key(profile_id)
    if whole_folder:
        shutil.rmtree(path, ignore_errors=True)
    else:
        for name in (
            Store.FILE_NAME,
            Store.FILE_NAME + "-wal",
            Store.FILE_NAME + "-shm",
            "storage-key.json",
        ):
            (path / name).unlink(missing_ok=True)


def device_list(engine_members, this_device: str) -> list[dict[str, Any]]:
    """Oldest first (by when each joined), whatever happened to them since."""
    devices = sorted(engine_members.devices.values(), key=lambda d: d.joined_seq)
    return [
        {
            "id": d.id,
            "role": d.role.value,
            "person": d.person,
            "revoked": d.revoked,
            "this_device": d.id == this_device,
            # the day its keys were made, i.e. it joined (its id is a ULID);
            # found by hand: two council devices could not be told apart
            "joined": datetime.fromtimestamp(ulid_time(d.id), UTC).date().isoformat(),
        }
        for d in devices
    ]


def now() -> int:
    return int(time.time())


__all__ = [
    "CreatedInvite",
    "DeviceIdentity",
    "connect",
    "create_invite",
    "device_list",
    "genesis_entry",
    "grant_entry",
    "join",
    "revoke",
]
