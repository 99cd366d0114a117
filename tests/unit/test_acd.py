"""The call distribution core with a fake clock: no asyncio, no sleeping, every step checked."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from telephony.acd import Acd
from telephony.acd_events import (
    AcdEvent,
    CallAssigned,
    CallbackCreated,
    CallFinished,
    MaxWaitReached,
    OfferDeclined,
    OfferMade,
    OfferTimedOut,
    OfferWithdrawn,
    TicketQueued,
    TicketRequeued,
    WrapUpEnded,
)
from telephony.acd_model import (
    AcdConfig,
    AcdError,
    CallbackNotOffered,
    DuplicateCall,
    IllegalTransition,
    StaleOffer,
    UnknownAgent,
    UnknownCall,
    UnknownSkill,
)
from telephony.acd_redis import RedisQueueState, connect
from tests.redis_server import RedisServer, need_redis_server

T0 = 1_700_000_000.0
QUEUES = ("toeslagen", "belastingen", "urgent")


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    need_redis_server()
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True, params=["memory", "redis"])
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every test here runs against both states: in-process, and Redis (one gateway)."""
    if request.param == "memory":
        World.make = Acd
        yield "memory"
        return
    server: RedisServer = request.getfixturevalue("redis_server")
    client = connect(server.url)
    client.flushdb()
    World.make = lambda config: RedisQueueState(config, client, gateway_id="gw-test")
    try:
        yield "redis"
    finally:
        client.close()


class World:
    """One distributor and a fake clock that runs timers the way the adapter's loop would."""

    make: Callable[[AcdConfig], Any] = Acd
    """The state under test (set per backend by the ``backend`` fixture)."""

    def __init__(self, **config: Any) -> None:
        config.setdefault("queues", QUEUES)
        self.acd = type(self).make(AcdConfig(**config))
        self.now = T0
        self.log: list[AcdEvent] = []

    def do(self, method: str, *args: Any, **kwargs: Any) -> list[AcdEvent]:
        events: list[AcdEvent] = getattr(self.acd, method)(self.now, *args, **kwargs)
        self._seen(events)
        return events

    def call(self, call_id: str, queue: str = "general", **kwargs: Any) -> list[AcdEvent]:
        return self.do("enqueue", call_id, queue=queue, **kwargs)

    def advance(self, seconds: float) -> list[AcdEvent]:
        """Move the clock, running every timer at its own moment."""
        target = self.now + seconds
        out: list[AcdEvent] = []
        while (due := self.acd.next_timer()) is not None and due <= target:
            self.now = max(self.now, due)
            events = self.acd.handle_timer(self.now)
            self._seen(events)
            out += events
            after = self.acd.next_timer()
            assert after is None or after > self.now, "a timer stayed due after handle_timer"
        self.now = target
        return out

    def _seen(self, events: list[AcdEvent]) -> None:
        self.log += events
        self.acd.check()  # offers and calls pair up with agents after every step

    def state(self, agent_id: str) -> str:
        return next(a.state for a in self.acd.snapshot(self.now).agents if a.agent_id == agent_id)

    def agent(self, agent_id: str) -> Any:
        return next(a for a in self.acd.snapshot(self.now).agents if a.agent_id == agent_id)

    def ticket(self, call_id: str) -> Any:
        return next(t for t in self.acd.snapshot(self.now).tickets if t.call_id == call_id)


def offers(events: list[AcdEvent]) -> list[tuple[str, str]]:
    return [(e.agent_id, e.call_id) for e in events if isinstance(e, OfferMade)]


def kinds(events: list[AcdEvent]) -> list[str]:
    return [e.kind for e in events if e.kind != "agent_state"]


def handle(w: World, agent_id: str, call_id: str, talk_s: float) -> None:
    """Accept the offer, talk, hang up."""
    w.do("accept", agent_id, call_id)
    w.advance(talk_s)
    w.do("call_ended", call_id)


# --------------------------------------------------------------------------- order and skills


def test_urgent_goes_before_normal_then_first_come_first_served() -> None:
    w = World()
    w.call("n1", "toeslagen")
    w.advance(1)
    w.call("n2", "toeslagen")
    w.advance(1)
    w.call("u1", "toeslagen", priority="urgent")
    assert [w.acd.position(c) for c in ("u1", "n1", "n2")] == [1, 2, 3]
    assert offers(w.do("login", "a1", ["toeslagen"])) == [("a1", "u1")]
    w.do("login", "a2", ["toeslagen"])
    assert offers(w.log)[-1] == ("a2", "n1")


def test_skills_decide_who_is_offered_and_general_takes_general_calls() -> None:
    w = World()
    w.do("login", "tax", ["belastingen"])
    w.do("login", "gen", ["general"])
    assert offers(w.call("c1", "toeslagen")) == []  # nobody has the skill
    assert offers(w.call("c2", "belastingen")) == [("tax", "c2")]
    assert offers(w.call("c3", "general")) == [("gen", "c3")]
    assert w.ticket("c1").state == "waiting"


def test_an_agent_with_two_skills_takes_the_oldest_call_of_either_queue() -> None:
    w = World()
    w.call("b1", "belastingen")
    w.advance(5)
    w.call("t1", "toeslagen")
    assert offers(w.do("login", "both", ["toeslagen", "belastingen"])) == [("both", "b1")]


def test_unknown_queue_falls_into_general_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    w = World()
    with caplog.at_level(logging.WARNING, logger="telephony.acd"):
        events = w.call("c1", "paspoorten")
    queued = events[0]
    assert isinstance(queued, TicketQueued)
    assert (queued.queue, queued.requested_queue) == ("general", "paspoorten")
    record = next(r for r in caplog.records if r.getMessage() == "acd.unknown_queue")
    assert record.__dict__["queue"] == "paspoorten" and record.__dict__["call_id"] == "c1"


def test_general_is_an_alias_of_a_site_named_general_queue(
    caplog: pytest.LogCaptureFixture,
) -> None:
    w = World(general_queue="algemeen")
    w.do("login", "a1", ["general"])  # the skill name "general" means the general queue
    with caplog.at_level(logging.WARNING, logger="telephony.acd"):
        w.call("from-gateway", "general")
        w.call("from-rasa", "algemeen")
    assert not caplog.records
    assert {t.queue for t in w.acd.snapshot(w.now).tickets} == {"algemeen"}
    assert w.agent("a1").skills == ("algemeen",)


def test_unknown_priority_is_served_as_normal() -> None:
    w = World()
    w.call("odd", "toeslagen", priority="asap")
    w.call("u", "toeslagen", priority="urgent")
    assert w.ticket("odd").priority == "normal" and w.acd.position("odd") == 2


def test_longest_idle_agent_is_offered_the_call() -> None:
    w = World(wrap_up_s=30)
    w.do("login", "a1", ["general"])
    w.advance(10)
    w.do("login", "a2", ["general"])
    w.advance(10)
    assert offers(w.call("c1")) == [("a1", "c1")]  # idle 20 s against 10 s
    handle(w, "a1", "c1", talk_s=60)
    w.advance(30)  # a1's wrap-up ends: idle since now; a2 has been idle since T0+10
    assert w.state("a1") == "available"
    assert offers(w.call("c2")) == [("a2", "c2")]
    assert offers(w.call("c3")) == [("a1", "c3")]


# --------------------------------------------------------------------------- offers


def test_offer_timeout_moves_to_next_agent_and_the_missed_agent_goes_on_break() -> None:
    w = World(offer_timeout_s=15)
    w.do("login", "a1", ["general"])
    w.advance(1)
    w.do("login", "a2", ["general"])
    assert offers(w.call("c1")) == [("a1", "c1")]
    assert w.advance(14.9) == []
    events = w.advance(0.2)
    assert kinds(events) == ["offer_timed_out", "offer_made"]
    assert offers(events) == [("a2", "c1")]
    missed = w.agent("a1")
    assert missed.state == "break" and missed.break_reason == "missed_offer"
    w.call("c2")
    assert w.ticket("c2").state == "waiting"  # a1 on break is not offered anything
    w.do("set_available", "a1")
    assert offers(w.log)[-1] == ("a1", "c2")


def test_missed_offer_can_leave_the_agent_available_but_not_for_that_call() -> None:
    w = World(offer_timeout_s=15, after_missed_offer="available", decline_cooldown_s=60)
    w.do("login", "a1", ["general"])
    w.call("c1")
    events = w.advance(15)
    assert isinstance(events[0], OfferTimedOut)
    assert w.state("a1") == "available"
    assert w.ticket("c1").state == "waiting"  # not straight back to the agent who missed it
    assert offers(w.advance(60)) == [("a1", "c1")]


def test_decline_moves_the_call_on_and_the_decliner_gets_the_next_one() -> None:
    w = World()
    w.do("login", "a1", ["general"])
    w.advance(1)
    w.do("login", "a2", ["general"])
    w.call("c1")
    events = w.do("decline", "a1", "c1")
    assert isinstance(events[0], OfferDeclined)
    assert offers(events) == [("a2", "c1")]
    assert w.state("a1") == "available"
    assert offers(w.call("c2")) == [("a1", "c2")]


def test_a_declined_call_comes_back_to_the_only_agent_after_the_cool_off() -> None:
    w = World(decline_cooldown_s=45)
    w.do("login", "a1", ["general"])
    w.call("c1")
    assert offers(w.do("decline", "a1", "c1")) == []
    assert offers(w.advance(44)) == []
    assert offers(w.advance(1)) == [("a1", "c1")]


def test_the_caller_leaving_withdraws_the_offer() -> None:
    w = World()
    w.do("login", "a1", ["general"])
    w.call("c1")
    events = w.do("leave", "c1")
    assert kinds(events) == ["offer_withdrawn", "ticket_left"]
    assert isinstance(events[0], OfferWithdrawn) and events[0].reason == "caller_left"
    assert w.state("a1") == "available" and w.acd.snapshot(w.now).offers == ()
    assert w.do("leave", "c1") == []  # idempotent


# --------------------------------------------------------------------------- calls and wrap-up


def test_accept_then_hang_up_then_wrap_up_then_available() -> None:
    w = World(wrap_up_s=30)
    w.do("login", "a1", ["general"])
    w.call("c1")
    w.advance(4)
    events = w.do("accept", "a1", "c1")
    assigned = events[-1]
    assert isinstance(assigned, CallAssigned) and assigned.waited_s == 4
    assert w.state("a1") == "on_call" and w.acd.position("c1") == 0
    assert w.do("leave", "c1") == []  # the session leaving the queue does not end the call
    w.advance(100)
    events = w.do("call_ended", "c1")
    assert isinstance(events[0], CallFinished) and events[0].talk_s == 100
    assert w.state("a1") == "wrap_up" and w.agent("a1").wrap_up_until == w.now + 30
    assert w.do("call_ended", "c1") == []  # idempotent
    events = w.advance(30)
    assert isinstance(events[0], WrapUpEnded) and events[0].next_state == "available"
    assert w.agent("a1").idle_since == w.now


def test_wrap_up_ends_early_or_into_a_break_the_agent_asked_for() -> None:
    w = World(wrap_up_s=30)
    w.do("login", "a1", ["general"])
    w.call("c1")
    w.do("accept", "a1", "c1")
    w.do("set_break", "a1")  # during the call: a break after wrap-up
    assert w.state("a1") == "on_call" and w.agent("a1").break_after_wrap_up
    w.do("call_ended", "c1")
    w.advance(30)
    assert w.state("a1") == "break"
    w.do("set_available", "a1")
    w.call("c2")
    w.do("accept", "a1", "c2")
    w.do("call_ended", "c2")
    w.do("finish_wrap_up", "a1")
    assert w.state("a1") == "available"


def test_no_wrap_up_means_available_at_once() -> None:
    w = World(wrap_up_s=0)
    w.do("login", "a1", ["general"])
    w.call("c1")
    w.call("c2")
    w.do("accept", "a1", "c1")
    events = w.do("call_ended", "c1")
    assert offers(events) == [("a1", "c2")]


def test_an_agent_on_break_is_not_offered_calls() -> None:
    w = World()
    w.do("login", "a1", ["general"], ready=False)
    assert w.agent("a1").state == "break"
    w.call("c1")
    w.advance(600)
    assert offers(w.log) == []
    w.do("set_available", "a1")
    assert offers(w.log) == [("a1", "c1")]
    w.do("login", "a2", ["general"])
    assert w.do("set_available", "a2") == []  # already available: nothing to do


# --------------------------------------------------------------------------- callbacks and max wait


def test_callback_is_refused_before_the_first_announcement_then_replaces_the_wait() -> None:
    w = World()
    w.call("c1", "toeslagen", reason="personal case", language="nl", summary={"topic": "huur"})
    with pytest.raises(CallbackNotOffered, match="first position announcement"):
        w.do("request_callback", "c1", "caller-ref-1")
    estimate = w.acd.announce(w.now, "c1")
    assert estimate.callback_offered and estimate.position == 1
    w.advance(90)
    events = w.do("request_callback", "c1", "+31612345678")
    created = events[0]
    assert isinstance(created, CallbackCreated)
    assert "+31612345678" not in repr(created) and "+31612345678" not in str(created.to_dict())
    (task,) = w.acd.callbacks()
    assert (task.call_id, task.queue, task.language, task.reason) == (
        "c1",
        "toeslagen",
        "nl",
        "personal case",
    )
    assert task.summary == {"topic": "huur"} and task.waited_s == 90
    assert task.caller_ref == "+31612345678" and "+31612345678" not in repr(task)
    assert w.acd.position("c1") == 0 and w.acd.snapshot(w.now).tickets == ()
    with pytest.raises(UnknownCall):
        w.do("request_callback", "c1", "again")
    w.do("close_callback", task.task_id, "a9")
    assert w.acd.callbacks() == []


def test_callback_while_offered_withdraws_the_offer() -> None:
    w = World()
    w.call("c1")
    w.acd.announce(w.now, "c1")
    w.do("login", "a1", ["general"])
    events = w.do("request_callback", "c1", "ref")
    assert kinds(events) == ["offer_withdrawn", "callback_created"]
    assert w.state("a1") == "available"


def test_callbacks_switched_off_are_refused() -> None:
    w = World(callbacks=False)
    w.call("c1")
    assert not w.acd.announce(w.now, "c1").callback_offered
    with pytest.raises(CallbackNotOffered, match="switched off"):
        w.do("request_callback", "c1", "ref")


def test_max_wait_offers_the_callback_anyway_once() -> None:
    w = World(max_wait_s=600)
    w.call("c1")
    assert w.advance(599) == []
    events = w.advance(1)
    assert events == [MaxWaitReached(at=T0 + 600, call_id="c1", queue="general", callbacks=True)]
    assert w.ticket("c1").max_wait_reached and w.ticket("c1").callback_offered
    assert w.advance(3600) == []  # said once; the caller may go on waiting
    assert kinds(w.do("request_callback", "c1", "ref")) == ["callback_created"]


def test_max_wait_counts_only_time_spent_waiting() -> None:
    w = World(max_wait_s=600, wrap_up_s=0)
    w.call("c1")
    w.advance(400)
    w.do("login", "a1", ["general"])
    w.do("accept", "a1", "c1")
    w.advance(1000)  # talking is not waiting
    w.do("disconnect", "a1")
    assert w.advance(199) == []
    assert kinds(w.advance(1)) == ["max_wait_reached"]


# --------------------------------------------------------------------------- never lose a caller


def test_agent_lost_mid_offer_puts_the_call_back_at_the_head() -> None:
    w = World()
    w.do("login", "a1", ["general"])
    w.call("c1")
    w.call("u1", priority="urgent")
    events = w.do("disconnect", "a1")
    assert isinstance(events[0], OfferWithdrawn) and events[0].reason == "agent_disconnected"
    assert w.state("a1") == "offline"
    assert w.acd.position("c1") == 1 and w.acd.position("u1") == 2
    assert w.do("disconnect", "a1") == []  # idempotent
    assert offers(w.do("login", "a2", ["general"])) == [("a2", "c1")]


def test_agent_lost_mid_call_puts_the_call_back_at_the_head_keeping_its_facts() -> None:
    w = World()
    w.call("c1", reason="asked for agent", summary={"spoken": "Beller wil een medewerker"})
    w.advance(30)
    w.do("login", "a1", ["general"])
    w.do("accept", "a1", "c1")
    w.advance(5)
    w.call("u1", priority="urgent")
    w.advance(120)
    events = w.do("disconnect", "a1")
    requeued = events[0]
    assert isinstance(requeued, TicketRequeued)
    assert (requeued.call_id, requeued.agent_id, requeued.reason) == (
        "c1",
        "a1",
        "agent_disconnected",
    )
    ticket = w.ticket("c1")
    assert (ticket.position, ticket.priority, ticket.enqueued_at) == (1, "normal", T0)
    assert ticket.requeues == 1 and ticket.waiting_s == 155 and ticket.state == "waiting"
    assert ticket.summary == {"spoken": "Beller wil een medewerker"}
    assert w.acd.position("u1") == 2
    assert w.state("a1") == "offline" and w.agent("a1").call_id is None
    assert offers(w.do("login", "a2", ["general"])) == [("a2", "c1")]
    assert not any(isinstance(e, CallFinished) for e in w.log)  # not counted as handled


def test_snapshot_after_a_desk_reconnect_shows_the_true_state() -> None:
    w = World(wrap_up_s=30)
    w.do("login", "a1", ["toeslagen", "general"])
    w.do("login", "a2", ["belastingen"])
    w.do("login", "a3", ["general"], ready=False)
    w.call("t1", "toeslagen", summary={"spoken": "huurtoeslag"})
    w.call("b1", "belastingen", priority="urgent")
    w.call("g1", "general")
    w.call("g2", "general")
    w.do("accept", "a2", "b1")
    w.acd.announce(w.now, "g2")
    w.do("request_callback", "g2", "ref-g2")
    w.advance(10)
    w.do("disconnect", "a1")  # the desk of a1 drops while t1 is offered to it
    w.do("login", "a1", ["toeslagen", "general"])  # ...and reconnects
    snap = w.acd.snapshot(w.now)
    by_call = {t.call_id: t for t in snap.tickets}
    by_agent = {a.agent_id: a for a in snap.agents}
    assert by_call["t1"].state == "offered" and by_call["t1"].agent_id == "a1"
    assert by_call["t1"].summary == {"spoken": "huurtoeslag"} and by_call["t1"].waiting_s == 10
    assert by_call["b1"].state == "assigned" and by_call["b1"].priority == "urgent"
    assert by_call["g1"].state == "waiting" and by_call["g1"].position == 1
    assert {(o.agent_id, o.call_id) for o in snap.offers} == {("a1", "t1")}
    assert (by_agent["a1"].state, by_agent["a1"].since) == ("offered", w.now)
    assert by_agent["a2"].state == "on_call" and by_agent["a3"].state == "break"
    assert [c.call_id for c in snap.callbacks] == ["g2"]
    queues = {q.name: q for q in snap.queues}
    assert (queues["general"].waiting, queues["general"].agents) == (1, 1)
    # every offer belongs to a connected agent who is in the offered state
    offered = {a.agent_id for a in snap.agents if a.state == "offered"}
    assert {o.agent_id for o in snap.offers} == offered
    json.dumps(snap.to_dict())  # the desk sends it as JSON as it is


# --------------------------------------------------------------------------- expected wait


def test_expected_wait_is_unknown_without_working_agents() -> None:
    w = World()
    w.call("c1", "toeslagen")
    assert w.acd.estimate(w.now, "c1").expected_wait_s is None
    w.do("login", "a1", ["toeslagen"], ready=False)  # on break: not serving
    estimate = w.acd.estimate(w.now, "c1")
    assert (estimate.position, estimate.expected_wait_s, estimate.agents) == (1, None, 0)
    assert estimate.expected_wait_min is None


def test_expected_wait_uses_position_handle_time_and_working_agents() -> None:
    w = World(default_handle_s=300, wrap_up_s=20, handle_time_window=2, offer_timeout_s=1e4)
    w.do("login", "a1", ["general"])
    w.do("login", "a2", ["general"])
    for c in ("c1", "c2", "c3", "c4", "c5"):
        w.call(c)
    w.do("accept", "a1", "c1")
    w.do("accept", "a2", "c2")
    estimate = w.acd.estimate(w.now, "c5")
    assert (estimate.position, estimate.agents) == (3, 2)
    assert estimate.expected_wait_s == 3 * 300 / 2 and estimate.expected_wait_min == 8
    w.advance(80)
    w.do("call_ended", "c1")  # handled: 80 s talk + 20 s wrap-up = 100 s
    w.advance(100)
    w.do("call_ended", "c2")  # 180 s talk + 20 s wrap-up = 200 s
    w.advance(20)  # c3 and c4 are being offered, c5 waits behind them
    assert w.acd.estimate(w.now, "c5").expected_wait_s == 3 * 150 / 2
    handle(w, "a1", "c3", talk_s=280)  # a window of 2: (200 + 300) / 2
    w.advance(20)
    assert w.acd.snapshot(w.now).queues[0].average_handle_s == 250


def test_a_call_with_an_agent_has_no_position() -> None:
    w = World()
    w.do("login", "a1", ["general"])
    w.call("c1")
    w.do("accept", "a1", "c1")
    assert w.acd.estimate(w.now, "c1").position == 0


# --------------------------------------------------------------------------- illegal requests


def test_illegal_transitions_raise_clear_errors() -> None:
    w = World()
    w.do("login", "a1", ["general"])
    with pytest.raises(IllegalTransition, match="'a1' cannot log in while available"):
        w.do("login", "a1", ["general"])
    w.call("c1")
    with pytest.raises(IllegalTransition, match="cannot take a break while offered"):
        w.do("set_break", "a1")
    with pytest.raises(IllegalTransition, match="cannot log out while offered"):
        w.do("logout", "a1")
    w.do("accept", "a1", "c1")
    with pytest.raises(IllegalTransition, match="cannot log out while on_call"):
        w.do("logout", "a1")
    with pytest.raises(IllegalTransition, match="cannot finish wrap-up while on_call"):
        w.do("finish_wrap_up", "a1")
    with pytest.raises(IllegalTransition, match="cannot become available while on_call"):
        w.do("set_available", "a1")
    w.do("call_ended", "c1")
    w.do("logout", "a1")
    with pytest.raises(IllegalTransition, match="while offline"):
        w.do("set_available", "a1")
    with pytest.raises(UnknownAgent):
        w.do("set_break", "nobody")
    with pytest.raises(UnknownSkill, match="paspoorten"):
        w.do("login", "a2", ["paspoorten"])
    with pytest.raises(AcdError, match="at least one skill"):
        w.do("login", "a2", [])
    w.call("c2")
    with pytest.raises(DuplicateCall):
        w.call("c2")
    w.acd.check()


def test_accepting_an_offer_that_timed_out_is_refused() -> None:
    w = World(offer_timeout_s=10)
    w.do("login", "a1", ["general"])
    w.do("login", "a2", ["general"])
    w.call("c1")
    w.advance(10)  # a1 missed it; a2 has it now
    with pytest.raises(StaleOffer, match="expired or withdrawn"):
        w.do("accept", "a1", "c1")
    with pytest.raises(StaleOffer):
        w.do("decline", "a2", "other-call")
    w.do("accept", "a2", "c1")
    assert w.ticket("c1").agent_id == "a2"


def test_config_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="offer_timeout_s"):
        AcdConfig(offer_timeout_s=0)
    cfg = AcdConfig.from_mapping({"queues": ["a", "b"], "wrap_up_s": 5, "hold_audio": None})
    assert cfg.queues == ("a", "b") and cfg.all_queues == ("general", "a", "b")


def test_no_timer_when_nothing_is_pending() -> None:
    w = World()
    assert w.acd.next_timer() is None
    w.do("login", "a1", ["general"])
    assert w.acd.next_timer() is None
    w.call("c1")
    w.do("accept", "a1", "c1")
    assert w.acd.next_timer() is None  # an answered call has no deadline


# --------------------------------------------------------------------------- random days


@pytest.mark.parametrize("seed", range(30))
def test_random_days_never_lose_a_caller_or_leave_a_ghost_offer(seed: int) -> None:
    rng = random.Random(seed)
    w = World(offer_timeout_s=10, wrap_up_s=rng.choice([0, 15]), max_wait_s=300)
    agents = [f"a{i}" for i in range(4)]
    skills = [["general"], ["toeslagen"], ["general", "belastingen"], ["urgent", "toeslagen"]]
    open_calls: set[str] = set()
    gone: set[str] = set()
    for step in range(300):
        action = rng.random()
        try:
            if action < 0.12:
                call_id = f"c{step}"
                w.call(
                    call_id,
                    rng.choice(["general", *QUEUES, "unknown"]),
                    priority=rng.choice(["normal", "normal", "urgent"]),
                )
                open_calls.add(call_id)
            elif action < 0.20 and open_calls:
                call_id = rng.choice(sorted(open_calls))
                w.do("call_ended", call_id)
                open_calls.discard(call_id)
                gone.add(call_id)
            elif action < 0.23 and open_calls:
                call_id = rng.choice(sorted(open_calls))
                w.acd.announce(w.now, call_id)
                w.do("request_callback", call_id, "ref")
                open_calls.discard(call_id)
                gone.add(call_id)
            else:
                i = rng.randrange(len(agents))
                agent = agents[i]
                verb = rng.choice(
                    [
                        "login",
                        "disconnect",
                        "accept",
                        "accept",
                        "accept",
                        "decline",
                        "break",
                        "available",
                    ]
                )
                if verb == "login":
                    w.do("login", agent, skills[i])
                elif verb == "disconnect":
                    w.do("disconnect", agent)
                elif verb in ("accept", "decline"):
                    offered = [(o.agent_id, o.call_id) for o in w.acd.snapshot(w.now).offers]
                    agent, call_id = rng.choice(offered) if offered else (agent, "none")
                    w.do(verb, agent, call_id)
                elif verb == "break":
                    w.do("set_break", agent)
                else:
                    w.do("set_available", agent)
        except AcdError:
            pass  # refused requests change nothing (check() still runs below)
        w.acd.check()
        w.advance(rng.choice([0.0, 0.5, 2.0, 5.0, 12.0]))
        in_acd = {t.call_id for t in w.acd.snapshot(w.now).tickets}
        assert in_acd == open_calls  # every caller is somewhere: waiting, offered, with an agent
        assert not (in_acd & gone)
    assert {c.call_id for c in w.acd.callbacks()} <= gone
