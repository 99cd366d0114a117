"""Call records: one row per call, events appended as they happen, in SQLite or PostgreSQL.

The schema is :mod:`records.migrations` (versioned, the same on both engines); the
backend is chosen by :class:`records.db.Target`: an SQLite file in WAL mode (the
embedded default, one gateway) or a PostgreSQL database (several gateways).

Writes leave the event loop: a call's writes are queued, in order, to one writer
thread that owns the connection (a commit costs tens of microseconds on SQLite, a
round trip on PostgreSQL; at 100 calls that was ~10 % of the loop's time). Reads go
through the same thread, behind the writes queued before them, so a read always sees
what the same caller wrote before it. Once the thread has run a write it is in the
WAL file (or the server), so ``kill -9`` of the gateway loses only what sat in the
queue at that moment, normally nothing or a write or two (<1 ms of writes).

When the database cannot be written (a read-only file system, a full disk, a lost
PostgreSQL server), calls go on: what could not be written waits, in order, in a
bounded backlog in memory and is written first once the database takes it again
(retried every ``RETRY_EVERY_S`` by the thread; :meth:`Records.retry`, which /healthz
calls, asks for a try now); :attr:`Records.failing` says why meanwhile. Nothing already
committed is touched. The backlog is lost only if the gateway dies during the outage,
and past ``BACKLOG_MAX`` writes the oldest are dropped and counted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import queue
import secrets
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from records.db import Db, SqliteDb, Target
from records.migrations import migrate

if TYPE_CHECKING:
    from config.settings import RecordsSettings

log = logging.getLogger(__name__)
BACKLOG_MAX = 50_000
T = TypeVar("T")
CALL_COLUMNS = (
    "id, channel, caller_hash, language, started_at, answered_at, ended_at, ended_by,"
    " outcome, topic"
)
"""What :meth:`Records.call` shows (not the retention bookkeeping columns)."""


def site_salt(configured: str | None, db_path: Path) -> str:
    """The configured secret, or this site's own random one (made once, kept beside the DB).

    Phone numbers are few enough to try them all, so the hash is only a pseudonym if
    the salt is secret: never a default shared by every installation.
    """
    if configured:
        return configured
    path = db_path.with_name(db_path.name + ".salt")
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    salt = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(salt + "\n")
    return salt


def hash_caller(caller: str, salt: str) -> str:
    """A stable pseudonym for a phone number: HMAC, so it can't be reversed by lookup."""
    return hmac.new(salt.encode(), caller.encode(), hashlib.sha256).hexdigest()[:24]


class _Write:
    __slots__ = ("params", "sql")

    def __init__(self, sql: str, params: tuple[Any, ...]) -> None:
        self.sql, self.params = sql, params


class _Job:
    """Work for the writer thread that needs the connection (a read, a purge): run in order."""

    __slots__ = ("fn", "future")

    def __init__(self, fn: Callable[[Db], Any]) -> None:
        self.fn = fn
        self.future: Future[Any] = Future()


_STOP = object()
_POKE = object()


class Records:
    """The records store: writes queued to one writer thread, reads behind them."""

    RETRY_EVERY_S = 1.0
    """While the database refuses, writes are kept; a write is tried at most this often."""

    def __init__(
        self,
        path: Path,
        salt: str | None,
        *,
        clock: Callable[[], float] = time.time,
        dsn: str | None = None,
        gateway: str | None = None,
    ) -> None:
        self.target = Target(path, dsn)
        self.path = path
        self.clock = clock
        """Wall-clock time for what is written (a fake one in tests)."""
        if dsn is not None and not salt:
            # every gateway must hash a number alike, and the secret is not kept in the
            # database beside the hashes
            raise ValueError("records.caller_hash_salt is required with PostgreSQL")
        self.salt = site_salt(salt, path)
        self.gateway = gateway or socket.gethostname()
        """This gateway's name in ``calls.gateway``: whose open calls it may end at start."""
        self._backlog: deque[_Write] = deque()
        self.failing: str | None = None
        """Why the last write failed; None while writes succeed."""
        self.dropped = 0
        """Writes lost: the backlog was full, or the database rejected the statement."""
        self._next_try = 0.0
        self._db: Db | None = None
        self._connect()
        self._jobs: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="records-writer", daemon=True)
        self._thread.start()

    @property
    def where(self) -> str:
        """The file or the DSN without its password (logs, /healthz)."""
        return self.target.describe()

    def _connect(self) -> bool:
        """(Re)open the connection and bring the schema up to date; False if refused."""
        try:
            fresh = self.target.connect()
        except Exception as exc:  # sqlite3/psycopg errors: refused disk, server down
            self._failed(exc)
            return False
        old, self._db = self._db, fresh
        if old is not None:
            old.close()
        try:
            migrate(fresh)
        except fresh.errors as exc:
            self._failed(exc)
            return False
        return True

    def close(self) -> None:
        """Write what is queued (one last try if the database refused), then stop."""
        if self._thread.is_alive():
            self._next_try = 0.0
            self._jobs.put(_STOP)
            self._thread.join()
        if self._db is not None:
            self._db.close()

    # ------------------------------------------------------------------ the thread

    def _run(self) -> None:
        while True:
            timeout = self.RETRY_EVERY_S if self.failing is not None else None
            try:
                job = self._jobs.get(timeout=timeout)
            except queue.Empty:
                job = _POKE
            if isinstance(job, _Write):
                self._do_write(job)
            elif isinstance(job, _Job):
                self._do_job(job)
            elif job is _STOP:
                self._retry_now()
                return
            else:
                self._retry_now()

    def _do_write(self, write: _Write) -> None:
        if self.failing is not None and not self._retry_now():
            self._keep(write)
            return
        assert self._db is not None
        try:
            self._db.execute(write.sql, write.params)
        except self._db.errors as exc:
            if not _transient(exc):  # a bug, not the disk: retrying cannot help
                log.error("records.write_rejected", extra={"error": str(exc)})
                self.dropped += 1
                return
            self._failed(exc)
            self._keep(write)

    def _do_job(self, job: _Job) -> None:
        if not job.future.set_running_or_notify_cancel():
            return
        try:
            if self._db is None:
                raise ConnectionError(f"records database not available: {self.failing}")
            job.future.set_result(job.fn(self._db))
        except BaseException as exc:
            job.future.set_exception(exc)

    def _keep(self, write: _Write) -> None:
        if len(self._backlog) >= BACKLOG_MAX:
            self._backlog.popleft()
            self.dropped += 1
        self._backlog.append(write)

    def _failed(self, exc: BaseException) -> None:
        if self.failing is None:
            log.error("records.write_failed", extra={"error": str(exc), "path": self.where})
        self.failing = str(exc) or type(exc).__name__
        self._next_try = time.monotonic() + self.RETRY_EVERY_S

    def _retry_now(self) -> bool:
        """Write the backlog; True when nothing is left waiting (or nothing has failed).

        After a failure the connection is opened anew: one opened on a read-only file
        system stays read-only after the disk comes back, a lost server's is closed."""
        if self.failing is None:
            return True
        if time.monotonic() < self._next_try:
            return False
        if not self._connect():
            return False
        assert self._db is not None
        try:
            while self._backlog:
                write = self._backlog[0]
                self._db.execute(write.sql, write.params)
                self._backlog.popleft()
        except self._db.errors as exc:
            self._failed(exc)
            return False
        log.warning("records.write_recovered", extra={"path": self.where})
        self.failing = None
        return True

    # ------------------------------------------------------------------ writing

    def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        """Queue a write (never blocks the caller; done in order by the writer thread)."""
        self._jobs.put(_Write(sql, params))

    def retry(self) -> bool:
        """Ask the writer to try the backlog now; True when nothing failed so far.

        Does not wait: /healthz calls it on the event loop."""
        if self.failing is None:
            return True
        self._next_try = 0.0
        self._jobs.put(_POKE)
        return False

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every write queued so far has been run (or kept in the backlog)."""
        self.run(lambda _db: None, timeout=timeout)

    def run(self, fn: Callable[[Db], T], timeout: float | None = None) -> T:
        """``fn(connection)`` on the writer thread, after the writes queued before it.

        Blocks the caller until done: for reads (the desk, the CLI) and the CLI's purge
        and export. From the event loop use :meth:`submit` and await the future."""
        if threading.current_thread() is self._thread:
            assert self._db is not None
            return fn(self._db)
        result: T = self.submit(fn).result(timeout)
        return result

    def submit(self, fn: Callable[[Db], T]) -> Future[T]:
        job = _Job(fn)
        if not self._thread.is_alive():
            raise RuntimeError("the records store is closed")
        self._jobs.put(job)
        return job.future

    def end_abandoned(self, reason: str) -> list[str]:
        """Calls this gateway left open (it was killed): ended now, saying why.

        On SQLite (one gateway per file) every open call; on PostgreSQL only this
        gateway's own (``calls.gateway``): the others' calls are live."""

        def open_calls(db: Db) -> list[str]:
            sql = "SELECT id FROM calls WHERE ended_at IS NULL"
            params: tuple[str, ...] = ()
            if db.dialect == "postgresql":
                sql, params = sql + " AND gateway = ?", (self.gateway,)
            return [str(call_id) for (call_id,) in db.execute(sql, params).fetchall()]

        try:
            ids = self.run(open_calls)
        except Exception:  # the database refuses: nothing can be ended now
            return []
        for call_id in ids:
            self.event(call_id, "ended", by="gateway", reason=reason, abrupt=True)
            self.update_call(call_id, ended_by="gateway", ended_at=self.clock(), outcome="cut off")
        return ids

    @property
    def backlog(self) -> int:
        """Writes not yet in the database: kept after a failure, or still queued."""
        return len(self._backlog) + self._jobs.qsize()

    def call_started(self, call_id: str, channel: str, caller: str, language: str) -> None:
        self._write(
            "INSERT INTO calls (id, channel, caller_hash, language, started_at, gateway)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            (
                call_id,
                channel,
                hash_caller(caller, self.salt),
                language,
                self.clock(),
                self.gateway,
            ),
        )

    def update_call(self, call_id: str, **fields: Any) -> None:
        allowed = {"language", "answered_at", "ended_at", "ended_by", "outcome", "topic"}
        bad = set(fields) - allowed
        if bad:
            raise ValueError(f"not a call field: {', '.join(sorted(bad))}")
        if not fields:
            return
        cols = ", ".join(f"{name} = ?" for name in fields)
        self._write(f"UPDATE calls SET {cols} WHERE id = ?", (*fields.values(), call_id))

    def event(self, call_id: str, kind: str, **data: Any) -> None:
        self._write(
            "INSERT INTO events (call_id, at, kind, data) VALUES (?, ?, ?, ?)",
            (call_id, self.clock(), kind, json.dumps(data, ensure_ascii=False, default=str)),
        )

    def audit(
        self, who: str, action: str, call_id: str | None = None, why: str | None = None
    ) -> None:
        """Record that someone read a call's record (or exported, or purged)."""
        self._write(
            "INSERT INTO audit (at, who, call_id, action, why) VALUES (?, ?, ?, ?, ?)",
            (self.clock(), who, call_id, action, why),
        )

    # ------------------------------------------------------------------ reading

    def audit_log(self, call_id: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT at, who, call_id, action, why FROM audit"
        params: tuple[Any, ...] = ()
        if call_id is not None:
            sql, params = sql + " WHERE call_id = ?", (call_id,)
        return self.run(lambda db: db.dicts(sql + " ORDER BY seq", params))

    def call(self, call_id: str) -> dict[str, Any] | None:
        rows = self.run(
            lambda db: db.dicts(f"SELECT {CALL_COLUMNS} FROM calls WHERE id = ?", (call_id,))
        )
        return rows[0] if rows else None

    def events(self, call_id: str) -> list[dict[str, Any]]:
        def read(db: Db) -> list[tuple[Any, ...]]:
            sql = "SELECT at, kind, data FROM events WHERE call_id = ? ORDER BY seq"
            return db.execute(sql, (call_id,)).fetchall()

        return [{"at": at, "kind": kind, **json.loads(data)} for at, kind, data in self.run(read)]

    def recent_calls(self, limit: int = 20) -> list[dict[str, Any]]:
        sql = f"SELECT {CALL_COLUMNS} FROM calls ORDER BY started_at DESC LIMIT ?"
        return self.run(lambda db: db.dicts(sql, (limit,)))


_SQLITE_TRANSIENT = frozenset({5, 6, 7, 8, 10, 13, 14, 15})
"""BUSY, LOCKED, NOMEM, READONLY, IOERR, FULL, CANTOPEN, PROTOCOL: the disk, not the SQL."""


def _transient(exc: BaseException) -> bool:
    """A refused disk or a lost server (worth retrying), not a wrong statement."""
    import sqlite3

    if isinstance(exc, sqlite3.Error):
        # OperationalError is also "no such table" (SQLITE_ERROR): the primary code says
        code = getattr(exc, "sqlite_errorcode", None)
        if code is None:
            return isinstance(exc, sqlite3.OperationalError)
        return code & 0xFF in _SQLITE_TRANSIENT
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return True
    return isinstance(exc, psycopg.OperationalError)


__all__ = ["Records", "SqliteDb", "hash_caller", "open_records", "site_salt"]


def open_records(settings: RecordsSettings, *, clock: Callable[[], float] = time.time) -> Records:
    """The store the settings name: the SQLite file, or the PostgreSQL database."""
    dsn = settings.postgres_dsn if settings.backend == "postgresql" else None
    return Records(
        settings.path,
        settings.caller_hash_salt,
        clock=clock,
        dsn=dsn,
        gateway=settings.gateway_name,
    )
