"""Statistics for the survey platform.

Cleaning, factor analysis, indices and change over time. The package is importable
without Flask or a database: nothing under ``analysis`` may import ``flask`` or
``sqlalchemy``, so the statistics can be run and tested on plain pandas data frames.

Attributes
----------
__version__ : str
    Version of the analysis package.
"""

from analysis.factor_analyzer_compat import (
    cfa_specification,
    fit_cfa_raw,
    fit_efa,
    quiet_factor_analyzer,
)

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "cfa_specification",
    "fit_cfa_raw",
    "fit_efa",
    "quiet_factor_analyzer",
]
