"""What the confirmation actions decide, without rasa_sdk (the gateway's tests use it).

* ``candidate``: the answer an unsure `confirm_topic` message would have given.
* ``topic_name``: how the confirmation question names that answer, in the caller's
  language — the `metadata.topic` of the answer's response variation.
* ``reply_meaning``: what the caller's reply to the question means.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

FAQ_PREFIX = "utter_faq/"
ASK = "utter_confirm_topic"
ASK_AGAIN = "utter_confirm_topic_again"
YES_INTENTS = ("affirm",)
NO_INTENTS = ("deny",)
YES_KEY, NO_KEY = "1", "2"


def candidate(parse_data: Mapping[str, Any], retrieval_intent: str = "faq") -> Optional[str]:
    """The topic key (e.g. ``aow_payment``) the ResponseSelector chose, if any."""
    selected = (parse_data.get("response_selector") or {}).get(retrieval_intent) or {}
    key = str((selected.get("response") or {}).get("intent_response_key") or "")
    prefix = retrieval_intent + "/"
    return key[len(prefix):] if key.startswith(prefix) and len(key) > len(prefix) else None


def _variation_language(variation: Mapping[str, Any]) -> str:
    for cond in variation.get("condition") or []:
        if isinstance(cond, Mapping) and cond.get("name") == "language":
            return str(cond.get("value"))
    return "nl"  # the unconditional variation is the Dutch one (domain convention)


def topic_name(responses: Mapping[str, Any], topic: str, language: str) -> Optional[str]:
    """The answer's topic name in ``language`` (Dutch if that language has none)."""
    names: dict[str, str] = {}
    for variation in responses.get(FAQ_PREFIX + topic) or []:
        if not isinstance(variation, Mapping):
            continue
        metadata = variation.get("metadata")
        name = metadata.get("topic") if isinstance(metadata, Mapping) else None
        if isinstance(name, str) and name.strip():
            names.setdefault(_variation_language(variation), name.strip())
    return names.get(language) or names.get("nl")


def last_ask(events: Sequence[Mapping[str, Any]]) -> Optional[str]:
    """Which question came just before the caller's latest message: ASK, ASK_AGAIN or None."""
    seen_user = False
    for event in reversed(events):
        kind = event.get("event")
        if kind == "user":
            if seen_user:
                return None
            seen_user = True
        elif kind == "bot" and seen_user:
            action = str((event.get("metadata") or {}).get("utter_action") or "")
            if action in (ASK, ASK_AGAIN):
                return action
    return None


def reply_meaning(intent: Optional[str], digit: Optional[str], asked: Optional[str]) -> str:
    """confirmed | denied | again (first unclear reply) | unclear (the second one)."""
    if intent in YES_INTENTS or (intent == "dtmf" and digit == YES_KEY):
        return "confirmed"
    if intent in NO_INTENTS or (intent == "dtmf" and digit == NO_KEY):
        return "denied"
    return "unclear" if asked == ASK_AGAIN else "again"
