"""The relay's tables (SQLAlchemy 2 Core). Alembic migrations in
``sync_server/migrations/versions/`` must produce exactly this (a test
compares them on SQLite and PostgreSQL).

What is stored is what the relay may know (ARCHITECTURE §7): opaque ids,
the public members log, encrypted envelope bytes with their sizes, and
counts. Nothing here holds a name, an amount or a document's content —
except what is public by design: a building's anonymous energy aggregate
(at least five participants, no minimum or maximum), the certified brokers
the operator registered, and their offers (docs/sync-protocol.md §9).
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
    # The envelope id first: ULIDs grow with time, so a group commit's new
    # entries land together at the end of the index instead of one page per
    # building (migration 0003; lookups are by both columns either way).
    Index("uq_envelopes_envelope_id_building_id", "envelope_id", "building_id", unique=True),
)

usage = Table(
    "usage",
    metadata,
    Column("building_id", ULID, primary_key=True),
    Column("month", String(7), primary_key=True),  # YYYY-MM, UTC
    Column("requests", BigInteger, nullable=False),
)

energy_aggregates = Table(
    "energy_aggregates",
    metadata,
    # the fields of shared.energy.Aggregate, exactly; nothing of a single unit
    Column("building_id", ULID, ForeignKey("buildings.id"), primary_key=True),
    Column("campaign_id", ULID, primary_key=True),
    Column("energy_type", String(16), primary_key=True),
    Column("region", String(1), nullable=False),
    Column("participants", Integer, nullable=False),
    Column("units", Integer, nullable=False),
    Column("total_kwh", BigInteger, nullable=False),
    Column("average_kwh", BigInteger, nullable=False),
    Column("median_kwh", BigInteger, nullable=False),
    Column("published_at", String(40), nullable=False),  # as signed, the syndic's clock
    # who vouches for it, and when the relay took it (its clock orders, §5)
    Column("signature", LargeBinary, nullable=False),
    Column("device_id", ULID, nullable=False),
    Column("received_at", BigInteger, nullable=False),  # relay clock, milliseconds
)

brokers = Table(
    "brokers",
    metadata,
    Column("name", String(80), primary_key=True),
    Column("sign_key", LargeBinary, nullable=False),  # Ed25519 public key, 32 bytes
    Column("added_at", BigInteger, nullable=False),
    Index("uq_brokers_sign_key", "sign_key", unique=True),
)

energy_offers = Table(
    "energy_offers",
    metadata,
    Column("id", ULID, primary_key=True),
    Column("pool", String(16), nullable=False),  # "<energy type>:<region>"
    Column("broker", String(80), ForeignKey("brokers.name"), nullable=False),
    Column("provider", String(120), nullable=False),
    Column("price_kwh_millicents", Integer, nullable=False),
    Column("fixed_monthly_fee_cents", Integer, nullable=False),
    Column("green_pct", SmallInteger, nullable=False),
    Column("contract_months", SmallInteger, nullable=False),
    Column("estimated_savings_pct", SmallInteger, nullable=False),
    Column("valid_until", String(10), nullable=False),  # YYYY-MM-DD
    Column("posted_at", BigInteger, nullable=False),  # relay clock, seconds
    Index("ix_energy_offers_pool", "pool"),
)
