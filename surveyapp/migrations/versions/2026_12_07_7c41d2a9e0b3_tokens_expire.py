"""every API token expires, at most a year from now

Revision ID: 7c41d2a9e0b3
Revises: 3aa48ef98692
Create Date: 2026-12-07 11:25:00.000000

"""
from datetime import datetime, timedelta, timezone
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '7c41d2a9e0b3'
down_revision: Union[str, Sequence[str], None] = '3aa48ef98692'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Live tokens without an end, or ending more than a year from now, end in a year."""
    cap = datetime.now(timezone.utc) + timedelta(days=365)
    op.get_bind().execute(
        sa.text(
            "UPDATE api_tokens SET expires_at = :cap WHERE revoked_at IS NULL "
            "AND (expires_at IS NULL OR expires_at > :cap)"
        ),
        {"cap": cap},
    )


def downgrade() -> None:
    """Nothing to undo: the end dates set on the way up stay (they are safe either way)."""
