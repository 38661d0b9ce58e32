"""relative contacts and import history: relatives' names and contact details (family liaison);
every import accepted or rejected, by whom, with counts or errors

Revision ID: 0009_contacts_and_import_log
Revises: 0008_redact_password_hashes
Create Date: 2026-12-03 13:11:23.253095
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009_contacts_and_import_log'
down_revision = '0008_redact_password_hashes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # generated from the models (dogtag.registry.contacts, dogtag.registry.import_log), checked by hand
    op.create_table('import_log',
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('accepted', sa.Boolean(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=True),
    sa.Column('inserted', sa.Integer(), nullable=True),
    sa.Column('updated', sa.Integer(), nullable=True),
    sa.Column('unchanged', sa.Integer(), nullable=True),
    sa.Column('n_errors', sa.Integer(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_log'))
    )
    with op.batch_alter_table('import_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_log_at'), ['at'], unique=False)

    op.create_table('relative_contact',
    sa.Column('family_member_id', sa.Integer(), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=True),
    sa.Column('phone', sa.String(length=64), nullable=True),
    sa.Column('email', sa.String(length=200), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['family_member_id'], ['family_member.id'], name=op.f('fk_relative_contact_family_member_id_family_member'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_relative_contact')),
    sa.UniqueConstraint('family_member_id', name=op.f('uq_relative_contact_family_member_id'))
    )


def downgrade() -> None:
    # generated from the models (dogtag.registry.contacts, dogtag.registry.import_log), checked by hand
    op.drop_table('relative_contact')
    with op.batch_alter_table('import_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_log_at'))

    op.drop_table('import_log')
