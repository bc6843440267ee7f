"""``surveyapp invitations generate`` and ``poster`` with a second language on the same page."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from flask.testing import FlaskCliRunner
from pypdf import PdfReader
from sqlalchemy import select

from surveyapp.cli import main
from surveyapp.console.letter_templates import save_template
from surveyapp.models import Invitation

from ..conftest import Factory


def _pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def test_cli_letters_and_poster_in_two_languages_with_the_citys_template(
    runner: FlaskCliRunner, make: Factory, tmp_path: Path
) -> None:
    city = make.city(languages=["fr", "nl"], default_language="fr")
    wave = make.wave(make.initiative(city), mode="both", languages=["fr", "nl"])
    area = wave.initiative.areas_with_role("treated")[0]
    save_template(
        make.session,
        city,
        actor="test",
        sender_name="Service Prévention / Dienst Preventie",
        sender_address="",
        signature_name="Marie Dupont",
        signature_role="",
        paragraphs={"fr": "Merci de votre aide.", "nl": "Bedankt voor uw hulp."},
    )
    make.session.commit()
    out = tmp_path / "letters.zip"
    args = ["invitations", "generate", str(wave.id), "--area", f"{area.code}=2"]
    result = runner.invoke(
        main, [*args, "--language", "fr", "--second-language", "nl", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    pages = _pages(zipfile.ZipFile(out).read("letters.pdf"))
    assert len(pages) == 2  # one page per code
    for text in pages:
        assert "Madame, Monsieur," in text and "Beste bewoner," in text
        assert "Merci de votre aide." in text and "Bedankt voor uw hulp." in text
        assert "Service Prévention / Dienst Preventie" in text and "Marie Dupont" in text

    poster = tmp_path / "poster.pdf"
    args = ["invitations", "poster", str(wave.id), "--language", "nl", "--out", str(poster)]
    result = runner.invoke(main, [*args, "--second-language", "fr"])
    assert result.exit_code == 0, result.output
    (text,) = _pages(poster.read_bytes())
    assert "Hoe voelt u zich in uw buurt" in text and "Comment vous sentez-vous" in text

    # A second language the wave does not offer: refused, no code made, no file.
    refused = tmp_path / "refused.zip"
    args = ["invitations", "generate", str(wave.id), "--area", f"{area.code}=1"]
    result = runner.invoke(
        main, [*args, "--language", "fr", "--second-language", "de", "--out", str(refused)]
    )
    assert result.exit_code != 0 and "The wave's languages are fr, nl." in result.output
    assert not refused.exists()
    make.session.expire_all()
    assert len(make.session.scalars(select(Invitation)).all()) == 2
