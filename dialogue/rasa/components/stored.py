"""What the Loket pipeline components share: JSON state in the model, and overriding
the intent the classifiers chose."""

from __future__ import annotations

import json
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

FILE = "state.json"


class StoredComponent(GraphComponent):
    """A component whose trained state is one JSON value (``{}`` when untrained)."""

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        state: Any,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self.use(state)

    def use(self, state: Any) -> None:
        """Take the trained (or loaded) state into use."""
        raise NotImplementedError

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> StoredComponent:
        return cls(config, model_storage, resource, {})

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> StoredComponent:
        try:
            with model_storage.read_from(resource) as directory:
                state = json.loads((directory / FILE).read_text(encoding="utf-8"))
        except ValueError:  # not trained (e.g. an NLU-less model)
            state = {}
        return cls(config, model_storage, resource, state)

    def store(self, state: Any) -> Resource:
        """Use ``state`` and persist it with the model (the end of ``train``)."""
        self.use(state)
        with self._storage.write_to(self._resource) as directory:
            (directory / FILE).write_text(json.dumps(state), encoding="utf-8")
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


def override_intent(message: Message, name: str, confidence: float) -> None:
    """Make ``name`` the message's intent, first in the ranking (the rest stays)."""
    verdict = {"name": name, "confidence": confidence}
    ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r["name"] != name]
    message.set(INTENT, verdict, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [verdict, *ranking], add_to_output=True)
