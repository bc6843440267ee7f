"""The form of a city's letter template: every message names its field, in the page's language."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import Length, ValidationError

from surveyapp.console import letter_templates as templates
from surveyapp.console.blueprint import language_name
from surveyapp.models import City, LetterTemplate

#: Length of each one-line field (sender, signature name and role).
LINE_TOO_LONG = _l("write at most %(max)d characters.", max=templates.MAX_LINE)


def _strip(value: str | None) -> str:
    return value.strip() if isinstance(value, str) else ""


def _line(label: object) -> StringField:
    return StringField(
        label,
        filters=[_strip],
        validators=[Length(max=templates.MAX_LINE, message=LINE_TOO_LONG)],
    )


class LetterTemplateForm(FlaskForm):
    """Sender, logo, signature; :func:`letter_template_form` adds a paragraph per language."""

    sender_name = _line(_l("Sender (name or department)"))
    sender_address = TextAreaField(_l("Sender's address (one line each)"), filters=[_strip])
    logo = FileField(_l("Logo (PNG or JPEG, at most 256 KB)"))
    remove_logo = BooleanField(_l("Remove the logo"))
    signature_name = _line(_l("Signed by (name)"))
    signature_role = _line(_l("Role of the signatory"))

    def __init__(self, city: City, **kwargs) -> None:
        super().__init__(**kwargs)
        self.city = city
        self.logo_file: tuple[bytes, str] | None = None

    def paragraph_fields(self) -> list[tuple[str, StringField]]:
        """(language, field) of the city's paragraph per language, in the city's order."""
        return [(code, self[f"paragraph_{code}"]) for code in self.city.languages]

    def validate_sender_address(self, field: TextAreaField) -> None:
        lines = templates.address_lines(field.data)
        if len(lines) > templates.MAX_ADDRESS_LINES:
            raise ValidationError(
                _l("write at most %(max)d lines.", max=templates.MAX_ADDRESS_LINES)
            )
        if any(len(line) > templates.MAX_LINE for line in lines):
            raise ValidationError(
                _l("write at most %(max)d characters per line.", max=templates.MAX_LINE)
            )

    def validate_logo(self, field: FileField) -> None:
        upload = field.data
        if upload is None or not getattr(upload, "filename", ""):
            return
        data = upload.read(templates.MAX_LOGO_BYTES + 1)
        if not data:
            raise ValidationError(_l("the file is empty."))
        if len(data) > templates.MAX_LOGO_BYTES:
            raise ValidationError(
                _l("the file is larger than %(size)s KB.", size=templates.MAX_LOGO_BYTES >> 10)
            )
        media_type = templates.logo_type(data)
        if media_type is None:
            raise ValidationError(_l("the file is not a PNG or JPEG image."))
        self.logo_file = (data, media_type)

    def values(self) -> dict:
        """The checked values, as :func:`letter_templates.save_template` takes them."""
        return {
            "sender_name": self.sender_name.data,
            "sender_address": self.sender_address.data,
            "signature_name": self.signature_name.data,
            "signature_role": self.signature_role.data,
            "paragraphs": {code: field.data for code, field in self.paragraph_fields()},
            "logo": self.logo_file,
            "remove_logo": bool(self.remove_logo.data) and self.logo_file is None,
        }


def letter_template_form(
    city: City, stored: LetterTemplate | None = None, **kwargs
) -> LetterTemplateForm:
    """The form for ``city``: a paragraph field per language of the city, filled in from
    ``stored`` on a first view (a posted form shows what was posted)."""

    class CityForm(LetterTemplateForm):
        pass

    too_long = _l("write at most %(max)d characters.", max=templates.MAX_PARAGRAPH)
    for code in city.languages:
        field = TextAreaField(
            # I18N: the label of the city's own paragraph of its letters in one language.
            _("Your paragraph: %(language)s", language=language_name(code)),
            filters=[_strip],
            validators=[Length(max=templates.MAX_PARAGRAPH, message=too_long)],
        )
        setattr(CityForm, f"paragraph_{code}", field)
    if stored is not None:
        kwargs |= {
            "sender_name": stored.sender_name,
            "sender_address": stored.sender_address,
            "signature_name": stored.signature_name,
            "signature_role": stored.signature_role,
        }
        kwargs |= {f"paragraph_{code}": text for code, text in (stored.paragraphs or {}).items()}
    return CityForm(city, **kwargs)
