"""What the SIP core reports to the application."""

from __future__ import annotations

from dataclasses import dataclass

from telephony.sip.message import ParsedRequest
from telephony.sip.transaction import Peer


@dataclass(frozen=True, slots=True)
class IncomingCall:
    """A new INVITE: answer with ring/accept/reject on the core."""

    call_id: str
    request: ParsedRequest
    peer: Peer
    local: tuple[str, int]
    """The address it reached us on."""
    offer: bytes | None
    """The SDP offer, or None for a late offer (we offer in the 200)."""


@dataclass(frozen=True, slots=True)
class CallConfirmed:
    """The ACK arrived. ``answer`` is the SDP answer of a late-offer call."""

    call_id: str
    answer: bytes | None


@dataclass(frozen=True, slots=True)
class CallCancelled:
    call_id: str


@dataclass(frozen=True, slots=True)
class CallEnded:
    """The dialog is over. ``by``: caller, gateway or timeout."""

    call_id: str
    by: str
    reason: str


@dataclass(frozen=True, slots=True)
class SessionOffer:
    """A re-INVITE or UPDATE (hold, unhold, refresh): answer with ``answer_session``."""

    call_id: str
    request: ParsedRequest
    offer: bytes | None


@dataclass(frozen=True, slots=True)
class Dtmf:
    call_id: str
    digit: str
    duration_ms: int
    via: str  # "info" | "rfc4733"


@dataclass(frozen=True, slots=True)
class RequestDone:
    """A request we sent got its final response (408 when it timed out)."""

    call_id: str
    method: str
    status: int


@dataclass(frozen=True, slots=True)
class OutgoingProgress:
    """A provisional response to a call we placed (180 Ringing, 183)."""

    call_id: str
    status: int


@dataclass(frozen=True, slots=True)
class OutgoingAnswered:
    call_id: str
    answer: bytes | None


@dataclass(frozen=True, slots=True)
class OutgoingFailed:
    call_id: str
    status: int
    reason: str


@dataclass(frozen=True, slots=True)
class ReferNotify:
    """Progress of a transfer we asked for with REFER (RFC 3515): the sipfrag status."""

    call_id: str
    status: int
    final: bool


Event = (
    IncomingCall
    | CallConfirmed
    | CallCancelled
    | CallEnded
    | SessionOffer
    | Dtmf
    | RequestDone
    | OutgoingProgress
    | OutgoingAnswered
    | OutgoingFailed
    | ReferNotify
)
