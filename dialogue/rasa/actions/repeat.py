"""action_repeat: say the assistant's previous turn again ("kunt u dat herhalen?")."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher


def previous_bot_texts(events: List[Dict[Text, Any]]) -> List[Text]:
    """Texts the assistant spoke between the caller's previous and latest messages."""
    user_seen = 0
    texts: List[Text] = []
    for event in reversed(events):
        kind = event.get("event")
        if kind == "session_started":
            break
        if kind == "user":
            user_seen += 1
            if user_seen == 2:
                break
        elif kind == "bot" and user_seen == 1 and event.get("text"):
            texts.append(event["text"])
    return list(reversed(texts))


class ActionRepeat(Action):
    """Repeats the texts of the previous turn (no control payloads: those were obeyed)."""

    def name(self) -> Text:
        return "action_repeat"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        texts = previous_bot_texts(tracker.events)
        if not texts:
            dispatcher.utter_message(response="utter_ask_question")
        for text in texts:
            dispatcher.utter_message(text=text)
        return []
