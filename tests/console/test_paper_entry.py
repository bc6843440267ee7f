"""Paper questionnaires typed in by staff, double entry, and export uploads in the console."""

from __future__ import annotations

import io

from flask.testing import FlaskClient
from sqlalchemy import select

from surveyapp.instruments.registry import wave_sections
from surveyapp.models import Answer, Channel, PaperEntry, Response, Wave

from ..cli.test_responses_import import kobo_csv
from ..conftest import Factory, complete_answers, sign_in


def _sheet(wave: Wave, area_id: int, **fields: str) -> dict[str, str]:
    data = complete_answers(wave_sections(wave)) | {"area": str(area_id)}
    return data | fields


def _responses(make: Factory, wave: Wave) -> list[Response]:
    make.session.expire_all()
    return list(make.session.scalars(select(Response).where(Response.wave_id == wave.id)))


def test_a_paper_questionnaire_is_saved_as_channel_paper(
    client: FlaskClient, make: Factory
) -> None:
    wave = make.wave()
    area = wave.initiative.areas_with_role("treated")[0]
    sign_in(client, make.user(area.city))
    page = client.get(f"/staff/waves/{wave.id}/paper")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="q-ppltrst"' in html and 'inputmode="numeric"' in html
    bad = client.post(
        f"/staff/waves/{wave.id}/paper", data=_sheet(wave, area.id, **{"q-ppltrst": "17"})
    )
    assert bad.status_code == 422 and "Not one of the question" in bad.get_data(as_text=True)
    assert _responses(make, wave) == []
    saved = client.post(f"/staff/waves/{wave.id}/paper", data=_sheet(wave, area.id, sheet="P-001"))
    assert saved.status_code == 303
    (stored,) = _responses(make, wave)
    assert (stored.channel, stored.status, stored.area_id) == (Channel.PAPER, "complete", area.id)
    interview = _sheet(wave, area.id, sheet="I-1", channel="interviewer")
    assert client.post(f"/staff/waves/{wave.id}/paper", data=interview).status_code == 303
    assert sorted(r.channel for r in _responses(make, wave)) == ["interviewer", "paper"]
    again = client.post(f"/staff/waves/{wave.id}/paper", data=_sheet(wave, area.id, sheet="P-001"))
    assert again.status_code == 409 and "already been entered" in again.get_data(as_text=True)
    assert len(_responses(make, wave)) == 2


def test_double_entry_lists_disagreements_until_resolved(
    client: FlaskClient, make: Factory
) -> None:
    wave = make.wave()
    area = wave.initiative.areas_with_role("treated")[0]
    first, second = make.user(area.city), make.user(area.city)
    url = f"/staff/waves/{wave.id}/paper"
    sign_in(client, first)
    sheet = _sheet(wave, area.id, sheet="17", double="1", **{"q-ppltrst": "3"})
    assert client.post(url, data=sheet).status_code == 303
    assert _responses(make, wave) == []
    assert client.post(url, data=sheet).status_code == 409  # the same person again
    sign_in(client, second)
    differing = sheet | {"q-ppltrst": "8"}
    answer = client.post(url, data=differing)
    assert answer.status_code == 303 and answer.location.endswith("/paper/sheets/17")
    page = client.get(answer.location).get_data(as_text=True)
    assert "the two entries disagree" in page and "<td>ppltrst</td><td>3</td><td>8</td>" in page
    assert _responses(make, wave) == []
    resolved = client.post(answer.location, data=sheet | {"q-ppltrst": "8"})
    assert resolved.status_code == 303
    (stored,) = _responses(make, wave)
    assert stored.channel == Channel.PAPER
    trust = make.session.scalar(
        select(Answer.value_code).where(
            Answer.response_id == stored.id, Answer.item_id == "ppltrst"
        )
    )
    assert trust == 8
    assert make.session.scalars(select(PaperEntry)).all() == []


def test_double_entries_that_agree_count_at_once_and_codes_work_once(
    client: FlaskClient, make: Factory
) -> None:
    wave = make.wave()
    code, invitation = make.invitation(wave)
    first, second = make.user(wave.initiative.city), make.user(wave.initiative.city)
    url = f"/staff/waves/{wave.id}/paper"
    sheet = complete_answers(wave_sections(wave)) | {"sheet": "9", "double": "1", "code": code}
    sign_in(client, first)
    assert client.post(url, data=sheet).status_code == 303
    sign_in(client, second)
    assert client.post(url, data=sheet).status_code == 303
    (stored,) = _responses(make, wave)
    assert stored.area_id == invitation.area_id
    # The same code on another sheet, or on the web, is refused.
    other = complete_answers(wave_sections(wave)) | {"sheet": "10", "code": code}
    refused = client.post(url, data=other)
    assert refused.status_code == 409 and "already been used" in refused.get_data(as_text=True)
    assert len(_responses(make, wave)) == 1


def test_console_upload_of_a_kobo_export_lists_refused_rows(
    client: FlaskClient, make: Factory
) -> None:
    wave = make.wave()
    area = wave.initiative.areas_with_role("treated")[0]
    sign_in(client, make.user(area.city))
    data = kobo_csv(wave, [{}, {"ppltrst": "x"}], code_column=False)
    data = data.replace(b"meta/instanceID", b"area;meta/instanceID", 1)
    data = b"\n".join(
        line if n == 0 else line.replace(b";uuid:", f";{area.code};uuid:".encode(), 1)
        for n, line in enumerate(data.split(b"\n"))
    )
    page = client.post(
        f"/staff/waves/{wave.id}/offline-import",
        data={"file": (io.BytesIO(data), "kobo.csv")},
        content_type="multipart/form-data",
    )
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "imported 1, refused 1" in html and "row 3: ppltrst" in html
    (stored,) = _responses(make, wave)
    assert (stored.channel, stored.area_id) == (Channel.OFFLINE_APP, area.id)
