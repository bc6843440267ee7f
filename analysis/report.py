"""The validation report: structure, fit, reliability, invariance and index change.

:func:`build_report` runs the whole method of this package on one initiative's
responses (all waves) and returns a :class:`Report` with a JSON form
(:meth:`Report.to_json`) and a self-contained HTML page (:meth:`Report.to_html`,
inline CSS and hand-made SVG charts, no JavaScript, no external URLs).

Verdicts
--------
Fit indices are judged by the cutoffs of Hu & Bentler (1999): CFI and TLI >= .95 good,
>= .90 acceptable; RMSEA <= .06 good, <= .08 acceptable; SRMR <= .08 good, <= .10
acceptable. Reliability (omega total, alpha): >= .80 good, >= .70 acceptable (Nunnally &
Bernstein, 1994). KMO >= .80 good, >= .60 acceptable (Kaiser, 1974). Invariance levels
hold when CFI drops by at most .010 and RMSEA rises by at most .015 (Chen, 2007).
These are conventions, not laws; the report says so in plain language.

Disclosure control
------------------
Estimates resting on fewer than 30 responses are withheld with the reason
(:data:`analysis.change.MIN_N`), and any count of responses below 10 is shown as
``"<10"`` (:data:`MIN_CELL`).

References
----------
Hu, L., & Bentler, P. M. (1999). Cutoff criteria for fit indexes in covariance structure
analysis: Conventional criteria versus new alternatives. *Structural Equation
Modeling*, 6(1), 1-55.

Chen, F. F. (2007). Sensitivity of goodness of fit indexes to lack of measurement
invariance. *Structural Equation Modeling*, 14(3), 464-504.

Kaiser, H. F. (1974). An index of factorial simplicity. *Psychometrika*, 39, 31-36.

Nunnally, J. C., & Bernstein, I. H. (1994). *Psychometric theory* (3rd ed.). McGraw-Hill.
"""

from __future__ import annotations

import itertools
import json
import math
import warnings
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis import svg
from analysis.cfa import fit_cfa
from analysis.change import MIN_N, wave_change, wave_means
from analysis.cleaning import clean
from analysis.did import difference_in_differences
from analysis.factor_analyzer_compat import fit_efa
from analysis.instrument_model import InstrumentModel
from analysis.invariance import measurement_invariance
from analysis.items import item_analysis, item_distributions, structure_checks
from analysis.reliability import reliability
from analysis.scoring import freeze_scoring_model, score, verify_scoring_model
from analysis.weighting import design_effect

__all__ = ["MIN_CELL", "REPORT_FORMAT", "Report", "build_report", "verdict"]

#: Identifies the JSON layout of the report.
REPORT_FORMAT = "surveyapp.validation-report/1"

#: Counts of responses below this are shown as "<10".
MIN_CELL = 10

#: (good, acceptable, higher_is_better) per statistic.
THRESHOLDS: dict[str, tuple[float, float, bool]] = {
    "cfi": (0.95, 0.90, True),
    "tli": (0.95, 0.90, True),
    "rmsea": (0.06, 0.08, False),
    "srmr": (0.08, 0.10, False),
    "omega": (0.80, 0.70, True),
    "alpha": (0.80, 0.70, True),
    "kmo": (0.80, 0.60, True),
}

_EXPLAIN = {
    "cfi": "CFI compares the model with a model in which the questions are unrelated; "
    "1 is perfect, at least 0.95 is good and at least 0.90 acceptable (Hu & Bentler 1999).",
    "tli": "TLI is like CFI but penalises complicated models; at least 0.95 is good.",
    "rmsea": "RMSEA is the model's error per degree of freedom; at most 0.06 is good and at "
    "most 0.08 acceptable (Hu & Bentler 1999).",
    "srmr": "SRMR is the average gap between observed and model-implied correlations; at most "
    "0.08 is good.",
    "omega": "Omega says how consistently the questions of a theme measure one thing; at "
    "least 0.70 is acceptable for comparing groups and at least 0.80 is good.",
    "alpha": "Cronbach's alpha is an older measure of consistency; read it like omega.",
    "kmo": "KMO says whether the answers share enough in common for factor analysis; at "
    "least 0.60 is acceptable and at least 0.80 good.",
}

_WORDS = {
    "good": "Good",
    "acceptable": "Acceptable",
    "poor": "Poor",
    "n/a": "Not available",
}


def verdict(metric: str, value: float | None) -> dict[str, Any]:
    """Judge one statistic against the thresholds in the module notes.

    Returns
    -------
    dict
        ``metric``, ``value``, ``verdict`` (``"good"``, ``"acceptable"``, ``"poor"`` or
        ``"n/a"``) and ``explanation`` (plain language).
    """
    good, ok, higher = THRESHOLDS[metric]
    if value is None or not math.isfinite(value):
        word = "n/a"
    elif higher:
        word = "good" if value >= good else "acceptable" if value >= ok else "poor"
    else:
        word = "good" if value <= good else "acceptable" if value <= ok else "poor"
    return {
        "metric": metric,
        "value": _clean_value(value),
        "verdict": word,
        "explanation": _EXPLAIN[metric],
    }


def _clean_value(value: Any) -> Any:
    """JSON-safe copy: NaN/inf -> None, numpy scalars -> Python, tuples -> lists."""
    if isinstance(value, Mapping):
        return {str(k): _clean_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_clean_value(v) for v in value]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _count(n: Any) -> int | str:
    """A count of responses, or "<10" when it is below :data:`MIN_CELL`."""
    n = int(n)
    return n if n >= MIN_CELL else f"<{MIN_CELL}"


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [_clean_value(row) for row in frame.reset_index().to_dict(orient="records")]


def _omega_em(cov: np.ndarray, max_iter: int = 5000, tol: float = 1e-10) -> np.ndarray:
    """Omega total of a stack of covariance matrices ``(B, p, p)`` by one-factor ML.

    The same estimator as :func:`analysis.reliability.omega_total` (one-factor maximum
    likelihood), fitted to all matrices at once by the EM algorithm of Rubin & Thayer
    (1982), because one optimiser call per bootstrap resample is too slow for a report.
    """
    diag = np.einsum("bii->bi", cov)
    w, v = np.linalg.eigh(cov.mean(axis=0))
    lam = np.broadcast_to(v[:, -1] * np.sqrt(w[-1]), diag.shape).copy()
    psi = np.maximum(diag - lam**2, 0.05 * diag)
    for _ in range(max_iter):
        a = lam / psi
        beta = a / (1 + (lam * a).sum(axis=1, keepdims=True))
        s_beta = np.einsum("bij,bj->bi", cov, beta)
        ezz = 1 - (beta * lam).sum(axis=1, keepdims=True)
        ezz = ezz + (beta * s_beta).sum(axis=1, keepdims=True)
        new_lam = s_beta / ezz
        new_psi = np.maximum(diag - new_lam * s_beta, 1e-8 * diag)
        change = max(np.abs(new_lam - lam).max(), np.abs(new_psi - psi).max())
        lam, psi = new_lam, new_psi
        if change < tol:
            break
    common = lam.sum(axis=1) ** 2
    return common / (common + psi.sum(axis=1))


def _omega_bootstrap(
    values: np.ndarray, n_boot: int, seed: int, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap interval of omega total (see :func:`_omega_em`)."""
    n, p = values.shape
    if n_boot <= 0 or p < 3 or n <= p:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    omegas = np.empty(n_boot)
    for start in range(0, n_boot, 50):  # chunks keep memory at 50 x n x p
        index = rng.integers(0, n, size=(min(50, n_boot - start), n))
        samples = values[index]
        centred = samples - samples.mean(axis=1, keepdims=True)
        cov = np.einsum("bni,bnj->bij", centred, centred) / n
        omegas[start : start + len(index)] = _omega_em(cov)
    omegas = omegas[np.isfinite(omegas)]
    if omegas.size == 0:
        return (float("nan"), float("nan"))
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(omegas, [tail, 100 - tail])
    return (float(low), float(high))


@dataclass
class Report:
    """A validation report: the results as a JSON-ready dict plus the SVG charts.

    Attributes
    ----------
    content : dict
        Everything :meth:`to_json` returns.
    charts : dict of str to str
        SVG markup by chart key (``scree``, ``loadings``, ``trend:<construct>``).
    """

    content: dict[str, Any]
    charts: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON-serialisable dict (NaN and infinities become None)."""
        return _clean_value(self.content)

    def to_html(self) -> str:
        """The report as one self-contained HTML page (no scripts, no external URLs)."""
        return _render_html(self.to_json(), self.charts)

    def write(self, directory: str | Path) -> tuple[Path, Path]:
        """Write ``report.html`` and ``report.json`` into ``directory`` (created)."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        html_path, json_path = out / "report.html", out / "report.json"
        html_path.write_text(self.to_html(), encoding="utf-8")
        json_path.write_text(
            json.dumps(self.to_json(), indent=2, ensure_ascii=False, allow_nan=False),
            encoding="utf-8",
        )
        return html_path, json_path


def _keyed(data: pd.DataFrame, spec: InstrumentModel) -> pd.DataFrame:
    """Item columns as floats, negative/out-of-range -> NaN, reverse-keyed items flipped."""
    out = pd.DataFrame(index=data.index)
    for item in spec.items:
        low, high = spec.scale[item]
        values = pd.to_numeric(data[item], errors="coerce").astype(float)
        values = values.where((values >= low) & (values <= high))
        out[item] = low + high - values if item in spec.reverse else values
    return out


def _wave_order(values: pd.Series) -> list[Any]:
    unique = list(pd.unique(values.dropna()))
    try:
        return sorted(unique)
    except TypeError:
        return unique


def _safe(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, str | None]:
    """Call ``fn``; a ValueError or LinAlgError becomes a stated reason."""
    try:
        return fn(*args, **kwargs), None
    except (ValueError, np.linalg.LinAlgError) as error:
        return None, str(error)


def build_report(
    data: pd.DataFrame,
    instrument_spec: InstrumentModel | Mapping[str, Any],
    *,
    wave: Hashable = "wave",
    area: Hashable = "area",
    group: Hashable = "group",
    language: Hashable = "language",
    weight: Hashable | None = None,
    duration: Hashable | None = None,
    reference_wave: Any = None,
    n_boot: int = 200,
    seed: int = 0,
    title: str | None = None,
    min_invariance_n: int = 100,
    invariance: tuple[str, ...] = ("wave", "language"),
    scoring_model: Mapping[str, Any] | None = None,
) -> Report:
    """Build the validation report of one initiative's responses.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per response: one column per item (named by item id; negative codes
        such as -1 don't know / -2 prefer not to say are missing), and optionally the
        ``wave``, ``area``, ``group`` (``"treated"`` / ``"comparison"``), ``language``,
        weight and duration columns. Absent optional columns skip the parts that need
        them, with the reason stated.
    instrument_spec : InstrumentModel or dict
        The constructs, item ranges and reverse keys (see
        :mod:`analysis.instrument_model`; :func:`analysis.from_instrument` builds one
        from a ``surveyapp`` instrument).
    wave, area, group, language : column label
    weight : column label, optional
        Survey weights (e.g. from :func:`analysis.rake`); unweighted by default.
    duration : column label, optional
        Completion time in seconds for the speeder rule; ``"duration_seconds"`` is used
        when present.
    reference_wave : object, optional
        The wave at which the scoring model is frozen and structure, fit and reliability
        are assessed; the first wave (sorted) by default.
    n_boot : int, default 200
        Bootstrap resamples for the reliability intervals.
    seed : int, default 0
    title : str, optional
        Heading of the report.
    min_invariance_n : int, default 100
        Groups with fewer complete cases are left out of the invariance tests.
    invariance : tuple of str, default ("wave", "language")
        Which invariance tests to run (each is a set of multi-group CFAs, the slowest
        part of the report); the others are reported as not requested.
    scoring_model : dict, optional
        A scoring model frozen earlier (:func:`analysis.freeze_scoring_model`): the indices
        are scored with it, unchanged, instead of a model frozen now at the reference
        wave. Its hash is checked.

    Returns
    -------
    Report

    Raises
    ------
    ValueError
        If item columns are missing or the reference wave is not in the data.

    Notes
    -----
    Verdict thresholds follow Hu & Bentler (1999) for CFI, TLI, RMSEA and SRMR (see the
    module notes). Means and wave-to-wave changes treat responses as independent;
    the difference-in-differences interval is cluster-robust by area (CR1).
    """
    spec = InstrumentModel.from_dict(instrument_spec)
    items = spec.items
    missing = [item for item in items if item not in data.columns]
    if missing:
        raise ValueError(f"Item column(s) missing from the data: {missing}.")
    if duration is None and "duration_seconds" in data.columns:
        duration = "duration_seconds"
    notes: list[str] = []
    frame = data.copy()
    has_wave = wave in frame.columns
    if has_wave:
        order = _wave_order(frame[wave])
        frame = frame[frame[wave].notna()]
    else:
        order = ["all"]
        notes.append(f"No {wave!r} column: all responses are treated as one wave.")
    labels = [str(w) for w in order]
    frame["_wave"] = frame[wave].astype(str) if has_wave else "all"
    if reference_wave is None:
        reference_label = labels[0]
    else:
        reference_label = str(reference_wave)
        if reference_label not in labels:
            raise ValueError(f"Reference wave {reference_wave!r} is not in the data.")

    # 1. Cleaning.
    # Straight-lining is judged on mixed-keyed grids of at least 4 items.
    blocks = spec.straightline_blocks(min_items=4)
    checks = {k: v for k, v in spec.attention_checks.items() if k in frame.columns}
    cleaning = clean(
        frame,
        items,
        duration=duration if duration in frame.columns else None,
        mixed_keyed_blocks=blocks,
        straightline_min_items=4,
        attention_checks=checks,
        duplicate_keys=[c for c in (wave, area) if c in frame.columns],
        known_duplicates="collection_duplicate" if "collection_duplicate" in frame else None,
    )
    summary = cleaning.summary()
    kept = cleaning.kept(frame)
    cleaning_out = {
        "parameters": cleaning.parameters,
        "summary": [
            {
                "flag": flag,
                "n": _count(row["n"]),
                "share": row["share"] if row["n"] >= MIN_CELL else None,
            }
            for flag, row in summary.iterrows()
        ],
        "n_responses": _count(len(frame)),
        "n_kept": _count(len(kept)),
        "by_wave": [
            {
                "wave": label,
                "n": _count((frame["_wave"] == label).sum()),
                "n_kept": _count((kept["_wave"] == label).sum()),
            }
            for label in labels
        ],
    }

    keyed = _keyed(kept, spec)
    keyed["_wave"] = kept["_wave"]
    reference = keyed[keyed["_wave"] == reference_label]
    n_reference_complete = int(reference[items].notna().all(axis=1).sum())
    small_reference = None
    if n_reference_complete < MIN_N:
        small_reference = (
            f"n = {n_reference_complete} complete responses in the reference wave < {MIN_N}: "
            "structure, fit and reliability withheld (disclosure control and precision)"
        )

    # 2. Items and reliability per construct.
    constructs_out: dict[str, Any] = {}
    for construct in spec.constructs:
        cols = list(construct.items)
        entry: dict[str, Any] = {"label": construct.label, "items": cols}
        if small_reference:
            entry["withheld"] = small_reference
            constructs_out[construct.id] = entry
            continue
        table = item_analysis(reference, cols)
        rows = []
        for item, row in table.iterrows():
            rows.append(
                {
                    "item": item,
                    "reverse": item in spec.reverse,
                    "scale": list(spec.scale[item]),
                    "n": _count(row["n"]),
                    "missing_share": row["missing_share"],
                    "mean": row["mean"],
                    "sd": row["sd"],
                    "item_rest_r": row["item_rest_r"],
                }
            )
        entry["item_analysis"] = rows
        distribution = item_distributions(reference, cols)
        entry["distribution"] = [
            {
                "item": r["item"],
                "value": None if pd.isna(r["value"]) else r["value"],
                "n": _count(r["n"]),
                "share": r["share"] if r["n"] >= MIN_CELL else None,
            }
            for r in distribution.to_dict(orient="records")
        ]
        rel, reason = _safe(reliability, reference, cols, n_boot=n_boot, seed=seed, omega=False)
        if rel is None:
            entry["reliability"] = {"skipped": reason}
        else:
            omega_point, omega_reason = _safe(
                reliability, reference, cols, n_boot=0, seed=seed, omega=len(cols) >= 3
            )
            values = reference[cols].dropna().to_numpy(dtype=float)
            omega_value = omega_point.omega if omega_point is not None else float("nan")
            omega_ci = _omega_bootstrap(values, n_boot, seed)
            entry["reliability"] = {
                "n": _count(rel.n),
                "n_boot": n_boot,
                "alpha": rel.alpha,
                "alpha_ci": list(rel.alpha_ci),
                "omega": omega_value,
                "omega_ci": list(omega_ci),
                "verdicts": [verdict("omega", omega_value), verdict("alpha", rel.alpha)],
                "note": omega_reason
                or (None if len(cols) >= 3 else "Omega needs at least 3 items."),
            }
        constructs_out[construct.id] = entry

    # 3. Structure and CFA at the reference wave.
    charts: dict[str, str] = {}
    structure_out: dict[str, Any]
    cfa_out: dict[str, Any]
    if small_reference:
        structure_out = {"withheld": small_reference}
        cfa_out = {"withheld": small_reference}
    else:
        complete = reference[items].dropna()
        checks_result, reason = _safe(structure_checks, complete, items, seed=seed)
        if checks_result is None:
            structure_out = {"skipped": reason}
        else:
            pa = checks_result["parallel_analysis"]
            n_factors = max(int(pa["n_factors"]), 1)
            structure_out = {
                "n": _count(checks_result["n"]),
                "kmo": checks_result["kmo"],
                "kmo_items": checks_result["kmo_items"],
                "bartlett_chi2": checks_result["bartlett_chi2"],
                "bartlett_df": checks_result["bartlett_df"],
                "bartlett_pvalue": checks_result["bartlett_pvalue"],
                "parallel_analysis": pa,
                "n_constructs": len(spec.constructs),
                "verdicts": [verdict("kmo", checks_result["kmo"])],
                "factors_match": n_factors == len(spec.constructs),
            }
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                efa, reason = _safe(
                    fit_efa, complete, n_factors, rotation="oblimin" if n_factors > 1 else None
                )
            if efa is None:
                structure_out["efa"] = {"skipped": reason}
            else:
                structure_out["efa"] = {
                    "n_factors": n_factors,
                    "rotation": "oblimin" if n_factors > 1 else "none",
                    "loadings": {
                        item: list(map(float, row))
                        for item, row in zip(items, efa.loadings_, strict=True)
                    },
                    "warnings": sorted({str(w.message) for w in caught}),
                }
            charts["scree"] = svg.scree_plot(
                pa["observed"],
                pa["random"],
                title="Scree plot: eigenvalues against parallel analysis",
            )
        cfa, reason = _safe(fit_cfa, reference, spec.model)
        if cfa is None:
            cfa_out = {"skipped": reason}
        else:
            loadings = [
                {
                    "item": item,
                    "construct": c.id,
                    "loading": float(cfa.loadings.loc[item, c.id]),
                }
                for c in spec.constructs
                for item in c.items
            ]
            cfa_out = {
                "n": _count(cfa.n),
                "chi2": cfa.chi2,
                "df": cfa.df,
                "pvalue": cfa.pvalue,
                "cfi": cfa.cfi,
                "tli": cfa.tli,
                "rmsea": cfa.rmsea,
                "rmsea_ci": list(cfa.rmsea_ci),
                "srmr": cfa.srmr,
                "converged": cfa.converged,
                "loadings": loadings,
                "factor_correlations": {
                    str(k): {str(j): float(v) for j, v in row.items()}
                    for k, row in cfa.factor_correlations.iterrows()
                },
                "verdicts": [
                    verdict("cfi", cfa.cfi),
                    verdict("tli", cfa.tli),
                    verdict("rmsea", cfa.rmsea),
                    verdict("srmr", cfa.srmr),
                ],
            }
            charts["loadings"] = svg.loadings_chart(
                [(d["item"], d["construct"], d["loading"]) for d in loadings],
                title="Standardized CFA loadings at the reference wave",
            )

    # 4. Measurement invariance.
    invariance_out: dict[str, Any] = {}
    for name, column in (("wave", "_wave" if has_wave else None), ("language", language)):
        source = None if column is None else (kept["_wave"] if column == "_wave" else None)
        if column is not None and column != "_wave" and column in kept.columns:
            source = kept[column]
        if name not in invariance:
            invariance_out[name] = {"skipped": f"Invariance across {name}s was not requested."}
            continue
        if source is None:
            invariance_out[name] = {"skipped": f"No {name} column in the data."}
            continue
        sub = keyed[items].copy()
        sub["_g"] = source.astype("string")
        sub = sub[sub["_g"].notna()]
        sizes = sub[items].notna().all(axis=1).groupby(sub["_g"]).sum()
        small = [g for g, n in sizes.items() if n < min_invariance_n]
        enough = [g for g, n in sizes.items() if n >= min_invariance_n]
        entry = {
            "groups": [{"group": str(g), "n": _count(n)} for g, n in sizes.items()],
            "left_out": [
                f"{name} {g}: n = {_count(sizes[g])} complete responses < {min_invariance_n}"
                for g in small
            ],
        }
        if len(enough) < 2:
            entry["skipped"] = (
                f"Fewer than 2 {name} groups with at least {min_invariance_n} complete "
                "responses: invariance cannot be tested."
            )
        else:
            sub = sub[sub["_g"].isin(enough)]
            sub["_g"] = sub["_g"].astype(str)
            table, reason = _safe(measurement_invariance, sub, spec.model, "_g")
            if table is None:
                entry["skipped"] = reason
            else:
                levels = _records(table)
                entry["levels"] = levels
                holds = {row["level"]: row["holds"] for row in levels}
                if holds.get("scalar"):
                    word, text = (
                        "good",
                        (f"Scalar invariance holds across {name}s: index means can be compared."),
                    )
                elif holds.get("metric"):
                    word, text = (
                        "acceptable",
                        (
                            f"Only metric invariance holds across {name}s: relations can be "
                            "compared, but compare means with caution."
                        ),
                    )
                else:
                    word, text = (
                        "poor",
                        (
                            f"Invariance fails across {name}s: the questions may not mean the same "
                            "thing in each group; do not compare means."
                        ),
                    )
                entry["verdict"] = {"verdict": word, "explanation": text}
        invariance_out[name] = entry

    # 5. Frozen scoring model and indices.
    if scoring_model is not None:
        verify_scoring_model(scoring_model)
        absent = sorted(set(scoring_model["items"]) - set(kept.columns))
        if absent:
            raise ValueError(
                f"Item column(s) of the scoring model missing from the data: {absent}."
            )
        scoring_model, reason = dict(scoring_model), None
    else:
        reference_raw = kept[kept["_wave"] == reference_label]
        scoring_model, reason = _safe(
            freeze_scoring_model,
            reference_raw,
            spec.model,
            {i: spec.scale[i] for i in items},
            reverse=sorted(spec.reverse),
            instrument=spec.name,
            reference_label=reference_label,
        )
    indices_out: dict[str, Any] = {}
    weights_out: list[dict[str, Any]] = []
    if scoring_model is None:
        indices_out = {"skipped": reason}
    else:
        scores = score(kept, scoring_model)
        scored = pd.concat([kept[["_wave"]], scores], axis=1)
        scored["_w"] = (
            pd.to_numeric(kept[weight], errors="coerce") if weight in kept.columns else 1.0
        )
        if weight is not None and weight not in kept.columns:
            notes.append(f"Weight column {weight!r} not found: estimates are unweighted.")
        if weight is not None and weight in kept.columns:
            for label in labels:
                deff, n_eff = design_effect(scored.loc[scored["_wave"] == label, "_w"])
                weights_out.append({"wave": label, "design_effect": deff, "n_effective": n_eff})
        if len(labels) < 2:
            notes.append("Only one wave: no change or difference-in-differences estimates.")
        has_group = group in kept.columns
        has_area = area in kept.columns
        if has_group:
            arm_values = kept[group].astype("string").str.lower()
            scored["_arm"] = arm_values.where(arm_values.isin(["treated", "comparison"]))
        else:
            notes.append(f"No {group!r} column: no treated/comparison split or DiD.")
        if has_area:
            scored["_area"] = kept[area]
        scored["_treated"] = scored["_arm"] == "treated" if has_group else False
        arms = ["treated", "comparison"] if has_group else []
        for construct in spec.constructs:
            cid = construct.id
            means = []
            changes = []
            for arm in [*arms, "all"]:
                part = scored if arm == "all" else scored[scored["_arm"] == arm]
                table = wave_means(part, cid, "_wave", weight="_w")
                by_wave = {str(r["_wave"]): r for r in table.to_dict(orient="records")}
                for label in labels:
                    r = by_wave.get(label)
                    n = 0 if r is None else int(r["n"])
                    means.append(
                        {
                            "arm": arm,
                            "wave": label,
                            "n": _count(n),
                            "mean": None if r is None else r["mean"],
                            "ci_lower": None if r is None else r["ci_lower"],
                            "ci_upper": None if r is None else r["ci_upper"],
                            "withheld": f"n = {_count(n)} < {MIN_N}: estimate withheld "
                            "(disclosure control)"
                            if r is None or r["withheld"]
                            else None,
                        }
                    )
                for before, after in itertools.pairwise(labels):
                    ch = wave_change(part, cid, "_wave", before, after, weight="_w")
                    changes.append(
                        {
                            "arm": arm,
                            "before": before,
                            "after": after,
                            "n_before": _count(ch["n_before"]),
                            "n_after": _count(ch["n_after"]),
                            **{
                                k: ch[k]
                                for k in ("change", "ci_lower", "ci_upper", "pvalue", "effect_size")
                            },
                            "withheld": _suppress_reason(ch["withheld"]),
                        }
                    )
            dids = []
            if has_group and has_area:
                tc = scored[scored["_arm"].notna()]
                for before, after in itertools.pairwise(labels):
                    d = difference_in_differences(
                        tc, cid, "_wave", "_area", "_treated", before, after, weight="_w"
                    )
                    dids.append(
                        {
                            "before": before,
                            "after": after,
                            "cells": {
                                k: {"n": _count(v["n"]), "mean": v.get("mean")}
                                for k, v in d["cells"].items()
                            },
                            "n_areas_treated": d["n_areas_treated"],
                            "n_areas_comparison": d["n_areas_comparison"],
                            **{
                                k: d[k]
                                for k in (
                                    "did",
                                    "se",
                                    "ci_lower",
                                    "ci_upper",
                                    "pvalue",
                                    "effect_size",
                                )
                            },
                            "method": "CR1 cluster-robust by area, t(G - 1)",
                            "withheld": _suppress_reason(d["withheld"]),
                        }
                    )
            elif not has_group:
                dids = [{"skipped": f"No {group!r} column: no treated vs comparison DiD."}]
            else:
                dids = [{"skipped": f"No {area!r} column: DiD needs areas as clusters."}]
            indices_out[cid] = {
                "label": construct.label,
                "means": means,
                "changes": changes,
                "did": dids,
            }
            series = {}
            for arm in arms or ["all"]:
                series[arm] = [
                    None
                    if m["withheld"] or m["mean"] is None
                    else (m["mean"], m["ci_lower"], m["ci_upper"])
                    for m in means
                    if m["arm"] == arm
                ]
            charts[f"trend:{cid}"] = svg.trend_chart(
                labels, series, title=f"{construct.label}: index by wave (95% CI)"
            )

    content = {
        "format": REPORT_FORMAT,
        "title": title or f"Validation report: {spec.name or 'instrument'}",
        "instrument": spec.name,
        "instrument_model": spec.to_dict(),
        "parameters": {
            "wave": str(wave),
            "area": str(area),
            "group": str(group),
            "language": str(language),
            "weight": None if weight is None else str(weight),
            "duration": None if duration is None else str(duration),
            "reference_wave": reference_label,
            "n_boot": n_boot,
            "seed": seed,
            "min_n": MIN_N,
            "min_cell": MIN_CELL,
            "min_invariance_n": min_invariance_n,
            "invariance": list(invariance),
            "thresholds": {
                k: {"good": g, "acceptable": a, "higher_is_better": h}
                for k, (g, a, h) in THRESHOLDS.items()
            },
        },
        "waves": labels,
        "cleaning": cleaning_out,
        "constructs": constructs_out,
        "structure": structure_out,
        "cfa": cfa_out,
        "invariance": invariance_out,
        "scoring_model": scoring_model,
        "weights": weights_out,
        "indices": indices_out,
        "notes": notes,
    }
    return Report(content=_clean_value(content), charts=charts)


def _suppress_reason(reason: str | None) -> str | None:
    """Rewrite "n = 7 < 30" as "n = <10 < 30" so a withheld reason discloses no small n."""
    if not reason or not reason.startswith("n = "):
        return reason
    number, rest = reason[4:].split(" ", 1)
    return f"n = {_count(int(number))} {rest}" if number.isdigit() else reason


# ---------------------------------------------------------------------------- HTML

_CSS = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#1a1a1a;line-height:1.5}
h1{font-size:1.8rem}h2{margin-top:2.5rem;border-bottom:2px solid #0072B2}
table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:right}
th[scope=row],td.text{text-align:left}thead th{background:#f0f4f8}
.badge{display:inline-block;padding:0 .5rem;border-radius:.75rem;font-weight:bold;
font-size:.85rem}
.good{background:#d4edda;color:#155724}.acceptable{background:#fff3cd;color:#6b4f00}
.poor{background:#f8d7da;color:#721c24}.n\\/a,.na{background:#e2e3e5;color:#383d41}
.withheld{color:#6b4f00;font-style:italic}.chart{margin:1rem 0}
.explain{color:#444;font-size:.9rem}
"""


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _ci(low: Any, high: Any, digits: int = 3) -> str:
    if low is None or high is None:
        return "–"
    return f"[{_fmt(low, digits)}, {_fmt(high, digits)}]"


def _badge(word: str) -> str:
    css = "na" if word == "n/a" else word
    return f'<span class="badge {escape(css)}">{escape(_WORDS.get(word, word))}</span>'


def _table(
    headers: list[str], rows: list[list[str]], caption: str, row_headers: bool = True
) -> str:
    """A table; cells in ``rows`` are already-escaped HTML, the first is a row header."""
    out = [f"<table><caption>{escape(caption)}</caption><thead><tr>"]
    out += [f'<th scope="col">{escape(h)}</th>' for h in headers]
    out.append("</tr></thead><tbody>")
    for row in rows:
        out.append("<tr>")
        for k, cell in enumerate(row):
            if k == 0 and row_headers:
                out.append(f'<th scope="row">{cell}</th>')
            else:
                out.append(f"<td>{cell}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _verdict_rows(verdicts: list[dict[str, Any]], digits: int = 3) -> list[list[str]]:
    return [
        [
            escape(v["metric"].upper()),
            escape(_fmt(v["value"], digits)),
            _badge(v["verdict"]),
            f'<span class="explain">{escape(v["explanation"])}</span>',
        ]
        for v in verdicts
    ]


def _skip(entry: Mapping[str, Any]) -> str | None:
    reason = entry.get("withheld") or entry.get("skipped")
    if reason:
        return f'<p class="withheld">Not shown: {escape(str(reason))}</p>'
    return None


def _render_html(r: dict[str, Any], charts: dict[str, str]) -> str:
    e = escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(r['title'])}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>{e(r['title'])}</h1>",
        f"<p>Instrument: {e(str(r['instrument']))}. Waves: {e(', '.join(r['waves']))}. "
        f"Reference wave (where the index is fixed): {e(r['parameters']['reference_wave'])}."
        "</p>",
        "<p class='explain'>This report checks whether the questionnaire measures what it "
        "should before any change is reported. Badges: "
        f"{_badge('good')} meets the usual standard, {_badge('acceptable')} usable with care, "
        f"{_badge('poor')} do not rely on it. Estimates based on fewer than "
        f"{r['parameters']['min_n']} responses are withheld, and counts below "
        f"{r['parameters']['min_cell']} are shown as &lt;{r['parameters']['min_cell']}, to "
        "protect respondents and to avoid over-reading noisy numbers.</p>",
    ]

    # Cleaning.
    c = r["cleaning"]
    out.append("<h2>1. Data and cleaning</h2>")
    out.append(
        f"<p>{e(_fmt(c['n_responses']))} responses, {e(_fmt(c['n_kept']))} kept after cleaning. "
        "Responses are flagged, never silently dropped; flagged responses are left out of "
        "everything below.</p>"
    )
    out.append(
        _table(
            ["Flag", "Responses", "Share"],
            [[e(row["flag"]), e(_fmt(row["n"])), e(_fmt(row["share"]))] for row in c["summary"]],
            "Cleaning flags",
        )
    )
    out.append(
        _table(
            ["Wave", "Responses", "Kept"],
            [[e(w["wave"]), e(_fmt(w["n"])), e(_fmt(w["n_kept"]))] for w in c["by_wave"]],
            "Responses per wave",
        )
    )
    out.append(
        _table(
            ["Parameter", "Value"],
            [
                [e(k), f'<span class="text">{e(json.dumps(v, ensure_ascii=False))}</span>']
                for k, v in c["parameters"].items()
                if k != "items"
            ],
            "Cleaning parameters",
        )
    )

    # Structure.
    s = r["structure"]
    out.append('<h2 id="structure">2. Structure of the answers (reference wave)</h2>')
    skipped = _skip(s)
    if skipped:
        out.append(skipped)
    else:
        pa = s["parallel_analysis"]
        out.append(
            f"<p>Bartlett's test: chi-square {e(_fmt(s['bartlett_chi2'], 1))} on "
            f"{e(_fmt(s['bartlett_df']))} df, p = {e(_fmt(s['bartlett_pvalue'], 4))} (a small p "
            "means the answers are correlated enough to analyse). Parallel analysis suggests "
            f"{e(_fmt(pa['n_factors']))} factor(s); the instrument has {e(_fmt(s['n_constructs']))}"
            f" constructs: {'they match' if s['factors_match'] else 'they differ, look closer'}."
            "</p>"
        )
        out.append(
            _table(
                ["Statistic", "Value", "Verdict", "What it means"],
                _verdict_rows(s["verdicts"]),
                "Sampling adequacy",
            )
        )
        out.append(f'<div class="chart">{charts.get("scree", "")}</div>')
        efa = s.get("efa", {})
        if efa.get("loadings"):
            k = efa["n_factors"]
            out.append(
                _table(
                    ["Item", *[f"Factor {j + 1}" for j in range(k)]],
                    [
                        [e(item), *[e(_fmt(v, 2)) for v in row]]
                        for item, row in efa["loadings"].items()
                    ],
                    f"Exploratory factor analysis ({efa['rotation']} rotation)",
                )
            )
        elif efa.get("skipped"):
            out.append(_skip(efa) or "")

    # CFA.
    f = r["cfa"]
    out.append('<h2 id="fit">3. Model fit (confirmatory factor analysis)</h2>')
    skipped = _skip(f)
    if skipped:
        out.append(skipped)
    else:
        out.append(
            f"<p>n = {e(_fmt(f['n']))}; chi-square {e(_fmt(f['chi2'], 2))} on {e(_fmt(f['df']))}"
            f" df (p = {e(_fmt(f['pvalue'], 4))}); RMSEA 90% CI "
            f"{e(_ci(*f['rmsea_ci']))}. With many responses the chi-square test rejects almost "
            "any model, so the fit indices below are what to judge.</p>"
        )
        out.append(
            _table(
                ["Index", "Value", "Verdict", "What it means"],
                _verdict_rows(f["verdicts"]),
                "Fit of the whole model",
            )
        )
        out.append(f'<div class="chart">{charts.get("loadings", "")}</div>')
        out.append(
            _table(
                ["Item", "Construct", "Standardized loading"],
                [
                    [e(x["item"]), e(x["construct"]), e(_fmt(x["loading"], 2))]
                    for x in f["loadings"]
                ],
                "Standardized loadings (0.40 or more is usually wanted)",
            )
        )
        names = list(f["factor_correlations"])
        out.append(
            _table(
                ["Construct", *names],
                [
                    [e(a), *[e(_fmt(f["factor_correlations"][a][b], 2)) for b in names]]
                    for a in names
                ],
                "Correlations between constructs",
            )
        )

    # Constructs.
    out.append('<h2 id="reliability">4. Constructs: items and reliability (reference wave)</h2>')
    for cid, entry in r["constructs"].items():
        out.append(f'<h3 id="construct-{e(cid)}">{e(entry["label"])} ({e(cid)})</h3>')
        skipped = _skip(entry)
        if skipped:
            out.append(skipped)
            continue
        rel = entry.get("reliability", {})
        if rel.get("skipped"):
            out.append(_skip(rel) or "")
        else:
            rows = _verdict_rows(rel["verdicts"])
            rows[0].insert(2, e(_ci(*rel["omega_ci"])))
            rows[1].insert(2, e(_ci(*rel["alpha_ci"])))
            out.append(
                _table(
                    ["Coefficient", "Value", "95% CI", "Verdict", "What it means"],
                    rows,
                    f"Reliability (bootstrap with {rel['n_boot']} resamples)",
                )
            )
        out.append(
            _table(
                ["Item", "Reverse-keyed", "Range", "n", "Missing", "Mean", "SD", "Item-rest r"],
                [
                    [
                        e(x["item"]),
                        e(_fmt(x["reverse"])),
                        e(f"{_fmt(x['scale'][0], 0)}-{_fmt(x['scale'][1], 0)}"),
                        e(_fmt(x["n"])),
                        e(_fmt(x["missing_share"], 2)),
                        e(_fmt(x["mean"], 2)),
                        e(_fmt(x["sd"], 2)),
                        e(_fmt(x["item_rest_r"], 2)),
                    ]
                    for x in entry["item_analysis"]
                ],
                "Item analysis (after reverse coding; item-rest r below 0.30 is weak)",
            )
        )
        dist: dict[str, list[str]] = {}
        for d in entry["distribution"]:
            value = "missing" if d["value"] is None else _fmt(d["value"], 0)
            share = "<10" if d["share"] is None else f"{100 * d['share']:.0f}%"
            if d["share"] is None and d["n"] != f"<{MIN_CELL}":
                share = "–"
            dist.setdefault(d["item"], []).append(f"{value}: {share}")
        out.append(
            _table(
                ["Item", "Answers (code: share of responses)"],
                [[e(k), f'<span class="text">{e("; ".join(v))}</span>'] for k, v in dist.items()],
                "Answer distributions (counts below 10 shown as <10)",
            )
        )

    # Invariance.
    out.append('<h2 id="invariance">5. Measurement invariance</h2>')
    out.append(
        "<p class='explain'>Invariance asks whether the questions mean the same across waves "
        "or languages. Configural: same structure; metric: same loadings; scalar: same "
        "loadings and intercepts, needed to compare index means. A level holds when CFI "
        "drops by at most 0.010 and RMSEA rises by at most 0.015 (Chen 2007).</p>"
    )
    for name, entry in r["invariance"].items():
        out.append(f'<h3 id="invariance-{e(name)}">Across {e(name)}s</h3>')
        if entry.get("groups"):
            groups = ", ".join(f"{g['group']} (n = {g['n']})" for g in entry["groups"])
            out.append(f"<p>Groups: {e(groups)}.</p>")
        for text in entry.get("left_out", []):
            out.append(f'<p class="withheld">Left out: {e(text)}.</p>')
        skipped = _skip(entry)
        if skipped:
            out.append(skipped)
            continue
        out.append(
            f"<p>{_badge(entry['verdict']['verdict'])} {e(entry['verdict']['explanation'])}</p>"
        )
        out.append(
            _table(
                ["Level", "Chi-square", "df", "CFI", "RMSEA", "ΔCFI", "ΔRMSEA", "Holds"],
                [
                    [
                        e(x["level"]),
                        e(_fmt(x["chi2"], 2)),
                        e(_fmt(x["df"])),
                        e(_fmt(x["cfi"])),
                        e(_fmt(x["rmsea"])),
                        e(_fmt(x["delta_cfi"])),
                        e(_fmt(x["delta_rmsea"])),
                        e(_fmt(x["holds"])),
                    ]
                    for x in entry["levels"]
                ],
                f"Invariance across {name}s",
            )
        )

    # Scoring model.
    out.append("<h2>6. Frozen scoring model</h2>")
    sm = r["scoring_model"]
    if not sm:
        out.append('<p class="withheld">No scoring model could be frozen.</p>')
    else:
        provisional = r.get("scoring_model_provisional")
        fixed = "Fitted so far" if provisional else "Frozen"
        if r.get("scoring_model_status") == "refitted":
            fixed = "Fitted for this report (see the notes)"
        out.append(
            f"<p>{fixed} at wave {e(str(sm['reference']['label']))} (n = "
            f"{e(str(_count(sm['reference']['n'])))}) and used unchanged for every "
            "wave, so that changes are measured on one ruler. Indices run from 0 (lowest "
            "possible answers) to 100 (highest), after reverse coding; a construct is scored "
            "when at least two thirds of its items are answered. Version "
            f"{e(str(sm['version']))}, hash <code>{e(sm['hash'])}</code>.</p>"
        )
        if provisional:
            out.append(f'<p class="withheld"><strong>Provisional.</strong> {e(provisional)}</p>')

    # Indices.
    out.append('<h2 id="indices">7. Indices and change by wave</h2>')
    out.append(
        "<p class='explain'>Means are weighted when weights are given, with 95% confidence "
        "intervals (the range that contains the true value in 95 of 100 surveys). "
        "Difference-in-differences (DiD) is the change in the treated areas minus the change "
        "in the comparison areas; its interval allows for areas differing among themselves. "
        "An interval that excludes 0 indicates a change beyond chance. Effect size: the "
        "change in standard deviations (0.2 small, 0.5 medium, 0.8 large). Intervals of means "
        "and of changes within one group of areas treat responses as independent.</p>"
    )
    for note in r["notes"]:
        out.append(f"<p class='explain'>{e(note)}</p>")
    indices = r["indices"]
    skipped = _skip(indices)
    if skipped:
        out.append(skipped)
    else:
        for cid, entry in indices.items():
            out.append(f'<h3 id="index-{e(cid)}">{e(entry["label"])}</h3>')
            out.append(f'<div class="chart">{charts.get(f"trend:{cid}", "")}</div>')
            out.append(
                _table(
                    ["Areas", "Wave", "n", "Mean (0-100)", "95% CI", "Note"],
                    [
                        [
                            e(m["arm"]),
                            e(m["wave"]),
                            e(_fmt(m["n"])),
                            e(_fmt(m["mean"], 1)),
                            e(_ci(m["ci_lower"], m["ci_upper"], 1)),
                            f'<span class="withheld">{e(m["withheld"])}</span>'
                            if m["withheld"]
                            else "",
                        ]
                        for m in entry["means"]
                    ],
                    f"{entry['label']}: index means",
                )
            )
            if entry["changes"]:
                out.append(
                    _table(
                        ["Areas", "From", "To", "Change", "95% CI", "Effect size", "Note"],
                        [
                            [
                                e(x["arm"]),
                                e(x["before"]),
                                e(x["after"]),
                                e(_fmt(x["change"], 1)),
                                e(_ci(x["ci_lower"], x["ci_upper"], 1)),
                                e(_fmt(x["effect_size"], 2)),
                                f'<span class="withheld">{e(x["withheld"])}</span>'
                                if x["withheld"]
                                else "",
                            ]
                            for x in entry["changes"]
                        ],
                        f"{entry['label']}: change between consecutive waves",
                    )
                )
            rows = []
            for d in entry["did"]:
                if d.get("skipped"):
                    out.append(_skip(d) or "")
                    continue
                rows.append(
                    [
                        e(f"{d['before']} → {d['after']}"),
                        e(_fmt(d["did"], 1)),
                        e(_ci(d["ci_lower"], d["ci_upper"], 1)),
                        e(_fmt(d["effect_size"], 2)),
                        e(f"{d['n_areas_treated']} / {d['n_areas_comparison']}"),
                        f'<span class="withheld">{e(d["withheld"])}</span>'
                        if d["withheld"]
                        else "",
                    ]
                )
            if rows:
                out.append(
                    _table(
                        [
                            "Waves",
                            "DiD",
                            "95% CI",
                            "Effect size",
                            "Areas (treated / comp.)",
                            "Note",
                        ],
                        rows,
                        f"{entry['label']}: difference-in-differences, treated vs comparison",
                    )
                )
    if r["weights"]:
        out.append(
            _table(
                ["Wave", "Design effect", "Effective n"],
                [
                    [e(w["wave"]), e(_fmt(w["design_effect"], 2)), e(_fmt(w["n_effective"], 0))]
                    for w in r["weights"]
                ],
                "Weighting: design effect per wave",
            )
        )
    out.append("<h2>8. References</h2><ul>")
    for ref in (
        "Hu, L., & Bentler, P. M. (1999). Cutoff criteria for fit indexes in covariance "
        "structure analysis. Structural Equation Modeling, 6(1), 1-55.",
        "Chen, F. F. (2007). Sensitivity of goodness of fit indexes to lack of measurement "
        "invariance. Structural Equation Modeling, 14(3), 464-504.",
        "Horn, J. L. (1965). A rationale and test for the number of factors in factor "
        "analysis. Psychometrika, 30, 179-185.",
        "Cameron, A. C., & Miller, D. L. (2015). A practitioner's guide to cluster-robust "
        "inference. Journal of Human Resources, 50(2), 317-372.",
    ):
        out.append(f"<li>{e(ref)}</li>")
    out.append("</ul></main></body></html>")
    return "\n".join(out)
