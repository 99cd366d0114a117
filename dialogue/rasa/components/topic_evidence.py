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

import json
import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

FILE = "vocabulary.json"
STEM = 5
# Words that say nothing about a topic (Dutch and English, as callers and Whisper write).
STOP = frozenset(
    """
    aan al als ben bij dan dat de deze die dit doe doen dus een eh ehm en er geen had
    heb hebben heeft het hij hoe hun ik in is je jij jullie kan kun kunnen kunt maar
    mag me meer met mij mijn moet moeten na naar niet nog nu of om ons onze ook op
    over te tot u uw van voor waar wanneer want was wat we wel welk welke werd wie wij
    wil wilde word wordt worden ze zij zijn zo zou zullen graag even
    about all also am an and any are at be been but by can could did do does for from
    get got had has have he her him his how if in into is it its just me my no not of
    on or our please she so some than that the their them then there they this to up
    us was we were what when where which who why will with would you your yes okay ok
    """.split()
)


def stems(text: str) -> set[str]:
    words = re.findall(r"[^\W_]+", text.lower())
    return {w[:STEM] for w in words if len(w) > 2 and w not in STOP}


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True
)
class TopicEvidence(GraphComponent):
    """Turns a factual answer without a word of its topic into `nlu_fallback`."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"retrieval_intent": "faq", "fallback_confidence": 0.45}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vocabulary: dict[str, list[str]],
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self._vocabulary = {key: set(words) for key, words in vocabulary.items()}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TopicEvidence:
        return cls(config, model_storage, resource, {})

    def train(self, training_data: TrainingData) -> Resource:
        vocabulary: dict[str, set[str]] = {}
        for example in training_data.intent_examples:
            key = example.get("intent_response_key")
            if key and example.get(INTENT) == self._config["retrieval_intent"]:
                vocabulary.setdefault(key, set()).update(stems(example.get(TEXT) or ""))
        self._vocabulary = vocabulary
        with self._storage.write_to(self._resource) as directory:
            serial = {key: sorted(words) for key, words in vocabulary.items()}
            (directory / FILE).write_text(json.dumps(serial), encoding="utf-8")
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> TopicEvidence:
        try:
            with model_storage.read_from(resource) as directory:
                vocabulary = json.loads((directory / FILE).read_text(encoding="utf-8"))
        except ValueError:  # not trained (e.g. an NLU-less model)
            vocabulary = {}
        return cls(config, model_storage, resource, vocabulary)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

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
            verdict = {"name": "nlu_fallback", "confidence": self._config["fallback_confidence"]}
            message.set(INTENT, verdict, add_to_output=True)
            ranking = message.get(INTENT_RANKING_KEY) or []
            message.set(INTENT_RANKING_KEY, [verdict, *ranking], add_to_output=True)
        return messages
