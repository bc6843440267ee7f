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
