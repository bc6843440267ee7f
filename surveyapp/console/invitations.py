"""Invitation codes, printed letters with QR codes, a mail-merge CSV, and open-link posters.

Codes exist in plain text only inside the download produced when they are generated (a ZIP
with the letters PDF and the CSV); the database keeps a keyed hash of each. Generating again
makes new codes; nothing can print an old code a second time.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import segno
from flask import render_template
from flask_babel import force_locale, format_decimal
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy.orm import Session

from surveyapp import designs
from surveyapp.audit import record as audit
from surveyapp.console.errors import ConsoleError
from surveyapp.console.letter_templates import design_of
from surveyapp.console.page_fit import DENSITIES, fitting_density
from surveyapp.db import utcnow
from surveyapp.i18n import RTL
from surveyapp.i18n.instrument import translated_title
from surveyapp.instruments.paper import layout
from surveyapp.instruments.registry import wave_instrument
from surveyapp.models import (
    Area,
    BatchStatus,
    Invitation,
    LetterBatch,
    User,
    Wave,
    WaveMode,
    WaveStatus,
)
from surveyapp.respond.codes import format_code, generate_code, hash_code
from surveyapp.respond.panel import letter_reference, new_seed
from surveyapp.spreadsheet import safe_cell

#: Most codes one console request may make: letters are laid out in the request, at about
#: 50 ms per letter, so 500 letters take about 25 s. The CLI has no such limit.
MAX_CODES = 500
#: Why a wave without an open link has no poster (lazily translated).
NO_OPEN_LINK = _l("This wave has no open link; open it with mode “open link” or “both”.")


@dataclass(frozen=True)
class NewInvitation:
    """A code just generated, with what its letter needs."""

    area: Area
    code: str
    url: str
    #: The CSV's letter reference: the same for one household's letters in every panel wave.
    reference: str = ""


def add_letters(
    session: Session,
    wave: Wave,
    plan: list[tuple[Area, str | None]],
    *,
    base_url: str,
    follows: LetterBatch | None = None,
    batch: LetterBatch | None = None,
) -> list[NewInvitation]:
    """One new code per (area, panel seed) of ``plan``, as one batch. Not committed.

    A new batch counts as sent (letters downloaded in the request that made them) unless
    ``batch`` is given: a background job passes its own, still preparing.
    """
    batch = batch or LetterBatch(status=BatchStatus.SENT, sent_at=utcnow())
    batch.wave_id = wave.id
    batch.follows_batch_id = follows.id if follows else None
    batch.letters = len(plan)
    session.add(batch)
    session.flush()
    made = []
    for area, seed in plan:
        code = generate_code()
        session.add(
            Invitation(
                wave_id=wave.id,
                area_id=area.id,
                code_hash=hash_code(code),
                panel_seed=seed,
                batch_id=batch.id,
            )
        )
        url = invitation_url(base_url, code)
        made.append(NewInvitation(area, code, url, letter_reference(seed=seed, code=code)))
    return made


def qr_svg(url: str) -> Markup:
    """An inline SVG QR code for ``url`` (error correction M, quiet zone of 4 modules)."""
    qr = segno.make(url, error="m", micro=False)
    return Markup(qr.svg_inline(scale=4, border=4, dark="#000", light="#fff"))


def invitation_url(base_url: str, code: str) -> str:
    return f"{base_url.rstrip('/')}/i/{code}"


def generate(
    session: Session,
    wave: Wave,
    counts: Mapping[int, int],
    *,
    base_url: str,
    actor: User | str,
    limit: int | None = MAX_CODES,
    batch: LetterBatch | None = None,
) -> list[NewInvitation]:
    """Create single-use codes: ``counts`` maps area id to how many. Not committed.

    ``limit`` (None: no limit) caps the codes of one request; ``batch`` as in add_letters.
    """
    wanted = check_counts(session, wave, counts, limit)
    areas = {area.id: area for area in designs.wave_areas(session, wave)}
    plan = [
        (areas[area_id], new_seed() if wave.is_panel else None)
        for area_id, n in wanted.items()
        for _ in range(n)
    ]
    made = add_letters(session, wave, plan, base_url=base_url, batch=batch)
    session.flush()
    audit(
        session,
        actor,
        wave.city_id,
        "codes_generated",
        "wave",
        wave.id,
        per_area={areas[a].code: n for a, n in wanted.items()},
    )
    return made


def check_counts(
    session: Session, wave: Wave, counts: Mapping[int, int], limit: int | None = MAX_CODES
) -> dict[int, int]:
    """The areas' counts of codes to make, checked (ConsoleError says what is wrong)."""
    if wave.mode == WaveMode.OPEN_LINK:
        raise ConsoleError(_l("This wave uses an open link only; change its mode to send letters."))
    if wave.status in (WaveStatus.CLOSED, WaveStatus.ARCHIVED):
        raise ConsoleError(_l("The wave is closed; codes for it would not work."))
    areas = {area.id: area for area in designs.wave_areas(session, wave)}
    wanted = {area_id: n for area_id, n in counts.items() if n}
    if not wanted:
        raise ConsoleError(_l("Enter how many codes to make for at least one area."))
    if any(n < 0 for n in wanted.values()):
        raise ConsoleError(_l("The number of codes cannot be negative."))
    if limit is not None and sum(wanted.values()) > limit:
        raise ConsoleError(
            _l(
                "At most %(limit)s letters at a time here; make several batches, or use "
                "`surveyapp invitations generate` for large mailings.",
                limit=format_decimal(limit),
            )
        )
    if set(wanted) - set(areas):
        raise ConsoleError(_l("Codes can only be made for the initiative's own areas."))
    return wanted


def mail_merge_csv(invitations: list[NewInvitation], language: str) -> bytes:
    """One row per letter for a mail merge: area, code as printed, link (UTF-8 with BOM).

    The last column, the letter reference, is for the city to keep beside its addresses: a
    panel follow-up's CSV repeats the reference of the household's earlier letter.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["area_code", "area_name", "code", "url", "language", "letter_reference"])
    for invitation in invitations:
        writer.writerow(
            [
                safe_cell(invitation.area.code),
                safe_cell(invitation.area.name),
                format_code(invitation.code),
                invitation.url,
                language,
                invitation.reference,
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


@dataclass(frozen=True)
class LetterLanguage:
    """One language's words of a letter: a column beside the other language's."""

    code: str
    direction: str
    title: str
    how: Markup
    after: Markup
    privacy: Markup
    #: The opening part (title, invitation, the city's paragraph) per area id.
    intros: dict[int, Markup]


def direction_of(language: str) -> str:
    """``rtl`` for languages written right to left, else ``ltr``."""
    return "rtl" if language.split("_")[0] in RTL else "ltr"


def letter_languages(language: str, second_language: str | None) -> list[str]:
    """The letter's language, then the second one if there is a different one."""
    return [language] + ([second_language] if second_language not in (None, "", language) else [])


def letter_language(
    wave: Wave, areas: list[Area], language: str, title: str, entry_url: str, **context
) -> LetterLanguage:
    """The words of ``wave``'s letters in ``language``, rendered once per area."""

    def part(name: str, **more) -> Markup:
        return Markup(
            render_template(
                "console/letter_text.html",
                part=name,
                wave=wave,
                city=wave.city,
                title=title,
                entry_url=entry_url,
                **context,
                **more,
            )
        )

    with force_locale(language):
        return LetterLanguage(
            code=language,
            direction=direction_of(language),
            title=title,
            how=part("how"),
            after=part("after"),
            privacy=part("privacy"),
            intros={area.id: part("intro", area=area) for area in areas},
        )


def letters_html(
    wave: Wave,
    invitations: list[NewInvitation],
    language: str,
    translations: Path,
    *,
    reminder: bool = False,
    second_language: str | None = None,
) -> str:
    """One A4 letter per code, in ``language`` (and ``second_language`` beside it, if
    given), with the city's letter template; a ``reminder`` says it is one.

    One letter is laid out first, to choose the type size that keeps each on one page.
    """
    instrument = wave_instrument(wave)
    design = design_of(wave.city)
    areas = list({i.area.id: i.area for i in invitations}.values())
    entry_url = invitations[0].url.rsplit("/i/", 1)[0] + "/" if invitations else ""
    languages = [
        letter_language(
            wave,
            areas,
            code,
            translated_title(instrument, code, translations),
            entry_url,
            reminder=reminder,
            paragraph=design.paragraph(code),
        )
        for code in letter_languages(language, second_language)
    ]

    def page(letters: list[NewInvitation], density: str) -> str:
        with force_locale(language):
            return render_template(
                "console/letters.html",
                city=wave.city,
                design=design,
                languages=languages,
                letters=[(i, qr_svg(i.url), format_code(i.code)) for i in letters],
                density=density,
            )

    # Only the area's name differs between letters: the longest one decides the type size.
    longest = max(invitations, key=lambda i: len(i.area.name), default=None)
    if longest is None:
        return page([], DENSITIES[0])
    return page(invitations, fitting_density(lambda density: page([longest], density)))


def letters_zip(
    wave: Wave,
    invitations: list[NewInvitation],
    language: str,
    translations: Path,
    *,
    second_language: str | None = None,
) -> bytes:
    """The download made when codes are generated: letters.pdf and codes.csv."""
    html = letters_html(wave, invitations, language, translations, second_language=second_language)
    pdf = layout(html).write_pdf()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("letters.pdf", pdf)
        archive.writestr("codes.csv", mail_merge_csv(invitations, language))
    return buffer.getvalue()


def letters_download(
    session: Session,
    wave: Wave,
    counts: Mapping[int, int],
    language: str,
    *,
    base_url: str,
    translations: Path,
    actor: User | str,
    limit: int = MAX_CODES,
    second_language: str | None = None,
) -> bytes:
    """Make codes, lay out their letters as :func:`letters_zip`, audit the download.

    Not committed: the caller commits once the ZIP, the only copy of the codes, is safe.
    """
    made = generate(session, wave, counts, base_url=base_url, actor=actor, limit=limit)
    archive = letters_zip(wave, made, language, translations, second_language=second_language)
    audit(
        session,
        actor,
        wave.city_id,
        "letters_downloaded",
        "wave",
        wave.id,
        letters=len(made),
        language=language,
        **({"second_language": second_language} if second_language else {}),
    )
    return archive
