"""Desk accounts and their sessions in SQLite (WAL), shared by the gateway and ``loket users``.

Session tokens never touch the disk: the table holds SHA-256 of each token (a
256-bit random token needs no salt or slow hash), so a copy of the database lets
nobody in. Expiry is decided here from ``now`` passed in by the caller (tests
drive a fake clock): a session ends after ``idle_s`` without use or ``max_s``
after login, whichever comes first, and an expired row is deleted when met.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from loket.desk.passwords import Role, check_role

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('agent', 'supervisor')),
    skills TEXT NOT NULL DEFAULT '[]',
    password_hash TEXT NOT NULL,
    created_at REAL NOT NULL,
    password_changed_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    created_at REAL NOT NULL,
    last_seen REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions(user);
"""

TOUCH_EVERY_S = 10.0
"""``last_seen`` is written at most this often per session: idle expiry needs no finer grain."""


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    idle_s: float = 30 * 60
    """A session unused this long ends (a forgotten, unlocked workstation)."""
    max_s: float = 12 * 3600
    """A session ends this long after login however busy (one shift)."""

    def __post_init__(self) -> None:
        if not 0 < self.idle_s <= self.max_s:
            raise ValueError("session lifetimes: need 0 < idle_s <= max_s")


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    role: Role
    skills: tuple[str, ...]
    created_at: float
    password_changed_at: float


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    """SHA-256 (hex) of the token: the server-side key; never the token itself."""
    account: Account
    created_at: float
    last_seen: float
    expires_at: float


@dataclass(frozen=True, slots=True)
class Expired:
    """What a lookup found instead of a session: one that has just run out."""

    id: str
    user: str
    reason: str
    """``idle`` or ``lifetime``."""


class AccountExists(Exception):
    pass


class NoSuchAccount(Exception):
    pass


def session_id(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class AccountStore:
    """Accounts and sessions. One connection; fine from one thread (the event loop) at a time.

    Several processes may use the same file (the gateway and ``loket users``): WAL
    lets readers and a writer work together, and each write commits at once.
    """

    def __init__(self, path: Path, policy: SessionPolicy | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.policy = policy or SessionPolicy()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=2000")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)
        path.chmod(0o600)  # password hashes: readable by the service account only

    def close(self) -> None:
        self._db.close()

    # ------------------------------------------------------------------ accounts

    @staticmethod
    def _account(row: tuple[str, str, str, float, float]) -> Account:
        name, role, skills, created, changed = row
        return Account(name, check_role(role), tuple(json.loads(skills)), created, changed)

    _COLUMNS = ("name", "role", "skills", "created_at", "password_changed_at")
    _SELECT = ", ".join(_COLUMNS)

    def add(
        self, name: str, role: Role, skills: tuple[str, ...], password_hash: str, now: float
    ) -> Account:
        try:
            self._db.execute(
                f"INSERT INTO users ({self._SELECT}, password_hash) VALUES (?, ?, ?, ?, ?, ?)",
                (name, role, json.dumps(list(skills)), now, now, password_hash),
            )
        except sqlite3.IntegrityError:
            raise AccountExists(name) from None
        return Account(name, role, skills, now, now)

    def get(self, name: str) -> Account | None:
        row = self._db.execute(
            f"SELECT {self._SELECT} FROM users WHERE name = ?", (name,)
        ).fetchone()
        return None if row is None else self._account(row)

    def password_hash(self, name: str) -> str | None:
        row = self._db.execute("SELECT password_hash FROM users WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def accounts(self) -> list[Account]:
        rows = self._db.execute(f"SELECT {self._SELECT} FROM users ORDER BY name").fetchall()
        return [self._account(row) for row in rows]

    def remove(self, name: str) -> None:
        """Delete the account; its sessions go with it (foreign key cascade)."""
        if self._db.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount == 0:
            raise NoSuchAccount(name)

    def update(
        self, name: str, *, role: Role | None = None, skills: tuple[str, ...] | None = None
    ) -> Account:
        """Change role and/or skills; sessions read the account on each request, so it is
        effective at once."""
        if role is not None:
            self._db.execute("UPDATE users SET role = ? WHERE name = ?", (role, name))
        if skills is not None:
            self._db.execute(
                "UPDATE users SET skills = ? WHERE name = ?", (json.dumps(list(skills)), name)
            )
        account = self.get(name)
        if account is None:
            raise NoSuchAccount(name)
        return account

    def set_password(
        self, name: str, password_hash: str, now: float, *, keep_session: str | None = None
    ) -> int:
        """Store a new hash and end the user's sessions but ``keep_session`` (the one that
        asked for the change, if any). Returns how many sessions ended."""
        with self._db:  # one transaction: no window where the old sessions outlive the change
            self._db.execute("BEGIN IMMEDIATE")
            cur = self._db.execute(
                "UPDATE users SET password_hash = ?, password_changed_at = ? WHERE name = ?",
                (password_hash, now, name),
            )
            if cur.rowcount == 0:
                raise NoSuchAccount(name)
            return self._db.execute(
                "DELETE FROM sessions WHERE user = ? AND id IS NOT ?", (name, keep_session)
            ).rowcount

    def rehash(self, name: str, old_hash: str, new_hash: str) -> None:
        """Replace a hash made at an older cost, unless the password changed meanwhile."""
        self._db.execute(
            "UPDATE users SET password_hash = ? WHERE name = ? AND password_hash = ?",
            (new_hash, name, old_hash),
        )

    # ------------------------------------------------------------------ sessions

    def create_session(self, name: str, now: float) -> tuple[str, Session]:
        """A new random token (returned once, for the cookie) and its session."""
        account = self.get(name)
        if account is None:
            raise NoSuchAccount(name)
        token = secrets.token_urlsafe(32)
        sid = session_id(token)
        self._db.execute(
            "INSERT INTO sessions (id, user, created_at, last_seen) VALUES (?, ?, ?, ?)",
            (sid, name, now, now),
        )
        return token, Session(sid, account, now, now, self._expires(now, now))

    def _expires(self, created: float, last_seen: float) -> float:
        return min(last_seen + self.policy.idle_s, created + self.policy.max_s)

    def session(self, token: str, now: float) -> Session | Expired | None:
        """The live session for a token (its idle clock restarted), :class:`Expired` when it
        has just run out (and is now deleted), None when there is no such session."""
        sid = session_id(token)
        row = self._db.execute(
            f"SELECT s.created_at, s.last_seen, {', '.join('u.' + c for c in self._COLUMNS)}"
            " FROM sessions s JOIN users u ON u.name = s.user WHERE s.id = ?",
            (sid,),
        ).fetchone()
        if row is None:
            return None
        created, last_seen = row[0], row[1]
        account = self._account(row[2:])
        reason = None
        if now >= created + self.policy.max_s:
            reason = "lifetime"
        elif now >= last_seen + self.policy.idle_s:
            reason = "idle"
        if reason is not None:
            self._db.execute("DELETE FROM sessions WHERE id = ?", (sid,))
            return Expired(sid, account.name, reason)
        if now - last_seen >= TOUCH_EVERY_S:
            self._db.execute("UPDATE sessions SET last_seen = ? WHERE id = ?", (now, sid))
            last_seen = now
        return Session(sid, account, created, last_seen, self._expires(created, last_seen))

    def session_alive(self, sid: str, now: float, *, touch: bool = True) -> bool:
        """Whether a session (by id) still stands; ``touch`` restarts its idle clock.
        For long-lived WebSockets, which make no HTTP requests."""
        row = self._db.execute(
            "SELECT created_at, last_seen FROM sessions WHERE id = ?", (sid,)
        ).fetchone()
        if row is None:
            return False
        created, last_seen = row
        if now >= self._expires(created, last_seen):
            self._db.execute("DELETE FROM sessions WHERE id = ?", (sid,))
            return False
        if touch and now - last_seen >= TOUCH_EVERY_S:
            self._db.execute("UPDATE sessions SET last_seen = ? WHERE id = ?", (now, sid))
        return True

    def end_session(self, sid: str) -> bool:
        return self._db.execute("DELETE FROM sessions WHERE id = ?", (sid,)).rowcount > 0

    def end_sessions(self, name: str) -> int:
        return self._db.execute("DELETE FROM sessions WHERE user = ?", (name,)).rowcount

    def session_count(self, name: str) -> int:
        row = self._db.execute("SELECT count(*) FROM sessions WHERE user = ?", (name,)).fetchone()
        return int(row[0])

    def purge_expired(self, now: float) -> int:
        """Delete every session past its idle or absolute limit (housekeeping)."""
        return self._db.execute(
            "DELETE FROM sessions WHERE last_seen <= ? OR created_at <= ?",
            (now - self.policy.idle_s, now - self.policy.max_s),
        ).rowcount
