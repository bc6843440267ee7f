"""Hand-made SVG charts for the validation report (no plotting library).

Each function returns one self-contained ``<svg>`` element as a string, with a
``<title>`` and ``<desc>`` for screen readers (``role="img"`` and ``aria-labelledby``),
no scripts and no external references (not even the ``xmlns`` URI, which inline SVG in
HTML5 does not need). All text is XML-escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from itertools import count

__all__ = ["loadings_chart", "scree_plot", "trend_chart"]

#: Colour-blind-safe palette (Okabe & Ito, 2008).
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]

_ids = count(1)


def _open(width: int, height: int, title: str, desc: str) -> tuple[str, str]:
    uid = f"svg{next(_ids)}"
    head = (
        f'<svg width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{uid}-t {uid}-d" font-family="sans-serif" font-size="12">'
        f'<title id="{uid}-t">{escape(title)}</title><desc id="{uid}-d">{escape(desc)}</desc>'
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>'
    )
    return head, "</svg>"


def _text(x: float, y: float, text: str, anchor: str = "middle", **attrs: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{escape(str(v))}"' for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>{escape(text)}</text>'


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def scree_plot(
    observed: Sequence[float], threshold: Sequence[float], *, title: str = "Scree plot"
) -> str:
    """Observed eigenvalues against the parallel-analysis threshold.

    Parameters
    ----------
    observed : sequence of float
        Eigenvalues of the item correlation matrix, largest first.
    threshold : sequence of float
        The parallel-analysis eigenvalues of random data (same length).
    title : str
    """
    width, height = 560, 320
    left, right, top, bottom = 50, 20, 40, 50
    k = len(observed)
    ymax = max([*observed, *threshold, 1.0]) * 1.1
    pw, ph = width - left - right, height - top - bottom

    def x(i: int) -> float:
        return left + (i + 0.5) * pw / max(k, 1)

    def y(v: float) -> float:
        return top + ph * (1 - v / ymax)

    above = sum(1 for o, t in zip(observed, threshold, strict=False) if o > t)
    head, tail = _open(
        width,
        height,
        title,
        f"{k} eigenvalues; {above} lie above the random-data threshold of parallel analysis.",
    )
    parts = [head, _text(width / 2, 20, title, font_weight="bold")]
    parts.append(
        f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="#333"/>'
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="#333"/>'
    )
    step = 1 if ymax <= 6 else 2 if ymax <= 12 else 5
    v = 0
    while v <= ymax:
        parts.append(
            f'<line x1="{left - 4}" y1="{y(v):.1f}" x2="{left + pw}" y2="{y(v):.1f}" '
            'stroke="#ddd"/>' + _text(left - 8, y(v) + 4, str(v), "end")
        )
        v += step
    for i in range(k):
        parts.append(_text(x(i), top + ph + 16, str(i + 1)))
    parts.append(_text(left + pw / 2, height - 10, "Factor number"))
    parts.append(_text(14, top + ph / 2, "Eigenvalue", transform=f"rotate(-90 14 {top + ph / 2})"))
    for values, colour, dash in (
        (threshold, PALETTE[1], "6 4"),
        (observed, PALETTE[0], ""),
    ):
        points = " ".join(f"{x(i):.1f},{y(val):.1f}" for i, val in enumerate(values))
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"'
            f"{dash_attr}/>"
        )
        for i, val in enumerate(values):
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(val):.1f}" r="3" fill="{colour}"/>')
    for n, (colour, label) in enumerate(
        ((PALETTE[0], "Observed"), (PALETTE[1], "Random data (95th percentile)"))
    ):
        ly = top + 8 + n * 16
        parts.append(
            f'<line x1="{left + pw - 210}" y1="{ly}" x2="{left + pw - 190}" y2="{ly}" '
            f'stroke="{colour}" stroke-width="2"/>' + _text(left + pw - 185, ly + 4, label, "start")
        )
    parts.append(tail)
    return "".join(parts)


def loadings_chart(
    loadings: Sequence[tuple[str, str, float]], *, title: str = "Standardized loadings"
) -> str:
    """Horizontal bars of standardized loadings, one per item, coloured by construct.

    Parameters
    ----------
    loadings : sequence of (item, construct, loading)
    title : str
    """
    row_h = 18
    left, right, top = 190, 60, 40
    width = 600
    height = top + row_h * len(loadings) + 50
    pw = width - left - right
    constructs = list(dict.fromkeys(c for _, c, _ in loadings))
    colour = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(constructs)}
    weakest = min((v for _, _, v in loadings if _finite(v)), default=float("nan"))
    head, tail = _open(
        width,
        height,
        title,
        f"{len(loadings)} items on {len(constructs)} constructs; "
        f"the weakest standardized loading is {weakest:.2f}.",
    )
    parts = [head, _text(width / 2, 20, title, font_weight="bold")]

    def x(v: float) -> float:
        return left + pw * max(min(v, 1.0), 0.0)

    for v in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0):
        parts.append(
            f'<line x1="{x(v):.1f}" y1="{top - 4}" x2="{x(v):.1f}" '
            f'y2="{top + row_h * len(loadings)}" stroke="#ddd"/>'
            + _text(x(v), top + row_h * len(loadings) + 16, f"{v:.1f}")
        )
    parts.append(
        f'<line x1="{x(0.4):.1f}" y1="{top - 4}" x2="{x(0.4):.1f}" '
        f'y2="{top + row_h * len(loadings)}" stroke="#888" stroke-dasharray="4 3"/>'
    )
    for i, (item, construct, value) in enumerate(loadings):
        y0 = top + i * row_h
        parts.append(_text(left - 6, y0 + 13, f"{item} ({construct})", "end"))
        if _finite(value):
            parts.append(
                f'<rect x="{left}" y="{y0 + 3}" width="{x(abs(value)) - left:.1f}" '
                f'height="{row_h - 6}" fill="{colour[construct]}"/>'
                + _text(x(abs(value)) + 4, y0 + 13, f"{value:.2f}", "start")
            )
    parts.append(
        _text(left + pw / 2, height - 8, "Standardized loading (dashed line: 0.40)", "middle")
    )
    parts.append(tail)
    return "".join(parts)


def trend_chart(
    waves: Sequence[str],
    series: dict[str, Sequence[tuple[float, float, float] | None]],
    *,
    title: str = "Index by wave",
) -> str:
    """Index means (0-100) per wave with 95% CI error bars, one line per series.

    Parameters
    ----------
    waves : sequence of str
        Wave labels in order (the x axis).
    series : dict of str to sequence
        Per series (e.g. "treated", "comparison") one entry per wave: (mean, lower,
        upper) or None when the estimate is withheld.
    title : str
    """
    width, height = 560, 320
    left, right, top, bottom = 50, 130, 40, 50
    pw, ph = width - left - right, height - top - bottom
    k = len(waves)
    finite = [v for points in series.values() for p in points if p for v in p if _finite(v)]
    low = max(0.0, math.floor((min(finite, default=0.0) - 5) / 10) * 10)
    high = min(100.0, math.ceil((max(finite, default=100.0) + 5) / 10) * 10)
    if high <= low:
        low, high = 0.0, 100.0

    def x(i: int) -> float:
        return left + (i + 0.5) * pw / max(k, 1)

    def y(v: float) -> float:
        return top + ph * (1 - (v - low) / (high - low))

    shown = sum(1 for points in series.values() for p in points if p)
    withheld = sum(1 for points in series.values() for p in points if not p)
    head, tail = _open(
        width,
        height,
        title,
        f"Index means with 95% confidence intervals for {', '.join(series)} across "
        f"{k} wave(s); {shown} estimates shown, {withheld} withheld.",
    )
    parts = [head, _text((left + pw / 2), 20, title, font_weight="bold")]
    step = 10 if high - low > 30 else 5
    v = low
    while v <= high + 1e-9:
        parts.append(
            f'<line x1="{left - 4}" y1="{y(v):.1f}" x2="{left + pw}" y2="{y(v):.1f}" '
            'stroke="#ddd"/>' + _text(left - 8, y(v) + 4, f"{v:g}", "end")
        )
        v += step
    for i, wave in enumerate(waves):
        parts.append(_text(x(i), top + ph + 16, str(wave)))
    parts.append(_text(left + pw / 2, height - 10, "Wave"))
    parts.append(
        _text(14, top + ph / 2, "Index (0-100)", transform=f"rotate(-90 14 {top + ph / 2})")
    )
    n_series = max(len(series), 1)
    for s, (label, points) in enumerate(series.items()):
        colour = PALETTE[s % len(PALETTE)]
        offset = (s - (n_series - 1) / 2) * 8
        coords = []
        for i, point in enumerate(points):
            if not point or not _finite(point[0]):
                coords.append(None)
                continue
            mean, lower, upper = point
            cx = x(i) + offset
            coords.append((cx, y(mean)))
            if _finite(lower) and _finite(upper):
                parts.append(
                    f'<line x1="{cx:.1f}" y1="{y(lower):.1f}" x2="{cx:.1f}" y2="{y(upper):.1f}" '
                    f'stroke="{colour}" stroke-width="1.5"/>'
                    f'<line x1="{cx - 4:.1f}" y1="{y(lower):.1f}" x2="{cx + 4:.1f}" '
                    f'y2="{y(lower):.1f}" stroke="{colour}"/>'
                    f'<line x1="{cx - 4:.1f}" y1="{y(upper):.1f}" x2="{cx + 4:.1f}" '
                    f'y2="{y(upper):.1f}" stroke="{colour}"/>'
                )
            parts.append(f'<circle cx="{cx:.1f}" cy="{y(mean):.1f}" r="4" fill="{colour}"/>')
        segment: list[tuple[float, float]] = []
        for c in [*coords, None]:
            if c is None:
                if len(segment) > 1:
                    pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in segment)
                    parts.append(
                        f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2"/>'
                    )
                segment = []
            else:
                segment.append(c)
        ly = top + 10 + s * 18
        parts.append(
            f'<line x1="{left + pw + 12}" y1="{ly}" x2="{left + pw + 32}" y2="{ly}" '
            f'stroke="{colour}" stroke-width="2"/>' + _text(left + pw + 36, ly + 4, label, "start")
        )
    parts.append(tail)
    return "".join(parts)
