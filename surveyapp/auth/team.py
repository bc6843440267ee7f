"""Team management: roles per city, deactivation and passwords of staff accounts.

Every change is audited with the old and the new value and leaves committing to the
caller. A change that takes rights away (a new password, another role, deactivation)
ends the account's sessions everywhere. Refusals are :class:`TeamError` with a translated
message; the console's forms check what was typed first, so these protect the rules that
depend on stored state (the city's last admin) and callers without a form (the CLI).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.audit import record
from surveyapp.auth.passwords import hash_password, password_problem
from surveyapp.auth.services import end_sessions
from surveyapp.console.errors import ConsoleError
from surveyapp.models import City, Membership, Role, User


class TeamError(ConsoleError):
    """A team change that cannot be made; the translated message says why."""


def members(session: Session, city_id: int) -> list[Membership]:
    """The city's memberships with their accounts, by e-mail address."""
    return list(
        session.scalars(
            select(Membership).join(User).where(Membership.city_id == city_id).order_by(User.email)
        )
    )


def is_last_admin(session: Session, user: User, city_id: int) -> bool:
    """Whether ``user`` is the only active admin of the city (taking them away locks it)."""
    admins = session.scalars(
        select(Membership.user_id)
        .join(User)
        .where(
            Membership.city_id == city_id,
            Membership.role == Role.ADMIN,
            User.is_active.is_(True),
        )
    ).all()
    return list(admins) == [user.id]


def _refuse_self(user: User, actor: User | str) -> None:
    # Admins act on colleagues; their own access is changed by another admin, or the CLI.
    if isinstance(actor, User) and actor.id == user.id:
        raise TeamError(_l("You cannot do this to your own account; ask another admin."))


def set_role(
    session: Session, user: User, city: City, role: Role | str, *, actor: User | str
) -> Membership:
    """Give ``user`` ``role`` in ``city``: a new membership, or a changed one.

    Changing a role ends the user's sessions; the city's last admin keeps the role.
    """
    role = Role(role)
    _refuse_self(user, actor)
    found = next((m for m in user.memberships if m.city_id == city.id), None)
    if found is None:
        found = Membership(city=city, role=role)
        user.memberships.append(found)
        session.flush()
        record(
            session,
            actor,
            city.id,
            "member_added",
            "user",
            user.id,
            email=user.email,
            role=role.value,
        )
        return found
    old = Role(found.role)
    if old == role:
        return found
    if old == Role.ADMIN and is_last_admin(session, user, city.id):
        raise TeamError(_l("%(email)s is the city's last admin.", email=user.email))
    found.role = role
    record(
        session,
        actor,
        city.id,
        "role_changed",
        "user",
        user.id,
        email=user.email,
        old=old.value,
        new=role.value,
    )
    end_sessions(session, user, actor=actor, city_id=city.id)
    return found


def deactivate(session: Session, user: User, *, actor: User | str) -> None:
    """No sign-in, no session and no API token works for ``user`` until reactivated.

    Audited in each of the user's cities, so every city's admins see it. Refused for the
    last active admin of any of them.
    """
    _refuse_self(user, actor)
    if not user.is_active:
        return
    for membership in user.memberships:
        if membership.role == Role.ADMIN and is_last_admin(session, user, membership.city_id):
            raise TeamError(
                _l(
                    "%(email)s is the last admin of %(city)s.",
                    email=user.email,
                    city=membership.city.name,
                )
            )
    user.is_active = False
    _record_everywhere(session, actor, user, "user_deactivated", old="active", new="deactivated")
    end_sessions(session, user, actor=actor)


def reactivate(session: Session, user: User, *, actor: User | str) -> None:
    """Let ``user`` sign in again (with their password; their old sessions stay ended)."""
    if user.is_active:
        return
    user.is_active = True
    _record_everywhere(session, actor, user, "user_reactivated", old="deactivated", new="active")


def set_password(
    session: Session, user: User, password: str, *, actor: User | str, city_id: int | None = None
) -> None:
    """Replace the user's password and end every session of theirs."""
    problem = password_problem(password, context=[user.email, user.display_name])
    if problem:
        raise TeamError(problem)
    user.password_hash = hash_password(password)
    record(session, actor, city_id, "password_changed", "user", user.id, email=user.email)
    end_sessions(session, user, actor=actor, city_id=city_id)


def _record_everywhere(
    session: Session, actor: User | str, user: User, action: str, **details: str
) -> None:
    for city_id in [m.city_id for m in user.memberships] or [None]:
        record(session, actor, city_id, action, "user", user.id, email=user.email, **details)
