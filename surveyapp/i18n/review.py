"""The review state of each translated string (TRAPD), kept in the catalogs themselves.

A string's state, its back-translation and the reviewer's comment are translator comments
(``# review: reviewed``, ``# back-translation: ...``, ``# reviewer: ...``) on its entry in
the ``.po`` file. Translator comments are the part of an entry that belongs to translators:
``msgmerge``, Babel's ``update``, Poedit and Weblate (through translate-toolkit) keep them,
while the ``fuzzy`` flag would hide a draft from residents and Weblate rewrites flags it
knows. A string without a ``review:`` comment is a draft. A language is as far along as its
least reviewed string: every string adjudicated makes an adjudicated language.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

#: States of one string, in order: each one needs the one before it.
STRING_STATES = ("draft", "reviewed", "adjudicated")
STATE_TAG = "review:"
BACK_TRANSLATION_TAG = "back-translation:"
COMMENT_TAG = "reviewer:"
#: Translator comments that belong to the review; any other comment is a translator's own.
REVIEW_TAGS = (STATE_TAG, BACK_TRANSLATION_TAG, COMMENT_TAG)


@dataclass(frozen=True)
class StringReview:
    """What the review recorded about one string."""

    state: str = "draft"
    back_translation: str = ""
    comment: str = ""


def _tagged(message: Any, tag: str) -> str:
    for comment in message.user_comments:
        if comment.strip().startswith(tag):
            return comment.strip()[len(tag) :].strip()
    return ""


def string_review(message: Any) -> StringReview:
    """The review recorded on a catalog entry (a draft when nothing is recorded)."""
    state = _tagged(message, STATE_TAG)
    return StringReview(
        state if state in STRING_STATES else "draft",
        _tagged(message, BACK_TRANSLATION_TAG),
        _tagged(message, COMMENT_TAG),
    )


def one_line(text: str) -> str:
    """A text fit for one translator comment line (a ``.po`` comment ends at a newline)."""
    return " ".join(text.split())


def record_review(message: Any, review: StringReview) -> None:
    """Write ``review`` onto the entry, replacing what was recorded before.

    Comments without one of our tags (a translator's own notes) stay, before ours.
    """
    kept = [c for c in message.user_comments if not c.strip().startswith(REVIEW_TAGS)]
    ours = [f"{STATE_TAG} {review.state}"]
    if review.back_translation:
        ours.append(f"{BACK_TRANSLATION_TAG} {one_line(review.back_translation)}")
    if review.comment:
        ours.append(f"{COMMENT_TAG} {one_line(review.comment)}")
    # A draft with nothing else to say is the default: leave no comment at all.
    if ours == [f"{STATE_TAG} draft"]:
        ours = []
    message.user_comments = kept + ours


def language_state(states: Iterable[str]) -> str:
    """A language's state from its strings' states: the least advanced one (draft if none)."""
    ranks = [STRING_STATES.index(s) for s in states]
    return STRING_STATES[min(ranks)] if ranks else "draft"
