"""city-wide rounds: waves owned by a city, over all or chosen areas

Revision ID: c17e5a0b9d42
Revises: b7d3e5f1a2c9
Create Date: 2026-12-08 16:00:00.000000

A wave gets ``city_id`` (backfilled from its initiative) and ``initiative_id`` becomes
nullable: NULL marks a city-wide round. ``wave_areas`` lists the areas such a round covers.
The downgrade deletes city-wide rounds that never received a response (with their
invitations and area lists) and refuses, naming them, while any has responses.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'c17e5a0b9d42'
down_revision: Union[str, Sequence[str], None] = 'b7d3e5f1a2c9'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _sqlite_foreign_keys(enabled: bool) -> None:
    """On SQLite, switch foreign keys off while ``waves`` is rebuilt, and check them after.

    SQLite alters a column by copying the table and dropping the old one; with foreign keys
    on, that drop deletes the wave rows first, which cascades to their invitations (and is
    refused while responses point at them). SQLite's own procedure for such changes turns
    the keys off around them (the pragma only takes effect outside a transaction).
    """
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    raw = bind.connection.dbapi_connection
    if enabled:
        broken = bind.exec_driver_sql('PRAGMA foreign_key_check').all()
        if broken:
            raise RuntimeError(f'Foreign keys broken after rebuilding waves: {broken[:5]}')
    raw.execute('COMMIT')
    raw.execute(f"PRAGMA foreign_keys={'ON' if enabled else 'OFF'}")
    raw.execute('BEGIN')


def upgrade() -> None:
    """Upgrade schema."""
    _sqlite_foreign_keys(False)
    with op.batch_alter_table('waves', schema=None) as batch_op:
        batch_op.add_column(sa.Column('city_id', sa.Integer(), nullable=True))
    op.execute(
        "UPDATE waves SET city_id = "
        "(SELECT initiatives.city_id FROM initiatives WHERE initiatives.id = waves.initiative_id)"
    )
    with op.batch_alter_table('waves', schema=None) as batch_op:
        batch_op.alter_column('city_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('initiative_id', existing_type=sa.Integer(), nullable=True)
        batch_op.drop_constraint('fk_waves_initiative_id_initiatives', type_='foreignkey')
        batch_op.create_index(batch_op.f('ix_waves_city_id'), ['city_id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_waves_id_city_id'), ['id', 'city_id'])
        batch_op.create_foreign_key(
            batch_op.f('fk_waves_city_id_cities'), 'cities', ['city_id'], ['id'],
            ondelete='RESTRICT',
        )
        batch_op.create_foreign_key(
            'fk_waves_initiative_city', 'initiatives', ['initiative_id', 'city_id'],
            ['id', 'city_id'], ondelete='RESTRICT',
        )
    op.create_table('wave_areas',
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('city_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id', 'city_id'], ['areas.id', 'areas.city_id'], name='fk_wave_areas_area_city', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['wave_id', 'city_id'], ['waves.id', 'waves.city_id'], name='fk_wave_areas_wave_city', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('wave_id', 'area_id', name=op.f('pk_wave_areas'))
    )
    _sqlite_foreign_keys(True)


def downgrade() -> None:
    """Downgrade schema: only while no city-wide round holds a response."""
    bind = op.get_bind()
    answered = bind.execute(
        sa.text(
            "SELECT DISTINCT waves.id FROM waves JOIN responses ON responses.wave_id = waves.id"
            " WHERE waves.initiative_id IS NULL ORDER BY waves.id"
        )
    ).scalars().all()
    if answered:
        raise RuntimeError(
            f"Cannot downgrade below c17e5a0b9d42: city-wide wave(s) {answered} have responses, "
            "and the older schema has no place for a wave without an initiative. Export their "
            "data and delete those waves first, or stay on this revision."
        )
    citywide = "SELECT id FROM waves WHERE initiative_id IS NULL"
    op.execute(f"DELETE FROM used_invitations WHERE wave_id IN ({citywide})")
    op.execute(f"DELETE FROM invitations WHERE wave_id IN ({citywide})")
    op.drop_table('wave_areas')
    op.execute("DELETE FROM waves WHERE initiative_id IS NULL")
    _sqlite_foreign_keys(False)
    with op.batch_alter_table('waves', schema=None) as batch_op:
        batch_op.drop_constraint('fk_waves_initiative_city', type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_waves_city_id_cities'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_waves_id_city_id'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_waves_city_id'))
        batch_op.alter_column('initiative_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_waves_initiative_id_initiatives'), 'initiatives', ['initiative_id'],
            ['id'], ondelete='RESTRICT',
        )
        batch_op.drop_column('city_id')
    _sqlite_foreign_keys(True)
