"""Which languages are draft translations, and how many answers came in each language.

A translation is a draft until a city's translator has reviewed it (DESIGN: translate,
review, adjudicate, pretest, document). The review status of each language comes from
:func:`surveyapp.i18n.catalogs.languages`, the one place that derives it; this module only
asks it, so that opening a wave, monitoring and the report agree on which are drafts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from flask import has_app_context

from analysis.disclosure import mask_count, suppress_counts
from surveyapp.config import read_environment
from surveyapp.i18n import catalogs, translations_dir

#: The review status of a language no list knows: nobody has reviewed it.
UNKNOWN = "draft"
#: Review states whose texts residents may read without an acknowledgement.
NOT_DRAFT = frozenset({"source", "reviewed", "adjudicated"})


def review_states(translations_dir: Path) -> dict[str, str]:
    """Every listed language's review status (one of ``catalogs.REVIEW_STATES``)."""
    return {
        code: language.review for code, language in catalogs.languages(translations_dir).items()
    }


def current_review_states() -> dict[str, str]:
    """:func:`review_states` of the running app's catalogs; outside an app (a report built
    by a script or a test), of the catalogs the app uses by default."""
    if has_app_context():
        return review_states(translations_dir())
    return review_states(Path(read_environment()["BABEL_TRANSLATION_DIRECTORIES"]))


def is_draft(status: str | None) -> bool:
    """True for a translation nobody has reviewed yet (a language the list does not know too)."""
    return (status or UNKNOWN) not in NOT_DRAFT


def draft_languages(codes: Iterable[str], translations_dir: Path) -> list[str]:
    """Of ``codes`` (a wave's languages), those in a draft translation, in their order."""
    states = review_states(translations_dir)
    return [code for code in dict.fromkeys(codes) if is_draft(states.get(code))]


def language_rows(
    languages: Iterable[str], states: Mapping[str, str], *, exact: bool = False
) -> list[dict[str, Any]]:
    """Responses per language for a published table, each marked draft or not.

    ``languages`` holds one language per response. Counts are protected like the report's
    other counts: under 10 as "<10", and further ones hidden ("≥10") so that no small count
    comes back from the total (:func:`analysis.disclosure.suppress_counts`).
    """
    counts = Counter(languages)
    hidden = suppress_counts(counts)
    return [
        {
            "language": code,
            "n": mask_count(n, suppressed=hidden.total or code in hidden.cells, exact=exact),
            "review": states.get(code, UNKNOWN),
            "draft": is_draft(states.get(code)),
        }
        for code, n in sorted(counts.items())
    ]
