"""Sample-rate conversion with soxr (band-limited: no aliasing, no plain decimation).

* :class:`Resampler` — one per stream and direction (caller audio 8 kHz → 16 kHz
  for STT; TTS 22.05 kHz → 8 kHz or 16 kHz for the line). It keeps the filter
  state between chunks, so 20 ms frames come out as one continuous signal with
  no clicks at the frame edges.
* :func:`resample` / :func:`resample_chunk` — one-shot conversion of a whole
  utterance or sentence.

soxr's "HQ" quality keeps the passband flat to ~91 % of the lower Nyquist
frequency (3.65 kHz at 8 kHz) and rejects what would fold back by far more
than 16-bit audio can show (measured: a 6 kHz tone at 22.05 kHz comes out of
the 8 kHz conversion ~87 dB down, at the int16 noise floor).

Samples are resampled as float32 and rounded here: soxr's own int16 output adds
random dither, which would make the same text give different bytes each time
(bad for caching and for tests).

Latency: soxr's default constant-rate engine works in DFT blocks, so a stream
fed 20 ms frames lags its input by up to 114 ms (8 → 16 kHz) or 80 ms
(22.05 → 8 kHz) — too much for end-of-turn and barge-in budgets. Streams
therefore use soxr's variable-rate engine at a fixed ratio (``low_latency``,
the default), which lags by at most 30 ms (8 → 16 kHz) / 27 ms (22.05 → 8 kHz)
with the same measured SNR (~87 dB on a sine) at 2–3× the (tiny: 30–70 µs per
20 ms frame) CPU cost. python-soxr calls that engine experimental; pass
``low_latency=False`` for the constant-rate one. One-shot :func:`resample` of a
whole sentence has no such lag and uses the constant-rate engine.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import soxr

from voice.audio import from_float, to_float32
from voice.contracts import SAMPLE_WIDTH, AudioChunk

Quality = Literal["QQ", "LQ", "MQ", "HQ", "VHQ"]
DEFAULT_QUALITY: Quality = "HQ"


def live_resampler(in_rate: int, out_rate: int) -> Resampler:
    """A resampler for live audio, as little delay as the direction allows.

    Going up (8 → 16 kHz: a phone line to speech recognition or to a browser) there is
    nothing above the old Nyquist to alias, so soxr's quick cubic, which holds back
    almost nothing (0.2 ms measured), is enough. Going down (a browser's 16 kHz to the
    phone line) needs the real anti-aliasing filter: HQ, low-latency mode (30 ms).
    """
    if out_rate > in_rate:
        return Resampler(in_rate, out_rate, "QQ", low_latency=False)
    return Resampler(in_rate, out_rate)


class Resampler:
    """Streaming s16le mono resampler for one stream (not shared between calls or threads).

    ``process()`` returns whatever output is ready (it may be a little shorter than
    the exact ratio at first — the filter delay); ``flush()`` ends the stream,
    returns the rest, and leaves the resampler ready for a new stream.
    """

    def __init__(
        self,
        in_rate: int,
        out_rate: int,
        quality: Quality = DEFAULT_QUALITY,
        *,
        low_latency: bool = True,
    ) -> None:
        if in_rate <= 0 or out_rate <= 0:
            raise ValueError("sample rates must be positive")
        self.in_rate = in_rate
        self.out_rate = out_rate
        self.quality = quality
        self.low_latency = low_latency
        self._passthrough = in_rate == out_rate
        self._stream = (
            None
            if self._passthrough
            else soxr.ResampleStream(
                in_rate, out_rate, 1, dtype="float32", quality=quality, vr=low_latency
            )
        )
        self._odd = b""  # a byte of a sample split across two process() calls

    def process(self, pcm: bytes) -> bytes:
        """Feed input PCM; returns the output PCM that is ready."""
        if self._odd:
            pcm = self._odd + pcm
            self._odd = b""
        if len(pcm) % SAMPLE_WIDTH:
            pcm, self._odd = pcm[:-1], pcm[-1:]
        if self._stream is None:
            return pcm
        if not pcm:
            return b""
        return from_float(self._stream.resample_chunk(to_float32(pcm), last=False))

    def flush(self) -> bytes:
        """End of stream: the delayed tail. The resampler then starts afresh."""
        self._odd = b""
        if self._stream is None:
            return b""
        out = self._stream.resample_chunk(np.zeros(0, dtype=np.float32), last=True)
        self._stream.clear()
        return from_float(out)

    def reset(self) -> None:
        """Drop buffered input without output (e.g. playback interrupted by barge-in)."""
        self._odd = b""
        if self._stream is not None:
            self._stream.clear()

    @property
    def delay_samples(self) -> float:
        """Output samples currently held back by the filter."""
        return 0.0 if self._stream is None else float(self._stream.delay())


def resample(pcm: bytes, in_rate: int, out_rate: int, quality: Quality = DEFAULT_QUALITY) -> bytes:
    """Convert a whole s16le mono signal (output length ≈ input × out_rate / in_rate)."""
    if in_rate == out_rate:
        return pcm
    x = to_float32(pcm)
    if x.size == 0:
        return b""
    return from_float(soxr.resample(x, in_rate, out_rate, quality=quality))


def resample_chunk(chunk: AudioChunk, rate: int, quality: Quality = DEFAULT_QUALITY) -> AudioChunk:
    if chunk.rate == rate:
        return chunk
    return AudioChunk(resample(chunk.pcm, chunk.rate, rate, quality), rate)
