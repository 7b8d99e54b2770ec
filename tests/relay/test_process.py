"""A real relay process on 127.0.0.1 (STYLE §11): killed in the middle of
a push, a client clock a day off, and two processes sharing one PostgreSQL
database (notifications fan out through LISTEN/NOTIFY)."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from shared import auth, envelope
from tests.relay.helpers import Client, Kit
from tests.relay.sharing import two_processes_share_a_building

pytestmark = pytest.mark.asyncio


async def test_the_session_relay_process_answers(relay_process):
    async with aiohttp.ClientSession(base_url=relay_process.url) as http:
        client = Client(http)
        kit = Kit()
        assert (await client.register(kit)).status == 201
        raw = kit.envelope(kit.syndic)
        assert (await client.append(kit, kit.syndic, raw)).status == 201
        assert (await client.pull(kit, kit.syndic)).records() == [(1, raw)]


async def _push(client, kit, device, doc, acked, stop_after=None):
    """Append envelopes one after another, recording each acknowledged one."""
    while True:
        raw = kit.envelope(device, doc)
        try:
            result = await client.append(kit, device, raw, doc)
        except (TimeoutError, aiohttp.ClientError):
            kit.rollback(device, doc)
            return raw  # in flight when the relay died: maybe stored, maybe not
        assert result.status == 201, result.body
        acked.append((envelope.decode(raw).header.envelope_id, result.json()["seq"], raw))
        if stop_after is not None and len(acked) >= stop_after:
            return None


async def test_relay_killed_during_a_push_loses_nothing_acknowledged(relay_factory, database_url):
    relay = relay_factory(database_url)
    kit = Kit()
    docs = ["registry", "ledger/2026", "maintenance", "directory"]
    acked: dict[str, list] = {doc: [] for doc in docs}
    async with aiohttp.ClientSession(base_url=relay.url) as http:
        client = Client(http)
        assert (await client.register(kit)).status == 201
        pushes = [
            asyncio.create_task(_push(client, kit, kit.syndic, doc, acked[doc])) for doc in docs
        ]
        while sum(len(a) for a in acked.values()) < 200:
            await asyncio.sleep(0.01)
        relay.kill()  # SIGKILL in the middle of four streams of appends
        in_flight = await asyncio.gather(*pushes)
    relay.start()
    async with aiohttp.ClientSession(base_url=relay.url) as http:
        client = Client(http)
        for doc, raw in zip(docs, in_flight, strict=True):
            stored = (await client.pull(kit, kit.syndic, doc, limit=500)).records()
            seqs = [seq for seq, _ in stored]
            assert seqs == list(range(1, len(seqs) + 1))  # contiguous, no duplicate
            by_seq = dict(stored)
            for _id, seq, sent in acked[doc]:
                assert by_seq[seq] == sent  # every acknowledged envelope, at its sequence
            assert len(stored) in (len(acked[doc]), len(acked[doc]) + 1)
            if raw is not None:  # the client re-sends what was in flight: stored once
                again = await client.append(kit, kit.syndic, raw, doc)
                assert again.status in (200, 201)
                kit.counters[(kit.syndic.id, doc)] += 1
                after = [s for s, _ in (await client.pull(kit, kit.syndic, doc)).records()]
                assert after == list(range(1, len(after) + 1))
                assert len(after) == len(acked[doc]) + 1


async def test_a_client_clock_a_day_off_learns_the_relays_time(relay_process):
    """A signed request from a clock a day off is refused once, with the
    relay's time to sign with; an append carries no timestamp (§4), so the
    clock changes nothing for it, signed as a 1.1 client would or not."""
    for skew in (-86400, 86400):
        async with aiohttp.ClientSession(base_url=relay_process.url) as http:
            client = Client(http, skew=skew)
            kit = Kit()
            assert (await client.register(kit)).status == 201
            appended = await client.append(kit, kit.syndic, kit.envelope(kit.syndic))
            assert (appended.status, appended.json()["seq"]) == (201, 1)
            signed = await client.append(kit, kit.syndic, kit.envelope(kit.syndic), signed=True)
            assert (signed.status, signed.json()["seq"]) == (201, 2)
            first = await client.pull(kit, kit.syndic)
            assert (first.status, first.error) == (401, "stale-timestamp")
            client.skew = int(first.headers[auth.TIME_HEADER]) - time.time()
            second = await client.pull(kit, kit.syndic)
            assert second.status == 200
            assert [seq for seq, _ in second.records()] == [1, 2]


async def test_two_relay_processes_share_one_postgresql(relay_factory, postgres_server):
    url = postgres_server.create_database()
    urls = {"a": relay_factory(url).url, "b": relay_factory(url).url}

    async def connect(process: str) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(base_url=urls[process])

    await two_processes_share_a_building(connect)
