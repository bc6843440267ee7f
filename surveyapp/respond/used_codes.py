"""Which invitation codes are used: one sorted set per wave and area, never a time.

See :class:`surveyapp.models.UsedInvitations` for why a used code is not marked on its own
row. Claiming a code is one statement that adds its id to the set only if it is not there
yet (insert-or-update): its row count says whether this submission won the code.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from surveyapp.models import Invitation, UsedInvitations

# One statement per dialect; the set stays sorted, so it is the same whatever the order in
# which its codes were used.
CLAIM_POSTGRESQL = """
INSERT INTO used_invitations (wave_id, area_id, invitation_ids)
VALUES (%(wave_id)s, %(area_id)s, json_build_array(CAST(%(invitation_id)s AS BIGINT)))
ON CONFLICT (wave_id, area_id) DO UPDATE SET invitation_ids = (
    SELECT json_agg(x ORDER BY x) FROM (
        SELECT CAST(e AS BIGINT) AS x
        FROM json_array_elements_text(used_invitations.invitation_ids) AS e
        UNION SELECT CAST(%(invitation_id)s AS BIGINT)
    ) AS s)
WHERE NOT (CAST(used_invitations.invitation_ids AS JSONB)
           @> jsonb_build_array(CAST(%(invitation_id)s AS BIGINT)))
"""
_CLAIM_SQLITE = text(
    """
INSERT INTO used_invitations (wave_id, area_id, invitation_ids)
VALUES (:wave_id, :area_id, json_array(:invitation_id))
ON CONFLICT (wave_id, area_id) DO UPDATE SET invitation_ids = (
    SELECT json_group_array(x) FROM (
        SELECT value AS x FROM json_each(used_invitations.invitation_ids)
        UNION SELECT :invitation_id ORDER BY 1
    ))
WHERE NOT EXISTS (
    SELECT 1 FROM json_each(used_invitations.invitation_ids) WHERE value = :invitation_id)
"""
)
#: The part of a PostgreSQL query that says whether invitation ``i`` is used.
IS_USED_POSTGRESQL = """EXISTS (
    SELECT 1 FROM used_invitations AS u
    WHERE u.wave_id = i.wave_id AND u.area_id = i.area_id
      AND CAST(u.invitation_ids AS JSONB) @> jsonb_build_array(i.id))"""


def claim_params(invitation: Any) -> dict[str, int]:
    """The parameters of a claim of ``invitation`` (anything with id, wave_id, area_id)."""
    return {
        "invitation_id": invitation.id,
        "wave_id": invitation.wave_id,
        "area_id": invitation.area_id,
    }


def claim(connection: Connection, invitation: Any) -> bool:
    """Mark the code used in the current transaction; False if it already was."""
    params = claim_params(invitation)
    if connection.dialect.name == "postgresql":
        result = connection.exec_driver_sql(CLAIM_POSTGRESQL, params)
    else:
        result = connection.execute(_CLAIM_SQLITE, params)
    return result.rowcount == 1


def used_ids(session: Session, wave_id: int, area_id: int | None = None) -> set[int]:
    """The ids of the wave's used invitations (in one area, if given)."""
    query = select(UsedInvitations.invitation_ids).where(UsedInvitations.wave_id == wave_id)
    if area_id is not None:
        query = query.where(UsedInvitations.area_id == area_id)
    return {int(i) for ids in session.scalars(query) for i in ids or ()}


def is_used(session: Session, invitation: Invitation) -> bool:
    """Whether the invitation's code has already been used to send a questionnaire."""
    return invitation.id in used_ids(session, invitation.wave_id, invitation.area_id)


def mark_used(session: Session, invitation: Invitation) -> bool:
    """Claim the code on the session's connection (not committed); False if already used."""
    session.flush()
    return claim(session.connection(), invitation)
