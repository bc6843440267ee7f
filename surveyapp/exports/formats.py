"""Dataset files: CSV (streamed), Parquet, SPSS ``.sav`` and Stata ``.dta``, wide or long.

CSV and Parquet are written chunk by chunk, so their memory does not grow with the number of
responses; ``.sav`` and ``.dta`` need the whole table at once (ReadStat writes a file from one
data frame). Text cells that a spreadsheet would run as a formula are neutralised in CSV.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from surveyapp.exports.dataset import DatasetPlan, Variable
from surveyapp.spreadsheet import safe_cell

FORMATS = ("csv", "parquet", "sav", "dta")
SHAPES = ("wide", "long")
#: Formats that have a long shape (one row per response and variable): all of them.
LONG_FORMATS = FORMATS
#: Stata's extended missing values for the missing-value codes: -1 is .a, -2 is .b, -3 is .c.
STATA_MISSING = {-1: "a", -2: "b", -3: "c", -4: "d", -5: "e"}
#: Single-choice questions outside any scale whose answers are still ordered.
ORDINAL_ITEMS = ("age_band", "years_in_neighbourhood")

# Stata limits variable labels to 80 characters and value labels to 32,000 characters.
STATA_LABEL_LENGTH = 80


def _typed(chunk: pd.DataFrame, variables: list[Variable]) -> pd.DataFrame:
    """Integers as nullable integers, so that codes are written as 3, not 3.0."""
    out = chunk.copy()
    for variable in variables:
        if variable.type == "integer":
            out[variable.name] = pd.array(out[variable.name].to_numpy(dtype=float)).astype("Int64")
    return out


def long_chunk(chunk: pd.DataFrame, plan: DatasetPlan) -> pd.DataFrame:
    """One row per response and item or index variable that has a value.

    Each row repeats the response's ids, weight, quality flags and scoring-model hash, so
    that the long file can be weighted and filtered on its own.
    """
    value_columns = [v.name for v in plan.variables if v.kind in ("item", "index")]
    ids = plan.long_id_columns
    frame = _typed(chunk[ids + value_columns], [v for v in plan.variables if v.name in ids])
    long = frame.melt(id_vars=ids, value_vars=value_columns, var_name="variable")
    long = long[long["value"].notna()]
    return long.sort_values(["response_id", "variable"], kind="stable")


# --- CSV --------------------------------------------------------------------------------------


def csv_rows(chunks: Iterable[pd.DataFrame], plan: DatasetPlan, shape: str) -> Iterator[bytes]:
    """The CSV file, header first (sent before any row is read), then one piece per chunk."""
    header = [*plan.long_id_columns, "variable", "value"] if shape == "long" else plan.columns
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(header)
    yield buffer.getvalue().encode("utf-8")
    text_columns = [v.name for v in plan.variables if v.type == "string"]
    for chunk in chunks:
        frame = long_chunk(chunk, plan) if shape == "long" else _typed(chunk, plan.variables)
        for column in text_columns:
            if column in frame.columns:
                frame[column] = frame[column].map(safe_cell, na_action="ignore")
        if shape == "long":
            frame["variable"] = frame["variable"].astype(str)
        data = frame.to_csv(header=False, index=False, lineterminator="\n")
        yield data.encode("utf-8")


# --- Parquet ------------------------------------------------------------------------------------


def _arrow_schema(plan: DatasetPlan, shape: str) -> Any:
    import pyarrow as pa

    types = {"integer": pa.int64(), "number": pa.float64(), "string": pa.string()}
    types["date"] = pa.date32()
    by_name = {v.name: v for v in plan.variables}
    if shape == "long":
        fields = [
            pa.field(name, types[by_name[name].type], metadata={"label": by_name[name].label})
            for name in plan.long_id_columns
        ]
        fields += [pa.field("variable", pa.string()), pa.field("value", pa.float64())]
    else:
        fields = [
            pa.field(
                v.name,
                types[v.type],
                metadata={
                    "label": v.label,
                    "value_labels": json.dumps({str(k): x for k, x in v.value_labels.items()}),
                    "missing_codes": json.dumps(list(v.missing_codes)),
                },
            )
            for v in plan.variables
        ]
    labels = {v.name: v.label for v in plan.variables}
    return pa.schema(fields, metadata={"surveyapp:labels": json.dumps(labels)})


def write_parquet(
    chunks: Iterable[pd.DataFrame], plan: DatasetPlan, shape: str, path: Path
) -> None:
    """Parquet with field labels and value labels in the schema metadata, a chunk at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _arrow_schema(plan, shape)
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for chunk in chunks:
            frame = long_chunk(chunk, plan) if shape == "long" else _typed(chunk, plan.variables)
            if "submitted_date" in frame.columns:
                frame["submitted_date"] = pd.to_datetime(
                    frame["submitted_date"], errors="coerce"
                ).dt.date
            table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
            writer.write_table(table)


# --- SPSS and Stata -----------------------------------------------------------------------------


def _long_variables(plan: DatasetPlan) -> list[Variable]:
    """The variables of the long shape: the repeated columns, then variable and value."""
    by_name = {v.name: v for v in plan.variables}
    return [
        *(by_name[name] for name in plan.long_id_columns),
        Variable("variable", "Variable name (see the codebook)", "meta", "string"),
        Variable("value", "Value (code or index score)", "meta", "number"),
    ]


def _whole(
    chunks: Iterable[pd.DataFrame], plan: DatasetPlan, shape: str = "wide"
) -> tuple[pd.DataFrame, list[Variable]]:
    """The whole table (SPSS and Stata files are written at once) and its variables."""
    variables = _long_variables(plan) if shape == "long" else plan.variables
    parts = [long_chunk(chunk, plan) if shape == "long" else chunk for chunk in chunks]
    columns = [v.name for v in variables]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    for variable in variables:
        if variable.type in ("integer", "number"):
            frame[variable.name] = pd.to_numeric(frame[variable.name]).astype(float)
        elif variable.type == "string":
            frame[variable.name] = frame[variable.name].fillna("").astype(object)
    if "submitted_date" in frame.columns:
        frame["submitted_date"] = [
            date.fromisoformat(value) if value else None for value in frame["submitted_date"]
        ]
    return frame[columns], variables


def spss_measure(variable: Variable) -> str:
    """SPSS measurement level: ordinal for answers on a scale, nominal for categories."""
    if variable.type == "string" or variable.kind == "flag":
        return "nominal"
    if variable.kind == "item" and variable.type == "integer":
        if variable.item_id != variable.name:  # an option of a multiple-choice question
            return "nominal"
        ordered = variable.construct is not None or variable.name in ORDINAL_ITEMS
        return "ordinal" if ordered else "nominal"
    if variable.value_labels and variable.type == "integer":
        return "nominal"
    return "scale"


def write_sav(
    chunks: Iterable[pd.DataFrame], plan: DatasetPlan, path: Path, shape: str = "wide"
) -> None:
    """SPSS file with variable labels, value labels, measurement levels and user-missing codes."""
    import pyreadstat

    frame, variables = _whole(chunks, plan, shape)
    pyreadstat.write_sav(
        frame,
        str(path),
        file_label=plan.title[:64],
        column_labels={v.name: v.label[:256] for v in variables},
        variable_value_labels={
            v.name: {float(k): x for k, x in v.value_labels.items()}
            for v in variables
            if v.value_labels and v.type != "string"
        },
        missing_ranges={
            v.name: [float(code) for code in v.missing_codes] for v in variables if v.missing_codes
        },
        variable_measure={v.name: spss_measure(v) for v in variables},
    )


def stata_missing(frame: pd.DataFrame, variables: list[Variable]) -> pd.DataFrame:
    """Missing-value codes as Stata's extended missing values (.a, .b, ...), as text codes."""
    out = frame.copy()
    for variable in variables:
        if not variable.missing_codes or variable.name not in out.columns:
            continue
        column = out[variable.name].astype(object)
        for code in variable.missing_codes:
            column = column.where(out[variable.name] != code, STATA_MISSING[code])
        out[variable.name] = column
    return out


def write_dta(
    chunks: Iterable[pd.DataFrame], plan: DatasetPlan, path: Path, shape: str = "wide"
) -> None:
    """Stata 15 file: labels (at most 80 characters), missing codes as .a, .b, .c (labelled)."""
    import pyreadstat

    frame, variables = _whole(chunks, plan, shape)
    labels = {}
    for v in variables:
        if v.value_labels and v.type != "string":
            labels[v.name] = {
                STATA_MISSING[k] if k in v.missing_codes else int(k): x
                for k, x in v.value_labels.items()
            }
    pyreadstat.write_dta(
        stata_missing(frame, variables),
        str(path),
        file_label=plan.title[:80],
        column_labels={v.name: _short(v.label) for v in variables},
        variable_value_labels=labels,
        missing_user_values={
            v.name: [STATA_MISSING[code] for code in v.missing_codes]
            for v in variables
            if v.missing_codes
        },
        version=15,
    )


def _short(label: str) -> str:
    return label if len(label) <= STATA_LABEL_LENGTH else label[: STATA_LABEL_LENGTH - 1] + "…"


def write_file(
    fmt: str, chunks: Iterable[pd.DataFrame], plan: DatasetPlan, shape: str, path: Path
) -> None:
    """Write the dataset to ``path`` in ``fmt`` (see :data:`FORMATS`)."""
    if fmt == "csv":
        with path.open("wb") as out:
            for piece in csv_rows(chunks, plan, shape):
                out.write(piece)
    elif fmt == "parquet":
        write_parquet(chunks, plan, shape, path)
    elif fmt == "sav":
        write_sav(chunks, plan, path, shape)
    elif fmt == "dta":
        write_dta(chunks, plan, path, shape)
    else:
        raise ValueError(f"Unknown format {fmt!r}; expected one of {FORMATS}.")


def file_pieces(path: Path, size: int = 1 << 16) -> Iterator[bytes]:
    """A file's bytes in pieces, deleting the file afterwards."""
    try:
        with path.open("rb") as data:
            while piece := data.read(size):
                yield piece
    finally:
        path.unlink(missing_ok=True)


def temporary_path(suffix: str) -> Path:
    """A new empty file for a download being written (removed by :func:`file_pieces`)."""
    with tempfile.NamedTemporaryFile(prefix="surveyapp-", suffix=suffix, delete=False) as handle:
        return Path(handle.name)


# --- ZIP bundle ----------------------------------------------------------------------------------


class _Pipe(io.RawIOBase):
    """A write-only, unseekable stream whose written bytes are collected for sending."""

    def __init__(self) -> None:
        self.pending = bytearray()
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.pending += data
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def take(self) -> bytes:
        out = bytes(self.pending)
        self.pending.clear()
        return out


def zip_stream(members: Iterable[tuple[str, Iterable[bytes]]]) -> Iterator[bytes]:
    """A ZIP archive of (name, byte pieces) members, sent as it is written."""
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, pieces in members:
            with archive.open(name, "w", force_zip64=True) as member:
                for piece in pieces:
                    member.write(piece)
                    if len(pipe.pending) >= 1 << 16:
                        yield pipe.take()
            yield pipe.take()
    yield pipe.take()


def aggregates_csv(table: pd.DataFrame) -> bytes:
    """The aggregate table as CSV (suppressed cells empty)."""
    frame = table.copy()
    for column in ("wave", "group", "area"):
        frame[column] = frame[column].map(safe_cell, na_action="ignore")
    return frame.to_csv(index=False, lineterminator="\n", float_format="%.4f").encode("utf-8")
