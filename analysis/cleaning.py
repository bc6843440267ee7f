"""Data cleaning by flags: nothing is dropped silently.

:func:`clean` marks each response with one boolean column per rule and an ``exclude``
column (any rule), and records the rules' parameters with the result, so that the
cleaned dataset carries its own cleaning protocol. Analysts choose what to drop.

Rules
-----
incomplete
    Fewer than ``min_answered_fraction`` of the item columns answered (negative codes
    count as not answered), or a status column whose value is not ``complete_value``.
speeder
    Completion time below ``speeder_fraction`` x the median completion time of the
    data (a relative rule, robust to questionnaire length).
straightliner
    On a block that mixes normal and reverse-keyed items, the same raw answer to every
    item (at least ``straightline_min_items`` answered). On a mixed-keyed scale that
    pattern contradicts itself, so it is evidence of inattention rather than opinion.
duplicate
    The same answers to all item columns (and the same ``duplicate_keys`` values) as
    an earlier response with at least ``duplicate_min_answered`` answers; the first
    occurrence is kept unflagged.
failed_attention
    An attention-check column whose answer differs from the instructed value
    (missing counts as failed when the check was shown, i.e. the column exists).
burst
    Flagged at collection (a ``known_bursts`` column): an open-link questionnaire sent
    while many others of its wave were sent from the same address within a minute, as
    ballot stuffing does. The app computes it without storing any address.

References
----------
Meade, A. W., & Craig, S. B. (2012). Identifying careless responses in survey data.
*Psychological Methods*, 17(3), 437-455.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["CLEANING_FLAGS", "CleaningResult", "clean"]

#: The flag columns in the order they are reported.
CLEANING_FLAGS = [
    "incomplete",
    "speeder",
    "straightliner",
    "duplicate",
    "failed_attention",
    "burst",
]


@dataclass(frozen=True)
class CleaningResult:
    """Flags per response, the parameters used and a summary.

    Attributes
    ----------
    flags : pandas.DataFrame
        Boolean columns :data:`CLEANING_FLAGS` plus ``exclude`` (any flag), indexed
        like the input.
    parameters : dict
        Every rule's parameters, JSON-serialisable; store them with the dataset.
    """

    flags: pd.DataFrame
    parameters: dict[str, Any]

    def summary(self) -> pd.DataFrame:
        """Count and share of responses per flag, plus ``exclude`` and ``kept``."""
        n = len(self.flags)
        counts = self.flags.sum().astype(int)
        counts["kept"] = n - counts["exclude"]
        return pd.DataFrame({"n": counts, "share": counts / n if n else np.nan})

    def kept(self, data: pd.DataFrame) -> pd.DataFrame:
        """The rows of ``data`` with no flag."""
        return data.loc[~self.flags["exclude"].reindex(data.index, fill_value=True)]


#: The platform's cleaning rules: the report, the datasets and the shared-measurement page
#: all clean with these (see :func:`clean` for what each means).
SPEEDER_FRACTION = 0.5
MIN_ANSWERED_FRACTION = 0.5
#: Straight-lining is judged on mixed-keyed grids of at least this many items.
STRAIGHTLINE_MIN_ITEMS = 4
DUPLICATE_MIN_ANSWERED = 5


def clean(
    data: pd.DataFrame,
    items: Sequence[Hashable],
    *,
    duration: Hashable | None = None,
    speeder_fraction: float = SPEEDER_FRACTION,
    min_answered_fraction: float = MIN_ANSWERED_FRACTION,
    status: Hashable | None = None,
    complete_value: Any = "complete",
    mixed_keyed_blocks: Mapping[str, Sequence[Hashable]] | None = None,
    straightline_min_items: int = 3,
    duplicate_keys: Sequence[Hashable] = (),
    duplicate_min_answered: int = DUPLICATE_MIN_ANSWERED,
    attention_checks: Mapping[Hashable, Any] | None = None,
    known_duplicates: Hashable | None = None,
    known_bursts: Hashable | None = None,
) -> CleaningResult:
    """Flag incomplete, speeding, straight-lining, duplicate, inattentive and burst responses.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per response.
    items : sequence of column labels
        The substantive item columns (raw codes; negative = not answered).
    duration : column label, optional
        Completion time in seconds; without it no one is flagged as a speeder.
    speeder_fraction : float, default 0.5
        Speeders take less than this share of the median completion time.
    min_answered_fraction : float, default 0.5
        Responses answering fewer than this share of ``items`` are incomplete.
    status : column label, optional
        A status column; values other than ``complete_value`` are incomplete.
    complete_value : object, default "complete"
    mixed_keyed_blocks : mapping of str to sequence of column labels, optional
        Blocks (e.g. constructs) that mix normal and reverse-keyed items, on which
        identical answers are flagged as straight-lining.
    straightline_min_items : int, default 3
        Minimum answered items of a block before straight-lining can be flagged.
    duplicate_keys : sequence of column labels, default ()
        Extra columns that must also agree (e.g. area, wave) for a duplicate.
    duplicate_min_answered : int, default 5
        Only responses with at least this many answered items can be duplicates.
    attention_checks : mapping of column label to expected value, optional
        Instructed-response items and the answer they instruct.
    known_duplicates : column label, optional
        A boolean column of responses already known to repeat another one (e.g. a second
        questionnaire sent from the same browser, flagged at collection); they are flagged
        ``duplicate`` too.
    known_bursts : column label, optional
        A boolean column of responses sent in a burst from one address (flagged at
        collection); they are flagged ``burst``. Without it no one is.

    Returns
    -------
    CleaningResult

    Raises
    ------
    ValueError
        If a named column is missing or a fraction is outside (0, 1].
    """
    items = list(items)
    optional = [c for c in (duration, status, known_duplicates, known_bursts) if c is not None]
    blocks, checks = mixed_keyed_blocks or {}, attention_checks or {}
    _check_columns(data, [*items, *duplicate_keys, *checks, *optional], blocks)
    _check_fractions(speeder_fraction, min_answered_fraction)
    answers = _answers(data, items)
    rules = {
        "incomplete": _incomplete(data, answers, min_answered_fraction, status, complete_value),
        "speeder": _speeders(data, duration, speeder_fraction),
        "straightliner": _straightliners(data, answers, blocks, straightline_min_items),
        "duplicate": _duplicates(
            data, answers, duplicate_keys, duplicate_min_answered, known_duplicates
        ),
        "failed_attention": _failed_attention(data, checks),
        "burst": _bursts(data, known_bursts),
    }
    return _result(data.index, items, rules)


#: What a rule gives :func:`clean`: its flags (None when it cannot flag anyone) and the
#: parameters it records.
RuleResult = tuple[np.ndarray | None, dict[str, Any]]


def _result(index: pd.Index, items: list[Hashable], rules: dict[str, RuleResult]) -> CleaningResult:
    """The rules' flags side by side with ``exclude`` (any flag), and their parameters."""
    flags = pd.DataFrame(False, index=index, columns=[*CLEANING_FLAGS, "exclude"])
    parameters: dict[str, Any] = {"items": [str(c) for c in items]}
    for name, (flagged, rule_parameters) in rules.items():
        if flagged is not None:
            flags[name] = flagged
        parameters |= rule_parameters
    flags["exclude"] = flags[CLEANING_FLAGS].any(axis=1)
    parameters["negative_codes"] = "not answered"
    return CleaningResult(flags=flags, parameters=parameters)


def _check_columns(
    data: pd.DataFrame, named: list[Hashable], blocks: Mapping[str, Sequence[Hashable]]
) -> None:
    for block in blocks.values():
        named = named + list(block)
    absent = sorted({str(c) for c in named if c not in data.columns})
    if absent:
        raise ValueError(f"Column(s) not in the data: {absent}.")


def _check_fractions(speeder_fraction: float, min_answered_fraction: float) -> None:
    for name, value in (
        ("speeder_fraction", speeder_fraction),
        ("min_answered_fraction", min_answered_fraction),
    ):
        if not 0 < value <= 1:
            raise ValueError(f"{name} must be in (0, 1].")


def _answers(data: pd.DataFrame, items: list[Hashable]) -> pd.DataFrame:
    """The item codes, NaN where not answered (missing, not numeric or a negative code)."""
    values = data[items].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    answered = np.isfinite(values) & (values >= 0)
    return pd.DataFrame(np.where(answered, values, np.nan), index=data.index, columns=items)


def _incomplete(
    data: pd.DataFrame,
    answers: pd.DataFrame,
    min_answered_fraction: float,
    status: Hashable | None,
    complete_value: Any,
) -> RuleResult:
    answered = np.isfinite(answers.to_numpy()).sum(axis=1)
    incomplete = answered < min_answered_fraction * answers.shape[1]
    if status is not None:
        incomplete |= (data[status] != complete_value).to_numpy()
    return incomplete, {
        "min_answered_fraction": min_answered_fraction,
        "status": None if status is None else str(status),
        "complete_value": complete_value,
    }


def _speeders(data: pd.DataFrame, duration: Hashable | None, speeder_fraction: float) -> RuleResult:
    median_seconds = None
    speeding = None
    if duration is not None:
        seconds = pd.to_numeric(data[duration], errors="coerce")
        median_seconds = float(seconds.median()) if seconds.notna().any() else None
        if median_seconds is not None:
            speeding = (seconds < speeder_fraction * median_seconds).to_numpy()
    return speeding, {
        "duration": None if duration is None else str(duration),
        "speeder_fraction": speeder_fraction,
        "median_duration_seconds": median_seconds,
    }


def _straightliners(
    data: pd.DataFrame,
    answers: pd.DataFrame,
    blocks: Mapping[str, Sequence[Hashable]],
    straightline_min_items: int,
) -> RuleResult:
    position = {item: k for k, item in enumerate(answers.columns)}
    codes = answers.to_numpy()
    straight = np.zeros(len(data), dtype=bool)
    for block in blocks.values():
        cols = [position[c] for c in block if c in position]
        if cols:
            block_values = codes[:, cols]
        else:
            block_values = data[list(block)].apply(pd.to_numeric, errors="coerce").to_numpy(float)
            block_values = np.where(block_values >= 0, block_values, np.nan)
        finite = np.isfinite(block_values)
        count = finite.sum(axis=1)
        highest = np.where(finite, block_values, -np.inf).max(axis=1)
        lowest = np.where(finite, block_values, np.inf).min(axis=1)
        spread = highest - lowest
        straight |= (count >= straightline_min_items) & (spread == 0)
    return straight, {
        "mixed_keyed_blocks": {str(k): [str(c) for c in v] for k, v in blocks.items()},
        "straightline_min_items": straightline_min_items,
    }


def _duplicates(
    data: pd.DataFrame,
    answers: pd.DataFrame,
    duplicate_keys: Sequence[Hashable],
    duplicate_min_answered: int,
    known_duplicates: Hashable | None,
) -> RuleResult:
    key_frame = pd.concat([answers, data[list(duplicate_keys)]], axis=1)
    n_answered = np.isfinite(answers.to_numpy()).sum(axis=1)
    duplicate = key_frame.duplicated(keep="first").to_numpy() & (
        n_answered >= duplicate_min_answered
    )
    if known_duplicates is not None:
        duplicate |= data[known_duplicates].fillna(False).astype(bool).to_numpy()
    return duplicate, {
        "duplicate_keys": [str(c) for c in duplicate_keys],
        "duplicate_min_answered": duplicate_min_answered,
    }


def _failed_attention(data: pd.DataFrame, attention_checks: Mapping[Hashable, Any]) -> RuleResult:
    failed = np.zeros(len(data), dtype=bool)
    for column, expected in attention_checks.items():
        failed |= (data[column] != expected).to_numpy()
    return failed, {"attention_checks": {str(k): v for k, v in attention_checks.items()}}


def _bursts(data: pd.DataFrame, known_bursts: Hashable | None) -> RuleResult:
    flagged = None
    if known_bursts is not None:
        flagged = data[known_bursts].fillna(False).astype(bool).to_numpy()
    return flagged, {"known_bursts": None if known_bursts is None else str(known_bursts)}
