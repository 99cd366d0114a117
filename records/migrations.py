"""The records schema as numbered steps, the same for SQLite and PostgreSQL.

``schema_version`` holds one row per step applied. A database is brought up to
:data:`LATEST` when a store opens it, each step in its own transaction, so a crash
mid-way leaves it at a whole step. A file from before the version table (it has
``calls`` and ``events``, maybe ``audit``) is adopted in place: steps 1 and 2 are
``IF NOT EXISTS``, so they record what is already there and add what is not.

The few words that differ between the engines are written as ``{serial}`` (an
autoincrementing key) and ``{float}`` (a double: PostgreSQL's ``REAL`` is 4 bytes, too
coarse for epoch seconds). Several gateways sharing one PostgreSQL database may start
together: the steps run under an advisory lock, and each re-reads the version inside it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from records.db import Db, Dialect


@dataclass(frozen=True)
class Step:
    version: int
    description: str
    statements: tuple[str, ...]


STEPS: tuple[Step, ...] = (
    Step(
        1,
        "calls and their events",
        (
            """CREATE TABLE IF NOT EXISTS calls (
                id TEXT PRIMARY KEY,
                channel TEXT NOT NULL,
                caller_hash TEXT,
                language TEXT,
                started_at {float} NOT NULL,
                answered_at {float},
                ended_at {float},
                ended_by TEXT,
                outcome TEXT,
                topic TEXT
            )""",
            """CREATE TABLE IF NOT EXISTS events (
                seq {serial},
                call_id TEXT NOT NULL REFERENCES calls(id),
                at {float} NOT NULL,
                kind TEXT NOT NULL,
                data TEXT NOT NULL DEFAULT '{{}}'
            )""",
            "CREATE INDEX IF NOT EXISTS events_by_call ON events(call_id, seq)",
        ),
    ),
    Step(
        2,
        "audit log of reads, exports and purges",
        (
            """CREATE TABLE IF NOT EXISTS audit (
                seq {serial},
                at {float} NOT NULL,
                who TEXT NOT NULL,
                call_id TEXT,
                action TEXT NOT NULL,
                why TEXT
            )""",
            "CREATE INDEX IF NOT EXISTS audit_by_call ON audit(call_id, seq)",
        ),
    ),
    Step(
        3,
        "the gateway holding each call; what each call has been purged of; calls by time",
        (
            "ALTER TABLE calls ADD COLUMN gateway TEXT",
            "ALTER TABLE calls ADD COLUMN raw_purged_at {float}",
            "ALTER TABLE calls ADD COLUMN content_purged_at {float}",
            "CREATE INDEX IF NOT EXISTS calls_by_end ON calls(ended_at)",
            "CREATE INDEX IF NOT EXISTS calls_by_start ON calls(started_at)",
        ),
    ),
)
LATEST = STEPS[-1].version

_WORDS: dict[Dialect, dict[str, str]] = {
    "sqlite": {"serial": "INTEGER PRIMARY KEY AUTOINCREMENT", "float": "REAL"},
    "postgresql": {"serial": "BIGSERIAL PRIMARY KEY", "float": "DOUBLE PRECISION"},
}
_VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at {float} NOT NULL)"
)
_LOCK_KEY = 0x4C6F6B6574  # "Loket": the advisory lock the PostgreSQL steps run under


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer Loket than this one."""


def statement(sql: str, dialect: Dialect) -> str:
    return sql.format(**_WORDS[dialect])


def version(db: Db) -> int:
    """The highest step applied (0: none, or no version table yet)."""
    try:
        row = db.execute("SELECT MAX(version) FROM schema_version").fetchone()
    except db.errors:
        return 0
    return int(row[0] or 0)


def _lock(db: Db) -> None:
    """PostgreSQL: one migrating connection at a time (held to the transaction's end).
    SQLite needs none: ``BEGIN IMMEDIATE`` already holds the file's write lock."""
    if db.dialect == "postgresql":
        db.execute("SELECT pg_advisory_xact_lock(?)", (_LOCK_KEY,))


def migrate(db: Db) -> list[int]:
    """Apply the steps the database lacks; the versions applied now, in order."""
    with db.transaction():
        _lock(db)
        db.execute(statement(_VERSION_TABLE, db.dialect))
    applied: list[int] = []
    for step in STEPS:
        with db.transaction():
            _lock(db)
            current = version(db)
            if current > LATEST:
                raise SchemaTooNew(
                    f"the records database is at schema version {current}, this Loket knows"
                    f" up to {LATEST}: upgrade Loket (never downgrade a migrated database)"
                )
            if current >= step.version:
                continue
            for sql in step.statements:
                db.execute(statement(sql, db.dialect))
            db.execute(
                "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
                (step.version, step.description, time.time()),
            )
            applied.append(step.version)
    return applied
