"""Stopping a relay process (SIGTERM, as systemd does) while devices hold
WebSockets open: they are told (1001) and the process ends at once, so a
restart is not refused by the lock of the one still stopping."""

from __future__ import annotations

import asyncio
import signal

import aiohttp
import pytest

from shared.protocol import Role
from tests.relay.helpers import Client, Kit, ws_headers

pytestmark = pytest.mark.asyncio


async def test_sigterm_closes_the_websockets_and_the_relay_ends(relay_factory):
    relay = relay_factory()
    async with aiohttp.ClientSession(base_url=relay.url) as http:
        client = Client(http)
        kit = Kit()
        assert (await client.register(kit)).status == 201
        council = await client.enrol(kit, Role.COUNCIL)
        path = f"/v1/buildings/{kit.building_id}/ws"
        async with http.ws_connect(path, headers=ws_headers(council, path)) as ws:
            relay.process.send_signal(signal.SIGTERM)
            # before the fix the socket stayed open until aiohttp's 60 s shutdown timeout
            message = await asyncio.wait_for(ws.receive(), 20)
            assert (message.type, message.data) == (aiohttp.WSMsgType.CLOSE, 1001)
    assert await asyncio.to_thread(relay.process.wait, 20) == 0
    # restarted at once on the same file (before: refused as "another relay"),
    # it serves the building it had
    restarted = relay_factory(data_dir=relay.data_dir)
    async with aiohttp.ClientSession(base_url=restarted.url) as http:
        assert (await Client(http).heads(kit, council)).status == 200
