"""one active identification per sample, per individual and per missing person

Revision ID: 0004_one_active_identification
Revises: 0003_commingling
Create Date: 2026-12-03 09:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004_one_active_identification'
down_revision = '0003_commingling'
branch_labels = None
depends_on = None

ACTIVE = "status IN ('proposed', 'technical_review', 'administrative_review', 'approved', 'family_notified')"
COLUMNS = ("sample_id", "individual_id", "missing_person_id")


def upgrade() -> None:
    for col in COLUMNS:
        op.create_index(f"uq_identification_active_{col}", "identification", [col], unique=True,
                        sqlite_where=sa.text(ACTIVE), postgresql_where=sa.text(ACTIVE))


def downgrade() -> None:
    for col in COLUMNS:
        op.drop_index(f"uq_identification_active_{col}", table_name="identification")
