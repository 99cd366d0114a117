"""Safety net: words about suicide or an emergency always mean `crisis` / `emergency`.

The classifier learns both from examples, and a phrasing it has not seen can land
elsewhere: "i don't see the point of living anymore" was classified as `goodbye`,
"er komt rook uit het huis van de buren" as `out_of_scope`, "my baby is not
breathing" fell below the fallback threshold. Missing such a caller is the one
mistake the helpline must not make, while a false alarm only brings a human onto
the line (the emergency reply asks "is there immediate danger? then call 112"). So
after the classifiers, a message matching one of the `crisis_words` regexes in the
NLU data (``data/nlu/handoff.yml``, where designers edit them) becomes `crisis`
with confidence 1.0, else one matching `emergency_words` becomes `emergency`; the
classifier's guess stays in the ranking.

Patterns are matched case-insensitively on the text, apostrophes normalised
("don’t" → "don't"); they are taken from the training data at training time, so
editing a regex list and retraining is all it takes.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from .stored import StoredComponent, override_intent
from .words import compile_lists, first_match

log = logging.getLogger(__name__)


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True
)
class SafetyNet(StoredComponent):
    """Sets `crisis` or `emergency` when one of its word lists matches (module doc)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # regex list name -> intent; the first that matches wins
        return {"rules": {"crisis_words": "crisis", "emergency_words": "emergency"}}

    def use(self, state: dict[str, list[str]]) -> None:
        self._rules: dict[str, str] = self._config["rules"]
        # a model trained with other rules only uses the lists this config names
        self._lists = compile_lists({n: state[n] for n in self._rules if n in state})

    def train(self, training_data: TrainingData) -> Resource:
        patterns: dict[str, list[str]] = {}
        for name in self._rules:
            patterns[name] = [
                r["pattern"]
                for r in training_data.regex_features
                if r["name"] == name and r["pattern"].strip()
            ]
            if not patterns[name]:
                raise ValueError(
                    f"SafetyNet: no regex named {name!r} in the NLU data; add the word "
                    f"list (`- regex: {name}` under `nlu:`) or change its rules in config.yml"
                )
        return self.store(patterns)  # a bad pattern fails training here, not a call

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/"):
                continue  # "/intent" messages (keys, the gateway) say what they mean
            matched = first_match(self._lists, text)
            current = (message.get(INTENT) or {}).get("name")
            if matched is None or current == self._rules[matched]:
                continue
            log.debug("%s word matched; was %s", self._rules[matched], current)
            override_intent(message, self._rules[matched], 1.0)
        return messages
