"""Shared fixtures. Real data lives in ../shared/data; tests that need it skip when it is absent,
and fail instead when CUSTSEG_REQUIRE_SHARED=1 (as in CI)."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CUSTSEG_SHARED", ROOT.parent / "shared")) / "data"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need(what: str, available: bool) -> None:
    """Skip when a real component is missing on a user's machine; fail under CI."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required under CI but missing")
    pytest.skip(f"{what} is not available")


def shared_file(name: str) -> Path:
    path = SHARED / name
    if not path.exists():
        if os.environ.get("CUSTSEG_REQUIRE_SHARED") == "1":
            pytest.fail(f"{path} is required (CUSTSEG_REQUIRE_SHARED=1) but missing")
        pytest.skip(f"{path} not present (shared data is not part of the project)")
    return path


@pytest.fixture
def mall_path() -> Path:
    return shared_file("mall_customers.csv")


@pytest.fixture
def wholesale_path() -> Path:
    return shared_file("wholesale_customers.csv")


@pytest.fixture
def cdnow_path() -> Path:
    return shared_file("CDNOW_master.txt")


@pytest.fixture
def mall_copy(mall_path: Path, tmp_path: Path) -> Path:
    """A private copy of the mall data, for tests that rename or rewrite it."""
    return Path(shutil.copy(mall_path, tmp_path / "mall.csv"))


@pytest.fixture
def sample():
    from custseg import sample_customers

    return sample_customers()


@dataclass
class Postgres:
    url: str  # with the password
    bare_url: str  # the same without it
    password: str


@pytest.fixture(scope="session")
def postgres():
    """A fresh database on a real PostgreSQL server (a throwaway one, see ``_postgres.py``, or
    ``CUSTSEG_PG_URL``), for the whole session."""
    import secrets

    import sqlalchemy as sa

    from . import _postgres

    external = os.environ.get("CUSTSEG_PG_URL")
    server = None
    if external:
        admin = sa.engine.make_url(external)
    else:
        bindir = _postgres.find_bindir()
        need("PostgreSQL server binaries (apt-get install postgresql)", bindir is not None)
        server = _postgres.start(bindir)
        admin = sa.engine.make_url(server.url())
    admin = admin.set(drivername="postgresql+psycopg")
    name = f"custseg_test_{secrets.token_hex(4)}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = admin.set(drivername="postgresql", database=name)
        yield Postgres(
            url.render_as_string(hide_password=False),
            url.set(password=None).render_as_string(hide_password=False),
            url.password or "",
        )
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        engine.dispose()
        if server is not None:
            server.stop()
