"""The OpenAPI 3.0 document of the analysts' API, served at ``/api/openapi.json``.

Written by hand beside :mod:`surveyapp.api.services`, whose answers it describes;
``tests/api/test_openapi.py`` checks every answer against it and that it names
exactly the ``/api`` routes the app has.
"""

from __future__ import annotations

from typing import Any

from surveyapp.api.auth import MAX_ID
from surveyapp.api.openapi_schemas import SCHEMAS, STRING, ref
from surveyapp.api.services import DATASET_FORMATS, DATASET_SHAPES

DATASET_TYPES = {
    "csv": "text/csv",
    "parquet": "application/vnd.apache.parquet",
    "sav": "application/x-spss-sav",
    "dta": "application/x-stata-dta",
    "zip": "application/zip",
}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": ref("Error")}},
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
            "200": {"description": "OK", "content": {"application/json": {"schema": ref(schema)}}}
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


def _paths() -> dict[str, Any]:
    """Every ``/api`` route the app has, with its operation."""
    city = _path_id("city_id", "city")
    initiative = _path_id("initiative_id", "initiative")
    wave = _path_id("wave_id", "wave")
    return {
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


def document() -> dict[str, Any]:
    """The OpenAPI document as a dict."""
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
        "paths": _paths(),
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
