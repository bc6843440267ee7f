"""Report stage 3: confirmatory factor analysis of the instrument's model.

Ordered items (yes/no, Likert, 0-10) are fitted by WLSMV on polychoric correlations, with
missing answers handled pairwise, as lavaan does with ``ordered = TRUE``; continuous items
by maximum likelihood on complete cases. Fit is judged by chi-square, CFI, TLI, RMSEA
(with its 90% interval) and SRMR against the cut-offs in :mod:`analysis.verdicts`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from analysis import svg
from analysis.cfa import fit_cfa
from analysis.instrument_model import InstrumentModel
from analysis.report.values import call_or_reason, masked_count
from analysis.verdicts import MIN_FIT_N, small_sample_reason, verdict, withhold_badges

__all__ = ["MAX_ORDERED_CATEGORIES", "cfa_estimator", "fit_stage"]

#: Items answered on integer scales with at most this many categories are ordered: the
#: questionnaire's yes/no, 4- and 5-point and 0-10 items.
MAX_ORDERED_CATEGORIES = 11


def cfa_estimator(spec: InstrumentModel, items: Sequence[str] | None = None) -> str:
    """WLSMV (polychoric correlations, lavaan's ``ordered = TRUE``) when every item (of
    ``items``, default all of the model's) is ordered categorical, else maximum
    likelihood (continuous items). The CFA, the invariance tests and the comparability
    gates all decide this way."""
    ordered = all(
        float(low).is_integer()
        and float(high).is_integer()
        and 2 <= high - low + 1 <= MAX_ORDERED_CATEGORIES
        for low, high in (spec.scale[item] for item in (spec.items if items is None else items))
    )
    return "WLSMV" if ordered else "ML"


def fit_stage(
    reference: pd.DataFrame, spec: InstrumentModel
) -> tuple[dict[str, Any], dict[str, str]]:
    """Fit the CFA of every construct at the reference wave.

    Parameters
    ----------
    reference : pandas.DataFrame
        Reverse-coded responses of the reference wave.
    spec : InstrumentModel
        The model: construct -> items.

    Returns
    -------
    section : dict
        The report's ``cfa`` section (fit indices, standardized loadings, factor
        correlations, verdicts), or ``skipped`` with the reason. When the fit used fewer
        than :data:`~analysis.verdicts.MIN_FIT_N` responses the indices are shown but
        every verdict is ``"n/a"`` and ``badges_withheld`` says why.
    charts : dict of str to str
        The loadings chart (``"loadings"``) when the model could be fitted.
    """
    estimator = cfa_estimator(spec)
    cfa, reason = call_or_reason(fit_cfa, reference, spec.model, estimator=estimator)
    if cfa is None:
        return {"skipped": reason}, {}
    loadings: list[dict[str, Any]] = [
        {"item": item, "construct": c.id, "loading": float(cfa.loadings.loc[item, c.id])}
        for c in spec.constructs
        for item in c.items
    ]
    section = {
        "estimator": estimator,
        "n": masked_count(cfa.n),
        "chi2": cfa.chi2,
        "df": cfa.df,
        "pvalue": cfa.pvalue,
        "cfi": cfa.cfi,
        "tli": cfa.tli,
        "rmsea": cfa.rmsea,
        "rmsea_ci": list(cfa.rmsea_ci),
        "srmr": cfa.srmr,
        "converged": cfa.converged,
        "loadings": loadings,
        "factor_correlations": {
            str(k): {str(j): float(v) for j, v in row.items()}
            for k, row in cfa.factor_correlations.iterrows()
        },
        "verdicts": [
            verdict(metric, getattr(cfa, metric)) for metric in ("cfi", "tli", "rmsea", "srmr")
        ],
    }
    # The responses the fit used: all with an answer under WLSMV (pairwise), complete under ML.
    withheld = small_sample_reason(int(cfa.n), MIN_FIT_N, "fit")
    if withheld:
        section["verdicts"] = withhold_badges(section["verdicts"], withheld)
        section["badges_withheld"] = withheld
    chart = svg.loadings_chart(
        [(d["item"], d["construct"], d["loading"]) for d in loadings],
        title="Standardized CFA loadings at the reference wave",
    )
    return section, {"loadings": chart}
