"""Where the distributor's state lives: the interface, and the in-memory records.

:class:`QueueState` is what the asyncio adapter drives (in-process now, Redis for
several gateways later). :class:`AcdStore` holds what the in-process transitions
in :mod:`telephony.acd` act on — tickets, agents, callback tasks, handle times,
all keyed by id — and answers position, staffing, expected wait, snapshot and
consistency questions.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Iterable
from typing import Any, Protocol

from telephony.acd_events import AcdEvent
from telephony.acd_model import (
    GENERAL,
    WORKING,
    AcdConfig,
    AcdError,
    AgentRecord,
    AgentState,
    AgentView,
    CallbackTask,
    OfferView,
    QueueView,
    Snapshot,
    TicketRecord,
    TicketState,
    TicketView,
    UnknownAgent,
    UnknownCall,
    WaitEstimate,
)

Events = list[AcdEvent]


class QueueState(Protocol):
    """Where the queues and agent presence live: this process now, Redis later.

    Only ids and plain data cross this interface; every mutation takes ``now``
    and returns what happened as events."""

    def enqueue(
        self,
        now: float,
        call_id: str,
        *,
        queue: str,
        priority: str,
        reason: str,
        language: str,
        summary: dict[str, Any],
    ) -> Events: ...

    def leave(self, now: float, call_id: str) -> Events: ...

    def call_ended(self, now: float, call_id: str) -> Events: ...

    def position(self, call_id: str) -> int: ...

    def estimate(self, now: float, call_id: str) -> WaitEstimate: ...

    def announce(self, now: float, call_id: str) -> WaitEstimate: ...

    def request_callback(self, now: float, call_id: str, caller_ref: str) -> Events: ...

    def close_callback(self, now: float, task_id: str, agent_id: str | None = None) -> Events: ...

    def callbacks(self) -> list[CallbackTask]: ...

    def login(
        self, now: float, agent_id: str, skills: Iterable[str], *, ready: bool = True
    ) -> Events: ...

    def logout(self, now: float, agent_id: str) -> Events: ...

    def disconnect(self, now: float, agent_id: str) -> Events: ...

    def set_available(self, now: float, agent_id: str) -> Events: ...

    def set_break(self, now: float, agent_id: str, reason: str = "break") -> Events: ...

    def accept(self, now: float, agent_id: str, call_id: str) -> Events: ...

    def decline(self, now: float, agent_id: str, call_id: str) -> Events: ...

    def finish_wrap_up(self, now: float, agent_id: str) -> Events: ...

    def next_timer(self) -> float | None: ...

    def handle_timer(self, now: float) -> Events: ...

    def snapshot(self, now: float) -> Snapshot: ...


class AcdStore:
    """The in-memory state behind :class:`telephony.acd.Acd`."""

    def __init__(self, config: AcdConfig) -> None:
        self.config = config
        self.queues = config.all_queues
        self.tickets: dict[str, TicketRecord] = {}
        self.agents: dict[str, AgentRecord] = {}
        self.callbacks: dict[str, CallbackTask] = {}
        self.handle_times: dict[str, deque[float]] = {
            q: deque(maxlen=config.handle_time_window) for q in self.queues
        }
        self.seq = itertools.count(1)
        self.task_seq = itertools.count(1)

    # ------------------------------------------------------------------ lookups

    def resolve_queue(self, name: str) -> str | None:
        """The configured queue a name means; ``general`` always means the general queue."""
        if name == GENERAL or name == self.config.general_queue:
            return self.config.general_queue
        return name if name in self.queues else None

    def ticket(self, call_id: str) -> TicketRecord:
        ticket = self.tickets.get(call_id)
        if ticket is None:
            raise UnknownCall(call_id)
        return ticket

    def agent(self, agent_id: str) -> AgentRecord:
        agent = self.agents.get(agent_id)
        if agent is None:
            raise UnknownAgent(agent_id)
        return agent

    def waiting_order(self) -> list[TicketRecord]:
        """Calls not yet with an agent (waiting or offered), in serving order, all queues."""
        return sorted(
            (t for t in self.tickets.values() if t.state is not TicketState.ASSIGNED),
            key=TicketRecord.order,
        )

    def in_queue(self, queue: str) -> list[TicketRecord]:
        return [t for t in self.waiting_order() if t.queue == queue]

    # ------------------------------------------------------------------ figures

    def position(self, call_id: str) -> int:
        """1 for the next call of its queue; 0 when not waiting."""
        ticket = self.tickets.get(call_id)
        if ticket is None or ticket.state is TicketState.ASSIGNED:
            return 0
        key = ticket.order()
        return 1 + sum(
            1
            for t in self.tickets.values()
            if t.queue == ticket.queue and t.state is not TicketState.ASSIGNED and t.order() < key
        )

    def staffed(self, queue: str) -> int:
        """Agents with the skill who are available, offered, on a call or in wrap-up."""
        return sum(1 for a in self.agents.values() if a.state in WORKING and queue in a.skills)

    def average_handle(self, queue: str) -> float:
        times = self.handle_times.get(queue)
        return sum(times) / len(times) if times else self.config.default_handle_s

    def record_handle(self, now: float, agent: AgentRecord) -> None:
        """Handle time = talk + wrap-up, into the queue's rolling average."""
        if agent.call_started_at is not None and agent.call_queue in self.handle_times:
            self.handle_times[agent.call_queue].append(now - agent.call_started_at)
        agent.call_started_at = None
        agent.call_queue = None

    def estimate(self, call_id: str) -> WaitEstimate:
        """Position, and expected wait = position × average handle time / working agents.

        With no working agent for the skill the expected wait is unknown (None), not a
        guess. Simple on purpose: agents with several skills count in each of their
        queues, and the time already spent on current calls is ignored (so the figure
        errs on the long side for callers near the front)."""
        ticket = self.ticket(call_id)
        agents = self.staffed(ticket.queue)
        position = self.position(call_id)
        expected = None
        if agents and position:
            expected = position * self.average_handle(ticket.queue) / agents
        return WaitEstimate(position, expected, agents, ticket.callback_offered_at is not None)

    # ------------------------------------------------------------------ views

    def snapshot(self, now: float) -> Snapshot:
        tickets = [
            self._ticket_view(now, t, position)
            for queue in self.queues
            for position, t in enumerate(self.in_queue(queue), start=1)
        ]
        tickets += [
            self._ticket_view(now, t, 0)
            for t in sorted(self.tickets.values(), key=lambda t: t.seq)
            if t.state is TicketState.ASSIGNED
        ]
        agents = tuple(
            AgentView(
                agent_id=a.agent_id,
                state=a.state.value,
                since=a.since,
                idle_since=a.idle_since,
                skills=tuple(q for q in self.queues if q in a.skills),
                call_id=a.call_id,
                break_reason=a.break_reason,
                break_after_wrap_up=a.break_after_wrap_up,
                wrap_up_until=a.wrap_up_until,
            )
            for a in sorted(self.agents.values(), key=lambda a: a.seq)
        )
        offers = tuple(
            OfferView(t.agent_id, t.call_id, t.offered_at, t.offer_expires_at)
            for t in self.waiting_order()
            if t.state is TicketState.OFFERED
            and t.agent_id is not None
            and t.offered_at is not None
            and t.offer_expires_at is not None
        )
        queues = tuple(
            QueueView(
                name=q,
                waiting=len(self.in_queue(q)),
                agents=self.staffed(q),
                available=sum(
                    1
                    for a in self.agents.values()
                    if a.state is AgentState.AVAILABLE and q in a.skills
                ),
                average_handle_s=self.average_handle(q),
            )
            for q in self.queues
        )
        return Snapshot(now, queues, tuple(tickets), agents, offers, tuple(self.callbacks.values()))

    def _ticket_view(self, now: float, t: TicketRecord, position: int) -> TicketView:
        return TicketView(
            call_id=t.call_id,
            queue=t.queue,
            requested_queue=t.requested_queue,
            priority=t.priority,
            reason=t.reason,
            language=t.language,
            summary=dict(t.summary),
            state=t.state.value,
            position=position,
            enqueued_at=t.enqueued_at,
            waiting_s=now - t.enqueued_at,
            agent_id=t.agent_id,
            requeues=t.requeues,
            at_head=t.at_head,
            callback_offered=t.callback_offered_at is not None,
            max_wait_reached=t.max_wait_reached,
        )

    def check(self) -> None:
        """Raise :class:`AcdError` unless offers and calls pair up with agents (no ghosts)."""
        for t in self.tickets.values():
            if t.state is TicketState.WAITING:
                if t.agent_id is not None or t.offer_expires_at is not None:
                    raise AcdError(f"waiting call {t.call_id} still names agent {t.agent_id}")
                continue
            agent = self.agents.get(t.agent_id or "")
            want = AgentState.OFFERED if t.state is TicketState.OFFERED else AgentState.ON_CALL
            if agent is None or agent.state is not want or agent.call_id != t.call_id:
                raise AcdError(f"{t.state.value} call {t.call_id} has no {want.value} agent")
        for a in self.agents.values():
            if a.state in (AgentState.OFFERED, AgentState.ON_CALL):
                ticket = self.tickets.get(a.call_id or "")
                if ticket is None or ticket.agent_id != a.agent_id:
                    raise AcdError(f"{a.state.value} agent {a.agent_id} has no call")
            if a.state is AgentState.OFFLINE and a.call_id is not None:
                raise AcdError(f"offline agent {a.agent_id} still holds call {a.call_id}")
            if a.state is not AgentState.WRAP_UP and a.wrap_up_until is not None:
                raise AcdError(f"{a.state.value} agent {a.agent_id} has a wrap-up deadline")

    def next_deadline(self) -> float | None:
        """The earliest offer expiry, wrap-up end, max wait or cool-off end; None if none."""
        when = math.inf
        for t in self.tickets.values():
            if t.state is TicketState.ASSIGNED:
                continue
            if t.offer_expires_at is not None:
                when = min(when, t.offer_expires_at)
            if not t.max_wait_reached:
                when = min(when, t.max_wait_at)
            if t.passed:
                when = min(when, *t.passed.values())
        for a in self.agents.values():
            if a.state is AgentState.WRAP_UP and a.wrap_up_until is not None:
                when = min(when, a.wrap_up_until)
        return None if when == math.inf else when
