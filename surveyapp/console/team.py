"""A city's team page (admins): invite, add, change roles, deactivate, reset passwords.

Every action is a POST with CSRF, scoped to a city the signed-in user administers (a
colleague who is not a member of that city is a 404), audited by the services in
:mod:`surveyapp.auth.team` and :mod:`surveyapp.auth.links`. A one-time link is shown on
the page that made it, once: only its hash is stored.
"""

from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, redirect, render_template, url_for
from flask_babel import gettext as _

from surveyapp.auth import links, team
from surveyapp.auth import services as auth_services
from surveyapp.auth.views import current_user, login_required
from surveyapp.console import access
from surveyapp.console.blueprint import bp, flash_ok, refuse
from surveyapp.console.forms import error_messages
from surveyapp.console.team_forms import InviteForm, RoleForm, role_choices, role_name
from surveyapp.extensions import db
from surveyapp.models import City, LinkPurpose, User


def _page(city: City, status: int = 200, **shown):
    """The team page, with a link just made (``new_link``) when there is one."""
    return render_template(
        "console/team.html",
        user=current_user(),
        city=city,
        members=team.members(db.session, city.id),
        roles=role_choices(),
        new_link=shown.get("new_link"),
        link_for=shown.get("link_for"),
        link_purpose=shown.get("link_purpose"),
        invite_days=links.INVITE_VALID.days,
        reset_hours=links.RESET_VALID // timedelta(hours=1),
    ), status


def _colleague(city_id: int, user_id: int) -> tuple[City, User]:
    """The admin's city and a member of it; 404 for anyone else."""
    city, _m = access.city(city_id, access.ADMIN)
    member = auth_services.colleague(db.session, current_user(), city_id, user_id)
    if member is None:
        abort(404)
    return city, member


@bp.get("/cities/<int:city_id>/team")
@login_required
def team_page(city_id: int):
    """The city's colleagues with their roles and status, and the forms to change them."""
    city, _m = access.city(city_id, access.ADMIN)
    return _page(city)


@bp.post("/cities/<int:city_id>/team/invite")
@login_required
def team_invite(city_id: int):
    """Make a one-time sign-up link for a colleague and show it once."""
    city, _m = access.city(city_id, access.ADMIN)
    form = InviteForm()
    here = url_for(".team_page", city_id=city_id)
    if not form.validate():
        return refuse(error_messages(form), here)
    try:
        token = links.invite(
            db.session, email=form.email.data, city=city, role=form.role.data, actor=current_user()
        )
    except team.TeamError as error:
        return refuse([error], here)
    db.session.commit()
    url = links.link_url(current_app.config["BASE_URL"], LinkPurpose.INVITE, token)
    email = form.email.data.strip().lower()
    return _page(city, new_link=url, link_for=email, link_purpose="invite")


@bp.post("/cities/<int:city_id>/team/add")
@login_required
def team_add(city_id: int):
    """Give an existing account a role in this city (a colleague from another city)."""
    city, _m = access.city(city_id, access.ADMIN)
    form = InviteForm()
    here = url_for(".team_page", city_id=city_id)
    if not form.validate():
        return refuse(error_messages(form), here)
    member = auth_services.user_by_email(db.session, form.email.data)
    if member is None:
        message = _("There is no account for %(email)s: invite them.", email=form.email.data)
        return refuse([message], here)
    return _set_role(member, city, form.role.data, here)


def _set_role(member: User, city: City, role: str, here: str):
    """Give ``member`` ``role`` in ``city`` (their sessions end), then back to ``here``."""
    try:
        team.set_role(db.session, member, city, role, actor=current_user())
    except team.TeamError as error:
        return refuse([error], here)
    db.session.commit()
    flash_ok(_("%(email)s is now %(role)s here.", email=member.email, role=role_name(role)))
    return redirect(here, code=303)


@bp.post("/cities/<int:city_id>/members/<int:user_id>/role")
@login_required
def member_role(city_id: int, user_id: int):
    """Change a colleague's role here; their sessions end."""
    city, member = _colleague(city_id, user_id)
    form = RoleForm()
    here = url_for(".team_page", city_id=city_id)
    if not form.validate():
        return refuse(error_messages(form), here)
    return _set_role(member, city, form.role.data, here)


@bp.post("/cities/<int:city_id>/members/<int:user_id>/deactivate")
@login_required
def member_deactivate(city_id: int, user_id: int):
    """Deactivate a colleague's account: no sign-in, session or API token works."""
    _city, member = _colleague(city_id, user_id)
    here = url_for(".team_page", city_id=city_id)
    try:
        team.deactivate(db.session, member, actor=current_user())
    except team.TeamError as error:
        return refuse([error], here)
    db.session.commit()
    flash_ok(_("%(email)s is deactivated.", email=member.email))
    return redirect(here, code=303)


@bp.post("/cities/<int:city_id>/members/<int:user_id>/reactivate")
@login_required
def member_reactivate(city_id: int, user_id: int):
    """Let a deactivated colleague sign in again."""
    _city, member = _colleague(city_id, user_id)
    team.reactivate(db.session, member, actor=current_user())
    db.session.commit()
    flash_ok(_("%(email)s can sign in again.", email=member.email))
    return redirect(url_for(".team_page", city_id=city_id), code=303)


@bp.post("/cities/<int:city_id>/members/<int:user_id>/reset-link")
@login_required
def member_reset_link(city_id: int, user_id: int):
    """Make a one-time link with which a colleague sets a new password; show it once."""
    city, member = _colleague(city_id, user_id)
    token = links.reset(db.session, member, actor=current_user(), city_id=city_id)
    db.session.commit()
    url = links.link_url(current_app.config["BASE_URL"], LinkPurpose.RESET, token)
    return _page(city, new_link=url, link_for=member.email, link_purpose="reset")
