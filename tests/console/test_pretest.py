"""Cognitive pretests (issue 26 item 5): staff comment under each question of a wave's
questionnaire in one language; comments go to the review sheet, never to the data."""

from __future__ import annotations

import csv
import io
import re

from flask.testing import FlaskClient
from sqlalchemy import func, select

from surveyapp.console.pretest import MAX_COMMENT, pretest_comments
from surveyapp.models import Answer, PretestComment, Response, Role, WaveStatus

from ..conftest import Factory, sign_in


def _first_items(client: FlaskClient, wave_id: int, language: str) -> list[str]:
    page = client.get(f"/staff/waves/{wave_id}/pretest?language={language}")
    assert page.status_code == 200
    return re.findall(r'<textarea id="comment-([\w.]+)" name="comment-\1" form="pretest-form"',
                      page.get_data(as_text=True))  # fmt: skip


def test_the_pretest_shows_a_comment_box_under_each_question(
    client: FlaskClient, make: Factory
) -> None:
    wave = make.wave(status=WaveStatus.DRAFT, languages=["en", "fr"])
    sign_in(client, make.user(wave.initiative.city))
    page = client.get(f"/staff/waves/{wave.id}/pretest?language=fr").get_data(as_text=True)
    questions = re.findall(r'<fieldset id="item-([\w.]+)"', page)
    boxes = re.findall(r'<textarea id="comment-([\w.]+)"', page)
    assert questions and boxes == questions
    assert '<form id="pretest-form" method="post"' in page
    # The questions in French, the boxes and the banner in the staff member's English.
    assert '<html lang="fr"' in page and "Pretest of Baseline in French" in page
    assert '<div class="pretest-comment" lang="en" dir="ltr">' in page


def test_comments_are_stored_for_the_review_and_never_as_answers(
    client: FlaskClient, make: Factory
) -> None:
    wave = make.wave(status=WaveStatus.DRAFT, languages=["en", "fr"])
    user = make.user(wave.initiative.city)
    sign_in(client, user)
    first, second = _first_items(client, wave.id, "fr")[:2]
    sent = client.post(
        f"/staff/waves/{wave.id}/pretest?language=fr",
        data={f"comment-{first}": " « confiance » sounds too formal ", f"comment-{second}": "  ",
              f"q-{first}": "3"},
    )  # fmt: skip
    assert sent.status_code == 303
    assert "Comments saved: 1." in client.get(sent.location).get_data(as_text=True)
    [row] = pretest_comments(make.session, "fr")
    assert row.item_id == first and row.comment == "« confiance » sounds too formal"
    assert row.english_text != row.translation and row.author == user.email
    assert make.session.scalar(select(func.count(Response.id))) == 0
    assert make.session.scalar(select(func.count()).select_from(Answer)) == 0
    assert pretest_comments(make.session, "nl") == []

    listing = client.get(f"/staff/waves/{wave.id}/pretest-comments?language=fr")
    assert "« confiance » sounds too formal" in listing.get_data(as_text=True)
    download = client.get(f"/staff/waves/{wave.id}/pretest-comments.csv?language=fr")
    assert download.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True))))
    assert [(r["item_id"], r["comment"], r["author"]) for r in rows] == [
        (first, "« confiance » sounds too formal", user.email)
    ]
    assert rows[0]["english_text"] == row.english_text and rows[0]["translation"]


def test_a_too_long_comment_is_refused_by_its_question(client: FlaskClient, make: Factory) -> None:
    wave = make.wave(languages=["en", "fr"])
    sign_in(client, make.user(wave.initiative.city))
    first = _first_items(client, wave.id, "en")[0]
    refused = client.post(
        f"/staff/waves/{wave.id}/pretest?language=en",
        data={f"comment-{first}": "x" * (MAX_COMMENT + 1)},
        follow_redirects=True,
    )
    assert refused.status_code == 200
    assert f"Comment on {first}: at most {MAX_COMMENT} characters." in refused.get_data(
        as_text=True
    )
    assert make.session.scalar(select(func.count(PretestComment.id))) == 0


def test_spreadsheet_formulas_in_comments_are_neutralised(
    client: FlaskClient, make: Factory
) -> None:
    wave = make.wave(languages=["en", "fr"])
    sign_in(client, make.user(wave.initiative.city))
    first = _first_items(client, wave.id, "fr")[0]
    client.post(f"/staff/waves/{wave.id}/pretest?language=fr", data={f"comment-{first}": "=1+1"})
    text = client.get(f"/staff/waves/{wave.id}/pretest-comments.csv?language=fr").get_data(
        as_text=True
    )
    assert ",'=1+1," in text


def test_analysts_read_comments_but_do_not_pretest_and_other_cities_see_nothing(
    client: FlaskClient, make: Factory
) -> None:
    wave = make.wave(languages=["en", "fr"])
    sign_in(client, make.user(wave.initiative.city, role=Role.ANALYST))
    assert client.get(f"/staff/waves/{wave.id}/pretest").status_code == 403
    assert client.get(f"/staff/waves/{wave.id}/pretest-comments").status_code == 200
    assert client.get(f"/staff/waves/{wave.id}/pretest/99").status_code in (403, 404)
    other = make.user(make.city())
    outsider = client.application.test_client()
    sign_in(outsider, other)
    assert outsider.get(f"/staff/waves/{wave.id}/pretest-comments").status_code == 404
    assert outsider.get(f"/staff/waves/{wave.id}/pretest-comments.csv").status_code == 404


def test_pages_outside_the_questions_are_not_found(client: FlaskClient, make: Factory) -> None:
    wave = make.wave(languages=["en"])
    sign_in(client, make.user(wave.initiative.city))
    assert client.get(f"/staff/waves/{wave.id}/pretest/0").status_code == 404
    assert client.get(f"/staff/waves/{wave.id}/pretest/99").status_code == 404
