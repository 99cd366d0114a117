"""action_session_start: a call begins; take its language and the opening hours."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from .settings import DEFAULT_LANGUAGE, normalise_language, opening_hours


class ActionSessionStart(Action):
    """Starts the session with the language from the REST message's metadata.

    Unknown or missing language -> Dutch. Opening hours are read from the gateway's
    config at every call start, so a config change needs no retraining.
    """

    def name(self) -> Text:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        metadata = tracker.get_slot("session_started_metadata")
        raw = metadata.get("language") if isinstance(metadata, dict) else None
        language = normalise_language(raw) or DEFAULT_LANGUAGE
        hours = opening_hours()
        return [
            SessionStarted(),
            SlotSet("language", language),
            SlotSet("opening_hours_nl", hours["nl"]),
            SlotSet("opening_hours_en", hours["en"]),
            ActionExecuted("action_listen"),
        ]
