"""One BLAS thread while fitting: the analyses solve many small problems.

A CFA, an invariance check or a report fits dozens of models on matrices of a few dozen
rows. Multithreaded BLAS (OpenBLAS starts a thread per core) gains nothing there and loses
a lot when the cores are busy: on a loaded two-core machine one report took 48.8 s with
OpenBLAS's default threads and 5.9 s with one (``tests/analysis/test_comparability.py``'s
eight-area simulation, same run). The limit holds only inside the decorated functions;
the rest of the process keeps its own setting.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from threadpoolctl import threadpool_limits

__all__ = ["one_blas_thread"]

F = TypeVar("F", bound=Callable[..., Any])


def one_blas_thread(function: F) -> F:
    """Run ``function`` with BLAS limited to one thread."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with threadpool_limits(limits=1, user_api="blas"):
            return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
