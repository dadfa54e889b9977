"""Check a table before it is used: column names, numbers, missing values and ids.

:func:`validate` reports every problem with the chosen features in one :class:`DataError`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from custseg.exceptions import ConfigError, DataError, SourceError
from custseg.read.numeric import parse_numbers
from custseg.read.table import Table


def check_columns(frame: pd.DataFrame, name: str) -> None:
    if frame.shape[1] == 0:
        raise SourceError(f"'{name}' has no columns; export the table with a header row")
    if len(frame) == 0:
        raise DataError(f"'{name}' has a header but no rows; there are no customers to segment")
    dupes = frame.columns[frame.columns.duplicated()].tolist()
    if dupes:
        raise DataError(
            f"'{name}' has duplicated column names {dupes!r}; rename them so each is unique"
        )


def non_numeric_cells(raw: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """The column as numbers (blank text counts as missing), and the positions of the cells that
    are neither a number nor blank."""
    numbers = parse_numbers(raw)
    values = pd.Series(numbers.values, index=raw.index, name=raw.name, copy=False)
    return values, numbers.bad


def examples(table: Table, raw: pd.Series, positions: np.ndarray, n: int = 3) -> str:
    """``'forty' on line 3, 'n/a' on line 9`` for the first ``n`` positions."""
    return ", ".join(f"{raw.iloc[p]!r} on {table.where(p)}" for p in positions[:n])


def infinite_values(table: Table, col: str, values: np.ndarray) -> str | None:
    """The problem with ``col`` when ``values`` (its numbers) hold infinities, else ``None``."""
    positions = np.flatnonzero(np.isinf(values))
    if not len(positions):
        return None
    return (
        f"Column {col!r} has {len(positions)} infinite value"
        f"{'s' if len(positions) > 1 else ''} (first on {table.where(positions[0])}); "
        "replace them with real numbers or leave them empty"
    )


def validate(
    table: Table,
    features: Sequence[str],
    *,
    categorical: Sequence[str] = (),
    n_clusters: int | None = None,
    missing: str = "impute",
    explicit: bool = True,
) -> dict[str, int]:
    """Check the chosen feature columns; raise one :class:`DataError` listing every problem.

    Returns the number of missing values per feature (for the report).
    """
    if missing not in ("impute", "drop", "error"):
        raise ConfigError(f"--missing must be impute, drop or error, not {missing!r}")
    frame, problems, missing_counts = table.frame, [], {}
    for col in features:
        role = table.roles[col]
        if role in ("id", "empty", "constant", "text", "date", "ignore"):
            what = {
                "id": "is the customer id",
                "empty": "has no values at all",
                "constant": "has the same value in every row",
                "text": "holds free text, not numbers",
                "date": "holds dates, not numbers (--tenure adds the days since them)",
                "ignore": "is set to be ignored (--role)",
            }[role]
            problems.append(
                f"Column {col!r} {what}, so it cannot separate customers; remove it from --features"
            )
            continue
        if role in ("categorical", "gender"):
            problems.append(
                f"Column {col!r} is categorical; pass it with --one-hot {col!r} instead of "
                "--features"
            )
            continue
        raw = frame[col]
        values, positions = non_numeric_cells(raw)
        if len(positions):
            problems.append(
                f"Column {col!r} has {len(positions)} non-numeric value"
                f"{'s' if len(positions) > 1 else ''} (e.g. {examples(table, raw, positions)}); "
                "clean them or leave the column out of --features"
            )
        finite = values.to_numpy()
        infinite = infinite_values(table, col, finite)
        if infinite:
            problems.append(infinite)
        else:
            with np.errstate(all="ignore"):
                spread = np.nanstd(finite) if np.isfinite(finite).any() else 0.0
            if not np.isfinite(spread):
                big = int(np.nanargmax(np.abs(finite)))
                problems.append(
                    f"Column {col!r} has values too large to compute with (e.g. "
                    f"{finite[big]:g} on {table.where(big)}); rescale the column (e.g. to "
                    "thousands) or fix the values"
                )
        n_missing = int(raw.isna().sum())
        missing_counts[col] = n_missing
        if n_missing and missing == "error":
            first = int(np.flatnonzero(raw.isna().to_numpy())[0])
            problems.append(
                f"Column {col!r} has {n_missing} missing value{'s' if n_missing > 1 else ''} "
                f"(first on {table.where(first)}); fill them, or use --missing impute or "
                "--missing drop"
            )
    for col in categorical:
        if table.roles[col] in ("id", "empty", "constant", "text", "ignore"):
            problems.append(
                f"Column {col!r} cannot be one-hot encoded (it is {table.roles[col]}); "
                "remove it from --one-hot"
            )
    id_col = table.id_column
    if id_col is not None:
        ids = frame[id_col]
        dup = ids.duplicated(keep=False) & ids.notna() if has_duplicates(ids) else None
        if dup is not None:
            positions = np.flatnonzero(dup.to_numpy())
            value = ids.iloc[positions[0]]
            same = np.flatnonzero((ids == value).to_numpy())[:2]
            problems.append(
                f"Id column {id_col!r} has {int(ids[dup].nunique())} duplicated id"
                f"{'s' if ids[dup].nunique() > 1 else ''} (e.g. {value!r} on "
                f"{table.where(same[0])} and {table.where(same[1])}); remove the duplicates or "
                "name a unique column with --id-column (or --id-column none)"
            )
    if n_clusters is not None:
        usable = len(frame)
        if missing == "drop" and features:
            usable = int(frame[list(features)].notna().all(axis=1).sum())
        if usable < n_clusters:
            problems.append(
                f"The table has {usable} usable row{'s' if usable != 1 else ''}, fewer than the "
                f"{n_clusters} segments asked for; lower --k or add rows"
            )
    if problems:
        raise DataError(problems)
    return missing_counts


def has_duplicates(values: pd.Series) -> bool:
    """Whether a non-missing value occurs twice.

    Sort-based: on 10M text ids it needs a third of the memory of pandas' hash table.
    """
    try:
        array = pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):  # mixed objects
        return bool(values.dropna().duplicated().any())
    ordered = array.take(pc.sort_indices(array))
    return bool(pc.any(pc.equal(ordered[1:], ordered[:-1])).as_py())
