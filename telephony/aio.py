"""Small asyncio pieces the adapters around sans-IO cores share."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any


async def cancel_and_wait(task: asyncio.Task[Any] | None) -> None:
    """Cancel *task* and wait until it has really finished."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


class TimerSlot:
    """The one pending timer of a sans-IO core, re-armed to the core's next deadline."""

    def __init__(self, callback: Callable[[], None]) -> None:
        self._callback = callback
        self._handle: asyncio.TimerHandle | None = None
        self._when: float | None = None

    def arm(self, when: float | None, now: float) -> None:
        """Fire at *when* (on the same clock as *now*); None: no timer."""
        if when == self._when:
            return
        self.cancel()
        self._when = when
        if when is not None:
            loop = asyncio.get_running_loop()
            self._handle = loop.call_later(max(0.0, when - now), self._fire)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._handle = None
        self._when = None

    def _fire(self) -> None:
        self._handle = None
        self._when = None
        self._callback()
