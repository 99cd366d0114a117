"""Rasa's REST channel, made tolerant of malformed requests.

Same URL and contract as the built-in channel (POST /webhooks/rest/webhook with
sender, message, metadata). The built-in one fails with an empty reply when
`metadata` is not an object or `message` is not text; this one treats those as no
metadata and as the text given, so every request gets a normal answer.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa.core.channels.rest import RestInput
from sanic.request import Request

from . import tuning  # noqa: F401  (speed settings for the server; see tuning.py)


class LoketRestInput(RestInput):
    """The REST channel with defensive parsing of the request body."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def _extract_message(self, req: Request) -> Optional[Text]:
        body = req.json if isinstance(req.json, dict) else {}
        message = body.get("message")
        if message is None:
            return ""
        return message if isinstance(message, str) else str(message)

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        body = request.json if isinstance(request.json, dict) else {}
        metadata = body.get("metadata")
        return metadata if isinstance(metadata, dict) else {}

    async def _extract_sender(self, req: Request) -> Optional[Text]:
        body = req.json if isinstance(req.json, dict) else {}
        sender = body.get("sender")
        return None if sender is None else str(sender)
