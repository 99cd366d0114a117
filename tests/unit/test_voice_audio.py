"""PCM helpers and WAV reading/writing."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from voice import audio
from voice.contracts import AudioChunk


def test_int16_and_float_round_trip() -> None:
    pcm = audio.from_int16([0, 1, -1, 32767, -32768, 1234])
    assert audio.to_int16(pcm).tolist() == [0, 1, -1, 32767, -32768, 1234]
    assert audio.from_float(audio.to_float32(pcm)) == pcm


def test_from_float_clips_instead_of_wrapping() -> None:
    assert audio.to_int16(audio.from_float([1.5, -2.0])).tolist() == [32767, -32768]


def test_trailing_odd_byte_is_ignored() -> None:
    assert audio.to_int16(b"\x01\x00\x02").tolist() == [1]


def test_levels() -> None:
    assert audio.dbfs(b"") == audio.SILENCE_DBFS
    assert audio.dbfs(audio.silence_bytes(0.1, 8000)) == audio.SILENCE_DBFS
    sine = audio.tone(1000, 1.0, 16000, amplitude=1.0)
    assert audio.dbfs(sine.pcm) == pytest.approx(-3.01, abs=0.05)
    assert audio.peak_dbfs(sine.pcm) == pytest.approx(0.0, abs=0.01)
    quiet = audio.noise(1.0, 16000, level_dbfs=-40, seed=3)
    assert audio.dbfs(quiet.pcm) == pytest.approx(-40, abs=0.5)
    assert audio.is_silent(quiet.pcm, threshold_dbfs=-30)
    assert not audio.is_silent(sine.pcm)


def test_loudest_window_finds_a_short_burst() -> None:
    burst = audio.concat(
        [audio.silence(2.0, 16000), audio.tone(500, 0.1, 16000, 0.5), audio.silence(2, 16000)]
    )
    assert audio.dbfs(burst.pcm) < -20
    assert audio.loudest_window_dbfs(burst.pcm, 16000) == pytest.approx(-9.0, abs=0.6)


def test_concat_refuses_mixed_rates() -> None:
    with pytest.raises(ValueError, match="different sample rates"):
        audio.concat([audio.silence(0.1, 8000), audio.silence(0.1, 16000)])
    with pytest.raises(ValueError, match="explicit rate"):
        audio.concat([])
    assert audio.concat([], rate=8000) == AudioChunk(b"", 8000)


def test_frames_and_mix() -> None:
    assert [len(f) for f in audio.frames(bytes(700), 320)] == [320, 320, 60]
    a = AudioChunk(audio.from_int16([30000, 1, 2]), 8000)
    b = AudioChunk(audio.from_int16([30000, 1]), 8000)
    assert audio.to_int16(audio.mix(a, b).pcm).tolist() == [32767, 2, 2]


def test_wav_round_trip(tmp_path: Path) -> None:
    chunk = audio.tone(440, 0.25, 22050)
    path = tmp_path / "t.wav"
    audio.write_wav(path, chunk)
    assert audio.read_wav(path) == chunk


def test_stereo_wav_is_mixed_down() -> None:
    frames = np.array([[100, 300], [-100, -300]], dtype="<i2").tobytes()
    header = b"RIFF" + struct.pack("<I", 36 + len(frames)) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 2, 8000, 32000, 4, 16)
    chunk = audio.parse_wav(header + b"data" + struct.pack("<I", len(frames)) + frames)
    assert chunk.rate == 8000
    assert audio.to_int16(chunk.pcm).tolist() == [200, -200]


def test_streaming_header_with_placeholder_sizes() -> None:
    # espeak-ng --stdout writes ~0x7ffff000 as RIFF and data sizes: read to the end.
    out = subprocess.run(
        ["espeak-ng", "--stdout", "-v", "nl", "hallo"], capture_output=True, check=True
    ).stdout
    (data_size,) = struct.unpack_from("<I", out, 40)
    assert data_size > len(out)
    chunk = audio.parse_wav(out)
    assert chunk.rate == 22050
    assert len(chunk.pcm) == len(out) - 44


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"nonsense", "not a RIFF/WAVE"),
        (b"RIFF\x04\x00\x00\x00WAVE", "no data chunk"),
        (b"RIFF\x0c\x00\x00\x00WAVEdata\x00\x00\x00\x00", "data chunk before fmt"),
    ],
)
def test_bad_wav_is_named(data: bytes, message: str) -> None:
    with pytest.raises(audio.WavError, match=message):
        audio.parse_wav(data)


def test_8_bit_wav_is_refused() -> None:
    header = b"RIFF" + struct.pack("<I", 40) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 8000, 1, 8)
    with pytest.raises(audio.WavError, match="only 16-bit PCM"):
        audio.parse_wav(header + b"data" + struct.pack("<I", 4) + b"\x80\x80\x80\x80")


def test_trim_silence_keeps_the_loud_part_with_margins() -> None:
    speech = audio.tone(300, 1.0, 16000, amplitude=0.3)
    padded = audio.concat([audio.silence(2.0, 16000), speech, audio.silence(3.0, 16000)])
    trimmed = audio.trim_silence(padded.pcm, 16000, margin_s=0.25)
    assert len(trimmed) / 32000 == pytest.approx(1.5, abs=0.02)
    assert speech.pcm in trimmed
    assert audio.trim_silence(audio.silence_bytes(1.0, 16000), 16000) == b""
    hiss = audio.noise(1.0, 16000, level_dbfs=-30)
    assert audio.trim_silence(hiss.pcm, 16000) == hiss.pcm  # steady noise is kept
