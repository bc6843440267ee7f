"""Staff dashboards: an initiative's indices, a city's initiatives, and shared measurement.

Server-made pages with SVG charts and no JavaScript. The per-object pages look objects up
through the user's memberships like every console page (another city's initiative or city
is a 404); the shared measurement page is open to every signed-in staff member by design
and shows only aggregates, each city against its own baseline, never a ranking.
"""

from __future__ import annotations

from flask import render_template
from flask_babel import format_decimal
from flask_babel import gettext as _
from markupsafe import Markup

from analysis import MIN_N, svg
from analysis.report.answer import answer_sentences
from surveyapp.auth.views import current_user, login_required
from surveyapp.console import access, dashboard_data, monitoring, shared_measurement
from surveyapp.console.blueprint import bp
from surveyapp.console.dashboard_data import Estimate, IndexPanel
from surveyapp.console.shared_measurement import CityPanel
from surveyapp.extensions import db
from surveyapp.models import Role
from surveyapp.reports import cached_initiative_report


@bp.get("/initiatives/<int:initiative_id>/dashboard")
@login_required
def initiative_dashboard(initiative_id: int):
    """An initiative's indices by wave, their changes, and how far the measurement holds."""
    initiative, membership = access.initiative(initiative_id)
    report = cached_initiative_report(db.session, initiative, actor=current_user())
    db.session.commit()
    board = dashboard_data.initiative_dashboard(
        report.content, list(initiative.target_constructs or [])
    )
    # One sentence per index, the initiative's aims first (as the panels below).
    targets = set(initiative.target_constructs or [])
    entries = sorted(report.content.get("answer", []), key=lambda a: a["index"] not in targets)
    answer = answer_sentences(
        entries, _, number=_number, adjusted=report.content.get("multiplicity")
    )
    return render_template(
        "console/dashboard_initiative.html",
        user=current_user(),
        initiative=initiative,
        membership=membership,
        board=board,
        answer=answer,
        trend_svg=_trend_svg,
        **_helpers(),
    )


@bp.get("/cities/<int:city_id>/dashboard")
@login_required
def city_dashboard(city_id: int):
    """A city's initiatives by prevention pyramid level, each with its latest changes."""
    city, membership = access.city(city_id)
    user = current_user()
    levels = dashboard_data.city_dashboard(
        db.session,
        city_id,
        actor=user,
        report=lambda initiative: cached_initiative_report(db.session, initiative, actor=user),
    )
    db.session.commit()
    return render_template(
        "console/dashboard_city.html",
        user=user,
        city=city,
        membership=membership,
        levels=levels,
        exact=membership.role == Role.ADMIN,
        masked=monitoring.masked,
        **_helpers(),
    )


@bp.get("/shared")
@login_required
def shared_dashboard():
    """Every city that used the standard questionnaire, each against its own baseline."""
    return render_template(
        "console/dashboard_shared.html",
        user=current_user(),
        panels=shared_measurement.city_panels(db.session),
        change_svg=_change_svg,
        **_helpers(),
    )


# --- Presentation ---------------------------------------------------------------------------


def _helpers() -> dict:
    """Formatting and wording shared by the three dashboards' templates."""
    return {
        "number": _number,
        "interval": _interval,
        "reading": _reading,
        "withheld_text": _withheld_text,
        "min_n": MIN_N,
        "arm_names": {
            "treated": _("Treated areas"),
            "comparison": _("Comparison areas"),
            "difference": _("Treated minus comparison"),
        },
        "verdict_names": {
            "good": _("good"),
            "acceptable": _("acceptable"),
            "poor": _("poor"),
            "n/a": _("not available"),
        },
    }


def _number(value: float | None, signed: bool = False) -> str:
    """A mean or a change with one decimal in the page's locale; changes with their sign."""
    if value is None:
        return "–"
    return format_decimal(value, format="+#,##0.0;-#,##0.0" if signed else "#,##0.0")


def _interval(estimate: Estimate, signed: bool = False) -> str:
    # I18N: a 95% confidence interval, e.g. "46.4 to 56.1".
    return _(
        "%(lower)s to %(upper)s",
        lower=_number(estimate.lower, signed),
        upper=_number(estimate.upper, signed),
    )


def _reading(estimate: Estimate, kind: str = "change") -> str:
    """What a change (or a treated-minus-comparison difference) means, in plain words."""
    if not estimate.shown:
        return _withheld_text(estimate)
    direction = estimate.reading
    if kind == "difference":
        return {
            "up": _("The treated areas rose more than the comparison areas."),
            "down": _("The treated areas rose less (or fell more) than the comparison areas."),
            "unclear": _(
                "The interval includes 0: no clear difference between the treated and the "
                "comparison areas."
            ),
        }[direction]
    return {
        "up": _("Rose: the whole interval is above 0."),
        "down": _("Fell: the whole interval is below 0."),
        "unclear": _("The interval includes 0: no clear change."),
    }[direction]


def _withheld_text(estimate: Estimate) -> str:
    kind = estimate.withheld_kind
    if kind == "small":
        return _("Withheld: fewer than %(min_n)s answers, too few to publish.", min_n=MIN_N)
    if kind == "areas":
        return _("Withheld: this needs at least 2 treated and 2 comparison areas.")
    return _("Withheld: %(reason)s", reason=estimate.withheld or "–")


def _trend_svg(panel: IndexPanel) -> Markup:
    """The panel's index by wave for treated and comparison areas, with 95% intervals."""
    series = [
        (_("Treated areas"), panel.series("treated")),
        (_("Comparison areas"), panel.series("comparison")),
    ]
    shown = sum(1 for _label, points in series for point in points if point)
    withheld = sum(1 for _label, points in series for point in points if not point)
    chart = svg.marked_trend_chart(
        panel.waves,
        series,
        title=_("%(index)s by wave", index=panel.label),
        desc=_(
            "Index from 0 to 100 in the treated areas (solid line, circles) and the "
            "comparison areas (dashed line, squares) at each wave, with 95%% intervals. "
            "%(shown)s estimates shown, %(withheld)s withheld. The table below has the "
            "same numbers.",
            shown=shown,
            withheld=withheld,
        ),
        wave_axis=_("Wave"),
        index_axis=_("Index (0 to 100)"),
    )
    return Markup(chart)  # analysis.svg escapes every text it draws


def _change_svg(panel: CityPanel) -> Markup:
    """The city's change per index from its baseline to its latest waves, with intervals."""
    rows = []
    for index in panel.indices:
        change = index.change
        if change is not None and change.shown:
            rows.append(
                (
                    index.label,
                    (change.value, change.lower, change.upper),
                    _number(change.value, signed=True),
                )
            )
        else:
            rows.append((index.label, None, _("withheld")))
    chart = svg.change_chart(
        rows,
        title=_("%(city)s: change since its own baseline", city=panel.name),
        desc=_(
            "Change of each index from this city's baseline waves to its latest waves, "
            "in index points with 95% intervals; the dashed line is no change. The table "
            "below has the same numbers."
        ),
        axis=_("Change (index points)"),
    )
    return Markup(chart)  # analysis.svg escapes every text it draws
