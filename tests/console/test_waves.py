"""A wave's whole life through :mod:`surveyapp.console.waves`, audited step by step."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from surveyapp.console import waves
from surveyapp.db import utcnow
from surveyapp.models import AuditEvent, WaveStatus

from ..conftest import TRANSLATIONS, Factory


def _actions(make: Factory, wave_id: int) -> list[str]:
    return list(
        make.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_type == "wave", AuditEvent.object_id == str(wave_id))
            .order_by(AuditEvent.id)
        )
    )


def test_a_wave_goes_from_creation_to_archive(make: Factory) -> None:
    initiative = make.initiative()
    wave = waves.create_wave(
        make.session,
        initiative,
        instrument_row=make.instrument_row(),
        name=" Baseline ",
        modules=["demographics"],
        languages=["en", "fr", "en"],
        mode="both",
        opens_at=None,
        closes_at=None,
        is_panel=False,
        retention_days=365,
        translations=TRANSLATIONS,
        actor="test",
    )
    assert (wave.name, wave.status, wave.languages) == ("Baseline", WaveStatus.DRAFT, ["en", "fr"])
    waves.open_wave(
        make.session, wave, actor="test", translations_dir=TRANSLATIONS, acknowledged=["fr"]
    )
    assert wave.open_token and wave.frozen_instrument_hash == wave.instrument.content_hash
    waves.close_wave(make.session, wave, actor="test")
    waves.open_wave(
        make.session, wave, actor="test", translations_dir=TRANSLATIONS, acknowledged=["fr"]
    )
    waves.close_wave(make.session, wave, actor="test")
    waves.archive_wave(make.session, wave, actor="test")
    make.session.flush()
    assert wave.status == WaveStatus.ARCHIVED
    # (French, a draft translation, is acknowledged at each opening: tested below.)
    assert [a for a in _actions(make, wave.id) if a != "draft_languages_acknowledged"] == [
        "wave_created",
        "wave_opened",
        "wave_closed",
        "wave_reopened",
        "wave_closed",
        "wave_archived",
    ]


def test_a_wave_with_an_unknown_module_or_untranslated_language_is_not_created(
    make: Factory,
) -> None:
    """The command line has no form: the service itself keeps such a wave out."""
    fields = {
        "instrument_row": make.instrument_row(),
        "name": "Baseline",
        "mode": "both",
        "opens_at": None,
        "closes_at": None,
        "is_panel": False,
        "retention_days": 30,
        "translations": TRANSLATIONS,
        "actor": "test",
    }
    initiative = make.initiative()
    with pytest.raises(waves.WaveError, match="Unknown module"):
        waves.create_wave(
            make.session, initiative, modules=["horoscope"], languages=["en"], **fields
        )
    with pytest.raises(waves.WaveError, match="not fully translated into: xx"):
        waves.create_wave(make.session, initiative, modules=[], languages=["xx"], **fields)


@pytest.mark.parametrize(
    ("status", "step", "english", "french"),
    [
        ("open", "open", "only draft or closed waves can open", "seules les vagues en brouillon"),
        ("draft", "close", "only an open wave can close", "seule une vague ouverte"),
        ("open", "archive", "Only a closed wave can be archived", "Seule une vague clôturée"),
        ("closed", "delete", "Only a draft wave can be deleted", "Seule une vague en brouillon"),
    ],
)
def test_steps_the_state_does_not_allow_are_refused_in_the_staff_language(
    app: Flask, make: Factory, status: str, step: str, english: str, french: str
) -> None:
    wave = make.wave(status=status)
    act = {
        "open": lambda: waves.open_wave(
            make.session, wave, actor="test", translations_dir=TRANSLATIONS, acknowledged=["fr"]
        ),
        "close": lambda: waves.close_wave(make.session, wave, actor="test"),
        "archive": lambda: waves.archive_wave(make.session, wave, actor="test"),
        "delete": lambda: waves.delete_wave(make.session, wave, actor="test"),
    }[step]
    with pytest.raises(waves.WaveError) as refused:
        act()
    assert english in str(refused.value)
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert french in str(refused.value)
    assert wave.status == status and _actions(make, wave.id) == []


def test_tick_closes_only_waves_past_their_closing_date(make: Factory) -> None:
    due = make.wave(closes_at=utcnow() - timedelta(minutes=1))
    running = make.wave()
    closed = waves.close_due_waves(make.session, utcnow(), actor="cron")
    assert closed == [due]
    assert (due.status, running.status) == (WaveStatus.CLOSED, WaveStatus.OPEN)
