"""The research export: anonymised calls and events as JSON lines, CSV or Parquet.

Anonymised by construction: each call gets a random pseudonym made for this export
only (never the caller hash, so two exports cannot be joined on a caller); times are
seconds from the call's start, plus the call's local date and hour; text is the
redacted form, redacted again now for events that predate the ``redacted`` field and
for the bot's lines (which may echo what the caller said). Agent names, notes and
summaries are left out. ``DICTIONARY.md`` beside the files says what each field holds.
"""

from __future__ import annotations

import csv
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from records.db import Db
from records.redaction import redact

Format = Literal["jsonl", "csv", "parquet"]
FORMATS: tuple[Format, ...] = ("jsonl", "csv", "parquet")
TEXT_KINDS = frozenset({"caller_said", "backchannel", "bot_said"})

CALL_FIELDS: dict[str, tuple[type, str]] = {
    "call": (str, "random pseudonym of the call, new in every export"),
    "date": (str, "the call's start date, local time (YYYY-MM-DD)"),
    "hour": (int, "the hour the call started, local time (0-23)"),
    "channel": (str, "sip or web"),
    "language": (str, "the language the call ended in (nl, en)"),
    "topic": (str, "the topic the assistant recognised, if any"),
    "outcome": (str, "answered, handoff, cut off, ... (empty if none)"),
    "ended_by": (str, "who ended the call: caller, bot, agent, gateway"),
    "handoff_reason": (str, "why the call went to a person (last handoff), if it did"),
    "queue": (str, "the queue it went to (last handoff), if it did"),
    "answer_s": (float, "seconds from the call's start to the assistant answering"),
    "queue_wait_s": (float, "seconds from queueing to an agent being assigned"),
    "duration_s": (float, "seconds from the call's start to its end"),
    "events": (int, "number of events recorded for the call"),
}
EVENT_FIELDS: dict[str, tuple[type, str]] = {
    "call": (str, "the call's pseudonym (as in calls)"),
    "t_s": (float, "seconds since the call's start"),
    "kind": (str, "caller_said, bot_said, handoff, queued, ended, ..."),
    "text": (str, "what was said, redacted ([BSN], [TELEFOON], ...); empty for other kinds"),
    "language": (str, "the utterance's language, if known"),
    "confidence": (float, "the recogniser's confidence for caller_said"),
    "reason": (str, "the reason of a handoff/ended event"),
    "queue": (str, "the queue of a handoff/queued event"),
}


@dataclass(frozen=True)
class ExportResult:
    directory: Path
    files: list[Path]
    calls: int
    events: int

    def parameters(self, start: date, end: date, fmt: Format) -> str:
        return json.dumps(
            {
                "from": start.isoformat(),
                "to": end.isoformat(),
                "format": fmt,
                "out": str(self.directory),
                "calls": self.calls,
                "events": self.events,
            }
        )


def _local_midnight(day: date) -> float:
    return datetime(day.year, day.month, day.day).timestamp()


def _event_row(
    call: str, start: float, kind: str, at: float, data: dict[str, Any], language: str
) -> dict[str, Any]:
    text = ""
    if kind in TEXT_KINDS:
        lang = str(data.get("language") or language)
        # the stored redacted form, redacted again: the redactor may have improved
        text = redact(str(data.get("redacted", data.get("text")) or ""), lang).text
    conf = data.get("confidence")
    return {
        "call": call,
        "t_s": round(at - start, 3),
        "kind": kind,
        "text": text,
        "language": str(data.get("language") or ""),
        "confidence": float(conf) if isinstance(conf, int | float) else None,
        "reason": str(data.get("reason") or "") if kind in {"handoff", "ended"} else "",
        "queue": str(data.get("queue") or "") if kind in {"handoff", "queued"} else "",
    }


def _since(start: float, at: Any) -> float | None:
    return None if at is None else round(float(at) - start, 3)


def collect(
    db: Db, start: date, end: date
) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Each call started from ``start`` to ``end`` (inclusive, local dates), anonymised."""
    lo, hi = _local_midnight(start), _local_midnight(end + timedelta(days=1))
    calls = db.execute(
        "SELECT id, channel, language, started_at, answered_at, ended_at, ended_by, outcome,"
        " topic FROM calls WHERE started_at >= ? AND started_at < ? ORDER BY started_at",
        (lo, hi),
    ).fetchall()
    for cid, channel, language, t0, answered, ended, ended_by, outcome, topic in calls:
        pseudonym = secrets.token_hex(8)
        events = []
        handoff: dict[str, Any] = {}
        queued_at = assigned_at = None
        for kind, at, blob in db.execute(
            "SELECT kind, at, data FROM events WHERE call_id = ? ORDER BY seq", (cid,)
        ).fetchall():
            data = json.loads(blob)
            events.append(_event_row(pseudonym, t0, kind, at, data, language or "nl"))
            if kind == "handoff":
                handoff = data
            elif kind == "queued" and queued_at is None:
                queued_at = at
            elif kind == "agent_assigned" and assigned_at is None:
                assigned_at = at
        started = datetime.fromtimestamp(t0)
        row = {
            "call": pseudonym,
            "date": started.date().isoformat(),
            "hour": started.hour,
            "channel": channel or "",
            "language": language or "",
            "topic": topic or "",
            "outcome": outcome or "",
            "ended_by": ended_by or "",
            "handoff_reason": str(handoff.get("reason") or ""),
            "queue": str(handoff.get("queue") or ""),
            "answer_s": _since(t0, answered),
            "queue_wait_s": _since(queued_at, assigned_at) if queued_at is not None else None,
            "duration_s": _since(t0, ended),
            "events": len(events),
        }
        yield row, events


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def _write_csv(path: Path, rows: list[dict[str, Any]], fields: list[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def _write_parquet(
    path: Path, rows: list[dict[str, Any]], spec: dict[str, tuple[type, str]]
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {str: pa.string(), int: pa.int64(), float: pa.float64()}
    schema = pa.schema([pa.field(name, types[t]) for name, (t, _) in spec.items()])
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)


def _write(
    path: Path, rows: list[dict[str, Any]], spec: dict[str, tuple[type, str]], fmt: Format
) -> None:
    if fmt == "jsonl":
        _write_jsonl(path, rows)
    elif fmt == "csv":
        _write_csv(path, rows, list(spec))
    else:
        _write_parquet(path, rows, spec)


def dictionary(start: date, end: date, fmt: Format) -> str:
    lines = [
        "# Loket research export: data dictionary",
        "",
        f"Calls started {start.isoformat()} to {end.isoformat()} (local dates), format {fmt}.",
        "Pseudonyms are random per export: they cannot be linked to a caller or to another",
        "export. Text is redacted; agent names, notes and summaries are not exported.",
        "Empty values (or null in JSON/Parquet) mean: not recorded for this call.",
    ]
    for name, spec in (("calls", CALL_FIELDS), ("events", EVENT_FIELDS)):
        lines += ["", f"## {name}.{fmt}", "", "| field | type | meaning |", "|---|---|---|"]
        lines += [f"| {f} | {t.__name__} | {doc} |" for f, (t, doc) in spec.items()]
    return "\n".join(lines) + "\n"


def export(db: Db, start: date, end: date, fmt: Format, out: Path) -> ExportResult:
    """Write ``calls.<fmt>``, ``events.<fmt>`` and ``DICTIONARY.md`` into ``out``."""
    if end < start:
        raise ValueError("--to is before --from")
    calls: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for row, evs in collect(db, start, end):
        calls.append(row)
        events.extend(evs)
    out.mkdir(parents=True, exist_ok=True)
    files = [out / f"calls.{fmt}", out / f"events.{fmt}", out / "DICTIONARY.md"]
    _write(files[0], calls, CALL_FIELDS, fmt)
    _write(files[1], events, EVENT_FIELDS, fmt)
    files[2].write_text(dictionary(start, end, fmt), encoding="utf-8")
    return ExportResult(out, files, len(calls), len(events))
