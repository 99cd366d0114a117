"""The records' two backends: versioned migrations, the writer thread, outages, settings.

Each test taking ``records_target`` runs on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from config.settings import ConfigError, load_settings
from records.db import Db, PostgresDb, SqliteDb, Target, safe_dsn
from records.migrations import LATEST, STEPS, SchemaTooNew, migrate
from records.retention import DailyPurge, Limits, PurgeReport, purge_target
from records.store import Records, open_records
from tests.tools.postgres import PostgresServer
from tests.unit.records_fixtures import BSN_LINE, DAY, Clock, RecordsTarget, make_call, store_at

T0 = 1_780_000_000.0
TABLES = ("calls", "events", "audit", "schema_version")


def _versions(store: Records) -> list[int]:
    rows = store.run(lambda db: db.execute("SELECT version FROM schema_version").fetchall())
    return sorted(int(v) for (v,) in rows)


def _columns(db: Db, table: str) -> list[str]:
    if db.dialect == "sqlite":
        return [row[1] for row in db.execute(f"PRAGMA table_info({table})").fetchall()]
    rows = db.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ?"
        " ORDER BY ordinal_position",
        (table,),
    ).fetchall()
    return [str(name) for (name,) in rows]


# ---------------------------------------------------------------------- migrations


def test_a_new_database_gets_every_step_once(records_target: RecordsTarget) -> None:
    store = records_target.open()
    assert _versions(store) == [s.version for s in STEPS] == list(range(1, LATEST + 1))
    assert store.run(migrate) == []  # nothing left to apply
    store.close()
    assert _versions(records_target.open()) == list(range(1, LATEST + 1))  # reopened: same


def test_both_backends_have_the_same_schema(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    postgres_server.reset()
    lite = SqliteDb(tmp_path / "r.sqlite")
    pg = PostgresDb(postgres_server.dsn())
    try:
        assert migrate(lite) == migrate(pg) == list(range(1, LATEST + 1))
        for table in TABLES:
            assert _columns(lite, table) == _columns(pg, table), table
        assert "gateway" in _columns(pg, "calls") and "raw_purged_at" in _columns(pg, "calls")
        # epoch seconds keep their fraction: a double, not PostgreSQL's 4-byte REAL
        pg.execute(
            "INSERT INTO calls (id, channel, started_at) VALUES ('x', 'sip', ?)", (T0 + 0.125,)
        )
        assert pg.execute("SELECT started_at FROM calls").fetchone()[0] == T0 + 0.125
    finally:
        lite.close()
        pg.close()


def test_an_sqlite_file_from_before_the_version_table_is_migrated_in_place(
    tmp_path: Path,
) -> None:
    db = tmp_path / "r.sqlite"
    old = sqlite3.connect(db)  # the schema as the first release made it, with a call in it
    old.executescript(
        "CREATE TABLE calls (id TEXT PRIMARY KEY, channel TEXT NOT NULL, caller_hash TEXT,"
        " language TEXT, started_at REAL NOT NULL, answered_at REAL, ended_at REAL,"
        " ended_by TEXT, outcome TEXT, topic TEXT);"
        "CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, call_id TEXT NOT NULL"
        " REFERENCES calls(id), at REAL NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL"
        " DEFAULT '{}');"
        "INSERT INTO calls (id, channel, started_at, ended_at) VALUES ('c1', 'sip', 1.0, 61.0);"
        "INSERT INTO events (call_id, at, kind, data) VALUES ('c1', 2.0, 'caller_said',"
        ' \'{"text": "hallo"}\');'
    )
    old.close()
    store = Records(db, "salt", clock=Clock(T0))
    assert _versions(store) == list(range(1, LATEST + 1))
    assert store.call("c1") == {
        "id": "c1", "channel": "sip", "caller_hash": None, "language": None,
        "started_at": 1.0, "answered_at": None, "ended_at": 61.0, "ended_by": None,
        "outcome": None, "topic": None,
    }  # fmt: skip
    assert store.events("c1") == [{"at": 2.0, "kind": "caller_said", "text": "hallo"}]
    store.event("c1", "note", note="after the upgrade")  # the old events table takes new rows
    assert [e["kind"] for e in store.events("c1")] == ["caller_said", "note"]
    store.close()


def test_a_database_migrated_by_a_newer_loket_is_refused(records_target: RecordsTarget) -> None:
    records_target.open().run(
        lambda db: db.execute(
            "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
            (LATEST + 1, "from the future", T0),
        )
    )
    with pytest.raises(SchemaTooNew, match="upgrade Loket"):
        records_target.open()


def test_gateways_starting_together_migrate_once(postgres_server: PostgresServer) -> None:
    """Several gateways on one PostgreSQL database: the steps run under an advisory lock."""
    postgres_server.reset()
    applied: list[list[int]] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            db = PostgresDb(postgres_server.dsn())
            applied.append(migrate(db))
            db.close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(v for versions in applied for v in versions) == list(range(1, LATEST + 1))


# ---------------------------------------------------------------------- the writer thread


def test_reads_see_every_write_queued_before_them(records_target: RecordsTarget) -> None:
    store = records_target.open()
    store.call_started("c1", "sip", "+31612345678", "nl")
    for i in range(200):
        store.event("c1", "caller_said", text=f"zin {i}", n=i)
        if i % 20 == 0:  # a read straight after a write: it is there
            assert store.events("c1")[-1]["n"] == i
    assert [e["n"] for e in store.events("c1")] == list(range(200))


def test_writes_leave_the_calling_thread(records_target: RecordsTarget) -> None:
    """The statement runs on the writer thread: the caller only queues it."""
    store = records_target.open()
    seen: list[str] = []
    store.run(lambda db: seen.append(threading.current_thread().name))
    assert seen == ["records-writer"]
    gate = threading.Event()
    store.submit(lambda db: gate.wait(10))  # the writer is busy...
    store.call_started("c1", "sip", "+31612345678", "nl")  # ...and this does not wait for it
    assert store.backlog >= 1
    gate.set()
    store.flush(10)
    assert store.backlog == 0 and store.call("c1") is not None


def test_close_writes_what_was_queued(records_target: RecordsTarget) -> None:
    store = records_target.open()
    store.call_started("c1", "sip", "+31612345678", "nl")
    for i in range(500):
        store.event("c1", "tick", n=i)
    store.close()
    assert len(records_target.open().events("c1")) == 500


def test_a_rejected_statement_is_counted_and_the_writes_after_it_go_on(
    records_target: RecordsTarget,
) -> None:
    store = records_target.open()
    store._write("INSERT INTO no_such_table VALUES (?)", (1,))  # a bug, not an outage
    store.call_started("c1", "sip", "+31612345678", "nl")
    store.flush(10)
    assert store.dropped == 1 and store.failing is None and store.call("c1") is not None


def test_open_calls_left_by_a_killed_gateway_are_ended_only_by_that_gateway(
    records_target: RecordsTarget,
) -> None:
    a = records_target.open(gateway="gw-a")
    b = records_target.open(gateway="gw-b")
    a.call_started("of-a", "sip", "+31600000001", "nl")
    b.call_started("of-b", "sip", "+31600000002", "nl")
    a.flush(10)
    b.flush(10)
    ended = a.end_abandoned("gateway restarted")
    if records_target.backend == "postgresql":  # shared: b's call is live on b
        assert ended == ["of-a"]
        assert b.call("of-b")["ended_at"] is None  # type: ignore[index]
    else:  # one gateway per file
        assert sorted(ended) == ["of-a", "of-b"]
    assert a.call("of-a")["outcome"] == "cut off"  # type: ignore[index]


def test_a_postgresql_outage_keeps_the_writes_and_writes_them_after(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    """The server goes away mid-call and comes back: calls never notice, nothing is lost.
    (The SQLite disk faults are tests/integration/test_records_faults.py.)"""
    postgres_server.reset()
    target = RecordsTarget("postgresql", tmp_path / "r.sqlite", postgres_server.dsn())
    store = target.open()
    store.RETRY_EVERY_S = 0.05
    try:
        store.call_started("c1", "sip", "+31612345678", "nl")
        store.flush(10)
        postgres_server.stop()
        try:
            for i in range(5):  # calls go on: nothing raises
                store.event("c1", "caller_said", text=BSN_LINE, n=i)
            store.flush(10)
            assert store.failing is not None and store.backlog == 5
        finally:
            postgres_server.resume()
        for _ in range(200):  # the writer retries by itself
            if store.failing is None and store.backlog == 0:
                break
            threading.Event().wait(0.05)
        assert store.failing is None and store.backlog == 0
        assert [e["n"] for e in store.events("c1")] == [0, 1, 2, 3, 4]  # in order, once
    finally:
        target.close_all()


# ---------------------------------------------------------------------- settings


def test_backend_settings_are_typed_checked_and_open_the_right_store(
    records_target: RecordsTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    records_target.use_in_env(monkeypatch)
    settings = load_settings().records
    assert settings.backend == records_target.backend
    store = open_records(settings)
    try:
        assert store.target.dialect == records_target.backend
        assert _versions(store) == list(range(1, LATEST + 1))
    finally:
        store.close()


def test_bad_backend_settings_name_the_key_and_the_fix() -> None:
    with pytest.raises(ConfigError, match=r"records\.backend: Input should be 'sqlite' or"):
        load_settings({"LOKET_RECORDS__BACKEND": "mysql"})
    pg = {"LOKET_RECORDS__BACKEND": "postgresql", "LOKET_RECORDS__CALLER_HASH_SALT": "s"}
    with pytest.raises(ConfigError, match=r"records\.postgres_dsn is required.*POSTGRES_DSN="):
        load_settings(pg)
    secret = "host='db pass=hunter2"
    with pytest.raises(ConfigError, match=r"records\.postgres_dsn is not a valid") as bad:
        load_settings({**pg, "LOKET_RECORDS__POSTGRES_DSN": secret})
    assert "hunter2" not in str(bad.value)  # a DSN's password never in an error message
    no_salt = {"LOKET_RECORDS__BACKEND": "postgresql", "LOKET_RECORDS__POSTGRES_DSN": "host=db"}
    with pytest.raises(ConfigError, match=r"records\.caller_hash_salt is required"):
        load_settings(no_salt)
    assert load_settings({**pg, "LOKET_RECORDS__POSTGRES_DSN": "host=db"}).records.backend == (
        "postgresql"
    )


def test_a_dsn_in_logs_and_health_hides_its_password() -> None:
    assert (
        safe_dsn("postgresql://loket:hunter2@db:5433/loket")
        == "postgresql://loket:***@db:5433/loket"
    )
    assert safe_dsn("host=db password=hunter2 dbname=x") == "host=db password=*** dbname=x"
    assert Target(Path("r.sqlite"), "postgresql://u:pw@h/d").describe() == "postgresql://u:***@h/d"


# ---------------------------------------------------------------------- the daily purge


async def test_the_daily_purge_runs_each_day_on_a_fake_clock(
    records_target: RecordsTarget,
) -> None:
    store, clock = store_at(records_target, T0)
    make_call(store, clock, "c1")  # ended at T0 + 60
    store.flush(10)
    limits = Limits(raw_retention_days=7, retention_days=30, aggregate_retention_days=60)
    reports: list[tuple[float, PurgeReport]] = []
    threads: list[str] = []

    def work(now: float) -> PurgeReport:
        threads.append(threading.current_thread().name)
        return purge_target(store.target, now, limits)

    async def sleep(seconds: float) -> None:  # days pass at once
        clock.now += seconds
        await asyncio.sleep(0)

    daily = DailyPurge(
        work,
        clock=clock,
        sleep=sleep,
        first_after_s=60,
        done=lambda report: reports.append((clock.now, report)),
    )
    daily.start()
    try:
        for _ in range(2000):
            if daily.runs >= 62:
                break
            await asyncio.sleep(0.001)
    finally:
        await daily.stop()
    assert daily.runs >= 62 and daily.failures == 0
    assert all(name != threading.current_thread().name for name in threads)  # not on the loop
    days = [round((at - T0) / DAY, 3) for at, _ in reports]
    assert days[:3] == [round(120 / DAY, 3), round(1 + 120 / DAY, 3), round(2 + 120 / DAY, 3)]
    raw_day = next(i for i, (_, r) in enumerate(reports) if r.raw_events)
    content_day = next(i for i, (_, r) in enumerate(reports) if r.content_events)
    gone_day = next(i for i, (_, r) in enumerate(reports) if r.deleted_calls)
    assert (raw_day, content_day, gone_day) == (7, 30, 60)  # the first run after each limit
    assert sum(r.raw_events for _, r in reports) == 2  # each purged once
    assert store.call("c1") is None


async def test_a_failed_purge_is_counted_and_tried_again_the_next_day() -> None:
    clock = Clock(T0)
    calls: list[float] = []

    def work(now: float) -> PurgeReport:
        calls.append(now)
        if len(calls) == 1:
            raise sqlite3.OperationalError("disk I/O error")
        return PurgeReport(0, 0, False)

    async def sleep(seconds: float) -> Any:
        clock.now += seconds
        await asyncio.sleep(0)

    daily = DailyPurge(work, clock=clock, sleep=sleep, first_after_s=0)
    daily.start()
    for _ in range(500):
        if daily.runs >= 2:
            break
        await asyncio.sleep(0.001)
    await daily.stop()
    assert daily.failures == 1 and daily.runs >= 2
    assert calls[1] - calls[0] == DAY
