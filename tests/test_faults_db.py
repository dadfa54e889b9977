"""The database connection dropped mid-read and mid-write-back, on the real PostgreSQL server.

The backend is killed with ``pg_terminate_backend`` from a second connection at a set point: after
the first chunk of a read has arrived, and after the second chunk of a write-back was inserted.
Expected: a clear error, no half-read table used, the written table exactly as before.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from custseg import sample_customers
from custseg.exceptions import SourceError
from custseg.outputs import writeback
from custseg.read import sql as custseg_sql

from ._db import _engine, _get, _put

pytest.importorskip("sqlalchemy")


def terminate(url: str, pid: int) -> None:
    """Kill one backend from another connection, as an administrator or a failover would."""
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
    finally:
        engine.dispose()


@pytest.fixture
def customers_url(postgres) -> str:
    _put(postgres.url, "fault_customers", sample_customers(2000, seed=6))
    return postgres.url


def test_connection_killed_mid_read_is_a_clear_error(customers_url, monkeypatch):
    real = pd.read_sql_query
    seen = []

    def kill_after_first_chunk(sql, con, **kwargs):
        pid = con.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        for chunk in real(sql, con, **kwargs):
            seen.append(len(chunk))
            yield chunk
            if len(seen) == 1:
                terminate(customers_url, pid)

    monkeypatch.setattr(pd, "read_sql_query", kill_after_first_chunk)
    with pytest.raises(SourceError) as info:
        custseg_sql.load_sql(customers_url, table="fault_customers", chunksize=100)
    message = str(info.value)
    assert seen == [100]  # one chunk had arrived; no table was built from it
    assert "Could not read table 'fault_customers'" in message
    assert "connection" in message.lower() and "run again" in message
    assert "***" in message or customers_url.split("@")[0].rsplit(":", 1)[-1] not in message


@pytest.mark.parametrize("if_exists", ["append", "replace"])
def test_connection_killed_mid_write_back_leaves_the_table_unchanged(
    customers_url, monkeypatch, if_exists
):
    rows = pd.DataFrame(
        {"customer_id": [f"c{i}" for i in range(50_000)], "segment": 1, "segment_name": "Loyal"}
    )
    first = datetime(2026, 1, 1, tzinfo=UTC)
    writeback.write_back(
        rows.head(500), customers_url, "fault_segments", id_column="customer_id",
        created=first, if_exists="replace",
    )  # fmt: skip
    before = _get(customers_url, "SELECT * FROM fault_segments ORDER BY customer_id")
    real = writeback._insert_chunk
    done = []

    def kill_after_second_chunk(conn, table, chunk):
        real(conn, table, chunk)
        done.append(len(chunk))
        if len(done) == 2:
            terminate(customers_url, conn.exec_driver_sql("SELECT pg_backend_pid()").scalar())

    monkeypatch.setattr(writeback, "_insert_chunk", kill_after_second_chunk)
    with pytest.raises(SourceError, match="rolled back and the table is unchanged") as info:
        writeback.write_back(
            rows, customers_url, "fault_segments", id_column="customer_id",
            created=datetime.now(UTC), if_exists=if_exists,
        )  # fmt: skip
    assert done == [writeback.WRITE_CHUNK_ROWS] * 2  # killed mid-write, not before it
    assert "connection to the database was lost" in str(info.value)
    after = _get(customers_url, "SELECT * FROM fault_segments ORDER BY customer_id")
    pd.testing.assert_frame_equal(after, before)
