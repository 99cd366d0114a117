"""Listening to a caller: line audio → 16 kHz → VAD → recogniser → utterances.

Audio arrives from the media layer synchronously (one 20 ms frame per packet)
and is queued; one task per call does the rest, so the media callback never
waits. The recogniser is fed from the start of speech (with a little audio
from before it, which the VAD needs time to confirm) to its end.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from telephony.aio import cancel_and_wait
from voice import workers
from voice.contracts import Recognizer
from voice.endpointing import TurnGuess, guess_turn
from voice.onset import Onset, OnsetTracker
from voice.resample import live_resampler
from voice.vad import RATE, SpeechEnd, SpeechStart, VadConfig, VadUpdate, VoiceActivityDetector

log = logging.getLogger(__name__)

PRE_ROLL_MS = 300
FEED_MS = 100  # recogniser input is batched: fewer pool jobs, same result
MAX_BACKLOG_FRAMES = 500  # 10 s of 20 ms frames: past that, drop the oldest


@dataclass(frozen=True, slots=True)
class TurnTiming:
    """Trailing silence that ends a turn: at least ``early_ms`` (a complete question),
    normally ``default_ms``, up to ``max_ms`` (the caller is searching for words)."""

    early_ms: int = 250
    default_ms: int = 500
    max_ms: int = 1000
    peek_ms: int = 100
    """When the speculative transcription starts (it takes a few hundred ms itself)."""


@dataclass(frozen=True, slots=True)
class Utterance:
    """One caller turn as heard."""

    text: str
    confidence: float | None
    speech_s: float
    """Duration of the speech (start to end of voice activity)."""
    ended_at: float
    """``time.monotonic()`` at the end of the caller's speech (before the trailing silence)."""
    detected_at: float
    """``time.monotonic()`` when the end of the turn was decided."""
    stt_s: float
    """Recogniser time spent after the end of the turn."""
    recognized: bool = True
    """False when no recogniser exists for the language (speech was only detected)."""
    over_bot: bool = False
    """It began while the bot was talking (a backchannel, if short)."""
    language: str = ""
    """The language *text* is in, as the recogniser decoded it ('' if it does not say)."""
    languages: tuple[tuple[str, float], ...] = ()
    """The recogniser's language identification, (code, probability) most likely first."""


class Listener:
    """One per call. ``feed()`` from the media callback; utterances go to ``on_utterance``
    (by default the ``utterances`` queue)."""

    def __init__(
        self,
        line_rate: int,
        vad_config: VadConfig,
        *,
        max_turn_s: float = 20.0,
        on_speech_start: Callable[[], None] | None = None,
        on_utterance: Callable[[Utterance], None] | None = None,
        vad: VoiceActivityDetector | None = None,
        on_onset: Callable[[], None] | None = None,
        on_gone: Callable[[], None] | None = None,
        bot_speaking: Callable[[], bool] | None = None,
        timing: TurnTiming | None = None,
    ) -> None:
        self.line_rate = line_rate
        self.max_turn_s = max_turn_s
        self.on_speech_start = on_speech_start
        self.utterances: asyncio.Queue[Utterance] = asyncio.Queue()
        self.on_utterance = on_utterance or self.utterances.put_nowait
        self.on_onset = on_onset
        self.on_gone = on_gone
        self.bot_speaking = bot_speaking or (lambda: False)
        self.timing = timing or TurnTiming(default_ms=vad_config.trailing_silence_ms)
        self._guess: TurnGuess | None = None
        self._onset = OnsetTracker(
            threshold=vad_config.threshold, neg_threshold=vad_config.neg_threshold
        )
        self._over_bot = False
        self._vad = vad or VoiceActivityDetector(vad_config)
        self._resampler = live_resampler(line_rate, RATE)
        self._frames: deque[bytes] = deque(maxlen=MAX_BACKLOG_FRAMES)
        self._wake = asyncio.Event()
        self._recognizer: Recognizer | None = None
        self._history = bytearray()  # the last second of 16 kHz audio, for pre-roll
        self._samples = 0  # 16 kHz samples seen
        self._speaking = False
        self._speech_started_mono = 0.0
        self._feed = bytearray()
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self.paused = False

    def set_recognizer(self, recognizer: Recognizer | None) -> None:
        """Switch language (or lose STT); takes effect at the next utterance."""
        old, self._recognizer = self._recognizer, recognizer
        if old is not None and old is not recognizer:
            old.close()

    def set_line_rate(self, rate: int) -> None:
        if rate != self.line_rate:
            self.line_rate = rate
            self._resampler = live_resampler(rate, RATE)

    def feed(self, pcm: bytes) -> None:
        """One frame of line audio (called from the media layer, must not block)."""
        if self.paused:
            return
        self._frames.append(pcm)
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="listener")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        if self._recognizer is not None:
            self._recognizer.close()
            self._recognizer = None

    @property
    def speaking(self) -> bool:
        return self._speaking

    @property
    def voice_active(self) -> bool:
        """Voice heard right now (fast onset tracker; not yet necessarily a turn)."""
        return self._onset.active

    async def settled(self) -> None:
        """Return once every frame fed so far has been processed (tests, benchmarks)."""
        if self._frames:
            self._idle.clear()
        await self._idle.wait()

    async def _run(self) -> None:
        while True:
            if not self._frames:
                self._idle.set()
            await self._wake.wait()
            self._idle.clear()
            self._wake.clear()
            if not self._frames:
                continue
            line = b"".join(self._frames)
            self._frames.clear()
            try:
                # resampling and voice activity on the real-time lane, off the loop
                pcm, update = await workers.run_fast(self._front_end, line)
                if pcm:
                    await self._process(pcm, update)
            except asyncio.CancelledError:
                raise
            except Exception:
                # A failing engine must not silence the call: drop this audio,
                # reset, and keep listening.
                log.exception("listener.failed")
                self._reset_turn()

    def _front_end(self, line: bytes) -> tuple[bytes, VadUpdate]:
        """Line audio → 16 kHz → VAD probabilities (a worker thread; one call at a time)."""
        pcm = self._resampler.process(line)
        return pcm, self._vad.process_sync(pcm)

    async def _process(self, pcm: bytes, update: VadUpdate) -> None:
        self._samples += len(pcm) // 2
        self._remember(pcm)
        for prob in update.probabilities:
            onset = self._onset.feed(prob)
            if onset is Onset.ONSET:
                self._over_bot = self.bot_speaking()
                if self.on_onset is not None:
                    self.on_onset()
            elif onset is Onset.GONE and self.on_gone is not None:
                self.on_gone()
        consumed = False
        for event in update.events:
            if isinstance(event, SpeechStart):
                self._speaking = True
                self._speech_started_mono = time.monotonic() - (
                    (self._samples - event.sample) / RATE
                )
                if self.on_speech_start is not None:
                    self.on_speech_start()
                # Feed from a little before the confirmed start.
                history_start = self._samples - len(self._history) // 2
                begin = max(history_start, event.sample - PRE_ROLL_MS * RATE // 1000)
                offset = 2 * (begin - history_start)
                self._feed += self._history[offset:]
                consumed = True
            elif isinstance(event, SpeechEnd):
                trailing = (self._samples - event.sample) / RATE
                await self._end_turn(time.monotonic() - trailing)
                consumed = True
        if self._speaking and not consumed:
            self._feed += pcm
        if self._speaking:
            if await self._adaptive_end():
                return
            if self._guess is None:  # after a peek the tail is silence: hold it back
                await self._feed_recognizer(force=False)
            if time.monotonic() - self._speech_started_mono > self.max_turn_s:
                await self._end_turn(time.monotonic())

    async def _adaptive_end(self) -> bool:
        """Adaptive end of turn; True when it ended the turn.

        After ``peek_ms`` of silence the recogniser transcribes what it has (Whisper:
        a speculative decode the final result reuses; Vosk: its partial). A complete
        question ends the turn as soon as ``early_ms`` of silence have passed; words
        trailing off ("ik wil eh", "about the")
        stretch the wait to ``max_ms``; otherwise the default trailing silence decides.
        New speech cancels the guess.
        """
        segmenter = self._vad.segmenter
        silence_ms = segmenter.silence_ms
        if silence_ms == 0:
            if self._guess is not None:  # they went on talking
                self._guess = None
                segmenter.trailing_silence_ms = self.timing.default_ms
            return False
        if self._guess is None and silence_ms >= self.timing.peek_ms and self._recognizer:
            await self._feed_recognizer(force=True)
            self._guess = guess_turn((await self._recognizer.peek()).text)
            if self._guess is TurnGuess.HESITANT:
                segmenter.trailing_silence_ms = self.timing.max_ms
            return False  # decide on fresh audio: they may have spoken during the peek
        if self._guess is TurnGuess.COMPLETE and silence_ms >= self.timing.early_ms:
            await self._end_turn(time.monotonic() - silence_ms / 1000)
            return True
        return False

    def _remember(self, pcm: bytes) -> None:
        self._history += pcm
        keep = 2 * RATE  # one second: covers min_speech_ms plus the pre-roll
        if len(self._history) > keep:
            del self._history[: len(self._history) - keep]

    async def _feed_recognizer(self, force: bool) -> None:
        if self._recognizer is None:
            self._feed.clear()
            return
        if not self._feed or (not force and len(self._feed) < 2 * RATE * FEED_MS // 1000):
            return
        chunk = bytes(self._feed)
        self._feed.clear()
        await self._recognizer.accept(chunk)

    async def _end_turn(self, ended_at: float) -> None:
        detected = time.monotonic()
        speech_s = max(0.0, ended_at - self._speech_started_mono)
        self._speaking = False
        self._vad.segmenter.trailing_silence_ms = self.timing.default_ms
        if self._guess is not None:
            self._feed.clear()  # silence after the peek: finish() reuses the peeked result
            self._guess = None
            self._vad.segmenter.end_speech()
        recognizer = self._recognizer
        if recognizer is None:
            self._feed.clear()
            self.on_utterance(
                Utterance(
                    "", None, speech_s, ended_at, detected, 0.0, False, over_bot=self._over_bot
                )
            )
            return
        await self._feed_recognizer(force=True)
        started = time.monotonic()
        result = await recognizer.finish()
        self.on_utterance(
            Utterance(
                result.text.strip(),
                result.confidence,
                speech_s,
                ended_at,
                detected,
                time.monotonic() - started,
                over_bot=self._over_bot,
                language=result.language,
                languages=result.languages,
            )
        )

    def _reset_turn(self) -> None:
        self._speaking = False
        self._guess = None
        self._feed.clear()
