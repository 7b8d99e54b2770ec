"""``koprogo-relay broker …``: brokers of the energy pools
(docs/sync-protocol.md §9, docs/relay-operations.md).

The operator's commands work on the relay's own database:

* ``broker add NAME --key PUBLIC_KEY``: register a certified broker's key
  (refused if a building's members log already holds it);
* ``broker remove NAME``: unregister it and withdraw its offers;
* ``broker list [--json]``.

The broker's commands talk to a relay with the broker's key file
(:mod:`sync_server.broker_client`):

* ``broker keygen --out FILE``: a new key, sealed under a passphrase
  (``KOPROGO_PASSPHRASE`` or asked); prints the public key to register;
* ``broker pools``, ``broker offer``, ``broker withdraw``.

Exit codes: 0 done; 1 refused (by the relay or the database) or the relay
unreachable; 2 a wrong argument or an un-migrated database.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import getpass
import json
import os
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from shared import keyfile
from shared.energy import (
    CENTS_PER_EURO,
    MILLICENTS_PER_EURO,
    EnergyError,
    Offer,
    euros_to_units,
)

from . import broker_client, database
from .config import resolve_database_url
from .energy_store import BrokerExists, EnergyStore

PASSPHRASE_ENV = "KOPROGO_PASSPHRASE"
MIN_PASSPHRASE_LENGTH = 8
_NAME = re.compile(r"\w[\w .,&'()-]{0,79}")  # letters of any script, digits


class Failure(Exception):
    """A one-line error; ``code`` is the exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def add_commands(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    database_options: Callable[[argparse.ArgumentParser], None],
) -> None:
    broker = commands.add_parser("broker", help="energy brokers: register them, or act as one")
    sub = broker.add_subparsers(dest="broker_command", required=True)

    add = sub.add_parser("add", help="operator: register a broker's public key")
    add.add_argument("name", help="the broker's name, as the operator knows it")
    add.add_argument("--key", required=True, help="the broker's base64 public key (from keygen)")
    database_options(add)
    remove = sub.add_parser("remove", help="operator: unregister a broker, withdraw its offers")
    remove.add_argument("name")
    database_options(remove)
    listing = sub.add_parser("list", help="operator: the registered brokers")
    listing.add_argument("--json", action="store_true", help="print JSON")
    database_options(listing)

    keygen = sub.add_parser("keygen", help="broker: make a key file; prints the public key")
    keygen.add_argument("--out", required=True, help="the key file to create")

    def client(name: str, help_: str) -> argparse.ArgumentParser:
        parser = sub.add_parser(name, help=help_)
        parser.add_argument("--relay", required=True, help="the relay's URL")
        parser.add_argument("--key", required=True, help="the broker's key file")
        return parser

    pools = client("pools", "broker: the pools' sums")
    pools.add_argument("--json", action="store_true", help="print JSON")
    offer = client("offer", "broker: post an offer to a pool")
    offer.add_argument("--pool", required=True, help="e.g. electricity:1")
    offer.add_argument("--provider", required=True, help="the supplier's name")
    offer.add_argument("--price-kwh", required=True, help="euros per kWh, e.g. 0.2735")
    offer.add_argument("--monthly-fee", required=True, help="fixed euros a month, e.g. 5.00")
    offer.add_argument("--green", required=True, type=int, help="green energy, percent")
    offer.add_argument("--months", required=True, type=int, help="contract length in months")
    offer.add_argument("--savings", required=True, type=int, help="estimated savings, percent")
    offer.add_argument("--valid-until", required=True, help="last day of validity, YYYY-MM-DD")
    offer.add_argument("--json", action="store_true", help="print JSON")
    withdraw = client("withdraw", "broker: withdraw one of its offers")
    withdraw.add_argument("--pool", required=True, help="the offer's pool")
    withdraw.add_argument("offer_id", help="the id printed by 'broker offer'")


def run(args: argparse.Namespace) -> int:
    commands: dict[str, Callable[[argparse.Namespace], None]] = {
        "add": _add,
        "remove": _remove,
        "list": _list,
        "keygen": _keygen,
        "pools": _pools,
        "offer": _offer,
        "withdraw": _withdraw,
    }
    try:
        commands[args.broker_command](args)
    except Failure as exc:
        print(f"koprogo-relay: {exc}", file=sys.stderr)
        return exc.code
    return 0


# -- operator ---------------------------------------------------------------------------


def _store(args: argparse.Namespace) -> EnergyStore:
    url = resolve_database_url(args.database_url, args.data_dir, create=False)
    missing = database.missing_file(url)
    if missing is not None:  # found by hand: `broker list` made an empty database
        raise Failure(f"there is no relay database at {missing.absolute()}", 2)
    engine = database.make_engine(url)
    try:
        database.check_schema(engine)
    except database.SchemaError as exc:
        engine.dispose()
        raise Failure(str(exc), 2) from None
    return EnergyStore(engine)


def _add(args: argparse.Namespace) -> None:
    if not _NAME.fullmatch(args.name):
        raise Failure("a broker's name is 1-80 letters, digits, spaces or . , & ' ( ) -", 2)
    try:
        key = base64.b64decode(args.key, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise Failure("--key is a base64 Ed25519 public key (from 'broker keygen')", 2)
    store = _store(args)
    try:
        if store.is_member_key(base64.b64encode(key).decode()):
            raise Failure("this key is a device's or a person's key in a building; refused")
        try:
            store.add_broker(args.name, key, int(time.time()))
        except BrokerExists as exc:
            raise Failure(f"a broker with this name or key is already registered ({exc})") from None
    finally:
        store.engine.dispose()
    print(f"broker {args.name!r} registered")


def _remove(args: argparse.Namespace) -> None:
    store = _store(args)
    try:
        withdrawn = store.remove_broker(args.name)
    finally:
        store.engine.dispose()
    if withdrawn is None:
        raise Failure(f"no broker named {args.name!r}")
    print(f"broker {args.name!r} removed; {withdrawn} offer(s) withdrawn")


def _list(args: argparse.Namespace) -> None:
    store = _store(args)
    try:
        found = store.brokers()
    finally:
        store.engine.dispose()
    rows = [
        {
            "name": b.name,
            "key": base64.b64encode(b.sign_key).decode(),
            "added_at": datetime.fromtimestamp(b.added_at, UTC).isoformat(timespec="seconds"),
        }
        for b in found
    ]
    if args.json:
        print(json.dumps({"brokers": rows}, sort_keys=True))
        return
    for row in rows:
        print(f"{row['name']}\t{row['key']}\t{row['added_at']}")


# -- broker ------------------------------------------------------------------------------


def _passphrase(creating: bool) -> str:
    value = os.environ.get(PASSPHRASE_ENV)
    if value is None:
        if not sys.stdin.isatty():
            raise Failure(f"no passphrase: set {PASSPHRASE_ENV} or run on a terminal", 2)
        value = getpass.getpass("Passphrase of the broker key file: ")
        if creating and getpass.getpass("Again: ") != value:
            raise Failure("the two passphrases differ", 2)
    if creating and len(value) < MIN_PASSPHRASE_LENGTH:
        raise Failure(f"the passphrase needs at least {MIN_PASSPHRASE_LENGTH} characters", 2)
    return value


def _keygen(args: argparse.Namespace) -> None:
    path = Path(args.out)
    if path.exists():
        raise Failure(f"{path} exists; a key file is never overwritten")
    seed = broker_client.new_key()
    try:
        broker_client.write_key(path, seed, _passphrase(creating=True))
    except FileExistsError:
        raise Failure(f"{path} exists; a key file is never overwritten") from None
    except OSError as exc:
        raise Failure(f"cannot write {path}: {exc.strerror or exc}") from None
    print(broker_client.public_key(seed))
    print("give this public key to the relay's operator to register", file=sys.stderr)


def _seed(args: argparse.Namespace) -> bytes:
    path = Path(args.key)
    try:
        return broker_client.read_key(path, _passphrase(creating=False))
    except keyfile.WrongPassphrase:
        raise Failure(f"the passphrase does not open {path}") from None
    except keyfile.KeyFileError:
        raise Failure(f"{path} is not a broker key file, or is damaged", 2) from None
    except OSError as exc:
        raise Failure(f"cannot read {path}: {exc.strerror or exc}", 2) from None


def _call(args: argparse.Namespace, work: Callable[[broker_client.BrokerClient], Any]) -> Any:
    seed = _seed(args)

    async def go() -> Any:
        async with broker_client.BrokerClient(args.relay, seed) as client:
            return await work(client)

    try:
        return asyncio.run(go())
    except broker_client.BrokerError as exc:
        raise Failure(str(exc)) from None


def _pools(args: argparse.Namespace) -> None:
    pools = _call(args, lambda client: client.pools())
    if args.json:
        print(json.dumps({"pools": pools}, sort_keys=True))
        return
    print("pool\tbuildings\tparticipants\tunits\ttotal_kwh")
    for p in pools:
        print(f"{p['pool']}\t{p['buildings']}\t{p['participants']}\t{p['units']}\t{p['total_kwh']}")


def offer_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The offer the arguments describe, as the relay takes it; checked
    here with ``shared.energy.Offer`` (exit 2 on a wrong value)."""
    try:
        normal = date.fromisoformat(args.valid_until).isoformat() == args.valid_until
    except ValueError:
        normal = False
    if not normal:
        raise Failure("--valid-until is a date written YYYY-MM-DD", 2)
    try:
        fields = {
            "pool": args.pool,
            "provider": args.provider,
            "price_kwh_millicents": euros_to_units(args.price_kwh, MILLICENTS_PER_EURO),
            "fixed_monthly_fee_cents": euros_to_units(args.monthly_fee, CENTS_PER_EURO),
            "green_pct": args.green,
            "contract_months": args.months,
            "estimated_savings_pct": args.savings,
            "valid_until": args.valid_until,
        }
        Offer(id="-", **fields)
    except EnergyError as exc:
        raise Failure(f"the offer is not valid: {exc}", 2) from None
    return fields


def _offer(args: argparse.Namespace) -> None:
    fields = offer_fields(args)
    offer_id = _call(args, lambda client: client.post_offer(args.pool, fields))
    if args.json:
        print(json.dumps({"id": offer_id, "pool": args.pool}, sort_keys=True))
    else:
        print(offer_id)


def _withdraw(args: argparse.Namespace) -> None:
    _call(args, lambda client: client.withdraw(args.pool, args.offer_id))
    print(f"offer {args.offer_id} withdrawn")
