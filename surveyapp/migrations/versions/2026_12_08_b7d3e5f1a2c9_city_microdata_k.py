"""k-anonymity of analysts' response-level files, per city

Revision ID: b7d3e5f1a2c9
Revises: a4f1c9e2d7b5
Create Date: 2026-12-08 16:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'b7d3e5f1a2c9'
down_revision: Union[str, Sequence[str], None] = 'a4f1c9e2d7b5'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('cities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('microdata_k', sa.Integer(), server_default='5', nullable=False))
        batch_op.create_check_constraint(
            op.f('ck_cities_microdata_k_range'), 'microdata_k BETWEEN 3 AND 20'
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('cities', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_cities_microdata_k_range'), type_='check')
        batch_op.drop_column('microdata_k')
