"""Cognitive pretests of a translation: comments per question, kept for the review sheet.

Staff open a wave's questionnaire in one language with a comment box under each question
(:mod:`pretest_views`). Their comments are stored with the English and the translated
wording they read (:class:`surveyapp.models.PretestComment`), never as answers: a pretest
starts no response. :func:`pretest_comments` gives them to whoever builds the translator's
review sheet (the console's CSV download, ``surveyapp i18n review-export``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.instruments import Section
from surveyapp.models import PretestComment, User, Wave
from surveyapp.spreadsheet import safe_cell

#: The longest comment kept (a few paragraphs); longer ones are refused by name.
MAX_COMMENT = 2000

#: The columns of :func:`comments_csv`, in order.
CSV_COLUMNS = (
    "item_id",
    "english_text",
    "translation",
    "comment",
    "author",
    "created_at",
    "language",
    "wave_id",
)


@dataclass(frozen=True)
class CommentRow:
    """One pretest comment as the review sheet lists it."""

    item_id: str
    english_text: str
    translation: str
    comment: str
    author: str
    created_at: datetime
    language: str
    wave_id: int | None


def add_comments(
    session: Session,
    wave: Wave,
    language: str,
    *,
    source: Section,
    shown: Section,
    comments: Mapping[str, str],
    actor: User,
) -> list[PretestComment]:
    """Store ``comments`` (by item id) on the questions of one page, as read in ``language``.

    ``source`` is the page in the instrument's own language, ``shown`` the same page as the
    staff member read it; comments on items not on the page are ignored. Not committed.
    """
    english = {item.id: item.text for item in source.items}
    translated = {item.id: item.text for item in shown.items}
    added = [
        PretestComment(
            city_id=wave.city_id,
            wave_id=wave.id,
            language=language,
            item_id=item_id,
            source_text=english[item_id],
            shown_text=translated.get(item_id, english[item_id]),
            comment=text,
            author_id=actor.id,
            author=actor.email,
        )
        for item_id, text in comments.items()
        if item_id in english and text
    ]
    session.add_all(added)
    session.flush()
    return added


def pretest_comments(
    session: Session,
    language: str,
    *,
    city_ids: Iterable[int] | None = None,
    wave_id: int | None = None,
) -> list[CommentRow]:
    """Every pretest comment on the questionnaire in ``language``, oldest first.

    For a translator's review sheet: item id, English text, translation as read, comment,
    who and when. ``city_ids`` or ``wave_id`` narrow it to what a staff member may see;
    without them (the command line), every city's comments.
    """
    query = select(PretestComment).where(PretestComment.language == language)
    if city_ids is not None:
        query = query.where(PretestComment.city_id.in_(list(city_ids)))
    if wave_id is not None:
        query = query.where(PretestComment.wave_id == wave_id)
    found = session.scalars(query.order_by(PretestComment.item_id, PretestComment.id))
    return [
        CommentRow(
            item_id=c.item_id,
            english_text=c.source_text,
            translation=c.shown_text,
            comment=c.comment,
            author=c.author,
            created_at=c.created_at,
            language=c.language,
            wave_id=c.wave_id,
        )
        for c in found
    ]


def comments_csv(rows: Iterable[CommentRow]) -> str:
    """The comments as CSV (UTF-8 text, one row per comment), safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        values = asdict(row)
        values["created_at"] = row.created_at.isoformat(timespec="seconds")
        writer.writerow([safe_cell(values[column]) for column in CSV_COLUMNS])
    return out.getvalue()
