"""search state and stored pairs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 15:41:12.399216
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # generated from the models (dogtag.registry.search_cache), checked by hand
    op.create_table('search_state',
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['analysis_run.id'], name=op.f('fk_search_state_run_id_analysis_run')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_state')),
    sa.UniqueConstraint('kind', 'key', name=op.f('uq_search_state_kind_key'))
    )
    with op.batch_alter_table('search_state', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_state_run_id'), ['run_id'], unique=False)

    op.create_table('search_pair',
    sa.Column('sample_id', sa.Integer(), nullable=False),
    sa.Column('missing_person_id', sa.Integer(), nullable=False),
    sa.Column('family_id', sa.Integer(), nullable=False),
    sa.Column('log10_lr', sa.Double(), nullable=True),
    sa.Column('exclusions', sa.Integer(), nullable=False),
    sa.Column('markers_used', sa.Integer(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['family_id'], ['family.id'], name=op.f('fk_search_pair_family_id_family')),
    sa.ForeignKeyConstraint(['missing_person_id'], ['missing_person.id'], name=op.f('fk_search_pair_missing_person_id_missing_person')),
    sa.ForeignKeyConstraint(['run_id'], ['analysis_run.id'], name=op.f('fk_search_pair_run_id_analysis_run')),
    sa.ForeignKeyConstraint(['sample_id'], ['sample.id'], name=op.f('fk_search_pair_sample_id_sample')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_pair')),
    sa.UniqueConstraint('sample_id', 'missing_person_id', name=op.f('uq_search_pair_sample_id_missing_person_id'))
    )
    with op.batch_alter_table('search_pair', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_pair_family_id'), ['family_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_pair_missing_person_id'), ['missing_person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_pair_run_id'), ['run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_pair_sample_id'), ['sample_id'], unique=False)



def downgrade() -> None:
    # generated from the models (dogtag.registry.search_cache), checked by hand
    with op.batch_alter_table('search_pair', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_pair_sample_id'))
        batch_op.drop_index(batch_op.f('ix_search_pair_run_id'))
        batch_op.drop_index(batch_op.f('ix_search_pair_missing_person_id'))
        batch_op.drop_index(batch_op.f('ix_search_pair_family_id'))

    op.drop_table('search_pair')
    with op.batch_alter_table('search_state', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_state_run_id'))

    op.drop_table('search_state')
