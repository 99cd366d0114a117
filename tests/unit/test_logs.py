"""loket.logs: one JSON object per line; caller text in a line comes out redacted."""

from __future__ import annotations

import json
import logging

from loket.logs import JsonFormatter


def line(**extra: object) -> dict[str, object]:
    record = logging.LogRecord("loket.test", logging.WARNING, __file__, 1, "event", None, None)
    record.__dict__.update(extra)
    out: dict[str, object] = json.loads(JsonFormatter().format(record))
    return out


def test_caller_text_fields_are_redacted_at_every_level() -> None:
    out = line(text="mijn iban is NL91 ABNA 0417 1643 00", call_id="call-1")
    assert out["text"] == "mijn iban is [IBAN]"
    assert out["call_id"] == "call-1" and out["event"] == "event"


def test_english_lines_get_english_placeholders() -> None:
    assert line(words="call me on +44 7911 123456", language="en")["words"] == "call me on [PHONE]"


def test_other_fields_are_left_alone() -> None:
    # a queue's name or a count is not caller text: no time spent on it
    out = line(queue="0612345678", count=3)
    assert out["queue"] == "0612345678" and out["count"] == 3
