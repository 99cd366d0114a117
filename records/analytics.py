"""The helpline's figures for supervisors, counted from the records store (pure: no web).

Each call in a date range (local dates, inclusive, as in the export) is first reduced
to its :class:`CallFacts` from its row and events; the figures are then plain counts
over those facts, per day, per hour of the day, per language and per topic. What each
figure means (the definitions a supervisor is paid by):

* **containment**: answered by the assistant (an answer was given — a ``bot_said``
  with a ``topic``, or outcome ``answered`` — and no handoff) and no call from the same
  caller pseudonym within 24 h after this call started;
* **first-contact resolution**: no call from the same pseudonym within 7 days;
  calls without a usable pseudonym (web calls, anonymous numbers) count as not repeated;
* **service level**: share of queued calls (callbacks left out: the caller chose)
  that an agent accepted within ``service_level_s`` of queueing;
* **abandoned**: queued, the caller hung up before an agent accepted (no callback, no
  queue time-out); after how long is the time from queueing to the end;
* **wait**: queueing to an agent accepting; **handle**: bridged to the agent's part
  ending (agent hung up, transferred, or the call ended);
* **callbacks**: requested in the range, and how many of those an agent closed;
* **CSAT**: ``csat`` events with ``score`` 1-5;
* **unanswered questions**: the redacted words of a caller turn that the assistant
  answered with a miss (``bot_said`` with ``miss``, or the gateway's ``not_understood``),
  and the last caller turn before a handoff for lack of an answer.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from records.db import Db
from records.redaction import redact

SERVICE_LEVEL_S = 40.0
REPEAT_CONTAINMENT_S = 24 * 3600.0
REPEAT_FCR_S = 7 * 24 * 3600.0
LACK_OF_ANSWER = frozenset({"not understood", "topic not confirmed", "topic confirmation unclear"})
"""Handoff reasons that mean the assistant had no answer (dialogue/rasa/handoff_queues.yml)."""
AGENT_PART_ENDS = frozenset({"agent_hung_up", "transfer", "transferred", "ended"})
ABANDON_BOUNDS_S = (10, 30, 60, 120, 300)
"""Upper bounds of the abandonment histogram; the last bucket is everything longer."""
UNKNOWN = "unknown"


@dataclass
class Unanswered:
    text: str
    """Redacted caller words."""
    language: str
    day: str
    why: str
    """``miss`` (the assistant said it did not understand) or the handoff reason."""


@dataclass
class CallFacts:
    """One call, reduced to what the figures count."""

    call_id: str
    caller: str | None
    """The caller pseudonym; None when it says nothing (web, anonymous number)."""
    started_at: float
    day: str
    hour: int
    language: str
    topic: str
    answered_by_assistant: bool = False
    handoff_reason: str | None = None
    queued: bool = False
    wait_s: float | None = None
    """Queueing to an agent accepting; None when no agent accepted."""
    abandoned_after_s: float | None = None
    queue_timeout: bool = False
    handle_s: float | None = None
    callback_requested: bool = False
    callback_done: bool = False
    csat: int | None = None
    unanswered: list[Unanswered] = field(default_factory=list)
    repeat_24h: bool = False
    repeat_7d: bool = False

    @property
    def contained(self) -> bool:
        return self.answered_by_assistant and not self.repeat_24h


def _local_midnight(day: date) -> float:
    return datetime(day.year, day.month, day.day).timestamp()


def _text(data: dict[str, Any], language: str) -> str:
    """The redacted words only: the stored redacted form, else redacted now."""
    if "redacted" in data:
        return str(data.get("redacted") or "").strip()
    return redact(str(data.get("text") or ""), language).text.strip()


def call_facts(
    row: dict[str, Any], events: Iterable[tuple[str, float, dict[str, Any]]]
) -> CallFacts:
    """Reduce one call (its ``calls`` row and its events in order) to its facts."""
    started = datetime.fromtimestamp(float(row["started_at"]))
    language = str(row.get("language") or "") or UNKNOWN
    facts = CallFacts(
        call_id=str(row["id"]),
        caller=row.get("caller_hash"),
        started_at=float(row["started_at"]),
        day=started.date().isoformat(),
        hour=started.hour,
        language=language,
        topic=str(row.get("topic") or "") or UNKNOWN,
    )
    answered = row.get("outcome") == "answered"
    handed_off = False
    queued_at = assigned_at = bridged_at = ended_at = None
    said: list[tuple[str, str]] = []  # (text, language) of each caller turn so far
    taken: set[int] = set()  # turns already listed as unanswered

    def unanswered(why: str) -> None:
        turn = len(said) - 1
        if turn >= 0 and said[turn][0] and turn not in taken:
            taken.add(turn)
            facts.unanswered.append(Unanswered(said[turn][0], said[turn][1], facts.day, why))

    for kind, at, data in events:
        if kind == "caller_said":
            lang = str(data.get("language") or row.get("language") or "nl")
            said.append((_text(data, lang), lang))
        elif kind == "bot_said":
            if data.get("topic"):
                answered = True
                if facts.topic == UNKNOWN:
                    facts.topic = str(data["topic"])
            if data.get("miss"):
                unanswered("miss")
        elif kind == "not_understood":
            unanswered("miss")
        elif kind == "handoff":
            if not handed_off:
                handed_off = True
                facts.handoff_reason = str(data.get("reason") or UNKNOWN)
            if str(data.get("reason")) in LACK_OF_ANSWER:
                unanswered(str(data["reason"]))
        elif kind == "queued" and queued_at is None:
            queued_at = at
        elif kind == "agent_assigned" and assigned_at is None:
            assigned_at = at
        elif kind == "bridged" and bridged_at is None:
            bridged_at = at
        elif kind in AGENT_PART_ENDS and bridged_at is not None and facts.handle_s is None:
            facts.handle_s = at - bridged_at
        if kind == "ended":
            ended_at = at
        elif kind == "queue_timeout":
            facts.queue_timeout = True
        elif kind == "callback_requested":
            facts.callback_requested = True
        elif kind == "callback_done":
            facts.callback_done = True
        elif kind == "csat":
            score = data.get("score")
            if isinstance(score, int) and 1 <= score <= 5:
                facts.csat = score
    if ended_at is None and row.get("ended_at") is not None:
        ended_at = float(row["ended_at"])
    facts.answered_by_assistant = answered and not handed_off
    facts.queued = queued_at is not None
    if queued_at is not None:
        if assigned_at is not None:
            facts.wait_s = assigned_at - queued_at
        elif ended_at is not None and not (facts.callback_requested or facts.queue_timeout):
            facts.abandoned_after_s = ended_at - queued_at
    return facts


def mark_repeats(facts: list[CallFacts], later: dict[str, list[float]]) -> None:
    """Set ``repeat_24h``/``repeat_7d`` from the start times of every call per pseudonym
    (``later`` must reach 7 days past the range, sorted)."""
    for f in facts:
        if f.caller is None:
            continue
        nxt = next((t for t in later.get(f.caller, ()) if t > f.started_at), None)
        if nxt is not None:
            f.repeat_24h = nxt - f.started_at <= REPEAT_CONTAINMENT_S
            f.repeat_7d = nxt - f.started_at <= REPEAT_FCR_S


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def _bucket(seconds: float) -> str:
    for bound in ABANDON_BOUNDS_S:
        if seconds <= bound:
            return f"<= {bound} s"
    return f"> {ABANDON_BOUNDS_S[-1]} s"


def figures(facts: list[CallFacts], service_level_s: float = SERVICE_LEVEL_S) -> dict[str, Any]:
    """The figures over some calls (a day, an hour, a language, a topic or all)."""
    n = len(facts)
    queued = [f for f in facts if f.queued]
    offered = [f for f in queued if not f.callback_requested]
    waits = [f.wait_s for f in queued if f.wait_s is not None]
    abandoned = [f.abandoned_after_s for f in queued if f.abandoned_after_s is not None]
    handles = [f.handle_s for f in facts if f.handle_s is not None]
    within = sum(1 for f in offered if f.wait_s is not None and f.wait_s <= service_level_s)
    scores = [f.csat for f in facts if f.csat is not None]
    contained = sum(1 for f in facts if f.contained)
    resolved = sum(1 for f in facts if not f.repeat_7d)
    handoffs = Counter(f.handoff_reason for f in facts if f.handoff_reason is not None)
    callbacks = [f for f in facts if f.callback_requested]
    return {
        "calls": n,
        "answered_by_assistant": sum(1 for f in facts if f.answered_by_assistant),
        "contained": contained,
        "containment": _share(contained, n),
        "first_contact_resolved": resolved,
        "first_contact_resolution": _share(resolved, n),
        "handoffs": sum(handoffs.values()),
        "handoffs_by_reason": dict(handoffs.most_common()),
        "queued": len(queued),
        "answered_by_agent": len(waits),
        "abandoned": len(abandoned),
        "abandoned_after_s": _mean(abandoned),
        "abandoned_by_wait": dict(Counter(_bucket(s) for s in abandoned)),
        "queue_timeouts": sum(1 for f in queued if f.queue_timeout),
        "service_level_s": service_level_s,
        "within_service_level": within,
        "service_level": _share(within, len(offered)),
        "average_wait_s": _mean(waits),
        "average_handle_s": _mean(handles),
        "callbacks_requested": len(callbacks),
        "callbacks_done": sum(1 for f in callbacks if f.callback_done),
        "csat_responses": len(scores),
        "csat_average": round(sum(scores) / len(scores), 2) if scores else None,
        "csat_scores": {str(s): scores.count(s) for s in range(1, 6)},
        "unanswered": sum(len(f.unanswered) for f in facts),
    }


def _grouped(facts: list[CallFacts], key: str, service_level_s: float) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[CallFacts]] = defaultdict(list)
    for f in facts:
        groups[str(getattr(f, key))].append(f)
    return {k: figures(v, service_level_s) for k, v in sorted(groups.items())}


def load_facts(
    db: sqlite3.Connection | Db, start: date, end: date, no_pseudonym: Collection[str] = ()
) -> list[CallFacts]:
    """The facts of every call started from ``start`` to ``end`` (local dates, inclusive)."""
    if end < start:
        raise ValueError("the range ends before it starts")
    lo, hi = _local_midnight(start), _local_midnight(end + timedelta(days=1))
    cur = db.execute(
        "SELECT * FROM calls WHERE started_at >= ? AND started_at < ? ORDER BY started_at",
        (lo, hi),
    )
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    events: dict[str, list[tuple[str, float, dict[str, Any]]]] = defaultdict(list)
    for call_id, kind, at, blob in db.execute(
        "SELECT e.call_id, e.kind, e.at, e.data FROM events e JOIN calls c ON c.id = e.call_id"
        " WHERE c.started_at >= ? AND c.started_at < ? ORDER BY e.seq",
        (lo, hi),
    ):
        events[call_id].append((kind, at, json.loads(blob)))
    facts = []
    for row in rows:
        if row.get("caller_hash") in no_pseudonym:
            row["caller_hash"] = None
        facts.append(call_facts(row, events.get(row["id"], [])))
    later: dict[str, list[float]] = defaultdict(list)
    for caller, t in db.execute(
        "SELECT caller_hash, started_at FROM calls WHERE started_at >= ? AND started_at < ?"
        " ORDER BY started_at",
        (lo, hi + REPEAT_FCR_S),
    ):
        later[caller].append(t)
    mark_repeats(facts, later)
    return facts


def report(
    db: sqlite3.Connection | Db,
    start: date,
    end: date,
    *,
    service_level_s: float = SERVICE_LEVEL_S,
    no_pseudonym: Collection[str] = (),
) -> dict[str, Any]:
    """All figures for the range: in total, per day, per hour of day, language and topic,
    plus the unanswered questions (redacted) for :mod:`records.themes`."""
    facts = load_facts(db, start, end, no_pseudonym)
    days = [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]
    by_day = _grouped(facts, "day", service_level_s)
    empty = figures([], service_level_s)
    by_hour = _grouped(facts, "hour", service_level_s)
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "total": figures(facts, service_level_s),
        "by_day": {d: by_day.get(d, empty) for d in days},
        "by_hour": {str(h): by_hour.get(str(h), empty) for h in range(24)},
        "by_language": _grouped(facts, "language", service_level_s),
        "by_topic": _grouped(facts, "topic", service_level_s),
        "unanswered": [u.__dict__ for f in facts for u in f.unanswered],
    }


def open_readonly(path: Path) -> sqlite3.Connection:
    """A connection of its own that cannot write (WAL lets it read beside the gateway's)."""
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)


NO_NUMBER = ("", "web", "anonymous", "unknown", "restricted", "unavailable", "private")
"""What a caller is called when there is no number (web calls, withheld numbers)."""


def no_pseudonym(salt: str) -> frozenset[str]:
    """The pseudonyms of callers without a number: shared by many people, so not repeats."""
    from records.store import hash_caller

    return frozenset(hash_caller(c, salt) for c in NO_NUMBER)
