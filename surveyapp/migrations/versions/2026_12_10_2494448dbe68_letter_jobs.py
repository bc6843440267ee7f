"""letters as background jobs: a jobs table, and batches that are sent only once confirmed

Revision ID: 2494448dbe68
Revises: b7d2e4f6a813
Create Date: 2026-12-10 09:00:00.000000

Batches made before this revision were downloaded in the request that made them: they
count as sent from their creation.

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '2494448dbe68'
down_revision: Union[str, Sequence[str], None] = 'b7d2e4f6a813'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('city_id', sa.Integer(), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('result', sa.LargeBinary(), nullable=True),
    sa.Column('result_name', sa.String(length=120), nullable=True),
    sa.Column('sealed', sa.LargeBinary(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('downloaded_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed', 'cancelled')", name=op.f('ck_jobs_status_known')),
    sa.ForeignKeyConstraint(['batch_id'], ['letter_batches.id'], name=op.f('fk_jobs_batch_id_letter_batches'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['city_id'], ['cities.id'], name=op.f('fk_jobs_city_id_cities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_jobs_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['wave_id'], ['waves.id'], name=op.f('fk_jobs_wave_id_waves'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jobs_city_id'), ['city_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_wave_id'), ['wave_id'], unique=False)

    with op.batch_alter_table('letter_batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=16), server_default='sent', nullable=False))
        batch_op.add_column(sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_letter_batches_status_known'),
            "status IN ('preparing', 'ready', 'sent', 'cancelled')",
        )
    op.execute("UPDATE letter_batches SET sent_at = created_at")


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('letter_batches', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_letter_batches_status_known'), type_='check')
        batch_op.drop_column('cancelled_at')
        batch_op.drop_column('sent_at')
        batch_op.drop_column('status')

    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jobs_wave_id'))
        batch_op.drop_index(batch_op.f('ix_jobs_city_id'))

    op.drop_table('jobs')
