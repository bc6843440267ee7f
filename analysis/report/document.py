"""The :class:`Report` object: the report's JSON, its charts, and its HTML page."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis.report.html import render_html
from analysis.report.values import json_safe

if TYPE_CHECKING:
    from jinja2 import Environment

__all__ = ["REPORT_FORMAT", "Report"]

#: Identifies the JSON layout of the report.
REPORT_FORMAT = "surveyapp.validation-report/1"


@dataclass
class Report:
    """A validation report: the results as a JSON-ready dict plus the SVG charts.

    Attributes
    ----------
    content : dict
        Everything :meth:`to_json` returns.
    charts : dict of str to str
        SVG markup by chart key (``scree``, ``loadings``, ``trend:<construct>``).
    """

    content: dict[str, Any]
    charts: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON-serialisable dict (NaN and infinities become None)."""
        return json_safe(self.content)

    def to_html(
        self,
        environment: Environment | None = None,
        *,
        lang: str = "en",
        direction: str = "ltr",
        back_url: str | None = None,
    ) -> str:
        """The report as one self-contained HTML page (no scripts, no external URLs).

        Parameters
        ----------
        environment : jinja2.Environment, optional
            From :func:`analysis.report.html.report_environment`, e.g. over the app's
            environment so that the page is in the reader's language; English otherwise.
        lang, direction : str
            The page's language tag and writing direction (``"ltr"`` or ``"rtl"``).
        back_url : str, optional
            A link back to the page the report was opened from.

        Returns
        -------
        str
        """
        return render_html(
            self.to_json(),
            self.charts,
            environment=environment,
            lang=lang,
            direction=direction,
            back_url=back_url,
        )

    def write(self, directory: str | Path) -> tuple[Path, Path]:
        """Write ``report.html`` and ``report.json`` into ``directory`` (created)."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        html_path, json_path = out / "report.html", out / "report.json"
        html_path.write_text(self.to_html(), encoding="utf-8")
        json_path.write_text(
            json.dumps(self.to_json(), indent=2, ensure_ascii=False, allow_nan=False),
            encoding="utf-8",
        )
        return html_path, json_path
