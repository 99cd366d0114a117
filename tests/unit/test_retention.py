"""Retention on a fake clock: raw caller text after raw_retention_days, all text later."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from config.settings import ConfigError, load_settings
from records.retention import purge
from tests.unit.records_fixtures import BSN_LINE, DAY, make_call, store_at

T0 = 1_780_000_000.0


def _kinds(store: object, call_id: str) -> dict[str, dict[str, object]]:
    return {e["kind"]: e for e in store.events(call_id)}  # type: ignore[attr-defined]


def test_raw_text_goes_after_raw_retention_and_the_redacted_form_stays(tmp_path: Path) -> None:
    store, clock = store_at(tmp_path, T0)
    make_call(store, clock, "old")  # ended at T0 + 60
    make_call(store, clock, "old-no-redacted", redacted_field=False)
    clock.now = T0 + 6 * DAY
    make_call(store, clock, "recent")
    store.call_started("open", "sip", "+31600000000", "nl")  # never ended: never purged
    store.event("open", "caller_said", text=BSN_LINE, redacted="x")

    now = T0 + 7 * DAY + 3600  # 'old' ended 7 days + ~1 h ago, 'recent' 1 day ago
    dry = purge(store.db, now, raw_retention_days=7, retention_days=30, dry_run=True)
    assert (dry.raw_events, dry.content_events, dry.dry_run) == (4, 0, True)
    assert _kinds(store, "old")["caller_said"]["text"] == BSN_LINE  # a dry run changes nothing

    report = purge(store.db, now, raw_retention_days=7, retention_days=30)
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
    again = purge(store.db, now, raw_retention_days=7, retention_days=30)
    assert (again.raw_events, again.content_events) == (0, 0)  # idempotent


def test_content_purge_empties_text_and_keeps_the_rows(tmp_path: Path) -> None:
    store, clock = store_at(tmp_path, T0)
    make_call(store, clock, "old")
    before = store.events("old")
    report = purge(store.db, T0 + 31 * DAY, raw_retention_days=7, retention_days=30)
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
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from loket.cli import main

    store, clock = store_at(tmp_path, T0)
    make_call(store, clock, "old")  # ended long before the real clock's now
    store.close()
    monkeypatch.setenv("LOKET_RECORDS__PATH", str(tmp_path / "r.sqlite"))
    monkeypatch.setenv("LOKET_RECORDS__CALLER_HASH_SALT", "salt")
    monkeypatch.setenv("LOKET_RECORDS__RETENTION_DAYS", "100000")  # content kept
    with pytest.raises(SystemExit):
        main(["records", "purge", "--dry-run"])
    assert "would purge: raw caller text of 2 events, all text of 0" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["records", "purge"])
    assert "purged: raw caller text of 2 events" in capsys.readouterr().out
    after = store_at(tmp_path, T0)[0]
    assert "text" not in _kinds(after, "old")["caller_said"]
    assert [a["action"] for a in after.audit_log()] == ["purge"]
