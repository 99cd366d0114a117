"""The narrow interfaces the per-call turn loop depends on.

Audio travels as 16-bit little-endian mono PCM bytes, always together with
its sample rate (:class:`AudioChunk`), so nothing guesses a format.
Implementations live elsewhere: RTP and WebRTC media in ``telephony``,
engines in ``voice``, Rasa in ``dialogue``. Protocols are structural, so
an implementation does not import this module.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

SAMPLE_WIDTH = 2  # bytes per sample: s16le


@dataclass(frozen=True, slots=True)
class AudioChunk:
    """Mono s16le PCM with its sample rate."""

    pcm: bytes
    rate: int

    @property
    def samples(self) -> int:
        return len(self.pcm) // SAMPLE_WIDTH

    @property
    def seconds(self) -> float:
        return self.samples / self.rate


@dataclass(frozen=True, slots=True)
class Transcript:
    """A recogniser's final result for one utterance."""

    text: str
    confidence: float | None = None
    audio_s: float = 0.0
    """Seconds of audio the result covers."""
    compute_s: float = 0.0
    """Seconds of engine time spent on it (for real-time factors)."""
    languages: tuple[tuple[str, float], ...] = ()
    """The recogniser's language identification for the utterance, (code, probability)
    most likely first; empty when the engine has none (Vosk, English-only Whisper)."""
    language: str = ""
    """The language *text* is in ('' when the engine does not say): a multilingual engine
    decodes a confidently identified other language in that language."""


class Recognizer(Protocol):
    """Speech-to-text for one call: fed 16 kHz audio, one utterance at a time."""

    async def accept(self, pcm: bytes) -> str:
        """Feed 16 kHz mono s16le audio; returns the partial text so far ('' if none)."""
        ...

    async def finish(self) -> Transcript:
        """End of the utterance: the final text. The recogniser is ready for the next one."""
        ...

    async def peek(self) -> Transcript:
        """The text of the utterance so far, without ending it (to decide the end of turn)."""
        ...

    def close(self) -> None: ...


class SttEngine(Protocol):
    """One loaded model per process; hands out one recogniser per call."""

    name: str
    language: str

    def recognizer(self) -> Recognizer: ...


class TtsEngine(Protocol):
    """Text-to-speech; one loaded voice per process, shared by all calls."""

    name: str
    language: str
    sample_rate: int

    def synthesize(self, text: str) -> AsyncIterator[AudioChunk]:
        """Audio for *text*, sentence by sentence, so playback can start early."""
        ...
