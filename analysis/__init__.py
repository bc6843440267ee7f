"""Statistics for the survey platform.

Cleaning, factor analysis, indices and change over time. The package is importable
without Flask or a database: nothing under ``analysis`` may import ``flask`` or
``sqlalchemy``, so the statistics can be run and tested on plain pandas data frames.

Modules: :mod:`~analysis.cleaning` (flags), :mod:`~analysis.items` (item analysis,
KMO, Bartlett, parallel analysis), :mod:`~analysis.cfa` and
:mod:`~analysis.invariance` (maximum-likelihood CFA and multi-group invariance, on
:mod:`~analysis.ml_estimation`; WLSMV for ordered items on :mod:`~analysis.polychoric`,
:mod:`~analysis.ordinal_acov` and :mod:`~analysis.wlsmv`; multi-group WLSMV invariance on
:mod:`~analysis.ordinal_groups` and :mod:`~analysis.ordinal_invariance`),
:mod:`~analysis.reliability`,
:mod:`~analysis.scoring` (frozen scoring model, POMP indices),
:mod:`~analysis.weighting` (raking), :mod:`~analysis.change` (wave means, change,
panel change), :mod:`~analysis.panel` (paired change, attrition and precision of
panel waves), :mod:`~analysis.did` (difference-in-differences with few areas) and
:mod:`~analysis.planning` (minimum detectable change of a design, with
:mod:`~analysis.variance_components` from earlier waves).
:mod:`~analysis.report` builds the validation report (JSON, and HTML from the template
``analysis/templates/report.html`` with :mod:`~analysis.svg` charts) from an
:mod:`~analysis.instrument_model`, judging statistics by the cut-offs in
:mod:`~analysis.verdicts`; ``python -m analysis report`` is its command line.
:mod:`~analysis.factor_analyzer_compat` wraps factor-analyzer for EFA.

Attributes
----------
__version__ : str
    Version of the analysis package.
"""

import importlib
import sys
import types
from typing import Any

# Names are imported on first use (PEP 562): the app imports `analysis` for a constant or
# two, and the CFA, EFA and invariance modules bring SciPy and scikit-learn (tens of MB per
# worker) that a dataset download or a resident page never needs.
_LAZY = {
    "CFAResult": "analysis.cfa",
    "CLEANING_FLAGS": "analysis.cleaning",
    "CleaningResult": "analysis.cleaning",
    "ConstructModel": "analysis.instrument_model",
    "InstrumentModel": "analysis.instrument_model",
    "MIN_N": "analysis.change",
    "PostStratification": "analysis.poststratification",
    "RakingResult": "analysis.weighting",
    "ReliabilityResult": "analysis.reliability",
    "Report": "analysis.report",
    "SCORING_MODEL_FORMAT": "analysis.scoring",
    "build_report": "analysis.report",
    "cfa_specification": "analysis.factor_analyzer_compat",
    "clean": "analysis.cleaning",
    "cronbach_alpha": "analysis.reliability",
    "design_effect": "analysis.weighting",
    "difference_in_differences": "analysis.did",
    "factor_score_weights": "analysis.scoring",
    "fit_cfa": "analysis.cfa",
    "fit_cfa_raw": "analysis.factor_analyzer_compat",
    "fit_efa": "analysis.factor_analyzer_compat",
    "fit_scoring_model": "analysis.report",
    "freeze_scoring_model": "analysis.scoring",
    "from_instrument": "analysis.instrument_model",
    "index_comparability": "analysis.comparability",
    "item_analysis": "analysis.items",
    "item_distributions": "analysis.items",
    "measurement_invariance": "analysis.invariance",
    "omega_total": "analysis.reliability",
    "panel_change": "analysis.change",
    "panel_summary": "analysis.panel",
    "attrition_by_area": "analysis.panel",
    "parallel_analysis": "analysis.items",
    "plan_design": "analysis.planning",
    "polychoric": "analysis.polychoric",
    "poststratify": "analysis.poststratification",
    "quiet_factor_analyzer": "analysis.factor_analyzer_compat",
    "rake": "analysis.weighting",
    "reliability": "analysis.reliability",
    "responses_needed": "analysis.planning",
    "score": "analysis.scoring",
    "scoring_model_hash": "analysis.scoring",
    "structure_checks": "analysis.items",
    "verify_scoring_model": "analysis.scoring",
    "wave_change": "analysis.change",
    "wave_means": "analysis.change",
    "variance_components": "analysis.variance_components",
    "weighted_mean_ci": "analysis.change",
}


def __getattr__(name: str) -> Any:
    """Import the module that defines ``name`` when it is first asked for."""
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"analysis.{name}")
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")


_SUBMODULES = {
    "svg",
    "report",
    "cfa",
    "change",
    "cleaning",
    "comparability",
    "did",
    "planning",
    "panel",
    "items",
    "invariance",
    "reliability",
    "scoring",
    "weighting",
    "poststratification",
    "verdicts",
    "instrument_model",
    "ml_estimation",
    "bivariate_normal",
    "polychoric",
    "ordinal_acov",
    "wlsmv",
    "factor_analyzer_compat",
    "variance_components",
}


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


class _Package(types.ModuleType):
    """The package module: a submodule named like an exported function keeps the function.

    Importing ``analysis.reliability`` sets the package attribute ``reliability`` to the
    module; the exported name is the function :func:`analysis.reliability.reliability`, as it
    was when this package imported everything at once.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _LAZY and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


__version__ = "0.1.0"

__all__ = [
    "CLEANING_FLAGS",
    "MIN_N",
    "SCORING_MODEL_FORMAT",
    "CFAResult",
    "CleaningResult",
    "ConstructModel",
    "InstrumentModel",
    "PostStratification",
    "RakingResult",
    "ReliabilityResult",
    "Report",
    "__version__",
    "attrition_by_area",
    "build_report",
    "cfa_specification",
    "clean",
    "cronbach_alpha",
    "design_effect",
    "difference_in_differences",
    "factor_score_weights",
    "fit_cfa",
    "fit_cfa_raw",
    "fit_efa",
    "fit_scoring_model",
    "freeze_scoring_model",
    "from_instrument",
    "index_comparability",
    "item_analysis",
    "item_distributions",
    "measurement_invariance",
    "omega_total",
    "panel_change",
    "panel_summary",
    "parallel_analysis",
    "plan_design",
    "polychoric",
    "poststratify",
    "quiet_factor_analyzer",
    "rake",
    "reliability",
    "responses_needed",
    "score",
    "scoring_model_hash",
    "structure_checks",
    "variance_components",
    "verify_scoring_model",
    "wave_change",
    "wave_means",
    "weighted_mean_ci",
]
