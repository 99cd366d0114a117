"""Speaking to a caller: text → spoken form → TTS (with fallback and a prompt cache) → line
rate → media.

Sentences are queued on the media channel as soon as each is synthesized, so the
first sentence plays while the next is being made. A text spoken before at the
same rate and voice comes from the cache and starts with no synthesis at all.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from voice import workers
from voice.audio import concat, trim_silence
from voice.contracts import AudioChunk, TtsEngine
from voice.prompt_cache import PromptCache
from voice.resample import resample
from voice.sentences import split_sentences
from voice.speech_text import for_speech

log = logging.getLogger(__name__)


class Playback(Protocol):
    """The part of a media channel the speaker needs (RtpStream has it)."""

    @property
    def sample_rate(self) -> int: ...

    def play(self, pcm: bytes) -> asyncio.Future[bool]: ...

    def flush(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Spoken:
    """How saying one text went."""

    complete: bool
    """Every sentence was played to the end (not cut by barge-in or hang-up)."""
    failed: bool = False
    """No voice could synthesize it: the caller heard nothing."""
    first_audio_at: float | None = None
    """``time.monotonic()`` when the first audio was handed to the channel."""
    voice: str = ""
    cached: bool = False
    faults: tuple[str, ...] = ()
    """Voices that failed or overran their budget on the way (no personal data)."""


class Rendered(NamedTuple):
    """One sentence ready for the line."""

    voice: str
    pcm: bytes
    cached: bool
    """From the prompt cache (no synthesis)."""


VoiceChoice = Callable[[str], Sequence[TtsEngine]]
"""Language → the voices to try, best first (Piper, then espeak-ng)."""


class Speaker:
    """Shared by all calls: voices per language and the prompt cache."""

    def __init__(
        self, voices: VoiceChoice, cache: PromptCache | None = None, budget_s: float = 6.0
    ) -> None:
        self.voices = voices
        self.cache = cache or PromptCache()
        self.budget_s = budget_s
        """Time for one sentence's synthesis (``voice.tts_timeout_s``); then the next voice."""

    async def _synthesize(self, engine: TtsEngine, sentence: str) -> list[AudioChunk]:
        # the pool budget frees the caller from a hung Piper job; the outer timeout from
        # a hang outside the pool (espeak-ng has its own process timeout as well)
        with workers.budget(self.budget_s):
            async with asyncio.timeout(self.budget_s + 1.0):
                return [c async for c in engine.synthesize(sentence)]

    async def render(
        self, text: str, language: str, rate: int, faults: list[str] | None = None
    ) -> AsyncIterator[Rendered]:
        """Each sentence at *rate*, from the cache or the first voice that works.

        A voice that fails or overruns ``budget_s`` hands the rest of the text, from the
        failing sentence on, to the next one (noted in *faults*). Raises RuntimeError when
        no voice could say anything.
        """
        voices = list(self.voices(language))
        # The voice hears the spoken form ("0800-0543" in words, "AOW" as letters); the
        # cache is keyed by it, so a change of the rules never replays an old rendering.
        sentences = [s for s in (for_speech(s, language) for s in split_sentences(text)) if s]
        sentences = sentences or [text]
        spoken = "\n".join(sentences)
        for engine in voices[:1]:
            cached = self.cache.get(_voice_key(engine), rate, spoken)
            if cached is not None:
                for pcm in cached:
                    yield Rendered(_voice_key(engine), pcm, True)
                return
        current = 0
        rendered: list[bytes] = []
        native: list[AudioChunk] = []
        for sentence in sentences:
            while current < len(voices):
                engine = voices[current]
                try:
                    chunks = await self._synthesize(engine, sentence)
                except TimeoutError:  # workers.JobTimeout too
                    log.error("tts.voice_hung", extra={"voice": engine.name})
                    if faults is not None:
                        faults.append(f"{engine.name} took longer than {self.budget_s:g} s")
                    current += 1
                    continue
                except Exception as exc:
                    log.warning("tts.voice_failed", extra={"voice": engine.name}, exc_info=True)
                    if faults is not None:
                        faults.append(f"{engine.name} failed: {type(exc).__name__}")
                    current += 1
                    continue
                # trimming and resampling a sentence take milliseconds: off the event loop
                whole, pcm = await workers.run_fast(_for_line, chunks, rate)
                rendered.append(pcm)
                native.append(whole)
                yield Rendered(_voice_key(engine), pcm, False)
                break
            else:
                if not rendered:
                    raise RuntimeError(f"no voice could speak {language!r}")
                return
        if current == 0 and voices:  # the whole text in the first voice: keep it
            self.cache.put(_voice_key(voices[0]), rate, spoken, rendered, native)

    async def warm(self, texts: Sequence[str], language: str, rate: int) -> None:
        """Synthesize fixed prompts ahead of time so they start instantly."""
        for text in texts:
            async for _ in self.render(text, language, rate):
                pass

    async def warm_in_order(
        self, texts: Sequence[tuple[str, str]], rates: Sequence[int]
    ) -> AsyncIterator[tuple[str, str]]:
        """Warm each (language, text) at every rate, in the given (priority) order; yields
        each once it is ready. A text that fails is logged and skipped.

        Every rate of a text before the next text: the second rate is a cheap resampling
        of the first's disk-cached audio."""
        for language, text in texts:
            for rate in rates:
                try:
                    await self.warm([text], language, rate)
                except Exception:
                    log.warning("voice.warm_failed", extra={"language": language}, exc_info=True)
            yield language, text

    async def say(self, channel: Playback, text: str, language: str) -> Spoken:
        """Speak *text*; returns when it has been played (or cut short)."""
        rate = channel.sample_rate
        futures: list[asyncio.Future[bool]] = []
        first: float | None = None
        last: Rendered | None = None
        faults: list[str] = []
        try:
            async for last in self.render(text, language, rate, faults):
                if any(f.done() and not f.result() for f in futures):
                    break  # cut short while we were synthesizing: stop making more
                futures.append(channel.play(last.pcm))
                if first is None:
                    first = time.monotonic()
        except RuntimeError:
            log.error("tts.no_voice", extra={"language": language})
            return Spoken(False, failed=True, faults=tuple(faults))
        results = await asyncio.gather(*futures) if futures else []
        complete = bool(results) and all(results)
        voice, cached = (last.voice, last.cached) if last else ("", False)
        return Spoken(
            complete, first_audio_at=first, voice=voice, cached=cached, faults=tuple(faults)
        )


LEAD_S = 0.02
"""Quiet kept before a sentence: Piper starts with 40–80 ms of it, which the caller
would hear as that much more delay before the answer."""
TAIL_S = 0.25
"""Quiet kept after a sentence (Piper leaves up to 400 ms): the pause between sentences."""


def _tight(chunk: AudioChunk) -> AudioChunk:
    pcm = trim_silence(chunk.pcm, chunk.rate, floor_dbfs=-55.0, margin_s=LEAD_S, tail_s=TAIL_S)
    return AudioChunk(pcm, chunk.rate) if pcm else chunk


def _for_line(chunks: list[AudioChunk], rate: int) -> tuple[AudioChunk, bytes]:
    """One synthesized sentence: its native audio with the quiet trimmed (for the disk
    cache) and the same at the line's *rate*."""
    whole = _tight(concat(chunks)) if chunks else AudioChunk(b"", rate)
    return whole, (whole.pcm if whole.rate == rate else resample(whole.pcm, whole.rate, rate))


def _voice_key(engine: TtsEngine) -> str:
    """Everything that changes an engine's audio for a text: the cache must not mix voices
    (engine names alone, "espeak", repeat across languages)."""
    key = getattr(engine, "cache_key", None)
    return key if isinstance(key, str) else f"{engine.name}/{engine.language}"
