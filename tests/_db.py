"""Small SQLAlchemy helpers the SQL tests share: put a frame, read a query."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa


def _engine(url: str):
    parsed = sa.engine.make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return sa.create_engine(parsed, poolclass=sa.pool.NullPool)


def _put(url: str, name: str, frame: pd.DataFrame) -> None:
    engine = _engine(url)
    try:
        with engine.begin() as conn:
            frame.to_sql(name, conn, index=False, if_exists="replace")
    finally:
        engine.dispose()


def _get(url: str, sql: str) -> pd.DataFrame:
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            return pd.read_sql_query(sa.text(sql), conn)
    finally:
        engine.dispose()
