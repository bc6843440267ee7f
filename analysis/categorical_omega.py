"""Categorical omega: the reliability of a score made from ordered answers.

Omega from a linear factor model treats 1-5 or yes/no codes as measurements. Green and
Yang (2009) compute the reliability of the observed score itself from the ordinal factor
model (WLSMV on polychoric correlations, :func:`analysis.fit_cfa`). An item's score rises
by the gap :math:`g_{ic}` between two neighbouring answer values at each threshold passed
(1 for codes 1, 2, 3, ...; 25 for a 1-5 item rescaled to 0-100), so it has a true-score
covariance with another item of

.. math::

    C_{ij} = \\sum_c \\sum_{c'} g_{ic} g_{jc'} \\left[\\Phi_2(\\tau_{ic}, \\tau_{jc'};
             \\lambda_i\\lambda_j) - \\Phi(\\tau_{ic})\\Phi(\\tau_{jc'})\\right],

and omega is :math:`\\sum_{ij} w_i w_j C_{ij}` over the variance of the weighted score
:math:`\\sum_i w_i x_i`, computed the same way from the sample polychoric correlations
(1 on the diagonal), as semTools does; missing answers are handled pair by pair. On the
items rescaled to 0-100 (the index averages them) this is the reliability of the index as
published. Matches semTools
0.5.6's ``compRelSEM(fit, ord.scale = TRUE)`` for the plain sum (weights 1).

References
----------
Green, S. B., & Yang, Y. (2009). Reliability of summed item scores using structural
equation modeling: An alternative to coefficient alpha. *Psychometrika*, 74(1), 155-167.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis.bivariate_normal import bvn_cdf
from analysis.cfa import fit_cfa
from analysis.polychoric import polychoric
from analysis.threads import one_blas_thread

__all__ = ["categorical_omega"]


@one_blas_thread
def categorical_omega(
    data: pd.DataFrame,
    items: Sequence[Hashable],
    weights: Mapping[Hashable, float] | None = None,
) -> float:
    """Green and Yang's omega of the score ``sum(weights[i] * item_i)`` (weights 1 default).

    Raises
    ------
    ValueError
        For fewer than 3 items or data the ordinal model cannot be fitted to.
    """
    items = list(items)
    if len(items) < 3:
        raise ValueError("Categorical omega needs at least 3 items.")
    fit = fit_cfa(data[items], {"f": items}, estimator="WLSMV")
    if fit.thresholds is None:
        raise ValueError("The ordinal model gave no thresholds.")
    loadings = fit.loadings.reindex(index=items).sum(axis=1).to_numpy(dtype=float)
    taus = [fit.thresholds[[key.startswith(f"{item}|") for key in fit.thresholds.index]].to_numpy()
            for item in items]  # fmt: skip
    w = np.array([1.0 if weights is None else float(weights[item]) for item in items])
    answers = data[items].apply(pd.to_numeric, errors="coerce")
    gains = [np.diff(np.unique(answers[item].dropna().to_numpy())) for item in items]
    scores = list(zip(taus, gains, strict=True))
    sample = polychoric(data[items]).to_numpy()
    true = total = 0.0
    for i in range(len(items)):
        for j in range(len(items)):
            implied = loadings[i] * loadings[j]  # the common part, diagonal included
            true += w[i] * w[j] * _covariance(scores[i], scores[j], implied)
            observed = 1.0 if i == j else sample[i, j]
            total += w[i] * w[j] * _covariance(scores[i], scores[j], observed)
    return float(true / total)


def _covariance(item_i: tuple, item_j: tuple, rho: float) -> float:
    """Covariance of two items' scores (thresholds and gains) whose latent responses
    correlate ``rho``."""
    (tau_i, gain_i), (tau_j, gain_j) = item_i, item_j
    h, k = np.meshgrid(tau_i, tau_j, indexing="ij")
    if rho >= 1.0:
        joint = stats.norm.cdf(np.minimum(h, k)).ravel()
    else:
        joint = bvn_cdf(h.ravel(), k.ravel(), rho)
    product = np.outer(stats.norm.cdf(tau_i), stats.norm.cdf(tau_j)).ravel()
    return float(((joint - product) * np.outer(gain_i, gain_j).ravel()).sum())
