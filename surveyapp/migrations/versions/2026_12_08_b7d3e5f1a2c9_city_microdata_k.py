"""k-anonymity of analysts' response-level files, per city

Revision ID: b7d3e5f1a2c9
Revises: 5b8d2e7c1f40
Create Date: 2026-12-08 16:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'b7d3e5f1a2c9'
down_revision: Union[str, Sequence[str], None] = '5b8d2e7c1f40'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema.

    Plain ADD/DROP COLUMN, not a batch: SQLite would copy the cities table, and dropping
    the old one fails while other tables' rows refer to it. The form checks 3 to 20.
    """
    op.add_column(
        'cities', sa.Column('microdata_k', sa.Integer(), server_default='5', nullable=False)
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_column('cities', 'microdata_k')
