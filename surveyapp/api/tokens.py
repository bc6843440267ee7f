"""Making, listing, revoking and checking API tokens.

A token is ``sa_`` followed by 43 random URL-safe characters (256 bits). The database keeps
only its SHA-256 and a short prefix for display: a leaked database reveals no token, and
the token is shown to its owner once, when it is made. Functions here flush and audit;
the caller commits.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.audit import record as audit
from surveyapp.db import utcnow
from surveyapp.models import ApiToken, Membership, User

TOKEN_PREFIX = "sa_"
#: Characters of the token kept for display ("sa_" and 7 random ones).
DISPLAY_PREFIX_LENGTH = 10
#: A token this long or longer is not ours; it is refused before hashing.
MAX_TOKEN_LENGTH = 200
MAX_NAME_LENGTH = 100
#: Every token expires: at most a year after it is made, 90 days unless asked otherwise.
MAX_DAYS = 365
DEFAULT_DAYS = 90
#: ``last_used_at`` is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenError(ValueError):
    """A token cannot be made or revoked as asked; the message says why."""


def hash_token(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    session: Session,
    user: User,
    *,
    name: str,
    days: int = DEFAULT_DAYS,
    actor: User | str,
) -> tuple[str, ApiToken]:
    """Make a token for ``user`` valid for ``days`` (1 to :data:`MAX_DAYS`).

    Returns the token, which nothing else keeps, and its stored row. Audited in every
    city of the user, so that each city's admins see who can read its data by API.
    """
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise TokenError(f"Give the token a name of at most {MAX_NAME_LENGTH} characters.")
    if not 1 <= days <= MAX_DAYS:
        raise TokenError(f"A token is valid for 1 to {MAX_DAYS} days.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    row = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=hash_token(token),
        prefix=token[:DISPLAY_PREFIX_LENGTH],
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(row)
    session.flush()
    _audit(session, actor, user, "api_token_created", row, days=days)
    return token, row


def revoke_token(session: Session, token: ApiToken, *, actor: User | str) -> None:
    """Revoke ``token`` from now on (revoking twice changes nothing)."""
    if token.revoked_at is not None:
        return
    token.revoked_at = utcnow()
    session.flush()
    _audit(session, actor, token.user, "api_token_revoked", token)


def revoke_all(session: Session, user: User, *, actor: User | str) -> int:
    """Revoke every live token of ``user`` (an admin's decision); how many were live."""
    live = [
        token
        for token in tokens_of(session, user, limit=10_000)
        if token.revoked_at is None and (token.expires_at is None or token.expires_at > utcnow())
    ]
    for token in live:
        revoke_token(session, token, actor=actor)
    return len(live)


def tokens_of(session: Session, user: User, limit: int = 200) -> list[ApiToken]:
    """The user's tokens, newest first (revoked and expired ones too)."""
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
            .limit(limit)
        )
    )


def own_token(session: Session, user: User, token_id: int) -> ApiToken | None:
    """The user's token ``token_id``; None for another user's token or an unknown id."""
    return session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)
    )


def usable_token(session: Session, token: str, now: datetime) -> ApiToken | None:
    """The stored token matching ``token`` if it is not revoked or expired and its user is active.

    Looked up by hash: comparing a SHA-256 in the database leaks nothing useful through
    timing, as the attacker does not control the hash.
    """
    if not token.startswith(TOKEN_PREFIX) or len(token) >= MAX_TOKEN_LENGTH:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or not row.is_usable(now) or not row.user.is_active:
        return None
    return row


def record_use(token: ApiToken, now: datetime) -> bool:
    """Set ``last_used_at`` unless it was set less than a minute ago; True if it changed."""
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return False
    token.last_used_at = now
    return True


def _audit(
    session: Session, actor: User | str, owner: User, action: str, token: ApiToken, **details
) -> None:
    city_ids = session.scalars(
        select(Membership.city_id).where(Membership.user_id == owner.id).order_by(Membership.id)
    ).all()
    for city_id in city_ids or [None]:
        audit(
            session,
            actor,
            city_id,
            action,
            "api_token",
            token.id,
            owner=owner.email,
            name=token.name,
            prefix=token.prefix,
            **details,
        )
