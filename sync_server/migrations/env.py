"""Alembic environment: migrates the connection or URL the relay passes in
(``sync_server.database.migrate``); there is no alembic.ini."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from sync_server.schema import metadata

config = context.config


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_with(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.begin() as conn:
            _run_with(conn)
    finally:
        engine.dispose()


def _run_with(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run koprogo-relay migrate")
run()
