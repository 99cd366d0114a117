"""SIP transactions (RFC 3261 §17, RFC 6026), sans-IO.

Each transaction holds the bytes it last sent and its timer deadlines; the
core asks it what to (re)send at time ``now``. Over TCP nothing is
retransmitted and the wait timers are zero, as §17 prescribes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

T1 = 0.5  # RTT estimate
T2 = 4.0  # maximum retransmit interval for non-INVITE requests and INVITE responses
T4 = 5.0  # maximum duration a message remains in the network


class TxState(enum.Enum):
    TRYING = "trying"
    PROCEEDING = "proceeding"
    COMPLETED = "completed"
    CONFIRMED = "confirmed"
    ACCEPTED = "accepted"  # RFC 6026: 2xx sent to INVITE, absorbing retransmissions
    TERMINATED = "terminated"


@dataclass(frozen=True, slots=True)
class Peer:
    """Where a message came from / goes to. ``conn`` identifies a TCP connection."""

    transport: str  # "udp" | "tcp"
    host: str
    port: int
    conn: int = 0

    @property
    def reliable(self) -> bool:
        return self.transport != "udp"

    @property
    def addr(self) -> tuple[str, int]:
        return self.host, self.port


@dataclass(slots=True)
class ServerTransaction:
    """INVITE or non-INVITE server transaction."""

    key: tuple[str, ...]
    method: str
    peer: Peer
    destination: Peer
    """Where responses go (Via-routed for UDP, the same connection for TCP)."""
    state: TxState = TxState.PROCEEDING
    last_response: bytes | None = None
    last_status: int = 0
    retransmit_at: float | None = None
    interval: float = T1
    ends_at: float | None = None
    acked: bool = False
    timed_out: bool = False

    @property
    def is_invite(self) -> bool:
        return self.method == "INVITE"

    def respond(self, data: bytes, status: int, now: float) -> None:
        """Record a response being sent and move the state machine on."""
        if self.state in (TxState.COMPLETED, TxState.CONFIRMED, TxState.TERMINATED):
            return
        if self.state is TxState.ACCEPTED and not 200 <= status < 300:
            return
        self.last_response = data
        self.last_status = status
        if status < 200:
            self.state = TxState.PROCEEDING
            return
        reliable = self.peer.reliable
        if not self.is_invite:
            self.state = TxState.COMPLETED
            self.ends_at = now + (0.0 if reliable else 64 * T1)  # Timer J
            return
        if status < 300:
            # RFC 6026 Accepted: retransmit the 2xx until the ACK (Timer G pacing
            # as §13.3.1.4 asks of the TU), give up after Timer L.
            self.state = TxState.ACCEPTED
            self.ends_at = now + 64 * T1
        else:
            self.state = TxState.COMPLETED
            self.ends_at = now + 64 * T1  # Timer H
        if not reliable:
            self.interval = T1
            self.retransmit_at = now + T1
        elif status >= 300:
            self.retransmit_at = None

    def on_retransmission(self) -> bytes | None:
        """The same request arrived again: resend the last response (if any)."""
        if self.state is TxState.TERMINATED or self.state is TxState.CONFIRMED:
            return None
        return self.last_response

    def on_ack(self, now: float) -> None:
        self.acked = True
        self.retransmit_at = None
        if self.state is TxState.COMPLETED:
            self.state = TxState.CONFIRMED
            self.ends_at = now + (0.0 if self.peer.reliable else T4)  # Timer I
        elif self.state is TxState.ACCEPTED:
            # Stay a while to absorb INVITE retransmissions crossing the ACK.
            self.ends_at = min(self.ends_at or now, now + T4)

    def next_deadline(self) -> float | None:
        times = [t for t in (self.retransmit_at, self.ends_at) if t is not None]
        return min(times) if times else None

    def on_timer(self, now: float) -> bytes | None:
        """Advance timers; returns bytes to retransmit, if any."""
        if self.ends_at is not None and now >= self.ends_at:
            if self.state in (TxState.ACCEPTED, TxState.COMPLETED) and not self.acked:
                if self.is_invite:
                    self.timed_out = True  # no ACK: the TU ends the call
            self.state = TxState.TERMINATED
            self.retransmit_at = self.ends_at = None
            return None
        if self.retransmit_at is not None and now >= self.retransmit_at:
            self.interval = min(2 * self.interval, T2)
            self.retransmit_at = now + self.interval
            return self.last_response
        return None


@dataclass(slots=True)
class ClientTransaction:
    """Non-INVITE client transaction (§17.1.2): our BYE, INFO, NOTIFY."""

    branch: str
    method: str
    data: bytes
    peer: Peer
    call_id: str
    started: float
    state: TxState = TxState.TRYING
    retransmit_at: float | None = None
    interval: float = T1
    ends_at: float = 0.0
    final_status: int = 0
    waiters: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ends_at = self.started + 64 * T1  # Timer F
        if not self.peer.reliable:
            self.retransmit_at = self.started + T1  # Timer E

    def on_response(self, status: int, now: float) -> bool:
        """Returns True for the first final response (the TU hears about it once)."""
        if self.state in (TxState.COMPLETED, TxState.TERMINATED):
            return False
        if status < 200:
            self.state = TxState.PROCEEDING
            return False
        self.state = TxState.COMPLETED
        self.final_status = status
        self.retransmit_at = None
        self.ends_at = now + (0.0 if self.peer.reliable else T4)  # Timer K
        return True

    def next_deadline(self) -> float | None:
        if self.state is TxState.TERMINATED:
            return None
        times = [t for t in (self.retransmit_at, self.ends_at) if t is not None]
        return min(times) if times else None

    def on_timer(self, now: float) -> tuple[bytes | None, bool]:
        """(bytes to retransmit, timed out now)."""
        if now >= self.ends_at:
            timed_out = self.state in (TxState.TRYING, TxState.PROCEEDING)
            self.state = TxState.TERMINATED
            self.retransmit_at = None
            if timed_out:
                self.final_status = 408
            return None, timed_out
        if self.retransmit_at is not None and now >= self.retransmit_at:
            if self.state is TxState.PROCEEDING:
                self.interval = T2
            else:
                self.interval = min(2 * self.interval, T2)
            self.retransmit_at = now + self.interval
            return self.data, False
        return None, False


@dataclass(slots=True)
class ClientInviteTransaction:
    """Our INVITE (§17.1.1): Timer A retransmits, Timer B gives up, Timer D absorbs."""

    branch: str
    data: bytes
    peer: Peer
    call_id: str
    started: float
    state: TxState = TxState.TRYING  # "calling"
    retransmit_at: float | None = None
    interval: float = T1
    ends_at: float | None = None
    final_status: int = 0
    ack: bytes | None = None
    """The ACK for a non-2xx final, resent when that final is retransmitted."""

    def __post_init__(self) -> None:
        self.ends_at = self.started + 64 * T1  # Timer B
        if not self.peer.reliable:
            self.retransmit_at = self.started + T1  # Timer A

    def on_provisional(self) -> None:
        if self.state is TxState.TRYING:
            self.state = TxState.PROCEEDING
            self.retransmit_at = None
            self.ends_at = None  # the TU decides how long to ring (CANCEL)

    def on_final(self, status: int, ack: bytes | None, now: float) -> bool:
        """True the first time a final response arrives."""
        first = self.state in (TxState.TRYING, TxState.PROCEEDING)
        self.retransmit_at = None
        if first:
            self.final_status = status
        if status >= 300:
            self.ack = ack
            self.state = TxState.COMPLETED
            self.ends_at = now + (0.0 if self.peer.reliable else 32.0)  # Timer D
        else:
            self.state = TxState.TERMINATED
            self.ends_at = None
        return first

    def next_deadline(self) -> float | None:
        times = [t for t in (self.retransmit_at, self.ends_at) if t is not None]
        return min(times) if times else None

    def on_timer(self, now: float) -> tuple[bytes | None, bool]:
        """(bytes to retransmit, timed out now)."""
        if self.ends_at is not None and now >= self.ends_at:
            timed_out = self.state is TxState.TRYING
            self.state = TxState.TERMINATED
            self.retransmit_at = self.ends_at = None
            if timed_out:
                self.final_status = 408
            return None, timed_out
        if self.retransmit_at is not None and now >= self.retransmit_at:
            self.interval *= 2
            self.retransmit_at = now + self.interval
            return self.data, False
        return None, False
