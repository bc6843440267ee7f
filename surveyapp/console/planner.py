"""What an initiative's design can show, and how many answers each area needs.

The console's side of :func:`analysis.plan_design`: the initiative page's "What this design
can show" and the fieldwork targets on the monitoring page. The spread of each index comes
from the initiative's earlier waves when a report of them is at hand and has enough
area-waves (:func:`analysis.variance_components`), else from the documented defaults
(:data:`analysis.planning.DEFAULT_SD`, :data:`analysis.planning.DEFAULT_ICC`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis.planning import DEFAULT_ICC, DEFAULT_SD, plan_design, responses_needed
from surveyapp import designs
from surveyapp.models import Initiative, Invitation, Response, ResponseStatus
from surveyapp.reports import fresh_report

#: Answers per area and wave assumed by the planner before any wave has answers.
PLANNED_ANSWERS = 80
#: Estimated components are used from this many degrees of freedom on (e.g. 5 areas over
#: 2 waves); fewer area-waves say too little about the area-by-wave variation.
MIN_COMPONENT_DF = 4
#: Floor under an estimated area-by-wave share: a few quiet waves must not promise changes
#: the next waves cannot show.
MIN_ICC = 0.01


@dataclass
class IndexPlan:
    """The plan for one index."""

    label: str
    sd: float
    icc: float
    estimated: bool
    mdc: float
    floor: float
    needed: int | None = None


@dataclass
class DesignPlan:
    """What the initiative page shows about its design."""

    treated: int
    comparison: int
    answers: int = PLANNED_ANSWERS
    observed: bool = False
    indices: list[IndexPlan] = field(default_factory=list)
    target: float | None = None
    response_rate: float | None = None

    @property
    def too_few(self) -> bool:
        return min(self.treated, self.comparison) < 2

    @property
    def estimated(self) -> bool:
        return any(plan.estimated for plan in self.indices)

    @property
    def needed(self) -> int | None:
        """Answers per area and wave for the target change on every planned index; None
        when some index cannot reach it with these areas."""
        if self.target is None or not self.indices:
            return None
        counts = [plan.needed for plan in self.indices]
        return None if None in counts else max(c for c in counts if c is not None)

    @property
    def letters(self) -> int | None:
        """Letters per area for :attr:`needed` at the latest wave's response rate."""
        if self.needed is None or not self.response_rate:
            return None
        return math.ceil(self.needed / self.response_rate)


def construct_labels(session: Session, locale: str | None = None) -> dict[str, str]:
    """The constructs of the latest loaded questionnaire, by id, with their labels (in
    ``locale`` when given, from the questionnaire's catalogs; English otherwise)."""
    from surveyapp.i18n import translations_dir
    from surveyapp.i18n.instrument import translated_construct_labels
    from surveyapp.instruments import Instrument
    from surveyapp.models import Instrument as InstrumentRow

    row = session.scalar(select(InstrumentRow).order_by(InstrumentRow.loaded_at.desc()))
    if row is None:
        return {}
    instrument = Instrument.from_definition(row.definition)
    if locale:
        return translated_construct_labels(instrument, locale, translations_dir())
    return {c.id: c.label for c in instrument.constructs}


def components(report: Any | None, constructs: list[str]) -> dict[str, dict[str, Any]]:
    """Estimated sd and icc per construct from a report's ``indices``, where usable."""
    indices = (getattr(report, "content", None) or {}).get("indices") or {}
    found = {}
    for cid, entry in indices.items():
        variance = entry.get("variance") if isinstance(entry, dict) else None
        if constructs and cid not in constructs:
            continue
        if variance and variance.get("df", 0) >= MIN_COMPONENT_DF:
            found[cid] = {**variance, "label": entry.get("label", cid)}
    return found


def design_plan(
    session: Session,
    initiative: Initiative,
    summaries: list,
    labels: dict[str, str],
    *,
    comparison: int | None = None,
) -> DesignPlan:
    """The plan of ``initiative``: per index its MDC with the answers per area of its latest
    wave with answers (or :data:`PLANNED_ANSWERS`), and, for its ``target_change``, the
    answers and letters each area needs. ``labels`` names the constructs to plan for;
    ``comparison`` is the number of comparison areas, chosen or by default
    (:func:`surveyapp.designs.comparison_areas`; counted here when not given)."""
    if comparison is None:
        comparison = len(designs.comparison_areas(session, initiative))
    plan = DesignPlan(
        len(initiative.areas_with_role("treated")), comparison, target=initiative.target_change
    )
    if plan.too_few:
        return plan
    answered = [s.completed for s in summaries if s.completed]
    if answered:
        plan.answers = max(1, round(answered[-1] / (plan.treated + plan.comparison)))
        plan.observed = True
    plan.response_rate = _response_rate(session, [s.wave for s in summaries])
    wanted = list(initiative.target_constructs or []) or list(labels)
    estimates = components(fresh_report(session, initiative), wanted)
    for cid in wanted or [""]:  # no questionnaire loaded yet: the defaults alone
        estimate = estimates.get(cid)
        sd = estimate["sd"] if estimate else DEFAULT_SD
        icc = max(MIN_ICC, estimate["icc"]) if estimate else DEFAULT_ICC
        result = plan_design(plan.treated, plan.comparison, plan.answers, sd=sd, icc=icc)
        needed = None
        if plan.target is not None:
            needed = responses_needed(plan.treated, plan.comparison, plan.target, sd=sd, icc=icc)
        plan.indices.append(
            IndexPlan(labels.get(cid, cid), sd, icc, estimate is not None,
                      result["mdc"], result["mdc_unlimited"], needed)
        )  # fmt: skip
    return plan


def _response_rate(session: Session, waves: list) -> float | None:
    """Completed answers per letter in the latest wave that sent letters."""
    for wave in reversed(waves):
        letters = session.scalar(select(func.count()).where(Invitation.wave_id == wave.id))
        if letters:
            done = session.scalar(
                select(func.count()).where(
                    Response.wave_id == wave.id,
                    Response.status == ResponseStatus.COMPLETE,
                    Response.channel == "invitation",
                )
            )
            return done / letters if done else None
    return None


def initiative_plan(
    session: Session, initiative: Initiative, labels: dict[str, str] | None = None
) -> DesignPlan:
    """:func:`design_plan` with the answers of the initiative's own waves and, from the
    city-wide rounds that evaluate it, of its design's areas, in the order made."""
    from surveyapp.console.queries import wave_summaries

    used = [
        *wave_summaries(session, initiative.waves),
        *designs.initiative_rounds(session, initiative),
    ]
    used.sort(key=lambda summary: summary.wave.id)
    return design_plan(
        session, initiative, used, construct_labels(session) if labels is None else labels
    )


@dataclass
class AreaTargets:
    """Answers needed per area for the initiatives a wave serves (fieldwork targets)."""

    needed: dict[int, int] = field(default_factory=dict)
    #: Initiatives whose target change no number of answers can show with their areas.
    unreachable: list[str] = field(default_factory=list)
    #: Initiatives the wave serves that name no target change.
    without_target: list[str] = field(default_factory=list)


def area_targets(
    session: Session, initiatives: list[Initiative], labels: dict[str, str]
) -> AreaTargets:
    """What each area of the initiatives' designs needs: the largest need of any initiative
    using the area (one round can serve several initiatives)."""
    targets = AreaTargets()
    for initiative in initiatives:
        if initiative.target_change is None:
            targets.without_target.append(initiative.name)
            continue
        plan = initiative_plan(session, initiative, labels)
        if plan.too_few or plan.needed is None:
            targets.unreachable.append(initiative.name)
            continue
        for area_id in designs.area_groups(session, initiative):
            targets.needed[area_id] = max(targets.needed.get(area_id, 0), plan.needed)
    return targets
