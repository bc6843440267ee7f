"""an area for every answer: per-area open links and each response's area source

- ``area_links``: one unguessable token per (wave, area), the open link of that area's
  poster (``/w/<token>``, the same URL shape as the wave's own open link);
- ``responses.area_source``: how the area is known (``letter``, ``area_link``,
  ``self_reported``; NULL when not known), backfilled ``letter`` for invitation answers;
- ``responses.area_reply``: a self-reported "outside the city" or "don't know".

Revision ID: b7d2e5a1c9f3
Revises: 5b8e0c1d2f34
Create Date: 2026-12-08 15:40:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'b7d2e5a1c9f3'
down_revision: Union[str, Sequence[str], None] = '5b8e0c1d2f34'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('area_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_area_links_area_id_areas'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['wave_id'], ['waves.id'], name=op.f('fk_area_links_wave_id_waves'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_area_links')),
    sa.UniqueConstraint('token', name=op.f('uq_area_links_token')),
    sa.UniqueConstraint('wave_id', 'area_id', name=op.f('uq_area_links_wave_id_area_id'))
    )
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('area_source', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('area_reply', sa.String(length=16), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_responses_area_source_known'),
            "area_source IS NULL OR area_source IN ('letter', 'area_link', 'self_reported')",
        )
        batch_op.create_check_constraint(
            op.f('ck_responses_area_reply_without_area'),
            "area_reply IS NULL OR (area_reply IN ('outside_city', 'dont_know')"
            " AND area_source = 'self_reported' AND area_id IS NULL)",
        )
    # Every invitation answer's area came from its letter's code.
    op.execute("UPDATE responses SET area_source = 'letter' WHERE channel = 'invitation'")


def downgrade() -> None:
    """Downgrade schema: area-link and self-reported areas stay on the responses; how they
    were known, and the "outside the city"/"don't know" replies, are dropped."""
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_responses_area_reply_without_area'), type_='check')
        batch_op.drop_constraint(op.f('ck_responses_area_source_known'), type_='check')
        batch_op.drop_column('area_reply')
        batch_op.drop_column('area_source')
    op.drop_table('area_links')
