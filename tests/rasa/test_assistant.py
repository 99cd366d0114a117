"""The assistant through a real Rasa server and action server, over the REST channel.

Starts both (127.0.0.1, spare ports, a temporary tracker database) once for this
module with the model `make train` produced (training first if the data changed).
Needs the Rasa environment (.venv-rasa, `make rasa-venv`); without it the tests are
skipped locally and fail in CI (CI=true).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from .conftest import ROOT, SCRIPTS_DIR, load_module, nlu_examples, unseen_phrasings

project = load_module("loket_rasa_project", SCRIPTS_DIR / "project.py")
reloader = load_module("loket_rasa_reload", SCRIPTS_DIR / "reload.py")

pytestmark = pytest.mark.slow
RASA_PORT, ACTIONS_PORT = 5205, 5255
CONFIG = yaml.safe_load((ROOT / "config" / "default.yaml").read_text())


@pytest.fixture(scope="module")
def rasa_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    python = project.rasa_venv() / "bin" / "python"
    if not python.exists():
        message = f"no Rasa environment at {project.rasa_venv()}: run `make rasa-venv`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    trained = subprocess.run(
        [str(python), str(SCRIPTS_DIR / "train.py")],
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
    )
    assert trained.returncode == 0, trained.stdout[-2000:] + trained.stderr[-2000:]
    tmp = tmp_path_factory.mktemp("rasa")
    with project.servers(
        rasa_port=RASA_PORT,
        actions_port=ACTIONS_PORT,
        log_dir=tmp,
        tracker_db=str(tmp / "tracker.sqlite"),
    ) as url:
        yield url


def post_json(url: str, body: dict[str, Any]) -> tuple[int, Any]:
    req = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.status, json.loads(resp.read())


class Call:
    """One conversation (a phone call) with the assistant."""

    def __init__(self, url: str, language: str | None = "nl") -> None:
        self.url, self.language = url, language
        self.sender = f"test-{uuid.uuid4().hex[:10]}"

    def post(self, body: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
        return post_json(f"{self.url}/webhooks/rest/webhook", body)

    def say(self, message: str, **metadata: Any) -> list[dict[str, Any]]:
        meta: dict[str, Any] = {"channel": "text"}
        if self.language is not None:
            meta["language"] = self.language
        meta.update(metadata)
        status, replies = self.post({"sender": self.sender, "message": message, "metadata": meta})
        assert status == 200
        assert replies, f"no reply to {message[:60]!r}"
        return replies


def texts(replies: list[dict[str, Any]]) -> str:
    return " ".join(r["text"] for r in replies if r.get("text"))


def custom(replies: list[dict[str, Any]], key: str) -> Any:
    found = [
        r["custom"][key]
        for r in replies
        if isinstance(r.get("custom"), dict) and key in r["custom"]
    ]
    assert len(found) <= 1, replies
    return found[0] if found else None


# --- answers --------------------------------------------------------------------------


def test_dutch_answer_states_the_fact_and_asks_for_more(rasa_url: str) -> None:
    replies = Call(rasa_url).say("wanneer wordt de aow betaald")
    assert "SVB" in texts(replies) and "23e" in texts(replies)
    assert replies[-1]["text"] == "Kan ik u nog ergens anders mee helpen?"


def test_english_answer_from_a_whisper_style_transcript(rasa_url: str) -> None:
    replies = Call(rasa_url, "en").say("When is the AOW paid?")
    assert "SVB" in texts(replies) and "23rd" in texts(replies)
    assert replies[-1]["text"] == "Is there anything else I can help you with?"


@pytest.mark.parametrize("language", [None, "fr", "", "EN-gb"])
def test_unknown_or_missing_language(rasa_url: str, language: str | None) -> None:
    text = texts(Call(rasa_url, language).say("hoe verleng ik mijn rijbewijs"))
    if language == "EN-gb":
        assert "driving licence" in text
    else:
        assert "rijbewijs" in text and "gemeente" in text


def test_opening_hours_come_from_the_config(rasa_url: str) -> None:
    hours = CONFIG["opening_hours"]
    assert hours["nl"] in texts(Call(rasa_url).say("wat zijn jullie openingstijden"))
    assert hours["en"] in texts(Call(rasa_url, "en").say("What are your opening hours?"))


def test_no_more_questions_says_goodbye_and_hangs_up(rasa_url: str) -> None:
    call = Call(rasa_url)
    call.say("hoe vraag ik zorgtoeslag aan")
    replies = call.say("nee dat was het")
    assert custom(replies, "hangup") is True
    assert "Tot ziens" in texts(replies)


def test_repeat_says_the_answer_again(rasa_url: str) -> None:
    call = Call(rasa_url)
    first = texts(call.say("wat is het nummer van de belastingtelefoon"))
    assert "0800-0543" in first
    assert texts(call.say("kunt u dat herhalen")) == first


# --- handoff --------------------------------------------------------------------------


def test_key_0_hands_off_with_a_summary(rasa_url: str) -> None:
    call = Call(rasa_url)
    call.say("wanneer wordt de aow betaald")
    replies = call.say("/request_human")
    handoff = custom(replies, "handoff")
    assert "medewerker" in texts(replies)
    assert handoff["reason"] == "asked for agent" and handoff["priority"] == "normal"
    assert handoff["queue"] == "svb"
    summary = handoff["summary"]
    assert summary["answered"] == ["aow_payment"] and summary["language"] == "nl"
    assert summary["last_words"] == "wanneer wordt de aow betaald"
    assert summary["spoken"] == "Beller wil een medewerker spreken. Al beantwoord: AOW-uitbetaling."


@pytest.mark.parametrize(
    "words", ["medewerker", "ik wil een mens spreken", "mag ik iemand aan de lijn"]
)
def test_asking_for_a_person_in_dutch(rasa_url: str, words: str) -> None:
    assert custom(Call(rasa_url).say(words), "handoff")["reason"] == "asked for agent"


def test_asking_for_a_person_in_english(rasa_url: str) -> None:
    replies = Call(rasa_url, "en").say("Can I speak to a real person?")
    handoff = custom(replies, "handoff")
    assert handoff["queue"] == "english"
    assert handoff["summary"]["spoken"].startswith("Engelstalige beller")
    assert "agent" in texts(replies)


def test_personal_case_hands_off(rasa_url: str) -> None:
    handoff = custom(Call(rasa_url).say("mijn toeslag is stopgezet"), "handoff")
    assert handoff["reason"] == "personal case" and handoff["queue"] == "toeslagen"


@pytest.mark.parametrize(
    ("language", "words"),
    [("nl", "ik wil niet meer leven"), ("en", "I don't want to live anymore.")],
)
def test_crisis_gives_113_and_an_urgent_handoff(rasa_url: str, language: str, words: str) -> None:
    replies = Call(rasa_url, language).say(words)
    assert "113" in texts(replies) and "0800-0113" in texts(replies)
    handoff = custom(replies, "handoff")
    assert (handoff["priority"], handoff["reason"]) == ("urgent", "crisis")


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "i don't see the point of living anymore"),  # the classifier said `goodbye`
        ("en", "honestly I think everyone would be better off dead without me"),
        ("nl", "ik denk erover om er een eind aan te maken"),
        ("nl", "eh ik ben zo levensmoe"),
    ],
)
def test_crisis_words_are_crisis_whatever_the_classifier_says(
    rasa_url: str, language: str, words: str
) -> None:
    """components/safety_net.py: the `crisis_words` regexes override the classifier."""
    handoff = custom(Call(rasa_url, language).say(words), "handoff")
    assert handoff is not None, words
    assert (handoff["priority"], handoff["reason"]) == ("urgent", "crisis")


def test_a_money_idiom_is_not_taken_for_crisis(rasa_url: str) -> None:
    handoff = custom(Call(rasa_url).say("ik kan niet meer leven van mijn uitkering"), "handoff")
    assert handoff is None or handoff["reason"] != "crisis"


def test_emergency_gives_112_at_once(rasa_url: str) -> None:
    replies = Call(rasa_url).say("help er is brand in mijn huis")
    assert "112" in replies[0]["text"]
    assert custom(replies, "handoff")["priority"] == "urgent"


def test_two_misses_in_a_row_hand_off(rasa_url: str) -> None:
    call = Call(rasa_url)
    first = call.say("/nlu_fallback")
    assert custom(first, "handoff") is None and "andere woorden" in texts(first)
    handoff = custom(call.say("/nlu_fallback"), "handoff")
    assert handoff["reason"] == "not understood"


def test_a_miss_then_a_question_resets(rasa_url: str) -> None:
    call = Call(rasa_url)
    call.say("/nlu_fallback")
    call.say("hoe vraag ik een paspoort aan")
    assert custom(call.say("/nlu_fallback"), "handoff") is None


# --- keys, silence, language ----------------------------------------------------------


def test_key_9_switches_to_english(rasa_url: str) -> None:
    call = Call(rasa_url)
    replies = call.say('/set_language{"language":"en"}')
    assert custom(replies, "language") == "en"
    assert texts(replies) == "You can now speak English. What is your question?"
    call.language = "en"  # the gateway follows the switch
    assert "quarter" in texts(call.say("When is child benefit paid?"))


def test_switching_language_by_voice(rasa_url: str) -> None:
    call = Call(rasa_url)
    replies = call.say("can i speak english")
    assert custom(replies, "language") == "en" and "English" in texts(replies)
    call.language = "en"
    replies = call.say("Nederlands graag")
    assert custom(replies, "language") == "nl"
    assert texts(replies) == "U kunt nu Nederlands spreken. Wat is uw vraag?"


def test_other_keys_have_no_function(rasa_url: str) -> None:
    replies = Call(rasa_url).say('/dtmf{"digit":"5"}')
    assert "geen functie" in texts(replies) and "toets 0" in texts(replies)


def test_silence_prompts_then_hands_off(rasa_url: str) -> None:
    call = Call(rasa_url)
    assert "Bent u er nog" in texts(call.say("/no_input"))
    assert custom(call.say("/no_input"), "handoff") is None
    assert custom(call.say("/no_input"), "handoff")["reason"] == "no input"


# --- bad input: always a sensible reply, never an error -------------------------------


@pytest.mark.parametrize(
    "message",
    [
        "",
        "   ",
        "x" * 10_000,
        "wanneer " * 1_250,
        "\x00\x07\x1b[31mhallo\x7f\u200b",
        '/dtmf{"digit":"#"}',
        "/dtmf",
        '/dtmf{"digit":',
        "/unknown_event",
        "/",
        "🙂🙂🙂",
    ],
    ids=[
        "empty",
        "spaces",
        "10000-x",
        "10000-words",
        "control-chars",
        "dtmf-hash",
        "dtmf-no-digit",
        "broken-json",
        "unknown-intent",
        "slash",
        "emoji",
    ],
)
def test_bad_input_gets_a_reply(rasa_url: str, message: str) -> None:
    call = Call(rasa_url)
    started = time.monotonic()
    replies = call.say(message)
    assert time.monotonic() - started < 10
    assert texts(replies).strip()
    # and the conversation is not stuck: a normal question still gets its answer
    assert "SVB" in texts(call.say("wanneer wordt de aow betaald"))


@pytest.mark.parametrize(
    "body",
    [
        {"sender": "bad-meta-1", "message": "hallo", "metadata": "nl"},
        {"sender": "bad-meta-2", "message": "hallo", "metadata": {"language": 42}},
        {"sender": "bad-meta-3", "message": "hallo"},
        {"sender": "bad-meta-4", "message": None, "metadata": {"language": "nl"}},
    ],
)
def test_odd_requests_get_a_reply(rasa_url: str, body: dict[str, Any]) -> None:
    status, replies = Call(rasa_url).post(body)
    assert status == 200 and texts(replies).strip()


# --- hot reload -------------------------------------------------------------------------


def test_reload_keeps_calls_in_progress(rasa_url: str) -> None:
    call = Call(rasa_url)
    call.say("hoe vraag ik een paspoort aan")  # the assistant asks "anything else?"
    model = project.current_model()
    seconds = reloader.reload(rasa_url, model)  # PUT /model, then GET /status
    assert seconds < 120
    assert reloader.loaded_model(rasa_url, None) == model.name
    # the call continues where it was: "no" answers "anything else?" -> goodbye
    assert custom(call.say("nee"), "hangup") is True


# --- phrasings the model has never seen -----------------------------------------------

SAFETY = {"crisis", "emergency"}


def norm(text: str) -> str:
    return " ".join(re.findall(r"[\w']+", text.lower()))


def understood(url: str, text: str) -> str:
    """What the NLU made of `text`: an intent, or faq/<topic> for a factual question.

    An unsure factual question (`confirm_topic`: the assistant asks "U vraagt naar …,
    klopt dat?" first) counts as the topic it asks about.
    """
    _, parsed = post_json(f"{url}/model/parse", {"text": text})
    intent = str(parsed["intent"]["name"])
    if intent not in ("faq", "confirm_topic"):
        return intent
    chosen = parsed.get("response_selector", {}).get("faq", {}).get("response", {})
    return str(chosen.get("intent_response_key", "faq"))


@pytest.fixture(scope="module")
def unseen_verdicts(rasa_url: str) -> list[tuple[set[str], str, str]]:
    return [(expected, text, understood(rasa_url, text)) for expected, text in unseen_phrasings()]


def test_unseen_phrasings_are_understood(unseen_verdicts: list[tuple[set[str], str, str]]) -> None:
    misses = [(t, sorted(e), got) for e, t, got in unseen_verdicts if got not in e]
    share = 1 - len(misses) / len(unseen_verdicts)
    assert share >= 0.95, f"{share:.0%} understood; misses: {misses}"


def test_unseen_crisis_and_emergency_lines_are_never_missed(
    unseen_verdicts: list[tuple[set[str], str, str]],
) -> None:
    safety = [(e, t, got) for e, t, got in unseen_verdicts if e & SAFETY]
    assert len(safety) >= 10
    assert [(t, got) for e, t, got in safety if got not in e] == []


def test_unseen_phrasings_are_not_in_the_training_data() -> None:
    trained = {norm(text) for _, text in nlu_examples()}
    copied = [text for _, text in unseen_phrasings() if norm(text) in trained]
    assert copied == [], "these are training examples now; write new unseen ones"
