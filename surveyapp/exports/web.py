"""Download responses shared by the staff console and the JSON API.

Who may download what (per city, by the member's role):

- record-level datasets: admins and analysts; coordinators see dashboards and the aggregate
  table instead;
- free-text answers (they can hold names or addresses): only when asked for, and only for
  admins and analysts;
- the codebook and the aggregate table (small cells suppressed): every member.

Every download is written to the audit log before its first byte is sent. Object lookup and
tenant scoping are the caller's job (another city's object is a 404 before this is reached).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pandas as pd
from flask import Response, abort, stream_with_context, url_for
from flask_babel import gettext as _
from sqlalchemy import exists, select

from analysis.disclosure import publication_sample
from surveyapp import designs, scoring
from surveyapp.audit import record as audit
from surveyapp.db import utcnow
from surveyapp.exports import codebook, formats, protection, scripts
from surveyapp.exports.aggregates import aggregate_table
from surveyapp.exports.dataset import DatasetPlan, build_plan
from surveyapp.exports.rows import iter_chunks, weighting_notes
from surveyapp.extensions import db
from surveyapp.i18n import translations_dir
from surveyapp.models import (
    City,
    Initiative,
    Role,
    ScoringModel,
    User,
)
from surveyapp.reports import report_inputs

RECORD_ROLES = (Role.ADMIN, Role.ANALYST)
FREE_TEXT_ROLES = (Role.ADMIN, Role.ANALYST)
FORMAT_CHOICES = (*formats.FORMATS, "zip")
EXTENSIONS = {"csv": "csv", "parquet": "parquet", "sav": "sav", "dta": "dta"}
AGGREGATE_KEYS = ["initiative_id", "wave_order", "wave", "area", "group", "weight", "flag_exclude"]


def city_id_of(scope: str, obj: Any) -> int:
    """The id of the city a wave, an initiative or a city belongs to."""
    return {"wave": lambda: obj.city_id, "initiative": lambda: obj.city_id}.get(
        scope, lambda: obj.id
    )()


def freeze_scoring_models(scope: str, obj: Any, *, user: User) -> None:
    """Bring the scoring model of every initiative in scope up to date (committed).

    A download can come before any report: the model is then fitted here, alone, as the
    report would fit it (:func:`surveyapp.scoring.bring_up_to_date`), so that index columns
    are never empty, or scored with an out-of-date provisional model, just because nobody
    had opened a dashboard lately. Initiatives with a frozen model are left alone.
    """
    if scope == "wave":
        initiatives = designs.initiatives_for_wave(db.session, obj)
    elif scope == "initiative":
        initiatives = [obj]
    else:
        initiatives = list(
            db.session.scalars(select(Initiative).where(Initiative.city_id == obj.id))
        )
    changed = False
    for initiative in initiatives:
        has_frozen_model = db.session.scalar(
            select(
                exists().where(
                    ScoringModel.initiative_id == initiative.id,
                    ScoringModel.frozen_at.is_not(None),
                )
            )
        )
        inputs = None if has_frozen_model else report_inputs(db.session, initiative)
        if inputs is not None:
            scoring.bring_up_to_date(db.session, initiative, inputs.frame, inputs.spec)
            audit(
                db.session,
                user,
                initiative.city_id,
                "scoring_model_fitted",
                "initiative",
                initiative.id,
                responses=len(inputs.frame),
            )
            changed = True
    if changed:
        db.session.commit()


def _codebook_url(scope: str, obj: Any) -> str:
    kind = {"wave": "waves", "initiative": "initiatives", "city": "cities"}[scope]
    return url_for("console.codebook", kind=kind, object_id=obj.id, _external=True)


def check_request(fmt: str, shape: str, *, role: str, free_text: bool) -> None:
    """400 for a format or shape that does not exist, 403 when the role may not download."""
    if fmt not in FORMAT_CHOICES:
        abort(
            400,
            description=_(
                "The format must be one of %(choices)s (the link asked for %(given)s).",
                choices=", ".join(FORMAT_CHOICES),
                given=repr(fmt),
            ),
        )
    if shape not in formats.SHAPES:
        abort(
            400,
            description=_(
                "The shape must be wide or long (the link asked for %(given)s).", given=repr(shape)
            ),
        )
    if shape == "long" and fmt not in (*formats.LONG_FORMATS, "zip"):
        abort(
            400,
            description=_(
                "The long shape is offered in CSV and Parquet, not in %(format)s.", format=fmt
            ),
        )
    if role not in RECORD_ROLES:
        abort(
            403,
            description=_(
                "Response-level datasets are for admins and analysts; coordinators can "
                "download the aggregate table."
            ),
        )
    if free_text and role not in FREE_TEXT_ROLES:
        abort(403, description=_("Free-text answers are for admins and analysts only."))


def dataset_response(
    scope: str,
    obj: Any,
    *,
    user: User,
    role: str,
    fmt: str = "csv",
    shape: str = "wide",
    free_text: bool = False,
    via: str = "console",
    bundle: bool = False,
    purpose: str | None = None,
) -> Response:
    """The dataset download (see module notes); ``zip`` or ``bundle`` adds the codebook.

    The file is disclosure-controlled (:mod:`surveyapp.exports.protection`) unless a
    ``purpose`` is given: the unprotected file is for admins, and its purpose is audited.

    Raises werkzeug HTTP errors: 400 for a bad format or shape, 403 for a role that may not.
    """
    check_request(fmt, shape, role=role, free_text=free_text)
    if purpose is not None and role != Role.ADMIN:
        abort(403, description=_("Only admins can download the file without disclosure control."))
    if fmt == "zip":
        fmt, bundle = "csv", True
    freeze_scoring_models(scope, obj, user=user)
    plan = build_plan(db.session, scope, obj, free_text=free_text)
    k = protection.city_k(db.session.get(City, city_id_of(scope, obj)))
    if purpose is None:
        plan, protected = protection.protect_plan(db.session, plan, k)
        risk = protected.after
    else:
        risk = unprotected_risk(plan, k)
    audit(
        db.session,
        user,
        city_id_of(scope, obj),
        "dataset_downloaded",
        scope,
        obj.id,
        format=fmt,
        shape=shape,
        free_text=free_text,
        bundle=bundle,
        via=via,
        disclosure_control=purpose is None,
        k=k,
        below_k=risk.below_k,
        **({"purpose": purpose} if purpose is not None else {}),
    )
    db.session.commit()
    headers = {
        "Cache-Control": "no-store",
        "Link": f'<{_codebook_url(scope, obj)}>; rel="describedby"',
        "X-Content-Type-Options": "nosniff",
    }
    if bundle:
        return _bundle_response(plan, fmt, shape, headers, disclosure(plan, risk))
    name = f"{plan.name}-{shape}.{EXTENSIONS[fmt]}"
    headers["Content-Disposition"] = f'attachment; filename="{name}"'
    if fmt == "csv":
        pieces = formats.csv_rows(rows_of(plan), plan, shape)
        headers["Content-Type"] = "text/csv; charset=utf-8"
        return Response(stream_with_context(pieces), headers=headers)
    path = formats.temporary_path(f".{fmt}")
    try:
        formats.write_file(fmt, rows_of(plan), plan, shape, path)
    except Exception:
        path.unlink(missing_ok=True)
        raise
    headers["Content-Length"] = str(path.stat().st_size)
    return Response(formats.file_pieces(path), mimetype=codebook.MEDIA_TYPES[fmt], headers=headers)


def rows_of(plan: DatasetPlan) -> Iterator[pd.DataFrame]:
    """The plan's rows, as released: disclosure-controlled when the plan is protected."""
    chunks = iter_chunks(db.session, plan)
    return chunks if plan.protection is None else protection.apply(chunks, plan.protection)


def unprotected_risk(plan: DatasetPlan, k: int) -> Any:
    """The disclosure risk of the plan's file without disclosure control."""
    keys = protection.plan_keys(plan)
    columns = ["weight", *keys]
    parts = [chunk[columns] for chunk in iter_chunks(db.session, plan)]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    return protection.risk_of(frame, keys, k)


def disclosure(plan: DatasetPlan, risk: Any) -> dict[str, Any]:
    """What the codebook and datapackage say about the file's disclosure risk and control."""
    if plan.protection is not None:
        return dict(plan.protection.as_dict())
    return {
        "k": risk.k,
        "key_variables": list(risk.keys),
        "risk_before": risk.as_dict(),
        "unprotected": True,
    }


def _bundle_response(
    plan: DatasetPlan, fmt: str, shape: str, headers: dict[str, str], control: dict[str, Any]
) -> Response:
    data_name = f"data-{shape}.{EXTENSIONS[fmt]}"
    package = codebook.datapackage(
        plan, fmt=fmt, shape=shape, data_path=data_name, aggregates_path="aggregates.csv"
    )
    package["surveyapp:disclosure"] = control
    html = codebook.codebook_html(
        db.session,
        plan,
        translations_dir=translations_dir(),
        weighting_notes=weighting_notes(db.session, plan),
        disclosure=control,
    )
    members: list[tuple[str, Any]] = []
    if fmt != "csv":
        path = formats.temporary_path(f".{fmt}")
        formats.write_file(fmt, rows_of(plan), plan, shape, path)
        members.append((data_name, formats.file_pieces(path)))
    csv_name = f"data-{shape}.csv"
    members.insert(0, (csv_name, formats.csv_rows(rows_of(plan), plan, shape)))

    def aggregates() -> Iterator[bytes]:
        yield formats.aggregates_csv(aggregates_for(plan))

    members += [
        ("aggregates.csv", aggregates()),
        ("datapackage.json", [json.dumps(package, indent=1, ensure_ascii=False).encode()]),
        ("codebook.html", [html.encode("utf-8")]),
        *((name, [text.encode("utf-8")]) for name, text in scripts.scripts(plan, fmt, shape)),
    ]
    headers["Content-Disposition"] = f'attachment; filename="{plan.name}-{shape}-{fmt}.zip"'
    return Response(
        stream_with_context(formats.zip_stream(members)),
        mimetype="application/zip",
        headers=headers,
    )


def aggregates_for(plan: DatasetPlan) -> pd.DataFrame:
    """The suppressed aggregate table of a plan's rows (keys, weights and indices only).

    Made from the published sample (:func:`analysis.disclosure.publication_sample`), like
    every figure staff see, so that it changes only in steps of 10 responses per area.
    """
    indices = [v.name for v in plan.variables if v.kind == "index"]
    keys = [*AGGREGATE_KEYS, "response_id", "submitted_date"]
    parts = [chunk[keys + indices] for chunk in iter_chunks(db.session, plan)]
    rows = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=keys + indices)
    sample = publication_sample(
        rows,
        cell=["initiative_id", "wave_order", "area"],
        day="submitted_date",
        order="response_id",
        today=utcnow().date(),
    )
    return aggregate_table(rows[sample].reset_index(drop=True), indices)


def aggregates_response(scope: str, obj: Any, *, user: User, via: str = "console") -> Response:
    """The aggregate table as CSV, for every member of the city."""
    freeze_scoring_models(scope, obj, user=user)
    plan = build_plan(db.session, scope, obj)
    audit(db.session, user, city_id_of(scope, obj), "aggregates_downloaded", scope, obj.id, via=via)
    db.session.commit()
    body = formats.aggregates_csv(aggregates_for(plan))
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{plan.name}-aggregates.csv"',
            "Cache-Control": "no-store",
        },
    )


def codebook_response(scope: str, obj: Any, *, user: User, via: str = "console") -> Response:
    """The HTML codebook of a scope's dataset, for every member of the city."""
    from surveyapp.security import REPORT_CSP

    freeze_scoring_models(scope, obj, user=user)
    plan = build_plan(db.session, scope, obj)
    k = protection.city_k(db.session.get(City, city_id_of(scope, obj)))
    plan, _protected = protection.protect_plan(db.session, plan, k)
    html = codebook.codebook_html(
        db.session,
        plan,
        translations_dir=translations_dir(),
        weighting_notes=weighting_notes(db.session, plan),
        disclosure=disclosure(plan, None),
    )
    audit(db.session, user, city_id_of(scope, obj), "codebook_viewed", scope, obj.id, via=via)
    db.session.commit()
    return Response(html, mimetype="text/html", headers={"Content-Security-Policy": REPORT_CSP})
