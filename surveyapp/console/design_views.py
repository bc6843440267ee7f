"""Changing the design of an initiative: treated and comparison areas, start date, level.

Once answers have arrived, the edit page shows these read-only and links here. Staff choose
the new values, read what they change in the results (:mod:`design_changes`), tick a box,
say why, and only then is the change saved and audited with the old and new values and the
reason. Admins and coordinators of the initiative's city only.
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from surveyapp.auth.views import current_user, login_required
from surveyapp.console import access, design_changes, initiatives, monitoring, planner, rounds
from surveyapp.console.blueprint import bp, flash_errors, flash_ok
from surveyapp.console.errors import ConsoleError
from surveyapp.console.forms import DesignConfirmForm, DesignForm, error_messages
from surveyapp.extensions import db
from surveyapp.models import Initiative, Membership, PyramidLevel, Role


@bp.route("/initiatives/<int:initiative_id>/design", methods=["GET", "POST"])
@login_required
def initiative_design(initiative_id: int):
    """Choose a new design; sending the choice shows what it would change, to confirm."""
    initiative, membership = access.initiative(initiative_id, access.WRITE)
    if request.method == "GET":
        return _choice_page(initiative, membership, 200)
    form = DesignForm(db.session, initiative.city)
    if not form.validate():
        flash_errors(error_messages(form))
        return _choice_page(initiative, membership, 422)
    change = design_changes.preview(db.session, initiative, **form.design_values())
    if change.changes_nothing:
        flash_errors([_("These are the current values: the design would not change.")])
        return _choice_page(initiative, membership, 200)
    return _confirm_page(initiative, membership, change, 200)


@bp.post("/initiatives/<int:initiative_id>/design/confirm")
@login_required
def initiative_design_confirm(initiative_id: int):
    """Save the confirmed design change with its reason, or show the consequences again."""
    initiative, membership = access.initiative(initiative_id, access.WRITE)
    choice = DesignForm(db.session, initiative.city)
    if not choice.validate():
        flash_errors(error_messages(choice))
        return _choice_page(initiative, membership, 422)
    values = choice.design_values()
    form = DesignConfirmForm(db.session, initiative.city)
    if request.form.get("seen") != design_changes.fingerprint(initiative):
        # Someone changed the design since this page showed its consequences.
        change = design_changes.preview(db.session, initiative, **values)
        flash_errors(
            [
                _(
                    "The design was changed by someone else meanwhile: check what this "
                    "change does now."
                )
            ]
        )
        return _confirm_page(initiative, membership, change, 409)
    if not form.validate():
        change = design_changes.preview(db.session, initiative, **values)
        flash_errors(error_messages(form))
        return _confirm_page(initiative, membership, change, 422)
    try:
        old, _new = initiatives.change_design(
            db.session, initiative, reason=form.reason.data, actor=current_user(), **values
        )
    except ConsoleError as error:
        db.session.rollback()
        flash_errors([error])
        return _choice_page(initiative, membership, 409)
    if not old:  # the same values as stored: nothing to record
        db.session.rollback()
        flash_errors([_("These are the current values: the design would not change.")])
        return _choice_page(initiative, membership, 200)
    db.session.commit()
    flash_ok(_("The design of the initiative was changed; the audit log records why."))
    return redirect(url_for(".initiative", initiative_id=initiative_id), code=303)


def _choice_page(initiative: Initiative, membership: Membership, status: int):
    """The form for the new design, filled with what was sent or the stored values."""
    return render_template(
        "console/design_form.html",
        user=current_user(),
        initiative=initiative,
        city=initiative.city,
        membership=membership,
        locked=initiatives.has_answers(db.session, initiative),
        form=request.form if request.method == "POST" else None,
        levels=PyramidLevel,
    ), status


def _confirm_page(
    initiative: Initiative,
    membership: Membership,
    change: design_changes.DesignPreview,
    status: int,
):
    """What the chosen design changes, with the confirmation and the reason to give."""
    exact = membership.role == Role.ADMIN
    return render_template(
        "console/design_confirm.html",
        user=current_user(),
        initiative=initiative,
        membership=membership,
        change=change,
        chosen=request.form,
        field_labels=initiatives.FIELD_LABELS,
        construct_names=planner.construct_labels(db.session, str(get_locale())),
        timing_names=rounds.timing_names(),
        count=lambda n: monitoring.masked(n, exact),
        seen=design_changes.fingerprint(initiative),
    ), status
