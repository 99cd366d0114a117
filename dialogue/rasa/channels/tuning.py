"""Two speed settings for the Rasa server, applied when it loads our REST channel.

Measured on two cores (see bench/results/rasa.json), per message:

* SQLite tracker store: every turn commits, and SQLite's default journal makes each
  commit wait for the disk (about 10-15 ms here). Write-ahead logging with
  synchronous=NORMAL keeps the database consistent after a crash and loses at most
  the last turns on a power cut; conversations are short-lived, so that is fine.
  SQLAlchemy 1.4 opens a new SQLite connection per tracker access, and closing the
  last connection of a WAL database checkpoints it (another wait for the disk), so one
  extra connection per database file stays open for the life of the server.
* Custom actions: Rasa checks each action server reply with `jsonschema.validate`,
  which first re-checks the (large, fixed) schema itself: about 50-100 ms per custom
  action call, i.e. on the first message of every call (action_session_start). Here
  the validator is built once; replies are still validated against the same schema.

* Hot reload: `PUT /model` loads the new model on the server's event loop, so every
  message waits until loading is done (about 10-15 s here; the gateway gives up after
  a few seconds and hands the caller to an agent). Here the model is loaded in a worker
  thread while the old model keeps answering; the switch itself is instantaneous.

All three are plain patches of Rasa 3.6 internals; `rasa run` without this module works the
same, only slower. Remove them when upgrading Rasa if it no longer needs them.
"""

from __future__ import annotations

import logging
import sqlite3
import asyncio
from typing import Any, Dict, Optional, Text

from sqlalchemy import event
from sqlalchemy.engine import Engine

logger = logging.getLogger(__name__)
_validator: Optional[Any] = None
_keepers: Dict[Text, sqlite3.Connection] = {}


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """WAL journal and NORMAL sync for SQLite connections (the tracker store)."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA database_list")
        path = next((row[2] for row in cursor.fetchall() if row[1] == "main"), "")
        cursor.close()
        if path and path not in _keepers:
            keeper = sqlite3.connect(path, check_same_thread=False)
            keeper.execute("SELECT count(*) FROM sqlite_master").fetchall()  # opens the WAL
            _keepers[path] = keeper


def _patch_action_validation() -> None:
    from jsonschema import ValidationError, validators
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
        global _validator
        if _validator is None:
            schema = self.action_response_format_spec()
            cls = validators.validator_for(schema)
            cls.check_schema(schema)  # once, instead of on every reply
            _validator = cls(schema)
        try:
            _validator.validate(result)
            return True
        except ValidationError as e:
            e.message += (
                ". Failed to validate Action server response from API, "
                "make sure your response from the Action endpoint is valid. "
                f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
            )
            raise e

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[assignment]


def _patch_model_loading() -> None:
    import rasa.server

    load_on_loop = rasa.server._load_agent

    async def _load_agent(
        model_path: Optional[Text] = None,
        model_server: Any = None,
        remote_storage: Optional[Text] = None,
        endpoints: Any = None,
    ) -> Any:
        if model_server is not None or remote_storage is not None:
            return await load_on_loop(model_path, model_server, remote_storage, endpoints)

        def load() -> Any:
            # a private event loop in the worker thread; the agent it returns holds no
            # loop-bound resources (SQL/Redis stores and HTTP sessions are made per use)
            return asyncio.run(load_on_loop(model_path, None, None, endpoints))

        return await asyncio.get_running_loop().run_in_executor(None, load)

    rasa.server._load_agent = _load_agent  # type: ignore[assignment]


_patch_action_validation()
_patch_model_loading()
logger.debug("Loket tuning applied: SQLite WAL, action reply schema once, threaded reload")
