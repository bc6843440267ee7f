"""The codebook of a dataset: a Frictionless ``datapackage.json`` and a readable HTML page.

``datapackage.json`` follows the Frictionless Data Package standard (a tabular data resource
per file, with a Table Schema: field names, types, titles, descriptions, value labels as
``categories`` and the missing-value codes), so that frictionless-py, R's ``frictionless``
package and other tools can read and validate the download. The HTML codebook says the same
for people: every question's wording in every language, the answer codes, reverse coding,
which index it belongs to, the frozen scoring models, the cleaning rules, the weighting, the
disclosure control of the aggregate table, citations and licences, and the change log of the
instrument versions behind the data.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import render_template
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.exports.aggregates import MIN_CELL
from surveyapp.exports.dataset import DatasetPlan, Variable
from surveyapp.i18n import catalogs
from surveyapp.i18n.instrument import translated_sections
from surveyapp.instruments import Instrument
from surveyapp.instruments.loader import carried_over_differences
from surveyapp.models import Instrument as InstrumentRow

MEDIA_TYPES = {
    "csv": "text/csv",
    "parquet": "application/vnd.apache.parquet",
    "sav": "application/x-spss-sav",
    "dta": "application/x-stata-dta",
}

FORMAT_NAMES = {"csv": "CSV", "parquet": "Parquet", "sav": "an SPSS file", "dta": "a Stata file"}

AGGREGATE_FIELDS = [
    {"name": "index", "type": "string", "title": "Index variable"},
    {"name": "initiative_id", "type": "integer", "title": "Initiative number"},
    {"name": "wave_order", "type": "integer", "title": "Wave order"},
    {"name": "wave", "type": "string", "title": "Wave"},
    {
        "name": "level",
        "type": "string",
        "title": "Row level",
        "constraints": {"enum": ["wave", "group", "area"]},
    },
    {"name": "group", "type": "string", "title": "Design group"},
    {"name": "area", "type": "string", "title": "Area code"},
    {"name": "n", "type": "integer", "title": "Responses without a quality flag"},
    {"name": "mean", "type": "number", "title": "Weighted mean (0-100)"},
    {"name": "ci_lower", "type": "number", "title": "95% CI lower bound"},
    {"name": "ci_upper", "type": "number", "title": "95% CI upper bound"},
    {
        "name": "suppressed",
        "type": "string",
        "title": "Suppression",
        "constraints": {"enum": ["", "primary", "complementary"]},
    },
]


def _field(variable: Variable, fmt: str) -> dict[str, Any]:
    field: dict[str, Any] = {
        "name": variable.name,
        "type": variable.type,
        "title": variable.label,
    }
    if variable.description:
        field["description"] = variable.description
    if variable.type == "date":
        field["format"] = "%Y-%m-%d" if fmt == "csv" else "default"
    if variable.value_labels:
        field["categories"] = [
            {"value": code, "label": label} for code, label in sorted(variable.value_labels.items())
        ]
    if variable.missing_codes:
        field["missingValues"] = ["", *(str(code) for code in variable.missing_codes)]
    if variable.construct and variable.kind == "item":
        field["surveyapp:construct"] = variable.construct
        field["surveyapp:reverse"] = variable.reverse
    return field


def datapackage(
    plan: DatasetPlan,
    *,
    fmt: str,
    shape: str,
    data_path: str,
    aggregates_path: str | None = None,
) -> dict[str, Any]:
    """The ``datapackage.json`` describing a download (see module notes).

    A binary file (Parquet, SPSS, Stata) comes with a CSV copy of the same rows, the tabular
    resource that Frictionless tools validate and read; the binary file is listed under
    ``surveyapp:files``.
    """
    binary: list[dict[str, Any]] = []
    if fmt == "csv":
        resources = [_responses_resource(plan, fmt=fmt, shape=shape, data_path=data_path)]
    else:
        csv_path = data_path.rsplit(".", 1)[0] + ".csv"
        resources = [_responses_resource(plan, fmt="csv", shape=shape, data_path=csv_path)]
        # Not a resource: Frictionless tools would try (and need plugins) to read it.
        binary = [
            {
                "path": data_path,
                "format": fmt,
                "mediatype": MEDIA_TYPES[fmt],
                "title": f"The rows of responses as {FORMAT_NAMES[fmt]}, with their labels",
                "same_rows_as": "responses",
            }
        ]
    if aggregates_path:
        resources.append(_aggregates_resource(aggregates_path))
    licences, sources = _licences_and_sources(plan.instruments)
    return {
        "profile": "data-package",
        "name": plan.name,
        "title": plan.title,
        "description": (
            "Cleaned survey responses on social cohesion and the feeling of security, with "
            "quality flags, frozen-model index scores and raking weights. No personal data. "
            "Read codebook.html for wording, codes and methods."
        ),
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "licenses": _unique(licences),
        "sources": sources,
        "resources": resources,
        "surveyapp:scope": plan.scope,
        "surveyapp:shape": shape,
        "surveyapp:instruments": [
            {"id": i.id, "version": i.version, "content_hash": i.content_hash}
            for i in plan.instruments
        ],
        "surveyapp:scoring_models": {
            str(part.initiative_id): part.scoring
            for part in plan.parts
            if part.scoring and part.initiative_id is not None
        },
        # A provisional model is refitted until its reference wave closes (docs/datasets.md).
        "surveyapp:scoring_model_status": {
            str(part.initiative_id): "frozen" if part.scoring_frozen else "provisional"
            for part in plan.parts
            if part.scoring and part.initiative_id is not None
        },
        "surveyapp:cleaning": plan.cleaning,
        **({"surveyapp:files": binary} if binary else {}),
    }


def _responses_resource(
    plan: DatasetPlan, *, fmt: str, shape: str, data_path: str
) -> dict[str, Any]:
    """The data resource of the responses file, wide or long, with its Table Schema."""
    if shape == "long":
        by_name = {v.name: v for v in plan.variables}
        fields = [_field(by_name[name], fmt) for name in plan.long_id_columns] + [
            {"name": "variable", "type": "string", "title": "Variable name (see the codebook)"},
            {"name": "value", "type": "number", "title": "Value (code or index score)"},
        ]
        primary_key: list[str] | str = ["response_id", "variable"]
    else:
        fields = [_field(v, fmt) for v in plan.variables]
        primary_key = "response_id"
    resource: dict[str, Any] = {
        "name": "responses",
        "title": f"{plan.title}: one row per complete response"
        if shape == "wide"
        else f"{plan.title}: one row per response and variable",
        "path": data_path,
        "format": fmt,
        "mediatype": MEDIA_TYPES[fmt],
        "schema": {"fields": fields, "primaryKey": primary_key, "missingValues": [""]},
    }
    if fmt == "csv":
        resource["profile"] = "tabular-data-resource"
        resource["encoding"] = "utf-8"
        resource["dialect"] = {"delimiter": ",", "header": True, "quoteChar": '"'}
    return resource


def _aggregates_resource(aggregates_path: str) -> dict[str, Any]:
    """The data resource of the aggregate table (always CSV)."""
    return {
        "name": "aggregates",
        "title": "Index by wave, area and group, small cells suppressed",
        "profile": "tabular-data-resource",
        "path": aggregates_path,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "schema": {"fields": AGGREGATE_FIELDS, "missingValues": [""]},
    }


def _licences_and_sources(
    instruments: list[Instrument],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The instruments' licences (one per instrument) and their distinct cited sources."""
    licences = []
    sources = []
    for instrument in instruments:
        licences.append(
            {
                "name": instrument.licence.spdx,
                "path": instrument.licence.url,
                "title": f"Questionnaire {instrument.id} {instrument.version}",
            }
        )
        for source in instrument.sources.values():
            entry = {"title": source.citation}
            if source.url:
                entry["path"] = source.url
            if entry not in sources:
                sources.append(entry)
    return licences, sources


def _unique(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for entry in entries:
        if all(entry["name"] != e["name"] for e in out):
            out.append(entry)
    return out


def _wordings(instrument: Instrument, translations_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """Per item id: its wording and option labels in every platform language."""
    out: dict[str, list[dict[str, Any]]] = {}
    for code, language in catalogs.languages(translations_dir).items():
        sections = translated_sections(instrument, instrument.sections, code, translations_dir)
        for section in sections:
            for item in section.items:
                out.setdefault(item.id, []).append(
                    {
                        "code": code,
                        "name": language.name,
                        "dir": language.direction,
                        "review": language.review,
                        "text": item.text.strip(),
                        "options": [(o.code, o.label) for o in item.options]
                        + [(o.code, o.label) for o in item.missing_options],
                    }
                )
    return out


def version_history(session: Session, instruments: list[Instrument]) -> list[dict[str, Any]]:
    """Every stored version of the dataset's instruments, oldest first, with what changed."""
    history = []
    for instrument_id in dict.fromkeys(i.id for i in instruments):
        rows = session.scalars(
            select(InstrumentRow)
            .where(InstrumentRow.key == instrument_id)
            .order_by(InstrumentRow.id)
        ).all()
        versions = [Instrument.from_definition(row.definition) for row in rows]
        for k, version in enumerate(versions):
            previous = versions[k - 1] if k else None
            entry: dict[str, Any] = {
                "id": version.id,
                "version": version.version,
                "hash": version.content_hash,
                "in_dataset": any(i.content_hash == version.content_hash for i in instruments),
                "carried_over": list(version.carries_over.unchanged_items)
                if version.carries_over
                else [],
                "from_version": version.carries_over.from_version if version.carries_over else None,
                "added": [],
                "removed": [],
                "differences": [],
            }
            if previous is not None:
                before = {item.id for item in previous.items}
                after = {item.id for item in version.items}
                entry["added"] = sorted(after - before)
                entry["removed"] = sorted(before - after)
                entry["differences"] = carried_over_differences(version, previous)
            history.append(entry)
    return history


def codebook_html(
    session: Session,
    plan: DatasetPlan,
    *,
    translations_dir: Path,
    weighting_notes: list[str],
    disclosure: dict[str, Any] | None = None,
) -> str:
    """The HTML codebook of a dataset plan (self-contained, no scripts)."""
    wordings: dict[str, list[dict[str, Any]]] = {}
    for instrument in plan.instruments:
        for item_id, texts in _wordings(instrument, translations_dir).items():
            wordings.setdefault(item_id, texts)
    return render_template(
        "exports/codebook.html",
        plan=plan,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        wordings=wordings,
        history=version_history(session, plan.instruments),
        weighting_notes=weighting_notes,
        min_cell=MIN_CELL,
        disclosure=disclosure,
    )
