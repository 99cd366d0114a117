"""What a waiting caller hears between announcements: a WAV, or a gentle tone pattern."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from voice.audio import read_wav
from voice.resample import resample

# A slow, quiet arpeggio (C major 7th around middle C), each note faded in and
# out and overlapping the next: never silent, never harsh.
_NOTES_HZ = (261.63, 329.63, 392.0, 493.88, 392.0, 329.63)
_NOTE_S = 0.9
_LEVEL = 0.08  # about -22 dBFS: audible, well below speech


def tone_pattern(rate: int) -> bytes:
    """About five seconds of hold audio at *rate*, meant to loop seamlessly."""
    note_len = int(_NOTE_S * rate)
    total = note_len * len(_NOTES_HZ)
    out = np.zeros(total + note_len, dtype=np.float64)
    t = np.arange(2 * note_len) / rate
    envelope = np.sin(np.pi * np.arange(2 * note_len) / (2 * note_len)) ** 2
    for i, freq in enumerate(_NOTES_HZ):
        start = i * note_len
        wave = np.sin(2 * np.pi * freq * t) + 0.3 * np.sin(4 * np.pi * freq * t)
        out[start : start + 2 * note_len] += wave * envelope
    # fold the tail onto the head so the loop point is continuous
    out[:note_len] += out[total:]
    out = out[:total]
    out *= _LEVEL / max(1e-9, float(np.max(np.abs(out))))
    return (out * 32767).astype("<i2").tobytes()


def hold_audio(rate: int, wav: Path | None = None) -> bytes:
    """The configured WAV at *rate*, or the generated pattern."""
    if wav is None:
        return tone_pattern(rate)
    chunk = read_wav(wav)
    return chunk.pcm if chunk.rate == rate else resample(chunk.pcm, chunk.rate, rate)
