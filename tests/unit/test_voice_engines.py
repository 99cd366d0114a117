"""Engine factory checks and the TTS fallback (with fake engines; real ones in integration)."""

from __future__ import annotations

from pathlib import Path

import pytest

from voice import engines


def test_unknown_engines_are_named() -> None:
    with pytest.raises(ValueError, match=r"unknown STT engine 'kaldi'.*vosk, whisper"):
        engines.build_stt("kaldi", "/nowhere", "nl")
    with pytest.raises(ValueError, match=r"unknown TTS engine 'festival'.*piper, espeak"):
        engines.build_tts("festival", "nl", "nl")


@pytest.mark.parametrize(
    ("kind", "engine"), [("stt", "vosk"), ("stt", "whisper"), ("tts", "piper")]
)
def test_missing_model_says_how_to_get_it(tmp_path: Path, kind: str, engine: str) -> None:
    missing = tmp_path / "vosk-model-small-nl-0.22"
    with pytest.raises(FileNotFoundError, match="loket models"):
        if kind == "stt":
            engines.build_stt(engine, missing, "nl")
        else:
            engines.build_tts(engine, missing.with_suffix(".onnx"), "nl")


def test_espeak_engines_are_cached_per_process() -> None:
    a = engines.build_tts("espeak", "nl", "nl")
    assert engines.build_tts("espeak", "nl", "nl") is a
    assert engines.build_tts("espeak", "en-us", "en") is not a
    assert engines.build_tts("espeak", "nl", "nl", length_scale=1.25) is not a
    engines.clear_cache()
    assert engines.build_tts("espeak", "nl", "nl") is not a
