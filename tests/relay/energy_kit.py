"""Helpers for the energy pool tests: aggregates made from individual kWh
values with ``shared.energy`` as a node makes them, a broker that signs
its requests, and the requests of docs/sync-protocol.md §9."""

from __future__ import annotations

import base64
import json
import time
from datetime import date, timedelta
from typing import Any

import nacl.signing

from shared import auth
from shared.energy import (
    AGGREGATE_SIGNATURE_HEADER,
    Aggregate,
    aggregate_figures,
    sign_aggregate,
)
from shared.ids import new_ulid
from tests.relay.helpers import PROTOCOL, Client, Device, Kit, Result

PUBLISHED_AT = "2027-01-10T10:00:00+00:00"


def aggregate_of(
    kit: Kit,
    kwh: list[int],
    campaign: str | None = None,
    energy_type: str = "electricity",
    region: str = "1",
    units: int | None = None,
    published_at: str = PUBLISHED_AT,
) -> Aggregate:
    """The building's aggregate of the participants' yearly ``kwh``."""
    total, average, median = aggregate_figures(kwh)
    return Aggregate(
        building_id=kit.building_id,
        campaign_id=campaign or new_ulid(),
        energy_type=energy_type,
        region=region,
        participants=len(kwh),
        units=units if units is not None else len(kwh) + 4,
        total_kwh=total,
        average_kwh=average,
        median_kwh=median,
        published_at=published_at,
    )


def path_of(kit: Kit, campaign: str, last: str | None = None) -> str:
    path = f"/v1/buildings/{kit.building_id}/energy/{campaign}"
    return path if last is None else f"{path}/{last}"


async def publish(
    client: Client,
    kit: Kit,
    aggregate: Aggregate,
    device: Device | None = None,
    *,
    body: bytes | None = None,
    signature: str | None = None,
    path: str | None = None,
    signer_seed: bytes | None = None,
) -> Result:
    """PUT the aggregate, signed by ``device`` (default: the syndic's)."""
    device = device or kit.syndic
    body = aggregate.body() if body is None else body
    if signature is None:
        seed = signer_seed or device.seed
        signature = base64.b64encode(sign_aggregate(aggregate, seed)).decode()
    path = path or path_of(kit, aggregate.campaign_id, aggregate.energy_type)
    return await client.send(
        "PUT", path, device, body, headers={AGGREGATE_SIGNATURE_HEADER: signature}
    )


async def withdraw(
    client: Client, kit: Kit, campaign: str, energy_type: str | None = None, device=None
) -> Result:
    return await client.send("DELETE", path_of(kit, campaign, energy_type), device or kit.syndic)


async def offers(client: Client, kit: Kit, campaign: str, device: Device) -> Result:
    return await client.send("GET", path_of(kit, campaign, "offers"), device)


class Broker:
    """A broker's key; signs requests as §9.3 says."""

    def __init__(self, seed: bytes | None = None) -> None:
        self.seed = seed or bytes(nacl.signing.SigningKey.generate())

    @property
    def key(self) -> bytes:
        return bytes(nacl.signing.SigningKey(self.seed).verify_key)

    @property
    def key_b64(self) -> str:
        return base64.b64encode(self.key).decode()

    def headers(self, method: str, path: str, body: bytes, skew: int = 0) -> dict[str, str]:
        return auth.sign_broker_request(self.seed, method, path, body, int(time.time()) + skew)


async def as_broker(
    client: Client, broker: Broker, method: str, path: str, obj: Any = None, skew: int = 0
) -> Result:
    body = b"" if obj is None else json.dumps(obj).encode()
    headers = {auth.PROTOCOL_HEADER: PROTOCOL, **broker.headers(method, path, body, skew)}
    if obj is not None:
        headers["Content-Type"] = "application/json"
    async with client.http.request(method, path, data=body, headers=headers) as resp:
        return Result(resp.status, dict(resp.headers), await resp.read())


def offer_body(pool: str = "electricity:1", days: int = 30, **changes: Any) -> dict[str, Any]:
    fields = {
        "pool": pool,
        "provider": "Wattson Énergie",
        "price_kwh_millicents": 27_350,
        "fixed_monthly_fee_cents": 500,
        "green_pct": 100,
        "contract_months": 12,
        "estimated_savings_pct": 12,
        "valid_until": (date.today() + timedelta(days=days)).isoformat(),
    }
    fields.update(changes)
    return fields


def offers_path(pool: str) -> str:
    return f"/v1/pools/{pool}/offers"
