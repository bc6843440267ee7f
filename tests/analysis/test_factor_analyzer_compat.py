"""factor-analyzer 0.5.1 compatibility: recovery of a known model, warnings, parser bug.

pytest runs with ``filterwarnings = ["error"]``, so every fit here also proves that
:func:`analysis.quiet_factor_analyzer` handles the known deprecation warnings.
"""

import itertools
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn
from factor_analyzer import (
    ConfirmatoryFactorAnalyzer,
    FactorAnalyzer,
    ModelSpecificationParser,
)

import analysis
from analysis import cfa_specification, fit_cfa_raw, fit_efa, quiet_factor_analyzer

ITEMS = ["a1", "a2", "a3", "b1", "b2", "b3"]
MODEL = {"A": ["a1", "a2", "a3"], "B": ["b1", "b2", "b3"]}
# True loadings (items x factors) and factor correlation of the generating model.
LOADINGS = np.array(
    [
        [0.80, 0.0],
        [0.70, 0.0],
        [0.60, 0.0],
        [0.0, 0.75],
        [0.0, 0.65],
        [0.0, 0.55],
    ]
)
FACTOR_CORRELATION = 0.3
OWN_FACTOR = LOADINGS.argmax(axis=1)

SKLEARN_BEFORE_1_8 = tuple(int(part) for part in sklearn.__version__.split(".")[:2]) < (1, 8)
PANDAS_3_OR_LATER = int(pd.__version__.split(".")[0]) >= 3


def _synthetic(n: int = 600, seed: int = 20240611) -> pd.DataFrame:
    """Draw ``n`` responses from the 2-factor model; every item has variance 1."""
    rng = np.random.default_rng(seed)
    phi = np.array([[1.0, FACTOR_CORRELATION], [FACTOR_CORRELATION, 1.0]])
    factors = rng.multivariate_normal(np.zeros(2), phi, size=n)
    unique_sd = np.sqrt(1.0 - (LOADINGS**2).sum(axis=1))
    noise = rng.standard_normal((n, len(ITEMS))) * unique_sd
    return pd.DataFrame(factors @ LOADINGS.T + noise, columns=ITEMS)


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return _synthetic()


def test_import_pulls_in_neither_flask_nor_sqlalchemy() -> None:
    """The analysis package is usable without the web app or a database."""
    code = (
        "import sys, analysis; "
        "assert 'flask' not in sys.modules and 'sqlalchemy' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert analysis.__version__ == "0.1.0"


def test_efa_recovers_simple_structure(data: pd.DataFrame) -> None:
    """Oblimin EFA: each item loads most on its own factor, after matching factors."""
    efa = fit_efa(data, n_factors=2)
    loadings = np.abs(efa.loadings_)
    # Match extracted factors to true factors: the permutation with the most loading
    # mass on the true pattern.
    order = max(
        itertools.permutations(range(2)),
        key=lambda perm: (loadings[:, list(perm)] * (LOADINGS > 0)).sum(),
    )
    matched = loadings[:, list(order)]
    assert matched.argmax(axis=1).tolist() == OWN_FACTOR.tolist()
    own = matched[np.arange(len(ITEMS)), OWN_FACTOR]
    np.testing.assert_allclose(own, LOADINGS.max(axis=1), atol=0.15)


def test_cfa_recovers_loadings_and_factor_correlation(data: pd.DataFrame) -> None:
    """CFA loadings within 0.1 of the truth; factor correlation near 0.3."""
    cfa, items = fit_cfa_raw(data, MODEL)
    assert items == ITEMS
    # Standardise: factor variances are fixed to 1, so divide by the item SD.
    standardized = cfa.loadings_ / np.sqrt(np.diag(cfa.cov_))[:, None]
    np.testing.assert_allclose(standardized, LOADINGS, atol=0.1)
    assert cfa.factor_varcovs_[0, 1] == pytest.approx(FACTOR_CORRELATION, abs=0.1)


def test_cfa_items_follow_data_column_order(data: pd.DataFrame) -> None:
    """The specification follows data.columns, not the order items are listed in."""
    shuffled = data[["b2", "a1", "a3", "b1", "a2", "b3"]].assign(unused=0.0)
    model = {"A": ["a3", "a2", "a1"], "B": ["b3", "b1", "b2"]}
    spec, items = cfa_specification(shuffled, model)
    assert items == ["b2", "a1", "a3", "b1", "a2", "b3"]
    assert spec.loadings.tolist() == [[0, 1], [1, 0], [1, 0], [0, 1], [1, 0], [0, 1]]

    cfa, fitted_items = fit_cfa_raw(shuffled, model)
    assert fitted_items == items
    truth = pd.DataFrame(LOADINGS, index=ITEMS).loc[items].to_numpy()
    standardized = cfa.loadings_ / np.sqrt(np.diag(cfa.cov_))[:, None]
    np.testing.assert_allclose(standardized, truth, atol=0.1)


def test_specification_rejects_missing_column(data: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match=r"Item 'b4' of construct 'B' is not a column"):
        cfa_specification(data, {"A": ["a1", "a2"], "B": ["b1", "b4"]})


def test_specification_rejects_item_in_two_constructs(data: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match=r"Item 'a2' of construct 'B' .* in 'A' as well"):
        cfa_specification(data, {"A": ["a1", "a2"], "B": ["a2", "b1"]})


def test_specification_rejects_item_twice_in_one_construct(data: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match=r"Item 'a1' of construct 'A' is listed twice"):
        cfa_specification(data, {"A": ["a1", "a1", "a2"]})


@pytest.mark.parametrize("construct_items", [[], ["a1"], "a1a2"])
def test_specification_rejects_construct_with_too_few_items(
    data: pd.DataFrame, construct_items: list[str] | str
) -> None:
    with pytest.raises(ValueError, match=r"Construct 'A'"):
        cfa_specification(data, {"A": construct_items, "B": ["b1", "b2"]})


def test_specification_rejects_empty_model(data: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="no constructs"):
        cfa_specification(data, {})


def test_specification_rejects_duplicated_data_column(data: pd.DataFrame) -> None:
    doubled = pd.concat([data, data[["a1"]]], axis=1)
    with pytest.raises(ValueError, match=r"more than once in the data: \['a1'\]"):
        cfa_specification(doubled, MODEL)


@pytest.mark.skipif(not PANDAS_3_OR_LATER, reason="the upstream bug needs pandas copy-on-write")
def test_upstream_dict_parser_still_fails_on_pandas_3(data: pd.DataFrame) -> None:
    """Upstream bug: the dict parser writes into a read-only pandas 3 array.

    When this test fails, factor-analyzer has fixed the bug and cfa_specification
    could use ``parse_model_specification_from_dict`` again.
    """
    with pytest.raises(ValueError, match="assignment destination is read-only"):
        ModelSpecificationParser.parse_model_specification_from_dict(data, MODEL)


@pytest.mark.skipif(not SKLEARN_BEFORE_1_8, reason="scikit-learn 1.8 removed force_all_finite")
def test_efa_without_compat_raises_sklearn_future_warning(data: pd.DataFrame) -> None:
    """Without the context manager the scikit-learn FutureWarning surfaces."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(FutureWarning, match="'force_all_finite' was renamed"):
            FactorAnalyzer(n_factors=2, rotation="oblimin").fit(data)
        with quiet_factor_analyzer():
            FactorAnalyzer(n_factors=2, rotation="oblimin").fit(data)


def test_cfa_without_compat_raises_scipy_deprecation_warning(data: pd.DataFrame) -> None:
    """Without the context manager SciPy's L-BFGS-B ``disp`` deprecation surfaces."""
    spec, items = cfa_specification(data, MODEL)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # Let the scikit-learn warning pass so the fit reaches scipy.optimize.
        warnings.filterwarnings("ignore", message="'force_all_finite'", category=FutureWarning)
        with pytest.raises(DeprecationWarning, match="options of the L-BFGS-B solver"):
            ConfirmatoryFactorAnalyzer(spec, disp=False).fit(data[items].to_numpy())
        with quiet_factor_analyzer():
            ConfirmatoryFactorAnalyzer(spec, disp=False).fit(data[items].to_numpy())


def test_quiet_context_silences_nothing_else() -> None:
    """Other warnings, even of the same categories, still surface; filters restore."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        before = list(warnings.filters)
        with quiet_factor_analyzer():
            with pytest.raises(FutureWarning, match="something else"):
                warnings.warn("something else", FutureWarning, stacklevel=1)
            with pytest.raises(DeprecationWarning, match=r"scipy\.optimize: other"):
                warnings.warn("scipy.optimize: other", DeprecationWarning, stacklevel=1)
            with pytest.raises(UserWarning, match="failed to converge"):
                warnings.warn("failed to converge", UserWarning, stacklevel=1)
            # The known messages in another category are not silenced either.
            with pytest.raises(UserWarning):
                warnings.warn(
                    "'force_all_finite' was renamed to 'ensure_all_finite'",
                    UserWarning,
                    stacklevel=1,
                )
        assert warnings.filters == before
