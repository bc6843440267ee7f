"""Frozen scoring models and 0-100 POMP index scores.

A scoring model is frozen once, on a reference wave, and then scores every later wave
unchanged, so that change over time is measured on one fixed ruler (never refit per
wave). It records, per construct, its items, their keys (reverse coding), weights
(unit-weighted by default), each item's response range, the reference wave's item and
index means and standard deviations, and the missing-item rule. It is a plain,
JSON-serialisable dict with a format version and a SHA-256 hash of its canonical JSON,
so the database can store it and anyone can check that a score was made with it.

Item score (POMP, "percent of maximum possible", Cohen et al., 1999):

.. math::

    \\mathrm{POMP}(x) = 100\\,\\frac{x - \\min}{\\max - \\min}, \\qquad
    \\text{reversed: } 100 - \\mathrm{POMP}(x),

and the construct index is the weighted mean of the answered items' POMP scores, given
only when at least ``min_answered_fraction`` (default two thirds) of its items are
answered. Negative codes (don't know, refused, not applicable) and values outside the
item's range count as missing.

References
----------
Cohen, P., Cohen, J., Aiken, L. S., & West, S. G. (1999). The problem of units and the
circumstance for POMP. *Multivariate Behavioral Research*, 34(3), 315-346.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Collection, Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "SCORING_MODEL_FORMAT",
    "factor_score_weights",
    "freeze_scoring_model",
    "item_pomp",
    "score",
    "scoring_model_hash",
    "verify_scoring_model",
]

#: Identifies the dict layout; bump the number when the layout changes.
SCORING_MODEL_FORMAT = "surveyapp.scoring-model/1"


def scoring_model_hash(model: Mapping[str, Any]) -> str:
    """SHA-256 of the model's canonical JSON, without its ``hash`` entry."""
    body = {key: value for key, value in model.items() if key != "hash"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def factor_score_weights(
    loadings: pd.DataFrame, unique_variances: pd.Series
) -> dict[str, dict[str, float]]:
    """Bartlett factor-score weights per construct, for ``freeze_scoring_model(weights=)``.

    For a simple-structure model the Bartlett weight of item :math:`i` on its construct
    is proportional to :math:`\\lambda_i / \\psi_i` (standardized loading over
    standardized unique variance). Weights are rescaled to average 1 within each
    construct, so that they are comparable with unit weights.

    Parameters
    ----------
    loadings : pandas.DataFrame
        Standardized loadings, items x constructs (e.g. ``CFAResult.loadings``).
    unique_variances : pandas.Series
        Standardized unique variances by item (``CFAResult.unique_variances``).

    Returns
    -------
    dict
        Construct -> item -> weight.

    Raises
    ------
    ValueError
        If a weight would not be positive (a negative loading: reverse-code the item).
    """
    weights: dict[str, dict[str, float]] = {}
    for construct in loadings.columns:
        column = loadings[construct]
        items = column.index[column != 0]
        raw = column[items] / unique_variances[items]
        if (raw <= 0).any():
            raise ValueError(f"Construct {construct!r}: non-positive weight; reverse-code first.")
        scaled = raw / raw.mean()
        weights[str(construct)] = {str(item): float(w) for item, w in scaled.items()}
    return weights


def verify_scoring_model(model: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` unless ``model`` is a scoring model whose hash matches."""
    if model.get("format") != SCORING_MODEL_FORMAT:
        raise ValueError(f"Not a scoring model of format {SCORING_MODEL_FORMAT!r}.")
    if model.get("hash") != scoring_model_hash(model):
        raise ValueError("The scoring model's hash does not match its content.")


def item_pomp(values: np.ndarray, low: float, high: float, reverse: bool) -> np.ndarray:
    """POMP scores of one item's raw values; missing, negative or out-of-range -> NaN."""
    values = np.asarray(values, dtype=float)
    valid = (values >= low) & (values <= high)
    pomp = np.where(valid, 100.0 * (values - low) / (high - low), np.nan)
    return 100.0 - pomp if reverse else pomp


def _numeric(data: pd.DataFrame, items: Sequence[Hashable]) -> np.ndarray:
    """The item columns as one float array; non-numeric entries become NaN."""
    frame = data[list(items)]
    if not all(pd.api.types.is_numeric_dtype(dtype) for dtype in frame.dtypes):
        frame = frame.apply(pd.to_numeric, errors="coerce")
    return frame.to_numpy(dtype=float, na_value=np.nan)


def _score_array(values: np.ndarray, model: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Construct scores from a float array whose columns are ``model['items']`` order."""
    position = {item: k for k, item in enumerate(model["items"])}
    fraction = model["missing_rule"]["min_answered_fraction"]
    out = {}
    for name, construct in model["constructs"].items():
        columns = [position[item] for item in construct["items"]]
        pomp = np.empty((values.shape[0], len(columns)))
        for j, item in enumerate(construct["items"]):
            spec = model["items"][item]
            pomp[:, j] = item_pomp(values[:, columns[j]], spec["min"], spec["max"], spec["reverse"])
        weights = np.array([construct["weights"][item] for item in construct["items"]])
        answered = ~np.isnan(pomp)
        needed = math.ceil(fraction * len(columns) - 1e-9)
        weight_sum = answered @ weights
        total = np.where(answered, pomp, 0.0) @ weights
        with np.errstate(invalid="ignore", divide="ignore"):
            index = total / weight_sum
        out[name] = np.where(answered.sum(axis=1) >= needed, index, np.nan)
    return out


def freeze_scoring_model(
    reference: pd.DataFrame,
    constructs: Mapping[str, Sequence[str]],
    scale: Mapping[str, tuple[float, float]],
    *,
    reverse: Collection[str] = (),
    weights: Mapping[str, Mapping[str, float]] | None = None,
    min_answered_fraction: float = 2 / 3,
    version: str = "1",
    instrument: str | None = None,
    reference_label: str | None = None,
) -> dict[str, Any]:
    """Freeze the index definition at a reference wave.

    Parameters
    ----------
    reference : pandas.DataFrame
        The reference wave's (cleaned) responses, one column per item.
    constructs : mapping of str to sequence of str
        Each construct's item columns.
    scale : mapping of str to (min, max)
        Each item's response range (e.g. ``(1, 5)``).
    reverse : collection of str, optional
        Items to reverse-code so that higher = more cohesion / more safety.
    weights : mapping of construct to mapping of item to float, optional
        Item weights (e.g. factor-score weights); unit weights by default.
    min_answered_fraction : float, default 2/3
        A construct is scored when at least this share of its items is answered.
    version : str, default "1"
        The scoring model's own version label.
    instrument : str, optional
        The instrument ``ID@VERSION`` the model belongs to.
    reference_label : str, optional
        A label of the reference wave, recorded in the model.

    Returns
    -------
    dict
        JSON-serialisable: ``format``, ``version``, ``instrument``, ``reference``
        (label, n, construct means/SDs of the 0-100 index), ``items`` (min, max,
        reverse, reference mean/SD of the POMP item score), ``constructs`` (items and
        weights), ``missing_rule`` and ``hash`` (SHA-256 of the rest).

    Raises
    ------
    ValueError
        If an item has no scale, is not a column, a range is empty, a weight is not
        positive, or ``min_answered_fraction`` is not in (0, 1].
    """
    if not 0 < min_answered_fraction <= 1:
        raise ValueError("min_answered_fraction must be in (0, 1].")
    reverse = set(reverse)
    all_items = [item for items in constructs.values() for item in items]
    _check_items(reference, all_items, scale, reverse)
    values = _numeric(reference, all_items)
    model: dict[str, Any] = {
        "format": SCORING_MODEL_FORMAT,
        "version": str(version),
        "instrument": instrument,
        "items": _item_references(values, all_items, scale, reverse),
        "constructs": _construct_weights(constructs, weights),
        "missing_rule": {
            "min_answered_fraction": float(min_answered_fraction),
            "missing_codes": "negative values and values outside [min, max]",
        },
        "score_range": [0.0, 100.0],
    }
    scores = _score_array(values, model)
    model["reference"] = {
        "label": reference_label,
        "n": len(reference),
        "constructs": {
            name: {"n_scored": int(np.isfinite(s).sum()), "mean": _mean(s), "sd": _sd(s)}
            for name, s in scores.items()
        },
    }
    model["hash"] = scoring_model_hash(model)
    return model


def _item_references(
    values: np.ndarray,
    items: list[str],
    scale: Mapping[str, tuple[float, float]],
    reverse: set[str],
) -> dict[str, Any]:
    """Range, reverse key and reference POMP mean and SD of each item."""
    out: dict[str, Any] = {}
    for k, item in enumerate(items):
        low, high = (float(v) for v in scale[item])
        pomp = item_pomp(values[:, k], low, high, item in reverse)
        out[item] = {
            "min": low,
            "max": high,
            "reverse": item in reverse,
            "reference_mean": _mean(pomp),
            "reference_sd": _sd(pomp),
        }
    return out


def _check_items(
    reference: pd.DataFrame,
    items: list[str],
    scale: Mapping[str, tuple[float, float]],
    reverse: set[str],
) -> None:
    """Raise ValueError unless every item has a scale, a column and a non-empty range."""
    for item in items:
        if item not in scale:
            raise ValueError(f"Item {item!r} has no (min, max) scale.")
        if item not in reference.columns:
            raise ValueError(f"Item {item!r} is not a column of the reference data.")
        low, high = scale[item]
        if not high > low:
            raise ValueError(f"Item {item!r} has an empty range {scale[item]!r}.")
    unknown = reverse - set(items)
    if unknown:
        raise ValueError(f"Reverse-coded items not in any construct: {sorted(unknown)}.")


def _construct_weights(
    constructs: Mapping[str, Sequence[str]],
    weights: Mapping[str, Mapping[str, float]] | None,
) -> dict[str, Any]:
    """Items and item weights per construct (1 unless given); weights must be positive."""
    out: dict[str, Any] = {}
    for name, items in constructs.items():
        given = (weights or {}).get(name, {})
        item_weights = {item: float(given.get(item, 1.0)) for item in items}
        if any(w <= 0 for w in item_weights.values()):
            raise ValueError(f"Construct {name!r}: weights must be positive.")
        out[name] = {"items": list(items), "weights": item_weights}
    return out


def _mean(values: np.ndarray) -> float | None:
    """Mean of the finite values, or None (JSON null) when there are none."""
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else None


def _sd(values: np.ndarray) -> float | None:
    """Sample SD of the finite values, or None when there are fewer than two."""
    finite = values[np.isfinite(values)]
    return float(finite.std(ddof=1)) if finite.size > 1 else None


def score(data: pd.DataFrame, model: Mapping[str, Any], *, verify: bool = True) -> pd.DataFrame:
    """Score responses with a frozen scoring model.

    Parameters
    ----------
    data : pandas.DataFrame
        Responses with the model's item columns (raw codes; negative = missing).
    model : mapping
        From :func:`freeze_scoring_model` (or its JSON).
    verify : bool, default True
        Check the model's format and hash first.

    Returns
    -------
    pandas.DataFrame
        One float column per construct, 0-100, NaN where fewer than the required
        share of items is answered; same index as ``data``.

    Raises
    ------
    ValueError
        If the model fails verification or an item column is missing.
    """
    if verify:
        verify_scoring_model(model)
    items = list(model["items"])
    missing = [item for item in items if item not in data.columns]
    if missing:
        raise ValueError(f"Item column(s) missing from the data: {missing}.")
    scores = _score_array(_numeric(data, items), model)
    return pd.DataFrame(scores, index=data.index)
