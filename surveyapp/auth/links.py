"""One-time links: an invitation to join a city's team, a password reset.

A link carries 256 random bits; the database keeps only their SHA-256, so a leaked
database opens no account. The link is shown once, to whoever made it, who passes it on.
It works once, until it expires. Functions here flush and audit; the caller commits.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from surveyapp.audit import record
from surveyapp.auth import team
from surveyapp.auth.services import create_user, user_by_email
from surveyapp.db import utcnow
from surveyapp.models import AccountLink, City, LinkPurpose, Membership, Role, User

INVITE_VALID = timedelta(days=7)
RESET_VALID = timedelta(days=1)
#: Where each kind of link opens (the console's routes use the same paths).
PATHS = {LinkPurpose.INVITE: "/staff/join/", LinkPurpose.RESET: "/staff/reset/"}
#: A token is 43 URL-safe characters; anything much longer is not ours.
MAX_TOKEN_LENGTH = 100


def hash_token(token: str) -> str:
    """The SHA-256 hex digest under which a link's token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def link_url(base_url: str, purpose: LinkPurpose | str, token: str) -> str:
    """The address to hand on, e.g. ``https://survey.city.example/staff/join/<token>``."""
    return base_url.rstrip("/") + PATHS[LinkPurpose(purpose)] + token


def _new_link(session: Session, actor: User | str, valid: timedelta, **fields) -> str:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        AccountLink(
            token_hash=hash_token(token),
            created_by=actor.email if isinstance(actor, User) else str(actor),
            created_at=now,
            expires_at=now + valid,
            **fields,
        )
    )
    session.flush()
    return token


def invite(session: Session, *, email: str, city: City, role: Role | str, actor: User | str) -> str:
    """Make an invitation to ``city`` with ``role`` for ``email``; returns its token."""
    email = email.strip().lower()
    role = Role(role)
    existing = user_by_email(session, email)
    if existing is not None and any(m.city_id == city.id for m in existing.memberships):
        raise team.TeamError(_l("%(email)s is already a member of this city.", email=email))
    token = _new_link(
        session, actor, INVITE_VALID, purpose=LinkPurpose.INVITE, email=email, city=city, role=role
    )
    record(
        session,
        actor,
        city.id,
        "invitation_created",
        "user",
        email,
        role=role.value,
        expires_in_days=INVITE_VALID.days,
    )
    return token


def reset(session: Session, user: User, *, actor: User | str, city_id: int | None = None) -> str:
    """Make a password-reset link for ``user``; earlier unused ones stop working."""
    now = utcnow()
    session.execute(
        update(AccountLink)
        .where(
            AccountLink.user_id == user.id,
            AccountLink.purpose == LinkPurpose.RESET,
            AccountLink.used_at.is_(None),
        )
        .values(used_at=now)
    )
    token = _new_link(
        session, actor, RESET_VALID, purpose=LinkPurpose.RESET, email=user.email, user=user
    )
    record(
        session, actor, city_id, "password_reset_link_created", "user", user.id, email=user.email
    )
    return token


def find(session: Session, token: str, purpose: LinkPurpose) -> AccountLink | None:
    """The link with this token and purpose, used or not; None for an unknown token."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return session.scalar(
        select(AccountLink).where(
            AccountLink.token_hash == hash_token(token), AccountLink.purpose == purpose
        )
    )


def _use(session: Session, link: AccountLink) -> None:
    """Mark the link used, once: of two requests racing with the same link, one wins."""
    now = utcnow()
    done = session.execute(
        update(AccountLink)
        .where(
            AccountLink.id == link.id,
            AccountLink.used_at.is_(None),
            AccountLink.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        raise team.TeamError(_l("This link has been used or has expired."))
    link.used_at = now


def accept_invitation(
    session: Session, link: AccountLink, *, display_name: str, password: str
) -> User:
    """Create the invited account with its role in the city (for an address without one)."""
    _use(session, link)
    user = create_user(
        session,
        email=link.email,
        password=password,
        display_name=display_name,
        city=link.city,
        role=link.role,
    )
    session.flush()
    _accepted(session, link, user, link.role)
    return user


def join(session: Session, link: AccountLink, user: User) -> Membership:
    """Add the signed-in ``user`` to the invitation's city (an address with an account)."""
    if user.email != link.email:
        raise team.TeamError(_l("This invitation is for %(email)s.", email=link.email))
    _use(session, link)
    found = next((m for m in user.memberships if m.city_id == link.city_id), None)
    if found is None:
        found = Membership(city_id=link.city_id, role=link.role)
        user.memberships.append(found)
        session.flush()
    _accepted(session, link, user, found.role)
    return found


def _accepted(session: Session, link: AccountLink, user: User, role: str) -> None:
    record(
        session, user, link.city_id, "invitation_accepted", "user", user.id,
        email=user.email, role=role,
    )  # fmt: skip


def use_reset(session: Session, link: AccountLink, password: str) -> User:
    """Set the account's new password from a reset link; every session of theirs ends."""
    user = link.user
    assert user is not None  # a reset link always names its account (a CHECK constraint)
    _use(session, link)
    team.set_password(session, user, password, actor=user)
    return user
