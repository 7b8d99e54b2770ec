"""Storage of the energy pools (docs/sync-protocol.md §9): buildings'
anonymous aggregates, registered brokers, and their offers.

Synchronous SQLAlchemy Core, one transaction per call, like
:mod:`sync_server.storage`: the relay runs writes on its writer thread and
reads on its reader threads; the operator's ``koprogo-relay broker``
commands call it directly on the database. With PostgreSQL a write that
checks a count first locks the row it counts under (the building, the
broker), so two relay processes cannot both pass a limit.

Nothing here decides a rule of the protocol; refusals that need stored
state (limits, who posted an offer) are raised as
:class:`~sync_server.errors.RelayError`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, delete, func, insert, select

from shared.energy import Aggregate, Offer

from .database import writing
from .errors import RelayError, not_found
from .schema import brokers, buildings, energy_aggregates, energy_offers, members

_AGGREGATE_FIELDS = tuple(Aggregate.__dataclass_fields__)
_OFFER_FIELDS = tuple(Offer.__dataclass_fields__)


@dataclass(frozen=True)
class Broker:
    name: str
    sign_key: bytes  # Ed25519 public key
    added_at: int


@dataclass(frozen=True)
class StoredAggregate:
    aggregate: Aggregate
    received_at: int  # relay clock, milliseconds


class BrokerExists(Exception):
    """A broker of that name or with that key is already registered."""


class EnergyStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- aggregates ------------------------------------------------------------------

    def put_aggregate(
        self,
        aggregate: Aggregate,
        signature: bytes,
        device_id: str,
        received_at: int,
        max_per_building: int,
    ) -> bool:
        """Store ``aggregate``, replacing the one of its (building, campaign,
        energy type); True if it replaced one. 507 ``energy-quota`` when the
        building already holds ``max_per_building`` others."""
        key = (
            energy_aggregates.c.building_id == aggregate.building_id,
            energy_aggregates.c.campaign_id == aggregate.campaign_id,
            energy_aggregates.c.energy_type == aggregate.energy_type,
        )
        with writing(self.engine) as conn:
            _lock_building(conn, aggregate.building_id)
            replaced = conn.execute(delete(energy_aggregates).where(*key)).rowcount > 0
            if not replaced:
                held = conn.execute(
                    select(func.count())
                    .select_from(energy_aggregates)
                    .where(energy_aggregates.c.building_id == aggregate.building_id)
                ).scalar_one()
                if held >= max_per_building:
                    raise RelayError(
                        507,
                        "energy-quota",
                        f"a building keeps at most {max_per_building} aggregates; "
                        "withdraw old ones",
                    )
            values = {name: getattr(aggregate, name) for name in _AGGREGATE_FIELDS}
            conn.execute(
                insert(energy_aggregates).values(
                    **values, signature=signature, device_id=device_id, received_at=received_at
                )
            )
        return replaced

    def delete_aggregates(
        self, building_id: str, campaign_id: str, energy_type: str | None = None
    ) -> int:
        """Withdraw a campaign's aggregates (one energy type, or all); how many."""
        where = [
            energy_aggregates.c.building_id == building_id,
            energy_aggregates.c.campaign_id == campaign_id,
        ]
        if energy_type is not None:
            where.append(energy_aggregates.c.energy_type == energy_type)
        with writing(self.engine) as conn:
            return int(conn.execute(delete(energy_aggregates).where(*where)).rowcount)

    def aggregates(
        self, building_id: str | None = None, campaign_id: str | None = None
    ) -> list[StoredAggregate]:
        """Stored aggregates: every one, or a building's, or a campaign's."""
        query = select(*(energy_aggregates.c[name] for name in _AGGREGATE_FIELDS)).add_columns(
            energy_aggregates.c.received_at
        )
        if building_id is not None:
            query = query.where(energy_aggregates.c.building_id == building_id)
        if campaign_id is not None:
            query = query.where(energy_aggregates.c.campaign_id == campaign_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [StoredAggregate(Aggregate(*row[:-1]), int(row[-1])) for row in rows]

    def signed_aggregate(
        self, building_id: str, campaign_id: str, energy_type: str
    ) -> tuple[bytes, str] | None:
        """(signature, device id) of a stored aggregate (tests, audits)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(energy_aggregates.c.signature, energy_aggregates.c.device_id).where(
                    energy_aggregates.c.building_id == building_id,
                    energy_aggregates.c.campaign_id == campaign_id,
                    energy_aggregates.c.energy_type == energy_type,
                )
            ).first()
        return None if row is None else (bytes(row[0]), row[1])

    # -- brokers ---------------------------------------------------------------------

    def add_broker(self, name: str, sign_key: bytes, now: int) -> None:
        with writing(self.engine) as conn:
            taken = conn.execute(
                select(brokers.c.name).where(
                    (brokers.c.name == name) | (brokers.c.sign_key == sign_key)
                )
            ).first()
            if taken is not None:
                raise BrokerExists(taken[0])
            conn.execute(insert(brokers).values(name=name, sign_key=sign_key, added_at=int(now)))

    def remove_broker(self, name: str) -> int | None:
        """Remove a broker and its offers; how many offers, None if unknown."""
        with writing(self.engine) as conn:
            gone = conn.execute(delete(energy_offers).where(energy_offers.c.broker == name))
            if conn.execute(delete(brokers).where(brokers.c.name == name)).rowcount == 0:
                return None
            return int(gone.rowcount)

    def brokers(self) -> list[Broker]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(brokers.c.name, brokers.c.sign_key, brokers.c.added_at).order_by(
                    brokers.c.name
                )
            ).all()
        return [Broker(name, bytes(key), int(added)) for name, key, added in rows]

    def broker_by_key(self, sign_key: bytes) -> Broker | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(brokers.c.name, brokers.c.sign_key, brokers.c.added_at).where(
                    brokers.c.sign_key == sign_key
                )
            ).first()
        return None if row is None else Broker(row[0], bytes(row[1]), int(row[2]))

    def is_member_key(self, b64_key: str) -> bool:
        """Whether a members log names this public key (base64), as a device
        or a person: such a key may not become a broker's."""
        needle = f'"{b64_key}"'.encode()
        with self.engine.connect() as conn:
            return any(needle in bytes(body) for (body,) in conn.execute(select(members.c.body)))

    # -- offers ----------------------------------------------------------------------

    def add_offer(self, offer: Offer, broker: str, now: int, max_per_broker: int) -> None:
        with writing(self.engine) as conn:
            locked = conn.execute(
                select(brokers.c.name).where(brokers.c.name == broker).with_for_update()
            ).first()
            if locked is None:
                raise RelayError(401, "unknown-broker", "this broker is not registered")
            held = conn.execute(
                select(func.count())
                .select_from(energy_offers)
                .where(energy_offers.c.broker == broker)
            ).scalar_one()
            if held >= max_per_broker:
                raise RelayError(
                    507,
                    "offer-quota",
                    f"a broker keeps at most {max_per_broker} offers; withdraw old ones",
                )
            conn.execute(
                insert(energy_offers).values(**offer.to_json(), broker=broker, posted_at=int(now))
            )

    def delete_offer(self, offer_id: str, pool: str, broker: str) -> None:
        """Withdraw an offer its broker posted to ``pool`` (404 unknown,
        403 another broker's)."""
        with writing(self.engine) as conn:
            row = conn.execute(
                select(energy_offers.c.broker).where(
                    energy_offers.c.id == offer_id, energy_offers.c.pool == pool
                )
            ).first()
            if row is None:
                raise not_found("unknown-offer", "no such offer in this pool")
            if row[0] != broker:
                raise RelayError(
                    403, "forbidden", "only the broker who posted an offer may withdraw it"
                )
            conn.execute(delete(energy_offers).where(energy_offers.c.id == offer_id))

    def offers(self, pools: list[str], valid_on: str) -> list[Offer]:
        """Offers posted to ``pools`` and valid on ``valid_on`` (YYYY-MM-DD)."""
        if not pools:
            return []
        query = (
            select(*(energy_offers.c[name] for name in _OFFER_FIELDS))
            .where(energy_offers.c.pool.in_(pools), energy_offers.c.valid_until >= valid_on)
            .order_by(
                energy_offers.c.pool, energy_offers.c.price_kwh_millicents, energy_offers.c.id
            )
        )
        with self.engine.connect() as conn:
            return [Offer(*row) for row in conn.execute(query)]


def _lock_building(conn: Connection, building_id: str) -> None:
    row = conn.execute(
        select(buildings.c.id).where(buildings.c.id == building_id).with_for_update()
    ).first()
    if row is None:
        raise RelayError(404, "unknown-building", "no such building on this relay")
