"""What a bot reply was, known from the Rasa project's own responses: an answer (its topic)
or a miss ("did not understand", "cannot help with that").

Rasa's REST channel returns only the text of a response, not its name, so the gateway
recognises the fixed texts of the project (every variation, Dutch and English): the FAQ
answers ``utter_faq/<topic>`` in ``data/nlu/faq/*.yml`` and the miss responses in
``domain/*.yml``. Slot placeholders (``{topic_name}``) match any words; a response that
is nothing but a placeholder (the opening hours, filled from the config) cannot be
recognised and is left unclassified. Used to record the call's topic and its misses for
the supervisor's figures (records.analytics).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger(__name__)

ANSWER_PREFIX = "utter_faq/"
MISS_RESPONSES = frozenset({"utter_rephrase", "utter_out_of_scope"})
_PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


@dataclass(frozen=True, slots=True)
class Reply:
    topic: str | None = None
    """The FAQ topic this reply answers (e.g. ``aow_payment``)."""
    miss: bool = False


NOTHING = Reply()


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


class Replies:
    """Bot texts → what they were. Empty (classifies nothing) when the project is missing."""

    def __init__(self, responses: dict[str, list[str]] | None = None) -> None:
        self._exact: dict[str, Reply] = {}
        self._patterns: list[tuple[re.Pattern[str], Reply]] = []
        for name, texts in (responses or {}).items():
            if name.startswith(ANSWER_PREFIX):
                reply = Reply(topic=name[len(ANSWER_PREFIX) :])
            elif name in MISS_RESPONSES:
                reply = Reply(miss=True)
            else:
                continue
            for text in texts:
                self._add(_norm(text), reply)

    def _add(self, text: str, reply: Reply) -> None:
        if not _PLACEHOLDER.search(text):
            self._exact[text] = reply
        elif _PLACEHOLDER.sub("", text).strip():  # some fixed words to recognise it by
            parts = _PLACEHOLDER.split(text)
            pattern = ".+?".join(re.escape(p) for p in parts)
            self._patterns.append((re.compile(f"^{pattern}$"), reply))

    def classify(self, text: str) -> Reply:
        key = _norm(text)
        found = self._exact.get(key)
        if found is not None:
            return found
        return next((r for p, r in self._patterns if p.match(key)), NOTHING)

    @classmethod
    def load(cls, project_dir: Path) -> Replies:
        """The responses of the project's domain and FAQ files."""
        responses: dict[str, list[str]] = {}
        files = [*sorted((project_dir / "domain").glob("*.yml"))]
        files += sorted((project_dir / "data" / "nlu" / "faq").glob("*.yml"))
        for path in files:
            try:
                doc: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
            except (OSError, yaml.YAMLError) as exc:
                log.warning("replies.unreadable", extra={"path": str(path), "error": str(exc)})
                continue
            for name, variations in ((doc or {}).get("responses") or {}).items():
                for v in variations or []:
                    if isinstance(v, dict) and isinstance(v.get("text"), str):
                        responses.setdefault(str(name), []).append(v["text"])
        return cls(responses)
