"""responses may come from paper, an interviewer or an offline app

Revision ID: b7d2e4f6a813
Revises: a4f1c9e2d7b5
Create Date: 2026-12-08 10:00:00.000000

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = 'b7d2e4f6a813'
down_revision: Union[str, Sequence[str], None] = 'a4f1c9e2d7b5'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

WEB = "'invitation', 'open_link'"
ALL = WEB + ", 'paper', 'interviewer', 'offline_app'"


def _channels(values: str) -> None:
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_responses_channel_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_responses_channel_known'), f"channel IN ({values})")


def upgrade() -> None:
    """Upgrade schema."""
    _channels(ALL)


def downgrade() -> None:
    """Downgrade schema: answers that did not come from the web cannot be kept."""
    op.execute(
        "DELETE FROM answers WHERE response_id IN (SELECT id FROM responses"
        f" WHERE channel NOT IN ({WEB}))"
    )
    op.execute("DELETE FROM page_submissions WHERE response_id IN (SELECT id FROM responses"
               f" WHERE channel NOT IN ({WEB}))")
    op.execute(f"DELETE FROM responses WHERE channel NOT IN ({WEB})")
    _channels(WEB)
