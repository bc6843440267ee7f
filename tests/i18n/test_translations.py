"""Translations: extraction from YAML, completeness, safety, and their use on pages."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask.testing import FlaskClient, FlaskCliRunner

from surveyapp.cli import main
from surveyapp.console.waves import WaveError, open_wave
from surveyapp.i18n import catalogs
from surveyapp.i18n.instrument import clear_cache, missing_texts, translated_sections
from surveyapp.instruments import Instrument
from surveyapp.instruments.messages import instrument_messages

from ..conftest import PROJECT_ROOT, TRANSLATIONS, Factory

REQUIRED_LANGUAGES = 12


def _keys(path: Path) -> set[tuple[str | None, str]]:
    with path.open("rb") as handle:
        return {(m.context, m.id) for m in read_po(handle) if m.id}


def test_templates_are_up_to_date(tmp_path: Path) -> None:
    """The committed .pot files hold exactly what the code and the YAML files contain."""
    counts = catalogs.extract(PROJECT_ROOT, tmp_path)
    for domain in catalogs.DOMAINS:
        fresh = _keys(tmp_path / f"{domain}.pot")
        committed = _keys(TRANSLATIONS / f"{domain}.pot")
        assert fresh == committed, f"run `surveyapp i18n extract` and `update` ({domain})"
        assert counts[domain] == len(fresh)


def test_every_instrument_text_has_a_context(core_instrument: Instrument) -> None:
    """Item texts, options and missing options are all extracted, keyed by their ids."""
    contexts = {m.context for m in instrument_messages(core_instrument)}
    for item in core_instrument.items:
        assert f"item.{item.id}" in contexts
    assert "option_set.agree5.5" in contexts
    assert "item.ppltrst.option.0" in contexts  # anchor label of a 0-10 scale
    assert "missing.dont_know" in contexts
    pot = _keys(TRANSLATIONS / "instruments.pot")
    assert ("item.ppltrst", core_instrument.item("ppltrst").text.strip()) in pot


def test_languages_record_review_status() -> None:
    languages = catalogs.languages(TRANSLATIONS)
    assert languages["en"].review == "source"
    assert languages["ar"].direction == "rtl"
    assert all(lang.review in catalogs.REVIEW_STATES for lang in languages.values())


def test_at_least_twelve_languages_are_complete(runner: FlaskCliRunner) -> None:
    """`surveyapp i18n status --json`: 12+ languages at 100% for interface and questionnaire."""
    result = runner.invoke(main, ["i18n", "status", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    complete = [
        r["language"] for r in rows if r["ui_percent"] == 100 and r["instrument_percent"] == 100
    ]
    assert len(complete) >= REQUIRED_LANGUAGES, f"complete: {complete}"
    assert {"review_status", "ui_total", "instrument_total"} <= set(rows[0])


def test_committed_translations_are_safe(runner: FlaskCliRunner) -> None:
    result = runner.invoke(main, ["i18n", "check"])
    assert result.exit_code == 0, result.output


def _po(path: Path, context: str, msgid: str, msgstr: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        f'msgctxt "{context}"\nmsgid "{msgid}"\nmsgstr "{msgstr}"\n',
        encoding="utf-8",
    )


def test_check_finds_placeholder_mismatch_and_html(tmp_path: Path) -> None:
    _po(tmp_path / "fr/LC_MESSAGES/messages.po", "a", "Hello %(name)s", "Bonjour %(nom)s")
    _po(tmp_path / "de/LC_MESSAGES/messages.po", "b", "Thanks", "<b>Danke</b>")
    problems = catalogs.check(tmp_path)
    assert len(problems) == 2
    assert "placeholders" in problems[1].problem and "fr" in problems[1].path
    assert "HTML" in problems[0].problem and "de" in problems[0].path


def test_missing_translation_keys_are_reported(
    runner: FlaskCliRunner, tmp_path: Path, core_instrument: Instrument, monkeypatch
) -> None:
    """The validator names the file, the item and the language of a missing translation."""
    copy = tmp_path / "translations"
    shutil.copytree(TRANSLATIONS, copy)
    po = copy / "fr" / "LC_MESSAGES" / "instruments.po"
    text = po.read_text(encoding="utf-8")
    start = text.index('msgctxt "item.pplfair"')
    end = text.index("\n\n", start)
    po.write_text(text[:start] + text[end + 2 :], encoding="utf-8")
    monkeypatch.setitem(runner.app.config, "BABEL_TRANSLATION_DIRECTORIES", str(copy))
    result = runner.invoke(main, ["instruments", "validate", "--translations"])
    assert result.exit_code != 0
    assert "item pplfair: missing fr translation key 'item.pplfair'" in result.output
    assert missing_texts(core_instrument, [], "fr", copy)[:1] == ["item.pplfair"]


def test_wave_cannot_open_in_an_incomplete_language(make: Factory, tmp_path: Path) -> None:
    """The error lists the ids of the missing texts; nothing changes on the wave."""
    wave = make.wave(status="draft", languages=["en", "xx"])
    with pytest.raises(WaveError, match=r"xx: \d+ missing \(title, section\.general_trust"):
        open_wave(
            make.session, wave, actor="test", translations_dir=TRANSLATIONS, acknowledged=["fr"]
        )
    assert wave.status == "draft"


def test_opening_freezes_the_instrument(make: Factory) -> None:
    wave = make.wave(status="draft", languages=["en"])
    open_wave(make.session, wave, actor="test", translations_dir=TRANSLATIONS, acknowledged=["fr"])
    assert wave.status == "open"
    assert wave.frozen_instrument_hash == wave.instrument.content_hash


def test_translated_sections_keep_codes(core_instrument: Instrument) -> None:
    clear_cache()
    sections = core_instrument.sections_for([])
    french = translated_sections(core_instrument, sections, "fr", TRANSLATIONS)
    for en_section, fr_section in zip(sections, french, strict=True):
        for en_item, fr_item in zip(en_section.items, fr_section.items, strict=True):
            assert [o.code for o in en_item.options] == [o.code for o in fr_item.options]
            assert fr_item.text != en_item.text, fr_item.id


def test_resident_page_in_french_and_arabic(client: FlaskClient, make: Factory) -> None:
    wave = make.wave(languages=["en", "fr", "ar"])
    french = client.get(f"/w/{wave.open_token}?lang=fr").get_data(as_text=True)
    assert '<html lang="fr" dir="ltr">' in french
    assert "Generally speaking" not in french
    arabic = client.get(f"/w/{wave.open_token}?lang=ar").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in arabic
    assert "Generally speaking" not in arabic
    # The choice sticks for the next page without the parameter.
    again = client.get(f"/w/{wave.open_token}").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in again


def test_accept_language_picks_among_wave_languages(client: FlaskClient, make: Factory) -> None:
    wave = make.wave(languages=["en", "nl"])
    page = client.get(f"/w/{wave.open_token}", headers={"Accept-Language": "nl-BE,nl;q=0.9"})
    assert '<html lang="nl"' in page.get_data(as_text=True)
    page = client.get(f"/w/{wave.open_token}", headers={"Accept-Language": "ja"})
    assert '<html lang="en"' in page.get_data(as_text=True)


def test_counts_of_days_use_each_languages_plural_forms() -> None:
    """Polish says 1 dzień, 3 dni, 5 dni; Arabic has six forms: one sentence does not fit all."""
    from babel.support import Translations

    polish = Translations.load(str(TRANSLATIONS), ["pl"], domain="messages")
    said = [polish.ngettext("%(num)s day", "%(num)s days", n) % {"num": n} for n in (1, 3, 5)]
    assert said == ["1 dzień", "3 dni", "5 dni"]
    arabic = Translations.load(str(TRANSLATIONS), ["ar"], domain="messages")
    assert arabic.ngettext("%(num)s day", "%(num)s days", 2) % {"num": 2} == "2 يومان"


def test_spot_check_fixes_are_in_the_catalogs() -> None:
    """Issue 26: one question per trust item, the ESS national wordings, no 'in danger'."""

    def translation(locale: str, context: str) -> str:
        path = catalogs.po_path(TRANSLATIONS, locale, "instruments")
        return next(m.string for m in catalogs.read_catalog(path, locale) if m.context == context)

    assert translation("ar", "item.nbh_close_knit") == "هذا حيّ مترابط."
    assert "se conduire correctement" in translation("fr", "item.pplfair")
    assert "в небезпеці" not in translation("uk", "item.felt_unsafe")
    # ESS national questionnaires (translations/README.md, "ESS national wordings")
    assert translation("de", "item.trstlgl") == "Der Justiz"
    assert translation("es", "item.satisfied_area.option.10") == "Completamente satisfecho/a"
    assert translation("fr", "item.trstlgl.option.10") == "Complètement confiance"
