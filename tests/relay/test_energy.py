"""Energy purchase pools at the relay (docs/sync-protocol.md §9): a
syndic's device publishes its building's anonymous aggregate, brokers see
only pool sums and post offers, buildings fetch the offers of their pools.
Every in-process test runs on SQLite and on PostgreSQL (``database_url``)."""

from __future__ import annotations

import base64
import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Integer, inspect, select

from shared.energy import Aggregate, Offer, aggregate_figures, pool_of, sign_aggregate
from shared.ids import is_ulid, new_ulid
from shared.protocol import Role
from sync_server import database, schema
from sync_server.energy import pool_figures
from sync_server.energy_store import EnergyStore
from tests.relay.energy_kit import (
    Broker,
    aggregate_of,
    as_broker,
    offer_body,
    offers,
    offers_path,
    path_of,
    publish,
    withdraw,
)
from tests.relay.helpers import Device, Kit
from tests.relay.test_append import refused

KWH = [3187, 4421, 2963, 5877, 1749, 3611]


def store_of(relay) -> EnergyStore:
    return EnergyStore(relay.runtime.engine)


def stored(relay, kit: Kit) -> list[Aggregate]:
    return [item.aggregate for item in store_of(relay).aggregates(kit.building_id)]


async def register(relay) -> Kit:
    kit = Kit()
    assert (await relay.client.register(kit)).status == 201
    return kit


# -- publish, replace, withdraw ----------------------------------------------------------


@pytest.mark.asyncio
async def test_a_syndic_publishes_replaces_and_withdraws(relay, building):
    campaign = new_ulid()
    first = aggregate_of(building, KWH, campaign)
    result = await publish(relay.client, building, first)
    assert (result.status, result.json()) == (201, {"replaced": False})
    assert stored(relay, building) == [first]
    signature, device_id = store_of(relay).signed_aggregate(
        building.building_id, campaign, "electricity"
    )
    assert device_id == building.syndic.id and len(signature) == 64

    again = aggregate_of(building, [*KWH, 2500], campaign, published_at="2027-01-11T09:00:00Z")
    result = await publish(relay.client, building, again)
    assert (result.status, result.json()) == (200, {"replaced": True})
    assert stored(relay, building) == [again]

    gas = aggregate_of(building, KWH, campaign, "gas")
    assert (await publish(relay.client, building, gas)).status == 201
    result = await withdraw(relay.client, building, campaign, "electricity")
    assert (result.status, result.json()) == (200, {"deleted": 1})
    assert stored(relay, building) == [gas]
    result = await withdraw(relay.client, building, campaign)
    assert (result.status, result.json()) == (200, {"deleted": 1})
    assert stored(relay, building) == []
    result = await withdraw(relay.client, building, campaign)  # nothing left: not an error
    assert (result.status, result.json()) == (200, {"deleted": 0})


@pytest.mark.asyncio
async def test_withdrawing_one_campaign_keeps_the_others(relay, building):
    one, two = new_ulid(), new_ulid()
    for campaign in (one, two):
        for kind in ("electricity", "gas"):
            agg = aggregate_of(building, KWH, campaign, kind)
            assert (await publish(relay.client, building, agg)).status == 201
    assert (await withdraw(relay.client, building, one)).json() == {"deleted": 2}
    assert {(a.campaign_id, a.energy_type) for a in stored(relay, building)} == {
        (two, "electricity"),
        (two, "gas"),
    }


# -- refusals: nothing stored --------------------------------------------------------------


def _canonical_but(aggregate: Aggregate, **changes) -> bytes:
    data = {**json.loads(aggregate.body()), **changes}
    return json.dumps(data, separators=(",", ":"), sort_keys=True).encode()


@pytest.mark.asyncio
async def test_refusals_store_nothing(relay, building):
    client, kit = relay.client, building
    campaign = new_ulid()
    good = aggregate_of(kit, KWH, campaign)
    other = Device()

    # the aggregate's signature
    refused(await publish(client, kit, good, signer_seed=other.seed), 400, "bad-signature")
    refused(await publish(client, kit, good, signature=""), 400, "bad-signature")
    refused(await publish(client, kit, good, signature="not base64!"), 400, "bad-signature")
    tampered = _canonical_but(good, total_kwh=good.total_kwh + 1)
    signature = base64.b64encode(sign_aggregate(good, kit.syndic.seed)).decode()
    refused(
        await publish(client, kit, good, body=tampered, signature=signature), 400, "bad-signature"
    )

    # the body names another building, campaign or energy type than the path
    elsewhere = aggregate_of(Kit(), KWH, campaign)
    refused(
        await publish(client, kit, elsewhere, path=path_of(kit, campaign, "electricity")),
        400,
        "wrong-aggregate",
    )
    refused(
        await publish(client, kit, good, path=path_of(kit, new_ulid(), "electricity")),
        400,
        "wrong-aggregate",
    )
    refused(
        await publish(client, kit, good, path=path_of(kit, campaign, "gas")),
        400,
        "wrong-aggregate",
    )
    refused(
        await publish(client, kit, good, path=path_of(kit, campaign, "coal")),
        400,
        "bad-energy-type",
    )

    # fewer than five participants (a node would not make it: the body is hand-made)
    four = _canonical_but(good, participants=4)
    refused(await publish(client, kit, good, body=four), 400, "too-few-participants")

    # malformed, non-canonical, unexpected fields, no instant
    for body in (
        b"{not json",
        b"[]",
        json.dumps(json.loads(good.body()), indent=1).encode(),  # not canonical
        _canonical_but(good, minimum_kwh=1749),  # a field the relay may not know
        _canonical_but(good, published_at="yesterday"),
        _canonical_but(good, published_at="2027-01-10T10:00:00"),  # no offset
        _canonical_but(good, median_kwh=-1),
        _canonical_but(good, region="0"),
    ):
        refused(await publish(client, kit, good, body=body), 400, "bad-aggregate")

    # oversized
    huge = good.body() + b" " * 5000
    refused(await publish(client, kit, good, body=huge), 413, "too-large")

    assert stored(relay, kit) == []
    assert (await publish(client, kit, good)).status == 201  # the good one passes


@pytest.mark.asyncio
async def test_only_a_current_syndic_device_publishes(relay, building):
    client, kit = relay.client, building
    owner = await client.enrol(kit, Role.OWNER, new_ulid())
    council = await client.enrol(kit, Role.COUNCIL)
    kiosk = await client.enrol(kit, Role.KIOSK)
    good = aggregate_of(kit, KWH)
    for device in (owner, council, kiosk):
        refused(await publish(client, kit, good, device), 403, "forbidden")
        refused(await withdraw(client, kit, good.campaign_id, device=device), 403, "forbidden")
    refused(await publish(client, kit, good, Device()), 401, "unknown-device")

    second = await client.enrol(kit, Role.SYNDIC)
    assert (await publish(client, kit, good, second)).status == 201  # any current syndic device
    assert (await client.post_entry(kit, kit.revoke_entry(second))).status == 201
    again = aggregate_of(kit, [*KWH, 4000], good.campaign_id)
    refused(await publish(client, kit, again, second), 401, "revoked-device")
    refused(await withdraw(client, kit, good.campaign_id, device=second), 401, "revoked-device")
    assert stored(relay, kit) == [good]

    other = await register(relay)  # a syndic of another building
    refused(await publish(client, kit, good, other.syndic), 401, "unknown-device")


# -- pools ----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_pools_sum_the_buildings_latest_aggregates(relay):
    client = relay.client
    a, b, c = await register(relay), await register(relay), await register(relay)
    broker = Broker()
    store_of(relay).add_broker("Courtier SA", broker.key, 0)
    old, new = new_ulid(), new_ulid()
    published = [
        aggregate_of(a, [3000] * 5, old, region="1"),  # superseded by a's newer campaign
        aggregate_of(a, [3000] * 6, new, region="1"),
        aggregate_of(a, [12_000] * 5, new, "gas", region="1"),
        aggregate_of(b, [2000] * 7, new_ulid(), region="1", units=20),
        aggregate_of(c, [4000] * 5, new_ulid(), region="4", units=5),
    ]
    for agg in published:
        kit = next(k for k in (a, b, c) if k.building_id == agg.building_id)
        assert (await publish(client, kit, agg)).status == 201
    result = await as_broker(client, broker, "GET", "/v1/pools")
    assert result.status == 200
    assert result.json() == {
        "pools": [
            {"pool": "electricity:1", "energy_type": "electricity", "region": "1",
             "buildings": 2, "participants": 13, "units": 10 + 20, "total_kwh": 18_000 + 14_000},
            {"pool": "electricity:4", "energy_type": "electricity", "region": "4",
             "buildings": 1, "participants": 5, "units": 5, "total_kwh": 20_000},
            {"pool": "gas:1", "energy_type": "gas", "region": "1",
             "buildings": 1, "participants": 5, "units": 9, "total_kwh": 60_000},
        ]
    }  # fmt: skip
    for kit in (a, b, c):
        assert kit.building_id.encode() not in result.body
    assert b"campaign" not in result.body

    # withdrawing a's newer campaign brings back its older aggregate
    assert (await withdraw(client, a, new, "electricity")).status == 200
    pools = (await as_broker(client, broker, "GET", "/v1/pools")).json()["pools"]
    assert pools[0]["participants"] == 5 + 7 and pools[0]["buildings"] == 2


_event = st.tuples(
    st.integers(0, 3),  # building
    st.integers(0, 2),  # campaign
    st.sampled_from(["electricity", "gas"]),
    st.sampled_from(["1", "2"]),  # region (a building's may change: a corrected postal code)
    st.lists(st.integers(0, 40_000), min_size=5, max_size=8),  # participants' kWh
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=st.lists(_event, min_size=1, max_size=12))
def test_pool_sums_are_the_sums_of_the_latest_aggregates(events, tmp_path_factory):
    """Whatever the order of publishing (replacements included), each pool
    holds, for each building and energy type, exactly the last aggregate it
    published — through the real storage and the relay's sums."""
    folder = tmp_path_factory.mktemp("pools")
    url = f"sqlite:///{folder / 'relay.sqlite3'}"
    database.migrate(url)
    engine = database.make_engine(url)
    try:
        kits = [Kit() for _ in range(4)]
        campaigns = [new_ulid() for _ in range(3)]
        with engine.begin() as conn:
            for kit in kits:
                conn.execute(
                    schema.buildings.insert().values(
                        id=kit.building_id, created_at=0, members_length=1, epoch=1, bytes_stored=0
                    )
                )
        store = EnergyStore(engine)
        last: dict[tuple[int, str], Aggregate] = {}
        for moment, (b, c, kind, region, kwh) in enumerate(events):
            agg = aggregate_of(kits[b], kwh, campaigns[c], kind, region)
            store.put_aggregate(agg, b"s" * 64, kits[b].syndic.id, moment, 100)
            last[(b, kind)] = agg
        expected: dict[str, dict] = {}
        for agg in last.values():
            pool = expected.setdefault(
                pool_of(agg),
                {"pool": pool_of(agg), "energy_type": agg.energy_type, "region": agg.region,
                 "buildings": 0, "participants": 0, "units": 0, "total_kwh": 0},
            )  # fmt: skip
            pool["buildings"] += 1
            pool["participants"] += agg.participants
            pool["units"] += agg.units
            pool["total_kwh"] += agg.total_kwh
        assert pool_figures(store.aggregates()) == [expected[k] for k in sorted(expected)]
    finally:
        engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)


# -- brokers: who may use the broker endpoints -------------------------------------------------


@pytest.mark.asyncio
async def test_only_registered_broker_keys_reach_the_pools(relay, building):
    client, kit = relay.client, building
    broker, stranger = Broker(), Broker()
    store_of(relay).add_broker("Courtier SA", broker.key, 0)
    assert (await as_broker(client, broker, "GET", "/v1/pools")).status == 200

    refused(await as_broker(client, stranger, "GET", "/v1/pools"), 401, "unknown-broker")
    # a device key, in a broker's request: not a broker's
    device_as_broker = Broker(kit.syndic.seed)
    refused(await as_broker(client, device_as_broker, "GET", "/v1/pools"), 401, "unknown-broker")
    # a device's own signed request: no broker header
    refused(await client.send("GET", "/v1/pools", kit.syndic), 401, "unauthenticated")
    refused(await client.send("GET", "/v1/pools"), 401, "unauthenticated")
    # stale, replayed, forged
    refused(await as_broker(client, broker, "GET", "/v1/pools", skew=-1000), 401, "stale-timestamp")
    headers = {"KoproGo-Protocol": "1.1", **broker.headers("GET", "/v1/pools", b"")}
    first = await client.send("GET", "/v1/pools", headers=headers)
    assert first.status == 200
    refused(await client.send("GET", "/v1/pools", headers=headers), 401, "replayed")
    forged = {**broker.headers("GET", "/v1/pools", b""), "KoproGo-Broker": broker.key_b64}
    forged["KoproGo-Signature"] = base64.b64encode(b"\0" * 64).decode()
    refused(await client.send("GET", "/v1/pools", headers=forged), 401, "bad-request-signature")
    # a broker's signature over another path does not pass
    moved = broker.headers("GET", "/v1/pools?x=1", b"")
    refused(await client.send("GET", "/v1/pools", headers=moved), 401, "bad-request-signature")


@pytest.mark.asyncio
async def test_a_broker_key_is_not_a_device_key(relay, building):
    client, kit = relay.client, building
    broker = Broker()
    store_of(relay).add_broker("Courtier SA", broker.key, 0)
    campaign = new_ulid()
    # a broker's request to a building's endpoint: no device named
    result = await as_broker(client, broker, "GET", path_of(kit, campaign, "offers"))
    refused(result, 401, "unauthenticated")
    # the broker's key signing as the syndic's device: not the device's key
    impostor = Device()
    impostor.id, impostor.seed = kit.syndic.id, broker.seed
    refused(await offers(client, kit, campaign, impostor), 401, "bad-request-signature")
    # and a device cannot enrol with a broker's key
    device = Device(Role.OWNER, new_ulid())
    device.seed = broker.seed
    secrets, entry, payload = kit.invite(Role.OWNER, device.person)
    assert (await client.post_invite(kit, entry, payload)).status == 201
    joined = await client.join(kit, secrets, device)
    refused(joined, 400, "bad-entry")
    assert "broker" in joined.json()["message"]


# -- offers ----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_offers_are_posted_listed_and_withdrawn(relay):
    client = relay.client
    a, far = await register(relay), await register(relay)
    owner = await client.enrol(a, Role.OWNER, new_ulid())
    broker, rival = Broker(), Broker()
    store = store_of(relay)
    store.add_broker("Courtier SA", broker.key, 0)
    store.add_broker("Rival SPRL", rival.key, 0)
    campaign, far_campaign = new_ulid(), new_ulid()
    assert (await publish(client, a, aggregate_of(a, KWH, campaign))).status == 201
    far_agg = aggregate_of(far, KWH, far_campaign, "gas", "8")
    assert (await publish(client, far, far_agg)).status == 201

    relay_today = datetime.now(UTC).date()
    posted = {}
    for name, body in {
        "cheap": offer_body(price_kwh_millicents=25_000, green_pct=40),
        "green": offer_body(green_pct=60, valid_until=relay_today.isoformat()),  # last day
        "gas8": offer_body("gas:8"),
        "elec2": offer_body("electricity:2"),
    }.items():
        result = await as_broker(client, broker, "POST", offers_path(body["pool"]), body)
        assert result.status == 201, result.body
        posted[name] = result.json()["id"]
        assert is_ulid(posted[name])
    expired = Offer(new_ulid(), **{**offer_body(), "valid_until": "2020-01-01"})
    store.add_offer(expired, "Courtier SA", 0, 100)

    listed = await offers(client, a, campaign, owner)  # any member device of the building
    assert listed.status == 200
    got = listed.json()["offers"]
    assert [o["id"] for o in got] == [posted["cheap"], posted["green"]]  # cheapest first
    assert got[0] == {**offer_body(price_kwh_millicents=25_000, green_pct=40),
                      "id": posted["cheap"], "green_score": 0}  # fmt: skip
    assert got[1]["green_score"] == 5
    far_offers = (await offers(client, far, far_campaign, far.syndic)).json()["offers"]
    assert [o["id"] for o in far_offers] == [posted["gas8"]]
    assert (await offers(client, a, new_ulid(), owner)).json() == {"offers": []}
    refused(await offers(client, a, campaign, far.syndic), 401, "unknown-device")

    # only the broker who posted an offer withdraws it
    path = f"{offers_path('electricity:1')}/{posted['cheap']}"
    refused(await as_broker(client, rival, "DELETE", path), 403, "forbidden")
    wrong_pool = f"{offers_path('gas:8')}/{posted['cheap']}"
    refused(await as_broker(client, broker, "DELETE", wrong_pool), 404, "unknown-offer")
    result = await as_broker(client, broker, "DELETE", path)
    assert (result.status, result.json()) == (200, {"deleted": 1})
    refused(await as_broker(client, broker, "DELETE", path), 404, "unknown-offer")
    got = (await offers(client, a, campaign, owner)).json()["offers"]
    assert [o["id"] for o in got] == [posted["green"]]

    # a building that withdrew its aggregate is in no pool: no offers
    assert (await withdraw(client, a, campaign)).status == 200
    assert (await offers(client, a, campaign, owner)).json() == {"offers": []}


@pytest.mark.asyncio
async def test_bad_offers_are_refused(relay):
    client = relay.client
    broker = Broker()
    store_of(relay).add_broker("Courtier SA", broker.key, 0)
    pool = "electricity:1"

    async def post(body, at: str = pool):
        return await as_broker(client, broker, "POST", offers_path(at), body)

    refused(await post(offer_body(), "electricity:0"), 400, "bad-pool")
    refused(await post(offer_body(), "coal:1"), 400, "bad-pool")
    refused(await post(offer_body("gas:1")), 400, "wrong-pool")
    refused(await post({**offer_body(), "id": new_ulid()}), 400, "bad-offer")
    refused(
        await post({k: v for k, v in offer_body().items() if k != "provider"}), 400, "bad-offer"
    )
    refused(await post(offer_body(price_kwh_millicents=0.5)), 400, "bad-offer")
    refused(await post(offer_body(green_pct=101)), 400, "bad-offer")
    refused(await post(offer_body(provider=" ")), 400, "bad-offer")
    refused(await post(offer_body(valid_until="20270630")), 400, "bad-offer")
    refused(await post(offer_body(days=-2)), 400, "expired-offer")
    refused(await post(["not", "an", "offer"]), 400, "bad-offer")
    result = await client.send(
        "POST",
        offers_path(pool),
        body=b"{",
        headers={**broker.headers("POST", offers_path(pool), b"{"), "KoproGo-Protocol": "1.1"},
    )
    refused(result, 400, "bad-json")
    assert store_of(relay).offers([pool], "2000-01-01") == []


# -- what the relay stores -----------------------------------------------------------------


AGGREGATE_COLUMNS = {
    "building_id", "campaign_id", "energy_type", "region", "participants", "units",
    "total_kwh", "average_kwh", "median_kwh", "published_at",  # the Aggregate's fields
    "signature", "device_id", "received_at",  # who vouches for it, when the relay took it
}  # fmt: skip


@pytest.mark.asyncio
async def test_the_relay_stores_no_per_unit_data(relay, database_url):
    """Buildings publish aggregates of distinctive per-unit yearly kWh; then
    no table or column of the relay's database, and no byte of its files,
    holds any of those values (only the sums, averages and medians do)."""
    client = relay.client
    individual = {
        ("A", "electricity"): [13187, 14421, 12963, 15877, 11749, 16303],
        ("A", "gas"): [23519, 27741, 21093, 25387, 22651, 29417],
        ("B", "electricity"): [17231, 18649, 13957, 19411, 14283, 16879, 12347, 18113],
    }
    kits = {"A": await register(relay), "B": await register(relay)}
    await client.enrol(kits["A"], Role.OWNER, new_ulid())
    published = []
    for (name, kind), kwh in individual.items():
        agg = aggregate_of(kits[name], kwh, energy_type=kind, region="1")
        assert (await publish(client, kits[name], agg)).status == 201
        published.append(agg)
    values = {v for kwh in individual.values() for v in kwh}
    figures = {x for agg in published for x in (agg.total_kwh, agg.average_kwh, agg.median_kwh)}
    assert not values & figures  # the test's data: no figure equals a unit's value

    engine = relay.runtime.engine
    tables = inspect(engine).get_table_names()
    assert {"energy_aggregates", "brokers", "energy_offers"} <= set(tables)
    columns = {c["name"] for c in inspect(engine).get_columns("energy_aggregates")}
    assert columns == AGGREGATE_COLUMNS
    found_totals = set()
    texts = [str(v).encode() for v in values]
    with engine.connect() as conn:
        for table in schema.metadata.sorted_tables:
            assert table.name in tables
            for row in conn.execute(select(table)):
                for column, cell in zip(table.columns, row, strict=True):
                    if isinstance(cell, int) and isinstance(column.type, Integer):
                        assert cell not in values, (table.name, column.name)
                        found_totals.add(cell)
                    raw = cell if isinstance(cell, bytes) else str(cell).encode()
                    hits = [t for t in texts if t in raw]
                    assert hits == [], (table.name, column.name, hits)
    assert {agg.total_kwh for agg in published} <= found_totals  # the scan sees the sums
    if database_url.startswith("sqlite"):
        folder = Path(database_url.removeprefix("sqlite:///")).parent
        files = b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())
        for text in texts:
            assert re.search(rb"(?<![0-9])" + text + rb"(?![0-9])", files) is None, text


# -- the aggregate of figures the node computes -------------------------------------------


def test_distinct_values_give_an_aggregate_without_them():
    total, average, median = aggregate_figures(KWH)
    assert {total, average, median}.isdisjoint(KWH)  # six values: the median is a mean of two
