"""Energy pools with real processes: ``koprogo-relay broker …`` (the
operator's commands on the relay's database, the broker's against a real
relay process), and the node's client (``node/sync/energy_client.py``)
from a real profile. Plus: every ``koprogo-relay`` command and option is
in README.md."""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import aiohttp
import pytest

from node.sync import energy_client, service
from node.sync.relay_client import RelayError
from shared.energy import Aggregate, Offer
from shared.ids import is_ulid, new_ulid
from shared.protocol import Role
from sync_server import cli, database
from sync_server.broker_client import BrokerClient, new_key, public_key
from sync_server.config import Limits
from sync_server.core import RelayCore
from sync_server.energy_store import EnergyStore
from sync_server.storage import Storage
from tests.helpers import make_session
from tests.relay.energy_kit import aggregate_of, offers, publish
from tests.relay.fixtures import ROOT, free_port
from tests.relay.helpers import Client, Kit

README = (ROOT / "README.md").read_text()
PASSPHRASE = "a broker's passphrase"
KWH = [3187, 4421, 2963, 5877, 1749, 3611]
VALID = (date.today() + timedelta(days=60)).isoformat()


def run(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def offer_args(relay_url: str, key: Path, **changes: str) -> list[str]:
    options = {
        "--pool": "electricity:1", "--provider": "Wattson Énergie", "--price-kwh": "0.2735",
        "--monthly-fee": "5.00", "--green": "100", "--months": "12", "--savings": "12",
        "--valid-until": VALID,
    }  # fmt: skip
    options.update(changes)
    args = ["broker", "offer", "--relay", relay_url, "--key", str(key)]
    for name, value in options.items():
        args += [name, value]
    return args


async def _buildings(url: str) -> tuple[Kit, str, object]:
    """A building with an owner's device, its aggregate published."""
    async with aiohttp.ClientSession(base_url=url) as http:
        client = Client(http)
        kit = Kit()
        assert (await client.register(kit)).status == 201
        owner = await client.enrol(kit, Role.OWNER, new_ulid())
        campaign = new_ulid()
        assert (await publish(client, kit, aggregate_of(kit, KWH, campaign))).status == 201
        return kit, campaign, owner


async def _offers(url: str, kit: Kit, campaign: str, device) -> list[dict]:
    async with aiohttp.ClientSession(base_url=url) as http:
        result = await offers(Client(http), kit, campaign, device)
        assert result.status == 200, result.body
        return result.json()["offers"]


def test_broker_round_trip_with_a_real_relay(relay_factory, tmp_path, monkeypatch, capsys):
    relay = relay_factory()
    monkeypatch.setenv("KOPROGO_PASSPHRASE", PASSPHRASE)
    key = tmp_path / "broker.key"
    code, public, err = run(capsys, "broker", "keygen", "--out", str(key))
    assert code == 0 and "operator" in err
    public = public.strip()
    assert len(public) == 44 and PASSPHRASE.encode() not in key.read_bytes()
    assert run(capsys, "broker", "keygen", "--out", str(key))[0] == 1  # never overwritten

    code, _, err = run(capsys, "broker", "pools", "--relay", relay.url, "--key", str(key))
    assert code == 1 and "unknown-broker" in err and err.count("\n") == 1

    db = ["--data-dir", str(relay.data_dir)]  # the operator, on the running relay's database
    assert run(capsys, "broker", "add", "Courtier SA", "--key", public, *db)[0] == 0
    code, out, _ = run(capsys, "broker", "list", "--json", *db)
    assert [(b["name"], b["key"]) for b in json.loads(out)["brokers"]] == [("Courtier SA", public)]
    assert run(capsys, "broker", "list", *db)[1].startswith("Courtier SA\t")

    kit, campaign, owner = asyncio.run(_buildings(relay.url))
    code, out, _ = run(capsys, "broker", "pools", "--relay", relay.url, "--key", str(key), "--json")
    assert code == 0
    assert json.loads(out)["pools"] == [
        {"pool": "electricity:1", "energy_type": "electricity", "region": "1", "buildings": 1,
         "participants": 6, "units": 10, "total_kwh": sum(KWH)}
    ]  # fmt: skip
    assert kit.building_id not in out
    code, out, _ = run(capsys, "broker", "pools", "--relay", relay.url, "--key", str(key))
    assert out.splitlines()[1] == f"electricity:1\t1\t6\t10\t{sum(KWH)}"

    code, out, err = run(capsys, *offer_args(relay.url, key), "--json")
    assert code == 0, err
    offer_id = json.loads(out)["id"]
    assert is_ulid(offer_id)
    [listed] = asyncio.run(_offers(relay.url, kit, campaign, owner))
    assert listed == {
        "id": offer_id, "pool": "electricity:1", "provider": "Wattson Énergie",
        "price_kwh_millicents": 27_350, "fixed_monthly_fee_cents": 500, "green_pct": 100,
        "contract_months": 12, "estimated_savings_pct": 12, "valid_until": VALID,
        "green_score": 10,
    }  # fmt: skip

    withdraw = ["broker", "withdraw", "--relay", relay.url, "--key", str(key)]
    code, _, err = run(capsys, *withdraw, "--pool", "gas:1", offer_id)
    assert code == 1 and "unknown-offer" in err
    assert run(capsys, *withdraw, "--pool", "electricity:1", offer_id)[0] == 0
    assert asyncio.run(_offers(relay.url, kit, campaign, owner)) == []

    code, out, _ = run(capsys, *offer_args(relay.url, key))
    assert code == 0 and is_ulid(out.strip())
    code, out, _ = run(capsys, "stats", "--json", *db)
    figures = json.loads(out)
    assert (figures["energy_aggregates"], figures["brokers"], figures["energy_offers"]) == (1, 1, 1)
    code, out, _ = run(capsys, "broker", "remove", "Courtier SA", *db)
    assert code == 0 and "1 offer(s) withdrawn" in out
    assert asyncio.run(_offers(relay.url, kit, campaign, owner)) == []
    assert run(capsys, "broker", "pools", "--relay", relay.url, "--key", str(key))[0] == 1


def test_broker_commands_refuse_wrong_input(relay_process, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KOPROGO_PASSPHRASE", PASSPHRASE)
    key = tmp_path / "broker.key"
    code, public, _ = run(capsys, "broker", "keygen", "--out", str(key))
    public = public.strip()

    for option, value in (
        ("--price-kwh", "0.273501"),  # finer than a millicent
        ("--monthly-fee", "5.001"),  # finer than a cent
        ("--price-kwh", "-0.2"),
        ("--green", "101"),
        ("--valid-until", "30/06/2027"),
        ("--pool", "electricity:0"),
    ):
        code, _, err = run(capsys, *offer_args(relay_process.url, key, **{option: value}))
        assert code == 2 and err.startswith("koprogo-relay: ") and err.count("\n") == 1, err

    monkeypatch.setenv("KOPROGO_PASSPHRASE", "not the passphrase")
    code, _, err = run(capsys, "broker", "pools", "--relay", relay_process.url, "--key", str(key))
    assert code == 1 and "passphrase" in err
    monkeypatch.setenv("KOPROGO_PASSPHRASE", PASSPHRASE)
    code, _, err = run(capsys, "broker", "pools", "--relay", relay_process.url, "--key", "nowhere")
    assert code == 2 and "nowhere" in err
    dead = f"http://127.0.0.1:{free_port()}"
    code, _, err = run(capsys, "broker", "pools", "--relay", dead, "--key", str(key))
    assert code == 1 and "cannot reach the relay" in err and err.count("\n") == 1
    monkeypatch.setenv("KOPROGO_PASSPHRASE", "short")
    assert run(capsys, "broker", "keygen", "--out", str(tmp_path / "other.key"))[0] == 2
    assert not (tmp_path / "other.key").exists()


def test_operator_commands(tmp_path, capsys):
    db = ["--data-dir", str(tmp_path)]
    code, _, err = run(capsys, "broker", "list", *db)
    assert code == 2 and "there is no relay database" in err  # none made
    assert run(capsys, "migrate", *db)[0] == 0
    kit = Kit()
    engine = database.make_engine(f"sqlite:///{tmp_path / 'relay.sqlite3'}")
    try:
        RelayCore(Storage(engine), Limits()).register({"genesis": kit.genesis().to_json()}, 0)
    finally:
        engine.dispose()
    device_key = kit.syndic.record["sign"]
    code, _, err = run(capsys, "broker", "add", "Sneaky", "--key", device_key, *db)
    assert code == 1 and "device" in err
    code, _, err = run(capsys, "broker", "add", "Bad", "--key", "abc", *db)
    assert code == 2
    code, _, err = run(capsys, "broker", "add", "\tno", "--key", device_key, *db)
    assert code == 2
    broker_key = public_key(new_key())
    assert run(capsys, "broker", "add", "Courtier SA", "--key", broker_key, *db)[0] == 0
    code, _, err = run(capsys, "broker", "add", "Courtier SA", "--key", public_key(new_key()), *db)
    assert code == 1 and "already registered" in err
    assert run(capsys, "broker", "add", "Autre", "--key", broker_key, *db)[0] == 1
    code, _, err = run(capsys, "broker", "remove", "Nobody", *db)
    assert code == 1 and "no broker" in err
    assert run(capsys, "broker", "remove", "Courtier SA", *db)[0] == 0
    assert json.loads(run(capsys, "broker", "list", "--json", *db)[1]) == {"brokers": []}


def test_the_entry_point_runs_broker_commands(tmp_path):
    """The console script's module, as a separate process."""
    result = subprocess.run(
        [sys.executable, "-m", "sync_server.cli", "broker", "list", "--json",
         "--data-dir", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert result.returncode == 2 and result.stderr.startswith("koprogo-relay: ")


# -- the node's client ------------------------------------------------------------------------


def test_the_node_publishes_fetches_offers_and_withdraws(relay_process, tmp_path):
    session = make_session(tmp_path / "syndic")
    try:
        with pytest.raises(Exception, match="not connected to a relay"):
            energy_client.offers(session, new_ulid())
        service.connect(session, relay_process.url)
        campaign = new_ulid()
        aggregate = Aggregate(
            building_id=session.building_id, campaign_id=campaign, energy_type="gas",
            region="5", participants=6, units=14, total_kwh=72_000, average_kwh=12_000,
            median_kwh=11_800, published_at="2027-01-10T10:00:00.123456Z",
        )  # fmt: skip
        energy_client.publish(session, aggregate)
        energy_client.publish(session, aggregate)  # again: replaces it
        store = EnergyStore(
            database.make_engine(f"sqlite:///{relay_process.data_dir / 'relay.sqlite3'}")
        )
        try:
            [kept] = [s.aggregate for s in store.aggregates(session.building_id)]
            assert kept == aggregate
            seed = new_key()
            import base64

            from sync_server.broker_client import public_key

            store.add_broker(f"Courtier {new_ulid()}", base64.b64decode(public_key(seed)), 0)
        finally:
            store.engine.dispose()

        async def post() -> str:
            async with BrokerClient(relay_process.url, seed) as broker:
                body = {"pool": "gas:5", "provider": "GazBelge", "price_kwh_millicents": 9_125,
                        "fixed_monthly_fee_cents": 350, "green_pct": 0, "contract_months": 24,
                        "estimated_savings_pct": 8, "valid_until": VALID}  # fmt: skip
                return await broker.post_offer("gas:5", body)

        offer_id = asyncio.run(post())
        got = energy_client.offers(session, campaign)
        assert got == [Offer(offer_id, "gas:5", "GazBelge", 9_125, 350, 0, 24, 8, VALID)]

        bad = Aggregate(**{**aggregate.__dict__, "published_at": "yesterday"})
        with pytest.raises(RelayError) as refused:
            energy_client.publish(session, bad)
        assert refused.value.code == "bad-aggregate" and "published_at" in str(refused.value)

        energy_client.withdraw(session, campaign, "gas")
        assert energy_client.offers(session, campaign) == []
        energy_client.withdraw(session, campaign)  # nothing left: fine

        session.profile.store.set_meta({"relay_url": f"http://127.0.0.1:{free_port()}"})
        with pytest.raises(RelayError) as down:
            energy_client.offers(session, campaign)
        assert down.value.unreachable and "cannot be reached" in str(down.value)
    finally:
        session.close()


# -- documentation ---------------------------------------------------------------------------


def _command_paths(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                subs = [a for a in sub._actions if isinstance(a, argparse._SubParsersAction)]
                if subs:
                    yield from _command_paths(sub, (*prefix, name))
                else:
                    yield (*prefix, name), sub


def test_every_relay_command_and_option_is_in_the_readme():
    paths = list(_command_paths(cli.build_parser()))
    assert len(paths) >= 10
    missing = [" ".join(p) for p, _ in paths if f"koprogo-relay {' '.join(p)}" not in README]
    options = [
        f"{' '.join(p)} {option}"
        for p, sub in paths
        for action in sub._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help" and option not in README
    ]
    assert missing == [] and options == []
