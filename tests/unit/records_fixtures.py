"""A records store on a fake clock, with calls made at chosen times (shared by records tests).

The records tests take the ``records_target`` fixture (tests/unit/conftest.py): each runs
once on SQLite and once on PostgreSQL (a real server, tests/tools/postgres.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from records.db import Db
from records.retention import purge
from records.store import Records

BSN_LINE = "mijn bsn is 111222333 en mijn nummer is 06 12345678"
DAY = 86_400.0


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class RecordsTarget:
    """Where a test's records live: an SQLite file, or an empty PostgreSQL database."""

    backend: str
    path: Path
    dsn: str | None = None
    opened: list[Records] = field(default_factory=list)

    def open(self, clock: Callable[[], float] = time.time, **kwargs: Any) -> Records:
        store = Records(self.path, "salt", clock=clock, dsn=self.dsn, **kwargs)
        self.opened.append(store)
        return store

    def use_in_env(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Point ``load_settings()`` (and so the CLI) at these records."""
        monkeypatch.setenv("LOKET_RECORDS__PATH", str(self.path))
        monkeypatch.setenv("LOKET_RECORDS__CALLER_HASH_SALT", "salt")
        monkeypatch.setenv("LOKET_RECORDS__BACKEND", self.backend)
        if self.dsn is not None:
            monkeypatch.setenv("LOKET_RECORDS__POSTGRES_DSN", self.dsn)

    def close_all(self) -> None:
        for store in self.opened:
            store.close()


def store_at(target: RecordsTarget, now: float) -> tuple[Records, Clock]:
    clock = Clock(now)
    return target.open(clock), clock


def purge_now(store: Records, now: float, **limits: Any) -> Any:
    """:func:`records.retention.purge` on the store's connection (its writer thread)."""
    return store.run(lambda db: purge(db, now, **limits))


def on_db(store: Records, fn: Callable[[Db], Any]) -> Any:
    return store.run(fn)


def make_call(store: Records, clock: Clock, call_id: str, *, redacted_field: bool = True) -> None:
    """A call of 60 s: caller says a BSN and a number, the bot answers, it goes to a queue."""
    store.call_started(call_id, "sip", "+31612345678", "nl")
    store.update_call(call_id, answered_at=clock.now + 0.5, topic="aow")
    clock.now += 2
    extra = {"redacted": "mijn bsn is [BSN] en mijn nummer is [TELEFOON]"} if redacted_field else {}
    store.event(call_id, "caller_said", text=BSN_LINE, confidence=0.9, **extra)
    clock.now += 1
    store.event(call_id, "backchannel", text="ja", redacted="ja", speech_s=0.3)
    store.event(call_id, "bot_said", text="Ik verbind u door.")
    store.event(
        call_id, "handoff", queue="aow", reason="asked for a person", summary={"text": "AOW"}
    )
    clock.now += 7
    store.event(call_id, "queued", queue="aow", position=1)
    clock.now += 20
    store.event(call_id, "agent_assigned", agent="anna")
    clock.now += 30
    store.event(call_id, "ended", by="caller", reason="")
    store.update_call(call_id, ended_at=clock.now, ended_by="caller", outcome="handoff")
