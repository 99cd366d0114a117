"""The distributor's state in Redis: one queue and one agent roster for several gateways.

:class:`RedisQueueState` is a :class:`~telephony.acd_store.QueueState` whose records
live in one Redis hash. Every transition is the in-process core's own code
(:class:`telephony.acd.Acd`) run on records loaded from that hash, then written back
in an optimistic transaction:

    WATCH state · HGETALL state · (run the transition in Python) ·
    MULTI · HSET/HDEL the fields that changed · PUBLISH the events · EXEC

Why MULTI/WATCH and not Lua: the rules (urgent first, longest-idle agent, offer
timeout, cool-off, requeue at the head, max wait, callbacks) stay in ONE place, so
both backends behave the same by construction and the same test suite checks both.
A Lua port would save a round trip per transition but duplicate every rule in a
second language. WATCH makes each transition serialisable across gateways: if any
other gateway wrote the hash in between, EXEC fails and the transition is re-run on
the fresh state. The cost is reading the whole hash per transition (O(calls waiting
+ agents), a few kB per hundred records) — fine for a helpline's hundreds of calls,
to be revisited (Lua) beyond thousands.

Keys, all under one hash tag so a Redis Cluster keeps them in one slot:

* ``{ns}:state`` — hash: ``t:<call>`` ticket, ``a:<agent>`` agent, ``cb:<task>``
  callback task, ``h:<queue>`` recent handle times, ``seq``/``task_seq`` counters,
  ``owner:<call>`` the gateway holding the caller, ``desk:<agent>`` the gateway whose
  desk the agent logged in at, ``config`` the queue config every gateway must share.
* ``{ns}:events`` — pub/sub channel: every committed transition's events, with the
  gateway that ran it, so the gateway owning a ticket resolves its caller's future
  when an agent at another gateway accepts (:class:`RedisEventRelay`).

The client is redis-py's synchronous one on purpose: the core's interface is
synchronous, a transition is ~3 round trips of ~0.1 ms on a LAN, and a short socket
timeout bounds how long a dead Redis can hold the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, fields
from enum import Enum
from typing import Any, TypeVar, cast

import redis
import redis.asyncio
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from telephony import acd_events
from telephony.acd import Acd
from telephony.acd_events import AcdEvent
from telephony.acd_model import (
    AcdConfig,
    AcdError,
    AgentRecord,
    AgentState,
    CallbackTask,
    Snapshot,
    TicketRecord,
    TicketState,
    WaitEstimate,
)
from telephony.acd_store import AcdStore, Events

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_RETRIES = 50
"""Transactions re-run this often when other gateways keep writing in between."""


class QueueConfigMismatch(AcdError):
    """This gateway's queue settings differ from those the shared queue runs with."""


def connect(url: str, *, socket_timeout_s: float = 0.5) -> redis.Redis:
    """A client that reconnects by itself (Redis restarted) within about a second."""
    return redis.Redis.from_url(
        url,
        decode_responses=True,
        socket_timeout=socket_timeout_s,
        socket_connect_timeout=socket_timeout_s,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.02), 8),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
        health_check_interval=30,
    )


# --------------------------------------------------------------------------- records ⇄ JSON


def _dump(record: Any) -> str:
    out: dict[str, Any] = {}
    for f in fields(record):
        value = getattr(record, f.name)
        if isinstance(value, Enum):
            value = value.value
        elif isinstance(value, frozenset):
            value = sorted(value)
        out[f.name] = value
    return json.dumps(out, sort_keys=True, separators=(",", ":"))


def _ticket(raw: str) -> TicketRecord:
    data = json.loads(raw)
    data["state"] = TicketState(data["state"])
    return TicketRecord(**data)


def _agent(raw: str) -> AgentRecord:
    data = json.loads(raw)
    data["state"] = AgentState(data["state"])
    data["skills"] = frozenset(data["skills"])
    return AgentRecord(**data)


def _callback(raw: str) -> CallbackTask:
    return CallbackTask(**json.loads(raw))


def _config_json(config: AcdConfig) -> str:
    return json.dumps(asdict(config), sort_keys=True)


EVENT_TYPES: dict[str, type[AcdEvent]] = {
    cls.kind: cls
    for cls in vars(acd_events).values()
    if isinstance(cls, type) and issubclass(cls, AcdEvent) and cls is not AcdEvent
}


def event_from_dict(data: dict[str, Any]) -> AcdEvent:
    """The event :meth:`AcdEvent.to_dict` made (as it came over pub/sub)."""
    data = dict(data)
    cls = EVENT_TYPES[data.pop("kind")]
    return cls(**data)


# --------------------------------------------------------------------------- the state


class RedisQueueState:
    """The :class:`~telephony.acd_store.QueueState` shared by gateways through Redis."""

    def __init__(
        self,
        config: AcdConfig,
        client: redis.Redis,
        *,
        gateway_id: str,
        namespace: str = "loket:acd",
    ) -> None:
        if not gateway_id:
            raise ValueError("gateway_id must not be empty")
        self.config = config
        self.gateway_id = gateway_id
        self.namespace = namespace
        self.client = client
        tag = "{" + namespace + "}"
        self.state_key = f"{tag}:state"
        self.events_channel = f"{tag}:events"
        self.conflicts = 0
        """Transactions re-run because another gateway wrote in between (a figure)."""
        self.join()

    def join(self) -> None:
        """Record this gateway's queue config, or refuse when the shared one differs."""
        mine = _config_json(self.config)
        self.client.hsetnx(self.state_key, "config", mine)
        theirs = cast("str | None", self.client.hget(self.state_key, "config"))
        if theirs is not None and theirs != mine:
            raise QueueConfigMismatch(
                f"the shared queue in Redis ({self.state_key}) runs with other queue settings "
                f"than this gateway: {theirs} (shared) against {mine} (here); give every "
                "gateway the same queue: settings, or move this one to another "
                "queue.redis_namespace"
            )

    # ------------------------------------------------------------------ load and save

    def _store(self, raw: dict[str, str]) -> AcdStore:
        store = AcdStore(self.config)
        for name, value in raw.items():
            kind, _, key = name.partition(":")
            if kind == "t":
                store.tickets[key] = _ticket(value)
            elif kind == "a":
                store.agents[key] = _agent(value)
            elif kind == "cb":
                store.callbacks[key] = _callback(value)
            elif kind == "h" and key in store.handle_times:
                store.handle_times[key].extend(json.loads(value))
        store.seq = itertools.count(int(raw.get("seq", 1)))
        store.task_seq = itertools.count(int(raw.get("task_seq", 1)))
        # Keep the in-memory order the core relies on for ties (insertion = seq order).
        store.tickets = dict(sorted(store.tickets.items(), key=lambda kv: kv[1].seq))
        store.agents = dict(sorted(store.agents.items(), key=lambda kv: kv[1].seq))
        store.callbacks = dict(
            sorted(store.callbacks.items(), key=lambda kv: int(kv[0].rpartition("-")[2] or 0))
        )
        return store

    def _fields(self, store: AcdStore, before: dict[str, str]) -> dict[str, str]:
        """The hash fields that describe ``store`` (owners carried over or claimed)."""
        out: dict[str, str] = {}
        for call_id, ticket in store.tickets.items():
            out[f"t:{call_id}"] = _dump(ticket)
            out[f"owner:{call_id}"] = before.get(f"owner:{call_id}", self.gateway_id)
        for agent_id, agent in store.agents.items():
            out[f"a:{agent_id}"] = _dump(agent)
            was = before.get(f"a:{agent_id}")
            came_online = agent.state is not AgentState.OFFLINE and (
                was is None or json.loads(was)["state"] == AgentState.OFFLINE.value
            )
            desk = self.gateway_id if came_online else before.get(f"desk:{agent_id}")
            if desk is not None and agent.state is not AgentState.OFFLINE:
                out[f"desk:{agent_id}"] = desk
        for task_id, task in store.callbacks.items():
            out[f"cb:{task_id}"] = _dump(task)
        for queue, times in store.handle_times.items():
            if times:
                out[f"h:{queue}"] = json.dumps(list(times))
        out["seq"] = str(next(store.seq))
        out["task_seq"] = str(next(store.task_seq))
        if "config" in before:
            out["config"] = before["config"]
        return out

    def _read(self) -> dict[str, str]:
        raw: dict[str, str] = self.client.hgetall(self.state_key)  # type: ignore[assignment]
        return raw

    def _view(self, fn: Callable[[Acd], T]) -> T:
        """Answer a question from one consistent read (HGETALL is atomic)."""
        return fn(Acd(self.config, store=self._store(self._read())))

    def _transact(self, fn: Callable[[Acd], Events]) -> Events:
        """Run one transition atomically against the shared state (see the module doc)."""
        for _ in range(MAX_RETRIES):
            with self.client.pipeline(transaction=True) as pipe:
                try:
                    pipe.watch(self.state_key)  # type: ignore[no-untyped-call]
                    before: dict[str, str] = pipe.hgetall(self.state_key)  # type: ignore[assignment]
                    store = self._store(before)
                    events = fn(Acd(self.config, store=store))
                    after = self._fields(store, before)
                    changed = {k: v for k, v in after.items() if before.get(k) != v}
                    gone = [k for k in before if k not in after]
                    if not changed and not gone:
                        pipe.unwatch()
                        return events
                    pipe.multi()
                    if changed:
                        pipe.hset(self.state_key, mapping=cast("dict[Any, Any]", changed))
                    if gone:
                        pipe.hdel(self.state_key, *gone)
                    if events:
                        message = {
                            "gateway": self.gateway_id,
                            "events": [e.to_dict() for e in events],
                        }
                        pipe.publish(self.events_channel, json.dumps(message))
                    pipe.execute()
                    return events
                except redis.WatchError:
                    self.conflicts += 1
        raise AcdError("the shared queue is too busy: a transition was retried too often")

    # ------------------------------------------------------------------ callers

    def enqueue(
        self,
        now: float,
        call_id: str,
        *,
        queue: str,
        priority: str = "normal",
        reason: str = "",
        language: str = "",
        summary: dict[str, Any] | None = None,
    ) -> Events:
        return self._transact(
            lambda acd: acd.enqueue(
                now,
                call_id,
                queue=queue,
                priority=priority,
                reason=reason,
                language=language,
                summary=summary,
            )
        )

    def leave(self, now: float, call_id: str) -> Events:
        return self._transact(lambda acd: acd.leave(now, call_id))

    def call_ended(self, now: float, call_id: str) -> Events:
        return self._transact(lambda acd: acd.call_ended(now, call_id))

    def position(self, call_id: str) -> int:
        return self._view(lambda acd: acd.position(call_id))

    def estimate(self, now: float, call_id: str) -> WaitEstimate:
        return self._view(lambda acd: acd.estimate(now, call_id))

    def announce(self, now: float, call_id: str) -> WaitEstimate:
        """Marks the callback as offered (a write), then answers like :meth:`estimate`."""
        answer: list[WaitEstimate] = []

        def run(acd: Acd) -> Events:
            answer[:] = [acd.announce(now, call_id)]
            return []

        self._transact(run)
        return answer[0]

    def request_callback(self, now: float, call_id: str, caller_ref: str) -> Events:
        return self._transact(lambda acd: acd.request_callback(now, call_id, caller_ref))

    def close_callback(self, now: float, task_id: str, agent_id: str | None = None) -> Events:
        return self._transact(lambda acd: acd.close_callback(now, task_id, agent_id))

    def callbacks(self) -> list[CallbackTask]:
        return self._view(lambda acd: acd.callbacks())

    # ------------------------------------------------------------------ agents

    def login(
        self, now: float, agent_id: str, skills: Iterable[str], *, ready: bool = True
    ) -> Events:
        wanted = list(skills)
        return self._transact(lambda acd: acd.login(now, agent_id, wanted, ready=ready))

    def logout(self, now: float, agent_id: str) -> Events:
        return self._transact(lambda acd: acd.logout(now, agent_id))

    def disconnect(self, now: float, agent_id: str) -> Events:
        return self._transact(lambda acd: acd.disconnect(now, agent_id))

    def set_available(self, now: float, agent_id: str) -> Events:
        return self._transact(lambda acd: acd.set_available(now, agent_id))

    def set_break(self, now: float, agent_id: str, reason: str = "break") -> Events:
        return self._transact(lambda acd: acd.set_break(now, agent_id, reason))

    def accept(self, now: float, agent_id: str, call_id: str) -> Events:
        return self._transact(lambda acd: acd.accept(now, agent_id, call_id))

    def decline(self, now: float, agent_id: str, call_id: str) -> Events:
        return self._transact(lambda acd: acd.decline(now, agent_id, call_id))

    def finish_wrap_up(self, now: float, agent_id: str) -> Events:
        return self._transact(lambda acd: acd.finish_wrap_up(now, agent_id))

    # ------------------------------------------------------------------ timers and views

    def next_timer(self) -> float | None:
        return self._view(lambda acd: acd.next_timer())

    def handle_timer(self, now: float) -> Events:
        """Every gateway runs its timer; whichever comes first does the work, the others
        find nothing due (no write)."""
        return self._transact(lambda acd: acd.handle_timer(now))

    def snapshot(self, now: float) -> Snapshot:
        return self._view(lambda acd: acd.snapshot(now))

    def check(self) -> None:
        """Raise :class:`AcdError` unless offers and calls pair up with agents (no ghosts)."""
        self._view(lambda acd: acd.check())

    # ------------------------------------------------------------------ gateways

    def owner(self, call_id: str) -> str | None:
        """The gateway holding this caller (its audio and its session)."""
        value: str | None = self.client.hget(self.state_key, f"owner:{call_id}")  # type: ignore[assignment]
        return value

    def desk_gateway(self, agent_id: str) -> str | None:
        """The gateway whose desk this (online) agent logged in at."""
        value: str | None = self.client.hget(self.state_key, f"desk:{agent_id}")  # type: ignore[assignment]
        return value

    def alive_key(self, gateway_id: str) -> str:
        return "{" + self.namespace + "}:alive:" + gateway_id

    def heartbeat(self, ttl_s: float) -> None:
        """This gateway is alive for ``ttl_s`` more seconds (its relay renews it)."""
        self.client.set(self.alive_key(self.gateway_id), "1", px=max(1, int(ttl_s * 1000)))

    def lost_gateways(self) -> set[str]:
        """Gateways named as a caller's owner or an agent's desk whose heartbeat expired."""
        raw = self._read()
        named = {v for k, v in raw.items() if k.startswith(("owner:", "desk:"))}
        named.discard(self.gateway_id)
        return {g for g in sorted(named) if not self.client.exists(self.alive_key(g))}

    def reap(self, now: float) -> Events:
        """Take out what gateways that stopped beating held: their callers are gone with
        them (call ended), agents at their desks lose their connection (their calls go
        back to the head of the queue). A gateway that was only cut off from Redis
        re-queues its callers itself when it is back (the adapter's reconcile)."""
        lost = self.lost_gateways()
        if not lost:
            return []
        events = self.take_out(now, lost)
        log.warning("acd.gateway_lost", extra={"gateways": sorted(lost), "events": len(events)})
        return events

    def restarted(self, now: float) -> Events:
        """At start-up: what an earlier run of this gateway (same id) left is gone with
        that process — its callers and its desks' connections."""
        return self.take_out(now, {self.gateway_id})

    def take_out(self, now: float, lost: set[str]) -> Events:
        """End the calls held by, and disconnect the agents at, these gateways."""

        def run(acd: Acd) -> Events:
            raw = self._read()
            out: Events = []
            for name, gw in raw.items():
                if name.startswith("owner:") and gw in lost:
                    out += acd.call_ended(now, name[6:])
            for name, gw in raw.items():
                if name.startswith("desk:") and gw in lost:
                    out += acd.disconnect(now, name[5:])
            return out

        return self._transact(run)

    def owned_calls(self) -> list[str]:
        """Calls in the queue (waiting, offered or with an agent) held by this gateway."""
        raw = self._read()
        return [k[6:] for k, v in raw.items() if k.startswith("owner:") and v == self.gateway_id]


# --------------------------------------------------------------------------- across gateways


class RedisEventRelay:
    """Brings the events every gateway commits to this gateway's queue adapter.

    A caller waits on the gateway that holds its call; an agent at another gateway's
    desk accepts there; this relay delivers that ``call_assigned`` (and every other
    event) here, so the waiting session's future resolves and this gateway's desks see
    it. This gateway's own events come back too: listeners (desks) then get every
    gateway's events in one order, the order Redis committed them. After a lost
    subscription ``on_gap`` runs: events may have been missed, so the adapter re-reads
    the state (desks get a resync, own callers are reconciled)."""

    def __init__(
        self,
        url: str,
        state: RedisQueueState,
        apply: Callable[[Events, bool], None],
        on_gap: Callable[[], None],
        *,
        reap: Callable[[], object] | None = None,
        heartbeat_s: float = 5.0,
    ) -> None:
        self.url = url
        self.state = state
        self.apply = apply
        self.on_gap = on_gap
        self.reap = reap
        """Run every heartbeat: take out what lost gateways held (``state.reap`` via the
        adapter, so its events reach this gateway's sessions)."""
        self.heartbeat_s = heartbeat_s
        self.received = 0
        self._tasks: list[asyncio.Task[None]] = []
        self.subscribed = asyncio.Event()

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._run(), name="acd-relay"),
            loop.create_task(self._beat(), name="acd-heartbeat"),
        ]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _beat(self) -> None:
        """Say this gateway is alive (3 beats' TTL); reap gateways that stopped beating."""
        while True:
            try:
                self.state.heartbeat(3 * self.heartbeat_s)
                if self.reap is not None:
                    self.reap()
            except (redis.RedisError, OSError, AcdError) as exc:
                log.warning("acd.heartbeat_failed", extra={"error": type(exc).__name__})
            await asyncio.sleep(self.heartbeat_s)

    async def _run(self) -> None:
        first = True
        while True:
            client = redis.asyncio.Redis.from_url(self.url, decode_responses=True)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(self.state.events_channel)
                    self.subscribed.set()
                    if not first:
                        self.on_gap()
                    first = False
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self._deliver(message["data"])
            except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                self.subscribed.clear()
                log.warning("acd.relay_lost", extra={"error": type(exc).__name__})
                await asyncio.sleep(0.2)
            finally:
                await client.aclose()

    def _deliver(self, data: str) -> None:
        try:
            message = json.loads(data)
            own = message.get("gateway") == self.state.gateway_id
            events = [event_from_dict(e) for e in message["events"]]
        except (ValueError, KeyError, TypeError):
            log.warning("acd.relay_bad_message")
            return
        self.received += len(events)
        try:
            self.apply(events, own)
        except Exception:  # one bad event must not end the relay
            log.exception("acd.relay_apply_failed")
