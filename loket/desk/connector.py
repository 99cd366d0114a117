"""Putting an accepted call through to its agent, and onward from there.

The agent first hears the spoken summary (Dutch) while the caller hears that they
are being connected; then the two are bridged. The agent can mute, hang up, or
transfer: to another queue (the summary and their note travel with the call) or to
another organisation's SIP URI — REFER where the caller's side accepts it, else a
call we place and bridge, with the context in an ``X-Loket-Summary`` header.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from config.settings import Settings
from loket.desk.hub import ActiveCall, DeskHub
from telephony.agent_queue import Ticket
from telephony.call import Call
from telephony.calls import CallManager
from telephony.outbound import DialFailed, dial, refer, summary_header
from voice.bridge import Bridge
from voice.session import CallLike
from voice.speaker import Speaker
from voice.waiting import Connected

log = logging.getLogger(__name__)

MEDIA_WAIT_S = 10.0


class Recorder(Protocol):
    def event(self, call_id: str, kind: str, **data: Any) -> None: ...


class DeskConnector:
    def __init__(
        self,
        hub: DeskHub,
        speaker: Speaker,
        settings: Settings,
        records: Recorder,
        calls: CallManager | None,
    ) -> None:
        self.hub = hub
        self.speaker = speaker
        self.settings = settings
        self.records = records
        self.calls = calls

    async def _first(self, call: CallLike, ticket: Ticket, *aws: asyncio.Future[Any]) -> str:
        """Wait for *aws*, the end of the call, or the agent being lost."""
        ended: asyncio.Future[Any] = asyncio.ensure_future(call.ended.wait())
        lost: asyncio.Future[Any] = asyncio.ensure_future(asyncio.shield(ticket.requeued))
        try:
            await asyncio.wait({ended, lost, *aws}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            ended.cancel()
            lost.cancel()
        if call.ended.is_set():
            return "ended"
        if ticket.requeued.done():
            return "requeued"
        return "other"

    async def _lose_agent(self, agent_id: str, ticket: Ticket) -> Connected:
        self.hub.queue.disconnect(agent_id)
        await asyncio.shield(ticket.requeued)
        return Connected("requeued")

    async def connect(
        self, call: CallLike, ticket: Ticket, agent_id: str, language: str
    ) -> Connected:
        desk = self.hub.desks.get(agent_id)
        if desk is None:
            return await self._lose_agent(agent_id, ticket)
        try:
            await asyncio.wait_for(desk.media_ready.wait(), MEDIA_WAIT_S)
        except TimeoutError:
            return await self._lose_agent(agent_id, ticket)
        leg = desk.leg
        assert leg is not None
        active = ActiveCall(call.id, agent_id, language)
        desk.call = active
        self.hub.push()
        bridge: Bridge | None = None
        try:
            texts = self.settings.languages[language]  # type: ignore[index]
            summary = str(ticket.summary.get("spoken") or "Een beller uit de wachtrij.")
            whisper = asyncio.ensure_future(
                asyncio.gather(
                    self.speaker.say(call.stream, texts.connecting, language),
                    self.speaker.say(leg.media, summary, "nl"),
                )
            )
            outcome = await self._first(call, ticket, whisper)
            if outcome != "other":
                whisper.cancel()
                return Connected(outcome)  # type: ignore[arg-type]
            bridge = Bridge(call.stream, leg.media)
            active.phase = "talking"
            self.records.event(call.id, "bridged", agent=agent_id)
            self.hub.push()
            while True:
                command = asyncio.ensure_future(active.commands.get())
                outcome = await self._first(call, ticket, command)
                if outcome != "other":
                    command.cancel()
                    return Connected(outcome)  # type: ignore[arg-type]
                result = await self._command(call, ticket, active, bridge, command.result())
                if result is not None:
                    return result
        finally:
            if bridge is not None:
                bridge.stop()
            if desk.call is active:
                desk.call = None
            self.hub.push()

    async def _command(
        self,
        call: CallLike,
        ticket: Ticket,
        active: ActiveCall,
        bridge: Bridge,
        command: dict[str, Any],
    ) -> Connected | None:
        kind = command.get("type")
        if kind == "mute":
            active.muted = bool(command.get("on", True))
            bridge.mute("b", active.muted)
            self.hub.push()
            return None
        if kind == "hangup":
            self.records.event(call.id, "agent_hung_up", agent=active.agent_id)
            call.hangup("agent")
            return Connected("ended")
        note = str(command.get("note", ""))[:1000]
        if command.get("queue"):
            queue = str(command["queue"])
            self.records.event(call.id, "transfer", agent=active.agent_id, queue=queue, note=note)
            return Connected("transfer", queue=queue, note=note)
        uri = str(command.get("uri", ""))
        if uri:
            if await self._external(call, ticket, active, bridge, uri, note):
                return Connected("ended")
            return None
        return None

    async def _external(
        self,
        call: CallLike,
        ticket: Ticket,
        active: ActiveCall,
        bridge: Bridge,
        uri: str,
        note: str,
    ) -> bool:
        """Hand the caller to another organisation; False (back to the agent) if that fails."""
        active.phase = "transferring"
        self.hub.push()
        texts = self.settings.languages[active.language]  # type: ignore[index]
        bridge.pause()
        await self.speaker.say(call.stream, texts.transferring, active.language)
        spoken = str(ticket.summary.get("spoken", ""))
        context = summary_header(" ".join(part for part in (spoken, note) if part))
        headers = {"X-Loket-Summary": context} if context else {}
        if isinstance(call, Call) and self.calls is not None:
            if await refer(self.calls, call, uri):
                self.records.event(call.id, "transferred", method="refer", target=uri)
                self.hub.queue.call_ended(call.id)  # the agent is free (wrap-up)
                return True
        if self.calls is None:
            return self._transfer_failed(call, active, bridge, uri, "no SIP")
        try:
            other = await dial(self.calls, uri, headers=headers)
        except DialFailed as exc:
            return self._transfer_failed(call, active, bridge, uri, str(exc))
        self.records.event(call.id, "transferred", method="invite", target=uri)
        self.hub.queue.call_ended(call.id)
        desk = self.hub.desks.get(active.agent_id)
        if desk is not None and desk.call is active:
            desk.call = None
            self.hub.push()
        bridge.stop()
        onward = Bridge(call.stream, other.stream)
        try:
            ended = asyncio.ensure_future(call.ended.wait())
            gone = asyncio.ensure_future(other.ended.wait())
            await asyncio.wait({ended, gone}, return_when=asyncio.FIRST_COMPLETED)
            ended.cancel()
            gone.cancel()
        finally:
            onward.stop()
            call.hangup("transfer ended")
            other.hangup("transfer ended")
        return True

    def _transfer_failed(
        self, call: CallLike, active: ActiveCall, bridge: Bridge, uri: str, why: str
    ) -> bool:
        self.records.event(call.id, "transfer_failed", target=uri, detail=why)
        desk = self.hub.desks.get(active.agent_id)
        if desk is not None:
            desk.notice = f"Doorverbinden naar {uri} lukte niet ({why}); de beller is weer bij u."
        active.phase = "talking"
        bridge.resume()
        self.hub.push()
        return False
