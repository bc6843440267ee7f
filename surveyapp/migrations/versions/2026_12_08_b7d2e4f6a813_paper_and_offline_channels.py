"""responses may come from paper, an interviewer or an offline app

Revision ID: b7d2e4f6a813
Revises: c17e5a0b9d42
Create Date: 2026-12-08 10:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'b7d2e4f6a813'
down_revision: Union[str, Sequence[str], None] = 'c17e5a0b9d42'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

WEB = "'invitation', 'open_link'"
ALL = WEB + ", 'paper', 'interviewer', 'offline_app'"


def _channels(values: str) -> None:
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_responses_channel_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_responses_channel_known'), f"channel IN ({values})")


def upgrade() -> None:
    """Upgrade schema."""
    _channels(ALL)
    op.create_table(
        'paper_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('wave_id', sa.Integer(), nullable=False),
        sa.Column('sheet', sa.String(length=32), nullable=False),
        sa.Column('entered_by', sa.Integer(), nullable=False),
        sa.Column('area_id', sa.Integer(), nullable=True),
        sa.Column('code_hash', sa.String(length=64), nullable=True),
        sa.Column('answer_values', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_paper_entries_area_id_areas'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['entered_by'], ['users.id'], name=op.f('fk_paper_entries_entered_by_users'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['wave_id'], ['waves.id'], name=op.f('fk_paper_entries_wave_id_waves'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_paper_entries')),
        sa.UniqueConstraint('wave_id', 'sheet', 'entered_by', name=op.f('uq_paper_entries_wave_id_sheet_entered_by')),
    )
    with op.batch_alter_table('paper_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_paper_entries_wave_id'), ['wave_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema: answers that did not come from the web cannot be kept."""
    with op.batch_alter_table('paper_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_paper_entries_wave_id'))
    op.drop_table('paper_entries')
    op.execute(
        "DELETE FROM answers WHERE response_id IN (SELECT id FROM responses"
        f" WHERE channel NOT IN ({WEB}))"
    )
    op.execute("DELETE FROM page_submissions WHERE response_id IN (SELECT id FROM responses"
               f" WHERE channel NOT IN ({WEB}))")
    op.execute(f"DELETE FROM responses WHERE channel NOT IN ({WEB})")
    _channels(WEB)
