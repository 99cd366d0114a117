"""The research export: each format read back, anonymised, with a data dictionary and an audit."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from loket.cli import main
from records.export import CALL_FIELDS, EVENT_FIELDS, FORMATS, Format, export
from records.store import Records, hash_caller
from tests.unit.records_fixtures import DAY, RecordsTarget, make_call, store_at

T0 = datetime(2026, 11, 2, 14, 30).timestamp()  # local time: the export's dates are local
CALL_ID = "3f2a9c1e-7b44-4d0e-9a51-0c6d2e8f1b7a"
SECRETS = ("111222333", "06 12345678", "+31612345678", hash_caller("+31612345678", "salt"))


def _read(path: Path, fmt: Format) -> list[dict[str, Any]]:
    if fmt == "jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    if fmt == "csv":
        with path.open(encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))
    import pyarrow.parquet as pq

    rows: list[dict[str, Any]] = pq.read_table(path).to_pylist()
    return rows


def _store(target: RecordsTarget) -> Records:
    store, clock = store_at(target, T0)
    make_call(store, clock, CALL_ID)
    clock.now = T0 + 3600
    make_call(store, clock, "older-call-without-redacted-field", redacted_field=False)
    clock.now = T0 + 5 * DAY  # outside the range
    make_call(store, clock, "later")
    return store


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_round_trip_is_anonymised(
    records_target: RecordsTarget, tmp_path: Path, fmt: Format
) -> None:
    store = _store(records_target)
    day, last = date(2026, 11, 2), date(2026, 11, 3)
    first = store.run(lambda db: export(db, day, last, fmt, tmp_path / "a"))
    second = store.run(lambda db: export(db, day, last, fmt, tmp_path / "b"))
    assert (first.calls, first.events) == (2, 14)

    calls = _read(tmp_path / "a" / f"calls.{fmt}", fmt)
    events = _read(tmp_path / "a" / f"events.{fmt}", fmt)
    assert [list(c) for c in calls] == [list(CALL_FIELDS)] * 2
    assert {tuple(e) for e in events} == {tuple(EVENT_FIELDS)}
    call = calls[0]
    assert (call["date"], int(call["hour"])) == ("2026-11-02", 14)
    assert int(calls[1]["hour"]) == 15
    assert (call["topic"], call["language"], call["outcome"]) == ("aow", "nl", "handoff")
    assert (call["handoff_reason"], call["queue"]) == ("asked for a person", "aow")
    assert float(call["answer_s"]) == 0.5 and float(call["duration_s"]) == 60.0
    assert float(call["queue_wait_s"]) == 20.0 and int(call["events"]) == 7

    mine = [e for e in events if e["call"] == call["call"]]
    assert [float(e["t_s"]) for e in mine][:2] == [2.0, 3.0]  # relative to the call's start
    said = [e["text"] for e in events if e["kind"] == "caller_said"]
    assert said == ["mijn bsn is [BSN] en mijn nummer is [TELEFOON]"] * 2  # also re-redacted

    text = "".join(p.read_bytes().decode("utf-8", "replace") for p in first.files)
    for secret in (*SECRETS, CALL_ID, "anna", "AOW"):  # also no agent name, no summary
        assert secret not in text
    others = {c["call"] for c in _read(tmp_path / "b" / f"calls.{fmt}", fmt)}
    assert len(others) == 2 and not others & {c["call"] for c in calls}
    dictionary = (tmp_path / "a" / "DICTIONARY.md").read_text()
    assert all(f"| {name} |" in dictionary for name in (*CALL_FIELDS, *EVENT_FIELDS))
    assert len(second.files) == 3


def test_cli_export_writes_its_parameters_to_the_audit_log(
    records_target: RecordsTarget, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _store(records_target).close()
    records_target.use_in_env(monkeypatch)
    out = tmp_path / "out"
    argv = ["records", "export", "--from", "2026-11-02", "--to", "2026-11-02"]
    with pytest.raises(SystemExit) as done:
        main([*argv, "--format", "csv", "--out", str(out)])
    assert done.value.code == 0 and (out / "calls.csv").exists()
    with pytest.raises(SystemExit) as bad:
        main(["records", "export", "--from", "2026-11-03", "--to", "2026-11-02"])
    assert bad.value.code == 2
    [entry] = records_target.open().audit_log()
    assert entry["action"] == "export" and entry["call_id"] is None
    params = json.loads(entry["why"])
    assert params == {
        "from": "2026-11-02",
        "to": "2026-11-02",
        "format": "csv",
        "out": str(out),
        "calls": 2,
        "events": 14,
    }
