"""VAD decisions with a fake probability source (the Silero model is tested in integration)."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

from voice.audio import Float32Array
from voice.vad import (
    WINDOW_BYTES,
    WINDOW_MS,
    SpeechEnd,
    SpeechSegmenter,
    SpeechStart,
    VadConfig,
    VoiceActivityDetector,
)


def run(seg: SpeechSegmenter, probs: list[float]) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for p in probs:
        for e in seg.feed(p):
            out.append((type(e).__name__, e.window))
    return out


def windows(ms: float) -> int:
    return round(ms / WINDOW_MS)


def test_speech_start_is_dated_back_to_its_first_window() -> None:
    seg = SpeechSegmenter(VadConfig(min_speech_ms=200, trailing_silence_ms=500))
    probs = [0.0] * 10 + [0.9] * 10
    events = run(seg, probs)
    # 200 ms = 6.25 windows: confirmed at the 7th speech window, dated to window 10
    assert events == [("SpeechStart", 10)]
    assert seg.in_speech


def test_short_burst_is_not_speech() -> None:
    seg = SpeechSegmenter(VadConfig(min_speech_ms=200))
    assert run(seg, [0.0] * 5 + [0.95] * 5 + [0.0] * 30) == []
    assert not seg.in_speech


def test_end_after_trailing_silence_dated_at_the_first_silent_window() -> None:
    seg = SpeechSegmenter(VadConfig(min_speech_ms=100, trailing_silence_ms=320))
    probs = [0.0] * 3 + [0.9] * 20 + [0.05] * 12
    events = run(seg, probs)
    assert events == [("SpeechStart", 3), ("SpeechEnd", 23)]
    cfg = VadConfig(min_speech_ms=100, trailing_silence_ms=320)
    end = SpeechSegmenter(cfg).feed_many(probs)[-1]
    assert isinstance(end, SpeechEnd)
    assert end.speech_s == pytest.approx(20 * WINDOW_MS / 1000)
    assert end.at_s == pytest.approx(23 * 0.032)
    assert end.sample == 23 * 512


def test_end_needs_the_full_trailing_silence() -> None:
    seg = SpeechSegmenter(VadConfig(min_speech_ms=64, trailing_silence_ms=500))
    run(seg, [0.9] * 5)
    assert run(seg, [0.0] * (windows(500) - 1)) == []
    assert seg.silence_ms == pytest.approx((windows(500) - 1) * WINDOW_MS)
    assert run(seg, [0.0]) == [("SpeechEnd", 5)]


def test_a_pause_shorter_than_the_trailing_silence_does_not_end_speech() -> None:
    seg = SpeechSegmenter(VadConfig(min_speech_ms=64, trailing_silence_ms=300))
    events = run(seg, [0.9] * 5 + [0.0] * 5 + [0.9] * 5 + [0.0] * 10)
    assert events == [("SpeechStart", 0), ("SpeechEnd", 15)]


def test_hysteresis_between_thresholds_holds_the_state() -> None:
    cfg = VadConfig(threshold=0.5, min_speech_ms=64, trailing_silence_ms=96)
    assert cfg.silence_below == pytest.approx(0.35)
    seg = SpeechSegmenter(cfg)
    # 0.4 is neither speech nor silence: it neither ends speech nor resets the silence count
    assert run(seg, [0.9] * 3 + [0.4] * 20) == [("SpeechStart", 0)]
    assert run(seg, [0.1, 0.4, 0.4]) == [("SpeechEnd", 23)]
    # and before speech, 0.4 does not cancel a candidate that started at 0.9
    seg2 = SpeechSegmenter(cfg)
    assert run(seg2, [0.9, 0.4]) == [("SpeechStart", 0)]


def test_adaptive_trailing_silence_takes_effect_immediately() -> None:
    seg = SpeechSegmenter(VadConfig(min_speech_ms=64, trailing_silence_ms=1000))
    run(seg, [0.9] * 5 + [0.0] * 5)
    seg.trailing_silence_ms = 160  # e.g. the partial transcript is a complete question
    assert run(seg, [0.0]) == [("SpeechEnd", 5)]


def test_reset_restarts_numbering_and_keeps_the_adapted_silence() -> None:
    seg = SpeechSegmenter(VadConfig(min_speech_ms=64))
    seg.trailing_silence_ms = 256
    run(seg, [0.9] * 10)
    seg.reset()
    assert seg.windows == 0 and not seg.in_speech and seg.trailing_silence_ms == 256


def test_config_validation() -> None:
    with pytest.raises(ValueError):
        VadConfig(threshold=1.5)
    with pytest.raises(ValueError):
        VadConfig(threshold=0.5, neg_threshold=0.7)
    with pytest.raises(ValueError):
        VadConfig(min_speech_ms=-1)


class FakeScorer:
    """Speech probability = mean |sample| scaled, recording the thread it ran on."""

    def __init__(self) -> None:
        self.threads: set[int] = set()
        self.resets = 0
        self.windows = 0

    def score(self, windows: Float32Array) -> list[float]:
        assert windows.shape[1:] == (512,) and windows.dtype == np.float32
        self.threads.add(threading.get_ident())
        self.windows += len(windows)
        return [min(1.0, float(np.mean(np.abs(w))) * 10) for w in windows]

    def reset(self) -> None:
        self.resets += 1


def loud(n_windows: int) -> bytes:
    return (np.full(512 * n_windows, 16000, dtype="<i2")).tobytes()


def quiet(n_windows: int) -> bytes:
    return bytes(WINDOW_BYTES * n_windows)


async def test_detector_accepts_any_chunk_length_and_scores_off_the_loop() -> None:
    scorer = FakeScorer()
    vad = VoiceActivityDetector(VadConfig(min_speech_ms=96, trailing_silence_ms=96), scorer)
    stream = quiet(4) + loud(6) + quiet(5)
    events: list[object] = []
    probs: list[float] = []
    for i in range(0, len(stream), 640):  # 20 ms RTP frames: windows straddle chunks
        update = await vad.process(stream[i : i + 640])
        assert update.first_window == len(probs)
        probs += update.probabilities
        events += update.events
    assert len(probs) == 15 and scorer.windows == 15
    assert events == [SpeechStart(4), SpeechEnd(10, 4)]
    assert threading.get_ident() not in scorer.threads


async def test_detector_with_partial_window_does_no_work() -> None:
    scorer = FakeScorer()
    vad = VoiceActivityDetector(scorer=scorer)
    update = await vad.process(bytes(WINDOW_BYTES - 2))
    assert update.probabilities == () and scorer.windows == 0
    update = await vad.process(b"\x00\x00")
    assert len(update.probabilities) == 1


async def test_detector_reset_resets_the_model_state_before_the_next_window() -> None:
    scorer = FakeScorer()
    vad = VoiceActivityDetector(scorer=scorer)
    await vad.process(quiet(1) + b"\x00" * 100)
    vad.reset()
    assert scorer.resets == 0  # applied on the pool, with the next windows
    update = await vad.process(quiet(1))
    assert scorer.resets == 1 and update.first_window == 0 and len(update.probabilities) == 1


def test_process_sync_matches() -> None:
    vad = VoiceActivityDetector(VadConfig(min_speech_ms=64), FakeScorer())
    update = vad.process_sync(quiet(2) + loud(3))
    assert [type(e) for e in update.events] == [SpeechStart]
    assert vad.in_speech


async def test_reset_while_scoring_drops_the_stale_windows() -> None:
    gate = threading.Event()

    class SlowScorer(FakeScorer):
        def score(self, windows: Float32Array) -> list[float]:
            gate.wait(2)
            return super().score(windows)

    vad = VoiceActivityDetector(VadConfig(min_speech_ms=32), SlowScorer())
    pending = asyncio.ensure_future(vad.process(loud(3)))
    await asyncio.sleep(0.02)
    vad.reset()
    gate.set()
    update = await pending
    assert update.events == () and not vad.in_speech and vad.segmenter.windows == 0


def test_unknown_backend_is_named() -> None:
    from voice.vad import make_scorer

    with pytest.raises(ValueError, match="unknown VAD backend"):
        make_scorer("webrtc")  # type: ignore[arg-type]
