"""Item analysis and structure checks before a CFA.

- :func:`item_analysis`: per item n answered, missing share, mean, SD, range and the
  corrected item-rest correlation, from one covariance matrix computed in one pass;
- :func:`item_distributions`: the share of each answer code per item;
- :func:`structure_checks`: Kaiser-Meyer-Olkin measure, Bartlett's test of sphericity
  and Horn's parallel analysis for the number of factors.

Item-rest correlation of item :math:`i` (its correlation with the sum of the other
items), from the covariance matrix :math:`C` of the complete cases:

.. math::

    r_{i,\\,rest} = \\frac{(C\\mathbf 1)_i - c_{ii}}
        {\\sqrt{c_{ii}\\,(\\mathbf 1^\\top C \\mathbf 1 - 2 (C\\mathbf 1)_i + c_{ii})}}.

References
----------
Horn, J. L. (1965). A rationale and test for the number of factors in factor analysis.
*Psychometrika*, 30, 179-185.

Kaiser, H. F. (1974). An index of factorial simplicity. *Psychometrika*, 39, 31-36.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["item_analysis", "item_distributions", "parallel_analysis", "structure_checks"]


def _answers(data: pd.DataFrame, items: Sequence[Hashable]) -> np.ndarray:
    values = data[list(items)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    return np.where(values >= 0, values, np.nan)


def item_analysis(data: pd.DataFrame, items: Sequence[Hashable]) -> pd.DataFrame:
    """Descriptives and item-rest correlations of one scale's items.

    Parameters
    ----------
    data : pandas.DataFrame
    items : sequence of column labels
        The items of one construct, already reverse-coded if needed (negative codes
        are treated as missing).

    Returns
    -------
    pandas.DataFrame
        Indexed by item: ``n``, ``missing_share``, ``mean``, ``sd``, ``min``, ``max``,
        ``item_rest_r`` (from the complete cases) and ``n_complete``.
    """
    items = list(items)
    values = _answers(data, items)
    answered = np.isfinite(values)
    complete = values[answered.all(axis=1)]
    item_rest = np.full(len(items), np.nan)
    if len(complete) > 2 and len(items) > 1:
        cov = np.cov(complete, rowvar=False)
        row_sums = cov.sum(axis=1)
        total = cov.sum()
        diag = np.diag(cov)
        rest_var = total - 2 * row_sums + diag
        with np.errstate(invalid="ignore", divide="ignore"):
            item_rest = (row_sums - diag) / np.sqrt(diag * rest_var)
    n = answered.sum(axis=0)
    masked = np.where(answered, values, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = masked.sum(axis=0) / n
        var = (np.where(answered, (values - mean) ** 2, 0.0)).sum(axis=0) / (n - 1)
    return pd.DataFrame(
        {
            "n": n,
            "missing_share": 1 - n / len(data) if len(data) else np.nan,
            "mean": mean,
            "sd": np.sqrt(var),
            "min": np.where(n > 0, np.where(answered, values, np.inf).min(axis=0), np.nan),
            "max": np.where(n > 0, np.where(answered, values, -np.inf).max(axis=0), np.nan),
            "item_rest_r": item_rest,
            "n_complete": len(complete),
        },
        index=pd.Index(items, name="item"),
    )


def item_distributions(data: pd.DataFrame, items: Sequence[Hashable]) -> pd.DataFrame:
    """Share of each answer code per item (negative codes = missing, shown as NaN).

    Returns
    -------
    pandas.DataFrame
        Long format with columns ``item``, ``value``, ``n`` and ``share`` (of all
        rows, so the shares of an item sum to 1 with its missing row).
    """
    rows = []
    for item in items:
        column = pd.to_numeric(data[item], errors="coerce")
        column = column.where(column >= 0)
        counts = column.value_counts(dropna=False).sort_index()
        for value, count in counts.items():
            rows.append({"item": item, "value": value, "n": int(count),
                         "share": count / len(data)})  # fmt: skip
    return pd.DataFrame(rows, columns=["item", "value", "n", "share"])


def parallel_analysis(
    data: pd.DataFrame,
    items: Sequence[Hashable],
    *,
    n_iter: int = 100,
    quantile: float = 0.95,
    seed: int = 0,
) -> dict[str, Any]:
    """Horn's parallel analysis on the correlation matrix of the complete cases.

    The number of factors is the number of leading observed eigenvalues that exceed
    the ``quantile`` of eigenvalues from uncorrelated normal data of the same size.

    Returns
    -------
    dict
        ``n_factors``, ``observed`` and ``random`` eigenvalues (lists), ``n_iter``,
        ``quantile`` and ``seed``.
    """
    values = _answers(data, items)
    values = values[np.isfinite(values).all(axis=1)]
    n, p = values.shape
    observed = np.linalg.eigvalsh(np.corrcoef(values, rowvar=False))[::-1]
    rng = np.random.default_rng(seed)
    random = np.empty((n_iter, p))
    for k in range(n_iter):
        noise = rng.standard_normal((n, p))
        random[k] = np.linalg.eigvalsh(np.corrcoef(noise, rowvar=False))[::-1]
    threshold = np.quantile(random, quantile, axis=0)
    above = observed > threshold
    n_factors = int(np.argmin(above)) if not above.all() else p
    return {
        "n_factors": n_factors,
        "observed": observed.tolist(),
        "random": threshold.tolist(),
        "n_iter": n_iter,
        "quantile": quantile,
        "seed": seed,
    }


def structure_checks(
    data: pd.DataFrame, items: Sequence[Hashable], *, seed: int = 0, n_iter: int = 100
) -> dict[str, Any]:
    """KMO, Bartlett's test of sphericity and parallel analysis.

    Parameters
    ----------
    data : pandas.DataFrame
    items : sequence of column labels
    seed, n_iter : int
        For the parallel analysis.

    Returns
    -------
    dict
        ``n`` (complete cases), ``kmo`` (overall), ``kmo_items`` (dict),
        ``bartlett_chi2``, ``bartlett_df``, ``bartlett_pvalue`` and
        ``parallel_analysis``.

    Notes
    -----
    KMO: :math:`\\sum r_{ij}^2 / (\\sum r_{ij}^2 + \\sum q_{ij}^2)` over :math:`i \\ne j`
    with :math:`q` the partial (anti-image) correlations. Bartlett:
    :math:`-(n - 1 - (2p + 5)/6)\\log|R|` on :math:`p(p-1)/2` df.
    """
    items = list(items)
    values = _answers(data, items)
    values = values[np.isfinite(values).all(axis=1)]
    n, p = values.shape
    if n <= p:
        raise ValueError(
            f"structure checks need more complete responses than items: {n} complete "
            f"response(s) for {p} items"
        )
    corr = np.corrcoef(values, rowvar=False)
    if np.linalg.matrix_rank(corr) < p:
        # An item that is a constant or a linear combination of others: KMO and Bartlett
        # are undefined (the correlation matrix has no inverse and a zero determinant).
        raise ValueError(
            f"structure checks are undefined: the correlation matrix of the {p} items is "
            f"singular ({n} complete responses; an item is constant or duplicates others)"
        )
    inverse = np.linalg.inv(corr)
    scale = np.sqrt(np.outer(np.diag(inverse), np.diag(inverse)))
    partial = -inverse / scale
    off = ~np.eye(p, dtype=bool)
    r2 = np.where(off, corr**2, 0.0)
    q2 = np.where(off, partial**2, 0.0)
    kmo_items = r2.sum(axis=0) / (r2.sum(axis=0) + q2.sum(axis=0))
    kmo = r2.sum() / (r2.sum() + q2.sum())
    chi2 = -(n - 1 - (2 * p + 5) / 6) * np.linalg.slogdet(corr)[1]
    df = p * (p - 1) // 2
    return {
        "n": int(n),
        "kmo": float(kmo),
        "kmo_items": dict(zip(map(str, items), map(float, kmo_items), strict=True)),
        "bartlett_chi2": float(chi2),
        "bartlett_df": df,
        "bartlett_pvalue": float(stats.chi2.sf(chi2, df)),
        "parallel_analysis": parallel_analysis(data, items, n_iter=n_iter, seed=seed),
    }
