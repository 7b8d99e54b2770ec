"""WebSocket notifications per building (docs/sync-protocol.md §7).

:class:`Hub` holds this process's WebSockets by building and sends them
``{"doc": d, "seq": n}`` or ``{"members": L}``. With PostgreSQL several relay
processes share the database: every change is announced with ``pg_notify``
in the transaction that makes it (``storage.Storage._notify``), and
:class:`PostgresListener` in each process hears the others' announcements
and hands them to its own hub, so a device connected to process B hears of
an append made through process A. Worker processes of one
``serve --workers N`` on SQLite do the same through their parent
(:class:`WorkerListener`, :mod:`sync_server.workers`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from shared.members import MembersState

from .storage import NOTIFY_CHANNEL
from .workers import Link

log = logging.getLogger("koprogo.relay")
SEND_TIMEOUT = 5.0  # seconds a WebSocket may take to accept one notification


class Hub:
    def __init__(self) -> None:
        self._sockets: dict[str, set[web.WebSocketResponse]] = {}
        self._devices: dict[web.WebSocketResponse, str] = {}

    @property
    def clients(self) -> int:
        return sum(len(s) for s in self._sockets.values())

    def add(self, building_id: str, ws: web.WebSocketResponse, device_id: str) -> None:
        self._sockets.setdefault(building_id, set()).add(ws)
        self._devices[ws] = device_id

    def remove(self, building_id: str, ws: web.WebSocketResponse) -> None:
        self._devices.pop(ws, None)
        sockets = self._sockets.get(building_id)
        if sockets is not None:
            sockets.discard(ws)
            if not sockets:
                del self._sockets[building_id]

    async def publish(self, building_id: str, event: dict[str, object]) -> None:
        sockets = self._sockets.get(building_id)
        if not sockets:
            return
        text = json.dumps(event)
        for ws in list(sockets):
            if ws.closed:
                self.remove(building_id, ws)
                continue
            try:
                # a client that stops reading must not hold up the others
                await asyncio.wait_for(ws.send_str(text), SEND_TIMEOUT)
            except (TimeoutError, ConnectionError, RuntimeError):
                self.remove(building_id, ws)
                await ws.close(code=1008, message=b"too slow")

    async def drop_revoked(self, building_id: str, state: MembersState) -> None:
        """Close the sockets of devices the members log no longer lets in."""
        for ws in list(self._sockets.get(building_id, ())):
            if state.active(self._devices.get(ws, "")) is None:
                self.remove(building_id, ws)
                await ws.close(code=4401, message=b"device revoked")

    async def close_all(self) -> None:
        for sockets in list(self._sockets.values()):
            for ws in list(sockets):
                await ws.close(code=1001, message=b"relay shutting down")
        self._sockets.clear()


OnMembers = Callable[[str], Awaitable[MembersState | None]]


class PostgresListener:
    """LISTEN on the relay's channel; forward other processes' events."""

    def __init__(self, conninfo: str, origin: str, hub: Hub, on_members: OnMembers) -> None:
        self.conninfo = conninfo
        self.origin = origin
        self.hub = hub
        self.on_members = on_members
        self.ready = asyncio.Event()

    async def run(self) -> None:
        import psycopg

        delay = 0.5
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.conninfo, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    self.ready.set()
                    delay = 0.5
                    async for notice in conn.notifies():
                        await self._handle(notice.payload)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.ready.clear()
                log.exception("PostgreSQL LISTEN connection lost; reconnecting")
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def _handle(self, payload: str) -> None:
        await pass_on(payload, self.origin, self.hub, self.on_members)


class WorkerListener:
    """A worker's end of its parent's announcements (``serve --workers``
    on SQLite): the other workers' changes, passed on to this worker's hub."""

    def __init__(self, link: Link, origin: str, hub: Hub, on_members: OnMembers) -> None:
        self.link = link
        self.origin = origin
        self.hub = hub
        self.on_members = on_members

    async def run(self) -> None:
        async for payload in self.link.received():
            try:
                await pass_on(payload, self.origin, self.hub, self.on_members)
            except Exception:
                log.exception("could not pass on another worker's announcement")


async def pass_on(payload: str, origin: str, hub: Hub, on_members: OnMembers) -> None:
    """Hand another process's announcement to ``hub``: ``{"o", "b", …}``
    (PostgreSQL) or ``{"o", "events": [{"b", …}, …]}`` (a worker's
    transaction). A members-log change is first read from the database,
    then the sockets of devices it revoked are closed."""
    try:
        message = json.loads(payload)
        sender = message.pop("o")
        events = message.get("events", [message])
    except (ValueError, KeyError, AttributeError, TypeError):
        return
    if not isinstance(events, list):
        return
    if sender == origin:
        return  # this process already told its own sockets
    for event in events:
        if isinstance(event, dict) and isinstance(event.get("b"), str):
            await take_in(event.pop("b"), event, hub, on_members)


async def take_in(
    building_id: str, event: dict[str, object], hub: Hub, on_members: OnMembers
) -> None:
    """One change made by another process: told to this process's sockets;
    a members-log change (``{"members": length}``) first read from the
    database, then the sockets of devices it revoked closed."""
    if "members" in event:
        state = await on_members(building_id)
        await hub.publish(building_id, event)
        if state is not None:
            await hub.drop_revoked(building_id, state)
        return
    await hub.publish(building_id, event)
