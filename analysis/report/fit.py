"""Report stage 3: confirmatory factor analysis of the instrument's model.

Fit is judged by chi-square, CFI, TLI, RMSEA (with its 90% interval) and SRMR against
the cut-offs in :mod:`analysis.verdicts`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from analysis import svg
from analysis.cfa import fit_cfa
from analysis.instrument_model import InstrumentModel
from analysis.report.values import call_or_reason, masked_count
from analysis.verdicts import verdict

__all__ = ["fit_stage"]


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
        correlations, verdicts), or ``skipped`` with the reason.
    charts : dict of str to str
        The loadings chart (``"loadings"``) when the model could be fitted.
    """
    cfa, reason = call_or_reason(fit_cfa, reference, spec.model)
    if cfa is None:
        return {"skipped": reason}, {}
    loadings: list[dict[str, Any]] = [
        {"item": item, "construct": c.id, "loading": float(cfa.loadings.loc[item, c.id])}
        for c in spec.constructs
        for item in c.items
    ]
    section = {
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
    chart = svg.loadings_chart(
        [(d["item"], d["construct"], d["loading"]) for d in loadings],
        title="Standardized CFA loadings at the reference wave",
    )
    return section, {"loadings": chart}
