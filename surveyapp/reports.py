"""Response data as analysis-ready tables (one row per response, one column per item)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis.disclosure import publication_sample
from surveyapp import designs, scoring
from surveyapp.area_sources import area_source_notes
from surveyapp.audit import record
from surveyapp.db import utcnow
from surveyapp.draft_languages import current_review_states, language_rows
from surveyapp.models import (
    COMPLETION_BURST,
    REPEAT_IN_SAME_BROWSER,
    Answer,
    Area,
    AreaMargin,
    Initiative,
    Response,
    ResponseStatus,
    ScoringModel,
    User,
    Wave,
)
from surveyapp.spreadsheet import safe_cell

#: The columns of :func:`initiative_frame` before the items (``_sent`` becomes ``sent_on``).
FRAME_COLUMNS = [
    "response_id",
    "wave",
    "wave_id",
    "area",
    "group",
    "language",
    "duration_seconds",
    "collection_duplicate",
    "collection_burst",
    "_sent",
    "panel_id",
]


def initiative_frame(
    session: Session, initiative: Initiative, *, sent_day: bool = False
) -> pd.DataFrame:
    """Complete responses of every wave of an initiative, wide, in wave order.

    The waves and rows are those :mod:`surveyapp.designs` gives: the initiative's own waves
    and, from each city-wide round that covers it, the rows in its treated and comparison
    areas. Columns: ``response_id``, ``wave`` (wave name), ``wave_id``, ``area`` (area code),
    ``group`` (``treated``/``comparison``, empty for areas outside the design),
    ``language``, ``duration_seconds``, ``panel_id`` (empty outside panels) and one
    column per item with its code (negative codes are missing-value answers such as "don't
    know"; numbers as given). Free-text answers are left out: they can hold personal
    details. With ``sent_day``, also ``sent_on``, the day sent (for :func:`published_frame`).
    """
    roles = designs.area_groups(session, initiative)
    scope = designs.response_scope(session, initiative)
    rows = session.execute(
        select(
            Response.id,
            Wave.name,
            Wave.id,
            Area.code,
            Response.area_id,
            Response.language,
            Response.duration_seconds,
            Response.quality_flags,
            Response.submitted_on,
            Response.panel_id,
        )
        .join(Wave, Response.wave_id == Wave.id)
        .outerjoin(Area, Response.area_id == Area.id)
        .where(scope, Response.status == ResponseStatus.COMPLETE)
        .order_by(Wave.id, Response.id)
    ).all()
    wave_numbers: dict[int, int] = {}
    base = pd.DataFrame(
        [
            {
                "response_id": r[0],
                # Numbered so that waves sort in the order they were created.
                "wave": f"{wave_numbers.setdefault(r[2], len(wave_numbers) + 1)}. {r[1]}",
                "wave_id": r[2],
                "area": r[3],
                "group": roles.get(r[4], ""),
                "language": r[5],
                "duration_seconds": None if r[6] is None else float(r[6]),
                # Flagged at collection: a repeat from a browser that had already answered.
                "collection_duplicate": REPEAT_IN_SAME_BROWSER in (r[7] or []),
                # Flagged at collection: sent in a burst from one address.
                "collection_burst": COMPLETION_BURST in (r[7] or []),
                "_sent": r[8],
                "panel_id": r[9] or "",
            }
            for r in rows
        ],
        columns=FRAME_COLUMNS,
    )
    base = base.rename(columns={"_sent": "sent_on"}) if sent_day else base.drop(columns="_sent")
    if base.empty:
        return base
    answers = session.execute(
        select(Answer.response_id, Answer.item_id, Answer.value_code, Answer.value_number)
        .join(Response, Answer.response_id == Response.id)
        .join(Wave, Response.wave_id == Wave.id)
        .where(scope, Response.status == ResponseStatus.COMPLETE)
    ).all()
    long = pd.DataFrame(answers, columns=["response_id", "item_id", "code", "number"])
    long["value"] = long["code"].astype("float64").fillna(long["number"].astype("float64"))
    wide = long.pivot(index="response_id", columns="item_id", values="value")
    return base.merge(wide, left_on="response_id", right_index=True, how="left")


def scored_everywhere(frame: pd.DataFrame, spec: Any, fraction: float = 2 / 3) -> pd.Series:
    """True for responses that get a score on every index (the scoring's missing-item rule:
    at least ``fraction`` of each index's items answered within their range)."""
    result = pd.Series(True, index=frame.index)
    for items in spec.model.values():
        answered = pd.DataFrame(
            {
                item: frame[item].between(*spec.scale[item])
                for item in items
                if item in frame.columns
            }
        )
        result &= answered.sum(axis=1) >= fraction * len(items)
    return result


def published_frame(frame: pd.DataFrame, spec: Any, core: Any) -> pd.DataFrame:
    """The published sample of :func:`initiative_frame` (``sent_day=True``) rows.

    Per wave and area, the responses sent before today in a fixed order (day sent, then
    id) up to the last whole ten of ones kept by the report's cleaning
    (:func:`analysis.report.cleaning.kept_rows`) with a score on every
    core index (:func:`scored_everywhere` of ``core``, the always-asked modules), with the
    others among them, so that the n of every core index moves by 0 or at least 10
    (:func:`analysis.disclosure.publication_sample`). Optional modules do not count: a
    module nobody answered yet would stop every step.
    Every figure staff and the API see is made from it. Cleaning looks at earlier
    responses (duplicates), so the rows are put in that fixed order first: a response's
    flags then never change once it is published.
    """
    from analysis.report.cleaning import kept_rows

    ordered = frame.sort_values(["wave_id", "sent_on", "response_id"], kind="stable")
    ordered = ordered.reset_index(drop=True)
    ordered["_kept"] = kept_rows(ordered, spec) & scored_everywhere(ordered, core)
    sample = publication_sample(
        ordered,
        cell=["wave_id", "area"],
        day="sent_on",
        order="response_id",
        today=utcnow().date(),
        counts="_kept",
    )
    return ordered[sample].drop(columns=["_kept", "sent_on"]).reset_index(drop=True)


def initiative_modules(instrument: Any, waves: list[Wave]) -> list[str]:
    """Modules whose constructs are indexed: the always-asked ones plus those every wave asked.

    An index is only comparable across waves when every wave asked its questions.
    """
    always = [m.id for m in instrument.modules if not m.optional]
    chosen = set.intersection(*(set(wave.modules or []) for wave in waves)) if waves else set()
    return always + sorted(chosen)


@dataclass
class ReportInputs:
    """An initiative's report data: its waves, weighted responses and instrument model."""

    waves: list[Wave]
    frame: pd.DataFrame
    spec: Any
    notes: list[str]


def report_inputs(session: Session, initiative: Initiative) -> ReportInputs | None:
    """The responses and model a report (or a scoring model) of the initiative is built from.

    None while there is no complete response. Every item of the model has a column (all
    missing where nobody answered it yet); ``weight`` is the raking weight.
    """
    from analysis import from_instrument
    from analysis.report.cleaning import kept_rows
    from surveyapp.instruments.registry import wave_instrument

    waves = designs.waves_for_initiative(session, initiative)
    frame = initiative_frame(session, initiative, sent_day=True)
    if not waves or frame.empty:
        return None
    instrument = wave_instrument(waves[0])
    spec = from_instrument(instrument, initiative_modules(instrument, waves))
    for item in spec.items:
        if item not in frame.columns:  # nobody has answered it (yet): all missing
            frame[item] = float("nan")
    core = from_instrument(instrument, [m.id for m in instrument.modules if not m.optional])
    frame = published_frame(frame, spec, core)
    if frame.empty:
        return None
    kept = kept_rows(frame, spec, wave="wave", area="area", duration="duration_seconds")
    frame, weight_notes = add_area_weights(session, frame, city_id=initiative.city_id, kept=kept)
    return ReportInputs(waves, frame, spec, list(weight_notes))


def build_initiative_report(session: Session, initiative: Initiative, *, actor: User) -> Any:
    """Build the validation report of an initiative from its complete responses.

    Which scoring model it uses, and what it stores, is decided by :mod:`surveyapp.scoring`
    (provisional while the reference wave collects, frozen after, refitted when the waves'
    modules changed). Not committed; building is audited.
    """
    from analysis import build_report

    inputs = report_inputs(session, initiative)
    if inputs is None:
        from analysis.report import Report

        return Report({"title": initiative.name, "withheld": "No complete responses yet."})
    frame = inputs.frame
    choice = scoring.for_report(session, initiative, set(inputs.spec.model))
    for item in (choice.fixed or {}).get("items", []):
        if item not in frame.columns:  # nobody answered it (yet)
            frame[item] = float("nan")
    report = build_report(
        frame,
        inputs.spec,
        duration="duration_seconds",
        weight="weight" if "weight" in frame.columns else None,
        title=f"{initiative.name}: validation report",
        scoring_model=choice.fixed,
    )
    sources = area_source_notes(session, frame)
    report.content.setdefault("notes", []).extend(inputs.notes + choice.notes + sources)
    # Which answers came in draft translations (issue 26): per language, marked.
    report.content["languages"] = language_rows(frame["language"], current_review_states())
    fitted = report.content.get("scoring_model")
    status, note = scoring.after_report(session, initiative, inputs.waves[0], choice, fitted)
    if note:
        report.content["scoring_model_provisional"] = note
    if fitted:
        report.content["scoring_model_status"] = status
    record(
        session,
        actor,
        initiative.city_id,
        "report_built",
        "initiative",
        initiative.id,
        responses=len(frame),
    )
    return report


def report_page(report: Any, *, back_url: str) -> str:
    """The report as an HTML page in the signed-in staff member's language.

    Renders the analysis package's template (``analysis/templates/report.html``) with an
    overlay of the app's Jinja environment, so that its texts go through Flask-Babel's
    gettext; ``back_url`` links back to the console page of the initiative.
    """
    from flask import current_app
    from flask_babel import get_locale

    from analysis.report.html import report_environment
    from surveyapp.i18n import RTL

    environment = current_app.extensions.get("report_jinja")
    if environment is None:
        environment = report_environment(current_app.jinja_env)
        current_app.extensions["report_jinja"] = environment
    language = str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
    return report.to_html(
        environment,
        lang=language.replace("_", "-"),
        direction="rtl" if language.split("_")[0] in RTL else "ltr",
        back_url=back_url,
    )


#: Built reports by initiative: (fingerprint, report). A report takes seconds to build
#: (bootstrap intervals, invariance fits), dashboards and the API show it often, and it only
#: changes when responses, waves or the stored scoring model change.
_REPORT_CACHE: dict[tuple[str, int], tuple[tuple, Any]] = {}
_REPORT_CACHE_SIZE = 64


def report_fingerprint(session: Session, initiative: Initiative) -> tuple:
    """What a report of the initiative depends on: its complete responses, waves and model."""
    responses = session.execute(
        select(func.count(Response.id), func.max(Response.id), func.max(Response.submitted_on))
        .join(Wave, Response.wave_id == Wave.id)
        .where(designs.response_scope(session, initiative))
        .where(Response.status == ResponseStatus.COMPLETE)
    ).one()
    waves = tuple(
        (w.id, w.name, w.modules, w.status)
        for w in designs.waves_for_initiative(session, initiative)
    )
    model = tuple(
        session.execute(
            select(ScoringModel.content_hash, ScoringModel.frozen_at)
            .where(ScoringModel.initiative_id == initiative.id)
            .order_by(ScoringModel.version.desc())
        ).first()
        or ()
    )
    areas = tuple(sorted(designs.area_groups(session, initiative).items()))
    # Replaced margins get new ids, so the largest id changes with every upload.
    margins = tuple(
        session.execute(
            select(
                func.count(AreaMargin.id), func.max(AreaMargin.id), func.sum(AreaMargin.population)
            )
        ).one()
    )
    # A translation reviewed since changes the report's language table.
    reviews = tuple(sorted(current_review_states().items()))
    return (
        initiative.name,
        tuple(responses),
        tuple(map(repr, waves)),
        model,
        areas,
        margins,
        reviews,
    )


def fresh_report(session: Session, initiative: Initiative) -> Any | None:
    """The cached report of the initiative if its data have not changed since, else None.

    Never builds one: for pages that use a report's figures when they are at hand (the
    planner's variance components) but must not wait for a factor analysis.
    """
    bind = session.get_bind()
    cached = _REPORT_CACHE.get((str(getattr(bind, "engine", bind).url), initiative.id))
    if cached is None or cached[0] != report_fingerprint(session, initiative):
        return None
    return cached[1]


def cached_initiative_report(session: Session, initiative: Initiative, *, actor: User) -> Any:
    """:func:`build_initiative_report`, reused while the initiative's data is unchanged.

    Every call is audited (``report_viewed`` when the cached report is reused); the caller
    commits.
    """
    key = report_fingerprint(session, initiative)
    # One process can serve several databases (tests, a restored copy): ids repeat.
    bind = session.get_bind()
    slot = (str(getattr(bind, "engine", bind).url), initiative.id)
    cached = _REPORT_CACHE.get(slot)
    if cached is not None and cached[0] == key:
        record(session, actor, initiative.city_id, "report_viewed", "initiative", initiative.id)
        return cached[1]
    report = build_initiative_report(session, initiative, actor=actor)
    session.flush()
    # The first build may have stored the frozen model, which is part of the fingerprint.
    _REPORT_CACHE[slot] = (report_fingerprint(session, initiative), report)
    while len(_REPORT_CACHE) > _REPORT_CACHE_SIZE:
        _REPORT_CACHE.pop(next(iter(_REPORT_CACHE)))
    return report


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(safe_cell)
    return safe


def add_area_weights(
    session: Session, frame: pd.DataFrame, *, city_id: int, kept: pd.Series | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """Population weights: each area x wave post-stratified to its age band x gender table.

    Uses the ``age_band`` and ``gender`` answers (demographics module) and the area's
    population table (:func:`analysis.poststratify`, thin cells collapsed). An area's
    weights add up to its population, so pooled means weigh areas by their population,
    not by how many answered there. ``kept`` (every row by default) marks the responses
    kept after cleaning: the weights are computed from those. When some area of the frame
    has no population table, weights are scaled to mean 1 within each area and wave
    instead (areas weigh by their answers), and the notes say so.
    """
    from analysis import poststratify

    if frame.empty or not {"age_band", "gender"} <= set(frame.columns):
        return frame, ["No weights: the waves did not ask age band and gender."]
    tables = _population_tables(session, city_id)
    frame = frame.copy()
    frame["weight"] = 1.0
    as_code = {column: _codes(frame[column]) for column in ("age_band", "gender")}
    counted = pd.Series(True, index=frame.index) if kept is None else kept.reindex(frame.index)
    notes: list[str] = []
    missing = sorted({str(a) for a in frame["area"].dropna().unique() if not tables.get(a)})
    if missing:
        notes.append(
            f"No population table for {', '.join(missing)}: those areas are unweighted, and "
            "every area's weights are scaled to mean 1, so areas weigh by their answers."
        )
    for (wave, area), cell in frame.groupby(["wave", "area"], dropna=True):
        table = tables.get(area)
        if not table:
            continue
        people = pd.DataFrame(
            {"age_band": as_code["age_band"][cell.index], "gender": as_code["gender"][cell.index]}
        )
        try:
            result = poststratify(people, table, counted=counted[cell.index].fillna(False))
        except ValueError as error:
            notes.append(f"{wave}, {area}: not weighted ({error})")
            continue
        weights = result.weights
        if missing:
            weights = weights / weights[counted[cell.index].fillna(False)].mean()
        frame.loc[weights.index, "weight"] = weights.to_numpy()
        if result.collapsed:
            notes.append(
                f"{wave}, {area}: thin cells merged; weighted by {'; '.join(result.groups)}."
            )
    no_area = frame["area"].isna()
    if no_area.any() and not missing:
        # Answers without an area (open links) cannot be weighted to a population: each
        # counts as an average respondent of its wave.
        for _wave, rows in frame.groupby("wave").groups.items():
            rows = pd.Index(rows)
            mean = frame.loc[rows[~no_area[rows]], "weight"].mean()
            frame.loc[rows[no_area[rows]], "weight"] = 1.0 if mean != mean else mean
        notes.append("Answers without an area carry the average weight of their wave.")
    return frame, notes


def _population_tables(session: Session, city_id: int) -> dict[str, dict[tuple[str, str], int]]:
    tables: dict[str, dict[tuple[str, str], int]] = {}
    for code, band, gender, population in session.execute(
        select(Area.code, AreaMargin.age_band, AreaMargin.gender, AreaMargin.population)
        .join(AreaMargin, AreaMargin.area_id == Area.id)
        # Area codes are unique within a city only.
        .where(Area.city_id == city_id)
    ):
        tables.setdefault(code, {})[(band, gender)] = population
    return tables


def _codes(column: pd.Series) -> pd.Series:
    """Answer codes as the strings the population table uses; one string per distinct code,
    shared by every row that has it (a million rows would otherwise each get their own)."""
    codes = pd.to_numeric(column, errors="coerce")
    names = {v: str(int(v)) for v in codes.dropna().unique() if v >= 0}
    return codes.map(names)
