"""The handoff summary and settings of the Rasa actions (pure code, no Rasa needed)."""

from __future__ import annotations

import importlib
from typing import Any, cast

import pytest

from .conftest import RASA_DIR, ROOT, load_package

load_package("loket_rasa_actions", RASA_DIR / "actions")
settings = importlib.import_module("loket_rasa_actions.settings")
summary = importlib.import_module("loket_rasa_actions.summary")

CONFIG = settings.queues()
LABELS = settings.topic_labels()


def user(text: str, intent: str, topic: str | None = None) -> dict[str, Any]:
    parse: dict[str, Any] = {"intent": {"name": intent}}
    if topic:
        parse["response_selector"] = {"faq": {"response": {"intent_response_key": f"faq/{topic}"}}}
    return {"event": "user", "text": text, "parse_data": parse}


def bot(action: str, text: str = "...") -> dict[str, Any]:
    return {"event": "bot", "text": text, "metadata": {"utter_action": action}}


def handoff(events: list[dict[str, Any]], language: str = "nl") -> dict[str, Any]:
    result = summary.build_handoff(events, language=language, config=CONFIG, labels=LABELS)
    return cast(dict[str, Any], result)


def test_request_for_a_person_after_an_answer() -> None:
    events = [
        {"event": "session_started"},
        user("wanneer wordt de aow betaald", "faq", "aow_payment"),
        bot("utter_faq/aow_payment"),
        bot("utter_anything_else"),
        user("/request_human", "request_human"),
        bot("utter_handoff_human"),
    ]
    result = handoff(events)
    assert result["reason"] == "asked for agent"
    assert result["priority"] == "normal"
    assert result["queue"] == "svb"  # the topic of the last question
    s = result["summary"]
    assert s["topics"] == ["aow_payment"] and s["answered"] == ["aow_payment"]
    assert s["last_words"] == "wanneer wordt de aow betaald"  # not the key press
    assert s["spoken"] == "Beller wil een medewerker spreken. Al beantwoord: AOW-uitbetaling."


def test_crisis_is_urgent_and_goes_to_the_urgent_queue() -> None:
    events = [user("ik wil niet meer leven", "crisis"), bot("utter_handoff_crisis")]
    result = handoff(events)
    assert (result["priority"], result["queue"], result["reason"]) == ("urgent", "urgent", "crisis")
    assert result["summary"]["spoken"].startswith("Urgent. Beller noemt gedachten aan zelfdoding")


def test_personal_case_topic_from_the_callers_words() -> None:
    events = [
        user("mijn huurtoeslag is stopgezet", "personal_case"),
        bot("utter_handoff_personal_case"),
    ]
    result = handoff(events)
    assert result["queue"] == "toeslagen"
    assert result["summary"]["topic"] == "allowances"
    assert result["summary"]["spoken"] == (
        "Beller heeft een vraag over de eigen situatie, onderwerp toeslagen. "
        "Laatste woorden: mijn huurtoeslag is stopgezet."
    )


def test_english_caller_goes_to_the_english_queue_with_a_dutch_summary() -> None:
    events = [user("I want to talk to a human", "request_human"), bot("utter_handoff_human")]
    result = handoff(events, language="en")
    assert result["queue"] == "english"
    assert result["summary"]["language"] == "en"
    assert result["summary"]["spoken"].startswith("Engelstalige beller wil een medewerker spreken.")


def test_two_misses_are_not_understood() -> None:
    events = [
        user("blub", "nlu_fallback"),
        bot("utter_rephrase"),
        user("plof", "nlu_fallback"),
        bot("utter_handoff_not_understood"),
    ]
    result = handoff(events)
    assert result["reason"] == "not understood"
    assert result["summary"]["misses"] == 2
    assert result["summary"]["turns"] == 2


def test_only_the_current_session_counts() -> None:
    events = [
        user("wanneer wordt de aow betaald", "faq", "aow_payment"),
        bot("utter_faq/aow_payment"),
        {"event": "session_started"},
        user("medewerker", "request_human"),
        bot("utter_handoff_human"),
    ]
    assert handoff(events)["summary"]["topics"] == []


def test_last_words_are_cleaned_and_trimmed() -> None:
    text = "hallo\x00\x07 daar\n\t" + "woord " * 100
    events = [user(text, "request_human"), bot("utter_handoff_human")]
    words = handoff(events)["summary"]["last_words"]
    assert words.startswith("hallo daar woord")
    assert len(words) <= summary.LAST_WORDS_CHARS + 1 and words.endswith("…")
    assert all(ch.isprintable() for ch in words)


def test_unknown_handoff_path_falls_back_to_a_person() -> None:
    result = summary.build_handoff(
        [user("x", "request_human")], language="nl", config={}, labels={}
    )
    assert result["queue"] == "general" and result["priority"] == "normal"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("en", "en"),
        ("EN", "en"),
        ("en-US", "en"),
        ("en_GB", "en"),
        ("English", "en"),
        ("nl", "nl"),
        ("nl-NL", "nl"),
        ("Nederlands", "nl"),
        ("fr", None),
        ("", None),
        (None, None),
        (42, None),
        ({"x": 1}, None),
    ],
)
def test_normalise_language(value: Any, expected: str | None) -> None:
    assert settings.normalise_language(value) == expected


def test_opening_hours_from_config_and_environment() -> None:
    import yaml

    hours = settings.opening_hours({})
    if not (ROOT / "config" / "local.yaml").exists():
        default = yaml.safe_load((ROOT / "config" / "default.yaml").read_text())
        assert hours == default["opening_hours"]
    env = {"LOKET_OPENING_HOURS_NL": "Alleen op maandag.", "LOKET_OPENING_HOURS__EN": "Mondays."}
    assert settings.opening_hours(env) == {"nl": "Alleen op maandag.", "en": "Mondays."}


def test_every_handoff_response_has_a_reason() -> None:
    import yaml

    domain = yaml.safe_load((RASA_DIR / "domain" / "handoff.yml").read_text())
    keys = {name[len("utter_handoff_") :] for name in domain["responses"]}
    assert keys <= set(CONFIG["reasons"]), keys - set(CONFIG["reasons"])
