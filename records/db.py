"""One connection to the records database, SQLite or PostgreSQL, behind the same small API.

The records code writes its SQL once, with ``?`` placeholders and the subset both
engines share (``ON CONFLICT ... DO NOTHING``, ``COALESCE``, no engine functions); the
PostgreSQL connection turns ``?`` into ``%s``. Both connections are in autocommit mode:
each statement is its own transaction unless it runs inside :meth:`Db.transaction`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit, urlunsplit

Dialect = Literal["sqlite", "postgresql"]


class Cursor(Protocol):
    @property
    def description(self) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Db:
    """A connection: ``execute`` and ``executemany`` with ``?`` placeholders, ``transaction``."""

    dialect: Dialect
    errors: tuple[type[Exception], ...]
    """What a failed statement raises (a refused disk, a lost server)."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        raise NotImplementedError

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        raise NotImplementedError

    @contextmanager
    def transaction(self) -> Iterator[None]:
        raise NotImplementedError
        yield  # pragma: no cover

    def close(self) -> None:
        raise NotImplementedError

    def dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cur = self.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


class SqliteDb(Db):
    dialect: Dialect = "sqlite"
    errors = (sqlite3.Error,)

    def __init__(self, path: Path | str) -> None:
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        if str(path) != ":memory:":
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA busy_timeout=2000")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        return self._conn.execute(sql, tuple(params))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._conn.executemany(sql, rows)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        # IMMEDIATE: take the write lock at once, so two processes migrating (or
        # purging) one file wait for each other instead of failing at COMMIT
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def close(self) -> None:
        self._conn.close()


class PostgresDb(Db):
    dialect: Dialect = "postgresql"

    def __init__(self, dsn: str, *, connect_timeout_s: float = 5.0) -> None:
        import psycopg

        self.errors = (psycopg.Error,)
        self._conn = psycopg.connect(
            dsn, autocommit=True, connect_timeout=max(1, int(connect_timeout_s))
        )

    @staticmethod
    def _sql(sql: str) -> str:
        return sql.replace("?", "%s")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        return self._conn.execute(self._sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self._conn.cursor() as cur:
            cur.executemany(self._sql(sql), [tuple(r) for r in rows])

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._conn.transaction():
            yield

    def close(self) -> None:
        self._conn.close()


@dataclass(frozen=True)
class Target:
    """Where the records live: an SQLite file (the embedded default) or a PostgreSQL DSN."""

    path: Path
    """The SQLite file; for PostgreSQL only the directory beside which exports go."""
    dsn: str | None = None

    @property
    def dialect(self) -> Dialect:
        return "sqlite" if self.dsn is None else "postgresql"

    def connect(self) -> Db:
        """A new connection (the store's own, or one for a purge in another thread)."""
        if self.dsn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return SqliteDb(self.path)
        return PostgresDb(self.dsn)

    def describe(self) -> str:
        """For logs and /healthz: the file, or the DSN without its password."""
        return str(self.path) if self.dsn is None else safe_dsn(self.dsn)


def safe_dsn(dsn: str) -> str:
    """A DSN fit for a log line: a URL's password and any ``password=`` value hidden."""
    if "://" in dsn:
        parts = urlsplit(dsn)
        if parts.password is not None:
            host = parts.hostname or ""
            if parts.port is not None:
                host = f"{host}:{parts.port}"
            netloc = f"{parts.username or ''}:***@{host}"
            parts = parts._replace(netloc=netloc)
        return urlunsplit(parts)
    words = ["password=***" if w.lower().startswith("password=") else w for w in dsn.split()]
    return " ".join(words)
