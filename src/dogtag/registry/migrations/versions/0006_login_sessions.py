"""login sessions: server-side sessions of the workbench (token hashes, expiry)

Revision ID: 0006_login_sessions
Revises: 0005_tamper_evidence
Create Date: 2026-12-03 09:36:40.025927
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006_login_sessions'
down_revision = '0005_tamper_evidence'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # generated from the models (dogtag.registry.logins), checked by hand
    op.create_table('login_session',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_login_session_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_login_session'))
    )
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_session_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_session_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    # generated from the models (dogtag.registry.logins), checked by hand
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_session_user_id'))
        batch_op.drop_index(batch_op.f('ix_login_session_expires_at'))

    op.drop_table('login_session')
