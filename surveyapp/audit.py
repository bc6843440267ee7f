"""The audit trail's one writer: every staff, CLI and system action is recorded here."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from surveyapp.models import AuditEvent, User


def record(
    session: Session,
    actor: User | str,
    city_id: int | None,
    action: str,
    object_type: str | None = None,
    object_id: Any = None,
    **details: Any,
) -> AuditEvent:
    """Add an audit event for ``actor`` (a user, or a name such as "surveyapp cli").

    Not committed: the event is stored with the change it describes, in the caller's
    transaction, or not at all.
    """
    user = actor if isinstance(actor, User) else None
    event = AuditEvent(
        user_id=user.id if user else None,
        actor=user.email if user else str(actor),
        city_id=city_id,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        details=details,
    )
    session.add(event)
    return event
