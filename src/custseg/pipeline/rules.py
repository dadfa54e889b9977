"""Segments as rules: a short threshold tree that mimics the K-Means segments, in original units.

Method: a depth-limited **surrogate decision tree** (scikit-learn's ``DecisionTreeClassifier``)
trained to predict each customer's K-Means segment from the numeric features. We chose it over
IMM / ExKMC "explainable k-means" because it optimises exactly what we report (the share of
customers the rules put in their own segment), its length is capped by one plain number (the
depth: at most that many conditions per rule), and it comes from a well-kept library instead of
hand-written tree code. IMM's one-leaf-per-segment shape needs up to k - 1 conditions for some
segments; the surrogate may give a segment two short rules joined by "or" instead.

Thresholds are rewritten as the shortest decimal between the two data values a split separates
(``Annual Income (k$) >= 70`` rather than ``>= 69.5000001``), so Python and SQL compare the same
number. Missing values are filled with the run's imputed value (its median), as the model does;
when the run drops rows with missing values, a customer missing any feature gets no segment.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

import numpy as np
import pandas as pd
from sklearn.tree import DecisionTreeClassifier

METHOD = "surrogate decision tree"
# The trees are fitted on a seeded sample of at most this many rows: the rules of a 1M-row table
# cost about a second, and their fidelity is still measured on every row.
RULE_ROWS = 20_000
# A leaf needs at least this share of the customers: no rule for a handful of edge cases.
MIN_LEAF_SHARE = 0.005
# Shorter rules are preferred while they lose at most this share of fidelity.
FIDELITY_MARGIN = 0.02


@dataclass(frozen=True)
class Condition:
    """One comparison: ``column < value`` or ``column >= value``."""

    column: str
    op: str  # "<" or ">="
    value: str  # the threshold as written (a short decimal), read identically by Python and SQL

    def holds(self, x: np.ndarray) -> np.ndarray:
        t = float(self.value)
        return x < t if self.op == "<" else x >= t

    def text(self, label: Callable[[str], str] = str) -> str:
        return f"{label(self.column)} {self.op} {self.value}"


@dataclass(frozen=True)
class Leaf:
    """Customers meeting every condition belong to ``segment``."""

    segment: int
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class SegmentRules:
    """The rules of one run and how faithfully they reproduce its segments.

    Attributes
    ----------
    leaves : list of Leaf
        Disjoint boxes covering every customer; each gives one segment.
    fill : dict
        Column -> the value a missing entry is read as (the run's imputed median).
    drop_missing : bool
        The run left out rows with missing values: so do the rules.
    fidelity : float
        Share of segmented customers the rules put in their own K-Means segment.
    segment_fidelity : dict
        Segment id -> share of its customers the rules put in it.
    depth : int
        The most conditions a rule may have (the ``rule_depth`` option).
    """

    leaves: list[Leaf]
    fill: dict[str, float]
    drop_missing: bool
    fidelity: float
    segment_fidelity: dict[int, float]
    depth: int
    method: str = METHOD
    columns: list[str] = field(default_factory=list)

    # ------------------------------------------------------------ reading
    def for_segment(self, segment: int) -> list[Leaf]:
        """The leaves (boxes) that give ``segment``."""
        return [leaf for leaf in self.leaves if leaf.segment == segment]

    def rule(self, segment: int, label: Callable[[str], str] = str) -> str | None:
        """The rule of ``segment`` as text (``None`` when no box gives it)."""
        parts = [
            " and ".join(c.text(label) for c in leaf.conditions) or "every customer"
            for leaf in self.for_segment(segment)
        ]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else " or ".join(f"({p})" for p in parts)

    def conditions(self, segment: int) -> int:
        """The most conditions in one of the segment's boxes."""
        return max((len(leaf.conditions) for leaf in self.for_segment(segment)), default=0)

    # ------------------------------------------------------------ applying
    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Segment of each row of ``frame`` by the rules; -1 where a row is left out."""
        cols = {c: pd.to_numeric(frame[c], errors="coerce").to_numpy(float) for c in self.columns}
        out = np.full(len(frame), -1, dtype=int)
        missing = np.zeros(len(frame), dtype=bool)
        for c, x in cols.items():
            nan = np.isnan(x)
            missing |= nan
            cols[c] = np.where(nan, self.fill[c], x)
        for leaf in self.leaves:
            inside = np.ones(len(frame), dtype=bool)
            for cond in leaf.conditions:
                inside &= cond.holds(cols[cond.column])
            out[inside] = leaf.segment
        if self.drop_missing:
            out[missing] = -1
        return out

    def to_sql(self) -> str:
        """One ``CASE ... END`` expression giving the segment id, for PostgreSQL, SQLite, DuckDB.

        Use it as ``SELECT *, <expression> AS segment FROM customers``. A missing value (NULL) is
        read as the run's imputed value, or gives NULL when the run left such rows out.
        """
        lines = ["CASE"]
        if self.drop_missing and self.columns:
            nulls = " OR ".join(f"{quote(c)} IS NULL" for c in self.columns)
            lines.append(f"  WHEN {nulls} THEN NULL")
        for leaf in self.leaves:
            test = " AND ".join(
                f"{self._sql_column(c.column)} {c.op} {c.value}" for c in leaf.conditions
            )
            lines.append(f"  WHEN {test or '1 = 1'} THEN {leaf.segment}")
        lines.append("END")
        return "\n".join(lines)

    def _sql_column(self, column: str) -> str:
        if self.drop_missing:
            return quote(column)
        return f"COALESCE({quote(column)}, {_literal(self.fill[column])})"

    def to_dict(self, label: Callable[[str], str] = str) -> dict:
        """The summary's ``rules`` section."""
        return {
            "method": self.method,
            "depth": self.depth,
            "fidelity": self.fidelity,
            "segment_fidelity": {str(k): v for k, v in self.segment_fidelity.items()},
            "columns": list(self.columns),
            "missing": "left out" if self.drop_missing else "read as the imputed median",
            "fill": dict(self.fill),
            "rules": [
                {
                    "segment": leaf.segment,
                    "conditions": [
                        {"column": c.column, "label": label(c.column), "op": c.op, "value": c.value}
                        for c in leaf.conditions
                    ],
                }
                for leaf in self.leaves
            ],
        }


def quote(column: str) -> str:
    """A column name as a double-quoted SQL identifier."""
    return '"' + column.replace('"', '""') + '"'


def _literal(value: float) -> str:
    # repr is the shortest text that reads back as the same double in Python and in SQL.
    return repr(float(value))


# ---------------------------------------------------------------- fitting


def fit_rules(
    values: pd.DataFrame,
    labels: np.ndarray,
    fill: Mapping[str, float],
    *,
    depth: int = 3,
    drop_missing: bool = False,
    seed: int = 0,
) -> SegmentRules | None:
    """Fit the rules of a run.

    Parameters
    ----------
    values : DataFrame
        Numeric feature values in original units, one row per input row (NaN allowed).
    labels : array of int
        K-Means segment per input row (-1 for rows left out).
    fill : mapping
        Column -> the value a missing entry is read as (the run's imputed median).
    depth : int
        The most conditions in one rule; deeper rules follow the segments more faithfully.
    drop_missing : bool
        Rows with missing values were left out of the run.
    seed : int
        Seed of the sample the tree is fitted on (large tables only).

    Returns
    -------
    SegmentRules or None
        None when the run has no numeric feature to write rules on.
    """
    columns = [str(c) for c in values.columns]
    if not columns:
        return None
    labels = np.asarray(labels)
    used = labels >= 0
    fill = {c: float(fill[c]) for c in columns}
    X = np.column_stack(
        [np.where(np.isnan(v := values[c].to_numpy(float)), fill[c], v)[used] for c in columns]
    )
    y = labels[used]
    fit_rows = np.arange(len(y))
    if len(y) > RULE_ROWS:
        fit_rows = np.sort(np.random.default_rng(seed).choice(len(y), RULE_ROWS, replace=False))
    k = len(np.unique(y))
    Xs, ys = X[fit_rows], y[fit_rows]
    candidates = []
    # Trees from k leaves (one box per segment, as in explainable k-means) to full trees, a
    # little deeper than ``depth`` too: once bounds on one column merge ("income >= 40 and
    # income < 70" is one range), a deeper tree may still need at most ``depth`` conditions.
    # Keep the shortest rules within FIDELITY_MARGIN of the most faithful.
    for tree_depth in (depth, depth + 1, depth + 2):
        for leaf_count in sorted({max(k, 2), k + 1, k + 2, 2**tree_depth}):
            if leaf_count > 2**tree_depth:
                continue
            tree = DecisionTreeClassifier(
                max_depth=tree_depth,
                max_leaf_nodes=leaf_count,
                min_samples_leaf=max(1, int(MIN_LEAF_SHARE * len(fit_rows))),
                random_state=seed,
            ).fit(Xs, ys)
            leaves = _leaves(tree, Xs, columns)
            if max(len(leaf.conditions) for leaf in leaves) > depth:
                continue
            agree = float(np.mean(tree.predict(Xs) == ys))
            candidates.append((agree, sum(len(leaf.conditions) for leaf in leaves), leaves))
    top = max(c[0] for c in candidates)
    close = [c for c in candidates if c[0] >= top - FIDELITY_MARGIN]
    best = min(close, key=lambda c: (c[1], -c[0]))
    leaves = best[2]
    rules = SegmentRules(
        leaves=leaves,
        fill=fill,
        drop_missing=drop_missing,
        fidelity=0.0,
        segment_fidelity={},
        depth=depth,
        columns=columns,
    )
    frame = pd.DataFrame(X, columns=columns)
    predicted = rules.predict(frame)
    per_segment = {int(s): float(np.mean(predicted[y == s] == s)) for s in np.unique(y)}
    object.__setattr__(rules, "fidelity", float(np.mean(predicted == y)))
    object.__setattr__(rules, "segment_fidelity", per_segment)
    return rules


def _leaves(tree: DecisionTreeClassifier, X: np.ndarray, columns: list[str]) -> list[Leaf]:
    """Root-to-leaf paths, with sibling leaves of one segment merged and bounds simplified."""
    t = tree.tree_
    classes = tree.classes_
    segment = {n: int(classes[np.argmax(t.value[n][0])]) for n in range(t.node_count)}
    memo: dict[int, int | None] = {}

    def pure(node: int) -> int | None:
        # The one segment every leaf under ``node`` gives, or None: such a subtree is one leaf.
        if node not in memo:
            if t.children_left[node] < 0:
                memo[node] = segment[node]
            else:
                a, b = pure(t.children_left[node]), pure(t.children_right[node])
                memo[node] = a if a is not None and a == b else None
        return memo[node]

    out: list[Leaf] = []

    def walk(node: int, path: list[Condition]) -> None:
        if t.children_left[node] < 0 or pure(node) is not None:
            out.append(Leaf(segment[node] if pure(node) is None else pure(node), _simplify(path)))
            return
        col = columns[t.feature[node]]
        cut = _cut(X[:, t.feature[node]], float(t.threshold[node]))
        walk(t.children_left[node], [*path, Condition(col, "<", cut)])
        walk(t.children_right[node], [*path, Condition(col, ">=", cut)])

    walk(0, [])
    return out


def _cut(x: np.ndarray, threshold: float) -> str:
    """The shortest decimal t with lo < t <= hi, where lo and hi are the data values either side
    of the tree's threshold: ``x < t`` splits the data exactly as the tree does."""
    below, above = x[x <= threshold], x[x > threshold]
    if not len(below) or not len(above):
        return _literal(threshold)
    lo, hi = float(below.max()), float(above.min())
    for digits in range(-20, 18):
        step = Decimal(1).scaleb(-digits)
        t = ((Decimal(repr(lo)) / step).to_integral_value(rounding=ROUND_FLOOR) + 1) * step
        if lo < float(t) <= hi:
            text = format(t.normalize(), "f")
            return text
    return _literal(hi)


def _simplify(path: list[Condition]) -> tuple[Condition, ...]:
    """Keep the tightest lower and upper bound of each column, in the order first seen."""
    tight: dict[tuple[str, str], Condition] = {}
    for cond in path:
        key = (cond.column, cond.op)
        old = tight.get(key)
        tighter = old is None or (float(cond.value) < float(old.value)) == (cond.op == "<")
        if tighter:
            tight[key] = cond
    order = list(dict.fromkeys(c.column for c in path))
    # Per column, the lower bound reads first: "income >= 40 and income < 70".
    return tuple(tight[(col, op)] for col in order for op in (">=", "<") if (col, op) in tight)
