"""Initial relay schema: buildings, members log, invites, documents,
per-device counters, envelopes and monthly usage.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ULID = sa.String(26)
DOC_ID = sa.String(64)


def upgrade() -> None:
    op.create_table(
        "buildings",
        sa.Column("id", ULID, nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("members_length", sa.Integer(), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("bytes_stored", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_buildings"),
    )
    op.create_table(
        "members",
        sa.Column("building_id", ULID, nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["building_id"], ["buildings.id"], name="fk_members_building_id"),
        sa.PrimaryKeyConstraint("building_id", "seq", name="pk_members"),
    )
    op.create_table(
        "invites",
        sa.Column("id", ULID, nullable=False),
        sa.Column("building_id", ULID, nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["building_id"], ["buildings.id"], name="fk_invites_building_id"),
        sa.PrimaryKeyConstraint("id", name="pk_invites"),
    )
    op.create_table(
        "documents",
        sa.Column("building_id", ULID, nullable=False),
        sa.Column("doc_id", DOC_ID, nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("snapshot_id", ULID, nullable=True),
        sa.Column("snapshot_seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["building_id"], ["buildings.id"], name="fk_documents_building_id"),
        sa.PrimaryKeyConstraint("building_id", "doc_id", name="pk_documents"),
    )
    op.create_table(
        "counters",
        sa.Column("building_id", ULID, nullable=False),
        sa.Column("doc_id", DOC_ID, nullable=False),
        sa.Column("device_id", ULID, nullable=False),
        sa.Column("last_counter", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("building_id", "doc_id", "device_id", name="pk_counters"),
    )
    op.create_table(
        "envelopes",
        sa.Column("building_id", ULID, nullable=False),
        sa.Column("doc_id", DOC_ID, nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("envelope_id", ULID, nullable=False),
        sa.Column("device_id", ULID, nullable=False),
        sa.Column("kind", sa.SmallInteger(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("building_id", "doc_id", "seq", name="pk_envelopes"),
    )
    op.create_index(
        "uq_envelopes_building_id_envelope_id",
        "envelopes",
        ["building_id", "envelope_id"],
        unique=True,
    )
    op.create_table(
        "usage",
        sa.Column("building_id", ULID, nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("building_id", "month", name="pk_usage"),
    )


def downgrade() -> None:
    for table in ("usage", "envelopes", "counters", "documents", "invites", "members"):
        op.drop_table(table)
    op.drop_table("buildings")
