"""Questionnaire definitions: versioned YAML instruments validated into frozen objects."""

from surveyapp.instruments.loader import (
    Instrument,
    InstrumentError,
    Problem,
    content_hash,
    load_instrument,
    validate_files,
)
from surveyapp.instruments.schema import Construct, Item, Module, Option, Section, Source

__all__ = [
    "Construct",
    "Instrument",
    "InstrumentError",
    "Item",
    "Module",
    "Option",
    "Problem",
    "Section",
    "Source",
    "content_hash",
    "load_instrument",
    "validate_files",
]
