"""All models, imported here so that ``Base.metadata`` is complete for Alembic."""

from surveyapp.models.account_link import AccountLink, LinkPurpose
from surveyapp.models.api_token import ApiToken
from surveyapp.models.area_link import AreaLink
from surveyapp.models.audit import AuditEvent
from surveyapp.models.city import Area, AreaMargin, City
from surveyapp.models.initiative import AreaRole, Initiative, InitiativeArea, PyramidLevel
from surveyapp.models.instrument import Instrument
from surveyapp.models.job import Job, JobStatus
from surveyapp.models.letter_batch import BatchStatus, LetterBatch
from surveyapp.models.letter_template import LetterTemplate
from surveyapp.models.paper_entry import PaperEntry
from surveyapp.models.pretest import PretestComment
from surveyapp.models.recovery_code import RecoveryCode
from surveyapp.models.response import (
    BURST_COMPLETIONS,
    COMPLETION_BURST,
    REPEAT_IN_SAME_BROWSER,
    WAVE_CLOSED_WHILE_DRAFT,
    Answer,
    AreaReply,
    AreaSource,
    Channel,
    PageSubmission,
    Response,
    ResponseStatus,
)
from surveyapp.models.scoring import ScoringModel
from surveyapp.models.user import Membership, Role, User
from surveyapp.models.wave import (
    Invitation,
    UsedInvitations,
    Wave,
    WaveArea,
    WaveMode,
    WaveStatus,
)

__all__ = [
    "BURST_COMPLETIONS",
    "COMPLETION_BURST",
    "REPEAT_IN_SAME_BROWSER",
    "WAVE_CLOSED_WHILE_DRAFT",
    "AccountLink",
    "Answer",
    "ApiToken",
    "Area",
    "AreaLink",
    "AreaMargin",
    "AreaReply",
    "AreaRole",
    "AreaSource",
    "AuditEvent",
    "BatchStatus",
    "Channel",
    "City",
    "Initiative",
    "InitiativeArea",
    "Instrument",
    "Invitation",
    "Job",
    "JobStatus",
    "LetterBatch",
    "LetterTemplate",
    "LinkPurpose",
    "Membership",
    "PageSubmission",
    "PaperEntry",
    "PretestComment",
    "PyramidLevel",
    "RecoveryCode",
    "Response",
    "ResponseStatus",
    "Role",
    "ScoringModel",
    "UsedInvitations",
    "User",
    "Wave",
    "WaveArea",
    "WaveMode",
    "WaveStatus",
]
