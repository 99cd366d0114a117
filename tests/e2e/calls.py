"""What an end-to-end test reads back from a call: the records and what the caller heard."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time

import numpy as np

from tests.stack import Stack
from tests.tools.sip_caller import SipCaller


def heard_share(said: str, heard: str) -> float:
    """The share of the words the bot said that a transcript of the call contains."""

    def words(text: str) -> list[str]:
        return re.findall(r"[a-z0-9]+", text.lower())

    heard_words = set(words(heard))
    said_words = words(said)
    return sum(w in heard_words for w in said_words) / max(1, len(said_words))


def heard_since(call: SipCaller, since: float) -> tuple[bytes, int]:
    """What the caller received from *since* (monotonic) on, as PCM."""
    received = call.media.received
    frames = [f.samples for f in received.frames if f.arrival >= since]
    pcm = np.concatenate(frames) if frames else np.zeros(0, dtype=np.int16)
    return pcm.astype("<i2").tobytes(), received.rate


def records(stack: Stack, since: int = 0) -> list[tuple[str, str]]:
    """The gateway's call records after event number *since*, as (kind, data)."""
    with sqlite3.connect(stack.records_path) as db:
        return list(
            db.execute("SELECT kind, data FROM events WHERE seq > ? ORDER BY seq", (since,))
        )


def last_event(stack: Stack) -> int:
    with sqlite3.connect(stack.records_path) as db:
        return int(db.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0])


async def until_recorded(stack: Stack, kind: str, count: int, since: int, timeout: float) -> None:
    """Wait until the gateway has recorded *count* events of *kind* after *since*.

    The gateway records a greeting or a reply once it has been played, so this tells
    the caller the bot has finished where a pause in the audio could be either the end
    or a sentence that is still being synthesized on a loaded machine."""
    deadline = time.monotonic() + timeout
    while sum(k == kind for k, _ in records(stack, since)) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {count}× {kind} after {timeout} s: {records(stack, since)}")
        await asyncio.sleep(0.1)
