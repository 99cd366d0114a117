"""Text as a voice should say it: numbers, dates, times, amounts, phone numbers,
abbreviations and web addresses written out in words, per language.

Pure and without I/O. Only the audio uses it: what is shown, logged and recorded stays
the written text. The speaker applies it to every sentence before synthesis and keys
the TTS cache by its result, so a change here never replays an old rendering.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from voice.speech_text import en, nl

_LANGUAGES: dict[str, Callable[[str], str]] = {"nl": nl.normalise, "en": en.normalise}


# The same greetings, hold notices and FAQ answers are said on every call; their spoken
# form is worked out once (0.5 ms of regular expressions each time otherwise, on the loop).
@lru_cache(maxsize=1024)
def for_speech(text: str, language: str) -> str:
    """*text* in words for a voice of *language* ("nl", "en", "en-US" …); a language
    without rules is returned as it is."""
    normalise = _LANGUAGES.get(language.split("-")[0].split("_")[0].lower())
    return normalise(text) if normalise else text
