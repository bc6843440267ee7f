"""Per-area open links and their A4 QR posters, for open-link waves.

Each area the open link offers (:func:`surveyapp.respond.area_choice.areas_offered`) gets
its own unguessable token, made the first time staff look at the wave's links; answers
through ``/w/<token>`` record that area with area source ``area_link``. The wave-wide link
stays and asks residents their neighbourhood instead.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from surveyapp.console.errors import ConsoleError
from surveyapp.console.invitations import NO_OPEN_LINK
from surveyapp.console.posters import one_page_poster
from surveyapp.models import Area, AreaLink, Wave, WaveMode
from surveyapp.respond.area_choice import areas_offered


@dataclass(frozen=True)
class AreaOpenLink:
    """One area's open link as staff see it."""

    area: Area
    token: str
    url: str


def area_links(session: Session, wave: Wave, base_url: str) -> list[AreaOpenLink]:
    """The wave's open link per area, sorted by area name; missing tokens are made.

    Not committed: the caller commits (also after a GET), since a poster printed from a
    link must keep working. Empty for waves without open links.
    """
    if wave.mode == WaveMode.INVITATION:
        return []
    areas = areas_offered(session, wave)
    stored = _stored(session, wave)
    missing = [area for area in areas if area.id not in stored]
    if missing:
        try:
            with session.begin_nested():  # made at the same moment by another request?
                for area in missing:
                    token = secrets.token_urlsafe(16)
                    session.add(AreaLink(wave_id=wave.id, area_id=area.id, token=token))
        except IntegrityError:
            pass  # then that request's tokens are the ones read below
        stored = _stored(session, wave)
    base = base_url.rstrip("/")
    return [
        AreaOpenLink(area, stored[area.id], f"{base}/w/{stored[area.id]}")
        for area in areas
        if area.id in stored
    ]


def _stored(session: Session, wave: Wave) -> dict[int, str]:
    rows = session.execute(
        select(AreaLink.area_id, AreaLink.token).where(AreaLink.wave_id == wave.id)
    )
    return {area_id: token for area_id, token in rows}


def area_link(session: Session, wave: Wave, area_id: int, base_url: str) -> AreaOpenLink:
    """One area's open link; ConsoleError if the wave has none or the area is not offered."""
    if wave.mode == WaveMode.INVITATION or not wave.open_token:
        raise ConsoleError(NO_OPEN_LINK)
    for link in area_links(session, wave, base_url):
        if link.area.id == area_id:
            return link
    raise ConsoleError(
        _l("This area has no open link in this wave: it is not one of the city's areas.")
    )


def area_poster_pdf(
    wave: Wave,
    link: AreaOpenLink,
    language: str,
    translations: Path,
    *,
    second_language: str | None = None,
) -> bytes:
    """An A4 poster with the area's name and its open link as a QR code (one page)."""
    return one_page_poster(
        wave, link.url, language, translations, area=link.area, second_language=second_language
    )
