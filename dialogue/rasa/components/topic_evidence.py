"""Topic evidence: a factual answer needs at least one word of its topic.

DIET and the ResponseSelector are sure of themselves on sentences unlike anything
they were trained on: "ik heb een touw gekocht" (a caller in crisis) got the
bijstand answer at 0.98, "my toddler fell in the pool" the police number at 0.97.
Every correct answer in tests/rasa/unseen_phrasings.txt shared at least one
content word (its first five letters, so "verhuizen"/"verhuisd" and
"kinderbijslag"/"kinderbijslagen" meet) with its topic's training examples; these
did not. So when the chosen topic's examples share no content word with the
message, the message becomes `nlu_fallback`: the caller is asked to say it in
other words, and a second miss reaches a person — better than a wrong fact.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from .stored import StoredComponent, override_intent
from .words import stems


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True
)
class TopicEvidence(StoredComponent):
    """Turns a factual answer without a word of its topic into `nlu_fallback`."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"retrieval_intent": "faq", "fallback_confidence": 0.45}

    def use(self, state: dict[str, list[str]]) -> None:
        self._vocabulary = {key: set(words) for key, words in state.items()}

    def train(self, training_data: TrainingData) -> Resource:
        vocabulary: dict[str, set[str]] = {}
        for example in training_data.intent_examples:
            key = example.get("intent_response_key")
            if key and example.get(INTENT) == self._config["retrieval_intent"]:
                vocabulary.setdefault(key, set()).update(stems(example.get(TEXT) or ""))
        return self.store({key: sorted(words) for key, words in vocabulary.items()})

    def process(self, messages: list[Message]) -> list[Message]:
        retrieval = self._config["retrieval_intent"]
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/") or (message.get(INTENT) or {}).get("name") != retrieval:
                continue
            selected = (message.get("response_selector") or {}).get(retrieval, {})
            key = selected.get("response", {}).get("intent_response_key")
            words = self._vocabulary.get(key or "")
            if words is None or stems(text) & words:
                continue
            override_intent(message, "nlu_fallback", self._config["fallback_confidence"])
        return messages
