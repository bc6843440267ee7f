"""Variance components of an index for planning: within area-waves and between them.

The planner (:func:`analysis.plan_design`) needs two numbers per index: the total standard
deviation :math:`\\sigma` and the share :math:`\\rho_{aw}` of the variance that lies between
area-waves and does not cancel in a difference-in-differences (area-by-wave variation).
:func:`variance_components` estimates both from a city's earlier waves by the method of
moments on the table of area-by-wave cell means (Searle, Casella & McCulloch 1992, ch. 4):

* the within variance :math:`\\sigma^2_e` is the pooled variance inside the cells;
* the area-by-wave variance :math:`\\sigma^2_{aw}` is the interaction mean square of the cell
  means (each mean minus its area's and its wave's mean, plus the grand mean), over
  :math:`(A-1)(W-1)` degrees of freedom, less the sampling noise it carries,
  :math:`\\sigma^2_e` times the average of :math:`1/n_{aw}`; never below zero.

Stable differences between areas cancel in a DiD and are left out, as the planner's model
says. With a single wave the interaction cannot be told apart from stable area differences:
the between-area variance is used instead, an upper bound (``upper_bound`` is True), which
makes the plan err on the safe side. Weights are not used: the components describe the
population's spread, which the planning formula treats as unweighted.

Reference: Searle, S. R., Casella, G. & McCulloch, C. E. (1992). *Variance Components*.
Wiley.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["MIN_CELL_ANSWERS", "variance_components"]

#: Area-waves with fewer answers than this are left out (their means are mostly noise).
MIN_CELL_ANSWERS = 10


def variance_components(
    data: pd.DataFrame, index: str, wave: str, area: str
) -> dict[str, Any] | None:
    """Within and between area-wave variance of ``index`` (see the module's docstring).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per response with the index score, its wave and its area.
    index, wave, area : str

    Returns
    -------
    dict or None
        ``sd`` (total SD: within and area-by-wave), ``icc`` (area-by-wave share),
        ``within_sd``, ``area_wave_sd``, ``df`` (degrees of freedom of the between part),
        ``areas``, ``waves``, ``responses`` and ``upper_bound`` (one wave only). None when
        fewer than two areas have at least :data:`MIN_CELL_ANSWERS` scored answers.
    """
    frame = data[[index, wave, area]].dropna()
    cells = frame.groupby([area, wave], observed=True)[index].agg(["mean", "var", "size"])
    cells = cells[cells["size"] >= MIN_CELL_ANSWERS]
    if cells.empty:
        return None
    within = float(((cells["size"] - 1) * cells["var"]).sum() / (cells["size"] - 1).sum())
    table = cells["mean"].unstack(wave)
    waves = [w for w in table.columns if table[w].notna().sum() >= 2]
    # Areas present in every kept wave: the interaction needs a complete table.
    table = table[waves].dropna()
    if len(table) < 2 or not waves:
        return None
    sizes = cells["size"].unstack(wave).loc[table.index, waves]
    noise = within * float((1 / sizes.to_numpy()).mean())
    means = table.to_numpy(dtype=float)
    a, w = means.shape
    if w >= 2:
        residual = means - means.mean(1, keepdims=True) - means.mean(0) + means.mean()
        df = (a - 1) * (w - 1)
        between = max(0.0, float((residual**2).sum()) / df - noise)
    else:
        df = a - 1
        between = max(0.0, float(np.var(means[:, 0], ddof=1)) - noise)
    total = within + between
    return {
        "sd": math.sqrt(total),
        "icc": between / total if total > 0 else 0.0,
        "within_sd": math.sqrt(within),
        "area_wave_sd": math.sqrt(between),
        "df": int(df),
        "areas": int(a),
        "waves": int(w),
        "responses": int(sizes.to_numpy().sum()),
        "upper_bound": w < 2,
    }
