"""Confirmation when unsure: the decisions and the handoff summary (pure code, no Rasa)."""

from __future__ import annotations

import importlib
from typing import Any, cast

import pytest
import yaml

from .conftest import RASA_DIR, load_package

load_package("loket_rasa_actions", RASA_DIR / "actions")
logic = importlib.import_module("loket_rasa_actions.confirm_logic")
settings = importlib.import_module("loket_rasa_actions.settings")
summary = importlib.import_module("loket_rasa_actions.summary")

CONFIG = settings.queues()
LABELS = settings.topic_labels()


def faq_responses() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for path in sorted((RASA_DIR / "data" / "nlu" / "faq").glob("*.yml")):
        found.update(yaml.safe_load(path.read_text(encoding="utf-8")).get("responses") or {})
    return found


def user(text: str, intent: str, topic: str | None = None) -> dict[str, Any]:
    parse: dict[str, Any] = {"intent": {"name": intent}}
    if topic:
        parse["response_selector"] = {"faq": {"response": {"intent_response_key": f"faq/{topic}"}}}
    return {"event": "user", "text": text, "parse_data": parse}


def bot(action: str, text: str = "...") -> dict[str, Any]:
    return {"event": "bot", "text": text, "metadata": {"utter_action": action}}


def slot(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "name": name, "value": value}


@pytest.mark.parametrize(
    ("intent", "digit", "asked", "meaning"),
    [
        ("affirm", None, logic.ASK, "confirmed"),
        ("dtmf", "1", logic.ASK, "confirmed"),
        ("deny", None, logic.ASK, "denied"),
        ("dtmf", "2", logic.ASK_AGAIN, "denied"),
        ("dtmf", "5", logic.ASK, "again"),
        ("nlu_fallback", None, logic.ASK, "again"),
        ("no_input", None, logic.ASK, "again"),
        ("nlu_fallback", None, logic.ASK_AGAIN, "unclear"),
        ("dtmf", "7", logic.ASK_AGAIN, "unclear"),
        ("affirm", None, logic.ASK_AGAIN, "confirmed"),
    ],
)
def test_reply_meaning(intent: str, digit: str | None, asked: str, meaning: str) -> None:
    assert logic.reply_meaning(intent, digit, asked) == meaning


def test_last_ask_is_the_question_just_before_the_reply() -> None:
    first = [user("wanneer komt de aow", "confirm_topic", "aow_payment"), bot(logic.ASK)]
    assert logic.last_ask([*first, user("ja", "affirm")]) == logic.ASK
    again = [*first, user("eh", "nlu_fallback"), bot(logic.ASK_AGAIN), user("hm", "nlu_fallback")]
    assert logic.last_ask(again) == logic.ASK_AGAIN
    # a question two turns back does not count
    later = [*first, user("eh", "nlu_fallback"), bot("utter_rephrase"), user("x", "deny")]
    assert logic.last_ask(later) is None


def test_candidate_from_the_response_selector() -> None:
    assert logic.candidate(user("x", "confirm_topic", "digid")["parse_data"]) == "digid"
    assert logic.candidate({"intent": {"name": "confirm_topic"}}) is None


def test_every_answer_has_a_topic_name_in_dutch_and_english() -> None:
    responses = faq_responses()
    assert len(responses) >= 25
    for name in responses:
        topic = name.removeprefix("utter_faq/")
        nl = logic.topic_name(responses, topic, "nl")
        en = logic.topic_name(responses, topic, "en")
        assert nl and en, topic
        assert nl != en or topic == "digid", (topic, nl)  # DigiD is DigiD in English too
    assert logic.topic_name(responses, "aow_payment", "nl") == "de betaaldatum van de AOW"
    assert logic.topic_name(responses, "nothing_like_it", "nl") is None


def handoff(events: list[dict[str, Any]]) -> dict[str, Any]:
    result = summary.build_handoff(events, language="nl", config=CONFIG, labels=LABELS)
    return cast(dict[str, Any], result)


def asked_about_aow() -> list[dict[str, Any]]:
    return [
        {"event": "session_started"},
        user("wanneer komt de auw binnen", "confirm_topic", "aow_payment"),
        slot("candidate_topic", "aow_payment"),
        bot(logic.ASK),
    ]


def test_no_hands_off_saying_what_the_assistant_thought() -> None:
    events = [*asked_about_aow(), user("nee", "deny"), bot("utter_handoff_topic_denied")]
    result = handoff(events)
    assert result["reason"] == "topic not confirmed"
    assert result["queue"] == "algemeen"  # not the SVB queue the caller said no to
    s = result["summary"]
    assert s["confirmation"] == {"topic": "aow_payment", "reply": "no"}
    assert s["topic"] is None and s["answered"] == []
    assert s["last_words"] == "wanneer komt de auw binnen"  # the question, not "nee"
    assert s["spoken"] == (
        "Beller zei nee op de vraag of het over AOW-uitbetaling ging. "
        "Laatste woorden: wanneer komt de auw binnen."
    )


def test_unclear_twice_hands_off_keeping_the_topic() -> None:
    events = [
        *asked_about_aow(),
        user("eh", "nlu_fallback"),
        bot(logic.ASK_AGAIN),
        user('/dtmf{"digit":"5"}', "dtmf"),
        bot("utter_handoff_topic_unclear"),
    ]
    result = handoff(events)
    assert result["reason"] == "topic confirmation unclear"
    assert result["queue"] == "svb"
    s = result["summary"]
    assert s["confirmation"] == {"topic": "aow_payment", "reply": "unclear"}
    assert s["spoken"].startswith(
        "Beller gaf geen duidelijk ja of nee op de vraag of het over AOW-uitbetaling ging."
    )


def test_other_handoffs_have_no_confirmation() -> None:
    events = [*asked_about_aow(), user("medewerker", "request_human"), bot("utter_handoff_human")]
    assert handoff(events)["summary"]["confirmation"] is None
