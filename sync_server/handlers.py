"""HTTP handlers of docs/sync-protocol.md §7: parse, authorise, call the core.

Each handler reads the request, takes ``now`` from the middleware (read
once per request), authenticates signed requests, or an append by its
envelope's signature (§4; signatures checked on the verifier thread), and
calls the clock-free core: on the writer thread for changes, on a reader
thread for queries (small pulls with SQLite on the event loop itself).
Nothing here decides a protocol rule.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import WSMsgType, web

from shared import envelope as env
from shared.envelope import Envelope
from shared.ids import is_ulid
from shared.members import Device
from shared.protocol import (
    MAX_ENVELOPE_BYTES,
    MAX_REQUEST_BYTES,
    PULL_PAGE_BYTES,
    PULL_PAGE_ENVELOPES,
    SMALL_ENVELOPE_BYTES,
)

from .core import check_document, envelope_check, request_check
from .errors import RelayError, bad_request
from .metrics import labelled, thread_cpu_seconds
from .runtime import BUILDING, CONFIG, DISK_FULL_SECONDS, METRICS, NOW, RUNTIME, Runtime
from .storage import AppendItem, MembersChanged, Stored

log = logging.getLogger("koprogo.relay")

MORE_HEADER = "KoproGo-More"
PULL_HERE_BYTES = 64 << 10  # SQLite: pages up to this size are read on the event loop

T = TypeVar("T")


def _rt(request: web.Request) -> Runtime:
    return request.app[RUNTIME]


def _address(request: web.Request) -> str:
    forwarded = request.headers.get("X-Forwarded-For")
    if forwarded and request.app[CONFIG].trust_forwarded_for:
        return forwarded.split(",")[-1].strip()
    return request.remote or "?"


async def read_body(request: web.Request, limit: int = MAX_REQUEST_BYTES) -> bytes:
    """The body, refused (413) over ``limit`` bytes before it is all read,
    and (408 ``slow-body``) when it has not all arrived within the
    configured time: a client sending a byte now and then would otherwise
    hold its connection, and the relay's file descriptors, for ever."""
    length = request.content_length
    if length is not None and length > limit:
        raise RelayError(413, "too-large", f"this body is at most {limit} bytes")
    seconds = request.app[CONFIG].body_seconds
    try:
        if request.content.is_eof():  # all there already, as most bodies are: no timer
            raw = await request.read()
        else:
            async with asyncio.timeout(seconds):
                raw = await request.read()  # bounded by client_max_size when chunked
    except TimeoutError:
        message = f"the body did not all arrive within {seconds:g} s"
        raise RelayError(408, "slow-body", message, close=True) from None
    except web.RequestPayloadError:  # e.g. Content-Encoding: gzip on a body that is not
        message = "the body could not be read (broken chunks or content encoding)"
        raise RelayError(400, "bad-request", message, close=True) from None
    if len(raw) > limit:
        raise RelayError(413, "too-large", f"this body is at most {limit} bytes")
    return raw


async def _json(request: web.Request) -> Any:
    return parse_json(await read_body(request))


async def _known(rt: Runtime, building_id: str, identify: Callable[[], T]) -> T:
    """``identify()``'s device of building ``{b}``, the members log read
    from the database first when this process has not loaded the building,
    and again when the device is unknown: another relay process may have
    taken it in a moment ago."""
    if building_id not in rt.relay.buildings and is_ulid(building_id):
        await rt.read(rt.relay.refresh, building_id)
    try:
        return identify()
    except RelayError as refusal:
        if refusal.code != "unknown-device":
            raise
        await rt.read(rt.relay.refresh, building_id)
        return identify()


async def _signed(
    request: web.Request, body: bytes, envelope: Envelope | None = None
) -> tuple[str, Device, bool | None]:
    """Authenticate a signed request about building ``{b}`` (§4). Its
    signature, and the signature of the ``envelope`` it carries if any, are
    verified together off the event loop; returns (building id, device,
    whether the envelope's signature is valid, None without an envelope)."""
    rt = _rt(request)
    building_id = request.match_info["b"]
    now = request[NOW]
    signed, device = await _known(
        rt, building_id, lambda: rt.relay.identify(building_id, request.headers, now)
    )
    checks = [request_check(signed, device, request.method, request.raw_path, body)]
    if envelope is not None:
        checks.append(envelope_check(envelope, device))
    valid = await rt.verify(tuple(checks))
    device = rt.relay.admit_signed(building_id, signed, valid[0], now)
    return building_id, device, (valid[1] if envelope is not None else None)


async def _sent(request: web.Request, envelope: Envelope) -> tuple[str, Device, bool]:
    """Authenticate an append by the envelope it carries (§4, §7.1): the
    device its header names, an active member of building ``{b}``, and
    whether the envelope's signature verifies (off the event loop). The
    device is looked up again afterwards, so one revoked meanwhile is
    refused."""
    rt = _rt(request)
    building_id, doc_id = request.match_info["b"], request.match_info["doc"]
    device = await _known(rt, building_id, lambda: rt.relay.sender(building_id, doc_id, envelope))
    [valid] = await rt.verify((envelope_check(envelope, device),))
    return building_id, rt.relay.recheck_device(building_id, device.id), valid


# -- buildings and members ----------------------------------------------------------


async def register_building(request: web.Request) -> web.Response:
    rt = _rt(request)
    rt.relay.admit_address(_address(request), request[NOW])
    body = await _json(request)
    building_id = await rt.write(rt.relay.register, body, request[NOW])
    return web.json_response({"building": building_id}, status=201)


async def get_members(request: web.Request) -> web.Response:
    rt = _rt(request)
    building_id, device, _ = await _signed(request, b"")
    rt.relay.admit_request(building_id, device.id, request[NOW])
    after = _int_query(request, "after", -1, minimum=-1)
    return web.json_response(rt.relay.members_after(building_id, after))


async def _members_write(request: web.Request, write: Callable[..., int]) -> int:
    """A signed JSON request changing the members log: ``write(building,
    device, body, now)`` on the writer, then the devices are told. Returns
    what ``write`` returned."""
    rt = _rt(request)
    raw = await read_body(request)
    building_id, device, _ = await _signed(request, raw)
    rt.relay.admit_request(building_id, device.id, request[NOW])
    body = parse_json(raw)
    return await rt.write(write, building_id, device, body, request[NOW])


async def post_members(request: web.Request) -> web.Response:
    rt = _rt(request)
    seq = await _members_write(request, rt.relay.append_member)
    await _members_changed(rt, request.match_info["b"], seq + 1)
    return web.json_response({"seq": seq}, status=201)


async def restore_members(request: web.Request) -> web.Response:
    rt = _rt(request)
    length = await _members_write(request, rt.relay.restore_members)
    await _members_changed(rt, request.match_info["b"], length)
    return web.json_response({"length": length}, status=201)


async def post_invite(request: web.Request) -> web.Response:
    rt = _rt(request)
    raw = await read_body(request)
    building_id, device, _ = await _signed(request, raw)
    rt.relay.admit_request(building_id, device.id, request[NOW])
    body = parse_json(raw)
    seq = await rt.write(rt.relay.post_invite, building_id, device, body, request[NOW])
    await _members_changed(rt, building_id, seq + 1)
    return web.json_response({"seq": seq}, status=201)


async def delete_invite(request: web.Request) -> web.Response:
    rt = _rt(request)
    raw = await read_body(request)
    building_id, device, _ = await _signed(request, raw)
    rt.relay.admit_request(building_id, device.id, request[NOW])
    invite_id = request.match_info["invite"]
    await rt.write(rt.relay.withdraw_invite, building_id, device, invite_id)
    return web.json_response({"withdrawn": invite_id})


async def get_invite(request: web.Request) -> web.Response:
    rt = _rt(request)
    rt.relay.admit_address(_address(request), request[NOW])
    found = await rt.read(rt.relay.get_invite, request.match_info["invite"], request[NOW])
    request[BUILDING] = found["building"]
    return web.json_response(found)


async def join(request: web.Request) -> web.Response:
    rt = _rt(request)
    rt.relay.admit_address(_address(request), request[NOW])
    body = await _json(request)
    invite_id = request.match_info["invite"]
    building_id, seq = await rt.write(rt.relay.join, invite_id, body, request[NOW])
    request[BUILDING] = building_id
    await _members_changed(rt, building_id, seq + 1)
    return web.json_response({"seq": seq}, status=201)


async def _members_changed(rt: Runtime, building_id: str, length: int) -> None:
    await rt.hub.publish(building_id, {"members": length})
    await rt.hub.drop_revoked(building_id, rt.relay.building(building_id).state)


def parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested too deep
        raise bad_request("bad-json", "the body is not JSON") from exc


# -- envelopes ------------------------------------------------------------------------


async def _envelope_body(request: web.Request, rt: Runtime) -> bytes:
    """§7.1 step 1: the body, at most :data:`MAX_ENVELOPE_BYTES`. One over
    :data:`SMALL_ENVELOPE_BYTES` (a big building's whole ledger year) is
    read header first: its sender must be an active member of building
    ``{b}`` before the relay holds megabytes for it."""
    length = request.content_length
    if length is None or length <= SMALL_ENVELOPE_BYTES or length > MAX_ENVELOPE_BYTES:
        return await read_body(request, MAX_ENVELOPE_BYTES)
    building_id = request.match_info["b"]
    seconds = request.app[CONFIG].body_seconds
    try:
        async with asyncio.timeout(seconds):
            head = await request.content.readexactly(env.FIXED_HEADER_BYTES)
    except TimeoutError:
        message = f"the body did not all arrive within {seconds:g} s"
        raise RelayError(408, "slow-body", message, close=True) from None
    except asyncio.IncompleteReadError:
        raise RelayError(400, "malformed-envelope", "envelope too short", close=True) from None
    try:
        named_building, device_id = env.sender_of(head)
    except env.EnvelopeError as exc:
        raise RelayError(400, "malformed-envelope", str(exc), close=True) from None
    if named_building != building_id:
        raise RelayError(400, "wrong-document", "the envelope is for another building", close=True)
    try:
        await _known(rt, building_id, lambda: rt.relay.recheck_device(building_id, device_id))
    except RelayError as refusal:
        refusal.close = True  # the rest of the body is not read
        raise
    return head + await read_body(request, MAX_ENVELOPE_BYTES)


async def _store(request: web.Request, snapshot: bool, base: str | None) -> Stored:
    rt = _rt(request)
    raw = await _envelope_body(request, rt)
    envelope = rt.relay.decode_envelope(raw)
    if snapshot:  # ?base= is not in the envelope: the request is signed (§7.2)
        building_id, device, valid = await _signed(request, raw, envelope)
    else:
        building_id, device, valid = await _sent(request, envelope)
    doc_id = request.match_info["doc"]
    for _attempt in range(3):
        item: AppendItem = rt.relay.check_envelope(
            building_id, doc_id, device, envelope, raw, request[NOW], base, snapshot, valid
        )
        assert rt.writer is not None
        outcome = await rt.writer.submit(item)
        if isinstance(outcome, RelayError):
            raise outcome
        if isinstance(outcome, Stored):
            if outcome.duplicate:
                request.app[METRICS].duplicates += 1
            return outcome
        assert isinstance(outcome, MembersChanged)
        await rt.read(rt.relay.refresh, building_id)
        device = rt.relay.recheck_device(building_id, device.id)
    raise RelayError(503, "busy", "the members log keeps changing; retry")


async def append(request: web.Request) -> web.Response:
    stored = await _store(request, snapshot=False, base=None)
    # what json.dumps({"seq": …, "duplicate": …}) writes, without its cost
    duplicate = "true" if stored.duplicate else "false"
    return web.Response(
        body=f'{{"seq": {stored.seq}, "duplicate": {duplicate}}}'.encode(),
        status=200 if stored.duplicate else 201,
        content_type="application/json",
    )


async def snapshot(request: web.Request) -> web.Response:
    base = request.query.get("base")
    if base is None or not (base == "-" or is_ulid(base)):
        raise bad_request("bad-base", "?base= names the current snapshot's envelope id, or -")
    stored = await _store(request, snapshot=True, base=None if base == "-" else base)
    body = {"seq": stored.seq, "deleted": stored.deleted, "duplicate": stored.duplicate}
    return web.json_response(body, status=200 if stored.duplicate else 201)


async def pull(request: web.Request) -> web.Response:
    rt = _rt(request)
    building_id, device, _ = await _signed(request, b"")
    rt.relay.admit_request(building_id, device.id, request[NOW])
    check_document(request.match_info["doc"])
    after = _int_query(request, "after", 0, minimum=0)
    limit = min(_int_query(request, "limit", PULL_PAGE_ENVELOPES, minimum=1), PULL_PAGE_ENVELOPES)
    assert rt.storage is not None
    args = (building_id, request.match_info["doc"], after, limit, PULL_PAGE_BYTES)
    page = rt.storage.pull_here(*args, at_most=PULL_HERE_BYTES)
    if page is None:
        page = await rt.read(rt.storage.pull, *args)
    assert page is not None
    records, more = page
    body = b"".join(
        seq.to_bytes(8, "big") + len(data).to_bytes(4, "big") + data for seq, data in records
    )
    return web.Response(
        body=body,
        content_type="application/octet-stream",
        headers={MORE_HEADER: "1" if more else "0"},
    )


async def heads(request: web.Request) -> web.Response:
    rt = _rt(request)
    building_id, device, _ = await _signed(request, b"")
    rt.relay.admit_request(building_id, device.id, request[NOW])
    return web.json_response(await rt.read(rt.relay.heads, building_id))


# -- notifications, health, metrics ------------------------------------------------


async def websocket(request: web.Request) -> web.WebSocketResponse:
    rt = _rt(request)
    building_id, device, _ = await _signed(request, b"")
    rt.relay.admit_request(building_id, device.id, request[NOW])
    ws = web.WebSocketResponse(heartbeat=30.0)
    await ws.prepare(request)
    rt.hub.add(building_id, ws, device.id)
    try:
        async for message in ws:
            if message.type is WSMsgType.ERROR:
                break
    finally:
        rt.hub.remove(building_id, ws)
    return ws


HEALTH_SECONDS = 3.0


async def healthz(request: web.Request) -> web.Response:
    """Ok only when the database answers a read (found by hand: it said ok
    with PostgreSQL stopped, or a SQLite file it could not use, while every
    append failed), so a monitor or a load balancer sees the outage."""
    rt = _rt(request)
    try:
        assert rt.storage is not None
        await asyncio.wait_for(rt.read(rt.storage.ping), HEALTH_SECONDS)
    except Exception as exc:  # any failure is "unavailable", logged with why
        log.error("health check failed", extra={"fields": {"error": _health_cause(exc)}})
        return web.json_response(
            {"status": "unavailable", "reason": "the database does not answer"}, status=503
        )
    if time.time() - rt.disk_full_at < DISK_FULL_SECONDS:  # reads work, writes do not
        return web.json_response(
            {"status": "unavailable", "reason": "the database's disk is full"}, status=503
        )
    return web.json_response({"status": "ok"})


def _health_cause(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {HEALTH_SECONDS:g} s"
    cause = getattr(exc, "orig", None) or exc
    return (str(cause).splitlines() or [type(cause).__name__])[0]


async def metrics(request: web.Request) -> web.Response:
    rt = _rt(request)
    assert rt.storage is not None
    buildings, stored = await rt.read(rt.storage.totals)
    gauges = {
        "buildings": buildings,
        "stored_bytes": stored,
        "websocket_clients": rt.hub.clients,
        "replay_cache_entries": len(rt.relay.replay),
    }
    counters: dict[str, tuple[float, str]] = {}
    if rt.writer is not None:
        counters = {
            "write_batches_total": (rt.writer.batches, "Group commits of appends."),
            "write_batched_appends_total": (rt.writer.batched, "Appends in group commits."),
            "write_batch_seconds_total": (rt.writer.seconds, "Time spent in group commits."),
            "write_batches_staged_total": (
                rt.writer.staged,
                "Group commits whose statements ran on the event loop (SQLite).",
            ),
        }
    threads = {"loop": [threading.current_thread()]}
    for name, worker in (("writer", rt.writer), ("reader", rt.reader), ("verifier", rt.verifier)):
        if worker is not None:
            threads[name] = worker.threads
    text_ = request.app[METRICS].render(gauges, counters, thread_cpu_seconds(threads))
    worker = request.app[CONFIG].worker
    if worker:  # `serve --workers N`: each worker's series apart
        text_ = labelled(text_, "worker", str(worker))
    return web.Response(text=text_, content_type="text/plain", charset="utf-8")


MAX_QUERY_INT = (1 << 63) - 1  # what a database's 64-bit integer holds


def _int_query(request: web.Request, name: str, default: int, minimum: int) -> int:
    """A decimal integer: ASCII digits with an optional leading ``-``, not
    ``+1``, `` 1`` or ``1_0``, which ``int()`` would take; within a
    database's 64-bit integers."""
    text = request.query.get(name)
    if text is None:
        return default
    digits = text.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 19:
        raise bad_request("bad-query", f"?{name}= is an integer of at most 19 digits")
    value = int(text)
    if value < minimum:
        raise bad_request("bad-query", f"?{name}= is at least {minimum}")
    if value > MAX_QUERY_INT:
        raise bad_request("bad-query", f"?{name}= is at most {MAX_QUERY_INT}")
    return value


def routes() -> list[web.RouteDef]:
    doc = "{doc:[a-z]+(?:/[0-9A-Z]{4,26}){0,2}}"
    base = "/v1/buildings/{b}"
    return [  # the busiest first: aiohttp tries the routes of a prefix in this order
        web.post(f"{base}/docs/{doc}/envelopes", append),
        web.get(f"{base}/docs/{doc}/envelopes", pull),
        web.post("/v1/buildings", register_building),
        web.get(base + "/members", get_members),
        web.post(base + "/members", post_members),
        web.post(base + "/members/restore", restore_members),
        web.post(base + "/invites", post_invite),
        web.delete(base + "/invites/{invite}", delete_invite),
        web.get("/v1/invites/{invite}", get_invite),
        web.post("/v1/invites/{invite}/join", join),
        web.post(f"{base}/docs/{doc}/snapshot", snapshot),
        web.get(base + "/heads", heads),
        web.get(base + "/ws", websocket),
        web.get("/healthz", healthz),
        web.get("/metrics", metrics),
    ]
