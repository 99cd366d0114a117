"""The gateway's side of the Rasa contract (see DESIGN: "Dialogue contract").

Each caller turn is one POST to Rasa's REST channel; the reply list becomes a
:class:`BotTurn`: texts to speak and the control that travels in ``custom``
payloads (handoff, hangup, language). Any failure — timeout, refused
connection, 5xx, a reply that is not the expected JSON — is one
:class:`DialogueError`, so the caller can be sent to a human at once.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

MAX_MESSAGE_CHARS = 1000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
PRIORITIES = ("normal", "urgent")


class DialogueError(Exception):
    """Rasa did not give a usable answer in time."""


@dataclass(frozen=True, slots=True)
class Handoff:
    queue: str
    reason: str
    priority: str = "normal"
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def spoken_summary(self) -> str:
        spoken = self.summary.get("spoken")
        return spoken if isinstance(spoken, str) else ""


@dataclass(frozen=True, slots=True)
class BotTurn:
    texts: list[str]
    handoff: Handoff | None = None
    hangup: bool = False
    language: str | None = None
    latency_s: float = 0.0


def clean_message(text: str) -> str:
    """What we send as a message: no control characters, bounded length."""
    text = _CONTROL.sub(" ", text).strip()
    return text[:MAX_MESSAGE_CHARS]


def intent_message(intent: str, **entities: str) -> str:
    """``/intent{"key": "value"}`` — how DTMF and events reach Rasa."""
    return f"/{intent}{json.dumps(entities, ensure_ascii=False)}" if entities else f"/{intent}"


def parse_handoff(payload: object) -> Handoff | None:
    if not isinstance(payload, dict):
        return None
    queue = payload.get("queue")
    reason = payload.get("reason")
    priority = payload.get("priority", "normal")
    summary = payload.get("summary", {})
    return Handoff(
        queue=queue if isinstance(queue, str) and queue else "general",
        reason=reason if isinstance(reason, str) and reason else "unspecified",
        priority=priority if priority in PRIORITIES else "normal",
        summary=summary if isinstance(summary, dict) else {},
    )


def parse_reply(items: object, latency_s: float = 0.0) -> BotTurn:
    """The REST channel's reply list as a BotTurn; raises DialogueError if malformed."""
    if not isinstance(items, list):
        raise DialogueError(f"expected a list of messages, got {type(items).__name__}")
    texts: list[str] = []
    handoff: Handoff | None = None
    hangup = False
    language: str | None = None
    for item in items:
        if not isinstance(item, dict):
            continue
        text = item.get("text")
        if isinstance(text, str) and text.strip():
            texts.append(text.strip())
        custom = item.get("custom")
        if isinstance(custom, dict):
            if "handoff" in custom:
                handoff = parse_handoff(custom["handoff"]) or handoff
            if custom.get("hangup") is True:
                hangup = True
            lang = custom.get("language")
            if isinstance(lang, str) and lang:
                language = lang
    return BotTurn(texts, handoff, hangup, language, latency_s)


class RasaClient:
    """One shared HTTP session to the Rasa server."""

    def __init__(self, url: str, timeout_s: float) -> None:
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self._session: aiohttp.ClientSession | None = None

    async def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=64, keepalive_timeout=30)
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def send(
        self,
        sender: str,
        message: str,
        *,
        language: str,
        channel: str = "sip",
        asr_confidence: float | None = None,
    ) -> BotTurn:
        """One caller turn. ``asr_confidence`` (0..1, the recogniser's certainty of the
        words) lets Rasa ask "U vraagt naar …, klopt dat?" when the words are doubtful."""
        metadata: dict[str, Any] = {"channel": channel, "language": language}
        if asr_confidence is not None:
            metadata["asr_confidence"] = round(min(1.0, max(0.0, asr_confidence)), 3)
        body = {
            "sender": sender,
            "message": message if message.startswith("/") else clean_message(message),
            "metadata": metadata,
        }
        http = await self._http()
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout_s):
                async with http.post(f"{self.url}/webhooks/rest/webhook", json=body) as resp:
                    if resp.status != 200:
                        raise DialogueError(f"Rasa answered HTTP {resp.status}")
                    data = await resp.json(content_type=None)
        except TimeoutError as exc:
            raise DialogueError(f"Rasa did not answer within {self.timeout_s:.1f} s") from exc
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            raise DialogueError(f"Rasa unreachable or broken: {exc.__class__.__name__}") from exc
        return parse_reply(data, time.perf_counter() - started)

    async def status(self) -> dict[str, Any] | None:
        """Rasa's ``GET /status`` (model loaded?), or None when it is not reachable."""
        http = await self._http()
        try:
            async with asyncio.timeout(
                1.5
            ):  # /healthz waits on this: a hung Rasa must not stall it
                async with http.get(f"{self.url}/status") as resp:
                    if resp.status != 200:
                        return None
                    data = await resp.json(content_type=None)
                    return data if isinstance(data, dict) else None
        except (TimeoutError, aiohttp.ClientError, OSError, ValueError):
            return None
