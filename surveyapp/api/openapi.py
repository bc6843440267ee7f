"""The OpenAPI 3.0 document of the analysts' API, served at ``/api/openapi.json``.

Written by hand beside :mod:`surveyapp.api.services`, whose answers it describes;
``tests/platform/test_api_schema.py`` checks every answer against it and that it names
exactly the ``/api`` routes the app has.
"""

from __future__ import annotations

from typing import Any

from surveyapp.api.auth import MAX_ID
from surveyapp.api.services import DATASET_FORMATS, DATASET_SHAPES

DATASET_TYPES = {
    "csv": "text/csv",
    "parquet": "application/vnd.apache.parquet",
    "sav": "application/x-spss-sav",
    "dta": "application/x-stata-dta",
    "zip": "application/zip",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    """An object schema; every property is required unless ``required`` says otherwise."""
    return {
        "type": "object",
        "required": list(properties) if required is None else required,
        "properties": properties,
    }


def _array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return schema | {"nullable": True}


STRING = {"type": "string"}
ID = {"type": "integer", "minimum": 1}
NUMBER = _nullable({"type": "number"})
TIME = _nullable({"type": "string", "format": "date-time"})
TEXT = _nullable({"type": "string"})
STRINGS = _array(STRING)
#: A count of responses: exact, or "<10" where a small group must not be singled out.
COUNT = {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string", "enum": ["<10"]}]}
NULLABLE_COUNT = {
    "anyOf": [
        {"type": "integer", "minimum": 0, "nullable": True},
        {"type": "string", "enum": ["<10"]},
    ]
}
CI = _nullable({"type": "array", "items": NUMBER, "minItems": 2, "maxItems": 2})

SCHEMAS: dict[str, Any] = {
    "Error": _obj({"error": STRING | {"description": "What went wrong, in English."}}),
    "Role": {"type": "string", "enum": ["admin", "coordinator", "analyst"]},
    "CitySummary": _obj({"id": ID, "slug": STRING, "name": STRING, "role": _ref("Role")}),
    "Me": _obj(
        {
            "email": STRING,
            "display_name": STRING,
            "token": _obj(
                {
                    "id": ID,
                    "name": STRING,
                    "prefix": STRING | {"description": "First characters of the token."},
                    "created_at": TIME,
                    "expires_at": TIME,
                }
            ),
            "cities": _array(_ref("CitySummary")),
        }
    ),
    "CityList": _obj({"cities": _array(_ref("CitySummary"))}),
    "City": _obj(
        {
            "id": ID,
            "slug": STRING,
            "name": STRING,
            "role": _ref("Role"),
            "languages": STRINGS,
            "default_language": STRING,
            "timezone": STRING,
            "areas": _array(_obj({"id": ID, "code": STRING, "name": STRING})),
        }
    ),
    "InitiativeSummary": _obj(
        {
            "id": ID,
            "city_id": ID,
            "name": STRING,
            "pyramid_level": {
                "type": "integer",
                "minimum": 0,
                "maximum": 4,
                "description": "Prevention pyramid level: 0 societal context to 4 reaction.",
            },
            "target_constructs": STRINGS,
            "start_date": _nullable({"type": "string", "format": "date"}),
            "created_at": TIME,
        }
    ),
    "InitiativeList": _obj(
        {
            "city_id": ID,
            "initiatives": _array(_ref("InitiativeSummary")),
            "truncated": {"type": "boolean", "description": "More than 1000: only the oldest."},
        }
    ),
    "Wave": _obj(
        {
            "id": ID,
            "initiative_id": ID,
            "name": STRING,
            "status": {"type": "string", "enum": ["draft", "open", "closed", "archived"]},
            "mode": {"type": "string", "enum": ["invitation", "open_link", "both"]},
            "is_panel": {"type": "boolean"},
            "opens_at": TIME,
            "closes_at": TIME,
            "languages": STRINGS,
            "modules": STRINGS,
        }
    ),
    "WaveList": _obj(
        {
            "initiative_id": ID,
            "waves": _array(_ref("Wave")),
            "truncated": {"type": "boolean"},
        }
    ),
    "Initiative": {
        "allOf": [
            _ref("InitiativeSummary"),
            _obj(
                {
                    "description": STRING,
                    "areas": _array(
                        _obj(
                            {
                                "id": ID,
                                "code": STRING,
                                "name": STRING,
                                "role": {"type": "string", "enum": ["treated", "comparison"]},
                            }
                        )
                    ),
                    "waves": _array(_ref("Wave")),
                }
            ),
        ]
    },
    "WaveDetail": {
        "allOf": [
            _ref("Wave"),
            _obj(
                {
                    "instrument": _obj({"key": STRING, "version": STRING, "content_hash": TEXT}),
                    "complete_responses": COUNT
                    | {"description": 'Complete responses; "<10" for 1 to 9 unless you are admin.'},
                    "counts_exact": {"type": "boolean"},
                }
            ),
        ]
    },
    "ReportWave": _obj(
        {
            "label": STRING | {"description": "The wave as the report names it."},
            "wave_id": _nullable(ID),
        }
    ),
    "Verdict": _obj(
        {
            "metric": STRING,
            "value": NUMBER,
            "verdict": {"type": "string", "enum": ["good", "acceptable", "poor", "n/a"]},
            "explanation": STRING,
        }
    ),
    "IndexMean": _obj(
        {
            "construct": STRING,
            "label": TEXT,
            "arm": {"type": "string", "enum": ["treated", "comparison", "all"]},
            "wave": STRING,
            "wave_id": _nullable(ID),
            "n": COUNT,
            "mean": NUMBER,
            "ci_lower": NUMBER,
            "ci_upper": NUMBER,
            "withheld": TEXT | {"description": "Why the estimate is not shown, if it is not."},
        }
    ),
    "Reliability": _obj(
        {
            "construct": STRING,
            "label": TEXT,
            "n": NULLABLE_COUNT,
            "alpha": NUMBER,
            "alpha_ci": CI,
            "omega": NUMBER,
            "omega_ci": CI,
            "verdicts": _array(_ref("Verdict")),
            "note": TEXT,
            "withheld": TEXT,
        }
    ),
    "Fit": _obj(
        {
            "n": NULLABLE_COUNT,
            "chi2": NUMBER,
            "df": NUMBER,
            "pvalue": NUMBER,
            "cfi": NUMBER,
            "tli": NUMBER,
            "rmsea": NUMBER,
            "rmsea_ci": CI,
            "srmr": NUMBER,
            "converged": _nullable({"type": "boolean"}),
            "verdicts": _array(_ref("Verdict")),
            "withheld": TEXT,
        }
    ),
    "Invariance": _obj(
        {
            "across": {"type": "string", "enum": ["wave", "language"]},
            "groups": _array(_obj({"group": STRING, "n": COUNT})),
            "left_out": STRINGS,
            "levels": _array(
                {
                    "type": "object",
                    "description": "Configural, metric and scalar fits and whether each holds.",
                }
            ),
            "verdict": _nullable(
                _obj(
                    {
                        "verdict": {"type": "string", "enum": ["good", "acceptable", "poor"]},
                        "explanation": STRING,
                    }
                )
            ),
            "skipped": TEXT,
        }
    ),
    "Indices": _obj(
        {
            "initiative_id": ID,
            "ci_level": {"type": "number", "enum": [0.95]},
            "waves": _array(_ref("ReportWave")),
            "reference_wave": TEXT,
            "scoring_model": _nullable(
                _obj(
                    {
                        "hash": STRING
                        | {"description": "SHA-256; the dataset's scoring_model column."},
                        "status": {
                            "type": "string",
                            "enum": ["frozen", "provisional", "refitted"],
                            "description": (
                                "provisional: the reference wave is still collecting and the "
                                "model is refitted until it closes (index values stay the "
                                "same, its reference n, means and SDs change); frozen: fixed "
                                "for good; refitted: fitted for this answer only, because "
                                "the waves no longer ask every module of the frozen model."
                            ),
                        },
                        "reference_n": COUNT,
                        "note": TEXT,
                    }
                )
            ),
            "withheld": TEXT | {"description": "Why there are no estimates at all, if so."},
            "indices": _array(_ref("IndexMean")),
            "validation": _obj(
                {
                    "reliability": _array(_ref("Reliability")),
                    "fit": _ref("Fit"),
                    "invariance": _array(_ref("Invariance")),
                }
            ),
            "notes": STRINGS,
        }
    ),
    "Change": _obj(
        {
            "construct": STRING,
            "label": TEXT,
            "arm": {"type": "string", "enum": ["treated", "comparison", "all"]},
            "before": STRING,
            "after": STRING,
            "before_wave_id": _nullable(ID),
            "after_wave_id": _nullable(ID),
            "n_before": COUNT,
            "n_after": COUNT,
            "change": NUMBER,
            "ci_lower": NUMBER,
            "ci_upper": NUMBER,
            "pvalue": NUMBER,
            "effect_size": NUMBER,
            "withheld": TEXT,
        }
    ),
    "DifferenceInDifferences": _obj(
        {
            "construct": STRING,
            "label": TEXT,
            "before": TEXT,
            "after": TEXT,
            "before_wave_id": _nullable(ID),
            "after_wave_id": _nullable(ID),
            "did": NUMBER,
            "se": NUMBER,
            "ci_lower": NUMBER,
            "ci_upper": NUMBER,
            "pvalue": NUMBER,
            "effect_size": NUMBER,
            "method": TEXT,
            "n_areas_treated": _nullable({"type": "integer", "minimum": 0}),
            "n_areas_comparison": _nullable({"type": "integer", "minimum": 0}),
            "cells": {
                "type": "object",
                "description": "n and mean per arm and wave (treated_before, ...).",
                "additionalProperties": _obj({"n": COUNT, "mean": NUMBER}),
            },
            "withheld": TEXT,
        }
    ),
    "Changes": _obj(
        {
            "initiative_id": ID,
            "ci_level": {"type": "number", "enum": [0.95]},
            "waves": _array(_ref("ReportWave")),
            "withheld": TEXT,
            "changes": _array(_ref("Change")),
            "did": _array(_ref("DifferenceInDifferences")),
            "notes": STRINGS,
        }
    ),
}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref("Error")}},
    }


RESPONSES = {
    "BadRequest": _error("A query parameter is not valid; the message names it."),
    "Unauthorized": _error("No token, or an unknown, revoked or expired one.")
    | {"headers": {"WWW-Authenticate": {"schema": STRING, "description": "Bearer challenge"}}},
    "Forbidden": _error("Your role in this city does not allow this."),
    "NotFound": _error("No such object in your cities."),
    "TooManyRequests": _error("Too many requests with this token; wait a minute."),
}


def _path_id(name: str, what: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": f"Id of the {what}.",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    }


def _get(
    summary: str,
    schema: str,
    parameters: list[dict[str, Any]] | None = None,
    *,
    tag: str,
    errors: tuple[str, ...] = ("Unauthorized", "NotFound", "TooManyRequests"),
) -> dict[str, Any]:
    codes = {"BadRequest": "400", "Unauthorized": "401", "Forbidden": "403", "NotFound": "404"}
    codes["TooManyRequests"] = "429"
    operation: dict[str, Any] = {
        "summary": summary,
        "tags": [tag],
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": _ref(schema)}}}
        }
        | {codes[name]: {"$ref": f"#/components/responses/{name}"} for name in errors},
    }
    if parameters:
        operation["parameters"] = parameters
    return {"get": operation}


DATASET_PARAMETERS = [
    {
        "name": "format",
        "in": "query",
        "description": "File format.",
        "schema": {"type": "string", "enum": list(DATASET_FORMATS), "default": "csv"},
    },
    {
        "name": "shape",
        "in": "query",
        "description": "wide: one row per response; long: one row per answer.",
        "schema": {"type": "string", "enum": list(DATASET_SHAPES), "default": "wide"},
    },
    {
        "name": "free_text",
        "in": "query",
        "description": "Include free-text answers (they can hold personal details).",
        "schema": {"type": "boolean", "default": False},
    },
    {
        "name": "bundle",
        "in": "query",
        "description": "A ZIP with the data file in the chosen format, the aggregate table, "
        "datapackage.json (Frictionless) and codebook.html. format=zip is a CSV bundle.",
        "schema": {"type": "boolean", "default": False},
    },
]


def _dataset(summary: str, parameter: dict[str, Any]) -> dict[str, Any]:
    operation = _get(
        summary,
        "Error",
        [parameter, *DATASET_PARAMETERS],
        tag="datasets",
        errors=("BadRequest", "Unauthorized", "Forbidden", "NotFound", "TooManyRequests"),
    )
    operation["get"]["responses"]["200"] = {
        "description": "The dataset as a file download.",
        "content": {
            media: {"schema": {"type": "string", "format": "binary"}}
            for media in DATASET_TYPES.values()
        },
    }
    return operation


def document() -> dict[str, Any]:
    """The OpenAPI document as a dict."""
    city = _path_id("city_id", "city")
    initiative = _path_id("initiative_id", "initiative")
    wave = _path_id("wave_id", "wave")
    paths = {
        "/api/openapi.json": {
            "get": {
                "summary": "This document.",
                "tags": ["meta"],
                "security": [],
                "responses": {
                    "200": {
                        "description": "The OpenAPI document.",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
        "/api/v1/me": _get("You, your token and your cities with your role.", "Me", tag="meta"),
        "/api/v1/cities": _get("Your cities.", "CityList", tag="cities"),
        "/api/v1/cities/{city_id}": _get("A city and its areas.", "City", [city], tag="cities"),
        "/api/v1/cities/{city_id}/initiatives": _get(
            "A city's initiatives, oldest first.", "InitiativeList", [city], tag="cities"
        ),
        "/api/v1/cities/{city_id}/dataset": _dataset(
            "Complete responses of every initiative of the city.", city
        ),
        "/api/v1/initiatives/{initiative_id}": _get(
            "An initiative, its treated and comparison areas and its waves.",
            "Initiative",
            [initiative],
            tag="initiatives",
        ),
        "/api/v1/initiatives/{initiative_id}/waves": _get(
            "An initiative's waves, oldest first.", "WaveList", [initiative], tag="initiatives"
        ),
        "/api/v1/initiatives/{initiative_id}/indices": _get(
            "Index means per construct, arm and wave with 95% CIs; validation verdicts.",
            "Indices",
            [initiative],
            tag="estimates",
        ),
        "/api/v1/initiatives/{initiative_id}/changes": _get(
            "Wave-to-wave changes per arm and difference-in-differences, with 95% CIs.",
            "Changes",
            [initiative],
            tag="estimates",
        ),
        "/api/v1/initiatives/{initiative_id}/dataset": _dataset(
            "Complete responses of every wave of the initiative.", initiative
        ),
        "/api/v1/waves/{wave_id}": _get(
            'A wave: status, dates, languages, complete responses ("<10" unless admin).',
            "WaveDetail",
            [wave],
            tag="waves",
        ),
        "/api/v1/waves/{wave_id}/dataset": _dataset("Complete responses of the wave.", wave),
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "surveyapp analysts' API",
            "version": "1.0.0",
            "description": (
                "Read-only access to a city's initiatives, waves, validated indices, change "
                "estimates and datasets. Make a token at /staff/tokens and send it as "
                "'Authorization: Bearer <token>'. You see the cities where you are a member; "
                'any other id answers 404. Counts from 1 to 9 show as "<10" unless you are '
                'the city\'s admin. Errors are JSON: {"error": "..."}.'
            ),
        },
        "security": [{"bearerAuth": []}],
        "tags": [{"name": name} for name in ("meta", "cities", "initiatives", "waves")]
        + [{"name": "estimates"}, {"name": "datasets"}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from /staff/tokens (sa_...).",
                }
            },
            "schemas": SCHEMAS,
            "responses": RESPONSES,
        },
    }
