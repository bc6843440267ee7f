"""Cities using the platform: creating one (from the command line; the console has no page).

Like the other console services it changes the session, audits, and leaves committing to
the caller.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.audit import record
from surveyapp.console.errors import ConsoleError
from surveyapp.models import City, User


def create_city(
    session: Session,
    *,
    slug: str,
    name: str,
    languages: Sequence[str],
    privacy_contact: str | None,
    actor: User | str,
) -> City:
    """Create a city whose default language is the first of ``languages`` (default: en)."""
    if session.scalar(select(City).where(City.slug == slug)) is not None:
        # Only the command line creates cities: its messages are in English.
        raise ConsoleError(f"A city with the slug {slug!r} exists already.")
    codes = list(languages) or ["en"]
    city = City(
        slug=slug,
        name=name,
        languages=codes,
        default_language=codes[0],
        privacy_contact=privacy_contact,
    )
    session.add(city)
    session.flush()
    record(session, actor, city.id, "city_created", "city", city.id)
    return city
