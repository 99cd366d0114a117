"""Whether an utterance changes the call's language: the rules, without I/O.

The recogniser identifies the language of every utterance (Whisper's language
detection over the whole utterance) and decodes a confident served language in
that language. Whether the *call* changes is decided here, with the caution a
Dutch helpline needs: a Dutch caller who says "DigiD", "okay" or "sorry" must not
be switched to English, so only a confident identification of an utterance long
enough to carry its language counts, never one that began while the disclosure was
being spoken, and only in the first turns of the call. Thresholds come from
:class:`config.language_id.LanguageIdSettings` (measured in bench/language_id.py).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from config.language_id import LanguageIdSettings
from voice.stt_whisper import LanguageSwitch


@dataclass(frozen=True, slots=True)
class LanguageChange:
    """The caller speaks another language than the call's."""

    language: str
    probability: float
    served: bool
    """True: the assistant speaks it (switch); False: a person should take the call."""


@dataclass(frozen=True, slots=True)
class Heard:
    """What the rules look at in one utterance."""

    languages: tuple[tuple[str, float], ...]
    """(code, probability), most likely first."""
    decoded_in: str
    """The language the text is in ('' if the recogniser did not say)."""
    text: str
    speech_s: float
    turn: int
    """1 for the caller's first recognised utterance of the call."""
    began_in_disclosure: bool


def words(text: str) -> int:
    return sum(any(c.isalnum() for c in w) for w in text.split())


def change(
    heard: Heard, current: str, served: Collection[str], conf: LanguageIdSettings
) -> LanguageChange | None:
    """The language change *heard* calls for, or None (stay in *current*)."""
    if not conf.enabled or not heard.languages or heard.began_in_disclosure:
        return None
    if heard.turn > conf.max_turn or heard.speech_s < conf.min_speech_s:
        return None
    if words(heard.text) < conf.min_words:
        return None
    code, p = heard.languages[0]
    if code == current:
        return None
    if code in served:
        # The text must be in that language too (the recogniser decoded it so), or the
        # new language's dialogue would get a Dutch decode of English speech.
        if p >= conf.switch_threshold and heard.decoded_in == code:
            return LanguageChange(code, p, served=True)
        return None
    if code in conf.other and p >= conf.other_threshold:
        return LanguageChange(code, p, served=False)
    return None


def recogniser_switch(
    conf: LanguageIdSettings, engine_language: str, served: Collection[str]
) -> LanguageSwitch:
    """What a multilingual recogniser for *engine_language* decodes in another language:
    the other served languages at ``switch_threshold``, the ``other`` ones at
    ``other_threshold`` (so the agent sees the caller's words in their language)."""
    if not conf.enabled:
        return LanguageSwitch()
    thresholds = [(code, conf.switch_threshold) for code in served if code != engine_language]
    thresholds += [(code, conf.other_threshold) for code in conf.other]
    return LanguageSwitch(tuple(thresholds), conf.min_speech_s)
