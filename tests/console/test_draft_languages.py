"""No silent drafts (issue 26 item 1): staff see each language's review status, opening a
wave in a draft translation needs an audited acknowledgement, and monitoring and the
report say which answers came in draft translations."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from surveyapp.cli import main
from surveyapp.console import waves
from surveyapp.db import utcnow
from surveyapp.draft_languages import draft_languages, language_rows
from surveyapp.i18n import catalogs
from surveyapp.models import AuditEvent, Response, Role, Wave, WaveStatus

from ..conftest import TRANSLATIONS, Factory, sign_in

FRENCH = {"Accept-Language": "fr-FR,fr;q=0.9"}


@pytest.fixture(autouse=True)
def reviews(monkeypatch: pytest.MonkeyPatch) -> None:
    """French is a draft and Dutch a reviewed translation here, whatever the list says
    today: the review status comes from :func:`catalogs.languages`, asked each time."""
    listed = catalogs.languages

    def languages(translations_dir):
        found = listed(translations_dir)
        return found | {
            "fr": replace(found["fr"], review="draft"),
            "nl": replace(found["nl"], review="reviewed"),
        }

    monkeypatch.setattr(catalogs, "languages", languages)


def _acknowledgements(make: Factory, wave_id: int) -> list[AuditEvent]:
    return list(
        make.session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "draft_languages_acknowledged",
                AuditEvent.object_id == str(wave_id),
            )
        )
    )


def test_draft_languages_are_those_nobody_reviewed() -> None:
    assert draft_languages(["en", "nl", "fr", "xx"], TRANSLATIONS) == ["fr", "xx"]


def test_opening_in_a_draft_language_is_refused_without_acknowledgement(make: Factory) -> None:
    wave = make.wave(status=WaveStatus.DRAFT, languages=["en", "fr"])
    with pytest.raises(waves.WaveError, match=r"draft translations .*\(fr\)"):
        waves.open_wave(make.session, wave, actor="test", translations_dir=TRANSLATIONS)
    assert wave.status == WaveStatus.DRAFT and not _acknowledgements(make, wave.id)
    waves.open_wave(
        make.session, wave, actor="test", translations_dir=TRANSLATIONS, acknowledged=["fr"]
    )
    make.session.flush()
    assert wave.status == WaveStatus.OPEN
    [event] = _acknowledgements(make, wave.id)
    assert event.details == {"languages": ["fr"]} and event.actor == "test"


def test_reviewed_languages_open_without_acknowledgement(make: Factory) -> None:
    wave = make.wave(status=WaveStatus.DRAFT, languages=["en", "nl"])
    waves.open_wave(make.session, wave, actor="test", translations_dir=TRANSLATIONS)
    assert wave.status == WaveStatus.OPEN and not _acknowledgements(make, wave.id)


def test_the_new_wave_form_shows_each_language_s_review_status(
    client: FlaskClient, make: Factory
) -> None:
    initiative = make.initiative()
    make.instrument_row()
    sign_in(client, make.user(initiative.city))
    page = client.get(f"/staff/initiatives/{initiative.id}/waves/new").get_data(as_text=True)
    assert re.search(r'for="language-fr">.*\(draft translation, not reviewed\)</span>', page)
    assert re.search(r'for="language-nl">.*\(reviewed translation\)</span>', page)
    assert re.search(r'for="language-en">.*\(source language\)</span>', page)


def test_the_wave_page_warns_and_opening_needs_the_ticked_box(
    client: FlaskClient, make: Factory
) -> None:
    wave = make.wave(status=WaveStatus.DRAFT, languages=["en", "fr"], open_token=None)
    sign_in(client, make.user(wave.initiative.city, role=Role.ADMIN))
    page = client.get(f"/staff/waves/{wave.id}").get_data(as_text=True)
    assert "Draft translations: French." in page and 'name="acknowledge"' in page
    assert 'French <span class="review review-draft">(draft translation, not reviewed)' in page

    refused = client.post(f"/staff/waves/{wave.id}/open", follow_redirects=True)
    assert refused.status_code == 200
    text = refused.get_data(as_text=True)
    assert "Open in draft translations: tick the box to let residents answer in draft" in text
    make.session.expire_all()
    assert make.session.get(Wave, wave.id).status == WaveStatus.DRAFT

    # In the staff member's language, naming the field.
    french = client.post(f"/staff/waves/{wave.id}/open", headers=FRENCH, follow_redirects=True)
    assert "Ouvrir dans des traductions provisoires :" in french.get_data(as_text=True)

    data = {"acknowledge": "y", "draft_languages": ["fr"]}
    assert client.post(f"/staff/waves/{wave.id}/open", data=data).status_code == 303
    make.session.expire_all()
    assert make.session.get(Wave, wave.id).status == WaveStatus.OPEN
    [event] = _acknowledgements(make, wave.id)
    assert event.details == {"languages": ["fr"]}
    log = client.get(f"/staff/cities/{wave.city_id}/audit").get_data(as_text=True)
    assert "Acknowledged draft translations before opening a wave" in log
    assert "Languages: French" in log


def test_a_box_ticked_for_other_languages_acknowledges_nothing(
    client: FlaskClient, make: Factory
) -> None:
    wave = make.wave(status=WaveStatus.DRAFT, languages=["en", "fr"])
    sign_in(client, make.user(wave.initiative.city))
    data = {"acknowledge": "y", "draft_languages": ["ar"]}
    client.post(f"/staff/waves/{wave.id}/open", data=data)
    make.session.expire_all()
    assert make.session.get(Wave, wave.id).status == WaveStatus.DRAFT
    assert not _acknowledgements(make, wave.id)


def test_a_wave_without_drafts_shows_no_warning_and_opens(
    client: FlaskClient, make: Factory
) -> None:
    wave = make.wave(status=WaveStatus.DRAFT, languages=["en", "nl"])
    sign_in(client, make.user(wave.initiative.city))
    page = client.get(f"/staff/waves/{wave.id}").get_data(as_text=True)
    assert "Draft translations:" not in page and 'name="acknowledge"' not in page
    assert client.post(f"/staff/waves/{wave.id}/open").status_code == 303
    make.session.expire_all()
    assert make.session.get(Wave, wave.id).status == WaveStatus.OPEN


def test_the_command_line_needs_the_acknowledgement_flag(
    runner: FlaskCliRunner, make: Factory
) -> None:
    wave_id = make.wave(status=WaveStatus.DRAFT, languages=["en", "fr"]).id
    refused = runner.invoke(main, ["waves", "open", str(wave_id)])
    assert refused.exit_code != 0 and "(fr)" in refused.output
    opened = runner.invoke(main, ["waves", "open", str(wave_id), "--acknowledge-draft-languages"])
    assert opened.exit_code == 0, opened.output
    [event] = _acknowledgements(make, wave_id)
    assert event.actor == "surveyapp cli" and event.details == {"languages": ["fr"]}


def test_monitoring_marks_answers_in_draft_languages(client: FlaskClient, make: Factory) -> None:
    wave = make.wave(languages=["en", "fr", "nl"])
    for i, language in enumerate(["en"] * 12 + ["fr"] * 11):
        make.session.add(
            Response(
                wave_id=wave.id,
                language=language,
                channel="open_link",
                status="complete",
                submitted_on=utcnow().date(),
                quality_flags=[],
                page=1,
                idempotency_key=f"k-{wave.id}-{i}-{'x' * 12}",
            )
        )
    make.session.commit()
    sign_in(client, make.user(wave.initiative.city, role=Role.ADMIN))
    page = client.get(f"/staff/waves/{wave.id}/monitor").get_data(as_text=True)
    assert "Answers in French came in draft translations nobody has reviewed yet" in page
    row = re.search(r'<tr class="draft-language"><td>French</td>(.*?)</tr>', page)
    assert row and "draft translation, not reviewed" in row.group(1) and "<td>11</td>" in row[1]
    assert re.search(r"<tr><td>Dutch</td><td[^>]*>reviewed translation</td>", page)


def test_report_language_rows_mark_drafts_and_protect_small_counts() -> None:
    states = {"en": "source", "fr": "draft"}
    rows = language_rows(["en"] * 40 + ["fr"] * 12 + ["ar"] * 3, states)
    assert [(r["language"], r["draft"]) for r in rows] == [
        ("ar", True),
        ("en", False),
        ("fr", True),
    ]
    shown = {r["language"]: r["n"] for r in rows}
    assert shown["ar"] == "<10" and "≥10" in (shown["en"], shown["fr"])


def test_the_report_counts_answers_per_language_and_marks_drafts(demo, client) -> None:
    from surveyapp.demo import DEMO_EMAIL, DEMO_PASSWORD

    sign_in(client, DEMO_EMAIL, DEMO_PASSWORD)
    data = client.get(f"/staff/initiatives/{demo.id}/report.json").get_json()
    rows = {row["language"]: row for row in data["languages"]}
    assert rows and all(row["draft"] == (code not in ("en", "nl")) for code, row in rows.items())
    assert sum(row["n"] for row in rows.values() if isinstance(row["n"], int)) > 0
    page = client.get(f"/staff/initiatives/{demo.id}/report").get_data(as_text=True)
    assert "<caption>Responses per language</caption>" in page
    assert rows["fr"]["draft"] and not rows["en"]["draft"]  # the demo answers in both
    assert 'class="draft-language"' in page
    assert "Responses in a draft translation were given in wording nobody" in page
