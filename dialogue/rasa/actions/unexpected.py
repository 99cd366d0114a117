"""action_unexpected: what happens when no rule fits (e.g. an unknown /intent event)."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher


class ActionUnexpected(Action):
    """Asks the caller to rephrase and forgets the message, so nothing gets stuck.

    Configured as the RulePolicy's core fallback (config.yml). Forgetting the message
    keeps the conversation where it was, as Rasa's own default fallback does.
    """

    def name(self) -> Text:
        return "action_unexpected"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(response="utter_rephrase")
        return [UserUtteranceReverted()]
