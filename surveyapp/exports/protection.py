"""Disclosure control of response-level downloads: the key variables, declared once.

A resident's answers about trust and fear must not be found by someone who knows a few facts
about them. The *key variables* below are the facts a neighbour may know; the standard
analyst file reaches k-anonymity on them (every combination shared by at least ``k``
responses, ``City.microdata_k``, 5 by default) in two steps, as statistics offices prepare a
scientific-use file (Hundepool et al. 2012, ch. 3; sdcMicro):

1. global recoding (:data:`RECODES`): age bands merged, household size and years in the
   neighbourhood top-coded, country of birth to "in this country" / "in another country";
2. local suppression (:func:`analysis.sdc.local_suppression`): the fewest remaining key
   values replaced by the code :data:`SUPPRESSED`, least important first. The area is never
   suppressed: it is the survey's cluster and weighting stratum.

The raking weight depends on the original age band and gender, so it would give them back:
the protected file carries the mean weight of its wave, area, age band and gender as
released (the total weight of each such cell is unchanged).

Risk (:func:`analysis.sdc.measure`) is computed on the file before and after; both are
shown on the download page and in the codebook. Admins can still download the unprotected
file, with a stated purpose that is audited (:mod:`surveyapp.exports.web`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from analysis.sdc import Risk, local_suppression, measure
from surveyapp.exports.dataset import DatasetPlan, Variable
from surveyapp.exports.rows import iter_chunks

#: The quasi-identifiers of a response-level file, most important to keep first.
KEY_VARIABLES = (
    "area",
    "gender",
    "age_band",
    "birth_country",
    "years_in_neighbourhood",
    "household_size",
)
#: Key variables that local suppression never blanks (design variables).
NEVER_SUPPRESSED = ("area",)
#: Default k of k-anonymity (a city may set its own, ``City.microdata_k``).
DEFAULT_K = 5
#: Smallest and largest k a city may choose.
K_RANGE = (3, 20)
#: Code of a key value blanked by local suppression (a missing-value code, like -1 and -2).
SUPPRESSED = -3
SUPPRESSED_LABEL = "Suppressed (disclosure control)"


@dataclass(frozen=True)
class Recode:
    """A global recoding of one key variable: old code to new code, and the new labels."""

    mapping: dict[int, int]
    labels: dict[int, str]
    description: str
    top: int | None = None  # top-coding of a number: values above become ``top``


RECODES = {
    "age_band": Recode(
        {1: 1, 2: 1, 3: 2, 4: 2, 5: 3, 6: 3, 7: 3},
        {1: "16-34", 2: "35-54", 3: "55 or older"},
        "Age bands merged: 16-34, 35-54, 55 or older.",
    ),
    "household_size": Recode(
        {}, {3: "3 or more"}, "Household size top-coded: 3 or more people = 3.", top=3
    ),
    "years_in_neighbourhood": Recode(
        {1: 1, 2: 1, 3: 2, 4: 2, 5: 2},
        {1: "Less than 5 years", 2: "5 years or more"},
        "Years in the neighbourhood: less than 5 years, 5 years or more (top-coded).",
    ),
    "birth_country": Recode(
        {1: 1, 2: 2, 3: 2},
        {1: "In this country", 2: "In another country"},
        "Country of birth: in this country or in another country.",
    ),
}


@dataclass
class Protection:
    """What disclosure control did to a file, and its risk before and after."""

    k: int
    keys: list[str]
    before: Risk
    after: Risk
    recodes: list[str]
    suppressed: dict[str, int]
    values: pd.DataFrame = field(repr=False)  # by response_id: released keys and weight

    @property
    def suppressed_cells(self) -> int:
        """Key values blanked by local suppression."""
        return sum(self.suppressed.values())

    def as_dict(self) -> dict[str, Any]:
        """For the datapackage and the codebook."""
        return {
            "k": self.k,
            "key_variables": self.keys,
            "risk_before": self.before.as_dict(),
            "risk_after": self.after.as_dict(),
            "global_recoding": self.recodes,
            "local_suppression": {"code": SUPPRESSED, "cells": self.suppressed},
            "weight": "mean raking weight of the released wave, area, age band and gender",
        }


def city_k(city: Any) -> int:
    """The city's k (``City.microdata_k``), the default when unset."""
    return int(getattr(city, "microdata_k", None) or DEFAULT_K)


def key_frame(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The key columns with missing-value codes and empty areas as missing (match anything)."""
    out = frame[keys].copy()
    for name in keys:
        if name == "area":
            out[name] = out[name].where(out[name].astype(str) != "")
        else:
            values = pd.to_numeric(out[name])
            out[name] = values.where(values >= 0)
    return out


def recode(frame: pd.DataFrame) -> pd.DataFrame:
    """Global recoding of the key columns present (missing-value codes kept)."""
    out = frame.copy()
    for name, rule in RECODES.items():
        if name not in out.columns:
            continue
        values = pd.to_numeric(out[name]).astype(float)
        answered = values >= 0
        if rule.top is not None:
            new = values.clip(upper=rule.top)
        else:
            new = values.map(lambda v, m=rule.mapping: m.get(int(v), v) if v == v else v)
        out[name] = new.where(answered, values)
    return out


def risk_of(frame: pd.DataFrame, keys: list[str], k: int) -> Risk:
    """The risk of a file's rows on the key variables (weighted by ``weight``)."""
    return measure(key_frame(frame, keys), frame["weight"].to_numpy(dtype=float), k=k)


def protect(frame: pd.DataFrame, keys: list[str], k: int) -> Protection:
    """Recode, suppress and re-weight the key columns of a whole file (see module notes).

    ``frame`` holds ``response_id``, ``wave_id``, ``weight`` and the key columns. A city's
    file can hold a city-wide round's response once per initiative it evaluates: each
    response counts once (a repeat would make its key combination look more common than it
    is), and its repeats are released like its first row.
    """
    frame = frame.drop_duplicates("response_id").reset_index(drop=True)
    before = risk_of(frame, keys, k)
    released = recode(frame)
    known = key_frame(released, keys)
    importance = [name for name in keys if name not in NEVER_SUPPRESSED]
    kept = local_suppression(known, k, importance)
    blanked = kept.isna() & known.notna()
    for name in keys:
        if blanked[name].any():
            released.loc[blanked[name].to_numpy(), name] = SUPPRESSED
    cell = ["wave_id", *(name for name in ("area", "age_band", "gender") if name in keys)]
    groups = released[cell].astype(str)
    released["weight"] = frame.groupby([groups[c] for c in cell])["weight"].transform("mean")
    after = risk_of(released, keys, k)
    present = [name for name in keys if name in RECODES]
    return Protection(
        k=k,
        keys=keys,
        before=before,
        after=after,
        recodes=[RECODES[name].description for name in present],
        suppressed={name: int(blanked[name].sum()) for name in keys if blanked[name].any()},
        values=released.set_index("response_id")[[*keys, "weight"]],
    )


def plan_keys(plan: DatasetPlan) -> list[str]:
    """The key variables the plan's file has."""
    return [name for name in KEY_VARIABLES if name in plan.columns]


def protect_plan(session: Session, plan: DatasetPlan, k: int) -> tuple[DatasetPlan, Protection]:
    """The protected file's plan (recoded labels, suppression code) and its protection.

    Reads the key columns and weights of every row once (a chunk at a time); the rows of
    the file itself are then read again and changed by :func:`apply`.
    """
    keys = plan_keys(plan)
    columns = ["response_id", "wave_id", "weight", *keys]
    parts = [chunk[columns] for chunk in iter_chunks(session, plan)]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    protection = protect(frame, keys, k)
    variables = [_released_variable(v, protection) for v in plan.variables]
    return dataclasses.replace(plan, variables=variables, protection=protection), protection


def _released_variable(variable: Variable, protection: Protection) -> Variable:
    if variable.name == "weight":
        return dataclasses.replace(
            variable,
            description=variable.description
            + " Disclosure control: the mean weight of the released wave, area, age band "
            "and gender, so that the weight does not give back the original ones.",
        )
    if variable.name not in protection.keys or variable.name == "area":
        return variable
    labels = dict(variable.value_labels)
    description = variable.description
    rule = RECODES.get(variable.name)
    if rule is not None:
        labels = {**rule.labels, **{c: x for c, x in labels.items() if c < 0}}
        description = f"{description} {rule.description}".strip()
    labels[SUPPRESSED] = SUPPRESSED_LABEL
    return dataclasses.replace(
        variable,
        value_labels=labels,
        missing_codes=tuple(sorted({*variable.missing_codes, SUPPRESSED})),
        description=f"{description} {SUPPRESSED} = suppressed for disclosure control.".strip(),
    )


def apply(chunks: Iterable[pd.DataFrame], protection: Protection) -> Iterator[pd.DataFrame]:
    """The chunks with their key columns and weights as released."""
    columns = list(protection.values.columns)
    for chunk in chunks:
        released = protection.values.reindex(chunk["response_id"].to_numpy())
        out = chunk.copy()
        for name in columns:
            out[name] = released[name].to_numpy()
        yield out


def index_means(frame: pd.DataFrame) -> dict[str, float]:
    """Weighted means of the index columns over responses without a quality flag."""
    kept = frame[frame["flag_exclude"] == 0]
    out = {}
    for name in (c for c in frame.columns if c.startswith("idx_")):
        values = kept[name].to_numpy(dtype=float)
        weights = kept["weight"].to_numpy(dtype=float)
        ok = np.isfinite(values)
        out[name] = float(np.average(values[ok], weights=weights[ok])) if ok.any() else np.nan
    return out
