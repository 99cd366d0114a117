"""Crisis safety net: words about suicide always mean the `crisis` intent.

The classifier learns `crisis` from examples, and a phrasing it has not seen can
land elsewhere ("i don't see the point of living anymore" was classified as
`goodbye`). Missing a caller in crisis is the one mistake the helpline must not
make, while a false alarm only brings a human (with 113 said) onto the line. So
after the classifiers, any message matching one of the `crisis_words` regexes in
the NLU data (``data/nlu/handoff.yml``, where designers edit them) becomes
`crisis` with confidence 1.0; the classifier's guess stays in the ranking.

Patterns are matched case-insensitively on the text, apostrophes normalised
("don’t" → "don't"); they are taken from the training data at training time, so
editing the regex list and retraining is all it takes.
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
class CrisisSafetyNet(GraphComponent):
    """Sets intent `crisis` when a `crisis_words` pattern matches (see module doc)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"regex_name": "crisis_words", "intent": "crisis"}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        patterns: list[str],
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self._patterns = patterns
        self._regex = _compile(patterns)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CrisisSafetyNet:
        return cls(config, model_storage, resource, [])

    def train(self, training_data: TrainingData) -> Resource:
        name = self._config["regex_name"]
        patterns = [r["pattern"] for r in training_data.regex_features if r["name"] == name]
        if not patterns:
            raise ValueError(
                f"CrisisSafetyNet: no regex named {name!r} in the NLU data; add the "
                f"crisis word list (`- regex: {name}`) or set regex_name in config.yml"
            )
        _compile(patterns)  # a bad pattern fails training, not a call
        with self._storage.write_to(self._resource) as directory:
            (directory / FILE).write_text(json.dumps(patterns), encoding="utf-8")
        self._patterns, self._regex = patterns, _compile(patterns)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> CrisisSafetyNet:
        try:
            with model_storage.read_from(resource) as directory:
                patterns = json.loads((directory / FILE).read_text(encoding="utf-8"))
        except ValueError:  # not trained (e.g. an NLU-less model)
            patterns = []
        return cls(config, model_storage, resource, patterns)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        intent = self._config["intent"]
        for message in messages:
            text = message.get(TEXT) or ""
            if self._regex is None or text.startswith("/"):
                continue  # "/intent" messages (keys, the gateway) say what they mean
            if not self._regex.search(text.replace("’", "'")):
                continue
            current = message.get(INTENT) or {}
            if current.get("name") == intent:
                continue
            log.debug("crisis word matched; was %s", current.get("name"))
            verdict = {"name": intent, "confidence": 1.0}
            ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r["name"] != intent]
            message.set(INTENT, verdict, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [verdict, *ranking], add_to_output=True)
        return messages


def _compile(patterns: list[str]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
