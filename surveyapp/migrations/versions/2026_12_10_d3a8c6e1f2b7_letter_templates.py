"""letter templates per city: sender, logo, signature, the city's paragraph per language

Revision ID: d3a8c6e1f2b7
Revises: 2494448dbe68
Create Date: 2026-12-10 21:30:00.000000

One optional row per city; without it letters look as before.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'd3a8c6e1f2b7'
down_revision: Union[str, Sequence[str], None] = '2494448dbe68'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('letter_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('city_id', sa.Integer(), nullable=False),
    sa.Column('sender_name', sa.String(length=200), nullable=False),
    sa.Column('sender_address', sa.String(length=400), nullable=False),
    sa.Column('signature_name', sa.String(length=200), nullable=False),
    sa.Column('signature_role', sa.String(length=200), nullable=False),
    sa.Column('paragraphs', sa.JSON(), nullable=False),
    sa.Column('logo', sa.LargeBinary(), nullable=True),
    sa.Column('logo_type', sa.String(length=16), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("logo_type IS NULL OR logo_type IN ('image/png', 'image/jpeg')", name=op.f('ck_letter_templates_logo_type_known')),
    sa.CheckConstraint('(logo IS NULL) = (logo_type IS NULL)', name=op.f('ck_letter_templates_logo_has_type')),
    sa.ForeignKeyConstraint(['city_id'], ['cities.id'], name=op.f('fk_letter_templates_city_id_cities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_letter_templates')),
    sa.UniqueConstraint('city_id', name=op.f('uq_letter_templates_city_id'))
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('letter_templates')
