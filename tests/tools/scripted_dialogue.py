"""Rasa's part of a call, scripted: for tests whose subject is the gateway, not Rasa.

One fake for every such test, with the signature of :class:`dialogue.rasa_client.RasaClient`
``send`` (a second copy once fell behind it and silenced the bot in four tests).
"""

from __future__ import annotations

from dialogue.rasa_client import BotTurn


class ScriptedDialogue:
    """Replies by message (a BotTurn, or an exception to raise); otherwise *default*, or
    "answer to <message>"."""

    def __init__(
        self,
        replies: dict[str, BotTurn | Exception] | None = None,
        *,
        default: BotTurn | None = None,
    ) -> None:
        self.replies = replies or {}
        self.default = default
        self.sent: list[tuple[str, str]] = []
        """(message, language) of each turn sent."""
        self.asr_confidences: list[float | None] = []

    async def send(
        self,
        sender: str,
        message: str,
        *,
        language: str,
        channel: str = "sip",
        asr_confidence: float | None = None,
    ) -> BotTurn:
        self.sent.append((message, language))
        self.asr_confidences.append(asr_confidence)
        reply = self.replies.get(message, self.default or BotTurn([f"answer to {message}"]))
        if isinstance(reply, Exception):
            raise reply
        return reply
