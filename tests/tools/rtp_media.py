"""RTP for the test caller: a 20 ms ticker shared by many calls, and one media stream per call.

Like a real phone the stream sends a packet every 20 ms from the moment it is started —
queued speech, RFC 4733 events, or silence when there is nothing to say — and keeps
everything it receives (decoded, with arrival times) for onset detection and WAV export.
Packets are built and parsed with aiortp's ``RtpPacket``; codecs are aiortp's G.711/G.722.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from aiortp import Codec as AiortpCodec
from aiortp import RtpPacket, is_rtcp
from aiortp.dtmf import DtmfReceiver

from .rtp_audio import (
    CODECS_BY_PT,
    FRAME_MS,
    TS_STEP,
    CodecSpec,
    DtmfPacket,
    ReceivedAudio,
    ReceivedFrame,
    Samples,
    rms,
)

log = logging.getLogger(__name__)

PERIOD = FRAME_MS / 1000
_EMPTY: Samples = np.zeros(0, dtype=np.int16)


class Tickable(Protocol):
    def tick(self, now: float) -> None: ...

    def skip(self, ticks: int) -> None: ...


class Ticker:
    """Calls ``tick(now)`` on every registered stream every 20 ms from one loop timer.

    The schedule is absolute (no drift); a late wake-up sends the missed ticks at once (up
    to ``max_catch_up``), a longer stall skips them, advancing the streams' RTP clocks.
    One timer for N calls costs less than N timers (see the report in docs/ or the CLI's
    ``--calls`` mode, which measures both).
    """

    def __init__(self, period: float = PERIOD, max_catch_up: int = 5) -> None:
        self.period = period
        self.max_catch_up = max_catch_up
        self._streams: list[Tickable] = []
        self._handle: asyncio.TimerHandle | None = None
        self._due = 0.0
        self.late_ticks = 0
        self.skipped_ticks = 0

    def add(self, stream: Tickable) -> None:
        self._streams.append(stream)
        if self._handle is None:
            loop = asyncio.get_running_loop()
            self._due = loop.time() + self.period
            self._handle = loop.call_at(self._due, self._fire)

    def remove(self, stream: Tickable) -> None:
        if stream in self._streams:
            self._streams.remove(stream)
        if not self._streams and self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _fire(self) -> None:
        loop = asyncio.get_running_loop()
        n = 0
        while self._due <= loop.time() and n < self.max_catch_up:
            now = time.monotonic()
            for s in list(self._streams):
                try:
                    s.tick(now)
                except Exception:  # one broken stream must not stop the others
                    log.exception("RTP tick failed")
            self._due += self.period
            n += 1
        self.late_ticks += max(0, n - 1)
        behind = int((loop.time() - self._due) // self.period) + 1
        if behind > 0:
            self.skipped_ticks += behind
            for s in self._streams:
                s.skip(behind)
            self._due += behind * self.period
        if self._streams:
            self._handle = loop.call_at(self._due, self._fire)
        else:
            self._handle = None


@dataclass
class _AudioItem:
    frames: list[Samples]
    loud: list[bool]
    done: asyncio.Future[float]
    index: int = 0
    speech_end: float | None = None


@dataclass
class _DtmfItem:
    packets: list[DtmfPacket]
    done: asyncio.Future[float]
    index: int = 0
    timestamp: int = 0


@dataclass
class _Waiter:
    after: float
    min_rms: float
    future: asyncio.Future[float]


@dataclass
class MediaStats:
    packets_sent: int = 0
    packets_received: int = 0
    dtmf_packets_sent: int = 0
    bad_packets: int = 0
    other_payload: int = 0


class MediaStream(asyncio.DatagramProtocol):
    """One call's RTP: paced sender with a queue, receiver with decoded history."""

    def __init__(
        self, codec: CodecSpec, *, dtmf_pt: int | None = None, keep_samples: bool = True
    ) -> None:
        self.codec = codec
        self.keep_samples = keep_samples
        self.dtmf_pt = dtmf_pt
        self.remote: tuple[str, int] | None = None
        self.sending = True  # False while the far end holds us (we answered recvonly/inactive)
        self.transport: asyncio.DatagramTransport | None = None
        self.local_port = 0
        self.stats = MediaStats()
        self.received = ReceivedAudio(codec.audio_rate)
        self.dtmf_received: list[tuple[str, float]] = []
        self.on_dtmf: Callable[[str, float], None] | None = None
        self.last_speech_sent: float | None = None
        self._ssrc = random.getrandbits(32)
        self._seq = random.getrandbits(16)
        self._ts = random.getrandbits(32)
        self._first = True
        self._queue: deque[_AudioItem | _DtmfItem] = deque()
        self._waiters: list[_Waiter] = []
        self._decoders: dict[int, AiortpCodec] = {}
        self._dtmf_rx = DtmfReceiver(self._dtmf_digit)
        self._dtmf_arrival = 0.0
        self._set_encoder(codec)

    # -- set-up ---------------------------------------------------------------------------

    def _set_encoder(self, codec: CodecSpec) -> None:
        self.codec = codec
        self._encoder = codec.make()
        self._silence = np.zeros(codec.frame_samples, dtype=np.int16)
        # G.711 is stateless: encode silence once. G.722 is ADPCM: every frame goes through it.
        self._silence_payload = (
            self._encoder.encode(self._silence.tobytes()) if codec.name != "G722" else None
        )

    def set_codec(self, codec: CodecSpec, dtmf_pt: int | None) -> None:
        """Switch codec (a re-INVITE may); received audio keeps its first rate."""
        if codec != self.codec:
            self._set_encoder(codec)
        self.dtmf_pt = dtmf_pt

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A plain cast: asyncio's selector UDP transport is not a DatagramTransport subclass
        # on Python 3.11 (the same fact that makes aiosipua's UDP transport assert).
        self.transport = transport  # type: ignore[assignment]

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
            self.transport = None
        for item in self._queue:
            if not item.done.done():
                item.done.set_result(time.monotonic())
        self._queue.clear()
        for w in self._waiters:
            if not w.future.done():
                w.future.cancel()
        self._waiters.clear()

    # -- sending --------------------------------------------------------------------------

    def enqueue_audio(self, frames: list[Samples], speech_rms: float) -> asyncio.Future[float]:
        """Queue frames (codec rate); the future gets the send time of the last loud frame.

        When no frame is louder than ``speech_rms`` the future gets the last frame's time.
        """
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        if not frames:
            fut.set_result(time.monotonic())
            return fut
        loud = [rms(f) >= speech_rms for f in frames]
        self._queue.append(_AudioItem(frames, loud, fut))
        return fut

    def enqueue_dtmf(self, packets: list[DtmfPacket]) -> asyncio.Future[float]:
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._queue.append(_DtmfItem(packets, fut))
        return fut

    def flush(self) -> None:
        """Drop queued audio (what is left of each item counts as sent now)."""
        now = time.monotonic()
        for item in self._queue:
            if not item.done.done():
                speech = item.speech_end if isinstance(item, _AudioItem) else None
                item.done.set_result(speech or now)
        self._queue.clear()

    def skip(self, ticks: int) -> None:
        self._ts = (self._ts + ticks * TS_STEP) & 0xFFFFFFFF

    def tick(self, now: float) -> None:
        item = self._queue[0] if self._queue else None
        if isinstance(item, _DtmfItem):
            if item.index == 0:
                item.timestamp = self._ts  # a real, distinct timestamp per event
            pkt = item.packets[item.index]
            item.index += 1
            if self.dtmf_pt is not None:
                self._send(self.dtmf_pt, pkt.payload, item.timestamp, pkt.marker)
                self.stats.dtmf_packets_sent += 1
            if item.index == len(item.packets):
                self._queue.popleft()
                item.done.set_result(time.monotonic())
        else:
            frame: Samples | None = None
            loud = False
            if item is not None:
                frame = item.frames[item.index]
                loud = item.loud[item.index]
                item.index += 1
            if frame is None and self._silence_payload is not None:
                payload = self._silence_payload
            else:
                pcm = self._silence if frame is None else frame
                payload = self._encoder.encode(pcm.tobytes())
            self._send(self.codec.payload_type, payload, self._ts, self._first)
            self._first = False
            if loud:
                self.last_speech_sent = time.monotonic()
                if item is not None:
                    item.speech_end = self.last_speech_sent
            if item is not None and item.index == len(item.frames):
                self._queue.popleft()
                item.done.set_result(item.speech_end or time.monotonic())
        self._ts = (self._ts + TS_STEP) & 0xFFFFFFFF

    def _send(self, pt: int, payload: bytes, timestamp: int, marker: bool) -> None:
        self._seq = (self._seq + 1) & 0xFFFF
        if self.transport is None or self.remote is None or not self.sending:
            return
        packet = RtpPacket(
            payload_type=pt,
            marker=int(marker),
            sequence_number=self._seq,
            timestamp=timestamp,
            ssrc=self._ssrc,
            payload=payload,
        )
        self.transport.sendto(packet.serialize(), self.remote)
        self.stats.packets_sent += 1

    # -- receiving ------------------------------------------------------------------------

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        now = time.monotonic()
        if is_rtcp(data):
            return
        try:
            packet = RtpPacket.parse(data)
        except ValueError:
            self.stats.bad_packets += 1
            return
        self.stats.packets_received += 1
        pt = packet.payload_type
        if pt == self.dtmf_pt:
            self._dtmf_arrival = now
            self._dtmf_rx.handle_packet(packet)
            return
        spec = CODECS_BY_PT.get(pt)
        if spec is None or spec.audio_rate != self.received.rate:
            self.stats.other_payload += 1  # comfort noise, unknown or a codec of another rate
            return
        decoder = self._decoders.get(pt)
        if decoder is None:
            decoder = self._decoders[pt] = spec.make()
        samples = np.frombuffer(decoder.decode(packet.payload), dtype="<i2")
        level = rms(samples)
        kept = samples if self.keep_samples else _EMPTY
        self.received.add(ReceivedFrame(now, packet.ssrc, packet.timestamp, level, kept))
        if self._waiters:
            for w in list(self._waiters):
                if now >= w.after and level >= w.min_rms and not w.future.done():
                    w.future.set_result(now)
            self._waiters = [w for w in self._waiters if not w.future.done()]

    def _dtmf_digit(self, digit: str, duration: int) -> None:
        self.dtmf_received.append((digit, self._dtmf_arrival))
        if self.on_dtmf is not None:
            self.on_dtmf(digit, self._dtmf_arrival)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable after the far end closed its socket: expected at hang-up.
        log.debug("RTP socket error: %s", exc)

    def audio_waiter(self, after: float, min_rms: float) -> asyncio.Future[float]:
        """A future for the arrival time of the first frame >= min_rms at/after ``after``."""
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        hit = self.received.first_loud(after, min_rms)
        if hit is not None:
            fut.set_result(hit.arrival)
        else:
            self._waiters.append(_Waiter(after, min_rms, fut))
        return fut


@dataclass
class RtpPortPool:
    """RTP ports for calls, from a range, bound atomically (bind is the test)."""

    host: str = "127.0.0.1"
    first: int = 40000
    last: int = 40999
    _in_use: set[int] = field(default_factory=set)
    _next: int = 0

    async def open(self, stream: MediaStream) -> int:
        """Bind ``stream`` to the next free even port; round-robin so a released port rests."""
        loop = asyncio.get_running_loop()
        first = self.first + (self.first % 2)
        ports = list(range(first, self.last + 1, 2))
        if not ports:
            raise ValueError(f"empty RTP port range {self.first}-{self.last}")
        start = self._next % len(ports)
        for i in range(len(ports)):
            port = ports[(start + i) % len(ports)]
            if port in self._in_use:
                continue
            try:
                await loop.create_datagram_endpoint(lambda: stream, local_addr=(self.host, port))
            except OSError:
                continue
            self._in_use.add(port)
            self._next = (start + i + 1) % len(ports)
            stream.local_port = port
            return port
        raise OSError(f"no free RTP port in {self.host}:{self.first}-{self.last}")

    def release(self, port: int) -> None:
        self._in_use.discard(port)


def random_session_id() -> str:
    return str(int.from_bytes(os.urandom(4), "big"))
