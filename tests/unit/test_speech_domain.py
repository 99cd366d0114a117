"""Every answer the caller can hear, in its spoken form: no digit, "%", "€", all-caps
abbreviation or bare address is left for the voice to guess at.

Over every response variant in the Rasa project (domain/ and the retrieval responses in
data/, slot placeholders filled with a number) and every prompt of config/default.yaml.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from voice.speech_text import for_speech

ROOT = Path(__file__).resolve().parents[2]
RASA = ROOT / "dialogue" / "rasa"
CONFIG = yaml.safe_load((ROOT / "config" / "default.yaml").read_text(encoding="utf-8"))

# Written forms allowed to reach the voice as they are: (language, text). Kept short on
# purpose — each one needs a reason. None is needed today.
EXCEPTIONS: frozenset[tuple[str, str]] = frozenset()

_LEFT_OVER = {
    "a digit": re.compile(r"\d"),
    "a percent sign": re.compile(r"%"),
    "a euro sign": re.compile(r"€"),
    # spelled letters are "A-O-W": single capitals; a run of two would be read as a word
    "an all-caps abbreviation": re.compile(r"(?<!\w)[A-Z]{2,}(?!\w)"),
    "a bare address": re.compile(r"\w\.(?:nl|com|org|net|eu)\b|www\.|https?:|@", re.I),
}


def _placeholder(match: re.Match[str]) -> str:
    name = match.group(1)
    if name.startswith("opening_hours_"):
        return str(CONFIG["opening_hours"][name.removeprefix("opening_hours_")])
    return "12"  # {position}, {minutes} …: a number, which must come out in words too


def _fill(text: str) -> str:
    return re.sub(r"\{(\w+)\}", _placeholder, text)


def _language(variant: dict[str, Any]) -> str:
    for cond in variant.get("condition") or []:
        if isinstance(cond, dict) and cond.get("name") == "language":
            return str(cond["value"])
    return str(CONFIG["default_language"])


def rasa_answers() -> list[tuple[str, str, str]]:
    """(where, language, text) of every response variant with a text."""
    out = []
    files = sorted((RASA / "domain").glob("**/*.yml")) + sorted((RASA / "data").glob("**/*.yml"))
    for path in [*files, RASA / "domain.yml"]:
        if not path.exists():
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        responses = data.get("responses") if isinstance(data, dict) else None
        for name, variants in (responses or {}).items():
            for variant in variants:
                if isinstance(variant, dict) and isinstance(variant.get("text"), str):
                    where = f"{path.relative_to(RASA)}:{name}"
                    out.append((where, _language(variant), _fill(variant["text"])))
    return out


def config_prompts() -> list[tuple[str, str, str]]:
    out = []
    for lang, conf in CONFIG["languages"].items():
        for name, value in conf.items():
            if isinstance(value, str):
                out.append((f"default.yaml:{lang}.{name}", lang, _fill(value)))
    out += [(f"default.yaml:opening_hours.{k}", k, v) for k, v in CONFIG["opening_hours"].items()]
    return out


ANSWERS = rasa_answers() + config_prompts()


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
