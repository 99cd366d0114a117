"""The agent queue interface and its in-process implementation.

A handed-off call waits here until an agent takes it. This slice has no agent
desk yet (that is its own issue), so nobody takes calls from the queue: the
caller waits with hold audio and announcements, and the record shows the
handoff. The interface is what the desk and a Redis-backed queue will fill in.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

PRIORITY_ORDER = {"urgent": 0, "normal": 1}


@dataclass(eq=False)
class Ticket:
    """A call's place in a queue."""

    call_id: str
    queue: str
    priority: str
    reason: str
    language: str
    summary: dict[str, Any]
    enqueued_at: float = field(default_factory=time.time)
    order: int = 0
    assigned: asyncio.Future[str] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    """Resolves with the agent's id when an agent accepts the call."""

    @property
    def waiting_s(self) -> float:
        return time.time() - self.enqueued_at


class AgentQueue(Protocol):
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

    def leave(self, ticket: Ticket) -> None: ...

    def waiting(self) -> list[Ticket]: ...


class InProcessQueue:
    """Queues in this process's memory: urgent first, then first come, first served."""

    def __init__(self) -> None:
        self._tickets: dict[str, Ticket] = {}
        self._counter = itertools.count()

    def enqueue(
        self,
        call_id: str,
        *,
        queue: str,
        priority: str,
        reason: str,
        language: str,
        summary: dict[str, Any],
    ) -> Ticket:
        ticket = Ticket(
            call_id, queue, priority, reason, language, summary, order=next(self._counter)
        )
        self._tickets[call_id] = ticket
        return ticket

    def _key(self, ticket: Ticket) -> tuple[int, int]:
        return PRIORITY_ORDER.get(ticket.priority, 1), ticket.order

    def waiting(self) -> list[Ticket]:
        return sorted(self._tickets.values(), key=self._key)

    def position(self, ticket: Ticket) -> int:
        """1 for the next call an agent of this queue would get."""
        same = [t for t in self.waiting() if t.queue == ticket.queue]
        return same.index(ticket) + 1 if ticket in same else 0

    def leave(self, ticket: Ticket) -> None:
        self._tickets.pop(ticket.call_id, None)
        if not ticket.assigned.done():
            ticket.assigned.cancel()
