"""action_set_language: switch the conversation language (voice or key 9)."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from .settings import DEFAULT_LANGUAGE, normalise_language

_BY_INTENT = {"switch_to_english": "en", "switch_to_dutch": "nl"}


class ActionSetLanguage(Action):
    """Sets the `language` slot and tells the gateway with custom {"language": ...}.

    The confirmation text (utter_language_switched) follows in the same reply and is
    already in the new language. `/set_language{"language":"en"}` names the language;
    "other language" without a name toggles between Dutch and English.
    """

    def name(self) -> Text:
        return "action_set_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        current = normalise_language(tracker.get_slot("language")) or DEFAULT_LANGUAGE
        target = _BY_INTENT.get(str(intent))
        if target is None:
            named = next(tracker.get_latest_entity_values("language"), None)
            target = normalise_language(named)
        if target is None:
            target = "nl" if current == "en" else "en"
        dispatcher.utter_message(json_message={"language": target})
        return [SlotSet("language", target)]
