"""sent questionnaires can no longer be joined back to their invitation codes

Removes every stored link between a sent questionnaire and its invitation:
- ``invitations.used_at`` (the same instant as ``responses.submitted_at``) is replaced by a
  sorted set of used invitation ids per wave and area (``used_invitations``);
- a sent questionnaire keeps the day it was started and sent and how long it took
  (``started_on``, ``submitted_on``, ``duration_seconds``), not its exact times; drafts keep
  ``started_at`` and ``last_saved_at`` until they are sent;
- answers and page submissions lose their ``saved_at`` times;
- code and resume hashes become keyed (HMAC of the stored SHA-256 under the app's code key,
  passed in by ``surveyapp db upgrade``), so a leaked database plus the city's mail-merge
  CSV cannot be matched offline.

Revision ID: 2e2d3404178f
Revises: 5c0e7a1d2b64
Create Date: 2026-12-07 10:40:00.000000

"""
import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import context, op


# revision identifiers, used by Alembic.
revision: str = '2e2d3404178f'
down_revision: Union[str, Sequence[str], None] = '5c0e7a1d2b64'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _as_utc(value):
    """Timestamps come back naive from SQLite and aware from PostgreSQL."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _rekey(bind, table: str, column: str) -> None:
    """Turn plain SHA-256 hex digests into HMACs under the code key."""
    rows = bind.execute(
        sa.text(f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL")
    ).all()
    if not rows:
        return
    key = context.config.attributes.get("code_key")
    if not key:
        raise RuntimeError(
            f"{len(rows)} {table}.{column} value(s) must be re-hashed with the code key: run "
            "this upgrade with `surveyapp db upgrade` (which passes the app's code key)."
        )
    key = key.encode() if isinstance(key, str) else key
    bind.execute(
        sa.text(f"UPDATE {table} SET {column} = :new WHERE id = :id"),
        [
            {"id": row[0], "new": hmac.new(key, row[1].encode(), hashlib.sha256).hexdigest()}
            for row in rows
        ],
    )


def upgrade() -> None:
    """Upgrade schema."""
    bind = op.get_bind()
    op.create_table(
        'used_invitations',
        sa.Column('wave_id', sa.Integer(), nullable=False),
        sa.Column('area_id', sa.Integer(), nullable=False),
        sa.Column('invitation_ids', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_used_invitations_area_id_areas'), ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['wave_id'], ['waves.id'], name=op.f('fk_used_invitations_wave_id_waves'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('wave_id', 'area_id', name=op.f('pk_used_invitations'))
    )
    used: dict[tuple[int, int], list[int]] = {}
    for invitation_id, wave_id, area_id in bind.execute(
        sa.text("SELECT id, wave_id, area_id FROM invitations WHERE used_at IS NOT NULL ORDER BY id")
    ):
        used.setdefault((wave_id, area_id), []).append(invitation_id)
    if used:
        table = sa.table(
            'used_invitations',
            sa.column('wave_id', sa.Integer()),
            sa.column('area_id', sa.Integer()),
            sa.column('invitation_ids', sa.JSON()),
        )
        op.bulk_insert(
            table,
            [{"wave_id": w, "area_id": a, "invitation_ids": ids} for (w, a), ids in used.items()],
        )
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_column('used_at')
    _rekey(bind, 'invitations', 'code_hash')

    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('started_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('submitted_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('duration_seconds', sa.Integer(), nullable=True))
        batch_op.alter_column('started_at', existing_type=sa.DateTime(timezone=True), nullable=True)
    changes = []
    for row in bind.execute(
        sa.text("SELECT id, status, started_at, submitted_at FROM responses")
    ):
        started, submitted = _as_utc(row[2]), _as_utc(row[3])
        sent = row[1] == 'complete'
        changes.append({
            "id": row[0],
            "started_on": started.date() if started else (submitted.date() if submitted else None),
            "submitted_on": submitted.date() if sent and submitted else None,
            "duration": (
                max(0, round((submitted - started).total_seconds()))
                if sent and started and submitted else None
            ),
            "sent": sent,
        })
    if changes:
        bind.execute(
            sa.text(
                "UPDATE responses SET started_on = :started_on, submitted_on = :submitted_on, "
                "duration_seconds = :duration WHERE id = :id"
            ),
            [{k: c[k] for k in ("id", "started_on", "submitted_on", "duration")} for c in changes],
        )
    bind.execute(sa.text(
        "UPDATE responses SET started_at = NULL, last_saved_at = NULL WHERE status = 'complete'"
    ))
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_responses_complete_has_submitted_at'), type_='check')
        batch_op.drop_column('submitted_at')
        batch_op.alter_column('started_on', existing_type=sa.Date(), nullable=False)
        batch_op.create_check_constraint(
            batch_op.f('ck_responses_complete_has_submitted_on'),
            "status = 'draft' OR submitted_on IS NOT NULL",
        )
        batch_op.create_check_constraint(
            batch_op.f('ck_responses_complete_has_no_exact_times'),
            "status = 'draft' OR (started_at IS NULL AND last_saved_at IS NULL)",
        )
    _rekey(bind, 'responses', 'resume_key_hash')

    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_column('saved_at')
    with op.batch_alter_table('page_submissions', schema=None) as batch_op:
        batch_op.drop_column('saved_at')


def downgrade() -> None:
    """Downgrade schema.

    The links removed on the way up are not restored: a used invitation gets its letters'
    creation time as ``used_at``, a sent questionnaire noon of its day (and noon minus its
    duration as ``started_at``). Keyed code hashes cannot be turned back into plain ones, so
    the downgrade refuses while codes that residents may still type exist.
    """
    bind = op.get_bind()
    used = set()
    for (ids,) in bind.execute(sa.text("SELECT invitation_ids FROM used_invitations")):
        used |= {int(i) for i in (json.loads(ids) if isinstance(ids, str) else ids)}
    waiting = sum(
        1
        for (invitation_id,) in bind.execute(sa.text(
            "SELECT i.id FROM invitations AS i JOIN waves AS w ON w.id = i.wave_id "
            "WHERE w.status IN ('draft', 'open')"
        ))
        if invitation_id not in used
    )
    if waiting:
        raise RuntimeError(
            f"{waiting} invitation code(s) of draft or open waves are stored as keyed hashes "
            "that the previous version cannot read; close those waves (or delete their "
            "unused codes) before downgrading."
        )
    now = datetime.now(timezone.utc)
    with op.batch_alter_table('page_submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('saved_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('saved_at', sa.DateTime(timezone=True), nullable=True))
    bind.execute(sa.text("UPDATE page_submissions SET saved_at = :now"), {"now": now})
    bind.execute(sa.text("UPDATE answers SET saved_at = :now"), {"now": now})
    with op.batch_alter_table('page_submissions', schema=None) as batch_op:
        batch_op.alter_column('saved_at', existing_type=sa.DateTime(timezone=True), nullable=False)
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.alter_column('saved_at', existing_type=sa.DateTime(timezone=True), nullable=False)

    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(batch_op.f('ck_responses_complete_has_no_exact_times'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_responses_complete_has_submitted_on'), type_='check')
    rows = bind.execute(sa.text(
        "SELECT id, started_on, submitted_on, duration_seconds, started_at FROM responses"
    )).all()
    updates = []
    for row in rows:
        day = row[2]
        if isinstance(day, str):
            day = datetime.fromisoformat(day).date()
        submitted = (
            datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc) if day else None
        )
        started = _as_utc(row[4])
        if started is None:
            first = row[1] if not isinstance(row[1], str) else datetime.fromisoformat(row[1]).date()
            started = submitted - timedelta(seconds=row[3] or 0) if submitted else datetime(
                first.year, first.month, first.day, 12, tzinfo=timezone.utc)
        updates.append({"id": row[0], "submitted": submitted, "started": started})
    if updates:
        bind.execute(
            sa.text("UPDATE responses SET submitted_at = :submitted, started_at = :started "
                    "WHERE id = :id"),
            updates,
        )
    bind.execute(sa.text(
        "UPDATE responses SET last_saved_at = submitted_at WHERE status = 'complete'"
    ))
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.alter_column('started_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.drop_column('duration_seconds')
        batch_op.drop_column('submitted_on')
        batch_op.drop_column('started_on')
        batch_op.create_check_constraint(
            batch_op.f('ck_responses_complete_has_submitted_at'),
            "status = 'draft' OR submitted_at IS NOT NULL",
        )

    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('used_at', sa.DateTime(timezone=True), nullable=True))
    for wave_id, area_id, ids in bind.execute(
        sa.text("SELECT wave_id, area_id, invitation_ids FROM used_invitations")
    ):
        ids = json.loads(ids) if isinstance(ids, str) else ids
        if ids:
            bind.execute(
                sa.text("UPDATE invitations SET used_at = created_at WHERE id IN :ids")
                .bindparams(sa.bindparam("ids", expanding=True)),
                {"ids": [int(i) for i in ids]},
            )
    op.drop_table('used_invitations')
