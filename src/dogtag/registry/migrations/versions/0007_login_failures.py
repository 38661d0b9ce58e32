"""login failures: counts of failed logins in the registry, shared by the workbench's workers

Revision ID: 0007_login_failures
Revises: 0006_login_sessions
Create Date: 2026-12-03 13:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_login_failures"
down_revision = "0006_login_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # generated from the models (dogtag.registry.logins), checked by hand
    op.create_table("login_failure",
                    sa.Column("key", sa.String(length=200), nullable=False),
                    sa.Column("failures", sa.Integer(), nullable=False),
                    sa.Column("last_s", sa.Double(), nullable=False),
                    sa.Column("until_s", sa.Double(), nullable=False),
                    sa.PrimaryKeyConstraint("key", name=op.f("pk_login_failure")))
    with op.batch_alter_table("login_failure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_failure_last_s"), ["last_s"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("login_failure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_failure_last_s"))
    op.drop_table("login_failure")
