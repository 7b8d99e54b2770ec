"""HTTP handlers of docs/sync-protocol.md §9 (energy pools): parse,
authorise, call the clock-free rules of :mod:`sync_server.energy`.

Building endpoints are signed by a member device exactly as the others
(§4, ``handlers._signed``); broker endpoints by a registered broker's key
(§9.3). Writes run on the writer thread, reads on a reader thread,
signatures on the verifier threads.
"""

from __future__ import annotations

from aiohttp import web

from . import energy
from .energy import EnergyCore
from .energy_store import Broker
from .errors import bad_request
from .handlers import _signed, parse_json, read_body
from .runtime import NOW, RUNTIME, Runtime


def _rt(request: web.Request) -> Runtime:
    return request.app[RUNTIME]


def _energy(request: web.Request) -> EnergyCore:
    core = request.app[RUNTIME].energy
    assert core is not None, "the relay is not started"
    return core


# -- a building's aggregates and offers (§9.1, §9.2) ---------------------------------


async def put_aggregate(request: web.Request) -> web.Response:
    rt, core = _rt(request), _energy(request)
    now = request[NOW]
    campaign, energy_type = request.match_info["campaign"], request.match_info["energy_type"]
    energy.check_energy_type(energy_type)
    raw = await read_body(request, energy.MAX_AGGREGATE_BYTES)
    aggregate = energy.parse_aggregate(raw)
    building_id, device, _ = await _signed(request, raw)
    rt.relay.admit_request(building_id, device.id, now)
    energy.check_publisher(device)
    energy.check_path(aggregate, building_id, campaign, energy_type)
    signature = energy.aggregate_signature(request.headers)
    [valid] = await rt.verify((energy.aggregate_check(device, raw, signature),))
    if not valid:
        raise bad_request("bad-signature", "the aggregate's signature does not verify")
    replaced = await rt.write(core.publish, aggregate, signature, device.id, now)
    return web.json_response({"replaced": replaced}, status=200 if replaced else 201)


async def delete_aggregates(request: web.Request) -> web.Response:
    rt, core = _rt(request), _energy(request)
    energy_type = request.match_info.get("energy_type")
    energy.check_energy_type(energy_type)
    raw = await read_body(request, 0)
    building_id, device, _ = await _signed(request, raw)
    rt.relay.admit_request(building_id, device.id, request[NOW])
    energy.check_publisher(device)
    campaign = request.match_info["campaign"]
    deleted = await rt.write(core.store.delete_aggregates, building_id, campaign, energy_type)
    return web.json_response({"deleted": deleted})


async def get_offers(request: web.Request) -> web.Response:
    rt, core = _rt(request), _energy(request)
    building_id, device, _ = await _signed(request, b"")
    rt.relay.admit_request(building_id, device.id, request[NOW])
    campaign = request.match_info["campaign"]
    found = await rt.read(core.offers_for, building_id, campaign, request[NOW])
    return web.json_response({"offers": [energy.offer_json(offer) for offer in found]})


# -- brokers (§9.3) ---------------------------------------------------------------------


async def _broker(request: web.Request, body: bytes) -> Broker:
    """The registered broker that signed this request (401 otherwise)."""
    rt, core = _rt(request), _energy(request)
    now = request[NOW]
    signed, key = energy.identify_broker(request.headers, now)
    broker = await rt.read(core.broker, key)
    check = energy.broker_check(signed, broker, request.method, request.raw_path, body)
    [valid] = await rt.verify((check,))
    core.admit_broker(signed, broker, valid, now)
    return broker


async def get_pools(request: web.Request) -> web.Response:
    rt, core = _rt(request), _energy(request)
    await _broker(request, b"")
    return web.json_response({"pools": await rt.read(core.pools)})


async def post_offer(request: web.Request) -> web.Response:
    rt, core = _rt(request), _energy(request)
    pool = energy.parse_pool(request.match_info["pool"])
    raw = await read_body(request, energy.MAX_OFFER_BYTES)
    broker = await _broker(request, raw)
    offer = energy.new_offer(parse_json(raw), pool, request[NOW])
    await rt.write(core.post_offer, broker, offer, request[NOW])
    return web.json_response({"id": offer.id}, status=201)


async def delete_offer(request: web.Request) -> web.Response:
    rt, core = _rt(request), _energy(request)
    pool = energy.parse_pool(request.match_info["pool"])
    raw = await read_body(request, 0)
    broker = await _broker(request, raw)
    await rt.write(core.withdraw_offer, broker, pool, request.match_info["offer"])
    return web.json_response({"deleted": 1})


def energy_routes() -> list[web.RouteDef]:
    ulid = "[0-9A-HJKMNP-TV-Z]{26}"
    campaign = f"/v1/buildings/{{b}}/energy/{{campaign:{ulid}}}"
    kind = "{energy_type:[a-z]+}"  # checked by the handler: 400 bad-energy-type
    return [
        web.get(f"{campaign}/offers", get_offers),
        web.put(f"{campaign}/{kind}", put_aggregate),
        web.delete(f"{campaign}/{kind}", delete_aggregates),
        web.delete(campaign, delete_aggregates),
        web.get("/v1/pools", get_pools),
        web.post("/v1/pools/{pool}/offers", post_offer),
        web.delete(f"/v1/pools/{{pool}}/offers/{{offer:{ulid}}}", delete_offer),
    ]
