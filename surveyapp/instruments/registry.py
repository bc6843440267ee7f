"""Published instrument versions in the database, and the validated definition each wave uses."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.instruments.loader import Instrument
from surveyapp.instruments.schema import Section
from surveyapp.models import Instrument as InstrumentRow
from surveyapp.models import Wave


class InstrumentChangedError(Exception):
    """A file changed the content of an instrument version that is already published."""


def instrument_files(directory: Path) -> list[Path]:
    """Every instrument file under ``directory`` (``<id>/<version>.yaml``), sorted."""
    return sorted(p for p in directory.glob("*/*.yaml") if p.is_file())


def version_file(directory: Path, instrument_id: str, version: str) -> Path:
    """Where the file of ``instrument_id`` ``version`` lives under ``directory``."""
    return directory / instrument_id / f"{version}.yaml"


def published_version(session: Session, key: str, version: str) -> InstrumentRow | None:
    """The published row of instrument ``key`` at ``version``, if it has been loaded."""
    return session.scalar(
        select(InstrumentRow).where(InstrumentRow.key == key, InstrumentRow.version == version)
    )


def newest_published(session: Session, key: str) -> InstrumentRow | None:
    """The most recently loaded version of instrument ``key``, if any."""
    return session.scalar(
        select(InstrumentRow)
        .where(InstrumentRow.key == key)
        .order_by(InstrumentRow.loaded_at.desc())
    )


def publish(
    session: Session, instrument: Instrument, *, file: str = ""
) -> tuple[InstrumentRow, bool]:
    """Store an instrument version; return the row and whether it was new (not committed).

    Loading the same content again is a no-op. Different content under an id and version
    that already exist raises :class:`InstrumentChangedError`: published versions are
    immutable, a change needs a new version number.
    """
    row = session.scalar(
        select(InstrumentRow).where(
            InstrumentRow.key == instrument.id, InstrumentRow.version == instrument.version
        )
    )
    if row is not None:
        if row.content_hash != instrument.content_hash:
            raise InstrumentChangedError(
                f"{file or instrument.id}: {instrument.id} {instrument.version} is already "
                f"published with content hash {row.content_hash[:12]}, but this file hashes to "
                f"{instrument.content_hash[:12]}. Published versions cannot change; give the "
                "changed instrument a new version number."
            )
        return row, False
    if instrument.carries_over is not None:
        _check_carry_over(session, instrument, file)
    row = InstrumentRow(
        key=instrument.id,
        version=instrument.version,
        title=instrument.title,
        source_language=instrument.source_language,
        content_hash=instrument.content_hash,
        definition=instrument.definition,
    )
    session.add(row)
    session.flush()
    return row, True


def _check_carry_over(session: Session, instrument: Instrument, file: str) -> None:
    from surveyapp.instruments.loader import carried_over_differences

    previous = instrument.carries_over.from_version
    row = session.scalar(
        select(InstrumentRow).where(
            InstrumentRow.key == instrument.id, InstrumentRow.version == previous
        )
    )
    if row is None:
        raise InstrumentChangedError(
            f"{file or instrument.id}: declares items carried over from {instrument.id} "
            f"{previous}, which is not published; load that version first."
        )
    differences = carried_over_differences(instrument, Instrument.from_definition(row.definition))
    if differences:
        listed = "; ".join(f"{item_id} {message}" for item_id, message in differences)
        raise InstrumentChangedError(
            f"{file or instrument.id}: items declared unchanged from {previous} changed: {listed}"
        )


# Validated definitions of the instruments waves use, by content hash: a definition is
# immutable once published, so each is read and validated once per process.
_LOADED: dict[str, Instrument] = {}


def is_loaded(content_hash: str | None) -> bool:
    """Whether this process has already validated the instrument with this content hash."""
    return content_hash in _LOADED


def wave_instrument(wave: Wave) -> Instrument:
    """The validated instrument definition the wave uses (cached per content hash).

    ``wave`` may be a :class:`~surveyapp.models.Wave` or anything with its
    ``frozen_instrument_hash`` whose instrument is already loaded (a page save's wave state).
    """
    # An opened wave names its frozen version: no need to load the stored definition.
    if wave.frozen_instrument_hash in _LOADED:
        return _LOADED[wave.frozen_instrument_hash]
    row = wave.instrument
    instrument = _LOADED.get(row.content_hash)
    if instrument is None:
        instrument = Instrument.from_definition(row.definition)
        _LOADED[row.content_hash] = instrument
    return instrument


def wave_sections(wave: Wave) -> tuple[Section, ...]:
    """The sections residents answer in this wave: core plus the wave's modules."""
    return wave_instrument(wave).sections_for(wave.modules or [])
