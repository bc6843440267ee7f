"""Raking weights to an area's population margins, with trimming and design effect.

Raking (iterative proportional fitting, Deming & Stephan, 1940) adjusts weights so
that the weighted sample matches each margin in turn, until all match. Margins may be
single variables (``"gender"``) or joint cells (``("age_band", "gender")``, the
age band x gender table of an area). Extreme weights are then trimmed to
``[trim[0], trim[1]] x`` the mean weight and the raking repeated, a few rounds, so that
the trimmed weights still (nearly) match the margins.

Kish's design effect due to weighting and the effective sample size are reported:

.. math::

    \\mathrm{deff} = 1 + \\mathrm{CV}^2(w) = \\frac{n\\sum w_i^2}{(\\sum w_i)^2},
    \\qquad n_{\\mathrm{eff}} = \\frac{(\\sum w_i)^2}{\\sum w_i^2}.

References
----------
Deming, W. E., & Stephan, F. F. (1940). On a least squares adjustment of a sampled
frequency table when the expected marginal totals are known. *Annals of Mathematical
Statistics*, 11(4), 427-444.

Kish, L. (1965). *Survey sampling*. Wiley.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["RakingResult", "design_effect", "rake"]


def design_effect(weights: np.ndarray | pd.Series) -> tuple[float, float]:
    """Kish's design effect and effective sample size of ``weights``."""
    w = np.asarray(weights, dtype=float)
    w = w[np.isfinite(w)]
    total = w.sum()
    if total <= 0:
        return (float("nan"), 0.0)
    n_eff = total**2 / (w**2).sum()
    return (float(len(w) / n_eff), float(n_eff))


@dataclass(frozen=True)
class RakingResult:
    """Raked weights and their diagnostics.

    Attributes
    ----------
    weights : pandas.Series
        Weights indexed like the data, scaled to sum to the sample size.
    converged : bool
        Whether the final raking matched every margin within ``tol``.
    iterations : int
        Raking sweeps in the last round.
    n_trimmed : int
        Weights clipped in the last trimming step (0 if none was needed).
    design_effect, effective_n : float
        Kish's design effect and effective sample size.
    max_margin_error : float
        Largest absolute difference between weighted and target shares.
    parameters : dict
        Margins (as shares), trimming bounds and tolerances, JSON-serialisable.
    """

    weights: pd.Series
    converged: bool
    iterations: int
    n_trimmed: int
    design_effect: float
    effective_n: float
    max_margin_error: float
    parameters: dict


def _cells(data: pd.DataFrame, key: Hashable | tuple) -> pd.Series:
    columns = list(key) if isinstance(key, tuple) else [key]
    cells = data[columns[0]].astype(str)
    for column in columns[1:]:
        cells = cells + " x " + data[column].astype(str)
    return cells


def _target_shares(key: Hashable | tuple, target: pd.Series) -> pd.Series:
    if isinstance(key, tuple) and isinstance(target.index, pd.MultiIndex):
        labels = [" x ".join(str(part) for part in cell) for cell in target.index]
    else:
        labels = [str(cell) for cell in target.index]
    shares = pd.Series(np.asarray(target, dtype=float), index=labels)
    if (shares < 0).any() or shares.sum() <= 0:
        raise ValueError(f"Margin {key!r} needs non-negative targets with a positive total.")
    return shares / shares.sum()


def rake(
    data: pd.DataFrame,
    margins: Mapping[Hashable | tuple, pd.Series],
    *,
    base_weight: Hashable | None = None,
    trim: tuple[float, float] | None = (0.3, 3.0),
    max_iter: int = 100,
    tol: float = 1e-6,
    trim_rounds: int = 10,
) -> RakingResult:
    """Rake weights to population margins, then trim and re-rake.

    Parameters
    ----------
    data : pandas.DataFrame
        The respondents of one area (and wave).
    margins : mapping of column label (or tuple of labels) to pandas.Series
        Population counts or shares per category; a tuple key is a joint table whose
        series has a MultiIndex (or string labels ``"a x b"``).
    base_weight : column label, optional
        Design weights to start from; 1 by default.
    trim : (float, float) or None, default (0.3, 3.0)
        Bounds for the weights relative to their mean; None disables trimming.
    max_iter : int, default 100
        Raking sweeps per round.
    tol : float, default 1e-6
        Convergence: largest absolute share difference over all margins.
    trim_rounds : int, default 10
        Trim-and-rake rounds.

    Returns
    -------
    RakingResult

    Raises
    ------
    ValueError
        If a sample category has no population target, a population category with
        a positive target has no respondents, or a margin column is missing.
    """
    n = len(data)
    if n == 0:
        raise ValueError("No respondents to weight.")
    raking = _Raking(*_margin_codes(data, margins), max_iter=max_iter, tol=tol)
    w = (
        np.ones(n)
        if base_weight is None
        else pd.to_numeric(data[base_weight], errors="coerce").to_numpy(dtype=float)
    )
    if not (np.isfinite(w).all() and (w > 0).all()):
        raise ValueError("Base weights must be positive and finite.")
    w, iterations, error = raking.sweep(w / w.mean())
    n_trimmed = 0
    if trim is not None:
        w, iterations, error, n_trimmed = _trim(raking, w, trim, trim_rounds, iterations, error)
    w = w * n / w.sum()
    deff, n_eff = design_effect(w)
    parameters = {
        "margins": {
            " x ".join(map(str, k)) if isinstance(k, tuple) else str(k): dict(
                zip(_target_shares(k, v).index, _target_shares(k, v).tolist(), strict=True)
            )
            for k, v in margins.items()
        },
        "base_weight": None if base_weight is None else str(base_weight),
        "trim": None if trim is None else list(trim),
        "tol": tol,
        "max_iter": max_iter,
    }
    return RakingResult(
        weights=pd.Series(w, index=data.index, name="weight"),
        converged=bool(error < max(tol, 1e-4)),
        iterations=iterations,
        n_trimmed=n_trimmed,
        design_effect=deff,
        effective_n=n_eff,
        max_margin_error=float(error),
        parameters=parameters,
    )


def _margin_codes(
    data: pd.DataFrame, margins: Mapping[Hashable | tuple, pd.Series]
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per margin: each respondent's category code and the target share of each category.

    Raises ``ValueError`` as :func:`rake` documents.
    """
    codes = []
    targets = []
    for key, target in margins.items():
        columns = list(key) if isinstance(key, tuple) else [key]
        absent = [c for c in columns if c not in data.columns]
        if absent:
            raise ValueError(f"Margin column(s) {absent} not in the data.")
        cells = _cells(data, key)
        shares = _target_shares(key, target)
        unknown = sorted(set(cells) - set(shares.index))
        if unknown:
            raise ValueError(f"Margin {key!r}: categories {unknown} have no population target.")
        empty = sorted(set(shares.index[shares > 0]) - set(cells))
        if empty:
            raise ValueError(f"Margin {key!r}: no respondents in {empty}; collapse categories.")
        category = pd.Categorical(cells, categories=list(shares.index))
        codes.append(np.asarray(category.codes))
        targets.append(shares.to_numpy())
    return codes, targets


@dataclass(frozen=True)
class _Raking:
    """The margins to rake to (category codes and target shares) and when to stop."""

    codes: list[np.ndarray]
    targets: list[np.ndarray]
    max_iter: int
    tol: float

    def sweep(self, w: np.ndarray) -> tuple[np.ndarray, int, float]:
        """Rake ``w`` until every margin matches within ``tol``: weights, sweeps, error."""
        error = np.inf
        for iteration in range(1, self.max_iter + 1):
            for code, share in zip(self.codes, self.targets, strict=True):
                current = np.bincount(code, weights=w, minlength=len(share)) / w.sum()
                factor = np.divide(share, current, out=np.zeros_like(share), where=current > 0)
                w = w * factor[code]
            error = self.margin_error(w)
            if error < self.tol:
                return w, iteration, error
        return w, self.max_iter, error

    def margin_error(self, w: np.ndarray) -> float:
        """Largest absolute difference between weighted and target shares."""
        return max(
            float(np.abs(np.bincount(c, weights=w, minlength=len(s)) / w.sum() - s).max())
            for c, s in zip(self.codes, self.targets, strict=True)
        )


def _trim(
    raking: _Raking,
    w: np.ndarray,
    trim: tuple[float, float],
    trim_rounds: int,
    iterations: int,
    error: float,
) -> tuple[np.ndarray, int, float, int]:
    """Trim and re-rake raked weights: weights, sweeps, margin error and weights trimmed."""
    n_trimmed = 0
    low, high = trim
    for _ in range(trim_rounds):
        mean = w.mean()
        outside = (w < low * mean) | (w > high * mean)
        if not outside.any():
            break
        n_trimmed = int(outside.sum())
        w, iterations, error = raking.sweep(np.clip(w, low * mean, high * mean))
    mean = w.mean()
    outside = (w < low * mean * (1 - 1e-9)) | (w > high * mean * (1 + 1e-9))
    if outside.any():
        # Raking cannot keep every weight inside the bounds: keep the bounds and
        # report the margin error that remains.
        n_trimmed = int(outside.sum())
        for _ in range(100):
            # Clipping moves the mean; repeat until the bounds hold for the result.
            clipped = np.clip(w, low * w.mean(), high * w.mean())
            if np.allclose(clipped, w, rtol=1e-12, atol=0):
                break
            w = clipped
        error = raking.margin_error(w)
    return w, iterations, error, n_trimmed
