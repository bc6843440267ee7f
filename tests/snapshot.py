"""Stored JSON snapshots: compare a result with its file, or write the file again.

``SURVEYAPP_WRITE_SNAPSHOT=1`` writes the snapshots instead of comparing (review the diff
before committing it). Values must be equal, floats to 1e-6 relative or 1e-7 absolute: the
results they hold are seeded and do not depend on the database, but the last digits of a
float depend on the order in which BLAS adds (its kernels and thread count), which is not
the project's to fix. The absolute part is for fit statistics near zero and differences of
two fits (an RMSEA of 0.0015, a change in RMSEA), where an iterative optimizer's 1e-9
wobble is a large relative change (seen between two machines: 2e-8 on a delta_rmsea).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any


def differences(expected: Any, actual: Any, path: str = "$") -> list[str]:
    """Where two JSON values differ, as ``$.key[index]: expected != actual`` lines."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        if list(expected) != list(actual):
            return [f"{path}: keys {list(expected)} != {list(actual)}"]
        return [d for k in expected for d in differences(expected[k], actual[k], f"{path}.{k}")]
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{path}: {len(expected)} items != {len(actual)}"]
        pairs = enumerate(zip(expected, actual, strict=True))
        return [d for k, (e, a) in pairs for d in differences(e, a, f"{path}[{k}]")]
    if isinstance(expected, float) and isinstance(actual, float):
        if math.isclose(expected, actual, rel_tol=1e-6, abs_tol=1e-7):
            return []
        return [f"{path}: {expected!r} != {actual!r}"]
    if type(expected) is not type(actual) or expected != actual:
        return [f"{path}: {expected!r} != {actual!r}"]
    return []


def assert_matches_snapshot(content: Any, path: Path) -> None:
    """Fail with the first differences when ``content`` is not the JSON stored at ``path``."""
    actual = json.loads(json.dumps(content, allow_nan=False))
    if os.environ.get("SURVEYAPP_WRITE_SNAPSHOT"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(actual, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    expected = json.loads(path.read_text(encoding="utf-8"))
    found = differences(expected, actual)
    assert not found, f"{path.name} differs:\n" + "\n".join(found[:20])
