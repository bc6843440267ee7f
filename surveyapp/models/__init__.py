"""All models, imported here so that ``Base.metadata`` is complete for Alembic."""

from surveyapp.models.account_link import AccountLink, LinkPurpose
from surveyapp.models.api_token import ApiToken
from surveyapp.models.audit import AuditEvent
from surveyapp.models.city import Area, AreaMargin, City
from surveyapp.models.initiative import AreaRole, Initiative, InitiativeArea, PyramidLevel
from surveyapp.models.instrument import Instrument
from surveyapp.models.paper_entry import PaperEntry
from surveyapp.models.recovery_code import RecoveryCode
from surveyapp.models.response import (
    REPEAT_IN_SAME_BROWSER,
    WAVE_CLOSED_WHILE_DRAFT,
    Answer,
    Channel,
    PageSubmission,
    Response,
    ResponseStatus,
)
from surveyapp.models.scoring import ScoringModel
from surveyapp.models.user import Membership, Role, User
from surveyapp.models.wave import Invitation, UsedInvitations, Wave, WaveMode, WaveStatus

__all__ = [
    "REPEAT_IN_SAME_BROWSER",
    "WAVE_CLOSED_WHILE_DRAFT",
    "AccountLink",
    "Answer",
    "ApiToken",
    "Area",
    "AreaMargin",
    "AreaRole",
    "AuditEvent",
    "Channel",
    "City",
    "Initiative",
    "InitiativeArea",
    "Instrument",
    "Invitation",
    "LinkPurpose",
    "Membership",
    "PageSubmission",
    "PaperEntry",
    "PyramidLevel",
    "RecoveryCode",
    "Response",
    "ResponseStatus",
    "Role",
    "ScoringModel",
    "UsedInvitations",
    "User",
    "Wave",
    "WaveMode",
    "WaveStatus",
]
