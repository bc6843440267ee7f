"""The demo city's synthetic residents: who answers, and how.

A latent-factor model as messy as a real city's survey: each area has stable levels of
trust, participation, belonging and perceived safety (SD 0.25), every area-wave a shock of
its own (SD 0.06), and a common trend between the rounds. Older residents and women feel
less safe; who answers differs by area and by age (older residents answer more, as in real
postal surveys), which the population weights correct. Each item reflects its construct
with noise; 3% of answers are "don't know" or "prefer not to say". An initiative's effect is
a shift of the latent means in its treated areas after its start. Nothing here is real data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from surveyapp.instruments import Item
from surveyapp.models import Answer, AreaMargin

CORE = ("trust", "participation", "belonging", "perceived_safety")
AGE_BANDS = ("1", "2", "3", "4", "5", "6", "7")
AGE_SHARES = (0.13, 0.17, 0.17, 0.16, 0.15, 0.12, 0.10)
#: Relative propensity to answer by age band: older residents answer more.
AGE_PROPENSITY = (0.5, 0.6, 0.8, 1.0, 1.2, 1.4, 1.4)
#: Correlation of a panel member's latent levels between the two rounds.
PANEL_STABILITY = 0.6


@dataclass
class AreaProfile:
    """Stable levels of an area (latent SD units) and its population."""

    population: int
    levels: np.ndarray
    older: float  # tilt of the age structure towards older bands (-0.3 to 0.3)
    shocks: dict[int, np.ndarray] = field(default_factory=dict)


def area_profile(population: int, rng: np.random.Generator) -> AreaProfile:
    """An area's stable levels and age tilt."""
    return AreaProfile(population, rng.normal(0, 0.25, len(CORE)), float(rng.uniform(-0.3, 0.3)))


def age_shares(profile: AreaProfile) -> np.ndarray:
    """The area's population shares by age band."""
    tilt = np.exp(profile.older * np.linspace(-1, 1, len(AGE_BANDS)))
    shares = np.array(AGE_SHARES) * tilt
    return shares / shares.sum()


def margins(profile: AreaProfile, rng: np.random.Generator) -> list[AreaMargin]:
    """Age band x gender counts (codes of the demographics items) for weighting."""
    rows = []
    for band, share in zip(AGE_BANDS, age_shares(profile), strict=True):
        women = int(profile.population * share * rng.uniform(0.49, 0.53))
        men = int(profile.population * share) - women
        rows.append(AreaMargin(age_band=band, gender="1", population=women))
        rows.append(AreaMargin(age_band=band, gender="2", population=men))
    return rows


def respondent_age(profile: AreaProfile, rng: np.random.Generator) -> int:
    """Age band (index) of someone who answers: population shares times propensity."""
    weights = age_shares(profile) * np.array(AGE_PROPENSITY)
    return int(rng.choice(len(AGE_BANDS), p=weights / weights.sum()))


def latent_levels(
    profile: AreaProfile,
    wave: int,
    shift: dict[str, float],
    age: int,
    woman: bool,
    rng: np.random.Generator,
    earlier: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A resident's own deviation and latent levels in a round; ``earlier`` their own
    deviation from the round before (a panel member), which carries over with
    :data:`PANEL_STABILITY` (the area's levels and shocks do not: they are the round's)."""
    correlation = np.full((4, 4), 0.45) + np.eye(4) * 0.55
    own = rng.multivariate_normal(np.zeros(4), correlation)
    if earlier is not None:
        own = PANEL_STABILITY * earlier + math.sqrt(1 - PANEL_STABILITY**2) * own
    shock = profile.shocks.setdefault(wave, rng.normal(0, 0.06, len(CORE)))
    means = profile.levels + shock + np.array([shift.get(c, 0.0) for c in CORE])
    safety = CORE.index("perceived_safety")
    means[safety] -= 0.12 * max(0, age - 3) + (0.3 if woman else 0.0)
    return own, own + means


def answers(
    items: list[Item], latent: np.ndarray, age: int, woman: bool, rng: np.random.Generator
) -> list[Answer]:
    """The answers of one resident with these latent levels."""
    levels = dict(zip(CORE, latent, strict=True))
    rows = []
    for item in items:
        value = _answer(item, levels, age, woman, rng)
        if value is not None:
            rows.append(Answer(item_id=item.id, **value))
    return rows


def _answer(
    item: Item, latent: dict[str, float], age: int, woman: bool, rng: np.random.Generator
) -> dict | None:
    missing = [option.code for option in item.missing_options]
    if missing and rng.random() < 0.03:
        return {"value_code": int(rng.choice(missing))}
    if item.id == "age_band":
        return {"value_code": int(AGE_BANDS[age])}
    if item.id == "gender":
        return {"value_code": 1 if woman else (3 if rng.random() < 0.02 else 2)}
    if item.construct in latent:
        z = 0.7 * latent[item.construct] + math.sqrt(1 - 0.49) * rng.normal()
        if item.reverse:
            z = -z
        if item.type == "yes_no":
            return {"value_code": int(z > 0.4)}
        codes = sorted(option.code for option in item.options)
        cdf = 0.5 * (1 + math.erf(z / math.sqrt(2)))  # standard normal CDF
        return {"value_code": codes[min(int(cdf * len(codes)), len(codes) - 1)]}
    if item.type == "number":
        low, high = item.min or 0, min(item.max or 6, 6)
        return {"value_number": float(rng.integers(low, high + 1))}
    if item.type in ("single_choice", "yes_no", "scale"):
        return {"value_code": int(rng.choice([option.code for option in item.options]))}
    return None  # free text stays empty in the demo.
