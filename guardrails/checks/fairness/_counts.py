"""Per-segment confusion counts: the only pass over the rows, one polars ``group_by``.

Each row's decision (``prediction >= threshold``, or the boolean prediction itself) and label give it one of four
cells, coded ``2 * label + decision``: 0 true negative, 1 false positive, 2 false negative, 3 true positive. One
``group_by`` over every segment column and that code counts the joint cells; each segment column's counts are
then sums over that small table. Every metric and every bootstrap resample works from these counts, never from
rows again. Without a label every row counts as a negative (only the selection rate is asked for then).

A row whose prediction or label is null (or a NaN score) has no cell: it is counted in `unscored` and left out.
A null segment value is a segment of its own (``None``), never dropped or merged.

Example:
    >>> import polars as pl
    >>> frame = pl.DataFrame({"p": [0.9, 0.2, 0.8, 0.1], "y": [1, 0, 0, 1], "g": ["a", "a", "b", "b"]})
    >>> counts = confusion_counts(frame, prediction="p", threshold=0.5, label="y", segments=("g",))
    >>> counts.columns["g"].segments, counts.columns["g"].cells.tolist()
    (('a', 'b'), [[1, 0, 0, 1], [0, 1, 1, 0]])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

TN, FP, FN, TP = 0, 1, 2, 3
CELL = "__guardrails_cell"
COUNT = "__guardrails_rows"


class ColumnTypeError(ValueError):
    """A prediction or label column has a type the gate cannot read as a decision or an outcome."""


@dataclass(frozen=True, slots=True)
class ColumnCounts:
    """One segment column: its segments (values as text, None for null, sorted) and their (k, 4) cell counts."""

    column: str
    segments: tuple[str | None, ...]
    cells: np.ndarray  # int64, shape (k, 4): tn, fp, fn, tp

    @property
    def rows(self) -> np.ndarray:
        return self.cells.sum(axis=1)


@dataclass(frozen=True, slots=True)
class ConfusionCounts:
    """The counts of every declared segment column present in the data, and the rows left out."""

    columns: dict[str, ColumnCounts]
    rows: int
    unscored: int


def _decision(schema: pl.Schema, prediction: str, threshold: float | None) -> pl.Expr:
    dtype = schema[prediction]
    column = pl.col(prediction)
    if threshold is not None:
        if not dtype.is_numeric():
            raise ColumnTypeError(f"prediction column {prediction!r} is {dtype}; a threshold needs a numeric score")
        if dtype.is_float():
            column = pl.when(column.is_nan()).then(None).otherwise(column)
        return column >= threshold
    if dtype == pl.Boolean:
        return column
    if dtype.is_integer():
        return column != 0
    raise ColumnTypeError(f"prediction column {prediction!r} is {dtype}; without a threshold it must be boolean or 0/1")


def _outcome(schema: pl.Schema, label: str | None) -> pl.Expr:
    if label is None:
        return pl.lit(False)
    dtype = schema[label]
    if dtype == pl.Boolean:
        return pl.col(label)
    if dtype.is_integer() or dtype.is_float():
        column = pl.col(label)
        return pl.when(column.is_nan() if dtype.is_float() else pl.lit(False)).then(None).otherwise(column != 0)
    raise ColumnTypeError(f"label column {label!r} is {dtype}; it must be boolean or numeric 0/1")


def confusion_counts(
    data: pl.DataFrame | pl.LazyFrame,
    *,
    prediction: str,
    threshold: float | None,
    label: str | None,
    segments: Sequence[str],
) -> ConfusionCounts:
    """Count each segment's confusion cells in one ``group_by``.

    Raises:
        ColumnTypeError: the prediction or label column cannot be read as a decision or an outcome.
        KeyError: the prediction or label column is missing (segment columns may be missing: left out).
    """
    lazy = data.lazy()
    schema = lazy.collect_schema()
    for needed in (prediction, *((label,) if label else ())):
        if needed not in schema:
            raise KeyError(needed)
    present = [s for s in segments if s in schema]
    cell = (2 * _outcome(schema, label).cast(pl.Int8) + _decision(schema, prediction, threshold).cast(pl.Int8))
    joint = (
        lazy.select(*[pl.col(s) for s in present], cell.alias(CELL))
        .group_by([*present, CELL])
        .agg(pl.len().alias(COUNT))
        .collect()
    )
    scored = joint.filter(pl.col(CELL).is_not_null())
    rows = int(joint[COUNT].sum() or 0)
    unscored = rows - int(scored[COUNT].sum() or 0)
    return ConfusionCounts(
        columns={s: _column_counts(scored, s) for s in present}, rows=rows, unscored=unscored,
    )


def _column_counts(joint: pl.DataFrame, column: str) -> ColumnCounts:
    """One column's (k, 4) counts, summed over the joint table; segments sorted (null first) for a stable order."""
    marginal = joint.group_by([column, CELL]).agg(pl.col(COUNT).sum())
    keys = marginal[column]
    text = keys.cast(pl.String) if keys.dtype != pl.String else keys
    names = text.unique().sort(nulls_last=False)
    index = {value: i for i, value in enumerate(names.to_list())}
    rows = np.fromiter((index[v] for v in text.to_list()), dtype=np.int64, count=len(text))
    cells = np.zeros((len(index), 4), dtype=np.int64)
    np.add.at(cells, (rows, marginal[CELL].cast(pl.Int64).to_numpy()), marginal[COUNT].cast(pl.Int64).to_numpy())
    return ColumnCounts(column=column, segments=tuple(names.to_list()), cells=cells)
