"""Right outcomes for Dutch helpline questions from speech: answer, confirmation, person.

Speech → Whisper base as the gateway runs it (Dutch, beam 1, the hallucination guard) at
16 kHz and after a G.711 round trip → the real trained Rasa over its REST channel (the
gateway's own client, a fresh conversation per utterance) → the outcome:

* ``right_answer``: the reply holds the Dutch answer of the question's topic;
* ``confirmation``: the assistant asks whether it understood (a question, no answer yet);
* ``person``: the call is handed to a person (right for ``request_human``; for a topic
  question a person is a safe outcome, counted apart from wrong);
* ``wrong_answer``: another topic's answer, or a reply that answers nothing ("not
  understood", chit-chat); ``not_recognised``: the recogniser gave no text.

Two sets, reported apart:

* ``human``: the utterances spliced from real human Dutch speech (fillets-ng voice actors,
  ``tests/data/dutch_utterances.json``, built from the Debian files) — few, since the game
  dialogue has few helpline words;
* ``espeak`` (a labelled lower bound): espeak-ng ``nl`` renderings of Dutch NLU examples,
  ``--per-topic`` per FAQ topic plus the request_human ones; Whisper base hears espeak
  Dutch badly (WER 80-100 %), so this says how the chain fails, not what callers get.

Run: ``flock /tmp/loket-heavy.lock .venv/bin/python -m bench.dutch_outcomes`` →
``bench/results/dutch_outcomes.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from bench.common import RESULTS, write_result
from config.settings import load_settings
from dialogue.rasa_client import BotTurn, RasaClient
from tests.stack import RASA_PROJECT, Stack
from tests.tools.dutch_utterances import build, load
from tests.tools.fillets import RATE, g711_round_trip, load_pcm, normalise
from voice.model_registry import get_entry, resolve
from voice.stt_whisper import WhisperStt

OUT = RESULTS / "dutch_outcomes.json"
OUTCOMES = ("right_answer", "confirmation", "person", "wrong_answer", "not_recognised")
HUMAN = "request_human"


def dutch_examples() -> dict[str, list[str]]:
    """The Dutch NLU examples per intent (the first example block of each intent is Dutch)."""
    examples: dict[str, list[str]] = {}
    for path in sorted((RASA_PROJECT / "data" / "nlu").rglob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in data.get("nlu", []):
            intent = item.get("intent")
            if intent and intent not in examples:
                lines = [x.strip()[2:].strip() for x in item["examples"].splitlines()]
                examples[intent] = [x for x in lines if x]
    return examples


def dutch_answers() -> dict[str, str]:
    """The Dutch answer text of every FAQ topic (the response without a condition); the
    opening hours come from the settings, as the gateway fills them in."""
    hours = load_settings().opening_hours.get("nl", "")
    answers: dict[str, str] = {}
    for path in sorted((RASA_PROJECT / "data" / "nlu" / "faq").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, variants in (data.get("responses") or {}).items():
            plain = [v["text"] for v in variants if "condition" not in v]
            text = plain[0].replace("{opening_hours_nl}", hours) if plain else ""
            if text and "{" not in text:
                answers[name.removeprefix("utter_")] = text
    return answers


def outcome(intent: str, turn: BotTurn | None, answers: dict[str, str]) -> tuple[str, str]:
    """(outcome, the topic answered if any) of one reply to a question of *intent*."""
    if turn is None:
        return "not_recognised", ""
    said = " ".join(turn.texts)
    answered = [t for t, a in answers.items() if a[:40] in said]
    if turn.handoff is not None:
        return "person", ""
    if intent in answered:
        return "right_answer", intent
    if not answered and re.search(r"\bklopt dat\b|\?\s*$", said, re.I) and _is_confirmation(said):
        return "confirmation", ""
    return "wrong_answer", answered[0] if answered else ""


def _is_confirmation(said: str) -> bool:
    """A yes/no question about what the caller asked ("U vraagt naar …, klopt dat?")."""
    return bool(re.search(r"\b(klopt dat|bedoelt u|vraagt u naar|gaat het over)\b", said, re.I))


def espeak_nl(text: str) -> bytes:
    """espeak-ng ``nl`` as 16 kHz s16 (the gateway's Dutch voice offline)."""
    with tempfile.NamedTemporaryFile(suffix=".wav") as wav:
        subprocess.run(["espeak-ng", "-v", "nl", "-w", wav.name, text], check=True)
        return load_pcm(Path(wav.name))


async def ask_all(
    url: str, items: list[tuple[str, str, str]], answers: dict[str, str]
) -> list[dict[str, Any]]:
    """Each (set, intent, transcript) through Rasa as a new conversation."""
    client = RasaClient(url, timeout_s=10)
    rows = []
    try:
        for n, (label, intent, heard) in enumerate(items):
            turn = None
            if heard:
                turn = await client.send(f"bench-nl-{n}", heard, language="nl", channel="phone")
            got, topic = outcome(intent, turn, answers)
            reply = " ".join(turn.texts) if turn else ""
            rows.append(
                {"set": label, "intent": intent, "heard": heard, "outcome": got,
                 "answered": topic, "reply": reply}
            )  # fmt: skip
    finally:
        await client.close()
    return rows


def rates(rows: list[dict[str, Any]]) -> dict[str, Any]:
    counts = Counter(r["outcome"] for r in rows)
    n = len(rows)
    right = sum(
        r["outcome"] == "right_answer"
        or r["outcome"] == "confirmation"
        or (r["outcome"] == "person" and r["intent"] == HUMAN)
        for r in rows
    )
    return {
        "n": n,
        **{k: round(counts[k] / n, 3) if n else None for k in OUTCOMES},
        "right_outcome": round(right / n, 3) if n else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--per-topic", type=int, default=2, help="espeak examples per intent")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    found = resolve(get_entry("whisper-base"), load_settings().models.dir)
    if found.path is None:
        raise SystemExit(f"{found.problem}; {found.provide}")
    stt = WhisperStt(found.path, "nl")  # as the gateway runs it
    answers = dutch_answers()
    clips: list[tuple[str, str, str, bytes]] = [
        ("human", u.intent, u.text, build(u)) for u in load()
    ]
    for intent, examples in dutch_examples().items():
        if intent.startswith("faq/") or intent == HUMAN:
            for text in examples[: args.per_topic]:
                clips.append(("espeak", intent, text, espeak_nl(text)))
    print(f"{len(clips)} utterances, {sum(len(c[3]) for c in clips) / 2 / RATE:.0f} s", flush=True)
    items: list[tuple[str, str, str]] = []
    transcripts: list[dict[str, str]] = []
    for label, intent, text, pcm in clips:
        for line in ("16k", "g711"):
            heard = stt.transcribe(pcm if line == "16k" else g711_round_trip(pcm)).text
            items.append((f"{label}/{line}", intent, heard))
            transcripts.append({"said": text, "line": line, "heard": heard})
    with tempfile.TemporaryDirectory() as tmp, Stack(Path(tmp)) as stack:
        rows = asyncio.run(ask_all(stack.rasa_url, items, answers))
    for row, t in zip(rows, transcripts, strict=True):
        row["said"] = t["said"]
        row["words_right"] = normalise(t["said"]) == normalise(t["heard"])
    sets = sorted({r["set"] for r in rows})
    summary = {s: rates([r for r in rows if r["set"] == s]) for s in sets}
    result: dict[str, Any] = {
        "benchmark": "Dutch helpline questions from speech: outcome through Whisper base and Rasa",
        "stt": "whisper-base, nl, beam 1, hallucination guard (the gateway's settings)",
        "outcomes": {
            "right_answer": "the Dutch answer of the question's topic",
            "confirmation": "a yes/no question about the topic, no answer yet",
            "person": "handed to a person (right for request_human, safe for a topic)",
            "wrong_answer": "another topic's answer, or no answer",
            "not_recognised": "the recogniser gave no text",
        },
        "right_outcome": "right_answer + confirmation + person for request_human",
        "sets": summary,
        "human_source": "fillets-ng voice actors spliced (tests/data/dutch_utterances.json)",
        "espeak_note": "lower bound: espeak-ng nl is barely recognisable by Whisper base",
        "rows": rows,
    }
    for s in sets:
        print(s, summary[s], flush=True)
    print(f"wrote {write_result('dutch_outcomes', result, args.out)}")


if __name__ == "__main__":
    main()
