"""soxr resampling: continuity across frames, no aliasing (issue 5), passthrough."""

from __future__ import annotations

import numpy as np
import pytest

from voice.audio import concat, dbfs, frames, to_int16, tone
from voice.contracts import AudioChunk
from voice.resample import Resampler, resample, resample_chunk


def _stream(r: Resampler, pcm: bytes, frame_ms: int = 20) -> bytes:
    frame_bytes = r.in_rate * frame_ms // 1000 * 2
    out = b"".join(r.process(f) for f in frames(pcm, frame_bytes))
    return out + r.flush()


def _middle(pcm: bytes, rate: int) -> bytes:
    """Drop 100 ms at each end (filter start-up and tail)."""
    cut = rate // 10 * 2
    return pcm[cut:-cut]


@pytest.mark.parametrize("low_latency", [True, False])
@pytest.mark.parametrize(
    "pipeline",
    [(22050, 8000), (22050, 16000)],
    ids=["22k05-8k", "22k05-16k"],
)
def test_tone_in_passband_survives_and_tone_above_nyquist_does_not_fold_back(
    pipeline: tuple[int, int], low_latency: bool
) -> None:
    """Issue 5: 3.5 kHz passes 22.05 → 8 kHz; 6 kHz does not alias to 2 kHz."""
    in_rate, out_rate = pipeline
    passing = 3500
    blocked = 6000 if out_rate == 8000 else 9000  # above the new Nyquist
    for freq, should_pass in ((passing, True), (blocked, False)):
        src = tone(freq, 1.0, in_rate, amplitude=0.5).pcm
        out = _middle(_stream(Resampler(in_rate, out_rate, low_latency=low_latency), src), out_rate)
        change = dbfs(out) - dbfs(src)
        if should_pass:
            assert abs(change) < 0.5, f"{freq} Hz lost {change:.1f} dB"
            # and it is still a 3.5 kHz tone
            x = to_int16(out).astype(float)
            peak_hz = np.argmax(np.abs(np.fft.rfft(x))) * out_rate / x.size
            assert peak_hz == pytest.approx(freq, abs=5)
        else:
            assert change < -40, f"{freq} Hz folded back at only {change:.1f} dB"


def test_one_shot_blocks_aliases_too() -> None:
    src = tone(6000, 1.0, 22050, amplitude=0.5).pcm
    assert dbfs(_middle(resample(src, 22050, 8000), 8000)) - dbfs(src) < -40


@pytest.mark.parametrize(("in_rate", "out_rate"), [(8000, 16000), (22050, 8000), (16000, 8000)])
def test_streaming_output_length_matches_ratio(in_rate: int, out_rate: int) -> None:
    src = tone(440, 1.0, in_rate).pcm
    out = _stream(Resampler(in_rate, out_rate), src)
    assert len(out) // 2 == pytest.approx(out_rate, abs=2)


def test_streaming_equals_a_continuous_signal() -> None:
    """Frames come out as one signal: no clicks at 20 ms frame edges."""
    src = tone(1000, 0.5, 8000, amplitude=0.5).pcm
    streamed = to_int16(_stream(Resampler(8000, 16000), src)).astype(float)
    # A clean 1 kHz sine at 16 kHz: sample-to-sample steps never exceed 2π·f/fs·A.
    body = streamed[400:-400]
    assert np.max(np.abs(np.diff(body))) < 2 * np.pi * 1000 / 16000 * 0.5 * 32768 * 1.05


def test_odd_byte_split_across_calls() -> None:
    src = tone(440, 0.2, 8000).pcm
    r = Resampler(8000, 16000)
    a = r.process(src[:161]) + r.process(src[161:]) + r.flush()
    b = Resampler(8000, 16000)
    assert a == b.process(src) + b.flush()


def test_flush_makes_it_reusable_for_a_new_stream() -> None:
    r = Resampler(22050, 8000)
    src = tone(440, 0.3, 22050).pcm
    first = _stream(r, src)
    second = _stream(r, src)
    assert first == second


def test_reset_drops_buffered_audio() -> None:
    r = Resampler(8000, 16000)
    r.process(tone(440, 0.1, 8000).pcm)
    r.reset()
    assert r.flush() == b""


def test_same_rate_is_passthrough() -> None:
    pcm = tone(440, 0.1, 16000).pcm
    r = Resampler(16000, 16000)
    assert r.process(pcm) + r.flush() == pcm
    assert resample(pcm, 16000, 16000) is pcm
    chunk = AudioChunk(pcm, 16000)
    assert resample_chunk(chunk, 16000) is chunk


def test_resample_chunk_and_empty_input() -> None:
    chunk = resample_chunk(concat([tone(300, 0.5, 8000)]), 16000)
    assert chunk.rate == 16000 and chunk.samples == 8000
    assert resample(b"", 8000, 16000) == b""
    assert Resampler(8000, 16000).process(b"") == b""


def test_low_latency_stream_delivers_audio_early() -> None:
    """End of turn and barge-in cannot wait ~110 ms for the resampler's block to fill."""
    r = Resampler(8000, 16000, low_latency=True)
    src = tone(440, 0.2, 8000).pcm
    out = b"".join(r.process(f) for f in frames(src, 320))
    lag_ms = (len(src) / 2 / 8000 - len(out) / 2 / 16000) * 1000
    assert lag_ms <= 40


def test_bad_rates() -> None:
    with pytest.raises(ValueError):
        Resampler(0, 8000)
