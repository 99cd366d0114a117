"""Fixtures shared by the unit tests: the records on both backends."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tools.postgres import PG_BIN_GLOB, PostgresServer, pg_bin, running_postgres
from tests.unit.records_fixtures import RecordsTarget

RECORDS_BACKENDS = ("sqlite", "postgresql")


def missing(what: str) -> None:
    """Skip locally when a Debian package is missing; fail in CI (CI=true), which has it."""
    if os.environ.get("CI"):
        pytest.fail(what)
    pytest.skip(what)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole run, started on first use."""
    if pg_bin() is None:
        missing(f"PostgreSQL is not installed (Debian package postgresql; no {PG_BIN_GLOB}/initdb)")
    with running_postgres() as server:
        yield server


@pytest.fixture(params=RECORDS_BACKENDS)
def records_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RecordsTarget]:
    """The records of one test: an SQLite file, or an emptied PostgreSQL database."""
    if request.param == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        server.reset()
        target = RecordsTarget("postgresql", tmp_path / "r.sqlite", server.dsn())
    else:
        target = RecordsTarget("sqlite", tmp_path / "r.sqlite")
    try:
        yield target
    finally:
        target.close_all()
