"""action_handoff: hand the call to a person, with a summary for the agent."""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from .settings import DEFAULT_LANGUAGE, normalise_language, queues, topic_labels
from .summary import build_handoff

logger = logging.getLogger(__name__)


class ActionHandoff(Action):
    """Sends custom {"handoff": {queue, reason, priority, summary}} to the gateway.

    Runs right after an utter_handoff_<key> response (see data/rules.yml); <key>
    selects the reason, priority and queue in handoff_queues.yml.
    """

    def name(self) -> Text:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        language = normalise_language(tracker.get_slot("language")) or DEFAULT_LANGUAGE
        try:
            config, labels = queues(), topic_labels()
        except Exception:  # a broken config file must not keep the caller from a person
            logger.exception("cannot read handoff configuration; using the default queue")
            config, labels = {}, {}
        handoff = build_handoff(tracker.events, language=language, config=config, labels=labels)
        dispatcher.utter_message(json_message={"handoff": handoff})
        return []
