"""One A4 page per letter or poster: the type is tightened until the page holds everything.

Letters and posters are laid out at their normal size first. Only what the limits of the
letter template cannot bound (a 200-character area or city name, a long translation) can
push one onto a second page; then the same page is laid out again with tighter type.
"""

from __future__ import annotations

from collections.abc import Callable

from surveyapp.instruments.paper import layout

#: The type sizes (CSS classes of the page), normal first.
DENSITIES = ("normal", "tight", "tighter")


def fitting_density(page: Callable[[str], str]) -> str:
    """The first density at which ``page(density)``, the HTML of one page, lays out on one
    page (the tightest if none does)."""
    for density in DENSITIES[:-1]:
        if len(layout(page(density)).pages) == 1:
            return density
    return DENSITIES[-1]
