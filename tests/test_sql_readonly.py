"""``--query`` only reads: a non-SELECT is refused before it runs, and the connection is read-only
(PostgreSQL ``SET TRANSACTION READ ONLY``, SQLite ``mode=ro``, DuckDB ``read_only``)."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest
from typer.testing import CliRunner

from custseg import sample_customers
from custseg.cli import app
from custseg.exceptions import ConfigError, SourceError
from custseg.read import sql as custseg_sql

from ._db import _get, _put

pytest.importorskip("sqlalchemy")


@pytest.fixture
def customers() -> pd.DataFrame:
    return sample_customers(120, seed=4)


@pytest.fixture(params=["postgresql", "sqlite", "duckdb"])
def db_url(request, tmp_path, customers) -> str:
    """A database of each kind holding a ``customers`` table."""
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres").url
        _put(url, "customers", customers)
        return url
    if request.param == "sqlite":
        path = tmp_path / "shop.db"
        with sqlite3.connect(path) as conn:
            customers.to_sql("customers", conn, index=False)
        return f"sqlite:///{path}"
    duckdb = pytest.importorskip("duckdb")
    path = tmp_path / "lake.duckdb"
    conn = duckdb.connect(str(path))
    conn.register("frame", customers)
    conn.execute("CREATE TABLE customers AS SELECT * FROM frame")
    conn.close()
    return f"duckdb:///{path}"


def _count(url: str) -> int:
    return int(_get(url, "SELECT COUNT(*) AS n FROM customers")["n"].iloc[0])


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("delete from customers", "starts with 'DELETE'"),
        ("SELECT 1; DELETE FROM customers", "more than one statement"),
        ("WITH d AS (DELETE FROM customers RETURNING *) SELECT * FROM d", "contains 'DELETE'"),
        ("SELECT * INTO copy_of FROM customers", "contains 'INTO'"),
        ("SELECT * FROM customers FOR UPDATE", "contains 'UPDATE'"),
        ("  -- just a note\n drop table customers", "starts with 'DROP'"),
        ("", "it is empty"),
    ],
)
def test_non_select_is_refused_before_it_runs(db_url, query, problem):
    with pytest.raises(ConfigError, match="--query must be a single SELECT") as info:
        custseg_sql.load_sql(db_url, query=query)
    assert problem in str(info.value) and "custseg only reads" in str(info.value)
    assert _count(db_url) == 120


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * FROM customers -- delete later",
        "select * from customers where 'drop' <> 'insert; update'",
        "WITH c AS (SELECT * FROM customers) SELECT * FROM c;",
        "/* update nightly */ SELECT * FROM customers",
    ],
)
def test_selects_that_mention_writes_in_text_are_read(db_url, query):
    assert len(custseg_sql.load_sql(db_url, query=query).frame) == 120


def test_the_connection_itself_is_read_only(db_url, monkeypatch):
    """A write that slipped past the statement check is stopped by the database."""
    monkeypatch.setattr(custseg_sql, "check_select", lambda _query: None)
    with pytest.raises(SourceError, match="Could not read the query") as info:
        custseg_sql.read_sql(db_url, query="DELETE FROM customers")
    assert "read" in str(info.value).lower()  # "read-only transaction", "readonly database", ...
    assert _count(db_url) == 120


def test_cli_refuses_a_delete_with_exit_2(db_url, tmp_path):
    args = ["run", db_url, "--query", "delete from customers", "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "--query must be a single SELECT" in " ".join(result.output.split())
    assert "Traceback" not in result.output and _count(db_url) == 120


def test_spark_sql_query_gets_the_same_check():
    from custseg.spark.source import read_source

    # Refused before Spark is asked anything: no session is needed to see it.
    with pytest.raises(ConfigError, match="starts with 'DROP'"):
        read_source(None, query="DROP TABLE crm.customers")
