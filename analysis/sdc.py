"""Statistical disclosure control of microdata: risk on key variables and local suppression.

A response-level file can identify a resident through its *key variables* (quasi-identifiers:
facts a neighbour may know, such as area, age band and household size) even without a name.
This module measures that risk and removes it the way statistics offices do before releasing
a scientific-use file (Hundepool et al. 2012, *Statistical Disclosure Control*, ch. 3; the
R package sdcMicro, Templ, Kowarik & Meindl 2015, *J. Stat. Softw.* 67(4)):

- :func:`key_frequencies`: per record, the sample frequency ``fk`` of its key combination and
  the estimated population frequency ``Fk`` (sum of the sampling weights of the records that
  share it). A missing key value (not answered, or suppressed) matches every value, as in
  sdcMicro's ``freqCalc``: an intruder cannot rule such a record out.
- :func:`individual_risk`: the probability of re-identification per record, Benedetti and
  Franconi's approximation as sdcMicro's ``measure_risk``/``indivRisk(method="approx")``
  compute it for sample data.
- :func:`measure`: the file's summary (sample uniques, records violating k-anonymity,
  expected re-identifications, the highest individual risk).
- :func:`local_suppression`: the fewest key values to blank so that every combination is
  shared by at least ``k`` records (k-anonymity), least important variables first.

Keys are numeric codes or strings; missing is ``NaN``/``None``/empty string.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "Risk",
    "individual_risk",
    "key_frequencies",
    "local_suppression",
    "measure",
]

#: Records compared at a time when missing values make a pairwise comparison necessary.
_BLOCK = 512


def _codes(keys: pd.DataFrame) -> np.ndarray:
    """The keys as an integer matrix, -1 for missing (each column factorised on its own)."""
    columns = []
    for name in keys.columns:
        column = keys[name]
        missing = column.isna() | (column.astype(str) == "")
        codes, _uniques = pd.factorize(column.where(~missing), use_na_sentinel=True)
        columns.append(np.where(missing.to_numpy(), -1, codes))
    if not columns:
        return np.zeros((len(keys), 0), dtype=np.int64)
    return np.column_stack(columns).astype(np.int64)


def _compatible_sums(targets: np.ndarray, patterns: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per target row, the sum of ``values`` over the patterns it matches (-1 matches all)."""
    out = np.zeros((len(targets), values.shape[1]))
    for start in range(0, len(targets), _BLOCK):
        block = targets[start : start + _BLOCK, None, :]
        match = (block == patterns[None, :, :]) | (block < 0) | (patterns[None, :, :] < 0)
        out[start : start + _BLOCK] = match.all(axis=2).astype(float) @ values
    return out


def key_frequencies(
    keys: pd.DataFrame, weights: Sequence[float] | np.ndarray | None = None
) -> pd.DataFrame:
    """Per record: ``fk`` (records sharing its key combination) and ``Fk`` (their weights).

    Records with a missing key value count for every combination they could belong to, and
    every record they could be counts for them (sdcMicro's ``freqCalc``).
    """
    n = len(keys)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    codes = _codes(keys)
    if n == 0:
        return pd.DataFrame({"fk": np.zeros(0, int), "Fk": np.zeros(0)}, index=keys.index)
    patterns, inverse = np.unique(codes, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    values = np.column_stack(
        [np.bincount(inverse, minlength=len(patterns)), np.bincount(inverse, w, len(patterns))]
    ).astype(float)
    sums = values.copy()
    with_missing = (patterns < 0).any(axis=1)
    if with_missing.any():
        # Complete patterns match only themselves among complete ones: the pairwise
        # comparison is needed only against the (few) patterns with a missing value.
        incomplete = np.flatnonzero(with_missing)
        sums += _compatible_sums(patterns, patterns[incomplete], values[incomplete])
        sums[incomplete] = _compatible_sums(patterns[incomplete], patterns, values)
    return pd.DataFrame(
        {"fk": sums[inverse, 0].round().astype(int), "Fk": sums[inverse, 1]}, index=keys.index
    )


def individual_risk(fk: np.ndarray, big_fk: np.ndarray) -> np.ndarray:
    """Re-identification risk per record (Benedetti-Franconi, sdcMicro's approximation).

    With ``pk = fk / Fk``: ``pk/(1-pk) log(1/pk)`` for sample uniques, ``pk/(1-pk) -
    (pk/(1-pk))^2 log(1/pk)`` for pairs and ``pk / (fk - (1 - pk))`` above. Where the weights
    say the sample is the population (``Fk <= fk``), the risk is ``1/fk``.
    """
    fk = np.asarray(fk, dtype=float)
    big_fk = np.asarray(big_fk, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        pk = np.where(big_fk > fk, fk / big_fk, 1.0)
        odds = pk / (1 - pk)
        log = np.log(1 / pk)
        risk = np.where(
            fk <= 1,
            odds * log,
            np.where(fk == 2, odds - odds**2 * log, pk / (fk - (1 - pk))),
        )
    return np.where(pk >= 1, 1 / np.maximum(fk, 1), risk)


@dataclass(frozen=True)
class Risk:
    """The disclosure risk of a file on its key variables."""

    records: int
    keys: tuple[str, ...]
    k: int
    combinations: int
    sample_uniques: int
    below_k: int
    expected_reidentifications: float
    max_risk: float
    mean_risk: float

    @property
    def uniqueness(self) -> float:
        """Share of records unique on their key combination."""
        return self.sample_uniques / self.records if self.records else 0.0

    def as_dict(self) -> dict[str, object]:
        """Plain numbers, for JSON (datapackage) and templates."""
        return {
            "records": self.records,
            "keys": list(self.keys),
            "k": self.k,
            "combinations": self.combinations,
            "sample_uniques": self.sample_uniques,
            "below_k": self.below_k,
            "expected_reidentifications": round(self.expected_reidentifications, 3),
            "max_risk": round(self.max_risk, 4),
            "mean_risk": round(self.mean_risk, 4),
        }


def measure(
    keys: pd.DataFrame, weights: Sequence[float] | np.ndarray | None = None, *, k: int = 5
) -> Risk:
    """The risk summary of a file: uniques, k-anonymity violations, individual risk."""
    freq = key_frequencies(keys, weights)
    fk = freq["fk"].to_numpy()
    risk = individual_risk(fk, freq["Fk"].to_numpy())
    complete = keys.dropna() if len(keys.columns) else keys
    return Risk(
        records=len(keys),
        keys=tuple(keys.columns),
        k=k,
        combinations=len(complete.drop_duplicates()),
        sample_uniques=int((fk == 1).sum()),
        below_k=int((fk < k).sum()),
        expected_reidentifications=float(risk.sum()),
        max_risk=float(risk.max()) if len(risk) else 0.0,
        mean_risk=float(risk.mean()) if len(risk) else 0.0,
    )


def local_suppression(keys: pd.DataFrame, k: int, importance: Sequence[str]) -> pd.DataFrame:
    """Blank the fewest key values so that every record shares its combination with k - 1.

    ``importance`` lists the key variables from the most to the least important to keep.
    Each round, every record still below ``k`` loses one value: the least important one whose
    blanking alone reaches ``k`` for it, else the one that raises its frequency most (ties:
    the less important). Rounds repeat until no record is below ``k``; a record that cannot
    reach ``k`` (fewer than ``k`` records in the file) ends with every key blank.

    Returns a copy of ``keys`` with suppressed values set to missing (``NaN``, or ``None``
    in text columns).
    """
    out = keys.copy()
    order = [name for name in reversed(list(importance)) if name in out.columns]
    names = list(out.columns)
    while True:
        fk = key_frequencies(out)["fk"].to_numpy()
        low = np.flatnonzero(fk < k)
        if not len(low):
            return out
        codes = _codes(out)
        patterns, inverse = np.unique(codes, axis=0, return_inverse=True)
        counts = np.bincount(np.asarray(inverse).reshape(-1), minlength=len(patterns))
        counts = counts.astype(float)[:, None]
        best: dict[int, tuple[str, bool]] = {}
        for name in order:
            column = names.index(name)
            trial = codes[low].copy()
            open_ = trial[:, column] >= 0
            trial[:, column] = -1
            reached = _compatible_sums(trial, patterns, counts)[:, 0] >= k
            for position, enough, can in zip(low.tolist(), reached, open_, strict=True):
                if can and (position not in best or (enough and not best[position][1])):
                    best[position] = (name, bool(enough))
        if not best:
            return out
        for position, (name, _enough) in best.items():
            blank = None if out[name].dtype == object else np.nan
            out.iloc[position, names.index(name)] = blank
