"""From SIP events to calls: negotiate media, ring, answer, run a session, clean up."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from telephony.call import Call
from telephony.rtp import MediaClock, PortsExhausted, RtpPortPool, RtpStream
from telephony.sip import events as ev
from telephony.sip.core import CoreConfig, SipCore
from telephony.sip.dialog_store import DialogStore
from telephony.sip.endpoint import SipEndpoint
from telephony.sip.sdp import MediaPlan, SdpError, answer_offer, make_offer, plan_from_answer
from telephony.sip.selfcheck import SelfCheck

log = logging.getLogger(__name__)

SessionRunner = Callable[[Call], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class TelephonyConfig:
    sip_host: str
    sip_port: int
    transports: list[str]
    public_host: str | None
    max_calls: int
    user_agent: str
    ring_ms: int
    rtp_host: str
    rtp_port_min: int
    rtp_port_max: int
    codecs: list[str]
    no_media_timeout_s: float
    selfcheck_s: float = 5.0
    dialogs_dir: Path | None = None
    """Answered dialogs are kept here for a BYE after a crash; None: not kept."""


@dataclass(eq=False)
class _Pending:
    call_id: str
    stream: RtpStream
    port: int
    local_ip: str
    caller: str
    late_offer: bool
    answer_task: asyncio.Task[None] | None = None


class CallManager:
    """Owns the SIP endpoint, the RTP ports and the calls in progress."""

    def __init__(self, config: TelephonyConfig, run_session: SessionRunner) -> None:
        self.config = config
        self.run_session = run_session
        self.core = SipCore(CoreConfig(user_agent=config.user_agent, max_calls=config.max_calls))
        self.endpoint = SipEndpoint(
            self.core,
            self._on_event,
            host=config.sip_host,
            port=config.sip_port,
            transports=config.transports,
            public_host=config.public_host,
        )
        self.selfcheck = SelfCheck(
            config.sip_host, config.sip_port, config.transports, interval_s=config.selfcheck_s
        )
        self.ports = RtpPortPool(config.rtp_host, config.rtp_port_min, config.rtp_port_max)
        self.clock = MediaClock()
        self.calls: dict[str, Call] = {}
        self._pending: dict[str, _Pending] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._watchdog: asyncio.Task[None] | None = None
        self.calls_total = 0
        self._answered_mono: dict[str, float] = {}
        self._idle = asyncio.Event()
        self._watchers: dict[str, list[Callable[[ev.Event], None]]] = {}
        self.dialog_store = (
            DialogStore(config.dialogs_dir, background=True) if config.dialogs_dir else None
        )
        self.ended_after_restart = 0
        """Calls a previous process left up, ended with a BYE at this start."""

    def watch(self, call_id: str, fn: Callable[[ev.Event], None]) -> Callable[[], None]:
        """Hear every SIP event of one call (transfers wait on them); returns the unwatch."""
        self._watchers.setdefault(call_id, []).append(fn)

        def unwatch() -> None:
            fns = self._watchers.get(call_id, [])
            if fn in fns:
                fns.remove(fn)
            if not fns:
                self._watchers.pop(call_id, None)

        return unwatch

    def _update_idle(self) -> None:
        if self.calls or self._pending:
            self._idle.clear()
        else:
            self._idle.set()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        await self.endpoint.start()
        self._end_left_dialogs()
        self.selfcheck.port = self.endpoint.port
        await self.selfcheck.check_once()  # readiness is known before the first /healthz
        self.selfcheck.start(self.endpoint.port)
        self._watchdog = asyncio.get_running_loop().create_task(self._media_watchdog())

    def _end_left_dialogs(self) -> None:
        """BYE for every call the previous process answered and never ended (kill -9)."""
        if self.dialog_store is None:
            return
        for dialog in self.dialog_store.take_all():
            if self.core.adopt(dialog):
                self.core.hangup(dialog.call_id, self.endpoint.now, "gateway restarted")
                self.ended_after_restart += 1
        if self.ended_after_restart:
            log.warning("sip.ended_after_restart", extra={"calls": self.ended_after_restart})
        self.endpoint.flush()

    async def drain(self) -> None:
        """Stop taking calls (new INVITEs get 503) and wait until none is left.

        The caller bounds the wait with ``asyncio.timeout``.
        """
        self.core.accepting = False
        self._update_idle()
        await self._idle.wait()

    async def stop(self) -> None:
        self.core.accepting = False
        for call in list(self.calls.values()):
            call.hangup("shutdown")
        for pending in list(self._pending.values()):
            self.core.reject(pending.call_id, 503, self.endpoint.now, headers={"Retry-After": "30"})
        self.endpoint.flush()
        await asyncio.sleep(0.05)  # let the BYEs leave
        if self._watchdog is not None:
            self._watchdog.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.clock.stop()
        await self.selfcheck.stop()
        await self.endpoint.stop()
        if self.dialog_store is not None:
            await asyncio.to_thread(self.dialog_store.close)

    def _spawn(self, coro: Awaitable[None], name: str) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ------------------------------------------------------------------ SIP events

    def _on_event(self, event: ev.Event) -> None:
        for fn in list(self._watchers.get(event.call_id, ())):
            fn(event)
        if isinstance(event, ev.IncomingCall):
            self._on_incoming(event)
        elif isinstance(event, ev.CallConfirmed):
            self._on_confirmed(event)
        elif isinstance(event, ev.CallEnded):
            self._on_ended(event)
        elif isinstance(event, ev.SessionOffer):
            self._on_session_offer(event)
        elif isinstance(event, ev.Dtmf):
            call = self.calls.get(event.call_id)
            if call is not None:
                call.dtmf(event.digit)
        elif isinstance(event, ev.CallCancelled):
            log.info("call.cancelled")

    def _on_incoming(self, event: ev.IncomingCall) -> None:
        now = self.endpoint.now
        local_ip = event.local[0]
        try:
            rtp_sock, rtcp_sock, port = self.ports.bind_pair()
        except PortsExhausted:
            log.warning("call.no_rtp_ports")
            self.core.reject(event.call_id, 503, now, headers={"Retry-After": "30"})
            return
        try:
            if event.offer is not None:
                answer, plan = answer_offer(event.offer, self.config.codecs, local_ip, port)
            else:
                answer = make_offer(self.config.codecs, local_ip, port)
                plan = MediaPlan(("0.0.0.0", 0), 0, "PCMU", 8000, None, 20, "sendrecv")
        except SdpError as err:
            rtp_sock.close()
            rtcp_sock.close()
            self.ports.release(port)
            log.info("call.sdp_rejected", extra={"status": err.status, "detail": err.detail})
            self.core.reject(event.call_id, err.status, now, reason=None)
            return
        stream = RtpStream(plan, port)
        caller = event.request.from_addr.uri.user or event.request.from_addr.uri.host
        pending = _Pending(event.call_id, stream, port, local_ip, caller, event.offer is None)
        self._pending[event.call_id] = pending
        pending.answer_task = self._spawn(
            self._ring_and_answer(pending, answer, rtp_sock, rtcp_sock), f"answer-{event.call_id}"
        )

    async def _ring_and_answer(
        self, pending: _Pending, answer: bytes, rtp_sock: socket.socket, rtcp_sock: socket.socket
    ) -> None:
        try:
            await pending.stream.open(rtp_sock, rtcp_sock)
        except OSError:
            self._release(pending)
            self.core.reject(pending.call_id, 500, self.endpoint.now)
            self.endpoint.flush()
            return
        self.core.ring(pending.call_id, self.endpoint.now)
        self.endpoint.flush()
        if self.config.ring_ms:
            await asyncio.sleep(self.config.ring_ms / 1000)
        if pending.call_id not in self._pending:
            return  # cancelled while ringing
        self.core.accept(pending.call_id, answer, self.endpoint.now)
        self.endpoint.flush()

    def _on_confirmed(self, event: ev.CallConfirmed) -> None:
        pending = self._pending.pop(event.call_id, None)
        if pending is None:
            return
        if pending.late_offer:
            try:
                plan = plan_from_answer(event.answer or b"", self.config.codecs)
            except SdpError:
                self._release(pending)
                self.core.hangup(event.call_id, self.endpoint.now, "bad SDP answer")
                self.endpoint.flush()
                return
            pending.stream.update(plan)
        call = Call(event.call_id, pending.caller, "sip", pending.stream, _hangup=self._hangup)
        call.answered_at = call.started_at
        dialog = self.core.dialogs.get(event.call_id)
        if self.dialog_store is not None and dialog is not None:
            self.dialog_store.save(dialog)
        pending.stream.on_dtmf = lambda digit, _ms: call.dtmf(digit)
        self.calls[call.sip_call_id] = call
        self._answered_mono[call.sip_call_id] = self.endpoint.now
        self.calls_total += 1
        self.clock.add(pending.stream)
        log.info("call.answered", extra={"call": call.id, "codec": pending.stream.plan.codec})
        self._spawn(self._session(call), f"session-{call.id}")

    def adopt_outgoing(self, call_id: str, target: str, stream: RtpStream) -> Call:
        """A call we placed was answered: track it like any other (BYE, watchdog, ports)."""
        call = Call(call_id, target, "sip-out", stream, _hangup=self._hangup)
        call.answered_at = call.started_at
        stream.on_dtmf = lambda digit, _ms: call.dtmf(digit)
        self.calls[call_id] = call
        self._answered_mono[call_id] = self.endpoint.now
        self.clock.add(stream)
        self._update_idle()
        return call

    async def _session(self, call: Call) -> None:
        try:
            await self.run_session(call)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The session owns "never lose a caller"; if it still crashed, the
            # least bad thing is to end the call cleanly rather than leave dead air.
            log.exception("call.session_crashed", extra={"call": call.id})
            call.hangup("session crashed")
        finally:
            if not call.ended.is_set():
                call.hangup("session ended")

    def _hangup(self, call: Call, reason: str) -> None:
        self.core.hangup(call.sip_call_id, self.endpoint.now, reason)
        self.endpoint.flush()

    def _on_ended(self, event: ev.CallEnded) -> None:
        pending = self._pending.pop(event.call_id, None)
        if pending is not None:
            if pending.answer_task is not None and not pending.answer_task.done():
                pending.answer_task.cancel()
            self._release(pending)
        call = self.calls.pop(event.call_id, None)
        self._answered_mono.pop(event.call_id, None)
        if call is not None:
            self.clock.remove(call.stream)
            call.mark_ended(event.by, event.reason)
            self.ports.release(call.stream.port)
        if self.dialog_store is not None and call is not None:
            self.dialog_store.remove(event.call_id)
        self.core.forget(event.call_id)
        self._update_idle()
        log.info(
            "call.ended",
            extra={"call": call.id if call else None, "by": event.by, "reason": event.reason},
        )

    def _release(self, pending: _Pending) -> None:
        pending.stream.close()
        self.ports.release(pending.port)

    def _on_session_offer(self, event: ev.SessionOffer) -> None:
        now = self.endpoint.now
        call = self.calls.get(event.call_id)
        method = event.request.method.upper()
        if call is None:
            self.core.answer_session(
                event, 491 if event.call_id in self._pending else 481, None, now
            )
            return
        if event.offer is None:
            # Session refresh. A re-INVITE without SDP asks us to offer: repeat ours.
            body = None
            if method == "INVITE":
                body = make_offer([call.stream.plan.codec], self._local_ip(call), call.stream.port)
            self.core.answer_session(event, 200, body, now)
            return
        try:
            answer, plan = answer_offer(
                event.offer, self.config.codecs, self._local_ip(call), call.stream.port
            )
        except SdpError as err:
            self.core.answer_session(event, err.status, None, now)
            return
        call.stream.update(plan)
        call.held = not plan.we_send
        self.core.answer_session(event, 200, answer, now)

    def _local_ip(self, call: Call) -> str:
        dialog = self.core.dialogs.get(call.sip_call_id)
        return dialog.local_host if dialog else "127.0.0.1"

    async def _media_watchdog(self) -> None:
        """End calls whose caller has gone silent at the RTP level (a dead peer)."""
        loop = asyncio.get_running_loop()
        limit = self.config.no_media_timeout_s
        while True:
            await asyncio.sleep(min(5.0, limit / 2))
            now = loop.time()
            for call_id, call in list(self.calls.items()):
                stream = call.stream
                if call.held or stream.plan.direction != "sendrecv":
                    continue
                since = stream.last_rx or self._answered_mono.get(call_id, now)
                if now - since > limit:
                    log.info(
                        "call.no_media", extra={"call": call.id, "idle_s": round(now - since, 1)}
                    )
                    call.hangup("no media")
