"""Accept-Language by the standard rules: quality values first, then the base language."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from surveyapp.i18n.negotiation import negotiate, preferences

from ..conftest import Factory

# Headers as the browsers send them (default settings for the language chosen).
CHROME_NL_BE = "nl-BE,nl;q=0.9,en-US;q=0.8,en;q=0.7"
CHROME_FR_CA = "fr-CA,fr;q=0.9,en-US;q=0.8,en;q=0.7"
FIREFOX_DE = "de,en-US;q=0.7,en;q=0.3"
FIREFOX_NL_BE_FR = "nl-BE,nl;q=0.8,fr-BE;q=0.5,fr;q=0.3"
SAFARI_PT_BR = "pt-BR,pt;q=0.9"
SAFARI_OLD_DE = "de-de"
EDGE_AR = "ar-MA,ar;q=0.9,fr-FR;q=0.8,fr;q=0.7,en;q=0.6"


@pytest.mark.parametrize(
    ("header", "offered", "expected"),
    [
        # The cases: werkzeug's best_match gave French and English.
        ("nl-BE,fr;q=0.5", ["en", "fr", "nl"], "nl"),
        ("fr-CA,en;q=0.5", ["en", "fr"], "fr"),
        (CHROME_NL_BE, ["en", "fr", "nl"], "nl"),
        (CHROME_NL_BE, ["fr", "en"], "en"),
        (CHROME_FR_CA, ["en", "fr"], "fr"),
        (FIREFOX_DE, ["en", "de"], "de"),
        (FIREFOX_DE, ["fr", "it"], None),
        (FIREFOX_NL_BE_FR, ["fr", "de"], "fr"),
        (SAFARI_PT_BR, ["en", "pt"], "pt"),
        (SAFARI_OLD_DE, ["en", "de"], "de"),
        (EDGE_AR, ["en", "fr", "ar"], "ar"),
        (EDGE_AR, ["en", "fr"], "fr"),
        # Quality values, not order, decide; equal values keep the browser's order.
        ("en;q=0.2,nl;q=0.9", ["en", "nl"], "nl"),
        ("fr,nl", ["nl", "fr"], "fr"),
        # q=0 refuses a language; "*" takes anything offered.
        ("fr;q=0,*;q=0.1", ["fr", "de"], "de"),
        ("*", ["de", "en"], "de"),
        # A base language reaches an offered regional variant when nothing better exists.
        ("pt,en;q=0.1", ["pt-BR", "fr"], "pt-BR"),
        # Case and underscores do not matter; the offered spelling is returned.
        ("ZH_hant_TW", ["zh-Hant"], "zh-Hant"),
        # Malformed headers are no error.
        ("", ["en"], None),
        (";;,q=1,fr;q=abc,de;q=2,nl;q=0.5", ["fr", "de", "nl"], "nl"),
        ("x" * 5000, ["en"], None),
    ],
)
def test_negotiation(header: str, offered: list[str], expected: str | None) -> None:
    assert negotiate(header, offered) == expected


def test_preferences_are_ordered_by_quality() -> None:
    assert preferences("en;q=0.3, fr-CA , de;q=0.7, it;q=0") == ["fr-ca", "de", "en"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [("nl-BE,fr;q=0.5", "nl"), ("fr-CA,en;q=0.5", "fr"), (CHROME_NL_BE, "nl")],
)
def test_resident_pages_follow_the_browser(
    client: FlaskClient, make: Factory, header: str, expected: str
) -> None:
    wave = make.wave(languages=["en", "fr", "nl"])
    page = client.get(f"/w/{wave.open_token}", headers={"Accept-Language": header})
    assert f'<html lang="{expected}"' in page.get_data(as_text=True)


def test_code_entry_page_follows_the_browser(client: FlaskClient) -> None:
    page = client.get("/", headers={"Accept-Language": "nl-BE,fr;q=0.5"})
    assert '<html lang="nl"' in page.get_data(as_text=True)
