"""Bridging two media legs: resampling, mute, bounded backlog, unhooking."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from telephony.playout import Playout
from voice.bridge import Bridge


class FakeLeg:
    def __init__(self, rate: int) -> None:
        self.sample_rate = rate
        self.on_audio: Callable[[bytes], None] | None = None
        self.playout = Playout(rate // 50)
        self.received = 0

    def play(self, pcm: bytes) -> asyncio.Future[bool]:
        self.received += len(pcm) // 2
        return self.playout.play(pcm)

    def flush(self) -> int:
        return self.playout.flush()

    def backlog_samples(self) -> int:
        return self.playout.backlog_samples()

    def hear(self, pcm: bytes) -> None:
        assert self.on_audio is not None
        self.on_audio(pcm)


async def test_audio_crosses_with_rate_conversion_and_mute() -> None:
    phone, browser = FakeLeg(8000), FakeLeg(16000)
    bridge = Bridge(phone, browser)
    for _ in range(10):
        phone.hear(b"\x10\x00" * 160)  # 20 ms at 8 kHz …
        browser.playout.next_frame()  # … taken out every 20 ms at 16 kHz
    # twice the samples arrive at 16 kHz (minus the resampler's start-up delay)
    assert 2 * 1600 * 0.8 < browser.received <= 2 * 1600
    assert bridge.dropped_ms == 0
    bridge.mute("b")
    browser.hear(b"\x10\x00" * 320)
    assert phone.received == 0
    bridge.mute("b", False)
    browser.hear(b"\x10\x00" * 320 * 5)
    assert phone.received > 0


async def test_backlog_is_cut_to_keep_latency_bounded() -> None:
    phone, browser = FakeLeg(8000), FakeLeg(8000)
    bridge = Bridge(phone, browser, max_backlog_ms=100)
    for _ in range(50):  # 1 s arrives, nothing is taken out
        phone.hear(b"\x10\x00" * 160)
    assert browser.backlog_samples() <= 8000 * 0.12
    assert bridge.dropped_ms > 0


async def test_stop_gives_the_legs_back() -> None:
    phone, browser = FakeLeg(8000), FakeLeg(8000)
    seen: list[bytes] = []
    phone.on_audio = seen.append
    bridge = Bridge(phone, browser)
    bridge.stop()
    phone.hear(b"\x01\x00")
    assert seen == [b"\x01\x00"] and browser.backlog_samples() == 0
