"""``SegmentOptions``: everything a run can be told, in one frozen object validated once.

Every front end (``segment()``, the CLI, the dashboard, RFM and Spark) builds one and passes it on.
Each field has a named constraint, in the style of scikit-learn's ``_parameter_constraints``, so an
error names the parameter (``k_range``); only the CLI turns that into a flag (``--k-range``).
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from custseg.engines import ENGINES
from custseg.exceptions import OptionError
from custseg.read.table import SETTABLE_ROLES

SCALERS = ("standard", "minmax", "robust", "none")
MISSING = ("impute", "drop", "error")
# Large tables: candidate k are compared on a seeded sample of this many rows, then the chosen k
# is fitted on every row, warm-started from the sample's centres. Smaller tables use every row.
K_SEARCH_ROWS = 25_000


# ---------------------------------------------------------------- constraints
# A constraint normalises a value or raises OptionError naming the parameter.


def one_of(*choices: str) -> Callable[[str, Any], str]:
    def check(name: str, value: Any) -> str:
        if value not in choices:
            listed = ", ".join(choices[:-1]) + f" or {choices[-1]}"
            raise OptionError(name, f"{{option}} must be one of {listed}, not {value!r}")
        return value

    return check


def whole_number(
    minimum: int, *, auto: bool = False, why: str = ""
) -> Callable[[str, Any], int | str]:
    def check(name: str, value: Any) -> int | str:
        if auto and value == "auto":
            return value
        try:
            number = int(value)
            if isinstance(value, float | str) and float(value) != number:
                raise ValueError
        except (TypeError, ValueError):
            text = "'auto' or a whole number" if auto else "a whole number"
            raise OptionError(name, f"{{option}} must be {text}, not {value!r}") from None
        if isinstance(value, bool) or number < minimum:
            raise OptionError(name, f"{{option}} must be at least {minimum}{why}, got {value!r}")
        return number

    return check


def columns(name: str, value: Any) -> tuple[str, ...] | None:
    """None, a comma-separated string or a list of column names (or roles)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        raise OptionError(name, f"{{option}} must be column names, not {value!r}")
    names = tuple(v.strip() for v in value if v.strip())
    return names or None


def feature_columns(name: str, value: Any) -> tuple[str, ...] | str | None:
    """Like :func:`columns`, or ``"auto"``: the columns feature guidance keeps."""
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    names = columns(name, value)
    return "auto" if names is not None and [n.lower() for n in names] == ["auto"] else names


def log_columns(name: str, value: Any) -> bool | str | tuple[str, ...] | None:
    """True/"auto" (skewed columns), False/None (none) or column names."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("auto", "", "none", "false", "no"):
        return value.strip().lower()
    return columns(name, value)


def role_pairs(name: str, value: Any) -> tuple[tuple[str, str], ...] | None:
    """None, ``{"column": "role"}``, ``"A=numeric,B=id"`` or ``["A=numeric", ...]`` -> pairs.

    Kept as pairs, not a dict, so the options object stays hashable (the dashboard caches on it).
    """
    if value is None:
        return None
    if isinstance(value, str):
        value = value.split(",")
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, Sequence):
        items = []
        for item in value:
            if isinstance(item, str):
                column, sep, role = item.rpartition("=")
                if not sep or not column.strip():
                    raise OptionError(
                        name,
                        f"{{option}} must look like COLUMN=ROLE (e.g. Income=numeric), "
                        f"not {item!r}",
                    )
                items.append((column, role))
            elif isinstance(item, tuple | list) and len(item) == 2:
                items.append(tuple(item))
            else:
                raise OptionError(name, f"{{option}} must be COLUMN=ROLE pairs, not {value!r}")
    else:
        raise OptionError(name, f"{{option}} must be COLUMN=ROLE pairs, not {value!r}")
    pairs = []
    for column, role in items:
        role = str(role).strip().lower()
        if role not in SETTABLE_ROLES:
            listed = ", ".join(SETTABLE_ROLES[:-1]) + f" or {SETTABLE_ROLES[-1]}"
            raise OptionError(
                name, f"{{option}}: {role!r} (for {column!r}) is not a role; use {listed}"
            )
        pairs.append((str(column).strip(), role))
    return tuple(pairs) or None


def candidate_ks(name: str, value: Any) -> list[int]:
    """``None`` (2..10), ``"2..10"``, ``"2-10"``, ``"3,5,8"`` or whole numbers -> sorted k."""
    if value is None:
        return list(range(2, 11))
    if isinstance(value, str):
        text = value.replace(" ", "")
        try:
            if ".." in text or "-" in text:
                lo, hi = (int(p) for p in text.replace("..", "-").split("-"))
                ks = list(range(lo, hi + 1))
            else:
                ks = [int(p) for p in text.split(",") if p]
        except ValueError:
            raise OptionError(
                name, f"{{option}} must look like 2..10 or 3,5,8, not {value!r}"
            ) from None
    else:
        try:
            ks = [int(k) for k in value]
        except (TypeError, ValueError):
            raise OptionError(
                name, f"{{option}} must be whole numbers such as [3, 5, 8], not {value!r}"
            ) from None
    ks = sorted(set(ks))
    if not ks or ks[0] < 2:
        raise OptionError(
            name, f"{{option}} needs candidates of at least 2 segments, got {value!r}"
        )
    return ks


def k_candidates(name: str, value: Any) -> str | tuple[int, ...] | None:
    """Checks the candidates; keeps the text form (it is what the user wrote)."""
    candidate_ks(name, value)
    return value if value is None or isinstance(value, str) else tuple(int(k) for k in value)


def optional_path(name: str, value: Any) -> str | Path | None:
    if value is None or isinstance(value, str | Path):
        return value
    raise OptionError(name, f"{{option}} must be a file path, not {value!r}")


def optional_text(name: str, value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise OptionError(name, f"{{option}} must be a column name, not {value!r}")


# ---------------------------------------------------------------- the options


@dataclass(frozen=True)
class SegmentOptions:
    """What a run can be told. Build one, or pass the same names to :func:`custseg.segment`.

    Every value is checked when the object is built; a bad one raises
    :class:`~custseg.exceptions.OptionError` naming the parameter. The object is frozen: use
    :meth:`replace` for a changed copy.

    Parameters
    ----------
    features : list of str, comma-separated str or "auto", optional
        Feature columns (names, or roles such as ``"income"``); default every numeric non-id
        column that can help. ``"auto"`` keeps the columns feature guidance says separate the
        segments, leaving out noise, duplicates, flags and id-like columns (with a note why).
    k : "auto" or int, default="auto"
        Number of segments; ``"auto"`` takes the recommended k.
    k_range : "2..10", "3,5,8" or list of int, optional
        Candidates compared for the recommendation (default 2..10).
    scale : {"standard", "minmax", "robust", "none"}, default="standard"
        How features are scaled before K-Means.
    log : bool, "auto" or list of columns, optional
        Log-transform skewed money-like columns (``"auto"``: skewness above 1) or the columns
        named; default none.
    one_hot : list of str, optional
        Categorical columns to one-hot encode (e.g. ``"Gender"``).
    missing : {"impute", "drop", "error"}, default="impute"
        Missing feature values: median-imputed, rows left out, or an error.
    id_column : str, optional
        The customer id column (``"none"`` for none); recognised by name by default.
    n_init : int, default=10
        K-Means restarts per k; the best is kept.
    seed : int, default=0
        Random seed; the same data and seed give the same segments.
    engine : {"auto", "lloyd", "elkan", "minibatch", "spark"}, default="auto"
        K-Means engine; ``"auto"`` is scikit-learn's Lloyd.
    rules : path, optional
        A naming and actions rules file (TOML) replacing the shipped one.
    k_search_rows : int, default=25000
        Tables larger than this compare candidate k on a seeded sample of this many rows, then
        fit the chosen k on every row.
    roles : dict of column -> role, optional
        Roles that override the recognised ones: ``{"NumStorePurchases": "numeric"}``; a role is
        one of numeric, categorical, id, ignore, date, age, income, spending or gender.
    tenure : list of str, optional
        Date columns to turn into a feature: the days from each date to the column's newest
        (``"Dt_Customer"`` adds ``"days since Dt_Customer"``).
    rule_depth : int, default=3
        The most conditions in a segment's rule (``seg.rules``, ``rules.sql``); deeper rules
        follow the segments more faithfully but are longer to read.

    Examples
    --------
    >>> options = SegmentOptions(features="income,spending", k=5)
    >>> options.replace(k=6).k
    6
    """

    features: tuple[str, ...] | str | None = None
    k: int | str = "auto"
    k_range: str | tuple[int, ...] | None = None
    scale: str = "standard"
    log: bool | str | tuple[str, ...] | None = None
    one_hot: tuple[str, ...] | None = None
    missing: str = "impute"
    id_column: str | None = None
    n_init: int = 10
    seed: int = 0
    engine: str = "auto"
    rules: str | Path | None = None
    k_search_rows: int = K_SEARCH_ROWS
    roles: tuple[tuple[str, str], ...] | None = None
    tenure: tuple[str, ...] | None = None
    rule_depth: int = 3

    _parameter_constraints: ClassVar[dict[str, Callable[[str, Any], Any]]] = {
        "features": feature_columns,
        "k": whole_number(2, auto=True, why=" (a segmentation needs at least 2 segments)"),
        "k_range": k_candidates,
        "scale": one_of(*SCALERS),
        "log": log_columns,
        "one_hot": columns,
        "missing": one_of(*MISSING),
        "id_column": optional_text,
        "n_init": whole_number(1),
        "seed": whole_number(0),
        "engine": one_of(*ENGINES),
        "rules": optional_path,
        "k_search_rows": whole_number(2),
        "roles": role_pairs,
        "tenure": columns,
        "rule_depth": whole_number(1, why=" (a rule needs at least one condition)"),
    }

    def __post_init__(self) -> None:
        for name, check in self._parameter_constraints.items():
            object.__setattr__(self, name, check(name, getattr(self, name)))

    @classmethod
    def build(cls, options: SegmentOptions | None = None, **changes: Any) -> SegmentOptions:
        """``options`` (or the defaults) with ``changes``, checked like a new object.

        Raises
        ------
        OptionError
            A name that is not an option (with the closest one suggested), or a bad value.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        for name in changes:
            if name not in known:
                close = difflib.get_close_matches(name, sorted(known), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise OptionError(name, f"{{option}} is not an option of a run{hint}")
        base = options if options is not None else cls()
        return dataclasses.replace(base, **changes) if changes else base

    def replace(self, **changes: Any) -> SegmentOptions:
        """A copy with ``changes``, validated like a new object."""
        return self.build(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """Option name -> value."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
