"""What the voices will say, read off the phonemizer itself: Piper's own espeak-ng
(piper-tts bundles it; espeak-ng, the fallback voice, is the same program).

This is the Dutch check with a real engine: no offline recogniser can judge espeak-ng
Dutch (Whisper base: 80–100 % WER, issue 13), but the phonemes show what a Dutch voice
will say. Every abbreviation spelled by voice.speech_text must come out as its letters'
names, each as espeak-ng says that letter alone.
"""

from __future__ import annotations

import re
from functools import cache

import pytest

from voice.speech_text import en, for_speech, nl
from voice.speech_text.common import spell

phonemize_espeak = pytest.importorskip("piper.phonemize_espeak")

VOICES = {"nl": "nl", "en": "en-us"}


@cache
def _phonemizer() -> object:
    return phonemize_espeak.EspeakPhonemizer()


def phonemes(text: str, language: str) -> str:
    """The phonemes of *text*, stress and pauses left out (they differ in and out of a word)."""
    sentences = _phonemizer().phonemize(VOICES[language], text)  # type: ignore[attr-defined]
    return re.sub(r"[ˈˌ\s.,ʲ]", "", "".join("".join(s) for s in sentences))


def letters(word: str, language: str) -> str:
    return "".join(phonemes(c, language) for c in word)


@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_spelled_abbreviation_is_its_letters(language: str) -> None:
    table = (nl if language == "nl" else en).WORDS
    wrong = {}
    for abbreviation in sorted(table.spelled - set(table.as_words)):
        spoken = for_speech(f"de {abbreviation} is", language)
        assert spell(abbreviation) in spoken
        got = phonemes(spoken, language)
        frame = phonemes("de", language), phonemes("is", language)
        inner = got.removeprefix(frame[0]).removesuffix(frame[1])
        # English links an r to a following vowel ("CBR is"): compare without that r
        if inner.rstrip("ɹ") != letters(abbreviation, language).rstrip("ɹ"):
            wrong[abbreviation] = (inner, letters(abbreviation, language))
    assert not wrong, wrong


def test_the_dutch_voice_says_the_english_key_in_english() -> None:
    spoken = for_speech("For English, press 9.", "nl")
    assert phonemes(spoken, "nl").endswith("nɑjn")  # nine, as in English; not "negen"


def test_one_is_een_not_the_article() -> None:
    # "één" (eːn) is the number; a bare "een" is the article (ən): 112, 1 mei, 0800-0113
    for written in ("Bel 112.", "op 1 mei", "via 0800-0113"):
        said = phonemes(for_speech(written, "nl"), "nl")
        assert "eːn" in said and "ən" not in said.replace("eːn", ""), (written, said)
