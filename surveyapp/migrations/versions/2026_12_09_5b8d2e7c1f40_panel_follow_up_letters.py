"""panel follow-up letters: batches of letters, panel seeds instead of stored panel ids

Revision ID: 5b8d2e7c1f40
Revises: b7d2e5a1c9f3
Create Date: 2026-12-09 15:40:00.000000

The invitations' ``panel_id`` becomes ``panel_seed``: responses now carry a keyed hash of
it, not the value itself. Existing values are kept as seeds.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '5b8d2e7c1f40'
down_revision: Union[str, Sequence[str], None] = 'b7d2e5a1c9f3'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('letter_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('follows_batch_id', sa.Integer(), nullable=True),
    sa.Column('letters', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['follows_batch_id'], ['letter_batches.id'], name=op.f('fk_letter_batches_follows_batch_id_letter_batches'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['wave_id'], ['waves.id'], name=op.f('fk_letter_batches_wave_id_waves'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_letter_batches'))
    )
    with op.batch_alter_table('letter_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_letter_batches_wave_id'), ['wave_id'], unique=False)

    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.alter_column('panel_id', new_column_name='panel_seed', existing_type=sa.String(length=64), existing_nullable=True)
        batch_op.add_column(sa.Column('batch_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_invitations_batch_id'), ['batch_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_invitations_batch_id_letter_batches'), 'letter_batches', ['batch_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_invitations_wave_id_panel_seed'), ['wave_id', 'panel_seed'])


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_invitations_wave_id_panel_seed'), type_='unique')

    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_invitations_batch_id_letter_batches'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_invitations_batch_id'))
        batch_op.drop_column('batch_id')
        batch_op.alter_column('panel_seed', new_column_name='panel_id', existing_type=sa.String(length=64), existing_nullable=True)

    with op.batch_alter_table('letter_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_letter_batches_wave_id'))

    op.drop_table('letter_batches')
