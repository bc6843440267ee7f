"""The form on the staff page that makes an API token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import AnyOf, DataRequired, Length

from surveyapp.api.tokens import MAX_NAME_LENGTH

#: How long a new token is valid, in days: every token expires (at most after a year).
VALIDITY_CHOICES = [
    ("30", _l("30 days")),
    ("90", _l("90 days")),
    ("365", _l("1 year")),
]


class TokenForm(FlaskForm):
    """A name that says where the token is used, and how long it is valid."""

    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(message=_l("Give the token a name.")),
            Length(
                max=MAX_NAME_LENGTH,
                message=_l("The name may have at most %(max)d characters.", max=MAX_NAME_LENGTH),
            ),
        ],
    )
    # A plain field checked against the choices: the template draws the <select>, and
    # SelectField's choice tuples are deprecated in WTForms 3.3 (SelectChoice is 3.3+).
    days = StringField(
        _l("Valid for"),
        default="90",
        validators=[AnyOf([value for value, _label in VALIDITY_CHOICES])],
    )
    validity_choices = VALIDITY_CHOICES

    def validity_days(self) -> int:
        """The chosen validity in days."""
        return int(self.days.data or "90")
