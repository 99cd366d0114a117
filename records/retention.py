"""Retention: raw caller text goes after ``raw_retention_days``, all text after ``retention_days``.

Both count from the call's end (``calls.ended_at``); calls still open are never touched.
The store does not know when an agent's wrap-up of a call is done (the distributor
keeps that in memory), so the raw text is purged by age only, not at wrap-up.

Rows stay: after the content purge an event keeps its kind, time and non-text fields,
so counts and durations (the KPIs) survive.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from records.redaction import redact

DAY_S = 86_400.0
RAW_KINDS = ("caller_said", "backchannel")
"""Events whose ``text`` is the caller's own words, kept beside a ``redacted`` form."""
CONTENT_FIELDS = ("text", "redacted", "summary", "note", "detail")
"""Free-text fields emptied by the content purge, in any event kind."""


@dataclass(frozen=True)
class PurgeReport:
    raw_events: int
    """caller_said/backchannel events whose raw text was (or would be) removed."""
    content_events: int
    """Events whose text fields were (or would be) emptied."""
    dry_run: bool

    def summary(self) -> str:
        verb = "would purge" if self.dry_run else "purged"
        return (
            f"{verb}: raw caller text of {self.raw_events} events, "
            f"all text of {self.content_events} events"
        )


def _without_raw(data: dict[str, Any], language: str) -> dict[str, Any] | None:
    """The event without its raw text (redacted now if it predates that field); None: no change."""
    if "text" not in data:
        return None
    text = str(data.pop("text") or "")
    if "redacted" not in data:
        data["redacted"] = redact(text, str(data.get("language") or language)).text
    return data


def _without_content(data: dict[str, Any]) -> dict[str, Any] | None:
    emptied = {k: ({} if isinstance(data[k], dict) else "") for k in CONTENT_FIELDS if k in data}
    if all(data[k] == v for k, v in emptied.items()):
        return None
    return {**data, **emptied}


def purge(
    db: sqlite3.Connection,
    now: float,
    *,
    raw_retention_days: float,
    retention_days: float,
    dry_run: bool = False,
) -> PurgeReport:
    """Apply both retention limits to calls ended before them, in one transaction."""
    content_before = now - retention_days * DAY_S
    raw_before = now - raw_retention_days * DAY_S
    rows = db.execute(
        "SELECT e.seq, e.kind, e.data, c.ended_at, COALESCE(c.language, 'nl')"
        " FROM events e JOIN calls c ON c.id = e.call_id"
        " WHERE c.ended_at IS NOT NULL AND c.ended_at < ?",
        (raw_before,),
    ).fetchall()
    updates: list[tuple[str, int]] = []
    raw = content = 0
    for seq, kind, blob, ended_at, language in rows:
        data = json.loads(blob)
        changed = False
        if kind in RAW_KINDS and (stripped := _without_raw(data, language)) is not None:
            data, changed, raw = stripped, True, raw + 1
        if ended_at < content_before and (emptied := _without_content(data)) is not None:
            data, changed, content = emptied, True, content + 1
        if changed:
            updates.append((json.dumps(data, ensure_ascii=False), seq))
    if updates and not dry_run:
        with db:  # one transaction: a crash leaves all or nothing
            db.execute("BEGIN")
            db.executemany("UPDATE events SET data = ? WHERE seq = ?", updates)
    return PurgeReport(raw_events=raw, content_events=content, dry_run=dry_run)
