"""The audit log as sentences: each recorded action, its object and its details in words.

Services record an action name (``wave_created``) and details as JSON; the audit page shows
a translated sentence per action, the object by its name where the page knows it, and the
details as short "label: value" parts instead of Python's dict and list text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

#: A sentence per recorded action (``surveyapp.audit.record`` callers).
ACTIONS = {
    "aggregates_downloaded": _l("Downloaded aggregate counts"),
    "api_token_created": _l("Created an API token"),
    "api_token_revoked": _l("Revoked an API token"),
    "area_changed": _l("Changed an area"),
    "area_created": _l("Created an area"),
    "city_created": _l("Created the city"),
    "codebook_viewed": _l("Viewed the codebook"),
    "codes_generated": _l("Made invitation codes"),
    "data_exported": _l("Exported the initiative's data"),
    "dataset_downloaded": _l("Downloaded the dataset"),
    "demo_created": _l("Created the demonstration data"),
    "draft_languages_acknowledged": _l("Acknowledged draft translations before opening a wave"),
    "follow_up_codes_generated": _l("Made follow-up codes for a panel"),
    "initiative_changed": _l("Changed an initiative"),
    "initiative_created": _l("Created an initiative"),
    "initiative_design_changed": _l("Changed an initiative's design"),
    "invitation_accepted": _l("Accepted an invitation to the team"),
    "invitation_created": _l("Invited a colleague"),
    "letter_template_changed": _l("Changed the letter template"),
    "letters_cancelled": _l("Cancelled a batch of letters (its codes stop working)"),
    "letters_downloaded": _l("Downloaded invitation letters"),
    "letters_job_started": _l("Asked for invitation letters"),
    "letters_prepared": _l("Invitation letters were made"),
    "letters_sent": _l("Confirmed a batch of letters as sent"),
    "margins_uploaded": _l("Uploaded population margins"),
    "member_added": _l("Added a colleague to the team"),
    "microdata_k_changed": _l("Changed the smallest group in downloads"),
    "password_changed": _l("Changed a password"),
    "password_reset_link_created": _l("Made a password reset link"),
    "poster_downloaded": _l("Downloaded a QR poster"),
    "reminders_made": _l("Made reminder letters"),
    "report_built": _l("Built a report"),
    "report_viewed": _l("Viewed a report"),
    "retention_purged": _l("Deleted data past its retention period"),
    "role_changed": _l("Changed a colleague's role"),
    "scoring_model_fitted": _l("Fitted the scoring model"),
    "second_factor_enrolled": _l("Set up a second factor"),
    "second_factor_failed": _l("Failed second-factor check"),
    "second_factor_passed": _l("Passed second-factor check"),
    "second_factor_removed": _l("Removed their second factor"),
    "second_factor_reset": _l("Reset a colleague's second factor"),
    "sessions_ended": _l("Ended all sessions of an account"),
    "sign_in_failed": _l("Failed sign-in"),
    "signed_in": _l("Signed in"),
    "user_created": _l("Created an account"),
    "user_deactivated": _l("Deactivated an account"),
    "user_reactivated": _l("Reactivated an account"),
    "wave_archived": _l("Archived a wave"),
    "wave_closed": _l("Closed a wave"),
    "wave_copied": _l("Copied a wave for the next round"),
    "wave_created": _l("Created a wave"),
    "wave_deleted": _l("Deleted a wave"),
    "wave_opened": _l("Opened a wave"),
    "wave_reopened": _l("Reopened a wave"),
}

#: What the recorded objects are called.
OBJECTS = {
    "api_token": _l("API token"),
    "area": _l("Area"),
    "city": _l("City"),
    "initiative": _l("Initiative"),
    "user": _l("Account"),
    "wave": _l("Wave"),
}

#: Labels of the details most entries carry; other keys read with spaces for underscores.
DETAILS = {
    "area": _l("Area"),
    "changed": _l("Changed"),
    "copied_from": _l("Copied from wave"),
    "email": _l("E-mail address"),
    "format": _l("Format"),
    "language": _l("Language"),
    "languages": _l("Languages"),
    "letters": _l("Letters"),
    "name": _l("Name"),
    "per_area": _l("Per area"),
    "reason": _l("Reason"),
    "batch": _l("Batch"),
    "job": _l("Job"),
    "follows_batch": _l("Follows up batch"),
    "follows_wave": _l("Follows up wave"),
    "restarts": _l("Starts again after job"),
    "old": _l("Before"),
    "new": _l("After"),
    "before": _l("Before"),
    "after": _l("After"),
    "status": _l("Status"),
    "count": _l("Count"),
    "days": _l("Days"),
    "reminders": _l("Reminders"),
    "used": _l("Already used"),
    "unknown": _l("Unknown codes"),
    "wave": _l("Wave"),
    "shape": _l("Layout"),
    "unused_codes": _l("Unused codes"),
    "drafts": _l("Unfinished questionnaires"),
    "role": _l("Role"),
    "rows": _l("Rows"),
    "second_language": _l("Second language"),
    "responses": _l("Responses"),
}

#: Longer detail values are cut to this many characters, so a row stays readable.
LONGEST_VALUE = 120


@dataclass(frozen=True)
class Entry:
    """One audit event in words: the sentence, the object and the detail parts."""

    sentence: str
    object: str
    details: list[str]


def spaced(name: str) -> str:
    """An unknown name as words: ``follows_batch`` → "follows batch"."""
    return name.replace("_", " ")


def sentence(action: str) -> str:
    """The action as a translated sentence, or its name in words when unknown."""
    known = ACTIONS.get(action)
    return str(known) if known is not None else spaced(action).capitalize()


def shown(value: Any) -> str:
    """A detail value as text: lists joined with commas, mappings as "key value" pairs."""
    if isinstance(value, Mapping):
        text = ", ".join(f"{spaced(str(k))} {shown(v)}" for k, v in value.items())
    elif isinstance(value, list | tuple | set):
        text = ", ".join(shown(v) for v in value)
    elif isinstance(value, bool):
        text = "✓" if value else "–"
    elif value is None or value == "":
        text = "–"
    else:
        text = str(value)
    if len(text) > LONGEST_VALUE:
        text = text[: LONGEST_VALUE - 1] + "…"
    return text


def detail_parts(
    details: Mapping[str, Any] | None, named: Mapping[str, Callable[[str], str]] | None = None
) -> list[str]:
    """The details as "label: value" parts; ``named`` turns the values of some keys into
    names (``{"language": language_name}``: "fr" as "French")."""
    parts = []
    for key, value in (details or {}).items():
        label = DETAILS.get(key)
        name = (named or {}).get(key)
        if name is not None and isinstance(value, str):
            text = name(value)
        elif name is not None and isinstance(value, list):
            text = shown([name(v) if isinstance(v, str) else v for v in value])
        else:
            text = shown(value)
        key_label = label if label is not None else spaced(key)
        # I18N: one detail of an audit log entry, e.g. "Letters: 120".
        parts.append(str(_l("%(label)s: %(value)s", label=key_label, value=text)))
    return parts


def object_text(object_type: str | None, object_id: str | None, names: Mapping) -> str:
    """The object by its name where ``names`` has it (keyed by type and id), else by id."""
    if not object_type:
        return ""
    kind = OBJECTS.get(object_type)
    label = str(kind) if kind is not None else spaced(object_type).capitalize()
    name = names.get((object_type, object_id))
    if name:
        return f"{label} “{name}”"
    return f"{label} {object_id}" if object_id is not None else label


def entry(
    event: Any, names: Mapping, named: Mapping[str, Callable[[str], str]] | None = None
) -> Entry:
    """The audit ``event`` in words; ``names`` maps (type, id) to an object's name,
    ``named`` detail keys to functions naming their values (see :func:`detail_parts`)."""
    return Entry(
        sentence=sentence(event.action),
        object=object_text(event.object_type, event.object_id, names),
        details=detail_parts(event.details, named),
    )
