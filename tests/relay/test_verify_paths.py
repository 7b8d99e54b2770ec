"""Signatures are verified on verifier threads (``--verify-threads``) or
on the event loop (0): every check of an append decides the same either
way, in the protocol's order (docs/sync-protocol.md §4, §7.1), and a
request sent many times at once is stored once whatever thread checks it."""

from __future__ import annotations

import asyncio
import time

import pytest

from shared.envelope import Kind
from shared.protocol import Role
from tests.relay.helpers import Device, Kit

pytestmark = pytest.mark.asyncio


async def _script(relay, kit: Kit) -> list[tuple[int, str | None]]:
    """Acceptances and refusals of every in-memory check of an append."""
    syndic = kit.syndic
    path = f"/v1/buildings/{kit.building_id}/docs/registry/snapshot?base=-"
    outcomes = []

    async def append(raw: bytes, device: Device = syndic, doc: str = "registry") -> None:
        result = await relay.client.append(kit, device, raw, doc)
        outcomes.append((result.status, result.error))

    await append(kit.envelope(syndic))
    snapshot = kit.envelope(syndic, kind=Kind.SNAPSHOT)
    headers = syndic.sign("POST", path, snapshot, int(time.time()))
    for _ in range(2):  # accepted, then a replay of the signed request
        result = await relay.client.send("POST", path, body=snapshot, headers=headers)
        outcomes.append((result.status, result.error))
    raw = kit.envelope(syndic)
    await append(raw)
    await append(raw)  # the same envelope again: a duplicate
    other_body = syndic.sign("POST", path, b"other", int(time.time()))
    snapshot = kit.envelope(syndic, kind=Kind.SNAPSHOT, replaces=1, consume=False)
    result = await relay.client.send("POST", path, body=snapshot, headers=other_body)
    outcomes.append((result.status, result.error))  # bad request signature
    owner = await relay.client.enrol(kit, Role.OWNER)
    forged = Device(Role.OWNER)
    forged.id = owner.id
    await append(kit.envelope(forged, "community"), owner, "community")  # bad envelope signature
    kit.rollback(owner, "community")
    not_mine = kit.envelope(syndic, "community", kind=Kind.SNAPSHOT, consume=False)
    result = await relay.client.snapshot(kit, owner, not_mine, doc_id="community")
    outcomes.append((result.status, result.error))  # wrong device
    await append(kit.envelope(syndic, "ledger/2026"), syndic, "registry")  # wrong document
    await append(kit.envelope(owner, "registry"), owner)  # forbidden
    await append(kit.envelope(syndic, counter=9))  # counter gap (writer)
    assert (await relay.client.post_entry(kit, kit.revoke_entry(owner))).status == 201
    await append(kit.envelope(owner, "community"), owner, "community")  # revoked
    return outcomes


EXPECTED = [
    (201, None),
    (201, None),
    (401, "replayed"),
    (201, None),
    (200, None),
    (401, "bad-request-signature"),
    (400, "bad-signature"),
    (400, "wrong-device"),
    (400, "wrong-document"),
    (403, "forbidden"),
    (409, "counter-gap"),
    (401, "revoked-device"),
]


@pytest.mark.parametrize("verify_threads", [0, 1, 2])
async def test_every_check_decides_the_same_on_any_thread(make_relay, verify_threads):
    relay = await make_relay(verify_threads=verify_threads)
    kit = Kit()
    assert (await relay.client.register(kit)).status == 201
    assert await _script(relay, kit) == EXPECTED
    # an envelope, a snapshot that replaces nothing, an envelope
    assert relay.counts(kit)["envelopes"] == 3


@pytest.mark.parametrize("verify_threads", [0, 2])
async def test_a_request_sent_many_times_at_once_is_stored_once(make_relay, verify_threads):
    relay = await make_relay(verify_threads=verify_threads)
    kit = Kit()
    assert (await relay.client.register(kit)).status == 201
    path = f"/v1/buildings/{kit.building_id}/docs/registry/envelopes"
    raw = kit.envelope(kit.syndic)
    headers = kit.syndic.sign("POST", path, raw, int(time.time()))
    results = await asyncio.gather(
        *(relay.client.send("POST", path, body=raw, headers=headers) for _ in range(6)),
        *(relay.client.append(kit, kit.syndic, raw) for _ in range(6)),
    )
    outcomes = sorted((r.status, r.json()["seq"], r.json()["duplicate"]) for r in results)
    assert outcomes == [(200, 1, True)] * 11 + [(201, 1, False)]
    assert relay.counts(kit)["envelopes"] == 1
    snapshot_path = f"/v1/buildings/{kit.building_id}/docs/registry/snapshot?base=-"
    snapshot = kit.envelope(kit.syndic, kind=Kind.SNAPSHOT, replaces=1, consume=False)
    headers = kit.syndic.sign("POST", snapshot_path, snapshot, int(time.time()))
    sends = (
        relay.client.send("POST", snapshot_path, body=snapshot, headers=headers) for _ in range(12)
    )
    results = await asyncio.gather(*sends)
    outcomes = sorted((r.status, r.error) for r in results)
    assert outcomes == [(201, None)] + [(401, "replayed")] * 11  # a signed request, once
    assert relay.counts(kit)["envelopes"] == 1  # the snapshot replaced the envelope
