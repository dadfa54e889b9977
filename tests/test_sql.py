"""SQL sources and write-back against a real PostgreSQL server, SQLite and DuckDB files.

The PostgreSQL server is a throwaway one started for the session (see ``_postgres.py``), or the
server named by ``CUSTSEG_PG_URL``; each session works in a fresh database that is dropped at the
end. Where no PostgreSQL server binaries exist the PostgreSQL tests skip, and under CI they fail.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from custseg import load, segment
from custseg.cli import app
from custseg.exceptions import (
    ConfigError,
    MissingDependencyError,
    OutputExistsError,
    SourceError,
)
from custseg.outputs import writeback
from custseg.read import sql as custseg_sql

from ._db import _engine, _get, _put

sa = pytest.importorskip("sqlalchemy")
runner = CliRunner()


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def mall(mall_path) -> pd.DataFrame:
    return pd.read_csv(mall_path)


@pytest.fixture
def pg_customers(postgres, mall) -> str:
    """URL (with password) of the session database holding a fresh ``customers`` table."""
    _put(postgres.url, "customers", mall)
    for table in ("customer_segments", "segments_b"):
        engine = _engine(postgres.url)
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
        engine.dispose()
    return postgres.url


@pytest.fixture
def sqlite_file(tmp_path, mall) -> Path:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as conn:
        mall.to_sql("customers", conn, index=False)
    return path


@pytest.fixture
def duckdb_file(tmp_path, mall) -> Path:
    duckdb = pytest.importorskip("duckdb")
    path = tmp_path / "lake.duckdb"
    conn = duckdb.connect(str(path))
    conn.register("mall", mall)
    conn.execute("CREATE TABLE customers AS SELECT * FROM mall")
    conn.close()
    return path


@pytest.fixture(params=["postgresql", "sqlite", "duckdb"])
def db_url(request) -> str:
    """A database of each kind holding the mall ``customers`` table."""
    if request.param == "postgresql":
        return request.getfixturevalue("pg_customers")
    path = request.getfixturevalue(f"{request.param}_file")
    return f"{request.param}:///{path}"


@pytest.fixture
def report_stub(monkeypatch):
    """Until the HTML report lands (``render_html`` raises NotImplementedError), write a stub so
    the CLI runs end to end; once it exists, the real report is used."""
    import custseg.outputs.report as report

    try:
        report.render_html(None)
    except NotImplementedError:

        def stub(seg, path=None, **_):
            html = f"<html><body>{seg.k} segments</body></html>"
            if path is not None:
                Path(path).write_text(html, encoding="utf-8")
            return html

        monkeypatch.setattr(report, "render_html", stub)
    except Exception:
        pass


# ---------------------------------------------------------------- reading


def test_reads_a_postgres_table_like_the_csv(pg_customers, mall_path):
    table = load(pg_customers, table="customers")
    from_csv = load(mall_path)
    assert table.roles == from_csv.roles
    assert table.frame.shape == (200, 5)
    pd.testing.assert_frame_equal(
        table.frame.drop(columns="CustomerID"),
        from_csv.frame.drop(columns="CustomerID"),
        check_dtype=False,
    )
    assert table.source.endswith("table customers") and "***" in table.source


def test_query_is_read_in_chunks(pg_customers, monkeypatch):
    calls = []
    real = pd.read_sql_query

    def spy(*args, **kwargs):
        chunks = list(real(*args, **kwargs))
        calls.append(len(chunks))
        return iter(chunks)

    monkeypatch.setattr(pd, "read_sql_query", spy)
    query = 'SELECT * FROM customers WHERE "Age" >= 30 ORDER BY "CustomerID"'
    chunked = custseg_sql.read_sql(pg_customers, query=query, chunksize=7)
    whole = custseg_sql.read_sql(pg_customers, query=query, chunksize=100_000)
    assert calls[0] == -(-len(whole) // 7) > 1 and calls[1] == 1
    pd.testing.assert_frame_equal(chunked, whole)
    assert (chunked["Age"] >= 30).all()


def test_numeric_columns_arrive_as_numbers(pg_customers):
    query = 'SELECT "CustomerID", CAST("Annual Income (k$)" AS NUMERIC(10, 2)) AS income, '
    query += '"Spending Score (1-100)" AS spending FROM customers'
    table = load(pg_customers, query=query)
    assert pd.api.types.is_float_dtype(table.frame["income"])
    assert table.roles["income"] == "income" and table.roles["spending"] == "spending"


def test_password_from_env_is_never_shown_or_stored(
    postgres, pg_customers, monkeypatch, tmp_path, report_stub
):
    monkeypatch.setenv(custseg_sql.PASSWORD_ENV, postgres.password)
    table = load(postgres.bare_url, table="customers")
    assert len(table.frame) == 200
    # With the password in the URL: masked everywhere it could leak.
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        ["run", pg_customers, "--table", "customers", "--k", "5", "-o", str(out),
         "--write-table", "customer_segments"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    secret = postgres.password
    assert secret and secret not in result.output
    for path in out.iterdir():
        assert secret.encode() not in path.read_bytes(), path.name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["source"].startswith("postgresql://") and ":***@" in summary["source"]


def test_connection_errors_mask_the_password():
    url = "postgresql://bob:hunter2@127.0.0.1:1/shop"
    with pytest.raises(SourceError, match=r"bob:\*\*\*@") as caught:
        load(url, table="customers")
    assert "hunter2" not in str(caught.value)


def test_mask_url():
    assert custseg_sql.mask_url("postgresql://u:p%40ss@h:5/db") == "postgresql://u:***@h:5/db"
    assert custseg_sql.mask_url("postgresql://u@h/db") == "postgresql://u@h/db"
    assert custseg_sql.mask_url("mssql://h/db?user=u&password=x1&a=b").count("x1") == 0


def test_db_url_from_environment(duckdb_file, monkeypatch, tmp_path, report_stub):
    monkeypatch.setenv(custseg_sql.URL_ENV, f"duckdb:///{duckdb_file}")
    result = runner.invoke(
        app, ["run", "--table", "customers", "--k", "5", "-o", str(tmp_path / "o"), "-q"]
    )
    assert result.exit_code == 0, result.output
    assert pd.read_csv(tmp_path / "o" / "segments.csv").shape[0] == 200


@pytest.mark.parametrize("kind", ["sqlite", "duckdb"])
def test_database_files_by_path_and_url(kind, request):
    path = request.getfixturevalue(f"{kind}_file")
    by_path = load(path, table="customers")
    by_url = load(f"{kind}:///{path}", table="customers")
    pd.testing.assert_frame_equal(by_path.frame, by_url.frame)
    assert by_path.frame.shape == (200, 5) and by_path.id_column == "CustomerID"
    with pytest.raises(ConfigError, match=r"--table or --query \(its tables: 'customers'\)"):
        load(path)
    with pytest.raises(SourceError, match=r"no table 'customer' in .*Did you mean 'customers'"):
        load(path, table="customer")


def test_source_errors(tmp_path, sqlite_file):
    with pytest.raises(SourceError, match="No such database file"):
        load(tmp_path / "absent.db", table="customers")
    with pytest.raises(SourceError, match="No such database file"):
        load(f"sqlite:///{tmp_path / 'absent.db'}", table="customers")
    with pytest.raises(ConfigError, match="exactly one of --table and --query"):
        custseg_sql.read_sql(f"sqlite:///{sqlite_file}", table="customers", query="select 1")
    with pytest.raises(SourceError, match="Could not read the query"):
        load(sqlite_file, query="SELECT nope FROM customers")
    with pytest.raises(ConfigError, match="Malformed database URL"):
        load("postgresql://u:pw@host:notaport/db", table="t")


def test_missing_sqlalchemy_says_which_extra(monkeypatch, sqlite_file):
    monkeypatch.setitem(sys.modules, "sqlalchemy", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'custseg\[sql\]'"):
        load(f"sqlite:///{sqlite_file}", table="customers")


# ---------------------------------------------------------------- writing back


def _checksum(url: str, table: str) -> pd.DataFrame:
    return _get(url, f'SELECT * FROM {table} ORDER BY "CustomerID"')


def test_run_writes_back_and_reads_back(db_url, tmp_path, report_stub):
    before = _checksum(db_url, "customers")
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        ["run", db_url, "--table", "customers", "--k", "5", "-o", str(out),
         "--write-table", "customer_segments"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "customer_segments: 200 rows, run " in result.output
    back = _get(db_url, "SELECT * FROM customer_segments ORDER BY customer_id")
    assert list(back.columns) == list(writeback.SEGMENT_COLUMNS)
    segments = pd.read_csv(out / "segments.csv").sort_values("CustomerID")
    assert back["customer_id"].tolist() == segments["CustomerID"].tolist()
    assert back["segment_id"].tolist() == segments["segment"].tolist()
    assert back["segment_name"].tolist() == segments["segment_name"].tolist()
    assert back["run_id"].nunique() == 1
    run_at = pd.to_datetime(back["run_at"].iloc[0], utc=True)
    assert abs(run_at - pd.Timestamp.now(tz="UTC")) < timedelta(minutes=10)
    pd.testing.assert_frame_equal(_checksum(db_url, "customers"), before)


def test_if_exists_fail_append_replace(pg_customers, tmp_path, report_stub):
    args = ["run", pg_customers, "--table", "customers", "--k", "4", "-q", "--force",
            "-o", str(tmp_path / "o"), "--write-table", "customer_segments"]  # fmt: skip
    assert runner.invoke(app, args).exit_code == 0
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2 and "already exists" in refused.output
    assert runner.invoke(app, [*args, "--if-exists", "append"]).exit_code == 0
    runs = _get(pg_customers, "SELECT run_id, COUNT(*) AS n FROM customer_segments GROUP BY 1")
    assert sorted(runs["n"]) == [200, 200]
    assert runner.invoke(app, [*args, "--if-exists", "replace"]).exit_code == 0
    after = _get(pg_customers, "SELECT DISTINCT run_id FROM customer_segments")
    assert len(after) == 1 and after["run_id"][0] not in set(runs["run_id"])
    wrong = runner.invoke(app, [*args, "--if-exists", "merge"])
    assert wrong.exit_code == 2 and "--if-exists must be one of" in wrong.output


def _rows(url: str, run_id: str) -> pd.DataFrame:
    seg = segment(load(url, table="customers"), k=4)
    return writeback.segment_rows(
        seg.assignments(),
        id_column=seg.table.id_column,
        run_id=run_id,
        run_at=datetime.now(UTC),
    )


@pytest.mark.parametrize("if_exists", ["replace", "append"])
def test_failure_mid_write_leaves_the_old_table(db_url, monkeypatch, if_exists):
    rows = _rows(db_url, "old")
    writeback.write_segments(db_url, "customer_segments", rows, if_exists="replace")
    before = _get(db_url, "SELECT * FROM customer_segments ORDER BY customer_id")
    real, calls = writeback._insert_chunk, []

    def fail_after_first_chunk(conn, table, chunk):
        calls.append(len(chunk))
        if len(calls) > 1:
            raise ConnectionResetError("connection lost mid-write (injected)")
        real(conn, table, chunk)

    monkeypatch.setattr(writeback, "_insert_chunk", fail_after_first_chunk)
    with pytest.raises(ConnectionResetError, match="injected"):
        writeback.write_segments(
            db_url, "customer_segments", rows.assign(run_id="new"), if_exists=if_exists,
            chunksize=50,
        )  # fmt: skip
    assert calls == [50, 50]  # the first chunk was inserted before the failure
    after = _get(db_url, "SELECT * FROM customer_segments ORDER BY customer_id")
    pd.testing.assert_frame_equal(after, before)


def test_constraint_violation_rolls_back(db_url):
    rows = _rows(db_url, "old")
    writeback.write_segments(db_url, "customer_segments", rows, if_exists="replace")
    before = _get(db_url, "SELECT * FROM customer_segments ORDER BY customer_id")
    duplicated = pd.concat([rows, rows.iloc[[0]]], ignore_index=True).assign(run_id="new")
    with pytest.raises(SourceError, match="rolled back and the table is unchanged"):
        writeback.write_segments(
            db_url, "customer_segments", duplicated, if_exists="replace", chunksize=50
        )
    pd.testing.assert_frame_equal(
        _get(db_url, "SELECT * FROM customer_segments ORDER BY customer_id"), before
    )


def test_source_table_is_never_written(pg_customers, tmp_path):
    rows = _rows(pg_customers, "r")
    for name in ("customers", "public.customers", "CUSTOMERS"):
        with pytest.raises(ConfigError, match="never modifies its source"):
            writeback.write_segments(
                pg_customers, name, rows, if_exists="replace", source_table="customers"
            )
    result = runner.invoke(
        app,
        ["run", pg_customers, "--table", "customers", "-o", str(tmp_path),
         "--write-table", "customers", "--if-exists", "replace"],
    )  # fmt: skip
    assert result.exit_code == 2 and "never modifies its source" in result.output
    assert len(_get(pg_customers, "SELECT * FROM customers")) == 200


def test_write_table_needs_a_database_and_an_id(mall_path, sqlite_file, tmp_path, mall):
    result = runner.invoke(app, ["run", str(mall_path), "--write-table", "t", "-o", str(tmp_path)])
    assert result.exit_code == 2 and "--write-url" in result.output
    with sqlite3.connect(sqlite_file) as conn:
        mall.drop(columns="CustomerID").to_sql("anonymous", conn, index=False)
    result = runner.invoke(
        app,
        ["run", str(sqlite_file), "--table", "anonymous", "--id-column", "none",
         "--write-table", "t", "-o", str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == 2 and "needs a customer id column" in result.output


def test_write_url_sends_segments_elsewhere(mall_path, duckdb_file, tmp_path, report_stub):
    target = f"duckdb:///{duckdb_file}"
    result = runner.invoke(
        app,
        ["run", str(mall_path), "--k", "5", "-o", str(tmp_path / "o"),
         "--write-table", "mall_segments", "--write-url", target],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(_get(target, "SELECT * FROM mall_segments")) == 200


def test_write_segments_api_for_predict(duckdb_file):
    """``write_segments`` as ``custseg predict`` uses it: any assigned frame, one transaction."""
    url = f"duckdb:///{duckdb_file}"
    assigned = pd.DataFrame(
        {"id": ["a", "b", "c"], "segment": [0, 1, 0], "segment_name": ["x", "y", "x"]}
    )
    rows = writeback.segment_rows(
        assigned, id_column="id", run_id=writeback.new_run_id(), run_at="2025-01-02T03:04:05Z"
    )
    assert writeback.write_segments(url, "scored", rows) == 3
    with pytest.raises(OutputExistsError, match="--if-exists replace"):
        writeback.write_segments(url, "scored", rows)
    back = _get(url, "SELECT * FROM scored ORDER BY customer_id")
    assert back["customer_id"].tolist() == ["a", "b", "c"]
    assert back["segment_id"].tolist() == [0, 1, 0]


def test_explore_and_choose_k_read_databases(sqlite_file):
    url = f"sqlite:///{sqlite_file}"
    explored = runner.invoke(app, ["explore", url, "--table", "customers"])
    assert explored.exit_code == 0, explored.output
    assert "200 rows, 5 columns" in explored.output
    query = "SELECT * FROM customers"
    compared = runner.invoke(
        app, ["choose-k", str(sqlite_file), "--query", query, "--k-range", "2..4"]
    )
    assert compared.exit_code == 0, compared.output
    assert "Recommended" in compared.output
    nothing = runner.invoke(app, ["explore"])
    assert nothing.exit_code == 2 and "Name the customer table" in nothing.output
