"""Forms about translations: opening a wave in draft languages, and pretest comments.

Like :mod:`forms`, every message is lazily translated and led by its field's label
(:func:`forms.error_messages`), so a staff member reads which box to tick in their language.
"""

from __future__ import annotations

from pathlib import Path

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField
from wtforms.validators import ValidationError

from surveyapp.console.forms import ListField
from surveyapp.console.pretest import MAX_COMMENT
from surveyapp.draft_languages import draft_languages
from surveyapp.models import Wave

#: The name of a question's comment box on a pretest page (``comment-<item id>``).
COMMENT_PREFIX = "comment-"


class OpenWaveForm(FlaskForm):
    """Opening a wave: where a wave language is a draft translation, the ticked box that
    says the staff member knows, and the draft languages the page showed beside it."""

    acknowledge = BooleanField(_l("Open in draft translations"))
    draft_languages = ListField()

    def __init__(self, wave: Wave, translations: Path, **kwargs) -> None:
        super().__init__(**kwargs)
        self.drafts = draft_languages(wave.languages or [], translations)

    def validate_acknowledge(self, field: BooleanField) -> None:
        # A box ticked for other languages than the drafts now (a status changed since the
        # page was shown) acknowledges nothing.
        seen = set(self.draft_languages.data or [])
        if self.drafts and not (field.data and seen >= set(self.drafts)):
            raise ValidationError(
                _l(
                    "tick the box to let residents answer in draft translations (%(languages)s).",
                    languages=", ".join(self.drafts),
                )
            )

    def acknowledged(self) -> list[str]:
        """The draft languages the staff member acknowledged (none needed: empty)."""
        return list(self.drafts) if self.acknowledge.data else []


def typed_comments(form: MultiDict, item_ids: list[str]) -> tuple[dict[str, str], list[str]]:
    """The comments typed under the questions ``item_ids`` (blank boxes left out), and the
    ids of those too long to keep (the caller names them; nothing is saved then)."""
    comments, too_long = {}, []
    for item_id in item_ids:
        text = (form.get(COMMENT_PREFIX + item_id) or "").strip()
        if len(text) > MAX_COMMENT:
            too_long.append(item_id)
        elif text:
            comments[item_id] = text
    return comments, too_long


def too_long_message(labels: list[str]) -> str:
    """The error for comments over :data:`MAX_COMMENT` characters, naming their questions."""
    return str(
        _l(
            "Comment on %(questions)s: at most %(max)s characters.",
            questions=", ".join(labels),
            max=MAX_COMMENT,
        )
    )
