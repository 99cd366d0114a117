"""The spliced-utterance recipe and the Dutch outcome rules, without models or Debian files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from bench.dutch_outcomes import dutch_answers, outcome
from dialogue.rasa_client import BotTurn, Handoff
from tests.tools.dutch_utterances import LEVEL_RMS, WordCut, load
from tests.tools.fillets import normalise, wer


def test_recipe_round_trip(tmp_path: Path) -> None:
    recipe = tmp_path / "r.json"
    word = {"word": "ik wil", "level": "l", "ident": "x-v-y", "start": 0.1, "end": 0.4}
    recipe.write_text(json.dumps({"utterances": [
        {"name": "n", "text": "ik wil", "intent": "request_human", "speaker": "v",
         "pause_s": 0.1, "words": [word], "checked": {"16k": "ik wil"}}
    ]}))  # fmt: skip
    (u,) = load(recipe)
    assert u.words == (WordCut(**word),) and u.speaker == "v" and u.checked["16k"] == "ik wil"


def test_splice_levels_and_pauses(monkeypatch: object) -> None:
    import tests.tools.dutch_utterances as du

    tone = (np.sin(np.arange(16000) / 5) * 1000).astype(np.int16)
    du._line_pcm.cache_clear()
    monkeypatch.setattr(du, "_line_pcm", lambda level, ident: tone)  # type: ignore[attr-defined]
    cuts = (WordCut("a", "l", "i", 0.0, 0.5), WordCut("b", "l", "i", 0.5, 1.0))
    pcm = np.frombuffer(du.splice(cuts, 0.2), dtype="<i2")
    assert len(pcm) == 16000 + 3200
    assert np.all(pcm[8000:11200] == 0)  # the pause
    middle = pcm[1000:7000].astype(float)
    assert abs(np.sqrt(np.mean(middle**2)) - LEVEL_RMS) < 0.05 * LEVEL_RMS


def test_wer_counts_words_not_punctuation() -> None:
    assert normalise("Ik wil, met iemand praten!") == ["ik", "wil", "met", "iemand", "praten"]
    assert wer("ik wil met iemand praten", "Ik wil met iemand praten.") == 0
    assert wer("ik wil met iemand praten", "ik wil iemand") == 0.4


def test_outcomes() -> None:
    answers = dutch_answers()
    uwv = answers["faq/uwv"]
    assert outcome("faq/uwv", BotTurn([uwv]), answers) == ("right_answer", "faq/uwv")
    assert outcome("faq/digid", BotTurn([uwv]), answers) == ("wrong_answer", "faq/uwv")
    asked = BotTurn(["U vraagt naar werkloosheid, klopt dat?"])
    assert outcome("faq/uwv", asked, answers) == ("confirmation", "")
    person = BotTurn(["Ik verbind u door."], Handoff("algemeen", "request_human"))
    assert outcome("request_human", person, answers) == ("person", "")
    assert outcome("faq/uwv", None, answers) == ("not_recognised", "")
    assert outcome("faq/uwv", BotTurn(["Dat begreep ik niet."]), answers)[0] == "wrong_answer"


def test_committed_recipe_keeps_what_it_says_it_heard() -> None:
    from tests.tools.dutch_utterances import RECIPE

    data = json.loads(RECIPE.read_text(encoding="utf-8"))
    for u in data["utterances"]:
        heard = normalise(u["checked"]["g711"])
        assert all(k in heard for k in u.get("keys", normalise(u["text"]))), u
        assert u["wer"]["g711"] == round(wer(u["text"], u["checked"]["g711"]), 3), u
