"""The listener's turn decisions, with a scripted VAD and recogniser (no models, no clock skew).

Loud frames are "speech" to the fake scorer, quiet ones are not, so the audio itself
scripts the VAD; the recogniser's peek says what words it would hear so far.
"""

from __future__ import annotations

import numpy as np

from voice.contracts import Transcript
from voice.endpointing import TurnGuess, guess_turn
from voice.listener import Listener, TurnTiming, Utterance
from voice.vad import VadConfig, VoiceActivityDetector

RATE = 8000
FRAME = RATE // 50


class LoudIsSpeech:
    def score(self, windows: np.ndarray) -> list[float]:
        return [0.95 if float(np.abs(w).mean()) > 0.05 else 0.02 for w in windows]

    def reset(self) -> None:
        pass


class ScriptedRecognizer:
    def __init__(self, words: str) -> None:
        self.words = words
        self.fed = 0
        self.peeks = 0
        self.finishes = 0

    async def accept(self, pcm: bytes) -> str:
        self.fed += len(pcm)
        return ""

    async def peek(self) -> Transcript:
        self.peeks += 1
        return Transcript(self.words)

    async def finish(self) -> Transcript:
        self.finishes += 1
        return Transcript(self.words)

    def close(self) -> None:
        pass


def frames(loud: bool, seconds: float) -> list[bytes]:
    """20 ms frames of a 500 Hz tone (speech, to the fake scorer) or of silence."""
    t = np.arange(FRAME) / RATE
    one = ((8000 if loud else 0) * np.sin(2 * np.pi * 500 * t)).astype("<i2").tobytes()
    return [one] * int(seconds * 50)


async def turn_end_after(words: str, timing: TurnTiming) -> tuple[float, ScriptedRecognizer]:
    """Seconds of trailing silence fed before the utterance came out (frame by frame)."""
    got: list[Utterance] = []
    listener = Listener(
        RATE,
        VadConfig(trailing_silence_ms=timing.default_ms, min_speech_ms=100),
        on_utterance=got.append,
        vad=VoiceActivityDetector(
            VadConfig(trailing_silence_ms=timing.default_ms, min_speech_ms=100),
            scorer=LoudIsSpeech(),
        ),
        timing=timing,
    )
    recognizer = ScriptedRecognizer(words)
    listener.set_recognizer(recognizer)
    listener.start()
    try:
        for frame in frames(True, 1.0):
            listener.feed(frame)
            await listener.settled()
        for i, frame in enumerate(frames(False, 2.0)):
            listener.feed(frame)
            await listener.settled()
            if got:
                return (i + 1) * 0.02, recognizer
        raise AssertionError("no end of turn")
    finally:
        await listener.stop()


async def test_a_complete_question_ends_the_turn_early() -> None:
    timing = TurnTiming(early_ms=250, default_ms=600, max_ms=1200)
    waited, rec = await turn_end_after("When is the pension paid?", timing)
    assert 0.25 <= waited < 0.45, waited
    assert rec.peeks == 1 and rec.finishes == 1


async def test_words_trailing_off_wait_longer() -> None:
    timing = TurnTiming(early_ms=250, default_ms=600, max_ms=1200)
    waited, _ = await turn_end_after("ik wil graag weten eh", timing)
    assert 1.1 <= waited < 1.5, waited


async def test_no_clue_uses_the_default() -> None:
    timing = TurnTiming(early_ms=250, default_ms=600, max_ms=1200)
    waited, _ = await turn_end_after("kinderbijslag", timing)
    assert 0.55 <= waited < 0.85, waited


def test_guesses() -> None:
    assert guess_turn("When is my pension paid?") is TurnGuess.COMPLETE
    assert guess_turn("wanneer wordt de aow betaald") is TurnGuess.COMPLETE
    assert guess_turn("I need to know about the") is TurnGuess.HESITANT
    assert guess_turn("ik heb een vraag over eh") is TurnGuess.HESITANT
    assert guess_turn("My question is...") is TurnGuess.HESITANT
    assert guess_turn("kinderbijslag") is TurnGuess.UNKNOWN
    assert guess_turn("") is TurnGuess.UNKNOWN
