"""The cleaned dataset of a wave, an initiative or a city: its variables and its rows.

One row per complete response: who asked (city, initiative, pyramid level, wave, area,
treated/comparison group), how it was answered (language, channel, duration), the item
codes, the quality flags of :func:`analysis.clean`, the index scores of the initiative's
frozen scoring model and the raking weight. Nothing that identifies a resident: no
invitation code, no address, no time of day; free-text answers only on request and for
the roles allowed to see them (:mod:`surveyapp.exports.web`).

Variable names are the instrument's item ids, which stay the same across waves and
instrument versions (a changed question gets a new id), so downloads of later waves append
to earlier ones.

The rows themselves are built by :mod:`surveyapp.exports.rows`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.cleaning import (
    CLEANING_FLAGS,
    DUPLICATE_MIN_ANSWERED,
    MIN_ANSWERED_FRACTION,
    SPEEDER_FRACTION,
    STRAIGHTLINE_MIN_ITEMS,
)
from surveyapp import designs
from surveyapp.exports.parts import InitiativePart, initiative_part, rest_part, unique_parts
from surveyapp.instruments import Instrument
from surveyapp.instruments.registry import wave_instrument
from surveyapp.models import (
    BURST_COMPLETIONS,
    COMPLETION_BURST,
    REPEAT_IN_SAME_BROWSER,
    City,
    Initiative,
    PyramidLevel,
    Wave,
)

SCOPES = ("wave", "initiative", "city")

PYRAMID_LABELS = {
    PyramidLevel.SOCIETAL_CONTEXT: "Societal context",
    PyramidLevel.QUALITY_OF_LIFE: "Quality of life",
    PyramidLevel.GENERAL_PREVENTION: "General prevention",
    PyramidLevel.SPECIFIC_PREVENTION: "Specific prevention",
    PyramidLevel.REACTION: "Reaction",
}

YES_NO = {0: "no", 1: "yes"}
#: The columns that identify a row of the long shape, before its weight and flags.
LONG_KEYS = ["response_id", "wave_id", "wave", "area", "group"]

# Cleaning rules exactly as the validation report applies them (analysis/report/cleaning.py).


@dataclass(frozen=True)
class Variable:
    """One column of the dataset, with what the codebook says about it."""

    name: str
    label: str
    kind: str  # meta, item, free_text, index, flag, weight
    type: str  # Frictionless field type: integer, number, string, boolean, date
    description: str = ""
    value_labels: dict[int, str] = field(default_factory=dict)
    missing_codes: tuple[int, ...] = ()
    item_id: str | None = None
    construct: str | None = None
    reverse: bool = False


@dataclass
class DatasetPlan:
    """What a download holds: its scope, parts, variables and the instruments behind them."""

    scope: str
    name: str
    title: str
    city: City
    parts: list[InitiativePart]
    variables: list[Variable]
    instruments: list[Instrument]
    free_text: bool
    # What disclosure control did (surveyapp.exports.protection); None: unprotected file.
    protection: Any = None

    @property
    def columns(self) -> list[str]:
        """Variable names in dataset order."""
        return [v.name for v in self.variables]

    @property
    def long_id_columns(self) -> list[str]:
        """Columns repeated on every row of the long shape: ids, weight, flags, scoring hash."""
        flags = [v.name for v in self.variables if v.kind == "flag"]
        return [*LONG_KEYS, "weight", *flags, "scoring_model"]

    @property
    def cleaning(self) -> dict[str, Any]:
        """The cleaning rules, as the codebook and the datapackage describe them."""
        return {
            "flags": [f"flag_{flag}" for flag in CLEANING_FLAGS] + ["flag_exclude"],
            "speeder_fraction": SPEEDER_FRACTION,
            "speeder_median": "median completion time of the initiative's complete responses",
            "min_answered_fraction": MIN_ANSWERED_FRACTION,
            "straightline_min_items": STRAIGHTLINE_MIN_ITEMS,
            "duplicate_keys": ["wave", "area"],
            "duplicate_min_answered": DUPLICATE_MIN_ANSWERED,
            "collection_duplicate_flag": REPEAT_IN_SAME_BROWSER,
            "collection_burst_flag": COMPLETION_BURST,
            "burst_completions": BURST_COMPLETIONS,
            "negative_codes": "not answered (missing-value codes)",
            "nothing_dropped": True,
        }


def build_plan(session: Session, scope: str, obj: Any, *, free_text: bool = False) -> DatasetPlan:
    """The plan of the dataset of a wave, an initiative or a city.

    Raises
    ------
    ValueError
        For an unknown scope.
    """
    rounds: list[Wave] = []  # city-wide rounds whose rows outside every design are kept
    if scope == "wave" and obj.initiative is None:
        # A city-wide round: one part per initiative it evaluates (designs.py).
        initiatives = [(i, [obj]) for i in designs.initiatives_for_wave(session, obj)]
        city, rounds = obj.city, [obj]
        name = f"{city.slug}-citywide-wave-{obj.id}"
        title = f"{city.name}: {obj.name}"
    elif scope == "wave":
        initiatives = [(obj.initiative, [obj])]
        city = obj.initiative.city
        name = f"{city.slug}-initiative-{obj.initiative_id}-wave-{obj.id}"
        title = f"{city.name}: {obj.initiative.name}, {obj.name}"
    elif scope == "initiative":
        initiatives = [(obj, designs.waves_for_initiative(session, obj))]
        city = obj.city
        name = f"{city.slug}-initiative-{obj.id}"
        title = f"{city.name}: {obj.name}"
    elif scope == "city":
        city = obj
        found = session.scalars(
            select(Initiative).where(Initiative.city_id == obj.id).order_by(Initiative.id)
        ).all()
        initiatives = [(i, designs.waves_for_initiative(session, i)) for i in found]
        rounds = designs.citywide_waves(session, obj.id)
        name = f"{city.slug}-all-initiatives"
        title = f"{city.name}: all initiatives"
    else:
        raise ValueError(f"Unknown dataset scope {scope!r}; expected one of {SCOPES}.")
    parts = [initiative_part(session, i, waves) for i, waves in initiatives if waves]
    if rounds:  # every answer once, those outside every design included (parts.py)
        parts = [*unique_parts(parts), rest_part(session, city, rounds, parts)]
    instruments: list[Instrument] = []
    for part in parts:
        for wave in part.waves:
            instrument = wave_instrument(wave)
            if all(i.content_hash != instrument.content_hash for i in instruments):
                instruments.append(instrument)
    variables = _variables(parts, instruments, free_text=free_text)
    return DatasetPlan(scope, name, title, city, parts, variables, instruments, free_text)


#: Value labels of the string variables ``area_source`` and ``area_reply``.
AREA_SOURCE_LABELS: dict = {
    "letter": "Invitation letter (code)",
    "area_link": "Area's own open link or poster",
    "self_reported": "Self-reported by the resident",
}
AREA_REPLY_LABELS: dict = {"outside_city": "Outside the city", "dont_know": "Don't know"}


def _meta_variables() -> list[Variable]:
    m = "meta"
    return [
        Variable("response_id", "Response number", m, "integer", "Stable across downloads."),
        Variable("city", "City", m, "string", "The city's short name (slug)."),
        Variable("initiative_id", "Initiative number", m, "integer"),
        Variable("initiative", "Initiative", m, "string"),
        Variable(
            "pyramid_level",
            "Prevention pyramid level",
            m,
            "integer",
            "Level of the initiative on the prevention pyramid (EU Urban Agenda, Action 5).",
            value_labels={int(k): v for k, v in PYRAMID_LABELS.items()},
        ),
        Variable("wave_id", "Wave number (database)", m, "integer"),
        Variable("wave", "Wave", m, "string"),
        Variable("wave_order", "Wave order within the initiative", m, "integer", "1 = first wave."),
        Variable("area", "Area code", m, "string", "The city's code of the resident's area."),
        Variable(
            "group",
            "Design group",
            m,
            "string",
            "treated or comparison area of the initiative; empty for areas outside its design "
            "(in a city's or a round's file also for answers outside every initiative's design).",
        ),
        Variable(
            "area_source",
            "How the area is known",
            m,
            "string",
            "letter: the invitation code's area; area_link: the area's own open link or"
            " poster; self_reported: chosen by the resident on the open link; empty: not known.",
            value_labels=AREA_SOURCE_LABELS,
        ),
        Variable(
            "area_reply",
            "Self-reported reply without an area",
            m,
            "string",
            "outside_city or dont_know when an open-link resident named no area of the city"
            " (area and group are then empty: outside the treated-vs-comparison analysis).",
            value_labels=AREA_REPLY_LABELS,
        ),
        Variable("language", "Questionnaire language", m, "string", "BCP 47 language tag."),
        Variable(
            "channel",
            "Channel",
            m,
            "string",
            "invitation (letter code), open_link, paper (entered by staff), interviewer, or "
            "offline_app (imported from ODK or KoboToolbox).",
        ),
        Variable(
            "panel_id",
            "Panel pseudonym",
            m,
            "string",
            "Links one resident's answers across the waves of a panel; empty outside panels.",
        ),
        Variable(
            "panel_pair",
            "Panel pair",
            m,
            "integer",
            "1 if the same panel pseudonym answered two or more waves of this dataset (a "
            "household linked across waves: use these rows for paired change); 0 otherwise, "
            "also outside panels.",
            value_labels={0: "not linked", 1: "linked across waves"},
        ),
        Variable("submitted_date", "Date submitted", m, "date", "Day only (UTC), no time."),
        Variable("duration_seconds", "Completion time (seconds)", m, "number"),
    ]


def _variables(
    parts: list[InitiativePart], instruments: list[Instrument], *, free_text: bool
) -> list[Variable]:
    variables = _meta_variables()
    asked_modules = _asked_modules(parts)
    seen: set[str] = set()
    constructs: dict[str, str] = {}
    for instrument in instruments:
        for section in instrument.sections:
            if section.module not in asked_modules:
                continue
            for item in section.items:
                if item.id in seen:
                    continue
                seen.add(item.id)
                variables.extend(_item_variables(item, free_text=free_text))
        for construct in instrument.constructs:
            if construct.module in asked_modules:
                constructs.setdefault(construct.id, construct.label)
    variables.extend(_index_variables(constructs))
    variables.extend(_flag_and_weight_variables())
    return variables


def _asked_modules(parts: list[InitiativePart]) -> set[str]:
    """Ids of the modules any wave of the parts asked: the required ones and its choices."""
    asked_modules: set[str] = set()
    for part in parts:
        instrument = part.instrument
        for wave in part.waves:
            asked_modules |= {m.id for m in instrument.modules if not m.optional}
            asked_modules |= set(wave.modules or [])
    return asked_modules


def _index_variables(constructs: dict[str, str]) -> list[Variable]:
    """One index score per construct (id to label), then the scoring model's hash."""
    variables = [
        Variable(
            f"idx_{cid}",
            f"{label} index (0-100)",
            "index",
            "number",
            "POMP score with the initiative's frozen scoring model; empty when too few of "
            "the index's questions were answered.",
            construct=cid,
        )
        for cid, label in constructs.items()
    ]
    variables.append(
        Variable(
            "scoring_model",
            "Scoring model",
            "meta",
            "string",
            "First 12 characters of the SHA-256 hash of the frozen scoring model used.",
        )
    )
    return variables


def _flag_and_weight_variables() -> list[Variable]:
    """The quality flags of :func:`analysis.clean`, their union and the raking weight."""
    explain = {
        "incomplete": "Fewer than half of the index questions answered.",
        "speeder": "Took less than half the median completion time of the initiative.",
        "straightliner": "Same answer to every question of a block that mixes positively "
        "and negatively worded questions.",
        "duplicate": "Same area, wave and answers as an earlier response, or sent again "
        "from a browser that had already answered.",
        "failed_attention": "Did not give the answer an attention-check question asked for.",
        "burst": "Sent by open link while many questionnaires of the wave were sent from the "
        "same internet address within a minute (possible ballot stuffing; no address is "
        "stored).",
    }
    variables = [
        Variable(
            f"flag_{flag}",
            f"Quality flag: {flag.replace('_', ' ')}",
            "flag",
            "integer",
            explain[flag],
            value_labels=YES_NO,
        )
        for flag in CLEANING_FLAGS
    ]
    variables.append(
        Variable(
            "flag_exclude",
            "Quality flag: any",
            "flag",
            "integer",
            "1 when any quality flag is set. The validation report leaves these out; nothing "
            "is dropped from the dataset.",
            value_labels=YES_NO,
        )
    )
    variables.append(
        Variable(
            "weight",
            "Raking weight",
            "weight",
            "number",
            "Raked to the area's population by age band and gender within each wave and "
            "area (mean 1 per cell); 1 where the area has no margins or the respondent is "
            "outside the margins' categories.",
        )
    )
    return variables


def _item_variables(item: Any, *, free_text: bool) -> list[Variable]:
    missing = {o.code: o.label for o in item.missing_options}
    if item.type == "short_text":
        if not free_text:
            return []
        return [Variable(item.id, item.text.strip(), "free_text", "string", item_id=item.id)]
    if item.type == "multiple_choice":
        return [
            Variable(
                f"{item.id}_{option.code}",
                f"{item.text.strip()}: {option.label}",
                "item",
                "integer",
                "1 = chosen, 0 = not chosen; a missing-value code when the question was "
                "answered with one.",
                value_labels={**YES_NO, **missing},
                missing_codes=tuple(sorted(missing)),
                item_id=item.id,
            )
            for option in item.options
        ]
    if item.type == "number":
        bounds = [f"from {item.min}" if item.min is not None else ""]
        bounds.append(f"to {item.max}" if item.max is not None else "")
        return [
            Variable(
                item.id,
                item.text.strip(),
                "item",
                "number",
                " ".join(b for b in bounds if b),
                value_labels=missing,
                missing_codes=tuple(sorted(missing)),
                item_id=item.id,
            )
        ]
    labels = {o.code: o.label for o in item.options} | missing
    return [
        Variable(
            item.id,
            item.text.strip(),
            "item",
            "integer",
            value_labels=labels,
            missing_codes=tuple(sorted(missing)),
            item_id=item.id,
            construct=item.construct_id,
            reverse=item.reverse,
        )
    ]
