"""The agent queue as the gateway uses it: the call distributor on asyncio.

A thin adapter over the sans-IO core (:mod:`telephony.acd`): it reads the clock,
owns the one timer, turns the core's events into the futures a waiting call
session awaits (:class:`Ticket`), and hands every event to listeners (the desk's
WebSocket). The session enqueues, announces, asks for callbacks and leaves; the
desk logs agents in and out, accepts and declines; the gateway reports call ends.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from telephony.acd import Acd
from telephony.acd_events import (
    AcdEvent,
    CallAssigned,
    CallbackCreated,
    CallFinished,
    MaxWaitReached,
    TicketLeft,
    TicketQueued,
    TicketRequeued,
)
from telephony.acd_model import AcdConfig, CallbackTask, Snapshot, WaitEstimate
from telephony.acd_store import Events, QueueState
from telephony.aio import TimerSlot

log = logging.getLogger(__name__)

Listener = Callable[[AcdEvent], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Resync(AcdEvent):
    """A subscriber fell behind and lost events: read :meth:`InProcessQueue.snapshot` again."""

    kind: ClassVar[str] = "resync"


@dataclass(eq=False)
class Ticket:
    """A handed-off call's place in the queue, as its session sees it."""

    call_id: str
    queue: str
    """The queue it waits in (``general`` when the requested one is unknown)."""
    priority: str
    reason: str
    language: str
    summary: dict[str, Any] = field(repr=False)
    enqueued_at: float
    requested_queue: str
    _clock: Callable[[], float] = field(repr=False)
    assigned: asyncio.Future[str] = field(init=False, repr=False)
    """Resolves with the agent's id when an agent accepts; cancelled when the call stops
    waiting. After :attr:`requeued` resolves it is a fresh future again."""
    requeued: asyncio.Future[str] = field(init=False, repr=False)
    """Resolves (with the reason) when an assigned call is back at the head of the queue
    because its agent was lost; the session then tells the caller and holds again."""
    max_wait_reached: asyncio.Event = field(init=False, repr=False)
    """Set when the caller has waited the maximum: offer the callback now."""
    agent_id: str | None = None

    def __post_init__(self) -> None:
        loop = asyncio.get_running_loop()
        self.assigned = loop.create_future()
        self.requeued = loop.create_future()
        self.max_wait_reached = asyncio.Event()

    @property
    def waiting_s(self) -> float:
        """Since it was first queued (a requeue keeps the original time)."""
        return self._clock() - self.enqueued_at


class AgentQueue(Protocol):
    """What a call session needs from the queue."""

    def enqueue(
        self,
        call_id: str,
        *,
        queue: str,
        priority: str,
        reason: str,
        language: str,
        summary: dict[str, Any],
    ) -> Ticket: ...

    def position(self, ticket: Ticket) -> int: ...

    def estimate(self, ticket: Ticket) -> WaitEstimate: ...

    def announce(self, ticket: Ticket) -> WaitEstimate: ...

    def request_callback(self, ticket: Ticket, caller_ref: str) -> CallbackTask: ...

    def leave(self, ticket: Ticket) -> None: ...

    def call_ended(self, call_id: str) -> None: ...

    def waiting(self) -> list[Ticket]: ...


class InProcessQueue:
    """The distributor for one gateway: state in this process (:class:`Acd`)."""

    def __init__(
        self,
        config: AcdConfig | None = None,
        *,
        state: QueueState | None = None,
        clock: Callable[[], float] = time.time,
        publish_own: bool = True,
    ) -> None:
        # Wall time, not monotonic: several gateways sharing one state must agree on it.
        self.state: QueueState = state if state is not None else Acd(config)
        self.clock = clock
        self._tickets: dict[str, Ticket] = {}
        self._subscribers: dict[asyncio.Queue[AcdEvent], bool] = {}
        self._listeners: list[Listener] = []
        self._timer = TimerSlot(self._on_timer)
        # False with a shared state: listeners get every event, this gateway's too, from
        # the relay (apply_remote), so they see all gateways' events in commit order.
        self._publish_own = publish_own

    # ------------------------------------------------------------------ the caller's side

    def enqueue(
        self,
        call_id: str,
        *,
        queue: str,
        priority: str = "normal",
        reason: str = "",
        language: str = "",
        summary: dict[str, Any] | None = None,
    ) -> Ticket:
        now = self.clock()
        summary = dict(summary or {})
        events = self.state.enqueue(
            now,
            call_id,
            queue=queue,
            priority=priority,
            reason=reason,
            language=language,
            summary=summary,
        )
        queued = next(e for e in events if isinstance(e, TicketQueued))
        ticket = Ticket(
            call_id=call_id,
            queue=queued.queue,
            priority=queued.priority,
            reason=reason,
            language=language,
            summary=summary,
            enqueued_at=now,
            requested_queue=queue,
            _clock=self.clock,
        )
        self._tickets[call_id] = ticket
        self._apply(events)
        return ticket

    def position(self, ticket: Ticket) -> int:
        """1 for the next call of its queue; 0 when not waiting (any more)."""
        return self.state.position(ticket.call_id)

    def estimate(self, ticket: Ticket) -> WaitEstimate:
        return self.state.estimate(self.clock(), ticket.call_id)

    def announce(self, ticket: Ticket) -> WaitEstimate:
        """Call when announcing position and wait: from then on key 1 may ask for a callback."""
        return self.state.announce(self.clock(), ticket.call_id)

    def request_callback(self, ticket: Ticket, caller_ref: str) -> CallbackTask:
        """Key 1: the call becomes a callback task on the desk and leaves the queue.

        ``caller_ref`` is whatever reaches the caller again (kept for the desk, never
        logged). Raises :class:`~telephony.acd_model.CallbackNotOffered` before the
        first announcement, when callbacks are off, or once an agent has the call."""
        events = self.run(self.state.request_callback, ticket.call_id, caller_ref)
        created = next(e for e in events if isinstance(e, CallbackCreated))
        return next(t for t in self.state.callbacks() if t.task_id == created.task_id)

    def leave(self, ticket: Ticket) -> None:
        """The caller stops waiting (hung up, or the session ends the wait): an offer in
        progress is withdrawn. Idempotent; a call already with an agent is not affected —
        its end is :meth:`call_ended`."""
        self.run(self.state.leave, ticket.call_id)
        if not ticket.assigned.done():
            ticket.assigned.cancel()

    def call_ended(self, call_id: str) -> None:
        """The call is over, whoever hung up: the agent (if any) goes to wrap-up. Idempotent;
        the gateway calls it for every call that ends."""
        self.run(self.state.call_ended, call_id)

    def waiting(self) -> list[Ticket]:
        """Calls waiting or being offered, per queue in serving order."""
        snap = self.state.snapshot(self.clock())
        return [
            self._tickets[t.call_id]
            for t in snap.tickets
            if t.state != "assigned" and t.call_id in self._tickets
        ]

    # ------------------------------------------------------------------ the desk's side

    def login(self, agent_id: str, skills: Iterable[str], *, ready: bool = True) -> Events:
        return self.run(self.state.login, agent_id, list(skills), ready=ready)

    def logout(self, agent_id: str) -> Events:
        return self.run(self.state.logout, agent_id)

    def disconnect(self, agent_id: str) -> Events:
        """The agent's desk connection dropped: their offer or call goes back to the head
        of its queue, and they go offline. Idempotent."""
        return self.run(self.state.disconnect, agent_id)

    def set_available(self, agent_id: str) -> Events:
        return self.run(self.state.set_available, agent_id)

    def set_break(self, agent_id: str, reason: str = "break") -> Events:
        return self.run(self.state.set_break, agent_id, reason)

    def accept(self, agent_id: str, call_id: str) -> Events:
        return self.run(self.state.accept, agent_id, call_id)

    def decline(self, agent_id: str, call_id: str) -> Events:
        return self.run(self.state.decline, agent_id, call_id)

    def finish_wrap_up(self, agent_id: str) -> Events:
        return self.run(self.state.finish_wrap_up, agent_id)

    def close_callback(self, task_id: str, agent_id: str | None = None) -> Events:
        return self.run(self.state.close_callback, task_id, agent_id)

    def callbacks(self) -> list[CallbackTask]:
        return self.state.callbacks()

    def snapshot(self) -> Snapshot:
        """The true current state; a desk reads it on (re)connect, then follows events."""
        return self.state.snapshot(self.clock())

    # ------------------------------------------------------------------ listeners

    def subscribe(self, maxsize: int = 1000) -> asyncio.Queue[AcdEvent]:
        """A queue that receives every event from now on. A subscriber that falls
        ``maxsize`` behind loses what it had not read and gets one :class:`Resync`."""
        q: asyncio.Queue[AcdEvent] = asyncio.Queue(maxsize=max(2, maxsize))
        self._subscribers[q] = True
        return q

    def unsubscribe(self, q: asyncio.Queue[AcdEvent]) -> None:
        self._subscribers.pop(q, None)

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(event)`` for every event (on the loop; keep it quick). Returns
        the function that removes it."""
        self._listeners.append(listener)

        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    # ------------------------------------------------------------------ other gateways

    def apply_remote(self, events: Events, own: bool = False) -> None:
        """Events committed to the shared state, in commit order (the Redis relay): resolve
        this gateway's callers when another gateway ran the transition (``own``: this one
        did, already resolved), tell the listeners, re-arm the timer. Not logged again:
        the gateway that ran the transition logged them."""
        for event in events:
            if not own:
                self._resolve(event)
            self._publish(event)
        self._reschedule()

    def reconcile(self) -> None:
        """Events may have been missed (the shared state's connection was lost): bring
        this gateway's callers in line with the state and tell desks to re-read it.

        A waiting caller the state no longer knows (Redis came back empty) is queued
        again, oldest first — urgent before normal still holds; their place among
        other gateways' callers follows the order the gateways re-queue them."""
        now = self.clock()
        views = {t.call_id: t for t in self.state.snapshot(now).tickets}
        events: Events = []
        for ticket in sorted(self._tickets.values(), key=lambda t: t.enqueued_at):
            view = views.get(ticket.call_id)
            if view is None and not ticket.assigned.done():
                log.warning("acd.requeued_lost_caller", extra={"call_id": ticket.call_id})
                self._apply(
                    self.state.enqueue(
                        now,
                        ticket.call_id,
                        queue=ticket.requested_queue,
                        priority=ticket.priority,
                        reason=ticket.reason,
                        language=ticket.language,
                        summary=ticket.summary,
                    )
                )
            elif view is not None and view.state == "assigned" and view.agent_id:
                if not ticket.assigned.done():
                    events.append(
                        CallAssigned(
                            at=now,
                            agent_id=view.agent_id,
                            call_id=ticket.call_id,
                            queue=view.queue,
                            waited_s=view.waiting_s,
                        )
                    )
            elif view is not None and ticket.assigned.done() and view.state != "assigned":
                events.append(
                    TicketRequeued(
                        at=now,
                        call_id=ticket.call_id,
                        queue=view.queue,
                        agent_id=ticket.agent_id or "",
                        reason="resync",
                    )
                )
        for event in events:
            self._resolve(event)
        self._publish(Resync(at=now))
        self._reschedule()

    # ------------------------------------------------------------------ timer

    def tick(self) -> Events:
        """Run what is due by now (offer timeouts, wrap-up ends, max waits). The loop's
        timer calls this; tests with a fake clock call it after moving the clock."""
        self.close()
        return self.run(self.state.handle_timer)

    def close(self) -> None:
        self._timer.cancel()

    # ------------------------------------------------------------------ internals

    def run(self, method: Callable[..., Events], *args: Any, **kwargs: Any) -> Events:
        """Call one core method with the current time and act on its events."""
        events = method(self.clock(), *args, **kwargs)
        self._apply(events)
        return events

    def _apply(self, events: Events) -> None:
        for event in events:
            self._resolve(event)
            fields = event.to_dict()
            log.info("acd." + str(fields.pop("kind")), extra=fields)
            if self._publish_own:
                self._publish(event)
        self._reschedule()

    def _resolve(self, event: AcdEvent) -> None:
        ticket = self._tickets.get(getattr(event, "call_id", ""))
        if ticket is None:
            return
        loop = ticket.assigned.get_loop()
        if isinstance(event, CallAssigned):
            ticket.agent_id = event.agent_id
            if ticket.requeued.done():
                ticket.requeued = loop.create_future()
            if not ticket.assigned.done():
                ticket.assigned.set_result(event.agent_id)
        elif isinstance(event, TicketRequeued):
            ticket.agent_id = None
            if ticket.assigned.done():
                ticket.assigned = loop.create_future()
            if not ticket.requeued.done():
                ticket.requeued.set_result(event.reason)
        elif isinstance(event, MaxWaitReached):
            ticket.max_wait_reached.set()
        elif isinstance(event, TicketLeft | CallbackCreated | CallFinished):
            del self._tickets[ticket.call_id]
            for future in (ticket.assigned, ticket.requeued):
                if not future.done():
                    future.cancel()

    def _publish(self, event: AcdEvent) -> None:
        for q in list(self._subscribers):
            try:
                q.put_nowait(event)
            except asyncio.QueueFull:
                while not q.empty():
                    q.get_nowait()
                q.put_nowait(Resync(at=event.at))
                log.warning("acd.subscriber_behind", extra={"maxsize": q.maxsize})
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken listener must not break the queue
                log.exception("acd.listener_failed", extra={"event": event.kind})

    def _reschedule(self) -> None:
        try:
            self._timer.arm(self.state.next_timer(), self.clock())
        except RuntimeError:  # not on a loop (e.g. a synchronous script): tick() by hand
            self._timer.cancel()

    def _on_timer(self) -> None:
        try:
            self.tick()
        except Exception:  # keep the timer alive whatever happened
            log.exception("acd.timer_failed")
            self._reschedule()
