"""Shared measurement: every city that used the standard questionnaire, against itself.

Per city, the complete responses of its initiatives' first and latest waves are weighted,
cleaned and scored as the validation report does, pooled over the city's initiatives and
compared with the city's own baseline only. Cities are listed by name; nothing is ranked
and only aggregates (means and changes on at least 30 responses) leave this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from analysis.disclosure import MIN_N, suppress_estimates
from surveyapp.console.dashboard_data import ARMS, Estimate
from surveyapp.models import City, Initiative, Response, ResponseStatus, ScoringModel, Wave
from surveyapp.models import Instrument as InstrumentRow

#: Key of the shared standard questionnaire (instruments/social-cohesion-safety/).
STANDARD_INSTRUMENT = "social-cohesion-safety"


@dataclass(frozen=True)
class CityIndexChange:
    """One index of one city: its baseline and latest means and the change between them."""

    construct: str
    label: str
    baseline: Estimate
    latest: Estimate | None
    change: Estimate | None


@dataclass
class CityPanel:
    """One city on the shared page, against its own baseline."""

    name: str
    initiatives: int
    followed_up: int
    indices: list[CityIndexChange] = field(default_factory=list)
    weighted: bool = False


def city_panels(session: Session) -> list[CityPanel]:
    """Every city that used the standard questionnaire, by name, each against itself.

    Per city, the complete responses of each initiative's first wave (the baseline) and,
    for initiatives with more than one wave, of its latest wave are scored with the
    initiative's frozen scoring model (or one frozen the same way at its first wave when
    no report was built yet), raked to the areas' population margins when they exist,
    and pooled over the city's initiatives. Means and the change from baseline to latest
    come with 95% intervals (responses treated as independent); estimates on fewer than
    :data:`analysis.MIN_N` responses are withheld. Only aggregates leave this function.
    """
    from surveyapp.designs import waves_for_initiative

    standard = set(
        session.scalars(
            select(Wave.id)
            .join(InstrumentRow, Wave.instrument_id == InstrumentRow.id)
            .where(InstrumentRow.key == STANDARD_INSTRUMENT)
        )
    )
    answered = set(
        session.scalars(
            select(Response.wave_id)
            .where(
                Response.wave_id.in_(standard),
                Response.status == ResponseStatus.COMPLETE,
            )
            .distinct()
        )
    )
    initiatives = session.scalars(
        select(Initiative).options(selectinload(Initiative.waves)).order_by(Initiative.id)
    ).all()
    # Each initiative's own waves and the city-wide rounds that evaluate it.
    by_city: dict[int, list[tuple[Initiative, list[Wave]]]] = {}
    for initiative in initiatives:
        used = [w for w in waves_for_initiative(session, initiative) if w.id in answered]
        if used:
            by_city.setdefault(initiative.city_id, []).append((initiative, used))
    cities = session.scalars(select(City).where(City.id.in_(list(by_city)))).all()
    panels = []
    for city in sorted(cities, key=lambda c: (c.name.casefold(), c.id)):
        parts, labels, weighted = [], {}, False
        for initiative, used in by_city[city.id]:
            try:
                scored, names, has_weights = _scored_periods(session, initiative, used)
            except ValueError:
                continue  # e.g. no scoring model can be frozen: the initiative adds nothing
            parts.append(scored)
            labels.update(names)
            weighted = weighted or has_weights
        if not parts:
            continue
        # A city-wide round's response in areas two initiatives share counts once.
        pooled = pd.concat(parts, ignore_index=True).drop_duplicates("_rid")
        panel = CityPanel(
            name=city.name,
            initiatives=len(by_city[city.id]),
            followed_up=sum(1 for _, used in by_city[city.id] if len(used) > 1),
            weighted=weighted,
        )
        items = {cid: i for part in parts for cid, i in part.attrs.get("items", {}).items()}
        panel.indices = [
            _index_change(pooled, cid, label, items.get(cid, []), bool(panel.followed_up))
            for cid, label in labels.items()
        ]
        panels.append(panel)
    return panels


def _index_change(
    pooled: pd.DataFrame, cid: str, label: str, items: list[str], followed_up: bool
) -> CityIndexChange:
    """One index of a city: baseline and latest means, and the change when comparable."""
    from analysis import index_comparability, wave_change, wave_means

    means = wave_means(pooled, cid, "_period", weight="_w")
    rows = {r["_period"]: r for r in means.to_dict(orient="records")}
    change = None
    if followed_up:
        check = index_comparability(
            pooled, items, pooled["_period"], what="the baseline and latest waves"
        )
        if check["status"] in ("comparable", "partial"):
            estimate = wave_change(pooled, cid, "_period", "baseline", "latest", weight="_w")
            change = _change_estimate(estimate)
        else:
            change = Estimate(None, None, None, check["reason"])
    return CityIndexChange(
        construct=cid,
        label=label,
        baseline=_mean_estimate(rows.get("baseline")),
        latest=_mean_estimate(rows.get("latest")) if followed_up else None,
        change=change,
    )


def _scored_periods(
    session: Session, initiative: Initiative, waves: list[Wave]
) -> tuple[pd.DataFrame, dict[str, str], bool]:
    """Core index scores of the initiative's first and latest answered waves.

    The responses are weighted and cleaned as the initiative's validation report does
    (:func:`surveyapp.reports.build_initiative_report`), so that a city with one initiative
    shows its report's numbers. Returns the scores with ``_period`` (``baseline`` /
    ``latest``) and ``_w`` columns, the core constructs' labels, and whether any weight
    other than 1 was applied.
    """
    from analysis import freeze_scoring_model, from_instrument, score
    from analysis.report.cleaning import kept_rows
    from surveyapp.designs import waves_for_initiative
    from surveyapp.instruments.registry import wave_instrument
    from surveyapp.reports import (
        add_area_weights,
        initiative_frame,
        initiative_modules,
        published_frame,
    )

    instrument = wave_instrument(waves[0])
    spec = from_instrument(
        instrument, initiative_modules(instrument, waves_for_initiative(session, initiative))
    )
    # Only the always-asked constructs are measured in every city.
    core = from_instrument(instrument, [m.id for m in instrument.modules if not m.optional])
    periods = {waves[0].id: "baseline"}
    if len(waves) > 1:
        periods[waves[-1].id] = "latest"
    frame = initiative_frame(session, initiative, sent_day=True)
    for item in spec.items:
        if item not in frame.columns:  # an item nobody answered has no column
            frame[item] = float("nan")
    frame = published_frame(frame, spec, core)
    # The responses the validation report keeps (its cleaning rules, same parameters),
    # weighted from those, as the report weighs them.
    kept = kept_rows(frame, spec)
    frame, _notes = add_area_weights(session, frame, city_id=initiative.city_id, kept=kept)
    frame = frame[kept]
    frame = frame[frame["wave_id"].isin(list(periods))]
    model = session.scalar(
        select(ScoringModel.definition)
        .where(ScoringModel.initiative_id == initiative.id)
        .order_by(ScoringModel.version.desc())
    )
    if model is None or not set(core.model) <= set(model.get("constructs", {})):
        # No report yet: freeze as the report would (unit weights at the first wave).
        model = freeze_scoring_model(
            frame[frame["wave_id"] == waves[0].id],
            core.model,
            {item: core.scale[item] for item in core.items},
            reverse=sorted(core.reverse),
            instrument=core.name,
        )
    scores = score(frame, model)[list(core.model)]
    # The items too (as answered), for the comparability check of each index.
    items = [item for item in core.items if item not in scores.columns]
    scores = pd.concat([scores, frame[items].reset_index(drop=True).set_axis(scores.index)], axis=1)
    scores.attrs["items"] = {cid: list(core.model[cid]) for cid in core.model}
    scores["_period"] = frame["wave_id"].map(periods).to_numpy()
    scores["_rid"] = frame["response_id"].to_numpy()
    scores["_w"] = frame["weight"].to_numpy() if "weight" in frame.columns else 1.0
    _withhold_like_report(scores, frame["group"].to_numpy(), list(core.model))
    weighted = "weight" in frame.columns and bool((frame["weight"] != 1.0).any())
    return scores, core.labels, weighted


def _withhold_like_report(scores: pd.DataFrame, groups: Any, constructs: list[str]) -> None:
    """Leave out (in place) what the initiative's own dashboard withholds, per period.

    Pooled into the city's figure, an initiative whose own mean of all areas is withheld
    (fewer than :data:`analysis.MIN_N` responses, or withheld so that a small arm's mean
    cannot be recomputed: :func:`analysis.disclosure.suppress_estimates`) would let staff
    who see the city's other initiatives recompute it by subtraction.
    """
    arm = pd.Series(groups, index=scores.index).where(lambda g: g.isin(ARMS), "other")
    for cid in constructs:
        for _period, rows in scores[scores[cid].notna()].groupby("_period"):
            sizes = rows.groupby(arm[rows.index]).size().to_dict()
            decision = suppress_estimates(sizes, hidden=["other"])
            if decision.total or len(rows) < MIN_N:
                scores.loc[rows.index, cid] = float("nan")


def _mean_estimate(row: dict[str, Any] | None) -> Estimate:
    if row is None:
        return Estimate(None, None, None, f"n = 0 < {MIN_N}")
    if row["withheld"]:
        return Estimate(None, None, None, row["withheld"])
    return Estimate(row["mean"], row["ci_lower"], row["ci_upper"])


def _change_estimate(change: dict[str, Any]) -> Estimate:
    if change["withheld"]:
        return Estimate(None, None, None, change["withheld"])
    return Estimate(change["change"], change["ci_lower"], change["ci_upper"])
