"""initial registry schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-28 15:23:13.810737
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # every registry table (generated from the models, then checked by hand)
    op.create_table('analysis_run',
    sa.Column('software', sa.String(length=64), nullable=False),
    sa.Column('software_version', sa.String(length=32), nullable=False),
    sa.Column('command', sa.Text(), nullable=True),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('frequency_database', sa.String(length=200), nullable=True),
    sa.Column('inputs_digest', sa.String(length=64), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analysis_run'))
    )
    op.create_table('app_user',
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=True),
    sa.Column('role', sa.Enum('admin', 'analyst', 'reviewer', 'family_liaison', name='role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_user')),
    sa.UniqueConstraint('username', name=op.f('uq_app_user_username'))
    )
    op.create_table('audit_log',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('table_name', sa.String(length=64), nullable=False),
    sa.Column('row_key', sa.String(length=200), nullable=True),
    sa.Column('before', sa.Text(), nullable=True),
    sa.Column('after', sa.Text(), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_log'))
    )
    op.create_table('chain_head',
    sa.Column('name', sa.String(length=16), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_chain_head'))
    )
    op.create_table('conflict',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conflict')),
    sa.UniqueConstraint('name', name=op.f('uq_conflict_name'))
    )
    op.create_table('custody_log',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('item_kind', sa.String(length=16), nullable=False),
    sa.Column('item_key', sa.String(length=64), nullable=False),
    sa.Column('from_party', sa.String(length=200), nullable=True),
    sa.Column('to_party', sa.String(length=200), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_custody_log'))
    )
    with op.batch_alter_table('custody_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_custody_log_item_key'), ['item_key'], unique=False)

    op.create_table('family',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_family')),
    sa.UniqueConstraint('name', name=op.f('uq_family_name'))
    )
    op.create_table('field_operation',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.Enum('investigation', 'recovery', 'disinterment', 'turnover', name='kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('site', sa.String(length=200), nullable=True),
    sa.Column('latitude', sa.Double(), nullable=True),
    sa.Column('longitude', sa.Double(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_field_operation')),
    sa.UniqueConstraint('key', name=op.f('uq_field_operation_key'))
    )
    op.create_table('individual',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_individual')),
    sa.UniqueConstraint('key', name=op.f('uq_individual_key'))
    )
    op.create_table('accession',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('received_date', sa.Date(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['operation_id'], ['field_operation.id'], name=op.f('fk_accession_operation_id_field_operation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accession')),
    sa.UniqueConstraint('key', name=op.f('uq_accession_key'))
    )
    with op.batch_alter_table('accession', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accession_operation_id'), ['operation_id'], unique=False)

    op.create_table('loss_incident',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('conflict_id', sa.Integer(), nullable=True),
    sa.Column('date', sa.Date(), nullable=True),
    sa.Column('place', sa.String(length=200), nullable=True),
    sa.Column('latitude', sa.Double(), nullable=True),
    sa.Column('longitude', sa.Double(), nullable=True),
    sa.Column('unit', sa.String(length=200), nullable=True),
    sa.Column('circumstances', sa.Text(), nullable=True),
    sa.Column('sources', sa.Text(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.CheckConstraint('latitude IS NULL OR (latitude >= -90 AND latitude <= 90)', name=op.f('ck_loss_incident_latitude')),
    sa.CheckConstraint('longitude IS NULL OR (longitude >= -180 AND longitude <= 180)', name=op.f('ck_loss_incident_longitude')),
    sa.ForeignKeyConstraint(['conflict_id'], ['conflict.id'], name=op.f('fk_loss_incident_conflict_id_conflict')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loss_incident')),
    sa.UniqueConstraint('key', name=op.f('uq_loss_incident_key'))
    )
    with op.batch_alter_table('loss_incident', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_loss_incident_conflict_id'), ['conflict_id'], unique=False)

    op.create_table('element',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('accession_id', sa.Integer(), nullable=False),
    sa.Column('individual_id', sa.Integer(), nullable=True),
    sa.Column('element', sa.String(length=64), nullable=False),
    sa.Column('side', sa.Enum('L', 'R', 'M', 'U', name='side', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('measurements', sa.JSON(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['accession_id'], ['accession.id'], name=op.f('fk_element_accession_id_accession')),
    sa.ForeignKeyConstraint(['individual_id'], ['individual.id'], name=op.f('fk_element_individual_id_individual')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_element')),
    sa.UniqueConstraint('key', name=op.f('uq_element_key'))
    )
    with op.batch_alter_table('element', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_element_accession_id'), ['accession_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_element_individual_id'), ['individual_id'], unique=False)

    op.create_table('missing_person',
    sa.Column('service_number', sa.String(length=32), nullable=False),
    sa.Column('conflict_id', sa.Integer(), nullable=True),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('last_name', sa.String(length=100), nullable=True),
    sa.Column('first_name', sa.String(length=100), nullable=True),
    sa.Column('middle_name', sa.String(length=100), nullable=True),
    sa.Column('rank', sa.String(length=50), nullable=True),
    sa.Column('pay_grade', sa.String(length=10), nullable=True),
    sa.Column('branch', sa.String(length=50), nullable=True),
    sa.Column('enrollment', sa.String(length=50), nullable=True),
    sa.Column('unit', sa.String(length=200), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('birth_year', sa.Integer(), nullable=True),
    sa.Column('loss_date', sa.Date(), nullable=True),
    sa.Column('home_city', sa.String(length=100), nullable=True),
    sa.Column('home_county', sa.String(length=100), nullable=True),
    sa.Column('home_state', sa.String(length=50), nullable=True),
    sa.Column('sex', sa.Integer(), nullable=False),
    sa.Column('ethnicity', sa.String(length=50), nullable=True),
    sa.Column('stature_cm', sa.Double(), nullable=True),
    sa.Column('attributes', sa.JSON(), nullable=True),
    sa.Column('dental_records', sa.Boolean(), nullable=True),
    sa.Column('chest_radiograph', sa.Boolean(), nullable=True),
    sa.Column('status', sa.Enum('missing', 'missing_in_action', 'interned', 'captured', 'beleaguered', 'besieged', 'detained', 'kia_body_not_recovered', 'presumed_dead', 'non_recoverable', 'buried_unknown', 'returned_alive', 'identified', 'other_determination', name='status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.CheckConstraint('sex IN (0, 1, 2)', name=op.f('ck_missing_person_sex')),
    sa.ForeignKeyConstraint(['conflict_id'], ['conflict.id'], name=op.f('fk_missing_person_conflict_id_conflict')),
    sa.ForeignKeyConstraint(['incident_id'], ['loss_incident.id'], name=op.f('fk_missing_person_incident_id_loss_incident')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_missing_person')),
    sa.UniqueConstraint('service_number', name=op.f('uq_missing_person_service_number'))
    )
    with op.batch_alter_table('missing_person', schema=None) as batch_op:
        batch_op.create_index('ix_missing_person_branch_status', ['branch', 'status'], unique=False)
        batch_op.create_index('ix_missing_person_conflict_status', ['conflict_id', 'status'], unique=False)
        batch_op.create_index('ix_missing_person_home_state_status', ['home_state', 'status'], unique=False)
        batch_op.create_index('ix_missing_person_incident_status', ['incident_id', 'status'], unique=False)
        batch_op.create_index('ix_missing_person_loss_date_status', ['loss_date', 'status'], unique=False)
        batch_op.create_index('ix_missing_person_status', ['status'], unique=False)

    op.create_table('operation_incident',
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['loss_incident.id'], name=op.f('fk_operation_incident_incident_id_loss_incident')),
    sa.ForeignKeyConstraint(['operation_id'], ['field_operation.id'], name=op.f('fk_operation_incident_operation_id_field_operation')),
    sa.PrimaryKeyConstraint('operation_id', 'incident_id', name=op.f('pk_operation_incident'))
    )
    op.create_table('family_member',
    sa.Column('family_id', sa.Integer(), nullable=False),
    sa.Column('member', sa.String(length=64), nullable=False),
    sa.Column('father', sa.String(length=64), nullable=True),
    sa.Column('mother', sa.String(length=64), nullable=True),
    sa.Column('sex', sa.Integer(), nullable=False),
    sa.Column('missing', sa.Boolean(), nullable=False),
    sa.Column('missing_person_id', sa.Integer(), nullable=True),
    sa.Column('maternal_root', sa.String(length=64), nullable=False),
    sa.Column('paternal_root', sa.String(length=64), nullable=False),
    sa.Column('relationship_to_missing', sa.String(length=64), nullable=True),
    sa.Column('consent', sa.Enum('given', 'limited', 'withdrawn', 'unknown', name='consent', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('consent_date', sa.Date(), nullable=True),
    sa.Column('reference_sample', sa.String(length=64), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.CheckConstraint('sex IN (0, 1, 2)', name=op.f('ck_family_member_sex')),
    sa.ForeignKeyConstraint(['family_id'], ['family.id'], name=op.f('fk_family_member_family_id_family')),
    sa.ForeignKeyConstraint(['missing_person_id'], ['missing_person.id'], name=op.f('fk_family_member_missing_person_id_missing_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_family_member')),
    sa.UniqueConstraint('family_id', 'member', name=op.f('uq_family_member_family_id_member'))
    )
    with op.batch_alter_table('family_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_family_member_missing_person_id'), ['missing_person_id'], unique=False)

    op.create_table('sample',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('element_id', sa.Integer(), nullable=True),
    sa.Column('accession_id', sa.Integer(), nullable=True),
    sa.Column('taken_date', sa.Date(), nullable=True),
    sa.Column('material', sa.String(length=64), nullable=True),
    sa.Column('sex', sa.Integer(), nullable=False),
    sa.Column('lab', sa.String(length=64), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.CheckConstraint('sex IN (0, 1, 2)', name=op.f('ck_sample_sex')),
    sa.ForeignKeyConstraint(['accession_id'], ['accession.id'], name=op.f('fk_sample_accession_id_accession')),
    sa.ForeignKeyConstraint(['element_id'], ['element.id'], name=op.f('fk_sample_element_id_element')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sample')),
    sa.UniqueConstraint('key', name=op.f('uq_sample_key'))
    )
    with op.batch_alter_table('sample', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sample_accession_id'), ['accession_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sample_element_id'), ['element_id'], unique=False)

    op.create_table('identification',
    sa.Column('missing_person_id', sa.Integer(), nullable=False),
    sa.Column('individual_id', sa.Integer(), nullable=True),
    sa.Column('sample_id', sa.Integer(), nullable=True),
    sa.Column('analysis_run_id', sa.Integer(), nullable=True),
    sa.Column('lr', sa.Double(), nullable=True),
    sa.Column('log10_lr', sa.Double(), nullable=True),
    sa.Column('posterior', sa.Double(), nullable=True),
    sa.Column('evidence', sa.JSON(), nullable=True),
    sa.Column('status', sa.Enum('proposed', 'technical_review', 'administrative_review', 'approved', 'family_notified', 'rejected', 'withdrawn', name='status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('proposed_by', sa.String(length=64), nullable=False),
    sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('technical_reviewer', sa.String(length=64), nullable=True),
    sa.Column('technical_reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('administrative_reviewer', sa.String(length=64), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.CheckConstraint('individual_id IS NOT NULL OR sample_id IS NOT NULL', name=op.f('ck_identification_remains')),
    sa.CheckConstraint('posterior IS NULL OR (posterior >= 0 AND posterior <= 1)', name=op.f('ck_identification_posterior')),
    sa.ForeignKeyConstraint(['analysis_run_id'], ['analysis_run.id'], name=op.f('fk_identification_analysis_run_id_analysis_run')),
    sa.ForeignKeyConstraint(['individual_id'], ['individual.id'], name=op.f('fk_identification_individual_id_individual')),
    sa.ForeignKeyConstraint(['missing_person_id'], ['missing_person.id'], name=op.f('fk_identification_missing_person_id_missing_person')),
    sa.ForeignKeyConstraint(['sample_id'], ['sample.id'], name=op.f('fk_identification_sample_id_sample')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identification'))
    )
    with op.batch_alter_table('identification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identification_analysis_run_id'), ['analysis_run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_identification_individual_id'), ['individual_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_identification_missing_person_id'), ['missing_person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_identification_sample_id'), ['sample_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_identification_status'), ['status'], unique=False)

    op.create_table('profile',
    sa.Column('kind', sa.Enum('autosomal', 'mtdna', 'ystr', name='kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('sample_id', sa.Integer(), nullable=True),
    sa.Column('family_member_id', sa.Integer(), nullable=True),
    sa.Column('lab', sa.String(length=64), nullable=True),
    sa.Column('kit', sa.String(length=64), nullable=True),
    sa.Column('quality', sa.Double(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.CheckConstraint('(sample_id IS NULL) <> (family_member_id IS NULL)', name=op.f('ck_profile_one_owner')),
    sa.ForeignKeyConstraint(['family_member_id'], ['family_member.id'], name=op.f('fk_profile_family_member_id_family_member')),
    sa.ForeignKeyConstraint(['sample_id'], ['sample.id'], name=op.f('fk_profile_sample_id_sample')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_profile')),
    sa.UniqueConstraint('family_member_id', 'kind', name=op.f('uq_profile_family_member_id_kind')),
    sa.UniqueConstraint('sample_id', 'kind', name=op.f('uq_profile_sample_id_kind'))
    )
    with op.batch_alter_table('profile', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_profile_family_member_id'), ['family_member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_profile_sample_id'), ['sample_id'], unique=False)

    op.create_table('identification_event',
    sa.Column('identification_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.Enum('proposed', 'technical_review', 'administrative_review', 'approved', 'family_notified', 'rejected', 'withdrawn', name='from_status', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('to_status', sa.Enum('proposed', 'technical_review', 'administrative_review', 'approved', 'family_notified', 'rejected', 'withdrawn', name='to_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['identification_id'], ['identification.id'], name=op.f('fk_identification_event_identification_id_identification')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identification_event'))
    )
    with op.batch_alter_table('identification_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identification_event_identification_id'), ['identification_id'], unique=False)

    op.create_table('notification',
    sa.Column('identification_id', sa.Integer(), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('relationship', sa.String(length=64), nullable=True),
    sa.Column('method', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['identification_id'], ['identification.id'], name=op.f('fk_notification_identification_id_identification')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_identification_id'), ['identification_id'], unique=False)

    op.create_table('status_change',
    sa.Column('missing_person_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.Enum('missing', 'missing_in_action', 'interned', 'captured', 'beleaguered', 'besieged', 'detained', 'kia_body_not_recovered', 'presumed_dead', 'non_recoverable', 'buried_unknown', 'returned_alive', 'identified', 'other_determination', name='from_status', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('to_status', sa.Enum('missing', 'missing_in_action', 'interned', 'captured', 'beleaguered', 'besieged', 'detained', 'kia_body_not_recovered', 'presumed_dead', 'non_recoverable', 'buried_unknown', 'returned_alive', 'identified', 'other_determination', name='to_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('identification_id', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['identification_id'], ['identification.id'], name=op.f('fk_status_change_identification_id_identification')),
    sa.ForeignKeyConstraint(['missing_person_id'], ['missing_person.id'], name=op.f('fk_status_change_missing_person_id_missing_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_change'))
    )
    with op.batch_alter_table('status_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_status_change_missing_person_id'), ['missing_person_id'], unique=False)

    # the two hash chains start empty, anchored at the genesis hash
    chain_head = sa.table("chain_head", sa.column("name", sa.String), sa.column("seq", sa.Integer),
                          sa.column("hash", sa.String))
    op.bulk_insert(chain_head, [{"name": "audit", "seq": 0, "hash": "0" * 64},
                                {"name": "custody", "seq": 0, "hash": "0" * 64}])


def downgrade() -> None:
    # every registry table (generated from the models, then checked by hand)
    with op.batch_alter_table('status_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_status_change_missing_person_id'))

    op.drop_table('status_change')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_identification_id'))

    op.drop_table('notification')
    with op.batch_alter_table('identification_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identification_event_identification_id'))

    op.drop_table('identification_event')
    with op.batch_alter_table('profile', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_profile_sample_id'))
        batch_op.drop_index(batch_op.f('ix_profile_family_member_id'))

    op.drop_table('profile')
    with op.batch_alter_table('identification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identification_status'))
        batch_op.drop_index(batch_op.f('ix_identification_sample_id'))
        batch_op.drop_index(batch_op.f('ix_identification_missing_person_id'))
        batch_op.drop_index(batch_op.f('ix_identification_individual_id'))
        batch_op.drop_index(batch_op.f('ix_identification_analysis_run_id'))

    op.drop_table('identification')
    with op.batch_alter_table('sample', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sample_element_id'))
        batch_op.drop_index(batch_op.f('ix_sample_accession_id'))

    op.drop_table('sample')
    with op.batch_alter_table('family_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_family_member_missing_person_id'))

    op.drop_table('family_member')
    op.drop_table('operation_incident')
    with op.batch_alter_table('missing_person', schema=None) as batch_op:
        batch_op.drop_index('ix_missing_person_status')
        batch_op.drop_index('ix_missing_person_loss_date_status')
        batch_op.drop_index('ix_missing_person_incident_status')
        batch_op.drop_index('ix_missing_person_home_state_status')
        batch_op.drop_index('ix_missing_person_conflict_status')
        batch_op.drop_index('ix_missing_person_branch_status')

    op.drop_table('missing_person')
    with op.batch_alter_table('element', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_element_individual_id'))
        batch_op.drop_index(batch_op.f('ix_element_accession_id'))

    op.drop_table('element')
    with op.batch_alter_table('loss_incident', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_loss_incident_conflict_id'))

    op.drop_table('loss_incident')
    with op.batch_alter_table('accession', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accession_operation_id'))

    op.drop_table('accession')
    op.drop_table('individual')
    op.drop_table('field_operation')
    op.drop_table('family')
    with op.batch_alter_table('custody_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_custody_log_item_key'))

    op.drop_table('custody_log')
    op.drop_table('conflict')
    op.drop_table('chain_head')
    op.drop_table('audit_log')
    op.drop_table('app_user')
    op.drop_table('analysis_run')
