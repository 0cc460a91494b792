"""Validation of client-sent feature rows, labels and CSV files into arrays, with errors naming the cell."""

from __future__ import annotations

import io
import math
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from ..payload import brief, check_text
from ..settings import Limits

_MAX_LABEL_CHARS = 64
_MIN_INT_LABEL, _MAX_INT_LABEL = -(2**63), 2**63 - 1  # numpy int64, what scikit-learn stores


def default_feature_names(count: int) -> tuple[str, ...]:
    return tuple(f"feature_{index}" for index in range(count))


def check_row_list(rows: Any, field: str, limits: Limits) -> None:
    """A non-empty list of at most ``limits.max_tabular_rows`` rows (their contents are checked per model)."""
    if not isinstance(rows, list) or not rows:
        raise InputError(field, "expected a non-empty list of rows (lists of numbers or objects)")
    if len(rows) > limits.max_tabular_rows:
        raise InputError(field, f"{len(rows)} rows exceed the limit of {limits.max_tabular_rows}")


def parse_rows(rows: Any, field: str, limits: Limits,
               feature_names: Sequence[str] | None = None) -> tuple[np.ndarray, tuple[str, ...]]:
    """Rows (lists of numbers, or objects keyed by feature name) → (n_rows × n_features float64, names).

    With ``feature_names`` (a fitted model's), rows must match them; without (fitting), the first row
    decides: an object's keys become the names, a list gets ``feature_0``, ``feature_1``, ...
    """
    check_row_list(rows, field, limits)
    first = rows[0]
    if feature_names is None:
        if isinstance(first, dict):
            feature_names = tuple(str(name) for name in first)
        elif isinstance(first, list):
            feature_names = default_feature_names(len(first))
        else:
            raise InputError(f"{field}[0]", _row_type_problem(first))
        if not feature_names:
            raise InputError(f"{field}[0]", "the row is empty; expected at least one feature")
        for name in feature_names:
            check_text(name, f"{field}[0] key")
        if len(feature_names) > limits.max_tabular_features:
            raise InputError(f"{field}[0]", f"{len(feature_names)} features exceed the limit of "
                             f"{limits.max_tabular_features}")
    names = tuple(feature_names)
    matrix = np.empty((len(rows), len(names)), dtype=np.float64)
    for index, row in enumerate(rows):
        matrix[index] = _parse_row(row, f"{field}[{index}]", names, limits.max_abs_feature_value)
    return matrix, names


def _parse_row(row: Any, field: str, names: tuple[str, ...], max_abs: float) -> list:
    if isinstance(row, dict):
        missing = [name for name in names if name not in row]
        if missing:
            raise InputError(field, f"missing feature(s) {', '.join(missing[:5])}; the model needs "
                             f"{len(names)}: {', '.join(names[:10])}{'...' if len(names) > 10 else ''}")
        extra = [str(name) for name in row if name not in names]
        if extra:
            raise InputError(f"{field}.{extra[0]}", "not a feature of this model")
        values = [row[name] for name in names]
        _check_numbers(values, lambda position: f"{field}.{names[position]}", max_abs)
        return values
    if not isinstance(row, list):
        raise InputError(field, _row_type_problem(row))
    if len(row) != len(names):
        raise InputError(field, f"expected {len(names)} features, got {len(row)}")
    _check_numbers(row, lambda position: f"{field}[{position}]", max_abs)
    return row


def _row_type_problem(row: Any) -> str:
    return f"expected a row (a list of numbers or an object of feature values), got {type(row).__name__}"


def _check_numbers(values: list, field_at: Callable[[int], str], max_abs: float) -> None:
    """InputError naming ``field_at(position)`` of the first value that is not a number within ±max_abs.

    The bound keeps values inside float32 (tree models convert to it) and the comparison works on
    integers of any length (a 400-digit integer would overflow ``math.isfinite``).
    """
    for position, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            shown = "null" if value is None else f"{type(value).__name__} {str(value)[:20]!r}"
            problem = f"expected a number, got {shown}"
        elif isinstance(value, float) and not math.isfinite(value):
            problem = f"expected a finite number, got {value}"
        elif abs(value) > max_abs:
            problem = f"{str(value)[:20]}{'...' if len(str(value)) > 20 else ''} is beyond ±{max_abs:g}"
        else:
            continue
        raise InputError(field_at(position), problem)


def parse_labels(labels: Any, field: str, n_rows: int) -> np.ndarray:
    """Class labels, one per row: all text or all integers (JSON 1.0 counts as 1)."""
    if not isinstance(labels, list) or len(labels) != n_rows:
        count = len(labels) if isinstance(labels, list) else type(labels).__name__
        raise InputError(field, f"expected a list of {n_rows} labels (one per row), got {count}")
    parsed: list[str | int] = []
    for index, label in enumerate(labels):
        if isinstance(label, float) and label.is_integer():
            label = int(label)
        if isinstance(label, bool) or not isinstance(label, (str, int)) or label == "":
            raise InputError(f"{field}[{index}]", f"expected a class label (text or integer), got {brief(label)}")
        if isinstance(label, str):
            if len(label) > _MAX_LABEL_CHARS:
                raise InputError(f"{field}[{index}]", f"label longer than {_MAX_LABEL_CHARS} characters")
            check_text(label, f"{field}[{index}]")  # a stored label must be encodable in every later response
        elif not _MIN_INT_LABEL <= label <= _MAX_INT_LABEL:
            raise InputError(f"{field}[{index}]", "integer label outside the 64-bit range")
        parsed.append(label)
    if len({type(label) for label in parsed}) > 1:
        raise InputError(field, "labels mix text and numbers; use one kind")
    return np.array(parsed)


def parse_csv(data: bytes, field: str, limits: Limits, target: str | None = None,
              labelled: bool = True) -> tuple[np.ndarray, np.ndarray | None, tuple[str, ...]]:
    """A CSV with a header row → (features, labels, feature names).

    The label column is ``target``, by default the last column; with ``labelled=False`` every column is a
    feature and the labels are None.
    """
    try:
        table = pd.read_csv(io.BytesIO(data))
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise InputError(field, f"not a readable CSV file with a header row ({str(error)[:120]})") from None
    if table.shape[1] < (2 if labelled else 1):
        raise InputError(field, f"expected a header, feature columns and a label column, "
                         f"got {table.shape[1]} column(s)")
    if not labelled:
        target = None
    elif target is None:
        target = str(table.columns[-1])
    elif target not in table.columns:
        shown = ", ".join(map(str, table.columns[:20]))
        raise InputError(field, f"no target column {target!r}; the columns are {shown}")
    if table.empty:
        raise InputError(field, "the file has a header but no rows")
    if len(table) > limits.max_tabular_rows:
        raise InputError(field, f"{len(table)} rows exceed the limit of {limits.max_tabular_rows}")
    names = tuple(str(name) for name in table.columns if name != target)
    if len(names) > limits.max_tabular_features:
        raise InputError(field, f"{len(names)} features exceed the limit of {limits.max_tabular_features}")
    features = table[list(names)].apply(pd.to_numeric, errors="coerce")
    bad = ~np.isfinite(features.to_numpy(dtype=np.float64))
    if bad.any():
        row, column = map(int, np.argwhere(bad)[0])
        raw = table[names[column]].iloc[row]
        raise InputError(field, f"row {row + 1}, column {names[column]!r}: expected a number, got {str(raw)[:20]!r}")
    if target is None:
        return features.to_numpy(dtype=np.float64), None, names
    if table[target].isna().any():
        row = int(np.flatnonzero(table[target].isna().to_numpy())[0])
        raise InputError(field, f"row {row + 1}: the {target!r} label is empty")
    labels = parse_labels(table[target].tolist(), f"{field} column {target!r}", len(table))
    return features.to_numpy(dtype=np.float64), labels, names
