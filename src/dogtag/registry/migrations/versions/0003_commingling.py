"""commingled remains: element portions and proposed sortings into individuals

Revision ID: 0003_commingling
Revises: 0002
Create Date: 2026-12-03 09:54:26.445625
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003_commingling'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # generated from the models (dogtag.registry.commingling, recovery), checked by hand
    op.create_table('sorting',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('proposed', 'applied', 'rejected', name='status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('accessions', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('proposed_by', sa.String(length=64), nullable=False),
    sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reviewed_by', sa.String(length=64), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('review_note', sa.Text(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['analysis_run.id'], name=op.f('fk_sorting_run_id_analysis_run')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sorting'))
    )
    with op.batch_alter_table('sorting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sorting_run_id'), ['run_id'], unique=False)

    with op.batch_alter_table('element', schema=None) as batch_op:
        batch_op.add_column(sa.Column('portion', sa.String(length=200), nullable=True))



def downgrade() -> None:
    # generated from the models (dogtag.registry.commingling, recovery), checked by hand
    with op.batch_alter_table('element', schema=None) as batch_op:
        batch_op.drop_column('portion')

    with op.batch_alter_table('sorting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sorting_run_id'))

    op.drop_table('sorting')
