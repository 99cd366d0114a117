"""Topic confirmation: a factual answer the NLU is unsure of is asked about first.

Whisper base gets about every second Dutch word wrong, so the classifiers often
choose a topic on thin evidence. Below ``threshold`` (and above the
FallbackClassifier's, whose `nlu_fallback` -> "please rephrase" stays) a `faq`
message becomes `confirm_topic`: the assistant asks "U vraagt naar de AOW, klopt
dat?" instead of guessing (data/rules.yml, actions/confirmation.py). The chosen
answer stays in the message's response_selector output and `faq` stays in the
ranking, so the action knows what to confirm.

The NLU's certainty is the smaller of the intent's confidence and the chosen
answer's: a sure `faq` with an unsure pick among the topics is still a guess. A
recogniser that is itself unsure of the words can say so in the REST message's
metadata (``asr_confidence``, 0..1): below ``asr_threshold`` even a confident NLU
asks first. ``language_thresholds`` (e.g. ``{en: 0.6}``) overrides ``threshold`` for
the call's language (metadata ``language``): English arrives from a far better
recogniser. The thresholds come from bench/confirmation.py (results in
bench/results/confirmation.json).
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from .stored import StoredComponent, override_intent

CONFIRM_INTENT = "confirm_topic"


def certainty(message: Message, retrieval_intent: str) -> float | None:
    """min(intent confidence, chosen answer's confidence); None when no answer was chosen."""
    intent = float((message.get(INTENT) or {}).get("confidence") or 0.0)
    selected = (message.get("response_selector") or {}).get(retrieval_intent, {})
    response = selected.get("response") or {}
    if not response.get("intent_response_key"):
        return None
    return min(intent, float(response.get("confidence") or 0.0))


def metadata_language(message: Message) -> str | None:
    """'nl', 'en', … from the message metadata ('en-GB' -> 'en'), if given."""
    metadata = message.get("metadata")
    value = metadata.get("language") if isinstance(metadata, dict) else None
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().lower()[:2]


def asr_confidence(message: Message) -> float | None:
    """The recogniser's confidence from the message metadata, if it sent a usable one."""
    metadata = message.get("metadata")
    value = metadata.get("asr_confidence") if isinstance(metadata, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if 0.0 <= value <= 1.0 else None


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False
)
class TopicConfirmation(StoredComponent):
    """Turns an unsure `faq` into `confirm_topic` (module doc)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "retrieval_intent": "faq",
            "threshold": 0.8,
            "language_thresholds": {},
            "asr_threshold": 0.0,
        }

    def use(self, state: Any) -> None:  # nothing is trained: only the thresholds
        self._threshold = float(self._config["threshold"])
        self._by_language = {
            str(k): float(v) for k, v in (self._config["language_thresholds"] or {}).items()
        }
        self._asr_threshold = float(self._config["asr_threshold"])

    def process(self, messages: list[Message]) -> list[Message]:
        retrieval = self._config["retrieval_intent"]
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/") or (message.get(INTENT) or {}).get("name") != retrieval:
                continue
            sure = certainty(message, retrieval)
            heard = asr_confidence(message)
            if sure is None:
                continue
            threshold = self._by_language.get(metadata_language(message) or "", self._threshold)
            if sure < threshold or (heard is not None and heard < self._asr_threshold):
                override_intent(message, CONFIRM_INTENT, sure)
        return messages
