"""The audit log: who read which call's record, from the CLI and the desk."""

from __future__ import annotations

import getpass
import sqlite3
from pathlib import Path

import pytest

from config.settings import load_settings
from loket.cli import main
from loket.desk.hub import DeskHub
from records.store import Records
from telephony.acd_model import AcdConfig
from telephony.agent_queue import InProcessQueue
from tests.unit.records_fixtures import RecordsTarget, make_call, store_at

T0 = 1_780_000_000.0


def test_audit_table_is_added_to_an_existing_database(tmp_path: Path) -> None:
    db = tmp_path / "r.sqlite"
    old = sqlite3.connect(db)  # a database from before the audit table
    old.executescript(
        "CREATE TABLE calls (id TEXT PRIMARY KEY, channel TEXT NOT NULL, caller_hash TEXT,"
        " language TEXT, started_at REAL NOT NULL, answered_at REAL, ended_at REAL,"
        " ended_by TEXT, outcome TEXT, topic TEXT);"
        "INSERT INTO calls (id, channel, started_at) VALUES ('c1', 'sip', 1.0);"
    )
    old.close()
    store = Records(db, "salt")
    store.audit("ops", "read", "c1", "complaint 42")
    store.close()
    again = Records(db, "salt")  # and opening it again is harmless
    assert again.call("c1") is not None
    assert [(a["who"], a["call_id"], a["action"], a["why"]) for a in again.audit_log()] == [
        ("ops", "c1", "read", "complaint 42")
    ]


def test_cli_read_of_one_call_is_audited_with_the_os_user(
    records_target: RecordsTarget,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store, clock = store_at(records_target, T0)
    make_call(store, clock, "c1")
    store.close()
    records_target.use_in_env(monkeypatch)
    assert load_settings().records.backend == records_target.backend
    with pytest.raises(SystemExit) as done:
        main(["records", "c1", "--why", "complaint 42"])
    assert done.value.code == 0 and '"caller_said"' in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["records"])  # the list of calls is not one call's record
    log = records_target.open().audit_log("c1")
    assert [(a["who"], a["action"], a["why"]) for a in log] == [
        (getpass.getuser(), "read", "complaint 42")
    ]


async def test_desk_read_is_audited_once_per_agent_and_call(
    records_target: RecordsTarget,
) -> None:
    store, clock = store_at(records_target, T0)
    make_call(store, clock, "c1")
    queue = InProcessQueue(AcdConfig.from_mapping(load_settings({}).queue.model_dump()))
    hub = DeskHub(queue, store, ice_servers=[])
    try:
        for _ in range(3):  # views are pushed on every change
            lines = hub.transcript("c1", "anna")
        hub.transcript("c1", "bert")
    finally:
        hub.close()
        queue.close()
    assert {"who": "caller", "text": lines[0]["text"]} == lines[0]
    assert [(a["who"], a["action"]) for a in store.audit_log("c1")] == [
        ("anna", "desk_read"),
        ("bert", "desk_read"),
    ]
