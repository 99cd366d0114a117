"""The automatic call distributor's vocabulary: config, states, records, events, views, errors.

Everything here is plain data keyed by ids — no references between objects — so the
same state can live in this process's memory or (later) in Redis for several gateways.
Times are seconds on one clock the caller of the core chooses (the adapter uses wall
time because several gateways must agree on it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import Enum, StrEnum
from typing import Any, Literal

GENERAL = "general"
"""The name the gateway itself hands off with; always means the general queue."""

PRIORITIES = ("urgent", "normal")
"""In the order calls are served."""


# --------------------------------------------------------------------------- config


@dataclass(frozen=True, slots=True)
class AcdConfig:
    """What the distributor needs from the settings (``queue:`` section)."""

    queues: tuple[str, ...] = ()
    """Topic/skill queues; the general queue is always there as well."""
    general_queue: str = GENERAL
    """Name of the general queue; ``general`` is accepted for it too."""
    offer_timeout_s: float = 20.0
    """An offer not accepted within this time moves on to the next agent."""
    after_missed_offer: Literal["break", "available"] = "break"
    """State of an agent who let an offer time out."""
    decline_cooldown_s: float = 60.0
    """A call an agent declined (or missed) is not offered to them again for this long."""
    wrap_up_s: float = 30.0
    """After-call work; then back to available automatically (0: at once)."""
    max_wait_s: float = 1800.0
    """From this wait on, the caller is offered a callback anyway."""
    callbacks: bool = True
    """Whether callers may ask for a callback (key 1) at all."""
    default_handle_s: float = 300.0
    """Handle time assumed for a queue before any call there has been handled."""
    handle_time_window: int = 20
    """Handled calls per queue in the rolling average handle time."""

    def __post_init__(self) -> None:
        problems = []
        if self.offer_timeout_s <= 0:
            problems.append("offer_timeout_s must be above 0")
        if self.wrap_up_s < 0 or self.decline_cooldown_s < 0:
            problems.append("wrap_up_s and decline_cooldown_s must be 0 or more")
        if self.max_wait_s <= 0 or self.default_handle_s <= 0:
            problems.append("max_wait_s and default_handle_s must be above 0")
        if self.handle_time_window < 1:
            problems.append("handle_time_window must be 1 or more")
        if self.after_missed_offer not in ("break", "available"):
            problems.append("after_missed_offer must be 'break' or 'available'")
        if not self.general_queue:
            problems.append("general_queue must not be empty")
        if problems:
            raise ValueError("; ".join(problems))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> AcdConfig:
        """Pick this config's keys from e.g. ``settings.queue.model_dump()``; others are ignored."""
        known = {f.name for f in fields(cls)}
        picked = {k: v for k, v in data.items() if k in known}
        if "queues" in picked:
            picked["queues"] = tuple(picked["queues"])
        return cls(**picked)

    @property
    def all_queues(self) -> tuple[str, ...]:
        """The general queue first, then the topic queues in config order."""
        return (self.general_queue, *(q for q in self.queues if q != self.general_queue))


# --------------------------------------------------------------------------- states


class AgentState(StrEnum):
    OFFLINE = "offline"
    AVAILABLE = "available"
    OFFERED = "offered"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    BREAK = "break"


class TicketState(StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    ASSIGNED = "assigned"


WORKING = frozenset(
    {AgentState.AVAILABLE, AgentState.OFFERED, AgentState.ON_CALL, AgentState.WRAP_UP}
)
"""Agents in these states serve their queues (break and offline do not)."""


# --------------------------------------------------------------------------- records


@dataclass(slots=True)
class TicketRecord:
    """A handed-off call from enqueue until its call ends, it leaves, or becomes a callback."""

    call_id: str
    queue: str
    requested_queue: str
    priority: str
    reason: str
    language: str
    summary: dict[str, Any] = field(repr=False)
    enqueued_at: float
    seq: int
    state: TicketState = TicketState.WAITING
    at_head: bool = False
    """Put back at the head of its queue (its agent was lost)."""
    agent_id: str | None = None
    """The agent it is offered to or assigned to."""
    offered_at: float | None = None
    offer_expires_at: float | None = None
    assigned_at: float | None = None
    passed: dict[str, float] = field(default_factory=dict)
    """Agent id → until when that agent is not offered this call again (declined/missed)."""
    callback_offered_at: float | None = None
    """Since when the caller may ask for a callback (first announcement, or max wait)."""
    wait_started_at: float = 0.0
    wait_spent_s: float = 0.0
    """Time waited before the last assignment; with the current wait, it meets max wait."""
    max_wait_at: float = math.inf
    max_wait_reached: bool = False
    requeues: int = 0

    def order(self) -> tuple[int, int, int]:
        """Serving order: put-back calls first, then urgent before normal, then oldest."""
        return (0 if self.at_head else 1, PRIORITIES.index(self.priority), self.seq)


@dataclass(slots=True)
class AgentRecord:
    agent_id: str
    skills: frozenset[str]
    seq: int
    state: AgentState
    since: float
    idle_since: float
    call_id: str | None = None
    """The call offered to or being handled by this agent (kept through wrap-up)."""
    call_queue: str | None = None
    call_started_at: float | None = None
    break_reason: str | None = None
    break_after_wrap_up: bool = False
    wrap_up_until: float | None = None


@dataclass(frozen=True, slots=True)
class CallbackTask:
    """A caller who asked to be called back instead of waiting; shown on the desk."""

    task_id: str
    call_id: str
    caller_ref: str = field(repr=False)
    """What the session passed to reach the caller again; never logged."""
    queue: str
    priority: str
    reason: str
    language: str
    summary: dict[str, Any] = field(repr=False)
    enqueued_at: float
    created_at: float

    @property
    def waited_s(self) -> float:
        return self.created_at - self.enqueued_at


# --------------------------------------------------------------------------- views


@dataclass(frozen=True, slots=True)
class WaitEstimate:
    """What a waiting caller is told: their position, and the expected wait when we know it."""

    position: int
    """1 is next; 0 when the call is not waiting (any more)."""
    expected_wait_s: float | None
    """None means unknown: no agent with the skill is working."""
    agents: int
    """Agents with the skill who are available or working."""
    callback_offered: bool = False

    @property
    def expected_wait_min(self) -> int | None:
        """Whole minutes to speak, rounded up, at least 1."""
        if self.expected_wait_s is None:
            return None
        return max(1, math.ceil(self.expected_wait_s / 60))


@dataclass(frozen=True, slots=True)
class TicketView:
    call_id: str
    queue: str
    requested_queue: str
    priority: str
    reason: str
    language: str
    summary: dict[str, Any]
    state: str
    position: int
    enqueued_at: float
    waiting_s: float
    agent_id: str | None
    requeues: int
    at_head: bool
    callback_offered: bool
    max_wait_reached: bool


@dataclass(frozen=True, slots=True)
class AgentView:
    agent_id: str
    state: str
    since: float
    idle_since: float
    skills: tuple[str, ...]
    call_id: str | None
    break_reason: str | None
    break_after_wrap_up: bool
    wrap_up_until: float | None


@dataclass(frozen=True, slots=True)
class OfferView:
    agent_id: str
    call_id: str
    made_at: float
    expires_at: float


@dataclass(frozen=True, slots=True)
class QueueView:
    name: str
    waiting: int
    """Calls waiting or being offered."""
    agents: int
    """Agents with the skill who are available or working."""
    available: int
    average_handle_s: float


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The true current state, for a desk that (re)connects."""

    at: float
    queues: tuple[QueueView, ...]
    tickets: tuple[TicketView, ...]
    """In serving order per queue."""
    agents: tuple[AgentView, ...]
    offers: tuple[OfferView, ...]
    callbacks: tuple[CallbackTask, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; callback tasks carry the caller reference (the desk needs it)."""
        return {
            "at": self.at,
            "queues": [plain(q) for q in self.queues],
            "tickets": [plain(t) for t in self.tickets],
            "agents": [plain(a) for a in self.agents],
            "offers": [plain(o) for o in self.offers],
            "callbacks": [plain(c) | {"waited_s": c.waited_s} for c in self.callbacks],
        }


# --------------------------------------------------------------------------- errors


class AcdError(Exception):
    """A request the distributor refuses; the message says why."""


class UnknownAgent(AcdError):
    def __init__(self, agent_id: str) -> None:
        super().__init__(f"unknown agent {agent_id!r} (not logged in since the gateway started)")


class UnknownCall(AcdError):
    def __init__(self, call_id: str) -> None:
        super().__init__(f"call {call_id!r} is not in the queue")


class DuplicateCall(AcdError):
    def __init__(self, call_id: str) -> None:
        super().__init__(f"call {call_id!r} is already in the queue")


class UnknownSkill(AcdError):
    def __init__(self, skills: set[str], known: tuple[str, ...]) -> None:
        super().__init__(
            f"unknown skill(s) {sorted(skills)}: skills are queue names, one of {list(known)}"
        )


class IllegalTransition(AcdError):
    def __init__(self, agent_id: str, action: str, state: AgentState, allowed: str) -> None:
        self.agent_id, self.action, self.state = agent_id, action, state
        super().__init__(
            f"agent {agent_id!r} cannot {action} while {state.value} (only while {allowed})"
        )


class StaleOffer(AcdError):
    """Accept/decline for an offer that is no longer this agent's (timed out, withdrawn)."""

    def __init__(self, agent_id: str, call_id: str) -> None:
        super().__init__(
            f"no offer of call {call_id!r} to agent {agent_id!r} (expired or withdrawn)"
        )


class CallbackNotOffered(AcdError):
    def __init__(self, call_id: str, why: str) -> None:
        super().__init__(f"call {call_id!r} cannot ask for a callback: {why}")


def plain(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        out[f.name] = value.value if isinstance(value, Enum) else value
    return out
