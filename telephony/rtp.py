"""One call's RTP stream: decode what arrives, pace what we say every 20 ms.

Packets are parsed and encoded with aiortp (RtpPacket, G.711/G.722 codecs,
RFC 4733 DtmfReceiver). We keep our own small receive path rather than
aiortp's RTPSession: its jitter buffer holds each frame until the next packet
arrives (+20 ms on every utterance, and the last frame of a talkspurt waits
for the next one). Speech recognition wants packets at once and in order,
so we deliver on arrival and drop duplicates and stragglers.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
from collections.abc import Callable

from aiortp import DtmfReceiver, RtpPacket
from aiortp.codecs import Codec, get_codec

from telephony.aio import cancel_and_wait
from telephony.playout import Playout, PlayoutMedia
from telephony.sip.sdp import MediaPlan

log = logging.getLogger(__name__)

FRAME_MS = 20
RTP_CLOCK = 8000  # every codec we offer runs an 8 kHz RTP clock (G.722 included, RFC 3551)
TIMESTAMP_STEP = RTP_CLOCK * FRAME_MS // 1000


class PortsExhausted(Exception):
    """Every RTP port pair in the configured range is in use."""


class RtpPortPool:
    """Even/odd port pairs from the configured range, bound at allocation."""

    def __init__(self, host: str, port_min: int, port_max: int) -> None:
        self.host = host
        self.first = port_min + (port_min % 2)
        self.last = port_max
        self._in_use: set[int] = set()
        self._next = self.first

    @property
    def in_use(self) -> int:
        return len(self._in_use)

    def bind_pair(self) -> tuple[socket.socket, socket.socket, int]:
        """Two bound sockets (RTP, RTCP) and the RTP port; raises PortsExhausted."""
        span = (self.last - self.first) // 2 + 1
        for _ in range(span):
            port = self._next
            self._next = self._next + 2 if self._next + 3 <= self.last else self.first
            if port in self._in_use:
                continue
            rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                rtp.bind((self.host, port))
                rtcp.bind((self.host, port + 1))
            except OSError:
                rtp.close()
                rtcp.close()
                continue
            rtp.setblocking(False)
            rtcp.setblocking(False)
            self._in_use.add(port)
            return rtp, rtcp, port
        raise PortsExhausted(f"no free RTP port pair in {self.first}-{self.last}")

    def release(self, port: int) -> None:
        self._in_use.discard(port)


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, on_packet: Callable[[bytes, tuple[str, int]], None] | None) -> None:
        self.on_packet = on_packet

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        if self.on_packet is not None:
            self.on_packet(data, (str(addr[0]), int(str(addr[1]))))

    def error_received(self, exc: Exception) -> None:
        pass  # ICMP unreachable while the peer's socket is not up yet


class RtpStream(PlayoutMedia):
    """RTP for one call. Caller audio arrives as PCM at ``sample_rate``."""

    def __init__(self, plan: MediaPlan, port: int, *, latch: bool = True) -> None:
        self.port = port
        self.latch = latch
        self.on_audio: Callable[[bytes], None] | None = None
        self.on_dtmf: Callable[[str, int], None] | None = None
        self.last_rx: float | None = None
        self.packets_in = 0
        self.packets_out = 0
        self.lost = 0
        self._plan = plan
        self._codec: Codec = get_codec(plan.payload_type)
        self._remote = plan.remote
        self._latched = False
        self._ssrc = secrets.randbits(32)
        self._seq = secrets.randbits(16)
        self._ts = secrets.randbits(32)
        self._marker = True
        self.playout = Playout(self.frame_samples)
        self._rx_ssrc: int | None = None
        self._rx_seq: int | None = None
        self._dtmf = DtmfReceiver(self._on_dtmf)
        self._rtp: asyncio.DatagramTransport | None = None
        self._rtcp: asyncio.DatagramTransport | None = None
        self.closed = False

    @property
    def sample_rate(self) -> int:
        return self._plan.sample_rate

    @property
    def frame_samples(self) -> int:
        return self.sample_rate * FRAME_MS // 1000

    @property
    def plan(self) -> MediaPlan:
        return self._plan

    @property
    def remote(self) -> tuple[str, int]:
        return self._remote

    async def open(self, rtp_sock: socket.socket, rtcp_sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        rtp, _ = await loop.create_datagram_endpoint(
            lambda: _Protocol(self._on_packet), sock=rtp_sock
        )
        rtcp, _ = await loop.create_datagram_endpoint(lambda: _Protocol(None), sock=rtcp_sock)
        self._rtp = rtp
        self._rtcp = rtcp

    def update(self, plan: MediaPlan) -> None:
        """A re-INVITE changed the session (hold, unhold, new address or codec)."""
        if plan.payload_type != self._plan.payload_type:
            self._codec = get_codec(plan.payload_type)
            self.playout.resize(plan.sample_rate * FRAME_MS // 1000)
        if plan.remote != self._plan.remote:
            self._remote = plan.remote
            self._latched = False
        self._plan = plan

    # ------------------------------------------------------------------ sending

    def tick(self) -> None:
        """Called every 20 ms by the media clock: send one frame (silence if idle)."""
        frame = self.playout.next_frame()
        self._ts = (self._ts + TIMESTAMP_STEP) & 0xFFFFFFFF
        if self._rtp is None or not self._plan.we_send or self.closed:
            return
        packet = RtpPacket(
            payload_type=self._plan.payload_type,
            marker=1 if self._marker else 0,
            sequence_number=self._seq,
            timestamp=self._ts,
            ssrc=self._ssrc,
            payload=self._codec.encode(frame),
        )
        self._marker = False
        self._seq = (self._seq + 1) & 0xFFFF
        self._rtp.sendto(packet.serialize(), self._remote)
        self.packets_out += 1

    # ------------------------------------------------------------------ receiving

    def _on_packet(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.closed:
            return
        try:
            packet = RtpPacket.parse(data)
        except ValueError:
            return
        if self.latch and not self._latched:
            # Symmetric RTP (RFC 4961): answer to where the caller's audio comes
            # from, which is right behind NAT and harmless elsewhere.
            self._remote = addr
            self._latched = True
        if packet.ssrc != self._rx_ssrc:
            self._rx_ssrc = packet.ssrc
            self._rx_seq = None
        if self._rx_seq is not None:
            delta = (packet.sequence_number - self._rx_seq) & 0xFFFF
            if delta == 0 or delta > 0x8000:
                return  # duplicate or late: already past it
            self.lost += delta - 1
        self._rx_seq = packet.sequence_number
        self.packets_in += 1
        self.last_rx = asyncio.get_running_loop().time()
        if self._plan.dtmf_pt is not None and packet.payload_type == self._plan.dtmf_pt:
            try:
                self._dtmf.handle_packet(packet)
            except ValueError:
                pass
            return
        if packet.payload_type != self._plan.payload_type or not self._plan.we_receive:
            return  # comfort noise, another codec mid-switch, or on hold
        if self.on_audio is not None:
            try:
                pcm = self._codec.decode(packet.payload)
            except Exception:  # a corrupt payload must not end the call
                return
            self.on_audio(pcm)

    def _on_dtmf(self, digit: str, duration: int) -> None:
        if self.on_dtmf is not None and digit != "?":
            self.on_dtmf(digit, duration * 1000 // RTP_CLOCK)

    def close(self) -> None:
        self.closed = True
        self.playout.close()
        for transport in (self._rtp, self._rtcp):
            if transport is not None:
                transport.close()


class MediaClock:
    """One 20 ms clock for every stream in the process (cheaper than a timer per call).

    Deadlines are absolute; a late wake-up sends the frames it owes (up to a
    few) so RTP timestamps stay in step with real time.
    """

    MAX_CATCH_UP = 5

    def __init__(self) -> None:
        self.streams: set[RtpStream] = set()
        self._task: asyncio.Task[None] | None = None
        self.late_ticks = 0

    def add(self, stream: RtpStream) -> None:
        self.streams.add(stream)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="media-clock")

    def remove(self, stream: RtpStream) -> None:
        self.streams.discard(stream)

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        period = FRAME_MS / 1000
        deadline = loop.time() + period
        while True:
            await asyncio.sleep(max(0.0, deadline - loop.time()))
            now = loop.time()
            owed = 1 + int((now - deadline) // period)
            if owed > self.MAX_CATCH_UP:
                self.late_ticks += owed - self.MAX_CATCH_UP
                deadline += (owed - self.MAX_CATCH_UP) * period
                owed = self.MAX_CATCH_UP
            for _ in range(owed):
                for stream in list(self.streams):
                    try:
                        stream.tick()
                    except Exception:
                        log.exception("rtp.tick_failed")
                deadline += period
