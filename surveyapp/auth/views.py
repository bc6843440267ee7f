"""Sign-in and sign-out pages for city staff."""

from __future__ import annotations

import time
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from surveyapp.auth.second_factor import state as second_factor
from surveyapp.auth.services import authenticate, end_sessions
from surveyapp.extensions import db, limiter
from surveyapp.models import User
from surveyapp.security import client_key, keyed

bp = Blueprint("auth", __name__, url_prefix="/staff")

#: How often (seconds) a staff session's last-seen time is renewed in its cookie.
SEEN_RESOLUTION = 60


class LoginForm(FlaskForm):
    """E-mail address and password."""

    email = EmailField("E-mail address", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


def current_user() -> User | None:
    """The signed-in staff member of this request, if any.

    A session whose password was accepted but whose second factor was not is nobody's. A
    session ends when its user signs out anywhere or an admin ends their sessions (the
    user's session version moves on), when the account is deactivated, and after
    ``STAFF_IDLE_MINUTES`` without a request.
    """
    if "user" not in g:
        g.user = _session_user()
    return g.user


def _session_user() -> User | None:
    user_id = session.get("user_id")
    if not user_id:
        return None
    user = db.session.get(User, user_id)
    now = int(time.time())
    idle = current_app.config["STAFF_IDLE_MINUTES"] * 60
    seen = session.get("seen")
    if (
        user is None
        or not user.is_active
        or session.get("version") != user.session_version
        or not isinstance(seen, int)
        or now - seen > idle
        or not second_factor.satisfied(user)
    ):
        session.clear()
        return None
    if now - seen >= SEEN_RESOLUTION:  # the cookie is sent again at most once a minute
        session["seen"] = now
    return user


def login_required(view: Any) -> Any:
    """Send anonymous visitors to the sign-in page, then back."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def start_session(user: User) -> None:
    """Renew ``user``'s session on this browser: a fresh cookie at their current session
    version, keeping whether this session passed the second factor."""
    factor = bool(session.get("factor")) and session.get("user_id") == user.id
    session.clear()
    session.update(
        user_id=user.id, version=user.session_version, seen=int(time.time()), factor=factor
    )
    session.permanent = True


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("console.home")


def _account_key() -> str:
    """Failed sign-ins on one account from one client (guessing one staff member's password).

    Counted per account *and* address, so that a stranger elsewhere cannot lock the owner
    out; only keyed hashes of the address and the e-mail address reach the counters.
    """
    email = (request.form.get("email") or "").strip().lower()[:254]
    return f"login-account:{keyed('login-email', email)}:{client_key()}"


def _client_login_key() -> str:
    """Failed sign-ins from one client over any accounts (spraying passwords)."""
    return f"login-client:{client_key()}"


def _failed(response: Any) -> bool:
    return response.status_code == 401


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    "5 per minute;20 per hour", key_func=_account_key, methods=["POST"], deduct_when=_failed
)
@limiter.limit(
    "10 per minute;30 per hour", key_func=_client_login_key, methods=["POST"], deduct_when=_failed
)
def login():
    """Sign in with e-mail address and password."""
    form = LoginForm()
    failed = False
    if form.validate_on_submit():
        user = authenticate(db.session, form.email.data or "", form.password.data or "")
        db.session.commit()  # the sign-in, or the failed attempt, is audited either way
        if user is not None:  # signed in, or on to the second factor
            return second_factor.after_password(user, _safe_next(request.args.get("next")))
        failed = True
    status = 401 if failed else 200
    return render_template("auth/login.html", form=form, failed=failed), status


@bp.post("/logout")
def logout():
    """Sign out here and everywhere: a copy of this session's cookie no longer works."""
    user = current_user()
    if user is not None:
        end_sessions(db.session, user, actor=user)
        db.session.commit()
    session.clear()
    return redirect(url_for("auth.login"), code=303)


@bp.route("/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    """The user's API tokens; a new token is shown once, on the page that made it."""
    from surveyapp.api import tokens as api_tokens
    from surveyapp.api.forms import TokenForm
    from surveyapp.db import utcnow

    user = current_user()
    form = TokenForm()
    new_token = None
    if form.validate_on_submit():
        try:
            new_token, _row = api_tokens.create_token(
                db.session, user, name=form.name.data or "", days=form.validity_days(), actor=user
            )
        except api_tokens.TokenError as error:
            db.session.rollback()
            form.name.errors = [str(error)]
        else:
            db.session.commit()
    return render_template(
        "auth/tokens.html",
        user=user,
        form=form,
        new_token=new_token,
        tokens=api_tokens.tokens_of(db.session, user),
        now=utcnow(),
    ), 400 if form.errors else 200


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    """Revoke one of the user's own tokens (another user's token is a 404)."""
    from flask import abort, flash
    from flask_babel import gettext as _

    from surveyapp.api import tokens as api_tokens

    user = current_user()
    token = api_tokens.own_token(db.session, user, token_id)
    if token is None:
        abort(404)
    api_tokens.revoke_token(db.session, token, actor=user)
    db.session.commit()
    flash(_("The token %(name)s is revoked.", name=token.name), "ok")
    return redirect(url_for("auth.tokens"), code=303)
