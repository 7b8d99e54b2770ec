"""The relay's aiohttp application: ``create_app(config)``.

Thin transport (STYLE §8): a middleware reads the clock once per request,
checks the protocol version (426 for an unknown major, §1), turns refusals
into ``{"error", "message"}`` answers, counts metrics and writes one JSON
log line; every answer, errors included, carries ``KoproGo-Time`` and
``KoproGo-Protocol`` (§4). Resources (engine, writer thread, reader and
verifier threads, core, PostgreSQL listener, usage flusher) live in one
``cleanup_ctx``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from sqlalchemy.engine import make_url

from shared import auth
from shared.ids import new_ulid
from shared.members import MembersState
from shared.protocol import MAX_ENVELOPE_BYTES, PROTOCOL_VERSION

from . import database
from .config import RelayConfig
from .core import RelayCore
from .energy import EnergyCore
from .energy_handlers import energy_routes
from .energy_store import EnergyStore
from .errors import RelayError, disk_full
from .handlers import routes
from .lanes import Lane
from .limits import month_of
from .metrics import AccessLog, LoopErrors, Metrics
from .notify import OnMembers, PostgresListener, WorkerListener, take_in
from .runtime import BUILDING, CONFIG, METRICS, NOW, RUNTIME, Runtime
from .storage import AppendItem, Storage, Stored
from .workers import Link
from .writer import Staging, StagingWriter, Writer

log = logging.getLogger("koprogo.relay")
access = AccessLog(logging.getLogger("koprogo.relay.access"))

PROTOCOL = f"{PROTOCOL_VERSION[0]}.{PROTOCOL_VERSION[1]}"
WORKER_HEADER = "KoproGo-Worker"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def create_app(config: RelayConfig, link: Link | None = None) -> web.Application:
    """The relay; ``link``: a worker's sockets to its parent under
    ``serve --workers N`` with SQLite (announcements between workers)."""
    # every handler bounds its own body (read_body); this bounds a chunked one
    app = web.Application(middlewares=[relay_middleware], client_max_size=MAX_ENVELOPE_BYTES)
    app[CONFIG] = config
    app[METRICS] = Metrics()
    app[RUNTIME] = Runtime(origin=f"{os.getpid()}-{new_ulid()}", link=link)
    app.add_routes(routes())
    app.add_routes(energy_routes())
    app.cleanup_ctx.append(relay_resources)
    app.on_response_prepare.append(_stamp)
    app.on_shutdown.append(_close_sockets)
    return app


async def _close_sockets(app: web.Application) -> None:
    """Stopping: close the devices' WebSockets first. aiohttp otherwise waits
    for their handlers up to its shutdown timeout (60 s), the relay still
    running and its file locked (found by hand: a restart right after a stop
    was refused for a minute)."""
    await app[RUNTIME].hub.close_all()


async def _stamp(request: web.Request, response: web.StreamResponse) -> None:
    """Every answer tells the relay's clock and protocol version (§1, §4)."""
    now = request.get(NOW, time.time())
    response.headers[auth.TIME_HEADER] = str(int(now))
    response.headers[auth.PROTOCOL_HEADER] = PROTOCOL
    worker = request.app[CONFIG].worker
    if worker:  # which worker process answered (`serve --workers N`)
        response.headers[WORKER_HEADER] = str(worker)


def _error(
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    extra: dict[str, object] | None = None,
) -> web.Response:
    body = {"error": code, "message": message, **(extra or {})}
    return web.json_response(body, status=status, headers=headers)


_HTTP_CODES = {404: "not-found", 405: "method-not-allowed", 413: "too-large"}


@web.middleware
async def relay_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    now = time.time()
    request[NOW] = now
    started = time.perf_counter()
    status = 500
    try:
        _check_protocol(request)
        response = await handler(request)
        status = response.status
        return response
    except RelayError as refusal:
        status = refusal.status
        if refusal.building is not None:
            request[BUILDING] = refusal.building
        response = _error(status, refusal.code, refusal.message, refusal.headers, refusal.extra)
        if refusal.close:
            await _answer_and_close(request, response)
        return response
    except web.HTTPException as exc:
        status = exc.status
        code = _HTTP_CODES.get(status, "http-error")
        return _error(status, code, exc.reason)
    except (asyncio.CancelledError, ConnectionResetError):
        status = 499
        raise
    except Exception as exc:
        if disk_full(exc):  # found by hand: a traceback per append, /healthz still ok
            request.app[RUNTIME].disk_full_at = now
            log.error(
                "the disk holding the database is full: writes are refused until space is freed",
                extra={"fields": {"route": _template(request)}},
            )
            status = 503
            return _error(
                503, "disk-full", "the relay's disk is full; retry later", {"Retry-After": "30"}
            )
        log.exception("internal error on %s %s", request.method, _template(request))
        return _error(500, "internal", "the relay failed; the request may be retried")
    finally:
        elapsed = time.perf_counter() - started
        template = _template(request)
        request.app[METRICS].observe(request.method, template, status, elapsed)
        if access.enabled():
            access.request(
                request.app[RUNTIME].loop,
                request.method,
                template,
                status,
                round(elapsed * 1000, 2),
                request.get(BUILDING) or request.match_info.get("b"),
            )


async def _answer_and_close(request: web.Request, response: web.Response) -> None:
    """Send ``response`` now and close the connection, without reading
    what is left of the body (aiohttp would read on for up to 10 s more)."""
    response.force_close()
    await response.prepare(request)
    await response.write_eof()
    request.protocol.force_close()


def _template(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


def _check_protocol(request: web.Request) -> None:
    announced = request.headers.get(auth.PROTOCOL_HEADER)
    if announced is None:
        return
    major, dot, minor = announced.partition(".")
    if not (dot and _is_number(major) and _is_number(minor)):
        raise RelayError(400, "bad-protocol", "KoproGo-Protocol is major.minor")
    if int(major) != PROTOCOL_VERSION[0]:
        raise RelayError(
            426, "upgrade-required", f"this relay speaks protocol {PROTOCOL}, not {announced}"
        )


def _is_number(text: str) -> bool:
    """1 to 9 ASCII digits (``str.isdigit`` also takes ``²`` or ``٣``)."""
    return 0 < len(text) <= 9 and text.isascii() and text.isdigit()


# -- resources ------------------------------------------------------------------------


async def relay_resources(app: web.Application) -> AsyncIterator[None]:
    """Open the database, load the members logs, start the writer, the usage
    flusher and (PostgreSQL) the LISTEN task; undo it all on shutdown."""
    config, rt = app[CONFIG], app[RUNTIME]
    loop = rt.loop = asyncio.get_running_loop()
    if config.auto_migrate and not config.is_postgresql:
        await loop.run_in_executor(None, database.migrate, config.database_url)
    rt.engine = database.make_engine(config.database_url, pool_size=config.db_threads + 2)
    rt.writer = (Writer if config.is_postgresql else StagingWriter)(_announcer(app))
    if config.verify_threads:
        rt.verifier = Lane("relay-verifier", config.verify_threads)
    previous_handler = loop.get_exception_handler()
    loop.set_exception_handler(LoopErrors(log))  # JSON lines, out of descriptors too
    try:
        await rt.write(database.check_schema, rt.engine)
        rt.storage = Storage(rt.engine, rt.origin, rt.link.send if rt.link else None)
        rt.reader = Lane(
            "relay-reader",
            config.db_threads,
            setup=rt.storage.open_reader,
            teardown=rt.storage.close_reader,
        )
        rt.storage.open_reader()  # small pulls on the event loop (SQLite)
        rt.core = RelayCore(rt.storage, config.limits)
        rt.energy = EnergyCore(EnergyStore(rt.engine), rt.core)
        rt.writer.store = rt.core.append
        await rt.write(rt.storage.open_writer)
        if isinstance(rt.writer, StagingWriter):
            storage = rt.storage
            rt.writer.staging = Staging(
                storage.take_lock,
                storage.begin_staged,
                storage.release_lock,
                rt.core.stage,
                storage.commit_staged,
                storage.abandon_staged,
            )
        loaded = await rt.write(rt.core.load)
        await rt.write(_load_usage, rt)
        rt.tasks.append(asyncio.create_task(_flush_usage_forever(app), name="relay-usage"))
        if config.is_postgresql or config.worker:
            rt.tasks.append(
                asyncio.create_task(_catch_up_members_forever(app), name="relay-members")
            )
        if config.is_postgresql:
            await _start_listener(app)
        elif rt.link is not None:
            listener = WorkerListener(rt.link, rt.origin, rt.hub, _members_refresher(rt))
            rt.tasks.append(asyncio.create_task(listener.run(), name="relay-workers"))
        fields: dict[str, object] = {
            "buildings": loaded,
            "database": rt.engine.dialect.name,
            "verify_threads": config.verify_threads,
        }
        if config.worker:
            fields["worker"] = config.worker
        log.info("relay started", extra={"fields": fields})
        yield
    finally:
        for task in rt.tasks:
            task.cancel()
        for task in rt.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        rt.tasks.clear()
        await rt.hub.close_all()
        if rt.core is not None:
            with contextlib.suppress(Exception):
                await rt.write(_flush_usage, rt)
        if rt.storage is not None and rt.writer is not None:
            with contextlib.suppress(Exception):
                await rt.write(rt.storage.close_writer)
        for worker in (rt.writer, rt.reader, rt.verifier):
            if worker is not None:
                await worker.close()
        if rt.storage is not None:
            rt.storage.close_reader()
        rt.engine.dispose()
        access.flush()
        loop.set_exception_handler(previous_handler)
        rt.loop = None


def _announcer(app: web.Application) -> Callable[[list[tuple[AppendItem, Stored]]], None]:
    rt, metrics = app[RUNTIME], app[METRICS]

    def announce(stored: list[tuple[AppendItem, Stored]]) -> None:
        latest: dict[tuple[str, str], int] = {}
        for item, outcome in stored:
            metrics.envelopes_stored += 1
            metrics.envelope_bytes += len(item.data)
            key = (item.building_id, item.doc_id)
            latest[key] = max(latest.get(key, 0), outcome.seq)
        # sent from a task of its own: the writer goes on with the next batch
        task = asyncio.create_task(_publish_all(rt, latest))
        pending.add(task)
        task.add_done_callback(pending.discard)

    pending: set[asyncio.Task[None]] = set()
    return announce


async def _publish_all(rt: Runtime, latest: dict[tuple[str, str], int]) -> None:
    for (building_id, doc_id), seq in latest.items():
        await rt.hub.publish(building_id, {"doc": doc_id, "seq": seq})


def _members_refresher(rt: Runtime) -> OnMembers:
    """Re-read a building's members log after another process changed it."""

    async def on_members(building_id: str) -> MembersState | None:
        building = await rt.read(rt.relay.refresh, building_id)
        return None if building is None else building.state

    return on_members


async def _start_listener(app: web.Application) -> None:
    rt, config = app[RUNTIME], app[CONFIG]
    on_members = _members_refresher(rt)
    url = make_url(config.database_url).set(drivername="postgresql")
    conninfo = url.render_as_string(hide_password=False)
    listener = PostgresListener(conninfo, rt.origin, rt.hub, on_members)
    rt.tasks.append(asyncio.create_task(listener.run(), name="relay-listen"))
    await asyncio.wait_for(listener.ready.wait(), timeout=30)


async def _catch_up_members_forever(app: web.Application) -> None:
    """Other processes announce their members-log changes (LISTEN/NOTIFY, or
    the workers' parent), but an announcement can be lost (a LISTEN
    connection down for a moment, a worker's full socket buffer). Every few
    seconds, compare the stored logs' lengths with this process's and take
    in what it missed, as an announcement would have: a revocation is then
    enforced for reads and WebSockets within seconds whatever happened
    (writes re-check the stored length in their transaction anyway)."""
    rt, config = app[RUNTIME], app[CONFIG]
    on_members = _members_refresher(rt)
    while True:
        await asyncio.sleep(config.members_check_seconds)
        try:
            stored = await rt.read(rt.storage.members_lengths)  # type: ignore[union-attr]
            for building_id, length in stored.items():
                known = rt.relay.buildings.get(building_id)
                if known is None or known.length >= length:
                    continue  # unknown here: read on demand (handlers)
                await take_in(building_id, {"members": length}, rt.hub, on_members)
        except Exception:
            log.exception("could not compare the members logs; will retry")


def _load_usage(rt: Runtime) -> None:
    month = month_of(time.time())
    rt.relay.requests.stored(
        {(building, month): n for building, n in rt.relay.storage.usage_of(month)}
    )


def _flush_usage(rt: Runtime) -> None:
    pending = rt.relay.requests.drain()
    try:
        rt.relay.requests.stored(rt.relay.storage.add_usage(pending))
    except Exception:
        rt.relay.requests.restore(pending)
        raise


async def _flush_usage_forever(app: web.Application) -> None:
    rt = app[RUNTIME]
    while True:
        await asyncio.sleep(app[CONFIG].usage_flush_seconds)
        try:
            await rt.write(_flush_usage, rt)
        except Exception:
            log.exception("could not write request counts; will retry")
