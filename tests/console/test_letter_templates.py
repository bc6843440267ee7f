"""A city's letter template on its letters and posters, in one or two languages, on one page.

Page counts come from real PDFs laid out by WeasyPrint and read back with pypdf.
"""

from __future__ import annotations

import io
import re
import zipfile

from flask import Flask
from flask.testing import FlaskClient
from PIL import Image, ImageDraw
from pypdf import PdfReader
from sqlalchemy import select

from surveyapp.console import letter_templates as templates
from surveyapp.console.invitations import NewInvitation, letters_html, letters_zip
from surveyapp.console.posters import poster_pdf
from surveyapp.i18n import catalogs
from surveyapp.models import AuditEvent, City, LetterTemplate, Role, Wave
from tests.letters import letters_zip as console_letters

from ..conftest import TRANSLATIONS, Factory, sign_in
from .test_views import qr_codes_in_pdf

BASE = "https://survey.example.eu"
FRENCH = {"Accept-Language": "fr"}
#: Real sentences, repeated to the longest paragraph the form accepts.
LONG_PARAGRAPH = (
    "Notre équipe de quartier organise chaque mois des rencontres entre voisins, "
    "des repas partagés et des promenades exploratoires dans les rues du quartier. "
) * 8
#: A long line of the sender block, signature or role, cut to the longest accepted.
LONG_LINE = ("Service Cohésion sociale et Prévention, Maison communale " * 2)[: templates.MAX_LINE]


def logo_png(width: int = 800, height: int = 300) -> bytes:
    """A logo as a city would upload it: a PNG of a few kilobytes."""
    image = Image.new("RGB", (width, height), "white")
    ImageDraw.Draw(image).rectangle((20, 20, width - 20, height - 20), fill="navy")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def page_texts(pdf: bytes) -> list[str]:
    """The text of each page of ``pdf``."""
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def fullest_template(make: Factory, city: City) -> None:
    """The city's template with every part at its longest, as the form allows."""
    templates.save_template(
        make.session,
        city,
        actor="test",
        sender_name=LONG_LINE,
        sender_address="\n".join([LONG_LINE] * templates.MAX_ADDRESS_LINES),
        signature_name=("Marie-Christine Van den Bossche-Dupont " * 3)[: templates.MAX_LINE],
        signature_role=LONG_LINE,
        paragraphs={code: LONG_PARAGRAPH[: templates.MAX_PARAGRAPH] for code in city.languages},
        logo=(logo_png(), "image/png"),
    )
    make.session.commit()


def every_language() -> list[str]:
    """The 15 languages of the interface's catalogs."""
    return sorted(catalogs.languages(TRANSLATIONS))


def wordy_wave(make: Factory, languages: list[str]) -> Wave:
    """A wave of a city with a long name, in ``languages``, whose area has a long name."""
    city = make.city(name="Saint-Josse-ten-Noode / Sint-Joost-ten-Node", languages=languages)
    area = make.area(city, name="Quartier Nord-Est / Noordoostwijk (Gare du Nord)")
    return make.wave(make.initiative(city, treated=[area]), languages=languages)


def invitations(wave: Wave, count: int) -> list[NewInvitation]:
    area = wave.initiative.areas_with_role("treated")[0]
    codes = [f"ABCD2345EF{n:02d}" for n in range(count)]
    return [NewInvitation(area, code, f"{BASE}/i/{code}") for code in codes]


def longest_languages(wave: Wave, count: int = 2) -> list[str]:
    """The languages whose letter words are longest, longest first (tags left out)."""
    letter = invitations(wave, 1)
    length = {
        language: len(re.sub(r"<[^>]+>", "", letters_html(wave, letter, language, TRANSLATIONS)))
        for language in wave.languages
    }
    return sorted(length, key=length.__getitem__, reverse=True)[:count]


# --- The console page -----------------------------------------------------------------------


def test_template_is_saved_and_printed_on_every_letter(
    app: Flask, client: FlaskClient, make: Factory
) -> None:
    wave = make.wave(mode="invitation", languages=["en", "fr"])
    wave_id = wave.id
    city, area = wave.initiative.city, wave.initiative.areas_with_role("treated")[0]
    sign_in(client, make.user(city, role=Role.ADMIN))
    home = client.get("/staff/").get_data(as_text=True)
    assert f"/staff/cities/{city.id}/letter-template" in home
    saved = client.post(
        f"/staff/cities/{city.id}/letter-template",
        data={
            "sender_name": "Service Cohésion sociale",
            "sender_address": "Rue de la Loi 16\n\n1000 Bruxelles",
            "signature_name": "Marie Dupont",
            "signature_role": "Échevine de la Prévention",
            "paragraph_fr": "Le comité de quartier vous attend le 12 mars.",
            "paragraph_en": "The neighbourhood committee meets on 12 March.",
            "logo": (io.BytesIO(logo_png()), "logo.png"),
        },
        content_type="multipart/form-data",
    )
    assert saved.status_code == 303
    page = client.get(saved.location).get_data(as_text=True)
    assert "Letter template saved." in page and "Rue de la Loi 16\n1000 Bruxelles" in page
    assert 'src="data:image/png;base64,' in page  # the stored logo, as letters print it
    pdf = console_letters(
        client, f"/staff/waves/{wave.id}/invitations", {f"area-{area.id}": "2", "language": "fr"}
    ).read("letters.pdf")
    pages = page_texts(pdf)
    assert len(pages) == 2
    for text in pages:
        for part in ("Service Cohésion sociale", "Rue de la Loi 16", "1000 Bruxelles"):
            assert part in text
        assert "Marie Dupont" in text and "Échevine de la Prévention" in text
        assert "Le comité de quartier vous attend le 12 mars." in text
        assert "neighbourhood committee" not in text  # the other language's paragraph
    assert all(PdfReader(io.BytesIO(pdf)).pages[0].images)  # the logo
    # Reminders and panel follow-ups print the same template (they share letters_html).
    with app.test_request_context():
        wave = make.session.get(Wave, wave_id)
        reminder = letters_html(wave, invitations(wave, 1), "en", TRANSLATIONS, reminder=True)
    assert "The neighbourhood committee meets on 12 March." in reminder
    assert "Marie Dupont" in reminder
    make.session.expire_all()
    events = make.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "letter_template_changed")
    ).all()
    assert len(events) == 1 and "logo" in events[0].details["changed"]
    audit = client.get(f"/staff/cities/{city.id}/audit").get_data(as_text=True)
    assert "Changed the letter template" in audit
    removed = client.post(
        f"/staff/cities/{city.id}/letter-template",
        data={"sender_name": "Service Cohésion sociale", "remove_logo": "y"},
    )
    assert removed.status_code == 303
    make.session.expire_all()
    stored = make.session.scalar(select(LetterTemplate))
    assert stored.logo is None and stored.paragraphs == {}
    assert stored.sender_name == "Service Cohésion sociale"


def test_a_logo_that_is_not_an_image_is_refused_with_its_field_named(
    client: FlaskClient, make: Factory
) -> None:
    city = make.city(languages=["fr", "nl"])
    sign_in(client, make.user(city, role=Role.ADMIN))
    url = f"/staff/cities/{city.id}/letter-template"
    for data in (b"%PDF-1.7 not a logo", b"\x89PNG\r\n\x1a\n" + b"\0" * 64):
        refused = client.post(
            url,
            data={"sender_name": "Ville", "logo": (io.BytesIO(data), "logo.png")},
            content_type="multipart/form-data",
        )
        assert refused.status_code == 422
        html = refused.get_data(as_text=True)
        assert "Logo (PNG or JPEG, at most 256 KB): the file is not a PNG or JPEG image." in html
    too_long = client.post(
        url,
        data={
            "paragraph_nl": "x" * (templates.MAX_PARAGRAPH + 1),
            "logo": (io.BytesIO(b"GIF89a"), "l.gif"),
        },
        content_type="multipart/form-data",
        headers=FRENCH,
    )
    assert too_long.status_code == 422
    html = too_long.get_data(as_text=True)
    # In the staff member's language, led by the field's label (the paragraph in Dutch).
    assert "Votre paragraphe : Néerlandais : écrivez au plus 600 caractères." in html
    assert (
        "Logo (PNG ou JPEG, 256 Ko au plus) : le fichier n'est pas une image PNG ou JPEG." in html
    )
    big = logo_png(1800, 1800).ljust(templates.MAX_LOGO_BYTES + 10, b"\0")
    too_big = client.post(
        url, data={"logo": (io.BytesIO(big), "logo.png")}, content_type="multipart/form-data"
    )
    assert too_big.status_code == 422
    assert "the file is larger than 256 KB" in too_big.get_data(as_text=True)
    make.session.expire_all()
    assert make.session.scalar(select(LetterTemplate)) is None


def test_only_the_citys_admins_and_coordinators_edit_its_template(
    client: FlaskClient, make: Factory
) -> None:
    city, other = make.city(), make.city()
    sign_in(client, make.user(city, role=Role.ANALYST))
    assert client.get(f"/staff/cities/{city.id}/letter-template").status_code == 403
    assert client.post(f"/staff/cities/{city.id}/letter-template").status_code == 403
    sign_in(client, make.user(city, role=Role.COORDINATOR))
    assert client.get(f"/staff/cities/{city.id}/letter-template").status_code == 200
    assert client.get(f"/staff/cities/{other.id}/letter-template").status_code == 404


def test_the_template_form_needs_its_csrf_token(app: Flask, client: FlaskClient, make: Factory):
    city = make.city()
    sign_in(client, make.user(city))
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        refused = client.post(f"/staff/cities/{city.id}/letter-template", data={"sender_name": "X"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert refused.status_code in (400, 422)
    assert make.session.scalar(select(LetterTemplate)) is None


# --- Two languages, one page ----------------------------------------------------------------


def test_two_language_letters_hold_both_languages_on_one_page_each(
    app: Flask, client: FlaskClient, make: Factory
) -> None:
    wave = wordy_wave(make, every_language())
    fullest_template(make, wave.initiative.city)
    with app.test_request_context():
        longest = longest_languages(wave)
        for first, second in (("fr", "nl"), ("de", "ar"), tuple(longest), tuple(longest[::-1])):
            letters = invitations(wave, 2)
            html = letters_html(
                wave, letters, first, TRANSLATIONS, reminder=True, second_language=second
            )
            # The longest letters fit at the normal type size: the limits are honest.
            assert 'class="letter normal two"' in html, (first, second)
            assert f'lang="{second}" dir="{"rtl" if second == "ar" else "ltr"}"' in html
            pdf = zipfile.ZipFile(
                io.BytesIO(letters_zip(wave, letters, first, TRANSLATIONS, second_language=second))
            ).read("letters.pdf")
            pages = page_texts(pdf)
            assert len(pages) == 2, (first, second)  # one page per code
            assert qr_codes_in_pdf(pdf, 1) == [letters[1].url]  # the QR code once
            assert pages[1].count("ABCD-2345-EF01") == 1  # and the code once
    assert set(longest) <= set(every_language())


def test_letter_form_takes_a_second_language(client: FlaskClient, make: Factory) -> None:
    wave = make.wave(mode="invitation", languages=["fr", "nl"])
    area = wave.initiative.areas_with_role("treated")[0]
    sign_in(client, make.user(wave.initiative.city))
    page = client.get(f"/staff/waves/{wave.id}").get_data(as_text=True)
    assert 'name="second_language"' in page
    pdf = console_letters(
        client,
        f"/staff/waves/{wave.id}/invitations",
        {f"area-{area.id}": "1", "language": "fr", "second_language": "nl"},
    ).read("letters.pdf")
    (text,) = page_texts(pdf)
    assert "Madame, Monsieur," in text and "Beste bewoner," in text
    refused = client.post(
        f"/staff/waves/{wave.id}/invitations",
        data={f"area-{area.id}": "1", "language": "fr", "second_language": "de"},
    )
    assert refused.status_code == 303
    assert "Choose a language of the wave." in client.get(f"/staff/waves/{wave.id}").get_data(
        as_text=True
    )


def test_poster_is_one_page_in_every_language_and_in_two(
    app: Flask, client: FlaskClient, make: Factory
) -> None:
    languages = every_language()
    assert len(languages) == 15
    wave = wordy_wave(make, languages)
    fullest_template(make, wave.initiative.city)
    with app.test_request_context():
        longest = longest_languages(wave)
        for language in languages:
            pdf = poster_pdf(wave, language, BASE, TRANSLATIONS)
            assert len(PdfReader(io.BytesIO(pdf)).pages) == 1, language
        for first, second in (("fr", "nl"), ("de", "ar"), tuple(longest)):
            pdf = poster_pdf(wave, first, BASE, TRANSLATIONS, second_language=second)
            assert len(PdfReader(io.BytesIO(pdf)).pages) == 1, (first, second)
    sign_in(client, make.user(wave.initiative.city))
    poster = client.get(f"/staff/waves/{wave.id}/poster.pdf?language=fr&second=nl")
    assert poster.status_code == 200
    (text,) = page_texts(poster.data)
    assert "Comment vous sentez-vous dans votre quartier" in text
    assert "Hoe voelt u zich in uw buurt" in text
    assert qr_codes_in_pdf(poster.data) == [
        f"{app.config['BASE_URL'].rstrip('/')}/w/{wave.open_token}"
    ]
    assert client.get(f"/staff/waves/{wave.id}/poster.pdf?language=fr&second=xx").status_code == 404
