"""duplicate-link decisions as append-only rows

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 01:30:00

Until 0001 a person's decisions on a duplicate link were appended as text lines to
``duplicate_links.note``. They become rows of ``duplicate_decisions`` (who, when, from which status
to which, why) so that they can be queried and shown like screening decisions. Every existing line
is carried over: lines in the format the tool wrote are split into their fields; any other line is
kept whole in the row's note.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d) UTC (.+?): (\w+) -> (\w+)(?: \((.*)\))?$")


def upgrade() -> None:
    decisions = op.create_table(
        'duplicate_decisions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('link_id', sa.Integer(), nullable=False),
        sa.Column('previous_status', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('reviewer', sa.String(length=80), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['link_id'], ['duplicate_links.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('duplicate_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_duplicate_decisions_link_id'), ['link_id'],
                              unique=False)

    connection = op.get_bind()
    rows = connection.execute(sa.text(
        "SELECT id, status, decided_by, decided_at, note FROM duplicate_links "
        "WHERE note IS NOT NULL ORDER BY id").columns(
            decided_at=sa.DateTime(timezone=True))).all()
    carried = []
    for link_id, status, decided_by, decided_at, note in rows:
        for line in (part for part in note.splitlines() if part.strip()):
            found = _LINE.match(line)
            if found:
                when = datetime.strptime(found[1], "%Y-%m-%d %H:%M").replace(tzinfo=timezone.utc)
                carried.append({"link_id": link_id, "previous_status": found[3],
                                "status": found[4], "reviewer": found[2], "decided_at": when,
                                "note": found[5]})
            else:
                carried.append({"link_id": link_id, "previous_status": status, "status": status,
                                "reviewer": decided_by, "decided_at": decided_at, "note": line})
    if carried:
        op.bulk_insert(decisions, carried)

    with op.batch_alter_table('duplicate_links', schema=None) as batch_op:
        batch_op.drop_column('note')


def downgrade() -> None:
    with op.batch_alter_table('duplicate_links', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.text(
        "SELECT link_id, previous_status, status, reviewer, decided_at, note "
        "FROM duplicate_decisions ORDER BY id").columns(
            decided_at=sa.DateTime(timezone=True))).all()
    notes: dict[int, list[str]] = {}
    for link_id, previous, status, reviewer, decided_at, note in rows:
        line = f"{decided_at:%Y-%m-%d %H:%M} UTC {reviewer}: {previous} -> {status}"
        notes.setdefault(link_id, []).append(line + (f" ({note})" if note else ""))
    for link_id, lines in notes.items():
        connection.execute(sa.text("UPDATE duplicate_links SET note = :note WHERE id = :id"),
                           {"note": "\n".join(lines), "id": link_id})
    with op.batch_alter_table('duplicate_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_duplicate_decisions_link_id'))
    op.drop_table('duplicate_decisions')
