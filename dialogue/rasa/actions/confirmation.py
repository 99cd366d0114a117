"""Confirmation when unsure: ask "U vraagt naar de AOW, klopt dat?", read the reply.

The NLU marks an unsure factual question as `confirm_topic`
(components/topic_confirmation.py); data/rules.yml then runs these actions: the
question, the reply (voice yes/no or key 1/2) and, on yes, the answer. The
decisions themselves are in confirm_logic.py.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from .confirm_logic import FAQ_PREFIX, candidate, last_ask, reply_meaning, topic_name
from .settings import DEFAULT_LANGUAGE, normalise_language


class ActionConfirmTopic(Action):
    """Remembers the unsure answer (slot candidate_topic) and names it (slot topic_name)."""

    def name(self) -> Text:
        return "action_confirm_topic"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        language = normalise_language(tracker.get_slot("language")) or DEFAULT_LANGUAGE
        topic = candidate(tracker.latest_message)
        name = None
        if topic:
            name = topic_name(domain.get("responses") or {}, topic, language)
        return [
            SlotSet("candidate_topic", topic),
            SlotSet("topic_name", name or (topic or "").replace("_", " ")),
            SlotSet("confirmation", None),
        ]


class ActionConfirmationReply(Action):
    """Sets slot `confirmation` to confirmed / denied / again / unclear (see the rules)."""

    def name(self) -> Text:
        return "action_confirmation_reply"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        digit = next(tracker.get_latest_entity_values("digit"), None)
        asked = last_ask(tracker.events)
        return [SlotSet("confirmation", reply_meaning(intent, digit, asked))]


class ActionAnswerTopic(Action):
    """Gives the confirmed answer (the response utter_faq/<candidate_topic>)."""

    def name(self) -> Text:
        return "action_answer_topic"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        topic = tracker.get_slot("candidate_topic")
        response = f"{FAQ_PREFIX}{topic}"
        if not topic or response not in (domain.get("responses") or {}):
            dispatcher.utter_message(response="utter_ask_question")
        else:
            dispatcher.utter_message(response=response)
        return []
