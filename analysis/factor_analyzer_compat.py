"""Compatibility layer for factor-analyzer 0.5.1 on the current scientific stack.

factor-analyzer 0.5.1 (the last release) predates the library versions this project
runs on. Three problems are known and handled here, in one place:

1. scikit-learn 1.6 and 1.7 emit ``FutureWarning: 'force_all_finite' was renamed to
   'ensure_all_finite' ...`` from every ``FactorAnalyzer`` and
   ``ConfirmatoryFactorAnalyzer`` ``fit`` and ``transform``, because factor-analyzer
   calls ``check_array(force_all_finite=...)``. scikit-learn 1.8 removes the argument,
   so ``pyproject.toml`` bounds ``scikit-learn<1.8``.
2. SciPy 1.17 emits ``DeprecationWarning: scipy.optimize: The `disp` and `iprint`
   options of the L-BFGS-B solver are deprecated ...`` from
   ``ConfirmatoryFactorAnalyzer.fit``, which always passes ``disp`` to
   ``scipy.optimize.minimize``. SciPy 1.18 removes the option, so ``pyproject.toml``
   bounds ``scipy<1.18``.
3. ``ModelSpecificationParser.parse_model_specification_from_dict`` fails under
   pandas 3 with ``ValueError: assignment destination is read-only``: with
   copy-on-write, ``DataFrame.values`` is a read-only view that factor-analyzer then
   writes into. ``parse_model_specification_from_array`` copies its input and works,
   so :func:`cfa_specification` builds the loadings mask itself and uses that route.

:func:`quiet_factor_analyzer` silences exactly the warnings of 1 and 2 (matched by
category and message), and nothing else, so that the test suite can keep
``filterwarnings = ["error"]``. The fit helpers here are thin wrappers that apply it;
fit indices and reporting belong elsewhere.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager

import numpy as np
import pandas as pd
from factor_analyzer import (
    ConfirmatoryFactorAnalyzer,
    FactorAnalyzer,
    ModelSpecification,
    ModelSpecificationParser,
)

__all__ = [
    "SCIPY_LBFGSB_DISP_MESSAGE",
    "SKLEARN_FORCE_ALL_FINITE_MESSAGE",
    "cfa_specification",
    "fit_cfa_raw",
    "fit_efa",
    "quiet_factor_analyzer",
]

#: Regular expression (matched at the start of the message, as ``warnings`` does) for
#: scikit-learn's FutureWarning about the renamed ``check_array`` argument.
SKLEARN_FORCE_ALL_FINITE_MESSAGE = r"'force_all_finite' was renamed to 'ensure_all_finite'"

#: Regular expression for SciPy's DeprecationWarning about L-BFGS-B's ``disp`` option.
SCIPY_LBFGSB_DISP_MESSAGE = (
    r"scipy\.optimize: The `disp` and `iprint` options of the L-BFGS-B solver are deprecated"
)


@contextmanager
def quiet_factor_analyzer() -> Iterator[None]:
    """Silence the two known factor-analyzer deprecation warnings, and only those.

    Inside the block, the scikit-learn ``FutureWarning`` about ``force_all_finite`` and
    the SciPy ``DeprecationWarning`` about L-BFGS-B's ``disp`` option are ignored.
    Every other warning, including other ``FutureWarning`` and ``DeprecationWarning``
    messages and factor-analyzer's own convergence ``UserWarning``, is handled by the
    filters in force outside the block. The previous filters are restored on exit.

    Yields
    ------
    None

    Notes
    -----
    Built on :class:`warnings.catch_warnings`, which changes process-wide state and
    is therefore not thread-safe: do not fit models from several threads at once.

    Examples
    --------
    >>> from factor_analyzer import FactorAnalyzer
    >>> with quiet_factor_analyzer():  # doctest: +SKIP
    ...     scores = FactorAnalyzer(n_factors=2).fit(data).transform(data)
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=SKLEARN_FORCE_ALL_FINITE_MESSAGE, category=FutureWarning
        )
        warnings.filterwarnings(
            "ignore", message=SCIPY_LBFGSB_DISP_MESSAGE, category=DeprecationWarning
        )
        yield


def cfa_specification(
    data: pd.DataFrame, model: Mapping[str, Sequence[Hashable]]
) -> tuple[ModelSpecification, list[Hashable]]:
    """Build a CFA model specification from a construct-to-items mapping.

    This replaces ``ModelSpecificationParser.parse_model_specification_from_dict``,
    which fails under pandas 3, by building the 0/1 loadings mask here and passing it
    to ``parse_model_specification_from_array``.

    Parameters
    ----------
    data : pandas.DataFrame
        The responses, one column per item. It may hold columns that are not in
        ``model``; they are ignored.
    model : mapping of str to sequence of column labels
        Each construct (factor) name maps to the columns of the items that load on it.
        Factors are numbered in the mapping's order.

    Returns
    -------
    spec : factor_analyzer.ModelSpecification
        The specification. Its rows (variables) follow ``items`` and its columns
        (factors) follow the order of ``model``. Like every specification from the
        array route, it carries no variable or factor names.
    items : list
        The item columns in the order the specification expects: the order of
        ``data.columns``, restricted to the items named in ``model``. The caller must
        fit on ``data[items]``: ``ConfirmatoryFactorAnalyzer`` reads the columns by
        position, so any other order silently gives wrong loadings.

    Raises
    ------
    ValueError
        If ``model`` is empty, a construct has fewer than two items, an item is listed
        twice (within one construct or in two constructs), an item is not a column of
        ``data``, or an item's column label occurs more than once in ``data``.
    """
    if not model:
        raise ValueError("The CFA model names no constructs.")

    construct_of: dict[Hashable, str] = {}
    for construct, construct_items in model.items():
        if isinstance(construct_items, str):
            raise ValueError(
                f"Construct {construct!r}: items must be a list of column names, "
                f"not the string {construct_items!r}."
            )
        if len(construct_items) < 2:
            raise ValueError(
                f"Construct {construct!r} has {len(construct_items)} item(s); "
                "a CFA construct needs at least 2."
            )
        for item in construct_items:
            if item in construct_of:
                other = construct_of[item]
                where = "twice" if other == construct else f"in {other!r} as well"
                raise ValueError(
                    f"Item {item!r} of construct {construct!r} is listed {where}; "
                    "each item may load on one construct only."
                )
            if item not in data.columns:
                raise ValueError(
                    f"Item {item!r} of construct {construct!r} is not a column of the data."
                )
            construct_of[item] = construct

    items: list[Hashable] = [column for column in data.columns if column in construct_of]
    if len(items) != len(construct_of):
        duplicated = sorted({str(c) for c in items if items.count(c) > 1})
        raise ValueError(f"Item column(s) occur more than once in the data: {duplicated}.")

    factor_index = {construct: number for number, construct in enumerate(model)}
    mask = np.zeros((len(items), len(model)), dtype=int)
    for row, item in enumerate(items):
        mask[row, factor_index[construct_of[item]]] = 1

    spec = ModelSpecificationParser.parse_model_specification_from_array(data[items], mask)
    return spec, items


def fit_efa(
    data: pd.DataFrame,
    n_factors: int,
    rotation: str | None = "oblimin",
    method: str = "minres",
) -> FactorAnalyzer:
    """Fit an exploratory factor analysis, silencing the known deprecation warnings.

    A thin wrapper around ``FactorAnalyzer(...).fit(data)`` inside
    :func:`quiet_factor_analyzer`.

    Parameters
    ----------
    data : pandas.DataFrame
        The responses, one numeric column per item. factor-analyzer computes the
        correlation matrix pairwise-complete, so missing values are allowed.
    n_factors : int
        The number of factors to extract.
    rotation : str or None, default "oblimin"
        Any rotation factor-analyzer accepts (e.g. ``"oblimin"``, ``"promax"``,
        ``"varimax"``), or ``None`` for no rotation.
    method : str, default "minres"
        The extraction method: ``"minres"``, ``"ml"`` or ``"principal"``.

    Returns
    -------
    factor_analyzer.FactorAnalyzer
        The fitted analyzer; ``loadings_`` has one row per column of ``data`` and, for
        oblique rotations, ``phi_`` holds the factor correlations. Its ``transform``
        emits the scikit-learn warning again: call it inside
        :func:`quiet_factor_analyzer`.
    """
    analyzer = FactorAnalyzer(n_factors=n_factors, rotation=rotation, method=method)
    with quiet_factor_analyzer():
        analyzer.fit(data)
    return analyzer


def fit_cfa_raw(
    data: pd.DataFrame, model: Mapping[str, Sequence[Hashable]]
) -> tuple[ConfirmatoryFactorAnalyzer, list[Hashable]]:
    """Fit a confirmatory factor analysis, with no fit indices.

    Builds the specification with :func:`cfa_specification` and fits
    ``ConfirmatoryFactorAnalyzer`` on ``data[items]`` inside
    :func:`quiet_factor_analyzer`. This is only the raw estimation step; fit indices
    (CFI, RMSEA, ...) are not computed here.

    Parameters
    ----------
    data : pandas.DataFrame
        The responses, one numeric column per item; other columns are ignored.
        factor-analyzer imputes missing values with the column median.
    model : mapping of str to sequence of column labels
        Each construct name maps to its item columns (see :func:`cfa_specification`).

    Returns
    -------
    cfa : factor_analyzer.ConfirmatoryFactorAnalyzer
        The fitted analyzer. ``loadings_`` has one row per entry of ``items`` and one
        column per construct in the order of ``model``; the factor variances are fixed
        to 1, so ``factor_varcovs_`` is the factor correlation matrix. Loadings are in
        the metric of the items (divide by the item standard deviation to standardise).
        Its ``transform`` expects ``data[items]`` and should be called inside
        :func:`quiet_factor_analyzer`.
    items : list
        The item columns in the order of the rows of ``cfa.loadings_``.

    Raises
    ------
    ValueError
        If the model is invalid for ``data`` (see :func:`cfa_specification`).

    Warns
    -----
    UserWarning
        From factor-analyzer, if the optimiser does not converge; not silenced.
    """
    spec, items = cfa_specification(data, model)
    cfa = ConfirmatoryFactorAnalyzer(spec, disp=False)
    with quiet_factor_analyzer():
        cfa.fit(data[items].to_numpy(dtype=float))
    return cfa, items
