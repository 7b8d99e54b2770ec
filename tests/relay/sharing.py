"""What two relay processes sharing one database must do together — two
processes on one PostgreSQL database (tests/relay/test_process.py) or two
workers of ``serve --workers 2`` on one SQLite file (test_workers.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable

import aiohttp

from shared.protocol import Role
from tests.relay.helpers import Client, Kit, ws_headers

Connect = Callable[[str], Awaitable[aiohttp.ClientSession]]
"""``connect("a")`` or ``connect("b")``: a new session whose requests reach
that process (for workers: one keep-alive connection, checked to reach it)."""


async def two_processes_share_a_building(connect: Connect) -> None:
    """A device connected to one process hears of the other's appends,
    sequences stay exact under concurrent appends through both, and a
    revocation made through one is enforced by the other (writes at once,
    reads and WebSockets as soon as its announcement arrives)."""
    async with contextlib.AsyncExitStack() as stack:

        async def session(process: str) -> aiohttp.ClientSession:
            return await stack.enter_async_context(await connect(process))

        await _share(*[await session(p) for p in ("a", "b", "a", "b")])


async def _share(
    http_a: aiohttp.ClientSession,
    http_b: aiohttp.ClientSession,
    ws_http_a: aiohttp.ClientSession,
    ws_http_b: aiohttp.ClientSession,
) -> None:
    kit = Kit()
    via_a, via_b = Client(http_a), Client(http_b)
    assert (await via_a.register(kit)).status == 201
    council = await via_a.enrol(kit, Role.COUNCIL)  # B learns of it from the database
    path = f"/v1/buildings/{kit.building_id}/ws"
    async with ws_http_b.ws_connect(path, headers=ws_headers(council, path)) as ws:
        raw = kit.envelope(kit.syndic, "maintenance")
        assert (await via_a.append(kit, kit.syndic, raw, "maintenance")).status == 201
        message = await asyncio.wait_for(ws.receive(), 10)
        if json.loads(message.data) == {"members": 3}:
            # the council's join, announced by A, may reach B after the socket opened
            message = await asyncio.wait_for(ws.receive(), 10)
        assert json.loads(message.data) == {"doc": "maintenance", "seq": 1}

        # concurrent appends to one document through both processes
        async def burst(client: Client, device, n: int) -> None:  # type: ignore[no-untyped-def]
            for _ in range(n):
                raw = kit.envelope(device, "maintenance")
                result = await client.append(kit, device, raw, "maintenance")
                assert result.status == 201, result.body

        await asyncio.gather(burst(via_a, kit.syndic, 40), burst(via_b, council, 40))
    records = (await via_b.pull(kit, council, "maintenance")).records()
    assert [seq for seq, _ in records] == list(range(1, 82))

    # a revocation made through B: A refuses the device's writes at once
    # (each append re-checks the stored log length in its transaction), its
    # reads as soon as B's announcement arrives, and closes its WebSocket
    async with ws_http_a.ws_connect(path, headers=ws_headers(council, path)) as ws_on_a:
        assert (await via_b.post_entry(kit, kit.revoke_entry(council))).status == 201
        raw = kit.envelope(council, "maintenance")
        refused = await via_a.append(kit, council, raw, "maintenance")
        assert (refused.status, refused.error) == (401, "revoked-device")
        for _ in range(200):
            read = await via_a.heads(kit, council)
            if read.status == 401:
                break
            await asyncio.sleep(0.05)
        assert (read.status, read.error) == (401, "revoked-device")
        message = await asyncio.wait_for(ws_on_a.receive(), 10)
        while message.type is aiohttp.WSMsgType.TEXT:  # {"members": …} comes first
            message = await asyncio.wait_for(ws_on_a.receive(), 10)
        assert (message.type, message.data) == (aiohttp.WSMsgType.CLOSE, 4401)
