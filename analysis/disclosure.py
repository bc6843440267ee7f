"""Disclosure control: the two thresholds every published figure obeys.

- :data:`MIN_CELL`: a count of responses below 10 is never shown exactly to anyone but a
  city's admins ("<10"), and a table cell below it is suppressed, so that a small group of
  residents cannot be singled out.
- :data:`MIN_N`: no estimate (mean, change, reliability, fit) is published from fewer than
  30 responses: below that it is too imprecise to mean anything, and close to describing
  individuals.

The report, the datasets' aggregates, the dashboards, the monitoring pages and the API all
import these two numbers from here.
"""

from __future__ import annotations

__all__ = ["MIN_CELL", "MIN_N"]

#: Counts of responses below this are shown as "<10" (and table cells suppressed).
MIN_CELL = 10
#: Smallest number of responses behind any published estimate.
MIN_N = 30
