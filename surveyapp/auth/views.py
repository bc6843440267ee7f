"""Sign-in and sign-out pages for city staff."""

from __future__ import annotations

from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, g, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from surveyapp.auth.services import authenticate
from surveyapp.extensions import db, limiter
from surveyapp.models import User

bp = Blueprint("auth", __name__, url_prefix="/staff")


class LoginForm(FlaskForm):
    """E-mail address and password."""

    email = EmailField("E-mail address", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


def current_user() -> User | None:
    """The signed-in staff member of this request, if any."""
    if "user" not in g:
        user_id = session.get("user_id")
        user = db.session.get(User, user_id) if user_id else None
        g.user = user if user is not None and user.is_active else None
    return g.user


def login_required(view: Any) -> Any:
    """Send anonymous visitors to the sign-in page, then back."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("console.home")


def _login_key() -> str:
    """Failed sign-ins are counted per e-mail address (brute force on one account)."""
    return "login:" + (request.form.get("email") or "").strip().lower()[:254]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    "5 per minute;20 per hour",
    key_func=_login_key,
    methods=["POST"],
    deduct_when=lambda response: response.status_code == 401,
)
def login():
    """Sign in with e-mail address and password."""
    form = LoginForm()
    failed = False
    if form.validate_on_submit():
        user = authenticate(db.session, form.email.data or "", form.password.data or "")
        if user is not None:
            db.session.commit()
            session.clear()
            session["user_id"] = user.id
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")), code=303)
        failed = True
    status = 401 if failed else 200
    return render_template("auth/login.html", form=form, failed=failed), status


@bp.post("/logout")
def logout():
    """Sign out and forget the session."""
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
