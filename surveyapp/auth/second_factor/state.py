"""The sign-in state in the session cookie: signed in, or half-way (password accepted).

Half-way, the session holds ``pending`` (the user's id), the user's session version and the
time, and no ``user_id``: ``current_user()`` sees nobody, so no console page opens. Signed
in, ``factor`` says whether a second factor was passed in this session; a user who needs
one and has not passed it is not signed in (an admin made admin after signing in, a factor
set up in another browser).
"""

from __future__ import annotations

import time

from flask import current_app, redirect, session, url_for
from werkzeug.wrappers import Response

from surveyapp.auth.second_factor.services import has_factor, must_enrol, needs_second_step
from surveyapp.extensions import db
from surveyapp.models import User

#: Seconds between the password and the code (or the set-up) before signing in starts over.
PENDING_SECONDS = 600
#: Session keys of the half-signed-in state, and of a secret shown but not yet confirmed.
PENDING_KEYS = ("pending", "pending_version", "pending_at", "next")
ENROL_KEY = "enrol_secret"


def admins_required() -> bool:
    """Whether city admins must have a second factor (always so in production)."""
    return bool(current_app.config["ADMIN_SECOND_FACTOR"])


def begin(user: User, *, factor: bool) -> None:
    """Sign ``user`` in: a new session, marked with whether a second factor was passed."""
    session.clear()
    session.update(
        user_id=user.id, version=user.session_version, seen=int(time.time()), factor=factor
    )
    session.permanent = True


def satisfied(user: User) -> bool:
    """Whether this session passed the second factor the user needs (if any)."""
    return bool(session.get("factor")) or not needs_second_step(user, admins_required())


def after_password(user: User, next_url: str) -> Response:
    """Sign in, or hold the session half-way and send the user to the second step."""
    if not needs_second_step(user, admins_required()):
        begin(user, factor=False)
        return redirect(next_url, code=303)
    session.clear()
    session.update(
        pending=user.id,
        pending_version=user.session_version,
        pending_at=int(time.time()),
        next=next_url,
    )
    step = "second_factor.code" if has_factor(user) else "second_factor.enrol"
    return redirect(url_for(step), code=303)


def held_user() -> User | None:
    """The user whose password was accepted in this session a short while ago, or None."""
    user_id, at = session.get("pending"), session.get("pending_at")
    if not user_id or not isinstance(at, int) or time.time() - at > PENDING_SECONDS:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or session.get("pending_version") != user.session_version:
        return None
    return user


def held_for_enrolment() -> User | None:
    """The held user if they must set up a second factor before signing in."""
    user = held_user()
    return user if user is not None and must_enrol(user, admins_required()) else None


def finish(user: User) -> str:
    """Sign in the held ``user`` after the second step; the address to go on to."""
    next_url = session.get("next") or url_for("console.home")
    begin(user, factor=True)
    return next_url


def factor_passed_here() -> None:
    """This signed-in session has just set up a second factor: it stays signed in."""
    session["factor"] = True
    session.pop(ENROL_KEY, None)
