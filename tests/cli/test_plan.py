"""`surveyapp plan`: what a design can show, before the letters go out."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from analysis import plan_design
from surveyapp.cli.main import main


def test_plain_words_for_a_small_design() -> None:
    result = CliRunner().invoke(
        main, ["plan", "--treated", "2", "--comparison", "2", "--responses", "80", "--target", "5"]
    )
    assert result.exit_code == 0, result.output
    expected = plan_design(2, 2, 80, sd=20, icc=0.03)["mdc"]
    assert f"can only show changes larger than {expected:.1f} points" in result.output
    assert "A change of 5 points cannot be shown with these areas." in result.output
    assert "Assumed: sd 20, icc 0.03" in result.output


def test_json_is_the_library_plan() -> None:
    args = ["plan", "--treated", "10", "--comparison", "10", "--responses", "120", "--json"]
    args += ["--sd", "18", "--icc", "0.02", "--panel-correlation", "0.4", "--target", "8"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    library = plan_design(10, 10, 120, sd=18, icc=0.02, panel_correlation=0.4, target_change=8)
    assert plan == pytest.approx(library)
    assert plan["responses_per_area_needed"] >= 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--treated", "1", "--comparison", "2", "--responses", "80"], "--treated"),
        (["--treated", "2", "--comparison", "2", "--responses", "0"], "--responses"),
        (["--treated", "2", "--comparison", "2", "--responses", "80", "--icc", "1"], "--icc"),
    ],
)
def test_impossible_designs_are_refused_with_the_option_named(args, message) -> None:
    result = CliRunner().invoke(main, ["plan", *args])
    assert result.exit_code == 2 and message in result.output
