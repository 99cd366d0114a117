"""Rasa dies (``kill -9``) or hangs (``SIGSTOP``) in the middle of a real phone call.

The caller of :mod:`tests.e2e.test_phone_call` — a real SIP + RTP caller against the real
gateway, Rasa and action server as processes — presses 9, hears the English greeting,
and then Rasa fails; the caller asks a question (spoken by Piper). They must hear the
apology and the handoff (transcribed with Whisper tiny.en) within Rasa's timeout and a
few seconds, and wait in the queue with hold audio; the records say what happened. Once
Rasa is back (SIGCONT, or started again) the next call is answered as ever.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests import phone_helpers as ph
from tests.stack import Stack, rasa_model
from tests.tools.rtp_audio import Pcm, save_wav
from voice.stt_whisper import WhisperStt

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(rasa_model() is None, reason="no trained Rasa model: make train"),
]

TOLD_WITHIN_S = 10.0
"""After Rasa's timeout: the end of the caller's turn (≤ 1 s), Whisper, and the first
sentence of the apology — generous for a loaded two-core machine."""


@pytest.fixture(scope="module")
def whisper() -> WhisperStt:
    return ph.whisper_tiny()


@pytest.fixture(scope="module")
def question() -> Pcm:
    return ph.spoken(ph.piper_voice())


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with Stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


def rasa_timeout(stack: Stack) -> float:
    return float(stack.env["LOKET_RASA__TIMEOUT_S"])


async def caller_told_and_queued(
    stack: Stack, whisper: WhisperStt, question: Pcm, fault: int, tmp_path: Path
) -> float:
    """A call mid-conversation when Rasa gets *fault*; returns the seconds from the end
    of the caller's question to the first audio of the apology."""
    db = stack.records_path
    call, before = await ph.greeting_then_english(stack.sip_uri, db)
    try:
        stack.signal_rasa(fault)
        asked = await call.play(question)
        onset = await call.wait_for_audio(after=asked, timeout=rasa_timeout(stack) + 20)
        await ph.until_recorded(db, "queued", 1, before, timeout=rasa_timeout(stack) + 20)
        await asyncio.sleep(10)  # the apology, the handoff and the wait, then hold audio
        tail = [f.level for f in call.media.received.frames[-150:]]  # the last 3 s
    finally:
        await call.close()
    pcm, rate = ph.heard_since(call, asked)
    heard = ph.decode(whisper, pcm, rate).text
    wav = tmp_path / "heard.wav"
    save_wav(wav, Pcm(np.frombuffer(pcm, dtype="<i2"), rate))
    events = ph.records(db, before)
    evidence = (heard, events, str(wav))
    assert re.search(r"sorry", heard, re.I), evidence
    assert re.search(r"agent|transfer", heard, re.I), evidence
    assert tail and max(tail) > 100, evidence  # on hold: never dead silence
    kinds = [k for k, _ in events]
    errors = [json.loads(d) for k, d in events if k == "error"]
    assert [e["component"] for e in errors] == ["dialogue"], evidence
    assert "handoff" in kinds and "queued" in kinds, evidence
    handoff = next(json.loads(d) for k, d in events if k == "handoff")
    assert handoff["reason"] == "assistant unavailable", evidence
    assert any("pension" in d.lower() for k, d in events if k == "caller_said"), evidence
    return onset - asked


async def answered_as_ever(stack: Stack, question: Pcm) -> None:
    """The next call: greeting, key 9, the question, and Rasa's answer."""
    db = stack.records_path
    call, before = await ph.greeting_then_english(stack.sip_uri, db)
    try:
        await call.ask(question, reply_timeout=30)
        await ph.until_recorded(db, "turn", 1, before, timeout=40)
    finally:
        await call.close()
    events = ph.records(db, before)
    said = " ".join(json.loads(d)["text"] for k, d in events if k == "bot_said")
    assert "SVB" in said, events
    assert "error" not in [k for k, _ in events], events


async def test_rasa_hanging_mid_call_the_caller_is_told_and_queued(
    stack: Stack, whisper: WhisperStt, question: Pcm, tmp_path: Path
) -> None:
    started = time.monotonic()
    try:
        told_after = await caller_told_and_queued(
            stack, whisper, question, signal.SIGSTOP, tmp_path
        )
    finally:
        stack.signal_rasa(signal.SIGCONT)
    # a hung Rasa costs its timeout: the caller waits that long, and no longer
    assert told_after <= rasa_timeout(stack) + TOLD_WITHIN_S, told_after
    await answered_as_ever(stack, question)
    print(f"SIGSTOP: told after {told_after:.1f} s; test {time.monotonic() - started:.0f} s")


async def test_rasa_killed_mid_call_the_caller_is_told_and_queued(
    stack: Stack, whisper: WhisperStt, question: Pcm, tmp_path: Path
) -> None:
    told_after = await caller_told_and_queued(stack, whisper, question, signal.SIGKILL, tmp_path)
    assert told_after <= rasa_timeout(stack) + TOLD_WITHIN_S, told_after
    await asyncio.to_thread(stack.restart_rasa)
    await answered_as_ever(stack, question)
    print(f"kill -9: told after {told_after:.1f} s")
