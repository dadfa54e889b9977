"""``custseg predict`` reading customers from databases and writing segments back: SQLite and
DuckDB files, and a real throwaway PostgreSQL server (see ``_postgres.py``, or ``CUSTSEG_PG_URL``).
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import custseg
from custseg.cli import app
from custseg.outputs import writeback

from ._db import _engine, _get, _put

sa = pytest.importorskip("sqlalchemy")
runner = CliRunner()


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    return custseg.sample_customers()


@pytest.fixture(scope="module")
def model_path(tmp_path_factory, customers) -> Path:
    path = tmp_path_factory.mktemp("model") / "model.skops"
    custseg.segment(customers, k=3).save(path)
    return path


@pytest.fixture(scope="module")
def expected(model_path, customers) -> pd.DataFrame:
    """What the model assigns to the customers, by customer id."""
    assigned = custseg.load_model(model_path).assign(customers)
    return assigned.sort_values("CustomerID").reset_index(drop=True)


def _drop(url: str, *names: str) -> None:
    engine = _engine(url)
    try:
        with engine.begin() as conn:
            for name in names:
                conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    finally:
        engine.dispose()


def _customers_table(url: str) -> pd.DataFrame:
    return _get(url, 'SELECT * FROM customers ORDER BY "CustomerID"')


def predict(model_path, source, out: Path, *args: str):
    """Run ``custseg predict`` writing its files under ``out``."""
    result = runner.invoke(
        app,
        ["predict", str(model_path), str(source), "-o", str(out / "predictions.csv"), *args],
    )
    assert "Traceback" not in result.output
    return result


def assert_written(url: str, expected: pd.DataFrame, table: str = "scored") -> pd.DataFrame:
    back = _get(url, f"SELECT * FROM {table} ORDER BY customer_id")
    assert list(back.columns) == list(writeback.SEGMENT_COLUMNS)
    assert back["customer_id"].astype(str).tolist() == expected["CustomerID"].tolist()
    assert back["segment_id"].tolist() == expected["segment"].tolist()
    assert back["segment_name"].tolist() == expected["segment_name"].tolist()
    assert back["run_id"].nunique() == 1
    run_at = pd.to_datetime(back["run_at"].iloc[0], utc=True)
    assert abs(run_at - pd.Timestamp.now(tz="UTC")) < timedelta(minutes=10)
    return back


@pytest.fixture
def sqlite_url(tmp_path, customers) -> str:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as conn:
        customers.to_sql("customers", conn, index=False)
    return f"sqlite:///{path}"


@pytest.fixture
def duckdb_url(tmp_path, customers) -> str:
    duckdb = pytest.importorskip("duckdb")
    path = tmp_path / "lake.duckdb"
    conn = duckdb.connect(str(path))
    conn.register("frame", customers)
    conn.execute("CREATE TABLE customers AS SELECT * FROM frame")
    conn.close()
    return f"duckdb:///{path}"


@pytest.fixture(params=["sqlite", "duckdb"])
def file_url(request) -> str:
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def postgres_url(postgres) -> str:
    """URL (with password) of the session's database on a real PostgreSQL server."""
    return postgres.url


# ---------------------------------------------------------------- SQLite and DuckDB files


def test_predict_reads_a_table_and_writes_back(model_path, file_url, expected, tmp_path):
    before = _customers_table(file_url)
    result = predict(
        model_path, file_url, tmp_path, "--table", "customers", "--write-table", "scored"
    )
    assert result.exit_code == 0, result.output
    assert "scored: 200 rows, run " in result.output
    assert "200 customers from " in result.output and "table customers" in result.output
    assert_written(file_url, expected)
    predictions = pd.read_csv(tmp_path / "predictions.csv", dtype={"CustomerID": str})
    predictions = predictions.sort_values("CustomerID").reset_index(drop=True)
    assert predictions["segment"].tolist() == expected["segment"].tolist()
    assert (tmp_path / "predictions.drift.json").is_file()
    pd.testing.assert_frame_equal(_customers_table(file_url), before)  # source untouched


def test_predict_database_file_path_and_query(model_path, sqlite_url, expected, tmp_path):
    path = sqlite_url.removeprefix("sqlite:///")
    result = predict(
        model_path, path, tmp_path, "--query", "SELECT * FROM customers", "--write-table", "scored"
    )
    assert result.exit_code == 0, result.output
    assert_written(sqlite_url, expected)


def test_if_exists_fail_refuses_before_the_work(model_path, file_url, expected, tmp_path):
    args = ["--table", "customers", "--write-table", "scored"]
    assert predict(model_path, file_url, tmp_path / "a", *args).exit_code == 0
    before = _get(file_url, "SELECT * FROM scored ORDER BY customer_id")
    refused = predict(model_path, file_url, tmp_path / "b", *args, "--if-exists", "fail")
    assert refused.exit_code == 2
    assert "Table 'scored' already exists" in refused.output
    assert "--if-exists replace" in refused.output
    assert not (tmp_path / "b").exists()  # checked before anything was predicted or written
    pd.testing.assert_frame_equal(
        _get(file_url, "SELECT * FROM scored ORDER BY customer_id"), before
    )
    wrong = predict(model_path, file_url, tmp_path / "c", *args, "--if-exists", "merge")
    assert wrong.exit_code == 2 and "--if-exists must be one of" in wrong.output


def test_if_exists_append_and_replace(model_path, sqlite_url, expected, tmp_path):
    args = ["--table", "customers", "--write-table", "scored", "--force"]
    assert predict(model_path, sqlite_url, tmp_path, *args).exit_code == 0
    appended = predict(model_path, sqlite_url, tmp_path, *args, "--if-exists", "append")
    assert appended.exit_code == 0, appended.output
    runs = _get(sqlite_url, "SELECT run_id, COUNT(*) AS n FROM scored GROUP BY run_id")
    assert sorted(runs["n"]) == [200, 200]
    replaced = predict(model_path, sqlite_url, tmp_path, *args, "--if-exists", "replace")
    assert replaced.exit_code == 0, replaced.output
    back = assert_written(sqlite_url, expected)
    assert back["run_id"][0] not in set(runs["run_id"])


def test_failed_write_leaves_the_previous_table(
    model_path, file_url, expected, tmp_path, monkeypatch
):
    args = ["--table", "customers", "--write-table", "scored", "--force"]
    assert predict(model_path, file_url, tmp_path, *args).exit_code == 0
    before = _get(file_url, "SELECT * FROM scored ORDER BY customer_id")

    def lost(conn, table, chunk):
        raise sa.exc.OperationalError("INSERT", {}, Exception("connection lost (injected)"))

    monkeypatch.setattr(writeback, "_insert_chunk", lost)
    failed = predict(model_path, file_url, tmp_path, *args, "--if-exists", "replace")
    assert failed.exit_code == 2
    assert "rolled back and the table is unchanged" in failed.output
    pd.testing.assert_frame_equal(
        _get(file_url, "SELECT * FROM scored ORDER BY customer_id"), before
    )


def test_source_table_is_never_written(model_path, sqlite_url, tmp_path):
    before = _customers_table(sqlite_url)
    result = predict(
        model_path, sqlite_url, tmp_path, "--table", "customers", "--write-table", "customers",
        "--if-exists", "replace",
    )  # fmt: skip
    assert result.exit_code == 2 and "never modifies its source" in result.output
    pd.testing.assert_frame_equal(_customers_table(sqlite_url), before)


def test_write_url_and_id_needed(model_path, customers, duckdb_url, sqlite_url, tmp_path):
    csv = tmp_path / "new.csv"
    customers.to_csv(csv, index=False)
    nowhere = predict(model_path, csv, tmp_path / "a", "--write-table", "scored")
    assert nowhere.exit_code == 2 and "--write-url" in nowhere.output
    elsewhere = predict(
        model_path, csv, tmp_path / "b", "--write-table", "scored", "--write-url", duckdb_url
    )
    assert elsewhere.exit_code == 0, elsewhere.output
    back = _get(duckdb_url, "SELECT * FROM scored ORDER BY customer_id")
    assert len(back) == 200 and back["customer_id"].iloc[0] == "0001"
    _put(sqlite_url, "anonymous", customers.drop(columns="CustomerID"))
    anonymous = predict(
        model_path, sqlite_url, tmp_path / "c", "--table", "anonymous", "--write-table", "scored"
    )
    assert anonymous.exit_code == 2 and "needs a customer id column" in anonymous.output


def test_input_with_its_own_segment_column(model_path, customers, sqlite_url, tmp_path):
    """The written segments are predict's, not a ``segment`` column the customers already had."""
    _put(sqlite_url, "tagged", customers.assign(segment=99, segment_name="old"))
    result = predict(
        model_path, sqlite_url, tmp_path, "--table", "tagged", "--write-table", "scored"
    )
    assert result.exit_code == 0, result.output
    back = _get(sqlite_url, "SELECT * FROM scored")
    assert set(back["segment_id"]) <= {0, 1, 2} and "old" not in set(back["segment_name"])


def test_database_without_table_says_so(model_path, sqlite_url, tmp_path):
    result = predict(model_path, sqlite_url, tmp_path)
    assert result.exit_code == 2
    assert "--table or --query" in result.output and "'customers'" in result.output


# ---------------------------------------------------------------- PostgreSQL


def test_postgres_round_trip(model_path, customers, expected, postgres_url, tmp_path):
    _put(postgres_url, "customers", customers)
    _drop(postgres_url, "scored")
    before = _customers_table(postgres_url)
    result = predict(
        model_path, postgres_url, tmp_path, "--table", "customers", "--write-table", "scored"
    )
    assert result.exit_code == 0, result.output
    assert "scored: 200 rows, run " in result.output
    assert_written(postgres_url, expected)
    pd.testing.assert_frame_equal(_customers_table(postgres_url), before)
    password = sa.engine.make_url(postgres_url).password
    assert password and password not in result.output
    assert ":***@" in result.output
    for path in tmp_path.iterdir():
        assert password.encode() not in path.read_bytes(), path.name
    again = predict(
        model_path, postgres_url, tmp_path / "again", "--table", "customers",
        "--write-table", "scored",
    )  # fmt: skip
    assert again.exit_code == 2 and "already exists" in again.output
    assert password not in again.output
