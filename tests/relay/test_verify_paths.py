"""Signatures are verified on verifier threads (``--verify-threads``) or
on the event loop (0): every check of an append decides the same either
way, in the protocol's order (docs/sync-protocol.md §4, §7.1), and a
request sent many times at once is stored once whatever thread checks it."""

from __future__ import annotations

import asyncio
import time

import pytest

from shared.protocol import Role
from tests.relay.helpers import Device, Kit

pytestmark = pytest.mark.asyncio


async def _script(relay, kit: Kit) -> list[tuple[int, str | None]]:
    """Acceptances and refusals of every in-memory check of an append."""
    syndic = kit.syndic
    path = f"/v1/buildings/{kit.building_id}/docs/registry/envelopes"
    outcomes = []

    async def append(raw: bytes, device: Device = syndic, doc: str = "registry") -> None:
        result = await relay.client.append(kit, device, raw, doc)
        outcomes.append((result.status, result.error))

    await append(kit.envelope(syndic))
    raw = kit.envelope(syndic)
    headers = syndic.sign("POST", path, raw, int(time.time()))
    for _ in range(2):  # accepted, then a replay
        result = await relay.client.send("POST", path, body=raw, headers=headers)
        outcomes.append((result.status, result.error))
    await append(raw)  # the same envelope again: a duplicate
    other_body = syndic.sign("POST", path, b"other", int(time.time()))
    result = await relay.client.send("POST", path, body=kit.envelope(syndic), headers=other_body)
    outcomes.append((result.status, result.error))  # bad request signature
    kit.rollback(syndic)
    owner = await relay.client.enrol(kit, Role.OWNER)
    forged = Device(Role.OWNER)
    forged.id = owner.id
    await append(kit.envelope(forged, "community"), owner, "community")  # bad envelope signature
    await append(kit.envelope(syndic, "community"), owner, "community")  # wrong device
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
    assert relay.counts(kit)["envelopes"] == 2


@pytest.mark.parametrize("verify_threads", [0, 2])
async def test_a_request_sent_many_times_at_once_is_stored_once(make_relay, verify_threads):
    relay = await make_relay(verify_threads=verify_threads)
    kit = Kit()
    assert (await relay.client.register(kit)).status == 201
    path = f"/v1/buildings/{kit.building_id}/docs/registry/envelopes"
    raw = kit.envelope(kit.syndic)
    headers = kit.syndic.sign("POST", path, raw, int(time.time()))
    results = await asyncio.gather(
        *(relay.client.send("POST", path, body=raw, headers=headers) for _ in range(12))
    )
    outcomes = sorted((r.status, r.error) for r in results)
    assert outcomes == [(201, None)] + [(401, "replayed")] * 11
    assert relay.counts(kit)["envelopes"] == 1
