"""The asyncio adapter: futures a session awaits, the one timer, listeners for the desk."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from telephony.acd_events import (
    AcdEvent,
    CallAssigned,
    MaxWaitReached,
    OfferMade,
    OfferTimedOut,
    OfferWithdrawn,
)
from telephony.acd_model import AcdConfig, CallbackNotOffered, StaleOffer
from telephony.agent_queue import InProcessQueue, Resync, Ticket
from tests.unit.test_voice_session import harness, heard

T0 = 1_700_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def make(**config: object) -> tuple[InProcessQueue, Clock]:
    clock = Clock()
    config.setdefault("queues", ("toeslagen",))
    return InProcessQueue(AcdConfig(**config), clock=clock), clock  # type: ignore[arg-type]


def enqueue(q: InProcessQueue, call_id: str, queue: str = "general", **kw: str) -> Ticket:
    return q.enqueue(
        call_id,
        queue=queue,
        priority=kw.get("priority", "normal"),
        reason="asked for agent",
        language="nl",
        summary={"spoken": "Beller wil een medewerker spreken."},
    )


def drain(sub: asyncio.Queue[AcdEvent]) -> list[AcdEvent]:
    out = []
    while not sub.empty():
        out.append(sub.get_nowait())
    return out


async def test_assigned_resolves_with_the_agent_when_the_agent_accepts() -> None:
    q, clock = make()
    sub = q.subscribe()
    ticket = enqueue(q, "c1")
    clock.now += 12
    assert ticket.waiting_s == 12 and q.position(ticket) == 1
    q.login("a1", ["general"])
    offer = next(e for e in drain(sub) if isinstance(e, OfferMade))
    assert (offer.agent_id, offer.call_id) == ("a1", "c1")
    assert not ticket.assigned.done()  # an offer is not an answer
    q.accept("a1", "c1")
    assert await asyncio.wait_for(ticket.assigned, 1) == "a1"
    assert ticket.agent_id == "a1" and q.waiting() == []
    assert any(isinstance(e, CallAssigned) for e in drain(sub))
    q.leave(ticket)  # what the session does after hold() returns: the call stays with a1
    assert q.snapshot().agents[0].state == "on_call"
    q.close()


async def test_leave_while_offered_withdraws_the_offer() -> None:
    q, _ = make()
    q.login("a1", ["general"])
    sub = q.subscribe()
    ticket = enqueue(q, "c1")
    q.leave(ticket)
    events = drain(sub)
    withdrawn = next(e for e in events if isinstance(e, OfferWithdrawn))
    assert (withdrawn.agent_id, withdrawn.reason) == ("a1", "caller_left")
    assert ticket.assigned.cancelled()
    snap = q.snapshot()
    assert snap.offers == () and snap.tickets == () and snap.agents[0].state == "available"
    with pytest.raises(StaleOffer):
        q.accept("a1", "c1")  # a desk clicking late gets a clear refusal
    q.close()


async def test_offer_timeout_and_wrap_up_run_on_the_adapters_timer() -> None:
    q, clock = make(offer_timeout_s=20, wrap_up_s=30)
    q.login("a1", ["general"])
    clock.now += 1
    q.login("a2", ["general"])
    ticket = enqueue(q, "c1")
    sub = q.subscribe()
    clock.now += 20
    events = q.tick()
    assert isinstance(events[0], OfferTimedOut) and events[0].agent_id == "a1"
    assert ("a2", "c1") in [(e.agent_id, e.call_id) for e in events if isinstance(e, OfferMade)]
    assert drain(sub)[: len(events)] == events
    q.accept("a2", "c1")
    q.call_ended("c1")
    assert ticket.requeued.cancelled()  # the call is over: it will never come back
    states = {a.agent_id: a.state for a in q.snapshot().agents}
    assert states == {"a1": "break", "a2": "wrap_up"}
    clock.now += 30
    q.tick()
    assert q.snapshot().agents[1].state == "available"
    q.close()


async def test_the_loop_timer_fires_by_itself() -> None:
    q = InProcessQueue(AcdConfig(offer_timeout_s=0.05))  # the real clock
    q.login("a1", ["general"])
    sub = q.subscribe()
    enqueue(q, "c1")
    async with asyncio.timeout(5):
        while not isinstance(await sub.get(), OfferTimedOut):
            pass
    assert q.snapshot().agents[0].break_reason == "missed_offer"
    q.close()


async def test_agent_lost_mid_call_brings_the_call_back_and_a_new_agent_can_take_it() -> None:
    q, clock = make()
    q.login("a1", ["general"])
    ticket = enqueue(q, "c1")
    q.accept("a1", "c1")
    first = ticket.assigned
    assert await first == "a1"
    clock.now += 60
    q.disconnect("a1")
    assert await asyncio.wait_for(ticket.requeued, 1) == "agent_disconnected"
    assert ticket.assigned is not first and not ticket.assigned.done()
    assert ticket.agent_id is None and q.position(ticket) == 1 and ticket.waiting_s == 60
    q.login("a2", ["general"])
    q.accept("a2", "c1")
    assert await asyncio.wait_for(ticket.assigned, 1) == "a2"
    assert not ticket.requeued.done()  # a fresh one for this agent
    q.close()


async def test_callback_after_the_announcement_ends_the_wait() -> None:
    q, clock = make()
    ticket = enqueue(q, "c1", "toeslagen")
    with pytest.raises(CallbackNotOffered):
        q.request_callback(ticket, "caller-ref")
    estimate = q.announce(ticket)
    assert (estimate.position, estimate.expected_wait_s, estimate.callback_offered) == (
        1,
        None,
        True,
    )
    clock.now += 45
    task = q.request_callback(ticket, "caller-ref")
    assert (task.call_id, task.queue, task.caller_ref, task.waited_s) == (
        "c1",
        "toeslagen",
        "caller-ref",
        45,
    )
    assert ticket.assigned.cancelled() and q.waiting() == [] and q.callbacks() == [task]
    q.leave(ticket)  # the session's finally: harmless
    q.close_callback(task.task_id, "a1")
    assert q.callbacks() == []
    q.close()


async def test_max_wait_sets_the_tickets_event() -> None:
    q, clock = make(max_wait_s=600)
    ticket = enqueue(q, "c1")
    clock.now += 600
    events = q.tick()
    assert isinstance(events[0], MaxWaitReached)
    assert ticket.max_wait_reached.is_set() and q.estimate(ticket).callback_offered
    q.close()


async def test_unknown_queue_waits_in_general() -> None:
    q, _ = make()
    ticket = enqueue(q, "c1", "paspoorten")
    assert (ticket.queue, ticket.requested_queue) == ("general", "paspoorten")
    q.close()


async def test_a_subscriber_that_falls_behind_is_told_to_resync() -> None:
    q, _ = make()
    slow = q.subscribe(maxsize=3)
    for i in range(5):
        enqueue(q, f"c{i}")
    events = drain(slow)
    assert isinstance(events[0], Resync) and len(events) <= 3
    q.unsubscribe(slow)
    enqueue(q, "late")
    assert slow.empty()
    q.close()


async def test_a_failing_listener_does_not_break_the_queue() -> None:
    q, _ = make()
    seen: list[str] = []

    def broken(event: AcdEvent) -> None:
        raise RuntimeError("desk bug")

    q.add_listener(broken)
    remove = q.add_listener(lambda e: seen.append(e.kind))
    ticket = enqueue(q, "c1")
    assert seen == ["ticket_queued"] and q.position(ticket) == 1
    remove()
    enqueue(q, "c2")
    assert seen == ["ticket_queued"]
    q.close()


async def test_the_session_holds_until_an_agent_accepts_on_the_desk(tmp_path: Path) -> None:
    from dialogue.rasa_client import DialogueError

    h = harness(tmp_path, replies={"help": DialogueError("down")})
    h.call.stream.hold_time = 10
    await h.start()
    h.session.inputs.put_nowait(heard("help"))
    await h.until(lambda: "queued" in h.kinds())
    h.queue.login("agent-7", ["general"])
    (offer,) = h.queue.snapshot().offers
    h.queue.accept("agent-7", offer.call_id)
    await h.until(lambda: "agent_assigned" in h.kinds())
    assert h.events("agent_assigned")[0]["agent"] == "agent-7"
    await h.finish()
    h.queue.call_ended(h.call.id)  # what the gateway does when a call ends
    assert h.queue.snapshot().agents[0].state == "wrap_up"
    h.queue.close()
