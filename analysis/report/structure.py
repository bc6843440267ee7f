"""Report stage 2: is there structure to analyse? KMO, Bartlett, parallel analysis, EFA.

All at the reference wave, on complete responses; the scree plot compares the observed
eigenvalues with those of random data (Horn, 1965).
"""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd

from analysis import svg
from analysis.factor_analyzer_compat import fit_efa
from analysis.instrument_model import InstrumentModel
from analysis.items import structure_checks
from analysis.report.values import call_or_reason, masked_count
from analysis.verdicts import verdict

__all__ = ["efa_entry", "structure_stage"]


def structure_stage(
    complete: pd.DataFrame, spec: InstrumentModel, *, seed: int
) -> tuple[dict[str, Any], dict[str, str]]:
    """Sampling adequacy, the number of factors and an exploratory factor analysis.

    Parameters
    ----------
    complete : pandas.DataFrame
        Complete, reverse-coded responses of the reference wave (item columns only).
    spec : InstrumentModel
    seed : int
        Seed of the parallel analysis.

    Returns
    -------
    section : dict
        The report's ``structure`` section, or ``skipped`` with the reason.
    charts : dict of str to str
        The scree plot (``"scree"``) when the checks could be run.
    """
    checks, reason = call_or_reason(structure_checks, complete, spec.items, seed=seed)
    if checks is None:
        return {"skipped": reason}, {}
    pa = checks["parallel_analysis"]
    n_factors = max(int(pa["n_factors"]), 1)
    section = {
        "n": masked_count(checks["n"]),
        "kmo": checks["kmo"],
        "kmo_items": checks["kmo_items"],
        "bartlett_chi2": checks["bartlett_chi2"],
        "bartlett_df": checks["bartlett_df"],
        "bartlett_pvalue": checks["bartlett_pvalue"],
        "parallel_analysis": pa,
        "n_constructs": len(spec.constructs),
        "verdicts": [verdict("kmo", checks["kmo"])],
        "factors_match": n_factors == len(spec.constructs),
        "efa": efa_entry(complete, spec.items, n_factors),
    }
    scree = svg.scree_plot(
        pa["observed"], pa["random"], title="Scree plot: eigenvalues against parallel analysis"
    )
    return section, {"scree": scree}


def efa_entry(complete: pd.DataFrame, items: list[str], n_factors: int) -> dict[str, Any]:
    """Loadings of an exploratory factor analysis (oblimin when more than one factor).

    Parameters
    ----------
    complete : pandas.DataFrame
        Complete responses, item columns.
    items : list of str
    n_factors : int

    Returns
    -------
    dict
        ``n_factors``, ``rotation``, ``loadings`` by item and the fitting ``warnings``;
        or ``skipped`` with the reason.
    """
    rotation = "oblimin" if n_factors > 1 else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        efa, reason = call_or_reason(fit_efa, complete, n_factors, rotation=rotation)
    if efa is None:
        return {"skipped": reason}
    return {
        "n_factors": n_factors,
        "rotation": rotation or "none",
        "loadings": {
            item: list(map(float, row)) for item, row in zip(items, efa.loadings_, strict=True)
        },
        "warnings": sorted({str(w.message) for w in caught}),
    }
