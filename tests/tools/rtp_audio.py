"""Audio for the test caller: codecs, WAV in/out, frames, RFC 4733 payloads, received audio.

No sockets here. Audio is mono signed 16-bit PCM held in numpy ``int16`` arrays; the rate
travels with it (``Pcm``). Levels are RMS on the int16 scale (full-scale sine ≈ 23170).
"""

from __future__ import annotations

import wave
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soxr
from aiortp import Codec as AiortpCodec
from aiortp import get_codec
from aiortp.dtmf import DTMF_EVENTS, DtmfEvent

Samples = npt.NDArray[np.int16]

FRAME_MS = 20
RTP_CLOCK = 8000  # PCMU, PCMA and (RFC 3551's quirk) G.722 all tick at 8 kHz
TS_STEP = RTP_CLOCK * FRAME_MS // 1000  # 160 timestamp units per 20 ms packet

# Default speech threshold: -44 dBFS. Decoded G.711 silence is 0-8, TTS speech is 1,000+.
SPEECH_RMS = 200.0


@dataclass(frozen=True)
class CodecSpec:
    """An audio codec as negotiated in SDP: name, static payload type and audio rate."""

    name: str
    payload_type: int
    audio_rate: int

    @property
    def frame_samples(self) -> int:
        return self.audio_rate * FRAME_MS // 1000

    def make(self) -> AiortpCodec:
        """A fresh aiortp codec instance (G.722 keeps ADPCM state: one per stream)."""
        return get_codec(self.payload_type)


CODECS: dict[str, CodecSpec] = {
    "PCMU": CodecSpec("PCMU", 0, 8000),
    "PCMA": CodecSpec("PCMA", 8, 8000),
    "G722": CodecSpec("G722", 9, 16000),
}
CODECS_BY_PT: dict[int, CodecSpec] = {c.payload_type: c for c in CODECS.values()}


def codec_spec(name: str) -> CodecSpec:
    try:
        return CODECS[name.upper()]
    except KeyError:
        raise ValueError(f"unsupported codec {name!r}; use one of {', '.join(CODECS)}") from None


@dataclass
class Pcm:
    """Mono s16 audio with its sample rate."""

    samples: Samples
    rate: int

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate

    def resampled(self, rate: int) -> Pcm:
        """This audio at ``rate`` (soxr, high quality: no aliasing on the way down)."""
        if rate == self.rate:
            return self
        if len(self.samples) == 0:
            return Pcm(self.samples, rate)
        out = soxr.resample(self.samples, self.rate, rate, quality="HQ")
        return Pcm(np.asarray(out, dtype=np.int16), rate)

    @classmethod
    def silence(cls, seconds: float, rate: int) -> Pcm:
        return cls(np.zeros(round(seconds * rate), dtype=np.int16), rate)

    @classmethod
    def tone(cls, freq: float, seconds: float, rate: int, amplitude: float = 8000.0) -> Pcm:
        t = np.arange(round(seconds * rate)) / rate
        return cls((amplitude * np.sin(2 * np.pi * freq * t)).astype(np.int16), rate)


def load_wav(path: str | Path) -> Pcm:
    """Read a PCM WAV file (8/16/24/32-bit integer, any rate, stereo is mixed down)."""
    with wave.open(str(path), "rb") as w:
        width, channels, rate = w.getsampwidth(), w.getnchannels(), w.getframerate()
        raw = w.readframes(w.getnframes())
    if width == 1:
        data = (np.frombuffer(raw, dtype=np.uint8).astype(np.int32) - 128) << 8
    elif width == 2:
        data = np.frombuffer(raw, dtype="<i2").astype(np.int32)
    elif width == 3:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        data = ((b[:, 0] << 8) | (b[:, 1] << 16) | (b[:, 2] << 24)) >> 16
    elif width == 4:
        data = np.frombuffer(raw, dtype="<i4").astype(np.int64) >> 16
    else:  # pragma: no cover - wave rejects other widths itself
        raise ValueError(f"{path}: unsupported sample width {width}")
    if channels > 1:
        data = data.reshape(-1, channels).mean(axis=1)
    return Pcm(np.clip(data, -32768, 32767).astype(np.int16), rate)


def save_wav(path: str | Path, pcm: Pcm) -> None:
    """Write mono 16-bit PCM WAV."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(pcm.rate)
        w.writeframes(pcm.samples.astype("<i2").tobytes())


def rms(samples: Samples) -> float:
    n = len(samples)
    if n == 0:
        return 0.0
    x = samples.astype(np.float64)
    return float(np.sqrt(x.dot(x) / n))  # dot: a third of np.mean's cost per 20 ms frame


def split_frames(pcm: Pcm, frame_samples: int) -> list[Samples]:
    """Cut audio into whole frames; the last one is padded with silence."""
    n = len(pcm.samples)
    if n == 0:
        return []
    padded = np.zeros(-(-n // frame_samples) * frame_samples, dtype=np.int16)
    padded[:n] = pcm.samples
    return list(padded.reshape(-1, frame_samples))


# --- RFC 4733 telephone-event --------------------------------------------------------------


@dataclass(frozen=True)
class DtmfPacket:
    """One telephone-event payload for one 20 ms tick."""

    payload: bytes
    marker: bool
    end: bool


def dtmf_event_packets(digit: str, duration_ms: int = 100, volume: int = 10) -> list[DtmfPacket]:
    """The packets of one RFC 4733 event, one per 20 ms tick, all sharing one RTP timestamp.

    Workaround for aiortp 0.8.0 (``aiortp/dtmf.py:121-150``): its DtmfSender sends all packets
    of a digit in one burst and marks the first *end* packet. RFC 4733 §2.5.1 wants the
    marker on the *first* packet of the event, the duration growing every packet interval,
    and the end packet sent three times (§2.5.1.4); the caller paces these one per tick.
    """
    code = DTMF_EVENTS.get(digit.upper())
    if code is None:
        raise ValueError(f"invalid DTMF digit {digit!r}")
    total = max(1, round(duration_ms / FRAME_MS)) * TS_STEP
    packets = []
    for i, dur in enumerate(range(TS_STEP, total + 1, TS_STEP)):
        ev = DtmfEvent(event=code, end=False, volume=volume, duration=dur)
        packets.append(DtmfPacket(ev.serialize(), marker=i == 0, end=False))
    end = DtmfEvent(event=code, end=True, volume=volume, duration=total).serialize()
    packets.extend(DtmfPacket(end, marker=False, end=True) for _ in range(3))
    return packets


# --- Received audio ------------------------------------------------------------------------


@dataclass
class ReceivedFrame:
    arrival: float  # time.monotonic() when the datagram was read
    ssrc: int
    timestamp: int  # RTP timestamp
    level: float  # RMS
    samples: Samples


@dataclass
class ReceivedAudio:
    """Everything decoded from the far end, with arrival times, for onset/silence and WAV."""

    rate: int
    frames: list[ReceivedFrame] = field(default_factory=list)

    def add(self, frame: ReceivedFrame) -> None:
        self.frames.append(frame)

    def first_loud(self, after: float, min_rms: float) -> ReceivedFrame | None:
        """First frame that arrived at or after ``after`` with level >= ``min_rms``."""
        for f in self._since(after):
            if f.level >= min_rms:
                return f
        return None

    def last_loud(self, after: float, min_rms: float) -> ReceivedFrame | None:
        for f in reversed(self.frames):
            if f.arrival < after:
                return None
            if f.level >= min_rms:
                return f
        return None

    def _since(self, after: float) -> Iterator[ReceivedFrame]:
        lo, hi = 0, len(self.frames)  # arrivals are non-decreasing: bisect
        while lo < hi:
            mid = (lo + hi) // 2
            if self.frames[mid].arrival < after:
                lo = mid + 1
            else:
                hi = mid
        for i in range(lo, len(self.frames)):
            yield self.frames[i]

    def pcm(self, start: float | None = None, end: float | None = None) -> Pcm:
        """The received audio on one timeline (gaps, e.g. DTX, become silence).

        Frames of one SSRC are placed by RTP timestamp; a new SSRC (another media source at
        the far end) starts where its first packet arrived on the wall clock.
        """
        frames = [
            f
            for f in self.frames
            if (start is None or f.arrival >= start) and (end is None or f.arrival < end)
        ]
        if not frames:
            return Pcm(np.zeros(0, dtype=np.int16), self.rate)
        scale = self.rate / RTP_CLOCK
        t0 = frames[0].arrival
        anchors: dict[int, tuple[int, int]] = {}  # ssrc -> (first timestamp, position)
        placed: list[tuple[int, Samples]] = []
        cursor = 0
        for f in frames:
            if f.ssrc not in anchors:
                pos = max(cursor, round((f.arrival - t0) * self.rate))
                anchors[f.ssrc] = (f.timestamp, pos)
            ts0, pos0 = anchors[f.ssrc]
            delta = (f.timestamp - ts0) & 0xFFFFFFFF
            if delta >= 0x80000000:
                delta -= 1 << 32
            pos = pos0 + round(delta * scale)
            if pos < 0 or pos > cursor + 600 * self.rate:  # nonsense timestamp: drop
                continue
            placed.append((pos, f.samples))
            cursor = max(cursor, pos + len(f.samples))
        out = np.zeros(cursor, dtype=np.int16)
        for pos, s in placed:
            out[pos : pos + len(s)] = s
        return Pcm(out, self.rate)

    def save_wav(self, path: str | Path, rate: int | None = None) -> None:
        pcm = self.pcm()
        save_wav(path, pcm.resampled(rate) if rate else pcm)
