"""Engine factory checks and the TTS fallback (with fake engines; real ones in integration)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from voice import engines
from voice.audio import silence
from voice.contracts import AudioChunk, TtsEngine


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


class FakeTts:
    def __init__(self, name: str, rate: int, fail_on: str | None = None) -> None:
        self.name = name
        self.language = "nl"
        self.sample_rate = rate
        self.fail_on = fail_on
        self.spoken: list[str] = []

    async def synthesize(self, text: str) -> AsyncIterator[AudioChunk]:
        if self.fail_on is not None and self.fail_on in text:
            raise RuntimeError("voice broke")
        self.spoken.append(text)
        yield silence(0.1, self.sample_rate)


async def test_fallback_takes_over_from_the_failing_sentence_on() -> None:
    primary = FakeTts("piper", 22050, fail_on="Twee")
    backup = FakeTts("espeak", 16000)
    tts: TtsEngine = engines.FallbackTts(primary, backup)
    chunks = [c async for c in tts.synthesize("Een. Twee. Drie.")]
    assert primary.spoken == ["Een."]
    assert backup.spoken == ["Twee.", "Drie."]
    assert [c.rate for c in chunks] == [22050, 16000, 16000]
    assert isinstance(tts, engines.FallbackTts) and tts.failures == 1


async def test_fallback_unused_when_primary_works() -> None:
    primary, backup = FakeTts("piper", 22050), FakeTts("espeak", 22050)
    tts = engines.FallbackTts(primary, backup)
    assert len([c async for c in tts.synthesize("Een. Twee.")]) == 2
    assert backup.spoken == [] and tts.failures == 0
