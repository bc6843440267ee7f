"""The console's forms: they check what staff typed, in the staff member's language.

Every message is lazily translated (``_l``), so a French coordinator reads French errors.
Rules that need the database (a code in use, another city's area, a questionnaire's
translations) are checked here through the services' public functions, so the services
receive checked values and only change state.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time
from pathlib import Path

from flask import request
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy.orm import Session, object_session
from wtforms import BooleanField, Field, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional, ValidationError

from surveyapp import designs
from surveyapp.console import areas, initiatives, waves
from surveyapp.console.invitations import MAX_CODES
from surveyapp.console.margin_codes import MarginCodes
from surveyapp.console.margins import MarginProblem, MarginRow, parse_margins
from surveyapp.instruments import Instrument
from surveyapp.models import Area, City, PyramidLevel, Wave, WaveMode, WaveStatus
from surveyapp.models import Instrument as InstrumentRow

#: What is wrong with a field whose text cannot be read (after the field's label).
NOT_VALID = _l("enter a valid value.")


def error_messages(form: FlaskForm) -> list[str]:
    """Every error of ``form`` as text in the page's language, fields in form order, each
    led by its field's label so the message says which field is wrong."""
    messages = []
    for name, errors in form.errors.items():
        label = form[name].label.text if name and name in form else None
        messages.extend(field_error(label, error) for error in errors)
    return list(dict.fromkeys(messages))


def field_error(label: str | None, problem: object) -> str:
    """``problem`` led by the label of the field it is about (as is, without a field)."""
    if not label:
        return str(problem)
    # I18N: a form field's label and what is wrong with what was typed there.
    return str(_l("%(field)s: %(problem)s", field=label, problem=problem))


# --- Fields ---------------------------------------------------------------------------------


class ListField(Field):
    """Every value sent under the field's name (checkboxes), as strings."""

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = [value for value in valuelist if value]

    def _value(self) -> str:
        return ""


class IdListField(ListField):
    """Every value sent under the field's name, as whole numbers (ids of checked boxes)."""

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            self.data = [int(value) for value in valuelist if value]
        except ValueError:
            self.data = []
            raise ValueError(NOT_VALID) from None


class DayField(Field):
    """A calendar day as an ISO date (what ``<input type="date">`` sends), or None."""

    def process_formdata(self, valuelist: list[str]) -> None:
        raw = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if raw:
            try:
                self.data = date.fromisoformat(raw)
            except ValueError:
                raise ValueError(NOT_VALID) from None

    def _value(self) -> str:
        return self.data.isoformat() if self.data else ""


class PointsField(Field):
    """Index points (0-100), optional; a decimal comma is read as a point ("2,5" is 2.5)."""

    def process_formdata(self, valuelist: list[str]) -> None:
        raw = (valuelist[0] if valuelist else "").strip().replace(",", ".")
        self.data = None
        if raw:
            try:
                self.data = float(raw)
            except ValueError:
                raise ValueError(initiatives.TARGET_CHANGE_RANGE) from None
            if not 0 < self.data <= 100:
                raise ValueError(initiatives.TARGET_CHANGE_RANGE)

    def _value(self) -> str:
        return "" if self.data is None else f"{self.data:g}"


def _start_of(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=UTC) if day else None


def _end_of(day: date | None) -> datetime | None:
    return datetime.combine(day, time.max, tzinfo=UTC) if day else None


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


# --- Areas ----------------------------------------------------------------------------------


class AreaForm(FlaskForm):
    """An area's code (unique in its city, without regard to case) and name."""

    code = StringField(
        _l("Code"),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Enter the area's code.")),
            Length(
                max=areas.MAX_CODE,
                message=_l("The code may have at most %(max)d characters.", max=areas.MAX_CODE),
            ),
        ],
    )
    name = StringField(
        _l("Name"),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Enter the area's name.")),
            Length(
                max=areas.MAX_NAME,
                message=_l("The name may have at most %(max)d characters.", max=areas.MAX_NAME),
            ),
        ],
    )

    def __init__(self, session: Session, city: City, area: Area | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.session, self.city, self.area = session, city, area

    def validate_code(self, field: StringField) -> None:
        if areas.code_taken(self.session, self.city, field.data or "", self.area):
            raise ValidationError(areas.code_taken_message(field.data or ""))


class MarginsForm(FlaskForm):
    """A CSV file of population counts by age band and gender; every bad line is reported."""

    file = FileField(_l("CSV file with the columns age_band, gender, population"))

    def __init__(self, codes: MarginCodes | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.codes = codes
        self.rows: list[MarginRow] = []
        self.problems: list[MarginProblem] = []

    def validate_file(self, field: FileField) -> None:
        data = field.data.read() if field.data else b""
        self.rows, self.problems = parse_margins(data, self.codes)
        if self.problems:
            raise ValidationError(_l("The file was not saved. Please correct these lines:"))


# --- Initiatives ----------------------------------------------------------------------------


class InitiativeForm(FlaskForm):
    """An initiative: name, description, start, pyramid level, constructs, areas."""

    name = StringField(
        _l("Name"),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Give the initiative a name.")),
            Length(
                max=initiatives.MAX_NAME,
                message=_l(
                    "The name may have at most %(max)d characters.", max=initiatives.MAX_NAME
                ),
            ),
        ],
    )
    description = TextAreaField(_l("Description"), filters=[_strip], default="")
    start_date = DayField(_l("Start date"))
    target_change = PointsField(
        _l("Smallest change the evaluation should be able to show (points, optional)")
    )
    pyramid_level = StringField(
        _l("Level of the prevention pyramid"),
        validators=[
            AnyOf(
                [str(level.value) for level in PyramidLevel],
                message=_l("Choose a level of the prevention pyramid (0 to 4)."),
            )
        ],
    )
    constructs = ListField(_l("What should the initiative change? (theory of change)"))
    treated = IdListField(_l("Areas where the initiative takes place (treated)"))
    comparison = IdListField(_l("Comparison areas (similar, without the initiative)"))

    def __init__(self, session: Session, city: City, **kwargs) -> None:
        super().__init__(**kwargs)
        self.session, self.city = session, city

    def validate_treated(self, field: IdListField) -> None:
        if not field.data and not field.errors:
            raise ValidationError(_l("Choose at least one area where the initiative takes place."))

    def validate_comparison(self, field: IdListField) -> None:
        treated, comparison = set(self.treated.data or []), set(field.data or [])
        if treated & comparison:
            raise ValidationError(_l("An area cannot be both treated and a comparison area."))
        chosen = treated | comparison
        if chosen - set(initiatives.city_areas(self.session, self.city, chosen)):
            raise ValidationError(initiatives.FOREIGN_AREAS)

    def design_values(self) -> dict:
        """The checked design fields, as :func:`initiatives.change_design` takes them."""
        return {
            "pyramid_level": int(self.pyramid_level.data),
            "treated": self.treated.data or [],
            "comparison": self.comparison.data or [],
            "start_date": self.start_date.data,
        }

    def values(self) -> dict:
        """The checked values, as :func:`initiatives.save_initiative` takes them."""
        return self.design_values() | {
            "name": self.name.data,
            "description": self.description.data or "",
            "target_constructs": self.constructs.data or [],
            "target_change": self.target_change.data,
        }


class DesignForm(InitiativeForm):
    """The design of an initiative alone: treated and comparison areas, start, level."""

    # WTForms leaves out a field set to None: these are the ordinary edit's.
    name = None
    description = None
    target_change = None
    constructs = None


class DesignConfirmForm(DesignForm):
    """A design change as confirmed: the new values, the tick and the stated reason."""

    confirm = BooleanField(
        _l("I have read what changes in the results and want to change the design."),
        validators=[
            DataRequired(message=_l("Tick the box to confirm that the design should change."))
        ],
    )
    reason = TextAreaField(
        _l("Why does the design change?"),
        filters=[_strip],
        validators=[
            DataRequired(message=initiatives.REASON_NEEDED),
            Length(
                max=initiatives.MAX_REASON,
                message=_l(
                    "The reason may have at most %(max)d characters.",
                    max=initiatives.MAX_REASON,
                ),
            ),
        ],
    )


# --- Waves ----------------------------------------------------------------------------------


class WaveForm(FlaskForm):
    """A new wave: questionnaire version, modules, languages, mode, dates, retention, panel."""

    instrument = StringField(_l("Questionnaire"))
    name = StringField(
        _l("Name (e.g. Baseline, Follow-up 2027)"),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Give the wave a name.")),
            Length(
                max=waves.MAX_NAME,
                message=_l("The name may have at most %(max)d characters.", max=waves.MAX_NAME),
            ),
        ],
    )
    modules = ListField(_l("Optional modules"))
    languages = ListField(_l("Languages"))
    mode = StringField(
        _l("How residents are reached"),
        validators=[
            AnyOf(
                [mode.value for mode in WaveMode],
                message=_l("Choose how residents are reached: invitation, open link or both."),
            )
        ],
    )
    opens_at = DayField(_l("Opens on"), validators=[Optional()])
    closes_at = DayField(_l("Closes after"), validators=[Optional()])
    retention_days = StringField(
        _l("Delete unfinished questionnaires and unused codes after (days)"), filters=[_strip]
    )
    is_panel = BooleanField(_l("Panel: the same residents are invited again in later waves"))

    def __init__(self, rows: Sequence[InstrumentRow], translations: Path, **kwargs) -> None:
        super().__init__(**kwargs)
        self.rows, self.translations = rows, translations

    def instrument_row(self) -> InstrumentRow | None:
        """The chosen questionnaire version among the loaded ones."""
        return next((row for row in self.rows if str(row.id) == self.instrument.data), None)

    def validate_instrument(self, field: StringField) -> None:
        if self.instrument_row() is None:
            raise ValidationError(_l("Choose a questionnaire version."))

    def validate_languages(self, field: ListField) -> None:
        row = self.instrument_row()
        if row is None:
            return
        instrument = Instrument.from_definition(row.definition)
        problem = waves.contents_problem(
            instrument, self.modules.data or [], field.data or [], self.translations
        )
        if problem:
            raise ValidationError(problem)

    def validate_closes_at(self, field: DayField) -> None:
        if self.opens_at.data and field.data and field.data < self.opens_at.data:
            raise ValidationError(_l("The closing date must be after the opening date."))

    def validate_retention_days(self, field: StringField) -> None:
        try:
            days = int(field.data or "0")
        except ValueError:
            raise ValidationError(NOT_VALID) from None
        if not waves.MIN_RETENTION_DAYS <= days <= waves.MAX_RETENTION_DAYS:
            raise ValidationError(
                _l(
                    "The retention period must be between %(min)s and %(max)s days.",
                    min=waves.MIN_RETENTION_DAYS,
                    max=waves.MAX_RETENTION_DAYS,
                )
            )

    def values(self) -> dict:
        """The checked values, as :func:`waves.create_wave` takes them."""
        return {
            "instrument_row": self.instrument_row(),
            "name": self.name.data,
            "modules": self.modules.data or [],
            "languages": self.languages.data or [],
            "mode": self.mode.data,
            "opens_at": _start_of(self.opens_at.data),
            "closes_at": _end_of(self.closes_at.data),
            "is_panel": bool(self.is_panel.data),
            "retention_days": int(self.retention_days.data),
        }


# --- Invitations ----------------------------------------------------------------------------


class InvitationsForm(FlaskForm):
    """How many letters per area (fields ``area-<id>``) and their language."""

    language = StringField(_l("Language of the letters"))
    second_language = StringField(_l("Second language on the same page (optional)"))

    def __init__(self, wave: Wave, limit: int = MAX_CODES, **kwargs) -> None:
        super().__init__(**kwargs)
        self.wave, self.limit = wave, limit
        self.counts: dict[int, int] = {}

    def validate_language(self, field: StringField) -> None:
        if field.data not in (self.wave.languages or []):
            raise ValidationError(_l("Choose a language of the wave."))

    def validate_second_language(self, field: StringField) -> None:
        if field.data and field.data not in (self.wave.languages or []):
            raise ValidationError(_l("Choose a language of the wave."))

    def validate(self, extra_validators=None) -> bool:
        """The fields, then the counts per area against the wave and its areas."""
        valid = super().validate(extra_validators)
        problem = self._counts_problem(request.form.items())
        if problem:
            self.form_errors.append(problem)
            return False
        return valid

    def _counts_problem(self, items: Iterable[tuple[str, str]]) -> str | None:
        own = {area.id: area for area in designs.wave_areas(object_session(self.wave), self.wave)}
        typed = {
            key.removeprefix("area-"): value.strip()
            for key, value in items
            if key.startswith("area-") and value.strip()
        }
        if any(not key.isdigit() or int(key) not in own for key in typed):
            if self.wave.initiative is None:
                return _l("Codes can only be made for the areas this city-wide round covers.")
            return _l("Codes can only be made for the initiative's own areas.")
        for key, value in typed.items():
            if not value.isdigit() or int(value) > self.limit:
                # I18N: the field "Letters for <area>" of the invitation letters form.
                return _l(
                    "Letters for %(area)s: enter a whole number from 0 to %(limit)s.",
                    area=own[int(key)].name,
                    limit=format_decimal(self.limit),
                )
        self.counts = {int(key): int(value) for key, value in typed.items()}
        if self.wave.mode == WaveMode.OPEN_LINK:
            return _l("This wave uses an open link only; change its mode to send letters.")
        if self.wave.status in (WaveStatus.CLOSED, WaveStatus.ARCHIVED):
            return _l("The wave is closed; codes for it would not work.")
        if not any(self.counts.values()):
            return _l("Enter how many codes to make for at least one area.")
        if sum(self.counts.values()) > self.limit:
            return _l(
                "At most %(limit)s letters at a time here; make several batches, or use "
                "`surveyapp invitations generate` for large mailings.",
                limit=format_decimal(self.limit),
            )
        return None
