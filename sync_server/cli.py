"""``koprogo-relay``: serve, migrate and count (docs/relay-operations.md).

* ``serve``: run the relay. SQLite (the default, a file in ``--data-dir``) is
  migrated automatically on start; a PostgreSQL database must be migrated
  with ``migrate`` first (several relay processes share it, so none of them
  upgrades it behind the others' backs), and ``serve`` refuses an
  un-migrated or older one with a message saying so.
* ``migrate``: bring the database to the newest schema (a SQLite file is
  backed up beside itself first).
* ``stats [--json]``: buildings, devices, envelopes and bytes stored, and
  the energy pools' aggregates, brokers and offers; ``--buildings``: the
  figures the quotas count, one line per building.
* ``restore BACKUP``: put a backup of a SQLite database in place, the relay
  stopped (the replaced file is kept beside it).
* ``broker …``: register energy brokers (operator), or act as one
  (:mod:`sync_server.broker_cli`).
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import replace

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from . import broker_cli, database, workers
from .config import DEFAULT_HOST, DEFAULT_PORT, Limits, RelayConfig, resolve_database_url
from .limits import month_of


def _database_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        help="sqlite:///path or postgresql://user@host/db (default: SQLite in --data-dir)",
    )
    parser.add_argument(
        "--data-dir",
        help="folder of the SQLite database (default: a per-user data folder, "
        "or $KOPROGO_RELAY_HOME)",
    )


# `serve`'s options for the quotas and rates (§7.4): flag, Limits field, type, help
_LIMIT_OPTIONS: tuple[tuple[str, str, type, str], ...] = (
    ("--max-building-bytes", "max_bytes_per_building", int,
     "storage quota per building in bytes (default 500 MB)"),
    ("--max-devices", "max_devices_per_building", int, "active devices per building (default 50)"),
    ("--max-requests-per-month", "max_requests_per_month", int,
     "requests (appends stored and signed requests) per building and month "
     "(default 100000)"),
    ("--device-rate", "device_rate", float, "requests per second per device (default 20)"),
    ("--device-burst", "device_burst", int, "burst of requests per device (default 100)"),
    ("--address-rate", "address_rate", float,
     "unsigned requests per second per address (default 2)"),
    ("--address-burst", "address_burst", int,
     "burst of unsigned requests per address (default 20)"),
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="koprogo-relay", description="The KoproGo relay: passes encrypted envelopes."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the relay")
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"address (default {DEFAULT_HOST})")
    serve.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})"
    )
    _database_options(serve)
    limits = Limits()
    for flag, name, kind, text in _LIMIT_OPTIONS:
        serve.add_argument(flag, type=_positive(kind), default=getattr(limits, name), help=text)
    serve.add_argument(
        "--trust-forwarded-for",
        action="store_true",
        help="behind a reverse proxy: rate-limit by X-Forwarded-For",
    )
    serve.add_argument(
        "--no-auto-migrate",
        action="store_true",
        help="SQLite: refuse an un-migrated database instead of migrating it",
    )
    serve.add_argument(
        "--verify-threads",
        type=int,
        default=None,
        help="threads verifying signatures beside the event loop (default 1, "
        "0 under --workers: on the loop)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="relay processes sharing the port and the database (default 1; "
        "about one core each; POSIX only)",
    )
    serve.add_argument(
        "--log-level",
        default="INFO",
        type=str.upper,
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="INFO (one line per request) or WARNING",
    )

    migrate = commands.add_parser("migrate", help="bring the database to the newest schema")
    _database_options(migrate)

    stats = commands.add_parser(
        "stats", help="buildings, devices, envelopes, bytes, energy aggregates and offers"
    )
    _database_options(stats)
    stats.add_argument("--json", action="store_true", help="print JSON")
    stats.add_argument(
        "--buildings",
        action="store_true",
        help="one line per building: bytes stored, active devices, requests this month "
        "(what the quotas count), documents and envelopes",
    )
    restore = commands.add_parser(
        "restore", help="put a backup of the SQLite database in place (relay stopped)"
    )
    restore.add_argument("backup", help="a copy made with sqlite3's .backup")
    _database_options(restore)
    broker_cli.add_commands(commands, _database_options)
    return parser


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (0 to 65535)")
    return port


# what a command says in one line (exit 2) instead of a traceback
REFUSALS = (database.SchemaError, database.DatabaseUnusable)


def _in_memory(url: str | None) -> bool:
    if not url or not url.startswith("sqlite"):
        return False
    try:
        database = make_url(url).database
    except ArgumentError:
        return False  # malformed: said by the command itself
    return database in (None, "", ":memory:") or "mode=memory" in url


def _positive(kind: type) -> Callable[[str], int | float]:
    """A quota or a rate: a number above zero (found by hand: -1 was taken)."""

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be above 0, not {text}")
        return value

    return parse


def main(argv: list[str] | None = None) -> int:
    # the database and its folder for the relay's user alone (found by hand:
    # relay.sqlite3 made by hand was readable by every user, 0644); the
    # systemd unit does the same with StateDirectoryMode=0700
    before = os.umask(0o077)
    try:
        return _main(argv)
    finally:
        os.umask(before)  # as it was, for whoever called (tests, in one process)


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    for option in ("database_url", "data_dir"):
        if getattr(args, option, None) is not None and not getattr(args, option).strip():
            # not the default folder in silence: an unset variable in a unit file, say
            print(f"koprogo-relay: --{option.replace('_', '-')} is empty", file=sys.stderr)
            return 2
    if _in_memory(getattr(args, "database_url", None)):
        # found by hand: `migrate` said "at schema 0003" and `serve` then
        # "run migrate first", each process with a database of its own
        print(
            "koprogo-relay: an in-memory SQLite database is lost when the process ends; "
            "give a file (sqlite:////path/relay.sqlite3) or --data-dir",
            file=sys.stderr,
        )
        return 2
    if args.command == "broker":
        return broker_cli.run(args)
    try:
        url = resolve_database_url(
            args.database_url, args.data_dir, create=args.command not in ("stats", "restore")
        )
    except OSError as exc:  # found by hand: tracebacks for a file, or a read-only disk
        where = args.data_dir or "the data folder"
        print(
            f"koprogo-relay: cannot use {where} as the data folder: {exc.strerror}",
            file=sys.stderr,
        )
        return 2
    try:
        if args.command == "migrate":
            return _migrate(url)
        if args.command == "stats":
            return _stats(url, args.json, args.buildings)
        if args.command == "restore":
            return _restore(url, args.backup)
        return _serve(args, url)
    except REFUSALS as exc:
        print(f"koprogo-relay: {exc}", file=sys.stderr)
        return 2


def _restore(url: str, backup: str) -> int:
    from pathlib import Path

    kept = database.restore_sqlite(url, Path(backup))
    where = database.sqlite_path(url)
    print(f"restored {Path(backup).absolute()} as {where}")
    if kept is not None:
        print(f"the database it replaced is kept as {kept}")
    print("start the relay: devices that synced after the backup mend what it lacks")
    return 0


def _migrate(url: str) -> int:
    database.check_intact(url)
    with database.in_words(url):
        before, after = database.migrate(url)
    print(
        f"relay database at schema {after}"
        + ("" if before == after else f" (was {before or 'empty'})")
    )
    return 0


def _stats(url: str, as_json: bool, by_building: bool = False) -> int:
    missing = database.missing_file(url)
    if missing is not None:  # a read-only command: it makes no database
        print(f"koprogo-relay: there is no relay database at {missing.absolute()}", file=sys.stderr)
        return 2
    with database.in_words(url):
        engine = database.make_engine(url)
        try:
            database.check_schema(engine)
            if by_building:
                rows = database.building_stats(engine, month_of(time.time()))
            else:
                figures = database.stats(engine)
        finally:
            engine.dispose()
    if by_building:
        _print_buildings(rows, as_json)
    elif as_json:
        print(json.dumps(figures, sort_keys=True))
    else:
        for name, value in figures.items():
            print(f"{name}: {value}")
    return 0


def _print_buildings(rows: list[dict[str, object]], as_json: bool) -> None:
    if as_json:
        print(json.dumps(rows, sort_keys=True))
        return
    if not rows:
        print("no buildings")
        return
    names = list(rows[0])
    widths = {n: max(len(n), *(len(f"{row[n]}") for row in rows)) for n in names}
    print("  ".join(n.ljust(widths[n]) for n in names).rstrip())
    for row in rows:
        cells = [
            f"{row[n]}".rjust(widths[n])
            if isinstance(row[n], int)
            else f"{row[n]}".ljust(widths[n])
            for n in names
        ]
        print("  ".join(cells).rstrip())


def limits_of(args: argparse.Namespace) -> Limits:
    """The quotas and rates given to `serve` (the defaults for those not given)."""
    given = {name: getattr(args, flag[2:].replace("-", "_")) for flag, name, *_ in _LIMIT_OPTIONS}
    return replace(Limits(), **given)


def _serve(args: argparse.Namespace, url: str) -> int:
    from aiohttp import web

    from .app import create_app
    from .metrics import setup_logging

    setup_logging(args.log_level.upper())
    limits = limits_of(args)
    config = RelayConfig(
        database_url=url,
        host=args.host,
        port=args.port,
        limits=limits,
        auto_migrate=not args.no_auto_migrate,
        trust_forwarded_for=args.trust_forwarded_for,
        verify_threads=max(0, args.verify_threads)
        if args.verify_threads is not None
        else (1 if args.workers == 1 else 0),
    )
    if args.workers < 1:
        print("koprogo-relay: --workers is at least 1", file=sys.stderr)
        return 2
    if args.workers > 1:
        if not workers.supported():
            print("koprogo-relay: --workers needs a POSIX system (fork)", file=sys.stderr)
            return 2
        if args.port == 0:
            print("koprogo-relay: --workers needs a fixed --port", file=sys.stderr)
            return 2
    problem = _cannot_listen(args.host, args.port)
    if problem:  # before anything is logged as started (found by hand)
        print(f"koprogo-relay: {problem}", file=sys.stderr)
        return 2
    serving = database.ServingLock(url)  # held by this process and its workers
    database.check_writable(url)
    database.check_intact(url, at_most=database.CHECK_AT_START_BYTES)
    with database.in_words(url):  # before the app (or its workers) starts: errors in words
        if config.auto_migrate and not config.is_postgresql:
            database.migrate(url)
            config = replace(config, auto_migrate=False)
        engine = database.make_engine(url)
        try:
            database.check_schema(engine)
        finally:
            engine.dispose()
    relay_log = logging.getLogger("koprogo.relay")
    relay_log.info(
        "listening",
        extra={"fields": {"host": args.host, "port": args.port, "workers": args.workers}},
    )

    def run(worker: int, link: workers.Link | None) -> int:
        try:
            # e.g. a damaged page met while loading the logs; not OSError: the port
            with database.in_words(url, more=()):
                web.run_app(
                    create_app(replace(config, worker=worker), link),
                    host=args.host,
                    port=args.port,
                    access_log=None,
                    print=None,
                    handle_signals=True,
                    reuse_port=worker > 0,
                )
        except database.DatabaseUnusable as exc:
            print(f"koprogo-relay: {exc}", file=sys.stderr)
            return 2
        except OSError as exc:  # found by hand: a traceback when the port was taken
            if exc.errno not in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
                raise
            where = f"{args.host}:{args.port}"
            print(f"koprogo-relay: cannot listen on {where}: {exc.strerror}", file=sys.stderr)
            return 2
        return 0

    try:
        if args.workers == 1:
            return run(0, None)
        return workers.Supervisor(args.workers, run, bus=not config.is_postgresql).run()
    finally:
        serving.release()
        relay_log.info("relay stopped", extra={"fields": {"port": args.port}})


def _cannot_listen(host: str, port: int) -> str:
    """Why ``host:port`` cannot be listened on, "" when it can: tried with a
    plain socket (found by hand: two relays with --workers both bound one
    port, the kernel spreading devices over two databases; and an unknown
    host or a taken port ended in a traceback after "relay started")."""
    import socket

    if port == 0:
        return ""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return f"cannot listen on {host}:{port}: {exc.strerror}"
    for family, kind, proto, _name, address in infos:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                return f"cannot listen on {host}:{port}: {exc.strerror}"
    return ""


if __name__ == "__main__":
    raise SystemExit(main())
