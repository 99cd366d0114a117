"""A phone call as the rest of Loket sees it: media, DTMF, and hang-up as a method."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from telephony.rtp import RtpStream


@dataclass(eq=False)
class Call:
    """One answered (or answering) call.

    Hang-up is a method call, never a message through the pipeline: whoever
    decides the call is over calls :meth:`hangup`; everyone waiting on
    :attr:`ended` wakes up.
    """

    sip_call_id: str
    """The SIP Call-ID (it often holds the caller's host): internal only."""
    caller: str
    """The caller's identity (From user or number); stored only hashed."""
    channel: str
    stream: RtpStream
    id: str = field(default_factory=lambda: secrets.token_hex(8))
    """Loket's own call id: in records, logs and the Rasa conversation."""
    started_at: float = field(default_factory=time.time)
    answered_at: float | None = None
    ended_at: float | None = None
    ended_by: str | None = None
    end_reason: str | None = None
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    on_dtmf: Callable[[str], None] | None = None
    _hangup: Callable[[Call, str], None] | None = None
    held: bool = False

    def hangup(self, reason: str = "bot") -> None:
        """End the call from our side (BYE). Safe to call more than once."""
        if self.ended.is_set() or self._hangup is None:
            return
        self._hangup(self, reason)

    def mark_ended(self, by: str, reason: str) -> None:
        if self.ended.is_set():
            return
        self.ended_at = time.time()
        self.ended_by = by
        self.end_reason = reason
        self.stream.close()
        self.ended.set()

    def dtmf(self, digit: str) -> None:
        if self.on_dtmf is not None and not self.ended.is_set():
            self.on_dtmf(digit)
