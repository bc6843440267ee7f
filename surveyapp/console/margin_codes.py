"""What a margins file may say for an age band or a gender: the questionnaire's codes or
its option labels in any language of the city's waves.

Weighting (:func:`surveyapp.reports.add_area_weights`) matches an area's margins to the
``age_band`` and ``gender`` answer codes, so margins are stored as those codes; a label such
as ``16-24`` or ``femme`` is turned into its code when the file is read, and anything else
is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.i18n import translations_dir
from surveyapp.i18n.instrument import translated_sections
from surveyapp.instruments import Instrument, load_instrument
from surveyapp.instruments.registry import instrument_files
from surveyapp.models import Area, Initiative, Wave
from surveyapp.models import Instrument as InstrumentRow

#: The items weighting uses, in the order of the file's columns.
WEIGHTING_ITEMS = ("age_band", "gender")


@dataclass
class MarginCodes:
    """Accepted spellings (case-folded) -> code, for each weighting item."""

    accepted: dict[str, dict[str, str]] = field(
        default_factory=lambda: {item: {} for item in WEIGHTING_ITEMS}
    )
    #: "1 (16-24)" style listing of each item's codes, for error messages.
    listing: dict[str, list[str]] = field(
        default_factory=lambda: {item: [] for item in WEIGHTING_ITEMS}
    )

    def code(self, item: str, value: str) -> str | None:
        """The code ``value`` stands for, or None when it is no option of ``item``."""
        return self.accepted[item].get(value.strip().casefold())

    @property
    def usable(self) -> bool:
        """Whether the questionnaires ask both items at all."""
        return all(self.accepted[item] for item in WEIGHTING_ITEMS)

    def add(self, instrument: Instrument, languages: list[str]) -> None:
        """Accept ``instrument``'s codes and its labels in each of ``languages``."""
        sections = instrument.sections
        versions = [sections] + [
            translated_sections(instrument, sections, language, translations_dir())
            for language in languages
            if language != instrument.source_language
        ]
        for version in versions:
            for section in version:
                for item in section.items:
                    if item.id not in WEIGHTING_ITEMS:
                        continue
                    for option in item.options:
                        code = str(option.code)
                        accepted = self.accepted[item.id]
                        if code not in accepted:
                            self.listing[item.id].append(f"{code} ({option.label})")
                        accepted.setdefault(code, code)
                        accepted.setdefault(option.label.strip().casefold(), code)


def margin_codes(session: Session, area: Area) -> MarginCodes:
    """The codes and labels accepted for ``area``: from the questionnaires of its city's
    waves in their languages, or every published questionnaire when the city has no wave."""
    rows = session.execute(
        select(InstrumentRow, Wave.languages)
        .join(Wave, Wave.instrument_id == InstrumentRow.id)
        .join(Initiative, Initiative.id == Wave.initiative_id)
        .where(Initiative.city_id == area.city_id)
    ).all()
    if not rows:
        rows = [(row, []) for row in session.scalars(select(InstrumentRow))]
    instruments = [(Instrument.from_definition(row.definition), langs) for row, langs in rows]
    if not instruments:
        # Nothing published yet: the questionnaires this installation ships.
        directory = Path(current_app.config["INSTRUMENTS_DIR"])
        instruments = [(load_instrument(path), []) for path in instrument_files(directory)]
    city_languages = list(area.city.languages or [])
    codes = MarginCodes()
    for instrument, languages in instruments:
        codes.add(instrument, list(dict.fromkeys([*(languages or []), *city_languages])))
    return codes


def margin_labels(session: Session, locale: str) -> dict[str, dict[str, str]]:
    """Each weighting item's codes with their option labels in ``locale`` (the source
    language's where untranslated), so the area page shows "Woman" rather than "2"."""
    labels: dict[str, dict[str, str]] = {item: {} for item in WEIGHTING_ITEMS}
    for row in session.scalars(select(InstrumentRow).order_by(InstrumentRow.id.desc())):
        instrument = Instrument.from_definition(row.definition)
        sections = instrument.sections
        if locale != instrument.source_language:
            sections = translated_sections(instrument, sections, locale, translations_dir())
        for section in sections:
            for item in section.items:
                if item.id in WEIGHTING_ITEMS:
                    for option in item.options:
                        labels[item.id].setdefault(str(option.code), option.label)
    return labels
