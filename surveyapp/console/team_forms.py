"""Forms of the team pages and of the staff member's own account, in the page's language."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import AnyOf, DataRequired, EqualTo, Length, ValidationError

from surveyapp.auth.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, password_problem
from surveyapp.models import Role

#: The role names a form accepts.
ROLES = [role.value for role in Role]


def role_choices() -> list[tuple[str, str]]:
    """The roles with their translated names, for a select box."""
    return [
        (Role.ADMIN.value, _("admin")),
        (Role.COORDINATOR.value, _("coordinator")),
        (Role.ANALYST.value, _("analyst")),
    ]


def role_name(role: str) -> str:
    """A role's translated name."""
    return dict(role_choices()).get(role, role)


def new_password_problem(password: str, context: list[str]) -> str | None:
    """Why a new password is refused, in the page's language (NIST SP 800-63B rules)."""
    if password_problem(password, context=context) is None:
        return None
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("The password must have at least %(count)s characters.", count=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        return _("The password may have at most %(count)s characters.", count=MAX_PASSWORD_LENGTH)
    return _(
        "This password is too easy to guess: common passwords, words, names, dates and "
        "patterns are tried first. A few unrelated words make a good password."
    )


class NewPasswordForm(FlaskForm):
    """A new password, typed twice. ``context``: the account's address and name."""

    password = PasswordField(_l("New password"), validators=[DataRequired()])
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )

    def __init__(self, *args, context: list[str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.context = context or []

    def validate_password(self, field: PasswordField) -> None:
        """Refuse short, very long and easily guessed passwords."""
        problem = new_password_problem(field.data or "", self.context)
        if problem:
            raise ValidationError(problem)


class ChangePasswordForm(NewPasswordForm):
    """The current password, then the new one twice."""

    current = PasswordField(_l("Current password"), validators=[DataRequired()])


class JoinForm(NewPasswordForm):
    """An invited colleague's name and password."""

    display_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200)])


class InviteForm(FlaskForm):
    """An e-mail address and the role it gets in the city."""

    email = EmailField(
        _l("E-mail address"),
        validators=[DataRequired(), Length(max=254)],
    )
    role = StringField(_l("Role"), validators=[AnyOf(ROLES, message=_l("Choose a role."))])

    def validate_email(self, field: EmailField) -> None:
        """The same minimal check as for accounts made on the command line."""
        local, at, domain = (field.data or "").strip().partition("@")
        if not (local and at and domain) or " " in field.data.strip():
            raise ValidationError(_("Give an e-mail address."))


class RoleForm(FlaskForm):
    """A colleague's new role."""

    role = StringField(_l("Role"), validators=[AnyOf(ROLES, message=_l("Choose a role."))])
