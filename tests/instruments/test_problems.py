"""Validation problems: each bad fixture names the file, the item and the mistake."""

from pathlib import Path

import pytest

from surveyapp.instruments import InstrumentError, Problem, load_instrument, validate_files

FIXTURES = Path(__file__).parent / "fixtures"
CORE = Path(__file__).parents[2] / "instruments" / "social-cohesion-safety" / "1.0.0.yaml"

CASES = [
    ("bad_yaml_syntax", None, "YAML syntax error at line 36"),
    ("bad_duplicate_yaml_key", None, "duplicate key 'text'"),
    ("bad_missing_field", "a2", "missing required field 'text'"),
    ("bad_unknown_field", "b1", "unknown field 'requried'"),
    ("bad_duplicate_item_id", "a2", "duplicate item id 'a2'"),
    ("bad_unknown_construct", "a1", "unknown construct 'trusst'"),
    ("bad_reverse_non_scale", "y1", "reverse coding is only meaningful for scale items"),
    ("bad_show_if_later", "a2", "show_if refers to item 'y1', which comes later"),
    ("bad_show_if_unknown", "y1", "show_if refers to unknown item 'a9'"),
    ("bad_duplicate_option_codes", "b1", "option code 2 is used twice"),
    ("bad_unknown_option_set", "a1", "unknown option set 'agree7'"),
    ("bad_unknown_source", "a4", "unknown source 'ess'"),
    ("bad_unknown_missing_option", "a1", "unknown missing option 'refused'"),
    ("bad_missing_code_collision", "b1", "'dont_know' (code -1) collides with a substantive"),
    ("bad_construct_too_few_items", None, "construct 'trust' has 2 item(s)"),
    ("bad_number_min_max", "n1", "min (20) is greater than max (1)"),
    ("bad_section_module", None, "section 's2': unknown module 'extras'"),
    ("bad_version", None, "version: '0.1' is not a semantic version"),
    ("bad_attention_expected", "ac1", "attention check expects code 9"),
]


@pytest.mark.parametrize(("name", "item_id", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_bad_fixture_reports_the_mistake(name: str, item_id: str | None, fragment: str) -> None:
    """The fixture yields exactly one problem naming its file, item and mistake."""
    path = FIXTURES / f"{name}.yaml"
    problems = validate_files([path])
    assert len(problems) == 1, problems
    problem = problems[0]
    assert (problem.file, problem.item_id) == (str(path), item_id)
    assert fragment in problem.message
    assert str(path) in str(problem)


def test_every_bad_fixture_is_tested() -> None:
    """No bad fixture is left without an expectation."""
    assert {p.stem for p in FIXTURES.glob("bad_*.yaml")} == {c[0] for c in CASES}


def test_valid_files_have_no_problems() -> None:
    """The minimal fixture and the core instrument are valid."""
    assert validate_files([FIXTURES / "valid_minimal.yaml", CORE]) == []


def test_load_instrument_raises_with_problems() -> None:
    """load_instrument raises InstrumentError carrying the problems."""
    path = FIXTURES / "bad_unknown_source.yaml"
    with pytest.raises(InstrumentError) as raised:
        load_instrument(path)
    assert raised.value.problems == [Problem(str(path), "a4", "unknown source 'ess'")]
    assert str(raised.value) == f"{path}: item a4: unknown source 'ess'"


def test_problem_text() -> None:
    """A problem reads 'file: item <id>: message', or 'file: message' without an item."""
    assert str(Problem("x.yaml", "ppltrst", "bad")) == "x.yaml: item ppltrst: bad"
    assert str(Problem("x.yaml", None, "bad")) == "x.yaml: bad"


def test_problems_across_files_are_all_reported() -> None:
    """validate_files collects problems from every file, not just the first."""
    paths = [FIXTURES / "bad_unknown_source.yaml", FIXTURES / "bad_number_min_max.yaml"]
    assert [p.item_id for p in validate_files(paths)] == ["a4", "n1"]


def test_same_id_and_version_twice(tmp_path: Path) -> None:
    """Two files defining the same id and version are reported."""
    copy = tmp_path / "copy.yaml"
    copy.write_text((FIXTURES / "valid_minimal.yaml").read_text(encoding="utf-8"))
    problems = validate_files([FIXTURES / "valid_minimal.yaml", copy])
    assert [(p.file, p.item_id) for p in problems] == [(str(copy), None)]
    assert "also defined in" in problems[0].message


def test_file_name_must_match_version(tmp_path: Path) -> None:
    """A copied file whose version was not bumped is refused."""
    folder = tmp_path / "social-cohesion-safety"
    folder.mkdir()
    path = folder / "1.1.0.yaml"
    path.write_text(CORE.read_text(encoding="utf-8"), encoding="utf-8")
    [problem] = validate_files([path])
    assert "does not match version 1.0.0" in problem.message


def test_several_problems_in_one_file(tmp_path: Path) -> None:
    """Independent mistakes in one file are reported together."""
    text = (FIXTURES / "valid_minimal.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "text: Item A4, options: agree5, source: demo}",
        "text: Item A4, options: agree5, source: x}",
    )
    text = text.replace("{id: a1, construct: trust,", "{id: a1, construct: trusst,")
    path = tmp_path / "two.yaml"
    path.write_text(text, encoding="utf-8")
    problems = validate_files([path])
    assert [(p.item_id, p.message) for p in problems] == [
        ("a1", "unknown construct 'trusst'"),
        ("a4", "unknown source 'x'"),
    ]


def test_empty_file(tmp_path: Path) -> None:
    """An empty file is a problem, not a crash."""
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing\n")
    [problem] = validate_files([path])
    assert "must hold a mapping" in problem.message
