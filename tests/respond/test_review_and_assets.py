"""The review page, what problem pages offer, and how the pages' files are sent."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import delete, select

from surveyapp import assets
from surveyapp.instruments.registry import wave_sections
from surveyapp.models import Answer, PageSubmission, Response
from surveyapp.respond import navigation

from ..conftest import Factory, complete_answers
from ..resident import Resident


def _to_review(client: FlaskClient, make: Factory) -> tuple[Resident, tuple]:
    wave = make.wave()
    sections = wave_sections(wave)
    resident = Resident(client)
    resident.open(f"/w/{wave.open_token}")
    resident.consent()
    for number, section in enumerate(sections, start=1):
        nav = "review" if number == len(sections) else "next"
        assert resident.submit(complete_answers([section]), nav=nav) == 303
    return resident, sections


def test_review_page_resumes_and_changes_come_back_to_it(
    client: FlaskClient, make: Factory, db_session
) -> None:
    resident, sections = _to_review(client, make)
    review = resident.url
    assert review.endswith(f"/{len(sections) + 1}")
    draft = db_session.scalars(select(Response)).one()
    assert draft.status == "draft" and draft.page == len(sections) + 1
    # Resuming by the link lands on the review page again.
    key = review.split("/r/")[1].split("/")[0]
    assert client.get(f"/r/{key}").location.endswith(f"/{len(sections) + 1}")

    links = re.findall(r'href="([^"]*from=review[^"]*)"', resident.text)
    item = sections[1].items[0]
    change = next(link for link in links if link.endswith(f"#item-{item.id}"))
    assert change.startswith(f"/r/{key}/2?from=review")
    resident.open(change.split("#")[0].replace("&amp;", "&"))
    assert 'value="change"' in resident.text and "Save and return to the review" in resident.text
    answers = complete_answers([sections[1]]) | {f"q-{item.id}": str(item.options[-1].code)}
    assert resident.submit(answers, nav="change") == 303
    assert resident.url == review and item.options[-1].label in resident.text

    # An empty required answer on a page changed from the review page: the error, then back.
    resident.open(change.split("#")[0].replace("&amp;", "&"))
    assert resident.submit({}, nav="change") == 422
    assert "<title>Error: " in resident.text

    resident.open(review)
    assert resident.submit({}, nav="send") == 303
    assert resident.url.endswith("/thanks")
    db_session.expire_all()
    sent = db_session.get(Response, draft.id)
    assert sent.status == "complete"
    assert {a.item_id: a.value_code for a in sent.answers}[item.id] == item.options[-1].code


def test_review_page_refuses_answers_and_sends_nothing_incomplete(
    client: FlaskClient, make: Factory, db_session
) -> None:
    resident, sections = _to_review(client, make)
    review = resident.url
    first = sections[0].items[0]
    assert resident.submit({f"q-{first.id}": "1"}, nav="send") == 400  # no questions here
    resident.open(review)
    assert resident.submit({}, nav="next") == 400  # not a button of the review page
    # An answer removed meanwhile (another tab): Send leads to the page that needs it.
    draft = db_session.scalars(select(Response)).one()
    db_session.execute(delete(Answer).where(Answer.item_id == first.id))
    db_session.commit()
    resident.open(review)
    assert "Not answered yet" in resident.text
    assert resident.submit({}, nav="send") == 303
    assert resident.url.endswith("/1")
    db_session.expire_all()
    assert db_session.get(Response, draft.id).status == "draft"


def test_a_retried_send_from_the_review_page_lands_on_thanks(
    client: FlaskClient, make: Factory, db_session
) -> None:
    resident, _sections = _to_review(client, make)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', resident.text).group(1)
    url = resident.url
    for _attempt in range(2):
        sent = client.post(url, data={"idempotency_key": key, "nav": "send"})
        assert sent.status_code == 303 and sent.location.endswith("/thanks")
    assert db_session.get(PageSubmission, key).outcome_page == navigation.COMPLETE


def test_last_page_next_still_sends_at_once(client: FlaskClient, make: Factory) -> None:
    """A form open in a tab while the app was upgraded has no review button yet."""
    wave = make.wave()
    resident = Resident(client)
    resident.open(f"/w/{wave.open_token}")
    resident.consent()
    for section in wave_sections(wave):
        assert resident.submit(complete_answers([section])) == 303
    assert resident.url.endswith("/thanks")


def test_problem_pages_offer_only_what_applies(client: FlaskClient, make: Factory) -> None:
    wave = make.wave()
    by_link = client.get("/w/no-such-survey").get_data(as_text=True)
    assert "Enter a code" not in by_link and "Please check the link." in by_link
    by_code = client.get("/i/ACDEFGHJKM").get_data(as_text=True)
    assert "Enter a code" in by_code
    staff = client.get("/staff/nothing-here").get_data(as_text=True)
    assert "Enter a code" not in staff
    # A mistyped address after starting by open link: no code to type.
    resident = Resident(client)
    resident.open(f"/w/{wave.open_token}")
    resident.consent()
    lost = client.get("/nothing/here").get_data(as_text=True)
    assert "Enter a code" not in lost


def test_errors_are_announced_once_and_take_the_focus(client: FlaskClient, make: Factory) -> None:
    wave = make.wave()
    resident = Resident(client)
    resident.open(f"/w/{wave.open_token}")
    resident.consent()
    assert "<title>Error:" not in resident.text
    assert resident.submit({}) == 422
    html = resident.text
    assert re.search(r"<title>Error: ", html)
    assert re.search(r'class="error-summary"[^>]*tabindex="-1" autofocus', html)
    # The progress bar is not read out: the text beside it says the same.
    assert re.search(r'<progress [^>]*aria-hidden="true"', html)
    assert html.count("Page 1 of") == 1


def test_fingerprinted_files_are_cached_for_a_year(client: FlaskClient, make: Factory) -> None:
    page = client.get("/").get_data(as_text=True)
    css = re.search(r'href="(/assets/style\.([0-9a-f]{12})\.css)"', page)
    js = re.search(r'src="(/assets/respond\.([0-9a-f]{12})\.js)"', page)
    assert css and js
    for match, name in ((css, "style.css"), (js, "respond.js")):
        data = (assets.STATIC / name).read_bytes()
        assert assets.fingerprinted_name(name, data).split(".")[1] == match.group(2)
        sent = client.get(match.group(1), headers={"Accept-Encoding": "gzip"})
        assert sent.status_code == 200
        assert sent.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert sent.headers["Content-Encoding"] == "gzip"
        assert sent.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/assets/style.000000000000.css").status_code == 404
    # The same files at their plain address are revalidated, as before.
    assert "immutable" not in client.get("/static/style.css").headers.get("Cache-Control", "")


def test_error_pages_are_compressed(client: FlaskClient, make: Factory) -> None:
    wave = make.wave()
    resident = Resident(client)
    resident.open(f"/w/{wave.open_token}")
    resident.consent()
    key = re.search(r'name="idempotency_key" value="([^"]+)"', resident.text).group(1)
    errors = client.post(
        resident.url,
        data={"idempotency_key": key, "nav": "next"},
        headers={"Accept-Encoding": "gzip"},
    )
    assert errors.status_code == 422 and errors.headers["Content-Encoding"] == "gzip"
    plain = client.post(resident.url, data={"idempotency_key": key, "nav": "next"})
    assert len(errors.data) * 3 < len(plain.data)
    missing = client.get("/nothing/here", headers={"Accept-Encoding": "gzip"})
    assert missing.status_code == 404 and missing.headers["Content-Encoding"] == "gzip"
