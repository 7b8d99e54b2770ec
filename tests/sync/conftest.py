"""Real relay processes (and PostgreSQL) for the sync tests: see
``tests/relay/fixtures.py``."""

from tests.relay.fixtures import postgres_server, relay_factory, relay_process  # noqa: F401
