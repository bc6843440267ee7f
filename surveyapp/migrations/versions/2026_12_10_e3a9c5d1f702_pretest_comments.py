"""pretest comments: staff comments on a translation's wording, for its review

Revision ID: e3a9c5d1f702
Revises: d3a8c6e1f2b7
Create Date: 2026-12-10 10:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'e3a9c5d1f702'
down_revision: Union[str, Sequence[str], None] = 'd3a8c6e1f2b7'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'pretest_comments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('city_id', sa.Integer(), nullable=False),
        sa.Column('wave_id', sa.Integer(), nullable=True),
        sa.Column('language', sa.String(length=16), nullable=False),
        sa.Column('item_id', sa.String(length=100), nullable=False),
        sa.Column('source_text', sa.Text(), nullable=False),
        sa.Column('shown_text', sa.Text(), nullable=False),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('author', sa.String(length=254), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("comment <> ''", name=op.f('ck_pretest_comments_comment_not_empty')),
        sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_pretest_comments_author_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['city_id'], ['cities.id'], name=op.f('fk_pretest_comments_city_id_cities'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['wave_id'], ['waves.id'], name=op.f('fk_pretest_comments_wave_id_waves'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pretest_comments')),
    )
    with op.batch_alter_table('pretest_comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pretest_comments_city_id'), ['city_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pretest_comments_language'), ['language'], unique=False)
        batch_op.create_index(batch_op.f('ix_pretest_comments_wave_id'), ['wave_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema: the pretest comments go with their table."""
    with op.batch_alter_table('pretest_comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pretest_comments_wave_id'))
        batch_op.drop_index(batch_op.f('ix_pretest_comments_language'))
        batch_op.drop_index(batch_op.f('ix_pretest_comments_city_id'))
    op.drop_table('pretest_comments')
