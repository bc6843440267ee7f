"""one-time links: invitations of colleagues and password resets

Revision ID: a4f1c9e2d7b5
Revises: 3f287f72c923
Create Date: 2026-12-08 09:30:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'a4f1c9e2d7b5'
down_revision: Union[str, Sequence[str], None] = '3f287f72c923'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('account_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('city_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=True),
    sa.Column('created_by', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("purpose IN ('invite', 'reset')", name=op.f('ck_account_links_purpose_known')),
    sa.CheckConstraint("role IN ('admin', 'coordinator', 'analyst')", name=op.f('ck_account_links_role_known')),
    sa.CheckConstraint('length(token_hash) = 64', name=op.f('ck_account_links_token_hash_sha256')),
    sa.CheckConstraint("purpose <> 'invite' OR (city_id IS NOT NULL AND role IS NOT NULL)", name=op.f('ck_account_links_invite_names_city_and_role')),
    sa.CheckConstraint("purpose <> 'reset' OR user_id IS NOT NULL", name=op.f('ck_account_links_reset_names_user')),
    sa.ForeignKeyConstraint(['city_id'], ['cities.id'], name=op.f('fk_account_links_city_id_cities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_account_links_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_account_links_token_hash'))
    )
    with op.batch_alter_table('account_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_links_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('account_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_links_user_id'))

    op.drop_table('account_links')
