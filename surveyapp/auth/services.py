"""Creating staff accounts and checking sign-ins."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyapp import audit
from surveyapp.auth.passwords import (
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)
from surveyapp.db import utcnow
from surveyapp.models import City, Membership, Role, User


class AccountError(ValueError):
    """An account cannot be created or changed as asked; the message says why."""


def create_user(
    session: Session,
    *,
    email: str,
    password: str,
    display_name: str | None = None,
    city: City | None = None,
    role: Role | str | None = None,
) -> User:
    """Create a staff account, optionally with a role in one city (not committed)."""
    email = email.strip().lower()
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise AccountError(f"{email!r} is not an e-mail address.")
    problem = password_problem(password, context=[email, display_name or ""])
    if problem:
        raise AccountError(problem)
    if session.scalar(select(User).where(User.email == email)) is not None:
        raise AccountError(f"There is already an account for {email}.")
    user = User(
        email=email,
        display_name=display_name or email.split("@")[0],
        password_hash=hash_password(password),
    )
    session.add(user)
    if city is not None:
        if role is None:
            raise AccountError("Give a role (admin, coordinator or analyst) with the city.")
        try:
            role = Role(role)
        except ValueError:
            raise AccountError(
                f"Unknown role {role!r}; use one of: {', '.join(r.value for r in Role)}."
            ) from None
        user.memberships.append(Membership(city=city, role=role))
    return user


def create_staff_account(
    session: Session,
    *,
    email: str,
    password: str,
    display_name: str | None,
    city: City | None,
    role: Role | str | None,
    actor: str,
) -> User:
    """Create a staff account as :func:`create_user` does and audit it (not committed)."""
    user = create_user(
        session,
        email=email,
        password=password,
        display_name=display_name,
        city=city,
        role=role,
    )
    details = {"role": str(role)} if role else {}
    audit.record(
        session, actor, city.id if city else None, "user_created", "user", user.email, **details
    )
    return user


def user_by_email(session: Session, email: str) -> User | None:
    """The account with this e-mail address (compared as stored: trimmed, lower case)."""
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None. Records the attempt.

    A failed sign-in is audited under the account's address when the account exists, or
    as "unknown account" (what was typed is not kept: it may be a password).
    """
    user = session.scalar(select(User).where(User.email == func.lower(email.strip())))
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        reason = "unknown_account" if user is None else "inactive" if ok else "wrong_password"
        actor = user if user is not None else "unknown account"
        audit.record(session, actor, None, "sign_in_failed", reason=reason)
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    audit.record(session, user, None, "signed_in")
    return user


def end_sessions(
    session: Session, user: User, *, actor: User | str, city_id: int | None = None
) -> None:
    """Sign ``user`` out everywhere: every browser, and every copy of a cookie (not committed)."""
    user.session_version = (user.session_version or 0) + 1
    audit.record(session, actor, city_id, "sessions_ended", "user", user.id, email=user.email)


def colleague(session: Session, admin: User, city_id: int, user_id: int) -> User | None:
    """A member of a city the admin administers, or None (so the page answers 404)."""
    member = session.get(User, user_id)
    admin_here = any(m.city_id == city_id and m.role == Role.ADMIN for m in admin.memberships)
    if member is None or not admin_here:
        return None
    return member if any(m.city_id == city_id for m in member.memberships) else None
