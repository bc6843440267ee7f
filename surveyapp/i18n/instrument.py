"""Questionnaire texts in the resident's language (gettext domain ``instruments``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel.support import NullTranslations, Translations

from surveyapp.i18n.catalogs import languages, translated_keys
from surveyapp.instruments import Instrument, Problem, Section
from surveyapp.instruments.messages import (
    DOMAIN,
    instrument_messages,
    messages_for_modules,
    missing_context,
    option_context,
)


@lru_cache(maxsize=64)
def _translations(translations_dir: str, locale: str) -> NullTranslations:
    return Translations.load(translations_dir, [locale], domain=DOMAIN)


_SECTIONS: dict[tuple[str, tuple[str, ...], str, str], tuple[Section, ...]] = {}


def clear_cache() -> None:
    """Forget loaded catalogs (after `surveyapp i18n compile`, and in tests)."""
    _translations.cache_clear()
    _SECTIONS.clear()


def translated_sections(
    instrument: Instrument, sections: tuple[Section, ...], locale: str, translations_dir: Path
) -> tuple[Section, ...]:
    """The sections with every text in ``locale``; untranslated texts stay in the source."""
    if locale == instrument.source_language:
        return sections
    section_ids = tuple(section.id for section in sections)
    key = (instrument.content_hash, section_ids, locale, str(translations_dir))
    if key not in _SECTIONS:
        _SECTIONS[key] = _translate(instrument, section_ids, locale, str(translations_dir))
    return _SECTIONS[key]


def _translate(
    instrument: Instrument, section_ids: tuple[str, ...], locale: str, translations_dir: str
) -> tuple[Section, ...]:
    t = _translations(translations_dir, locale)
    result = []
    for section in instrument.sections:
        if section.id not in section_ids:
            continue
        items = []
        for item in section.items:
            items.append(
                item.model_copy(
                    update={
                        "text": t.pgettext(f"item.{item.id}", item.text.strip()),
                        "options": tuple(
                            o.model_copy(
                                update={
                                    "label": t.pgettext(
                                        option_context(instrument, item, o), o.label
                                    )
                                }
                            )
                            for o in item.options
                        ),
                        "missing_options": tuple(
                            o.model_copy(
                                update={
                                    "label": t.pgettext(missing_context(instrument, o), o.label)
                                }
                            )
                            for o in item.missing_options
                        ),
                    }
                )
            )
        result.append(
            section.model_copy(
                update={
                    "title": t.pgettext(f"section.{section.id}.title", section.title),
                    "intro": t.pgettext(f"section.{section.id}.intro", section.intro.strip())
                    if section.intro
                    else None,
                    "items": tuple(items),
                }
            )
        )
    return tuple(result)


def translated_title(instrument: Instrument, locale: str, translations_dir: Path) -> str:
    """The instrument's title in ``locale``."""
    if locale == instrument.source_language:
        return instrument.title
    return _translations(str(translations_dir), locale).pgettext("title", instrument.title)


def translated_construct_labels(
    instrument: Instrument, locale: str, translations_dir: Path
) -> dict[str, str]:
    """The instrument's construct names by id, in ``locale`` (English where untranslated)."""
    if locale == instrument.source_language:
        return {c.id: c.label for c in instrument.constructs}
    t = _translations(str(translations_dir), locale)
    return {c.id: t.pgettext(f"construct.{c.id}.label", c.label) for c in instrument.constructs}


def missing_texts(
    instrument: Instrument, modules: list[str], locale: str, translations_dir: Path
) -> list[str]:
    """Contexts (e.g. ``item.ppltrst``) of texts a wave would show untranslated in ``locale``."""
    if locale == instrument.source_language:
        return []
    done = translated_keys(translations_dir, locale, DOMAIN)
    return [
        m.context
        for m in messages_for_modules(instrument, modules)
        if (m.context, m.text) not in done
    ]


def translation_problems(
    path: Path, instrument: Instrument, translations_dir: Path
) -> list[Problem]:
    """A problem per text that a language's catalog lacks, naming the item and the language.

    Every optional module counts; languages under review as the source are skipped.
    """
    all_modules = [m.id for m in instrument.modules if m.optional]
    messages = {m.context: m for m in instrument_messages(instrument)}
    problems = []
    for code, language in languages(translations_dir).items():
        if code == instrument.source_language or language.review == "source":
            continue
        for context in missing_texts(instrument, all_modules, code, translations_dir):
            problems.append(
                Problem(
                    str(path),
                    messages[context].item_id,
                    f"missing {code} translation key {context!r}",
                )
            )
    return problems
