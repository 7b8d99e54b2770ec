"""Pulling pages (§7.3), snapshots with compare-and-swap (§7.2), heads, and
WebSocket notifications (§7)."""

from __future__ import annotations

import asyncio
import json

import pytest

from shared import envelope
from shared.envelope import Kind
from shared.protocol import PULL_PAGE_ENVELOPES, Role
from tests.relay.helpers import Kit, ws_headers
from tests.relay.test_append import refused

pytestmark = pytest.mark.asyncio


async def fill(relay, kit, n, size=100, doc="registry"):
    sent = []
    for _ in range(n):
        raw = kit.envelope(kit.syndic, doc, size)
        result = await relay.client.append(kit, kit.syndic, raw, doc)
        assert result.status == 201, result.body
        sent.append((result.json()["seq"], raw))
    return sent


async def test_pull_pages_by_count(relay, building):
    sent = await fill(relay, building, 7)
    first = await relay.client.pull(building, building.syndic, after=0, limit=3)
    assert first.records() == sent[:3]
    assert first.headers["KoproGo-More"] == "1"
    rest = await relay.client.pull(building, building.syndic, after=3, limit=10)
    assert rest.records() == sent[3:]
    assert rest.headers["KoproGo-More"] == "0"
    empty = await relay.client.pull(building, building.syndic, after=7)
    assert (empty.status, empty.body, empty.headers["KoproGo-More"]) == (200, b"", "0")
    # every envelope opens with the building's key: the relay stored the bytes as sent
    parsed = envelope.decode(sent[0][1])
    parsed.verify(building.syndic.verify_key)


async def test_pull_pages_by_bytes(relay, building, monkeypatch):
    from sync_server import handlers

    monkeypatch.setattr(handlers, "PULL_PAGE_BYTES", 2500)
    sent = await fill(relay, building, 5, size=1000)
    page = await relay.client.pull(building, building.syndic)
    assert page.records() == sent[:2]
    assert page.headers["KoproGo-More"] == "1"


async def test_large_pages_are_read_on_a_reader_thread_small_ones_on_the_loop(
    relay, building, monkeypatch
):
    """SQLite reads small pages on the event loop and hands larger ones to a
    reader thread (PostgreSQL always does): the pages are the same."""
    from sync_server import handlers

    sent = await fill(relay, building, 6, size=1000)
    handed = []
    reader = relay.runtime.reader
    call = reader.call
    monkeypatch.setattr(reader, "call", lambda fn, *args: handed.append(fn) or call(fn, *args))
    here = await relay.client.pull(building, building.syndic, after=1, limit=3)
    monkeypatch.setattr(handlers, "PULL_HERE_BYTES", 2000)
    there = await relay.client.pull(building, building.syndic, after=1, limit=3)
    assert here.records() == there.records() == sent[1:4]
    assert here.headers["KoproGo-More"] == there.headers["KoproGo-More"] == "1"
    pulls = [fn for fn in handed if fn.__name__ == "pull"]
    assert len(pulls) == (2 if relay.runtime.storage.postgresql else 1)


async def test_pull_limit_is_capped_and_checked(relay, building):
    await fill(relay, building, 2)
    refused(await relay.client.pull(building, building.syndic, limit=0), 400, "bad-query")
    path = f"/v1/buildings/{building.building_id}/docs/registry/envelopes?after=x"
    refused(await relay.client.send("GET", path, building.syndic), 400, "bad-query")
    big = await relay.client.pull(building, building.syndic, limit=PULL_PAGE_ENVELOPES * 10)
    assert len(big.records()) == 2


async def test_documents_with_a_slash_in_their_id(relay, building):
    sent = await fill(relay, building, 2, doc="ledger/2026")
    page = await relay.client.pull(building, building.syndic, doc_id="ledger/2026")
    assert page.records() == sent


async def test_snapshot_replaces_and_deletes_superseded(relay, building):
    syndic = building.syndic
    sent = await fill(relay, building, 5)
    snap = building.envelope(syndic, kind=Kind.SNAPSHOT, replaces=4, size=300)
    result = await relay.client.snapshot(building, syndic, snap, base="-")
    assert (result.status, result.json()) == (201, {"seq": 6, "deleted": 4, "duplicate": False})
    page = await relay.client.pull(building, syndic)
    assert page.records() == [sent[4], (6, snap)]
    heads = (await relay.client.heads(building, syndic)).json()
    snap_id = envelope.decode(snap).header.envelope_id
    assert heads == {
        "docs": {"registry": {"seq": 6, "snapshot": snap_id, "snapshot_seq": 6, "last": snap_id}},
        "epoch": 1,
    }
    # the next snapshot names the current one; the old snapshot is deleted too
    more = await fill(relay, building, 1)
    second = building.envelope(syndic, kind=Kind.SNAPSHOT, replaces=7, size=300)
    done = await relay.client.snapshot(building, syndic, second, base=snap_id)
    assert (done.status, done.json()["deleted"]) == (201, 3)  # seq 5, the snapshot, seq 7
    assert (await relay.client.pull(building, syndic)).records() == [(8, second)]
    assert relay.counts(building) == {"envelopes": 1, "bytes": len(second)}
    assert more  # appended before the second snapshot
    # re-sending a stored snapshot is a no-op
    again = await relay.client.snapshot(building, syndic, second, base=snap_id)
    assert (again.status, again.json()["duplicate"]) == (200, True)


async def test_snapshot_compare_and_swap_conflicts(relay, building):
    syndic = building.syndic
    await fill(relay, building, 3)
    wrong_base = building.envelope(syndic, kind=Kind.SNAPSHOT, replaces=3, consume=False)
    result = await relay.client.snapshot(building, syndic, wrong_base, base=Kit().building_id)
    refused(result, 409, "snapshot-conflict")
    beyond = building.envelope(syndic, kind=Kind.SNAPSHOT, replaces=9, consume=False)
    refused(await relay.client.snapshot(building, syndic, beyond), 409, "snapshot-conflict")
    update = building.envelope(syndic, consume=False)
    refused(await relay.client.snapshot(building, syndic, update), 400, "wrong-kind")
    path = f"/v1/buildings/{building.building_id}/docs/registry/snapshot"
    refused(await relay.client.send("POST", path, syndic, update), 400, "bad-base")
    assert relay.counts(building)["envelopes"] == 3


async def test_two_devices_snapshotting_at_once(relay, building):
    """Exactly one wins; the other gets 409 and nothing is lost (§7.2)."""
    council = await relay.client.enrol(building, Role.COUNCIL)
    sent = await fill(relay, building, 4, doc="maintenance")
    a = building.envelope(building.syndic, "maintenance", kind=Kind.SNAPSHOT, replaces=4)
    b = building.envelope(council, "maintenance", kind=Kind.SNAPSHOT, replaces=4)
    results = await asyncio.gather(
        relay.client.snapshot(building, building.syndic, a, doc_id="maintenance"),
        relay.client.snapshot(building, council, b, doc_id="maintenance"),
    )
    statuses = sorted(r.status for r in results)
    assert statuses == [201, 409]
    loser = next(r for r in results if r.status == 409)
    assert loser.error == "snapshot-conflict"
    winner_raw = a if results[0].status == 201 else b
    page = await relay.client.pull(building, council, "maintenance")
    assert page.records() == [(5, winner_raw)]
    assert len(sent) == 4  # covered by the winning snapshot


async def test_websocket_hears_appends_and_members(relay, building):
    path = f"/v1/buildings/{building.building_id}/ws"
    http = relay.client.http
    async with http.ws_connect(path, headers=ws_headers(building.syndic, path)) as ws:
        await fill(relay, building, 1)
        message = await asyncio.wait_for(ws.receive(), 10)
        assert json.loads(message.data) == {"doc": "registry", "seq": 1}
        owner = await relay.client.enrol(building, Role.OWNER)
        events = [json.loads((await asyncio.wait_for(ws.receive(), 10)).data) for _ in range(2)]
        assert events == [{"members": 2}, {"members": 3}]
        assert owner.id


async def test_websocket_refuses_unsigned_and_drops_revoked(relay, building):
    path = f"/v1/buildings/{building.building_id}/ws"
    http = relay.client.http
    unsigned = await relay.client.send("GET", path)
    refused(unsigned, 401, "unauthenticated")
    owner = await relay.client.enrol(building, Role.OWNER)
    async with http.ws_connect(path, headers=ws_headers(owner, path)) as ws:
        assert (await relay.client.post_entry(building, building.revoke_entry(owner))).status == 201
        closing = None
        for _ in range(3):
            closing = await asyncio.wait_for(ws.receive(), 10)
            if closing.type.name in ("CLOSE", "CLOSED", "CLOSING"):
                break
        assert ws.closed or closing.type.name in ("CLOSE", "CLOSED", "CLOSING")
