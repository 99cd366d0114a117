"""The queue in a real Redis, as several gateways share it: restarts, two gateways, races.

The rules themselves (order, skills, offers, callbacks, max wait) run against Redis in
test_acd.py; here is what only a shared state has: gateways owning their callers,
events crossing to the gateway that holds the caller, Redis restarting mid-queue, and
transitions from two gateways at once.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from telephony.acd_events import AcdEvent, CallAssigned, OfferMade
from telephony.acd_model import AcdConfig
from telephony.acd_redis import (
    QueueConfigMismatch,
    RedisEventRelay,
    RedisQueueState,
    connect,
    event_from_dict,
)
from telephony.agent_queue import InProcessQueue, Resync, Ticket
from tests.redis_server import RedisServer, need_redis_server

T0 = 1_700_000_000.0
CONFIG = AcdConfig(queues=("toeslagen", "urgent"), offer_timeout_s=60, wrap_up_s=0)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    need_redis_server()
    srv = RedisServer(tmp_path, aof=True)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def client(server: RedisServer) -> Iterator[redis.Redis]:
    c = connect(server.url)
    try:
        yield c
    finally:
        c.close()


def gateway(client: redis.Redis, name: str, config: AcdConfig = CONFIG) -> RedisQueueState:
    return RedisQueueState(config, client, gateway_id=name, namespace="test:acd")


def order(state: RedisQueueState) -> list[tuple[str, str, str]]:
    return [(t.call_id, t.priority, t.state) for t in state.snapshot(T0).tickets]


# --------------------------------------------------------------------------- restarts


@pytest.mark.parametrize("hard", [False, True], ids=["sigterm", "kill-9"])
def test_redis_restarted_mid_queue_loses_nobody_and_keeps_the_order(
    server: RedisServer, client: redis.Redis, hard: bool
) -> None:
    a, b = gateway(client, "gw-a"), gateway(client, "gw-b")
    now = T0
    for i, (gw, priority) in enumerate(
        [(a, "normal"), (b, "normal"), (a, "urgent"), (b, "normal"), (b, "urgent")]
    ):
        now += 1
        gw.enqueue(
            now,
            f"c{i}",
            queue="toeslagen",
            priority=priority,
            reason="",
            language="nl",
            summary={"spoken": f"vraag {i}"},
        )
    b.login(now, "agent-1", ["toeslagen"])  # offered the first urgent call
    a.accept(now, "agent-1", "c2")
    a.announce(now, "c4")
    before = order(a)
    assert [c for c, _, s in before if s != "assigned"] == ["c4", "c0", "c1", "c3"]

    server.restart(hard=hard)  # appendfsync always: every EXEC is on disk

    assert order(a) == before == order(b)  # the same client reconnected by itself
    assert a.owner("c1") == "gw-b" and a.owner("c0") == "gw-a"
    assert a.estimate(now, "c4").callback_offered
    a.check()
    a.call_ended(now + 60, "c2")  # wrap-up 0: agent-1 is offered the next in order at once
    offers = [o.call_id for o in b.snapshot(now + 60).offers]
    assert offers == ["c4"]
    assert [t.call_id for t in b.snapshot(now + 60).tickets] == ["c4", "c0", "c1", "c3"]


async def test_redis_restarted_empty_each_gateway_requeues_its_own_callers(
    tmp_path: Path,
) -> None:
    need_redis_server()
    srv = RedisServer(tmp_path, aof=False)  # no persistence at all: Redis comes back empty
    srv.start()
    client = connect(srv.url)
    try:
        qa, relay_a = adapter(srv, client, "gw-a")
        qb, relay_b = adapter(srv, client, "gw-b")
        for relay in (relay_a, relay_b):
            relay.start()
        await subscribed(relay_a, relay_b)
        waiting = [
            enqueue(qa, "a-normal", "normal"),
            enqueue(qb, "b-normal", "normal"),
            enqueue(qa, "a-urgent", "urgent"),
            enqueue(qb, "b-urgent", "urgent"),
        ]
        desk = qb.subscribe()
        srv.restart(hard=True)
        assert qa.state.snapshot(qa.clock()).tickets == ()  # everything in Redis is gone
        await wait_for(lambda: len(qa.state.snapshot(qa.clock()).tickets) == 4, 10)
        tickets = qa.state.snapshot(qa.clock()).tickets
        assert {t.call_id for t in tickets} == {t.call_id for t in waiting}  # nobody lost
        assert [t.priority for t in tickets] == ["urgent", "urgent", "normal", "normal"]
        assert qa.state.owner("a-urgent") == "gw-a" and qa.state.owner("b-urgent") == "gw-b"  # type: ignore[attr-defined]
        await wait_for(lambda: any(isinstance(e, Resync) for e in drain(desk)), 5)
        # ...and the queue works on: an agent gets the first urgent caller
        qb.login("agent-1", ["toeslagen"])
        qb.accept("agent-1", tickets[0].call_id)
        ticket = next(t for t in waiting if t.call_id == tickets[0].call_id)
        assert await asyncio.wait_for(ticket.assigned, 5) == "agent-1"
    finally:
        for relay in (relay_a, relay_b):
            await relay.close()
        client.close()
        srv.stop()


# --------------------------------------------------------------------------- two gateways


def adapter(
    srv: RedisServer, client: redis.Redis, name: str
) -> tuple[InProcessQueue, RedisEventRelay]:
    state = gateway(client, name)
    queue = InProcessQueue(CONFIG, state=state, publish_own=False)
    return queue, RedisEventRelay(srv.url, state, queue.apply_remote, queue.reconcile)


def enqueue(q: InProcessQueue, call_id: str, priority: str) -> Ticket:
    return q.enqueue(
        call_id, queue="toeslagen", priority=priority, reason="", language="nl", summary={}
    )


def drain(sub: asyncio.Queue[AcdEvent]) -> list[AcdEvent]:
    out = []
    while not sub.empty():
        out.append(sub.get_nowait())
    return out


async def wait_for(predicate: object, timeout_s: float) -> None:
    async with asyncio.timeout(timeout_s):
        while not predicate():  # type: ignore[operator]
            await asyncio.sleep(0.02)


async def subscribed(*relays: RedisEventRelay) -> None:
    for relay in relays:
        await asyncio.wait_for(relay.subscribed.wait(), 5)


async def test_a_caller_on_gateway_a_is_taken_by_an_agent_at_gateway_b(
    server: RedisServer, client: redis.Redis
) -> None:
    qa, relay_a = adapter(server, client, "gw-a")
    qb, relay_b = adapter(server, client, "gw-b")
    relay_a.start()
    relay_b.start()
    try:
        await subscribed(relay_a, relay_b)
        desk_b = qb.subscribe()
        ticket = qa.enqueue(
            "caller-1",
            queue="toeslagen",
            priority="normal",
            reason="asked for agent",
            language="nl",
            summary={"spoken": "Beller wil een medewerker"},
        )
        events = qb.login("agent-b", ["toeslagen"])  # at gateway B's desk
        offer = next(e for e in events if isinstance(e, OfferMade))
        assert offer.call_id == "caller-1"
        view = next(t for t in qb.snapshot().tickets if t.call_id == "caller-1")
        assert view.summary == {"spoken": "Beller wil een medewerker"}  # B's desk shows it
        state_b = qb.state
        assert isinstance(state_b, RedisQueueState)
        assert state_b.owner("caller-1") == "gw-a"  # ...and knows whose caller it is
        assert state_b.desk_gateway("agent-b") == "gw-b"
        qb.accept("agent-b", "caller-1")
        # the session on A, awaiting its ticket, learns it through the relay
        assert await asyncio.wait_for(ticket.assigned, 5) == "agent-b"
        assert ticket.agent_id == "agent-b"
        seen_b: list[AcdEvent] = []
        await wait_for(
            lambda: seen_b.extend(drain(desk_b)) or any(e.kind == "call_assigned" for e in seen_b),
            5,
        )
        # B's desk: A's event and B's own, each once, in the order Redis committed them
        assert [e.kind for e in seen_b if e.kind != "agent_state"] == [
            "ticket_queued",
            "offer_made",
            "call_assigned",
        ]
        # a queued caller on B and A's caller hanging up: the relay carries both ways
        desk_a = qa.subscribe()
        qa.call_ended("caller-1")
        await wait_for(lambda: state_b.snapshot(T0).agents[0].state == "available", 5)
        ticket_b = enqueue(qb, "caller-2", "urgent")
        await wait_for(lambda: any(isinstance(e, OfferMade) for e in drain(desk_a)), 5)
        qa.accept("agent-b", "caller-2")  # any gateway may run the transition
        assert await asyncio.wait_for(ticket_b.assigned, 5) == "agent-b"
        assert relay_a.received > 0 and relay_b.received > 0
    finally:
        await relay_a.close()
        await relay_b.close()
        qa.close()
        qb.close()


async def test_an_offer_timing_out_is_handled_once_though_every_gateway_has_a_timer(
    server: RedisServer, client: redis.Redis
) -> None:
    config = AcdConfig(queues=("toeslagen",), offer_timeout_s=0.3, after_missed_offer="available")
    states = [RedisQueueState(config, client, gateway_id=g, namespace="t2") for g in "ab"]
    queues = [InProcessQueue(config, state=s, publish_own=False) for s in states]
    relays = [
        RedisEventRelay(server.url, s, q.apply_remote, q.reconcile)
        for s, q in zip(states, queues, strict=True)
    ]
    timed_out: list[AcdEvent] = []
    for r in relays:
        r.start()
    try:
        await subscribed(*relays)
        for q in queues:
            q.add_listener(lambda e: timed_out.append(e) if e.kind == "offer_timed_out" else None)
        queues[1].login("agent-1", ["toeslagen"])
        queues[1].login("agent-2", ["toeslagen"])
        ticket = enqueue(queues[0], "c1", "normal")
        await wait_for(lambda: len(timed_out) >= 2, 5)  # 1 timeout, seen on both gateways
        await asyncio.sleep(0.2)
        assert len(timed_out) == 2  # one event, delivered once to each gateway
        offered = states[0].snapshot(T0).offers
        assert [o.agent_id for o in offered] == ["agent-2"]
        queues[0].accept("agent-2", "c1")
        assert await asyncio.wait_for(ticket.assigned, 5) == "agent-2"
    finally:
        for r in relays:
            await r.close()
        for q in queues:
            q.close()


def test_two_gateways_racing_never_give_one_caller_to_two_agents(client: redis.Redis) -> None:
    """Gateways A and B both log agents in and queue callers, from two threads at once:
    WATCH turns every race into a retry, and the state stays consistent."""
    states = [gateway(client, "gw-a"), gateway(client, "gw-b")]
    per_gateway = 40
    errors: list[BaseException] = []

    def work(i: int) -> None:
        own = connect(_url(client))  # a client (connection pool) per gateway
        state = RedisQueueState(CONFIG, own, gateway_id=f"gw-{i}", namespace="test:acd")
        try:
            for n in range(per_gateway):
                state.enqueue(
                    T0 + n,
                    f"g{i}-c{n}",
                    queue="toeslagen",
                    priority="urgent" if n % 3 == 0 else "normal",
                    reason="",
                    language="nl",
                    summary={},
                )
                if n % 4 == 0:
                    state.login(T0 + n, f"g{i}-agent{n}", ["toeslagen"])
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            own.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    snap = states[0].snapshot(T0 + per_gateway)
    assert len(snap.tickets) == 2 * per_gateway  # nobody lost
    offers = [(o.agent_id, o.call_id) for o in snap.offers]
    assert len(offers) == 2 * len(range(0, per_gateway, 4))  # every agent has exactly one
    assert len({c for _, c in offers}) == len(offers)  # and no caller is offered twice
    states[0].check()


def _url(client: redis.Redis) -> str:
    kw = client.connection_pool.connection_kwargs
    return f"redis://{kw['host']}:{kw['port']}/{kw.get('db', 0)}"


def test_a_gateway_with_other_queue_settings_is_refused(client: redis.Redis) -> None:
    gateway(client, "gw-a")
    with pytest.raises(QueueConfigMismatch, match="same queue: settings"):
        gateway(client, "gw-b", AcdConfig(queues=("toeslagen", "urgent"), offer_timeout_s=5))


def test_events_published_are_the_events_returned(client: redis.Redis) -> None:
    state = gateway(client, "gw-a")
    pubsub = client.pubsub()
    pubsub.subscribe(state.events_channel)
    pubsub.get_message(timeout=1)  # the subscribe confirmation
    events = state.login(T0, "a1", ["toeslagen"])
    events += state.enqueue(
        T0, "c1", queue="toeslagen", priority="urgent", reason="r", language="nl", summary={}
    )
    received: list[AcdEvent] = []
    while (message := pubsub.get_message(timeout=1)) is not None:
        data = json.loads(message["data"])
        assert data["gateway"] == "gw-a"
        received += [event_from_dict(e) for e in data["events"]]
    pubsub.close()
    assert received == events
    assert not any(isinstance(e, CallAssigned) for e in received)


async def test_a_gateway_that_stops_beating_is_taken_out_and_the_others_callers_stay(
    server: RedisServer, client: redis.Redis
) -> None:
    """Gateway A dies (no more heartbeats): its callers are gone with it, the agent at
    A's desk is lost, so B's caller that agent had goes back to the head of the queue."""
    config = AcdConfig(queues=("toeslagen",), offer_timeout_s=60, wrap_up_s=30)
    gws = {}
    for name in ("gw-a", "gw-b"):
        state = RedisQueueState(config, client, gateway_id=name, namespace="t3")
        queue = InProcessQueue(config, state=state, publish_own=False)
        relay = RedisEventRelay(
            server.url,
            state,
            queue.apply_remote,
            queue.reconcile,
            reap=lambda q=queue, s=state: q.run(s.reap),
            heartbeat_s=0.1,
        )
        relay.start()
        gws[name] = (state, queue, relay)
    (_, qa, ra), (sb, qb, rb) = gws["gw-a"], gws["gw-b"]
    try:
        await subscribed(ra, rb)
        qa.login("agent-a", ["toeslagen"])  # at A's desk
        b1 = enqueue(qb, "b1", "normal")
        qa.accept("agent-a", "b1")
        assert await asyncio.wait_for(b1.assigned, 5) == "agent-a"
        qb.login("agent-b", ["toeslagen"])  # at B's desk
        enqueue(qa, "a1", "normal")
        qb.accept("agent-b", "a1")
        enqueue(qa, "a2", "urgent")  # waiting, on A
        b2 = enqueue(qb, "b2", "normal")  # waiting, on B
        await ra.close()  # A stops: no heartbeat, no goodbye
        reason = await asyncio.wait_for(b1.requeued, 5)
        assert reason == "agent_disconnected"
        snap = sb.snapshot(qb.clock())
        assert [t.call_id for t in snap.tickets] == ["b1", "b2"]  # nobody of B's lost
        agents = {a.agent_id: a.state for a in snap.agents}
        assert agents == {"agent-a": "offline", "agent-b": "wrap_up"}  # a1 ended with A
        assert sb.lost_gateways() == set()  # nothing left that names A
        assert not b2.assigned.done()
        sb.check()
    finally:
        for _, q, r in gws.values():
            await r.close()
            q.close()


def test_a_gateway_restarted_under_its_old_id_clears_what_it_left(client: redis.Redis) -> None:
    old = gateway(client, "gw-a")
    other = gateway(client, "gw-b")
    old.login(T0, "agent-a", ["toeslagen"])
    for call_id, gw in (("a1", old), ("b1", other), ("a2", old)):
        gw.enqueue(
            T0, call_id, queue="toeslagen", priority="normal", reason="", language="", summary={}
        )
    new = gateway(client, "gw-a")  # the process came back
    events = new.restarted(T0 + 5)
    assert {e.kind for e in events} >= {"ticket_left", "offer_withdrawn", "agent_state"}
    snap = other.snapshot(T0 + 5)
    assert [t.call_id for t in snap.tickets] == ["b1"]
    assert [(a.agent_id, a.state) for a in snap.agents] == [("agent-a", "offline")]
    other.check()


async def test_the_gateway_builds_the_shared_queue_from_its_settings(server: RedisServer) -> None:
    from config.settings import load_settings
    from loket.queue_backend import build_queue, describe

    settings = load_settings(
        {
            "LOKET_QUEUE__BACKEND": "redis",
            "LOKET_QUEUE__REDIS_URL": server.url,
            "LOKET_QUEUE__GATEWAY_ID": "gw-x",
            "LOKET_QUEUE__REDIS_HEARTBEAT_S": "0.5",
        }
    )
    assert describe(settings).startswith(f"Redis {server.url} key prefix {{loket:acd}}")
    backend = build_queue(settings)
    backend.start()
    try:
        assert backend.relay is not None
        await asyncio.wait_for(backend.relay.subscribed.wait(), 5)
        health = backend.health()
        assert health == {"ready": True, "backend": "redis", "gateway_id": "gw-x", "conflicts": 0}
        ticket = backend.queue.enqueue(
            "c1", queue="toeslagen", priority="normal", reason="", language="nl", summary={}
        )
        assert backend.queue.position(ticket) == 1
        server.stop()
        assert backend.health()["ready"] is False  # Redis gone: the gateway says so
        server.start()
        await wait_for(lambda: backend.health()["ready"], 10)
        assert backend.queue.position(ticket) == 1  # AOF: still in the queue
    finally:
        await backend.stop()
