"""Statistics for the survey platform.

Cleaning, factor analysis, indices and change over time. The package is importable
without Flask or a database: nothing under ``analysis`` may import ``flask`` or
``sqlalchemy``, so the statistics can be run and tested on plain pandas data frames.

Modules: :mod:`~analysis.cleaning` (flags), :mod:`~analysis.items` (item analysis,
KMO, Bartlett, parallel analysis), :mod:`~analysis.cfa` and
:mod:`~analysis.invariance` (maximum-likelihood CFA and multi-group invariance, on
:mod:`~analysis.ml_estimation`), :mod:`~analysis.reliability`,
:mod:`~analysis.scoring` (frozen scoring model, POMP indices),
:mod:`~analysis.weighting` (raking), :mod:`~analysis.change` (wave means, change,
panel change) and :mod:`~analysis.did` (difference-in-differences).
:mod:`~analysis.report` builds the validation report (HTML with :mod:`~analysis.svg`
charts, and JSON) from an :mod:`~analysis.instrument_model`; ``python -m analysis
report`` is its command line.
:mod:`~analysis.factor_analyzer_compat` wraps factor-analyzer for EFA.

Attributes
----------
__version__ : str
    Version of the analysis package.
"""

from analysis.cfa import CFAResult, fit_cfa
from analysis.change import (
    MIN_N,
    panel_change,
    wave_change,
    wave_means,
    weighted_mean_ci,
)
from analysis.cleaning import CLEANING_FLAGS, CleaningResult, clean
from analysis.did import difference_in_differences
from analysis.factor_analyzer_compat import (
    cfa_specification,
    fit_cfa_raw,
    fit_efa,
    quiet_factor_analyzer,
)
from analysis.instrument_model import ConstructModel, InstrumentModel, from_instrument
from analysis.invariance import measurement_invariance
from analysis.items import item_analysis, item_distributions, parallel_analysis, structure_checks
from analysis.reliability import ReliabilityResult, cronbach_alpha, omega_total, reliability
from analysis.report import Report, build_report
from analysis.scoring import (
    SCORING_MODEL_FORMAT,
    factor_score_weights,
    freeze_scoring_model,
    score,
    scoring_model_hash,
    verify_scoring_model,
)
from analysis.weighting import RakingResult, design_effect, rake

__version__ = "0.1.0"

__all__ = [
    "CLEANING_FLAGS",
    "MIN_N",
    "SCORING_MODEL_FORMAT",
    "CFAResult",
    "CleaningResult",
    "ConstructModel",
    "InstrumentModel",
    "RakingResult",
    "ReliabilityResult",
    "Report",
    "__version__",
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
    "freeze_scoring_model",
    "from_instrument",
    "item_analysis",
    "item_distributions",
    "measurement_invariance",
    "omega_total",
    "panel_change",
    "parallel_analysis",
    "quiet_factor_analyzer",
    "rake",
    "reliability",
    "score",
    "scoring_model_hash",
    "structure_checks",
    "verify_scoring_model",
    "wave_change",
    "wave_means",
    "weighted_mean_ci",
]
