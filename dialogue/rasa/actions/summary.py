"""The handoff instruction for the gateway, built from the conversation's events.

Pure functions over the tracker's event dicts (as rasa_sdk passes them), so they can
be tested without a Rasa server. No language model: the summary is assembled from what
the conversation recorded, which makes it exact and predictable.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

from .settings import clean_text

HANDOFF_PREFIX = "utter_handoff_"
FAQ_PREFIX = "utter_faq/"
MISS_INTENTS = ("nlu_fallback", "out_of_scope")
# handoff keys after the confirmation question (actions/confirmation.py) -> the reply
CONFIRMATION_REPLIES = {"topic_denied": "no", "topic_unclear": "unclear"}
CONFIRM_INTENT = "confirm_topic"
LAST_WORDS_CHARS = 200
SPOKEN_QUOTE_WORDS = 12


def current_session(events: Sequence[Mapping[str, Any]]) -> List[Mapping[str, Any]]:
    """Events since the last session start (a call is one session)."""
    start = 0
    for index, event in enumerate(events):
        if event.get("event") == "session_started":
            start = index + 1
    return list(events[start:])


def _faq_topic(event: Mapping[str, Any]) -> Optional[str]:
    parse = event.get("parse_data") or {}
    if (parse.get("intent") or {}).get("name") != "faq":
        return None
    selected = (parse.get("response_selector") or {}).get("faq") or {}
    key = (selected.get("response") or {}).get("intent_response_key") or ""
    return key.split("/", 1)[1] if "/" in key else None


def _unique(items: Iterable[str]) -> List[str]:
    seen: List[str] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def topics_asked(events: Sequence[Mapping[str, Any]]) -> List[str]:
    """Topics of the caller's factual questions, in the order first asked."""
    topics = (_faq_topic(e) for e in events if e.get("event") == "user")
    return _unique(t for t in topics if t)


def topics_answered(events: Sequence[Mapping[str, Any]]) -> List[str]:
    """Topics the assistant gave an answer on."""
    actions = (
        str((e.get("metadata") or {}).get("utter_action") or "")
        for e in events
        if e.get("event") == "bot"
    )
    return _unique(a[len(FAQ_PREFIX):] for a in actions if a.startswith(FAQ_PREFIX))


def last_words(events: Sequence[Mapping[str, Any]]) -> str:
    """The caller's own latest words (not key presses or other /intent events), trimmed."""
    for event in reversed(events):
        if event.get("event") != "user":
            continue
        text = clean_text(event.get("text"), LAST_WORDS_CHARS)
        if text and not text.startswith("/"):
            return text
    return ""


def last_slot(events: Sequence[Mapping[str, Any]], name: str) -> Optional[str]:
    """The latest value a slot was set to in these events (None if never, or unset)."""
    for event in reversed(events):
        if event.get("event") == "slot" and event.get("name") == name:
            value = event.get("value")
            return str(value) if value is not None else None
    return None


def unsure_question(events: Sequence[Mapping[str, Any]]) -> str:
    """The caller's words the assistant was unsure of (the latest `confirm_topic`)."""
    for event in reversed(events):
        parse = event.get("parse_data") or {}
        if event.get("event") == "user" and (parse.get("intent") or {}).get("name") == CONFIRM_INTENT:
            return clean_text(event.get("text"), LAST_WORDS_CHARS)
    return ""


def handoff_key(events: Sequence[Mapping[str, Any]]) -> str:
    """Which handoff path this is: from the latest utter_handoff_<key> response."""
    for event in reversed(events):
        if event.get("event") == "user":
            break
        action = str((event.get("metadata") or {}).get("utter_action") or "")
        if event.get("event") == "bot" and action.startswith(HANDOFF_PREFIX):
            return action[len(HANDOFF_PREFIX):]
    return "human"


def keyword_topic(text: str, keywords: Mapping[str, Sequence[str]]) -> Optional[str]:
    """First topic whose keyword occurs in the text (whole-word start match)."""
    words = [w.strip(".,!?;:'\"()") for w in text.lower().split()]
    for topic, terms in keywords.items():
        for term in terms:
            term_words = str(term).lower().split()
            n = len(term_words)
            for i in range(len(words) - n + 1):
                if all(words[i + j].startswith(term_words[j]) for j in range(n)):
                    return topic
    return None


def _join_nl(items: List[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " en " + items[-1]


def _quote(text: str) -> str:
    words = text.split()
    short = " ".join(words[:SPOKEN_QUOTE_WORDS])
    return short + ("…" if len(words) > SPOKEN_QUOTE_WORDS else "")


def spoken_summary(
    *,
    language: str,
    reason_spoken: str,
    urgent: bool,
    topic_label: Optional[str],
    answered_labels: List[str],
    words: str,
) -> str:
    """One or two short Dutch sentences for the agent to hear before connecting."""
    caller = "Engelstalige beller" if language == "en" else "Beller"
    first = f"{caller} {reason_spoken}"
    if topic_label:
        first += f", onderwerp {topic_label}"
    if urgent:
        first = "Urgent. " + first
    first += "."
    if answered_labels:
        second = f"Al beantwoord: {_join_nl(answered_labels)}."
    elif words:
        second = f"Laatste woorden: {_quote(words)}"
        second += "" if second.endswith(("…", ".", "?", "!")) else "."
    else:
        return first
    return f"{first} {second}"


def build_handoff(
    events: Sequence[Mapping[str, Any]],
    *,
    language: str,
    config: Mapping[str, Any],
    labels: Mapping[str, str],
) -> Dict[str, Any]:
    """The `handoff` custom payload: queue, reason, priority and the agent's summary."""
    session = current_session(events)
    key = handoff_key(session)
    reasons = config.get("reasons") or {}
    reason_cfg = reasons.get(key) or reasons.get("human") or {}
    reason = str(reason_cfg.get("reason", key.replace("_", " ")))
    priority = "urgent" if reason_cfg.get("priority") == "urgent" else "normal"

    asked = topics_asked(session)
    answered = topics_answered(session)
    words = last_words(session)
    confirmation: Optional[Dict[str, Any]] = None
    reason_spoken = str(reason_cfg.get("spoken", "wil een medewerker spreken"))
    if key in CONFIRMATION_REPLIES:
        # The agent hears what the assistant thought, and the question rather than "nee".
        thought = last_slot(session, "candidate_topic")
        words = unsure_question(session) or words
        confirmation = {"topic": thought, "reply": CONFIRMATION_REPLIES[key]}
        label = labels.get(thought, thought) if thought else "het onderwerp"
        reason_spoken = reason_spoken.replace("{topic}", label)
    topic = keyword_topic(words, config.get("topic_keywords") or {}) if words else None
    topic = topic or (asked[-1] if asked else None)
    if confirmation is not None:
        # a "no" rejects the topic the words pointed to; an unclear reply leaves it standing
        topic = None if confirmation["reply"] == "no" else topic or confirmation["topic"]

    queue = (
        reason_cfg.get("queue")
        or (config.get("language_queues") or {}).get(language)
        or (config.get("topic_queues") or {}).get(topic or "")
        or config.get("default_queue")
        or "general"
    )
    misses = sum(
        1
        for e in session
        if e.get("event") == "user"
        and ((e.get("parse_data") or {}).get("intent") or {}).get("name") in MISS_INTENTS
    )
    summary = {
        "language": language,
        "reason": reason,
        "topic": topic,
        "topics": asked,
        "answered": answered,
        "last_words": words,
        "turns": sum(1 for e in session if e.get("event") == "user"),
        "misses": misses,
        "confirmation": confirmation,
        "spoken": spoken_summary(
            language=language,
            reason_spoken=reason_spoken,
            urgent=priority == "urgent",
            # the topic is named only when it is not already among the answered ones
            # (nor in the confirmation question the reason already names)
            topic_label=labels.get(topic, topic)
            if topic and topic not in answered and confirmation is None
            else None,
            answered_labels=[labels.get(t, t) for t in answered],
            words=words,
        ),
    }
    return {"queue": str(queue), "reason": reason, "priority": priority, "summary": summary}
