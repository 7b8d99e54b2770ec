"""Energy purchase pools (docs/sync-protocol.md §9): buildings' anonymous
aggregates, the brokers the operator registered, and their offers.

Revision ID: 0002
Revises: 0001
Create Date: 2027-01-15
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ULID = sa.String(26)


def upgrade() -> None:
    op.create_table(
        "energy_aggregates",
        sa.Column("building_id", ULID, nullable=False),
        sa.Column("campaign_id", ULID, nullable=False),
        sa.Column("energy_type", sa.String(16), nullable=False),
        sa.Column("region", sa.String(1), nullable=False),
        sa.Column("participants", sa.Integer(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("total_kwh", sa.BigInteger(), nullable=False),
        sa.Column("average_kwh", sa.BigInteger(), nullable=False),
        sa.Column("median_kwh", sa.BigInteger(), nullable=False),
        sa.Column("published_at", sa.String(40), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("device_id", ULID, nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["building_id"], ["buildings.id"], name="fk_energy_aggregates_building_id"
        ),
        sa.PrimaryKeyConstraint(
            "building_id", "campaign_id", "energy_type", name="pk_energy_aggregates"
        ),
    )
    op.create_table(
        "brokers",
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("sign_key", sa.LargeBinary(), nullable=False),
        sa.Column("added_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_brokers"),
    )
    op.create_index("uq_brokers_sign_key", "brokers", ["sign_key"], unique=True)
    op.create_table(
        "energy_offers",
        sa.Column("id", ULID, nullable=False),
        sa.Column("pool", sa.String(16), nullable=False),
        sa.Column("broker", sa.String(80), nullable=False),
        sa.Column("provider", sa.String(120), nullable=False),
        sa.Column("price_kwh_millicents", sa.Integer(), nullable=False),
        sa.Column("fixed_monthly_fee_cents", sa.Integer(), nullable=False),
        sa.Column("green_pct", sa.SmallInteger(), nullable=False),
        sa.Column("contract_months", sa.SmallInteger(), nullable=False),
        sa.Column("estimated_savings_pct", sa.SmallInteger(), nullable=False),
        sa.Column("valid_until", sa.String(10), nullable=False),
        sa.Column("posted_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["broker"], ["brokers.name"], name="fk_energy_offers_broker"),
        sa.PrimaryKeyConstraint("id", name="pk_energy_offers"),
    )
    op.create_index("ix_energy_offers_pool", "energy_offers", ["pool"])


def downgrade() -> None:
    op.drop_index("ix_energy_offers_pool", table_name="energy_offers")
    op.drop_table("energy_offers")
    op.drop_index("uq_brokers_sign_key", table_name="brokers")
    op.drop_table("brokers")
    op.drop_table("energy_aggregates")
