"""The validation report: structure, fit, reliability, invariance and index change.

:func:`build_report` runs the whole method of this package on one initiative's
responses (all waves) and returns a :class:`Report` with a JSON form
(:meth:`Report.to_json`) and a self-contained HTML page (:meth:`Report.to_html`, from
the translatable template ``analysis/templates/report.html``: inline CSS and hand-made
SVG charts, no JavaScript, no external URLs).

The work is done in stages, one module each: :mod:`~analysis.report.cleaning`,
:mod:`~analysis.report.structure`, :mod:`~analysis.report.fit`,
:mod:`~analysis.report.reliability`, :mod:`~analysis.report.invariance` and
:mod:`~analysis.report.change`, run in order by :mod:`~analysis.report.build`. Verdict
cut-offs live in :mod:`analysis.verdicts`; page rendering in :mod:`~analysis.report.html`.

Disclosure control
------------------
Estimates resting on fewer than 30 responses are withheld with the reason
(:data:`analysis.change.MIN_N`), and any count of responses below 10 is shown as
``"<10"`` (:data:`MIN_CELL`).
"""

from analysis.report.build import build_report, fit_scoring_model
from analysis.report.document import REPORT_FORMAT, Report
from analysis.report.values import MIN_CELL
from analysis.verdicts import verdict

__all__ = ["MIN_CELL", "REPORT_FORMAT", "Report", "build_report", "fit_scoring_model", "verdict"]
