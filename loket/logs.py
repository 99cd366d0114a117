"""Structured logs: one JSON object per line, the event name as message.

Callers pass fields with ``extra={...}``. Personal data (transcripts, caller
numbers, SIP Call-IDs, which often hold a host address) is never logged at
INFO: calls are named by Loket's own random call id, and what was said lives
only in the records store. Should caller text reach a log line anyway, in one of
``CALLER_TEXT_FIELDS``, the formatter redacts it (records.redaction).
"""

from __future__ import annotations

import json
import logging
import sys
import time

from records.redaction import redact

CALLER_TEXT_FIELDS = frozenset(
    {"text", "words", "last_words", "note", "utterance", "said", "heard"}
)
"""Fields that hold what a caller (or an agent about them) said: redacted in every line,
at every level, should one ever be logged. Only these: redaction costs ~0.2 ms a line."""

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                if key in CALLER_TEXT_FIELDS and isinstance(value, str):
                    value = redact(value, str(getattr(record, "language", "nl") or "nl")).text
                out[key] = value
        if record.exc_info:
            out["error"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def setup(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiosipua", "aiortp", "uvicorn.access", "faster_whisper"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.Formatter.converter = time.gmtime
