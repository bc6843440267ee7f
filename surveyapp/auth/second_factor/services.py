"""Enrolling, checking and removing second factors; every change and failure is audited.

Nothing here commits: the caller commits once, the audit events with the change. Secrets
and codes never reach the audit log.
"""

from __future__ import annotations

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from surveyapp import audit
from surveyapp.auth.second_factor import totp
from surveyapp.auth.services import end_sessions
from surveyapp.db import utcnow
from surveyapp.models import RecoveryCode, Role, User


def has_factor(user: User) -> bool:
    """Whether the user has set up a second factor."""
    return user.totp_secret is not None


def is_admin(user: User) -> bool:
    """Whether the user is an admin of any city."""
    return any(m.role == Role.ADMIN for m in user.memberships)


def must_enrol(user: User, admins_required: bool) -> bool:
    """Whether the user may not use the console before setting up a second factor."""
    return admins_required and not has_factor(user) and is_admin(user)


def needs_second_step(user: User, admins_required: bool) -> bool:
    """Whether a password alone does not sign the user in."""
    return has_factor(user) or must_enrol(user, admins_required)


def recovery_codes_left(session: Session, user: User) -> int:
    """How many unused recovery codes the user has."""
    return session.scalar(
        select(func.count()).select_from(RecoveryCode).where(RecoveryCode.user_id == user.id)
    )


def replace_recovery_codes(session: Session, user: User) -> list[str]:
    """New recovery codes for the user (the old ones stop working); only hashes are kept."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [totp.new_recovery_code() for _ in range(totp.RECOVERY_CODE_COUNT)]
    session.add_all(
        RecoveryCode(user_id=user.id, code_hash=totp.recovery_code_hash(code)) for code in codes
    )
    return codes


def enrol(
    session: Session, user: User, secret: str, typed: str, *, app_secret: str, now: float
) -> list[str] | None:
    """Store ``secret`` as the user's factor if ``typed`` is its current code.

    Returns the new recovery codes (to show once), or None when the code is wrong.
    """
    step = totp.matching_step(secret, typed, now)
    if step is None:
        audit.record(session, user, None, "second_factor_failed", reason="wrong_setup_code")
        return None
    user.totp_secret = totp.seal(secret, app_secret)
    user.totp_last_step = step
    user.totp_enrolled_at = utcnow()
    codes = replace_recovery_codes(session, user)
    audit.record(session, user, None, "second_factor_enrolled", "user", user.id)
    return codes


def _claim_step(session: Session, user: User, step: int) -> bool:
    """Record ``step`` as used unless it, or a later one, already was (in one statement, so
    that two requests with the same code cannot both pass)."""
    claimed = session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    session.expire(user, ["totp_last_step"])
    return claimed.rowcount == 1


def _use_recovery_code(session: Session, user: User, typed: str) -> bool:
    used = session.execute(
        delete(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == totp.recovery_code_hash(typed),
        )
    )
    return used.rowcount == 1


def check_code(
    session: Session, user: User, typed: str, *, app_secret: str, now: float, purpose: str
) -> bool:
    """Whether ``typed`` is a valid, unused TOTP code or recovery code of the user.

    A TOTP code is accepted once: a code of the step last used, or of an earlier one, is
    refused. A recovery code is deleted when used. ``purpose`` (sign_in, remove, new
    recovery codes) goes into the audit event; a failure is audited with its reason.
    """
    if not has_factor(user):
        return False
    reason = "wrong_recovery_code"
    if totp.is_totp_code(typed):
        try:
            secret = totp.unseal(user.totp_secret or "", app_secret)
        except totp.SealError:
            secret, reason = None, "secret_unreadable"
        step = totp.matching_step(secret, typed, now) if secret else None
        if secret and step is None:
            reason = "wrong_code"
        elif step is not None and _claim_step(session, user, step):
            audit.record(
                session, user, None, "second_factor_passed", method="totp", purpose=purpose
            )
            return True
        elif step is not None:
            reason = "replayed_code"
    elif _use_recovery_code(session, user, typed):
        left = recovery_codes_left(session, user)
        audit.record(
            session,
            user,
            None,
            "second_factor_passed",
            method="recovery_code",
            purpose=purpose,
            recovery_codes_left=left,
        )
        return True
    audit.record(session, user, None, "second_factor_failed", reason=reason, purpose=purpose)
    return False


def _clear(session: Session, user: User) -> None:
    user.totp_secret = None
    user.totp_last_step = None
    user.totp_enrolled_at = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def remove_own(session: Session, user: User) -> None:
    """The user removes their own second factor (the caller checks they are no admin)."""
    _clear(session, user)
    audit.record(session, user, None, "second_factor_removed", "user", user.id)


def reset(session: Session, user: User, *, actor: User | str, city_id: int | None = None) -> bool:
    """Remove a colleague's second factor (a lost phone) and end all their sessions.

    Audited in ``city_id``, or in every city of the user when none is given (the CLI).
    Returns whether there was a factor to remove. An admin then sets up a new one at their
    next sign-in.
    """
    had_factor = has_factor(user)
    _clear(session, user)
    cities = [city_id] if city_id is not None else [m.city_id for m in user.memberships]
    for city in cities or [None]:
        audit.record(
            session,
            actor,
            city,
            "second_factor_reset",
            "user",
            user.id,
            email=user.email,
            had_factor=had_factor,
        )
    end_sessions(session, user, actor=actor, city_id=cities[0] if cities else None)
    return had_factor
