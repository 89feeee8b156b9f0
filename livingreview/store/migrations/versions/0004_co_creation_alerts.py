"""co-creation alerts and maintainers' decisions on them

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 14:40:00

Each record the co-creation detector flags becomes one ``co_creation_alerts`` row (score, mode,
the passages that carried it); maintainers confirm or dismiss it with append-only
``alert_decisions`` rows, which the detector learns from.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'co_creation_alerts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=True),
        sa.Column('score', sa.Float(), nullable=False),
        sa.Column('mode', sa.String(length=20), nullable=False),
        sa.Column('evidence', sa.JSON(), nullable=False),
        sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['record_id'], ['records.id'], ),
        sa.ForeignKeyConstraint(['run_id'], ['update_runs.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('record_id'),
    )
    with op.batch_alter_table('co_creation_alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_co_creation_alerts_run_id'), ['run_id'],
                              unique=False)
    op.create_table(
        'alert_decisions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('alert_id', sa.Integer(), nullable=False),
        sa.Column('decision', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('decided_by', sa.String(length=80), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['alert_id'], ['co_creation_alerts.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('alert_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_decisions_alert_id'), ['alert_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('alert_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_decisions_alert_id'))
    op.drop_table('alert_decisions')
    with op.batch_alter_table('co_creation_alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_co_creation_alerts_run_id'))
    op.drop_table('co_creation_alerts')
