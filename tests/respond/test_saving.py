"""The page save at the service level: every kind of answer, replaced, removed and sent.

On PostgreSQL a page's writes are one statement (data-modifying CTEs); on SQLite they are
separate statements. The suite runs on both, so both paths must give the same rows.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.datastructures import MultiDict

from surveyapp.instruments import Instrument, registry
from surveyapp.models import PageSubmission, Response, ResponseStatus
from surveyapp.respond import drafts, navigation, saving
from surveyapp.respond.availability import availability
from surveyapp.respond.page_writes import SessionWriter

from ..conftest import Factory
from ..extra_instrument import EXTRA_DEFINITION

RESUME = "r" * 32


@pytest.fixture(autouse=True)
def app_context(app: Flask) -> Iterator[None]:
    """Drafts are found by keyed hashes of their resume keys: the app's key is needed."""
    with app.app_context():
        yield


@pytest.fixture
def draft(make: Factory) -> Response:
    """A fresh draft in an open wave whose questionnaire this process has read."""
    wave = make.wave()
    registry.wave_sections(wave)
    return drafts.start_draft(
        make.session, wave=wave, language="en", resume_key=RESUME, idempotency_key="s" * 32
    )


def _save(make: Factory, page: int, form: list[tuple[str, str]], key: str, **kw):
    """Read the draft as a page POST does (locked, with its answers) and save the page."""
    sections = Instrument.from_definition(EXTRA_DEFINITION).sections_for(["extra"])
    return saving.save_page(
        SessionWriter(make.session),
        draft=drafts.lock_draft(make.session, RESUME),
        sections=sections,
        page=page,
        form=MultiDict(form),
        idempotency_key=key,
        action=kw.pop("action", "next"),
        language=kw.pop("language", "en"),
        **kw,
    )


def test_every_kind_of_answer_is_stored_replaced_and_removed(make: Factory, draft) -> None:
    form = [("q-places", "1"), ("q-places", "2"), ("q-park_visits", "20"), ("q-many", "Sunny")]
    assert _save(make, 1, form, "a" * 32).outcome_page == 2
    assert drafts.stored_values(make.session, draft.id) == {
        "places": {"value_codes": [1, 2]},
        "park_visits": {"value_number": 20.0},
        "many": {"value_text": "Sunny"},
    }

    # The save path reads the draft, its wave and its answers in one locked query.
    locked = drafts.lock_draft(make.session, RESUME)
    assert isinstance(locked, drafts.Draft)
    assert (locked.id, locked.page, locked.status) == (draft.id, 2, ResponseStatus.DRAFT)
    assert locked.wave.id == draft.wave_id and availability(locked.wave) is None
    assert locked.values == drafts.stored_values(make.session, draft.id)
    make.session.rollback()  # the page POST's transaction ends

    # Page 1 again without the park: the answer is replaced in place, and the follow-ups
    # that no longer apply are removed, in French this time.
    result = _save(make, 1, [("q-places", "2")], "b" * 32, language="fr")
    assert result.outcome_page == 2 and not result.duplicate
    assert drafts.stored_values(make.session, draft.id) == {"places": {"value_codes": [2]}}
    make.session.expire_all()
    stored = make.session.get(Response, draft.id)
    assert (stored.language, stored.page) == ("fr", 2)

    # The same key again (a double tap): the first outcome, nothing written twice.
    again = _save(make, 1, [("q-places", "2")], "b" * 32)
    assert (again.outcome_page, again.duplicate) == (2, True)
    assert drafts.stored_values(make.session, draft.id) == {"places": {"value_codes": [2]}}


def test_the_last_page_sends_the_questionnaire_in_one_transaction(make: Factory, draft) -> None:
    assert _save(make, 1, [("q-places", "-1")], "a" * 32).outcome_page == 2
    result = _save(
        make,
        2,
        [("q-other", "=HYPERLINK(1)")],
        "c" * 32,
        completion_flags=["repeat_in_same_browser"],
    )
    assert result.outcome_page == navigation.COMPLETE
    make.session.expire_all()
    sent = make.session.get(Response, draft.id)
    assert sent.status == ResponseStatus.COMPLETE and sent.submitted_on is not None
    assert sent.resume_key_hash is None and sent.quality_flags == ["repeat_in_same_browser"]
    assert drafts.stored_values(make.session, draft.id) == {
        "places": {"value_code": -1},
        "other": {"value_text": "=HYPERLINK(1)"},
    }
    assert make.session.get(PageSubmission, "c" * 32).outcome_page == navigation.COMPLETE
    # Sent: the code or token no longer finds it.
    assert drafts.lock_draft(make.session, RESUME) is None


def test_a_draft_whose_questionnaire_is_not_read_yet_is_loaded_in_full(
    make: Factory, draft, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry, "_LOADED", {})
    found = drafts.lock_draft(make.session, RESUME)
    assert isinstance(found, drafts.Draft) and found.id == draft.id
    assert registry.is_loaded(found.wave.frozen_instrument_hash)
