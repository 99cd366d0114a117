"""The fixed texts synthesized at start-up, and the order they are synthesized in."""

from __future__ import annotations

from config.settings import load_settings
from voice.prompts import fixed_texts, rasa_texts, settings_texts


def test_gateway_texts_of_every_language_come_before_any_rasa_answer() -> None:
    settings = load_settings({})
    texts = fixed_texts(settings)
    assert len(texts) == len(set(texts))
    own = {(lang, t) for lang, conf in settings.languages.items() for t in settings_texts(conf)}
    rasa = rasa_texts(settings.rasa.project_dir, settings.default_language)
    answers = {(lang, t) for lang, ts in rasa.items() for t in ts} - own
    assert answers, "the Rasa project's answers are warmed too"
    first_answer = min(texts.index(item) for item in answers)
    assert max(texts.index(item) for item in own) < first_answer
    # every language's disclosure heads its own texts (key 9 plays the English one)
    for lang, conf in settings.languages.items():
        mine = [t for lg, t in texts if lg == lang]
        assert mine[0] == conf.greeting
    # an English answer is warmed (the e2e call's reply), and in English
    assert any(lang == "en" and "23rd" in t for lang, t in answers)
