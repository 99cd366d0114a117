"""The distributor's events: tiny, typed, ids only — for the adapter, the desk, the records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from telephony.acd_model import plain


@dataclass(frozen=True, slots=True, kw_only=True)
class AcdEvent:
    """Something the distributor did; the adapter acts on it and passes it to listeners."""

    kind: ClassVar[str] = "event"
    at: float

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind} | plain(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketQueued(AcdEvent):
    kind: ClassVar[str] = "ticket_queued"
    call_id: str
    queue: str
    requested_queue: str
    priority: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketLeft(AcdEvent):
    """The caller stopped waiting (hung up, or the session ended the wait)."""

    kind: ClassVar[str] = "ticket_left"
    call_id: str
    queue: str
    waited_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketRequeued(AcdEvent):
    """An assigned call went back to the head of its queue (its agent was lost)."""

    kind: ClassVar[str] = "ticket_requeued"
    call_id: str
    queue: str
    agent_id: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferMade(AcdEvent):
    kind: ClassVar[str] = "offer_made"
    agent_id: str
    call_id: str
    queue: str
    expires_at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferWithdrawn(AcdEvent):
    """The offer is gone without an answer: the caller left, or the agent disconnected."""

    kind: ClassVar[str] = "offer_withdrawn"
    agent_id: str
    call_id: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferDeclined(AcdEvent):
    kind: ClassVar[str] = "offer_declined"
    agent_id: str
    call_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferTimedOut(AcdEvent):
    kind: ClassVar[str] = "offer_timed_out"
    agent_id: str
    call_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CallAssigned(AcdEvent):
    """The agent accepted: bridge the call to them."""

    kind: ClassVar[str] = "call_assigned"
    agent_id: str
    call_id: str
    queue: str
    waited_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class CallFinished(AcdEvent):
    """An assigned call ended; its agent goes to wrap-up."""

    kind: ClassVar[str] = "call_finished"
    agent_id: str
    call_id: str
    talk_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class WrapUpEnded(AcdEvent):
    kind: ClassVar[str] = "wrap_up_ended"
    agent_id: str
    call_id: str | None
    next_state: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentStateChanged(AcdEvent):
    kind: ClassVar[str] = "agent_state"
    agent_id: str
    state: str
    previous: str
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackCreated(AcdEvent):
    kind: ClassVar[str] = "callback_created"
    task_id: str
    call_id: str
    queue: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackClosed(AcdEvent):
    kind: ClassVar[str] = "callback_closed"
    task_id: str
    agent_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class MaxWaitReached(AcdEvent):
    """The caller has waited the maximum: the session offers the callback now."""

    kind: ClassVar[str] = "max_wait_reached"
    call_id: str
    queue: str
    callbacks: bool
    """Whether a callback may be offered; if not, the session ends the wait politely."""
