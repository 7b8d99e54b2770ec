"""The envelopes' unique index leads with the envelope id.

ULIDs grow with time, so the entries a group commit adds land together at
the end of the index instead of on one page per building: a commit of 40
appends to 40 buildings wrote ~40 fewer pages to the write-ahead log
(docs/performance.md, fifth round). Every lookup names both columns, so
the index serves them as before.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "uq_envelopes_envelope_id_building_id",
        "envelopes",
        ["envelope_id", "building_id"],
        unique=True,
    )
    op.drop_index("uq_envelopes_building_id_envelope_id", table_name="envelopes")


def downgrade() -> None:
    op.create_index(
        "uq_envelopes_building_id_envelope_id",
        "envelopes",
        ["building_id", "envelope_id"],
        unique=True,
    )
    op.drop_index("uq_envelopes_envelope_id_building_id", table_name="envelopes")
