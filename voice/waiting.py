"""A caller waiting for an agent: hold audio, announcements, callback, connection.

Never dead silence: hold audio plays whenever nothing else is said. The caller hears
their position and the expected wait every ``hold_announcement_every_s``; from the
first announcement on, key 1 turns the call into a callback task. Past the maximum
wait the callback is offered again; at twice that wait the call ends politely.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from telephony.acd_model import AcdError, WaitEstimate
from telephony.agent_queue import Ticket

if TYPE_CHECKING:
    from voice.session import CallLike, CallSession

log = logging.getLogger(__name__)

CALLBACK_KEY = "1"


@dataclass(frozen=True, slots=True)
class Connected:
    """How an agent's part of a call ended."""

    outcome: Literal["ended", "requeued", "transfer"]
    """ended: the call is over; requeued: the agent was lost, the call is back at the
    head of its queue; transfer: the agent moved it to ``queue`` with ``note``."""
    queue: str | None = None
    note: str = ""


class AgentConnector(Protocol):
    """Puts an accepted call through to its agent (the desk implements it)."""

    async def connect(
        self, call: CallLike, ticket: Ticket, agent_id: str, language: str
    ) -> Connected:
        """Whisper the summary, bridge, and return when the agent's part is over."""
        ...


def wait_sentence(texts_one: str, texts_many: str, unknown: str, estimate: WaitEstimate) -> str:
    minutes = estimate.expected_wait_min
    if minutes is None:
        return unknown
    return texts_one if minutes == 1 else texts_many.format(minutes=minutes)


class Waiting:
    """One stay in the queue for one call (until an agent, a callback or the end)."""

    def __init__(self, session: CallSession, ticket: Ticket) -> None:
        self.session = session
        self.ticket = ticket
        self.queue = session.s.queue
        self.callback_possible = (
            session.settings.queue.callbacks and session.call.channel.startswith("sip")
        )
        self.announced = False
        self.offered_max_wait = False

    def announcement(self, estimate: WaitEstimate) -> str:
        texts = self.session.texts
        parts = [texts.queue_position.format(position=max(1, estimate.position))]
        parts.append(
            wait_sentence(
                texts.queue_wait_one, texts.queue_wait_many, texts.queue_wait_unknown, estimate
            )
        )
        if self.callback_possible:
            parts.append(texts.callback_offer)
        return " ".join(parts)

    async def run(self) -> str | None:
        """The agent's id once one accepted; None when the caller is done waiting."""
        s = self.session
        stream = s.call.stream
        loop = asyncio.get_running_loop()
        started = loop.time()
        every = s.settings.queue.hold_announcement_every_s
        give_up = 2 * s.settings.queue.max_wait_s
        next_announcement = started + every
        music = s.s.hold_audio(stream.sample_rate)
        s.listener.paused = True  # speech on hold is not a turn; keys still work
        max_wait = asyncio.ensure_future(self.ticket.max_wait_reached.wait())
        try:
            while True:
                if self.ticket.assigned.done() and not self.ticket.assigned.cancelled():
                    stream.flush()
                    return self.ticket.assigned.result()
                now = loop.time()
                if now - started >= give_up:
                    s.record("queue_timeout", waited_s=round(now - started))
                    await s.say(s.texts.no_agent, interruptible=False)
                    s.s.records.update_call(s.call.id, outcome="no_agent")
                    s.call.hangup("queue timeout")
                    return None
                if self.ticket.max_wait_reached.is_set() and not self.offered_max_wait:
                    self.offered_max_wait = True
                    now = next_announcement  # speak the (callback) announcement now
                if now >= next_announcement:
                    stream.flush()
                    estimate = self.queue.announce(self.ticket)
                    self.announced = True
                    s.record(
                        "announced", position=estimate.position, wait_s=estimate.expected_wait_s
                    )
                    await s.say(self.announcement(estimate), interruptible=False)
                    next_announcement = loop.time() + every
                if await self._keys():
                    return None
                piece = stream.play(music)
                deadline = min(next_announcement, started + give_up)
                while not piece.done() and loop.time() < deadline:
                    key = asyncio.ensure_future(s.inputs.get())
                    watch: list[asyncio.Future[Any]] = [piece, self.ticket.assigned, key]
                    if not self.offered_max_wait:
                        watch.append(max_wait)
                    try:
                        await s._wait(*watch, timeout=max(0.0, deadline - loop.time()))
                    finally:
                        if key.done():
                            s.inputs.put_nowait(key.result())
                        else:
                            key.cancel()
                    if self.ticket.assigned.done() or not s.inputs.empty():
                        break
                    if self.ticket.max_wait_reached.is_set() and not self.offered_max_wait:
                        break
        finally:
            max_wait.cancel()
            s.listener.paused = False

    async def _keys(self) -> bool:
        """Act on keys pressed while waiting; True when the caller chose a callback."""
        s = self.session
        while not s.inputs.empty():
            item = s.inputs.get_nowait()
            digit = getattr(item, "digit", None)
            if digit != CALLBACK_KEY or not self.callback_possible:
                continue  # speech and other keys do not end a wait
            if not (self.announced or self.ticket.max_wait_reached.is_set()):
                continue
            try:
                self.queue.request_callback(self.ticket, s.call.caller)
            except AcdError as exc:
                log.info("queue.callback_refused", extra={"call": s.call.id, "why": str(exc)})
                continue
            s.call.stream.flush()
            s.record("callback_requested", queue=self.ticket.queue)
            s.s.records.update_call(s.call.id, outcome="callback")
            await s.say(s.texts.callback_confirmed, interruptible=False)
            s.call.hangup("callback requested")
            return True
        return False
