"""Browser calls over WebRTC (aiortc): the same media interface as an RTP phone call.

A browser posts its SDP offer (with all ICE candidates: aiortc does not trickle)
and gets our answer. Its microphone arrives as frames that are resampled to
16 kHz and handed to ``on_audio``; what we say leaves through a track whose
``recv()`` takes one 20 ms frame from the same :class:`Playout` the RTP path
uses, paced in real time. Keys arrive over a data channel named "dtmf".
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aioice.ice
import av
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCDataChannel,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError

from telephony.playout import Playout, PlayoutMedia

log = logging.getLogger(__name__)

RATE = 16000  # what we speak and hear at; aiortc/Opus resample to and from 48 kHz
FRAME_MS = 20
FRAME_SAMPLES = RATE * FRAME_MS // 1000
DTMF_KEYS = frozenset("0123456789*#")


def use_host_addresses(addresses: list[str] | None) -> None:
    """Choose the ICE host candidates (aioice never offers 127.0.0.1 by itself).

    None restores aioice's own choice; a list (e.g. ``["127.0.0.1"]`` for tests or
    a loopback-only host) is used as it is.
    """
    original = getattr(use_host_addresses, "_original", aioice.ice.get_host_addresses)
    use_host_addresses._original = original  # type: ignore[attr-defined]
    if addresses is None:
        aioice.ice.get_host_addresses = original
        return

    def fixed(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [a for a in addresses if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]

    aioice.ice.get_host_addresses = fixed


class SpeakerTrack(MediaStreamTrack):
    """Our voice towards the browser: 20 ms frames from the playout, paced in real time."""

    kind = "audio"

    def __init__(self, playout: Playout) -> None:
        super().__init__()
        self.playout = playout
        self._start: float | None = None
        self._pts = 0

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        else:
            self._pts += FRAME_SAMPLES
            wait = self._start + self._pts / RATE - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        pcm = self.playout.next_frame()
        frame = av.AudioFrame(format="s16", layout="mono", samples=FRAME_SAMPLES)
        frame.planes[0].update(pcm)
        frame.sample_rate = RATE
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, RATE)
        return frame


class WebRtcMedia(PlayoutMedia):
    """A browser call's audio, with the interface the call session expects."""

    sample_rate = RATE

    def __init__(self) -> None:
        self.playout = Playout(FRAME_SAMPLES)
        self.track = SpeakerTrack(self.playout)
        self.on_audio: Callable[[bytes], None] | None = None
        self.frames_in = 0

    async def consume(self, track: MediaStreamTrack) -> None:
        """Read the browser's microphone until it ends (every received track must be read)."""
        resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            for out in resampler.resample(frame):  # type: ignore[arg-type]
                pcm = bytes(out.planes[0])[: out.samples * 2]
                self.frames_in += 1
                if self.on_audio is not None:
                    self.on_audio(pcm)

    def close(self) -> None:
        self.playout.close()
        self.track.stop()


@dataclass(eq=False)
class WebCall:
    """A browser call: the same face as a phone call to the session and the records."""

    pc: RTCPeerConnection
    stream: WebRtcMedia
    caller: str = "web"
    channel: str = "webrtc"
    id: str = field(default_factory=lambda: secrets.token_hex(8))
    started_at: float = field(default_factory=time.time)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    ended_at: float | None = None
    ended_by: str | None = None
    end_reason: str | None = None
    on_dtmf: Callable[[str], None] | None = None
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def hangup(self, reason: str = "bot") -> None:
        self._end("gateway", reason)

    def _end(self, by: str, reason: str) -> None:
        if self.ended.is_set():
            return
        self.ended_at, self.ended_by, self.end_reason = time.time(), by, reason
        self.stream.close()
        self.ended.set()
        task = asyncio.ensure_future(self.pc.close())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def dtmf(self, digit: str) -> None:
        if self.on_dtmf is not None and not self.ended.is_set():
            self.on_dtmf(digit)


SessionRunner = Callable[[WebCall], Awaitable[None]]


@dataclass(eq=False)
class WebRtcLeg:
    """A browser's audio connection (a citizen's call, or an agent's desk audio)."""

    pc: RTCPeerConnection
    media: WebRtcMedia
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    on_dtmf: Callable[[str], None] | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        self.media.close()
        self.closed.set()
        await self.pc.close()


async def open_leg(sdp: str, ice_servers: list[str]) -> tuple[str, WebRtcLeg]:
    """Answer a browser's offer: our SDP answer and the connected leg."""
    config = RTCConfiguration(iceServers=[RTCIceServer(urls=url) for url in ice_servers])
    pc = RTCPeerConnection(configuration=config)
    leg = WebRtcLeg(pc, WebRtcMedia())
    pc.addTrack(leg.media.track)

    @pc.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        leg._spawn(leg.media.consume(track) if track.kind == "audio" else _drain(track))

    @pc.on("datachannel")
    def on_channel(channel: RTCDataChannel) -> None:
        @channel.on("message")
        def on_message(message: object) -> None:
            if isinstance(message, str) and message.strip() in DTMF_KEYS and leg.on_dtmf:
                leg.on_dtmf(message.strip())

    @pc.on("connectionstatechange")
    async def on_state() -> None:
        if pc.connectionState in ("failed", "closed"):
            leg.media.close()
            leg.closed.set()

    try:
        await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
    except Exception:
        await pc.close()
        raise
    return pc.localDescription.sdp, leg


class WebRtcCalls:
    """Answers browser offers and runs each call's session, like CallManager for SIP."""

    def __init__(
        self,
        run_session: SessionRunner,
        *,
        ice_servers: list[str] | None = None,
        max_calls: int = 40,
    ) -> None:
        self.run_session = run_session
        self.ice_servers = ice_servers or []
        self.max_calls = max_calls
        self.calls: dict[str, WebCall] = {}
        self.accepting = True
        self._tasks: set[asyncio.Task[None]] = set()

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def answer(self, sdp: str, kind: str = "offer") -> tuple[str, WebCall]:
        """Our SDP answer to a browser's offer; the call starts at once."""
        if kind != "offer":
            raise ValueError("expected an SDP offer")
        if not self.accepting or len(self.calls) >= self.max_calls:
            raise OverflowError("the helpline is at capacity")
        answer, leg = await open_leg(sdp, self.ice_servers)
        call = WebCall(leg.pc, leg.media)
        leg.on_dtmf = call.dtmf
        self._spawn(_end_when_closed(leg, call))
        self.calls[call.id] = call
        self._spawn(self._session(call))
        return answer, call

    async def _session(self, call: WebCall) -> None:
        try:
            await self.run_session(call)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("webrtc.session_crashed", extra={"call": call.id})
        finally:
            if not call.ended.is_set():
                call.hangup("session ended")
            self.calls.pop(call.id, None)

    def hangup(self, call_id: str) -> bool:
        call = self.calls.get(call_id)
        if call is None:
            return False
        call._end("caller", "hung up in the browser")
        return True

    async def stop(self) -> None:
        self.accepting = False
        for call in list(self.calls.values()):
            call.hangup("shutdown")
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*self._tasks, return_exceptions=True)


async def _end_when_closed(leg: WebRtcLeg, call: WebCall) -> None:
    await leg.closed.wait()
    call._end("caller", "browser connection closed")


async def _drain(track: MediaStreamTrack) -> None:
    with contextlib.suppress(MediaStreamError):
        while True:
            await track.recv()
