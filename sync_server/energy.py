"""Energy purchase pools at the relay (docs/sync-protocol.md §9,
ARCHITECTURE §7): the rules, clock-free.

A building's syndic device publishes, signed, one anonymous aggregate per
campaign and energy type (``shared.energy.Aggregate``: at least
:data:`~shared.energy.K_ANONYMITY` participants, no minimum or maximum).
The relay sums, for each building and energy type, its latest aggregate
into the pool ``<energy type>:<region>``; brokers the operator registered
see the pools' sums — never a building — and post offers to a pool; the
buildings in it fetch them.

Every function takes ``now`` (unix seconds, read once per request by the
transport) and plain values; the database is reached through
:class:`~sync_server.energy_store.EnergyStore`, on the threads the
transport chooses.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, date, datetime
from typing import Any

from shared import auth
from shared.energy import (
    AGGREGATE_CONTEXT,
    AGGREGATE_SIGNATURE_HEADER,
    ENERGY_TYPES,
    K_ANONYMITY,
    Aggregate,
    EnergyError,
    Offer,
    pool_of,
)
from shared.ids import new_ulid
from shared.members import Device
from shared.protocol import Role

from .core import RelayCore, SignatureCheck, stale_timestamp
from .energy_store import Broker, EnergyStore, StoredAggregate
from .errors import RelayError, bad_request, too_many, unauthorized

MAX_AGGREGATE_BYTES = 4096  # a canonical aggregate is about 300 bytes
MAX_OFFER_BYTES = 4096
MAX_AGGREGATES_PER_BUILDING = 100  # campaigns × energy types a building keeps
MAX_OFFERS_PER_BROKER = 1000
MAX_PUBLISHED_AT = 40  # characters of an ISO 8601 instant
OFFER_FIELDS = frozenset(Offer.__dataclass_fields__) - {"id"}


def today(now: float) -> str:
    """The relay's date (UTC): offers valid until this day are still shown."""
    return datetime.fromtimestamp(now, UTC).date().isoformat()


# -- aggregates ------------------------------------------------------------------------


def parse_aggregate(raw: bytes) -> Aggregate:
    """A canonical, well-formed aggregate (400 ``too-few-participants`` or
    ``bad-aggregate`` otherwise). Its signature is checked later."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nested too deep
        raise bad_request("bad-aggregate", "the aggregate is not JSON") from None
    participants = data.get("participants") if isinstance(data, dict) else None
    whole = isinstance(participants, int) and not isinstance(participants, bool)
    if whole and participants < K_ANONYMITY:
        raise bad_request(
            "too-few-participants",
            f"an aggregate needs at least {K_ANONYMITY} verified participants",
        )
    try:
        aggregate = Aggregate.parse(raw)
    except EnergyError as exc:
        raise bad_request("bad-aggregate", str(exc)) from None
    if not _instant(aggregate.published_at):
        raise bad_request("bad-aggregate", "published_at is not an ISO 8601 instant with offset")
    return aggregate


def _instant(text: Any) -> bool:
    if not isinstance(text, str) or len(text) > MAX_PUBLISHED_AT:
        return False
    try:
        return datetime.fromisoformat(text).tzinfo is not None
    except ValueError:
        return False


def aggregate_signature(headers: Any) -> bytes:
    """The aggregate's signature header, decoded (400 ``bad-signature``)."""
    text = headers.get(AGGREGATE_SIGNATURE_HEADER)
    try:
        signature = base64.b64decode(text or "", validate=True)
    except (binascii.Error, ValueError):
        signature = b""
    if len(signature) != 64:
        raise bad_request(
            "bad-signature", f"{AGGREGATE_SIGNATURE_HEADER} is a base64 Ed25519 signature"
        )
    return signature


def aggregate_check(device: Device, raw: bytes, signature: bytes) -> SignatureCheck:
    """What the aggregate's signature must verify: the publishing device's
    key over context + body (``shared.energy.sign_aggregate``)."""
    return device.sign_key, AGGREGATE_CONTEXT + raw, signature


def check_publisher(device: Device) -> None:
    if device.role is not Role.SYNDIC:
        raise RelayError(403, "forbidden", "only a syndic device publishes energy aggregates")


def check_path(aggregate: Aggregate, building_id: str, campaign_id: str, energy_type: str) -> None:
    if (aggregate.building_id, aggregate.campaign_id, aggregate.energy_type) != (
        building_id,
        campaign_id,
        energy_type,
    ):
        raise bad_request(
            "wrong-aggregate", "the aggregate's building, campaign or energy type is not the path's"
        )


def check_energy_type(energy_type: str | None) -> None:
    if energy_type is not None and energy_type not in ENERGY_TYPES:
        raise bad_request("bad-energy-type", f"the energy type is one of {', '.join(ENERGY_TYPES)}")


def pool_figures(stored: list[StoredAggregate]) -> list[dict[str, Any]]:
    """Each pool's sums over its buildings: for each building and energy
    type, only its latest aggregate (by the relay's clock, then campaign
    id), so a building counts once however many campaigns it kept. No
    building id leaves this function."""
    latest: dict[tuple[str, str], StoredAggregate] = {}
    for item in stored:
        a = item.aggregate
        key = (a.building_id, a.energy_type)
        known = latest.get(key)
        if known is None or (item.received_at, a.campaign_id) > (
            known.received_at,
            known.aggregate.campaign_id,
        ):
            latest[key] = item
    pools: dict[str, dict[str, Any]] = {}
    for item in latest.values():
        a = item.aggregate
        pool = pools.setdefault(
            pool_of(a),
            {"pool": pool_of(a), "energy_type": a.energy_type, "region": a.region,
             "buildings": 0, "participants": 0, "units": 0, "total_kwh": 0},
        )  # fmt: skip
        pool["buildings"] += 1
        pool["participants"] += a.participants
        pool["units"] += a.units
        pool["total_kwh"] += a.total_kwh
    return [pools[name] for name in sorted(pools)]


# -- offers ----------------------------------------------------------------------------


def parse_pool(text: str) -> str:
    energy, _sep, region = text.partition(":")
    if energy not in ENERGY_TYPES or len(region) != 1 or region not in "123456789":
        raise bad_request("bad-pool", "a pool is <electricity|gas>:<region digit 1-9>")
    return text


def new_offer(body: Any, pool: str, now: float) -> Offer:
    """An offer from a broker's JSON (every field of ``Offer`` but ``id``),
    with a new id (400 ``bad-offer``, ``wrong-pool``, ``expired-offer``)."""
    if not isinstance(body, dict) or set(body) != OFFER_FIELDS:
        fields = ", ".join(sorted(OFFER_FIELDS))
        raise bad_request("bad-offer", f"an offer is a JSON object with exactly: {fields}")
    if body["pool"] != pool:
        raise bad_request("wrong-pool", "the offer's pool is not the path's")
    until = body["valid_until"]
    try:
        normal = isinstance(until, str) and date.fromisoformat(until).isoformat() == until
    except ValueError:
        normal = False
    if not normal:
        raise bad_request("bad-offer", "valid_until is a date written YYYY-MM-DD")
    if until < today(now):
        raise bad_request("expired-offer", "the offer's valid_until has passed")
    try:
        return Offer(id=new_ulid(int(now * 1000)), **body)
    except (EnergyError, TypeError, AttributeError) as exc:
        raise bad_request("bad-offer", str(exc)) from None


def offer_json(offer: Offer) -> dict[str, Any]:
    return {**offer.to_json(), "green_score": offer.green_score}


# -- brokers ---------------------------------------------------------------------------


def identify_broker(headers: Any, now: float) -> tuple[auth.SignedRequest, bytes]:
    """A broker's signature headers (§9.3) before the signature: their
    form, the timestamp and the public key named (401 otherwise)."""
    try:
        signed = auth.parse_headers(headers, auth.BROKER_HEADER)
        auth.check_fresh(signed.timestamp, now)
    except auth.StaleTimestamp as exc:
        raise stale_timestamp() from exc
    except auth.AuthError as exc:
        raise unauthorized("unauthenticated", f"{exc} (a broker's request)") from exc
    try:
        key = base64.b64decode(signed.device_id, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise unauthorized("unknown-broker", f"{auth.BROKER_HEADER} is a base64 public key")
    return signed, key


def broker_check(
    signed: auth.SignedRequest, broker: Broker, method: str, path: str, body: bytes
) -> SignatureCheck:
    message = auth.message(method, path, body, signed.timestamp, signed.nonce, auth.BROKER_CONTEXT)
    return broker.sign_key, message, signed.signature


class EnergyCore:
    """The energy endpoints' steps that touch the database or the relay's
    shared state (replay cache, rate buckets)."""

    def __init__(self, store: EnergyStore, relay: RelayCore) -> None:
        self.store = store
        self.relay = relay

    # writer thread
    def publish(self, aggregate: Aggregate, signature: bytes, device_id: str, now: float) -> bool:
        """Store (or replace) the aggregate; True if it replaced one."""
        return self.store.put_aggregate(
            aggregate, signature, device_id, int(now * 1000), MAX_AGGREGATES_PER_BUILDING
        )

    # reader thread
    def offers_for(self, building_id: str, campaign_id: str, now: float) -> list[Offer]:
        """Offers still valid today in the pools of the campaign's aggregates."""
        stored = self.store.aggregates(building_id, campaign_id)
        pools = {pool_of(item.aggregate) for item in stored}
        return self.store.offers(sorted(pools), today(now))

    def pools(self) -> list[dict[str, Any]]:
        return pool_figures(self.store.aggregates())

    def broker(self, key: bytes) -> Broker:
        found = self.store.broker_by_key(key)
        if found is None:
            raise unauthorized("unknown-broker", "this key is not a registered broker's")
        return found

    def admit_broker(
        self, signed: auth.SignedRequest, broker: Broker, valid: bool, now: float
    ) -> None:
        """After the signature was verified: 401 bad signature, replay; 429 rate."""
        if not valid:
            raise unauthorized("bad-request-signature", "bad signature")
        if self.relay.replay.seen(signed.signature, now, signed.timestamp):
            raise unauthorized("replayed", "this request was already received")
        wait = self.relay.device_rate.take(f"broker:{broker.name}", now)
        if wait:
            raise too_many("rate-limited", "too many requests from this broker", int(wait) + 1)

    # writer thread
    def post_offer(self, broker: Broker, offer: Offer, now: float) -> None:
        self.store.add_offer(offer, broker.name, int(now), MAX_OFFERS_PER_BROKER)

    def withdraw_offer(self, broker: Broker, pool: str, offer_id: str) -> None:
        self.store.delete_offer(offer_id, pool, broker.name)
