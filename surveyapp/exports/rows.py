"""The rows of a dataset, built a chunk of responses at a time.

Rows are read in chunks of responses (keyset pagination by response id; the answers of a
chunk pivoted by the database, one aggregate per question), so a download of a million
responses holds one chunk plus a few numbers per response in memory. Flags that compare
responses with each other are made identical to :func:`analysis.clean` on the whole
initiative, as the validation report applies it: the speeder rule uses the median duration of
the initiative's complete responses (one query), duplicates are found with the hashes of the
rows seen so far per wave and area, and weights are raked per wave and area from counts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased

from analysis.cleaning import (
    CLEANING_FLAGS,
    DUPLICATE_MIN_ANSWERED,
    MIN_ANSWERED_FRACTION,
    SPEEDER_FRACTION,
    STRAIGHTLINE_MIN_ITEMS,
    clean,
)
from analysis.scoring import score
from surveyapp import designs
from surveyapp.exports.dataset import DatasetPlan, Variable
from surveyapp.exports.parts import InitiativePart
from surveyapp.models import (
    COMPLETION_BURST,
    REPEAT_IN_SAME_BROWSER,
    Answer,
    Area,
    Response,
    ResponseStatus,
    Wave,
)
from surveyapp.reports import add_area_weights

#: Rows fetched and processed at a time.
CHUNK_SIZE = 5000


def iter_chunks(
    session: Session, plan: DatasetPlan, *, chunk_size: int = CHUNK_SIZE
) -> Iterator[pd.DataFrame]:
    """The dataset's rows, a chunk of responses at a time, with exactly ``plan.columns``."""
    for part in plan.parts:
        yield from _part_chunks(session, plan, part, chunk_size)


BASE_COLUMNS = [
    "response_id",
    "wave_id",
    "area_id",
    "area_source",
    "area_reply",
    "language",
    "channel",
    "panel_id",
    "submitted_on",
    "duration_seconds",
    "quality_flags",
]


def _part_chunks(
    session: Session, plan: DatasetPlan, part: InitiativePart, chunk_size: int
) -> Iterator[pd.DataFrame]:
    wave_ids = part.wave_ids
    wave_names = part.wave_names
    median = _median_duration(session, part)
    weights = _weights(session, part, wave_ids)
    paired = panel_pair_ids(session, wave_ids)
    seen = SeenRows()
    items = part.model.items
    checks = dict(part.attention_checks)
    item_variables = [v for v in plan.variables if v.kind in ("item", "free_text")]
    scoring_hash = part.scoring["hash"][:12] if part.scoring else ""
    # Core statements on the session's connection: the ORM's row handling would cost more
    # than the queries.
    connection = session.connection()
    in_scope = (
        Response.wave_id.in_(wave_ids),
        Response.status == ResponseStatus.COMPLETE,
        designs.round_rows(part.round_ids, list(part.roles)),
        *part.left_out(),
    )
    last_id = 0
    while True:
        rows = connection.execute(
            select(
                Response.id,
                Response.wave_id,
                Response.area_id,
                Response.area_source,
                Response.area_reply,
                Response.language,
                Response.channel,
                Response.panel_id,
                Response.submitted_on,
                Response.duration_seconds,
                Response.quality_flags,
            )
            .where(*in_scope, Response.id > last_id)
            .order_by(Response.id)
            .limit(chunk_size)
        ).all()
        if not rows:
            return
        first_id, last_id = rows[0][0], rows[-1][0]
        base = pd.DataFrame(_columns(rows, BASE_COLUMNS), columns=BASE_COLUMNS)
        base["panel_pair"] = base["panel_id"].isin(paired).astype(int)
        values = _item_values(connection, base["response_id"], item_variables, first_id, last_id)
        yield _chunk(
            plan, part, base, values, wave_names, median, weights, seen, items, checks, scoring_hash
        )


def panel_pair_ids(session: Session, wave_ids: list[int]) -> set[str]:
    """Panel ids with sent answers in two or more of ``wave_ids``: the linked households."""
    query = (
        select(Response.panel_id)
        .where(
            Response.wave_id.in_(wave_ids),
            Response.status == ResponseStatus.COMPLETE,
            Response.panel_id.is_not(None),
        )
        .group_by(Response.panel_id)
        .having(func.count(func.distinct(Response.wave_id)) >= 2)
    )
    return set(session.scalars(query))


def _columns(rows: list[Any], names: list[str]) -> dict[str, Any]:
    """Rows as a dict of columns (pandas inspects every row object it is given)."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    return dict(zip(names, columns, strict=True))


def _item_values(
    connection: Any,
    response_ids: pd.Series,
    variables: list[Variable],
    first_id: int,
    last_id: int,
) -> pd.DataFrame:
    """Item columns of a chunk, one row per response id, in the variables' order.

    The answers are pivoted by the database (one aggregate per question), so a chunk of
    5,000 responses is 5,000 rows, not one row per answer.
    """
    index = pd.Index(response_ids, name="response_id")
    single = [v for v in variables if v.kind == "item" and v.name == v.item_id]
    texts = [v for v in variables if v.kind == "free_text"]
    multiple = sorted({v.item_id for v in variables if v.kind == "item" and v.name != v.item_id})
    number = func.coalesce(Answer.value_code, Answer.value_number)
    aggregates = [func.max(case((Answer.item_id == v.item_id, number))) for v in single]
    aggregates += [func.max(case((Answer.item_id == v.item_id, Answer.value_text))) for v in texts]
    names = ["response_id"] + [v.name for v in single] + [v.name for v in texts]
    columns: dict[str, Any] = {}
    if aggregates:
        rows = connection.execute(
            select(Answer.response_id, *aggregates)
            # A range scan of the answers' primary key; answers of responses outside the
            # chunk (other waves, drafts) fall away in the reindex below.
            .where(Answer.response_id.between(first_id, last_id))
            .group_by(Answer.response_id)
        ).all()
        pivot = pd.DataFrame(_columns(rows, names), columns=names).set_index("response_id")
        pivot = pivot.reindex(index)
        for v in single:
            columns[v.name] = pd.to_numeric(pivot[v.name]).to_numpy(dtype=float)
        for v in texts:
            columns[v.name] = pivot[v.name].astype(object).where(pivot[v.name].notna(), None)
            columns[v.name] = columns[v.name].to_numpy()
    if multiple:
        rows = connection.execute(
            select(Answer.response_id, Answer.item_id, Answer.value_code, Answer.value_codes).where(
                Answer.response_id.between(first_id, last_id), Answer.item_id.in_(multiple)
            )
        ).all()
        long = pd.DataFrame(
            _columns(rows, ["response_id", "item_id", "code", "codes"]),
            columns=["response_id", "item_id", "code", "codes"],
        )
        for v in variables:
            if v.kind != "item" or v.name == v.item_id:
                continue
            option = int(v.name.rsplit("_", 1)[-1])
            answered = long.loc[
                (long["item_id"] == v.item_id) & long["response_id"].isin(index)
            ].set_index("response_id")
            chosen = answered["codes"].map(
                lambda codes, option=option: float(option in codes) if codes is not None else np.nan
            )
            column = chosen.where(answered["code"].isna(), answered["code"].astype("float64"))
            columns[v.name] = column.reindex(index).to_numpy(dtype=float)
    ordered = {v.name: columns[v.name] for v in variables}
    return pd.DataFrame(ordered, index=index)


def _chunk(
    plan: DatasetPlan,
    part: InitiativePart,
    base: pd.DataFrame,
    values: pd.DataFrame,
    wave_names: dict[int, str],
    median: float | None,
    weights: dict[tuple[int, int | None, int | None, int | None], float],
    seen: SeenRows,
    items: list[str],
    checks: dict[str, int],
    scoring_hash: str,
) -> pd.DataFrame:
    out = _meta_columns(part, base, wave_names)
    for column in values.columns:
        out[column] = values[column].to_numpy()

    # The questions of the initiative's model and frozen scoring model, empty where the
    # response's questionnaire version did not ask them.
    frame = values.reset_index(drop=True)
    scored_items = list(part.scoring["items"]) if part.scoring is not None else []
    for item in dict.fromkeys([*items, *scored_items]):
        if item not in frame.columns:
            frame[item] = np.nan

    # Index scores with the initiative's frozen model (every row; analysts choose whom to drop).
    for variable in plan.variables:
        if variable.kind == "index":
            out[variable.name] = np.nan
    if part.scoring is not None:
        scores = score(frame, part.scoring, verify=False)
        for cid in scores.columns:
            if f"idx_{cid}" in out.columns:
                out[f"idx_{cid}"] = scores[cid].to_numpy()
    out["scoring_model"] = scoring_hash

    flags = _flags(part, base, out, frame, median, seen, items, checks)
    for flag in [*CLEANING_FLAGS, "exclude"]:
        out[f"flag_{flag}"] = flags[flag].to_numpy().astype("int8")
    bands = (
        frame["age_band"] if "age_band" in frame.columns else pd.Series(np.nan, index=frame.index)
    )
    sexes = frame["gender"] if "gender" in frame.columns else pd.Series(np.nan, index=frame.index)
    out["weight"] = [
        weights.get((int(w), _code(a), _code(b), _code(g)), 1.0)
        for w, a, b, g in zip(base["wave_id"], base["area_id"], bands, sexes, strict=True)
    ]
    return out[plan.columns]


def _meta_columns(
    part: InitiativePart, base: pd.DataFrame, wave_names: dict[int, str]
) -> pd.DataFrame:
    """The chunk's columns that say who asked and how the resident answered."""
    out = pd.DataFrame(index=range(len(base)))
    out["response_id"] = base["response_id"].to_numpy()
    out["city"] = part.city_slug
    out["initiative_id"] = part.initiative_id
    out["initiative"] = part.initiative_name
    out["pyramid_level"] = part.pyramid_level
    out["wave_id"] = base["wave_id"].to_numpy()
    out["wave"] = base["wave_id"].map(wave_names).to_numpy()
    out["wave_order"] = base["wave_id"].map(part.wave_numbers).to_numpy()
    # As objects: a chunk without any known area (or a part without groups) maps to NaN.
    out["area"] = base["area_id"].map(part.area_codes).astype(object).fillna("").to_numpy()
    out["group"] = base["area_id"].map(part.roles).astype(object).fillna("").to_numpy()
    out["area_source"] = base["area_source"].fillna("").to_numpy()
    out["area_reply"] = base["area_reply"].fillna("").to_numpy()
    out["language"] = base["language"].to_numpy()
    out["channel"] = base["channel"].to_numpy()
    out["panel_id"] = base["panel_id"].fillna("").to_numpy()
    out["panel_pair"] = base["panel_pair"].to_numpy()
    submitted = pd.to_datetime(base["submitted_on"])
    out["submitted_date"] = submitted.dt.strftime("%Y-%m-%d").fillna("").to_numpy()
    out["duration_seconds"] = pd.to_numeric(base["duration_seconds"]).astype(float).to_numpy()
    return out


def _flags(
    part: InitiativePart,
    base: pd.DataFrame,
    out: pd.DataFrame,
    frame: pd.DataFrame,
    median: float | None,
    seen: SeenRows,
    items: list[str],
    checks: dict[str, int],
) -> pd.DataFrame:
    """The chunk's quality flags, as :func:`analysis.clean` sets them on the whole initiative.

    The per-response rules of ``clean`` run on the chunk; the rules that compare responses
    use the initiative's median and the hashes of earlier rows.
    """
    cleaning = clean(
        frame,
        items,
        min_answered_fraction=MIN_ANSWERED_FRACTION,
        mixed_keyed_blocks=part.blocks,
        straightline_min_items=STRAIGHTLINE_MIN_ITEMS,
    )
    flags = cleaning.flags
    # An attention check fails only where the response's wave asked it.
    failed = np.zeros(len(base), dtype=bool)
    for check, expected in checks.items():
        asked = out["wave_id"].isin(part.asked_by.get(check, set())).to_numpy()
        given = frame[check].to_numpy(dtype=float) if check in frame.columns else np.nan
        failed |= asked & (given != expected)
    flags["failed_attention"] = failed
    if median is not None:
        flags["speeder"] = (out["duration_seconds"] < SPEEDER_FRACTION * median).to_numpy()
    item_values = frame[items].to_numpy(dtype=float)
    answered = np.isfinite(item_values) & (item_values >= 0)
    pattern = pd.DataFrame(np.where(answered, item_values, np.nan), columns=items)
    pattern["_wave"] = out["wave_id"]
    pattern["_area"] = out["area"]
    repeat = seen.repeats(pd.util.hash_pandas_object(pattern, index=False).to_numpy())
    duplicate = repeat & (answered.sum(axis=1) >= DUPLICATE_MIN_ANSWERED)
    duplicate |= (
        base["quality_flags"].map(lambda f: REPEAT_IN_SAME_BROWSER in (f or [])).to_numpy(bool)
    )
    flags["duplicate"] = duplicate
    flags["burst"] = (
        base["quality_flags"].map(lambda f: COMPLETION_BURST in (f or [])).to_numpy(bool)
    )
    flags["exclude"] = flags[CLEANING_FLAGS].any(axis=1)
    return flags


def _median_duration(session: Session, part: InitiativePart) -> float | None:
    """Median completion time (seconds) of the initiative's complete responses (its rows of
    city-wide rounds included).

    PostgreSQL computes it (``percentile_cont``, the same interpolated median as NumPy's);
    elsewhere the durations are read in partitions, as floats.
    """
    scope = (
        Response.wave_id.in_(list(part.wave_numbers)),
        designs.round_rows(part.round_ids, list(part.roles)),
        Response.status == ResponseStatus.COMPLETE,
    )
    done = Response.duration_seconds.is_not(None)
    seconds = Response.duration_seconds
    if session.get_bind().dialect.name == "postgresql":
        median = session.scalar(
            select(func.percentile_cont(0.5).within_group(seconds))
            .select_from(Response)
            .join(Wave, Response.wave_id == Wave.id)
            .where(*scope, done)
        )
        return None if median is None else float(median)
    result = session.connection().execute(
        select(seconds)
        .join(Wave, Response.wave_id == Wave.id)
        .where(*scope, done)
        .execution_options(yield_per=50_000)
    )
    parts = [np.array([row[0] for row in rows], dtype=float) for rows in result.partitions()]
    values = np.concatenate(parts) if parts else np.array([])
    return float(np.median(values)) if len(values) else None


def _code(value: Any) -> int | None:
    return None if value is None or value != value else int(value)


def _weights(
    session: Session, part: InitiativePart, wave_ids: list[int]
) -> dict[tuple[int, int | None, int | None, int | None], float]:
    """Population weight by (wave, area id, age band code, gender code), as the report
    weighs (:func:`surveyapp.reports.add_area_weights`).

    A post-stratification weight depends only on the respondent's wave, area and cell, so
    the weights come from counts per category (one grouped query). They are computed over
    every complete response: the report computes them over those kept after cleaning, so
    an analyst who drops flagged rows may rescale them within each area and wave.
    """
    age = aliased(Answer)
    gender = aliased(Answer)
    rows = session.execute(
        select(Response.wave_id, Response.area_id, age.value_code, gender.value_code, func.count())
        .outerjoin(age, (age.response_id == Response.id) & (age.item_id == "age_band"))
        .outerjoin(gender, (gender.response_id == Response.id) & (gender.item_id == "gender"))
        .where(Response.wave_id.in_(wave_ids), Response.status == ResponseStatus.COMPLETE)
        .group_by(Response.wave_id, Response.area_id, age.value_code, gender.value_code)
    ).all()
    counts = pd.DataFrame(
        [tuple(row) for row in rows], columns=["wave", "area_id", "age_band", "gender", "n"]
    )
    if counts.empty:
        return {}
    n = counts["n"].to_numpy()
    people = pd.DataFrame(
        {
            "wave": np.repeat(counts["wave"].to_numpy(), n),
            "area_id": np.repeat(counts["area_id"].to_numpy(dtype=float), n),
            "age_band": np.repeat(counts["age_band"].to_numpy(dtype=float), n),
            "gender": np.repeat(counts["gender"].to_numpy(dtype=float), n),
        }
    )
    people["area"] = people["area_id"].map(lambda a: part.area_codes.get(_code(a)))
    weighted, _notes = add_area_weights(session, people, city_id=part.city_id)
    keys = ["wave", "area_id", "age_band", "gender"]
    first = weighted.groupby(keys, dropna=False)["weight"].first()
    return {
        (int(wave), _code(area_id), _code(band), _code(sex)): float(weight)
        for (wave, area_id, band, sex), weight in first.items()
    }


class SeenRows:
    """Hashes of the rows seen so far, as a sorted array (8 bytes a row, not a Python set)."""

    def __init__(self) -> None:
        self.hashes = np.array([], dtype=np.uint64)

    def repeats(self, hashes: np.ndarray) -> np.ndarray:
        """True for each hash already seen, in earlier chunks or earlier in this one."""
        hashes = np.asarray(hashes, dtype=np.uint64)
        position = np.searchsorted(self.hashes, hashes)
        inside = position < len(self.hashes)
        earlier = np.zeros(len(hashes), dtype=bool)
        earlier[inside] = self.hashes[position[inside]] == hashes[inside]
        earlier |= pd.Series(hashes).duplicated(keep="first").to_numpy()
        # Two sorted runs: the stable sort (timsort) merges them in linear time.
        merged = np.sort(np.concatenate([self.hashes, np.sort(hashes)]), kind="stable")
        fresh = np.ones(len(merged), dtype=bool)
        fresh[1:] = merged[1:] != merged[:-1]
        self.hashes = merged[fresh]
        return earlier


def weighting_notes(session: Session, plan: DatasetPlan) -> list[str]:
    """What the weighting could not do, per wave and area (for the codebook)."""
    notes: list[str] = []
    for part in plan.parts:
        for wave in part.waves:
            rows = session.execute(
                select(Response.area_id)
                .where(Response.wave_id == wave.id, Response.status == ResponseStatus.COMPLETE)
                .where(designs.round_rows(part.round_ids, list(part.roles)))
                .distinct()
            ).all()
            for (area_id,) in rows:
                code = part.area_codes.get(area_id)
                has = session.execute(
                    select(Area.id).where(Area.id == area_id, Area.margins.any())
                ).first()
                if code and not has:
                    notes.append(f"{wave.name}, {code}: no population margins, unweighted.")
    return notes
