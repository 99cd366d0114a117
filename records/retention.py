"""Retention: raw caller text after ``raw_retention_days``, all text after ``retention_days``,
and the rows themselves after ``aggregate_retention_days``.

All three count from the call's end (``calls.ended_at``); calls still open are never
touched. The store does not know when an agent's wrap-up of a call is done (the
distributor keeps that in memory), so the raw text is purged by age only, not at wrap-up.

Between the content and the aggregate limit the rows stay: an event keeps its kind,
time and non-text fields, so counts and durations (the KPIs) survive; after the
aggregate limit a call and its events are deleted. ``calls.raw_purged_at`` and
``calls.content_purged_at`` say what a call has been purged of, so the daily run reads
only the calls that crossed a limit since the last one.

The purge runs in batches of calls, each its own transaction: a crash leaves whole
calls purged or not (the next run does the rest), and on SQLite the gateway's writer
waits for one batch at most, not for the whole purge.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from records.db import Db, Target
from records.redaction import redact

log = logging.getLogger(__name__)
DAY_S = 86_400.0
BATCH_CALLS = 200
"""Calls purged per transaction."""
RAW_KINDS = ("caller_said", "backchannel")
"""Events whose ``text`` is the caller's own words, kept beside a ``redacted`` form."""
CONTENT_FIELDS = ("text", "redacted", "summary", "note", "detail")
"""Free-text fields emptied by the content purge, in any event kind."""


@dataclass(frozen=True)
class Limits:
    """The three retention limits, in days after a call's end."""

    raw_retention_days: float
    retention_days: float
    aggregate_retention_days: float | None = None
    """None: rows are kept for ever."""

    @classmethod
    def of(cls, settings: Any) -> Limits:
        """From ``settings.records`` (a :class:`config.settings.RecordsSettings`)."""
        return cls(
            settings.raw_retention_days,
            settings.retention_days,
            settings.aggregate_retention_days,
        )


@dataclass(frozen=True)
class PurgeReport:
    raw_events: int
    """caller_said/backchannel events whose raw text was (or would be) removed."""
    content_events: int
    """Events whose text fields were (or would be) emptied."""
    dry_run: bool
    deleted_calls: int = 0
    """Calls deleted with their events (past the aggregate limit)."""

    def summary(self) -> str:
        verb = "would purge" if self.dry_run else "purged"
        return (
            f"{verb}: raw caller text of {self.raw_events} events, "
            f"all text of {self.content_events} events, "
            f"{self.deleted_calls} calls deleted"
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


def _marks(ids: Sequence[str]) -> str:
    return ", ".join("?" for _ in ids)


def _purge_text(
    db: Db, calls: list[tuple[str, float, str]], content_before: float, now: float, dry_run: bool
) -> tuple[int, int]:
    """One batch: strip raw text, empty old content, mark the calls; (raw, content) counts."""
    ids = [cid for cid, _, _ in calls]
    ended = {cid: (at, lang) for cid, at, lang in calls}
    rows = db.execute(
        f"SELECT seq, call_id, kind, data FROM events WHERE call_id IN ({_marks(ids)})", ids
    ).fetchall()
    updates: list[tuple[str, int]] = []
    raw = content = 0
    for seq, call_id, kind, blob in rows:
        ended_at, language = ended[call_id]
        data = json.loads(blob)
        changed = False
        if kind in RAW_KINDS and (stripped := _without_raw(data, language)) is not None:
            data, changed, raw = stripped, True, raw + 1
        if ended_at < content_before and (emptied := _without_content(data)) is not None:
            data, changed, content = emptied, True, content + 1
        if changed:
            updates.append((json.dumps(data, ensure_ascii=False), seq))
    if dry_run:
        return raw, content
    with db.transaction():
        if updates:
            db.executemany("UPDATE events SET data = ? WHERE seq = ?", updates)
        db.execute(
            f"UPDATE calls SET raw_purged_at = ? WHERE raw_purged_at IS NULL AND id IN"
            f" ({_marks(ids)})",
            (now, *ids),
        )
        old = [cid for cid, at, _ in calls if at < content_before]
        if old:
            db.execute(
                f"UPDATE calls SET content_purged_at = ? WHERE id IN ({_marks(old)})",
                (now, *old),
            )
    return raw, content


def purge(
    db: Db,
    now: float,
    *,
    raw_retention_days: float,
    retention_days: float,
    aggregate_retention_days: float | None = None,
    dry_run: bool = False,
) -> PurgeReport:
    """Apply the retention limits to the calls ended before them."""
    raw_before = now - raw_retention_days * DAY_S
    content_before = now - retention_days * DAY_S
    raw = content = deleted = 0
    todo = db.execute(
        "SELECT id, ended_at, COALESCE(language, 'nl') FROM calls"
        " WHERE ended_at < ? AND (raw_purged_at IS NULL"
        " OR (ended_at < ? AND content_purged_at IS NULL)) ORDER BY ended_at",
        (raw_before, content_before),
    ).fetchall()
    for i in range(0, len(todo), BATCH_CALLS):
        batch = [(str(c), float(at), str(lang)) for c, at, lang in todo[i : i + BATCH_CALLS]]
        r, c = _purge_text(db, batch, content_before, now, dry_run)
        raw, content = raw + r, content + c
    if aggregate_retention_days is not None:
        gone_before = now - aggregate_retention_days * DAY_S
        old = [
            str(cid)
            for (cid,) in db.execute(
                "SELECT id FROM calls WHERE ended_at < ? ORDER BY ended_at", (gone_before,)
            ).fetchall()
        ]
        deleted = len(old)
        for i in range(0, len(old), BATCH_CALLS):
            if dry_run:
                break
            ids = old[i : i + BATCH_CALLS]
            with db.transaction():
                db.execute(f"DELETE FROM events WHERE call_id IN ({_marks(ids)})", ids)
                db.execute(f"DELETE FROM calls WHERE id IN ({_marks(ids)})", ids)
    return PurgeReport(
        raw_events=raw, content_events=content, dry_run=dry_run, deleted_calls=deleted
    )


def purge_target(target: Target, now: float, limits: Limits) -> PurgeReport:
    """The purge on a connection of its own (the gateway's daily run, in a thread)."""
    db = target.connect()
    try:
        return purge(
            db,
            now,
            raw_retention_days=limits.raw_retention_days,
            retention_days=limits.retention_days,
            aggregate_retention_days=limits.aggregate_retention_days,
        )
    finally:
        db.close()


class DailyPurge:
    """The purge once a day inside the gateway: an asyncio task, the database work in a thread.

    ``clock`` gives the time the limits count from and ``sleep`` waits; tests pass a
    fake clock and a sleep that only moves it, so days pass in milliseconds."""

    def __init__(
        self,
        work: Callable[[float], PurgeReport],
        *,
        every_s: float = DAY_S,
        first_after_s: float = 60.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        done: Callable[[PurgeReport], None] | None = None,
    ) -> None:
        self._work = work
        self.every_s = every_s
        self.first_after_s = first_after_s
        self._clock = clock
        self._sleep = sleep
        self._done = done
        self._task: asyncio.Task[None] | None = None
        self.runs = 0
        self.last: PurgeReport | None = None
        self.failures = 0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="records-purge")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        self._task = None

    async def _loop(self) -> None:
        delay = self.first_after_s  # not at start-up: the gateway has enough to do then
        while True:
            await self._sleep(delay)
            delay = self.every_s
            now = self._clock()
            try:
                report = await asyncio.to_thread(self._work, now)
            except Exception:  # a refused disk, a lost server: tomorrow again
                self.failures += 1
                log.exception("records.purge_failed")
                continue
            self.runs += 1
            self.last = report
            log.info(
                "records.purged",
                extra={
                    "raw_events": report.raw_events,
                    "content_events": report.content_events,
                    "deleted_calls": report.deleted_calls,
                },
            )
            if self._done is not None:
                self._done(report)
