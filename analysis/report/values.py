"""Values of the report: JSON-safe copies, masked counts and stated reasons.

Disclosure control: estimates resting on fewer than :data:`analysis.change.MIN_N`
responses are withheld with the reason, and any count of responses below
:data:`MIN_CELL` is shown as ``"<10"``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from analysis.instrument_model import InstrumentModel

__all__ = [
    "MIN_CELL",
    "call_or_reason",
    "json_safe",
    "keyed_items",
    "mask_reason",
    "masked_count",
    "records",
]

from analysis.disclosure import MIN_CELL


def json_safe(value: Any) -> Any:
    """A JSON-safe copy: NaN/inf -> None, numpy scalars -> Python, tuples -> lists.

    Parameters
    ----------
    value : object
        Nested mappings, sequences, numpy and pandas scalars.

    Returns
    -------
    object
        The same structure with string keys, lists and plain Python scalars.
    """
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [json_safe(v) for v in value]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def masked_count(n: Any) -> int | str:
    """A count of responses, or ``"<10"`` when it is below :data:`MIN_CELL`.

    Parameters
    ----------
    n : int-like
        The count.

    Returns
    -------
    int or str
    """
    n = int(n)
    return n if n >= MIN_CELL else f"<{MIN_CELL}"


def mask_reason(reason: str | None) -> str | None:
    """Rewrite "n = 7 < 30" as "n = <10 < 30" so a withheld reason discloses no small n.

    Parameters
    ----------
    reason : str or None
        A reason from :mod:`analysis.change` or :mod:`analysis.did`.

    Returns
    -------
    str or None
    """
    if not reason or not reason.startswith("n = "):
        return reason
    number, rest = reason[4:].split(" ", 1)
    return f"n = {masked_count(int(number))} {rest}" if number.isdigit() else reason


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a table (index included) as JSON-safe dicts."""
    return [json_safe(row) for row in frame.reset_index().to_dict(orient="records")]


def call_or_reason(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, str | None]:
    """Call ``fn``; a ValueError or LinAlgError becomes a stated reason.

    Returns
    -------
    tuple
        ``(result, None)``, or ``(None, reason)`` when the statistic cannot be computed.
    """
    try:
        return fn(*args, **kwargs), None
    except (ValueError, np.linalg.LinAlgError) as error:
        return None, str(error)


def keyed_items(data: pd.DataFrame, spec: InstrumentModel) -> pd.DataFrame:
    """Item columns as floats, negative/out-of-range -> NaN, reverse-keyed items flipped.

    Parameters
    ----------
    data : pandas.DataFrame
        Responses with one column per item of ``spec``.
    spec : InstrumentModel
        Item ranges and reverse keys.

    Returns
    -------
    pandas.DataFrame
        One float column per item, same index as ``data``.
    """
    out = pd.DataFrame(index=data.index)
    for item in spec.items:
        low, high = spec.scale[item]
        values = pd.to_numeric(data[item], errors="coerce").astype(float)
        values = values.where((values >= low) & (values <= high))
        out[item] = low + high - values if item in spec.reverse else values
    return out
