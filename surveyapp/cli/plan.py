"""``surveyapp plan``: what a before/after design can show, before the letters go out."""

from __future__ import annotations

import json

import click

# Assumptions, not measurements of this city: pass --sd and --icc from earlier waves.
from analysis.planning import DEFAULT_ICC, DEFAULT_SD


@click.command("plan")
@click.option("--treated", type=click.IntRange(min=2), required=True, help="Treated areas.")
@click.option("--comparison", type=click.IntRange(min=2), required=True, help="Comparison areas.")
@click.option(
    "--responses",
    type=click.FloatRange(min=1),
    required=True,
    help="Complete answers expected per area and wave (letters x response rate).",
)
@click.option(
    "--sd",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_SD,
    show_default=True,
    help="Standard deviation of the index (0-100 points).",
)
@click.option(
    "--icc",
    type=click.FloatRange(min=0, max=1, max_open=True),
    default=DEFAULT_ICC,
    show_default=True,
    help="Share of the variance between area-waves.",
)
@click.option(
    "--panel-correlation",
    type=click.FloatRange(min=-1, max=1, min_open=True, max_open=True),
    help="Correlation of a resident's two answers, for a panel (same households twice).",
)
@click.option(
    "--target",
    type=click.FloatRange(min=0, min_open=True),
    help="A change (points) to plan for: the answers per area it needs.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
def plan(
    treated: int,
    comparison: int,
    responses: float,
    sd: float,
    icc: float,
    panel_correlation: float | None,
    target: float | None,
    as_json: bool,
) -> None:
    """Minimum detectable change of a difference-in-differences design (80% power, 5%)."""
    from analysis import plan_design

    result = plan_design(
        treated,
        comparison,
        responses,
        sd=sd,
        icc=icc,
        panel_correlation=panel_correlation,
        target_change=target,
    )
    if as_json:
        click.echo(json.dumps(result, indent=1))
        return
    click.echo(
        f"With {treated} treated and {comparison} comparison areas and {responses:g} answers "
        f"per area and wave, this design can only show changes larger than "
        f"{result['mdc']:.1f} points (on a 0-100 index; 80% power, 5% two-sided)."
    )
    click.echo(
        f"However many letters are sent, it cannot go below {result['mdc_unlimited']:.1f} "
        "points: only more areas lower that."
    )
    if target is not None:
        needed = result["responses_per_area_needed"]
        if needed is None:
            click.echo(f"A change of {target:g} points cannot be shown with these areas.")
        else:
            click.echo(f"A change of {target:g} points needs {needed} answers per area and wave.")
    click.echo(f"Assumed: sd {sd:g}, icc {icc:g} (see docs/statistics.md, Planning).")
