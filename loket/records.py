"""Call records in SQLite (WAL): one row per call, events appended as they happen.

Each write is its own committed transaction, made synchronously: a commit in
WAL mode with ``synchronous=NORMAL`` costs tens of microseconds (no fsync),
and once it returns the row is in the WAL file, so ``kill -9`` of the gateway
loses nothing already written (only a power cut could lose the last few).
A queue to a writer thread would be faster still but would lose what sat in
the queue on a crash.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import time
from pathlib import Path
from typing import Any

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
"""


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

    def __init__(self, path: Path, salt: str | None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.salt = site_salt(salt, path)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=2000")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def call_started(self, call_id: str, channel: str, caller: str, language: str) -> None:
        self._db.execute(
            "INSERT OR IGNORE INTO calls (id, channel, caller_hash, language, started_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (call_id, channel, hash_caller(caller, self.salt), language, time.time()),
        )

    def update_call(self, call_id: str, **fields: Any) -> None:
        allowed = {"language", "answered_at", "ended_at", "ended_by", "outcome", "topic"}
        bad = set(fields) - allowed
        if bad:
            raise ValueError(f"not a call field: {', '.join(sorted(bad))}")
        if not fields:
            return
        cols = ", ".join(f"{name} = ?" for name in fields)
        self._db.execute(f"UPDATE calls SET {cols} WHERE id = ?", (*fields.values(), call_id))

    def event(self, call_id: str, kind: str, **data: Any) -> None:
        self._db.execute(
            "INSERT INTO events (call_id, at, kind, data) VALUES (?, ?, ?, ?)",
            (call_id, time.time(), kind, json.dumps(data, ensure_ascii=False, default=str)),
        )

    # ------------------------------------------------------------------ reading

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
