"""Two media legs talking to each other: caller ⇄ agent's browser, caller ⇄ another number.

Each leg's audio is resampled to the other's rate (soxr, streaming) and queued on its
playout. Leg clocks drift a little, so a backlog beyond ``max_backlog_ms`` is cut
back: late audio is worse than a dropped 20 ms in a conversation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from voice.resample import Resampler, live_resampler


class Leg(Protocol):
    on_audio: Callable[[bytes], None] | None

    @property
    def sample_rate(self) -> int: ...

    def play(self, pcm: bytes) -> asyncio.Future[bool]: ...

    def flush(self) -> int: ...

    def backlog_samples(self) -> int: ...


class Bridge:
    def __init__(self, a: Leg, b: Leg, *, max_backlog_ms: int = 120) -> None:
        self.a, self.b = a, b
        self.max_backlog_ms = max_backlog_ms
        self.dropped_ms = 0
        self.muted: set[str] = set()
        self._a_to_b = live_resampler(a.sample_rate, b.sample_rate)
        self._b_to_a = live_resampler(b.sample_rate, a.sample_rate)
        self._saved = (a.on_audio, b.on_audio)
        a.on_audio = lambda pcm: self._forward("a", pcm, self._a_to_b, self.b)
        b.on_audio = lambda pcm: self._forward("b", pcm, self._b_to_a, self.a)
        self.active = True

    def _forward(self, side: str, pcm: bytes, resampler: Resampler, to: Leg) -> None:
        if not self.active or side in self.muted:
            return
        out = resampler.process(pcm)
        if not out:
            return
        limit = to.sample_rate * self.max_backlog_ms // 1000
        if to.backlog_samples() > limit:
            self.dropped_ms += 1000 * to.flush() // to.sample_rate
        to.play(out)

    def mute(self, side: str, muted: bool = True) -> None:
        """Stop one side being heard (the agent's mute button: side "b")."""
        if muted:
            self.muted.add(side)
        else:
            self.muted.discard(side)

    def pause(self) -> None:
        """Nobody hears anybody for now (the legs stay hooked)."""
        self.active = False

    def resume(self) -> None:
        self.active = True

    def stop(self) -> None:
        """Unhook both legs (their audio goes back to whoever listened before)."""
        if self.a.on_audio is None and self.b.on_audio is None:
            return
        self.active = False
        self.a.on_audio, self.b.on_audio = self._saved
        self._saved = (None, None)
