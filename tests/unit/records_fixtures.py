"""A records store on a fake clock, with calls made at chosen times (shared by records tests)."""

from __future__ import annotations

from pathlib import Path

from records.store import Records

BSN_LINE = "mijn bsn is 111222333 en mijn nummer is 06 12345678"
DAY = 86_400.0


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def store_at(tmp_path: Path, now: float) -> tuple[Records, Clock]:
    clock = Clock(now)
    return Records(tmp_path / "r.sqlite", "salt", clock=clock), clock


def make_call(store: Records, clock: Clock, call_id: str, *, redacted_field: bool = True) -> None:
    """A call of 60 s: caller says a BSN and a number, the bot answers, it goes to a queue."""
    store.call_started(call_id, "sip", "+31612345678", "nl")
    store.update_call(call_id, answered_at=clock.now + 0.5, topic="aow")
    clock.now += 2
    extra = {"redacted": "mijn bsn is [BSN] en mijn nummer is [TELEFOON]"} if redacted_field else {}
    store.event(call_id, "caller_said", text=BSN_LINE, confidence=0.9, **extra)
    clock.now += 1
    store.event(call_id, "backchannel", text="ja", redacted="ja", speech_s=0.3)
    store.event(call_id, "bot_said", text="Ik verbind u door.")
    store.event(
        call_id, "handoff", queue="aow", reason="asked for a person", summary={"text": "AOW"}
    )
    clock.now += 7
    store.event(call_id, "queued", queue="aow", position=1)
    clock.now += 20
    store.event(call_id, "agent_assigned", agent="anna")
    clock.now += 30
    store.event(call_id, "ended", by="caller", reason="")
    store.update_call(call_id, ended_at=clock.now, ended_by="caller", outcome="handoff")
