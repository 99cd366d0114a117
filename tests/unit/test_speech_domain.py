"""Every answer the caller can hear (tests/speech_answers.py), in its spoken form: no
digit, "%", "€", all-caps abbreviation or bare address is left for the voice to guess at."""

from __future__ import annotations

import re

import pytest

from tests.speech_answers import ANSWERS, config_prompts, rasa_answers
from voice.speech_text import for_speech

# Written forms allowed to reach the voice as they are: (language, text). Kept short on
# purpose — each one needs a reason. None is needed today.
EXCEPTIONS: frozenset[tuple[str, str]] = frozenset()

_LEFT_OVER = {
    "a digit": re.compile(r"\d"),
    "a percent sign": re.compile(r"%"),
    "a euro sign": re.compile(r"€"),
    # spelled letters are "A.O.W": single capitals; a run of two would be read as a word
    "an all-caps abbreviation": re.compile(r"(?<!\w)[A-Z]{2,}(?!\w)"),
    "a bare address": re.compile(r"\w\.(?:nl|com|org|net|eu)\b|www\.|https?:|@", re.I),
}


def test_every_answer_and_prompt_is_covered() -> None:
    # the project has ~90 response variants and ~36 prompts; a path change must not
    # quietly leave this test with nothing to check
    assert len(rasa_answers()) >= 80 and len(config_prompts()) >= 30
    assert {lang for _, lang, _ in ANSWERS} == {"nl", "en"}


@pytest.mark.parametrize(("where", "language", "text"), ANSWERS, ids=[a[0] for a in ANSWERS])
def test_nothing_is_left_for_the_voice_to_guess(where: str, language: str, text: str) -> None:
    if (language, text) in EXCEPTIONS:
        pytest.skip("listed exception")
    spoken = for_speech(text, language)
    found = {what: m.group() for what, rule in _LEFT_OVER.items() if (m := rule.search(spoken))}
    assert not found, f"{where} ({language}): {spoken!r} still has {found}"
