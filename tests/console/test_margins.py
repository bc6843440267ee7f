"""Population margins files as city statisticians export them."""

from __future__ import annotations

from flask import Flask

from surveyapp.console.margins import parse_margins


def test_semicolons_a_bom_and_spaced_thousands_are_read() -> None:
    rows, problems = parse_margins("\ufeffAge_Band;Gender;Population\n16-24;woman;1 200\n".encode())
    assert problems == [] and rows == [("16-24", "woman", 1200)]


def test_every_bad_line_is_reported_with_its_number(app: Flask) -> None:
    text = "age_band,gender,population\n16-24,woman,12\n16-24,woman,3\n,man,4\n25-34,man\n"
    with app.test_request_context():
        rows, problems = parse_margins(text)
        found = [str(problem) for problem in problems]
    assert rows == [("16-24", "woman", 12)]
    assert found == [
        "line 3, column 1: 16-24 x woman already given on line 2",
        "line 4, column 1: age_band is empty or longer than 16 characters",
        "line 5: expected 3 cells, found 2",
    ]


def test_problems_read_in_the_staff_members_language(app: Flask) -> None:
    with app.test_request_context(headers={"Accept-Language": "de"}):
        _rows, problems = parse_margins(b"age_band,gender\n")
        assert str(problems[0].message) == (
            "fehlende Spalte(n) population; die Kopfzeile muss age_band,gender,population lauten"
        )
        _rows, problems = parse_margins("ä".encode("latin-1"))
        assert "CSV UTF-8" in str(problems[0].message) and "UTF-8-Text" in str(problems[0].message)
