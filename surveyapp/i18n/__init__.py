"""Locale selection: an explicit choice first, then the browser's Accept-Language."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, has_request_context, request, session

from surveyapp.i18n.negotiation import negotiate

# Languages written right to left: pages in them get dir="rtl".
RTL = frozenset({"ar", "fa", "he", "ur"})


def translations_dir() -> Path:
    """Where the current app's gettext catalogs are (``SURVEYAPP_TRANSLATIONS_DIR``)."""
    return Path(current_app.config["BABEL_TRANSLATION_DIRECTORIES"])


def available_locales() -> list[str]:
    """Locales the UI can be shown in: the default plus every compiled catalog."""
    babel_ext = current_app.extensions["babel"]
    locales = [str(locale) for locale in babel_ext.instance.list_translations()]
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    return sorted(set(locales) | {default})


def select_locale() -> str:
    """Choose the locale for this request (``?lang=``, then session, then Accept-Language).

    Outside a request (the command line, background jobs) the default locale.
    """
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    available = available_locales()
    requested = request.args.get("lang") or session.get("lang")
    if requested in available:
        return requested
    return (
        negotiate(request.headers.get("Accept-Language"), available)
        or current_app.config["BABEL_DEFAULT_LOCALE"]
    )
