"""Alembic migrations of the relay database (run with ``koprogo-relay migrate``)."""
