"""Staff pages name things in words (issue 20 item 9): constructs and languages by name,
the audit log as sentences, form errors that say which field is wrong."""

from __future__ import annotations

import io
import re

from flask.testing import FlaskClient

from surveyapp.console import audit_text
from surveyapp.models import Role, WaveStatus
from tests.letters import letters_zip

from ..conftest import ACKNOWLEDGE_DRAFTS, Factory, sign_in

FRENCH = {"Accept-Language": "fr-FR,fr;q=0.9"}


def test_the_initiative_page_names_what_should_change(client: FlaskClient, make: Factory) -> None:
    make.instrument_row()
    initiative = make.initiative(target_constructs=["perceived_safety", "trust"])
    sign_in(client, make.user(initiative.city))
    url = f"/staff/initiatives/{initiative.id}"
    page = client.get(url).get_data(as_text=True)
    assert "Perceived safety, Trust" in page
    assert "perceived_safety" not in page
    french = client.get(url, headers=FRENCH).get_data(as_text=True)
    assert "Sécurité perçue, Confiance" in french


def test_the_wave_page_names_its_languages(client: FlaskClient, make: Factory) -> None:
    wave = make.wave(languages=["en", "fr"], mode="both")
    sign_in(client, make.user(wave.initiative.city))
    page = client.get(f"/staff/waves/{wave.id}").get_data(as_text=True)
    assert re.search(r"<li>English <span[^>]*>.*</span></li><li>French <span", page)
    assert "QR poster (PDF, French)" in page
    assert '<option value="fr">French</option>' in page
    french = client.get(f"/staff/waves/{wave.id}", headers=FRENCH).get_data(as_text=True)
    assert re.search(r"<li>Anglais <span[^>]*>.*</span></li><li>Français <span", french)


def _audit_cells(page: str) -> list[str]:
    table = page.split('<table class="audit">', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<td>(.*?)</td>", table, flags=re.S)


def test_the_audit_log_reads_as_sentences(client: FlaskClient, make: Factory) -> None:
    wave = make.wave(status=WaveStatus.DRAFT, mode="both", name="Spring round")
    city = wave.initiative.city
    treated = wave.initiative.areas_with_role("treated")[0]
    sign_in(client, make.user(city, role=Role.ADMIN))
    assert client.post(f"/staff/waves/{wave.id}/open", data=ACKNOWLEDGE_DRAFTS).status_code == 303
    letters = {f"area-{treated.id}": "2", "language": "fr"}
    letters_zip(client, f"/staff/waves/{wave.id}/invitations", letters)
    assert client.post(f"/staff/waves/{wave.id}/close").status_code == 303
    page = client.get(f"/staff/cities/{city.id}/audit").get_data(as_text=True)
    cells = " ".join(_audit_cells(page))
    for sentence in ("Opened a wave", "Made invitation codes", "Downloaded invitation letters"):
        assert sentence in cells
    assert "Wave “Spring round”" in cells
    assert f"Per area: {treated.code} 2" in cells and "Language: French" in cells
    assert "{&#39;" not in cells and "[&#39;" not in cells and "{'" not in cells
    for action in audit_text.ACTIONS:
        assert action not in cells
    assert '<table class="audit">' in page  # the fixed layout that fits 1280 px
    french = client.get(f"/staff/cities/{city.id}/audit", headers=FRENCH).get_data(as_text=True)
    assert "A ouvert une vague" in french and "Langue : Français" in french
    assert "<td>administrateur</td>" in french  # the colleague's role by name


def test_audit_details_are_words_not_python_text() -> None:
    parts = audit_text.detail_parts(
        {"per_area": {"N1": 3, "Z2": 4}, "shape": [120, 40], "follows_batch": 7, "x": "y" * 500}
    )
    assert parts[:3] == ["Per area: N1 3, Z2 4", "Layout: 120, 40", "Follows up batch: 7"]
    assert len(parts[3]) < 130 and parts[3].endswith("…")
    assert audit_text.sentence("something_new_happened") == "Something new happened"


def test_a_role_change_names_the_colleague_and_the_roles(
    client: FlaskClient, make: Factory
) -> None:
    city = make.city()
    admin = make.user(city, role=Role.ADMIN)
    colleague = make.user(city, role=Role.COORDINATOR, display_name="Nadia El Amrani")
    sign_in(client, admin)
    changed = client.post(
        f"/staff/cities/{city.id}/members/{colleague.id}/role", data={"role": "analyst"}
    )
    assert changed.status_code == 303
    page = client.get(f"/staff/cities/{city.id}/audit").get_data(as_text=True)
    cells = " ".join(_audit_cells(page))
    assert "Changed a colleague&#39;s role" in cells or "Changed a colleague's role" in cells
    assert "Account “Nadia El Amrani”" in cells
    assert "Before: coordinator" in cells and "After: analyst" in cells
    french = " ".join(
        _audit_cells(
            client.get(f"/staff/cities/{city.id}/audit", headers=FRENCH).get_data(as_text=True)
        )
    )
    assert "coordinateur" in french and "analyste" in french


def test_a_bad_letters_count_names_the_area(client: FlaskClient, make: Factory) -> None:
    wave = make.wave(mode="invitation")
    treated = wave.initiative.areas_with_role("treated")[0]
    sign_in(client, make.user(wave.initiative.city))
    url = f"/staff/waves/{wave.id}/invitations"
    client.post(url, data={f"area-{treated.id}": "-4", "language": "en"})
    page = client.get(f"/staff/waves/{wave.id}").get_data(as_text=True)
    assert f"Letters for {treated.name}: enter a whole number from 0 to 20,000." in page


def test_a_french_coordinator_gets_the_letters_error_in_french(
    client: FlaskClient, make: Factory
) -> None:
    wave = make.wave(mode="invitation")
    treated = wave.initiative.areas_with_role("treated")[0]
    sign_in(client, make.user(wave.initiative.city))
    url = f"/staff/waves/{wave.id}/invitations"
    client.post(url, data={f"area-{treated.id}": "beaucoup", "language": "en"}, headers=FRENCH)
    page = client.get(f"/staff/waves/{wave.id}", headers=FRENCH).get_data(as_text=True)
    assert f"Lettres pour {treated.name} : indiquez un nombre entier de 0 à" in page


def test_a_french_coordinator_reads_which_area_field_is_wrong(
    client: FlaskClient, make: Factory
) -> None:
    city = make.city()
    sign_in(client, make.user(city))
    areas = f"/staff/cities/{city.id}/areas"
    client.post(areas, data={"code": " ", "name": "Docks"}, headers=FRENCH)
    page = client.get(areas, headers=FRENCH).get_data(as_text=True)
    assert "Code : Indiquez le code du secteur." in page


def test_a_bad_date_names_its_field(client: FlaskClient, make: Factory) -> None:
    initiative = make.initiative()
    sign_in(client, make.user(initiative.city))
    url = f"/staff/initiatives/{initiative.id}/edit"
    form = {
        "name": initiative.name,
        "pyramid_level": "1",
        "treated": [str(a.id) for a in initiative.areas_with_role("treated")],
        "comparison": [str(a.id) for a in initiative.areas_with_role("comparison")],
        "start_date": "31.02.2026",
    }
    page = client.post(url, data=form, headers=FRENCH).get_data(as_text=True)
    assert "Date de début : indiquez une valeur valide." in page


def test_the_area_page_names_margin_codes(client: FlaskClient, make: Factory) -> None:
    wave = make.wave(languages=["fr", "en"], modules=["demographics"])
    area = wave.initiative.areas_with_role("treated")[0]
    sign_in(client, make.user(area.city))
    margins = "age_band;gender;population\n2;2;1200\n"
    upload = client.post(
        f"/staff/areas/{area.id}/margins",
        data={"file": (io.BytesIO(margins.encode()), "margins.csv")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 303
    page = client.get(f"/staff/areas/{area.id}", headers=FRENCH).get_data(as_text=True)
    assert "<td>25-34</td><td>Homme</td><td>1200</td>" in page


def test_a_poster_without_an_open_link_is_refused_in_french(
    client: FlaskClient, make: Factory
) -> None:
    wave = make.wave(mode="invitation", open_token=None)
    sign_in(client, make.user(wave.initiative.city))
    refused = client.get(f"/staff/waves/{wave.id}/poster.pdf?language=fr", headers=FRENCH)
    assert refused.status_code == 303
    page = client.get(f"/staff/waves/{wave.id}", headers=FRENCH).get_data(as_text=True)
    assert "Cette vague n’a pas de lien public" in page
