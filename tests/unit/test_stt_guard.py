"""A call's recogniser under a time budget: a raise or a hang is reported once, then quiet."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from voice import workers
from voice.contracts import Transcript
from voice.stt_guard import GuardedRecognizer, RecognizerFault


class Faulty:
    """A recogniser whose ``finish`` raises, or blocks its pool thread, as told."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.calls: list[str] = []
        self.closed = False
        self.release = threading.Event()

    async def accept(self, pcm: bytes) -> str:
        self.calls.append("accept")
        return "partial"

    async def peek(self) -> Transcript:
        self.calls.append("peek")
        return Transcript("so far")

    async def finish(self) -> Transcript:
        self.calls.append("finish")
        if self.mode == "raise":
            raise RuntimeError("decoder broke on: what the caller said")
        if self.mode == "hang":
            await workers.run(self.release.wait, 30.0)
        return Transcript("done")

    def close(self) -> None:
        self.closed = True


@pytest.fixture(autouse=True)
def fresh_pool() -> Iterator[None]:
    workers.shutdown()
    yield
    workers.configure(workers.DEFAULT_THREADS)


async def test_a_raise_is_reported_once_without_the_callers_words() -> None:
    inner = Faulty("raise")
    faults: list[str] = []
    guard = GuardedRecognizer(inner, 2.0, faults.append)
    assert await guard.accept(b"\0\0") == "partial"
    with pytest.raises(RecognizerFault):
        await guard.finish()
    assert faults == ["finish failed: RuntimeError"]
    # dead for the rest of the call: nothing reaches the engine, nothing is reported again
    assert await guard.accept(b"\0\0") == "" and (await guard.finish()).text == ""
    assert (await guard.peek()).text == ""
    assert inner.calls == ["accept", "finish"] and faults == ["finish failed: RuntimeError"]
    guard.close()
    assert inner.closed


async def test_a_hung_pool_job_ends_the_wait_at_the_budget() -> None:
    inner = Faulty("hang")
    faults: list[str] = []
    guard = GuardedRecognizer(inner, 0.3, faults.append)
    started = time.monotonic()
    with pytest.raises(RecognizerFault):
        await guard.finish()
    assert 0.3 <= time.monotonic() - started < 1.0
    assert faults == ["finish took longer than 0.3 s"]
    assert workers.stats().hung == 1
    guard.close()
    assert not inner.closed  # its job may still use it
    inner.release.set()
    async with asyncio.timeout(5):
        while workers.stats().hung:
            await asyncio.sleep(0.01)


async def test_a_healthy_recogniser_passes_through() -> None:
    inner = Faulty("ok")
    guard = GuardedRecognizer(inner, 2.0, lambda d: pytest.fail(d))
    assert (await guard.peek()).text == "so far"
    assert (await guard.finish()).text == "done"
