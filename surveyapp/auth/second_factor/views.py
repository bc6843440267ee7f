"""Second-factor pages: the code after the password, set-up, the account page, admin reset.

A blueprint of its own (registered by ``create_app``) so that ``auth.views`` needs only the
session rules of :mod:`state`. Every code check is rate-limited per account and per
client, like the password, and counted only when it fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from surveyapp.auth.second_factor import services, state, totp
from surveyapp.auth.second_factor.forms import CodeForm
from surveyapp.auth.services import colleague
from surveyapp.auth.views import current_user, login_required
from surveyapp.console import access
from surveyapp.extensions import db, limiter
from surveyapp.models import User
from surveyapp.security import client_key, keyed

bp = Blueprint("second_factor", __name__, url_prefix="/staff")

#: Failed codes per account, from any client: 20 an hour bound guessing (three codes in a
#: million are valid at a time) for someone who has the password.
ACCOUNT_LIMITS = "5 per minute;20 per hour;50 per day"
CLIENT_LIMITS = "10 per minute;30 per hour"


def account_key() -> str:
    """Failed codes of the account being signed in (a keyed hash of its id)."""
    who = session.get("pending") or session.get("user_id") or ""
    return f"second-factor-account:{keyed('second-factor-user', str(who))}"


def client_limit_key() -> str:
    """Failed codes from one client, over any accounts."""
    return f"second-factor-client:{client_key()}"


def failed(response: Response) -> bool:
    """Whether a code was refused (only failures count towards the limits)."""
    return response.status_code in (400, 401)


def limited(view: Callable[..., Any]) -> Callable[..., Any]:
    """Apply both code-guessing limits to the POSTs of ``view``."""
    view = limiter.limit(
        CLIENT_LIMITS, key_func=client_limit_key, methods=["POST"], deduct_when=failed
    )(view)
    return limiter.limit(
        ACCOUNT_LIMITS, key_func=account_key, methods=["POST"], deduct_when=failed
    )(view)


def _app_secret() -> str:
    return current_app.config["SECRET_KEY"]


@bp.route("/login/code", methods=["GET", "POST"])
@limited
def code():
    """The second sign-in step: a code from the app, or a recovery code."""
    user = state.held_user()
    if user is None:
        return redirect(url_for("auth.login"))
    if not services.has_factor(user):
        return redirect(url_for(".enrol"))
    form = CodeForm()
    wrong = False
    if form.validate_on_submit():
        ok = services.check_code(
            db.session,
            user,
            form.code.data or "",
            app_secret=_app_secret(),
            now=time.time(),
            purpose="sign_in",
        )
        db.session.commit()  # the pass or the failure is audited either way
        if ok:
            return redirect(state.finish(user), code=303)
        wrong = True
    status = 401 if wrong else 400 if form.errors else 200
    return render_template("auth/second_factor_code.html", form=form, wrong=wrong), status


def _setup_secret() -> str:
    """The secret shown on the set-up page until confirmed, kept sealed in the cookie."""
    sealed = session.get(state.ENROL_KEY)
    if sealed:
        try:
            return totp.unseal(sealed, _app_secret())
        except totp.SealError:
            pass
    secret = totp.new_secret()
    session[state.ENROL_KEY] = totp.seal(secret, _app_secret())
    return secret


def _issuer() -> str:
    host = urlsplit(current_app.config["BASE_URL"]).hostname
    return f"Survey console ({host})" if host else "Survey console"


@bp.route("/second-factor/setup", methods=["GET", "POST"])
@limited
def enrol():
    """Set up a second factor: scan the QR code (or type the key), confirm with a code.

    Reached after the password by an admin who has none (required), or from the account
    page by anyone signed in (optional). The recovery codes are shown once, on success.
    """
    signed_in = current_user()
    user = signed_in or state.held_for_enrolment()
    if user is None:
        return redirect(url_for("auth.login"))
    if services.has_factor(user):
        return redirect(url_for(".account"))
    secret = _setup_secret()
    form = CodeForm()
    wrong = False
    if form.validate_on_submit():
        codes = services.enrol(
            db.session,
            user,
            secret,
            form.code.data or "",
            app_secret=_app_secret(),
            now=time.time(),
        )
        db.session.commit()
        if codes is not None:
            if signed_in is not None:
                state.factor_passed_here()
                next_url = url_for(".account")
            else:
                next_url = state.finish(user)
            return render_template(
                "auth/recovery_codes.html", codes=codes, next_url=next_url, user=signed_in
            )
        wrong = True
    uri = totp.provisioning_uri(secret, user.email, _issuer())
    page = render_template(
        "auth/second_factor_setup.html",
        form=form,
        wrong=wrong,
        required=signed_in is None,
        qr=totp.qr_data_uri(uri),
        key=totp.grouped(secret),
        user=signed_in,
    )
    return page, 401 if wrong else 400 if form.errors else 200


def _account_page(user: User, *, wrong: bool = False) -> tuple[str, int]:
    page = render_template(
        "auth/second_factor.html",
        user=user,
        enrolled=services.has_factor(user),
        codes_left=services.recovery_codes_left(db.session, user),
        may_remove=not services.is_admin(user),
        wrong=wrong,
    )
    return page, 401 if wrong else 200


@bp.get("/account/second-factor")
@login_required
def account():
    """The user's second factor: set it up, make new recovery codes, remove it."""
    return _account_page(current_user())


def _confirmed(user: User, purpose: str) -> bool:
    """Whether the form carries a valid code of the user (audited either way)."""
    form = CodeForm()
    ok = form.validate_on_submit() and services.check_code(
        db.session,
        user,
        form.code.data or "",
        app_secret=_app_secret(),
        now=time.time(),
        purpose=purpose,
    )
    db.session.commit()
    return ok


@bp.post("/account/second-factor/recovery-codes")
@login_required
@limited
def new_recovery_codes():
    """Replace the recovery codes (all used, or lost) after a current code."""
    user = current_user()
    if not _confirmed(user, "new_recovery_codes"):
        return _account_page(user, wrong=True)
    codes = services.replace_recovery_codes(db.session, user)
    db.session.commit()
    return render_template(
        "auth/recovery_codes.html", codes=codes, next_url=url_for(".account"), user=user
    )


@bp.post("/account/second-factor/remove")
@login_required
@limited
def remove():
    """Remove one's own second factor after a current code; never for a city admin."""
    user = current_user()
    if services.is_admin(user):
        abort(403)
    if not _confirmed(user, "remove"):
        return _account_page(user, wrong=True)
    services.remove_own(db.session, user)
    db.session.commit()
    flash(_("The second factor is removed."), "ok")
    return redirect(url_for(".account"), code=303)


@bp.post("/cities/<int:city_id>/members/<int:user_id>/reset-second-factor")
@login_required
def reset_member(city_id: int, user_id: int):
    """An admin removes a colleague's second factor (a lost phone) and signs them out."""
    access.city(city_id, access.ADMIN)
    admin = current_user()
    member = colleague(db.session, admin, city_id, user_id)
    if member is None:
        abort(404)
    if member.id == admin.id:
        abort(403)
    services.reset(db.session, member, actor=admin, city_id=city_id)
    db.session.commit()
    flash(_("The second factor of %(email)s is reset.", email=member.email), "ok")
    return redirect(url_for("console.audit_log", city_id=city_id), code=303)
