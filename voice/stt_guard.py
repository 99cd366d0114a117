"""A call's recogniser that cannot strand the caller: a time budget on every call into it,
and its first failure reported once.

A recogniser that raises, or whose pool job never returns, would otherwise leave the
caller talking to nobody: the listener drops the audio and waits for the next turn. With
this guard the first failure goes to ``on_fault`` (the session hands the call to a human,
with an apology) and the recogniser is dead for the rest of the call: later calls return
nothing at once, so no further pool job is started for it and nothing else is logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from voice import workers
from voice.contracts import Recognizer, Transcript

log = logging.getLogger(__name__)

T = TypeVar("T")

BACKSTOP_S = 1.0
"""Beyond the pool budget: a hang outside the pool (an engine awaiting something)."""


class RecognizerFault(Exception):
    """The recogniser failed or overran its budget (reported through ``on_fault``)."""


class GuardedRecognizer:
    """Wraps one call's recogniser; ``budget_s`` bounds each accept/peek/finish."""

    def __init__(self, inner: Recognizer, budget_s: float, on_fault: Callable[[str], None]) -> None:
        self.inner = inner
        self.budget_s = budget_s
        self.on_fault = on_fault
        self.fault: str | None = None
        self._hung = False

    async def _guarded(self, what: str, op: Callable[[], Awaitable[T]]) -> T:
        try:
            with workers.budget(self.budget_s):
                async with asyncio.timeout(self.budget_s + BACKSTOP_S):
                    return await op()
        except TimeoutError:  # JobTimeout too
            self._hung = True
            detail = f"{what} took longer than {self.budget_s:g} s"
        except Exception as exc:
            detail = f"{what} failed: {type(exc).__name__}"
        self.fault = detail
        # the exception's text may hold what the caller said: type and what failed only
        log.error("stt.failed", extra={"detail": detail})
        self.on_fault(detail)
        raise RecognizerFault(detail)

    async def accept(self, pcm: bytes) -> str:
        if self.fault is not None:
            return ""
        return await self._guarded("accept", lambda: self.inner.accept(pcm))

    async def peek(self) -> Transcript:
        if self.fault is not None:
            return Transcript("")
        return await self._guarded("peek", self.inner.peek)

    async def finish(self) -> Transcript:
        if self.fault is not None:
            return Transcript("")
        return await self._guarded("finish", self.inner.finish)

    def close(self) -> None:
        # A job that hangs may still be using the recogniser's state (a Kaldi recogniser
        # freed under a running decode would crash the process): leave it to the garbage
        # collector, which frees it once that job lets go.
        if not self._hung:
            self.inner.close()
