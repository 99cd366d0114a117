"""Retention on a fake clock: raw caller text after raw_retention_days, all text later."""

from __future__ import annotations

import json

import pytest

from config.settings import ConfigError, load_settings
from tests.unit.records_fixtures import (
    BSN_LINE,
    DAY,
    RecordsTarget,
    make_call,
    purge_now,
    store_at,
)

T0 = 1_780_000_000.0


def _kinds(store: object, call_id: str) -> dict[str, dict[str, object]]:
    return {e["kind"]: e for e in store.events(call_id)}  # type: ignore[attr-defined]


def test_raw_text_goes_after_raw_retention_and_the_redacted_form_stays(
    records_target: RecordsTarget,
) -> None:
    store, clock = store_at(records_target, T0)
    make_call(store, clock, "old")  # ended at T0 + 60
    make_call(store, clock, "old-no-redacted", redacted_field=False)
    clock.now = T0 + 6 * DAY
    make_call(store, clock, "recent")
    store.call_started("open", "sip", "+31600000000", "nl")  # never ended: never purged
    store.event("open", "caller_said", text=BSN_LINE, redacted="x")

    now = T0 + 7 * DAY + 3600  # 'old' ended 7 days + ~1 h ago, 'recent' 1 day ago
    dry = purge_now(store, now, raw_retention_days=7, retention_days=30, dry_run=True)
    assert (dry.raw_events, dry.content_events, dry.dry_run) == (4, 0, True)
    assert _kinds(store, "old")["caller_said"]["text"] == BSN_LINE  # a dry run changes nothing

    report = purge_now(store, now, raw_retention_days=7, retention_days=30)
    assert (report.raw_events, report.content_events) == (4, 0)
    old = _kinds(store, "old")
    assert "text" not in old["caller_said"] and "text" not in old["backchannel"]
    assert old["caller_said"]["redacted"] == "mijn bsn is [BSN] en mijn nummer is [TELEFOON]"
    assert old["bot_said"]["text"] == "Ik verbind u door."  # not caller text
    # an event from before the redacted field gets one, made at purge time
    assert "111222333" not in json.dumps(store.events("old-no-redacted"))
    assert "[BSN]" in _kinds(store, "old-no-redacted")["caller_said"]["redacted"]  # type: ignore[operator]
    assert _kinds(store, "recent")["caller_said"]["text"] == BSN_LINE
    assert _kinds(store, "open")["caller_said"]["text"] == BSN_LINE
    again = purge_now(store, now, raw_retention_days=7, retention_days=30)
    assert (again.raw_events, again.content_events) == (0, 0)  # idempotent


def test_content_purge_empties_text_and_keeps_the_rows(records_target: RecordsTarget) -> None:
    store, clock = store_at(records_target, T0)
    make_call(store, clock, "old")
    before = store.events("old")
    report = purge_now(store, T0 + 31 * DAY, raw_retention_days=7, retention_days=30)
    assert report.raw_events == 2 and report.content_events == 4
    after = store.events("old")
    assert [e["kind"] for e in after] == [e["kind"] for e in before]  # rows kept for counts
    assert [e["at"] for e in after] == [e["at"] for e in before]
    kinds = {e["kind"]: e for e in after}
    assert kinds["caller_said"]["redacted"] == "" and kinds["bot_said"]["text"] == ""
    assert kinds["handoff"]["summary"] == {} and kinds["handoff"]["reason"] == "asked for a person"
    assert kinds["caller_said"]["confidence"] == 0.9
    assert store.call("old")["outcome"] == "handoff"  # type: ignore[index]


def test_retention_settings_are_typed_and_checked() -> None:
    s = load_settings({})
    assert s.records.raw_retention_days == 7 and s.records.retention_days >= 7
    s = load_settings({"LOKET_RECORDS__RAW_RETENTION_DAYS": "0"})
    assert s.records.raw_retention_days == 0
    with pytest.raises(ConfigError, match="raw_retention_days must not be longer"):
        load_settings(
            {"LOKET_RECORDS__RAW_RETENTION_DAYS": "10", "LOKET_RECORDS__RETENTION_DAYS": "5"}
        )
    with pytest.raises(ConfigError, match=r"records\.raw_retention_days"):
        load_settings({"LOKET_RECORDS__RAW_RETENTION_DAYS": "-1"})


def test_cli_purge_dry_run_counts_and_the_purge_is_audited(
    records_target: RecordsTarget,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from loket.cli import main

    store, clock = store_at(records_target, T0)
    make_call(store, clock, "old")  # ended long before the real clock's now
    store.close()
    records_target.use_in_env(monkeypatch)
    monkeypatch.setenv("LOKET_RECORDS__RETENTION_DAYS", "100000")  # content kept
    monkeypatch.setenv("LOKET_RECORDS__AGGREGATE_RETENTION_DAYS", "100000")
    with pytest.raises(SystemExit):
        main(["records", "purge", "--dry-run"])
    assert "would purge: raw caller text of 2 events, all text of 0" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["records", "purge"])
    assert "purged: raw caller text of 2 events" in capsys.readouterr().out
    after = store_at(records_target, T0)[0]
    assert "text" not in _kinds(after, "old")["caller_said"]
    assert [a["action"] for a in after.audit_log()] == ["purge"]

    monkeypatch.setenv("LOKET_RECORDS__AGGREGATE_RETENTION_DAYS", "1")  # counts gone too
    monkeypatch.setenv("LOKET_RECORDS__RETENTION_DAYS", "1")
    monkeypatch.setenv("LOKET_RECORDS__RAW_RETENTION_DAYS", "1")
    with pytest.raises(SystemExit):
        main(["records", "purge"])
    assert "1 calls deleted" in capsys.readouterr().out
    assert after.call("old") is None and after.events("old") == []


def test_rows_go_after_the_aggregate_retention(records_target: RecordsTarget) -> None:
    store, clock = store_at(records_target, T0)
    make_call(store, clock, "old")  # ended T0 + 60
    clock.now = T0 + 20 * DAY
    make_call(store, clock, "younger")
    store.call_started("open", "sip", "+31600000000", "nl")  # never ended: never deleted
    limits = {"raw_retention_days": 1, "retention_days": 5, "aggregate_retention_days": 30}

    dry = purge_now(store, T0 + 31 * DAY, **limits, dry_run=True)
    assert dry.deleted_calls == 1 and store.call("old") is not None
    report = purge_now(store, T0 + 31 * DAY, **limits)
    assert report.deleted_calls == 1
    assert store.call("old") is None and store.events("old") == []
    assert store.call("younger") is not None and len(store.events("younger")) == 7
    assert store.call("open") is not None
    # the younger call's text went after 5 days; its rows stay until day 50
    assert _kinds(store, "younger")["bot_said"]["text"] == ""
    assert purge_now(store, T0 + 49 * DAY, **limits).deleted_calls == 0
    assert purge_now(store, T0 + 51 * DAY, **limits).deleted_calls == 1


def test_a_purge_reads_only_calls_that_crossed_a_limit_since_the_last(
    records_target: RecordsTarget,
) -> None:
    """What a call was purged of is marked: tomorrow's run skips it (and counts nothing)."""
    store, clock = store_at(records_target, T0)
    for i in range(3):
        make_call(store, clock, f"c{i}")
    first = purge_now(store, T0 + 8 * DAY, raw_retention_days=7, retention_days=30)
    assert (first.raw_events, first.content_events) == (6, 0)
    marks = store.run(
        lambda db: db.execute(
            "SELECT COUNT(*) FROM calls WHERE raw_purged_at IS NOT NULL"
            " AND content_purged_at IS NULL"
        ).fetchone()[0]
    )
    assert marks == 3
    later = purge_now(store, T0 + 31 * DAY, raw_retention_days=7, retention_days=30)
    assert (later.raw_events, later.content_events) == (0, 12)
    assert (
        purge_now(store, T0 + 32 * DAY, raw_retention_days=7, retention_days=30).content_events == 0
    )


def test_aggregate_retention_is_typed_and_checked() -> None:
    assert load_settings({}).records.aggregate_retention_days == 730
    s = load_settings({"LOKET_RECORDS__AGGREGATE_RETENTION_DAYS": "null"})
    assert s.records.aggregate_retention_days is None  # kept for ever
    with pytest.raises(ConfigError, match="aggregate_retention_days must not be shorter"):
        load_settings({"LOKET_RECORDS__AGGREGATE_RETENTION_DAYS": "30"})  # content: 365
    with pytest.raises(ConfigError, match=r"records\.aggregate_retention_days"):
        load_settings({"LOKET_RECORDS__AGGREGATE_RETENTION_DAYS": "0"})
