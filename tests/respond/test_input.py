"""Input as residents type it: any script's digits, full-width forms, no silent truncation."""

from __future__ import annotations

import html

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from surveyapp.instruments.registry import wave_sections
from surveyapp.models import Answer
from surveyapp.respond.codes import normalize_code
from surveyapp.respond.typed import fold, read_number

from ..conftest import Factory, complete_answers
from ..resident import Resident


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("kx7r-pcmt 4q", "KX7RPCMT4Q"),
        ("KX٧R-PCMT-٤Q", "KX7RPCMT4Q"),  # Arabic-Indic 7 and 4
        ("KX۷R PCMT ۴Q", "KX7RPCMT4Q"),  # Persian (Extended Arabic-Indic) digits
        ("ＫＸ７Ｒ－ＰＣＭＴ－４Ｑ", "KX7RPCMT4Q"),  # full-width letters, digits and dash
        ("KX७R\u2011PCMT\u00a04Q", "KX7RPCMT4Q"),  # Devanagari 7, non-breaking hyphen and space
        ("\u200fKX7R\u2013PCMT\u20144Q\u200e", "KX7RPCMT4Q"),  # bidi marks, en and em dash
    ],
)
def test_codes_read_the_same_in_any_script(typed: str, expected: str) -> None:
    assert normalize_code(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("3", (3, None)),
        ("٣", (3, None)),
        ("۱۲", (12, None)),
        ("１２", (12, None)),
        (" 1 200 ", (1200, None)),
        ("1\u202f200", (1200, None)),
        ("−4", (-4, None)),
        ("+4", (4, None)),
        ("2.5", (None, "not_whole")),
        ("2,5", (None, "not_whole")),
        ("٢٫٥", (None, "not_whole")),
        ("1.000", (None, "not_whole")),
        ("2.", (None, "not_whole")),
        ("abc", (None, "not_a_number")),
        ("1e3", (None, "not_a_number")),
        ("inf", (None, "not_a_number")),
        ("-", (None, "not_a_number")),
        ("3-4", (None, "not_a_number")),
    ],
)
def test_numbers_read_the_same_in_any_script(typed: str, expected: tuple) -> None:
    assert read_number(typed) == expected


def test_fold_keeps_letters_of_other_scripts() -> None:
    assert fold("Straße ١٢٣ ＡＢ") == "Straße 123 AB"


def test_an_arabic_indic_code_opens_its_questionnaire(client: FlaskClient, make: Factory) -> None:
    code, _invitation = make.invitation()
    arabic = code.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in code)
    for typed in (arabic, full_width):
        found = client.post("/", data={"code": typed})
        assert found.status_code == 303 and found.location.endswith(f"/i/{code}")
    assert client.get(f"/i/{arabic}").status_code == 200


@pytest.fixture
def demographics(client: FlaskClient, make: Factory) -> tuple[Resident, dict[str, str]]:
    """A resident on the page with the household size (1 to 20)."""
    wave = make.wave(modules=["demographics"])
    sections = wave_sections(wave)
    resident = Resident(client)
    resident.open(f"/w/{wave.open_token}")
    resident.consent()
    for section in sections:
        if any(item.id == "household_size" for item in section.items):
            return resident, complete_answers([section])
        assert resident.submit(complete_answers([section])) == 303
    raise AssertionError("no household_size page")


def _household(make: Factory) -> list[float]:
    make.session.expire_all()
    return list(
        make.session.scalars(select(Answer.value_number).where(Answer.item_id == "household_size"))
    )


def test_a_decimal_household_size_is_refused_not_truncated(
    demographics: tuple[Resident, dict[str, str]], make: Factory
) -> None:
    resident, answers = demographics
    assert resident.submit(answers | {"q-household_size": "2.5"}) == 422
    text = html.unescape(resident.text)
    assert "Please give a whole number, without decimals (for example 3)." in text
    assert 'value="2.5"' in text  # what was typed stays in the field, to be corrected
    assert _household(make) == []
    assert resident.submit(answers | {"q-household_size": "٣"}) == 303
    assert _household(make) == [3.0]


def test_number_items_say_their_range_and_open_a_digit_keyboard(
    demographics: tuple[Resident, dict[str, str]],
) -> None:
    resident, _answers = demographics
    text = resident.text
    assert 'type="number"' not in text  # it would drop digits of other scripts
    field = text[text.index('id="q-household_size"') - 200 : text.index('id="q-household_size"')]
    assert 'inputmode="numeric"' in field
    assert "A whole number from 1 to 20." in text
    assert 'aria-describedby="q-household_size-hint"' in text


def test_out_of_range_numbers_are_refused(
    demographics: tuple[Resident, dict[str, str]], make: Factory
) -> None:
    resident, answers = demographics
    assert resident.submit(answers | {"q-household_size": "２１"}) == 422
    assert "Please give a number in the allowed range." in resident.text
    assert _household(make) == []


def test_zero_to_ten_scales_show_their_end_numbers(client: FlaskClient, make: Factory) -> None:
    wave = make.wave()
    resident = Resident(client)
    resident.open(f"/w/{wave.open_token}")
    resident.consent()
    text = html.unescape(resident.text)
    assert ">0</span> – You can't be too careful</label>" in text
    assert ">10</span> – Most people can be trusted</label>" in text
    assert '<label for="q-ppltrst-5">5</label>' in text  # the middle stays a plain number
    # Scales whose every option is words are left alone.
    assert "</span> – Strongly" not in text
