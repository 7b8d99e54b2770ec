"""Engines, migrations and the schema check done before serving.

SQLite (default) runs in WAL mode with ``synchronous=FULL``: an answer of
201 to an append means the envelope is on disk. PostgreSQL goes through the
psycopg 3 driver. Migrations are Alembic scripts in
``sync_server/migrations/versions/`` (STYLE §12); before upgrading a SQLite
database that already holds data, :func:`migrate` copies it aside with
SQLite's online backup.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.engine import make_url

from . import schema

MIGRATIONS = Path(__file__).with_name("migrations")


class SchemaError(RuntimeError):
    """The database is not at the relay's schema version."""


def make_engine(url: str, pool_size: int = 8) -> Engine:
    """An engine for ``url``; SQLite connections get WAL, FULL sync and a
    busy timeout (one writer, many readers)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=4, pool_pre_ping=True)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(url: str) -> tuple[str | None, str]:
    """Bring the database at ``url`` to the newest schema; returns
    (revision before, revision after). A SQLite file with data in it is
    backed up beside itself first (``<file>.before-<revision>``)."""
    engine = make_engine(url)
    try:
        before = current_revision(engine)
        head = head_revision()
        if before != head and before is not None and engine.dialect.name == "sqlite":
            _backup_sqlite(url, before)
        with engine.begin() as conn:
            config = alembic_config(url)
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
        return before, head
    finally:
        engine.dispose()


def _backup_sqlite(url: str, revision: str) -> Path | None:
    database = make_url(url).database
    if not database or database == ":memory:":
        return None
    source_path = Path(database)
    target = source_path.with_name(f"{source_path.name}.before-{revision}")
    source, copy = sqlite3.connect(source_path), sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    return target


def check_schema(engine: Engine) -> None:
    """Raise :class:`SchemaError` with what to do when the database is not
    at the newest revision (``serve`` refuses to run on it)."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    if current is None:
        raise SchemaError("the relay database has no schema yet: run `koprogo-relay migrate` first")
    raise SchemaError(
        f"the relay database is at schema {current}, this relay needs {head}: "
        "run `koprogo-relay migrate` (back the database up first)"
    )


def stats(engine: Engine) -> dict[str, int]:
    """What ``koprogo-relay stats`` prints: counts only, never content."""
    with engine.connect() as conn:

        def count(table) -> int:  # type: ignore[no-untyped-def]
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())

        stored = conn.execute(select(func.coalesce(func.sum(schema.envelopes.c.size), 0)))
        return {
            "buildings": count(schema.buildings),
            "envelopes": count(schema.envelopes),
            "bytes": int(stored.scalar_one()),
            "members_entries": count(schema.members),
            "documents": count(schema.documents),
            "devices": _device_count(conn),
            "energy_aggregates": count(schema.energy_aggregates),
            "brokers": count(schema.brokers),
            "energy_offers": count(schema.energy_offers),
        }


def _device_count(conn) -> int:  # type: ignore[no-untyped-def]
    """Active devices over all buildings, read from each verified log's
    entries (genesis and join add one, revoke removes one)."""
    import json

    active = 0
    for (body,) in conn.execute(select(schema.members.c.body)):
        kind = json.loads(body).get("type")
        active += {"genesis": 1, "join": 1, "revoke": -1}.get(kind, 0)
    return active
