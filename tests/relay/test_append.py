"""Appending envelopes (docs/sync-protocol.md §7.1), authenticated by their
own signature, and signed requests (§4):
every acceptance and every refusal, with its status, its error code, and
proof that a refusal stored nothing."""

from __future__ import annotations

import time

import pytest

from shared import auth
from shared.envelope import Kind
from shared.protocol import MAX_ENVELOPE_BYTES, Audience, Role
from sync_server.config import Limits
from tests.relay.helpers import PROTOCOL, Device, Kit, Result

pytestmark = pytest.mark.asyncio


def refused(result: Result, status: int, code: str) -> None:
    assert (result.status, result.error) == (status, code), result.body
    assert "message" in result.json()
    assert auth.TIME_HEADER in result.headers  # even errors tell the relay's clock


async def test_append_assigns_sequences_per_document(relay, building):
    syndic = building.syndic
    seqs = []
    for doc in ("registry", "registry", "ledger/2026", "registry"):
        result = await relay.client.append(building, syndic, building.envelope(syndic, doc), doc)
        assert result.status == 201, result.body
        seqs.append((doc, result.json()["seq"]))
    assert seqs == [("registry", 1), ("registry", 2), ("ledger/2026", 1), ("registry", 3)]
    assert relay.counts(building)["envelopes"] == 4


async def test_resending_an_envelope_is_a_no_op(relay, building):
    raw = building.envelope(building.syndic)
    first = await relay.client.append(building, building.syndic, raw)
    again = await relay.client.append(building, building.syndic, raw)
    assert (first.status, first.json()) == (201, {"seq": 1, "duplicate": False})
    assert (again.status, again.json()) == (200, {"seq": 1, "duplicate": True})
    assert relay.counts(building) == {"envelopes": 1, "bytes": len(raw)}


async def test_counter_gap_and_reuse_are_refused(relay, building):
    syndic = building.syndic
    assert (await relay.client.append(building, syndic, building.envelope(syndic))).status == 201
    gap = await relay.client.append(building, syndic, building.envelope(syndic, counter=3))
    refused(gap, 409, "counter-gap")
    assert gap.json()["expected"] == 2
    reused = await relay.client.append(building, syndic, building.envelope(syndic, counter=1))
    refused(reused, 409, "counter-reused")
    assert relay.counts(building)["envelopes"] == 1


async def test_role_not_allowed_to_write_is_refused(relay, building):
    owner = await relay.client.enrol(building, Role.OWNER)
    council = await relay.client.enrol(building, Role.COUNCIL)
    refused(
        await relay.client.append(
            building, owner, building.envelope(owner, "directory"), "directory"
        ),
        403,
        "forbidden",
    )
    refused(
        await relay.client.append(building, council, building.envelope(council)), 403, "forbidden"
    )
    ok = await relay.client.append(
        building, council, building.envelope(council, "maintenance"), "maintenance"
    )
    assert ok.status == 201
    community = await relay.client.append(
        building,
        owner,
        building.envelope(owner, "community", consume=False, counter=1),
        "community",
    )
    assert community.status == 201
    assert relay.counts(building)["envelopes"] == 2


async def test_wrong_audience_is_refused(relay, building):
    raw = building.envelope(building.syndic, audience=Audience.BUILDING)
    refused(await relay.client.append(building, building.syndic, raw), 400, "wrong-audience")
    assert relay.counts(building)["envelopes"] == 0


async def test_envelope_for_another_document_or_building_is_refused(relay, building):
    syndic = building.syndic
    other_doc = building.envelope(syndic, "maintenance")
    refused(await relay.client.append(building, syndic, other_doc), 400, "wrong-document")
    other_building = building.envelope(syndic, building_id=Kit().building_id)
    refused(await relay.client.append(building, syndic, other_building), 400, "wrong-document")
    # a genuine envelope of another building's device, sent to this building's path
    other = Kit()
    assert (await relay.client.register(other)).status == 201
    theirs = other.envelope(other.syndic)
    refused(await relay.client.append(building, other.syndic, theirs), 400, "wrong-document")
    assert relay.counts(building)["envelopes"] == 0
    assert relay.counts(other)["envelopes"] == 0


async def test_stale_epoch_is_refused(relay, building):
    owner = await relay.client.enrol(building, Role.OWNER)
    assert (await relay.client.post_entry(building, building.revoke_entry(owner))).status == 201
    new_epoch = building.keys_entry(2, [building.syndic])
    assert (await relay.client.post_entry(building, new_epoch)).status == 201
    stale = building.envelope(building.syndic, epoch=1, consume=False)
    result = await relay.client.append(building, building.syndic, stale)
    refused(result, 409, "stale-epoch")
    assert result.json()["epoch"] == 2
    fresh = building.envelope(building.syndic)
    assert (await relay.client.append(building, building.syndic, fresh)).status == 201


async def test_unknown_and_revoked_devices_are_refused(relay, building):
    stranger = Device(Role.SYNDIC)
    raw = building.envelope(stranger)
    refused(await relay.client.append(building, stranger, raw), 401, "unknown-device")
    owner = await relay.client.enrol(building, Role.OWNER)
    assert (await relay.client.post_entry(building, building.revoke_entry(owner))).status == 201
    raw = building.envelope(owner, "community")
    refused(await relay.client.append(building, owner, raw, "community"), 401, "revoked-device")
    refused(await relay.client.pull(building, owner, "community"), 401, "revoked-device")
    assert relay.counts(building)["envelopes"] == 0


async def test_envelope_signed_by_another_key_is_refused(relay, building):
    owner = await relay.client.enrol(building, Role.OWNER)
    forged = Device(Role.OWNER)
    forged.id = owner.id  # claims to be the owner's device, signs with its own key
    raw = building.envelope(forged, "community")
    refused(await relay.client.append(building, owner, raw, "community"), 400, "bad-signature")
    as_request = await relay.client.append(building, owner, raw, "community", signed=True)
    refused(as_request, 400, "bad-signature")  # a valid request signature changes nothing
    # a snapshot travels in a signed request: its envelope must be the signer's own
    not_mine = building.envelope(building.syndic, "community", kind=Kind.SNAPSHOT, consume=False)
    refused(
        await relay.client.snapshot(building, owner, not_mine, doc_id="community"),
        400,
        "wrong-device",
    )
    assert relay.counts(building)["envelopes"] == 0


async def test_an_append_is_authenticated_by_its_envelope(relay, building):
    """§4: an append needs no request signature; the envelope's own says
    who made it, whoever delivers it, and a 1.1 client's signature headers
    are ignored, so a stale, wrong or replayed one changes nothing."""
    syndic = building.syndic
    owner = await relay.client.enrol(building, Role.OWNER)
    path = f"/v1/buildings/{building.building_id}/docs/community/envelopes"
    first = building.envelope(syndic, "community")
    assert (await relay.client.append(building, syndic, first, "community")).status == 201
    # delivered by the owner's signed request, it is still the syndic's envelope:
    # the syndic's next counter follows it
    second = building.envelope(syndic, "community")
    delivered = await relay.client.append(building, owner, second, "community", signed=True)
    assert (delivered.status, delivered.json()["seq"]) == (201, 2)
    third = building.envelope(syndic, "community")
    stale = int(time.time()) - 86400
    old_headers = syndic.sign("POST", path, b"something else", stale)
    result = await relay.client.send("POST", path, body=third, headers=old_headers)
    assert result.status == 201
    # the same bytes again, signed or not: a duplicate, stored once
    for again in (third, second):
        replay = await relay.client.send("POST", path, body=again, headers=old_headers)
        assert (replay.status, replay.json()["duplicate"]) == (200, True)
    assert relay.counts(building)["envelopes"] == 3
    # an envelope of a device no longer in the building is refused whoever sends it
    assert (await relay.client.post_entry(building, building.revoke_entry(owner))).status == 201
    late = building.envelope(owner, "community")
    refused(await relay.client.append(building, syndic, late, "community"), 401, "revoked-device")
    assert relay.counts(building)["envelopes"] == 3


async def test_malformed_and_oversized_envelopes_are_refused(relay, building):
    syndic = building.syndic
    good = building.envelope(syndic, consume=False)
    refused(await relay.client.append(building, syndic, good[:-1]), 400, "malformed-envelope")
    refused(await relay.client.append(building, syndic, b"garbage"), 400, "malformed-envelope")
    huge = good + b"\0" * MAX_ENVELOPE_BYTES
    refused(await relay.client.append(building, syndic, huge), 413, "too-large")
    snap = building.envelope(syndic, kind=Kind.SNAPSHOT, consume=False)
    refused(await relay.client.append(building, syndic, snap), 400, "wrong-kind")
    assert relay.counts(building)["envelopes"] == 0
    assert (await relay.client.append(building, syndic, good)).status == 201


async def test_oversized_body_is_refused_from_its_content_length(relay, building):
    """§7.1 step 1: the relay answers 413 from the announced length alone."""
    headers = {"Content-Length": str(MAX_ENVELOPE_BYTES + 1)}
    path = f"/v1/buildings/{building.building_id}/docs/registry/envelopes"
    result = await relay.client.send("POST", path, building.syndic, b"x" * 10, headers=headers)
    assert result.status in (400, 413)  # aiohttp may refuse the lying length itself
    assert relay.counts(building)["envelopes"] == 0


# -- signed requests (§4) ---------------------------------------------------------------


async def test_missing_and_bad_request_signatures(relay, building):
    path = f"/v1/buildings/{building.building_id}/heads"
    refused(await relay.client.send("GET", path), 401, "unauthenticated")
    signed = building.syndic.sign("GET", path, b"", int(time.time()))
    signed[auth.SIGNATURE_HEADER] = Device().sign("GET", path, b"", int(time.time()))[
        auth.SIGNATURE_HEADER
    ]
    refused(await relay.client.send("GET", path, headers=signed), 401, "bad-request-signature")
    garbled = {**signed, auth.SIGNATURE_HEADER: "not base64!"}
    refused(await relay.client.send("GET", path, headers=garbled), 401, "unauthenticated")
    raw = building.envelope(building.syndic, kind=Kind.SNAPSHOT, consume=False)
    snapshot_path = f"/v1/buildings/{building.building_id}/docs/registry/snapshot?base=-"
    wrong_body = building.syndic.sign("POST", snapshot_path, b"other", int(time.time()))
    result = await relay.client.send("POST", snapshot_path, body=raw, headers=wrong_body)
    refused(result, 401, "bad-request-signature")
    refused(await relay.client.send("POST", snapshot_path, body=raw), 401, "unauthenticated")
    assert relay.counts(building)["envelopes"] == 0


@pytest.mark.parametrize("skew", [-auth.WINDOW - 5, auth.WINDOW + 5, -86400, 86400])
async def test_stale_timestamps_are_refused_both_ways(relay, building, skew):
    raw = building.envelope(building.syndic, kind=Kind.SNAPSHOT, consume=False)
    stamp = int(time.time()) + skew
    path = f"/v1/buildings/{building.building_id}/docs/registry/snapshot?base=-"
    result = await relay.client.send("POST", path, building.syndic, raw, timestamp=stamp)
    refused(result, 401, "stale-timestamp")
    relay_time = int(result.headers[auth.TIME_HEADER])
    assert abs(relay_time - time.time()) < 60
    assert relay.counts(building)["envelopes"] == 0
    retried = await relay.client.send("POST", path, building.syndic, raw, timestamp=relay_time)
    assert retried.status == 201


async def test_a_replayed_request_is_refused(relay, building):
    raw = building.envelope(building.syndic, kind=Kind.SNAPSHOT, consume=False)
    path = f"/v1/buildings/{building.building_id}/docs/registry/snapshot?base=-"
    headers = building.syndic.sign("POST", path, raw, int(time.time()))
    first = await relay.client.send("POST", path, body=raw, headers=headers)
    assert first.status == 201
    refused(await relay.client.send("POST", path, body=raw, headers=headers), 401, "replayed")
    assert relay.counts(building)["envelopes"] == 1


async def test_unknown_protocol_major_gets_426(relay, building):
    result = await relay.client.send("GET", "/healthz", headers={auth.PROTOCOL_HEADER: "2.0"})
    refused(result, 426, "upgrade-required")
    assert result.headers[auth.PROTOCOL_HEADER] == PROTOCOL
    minor = await relay.client.send("GET", "/healthz", headers={auth.PROTOCOL_HEADER: "1.7"})
    assert minor.status == 200


async def test_unknown_building_is_404(relay, building):
    other = Kit()
    result = await relay.client.heads(other, other.syndic)
    refused(result, 404, "unknown-building")


# -- quotas and rates (§7.4) ---------------------------------------------------------------


async def test_storage_quota_exceeded(make_relay):
    relay = await make_relay(Limits(max_bytes_per_building=3000, device_burst=10**6))
    kit = Kit()
    assert (await relay.client.register(kit)).status == 201
    for _ in range(2):
        ok = await relay.client.append(kit, kit.syndic, kit.envelope(kit.syndic, size=1000))
        assert ok.status == 201
    before = relay.counts(kit)
    full = await relay.client.append(kit, kit.syndic, kit.envelope(kit.syndic, size=1000))
    refused(full, 507, "quota-exceeded")
    assert relay.counts(kit) == before


async def test_device_rate_limited_with_retry_after(make_relay):
    relay = await make_relay(Limits(device_rate=0.01, device_burst=3))
    kit = Kit()
    assert (await relay.client.register(kit)).status == 201
    statuses = []
    for _ in range(4):
        result = await relay.client.append(kit, kit.syndic, kit.envelope(kit.syndic))
        statuses.append(result.status)
    assert statuses == [201, 201, 201, 429]
    assert int(result.headers["Retry-After"]) >= 1
    refused(result, 429, "rate-limited")
    assert relay.counts(kit)["envelopes"] == 3


async def test_monthly_request_quota(make_relay):
    relay = await make_relay(Limits(max_requests_per_month=2, device_burst=10**6))
    kit = Kit()
    assert (await relay.client.register(kit)).status == 201
    assert (await relay.client.heads(kit, kit.syndic)).status == 200
    assert (await relay.client.append(kit, kit.syndic, kit.envelope(kit.syndic))).status == 201
    result = await relay.client.append(kit, kit.syndic, kit.envelope(kit.syndic))
    refused(result, 429, "request-quota")
    assert int(result.headers["Retry-After"]) > 0
    assert relay.counts(kit)["envelopes"] == 1
