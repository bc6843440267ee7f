"""The staff member's own account, and the pages one-time links open.

``/staff/account``: change one's own password (the current one first); every other
session of the account ends, this browser stays signed in. ``/staff/join/<token>``: an
invited colleague sets their name and password, or, with an account already, joins the
city after signing in. ``/staff/reset/<token>``: a new password from a reset link; every
session ends. A used, expired or unknown link gets a page that says so; unknown tokens
count as guesses against the client's rate limit.
"""

from __future__ import annotations

from flask import redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from surveyapp.auth import links, team
from surveyapp.auth.passwords import verify_password
from surveyapp.auth.second_factor.services import needs_second_step
from surveyapp.auth.second_factor.state import admins_required, after_password
from surveyapp.auth.services import AccountError, user_by_email
from surveyapp.auth.views import current_user, login_required, start_session
from surveyapp.console.blueprint import bp, flash_ok
from surveyapp.console.team_forms import ChangePasswordForm, JoinForm, NewPasswordForm, role_name
from surveyapp.db import utcnow
from surveyapp.extensions import db, limiter
from surveyapp.models import AccountLink, LinkPurpose
from surveyapp.security import client_key, keyed


def _account_key() -> str:
    return "account-password:" + keyed("account", str(session.get("user_id")))


def _link_key() -> str:
    return f"account-link:{client_key()}"


#: Guessing link tokens: unknown ones count per client, on both kinds of link.
link_guesses = limiter.shared_limit(
    "20 per minute;200 per day",
    scope="account-link-guesses",
    key_func=_link_key,
    deduct_when=lambda response: response.status_code == 404,
)


@bp.route("/account", methods=["GET", "POST"])
@limiter.limit(
    "5 per minute;20 per hour",
    key_func=_account_key,
    methods=["POST"],
    deduct_when=lambda response: response.status_code == 400,
)
@login_required
def account():
    """Change one's own password."""
    user = current_user()
    form = ChangePasswordForm(context=[user.email, user.display_name])
    if form.validate_on_submit():
        if not verify_password(user.password_hash, form.current.data or ""):
            form.current.errors = [_("The current password is not correct.")]
        else:
            team.set_password(db.session, user, form.password.data, actor=user)
            db.session.commit()
            start_session(user)  # this browser carries the new version; the others are out
            flash_ok(_("Your password is changed. You are signed out everywhere else."))
            return redirect(url_for(".account"), code=303)
    status = 400 if form.errors else 200
    return render_template("console/account.html", user=user, form=form), status


def _link(token: str, purpose: LinkPurpose) -> tuple[AccountLink | None, object | None]:
    """The usable link, or the page that says why there is none."""
    link = links.find(db.session, token, purpose)
    if link is None:
        return None, (render_template("console/account_link.html", state="unknown"), 404)
    if not link.is_usable(utcnow()):
        state = "used" if link.used_at else "expired"
        return None, (render_template("console/account_link.html", state=state), 410)
    return link, None


@bp.route("/join/<token>", methods=["GET", "POST"])
@link_guesses
def join(token: str):
    """An invitation: make the account, or add the signed-in account to the city."""
    link, problem = _link(token, LinkPurpose.INVITE)
    if link is None:
        return problem
    existing = user_by_email(db.session, link.email)
    if existing is not None:
        return _join_existing(link, existing.id)
    form = JoinForm(context=[link.email])
    if form.validate_on_submit():
        try:
            user = links.accept_invitation(
                db.session, link, display_name=form.display_name.data, password=form.password.data
            )
        except (team.TeamError, AccountError) as error:
            db.session.rollback()
            form.password.errors = [str(error)]
        else:
            db.session.commit()
            if needs_second_step(user, admins_required()):
                # An invited admin sets up the second factor before the console opens.
                return after_password(user, url_for(".home"))
            start_session(user)
            flash_ok(_("Welcome. You are signed in."))
            return redirect(url_for(".home"), code=303)
    return render_template(
        "console/account_link.html", state="join", link=link, form=form, role=role_name(link.role)
    ), 400 if form.errors else 200


def _join_existing(link: AccountLink, account_id: int):
    """The address has an account: its owner signs in, then accepts."""
    user = current_user()
    signed_in = user is not None and user.id == account_id
    if signed_in and request.method == "POST":
        try:
            links.join(db.session, link, user)
        except team.TeamError:
            db.session.rollback()  # used by another request a moment ago
            return render_template("console/account_link.html", state="used"), 410
        db.session.commit()
        flash_ok(_("You joined %(city)s.", city=link.city.name))
        return redirect(url_for(".home"), code=303)
    return render_template(
        "console/account_link.html",
        state="join_existing",
        link=link,
        signed_in=signed_in,
        role=role_name(link.role),
        next_url=request.path,
    )


@bp.route("/reset/<token>", methods=["GET", "POST"])
@link_guesses
def reset(token: str):
    """A password reset: set a new password; every session of the account ends."""
    link, problem = _link(token, LinkPurpose.RESET)
    if link is None:
        return problem
    form = NewPasswordForm(context=[link.email, link.user.display_name])
    if form.validate_on_submit():
        try:
            links.use_reset(db.session, link, form.password.data)
        except team.TeamError as error:
            db.session.rollback()
            form.password.errors = [str(error)]
        else:
            db.session.commit()
            session.clear()
            return render_template("console/account_link.html", state="reset_done")
    return render_template(
        "console/account_link.html", state="reset", link=link, form=form
    ), 400 if form.errors else 200
