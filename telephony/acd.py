"""Automatic call distribution, sans-IO: pass ``now`` in, get events out.

Queues per topic/skill plus a general one; agents with skills; urgent before
normal; the longest-idle available agent with the skill is offered the call; an
offer not answered in time moves on. No asyncio and no clock in here: every call
takes ``now``, and the owner runs :meth:`Acd.handle_timer` at :meth:`Acd.next_timer`
(as aioquic does). The asyncio adapter is :mod:`telephony.agent_queue`.

Policies (why):

* An agent who lets an offer time out goes to ``break`` with reason
  ``missed_offer`` (configurable). An agent who walked away would otherwise be
  offered every call in turn, each caller waiting a full offer timeout; call
  centres call this "not ready on RONA". They come back with one click.
* A declined (or missed) call is not offered to that agent again for
  ``decline_cooldown_s``; afterwards it may be, so a call never starves while
  the only skilled agent sits idle.
* An agent lost during an offer or a call (connection dropped) goes offline and
  the call goes back to the head of its queue, keeping its priority and
  enqueue time; its max-wait budget counts only the time it spent waiting.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from typing import Any

from telephony.acd_events import (
    AgentStateChanged,
    CallAssigned,
    CallbackClosed,
    CallbackCreated,
    CallFinished,
    MaxWaitReached,
    OfferDeclined,
    OfferMade,
    OfferTimedOut,
    OfferWithdrawn,
    TicketLeft,
    TicketQueued,
    TicketRequeued,
    WrapUpEnded,
)
from telephony.acd_model import (
    PRIORITIES,
    AcdConfig,
    AcdError,
    AgentRecord,
    AgentState,
    CallbackNotOffered,
    CallbackTask,
    DuplicateCall,
    IllegalTransition,
    Snapshot,
    StaleOffer,
    TicketRecord,
    TicketState,
    UnknownSkill,
    WaitEstimate,
)
from telephony.acd_store import AcdStore, Events

log = logging.getLogger(__name__)


class Acd:
    """The in-process :class:`~telephony.acd_store.QueueState`."""

    def __init__(self, config: AcdConfig | None = None, *, store: AcdStore | None = None) -> None:
        self.config = config or AcdConfig()
        # A given store: the transitions run on records loaded from elsewhere (Redis).
        self._s = store if store is not None else AcdStore(self.config)

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
        if call_id in self._s.tickets:
            raise DuplicateCall(call_id)
        resolved = self._s.resolve_queue(queue)
        if resolved is None:
            resolved = self.config.general_queue
            log.warning(
                "acd.unknown_queue", extra={"call_id": call_id, "queue": queue, "used": resolved}
            )
        if priority not in PRIORITIES:
            log.warning("acd.unknown_priority", extra={"call_id": call_id, "priority": priority})
            priority = "normal"
        ticket = TicketRecord(
            call_id=call_id,
            queue=resolved,
            requested_queue=queue,
            priority=priority,
            reason=reason,
            language=language,
            summary=dict(summary or {}),
            enqueued_at=now,
            seq=next(self._s.seq),
            wait_started_at=now,
            max_wait_at=now + self.config.max_wait_s,
        )
        self._s.tickets[call_id] = ticket
        out: Events = [
            TicketQueued(
                at=now, call_id=call_id, queue=resolved, requested_queue=queue, priority=priority
            )
        ]
        self._dispatch(now, out)
        return out

    def leave(self, now: float, call_id: str) -> Events:
        """The caller stops waiting. Idempotent; a call already with an agent is left alone
        (its end is :meth:`call_ended`)."""
        ticket = self._s.tickets.get(call_id)
        if ticket is None or ticket.state is TicketState.ASSIGNED:
            return []
        out: Events = []
        if ticket.state is TicketState.OFFERED:
            self._withdraw(now, ticket, "caller_left", out)
        del self._s.tickets[call_id]
        out.append(
            TicketLeft(
                at=now, call_id=call_id, queue=ticket.queue, waited_s=now - ticket.enqueued_at
            )
        )
        self._dispatch(now, out)
        return out

    def call_ended(self, now: float, call_id: str) -> Events:
        """The call is over (either side hung up). Idempotent."""
        ticket = self._s.tickets.get(call_id)
        if ticket is None:
            return []
        if ticket.state is not TicketState.ASSIGNED:
            return self.leave(now, call_id)
        assert ticket.agent_id is not None and ticket.assigned_at is not None
        agent = self._s.agents[ticket.agent_id]
        del self._s.tickets[call_id]
        out: Events = [
            CallFinished(
                at=now, agent_id=agent.agent_id, call_id=call_id, talk_s=now - ticket.assigned_at
            )
        ]
        if self.config.wrap_up_s > 0:
            agent.wrap_up_until = now + self.config.wrap_up_s
            self._set_state(now, agent, AgentState.WRAP_UP, out)
        else:
            self._end_wrap_up(now, agent, out)
        self._dispatch(now, out)
        return out

    def position(self, call_id: str) -> int:
        """1 for the next call of its queue; 0 when not waiting."""
        return self._s.position(call_id)

    def estimate(self, now: float, call_id: str) -> WaitEstimate:
        """Position and expected wait (see :meth:`AcdStore.estimate`)."""
        return self._s.estimate(call_id)

    def announce(self, now: float, call_id: str) -> WaitEstimate:
        """The session is announcing position and wait: from now on key 1 may ask for a
        callback (when callbacks are on)."""
        ticket = self._s.ticket(call_id)
        if (
            self.config.callbacks
            and ticket.state is not TicketState.ASSIGNED
            and ticket.callback_offered_at is None
        ):
            ticket.callback_offered_at = now
        return self._s.estimate(call_id)

    def request_callback(self, now: float, call_id: str, caller_ref: str) -> Events:
        """Turn a waiting call into a callback task; the ticket leaves the queue."""
        ticket = self._s.ticket(call_id)
        if not self.config.callbacks:
            raise CallbackNotOffered(call_id, "callbacks are switched off")
        if ticket.state is TicketState.ASSIGNED:
            raise CallbackNotOffered(call_id, "it is already with an agent")
        if ticket.callback_offered_at is None:
            raise CallbackNotOffered(
                call_id, "not offered yet (it is from the first position announcement on)"
            )
        out: Events = []
        if ticket.state is TicketState.OFFERED:
            self._withdraw(now, ticket, "callback", out)
        del self._s.tickets[call_id]
        task = CallbackTask(
            task_id=f"cb-{next(self._s.task_seq)}",
            call_id=call_id,
            caller_ref=caller_ref,
            queue=ticket.queue,
            priority=ticket.priority,
            reason=ticket.reason,
            language=ticket.language,
            summary=ticket.summary,
            enqueued_at=ticket.enqueued_at,
            created_at=now,
        )
        self._s.callbacks[task.task_id] = task
        out.append(CallbackCreated(at=now, task_id=task.task_id, call_id=call_id, queue=task.queue))
        self._dispatch(now, out)
        return out

    def close_callback(self, now: float, task_id: str, agent_id: str | None = None) -> Events:
        """An agent took the callback task off the list (called back, or gave up)."""
        if self._s.callbacks.pop(task_id, None) is None:
            raise AcdError(f"unknown callback task {task_id!r}")
        return [CallbackClosed(at=now, task_id=task_id, agent_id=agent_id)]

    def callbacks(self) -> list[CallbackTask]:
        return list(self._s.callbacks.values())

    # ------------------------------------------------------------------ agents

    def login(
        self, now: float, agent_id: str, skills: Iterable[str], *, ready: bool = True
    ) -> Events:
        """An agent's desk connects: available (or on break when not ``ready``)."""
        wanted = set(skills)
        resolved = {s: self._s.resolve_queue(s) for s in wanted}
        unknown = {s for s, q in resolved.items() if q is None}
        if unknown:
            raise UnknownSkill(unknown, self._s.queues)
        if not wanted:
            raise AcdError(f"agent {agent_id!r} needs at least one skill (a queue name)")
        agent = self._s.agents.get(agent_id)
        if agent is not None and agent.state is not AgentState.OFFLINE:
            raise IllegalTransition(agent_id, "log in", agent.state, "offline")
        if agent is None:
            agent = AgentRecord(
                agent_id=agent_id,
                skills=frozenset(),
                seq=next(self._s.seq),
                state=AgentState.OFFLINE,
                since=now,
                idle_since=now,
            )
            self._s.agents[agent_id] = agent
        agent.skills = frozenset(q for q in resolved.values() if q is not None)
        agent.idle_since = now
        agent.break_reason = None if ready else "break"
        out: Events = []
        self._set_state(now, agent, AgentState.AVAILABLE if ready else AgentState.BREAK, out)
        self._dispatch(now, out)
        return out

    def logout(self, now: float, agent_id: str) -> Events:
        agent = self._s.agent(agent_id)
        self._require(agent, "log out", AgentState.AVAILABLE, AgentState.BREAK, AgentState.WRAP_UP)
        out: Events = []
        if agent.state is AgentState.WRAP_UP:
            self._s.record_handle(now, agent)
        self._go_offline(now, agent, "logout", out)
        return out

    def disconnect(self, now: float, agent_id: str) -> Events:
        """The agent's connection dropped: whatever they had goes back to the head of its
        queue, and they go offline. Idempotent."""
        agent = self._s.agents.get(agent_id)
        if agent is None or agent.state is AgentState.OFFLINE:
            return []
        out: Events = []
        ticket = self._s.tickets.get(agent.call_id) if agent.call_id else None
        if agent.state is AgentState.OFFERED and ticket is not None:
            self._withdraw(now, ticket, "agent_disconnected", out, agent_back=False)
            ticket.at_head = True
        elif agent.state is AgentState.ON_CALL and ticket is not None:
            self._requeue(now, ticket, "agent_disconnected", out)
        elif agent.state is AgentState.WRAP_UP:
            self._s.record_handle(now, agent)
        self._go_offline(now, agent, "disconnected", out)
        self._dispatch(now, out)
        return out

    def set_available(self, now: float, agent_id: str) -> Events:
        """From break (or ending wrap-up early). Already available: nothing happens."""
        agent = self._s.agent(agent_id)
        if agent.state is AgentState.AVAILABLE:
            return []
        self._require(agent, "become available", AgentState.BREAK, AgentState.WRAP_UP)
        out: Events = []
        if agent.state is AgentState.WRAP_UP:
            agent.break_after_wrap_up = False
            self._end_wrap_up(now, agent, out)
        else:
            agent.idle_since = now
            agent.break_reason = None
            self._set_state(now, agent, AgentState.AVAILABLE, out)
        self._dispatch(now, out)
        return out

    def set_break(self, now: float, agent_id: str, reason: str = "break") -> Events:
        """From available at once; on a call or in wrap-up: when the wrap-up ends."""
        agent = self._s.agent(agent_id)
        if agent.state is AgentState.BREAK:
            return []
        self._require(
            agent, "take a break", AgentState.AVAILABLE, AgentState.ON_CALL, AgentState.WRAP_UP
        )
        out: Events = []
        if agent.state is AgentState.AVAILABLE:
            agent.break_reason = reason
            self._set_state(now, agent, AgentState.BREAK, out, reason)
        else:
            agent.break_after_wrap_up = True
        return out

    def accept(self, now: float, agent_id: str, call_id: str) -> Events:
        agent = self._s.agent(agent_id)
        ticket = self._offer_of(agent, call_id)
        ticket.state = TicketState.ASSIGNED
        ticket.assigned_at = now
        ticket.offered_at = ticket.offer_expires_at = None
        ticket.wait_spent_s += now - ticket.wait_started_at
        ticket.passed.clear()
        agent.call_started_at = now
        agent.call_queue = ticket.queue
        out: Events = []
        self._set_state(now, agent, AgentState.ON_CALL, out)
        out.append(
            CallAssigned(
                at=now,
                agent_id=agent_id,
                call_id=call_id,
                queue=ticket.queue,
                waited_s=now - ticket.enqueued_at,
            )
        )
        return out

    def decline(self, now: float, agent_id: str, call_id: str) -> Events:
        agent = self._s.agent(agent_id)
        ticket = self._offer_of(agent, call_id)
        out: Events = [OfferDeclined(at=now, agent_id=agent_id, call_id=call_id)]
        self._release_offer(now, ticket, agent, AgentState.AVAILABLE, out)
        self._dispatch(now, out)
        return out

    def finish_wrap_up(self, now: float, agent_id: str) -> Events:
        """The agent is done early: available, or break if they asked for one."""
        agent = self._s.agent(agent_id)
        self._require(agent, "finish wrap-up", AgentState.WRAP_UP)
        out: Events = []
        self._end_wrap_up(now, agent, out)
        self._dispatch(now, out)
        return out

    # ------------------------------------------------------------------ timers

    def next_timer(self) -> float | None:
        """When :meth:`handle_timer` must run next; None when nothing is pending."""
        return self._s.next_deadline()

    def handle_timer(self, now: float) -> Events:
        """Everything due by ``now``: offer timeouts, wrap-up ends, max waits, cool-offs."""
        out: Events = []
        expired = [
            t
            for t in self._s.tickets.values()
            if t.state is TicketState.OFFERED
            and t.offer_expires_at is not None
            and t.offer_expires_at <= now
        ]
        for ticket in sorted(expired, key=lambda t: (t.offer_expires_at, t.seq)):
            assert ticket.agent_id is not None
            agent = self._s.agents[ticket.agent_id]
            out.append(OfferTimedOut(at=now, agent_id=agent.agent_id, call_id=ticket.call_id))
            after = (
                AgentState.BREAK
                if self.config.after_missed_offer == "break"
                else AgentState.AVAILABLE
            )
            self._release_offer(now, ticket, agent, after, out, reason="missed_offer")
        for agent in sorted(self._s.agents.values(), key=lambda a: a.seq):
            if agent.state is AgentState.WRAP_UP and (agent.wrap_up_until or 0.0) <= now:
                self._end_wrap_up(now, agent, out)
        for ticket in self._s.waiting_order():
            if not ticket.max_wait_reached and ticket.max_wait_at <= now:
                ticket.max_wait_reached = True
                if self.config.callbacks and ticket.callback_offered_at is None:
                    ticket.callback_offered_at = now
                out.append(
                    MaxWaitReached(
                        at=now,
                        call_id=ticket.call_id,
                        queue=ticket.queue,
                        callbacks=self.config.callbacks,
                    )
                )
            for agent_id in [a for a, until in ticket.passed.items() if until <= now]:
                del ticket.passed[agent_id]
        self._dispatch(now, out)
        return out

    # ------------------------------------------------------------------ views

    def snapshot(self, now: float) -> Snapshot:
        """Queues, tickets, agents, offers and callback tasks as they are now."""
        return self._s.snapshot(now)

    def check(self) -> None:
        """Raise :class:`AcdError` unless offers and calls pair up with agents (no ghosts)."""
        self._s.check()

    # ------------------------------------------------------------------ internals

    @staticmethod
    def _require(agent: AgentRecord, action: str, *states: AgentState) -> None:
        if agent.state not in states:
            allowed = " or ".join(s.value for s in states)
            raise IllegalTransition(agent.agent_id, action, agent.state, allowed)

    def _offer_of(self, agent: AgentRecord, call_id: str) -> TicketRecord:
        ticket = self._s.tickets.get(call_id)
        if (
            agent.state is not AgentState.OFFERED
            or agent.call_id != call_id
            or ticket is None
            or ticket.agent_id != agent.agent_id
        ):
            raise StaleOffer(agent.agent_id, call_id)
        return ticket

    def _set_state(
        self,
        now: float,
        agent: AgentRecord,
        state: AgentState,
        out: Events,
        reason: str | None = None,
    ) -> None:
        previous = agent.state
        agent.state = state
        agent.since = now
        out.append(
            AgentStateChanged(
                at=now,
                agent_id=agent.agent_id,
                state=state.value,
                previous=previous.value,
                reason=reason,
            )
        )

    def _dispatch(self, now: float, out: Events) -> None:
        """Offer each waiting call, in serving order, to the longest-idle free agent."""
        free = [a for a in self._s.agents.values() if a.state is AgentState.AVAILABLE]
        for ticket in self._s.waiting_order():
            if not free:
                return
            if ticket.state is not TicketState.WAITING:
                continue
            candidates = [
                a
                for a in free
                if ticket.queue in a.skills and ticket.passed.get(a.agent_id, -math.inf) <= now
            ]
            if not candidates:
                continue
            agent = min(candidates, key=lambda a: (a.idle_since, a.seq))
            free.remove(agent)
            ticket.state = TicketState.OFFERED
            ticket.agent_id = agent.agent_id
            ticket.offered_at = now
            ticket.offer_expires_at = now + self.config.offer_timeout_s
            agent.call_id = ticket.call_id
            self._set_state(now, agent, AgentState.OFFERED, out)
            out.append(
                OfferMade(
                    at=now,
                    agent_id=agent.agent_id,
                    call_id=ticket.call_id,
                    queue=ticket.queue,
                    expires_at=ticket.offer_expires_at,
                )
            )

    def _clear_offer(self, ticket: TicketRecord) -> None:
        ticket.state = TicketState.WAITING
        ticket.agent_id = None
        ticket.offered_at = ticket.offer_expires_at = None

    def _withdraw(
        self,
        now: float,
        ticket: TicketRecord,
        reason: str,
        out: Events,
        *,
        agent_back: bool = True,
    ) -> None:
        """Take an unanswered offer back; the agent returns to available (idle time kept)."""
        assert ticket.agent_id is not None
        agent = self._s.agents[ticket.agent_id]
        out.append(
            OfferWithdrawn(at=now, agent_id=agent.agent_id, call_id=ticket.call_id, reason=reason)
        )
        self._clear_offer(ticket)
        agent.call_id = None
        if agent_back:
            self._set_state(now, agent, AgentState.AVAILABLE, out, reason)

    def _release_offer(
        self,
        now: float,
        ticket: TicketRecord,
        agent: AgentRecord,
        state: AgentState,
        out: Events,
        reason: str | None = None,
    ) -> None:
        """Declined or missed: the call waits again, not for this agent for a while."""
        self._clear_offer(ticket)
        if self.config.decline_cooldown_s > 0:
            ticket.passed[agent.agent_id] = now + self.config.decline_cooldown_s
        agent.call_id = None
        if state is AgentState.BREAK:
            agent.break_reason = reason
        self._set_state(now, agent, state, out, reason)

    def _requeue(self, now: float, ticket: TicketRecord, reason: str, out: Events) -> None:
        assert ticket.agent_id is not None
        agent_id = ticket.agent_id
        ticket.state = TicketState.WAITING
        ticket.agent_id = None
        ticket.assigned_at = None
        ticket.at_head = True
        ticket.requeues += 1
        ticket.wait_started_at = now
        if not ticket.max_wait_reached:
            ticket.max_wait_at = now + max(0.0, self.config.max_wait_s - ticket.wait_spent_s)
        out.append(
            TicketRequeued(
                at=now, call_id=ticket.call_id, queue=ticket.queue, agent_id=agent_id, reason=reason
            )
        )

    def _end_wrap_up(self, now: float, agent: AgentRecord, out: Events) -> None:
        self._s.record_handle(now, agent)
        call_id, agent.call_id = agent.call_id, None
        agent.wrap_up_until = None
        if agent.break_after_wrap_up:
            agent.break_after_wrap_up = False
            agent.break_reason = "break"
            state = AgentState.BREAK
        else:
            agent.idle_since = now
            state = AgentState.AVAILABLE
        out.append(
            WrapUpEnded(at=now, agent_id=agent.agent_id, call_id=call_id, next_state=state.value)
        )
        self._set_state(now, agent, state, out)

    def _go_offline(self, now: float, agent: AgentRecord, reason: str, out: Events) -> None:
        agent.call_id = None
        agent.call_started_at = None
        agent.call_queue = None
        agent.wrap_up_until = None
        agent.break_after_wrap_up = False
        agent.break_reason = None
        self._set_state(now, agent, AgentState.OFFLINE, out, reason)
