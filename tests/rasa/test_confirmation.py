"""Confirmation when unsure, through the real trained model, Rasa server and actions.

An unsure factual question gets "U vraagt naar …, klopt dat?" instead of an answer
(components/topic_confirmation.py); yes / key 1 gives the answer, no / key 2 a person
with a summary of what the assistant thought. Unsure comes from the NLU (texts below
chosen because this model is unsure of them — the first tests check that it is) or from
the recogniser's confidence in the message metadata.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from .conftest import RASA_DIR
from .test_assistant import Call, custom, post_json, rasa_url, texts

__all__ = ["rasa_url"]  # the module-scoped Rasa server fixture

pytestmark = pytest.mark.slow

PIPELINE = yaml.safe_load((RASA_DIR / "config.yml").read_text())["pipeline"]
CONFIRM = next(c for c in PIPELINE if c["name"].endswith("TopicConfirmation"))
FALLBACK = next(c for c in PIPELINE if c["name"] == "FallbackClassifier")["threshold"]


def threshold(language: str) -> float:
    return float((CONFIRM.get("language_thresholds") or {}).get(language, CONFIRM["threshold"]))


# Recogniser-like questions (bench/confirmation.py's kind of errors) this model is unsure of.
UNSURE_NL = ("wanneer wordt de kinderbeislag betaald", "child_benefit", "de kinderbijslag")
UNSURE_EN = (
    "when is my old age pay coming",
    "aow_payment",
    "the payment date of the AOW state pension",
)
BETWEEN = "when is the stayed pension payed"  # between the English and Dutch thresholds
CLEAR_NL = "wanneer wordt de aow betaald"
DOUBTFUL_WORDS = CONFIRM["asr_threshold"] / 2  # a recogniser confidence below the threshold


def certainty(url: str, text: str) -> tuple[str, str, float]:
    """(intent, chosen answer, min(faq confidence, answer confidence)) from /model/parse."""
    _, parsed = post_json(f"{url}/model/parse", {"text": text})
    response = parsed["response_selector"]["faq"]["response"]
    faq = next(r["confidence"] for r in parsed["intent_ranking"] if r["name"] == "faq")
    key = str(response["intent_response_key"])
    return parsed["intent"]["name"], key, min(faq, response["confidence"])


def asked_nl(url: str) -> Call:
    """A Dutch call that has just heard the confirmation question about the AOW."""
    call = Call(url)
    replies = call.say(CLEAR_NL, asr_confidence=DOUBTFUL_WORDS)
    assert texts(replies) == "U vraagt naar de betaaldatum van de AOW, klopt dat? Zeg ja of nee."
    return call


@pytest.mark.parametrize(("language", "unsure"), [("nl", UNSURE_NL), ("en", UNSURE_EN)])
def test_the_model_is_unsure_of_these_questions(
    rasa_url: str, language: str, unsure: tuple[str, ...]
) -> None:
    intent, key, sure = certainty(rasa_url, unsure[0])
    assert intent == "confirm_topic" and key == f"faq/{unsure[1]}"
    assert FALLBACK <= sure < threshold(language)


def test_english_callers_have_their_own_threshold(rasa_url: str) -> None:
    """English arrives from a better recogniser: asked less often (config.yml)."""
    _, key, sure = certainty(rasa_url, BETWEEN)
    assert key == "faq/aow_payment" and threshold("en") <= sure < threshold("nl")
    assert "23rd" in texts(Call(rasa_url, "en").say(BETWEEN))
    assert "klopt dat?" in texts(Call(rasa_url, "nl").say(BETWEEN))


def test_an_unsure_dutch_question_is_confirmed_first(rasa_url: str) -> None:
    replies = Call(rasa_url).say(UNSURE_NL[0])
    assert texts(replies) == f"U vraagt naar {UNSURE_NL[2]}, klopt dat? Zeg ja of nee."
    assert custom(replies, "handoff") is None


def test_a_sure_question_is_answered_at_once(rasa_url: str) -> None:
    intent, _, sure = certainty(rasa_url, CLEAR_NL)
    assert intent == "faq" and sure >= CONFIRM["threshold"]
    assert "23e" in texts(Call(rasa_url).say(CLEAR_NL))


@pytest.mark.parametrize("reply", ["ja", "ja dat klopt", '/dtmf{"digit":"1"}'])
def test_yes_gives_the_answer_then_anything_else(rasa_url: str, reply: str) -> None:
    call = Call(rasa_url)
    call.say(UNSURE_NL[0])
    replies = call.say(reply)
    assert "SVB" in texts(replies) and "per kwartaal" in texts(replies)
    assert replies[-1]["text"] == "Kan ik u nog ergens anders mee helpen?"
    # the usual follow-up still works: "nee" ends the call
    assert custom(call.say("nee"), "hangup") is True


@pytest.mark.parametrize("reply", ["nee", "nee dat bedoel ik niet", '/dtmf{"digit":"2"}'])
def test_no_hands_off_with_what_the_assistant_thought(rasa_url: str, reply: str) -> None:
    call = Call(rasa_url)
    call.say(UNSURE_NL[0])
    replies = call.say(reply)
    assert "medewerker" in texts(replies) and "kwartaal" not in texts(replies)
    handoff = custom(replies, "handoff")
    assert handoff["reason"] == "topic not confirmed" and handoff["queue"] == "algemeen"
    summary = handoff["summary"]
    assert summary["confirmation"] == {"topic": "child_benefit", "reply": "no"}
    assert summary["last_words"] == UNSURE_NL[0]
    assert summary["spoken"] == (
        "Beller zei nee op de vraag of het over kinderbijslag ging. "
        f"Laatste woorden: {UNSURE_NL[0]}."
    )


def test_an_unclear_reply_asks_once_more_then_a_person(rasa_url: str) -> None:
    call = asked_nl(rasa_url)
    again = call.say('/dtmf{"digit":"5"}')
    assert texts(again).startswith("Sorry, dat verstond ik niet. Gaat uw vraag over de betaal")
    assert "toets 1" in texts(again) and custom(again, "handoff") is None
    replies = call.say("/no_input")
    handoff = custom(replies, "handoff")
    assert handoff["reason"] == "topic confirmation unclear" and handoff["queue"] == "svb"
    assert handoff["summary"]["confirmation"] == {"topic": "aow_payment", "reply": "unclear"}


def test_yes_after_the_second_question_still_answers(rasa_url: str) -> None:
    call = asked_nl(rasa_url)
    call.say("/nlu_fallback")
    assert "23e" in texts(call.say('/dtmf{"digit":"1"}'))


def test_doubtful_words_are_confirmed_even_when_the_nlu_is_sure(rasa_url: str) -> None:
    call = asked_nl(rasa_url)  # CLEAR_NL is answered at once without asr_confidence
    assert "23e" in texts(call.say("ja"))
    # a confident recogniser changes nothing
    assert "23e" in texts(Call(rasa_url).say(CLEAR_NL, asr_confidence=0.95))


def test_crisis_words_in_reply_to_the_question_still_reach_113(rasa_url: str) -> None:
    call = asked_nl(rasa_url)
    replies = call.say("nee ik wil niet meer leven")
    assert "113" in texts(replies)
    assert custom(replies, "handoff")["priority"] == "urgent"


def test_a_new_question_instead_of_yes_or_no_is_answered(rasa_url: str) -> None:
    call = asked_nl(rasa_url)
    replies = call.say("hoe verleng ik mijn rijbewijs")
    assert "gemeente" in texts(replies) and "23e" not in texts(replies)


def test_english_caller_is_asked_in_english(rasa_url: str) -> None:
    call = Call(rasa_url, "en")
    replies = call.say(UNSURE_EN[0])
    assert texts(replies) == (
        f"You are asking about {UNSURE_EN[2]}, is that right? Please say yes or no."
    )
    replies = call.say("yes")
    assert "23rd" in texts(replies)
    assert replies[-1]["text"] == "Is there anything else I can help you with?"


@pytest.mark.parametrize("reply", ["no", '/dtmf{"digit":"2"}'])
def test_english_no_goes_to_the_english_queue(rasa_url: str, reply: str) -> None:
    call = Call(rasa_url, "en")
    call.say(UNSURE_EN[0])
    replies = call.say(reply)
    assert "agent" in texts(replies)
    handoff: dict[str, Any] = custom(replies, "handoff")
    assert handoff["queue"] == "english" and handoff["reason"] == "topic not confirmed"
    assert handoff["summary"]["spoken"].startswith(
        "Engelstalige beller zei nee op de vraag of het over AOW-uitbetaling ging."
    )
