"""``language_id``: the caller's language identified from speech, without a key.

Part of the one settings object (:class:`config.settings.Settings` holds it and checks it
against ``languages`` and the queues). The thresholds are measured, not guessed:
``bench/language_id.py`` → ``bench/results/language_id.json``; the figures behind the
defaults are in config/default.yaml.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_CODE = re.compile(r"^[a-z]{2,3}$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OtherLanguage(_Section):
    """A language the assistant does not serve, but recognises to pass the caller on."""

    name_nl: str
    """Its Dutch name, for the summary the agent hears ("Pools")."""
    sentence: str | None = None
    """One short sentence in that language, spoken after the English one (with ``voice``)."""
    voice: str | None = None
    """espeak-ng voice for ``sentence`` (``espeak-ng --voices`` lists them); null: none."""
    queue: str | None = None
    """Skill queue of agents who speak it (one of queue.queues); null: the general queue."""

    @model_validator(mode="after")
    def _sentence_needs_voice(self) -> OtherLanguage:
        if self.sentence is not None and self.voice is None:
            raise ValueError("a sentence needs a voice (an espeak-ng voice name) to be spoken")
        return self


class LanguageIdSettings(_Section):
    enabled: bool = True
    switch_threshold: float = Field(0.9, ge=0.3, le=1.0)
    """A served language (other than the call's) identified with at least this probability
    switches the call to it; the recogniser then decodes the utterance in that language."""
    other_threshold: float = Field(0.9, ge=0.3, le=1.0)
    """A language under ``other`` identified with at least this probability sends the
    caller to a person, with the language noted."""
    min_speech_s: float = Field(1.0, ge=0.0, le=10.0)
    """Shorter utterances never change the language ("okay", "DigiD", "sorry")."""
    min_words: int = Field(3, ge=1, le=20)
    """Utterances with fewer recognised words never change the language."""
    max_turn: int = Field(3, ge=1, le=100)
    """Only the caller's first this many utterances may change the language: the language
    is settled early, and a long call is not switched by one odd utterance."""
    other_sentence_en: str = (
        "This assistant speaks Dutch and English. I am transferring you to a person."
    )
    """Said (in English) to a caller speaking one of the ``other`` languages."""
    other: dict[str, OtherLanguage] = Field(default_factory=dict)
    """Whisper language code → what to do with a caller speaking it. A language not named
    here (nor served) never changes anything: Dutch is close to Afrikaans and Frisian,
    and a guess at those would send Dutch callers away."""

    @field_validator("other")
    @classmethod
    def _codes(cls, value: dict[str, OtherLanguage]) -> dict[str, OtherLanguage]:
        for code in value:
            if not _CODE.match(code):
                raise ValueError(f"{code!r} is not a Whisper language code (two letters: pl)")
        return value
