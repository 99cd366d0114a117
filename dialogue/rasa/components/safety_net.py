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

import json
import logging
import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

log = logging.getLogger(__name__)

FILE = "patterns.json"


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True
)
class SafetyNet(GraphComponent):
    """Sets `crisis` or `emergency` when one of its word lists matches (module doc)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # regex list name -> intent; the first that matches wins
        return {"rules": {"crisis_words": "crisis", "emergency_words": "emergency"}}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        patterns: dict[str, list[str]],
    ) -> None:
        self._rules: dict[str, str] = {**self.get_default_config(), **config}["rules"]
        self._storage = model_storage
        self._resource = resource
        # a model trained with other rules only uses the lists this config names
        self._regexes = _compile({n: patterns[n] for n in self._rules if n in patterns})

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SafetyNet:
        return cls(config, model_storage, resource, {})

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
        self._regexes = _compile(patterns)  # a bad pattern fails training, not a call
        with self._storage.write_to(self._resource) as directory:
            (directory / FILE).write_text(json.dumps(patterns), encoding="utf-8")
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SafetyNet:
        try:
            with model_storage.read_from(resource) as directory:
                patterns = json.loads((directory / FILE).read_text(encoding="utf-8"))
        except ValueError:  # not trained (e.g. an NLU-less model)
            patterns = {}
        return cls(config, model_storage, resource, patterns)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = (message.get(TEXT) or "").replace("’", "'")
            if text.startswith("/"):
                continue  # "/intent" messages (keys, the gateway) say what they mean
            intent = next((self._rules[n] for n, rx in self._regexes if rx.search(text)), None)
            current = message.get(INTENT) or {}
            if intent is None or current.get("name") == intent:
                continue
            log.debug("%s word matched; was %s", intent, current.get("name"))
            verdict = {"name": intent, "confidence": 1.0}
            ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r["name"] != intent]
            message.set(INTENT, verdict, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [verdict, *ranking], add_to_output=True)
        return messages


def _compile(patterns: dict[str, list[str]]) -> list[tuple[str, re.Pattern[str]]]:
    """One case-insensitive regex per word list, in the order of the rules."""
    return [
        (name, re.compile("|".join(f"(?:{p})" for p in found), re.IGNORECASE))
        for name, found in patterns.items()
        if found
    ]
