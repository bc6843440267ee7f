"""What the API answers: plain JSON-ready dicts built from models and validation reports.

Every function here reads; the views look objects up through the token user's
memberships before calling them. The shapes are described in :mod:`surveyapp.api.openapi`;
change both together.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis.disclosure import MIN_CELL as SMALL
from surveyapp import designs
from surveyapp.models import (
    ApiToken,
    City,
    Initiative,
    Membership,
    Response,
    ResponseStatus,
    Role,
    User,
    Wave,
)

#: Lists answer at most this many objects, oldest first, and say when there were more.
MAX_LIST = 1000
#: Dataset downloads: file formats and table shapes (the exports module writes them).
DATASET_FORMATS = ("csv", "parquet", "sav", "dta", "zip")
DATASET_SHAPES = ("wide", "long")
#: Confidence level of every interval in the indices and changes.
CI_LEVEL = 0.95


def _when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def masked_count(count: int, exact: bool) -> int | str:
    """A count as the API shows it: exact for admins, "<10" for small non-zero counts otherwise.

    The same rule as the console's monitoring pages, so that a small group of residents
    cannot be singled out through the API either.
    """
    if exact or count == 0 or count >= SMALL:
        return count
    return f"<{SMALL}"


# --- Who and where --------------------------------------------------------------------------


def city_summary(membership: Membership) -> dict[str, Any]:
    """A city with the token user's role in it."""
    city = membership.city
    return {"id": city.id, "slug": city.slug, "name": city.name, "role": membership.role}


def me(user: User, token: ApiToken, memberships: list[Membership]) -> dict[str, Any]:
    """The token's user, the token itself (never its secret) and the user's cities."""
    return {
        "email": user.email,
        "display_name": user.display_name,
        "token": {
            "id": token.id,
            "name": token.name,
            "prefix": token.prefix,
            "created_at": _when(token.created_at),
            "expires_at": _when(token.expires_at),
        },
        "cities": [city_summary(m) for m in memberships],
    }


def city_detail(city: City, membership: Membership) -> dict[str, Any]:
    """A city, its languages and its areas (by code)."""
    return city_summary(membership) | {
        "languages": list(city.languages or []),
        "default_language": city.default_language,
        "timezone": city.timezone,
        "areas": [
            {"id": area.id, "code": area.code, "name": area.name}
            for area in sorted(city.areas, key=lambda a: (a.code, a.id))
        ],
    }


# --- Initiatives and waves ------------------------------------------------------------------


def initiative_summary(initiative: Initiative) -> dict[str, Any]:
    """An initiative without its areas and waves."""
    return {
        "id": initiative.id,
        "city_id": initiative.city_id,
        "name": initiative.name,
        "pyramid_level": initiative.pyramid_level,
        "target_constructs": list(initiative.target_constructs or []),
        "start_date": _when(initiative.start_date),
        "created_at": _when(initiative.created_at),
    }


def city_initiatives(session: Session, city: City) -> dict[str, Any]:
    """The city's initiatives, oldest first, at most :data:`MAX_LIST`."""
    rows = session.scalars(
        select(Initiative)
        .where(Initiative.city_id == city.id)
        .order_by(Initiative.id)
        .limit(MAX_LIST + 1)
    ).all()
    return {
        "city_id": city.id,
        "initiatives": [initiative_summary(i) for i in rows[:MAX_LIST]],
        "truncated": len(rows) > MAX_LIST,
    }


def wave_summary(wave: Wave) -> dict[str, Any]:
    """A wave's set-up and status (no counts)."""
    return {
        "id": wave.id,
        "city_id": wave.city_id,
        "initiative_id": wave.initiative_id,
        "citywide": wave.initiative_id is None,
        "name": wave.name,
        "status": wave.status,
        "mode": wave.mode,
        "is_panel": wave.is_panel,
        "opens_at": _when(wave.opens_at),
        "closes_at": _when(wave.closes_at),
        "languages": list(wave.languages or []),
        "modules": list(wave.modules or []),
    }


def _waves(session: Session, initiative: Initiative) -> list[dict[str, Any]]:
    """Its own waves and the city-wide rounds that evaluate it (:mod:`surveyapp.designs`)."""
    return [
        wave_summary(wave) | {"timing": designs.timing(wave, initiative.start_date)}
        for wave in designs.waves_for_initiative(session, initiative)[: MAX_LIST + 1]
    ]


def initiative_detail(session: Session, initiative: Initiative) -> dict[str, Any]:
    """An initiative with its area design (treated and comparison areas) and its waves."""
    waves = _waves(session, initiative)
    links = sorted(initiative.area_links, key=lambda link: (link.role, link.area.code))
    return initiative_summary(initiative) | {
        "description": initiative.description,
        "areas": [
            {"id": link.area.id, "code": link.area.code, "name": link.area.name, "role": link.role}
            for link in links
        ],
        "waves": waves[:MAX_LIST],
    }


def initiative_waves(session: Session, initiative: Initiative) -> dict[str, Any]:
    """The initiative's waves, oldest first."""
    waves = _waves(session, initiative)
    return {
        "initiative_id": initiative.id,
        "waves": waves[:MAX_LIST],
        "truncated": len(waves) > MAX_LIST,
    }


def wave_detail(session: Session, wave: Wave, membership: Membership) -> dict[str, Any]:
    """A wave with its questionnaire version and its number of complete responses."""
    complete = session.scalar(
        select(func.count(Response.id)).where(
            Response.wave_id == wave.id, Response.status == ResponseStatus.COMPLETE
        )
    )
    exact = membership.role == Role.ADMIN
    return wave_summary(wave) | {
        "instrument": {
            "key": wave.instrument.key,
            "version": wave.instrument.version,
            "content_hash": wave.frozen_instrument_hash,
        },
        "complete_responses": masked_count(complete or 0, exact),
        "counts_exact": exact,
    }


# --- Indices and change (from the validation report) -----------------------------------------


def report_wave_ids(session: Session, initiative: Initiative) -> dict[str, int]:
    """Wave ids by the labels the validation report uses ("1. Baseline", ...).

    :func:`surveyapp.reports.initiative_frame` numbers the waves that have complete
    responses in id order; the same numbering is rebuilt here so that analysts can join
    the estimates with ``/waves``.
    """
    rows = session.execute(
        select(Wave.id, Wave.name)
        .join(Response, Response.wave_id == Wave.id)
        .where(designs.response_scope(session, initiative))
        .where(Response.status == ResponseStatus.COMPLETE)
        .group_by(Wave.id, Wave.name)
        .order_by(Wave.id)
    ).all()
    return {f"{number}. {name}": wave_id for number, (wave_id, name) in enumerate(rows, 1)}


def _report_waves(content: dict[str, Any], ids: dict[str, int]) -> list[dict[str, Any]]:
    return [{"label": label, "wave_id": ids.get(label)} for label in content.get("waves", [])]


def _reason(entry: Any) -> str | None:
    """Why a part of the report is not there (withheld for disclosure control or skipped)."""
    if not isinstance(entry, dict):
        return None
    reason = entry.get("withheld") or entry.get("skipped")
    return str(reason) if reason else None


def _indices_reason(content: dict[str, Any]) -> str | None:
    return content.get("withheld") or _reason(content.get("indices"))


def _constructs(content: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    indices = content.get("indices") or {}
    if _reason(indices):
        return []
    return [(cid, entry) for cid, entry in indices.items() if isinstance(entry, dict)]


def indices(session: Session, initiative: Initiative, content: dict[str, Any]) -> dict[str, Any]:
    """Index means per construct x arm x wave with 95% CIs, and the validation verdicts."""
    ids = report_wave_ids(session, initiative)
    means = [
        {
            "construct": cid,
            "label": entry.get("label"),
            "arm": m["arm"],
            "wave": m["wave"],
            "wave_id": ids.get(m["wave"]),
            "n": m["n"],
            "mean": m["mean"],
            "ci_lower": m["ci_lower"],
            "ci_upper": m["ci_upper"],
            "withheld": m["withheld"],
        }
        for cid, entry in _constructs(content)
        for m in entry.get("means", [])
    ]
    return {
        "initiative_id": initiative.id,
        "ci_level": CI_LEVEL,
        "waves": _report_waves(content, ids),
        "reference_wave": (content.get("parameters") or {}).get("reference_wave"),
        "scoring_model": _scoring_model(content),
        "withheld": _indices_reason(content),
        "indices": means,
        "validation": _validation(content),
        "notes": list(content.get("notes") or []),
    }


def _scoring_model(content: dict[str, Any]) -> dict[str, Any] | None:
    """The hash and state of the model the indices were scored with (datasets carry it)."""
    model = content.get("scoring_model")
    if not model:
        return None
    return {
        "hash": model["hash"],
        "status": content.get("scoring_model_status", "frozen"),
        "reference_n": masked_count(model["reference"]["n"], exact=False),
        "note": content.get("scoring_model_provisional"),
    }


def _validation(content: dict[str, Any]) -> dict[str, Any]:
    """Reliability per construct, CFA fit and measurement invariance, with their verdicts."""
    reliability = []
    for cid, entry in (content.get("constructs") or {}).items():
        rel = entry.get("reliability") or {}
        reliability.append(
            {
                "construct": cid,
                "label": entry.get("label"),
                "n": rel.get("n"),
                "alpha": rel.get("alpha"),
                "alpha_ci": rel.get("alpha_ci"),
                "omega": rel.get("omega"),
                "omega_ci": rel.get("omega_ci"),
                "omega_ordinal": next(
                    (v["value"] for v in rel.get("verdicts", []) if v["metric"] == "omega_ordinal"),
                    None,
                ),
                "verdicts": rel.get("verdicts", []),
                "note": rel.get("note"),
                "withheld": _reason(entry) or _reason(rel),
            }
        )
    cfa = content.get("cfa") or {}
    fit = {
        key: cfa.get(key)
        for key in ("n", "chi2", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci", "srmr")
    }
    fit |= {
        "converged": cfa.get("converged"),
        "verdicts": cfa.get("verdicts", []),
        "withheld": _reason(cfa) or (content.get("withheld") if not cfa else None),
    }
    invariance = [
        {
            "across": across,
            "groups": entry.get("groups", []),
            "left_out": entry.get("left_out", []),
            "levels": entry.get("levels", []),
            "verdict": entry.get("verdict"),
            "skipped": entry.get("skipped"),
        }
        for across, entry in (content.get("invariance") or {}).items()
    ]
    return {"reliability": reliability, "fit": fit, "invariance": invariance}


def changes(session: Session, initiative: Initiative, content: dict[str, Any]) -> dict[str, Any]:
    """Wave-to-wave change per construct and arm, and difference-in-differences, with CIs."""
    ids = report_wave_ids(session, initiative)
    stats = ("change", "ci_lower", "ci_upper", "pvalue", "effect_size")
    wave_changes = [
        {
            "construct": cid,
            "label": entry.get("label"),
            "arm": ch["arm"],
            "before": ch["before"],
            "after": ch["after"],
            "before_wave_id": ids.get(ch["before"]),
            "after_wave_id": ids.get(ch["after"]),
            "n_before": ch["n_before"],
            "n_after": ch["n_after"],
            **{key: ch.get(key) for key in stats},
            "withheld": ch.get("withheld"),
        }
        for cid, entry in _constructs(content)
        for ch in entry.get("changes", [])
    ]
    did_stats = ("did", "se", "ci_lower", "ci_upper", "pvalue", "effect_size")
    dids = []
    for cid, entry in _constructs(content):
        for d in entry.get("did", []):
            skipped = d.get("skipped")
            dids.append(
                {
                    "construct": cid,
                    "label": entry.get("label"),
                    "before": d.get("before"),
                    "after": d.get("after"),
                    "before_wave_id": ids.get(d.get("before")),
                    "after_wave_id": ids.get(d.get("after")),
                    **{key: d.get(key) for key in did_stats},
                    "method": d.get("method"),
                    "n_areas_treated": d.get("n_areas_treated"),
                    "n_areas_comparison": d.get("n_areas_comparison"),
                    "cells": d.get("cells", {}),
                    "withheld": d.get("withheld") or skipped,
                }
            )
    return {
        "initiative_id": initiative.id,
        "ci_level": CI_LEVEL,
        "waves": _report_waves(content, ids),
        "withheld": _indices_reason(content),
        "changes": wave_changes,
        "did": dids,
        "notes": list(content.get("notes") or []),
    }
