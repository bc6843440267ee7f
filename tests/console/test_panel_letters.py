"""Panel follow-up letters: same households, same panel ids, repeated letter references."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from surveyapp.instruments.registry import wave_sections
from surveyapp.models import Invitation, LetterBatch, Response, ResponseStatus, Wave
from surveyapp.respond.codes import normalize_code
from tests.letters import letters_zip

from ..conftest import Factory, complete_answers, sign_in
from ..resident import Resident


def _rows(archive: zipfile.ZipFile) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(archive.read("codes.csv").decode("utf-8-sig"))))


def _panel_waves(make: Factory) -> tuple[Wave, Wave]:
    first = make.wave(mode="invitation", is_panel=True, name="Baseline 2026")
    second = make.wave(first.initiative, mode="invitation", is_panel=True, name="Follow-up 2027")
    return first, second


def _letters(client: FlaskClient, wave: Wave, per_area: dict[int, int]) -> list[dict[str, str]]:
    data = {f"area-{area}": str(n) for area, n in per_area.items()} | {"language": "en"}
    return _rows(letters_zip(client, f"/staff/waves/{wave.id}/invitations", data))


def _answer(app: Flask, wave: Wave, code: str) -> None:
    resident = Resident(app.test_client())
    assert resident.open(f"/i/{normalize_code(code)}") == 200
    resident.consent()
    for section in wave_sections(wave):
        assert resident.submit(complete_answers([section])) == 303


def _sent(make: Factory, wave: Wave) -> list[Response]:
    make.session.expire_all()
    query = select(Response).where(
        Response.wave_id == wave.id, Response.status == ResponseStatus.COMPLETE
    )
    return list(make.session.scalars(query))


def _batch(make: Factory, wave: Wave) -> LetterBatch:
    make.session.expire_all()
    return make.session.scalars(select(LetterBatch).where(LetterBatch.wave_id == wave.id)).one()


def test_follow_up_letters_reach_the_same_households_and_link_their_answers(
    app: Flask, client: FlaskClient, make: Factory
) -> None:
    first, second = _panel_waves(make)
    treated = first.initiative.areas_with_role("treated")[0]
    comparison = first.initiative.areas_with_role("comparison")[0]
    sign_in(client, make.user(first.initiative.city))
    before = _letters(client, first, {treated.id: 3, comparison.id: 2})
    batch = _batch(make, first)
    page = client.get(f"/staff/waves/{second.id}").get_data(as_text=True)
    assert "Follow-up letters" in page and f"Batch {batch.id} of “Baseline 2026”" in page

    after = _rows(
        letters_zip(
            client,
            f"/staff/waves/{second.id}/follow-up-letters",
            {"batch": str(batch.id), "language": "fr"},
        )
    )
    # One letter per earlier letter, same reference and area; new codes.
    assert len(after) == 5
    earlier = {r["letter_reference"]: r for r in before}
    assert len(earlier) == 5 and all(r.startswith("R-") for r in earlier)
    assert {r["letter_reference"] for r in after} == set(earlier)
    for row in after:
        assert row["area_code"] == earlier[row["letter_reference"]]["area_code"]
        assert row["code"] != earlier[row["letter_reference"]]["code"]
        assert row["language"] == "fr"
    later = {r["letter_reference"]: r for r in after}

    # Household A answers both waves, B only the first, C only the second.
    a, b, c = (r["letter_reference"] for r in before[:3])
    _answer(app, first, earlier[a]["code"])
    _answer(app, first, earlier[b]["code"])
    _answer(app, second, later[a]["code"])
    _answer(app, second, later[c]["code"])
    ids_first = {r.panel_id for r in _sent(make, first)}
    ids_second = {r.panel_id for r in _sent(make, second)}
    assert len(ids_first) == 2 and len(ids_second) == 2 and None not in ids_first
    assert len(ids_first & ids_second) == 1  # A, and only A, is linked
    # The follow-up code is single-use like any other.
    used = app.test_client().get(f"/i/{normalize_code(later[a]['code'])}")
    assert used.status_code == 410 and "already been used" in used.get_data(as_text=True)
    # The panel id on a response is no value of any invitation row.
    stored = {
        str(v)
        for row in make.session.scalars(select(Invitation))
        for v in (row.panel_seed, row.code_hash, row.id)
    }
    assert not (ids_first | ids_second) & stored
    assert not set(earlier) & stored  # nor is the letter reference stored
    page = client.get(f"/staff/waves/{second.id}").get_data(as_text=True)
    assert f"batch {batch.id} of “Baseline 2026”" in page  # its batch says what it follows


def test_letters_outside_panels_have_references_but_no_panel_id(
    app: Flask, client: FlaskClient, make: Factory
) -> None:
    wave = make.wave(mode="invitation")
    area = wave.initiative.areas_with_role("treated")[0]
    sign_in(client, make.user(wave.initiative.city))
    rows = _letters(client, wave, {area.id: 3})
    assert len({r["letter_reference"] for r in rows}) == 3
    page = client.get(f"/staff/waves/{wave.id}").get_data(as_text=True)
    assert "Follow-up letters" not in page and "Batches of letters" in page
    _answer(app, wave, rows[0]["code"])
    (response,) = _sent(make, wave)
    assert response.panel_id is None
    assert all(i.panel_seed is None for i in make.session.scalars(select(Invitation)))


@pytest.mark.parametrize(
    "case, message",
    [
        ("not_panel", "is not a panel wave: follow-up letters keep"),
        ("from_not_panel", "which is not a panel wave: its letters have no panel ids"),
        ("other_city", "There is no batch of letters"),
        ("no_such_batch", "There is no batch of letters"),
        ("same_wave", "was made for this wave; choose a batch of an earlier panel wave"),
        ("twice", "were already made for this wave"),
        ("no_batch", "Choose the batch of letters to follow up."),
        ("bad_language", "Choose a language of the wave."),
    ],
)
def test_bad_follow_up_requests_say_what_is_wrong(
    client: FlaskClient, make: Factory, case: str, message: str
) -> None:
    first, second = _panel_waves(make)
    area = first.initiative.areas_with_role("treated")[0]
    user = make.user(first.initiative.city)
    sign_in(client, user)
    _letters(client, first, {area.id: 2})
    batch = _batch(make, first).id
    target, form = second, {"batch": str(batch), "language": "en"}
    if case == "not_panel":
        target = make.wave(first.initiative, mode="invitation", name="Not a panel")
    elif case == "from_not_panel":
        plain = make.wave(first.initiative, mode="invitation", name="Cross-section")
        _letters(client, plain, {area.id: 1})
        form["batch"] = str(_batch(make, plain).id)
    elif case == "other_city":
        elsewhere = make.wave(mode="invitation", is_panel=True)
        elsewhere_area = elsewhere.initiative.areas_with_role("treated")[0]
        sign_in(client, make.user(elsewhere.initiative.city))
        _letters(client, elsewhere, {elsewhere_area.id: 1})
        form["batch"] = str(_batch(make, elsewhere).id)
        sign_in(client, user)
    elif case == "no_such_batch":
        form["batch"] = "999999"
    elif case == "same_wave":
        target = first
    elif case == "twice":
        assert len(_rows(letters_zip(client, f"/staff/waves/{second.id}/follow-up-letters", form)))
    elif case == "no_batch":
        form["batch"] = "latest"
    else:
        form["language"] = "xx"
    count = len(make.session.scalars(select(Invitation)).all())
    refused = client.post(f"/staff/waves/{target.id}/follow-up-letters", data=form)
    assert refused.status_code == 303
    shown = client.get(refused.location).get_data(as_text=True)
    assert message in shown
    make.session.expire_all()
    assert len(make.session.scalars(select(Invitation)).all()) == count
