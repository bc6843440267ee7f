"""What the initiative and city dashboards show, read from the validation reports.

Both dashboards only read the cached validation report of each initiative
(:func:`surveyapp.reports.cached_initiative_report`), so they show exactly the report's
numbers. Nothing here ranks initiatives: lists keep the pyramid's and the alphabet's
order. Texts for people are added by the views (:mod:`surveyapp.console.dashboards`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from analysis.disclosure import suppress_counts
from surveyapp import designs
from surveyapp.models import Initiative, PyramidLevel, Response, ResponseStatus, User, Wave

#: The two groups of areas of an initiative's design, in the order they are shown.
ARMS = ("treated", "comparison")


# --- Estimates ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """A mean or a change with its 95% interval, or the reason it is withheld.

    ``withheld_kind`` is ``"small"`` (fewer than 30 responses), ``"areas"`` (fewer than two
    areas in a group, no interval possible) or ``"other"`` (``withheld`` says why).
    """

    value: float | None
    lower: float | None
    upper: float | None
    withheld: str | None = None

    @property
    def shown(self) -> bool:
        """True when the estimate and its interval may be shown."""
        return self.withheld is None and None not in (self.value, self.lower, self.upper)

    @property
    def withheld_kind(self) -> str | None:
        if self.shown:
            return None
        reason = self.withheld or ""
        if reason.startswith("n = "):
            return "small"
        if "2 areas" in reason:
            return "areas"
        return "other"

    @property
    def reading(self) -> str:
        """``"up"`` or ``"down"`` when the interval excludes 0, ``"unclear"`` when it
        includes 0, ``"withheld"`` when there is nothing to read."""
        if not self.shown:
            return "withheld"
        if self.lower > 0:
            return "up"
        if self.upper < 0:
            return "down"
        return "unclear"

    @classmethod
    def from_entry(cls, entry: dict[str, Any], key: str) -> Estimate:
        """From a report entry with ``key``, ``ci_lower``, ``ci_upper`` and ``withheld``."""
        reason = entry.get("withheld")
        if reason is None and entry.get(key) is None:
            reason = "no estimate"
        return cls(
            None if reason else entry.get(key),
            None if reason else entry.get("ci_lower"),
            None if reason else entry.get("ci_upper"),
            reason,
        )


@dataclass(frozen=True)
class MeanRow:
    """One index mean of a group of areas at one wave."""

    arm: str
    wave: str
    n: int | str
    estimate: Estimate


@dataclass(frozen=True)
class ChangeRow:
    """A change between two waves: of one group of areas, or the difference between them."""

    arm: str
    before: str
    after: str
    estimate: Estimate


@dataclass(frozen=True)
class Badge:
    """A validation verdict (good, acceptable, poor, n/a) and where the report explains it."""

    topic: str
    verdict: str
    anchor: str
    metric: str | None = None
    value: float | None = None


# --- Initiative dashboard -------------------------------------------------------------------


@dataclass
class IndexPanel:
    """Everything the initiative dashboard shows about one index."""

    construct: str
    label: str
    target: bool
    waves: list[str]
    means: list[MeanRow]
    changes: list[ChangeRow]
    did: list[ChangeRow]
    reliability: Badge

    def series(self, arm: str) -> list[tuple[float, float, float] | None]:
        """(mean, lower, upper) per wave for a chart; None where withheld."""
        by_wave = {row.wave: row.estimate for row in self.means if row.arm == arm}
        points: list[tuple[float, float, float] | None] = []
        for wave in self.waves:
            estimate = by_wave.get(wave)
            shown = estimate is not None and estimate.shown
            points.append((estimate.value, estimate.lower, estimate.upper) if shown else None)
        return points


@dataclass
class InitiativeDashboard:
    """The initiative dashboard: one panel per index, targets first, and model checks."""

    waves: list[str] = field(default_factory=list)
    panels: list[IndexPanel] = field(default_factory=list)
    fit: Badge | None = None
    invariance: Badge | None = None
    no_responses: bool = False
    problem: str | None = None


#: Verdicts from worst to best, for summing up several fit indices in one word.
_WORST_FIRST = ("poor", "acceptable", "good")


def initiative_dashboard(content: dict[str, Any], targets: list[str]) -> InitiativeDashboard:
    """The dashboard of one initiative from its validation report's ``content``.

    Parameters
    ----------
    content : dict
        ``Report.content`` (see :func:`analysis.build_report`); not changed.
    targets : list of str
        The constructs the initiative aims to change; their panels come first.
    """
    indices = content.get("indices")
    if content.get("withheld") or indices is None:
        return InitiativeDashboard(no_responses=True)
    if indices.get("skipped"):
        return InitiativeDashboard(waves=list(content["waves"]), problem=indices["skipped"])
    waves = list(content["waves"])
    constructs = content.get("constructs", {})
    order = [c for c in targets if c in indices] + [c for c in indices if c not in targets]
    panels = [
        _panel(cid, indices[cid], constructs.get(cid, {}), waves, cid in targets) for cid in order
    ]
    return InitiativeDashboard(
        waves=waves,
        panels=panels,
        fit=_fit_badge(content.get("cfa") or {}),
        invariance=_invariance_badge((content.get("invariance") or {}).get("wave") or {}),
    )


def _panel(
    cid: str, entry: dict[str, Any], construct: dict[str, Any], waves: list[str], target: bool
) -> IndexPanel:
    means = [
        MeanRow(m["arm"], m["wave"], m["n"], Estimate.from_entry(m, "mean"))
        for m in entry["means"]
        if m["arm"] in ARMS
    ]
    changes = [
        ChangeRow(c["arm"], c["before"], c["after"], Estimate.from_entry(c, "change"))
        for c in entry["changes"]
        if c["arm"] in ARMS
    ]
    did = [
        ChangeRow("difference", d["before"], d["after"], Estimate.from_entry(d, "did"))
        for d in entry["did"]
        if not d.get("skipped")
    ]
    return IndexPanel(
        construct=cid,
        label=entry["label"],
        target=target,
        waves=waves,
        means=means,
        changes=changes,
        did=did,
        reliability=_reliability_badge(cid, construct),
    )


def _reliability_badge(cid: str, construct: dict[str, Any]) -> Badge:
    anchor = f"construct-{cid}"
    verdicts = (construct.get("reliability") or {}).get("verdicts") or []
    # Omega first (the report's preferred coefficient), alpha when omega is not available.
    for verdict in verdicts:
        if verdict["verdict"] != "n/a":
            return Badge(
                "reliability", verdict["verdict"], anchor, verdict["metric"], verdict["value"]
            )
    return Badge("reliability", "n/a", anchor)


def _fit_badge(cfa: dict[str, Any]) -> Badge:
    words = [v["verdict"] for v in cfa.get("verdicts", []) if v["verdict"] != "n/a"]
    # One word for the model: the weakest of its fit indices.
    worst = next((word for word in _WORST_FIRST if word in words), "n/a")
    return Badge("fit", worst, "fit")


def _invariance_badge(entry: dict[str, Any]) -> Badge:
    verdict = (entry.get("verdict") or {}).get("verdict", "n/a")
    return Badge("invariance", verdict, "invariance-wave")


# --- City dashboard -------------------------------------------------------------------------


@dataclass(frozen=True)
class LatestChange:
    """An index's latest change in an initiative's treated areas, and against comparison."""

    construct: str
    label: str
    target: bool
    before: str
    after: str
    treated: Estimate
    difference: Estimate | None


@dataclass
class InitiativeSummary:
    """One initiative on the city dashboard."""

    initiative: Initiative
    waves: int
    completed: int
    completed_hidden: bool = False
    latest: list[LatestChange] = field(default_factory=list)
    one_wave: bool = False


def city_dashboard(
    session: Session, city_id: int, *, actor: User, report: Any
) -> list[tuple[PyramidLevel, list[InitiativeSummary]]]:
    """A city's initiatives by pyramid level (pyramid order), alphabetical within a level.

    ``report(initiative)`` returns the initiative's validation report; the view passes
    the cached one, so that a page view does not rebuild unchanged reports. Initiatives
    without complete responses are not reported on.
    """
    initiatives = list(
        session.scalars(
            select(Initiative)
            .where(Initiative.city_id == city_id)
            .options(selectinload(Initiative.waves))
        )
    )
    per_wave: dict[int, dict[int, int]] = {}
    waves: dict[int, int] = {}
    for initiative in initiatives:
        # Its own waves and the rows of city-wide rounds in its design (surveyapp.designs).
        waves[initiative.id] = len(designs.waves_for_initiative(session, initiative))
        per_wave[initiative.id] = dict(
            session.execute(
                select(Wave.id, func.count(Response.id))
                .join(Response, Response.wave_id == Wave.id)
                .where(
                    designs.response_scope(session, initiative),
                    Response.status == ResponseStatus.COMPLETE,
                )
                .group_by(Wave.id)
            ).all()
        )
    completed = {key: sum(counts.values()) for key, counts in per_wave.items()}
    summaries: dict[int, list[InitiativeSummary]] = {level.value: [] for level in PyramidLevel}
    for initiative in sorted(initiatives, key=lambda i: (i.name.casefold(), i.id)):
        summary = InitiativeSummary(
            initiative,
            waves[initiative.id],
            completed.get(initiative.id, 0),
            # Each wave's count is on its monitoring page: the sum would give a small one.
            completed_hidden=suppress_counts(
                per_wave.get(initiative.id, {}), prefer_total=True
            ).total,
        )
        if summary.completed:
            content = report(initiative).content
            summary.latest = _latest_changes(content, list(initiative.target_constructs or []))
            summary.one_wave = len(content.get("waves", [])) < 2
        summaries.setdefault(initiative.pyramid_level, []).append(summary)
    return [(level, summaries[level.value]) for level in PyramidLevel]


def _latest_changes(content: dict[str, Any], targets: list[str]) -> list[LatestChange]:
    indices = content.get("indices") or {}
    if indices.get("skipped") or len(content.get("waves", [])) < 2:
        return []
    order = [c for c in targets if c in indices] + [c for c in indices if c not in targets]
    out = []
    for cid in order:
        entry = indices[cid]
        treated = [c for c in entry["changes"] if c["arm"] == "treated"]
        dids = [d for d in entry["did"] if not d.get("skipped")]
        if not treated:
            continue
        last = treated[-1]
        out.append(
            LatestChange(
                construct=cid,
                label=entry["label"],
                target=cid in targets,
                before=last["before"],
                after=last["after"],
                treated=Estimate.from_entry(last, "change"),
                difference=Estimate.from_entry(dids[-1], "did") if dids else None,
            )
        )
    return out
