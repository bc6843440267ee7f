"""The report as one self-contained HTML page, from the Jinja2 template ``report.html``.

The template ships with the package (``analysis/templates/report.html``); every text in
it goes through gettext with named placeholders. Standalone (``python -m analysis
report``) it is rendered by a plain Jinja2 environment in English; the app renders it
with its own environment (Flask-Babel's gettext, the staff member's language) from an
environment built by :func:`report_environment`. The page has inline CSS and hand-made SVG
charts (:mod:`analysis.svg`), no scripts and no external URLs.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from analysis import verdicts
from analysis.report.answer import answer_sentences
from analysis.report.values import MIN_CELL, masked_count

__all__ = ["REFERENCES", "TEMPLATE", "page_context", "render_html", "report_environment"]

#: Name of the template in :func:`template_loader`'s package folder.
TEMPLATE = "report.html"

#: Works cited at the end of the report (not translated).
REFERENCES = (
    "Hu, L., & Bentler, P. M. (1999). Cutoff criteria for fit indexes in covariance "
    "structure analysis. Structural Equation Modeling, 6(1), 1-55.",
    "Chen, F. F. (2007). Sensitivity of goodness of fit indexes to lack of measurement "
    "invariance. Structural Equation Modeling, 14(3), 464-504.",
    "Horn, J. L. (1965). A rationale and test for the number of factors in factor "
    "analysis. Psychometrika, 30, 179-185.",
    "Cameron, A. C., & Miller, D. L. (2015). A practitioner's guide to cluster-robust "
    "inference. Journal of Human Resources, 50(2), 317-372.",
)

_CSS = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#1a1a1a;line-height:1.5}
h1{font-size:1.8rem}h2{margin-top:2.5rem;border-bottom:2px solid #0072B2}
ul.answer li{font-size:1.15rem;margin:.5rem 0}details>summary{cursor:pointer;font-weight:600;
margin-top:2rem;font-size:1.1rem}
table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:end}
th[scope=row],td.text{text-align:start}thead th{background:#f0f4f8}
.badge{display:inline-block;padding:0 .5rem;border-radius:.75rem;font-weight:bold;
font-size:.85rem}
.good{background:#d4edda;color:#155724}.acceptable{background:#fff3cd;color:#6b4f00}
.poor{background:#f8d7da;color:#721c24}.n\\/a,.na{background:#e2e3e5;color:#383d41}
.withheld{color:#6b4f00;font-style:italic}.chart{margin:1rem 0}
.explain{color:#444;font-size:.9rem}
"""


def report_environment(base: Environment | None = None) -> Environment:
    """A Jinja2 environment that finds the report template.

    Parameters
    ----------
    base : jinja2.Environment, optional
        An environment with gettext installed (the app's, with Flask-Babel): the result
        is an overlay of it, sharing its translations, that loads from this package.
        Without it, a plain environment with the i18n extension and English (null)
        translations.

    Returns
    -------
    jinja2.Environment
    """
    loader = PackageLoader("analysis", "templates")
    if base is not None:
        return base.overlay(loader=loader, autoescape=True)
    return _standalone_environment()


@cache
def _standalone_environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("analysis", "templates"),
        autoescape=select_autoescape(default=True),
        extensions=["jinja2.ext.i18n"],
    )
    environment.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    return environment


def fmt(value: Any, digits: int = 3) -> str:
    """A number as the report shows it: ``digits`` decimals for floats, a dash for None."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def ci(low: Any, high: Any, digits: int = 3) -> str:
    """An interval as ``[low, high]``, or a dash when a limit is missing."""
    if low is None or high is None:
        return "–"
    return f"[{fmt(low, digits)}, {fmt(high, digits)}]"


def distributions(rows: Iterable[Mapping[str, Any]]) -> list[tuple[str, list[tuple[Any, str]]]]:
    """Answer shares per item, in order: ``(item, [(code or None, share text), ...])``.

    A code of None is a missing answer (the template names it); a share below
    :data:`~analysis.report.values.MIN_CELL` responses reads ``<10``.
    """
    out: dict[str, list[tuple[Any, str]]] = {}
    for d in rows:
        value = None if d["value"] is None else fmt(d["value"], 0)
        share = f"<{MIN_CELL}" if d["share"] is None else f"{100 * d['share']:.0f}%"
        if d["share"] is None and d["n"] != f"<{MIN_CELL}":
            share = "–"
        out.setdefault(d["item"], []).append((value, share))
    return list(out.items())


def group_list(groups: Iterable[Mapping[str, Any]]) -> str:
    """Invariance groups as ``"fr (n = 120), nl (n = 140)"``."""
    return ", ".join(f"{g['group']} (n = {g['n']})" for g in groups)


def page_context(
    content: Mapping[str, Any],
    charts: Mapping[str, str],
    *,
    lang: str = "en",
    direction: str = "ltr",
    back_url: str | None = None,
) -> dict[str, Any]:
    """What the template needs besides gettext: the report, charts, helpers, cut-offs.

    Parameters
    ----------
    content : mapping
        The report's JSON (:meth:`analysis.report.Report.to_json`).
    charts : mapping of str to str
        SVG markup by chart key; trusted (made by :mod:`analysis.svg`, text escaped).
    lang, direction : str
        The page's language tag and writing direction (``"ltr"`` or ``"rtl"``).
    back_url : str, optional
        A link back to the page the report was opened from.

    Returns
    -------
    dict
    """
    cut: dict[str, Any] = {
        metric: {"good": fmt(good, 2), "acceptable": fmt(ok, 2)}
        for metric, (good, ok, _higher) in verdicts.THRESHOLDS.items()
    }
    cut.update(
        max_delta_cfi=verdicts.MAX_DELTA_CFI,
        max_delta_rmsea=verdicts.MAX_DELTA_RMSEA,
        min_loading=verdicts.MIN_LOADING,
        min_item_rest_r=verdicts.MIN_ITEM_REST_R,
    )
    return {
        "r": content,
        # Charts are made here (analysis.svg escapes their text): trusted markup.
        "charts": {key: Markup(chart) for key, chart in charts.items()},
        "lang": lang,
        "direction": direction,
        "arrow": "←" if direction == "rtl" else "→",
        "back_url": back_url,
        "css": Markup(_CSS),
        "cut": cut,
        "references": REFERENCES,
        "fmt": fmt,
        "ci": ci,
        "count": masked_count,
        "dumps": lambda value: json.dumps(value, ensure_ascii=False),
        "distributions": distributions,
        "group_list": group_list,
    }


def render_html(
    content: Mapping[str, Any],
    charts: Mapping[str, str],
    *,
    environment: Environment | None = None,
    lang: str = "en",
    direction: str = "ltr",
    back_url: str | None = None,
) -> str:
    """Render the report page.

    Parameters
    ----------
    content, charts, lang, direction, back_url
        See :func:`page_context`.
    environment : jinja2.Environment, optional
        From :func:`report_environment`; the standalone English one by default.

    Returns
    -------
    str
        The HTML page.
    """
    environment = environment or report_environment()
    context = page_context(content, charts, lang=lang, direction=direction, back_url=back_url)
    # The answer first, in the page's language: the environment's gettext (new-style, so it
    # takes a template context, and escapes the values it fills in).
    blank = environment.from_string("").new_context({})
    newstyle: Callable[..., str] = environment.globals["gettext"]  # type: ignore[assignment]
    gettext = functools.partial(newstyle, blank)
    context["answer"] = answer_sentences(
        content.get("answer", []),
        gettext,
        number=lambda v: fmt(v, 1),
        adjusted=content.get("multiplicity"),
    )
    return environment.get_template(TEMPLATE).render(context)
