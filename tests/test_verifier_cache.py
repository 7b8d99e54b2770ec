"""The members log is replayed once per change, never served stale: the
energy and assembly services keep one verifier while the log (and this
device's own id and person) stay as they were, and build a new one at the
first call after an entry lands, whoever wrote it."""

from __future__ import annotations

import nacl.public
import pytest

from node.identity import device_identity
from node.services.energy import EnergyService
from node.sync import engine
from shared.members import SignedEntry
from shared.protocol import Role
from tests.helpers import reopen
from tests.relay.helpers import Device, Kit
from tests.test_assembly_service import building
from tests.test_energy_service import ann_reading, campaign_collecting


@pytest.fixture
def opted_in(tmp_path):
    """A profile that never synced (no members log), a campaign collecting
    and Ann's opt-in, signed by this device's own key."""
    session, people = building(tmp_path / "syndic")
    campaign = campaign_collecting(session, people)
    session.profile.store.set_meta({"person": people["Ann"]})
    session.energy.opt_in(campaign, "A1", ann_reading())
    yield session, people, campaign
    session.close()


def this_device(session, person: str) -> Device:  # type: ignore[no-untyped-def]
    """The profile's own device keys, as a members-log device of ``person``."""
    identity = device_identity(session.profile.store)
    device = Device(Role.OWNER, person)
    device.id, device.seed = identity.device_id, identity.sign_seed
    device.box = nacl.public.PrivateKey(identity.box_private)
    return device


def append(store, *entries: SignedEntry) -> None:  # type: ignore[no-untyped-def]
    """Keep entries the relay accepted, as a sync round does."""
    held = len(store.members_entries())
    store.add_members_entries(held, [(e.body, e.signature) for e in entries])


def consents(session, campaign: str) -> list[bool]:  # type: ignore[no-untyped-def]
    return [r.consent_valid for r in session.energy.optins(campaign)]


def uncached(session, campaign: str) -> list[bool]:  # type: ignore[no-untyped-def]
    """What a verifier built for this call alone says."""
    return [r.consent_valid for r in EnergyService(session).optins(campaign)]


def test_every_members_log_change_is_seen_at_the_next_call(opted_in):
    session, people, campaign = opted_in
    store = session.profile.store
    assert consents(session, campaign) == [True]  # this device's own key, no log yet

    kit = Kit(building_id=session.building_id)
    append(store, kit.genesis())  # another device founds the log: ours is not in it
    assert consents(session, campaign) == uncached(session, campaign) == [False]

    own = this_device(session, people["Ann"])
    secrets, invite, _payload = kit.invite(Role.OWNER, people["Ann"])
    kit.accept(invite)
    join = kit.join_entry(secrets, own)
    kit.accept(join)
    append(store, invite, join)  # this device enrolled as Ann's
    assert consents(session, campaign) == uncached(session, campaign) == [True]

    revoke = kit.revoke_entry(own)
    kit.accept(revoke)
    keys = kit.keys_entry(2, [kit.syndic])
    kit.accept(keys)
    append(store, revoke, keys)  # revoked, and a key epoch without it
    # as a verifier built for the call says (today a consent given before
    # the revocation still verifies: the log keeps the revoked device's key)
    assert session.energy.optins(campaign) == EnergyService(session).optins(campaign)
    assert session.energy._verifiers.get().members.devices[own.id].revoked
    assert session.energy._verifiers.get().members.epoch == 2


def test_this_devices_person_is_part_of_the_key(opted_in):
    session, people, campaign = opted_in
    assert consents(session, campaign) == [True]
    session.profile.store.set_meta({"person": people["Bob"]})  # the device changed hands
    assert consents(session, campaign) == uncached(session, campaign) == [False]


def test_an_entry_written_by_another_process_is_seen(opted_in, tmp_path):
    session, _people, campaign = opted_in
    assert consents(session, campaign) == [True]
    other = reopen(tmp_path / "syndic")  # e.g. the command line, on the same profile
    try:
        append(other.profile.store, Kit(building_id=session.building_id).genesis())
    finally:
        other.close()
    assert consents(session, campaign) == uncached(session, campaign) == [False]


def test_the_log_is_replayed_once_while_it_does_not_change(opted_in, monkeypatch):
    session, people, campaign = opted_in
    kit = Kit(building_id=session.building_id)
    genesis = kit.genesis()
    own = this_device(session, people["Ann"])
    secrets, invite, _payload = kit.invite(Role.OWNER, people["Ann"])
    kit.accept(invite)
    join = kit.join_entry(secrets, own)
    kit.accept(join)
    append(session.profile.store, genesis, invite, join)

    replays = []
    members_state = engine.members_state
    monkeypatch.setattr(engine, "members_state", lambda s: replays.append(1) or members_state(s))
    for _ in range(3):
        assert consents(session, campaign) == [True]
    session.energy.counted(campaign)
    session.energy.mine(campaign)
    session.energy.refresh(campaign)
    assert len(replays) == 1

    keys = kit.keys_entry(2, [kit.syndic, own])  # a new key epoch
    kit.accept(keys)
    append(session.profile.store, keys)
    consents(session, campaign)
    consents(session, campaign)
    assert len(replays) == 2


def test_ballots_replay_the_log_once_while_it_does_not_change(opted_in, monkeypatch):
    session, _people, _campaign = opted_in
    (meeting,) = (m.id for m in session.assembly.meetings())  # the mandate's
    session.assembly.ballots(meeting)
    replays = []
    members_state = engine.members_state
    monkeypatch.setattr(engine, "members_state", lambda s: replays.append(1) or members_state(s))
    session.assembly.ballots(meeting)
    session.assembly.ballots(meeting)
    assert replays == []
    append(session.profile.store, Kit(building_id=session.building_id).genesis())
    session.assembly.ballots(meeting)
    session.assembly.ballots(meeting)
    assert len(replays) == 1
