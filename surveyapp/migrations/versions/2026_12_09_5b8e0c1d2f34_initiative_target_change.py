"""initiatives: the change staff want the design to show (fieldwork targets)

Revision ID: 5b8e0c1d2f34
Revises: a4f1c9e2d7b5
Create Date: 2026-12-09 10:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '5b8e0c1d2f34'
down_revision: Union[str, Sequence[str], None] = 'a4f1c9e2d7b5'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema (a plain ADD COLUMN: rebuilding the table would break SQLite's keys)."""
    op.add_column('initiatives', sa.Column('target_change', sa.Double(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_column('initiatives', 'target_change')
