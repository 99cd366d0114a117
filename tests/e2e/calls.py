"""What an end-to-end test reads back from a call on a :class:`~tests.stack.Stack`: the
records and what the caller heard (the helpers of :mod:`tests.phone_helpers`, by stack)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests import phone_helpers as ph
from tests.phone_helpers import heard_share, heard_since
from tests.stack import Stack
from tests.tools.rtp_audio import Pcm, save_wav
from tests.tools.sip_caller import SipCaller, Turn
from voice.stt_whisper import WhisperResult, WhisperStt

__all__ = [
    "ask_and_hear",
    "heard_share",
    "heard_since",
    "last_event",
    "records",
    "until_recorded",
]


def records(stack: Stack, since: int = 0) -> list[tuple[str, str]]:
    """The gateway's call records after event number *since*, as (kind, data)."""
    return ph.records(stack.records_path, since)


def last_event(stack: Stack) -> int:
    return ph.last_event(stack.records_path)


async def until_recorded(stack: Stack, kind: str, count: int, since: int, timeout: float) -> None:
    """Wait until the gateway has recorded *count* events of *kind* after *since*."""
    await ph.until_recorded(stack.records_path, kind, count, since, timeout)


async def ask_and_hear(
    stack: Stack,
    call: SipCaller,
    question: Pcm,
    before: int,
    whisper: WhisperStt,
    wav: Path,
    reply_timeout: float,
) -> tuple[Turn, WhisperResult]:
    """Ask, wait until the reply has been played and heard to its end, then what Whisper
    made of it (with the guard's evidence); the reply's audio is kept in *wav* to listen
    to when a test fails."""
    try:
        turn = await call.ask(question, reply_timeout=reply_timeout)
        await until_recorded(stack, "turn", 1, before, timeout=30)  # the reply was played
        await call.wait_for_silence(1.2, timeout=30)
    finally:
        await call.close()
    pcm, rate = heard_since(call, turn.speech_end)
    save_wav(wav, Pcm(np.frombuffer(pcm, dtype="<i2"), rate))
    return turn, ph.decode(whisper, pcm, rate)
