"""The console's blueprint and what every console page shares.

Routes are registered on :data:`bp` by :mod:`views` and the page modules it lists
(:mod:`wave_views`, :mod:`wave_copies`, :mod:`previews`, :mod:`dashboards`, ...);
``create_app`` registers it through :mod:`views`.
"""

from __future__ import annotations

from collections.abc import Iterable

from babel import Locale, UnknownLocaleError
from flask import Blueprint, flash, redirect
from flask_babel import get_locale
from flask_babel import gettext as _

from surveyapp.console.team_forms import role_name
from surveyapp.extensions import db
from surveyapp.models import BatchStatus, JobStatus, PyramidLevel, WaveStatus

bp = Blueprint("console", __name__, url_prefix="/staff")


@bp.context_processor
def pyramid_and_status_names() -> dict:
    """Translated names of pyramid levels, wave statuses and review states for templates."""
    return {
        "pyramid_names": {
            PyramidLevel.SOCIETAL_CONTEXT: _("Societal context"),
            PyramidLevel.QUALITY_OF_LIFE: _("Quality of life"),
            PyramidLevel.GENERAL_PREVENTION: _("General prevention"),
            PyramidLevel.SPECIFIC_PREVENTION: _("Specific prevention"),
            PyramidLevel.REACTION: _("Reaction"),
        },
        "status_names": {
            WaveStatus.DRAFT: _("draft"),
            WaveStatus.OPEN: _("open"),
            WaveStatus.CLOSED: _("closed"),
            WaveStatus.ARCHIVED: _("archived"),
        },
        # The review status of a language's translation (surveyapp.i18n.catalogs).
        "review_names": {
            "source": _("source language"),
            "draft": _("draft translation, not reviewed"),
            "reviewed": _("reviewed translation"),
            "adjudicated": _("adjudicated translation"),
        },
    }


bp.add_app_template_filter(role_name, "role_name")


@bp.app_template_global()
def batch_status_name(status: str) -> str:
    """A batch of letters' status in words."""
    names = {
        BatchStatus.PREPARING: _("being made"),
        BatchStatus.READY: _("ready to print, not confirmed as sent"),
        BatchStatus.SENT: _("sent"),
        BatchStatus.CANCELLED: _("cancelled"),
    }
    return names.get(status, status)  # type: ignore[call-overload]


@bp.app_template_global()
def job_status_name(status: str) -> str:
    """A background job's status in words."""
    names = {
        JobStatus.QUEUED: _("waiting to start"),
        JobStatus.RUNNING: _("being made"),
        JobStatus.DONE: _("ready"),
        JobStatus.FAILED: _("failed"),
        JobStatus.CANCELLED: _("cancelled"),
    }
    return names.get(status, status)  # type: ignore[call-overload]


@bp.app_template_filter("language_name")
def language_name(code: str | None) -> str:
    """A language code (``fr``) as its name in the staff member's language ("French",
    "Französisch"), from the CLDR data Babel ships; the code itself when it is unknown."""
    if not code:
        return ""
    try:
        name = Locale.parse(code).get_display_name(get_locale())
    except (ValueError, TypeError, UnknownLocaleError):
        return code
    return name[:1].upper() + name[1:] if name else code


def flash_ok(message: str) -> None:
    """Confirm a saved change at the top of the next page."""
    flash(message, "ok")


def flash_errors(messages: Iterable[object]) -> None:
    """Show each message (a form's errors, a refused step) at the top of the next page."""
    for message in messages:
        flash(str(message), "error")


def refuse(messages: Iterable[object], redirect_to: str):
    """Undo the request's changes, show why, and go back to ``redirect_to``."""
    db.session.rollback()
    flash_errors(messages)
    return redirect(redirect_to, code=303)
