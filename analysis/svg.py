"""Hand-made SVG charts for the validation report (no plotting library).

Each function returns one self-contained ``<svg>`` element as a string, with a
``<title>`` and ``<desc>`` for screen readers (``role="img"`` and ``aria-labelledby``),
no scripts and no external references (not even the ``xmlns`` URI, which inline SVG in
HTML5 does not need). All text is XML-escaped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from html import escape
from itertools import count

__all__ = ["change_chart", "loadings_chart", "marked_trend_chart", "scree_plot", "trend_chart"]

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
    series: Mapping[str, Sequence[tuple[float, float, float] | None]],
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
    low, high = _index_range(series.values())

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
    parts += _grid(low, high, left, left + pw, y)
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
        coords = _plot_points(parts, points, _shifted(x, offset), y, colour, dots=True)
        parts += _polylines(coords, colour)
        ly = top + 10 + s * 18
        parts.append(
            f'<line x1="{left + pw + 12}" y1="{ly}" x2="{left + pw + 32}" y2="{ly}" '
            f'stroke="{colour}" stroke-width="2"/>' + _text(left + pw + 36, ly + 4, label, "start")
        )
    parts.append(tail)
    return "".join(parts)


def _index_range(
    series: Iterable[Sequence[tuple[float, float, float] | None]],
) -> tuple[float, float]:
    """The y axis of an index chart: the values' range widened to tens, within 0-100."""
    finite = [v for points in series for p in points if p for v in p if _finite(v)]
    low = max(0.0, math.floor((min(finite, default=0.0) - 5) / 10) * 10)
    high = min(100.0, math.ceil((max(finite, default=100.0) + 5) / 10) * 10)
    if high <= low:
        return 0.0, 100.0
    return low, high


def _grid(
    low: float, high: float, left: float, right: float, y: Callable[[float], float]
) -> list[str]:
    """Horizontal grid lines with their values, every 10 (or 5 on a short axis)."""
    step = 10 if high - low > 30 else 5
    lines = []
    v = low
    while v <= high + 1e-9:
        lines.append(
            f'<line x1="{left - 4}" y1="{y(v):.1f}" x2="{right}" y2="{y(v):.1f}" '
            'stroke="#ddd"/>' + _text(left - 8, y(v) + 4, f"{v:g}", "end")
        )
        v += step
    return lines


def _shifted(x: Callable[[int], float], offset: float) -> Callable[[int], float]:
    """``x`` moved by ``offset`` pixels, so that series drawn side by side do not overlap."""
    return lambda i: x(i) + offset


def _plot_points(
    parts: list[str],
    points: Sequence[tuple[float, float, float] | None],
    x: Callable[[int], float],
    y: Callable[[float], float],
    colour: str,
    *,
    dots: bool,
) -> list[tuple[float, float] | None]:
    """Append each estimate's 95% CI bar (and a dot); return the points, None if withheld."""
    coords: list[tuple[float, float] | None] = []
    for i, point in enumerate(points):
        if not point or not _finite(point[0]):
            coords.append(None)
            continue
        mean, lower, upper = point
        cx = x(i)
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
        if dots:
            parts.append(f'<circle cx="{cx:.1f}" cy="{y(mean):.1f}" r="4" fill="{colour}"/>')
    return coords


def _polylines(
    coords: Sequence[tuple[float, float] | None], colour: str, dash_attr: str = ""
) -> list[str]:
    """A line through consecutive shown points; a withheld estimate breaks it."""
    lines = []
    segment: list[tuple[float, float]] = []
    for c in [*coords, None]:
        if c is None:
            if len(segment) > 1:
                pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in segment)
                lines.append(
                    f'<polyline points="{pts}" fill="none" stroke="{colour}" '
                    f'stroke-width="2"{dash_attr}/>'
                )
            segment = []
        else:
            segment.append(c)
    return lines


#: Marker shapes and line dashes by series, so that series differ by more than colour.
MARKERS = ("circle", "square", "triangle", "diamond")
DASHES = ("", "7 4", "2 3", "9 3 2 3")


def _marker(shape: str, cx: float, cy: float, colour: str, r: float = 4.5) -> str:
    """One filled marker (circle, square, triangle or diamond) centred on (cx, cy)."""
    if shape == "square":
        return (
            f'<rect x="{cx - r:.1f}" y="{cy - r:.1f}" width="{2 * r:.1f}" height="{2 * r:.1f}" '
            f'fill="{colour}"/>'
        )
    if shape == "triangle":
        points = [(cx, cy - 1.2 * r), (cx + 1.1 * r, cy + 0.9 * r), (cx - 1.1 * r, cy + 0.9 * r)]
    elif shape == "diamond":
        points = [(cx, cy - 1.3 * r), (cx + 1.3 * r, cy), (cx, cy + 1.3 * r), (cx - 1.3 * r, cy)]
    else:
        return f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" fill="{colour}"/>'
    coords = " ".join(f"{a:.1f},{b:.1f}" for a, b in points)
    return f'<polygon points="{coords}" fill="{colour}"/>'


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 1)] + "…"


def marked_trend_chart(
    waves: Sequence[str],
    series: Sequence[tuple[str, Sequence[tuple[float, float, float] | None]]],
    *,
    title: str,
    desc: str,
    wave_axis: str = "Wave",
    index_axis: str = "Index (0-100)",
) -> str:
    """Index means (0-100) per wave with 95% CI error bars, one marked line per series.

    Like :func:`trend_chart`, but each series also has its own marker shape and line
    dash (not colour alone), the legend sits under the plot with room for long names,
    and every text is given by the caller, so that it can be translated.

    Parameters
    ----------
    waves : sequence of str
        Wave labels in order (the x axis); long labels are shortened on the axis.
    series : sequence of (str, sequence)
        Per series its legend label and one entry per wave: (mean, lower, upper), or
        None when the estimate is withheld (nothing is drawn for it).
    title : str
        Heading drawn above the plot and the SVG ``<title>``.
    desc : str
        The SVG ``<desc>``: what the chart shows, in words, for screen readers.
    wave_axis, index_axis : str
        Axis titles.

    Returns
    -------
    str
        One ``<svg role="img">`` element.
    """
    width = 560
    left, right, top, plot_h = 50, 20, 40, 220
    pw = width - left - right
    legend_top = top + plot_h + 44
    height = legend_top + 18 * len(series) + 8
    k = len(waves)
    low, high = _index_range(points for _, points in series)

    def x(i: int) -> float:
        return left + (i + 0.5) * pw / max(k, 1)

    def y(v: float) -> float:
        return top + plot_h * (1 - (v - low) / (high - low))

    head, tail = _open(width, height, title, desc)
    parts = [head, _text(left + pw / 2, 20, title, font_weight="bold")]
    parts += _grid(low, high, left, left + pw, y)
    limit = max(int(pw / max(k, 1) / 7), 6)
    for i, wave in enumerate(waves):
        parts.append(_text(x(i), top + plot_h + 16, _shorten(str(wave), limit)))
    parts.append(_text(left + pw / 2, top + plot_h + 34, wave_axis))
    parts.append(
        _text(14, top + plot_h / 2, index_axis, transform=f"rotate(-90 14 {top + plot_h / 2})")
    )
    n_series = max(len(series), 1)
    for s, (label, points) in enumerate(series):
        colour = PALETTE[s % len(PALETTE)]
        shape = MARKERS[s % len(MARKERS)]
        dash = DASHES[s % len(DASHES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        offset = (s - (n_series - 1) / 2) * 10
        coords = _plot_points(parts, points, _shifted(x, offset), y, colour, dots=False)
        parts += _polylines(coords, colour, dash_attr)
        parts.extend(_marker(shape, cx, cy, colour) for cx, cy in filter(None, coords))
        ly = legend_top + 18 * s
        parts.append(
            f'<line x1="{left}" y1="{ly}" x2="{left + 30}" y2="{ly}" stroke="{colour}" '
            f'stroke-width="2"{dash_attr}/>'
            + _marker(shape, left + 15, ly, colour)
            + _text(left + 38, ly + 4, label, "start")
        )
    parts.append(tail)
    return "".join(parts)


def change_chart(
    rows: Sequence[tuple[str, tuple[float, float, float] | None, str]],
    *,
    title: str,
    desc: str,
    axis: str = "Change (index points)",
) -> str:
    """Changes with 95% CIs as dots and whiskers around a zero line, one row per index.

    Rows keep the order given (never sorted by size), so that a chart cannot be read as
    a ranking.

    Parameters
    ----------
    rows : sequence of (str, (estimate, lower, upper) or None, str)
        Per row its label, the estimate or None when it is withheld, and the text shown
        at the right (e.g. the formatted estimate, or why it is withheld).
    title : str
        Heading drawn above the plot and the SVG ``<title>``.
    desc : str
        The SVG ``<desc>`` for screen readers.
    axis : str
        Title of the horizontal axis.

    Returns
    -------
    str
        One ``<svg role="img">`` element.
    """
    width, row_h = 560, 26
    left, right, top = 150, 170, 36
    pw = width - left - right
    height = top + row_h * len(rows) + 44
    reach = [abs(v) for _, est, _ in rows if est for v in est if _finite(v)]
    limit = max(5.0, math.ceil(max(reach, default=5.0) / 5) * 5)

    def x(v: float) -> float:
        return left + pw * (v + limit) / (2 * limit)

    head, tail = _open(width, height, title, desc)
    parts = [head, _text(width / 2, 20, title, font_weight="bold")]
    bottom = top + row_h * len(rows)
    step = limit / 2
    for tick in (-limit, -step, 0.0, step, limit):
        # The zero line (no change) is dark and dashed, the other grid lines light.
        stroke = 'stroke="#555" stroke-dasharray="4 3"' if tick == 0 else 'stroke="#ddd"'
        parts.append(
            f'<line x1="{x(tick):.1f}" y1="{top - 4}" x2="{x(tick):.1f}" y2="{bottom}" {stroke}/>'
            + _text(x(tick), bottom + 16, f"{tick:+g}" if tick else "0")
        )
    parts.append(_text(left + pw / 2, bottom + 34, axis))
    for i, (label, estimate, note) in enumerate(rows):
        cy = top + i * row_h + row_h / 2
        parts.append(_text(left - 8, cy + 4, _shorten(label, 22), "end"))
        if estimate and all(_finite(v) for v in estimate):
            value, lower, upper = estimate
            parts.append(
                f'<line x1="{x(lower):.1f}" y1="{cy:.1f}" x2="{x(upper):.1f}" y2="{cy:.1f}" '
                f'stroke="{PALETTE[0]}" stroke-width="2"/>'
                f'<line x1="{x(lower):.1f}" y1="{cy - 5:.1f}" x2="{x(lower):.1f}" '
                f'y2="{cy + 5:.1f}" stroke="{PALETTE[0]}"/>'
                f'<line x1="{x(upper):.1f}" y1="{cy - 5:.1f}" x2="{x(upper):.1f}" '
                f'y2="{cy + 5:.1f}" stroke="{PALETTE[0]}"/>'
                + _marker("circle", x(value), cy, PALETTE[0])
            )
        parts.append(_text(left + pw + 10, cy + 4, note, "start", fill="#333"))
    parts.append(tail)
    return "".join(parts)
