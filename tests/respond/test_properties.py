"""Property-based tests of the page-save endpoint: any body gets a 4xx or a valid save."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from surveyapp.extensions import limiter
from surveyapp.instruments.registry import wave_sections
from surveyapp.models import Answer, PageSubmission, Response

from ..conftest import Factory
from ..resident import past_area_step

pytestmark = pytest.mark.slow  # `make test-fast` leaves it to `make test`

SECTION_ITEMS = ["ppltrst", "pplfair", "pplhlp"]  # page 1 of the core questionnaire
FIELD_NAMES = st.one_of(
    st.sampled_from([f"q-{i}" for i in SECTION_ITEMS]),
    st.sampled_from(["q-household_size", "q-ppltrst-missing", "nav", "lang", "q-", "q-q-q"]),
    st.text(min_size=0, max_size=12),
)
FIELD_VALUES = st.one_of(
    st.integers(min_value=-5, max_value=12).map(str),
    st.sampled_from(["next", "back", "stay", "fr", "xx", "", " 3 ", "1e3", "NaN", "-0"]),
    st.text(max_size=40),
)
FORMS = st.lists(st.tuples(FIELD_NAMES, FIELD_VALUES), max_size=8)
SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _start(client: FlaskClient, make: Factory) -> str:
    """Page 1 of one draft, made once per test (hypothesis runs many examples per test)."""
    if not hasattr(make, "page_one"):
        wave = make.wave(languages=["en", "fr"])
        welcome = client.get(f"/w/{wave.open_token}")
        key = re.search(rb'name="idempotency_key" value="([^"]+)"', welcome.data)
        started = client.post(f"/w/{wave.open_token}", data={"idempotency_key": key.group(1)})
        make.page_one = past_area_step(client, started.location)
    return make.page_one


def _saved(make: Factory) -> tuple[int, list[tuple]]:
    make.session.expire_all()
    submissions = make.session.scalar(select(func.count()).select_from(PageSubmission))
    response = make.session.scalar(select(Response))
    answers = [(a.item_id, a.value_code, a.value_number, a.value_text) for a in response.answers]
    return submissions, answers


@SETTINGS
@given(form=FORMS, keep_key=st.booleans())
def test_page_save_never_fails_and_stores_only_valid_answers(
    client: FlaskClient, make: Factory, form: list[tuple[str, str]], keep_key: bool
) -> None:
    url = _start(client, make)
    page = client.get(url)
    assert page.status_code == 200
    key = re.search(rb'name="idempotency_key" value="([^"]+)"', page.data).group(1).decode()
    before = _saved(make)
    data = [(name, value) for name, value in form]
    if keep_key:
        data.append(("idempotency_key", key))
    posted = client.post(url, data=MultiDict(data))
    assert posted.status_code in (303, 400, 422), posted.status_code
    after = _saved(make)
    if posted.status_code != 303:
        assert after == before  # nothing stored, nothing lost
        return
    assert after[0] == before[0] + 1
    response = make.session.scalar(select(Response))
    # Whatever button was pressed, the resident stays on the first pages.
    assert response.status == "draft" and response.page in (1, 2)
    section = wave_sections(response.wave)[0]
    answers = list(response.answers)  # read before the next request ends the session
    client.get(url)  # (a "next" moved the draft on; page 1 stays reachable)
    options = {
        item.id: {o.code for o in item.options} | {o.code for o in item.missing_options}
        for item in section.items
    }
    for answer in answers:
        assert answer.item_id in options
        assert answer.value_code in options[answer.item_id]


@SETTINGS
@given(code=st.text(max_size=30), page=st.integers(min_value=-3, max_value=50))
@example(code="#\x00", page=1)  # a NUL after "#" is in the fragment: 404, not 400
def test_any_code_or_page_in_a_url_gets_a_clear_answer(
    client: FlaskClient, make: Factory, code: str, page: int
) -> None:
    limiter.reset()  # each example is a new visitor; code guessing has its own test
    make.wave()
    for url in (f"/i/{code}", f"/i/{code}/{page}", f"/r/{code}/{page}", f"/r/{code}"):
        got = client.get(url)
        # 400 only for a NUL character in the path, which no code or link can hold (after
        # a "#" or "?" it is a fragment or a query, not part of the code).
        in_path = code.split("#")[0].split("?")[0]
        clear = (200, 303, 308, 404, 410)
        expected = (400,) if "\x00" in in_path else (*clear, 400) if "\x00" in code else clear
        assert got.status_code in expected, (url, got.status_code)
        posted = client.post(url, data={"idempotency_key": "k" * 32, "q-ppltrst": "1"})
        assert posted.status_code in (200, 303, 308, 400, 404, 405, 410), (url, posted.status_code)
    assert make.session.scalar(select(func.count()).select_from(Answer)) == 0
