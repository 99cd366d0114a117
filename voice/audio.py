"""PCM helpers: s16le bytes ⇄ numpy, WAV read/write, levels, silence, test signals.

Everything here is mono 16-bit little-endian PCM, the format of
:class:`voice.contracts.AudioChunk`. Levels are RMS in dBFS, where a full-scale
square wave is 0 dBFS (so a full-scale sine is about -3 dBFS).
"""

from __future__ import annotations

import io
import math
import struct
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt

from voice.contracts import SAMPLE_WIDTH, AudioChunk

FULL_SCALE = 32768.0
SILENCE_DBFS = -120.0
"""Level reported for digital silence (instead of minus infinity)."""

Int16Array = npt.NDArray[np.int16]
Float32Array = npt.NDArray[np.float32]


# --- conversions -----------------------------------------------------------------------------


def to_int16(pcm: bytes | bytearray | memoryview) -> Int16Array:
    """View s16le bytes as int16 samples (a trailing odd byte is ignored)."""
    usable = len(pcm) - len(pcm) % SAMPLE_WIDTH
    return np.frombuffer(pcm, dtype="<i2", count=usable // SAMPLE_WIDTH).astype(np.int16)


def to_float32(pcm: bytes | bytearray | memoryview) -> Float32Array:
    """s16le bytes as float32 samples in [-1, 1)."""
    return (to_int16(pcm).astype(np.float32) / np.float32(FULL_SCALE)).astype(np.float32)


def from_float(samples: npt.ArrayLike) -> bytes:
    """Float samples in [-1, 1] to s16le bytes, clipping anything outside."""
    x = np.asarray(samples, dtype=np.float64) * FULL_SCALE
    return np.clip(np.round(x), -32768, 32767).astype("<i2").tobytes()


def from_int16(samples: npt.ArrayLike) -> bytes:
    return np.asarray(samples).astype("<i2").tobytes()


# --- levels ------------------------------------------------------------------------------------


def rms(pcm: bytes | bytearray | memoryview) -> float:
    """Root-mean-square level as a fraction of full scale (0.0 for empty input)."""
    x = to_int16(pcm).astype(np.float64)
    if x.size == 0:
        return 0.0
    return float(np.sqrt(np.mean(x * x)) / FULL_SCALE)


def to_dbfs(level: float) -> float:
    return SILENCE_DBFS if level <= 0 else max(SILENCE_DBFS, 20 * math.log10(level))


def dbfs(pcm: bytes | bytearray | memoryview) -> float:
    """RMS level in dBFS."""
    return to_dbfs(rms(pcm))


def peak_dbfs(pcm: bytes | bytearray | memoryview) -> float:
    x = to_int16(pcm)
    if x.size == 0:
        return SILENCE_DBFS
    return to_dbfs(float(np.max(np.abs(x.astype(np.int32)))) / FULL_SCALE)


def loudest_window_dbfs(
    pcm: bytes | bytearray | memoryview, rate: int, window_ms: int = 100
) -> float:
    """RMS level of the loudest window: 'is there anything louder than noise in here'."""
    x = to_int16(pcm).astype(np.float64)
    n = max(1, rate * window_ms // 1000)
    if x.size == 0:
        return SILENCE_DBFS
    if x.size <= n:
        return to_dbfs(float(np.sqrt(np.mean(x * x))) / FULL_SCALE)
    usable = x.size - x.size % n
    power = np.mean((x[:usable] * x[:usable]).reshape(-1, n), axis=1)
    return to_dbfs(float(np.sqrt(power.max())) / FULL_SCALE)


def trim_silence(
    pcm: bytes,
    rate: int,
    *,
    floor_dbfs: float = -50.0,
    below_peak_db: float = 40.0,
    margin_s: float = 0.25,
    tail_s: float | None = None,
) -> bytes:
    """Cut leading and trailing quiet from an utterance, keeping ``margin_s`` either side
    (``tail_s``, when given, after the end instead).

    Quiet: 10 ms frames below ``floor_dbfs`` or more than ``below_peak_db`` under the
    loudest frame. Returns b"" when nothing is louder than the floor. Steady noise is
    not "quiet" by this measure, so it is kept (the recogniser must judge it)."""
    n = max(1, rate // 100)
    x = to_int16(pcm).astype(np.float64)
    usable = x.size - x.size % n
    if usable == 0:
        return b""
    power = np.mean((x[:usable] * x[:usable]).reshape(-1, n), axis=1)
    level = 10 * np.log10(np.maximum(power, 1e-12) / FULL_SCALE**2)
    loud = np.flatnonzero(level >= max(floor_dbfs, float(level.max()) - below_peak_db))
    if loud.size == 0 or level.max() < floor_dbfs:
        return b""
    lead = round(margin_s * rate)
    tail = lead if tail_s is None else round(tail_s * rate)
    start = max(0, int(loud[0]) * n - lead)
    end = min(x.size, (int(loud[-1]) + 1) * n + tail)
    return pcm[start * SAMPLE_WIDTH : end * SAMPLE_WIDTH]


def is_silent(pcm: bytes | bytearray | memoryview, threshold_dbfs: float = -50.0) -> bool:
    return dbfs(pcm) < threshold_dbfs


# --- building blocks ---------------------------------------------------------------------------


def silence_bytes(seconds: float, rate: int) -> bytes:
    return bytes(round(seconds * rate) * SAMPLE_WIDTH)


def silence(seconds: float, rate: int) -> AudioChunk:
    return AudioChunk(silence_bytes(seconds, rate), rate)


def concat(chunks: Iterable[AudioChunk], rate: int | None = None) -> AudioChunk:
    """Join chunks of one sample rate (``rate`` is required when there may be none)."""
    parts = list(chunks)
    if not parts:
        if rate is None:
            raise ValueError("concat of no chunks needs an explicit rate")
        return AudioChunk(b"", rate)
    first = parts[0].rate
    if (rate is not None and rate != first) or any(c.rate != first for c in parts):
        raise ValueError("concat: chunks have different sample rates; resample first")
    return AudioChunk(b"".join(c.pcm for c in parts), first)


def frames(pcm: bytes, frame_bytes: int) -> Iterator[bytes]:
    """Split into frames of ``frame_bytes`` (the last one may be shorter)."""
    if frame_bytes <= 0:
        raise ValueError("frame_bytes must be positive")
    for start in range(0, len(pcm), frame_bytes):
        yield pcm[start : start + frame_bytes]


def tone(freq_hz: float, seconds: float, rate: int, amplitude: float = 0.5) -> AudioChunk:
    """A sine tone (test signal). ``amplitude`` is the peak as a fraction of full scale."""
    t = np.arange(round(seconds * rate), dtype=np.float64) / rate
    return AudioChunk(from_float(amplitude * np.sin(2 * np.pi * freq_hz * t)), rate)


def noise(seconds: float, rate: int, level_dbfs: float = -50.0, seed: int = 0) -> AudioChunk:
    """White Gaussian noise at an RMS level (test signal; reproducible by ``seed``)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(round(seconds * rate)) * 10 ** (level_dbfs / 20)
    return AudioChunk(from_float(x), rate)


def mix(a: AudioChunk, b: AudioChunk) -> AudioChunk:
    """Sum two chunks of one rate (the shorter is zero-padded), with clipping."""
    if a.rate != b.rate:
        raise ValueError("mix: different sample rates; resample first")
    x, y = to_int16(a.pcm).astype(np.int32), to_int16(b.pcm).astype(np.int32)
    n = max(x.size, y.size)
    out = np.zeros(n, dtype=np.int32)
    out[: x.size] += x
    out[: y.size] += y
    return AudioChunk(np.clip(out, -32768, 32767).astype("<i2").tobytes(), a.rate)


# --- WAV -----------------------------------------------------------------------------------------


class WavError(ValueError):
    """Not a WAV file we can read (a message says what is wrong)."""


def parse_wav(data: bytes) -> AudioChunk:
    """Read 16-bit PCM WAV bytes into a mono chunk (channels are averaged).

    Tolerates the placeholder sizes streaming writers put in the header (espeak-ng
    ``--stdout`` writes 0x7ffff000-ish RIFF and data sizes): the data chunk simply
    runs to the end of the bytes given.
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise WavError("not a RIFF/WAVE file")
    pos = 12
    fmt: tuple[int, int, int, int] | None = None
    while pos + 8 <= len(data):
        chunk_id = data[pos : pos + 4]
        (size,) = struct.unpack_from("<I", data, pos + 4)
        body = pos + 8
        if chunk_id == b"fmt ":
            if size < 16 or body + 16 > len(data):
                raise WavError("fmt chunk too short")
            tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", data, body)
            fmt = (tag, channels, rate, bits)
        elif chunk_id == b"data":
            if fmt is None:
                raise WavError("data chunk before fmt chunk")
            tag, channels, rate, bits = fmt
            # WAVE_FORMAT_PCM, or WAVE_FORMAT_EXTENSIBLE (assumed PCM sub-format)
            if tag not in (1, 0xFFFE) or bits != 16:
                raise WavError(f"only 16-bit PCM WAV is supported (format {tag}, {bits} bits)")
            if channels < 1 or rate < 1:
                raise WavError(f"bad WAV header: {channels} channels at {rate} Hz")
            end = min(len(data), body + size)
            pcm = data[body:end]
            pcm = pcm[: len(pcm) - len(pcm) % (2 * channels)]
            if channels > 1:
                x = to_int16(pcm).astype(np.int32).reshape(-1, channels).mean(axis=1)
                pcm = np.round(x).astype("<i2").tobytes()
            return AudioChunk(bytes(pcm), rate)
        pos = body + size + (size & 1)
    raise WavError("no data chunk")


def read_wav(path: str | Path) -> AudioChunk:
    return parse_wav(Path(path).read_bytes())


def wav_bytes(chunk: AudioChunk) -> bytes:
    """A mono 16-bit PCM WAV file holding ``chunk``."""
    buf = io.BytesIO()
    size = len(chunk.pcm)
    buf.write(b"RIFF" + struct.pack("<I", 36 + size) + b"WAVE")
    buf.write(b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, chunk.rate, chunk.rate * 2, 2, 16))
    buf.write(b"data" + struct.pack("<I", size) + chunk.pcm)
    return buf.getvalue()


def write_wav(path: str | Path, chunk: AudioChunk) -> None:
    Path(path).write_bytes(wav_bytes(chunk))
