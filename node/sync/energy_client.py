"""The relay's energy pools, from this device (docs/sync-protocol.md §9).

Blocking calls for the node's energy service, like :mod:`node.sync.service`:
each runs a short-lived asyncio loop on the calling thread (the one that
owns the session), signs its request with this device's key through
:class:`~node.sync.relay_client.RelayClient`, and keeps the learned clock
offset in the profile.

* :func:`publish` — the syndic's device sends a building's anonymous
  aggregate for one campaign and energy type, signed with its device key;
  it replaces the one sent before.
* :func:`withdraw` — takes a campaign's aggregate(s) back out of the pools.
* :func:`offers` — the offers brokers posted to the pools the campaign's
  aggregates are in, still valid today.

Failures raise :class:`~node.sync.relay_client.RelayError` (a
``KoprogoError``: the relay cannot be reached — ``unreachable`` — or
refused, with its reason), or :class:`~node.errors.InputError` when the
building is not connected to a relay.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import quote

from shared.energy import AGGREGATE_SIGNATURE_HEADER, Aggregate, EnergyError, Offer, sign_aggregate

from ..identity import device_identity
from ..session import Session
from .relay_client import RelayClient, RelayError
from .service import keep_clock_offset, relay_url

T = TypeVar("T")

_OFFER_FIELDS = tuple(Offer.__dataclass_fields__)


def publish(session: Session, aggregate: Aggregate) -> None:
    """Send ``aggregate`` (this building's) to the relay, signed by this
    device; only a syndic's device may (the relay answers 403 otherwise)."""
    if aggregate.building_id != session.building_id:
        raise ValueError("the aggregate is another building's")  # a caller's bug
    identity = device_identity(session.profile.store)
    signature = base64.b64encode(sign_aggregate(aggregate, identity.sign_seed)).decode()
    path = _campaign_path(session, aggregate.campaign_id, aggregate.energy_type)
    _call(
        session,
        lambda client: client.request(
            "PUT",
            path,
            aggregate.body(),
            extra_headers={AGGREGATE_SIGNATURE_HEADER: signature},
        ),
    )


def withdraw(session: Session, campaign: str, energy_type: str | None = None) -> None:
    """Take the campaign's aggregate for ``energy_type`` — or all of them —
    out of the pools. Withdrawing what is not there is not an error."""
    path = _campaign_path(session, campaign, energy_type)
    _call(session, lambda client: client.request("DELETE", path))


def offers(session: Session, campaign: str) -> list[Offer]:
    """The still-valid offers of the pools the campaign's aggregates are in,
    cheapest first within each pool (the relay's order)."""
    path = _campaign_path(session, campaign, "offers")
    _status, _headers, payload = _call(session, lambda client: client.request("GET", path))
    try:
        items = json.loads(payload)["offers"]
        # fields a newer relay may add (a protocol minor) are left aside
        return [Offer.from_json({name: item[name] for name in _OFFER_FIELDS}) for item in items]
    except (ValueError, KeyError, TypeError, EnergyError) as exc:
        message = f"the relay's list of offers is malformed: {exc}"
        raise RelayError(502, "bad-answer", message) from exc


def _campaign_path(session: Session, campaign: str, last: str | None = None) -> str:
    parts = ["buildings", session.building_id, "energy", campaign]
    if last is not None:
        parts.append(last)
    return "/v1/" + "/".join(quote(part, safe="") for part in parts)


def _call(session: Session, work: Callable[[RelayClient], Awaitable[T]]) -> T:
    """Run ``work`` with a client signing as this device, keeping the clock
    offset the relay taught it (as the sync engine does)."""
    store = session.profile.store
    url, building = relay_url(session), session.building_id
    identity = device_identity(store)

    async def run() -> T:
        offset = int(store.get_meta("clock_offset") or 0)
        async with RelayClient(url, identity, building, offset=offset) as client:
            try:
                return await work(client)
            finally:
                keep_clock_offset(store, client)

    return asyncio.run(run())


__all__ = ["offers", "publish", "withdraw"]
