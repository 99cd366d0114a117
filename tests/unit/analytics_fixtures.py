"""A records store filled with crafted calls whose figures are counted by hand (analytics tests).

Days D1 = 2 Nov 2026 and D2 = 3 Nov 2026 (local time); calls just outside them test the
range edges and the repeat windows. The hand counts are in tests/unit/test_analytics.py.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from records.store import Records
from tests.unit.records_fixtures import Clock

RAW_BSN = "mijn bsn is 111222333"


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> float:
    return datetime(2026, 11, day, hour, minute, second).timestamp()


class Caller:
    """Writes one call's events on the store's fake clock, seconds after the call's start."""

    def __init__(self, store: Records, clock: Clock, call_id: str, start: float) -> None:
        self.store, self.clock, self.id, self.start = store, clock, call_id, start

    def begin(self, caller: str, language: str = "nl", channel: str = "sip") -> Caller:
        self.clock.now = self.start
        self.store.call_started(self.id, channel, caller, language)
        self.store.update_call(self.id, answered_at=self.start)
        return self

    def ev(self, t: float, kind: str, **data: Any) -> Caller:
        self.clock.now = self.start + t
        self.store.event(self.id, kind, **data)
        return self

    def end(self, t: float, outcome: str | None = None, by: str = "caller") -> None:
        self.ev(t, "ended", by=by, reason="")
        fields: dict[str, Any] = {"ended_at": self.start + t, "ended_by": by}
        if outcome:
            fields["outcome"] = outcome
        self.store.update_call(self.id, **fields)


def said(text: str, redacted: str | None = None) -> dict[str, Any]:
    return {"text": text, "redacted": redacted if redacted is not None else text}


def crafted_store(tmp_path: Path) -> Records:
    clock = Clock(at(1, 0))
    store = Records(tmp_path / "r.sqlite", "salt", clock=clock)

    def call(cid: str, start: float) -> Caller:
        return Caller(store, clock, cid, start)

    # c0: the evening before D1 (outside the range)
    c = call("c0", at(1, 23, 59, 59)).begin("+31600000002")
    c.ev(5, "bot_said", text="...", topic="aow_payment").end(20)
    # c1: A, answered by the assistant; A calls again 26 h 45 min later (c5)
    c = call("c1", at(2, 9, 15)).begin("+31600000001")
    c.ev(3, "caller_said", **said("wanneer komt de aow"))
    c.ev(4, "bot_said", text="x", topic="aow_payment")
    c.end(30)
    store.update_call("c1", topic="aow_payment")
    # c2: B, a miss, then not understood -> agent within 25 s, handled 120 s, CSAT 4
    c = call("c2", at(2, 9, 40)).begin("+31600000002")
    c.ev(3, "caller_said", **said("hoe vraag ik een visum aan"))
    c.ev(4, "bot_said", text="Sorry", miss=True)
    c.ev(8, "caller_said", **said("visum voor mijn schoonmoeder"))
    c.ev(9, "handoff", queue="algemeen", reason="not understood", summary={})
    c.ev(10, "queued", queue="algemeen", position=1).ev(35, "agent_assigned", agent="anna")
    c.ev(38, "bridged", agent="anna").ev(158, "agent_hung_up", agent="anna")
    c.ev(159, "csat", score=4).end(160, "handoff", by="agent")
    # c9: a web call (no pseudonym), answered
    c = call("c9", at(2, 10, 0)).begin("web", channel="web")
    c.ev(4, "bot_said", text="x", topic="aow_payment").end(25)
    # c3: C in English, asks for an agent, hangs up after 75 s in the queue
    c = call("c3", at(2, 14, 5)).begin("+31600000003", language="en")
    c.ev(3, "handoff", queue="english", reason="asked for agent", summary={})
    c.ev(5, "queued", queue="english", position=1).end(80, "handoff")
    # c10: C again, no input -> the queue times out
    c = call("c10", at(2, 16, 0)).begin("+31600000003")
    c.ev(30, "handoff", queue="algemeen", reason="no input", summary={})
    c.ev(31, "queued", queue="algemeen", position=1).ev(3631, "queue_timeout", waited_s=3600)
    c.end(3640, "no_agent", by="bot")
    # c4: D, personal case -> agent after 55 s (outside 40 s), handled 200 s, CSAT 2
    c = call("c4", at(3, 10, 20)).begin("+31600000004")
    c.ev(3, "handoff", queue="algemeen", reason="personal case", summary={})
    c.ev(5, "queued", queue="algemeen", position=2).ev(60, "agent_assigned", agent="bert")
    c.ev(62, "bridged", agent="bert").ev(261, "csat", score=7)  # out of scale: ignored
    c.ev(262, "csat", score=2).end(262, "handoff")
    # c5: A again, answered (allowances), CSAT 5; A calls once more 44 h later (c8)
    c = call("c5", at(3, 12, 0)).begin("+31600000001")
    c.ev(4, "bot_said", text="x", topic="allowances").ev(20, "csat", score=5).end(21)
    # c6: E asks for an agent, chooses a callback after 35 s; an agent calls back the next day
    c = call("c6", at(3, 12, 30)).begin("+31600000005")
    c.ev(3, "handoff", queue="algemeen", reason="asked for agent", summary={})
    c.ev(5, "queued", queue="algemeen", position=1).ev(40, "callback_requested", queue="algemeen")
    c.end(45, "callback")
    c.ev(86_400, "callback_done", agent="anna", task="cb-1")
    # c7: a web call at the end of D2: Rasa had nothing, raw text holds a BSN
    c = call("c7", at(3, 23, 59, 30)).begin("web", channel="web")
    c.ev(3, "caller_said", **said(RAW_BSN, "mijn bsn is [BSN]")).ev(4, "not_understood")
    c.end(10)
    # c8: A, two days after D2 (outside the range, inside c5's 7 days)
    call("c8", at(5, 8, 0)).begin("+31600000001").end(15)
    return store
