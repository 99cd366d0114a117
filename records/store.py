"""Call records in SQLite (WAL): one row per call, events appended as they happen.

Each write is its own committed transaction, made synchronously: a commit in
WAL mode with ``synchronous=NORMAL`` costs tens of microseconds (no fsync),
and once it returns the row is in the WAL file, so ``kill -9`` of the gateway
loses nothing already written (only a power cut could lose the last few).
A queue to a writer thread would be faster still but would lose what sat in
the queue on a crash.

When the database cannot be written (a read-only file system, a full disk), calls
go on: what could not be written waits, in order, in a bounded backlog in memory
and is written first at the next write (or :meth:`Records.retry`, which /healthz
calls) once the disk takes it again; :attr:`Records.failing` says why meanwhile.
Nothing already committed is touched. The backlog is lost only if the gateway dies
during the outage, and past ``BACKLOG_MAX`` writes the oldest are dropped and counted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import sqlite3
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
BACKLOG_MAX = 50_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    caller_hash TEXT,
    language TEXT,
    started_at REAL NOT NULL,
    answered_at REAL,
    ended_at REAL,
    ended_by TEXT,
    outcome TEXT,
    topic TEXT
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id TEXT NOT NULL REFERENCES calls(id),
    at REAL NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS events_by_call ON events(call_id, seq);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    who TEXT NOT NULL,
    call_id TEXT,
    action TEXT NOT NULL,
    why TEXT
);
CREATE INDEX IF NOT EXISTS audit_by_call ON audit(call_id, seq);
"""
"""Every statement is ``IF NOT EXISTS``: an existing database gains new tables at start-up."""


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


class Records:
    """The records store. One connection, used from the event loop thread only."""

    RETRY_EVERY_S = 1.0
    """While the disk refuses, writes are queued; a write is tried at most this often."""

    def __init__(
        self, path: Path, salt: str | None, *, clock: Callable[[], float] = time.time
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.clock = clock
        """Wall-clock time for what is written (a fake one in tests)."""
        self.salt = site_salt(salt, path)
        self._backlog: deque[tuple[str, tuple[Any, ...]]] = deque()
        self.failing: str | None = None
        """Why the last write failed; None while writes succeed."""
        self.dropped = 0
        """Writes lost because the backlog was full."""
        self._next_try = 0.0
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._prepare()
        except sqlite3.OperationalError as exc:  # a read-only or full disk at start-up
            self._failed(exc)  # calls are still taken; the schema is made once it can be
            if not hasattr(self, "_db"):
                self._db = sqlite3.connect(":memory:", check_same_thread=False)

    def _prepare(self) -> None:
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=2000")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._next_try = 0.0
        self.retry()
        self._db.close()

    # ------------------------------------------------------------------ writing

    def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        """Write now, or keep it for later (in order) when the disk refuses."""
        if self.failing is not None and not self.retry():
            self._keep(sql, params)
            return
        try:
            self._db.execute(sql, params)
        except sqlite3.OperationalError as exc:
            self._failed(exc)
            self._keep(sql, params)

    def _keep(self, sql: str, params: tuple[Any, ...]) -> None:
        if len(self._backlog) >= BACKLOG_MAX:
            self._backlog.popleft()
            self.dropped += 1
        self._backlog.append((sql, params))

    def _failed(self, exc: sqlite3.Error) -> None:
        if self.failing is None:
            log.error("records.write_failed", extra={"error": str(exc), "path": str(self.path)})
        self.failing = str(exc)
        self._next_try = time.monotonic() + self.RETRY_EVERY_S

    def retry(self) -> bool:
        """Write the backlog; True when nothing is left waiting (or nothing has failed).

        After a failure the connection is opened anew: one opened on a read-only file
        system stays read-only after the disk comes back."""
        if self.failing is None:
            return True
        if time.monotonic() < self._next_try:
            return False
        try:
            fresh = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            old, self._db = self._db, fresh
            old.close()
            self._prepare()
            while self._backlog:
                sql, params = self._backlog[0]
                self._db.execute(sql, params)
                self._backlog.popleft()
        except sqlite3.Error as exc:
            self._failed(exc)
            return False
        log.warning("records.write_recovered", extra={"path": str(self.path)})
        self.failing = None
        return True

    def end_abandoned(self, reason: str) -> list[str]:
        """Calls a previous gateway left open (it was killed): ended now, saying why.

        One gateway per records database (the embedded default), so an open call at
        start-up can only be one the last process never finished."""
        try:
            rows = self._db.execute("SELECT id FROM calls WHERE ended_at IS NULL").fetchall()
        except sqlite3.Error:
            return []
        ids = [str(call_id) for (call_id,) in rows]
        for call_id in ids:
            self.event(call_id, "ended", by="gateway", reason=reason, abrupt=True)
            self.update_call(call_id, ended_by="gateway", ended_at=self.clock(), outcome="cut off")
        return ids

    @property
    def backlog(self) -> int:
        return len(self._backlog)

    def call_started(self, call_id: str, channel: str, caller: str, language: str) -> None:
        self._write(
            "INSERT OR IGNORE INTO calls (id, channel, caller_hash, language, started_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (call_id, channel, hash_caller(caller, self.salt), language, self.clock()),
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

    @property
    def db(self) -> sqlite3.Connection:
        """The connection, for the retention and export queries (same thread only)."""
        return self._db

    def audit_log(self, call_id: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT at, who, call_id, action, why FROM audit"
        params: tuple[Any, ...] = ()
        if call_id is not None:
            sql, params = sql + " WHERE call_id = ?", (call_id,)
        cur = self._db.execute(sql + " ORDER BY seq", params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def call(self, call_id: str) -> dict[str, Any] | None:
        cur = self._db.execute("SELECT * FROM calls WHERE id = ?", (call_id,))
        row = cur.fetchone()
        if row is None:
            return None
        names = [d[0] for d in cur.description]
        return dict(zip(names, row, strict=True))

    def events(self, call_id: str) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT at, kind, data FROM events WHERE call_id = ? ORDER BY seq", (call_id,)
        ).fetchall()
        return [{"at": at, "kind": kind, **json.loads(data)} for at, kind, data in rows]

    def recent_calls(self, limit: int = 20) -> list[dict[str, Any]]:
        cur = self._db.execute("SELECT * FROM calls ORDER BY started_at DESC LIMIT ?", (limit,))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
