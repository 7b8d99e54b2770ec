"""The relay's tables (SQLAlchemy 2 Core). Alembic migrations in
``sync_server/migrations/versions/`` must produce exactly this (a test
compares them on SQLite and PostgreSQL).

What is stored is what the relay may know (ARCHITECTURE §7): opaque ids,
the public members log, encrypted envelope bytes with their sizes, and
counts. Nothing here holds a name, an amount or a document's content.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ULID = String(26)
DOC_ID = String(64)

buildings = Table(
    "buildings",
    metadata,
    Column("id", ULID, primary_key=True),
    Column("created_at", BigInteger, nullable=False),
    # the verified members log's length and current key epoch, kept here so
    # that every relay process sharing the database sees a change at once
    Column("members_length", Integer, nullable=False),
    Column("epoch", Integer, nullable=False),
    Column("bytes_stored", BigInteger, nullable=False),
)

members = Table(
    "members",
    metadata,
    Column("building_id", ULID, ForeignKey("buildings.id"), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("body", LargeBinary, nullable=False),  # canonical JSON, as signed
    Column("signature", LargeBinary, nullable=False),
)

invites = Table(
    "invites",
    metadata,
    Column("id", ULID, primary_key=True),
    Column("building_id", ULID, ForeignKey("buildings.id"), nullable=False),
    Column("payload", LargeBinary, nullable=False),  # sealed under the code-derived key
)

documents = Table(
    "documents",
    metadata,
    Column("building_id", ULID, ForeignKey("buildings.id"), primary_key=True),
    Column("doc_id", DOC_ID, primary_key=True),
    Column("last_seq", BigInteger, nullable=False),  # relay-assigned, §7
    Column("snapshot_id", ULID, nullable=True),  # envelope id of the current snapshot
    Column("snapshot_seq", BigInteger, nullable=False),
)

counters = Table(
    "counters",
    metadata,
    Column("building_id", ULID, primary_key=True),
    Column("doc_id", DOC_ID, primary_key=True),
    Column("device_id", ULID, primary_key=True),
    Column("last_counter", BigInteger, nullable=False),
)

envelopes = Table(
    "envelopes",
    metadata,
    Column("building_id", ULID, primary_key=True),
    Column("doc_id", DOC_ID, primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("envelope_id", ULID, nullable=False),
    Column("device_id", ULID, nullable=False),
    Column("kind", SmallInteger, nullable=False),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),  # the envelope as received
    Index("uq_envelopes_building_id_envelope_id", "building_id", "envelope_id", unique=True),
)

usage = Table(
    "usage",
    metadata,
    Column("building_id", ULID, primary_key=True),
    Column("month", String(7), primary_key=True),  # YYYY-MM, UTC
    Column("requests", BigInteger, nullable=False),
)
