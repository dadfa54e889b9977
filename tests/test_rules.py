"""Segments as rules: fidelity computed from the rules, and rules.sql run in PostgreSQL, SQLite and
DuckDB reproducing the rules' own assignment row for row (boundary values and NULLs included)."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from custseg import segment
from custseg.cli import app
from custseg.exceptions import OptionError
from custseg.outputs.export import rules_sql

runner = CliRunner()
ODD = 'spend "online" (€)'  # a column name SQL must quote, with a double quote inside


def customers(seed: int = 0, n: int = 400) -> pd.DataFrame:
    """Four groups on float, integer and odd-named columns, with missing values."""
    rng = np.random.default_rng(seed)
    centres = np.array([[20, 30, 0.001], [60, 80, 0.004], [90, 20, 0.002], [40, 60, 0.008]])
    group = rng.integers(0, 4, n)
    x = centres[group] * rng.normal(1, 0.12, (n, 3))
    frame = pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "annual_income": x[:, 0] * 1000 + rng.normal(0, 1, n) / 3,  # long decimals
            "visits": np.round(x[:, 1]).astype(int),
            ODD: x[:, 2],
        }
    )
    frame.loc[rng.choice(n, 12, replace=False), "annual_income"] = np.nan
    frame.loc[rng.choice(n, 8, replace=False), ODD] = np.nan
    return frame


def with_boundaries(frame: pd.DataFrame, seg) -> pd.DataFrame:
    """Add rows sitting exactly on each threshold and one step either side of it."""
    rows = []
    base = frame.drop(columns="customer_id").median()
    for leaf in seg.rules.leaves:
        for cond in leaf.conditions:
            t = float(cond.value)
            for v in (np.nextafter(t, -np.inf), t, np.nextafter(t, np.inf)):
                row = base.copy()
                row[cond.column] = round(v) if cond.column == "visits" else v
                rows.append(row)
    extra = pd.DataFrame(rows)
    extra["visits"] = extra["visits"].round().astype(int)
    extra.insert(0, "customer_id", np.arange(len(frame), len(frame) + len(extra)))
    return pd.concat([frame, extra], ignore_index=True)


def run_sql(conn, expression: str) -> np.ndarray:
    rows = conn.execute(
        f"SELECT customer_id, {expression} AS segment FROM customers ORDER BY customer_id"
    ).fetchall()
    return np.array([-1 if s is None else int(s) for _, s in rows])


@pytest.fixture(params=["impute", "drop"])
def fitted(request):
    frame = customers()
    seg = segment(frame, k=4, missing=request.param, id_column="customer_id")
    return frame, seg


# ---------------------------------------------------------------- fidelity


def test_fidelity_is_the_share_the_rules_put_in_their_own_segment(fitted):
    frame, seg = fitted
    predicted = seg.rules.predict(frame)
    used = seg.labels >= 0
    assert (predicted[~used] == -1).all()
    assert seg.rules.fidelity == pytest.approx(np.mean(predicted[used] == seg.labels[used]))
    for s, share in seg.rules.segment_fidelity.items():
        mine = seg.labels == s
        assert share == pytest.approx(np.mean(predicted[mine] == s))
    assert seg.rules.fidelity > 0.9  # four well-separated groups
    assert all(len(leaf.conditions) <= 3 for leaf in seg.rules.leaves)


def test_a_deeper_rule_is_at_least_as_faithful():
    frame = customers(seed=3)
    short = segment(frame, k=4, rule_depth=1, id_column="customer_id").rules
    long = segment(frame, k=4, rule_depth=4, id_column="customer_id").rules
    assert all(len(leaf.conditions) <= 1 for leaf in short.leaves)
    assert long.fidelity >= short.fidelity


def test_rule_depth_is_checked():
    with pytest.raises(OptionError, match="rule_depth must be at least 1"):
        segment(customers(), k=4, rule_depth=0)


def test_rules_are_in_the_summary_in_words(fitted):
    _, seg = fitted
    summary = json.loads(json.dumps(seg.summary()))
    assert summary["rules"]["method"] == "surrogate decision tree"
    assert summary["rules"]["fidelity"] == pytest.approx(seg.rules.fidelity)
    for s in summary["segments"]:
        assert s["rule_fidelity"] == pytest.approx(seg.rules.segment_fidelity[s["id"]])
        if s["rule"]:
            assert "annual_income" not in s["rule"]  # shown as "annual income"


# ---------------------------------------------------------------- rules.sql


def test_sql_in_sqlite_matches_the_rules(fitted, tmp_path):
    frame, seg = fitted
    data = with_boundaries(frame, seg)
    with sqlite3.connect(tmp_path / "shop.db") as conn:
        data.to_sql("customers", conn, index=False)
        got = run_sql(conn, rules_sql(seg))
    np.testing.assert_array_equal(got, seg.rules.predict(data))


def test_sql_in_duckdb_matches_the_rules(fitted):
    duckdb = pytest.importorskip("duckdb")
    frame, seg = fitted
    data = with_boundaries(frame, seg)
    conn = duckdb.connect()
    conn.register("source", data)
    conn.execute("CREATE TABLE customers AS SELECT * FROM source")
    got = run_sql(conn, rules_sql(seg))
    np.testing.assert_array_equal(got, seg.rules.predict(data))


def test_sql_in_postgresql_matches_the_rules(fitted, postgres):
    pytest.importorskip("sqlalchemy")
    from ._db import _engine, _put

    frame, seg = fitted
    data = with_boundaries(frame, seg)
    _put(postgres.url, "customers", data)
    engine = _engine(postgres.url)
    raw = engine.raw_connection()
    try:
        got = run_sql(raw.driver_connection, rules_sql(seg))
    finally:
        raw.close()
        engine.dispose()
    np.testing.assert_array_equal(got, seg.rules.predict(data))


def test_the_run_writes_rules_sql_in_its_manifest(tmp_path):
    frame = customers()
    path = tmp_path / "customers.csv"
    frame.to_csv(path, index=False)
    result = runner.invoke(app, ["run", str(path), "--k", "4", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "Segments as rules" in result.output
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert "rules.sql" in manifest["files"]
    text = (tmp_path / "out" / "rules.sql").read_text()
    assert text.count("CASE") == 1 and text.rstrip().endswith("END")
    assert '"spend ""online"" (€)"' in text
    assert frame.equals(pd.read_csv(path))  # the input is untouched


# ---------------------------------------------------------------- the mall target


def test_mall_income_and_spending_rules(mall_path, tmp_path):
    seg = segment(mall_path, features="Annual Income (k$),Spending Score (1-100)", k=5)
    assert seg.rules.fidelity >= 0.95
    assert max(seg.rules.conditions(p.id) for p in seg.profiles) <= 2
    mall = pd.read_csv(mall_path)
    with sqlite3.connect(tmp_path / "mall.db") as conn:
        mall.rename(columns={"CustomerID": "customer_id"}).to_sql("customers", conn, index=False)
        got = run_sql(conn, rules_sql(seg))
    np.testing.assert_array_equal(got, seg.rules.predict(mall))
