"""scoring models are provisional until their reference wave closes

Revision ID: 5c0e7a1d2b64
Revises: bdb3553168e3
Create Date: 2026-12-05 00:05:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '5c0e7a1d2b64'
down_revision: Union[str, Sequence[str], None] = 'bdb3553168e3'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('scoring_models', schema=None) as batch_op:
        batch_op.add_column(sa.Column('frozen_at', sa.DateTime(timezone=True), nullable=True))
    # Models stored before this revision were final from their first report: they stay so,
    # because downloads may already carry their hash.
    op.execute("UPDATE scoring_models SET frozen_at = created_at")


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('scoring_models', schema=None) as batch_op:
        batch_op.drop_column('frozen_at')
