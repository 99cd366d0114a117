"""A real SIP + RTP caller for tests and benchmarks (asyncio; many calls per process).

Usage::

    async with await dial("sip:helpline@127.0.0.1:5060", codecs=["PCMU"]) as call:
        await call.wait_answered()
        greeting = await call.wait_for_audio()           # first bot audio
        await call.wait_for_silence(1.0)                 # greeting finished
        spoken = await call.play("question.wav")         # end of caller speech (monotonic)
        reply = await call.wait_for_audio(after=spoken)  # latency = reply - spoken
        await call.send_dtmf("9")
        call.save_received("bot.wav")
    # leaving the block hangs up (BYE, waits for 200)

Many calls share one ``CallerAgent`` (one SIP socket, one 20 ms ticker)::

    async with CallerAgent() as agent:
        calls = [await agent.call(uri) for _ in range(30)]

Signalling is aiosipua's SipUAC (INVITE/ACK/BYE/CANCEL/INFO building, 2xx ACK, PRACK) plus
the workarounds named below; RTP is aiortp's packets and codecs, paced by ``rtp_media``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from aiosipua import (
    DialogState,
    OutgoingCall,
    SipRequest,
    SipResponse,
    parse_sdp,
)

from .rtp_audio import SPEECH_RMS, CodecSpec, Pcm, codec_spec, dtmf_event_packets, load_wav
from .rtp_audio import split_frames as _split
from .rtp_media import MediaStream, Ticker, random_session_id
from .sip_agent import CallerAgent
from .sip_incoming import answer_request, branch_of
from .sip_messages import (
    ALLOW,
    TIMEOUT,
    SdpError,
    build_2xx_ack,
    build_non2xx_ack,
    build_offer,
    dtmf_info_body,
    parse_target,
    read_remote_sdp,
)
from .sip_transaction import ClientTransaction

log = logging.getLogger(__name__)


class CallFailed(Exception):
    """The INVITE ended without an answer: ``status`` is the final response code."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"call failed: {status} {reason}")
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class CallEvent:
    name: str  # invite_sent, trying, ringing, progress, answered, rejected, cancel_sent, ...
    time: float  # time.monotonic()
    detail: str = ""


@dataclass(frozen=True)
class Turn:
    """One caller turn: when the caller stopped speaking and when the bot answered."""

    speech_end: float
    reply_onset: float
    reply_end: float | None

    @property
    def latency(self) -> float:
        return self.reply_onset - self.speech_end


class SipCaller:
    """One call from the test caller. Create with ``CallerAgent.call`` or ``dial``."""

    def __init__(
        self,
        agent: CallerAgent,
        uri: str,
        *,
        codecs: Sequence[str] = ("PCMU",),
        transport: str | None = None,
        dtmf_pt: int | None = 101,
        from_user: str = "caller",
        keep_audio: bool = True,
        owns_agent: bool = False,
    ) -> None:
        self.agent = agent
        self.target = parse_target(uri, transport)
        self.codecs: list[CodecSpec] = [codec_spec(c) for c in codecs]
        if not self.codecs:
            raise ValueError("at least one codec")
        self.offer_dtmf_pt = dtmf_pt
        self.from_uri = f"sip:{from_user}@{agent.host}"
        self.events: list[CallEvent] = []
        self.status: int | None = None  # final response to the INVITE
        self.reason = ""
        self.ended_by: str | None = None  # local, remote, cancel, rejected, timeout, media
        self.bye_status: int | None = None
        self.cancel_status: int | None = None
        self.media = MediaStream(self.codecs[0], dtmf_pt=None, keep_samples=keep_audio)
        self.media.on_dtmf = lambda d, t: self.record("dtmf_received", d, t)
        self._owns_agent = owns_agent
        self._ticker = agent.ticker if agent.shared_ticker else Ticker()
        self._txns: dict[tuple[str, str], ClientTransaction] = {}
        self.server_responses: dict[tuple[str, str], SipResponse] = {}
        self._final: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._provisional = asyncio.Event()
        self._ringing = asyncio.Event()
        self._ended = asyncio.Event()
        self._cancelling = False
        self.sdp_version = 1
        self.session_id = random_session_id()
        self._media_running = False
        self._linger: asyncio.TimerHandle | None = None
        self.awaiting_ack_sdp = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self.reinvite_pending: dict[int, asyncio.Task[None]] = {}
        self.call: OutgoingCall | None = None
        self.call_id = ""

    # -- set-up -----------------------------------------------------------------------------

    async def invite(self) -> None:
        """Bind RTP, send the INVITE with an SDP offer; returns once it is sent."""
        self.transport, self.uac = await self.agent.sip_for(self.target)
        await self.agent.ports.open(self.media)
        offer = build_offer(
            self.agent.host,
            self.media.local_port,
            self.codecs,
            dtmf_pt=self.offer_dtmf_pt,
            session_id=self.session_id,
        )
        self.call = self.uac.send_invite(
            self.from_uri,
            self.target.uri,
            (self.target.host, self.target.port),
            offer,
            user_agent=self.agent.user_agent,
            extra_headers={"Allow": ALLOW},
        )
        self.call_id = self.call.call_id
        self.agent.register(self)
        self._invite_txn = self._track(self.call.invite)
        self.record("invite_sent")

    def _track(self, request: SipRequest) -> ClientTransaction:
        txn = ClientTransaction(self, request)
        self._txns[(branch_of(request), request.method)] = txn
        return txn

    def send(self, msg: SipRequest | SipResponse, addr: tuple[str, int] | None = None) -> None:
        self.transport.send(msg, addr or (self.target.host, self.target.port))

    def record(self, name: str, detail: str = "", at: float | None = None) -> None:
        self.events.append(CallEvent(name, at if at is not None else time.monotonic(), detail))

    def contact(self) -> str:
        host, port = self.transport.local_addr
        suffix = ";transport=tcp" if self.target.transport == "tcp" else ""
        return f"<sip:{host}:{port}{suffix}>"

    def event_time(self, name: str) -> float | None:
        """Time of the first event with this name."""
        return next((e.time for e in self.events if e.name == name), None)

    # -- responses --------------------------------------------------------------------------

    def on_response(self, resp: SipResponse, addr: tuple[str, int]) -> None:
        cseq = resp.cseq
        method = cseq.method.upper() if cseq else ""
        txn = self._txns.get((branch_of(resp), method))
        if txn is not None:
            txn.on_response(resp)
        if method == "INVITE" and txn is self._invite_txn:
            self._on_invite_response(resp, addr)

    def _on_invite_response(self, resp: SipResponse, addr: tuple[str, int]) -> None:
        assert self.call is not None
        status = resp.status_code
        tracked = self.uac.get_call(self.call_id) is not None
        if status < 200:
            if not self._final.done():
                name = {100: "trying", 180: "ringing", 183: "progress"}.get(status, "provisional")
                self.record(name, str(status))
                self._provisional.set()
                if status in (180, 183):
                    self._ringing.set()
            if tracked:
                self.uac.handle_response(resp, addr)  # remote tag, PRACK for 100rel
            return
        if status >= 300:
            # Workaround: the UAC never ACKs a non-2xx final (uac_responses.py _reject_call);
            # the INVITE client transaction must, on every retransmission of it.
            self.send(build_non2xx_ack(self.call.invite, resp))
            if tracked:
                self.uac.handle_response(resp, addr)
            if not self._final.done():
                self.status, self.reason = status, resp.reason_phrase
                self._final.set_result(status)
                cancelled = status == 487 and self._cancelling
                self.record("cancelled" if cancelled else "rejected", f"{status} {self.reason}")
                self.finish("cancel" if cancelled else "rejected")
            return
        # 2xx
        if self._final.done():  # retransmitted 200: ACK again
            if tracked:
                self.uac.handle_response(resp, addr)
            else:
                self._ack_2xx(resp)
            return
        # The UAC keeps the To-URI as remote target and ignores Record-Route: take the
        # Contact (and route set) from the 2xx so in-dialog requests go where they should.
        contact = resp.contact
        if contact:
            self.call.dialog.remote_target = _uri_str(contact[0])
        self.call.dialog.route_set = list(reversed(resp.headers.get("record-route")))
        self.status, self.reason = status, resp.reason_phrase
        if tracked:
            self.uac.handle_response(resp, addr)  # confirms dialog, parses SDP, sends ACK
        else:  # 200 crossed our CANCEL: ACK it and hang up (RFC 3261 §9.1)
            to = resp.to_addr
            if to is not None and to.tag and not self.call.dialog.remote_tag:
                self.call.dialog.remote_tag = to.tag
            self.call.dialog.state = DialogState.CONFIRMED  # send_cancel terminated it
            self._ack_2xx(resp)
        self._final.set_result(status)
        self.record("answered", str(status))
        if self._cancelling:
            self._spawn(self.hangup())
            return
        try:
            body = resp.text if resp.body else ""
            params = read_remote_sdp(parse_sdp(body), self.codecs)
        except SdpError as exc:
            self.record("media_error", str(exc))
            self._spawn(self.hangup(reason="media"))
            return
        self.media.remote = params.remote
        self.media.set_codec(params.codec, params.dtmf_pt)
        self.media.sending = params.direction in ("sendrecv", "recvonly")
        self._start_media()

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _ack_2xx(self, resp: SipResponse) -> None:
        assert self.call is not None
        cseq = resp.cseq
        host, port = self.transport.local_addr
        self.send(
            build_2xx_ack(
                self.call.dialog, cseq.seq if cseq else 1, host, port, self.target.transport
            )
        )

    def on_local_timeout(self, txn: ClientTransaction) -> None:
        if txn is self._invite_txn and not self._final.done():
            self.status, self.reason = 408, "Request Timeout (no response)"
            self._final.set_result(408)
            self.record("timeout", "INVITE")
            self.finish("timeout")

    # -- requests from the far end ----------------------------------------------------------

    def on_request(self, req: SipRequest, addr: tuple[str, int]) -> None:
        answer_request(self, req, addr)

    # -- media ------------------------------------------------------------------------------

    def _start_media(self) -> None:
        if not self._media_running:
            self._media_running = True
            self._ticker.add(self.media)

    def _stop_media(self) -> None:
        if self._media_running:
            self._media_running = False
            self._ticker.remove(self.media)
        if self.media.transport is not None:
            self.media.close()
            self.agent.ports.release(self.media.local_port)

    def finish(self, ended_by: str) -> None:
        if self.ended_by is None:
            self.ended_by = ended_by
        self._stop_media()
        self.media.flush()  # nothing more will be sent: a pending play() returns now
        for task in self.reinvite_pending.values():
            task.cancel()
        if not self._ended.is_set():
            self._ended.set()
            self.record("ended", self.ended_by or "")
            # Stay reachable for a while: retransmitted BYEs get their 200 again, late 2xx
            # get an ACK (the server and client transactions' Timer J / D roles).
            loop = asyncio.get_running_loop()
            self._linger = loop.call_later(TIMEOUT, self.agent.forget, self)

    # -- waiting ----------------------------------------------------------------------------

    @property
    def answered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def ended(self) -> bool:
        return self._ended.is_set()

    async def wait_final(self, timeout: float = TIMEOUT + 1) -> int:
        """The INVITE's final status (200, 486, 487, 408 for no answer at all ...)."""
        return await asyncio.wait_for(asyncio.shield(self._final), timeout)

    async def wait_answered(self, timeout: float = TIMEOUT + 1) -> None:
        status = await self.wait_final(timeout)
        if not 200 <= status < 300:
            raise CallFailed(status, self.reason)

    async def wait_ringing(self, timeout: float = 10.0) -> float:
        await asyncio.wait_for(self._ringing.wait(), timeout)
        t = self.event_time("ringing") or self.event_time("progress")
        assert t is not None
        return t

    async def wait_ended(self, timeout: float = 60.0) -> str:
        """Wait until the call is over; returns who ended it."""
        await asyncio.wait_for(self._ended.wait(), timeout)
        return self.ended_by or ""

    # -- ending -----------------------------------------------------------------------------

    async def cancel(self, timeout: float = TIMEOUT + 1) -> int:
        """CANCEL the ringing call; returns the INVITE's final status (487 normally)."""
        if self._final.done():
            return self._final.result()
        assert self.call is not None
        # RFC 3261 §9.1: no CANCEL before a provisional response.
        await asyncio.wait_for(self._provisional.wait(), timeout)
        if self._final.done():
            return self._final.result()
        self._cancelling = True
        if self.call.dialog.state == DialogState.EARLY:
            cancel = self.uac.send_cancel(self.call)  # the UAC drops the call here
            self.record("cancel_sent")
            txn = self._track(cancel)
            resp = await asyncio.wait_for(asyncio.shield(txn.final), timeout)
            self.cancel_status = resp.status_code
            self.record("cancel_answered", str(resp.status_code))
        return await self.wait_final(timeout)

    async def hangup(
        self,
        timeout: float = TIMEOUT + 1,
        reason: str = "local",
    ) -> int | None:
        """BYE (or CANCEL while ringing); returns the BYE's status, None if already over."""
        if self.ended:
            return None
        if not self._final.done():
            await self.cancel(timeout)
            return None
        if not self.answered or self.call is None:
            return None
        if self.call.dialog.state != DialogState.CONFIRMED:
            return None
        self.ended_by = self.ended_by or reason
        bye = self.uac.send_bye(self.call.dialog, self.call.remote_addr)
        self.record("bye_sent")
        txn = self._track(bye)
        self._stop_media()
        try:
            resp = await asyncio.wait_for(asyncio.shield(txn.final), timeout)
            self.bye_status = resp.status_code
            self.record("bye_answered", str(resp.status_code))
        finally:
            self.finish(reason)
        return self.bye_status

    async def close(self, timeout: float = 5.0) -> None:
        """Hang up if needed, then release everything (sockets, timers, the agent's entry)."""
        try:
            if not self.ended:
                await self.hangup(timeout)
        except TimeoutError:
            self.record("close_timeout")
        finally:
            for txn in self._txns.values():
                txn.stop()
            for task in self._tasks:
                task.cancel()
            self.finish(self.ended_by or "local")
            if self._linger is not None:
                self._linger.cancel()
            self.agent.forget(self)
            if self._owns_agent:
                await self.agent.close()

    async def __aenter__(self) -> SipCaller:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- audio out --------------------------------------------------------------------------

    async def play(
        self,
        source: str | Path | Pcm | np.ndarray[Any, Any],
        *,
        rate: int | None = None,
        speech_rms: float = SPEECH_RMS,
    ) -> float:
        """Queue audio (a WAV path, a Pcm, or int16 samples at ``rate``) and wait until it is
        sent. Returns the monotonic time the last frame louder than ``speech_rms`` left —
        the end of the caller's speech (the last frame's time if none was loud)."""
        if isinstance(source, str | Path):
            pcm = load_wav(source)
        elif isinstance(source, Pcm):
            pcm = source
        else:
            if rate is None:
                raise ValueError("rate is required with raw samples")
            pcm = Pcm(np.asarray(source, dtype=np.int16), rate)
        if self.ended:
            raise ConnectionError(f"the call has ended ({self.ended_by})")
        pcm = pcm.resampled(self.media.codec.audio_rate)
        frames = _split(pcm, self.media.codec.frame_samples)
        return await self.media.enqueue_audio(frames, speech_rms)

    def stop_audio(self) -> None:
        """Stop talking now: drop queued audio (pending play() calls return)."""
        self.media.flush()

    async def send_dtmf(
        self,
        digits: str,
        *,
        duration_ms: int = 100,
        gap_ms: int = 100,
        method: str = "rfc4733",
    ) -> float:
        """Send digits as RFC 4733 events (paced in the RTP stream) or SIP INFO
        (application/dtmf-relay). Returns when the last one is sent (or answered, INFO)."""
        if method == "info":
            return await self._send_info_dtmf(digits, duration_ms, gap_ms)
        if method != "rfc4733":
            raise ValueError("method is 'rfc4733' or 'info'")
        if self.media.dtmf_pt is None:
            raise RuntimeError("the far end did not accept telephone-event in its SDP")
        done = time.monotonic()
        silence = Pcm.silence(gap_ms / 1000, self.media.codec.audio_rate)
        for i, digit in enumerate(digits):
            if i:
                self.media.enqueue_audio(_split(silence, self.media.codec.frame_samples), 1e9)
            done = await self.media.enqueue_dtmf(dtmf_event_packets(digit, duration_ms))
            self.record("dtmf_sent", digit, done)
        return done

    async def _send_info_dtmf(self, digits: str, duration_ms: int, gap_ms: int) -> float:
        assert self.call is not None
        for i, digit in enumerate(digits):
            if i:
                await asyncio.sleep(gap_ms / 1000)
            info = self.uac.send_info(
                self.call.dialog,
                dtmf_info_body(digit, duration_ms),
                "application/dtmf-relay",
                self.call.remote_addr,
            )
            resp = await asyncio.shield(self._track(info).final)
            self.record("dtmf_sent", f"{digit} INFO {resp.status_code}")
            if resp.status_code >= 300:
                raise RuntimeError(f"INFO for {digit!r} answered {resp.status_code}")
        return time.monotonic()

    # -- audio in ---------------------------------------------------------------------------

    async def wait_for_audio(
        self,
        after: float = 0.0,
        *,
        min_rms: float = SPEECH_RMS,
        timeout: float = 10.0,
    ) -> float:
        """Arrival time of the first received frame at/after ``after`` louder than min_rms."""
        return await asyncio.wait_for(self.media.audio_waiter(after, min_rms), timeout)

    async def wait_for_silence(
        self,
        duration: float = 0.8,
        *,
        max_rms: float = SPEECH_RMS,
        after: float | None = None,
        timeout: float = 30.0,
    ) -> float | None:
        """Wait until nothing louder than max_rms has arrived for ``duration`` seconds.

        Returns the arrival time of the last loud frame (end of the bot's speech), or None
        if none arrived since ``after`` (default: the answer)."""
        deadline = time.monotonic() + timeout
        base = after if after is not None else (self.event_time("answered") or 0.0)
        while True:
            last = self.media.received.last_loud(base, max_rms)
            quiet_since = last.arrival if last is not None else base
            now = time.monotonic()
            if now - quiet_since >= duration:
                return last.arrival if last is not None else None
            if now >= deadline:
                raise TimeoutError(f"still hearing audio after {timeout} s")
            await asyncio.sleep(min(quiet_since + duration - now, deadline - now) + 0.001)

    async def ask(
        self,
        source: str | Path | Pcm,
        *,
        min_rms: float = SPEECH_RMS,
        reply_timeout: float = 10.0,
        silence: float = 0.8,
    ) -> Turn:
        """Say something and wait for the whole reply: the benchmark's unit of measure."""
        spoken = await self.play(source, speech_rms=min_rms)
        onset = await self.wait_for_audio(spoken, min_rms=min_rms, timeout=reply_timeout)
        end = await self.wait_for_silence(silence, max_rms=min_rms, after=onset)
        return Turn(spoken, onset, end)

    def received_pcm(self) -> Pcm:
        return self.media.received.pcm()

    def save_received(self, path: str | Path, rate: int | None = None) -> None:
        self.media.received.save_wav(path, rate)


async def dial(uri: str, *, host: str = "127.0.0.1", **options: Any) -> SipCaller:
    """One call with its own agent (closed with the call). Options as SipCaller's."""
    agent = await CallerAgent(host).start()
    caller = SipCaller(agent, uri, owns_agent=True, **options)
    try:
        await caller.invite()
    except BaseException:
        await agent.close()
        raise
    return caller


def _uri_str(addr: Any) -> str:
    from aiosipua import stringify_uri

    return str(stringify_uri(addr.uri))


__all__ = ["CallEvent", "CallFailed", "CallerAgent", "SipCaller", "Turn", "dial"]
