"""A city's letter template: what it holds, how it is saved, and how letters print it.

The template (:class:`surveyapp.models.LetterTemplate`) adds the city's sender block, logo,
signature and own paragraph per language to every letter of the city: invitations, panel
follow-ups and reminders (all made by :func:`surveyapp.console.invitations.letters_html`),
and its logo to the posters. The limits below keep a letter on one A4 page, also in two
languages (``tests/console/test_letter_templates.py`` lays the longest letters out).
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from surveyapp.audit import record as audit
from surveyapp.models import City, LetterTemplate, User

#: Largest logo file accepted; a print-quality logo of 40 x 20 mm is far smaller.
MAX_LOGO_BYTES = 256 * 1024
#: Largest logo in pixels either way (a decompression bomb is refused before it is decoded).
MAX_LOGO_PIXELS = 4000
#: Longest city paragraph per language (characters) that still fits one A4 page beside
#: another language's paragraph, the logo, sender and signature.
MAX_PARAGRAPH = 600
#: Longest sender name, address line, signature name and role (characters).
MAX_LINE = 80
#: Most address lines of the sender block.
MAX_ADDRESS_LINES = 4
#: The image formats a logo may have, by Pillow's name, with their media type.
LOGO_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}


@dataclass(frozen=True)
class LetterDesign:
    """A city's template as letters and posters print it (empty: the plain letter)."""

    sender_name: str = ""
    sender_lines: tuple[str, ...] = ()
    signature_name: str = ""
    signature_role: str = ""
    paragraphs: dict[str, str] = field(default_factory=dict)
    #: The logo as a ``data:`` URL (the layout fetches nothing else).
    logo_src: str = ""

    @property
    def has_sender(self) -> bool:
        return bool(self.sender_name or self.sender_lines)

    @property
    def sender_block(self) -> list[str]:
        """The sender's name (if any) and address lines, as printed."""
        return [line for line in (self.sender_name, *self.sender_lines) if line]

    @property
    def has_signature(self) -> bool:
        return bool(self.signature_name or self.signature_role)

    def paragraph(self, language: str) -> Markup:
        """The city's paragraph in ``language`` (empty if none), line breaks kept."""
        text = self.paragraphs.get(language, "").strip()
        return Markup("<br>").join(text.splitlines()) if text else Markup("")


def template_of(session: Session, city_id: int) -> LetterTemplate | None:
    """The city's stored template, or None."""
    return session.scalar(select(LetterTemplate).where(LetterTemplate.city_id == city_id))


def design_of(city: City) -> LetterDesign:
    """What ``city``'s letters print from its template (the plain letter without one)."""
    session = object_session(city)
    stored = template_of(session, city.id) if session is not None else None
    if stored is None:
        return LetterDesign()
    logo_src = ""
    if stored.logo and stored.logo_type:
        logo_src = f"data:{stored.logo_type};base64,{base64.b64encode(stored.logo).decode()}"
    return LetterDesign(
        sender_name=stored.sender_name,
        sender_lines=tuple(address_lines(stored.sender_address)),
        signature_name=stored.signature_name,
        signature_role=stored.signature_role,
        paragraphs={k: v for k, v in (stored.paragraphs or {}).items() if k in city.languages},
        logo_src=logo_src,
    )


def address_lines(text: str | None) -> list[str]:
    """The non-empty lines of an address, stripped."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def logo_type(data: bytes) -> str | None:
    """The media type of a PNG or JPEG logo, read by opening it; None for anything else.

    Pillow reads the header and then decodes the whole image, so a file that only starts
    like a PNG, or is too large to print, is refused too.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            found = LOGO_FORMATS.get(image.format or "")
            if found is None or max(image.size) > MAX_LOGO_PIXELS:
                return None
            image.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    return found


def save_template(
    session: Session,
    city: City,
    *,
    actor: User | str,
    sender_name: str,
    sender_address: str,
    signature_name: str,
    signature_role: str,
    paragraphs: dict[str, str],
    logo: tuple[bytes, str] | None = None,
    remove_logo: bool = False,
) -> LetterTemplate:
    """Store the city's template from checked values; ``logo`` is (data, media type).

    Not committed. Paragraphs of languages the city does not offer are not kept.
    """
    stored = template_of(session, city.id)
    if stored is None:
        stored = LetterTemplate(city_id=city.id, paragraphs={})
        session.add(stored)
    before = _parts(stored)
    stored.sender_name = sender_name
    stored.sender_address = "\n".join(address_lines(sender_address))
    stored.signature_name = signature_name
    stored.signature_role = signature_role
    stored.paragraphs = {
        language: text.strip()
        for language, text in paragraphs.items()
        if language in city.languages and text.strip()
    }
    if logo is not None:
        stored.logo, stored.logo_type = logo
    elif remove_logo:
        stored.logo, stored.logo_type = None, None
    session.flush()
    after = _parts(stored)
    audit(
        session,
        actor,
        city.id,
        "letter_template_changed",
        "city",
        city.id,
        changed=sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k)),
    )
    return stored


def _parts(stored: LetterTemplate) -> dict[str, object]:
    """The template's parts by name, to record which ones a save changed."""
    parts: dict[str, object] = {
        "sender": (stored.sender_name, stored.sender_address),
        "signature": (stored.signature_name, stored.signature_role),
        "logo": stored.logo,
    }
    for language, text in (stored.paragraphs or {}).items():
        parts[f"paragraph_{language}"] = text
    return parts
