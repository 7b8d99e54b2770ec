"""A relay process that missed another process's announcement of a
members-log change (a LISTEN connection down for a moment, a worker's full
socket buffer) catches up by comparing the stored logs every few seconds
(``app._catch_up_members_forever``)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import aiohttp
import pytest

from shared.protocol import Role
from sync_server.app import create_app
from sync_server.config import RelayConfig
from tests.relay.conftest import OPEN_LIMITS
from tests.relay.helpers import Client, Kit, ws_headers

pytestmark = pytest.mark.asyncio


async def test_a_process_that_missed_a_revocation_enforces_it_within_seconds(
    aiohttp_client, sqlite_template: Path, tmp_path: Path
):
    target = tmp_path / "relay.sqlite3"
    shutil.copy(sqlite_template, target)
    # two workers of one SQLite file with no parent between them: every
    # announcement of one is lost for the other
    apps = [
        create_app(
            RelayConfig(
                database_url=f"sqlite:///{target}",
                limits=OPEN_LIMITS,
                worker=n,
                members_check_seconds=0.1,
            )
        )
        for n in (1, 2)
    ]
    http_a, http_b = [await aiohttp_client(app) for app in apps]
    a, b = Client(http_a), Client(http_b)
    kit = Kit()
    assert (await a.register(kit)).status == 201
    council = await a.enrol(kit, Role.COUNCIL)
    assert (await b.heads(kit, council)).status == 200  # B reads the log on demand
    path = f"/v1/buildings/{kit.building_id}/ws"
    async with http_b.ws_connect(path, headers=ws_headers(council, path)) as ws:
        assert (await a.post_entry(kit, kit.revoke_entry(council))).status == 201
        message = await asyncio.wait_for(ws.receive(), 10)
        assert message.json() == {"members": 4}
        message = await asyncio.wait_for(ws.receive(), 10)
        assert (message.type, message.data) == (aiohttp.WSMsgType.CLOSE, 4401)
    read = await b.heads(kit, council)
    assert (read.status, read.error) == (401, "revoked-device")
