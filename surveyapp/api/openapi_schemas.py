"""The component schemas of the OpenAPI document: the shapes of the API's answers.

Each schema mirrors an answer of :mod:`surveyapp.api.services`; :mod:`surveyapp.api.openapi`
puts them into the document beside the paths that return them.
"""

from __future__ import annotations

from typing import Any

from analysis.disclosure import HIDDEN, SMALL


def ref(name: str) -> dict[str, str]:
    """A reference to the component schema ``name``."""
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
#: A count of responses: exact, "<10" where a small group must not be singled out, or "≥10"
#: where the count is hidden so that a small one cannot be recomputed from it.
MASKED = {"type": "string", "enum": [SMALL, HIDDEN]}
COUNT = {"anyOf": [{"type": "integer", "minimum": 0}, MASKED]}
NULLABLE_COUNT = {"anyOf": [{"type": "integer", "minimum": 0, "nullable": True}, MASKED]}
CI = _nullable({"type": "array", "items": NUMBER, "minItems": 2, "maxItems": 2})

SCHEMAS: dict[str, Any] = {
    "Error": _obj({"error": STRING | {"description": "What went wrong, in English."}}),
    "Role": {"type": "string", "enum": ["admin", "coordinator", "analyst"]},
    "CitySummary": _obj({"id": ID, "slug": STRING, "name": STRING, "role": ref("Role")}),
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
            "cities": _array(ref("CitySummary")),
        }
    ),
    "CityList": _obj({"cities": _array(ref("CitySummary"))}),
    "City": _obj(
        {
            "id": ID,
            "slug": STRING,
            "name": STRING,
            "role": ref("Role"),
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
            "initiatives": _array(ref("InitiativeSummary")),
            "truncated": {"type": "boolean", "description": "More than 1000: only the oldest."},
        }
    ),
    "Wave": _obj(
        {
            "id": ID,
            "city_id": ID,
            "initiative_id": _nullable(
                ID | {"description": "Null for a city-wide round, owned by the city."}
            ),
            "citywide": {"type": "boolean"},
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
    "InitiativeWave": {
        "allOf": [
            ref("Wave"),
            _obj(
                {
                    "timing": {
                        "type": "string",
                        "enum": ["before", "after", "spanning", "undated"],
                        "description": "Relative to the initiative's start date: closed by "
                        "then, opened on or after it, spanning it (or no closing date), or "
                        "undated (no opening date or no start date).",
                    }
                }
            ),
        ]
    },
    "WaveList": _obj(
        {
            "initiative_id": ID,
            "waves": _array(ref("InitiativeWave")),
            "truncated": {"type": "boolean"},
        }
    ),
    "Initiative": {
        "allOf": [
            ref("InitiativeSummary"),
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
                    "waves": _array(ref("InitiativeWave")),
                }
            ),
        ]
    },
    "WaveDetail": {
        "allOf": [
            ref("Wave"),
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
            "omega_ordinal": NUMBER
            | {"description": "Categorical omega (Green & Yang 2009) of the 0-100 index."},
            "verdicts": _array(ref("Verdict")),
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
            "verdicts": _array(ref("Verdict")),
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
            "waves": _array(ref("ReportWave")),
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
            "indices": _array(ref("IndexMean")),
            "validation": _obj(
                {
                    "reliability": _array(ref("Reliability")),
                    "fit": ref("Fit"),
                    "invariance": _array(ref("Invariance")),
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
            "waves": _array(ref("ReportWave")),
            "withheld": TEXT,
            "changes": _array(ref("Change")),
            "did": _array(ref("DifferenceInDifferences")),
            "notes": STRINGS,
        }
    ),
}
