"""The agent desk's live side: who is connected, their audio, and what each screen shows.

Every change in the call distributor pushes a fresh view to every connected desk
(debounced). Views are built from the distributor's snapshot, never from what a
screen last saw, so a reconnecting desk shows the true state and no ghost offers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from telephony.acd_model import AcdError, IllegalTransition
from telephony.agent_queue import InProcessQueue
from telephony.webrtc import WebRtcLeg, open_leg

log = logging.getLogger(__name__)

PUSH_DEBOUNCE_S = 0.05
AUDITED_MAX = 10_000
TRANSCRIPT_KINDS = {"caller_said": "caller", "bot_said": "bot"}


class Screen(Protocol):
    """A desk's WebSocket, as the hub needs it."""

    async def send_json(self, data: Any) -> None: ...


class RecordReader(Protocol):
    def events(self, call_id: str) -> list[dict[str, Any]]: ...

    def event(self, call_id: str, kind: str, **data: Any) -> None: ...

    def audit(
        self, who: str, action: str, call_id: str | None = None, why: str | None = None
    ) -> None: ...


@dataclass(eq=False)
class ActiveCall:
    """A call put through to an agent, and the agent's commands for it."""

    call_id: str
    agent_id: str
    language: str
    commands: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    connected_at: float = field(default_factory=time.time)
    muted: bool = False
    phase: str = "whisper"  # whisper → talking → transferring


@dataclass(eq=False)
class AgentDesk:
    name: str
    role: str
    skills: tuple[str, ...]
    screens: set[Screen] = field(default_factory=set)
    leg: WebRtcLeg | None = None
    media_ready: asyncio.Event = field(default_factory=asyncio.Event)
    call: ActiveCall | None = None
    notice: str | None = None
    watcher: asyncio.Future[None] | None = None


class DeskHub:
    def __init__(
        self, queue: InProcessQueue, records: RecordReader, *, ice_servers: list[str]
    ) -> None:
        self.queue = queue
        self.records = records
        self.ice_servers = ice_servers
        self.desks: dict[str, AgentDesk] = {}
        self.supervisors: set[Screen] = set()
        self._audited: set[tuple[str, str]] = set()
        """(agent, call) pairs whose record read is already in the audit log."""
        self._push_task: asyncio.Task[None] | None = None
        self._remove_listener = queue.add_listener(lambda _event: self.push())

    # ------------------------------------------------------------------ connections

    async def connect(self, name: str, role: str, skills: tuple[str, ...], screen: Screen) -> None:
        if role == "supervisor" and not skills:
            self.supervisors.add(screen)
            await self._send(screen, self.supervisor_view())
            return
        desk = self.desks.get(name)
        if desk is None:
            desk = self.desks[name] = AgentDesk(name, role, skills)
        first = not desk.screens
        desk.screens.add(screen)
        if role == "supervisor":
            self.supervisors.add(screen)
        if first:
            try:
                self.queue.login(name, skills, ready=False)  # on break until they choose
            except IllegalTransition:
                # still logged in from a connection we have not seen close: start clean
                self.queue.disconnect(name)
                self.queue.login(name, skills, ready=False)
        log.info("desk.connected", extra={"agent": name, "screens": len(desk.screens)})
        await self._send(screen, self.view_for(desk))

    async def disconnect(self, name: str, screen: Screen) -> None:
        self.supervisors.discard(screen)
        desk = self.desks.get(name)
        if desk is None:
            return
        desk.screens.discard(screen)
        if desk.screens:
            return
        # The agent's last screen is gone: an offer is withdrawn, a call goes back to
        # the head of its queue (the connector tells the caller), the agent is offline.
        self.queue.disconnect(name)
        if desk.leg is not None:
            await desk.leg.close()
            desk.leg = None
            desk.media_ready.clear()
        del self.desks[name]
        log.info("desk.disconnected", extra={"agent": name})
        self.push()

    async def open_media(self, name: str, sdp: str) -> str:
        """The agent's browser audio (kept while the desk is open, used for every call)."""
        desk = self.desks.get(name)
        if desk is None:
            raise LookupError("open the desk first")
        if desk.leg is not None:
            await desk.leg.close()
        answer, leg = await open_leg(sdp, self.ice_servers)
        desk.leg = leg
        desk.media_ready.set()
        desk.watcher = asyncio.ensure_future(self._watch_leg(desk, leg))
        self.push()
        return answer

    async def _watch_leg(self, desk: AgentDesk, leg: WebRtcLeg) -> None:
        await leg.closed.wait()
        if desk.leg is leg:
            desk.leg = None
            desk.media_ready.clear()
            if desk.call is not None:
                # audio gone mid-call counts as losing the agent
                self.queue.disconnect(desk.name)
            self.push()

    # ------------------------------------------------------------------ commands

    def command(self, name: str, message: dict[str, Any]) -> str | None:
        """A desk's request; returns an error text for that desk, or None."""
        desk = self.desks.get(name)
        if desk is None:
            return "not connected"
        kind = message.get("type")
        call_id = str(message.get("call_id", ""))
        try:
            if kind == "state":
                state = message.get("state")
                if state == "available":
                    if desk.leg is None:
                        return "connect your audio first (microphone)"
                    self.queue.set_available(name)
                elif state == "break":
                    self.queue.set_break(name, str(message.get("reason") or "break"))
                elif state == "wrap_up_done":
                    self.queue.finish_wrap_up(name)
                else:
                    return f"unknown state {state!r}"
            elif kind == "accept":
                self.queue.accept(name, call_id)
            elif kind == "decline":
                self.queue.decline(name, call_id)
            elif kind in ("hangup", "mute", "transfer"):
                if desk.call is None:
                    return "no call in progress"
                desk.call.commands.put_nowait(message)
            elif kind == "note":
                note = str(message.get("note", ""))[:4000]
                self.records.event(call_id, "wrap_up_note", agent=name, note=note)
            elif kind == "close_callback":
                task_id = str(message.get("task_id", ""))
                task = next((t for t in self.queue.callbacks() if t.task_id == task_id), None)
                self.queue.close_callback(task_id, name)
                if task is not None:  # for the figures: callbacks requested and done
                    self.records.event(task.call_id, "callback_done", agent=name, task=task_id)
            else:
                return f"unknown request {kind!r}"
        except AcdError as exc:
            return str(exc)
        self.push()
        return None

    # ------------------------------------------------------------------ views

    def push(self) -> None:
        """Send every screen a fresh view soon (changes come in bursts)."""
        if self._push_task is None or self._push_task.done():
            with contextlib.suppress(RuntimeError):
                self._push_task = asyncio.get_running_loop().create_task(self._push_later())

    async def _push_later(self) -> None:
        await asyncio.sleep(PUSH_DEBOUNCE_S)
        for desk in list(self.desks.values()):
            view = self.view_for(desk)
            for screen in list(desk.screens):
                await self._send(screen, view)
        if self.supervisors:
            view = self.supervisor_view()
            for screen in list(self.supervisors):
                await self._send(screen, view)

    async def _send(self, screen: Screen, view: dict[str, Any]) -> None:
        try:
            await screen.send_json(view)
        except Exception:  # a closing socket: its disconnect() follows
            log.debug("desk.send_failed")

    def transcript(self, call_id: str, reader: str) -> list[dict[str, str]]:
        """The call's lines for an agent's screen; the first read per agent is audited
        (views are pushed on every queue change, so not every push)."""
        if (reader, call_id) not in self._audited:
            if len(self._audited) >= AUDITED_MAX:  # a long run: forget, at worst audit twice
                self._audited.clear()
            self._audited.add((reader, call_id))
            self.records.audit(reader, "desk_read", call_id, "offered or connected call")
        lines = []
        for event in self.records.events(call_id):
            who = TRANSCRIPT_KINDS.get(str(event.get("kind")))
            text = event.get("text") or event.get("redacted")  # raw text purged: redacted
            if who and text:
                lines.append({"who": who, "text": str(text)})
        return lines

    def view_for(self, desk: AgentDesk) -> dict[str, Any]:
        snap = self.queue.snapshot().to_dict()
        me = next((a for a in snap["agents"] if a["agent_id"] == desk.name), None)
        mine = set(desk.skills)
        tickets = [t for t in snap["tickets"] if t["queue"] in mine or not mine]
        offer = next((o for o in snap["offers"] if o["agent_id"] == desk.name), None)
        if offer is not None:
            ticket = next((t for t in snap["tickets"] if t["call_id"] == offer["call_id"]), None)
            offer = {
                **offer,
                "ticket": ticket,
                "transcript": self.transcript(offer["call_id"], desk.name),
            }
        call = None
        if desk.call is not None:
            ticket = next((t for t in snap["tickets"] if t["call_id"] == desk.call.call_id), None)
            call = {
                "call_id": desk.call.call_id,
                "phase": desk.call.phase,
                "muted": desk.call.muted,
                "connected_at": desk.call.connected_at,
                "ticket": ticket,
                "transcript": self.transcript(desk.call.call_id, desk.name),
            }
        return {
            "type": "view",
            "at": snap["at"],
            "me": {
                "name": desk.name,
                "role": desk.role,
                "skills": list(desk.skills),
                "state": me["state"] if me else "offline",
                "since": me["since"] if me else None,
                "audio": desk.leg is not None,
                "wrap_up_until": me["wrap_up_until"] if me else None,
            },
            "queues": [q for q in snap["queues"] if q["name"] in mine or not mine],
            "waiting": tickets,
            "offer": offer,
            "call": call,
            "callbacks": [c for c in snap["callbacks"] if c["queue"] in mine or not mine],
            "notice": desk.notice,
        }

    def supervisor_view(self) -> dict[str, Any]:
        snap = self.queue.snapshot().to_dict()
        calls = [
            {
                "call_id": d.call.call_id,
                "agent": d.name,
                "phase": d.call.phase,
                "since": d.call.connected_at,
            }
            for d in self.desks.values()
            if d.call is not None
        ]
        return {"type": "supervisor", **snap, "connected_calls": calls}

    def close(self) -> None:
        self._remove_listener()
