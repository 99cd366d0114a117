"""Confirmation when unsure: how often recogniser-like questions end well.

Each helpline question, Dutch and English (the unseen phrasings of
tests/rasa/unseen_phrasings.txt, held out, and the training examples), is corrupted
the way Whisper base corrupts Dutch (bench/results/dutch_stt.json: sound-alike
spellings like "sluurdig", "uitgemeegde"; real but wrong words; dropped, merged, split
and inserted words) at several word error rates (lower ones for English, which
Whisper tiny.en hears far better), and parsed by the trained model through a real
Rasa server (`/model/parse`). No Dutch recordings of helpline questions exist here (espeak-ng
Dutch is not recognisable by Whisper base, 80-100 % WER), hence simulated errors.

For every certainty threshold (components/topic_confirmation.py: min of the `faq`
intent's and the chosen answer's confidence) it counts what the caller meets:
the right answer at once, a confirmation question naming the right topic (yes ->
the answer) or a wrong one (no -> a person), a wrong answer, "please rephrase", or
another intent (a handoff path, small talk). Writes bench/results/confirmation.json.

    flock /tmp/loket-heavy.lock .venv/bin/python -m bench.confirmation
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from bench.common import ROOT, write_result
from tests.tools.fillets import edits
from tests.tools.modules import load_module

RASA_DIR = ROOT / "dialogue" / "rasa"
UNSEEN = ROOT / "tests" / "rasa" / "unseen_phrasings.txt"
# target WER per language: 0.55-0.65 is Whisper base on acted Dutch; English comes from
# Whisper tiny.en, much better on English (a lower range)
LEVELS = {"nl": (0.0, 0.2, 0.35, 0.55), "en": (0.0, 0.1, 0.2, 0.35)}
THRESHOLDS = (0.45, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
CHOSEN = {"nl": 0.8, "en": 0.6}  # keep equal to config.yml's TopicConfirmation thresholds
REPHRASE = {"nlu_fallback", "out_of_scope"}
PORTS = (5305, 5355)

# Dutch spelling of similar sounds: what Whisper base swaps when it mishears.
SOUND_ALIKES = [
    ("ij", "ei"), ("ei", "ij"), ("au", "ou"), ("ou", "au"), ("ui", "u"), ("ie", "i"),
    ("ee", "e"), ("oo", "o"), ("aa", "a"), ("oe", "u"), ("uu", "u"), ("sch", "s"),
    ("ch", "g"), ("g", "ch"), ("v", "f"), ("f", "v"), ("z", "s"), ("s", "z"), ("w", "v"),
    ("dt", "t"), ("d", "t"), ("t", "d"), ("k", "c"), ("c", "k"), ("e", "u"), ("a", "e"),
    ("tt", "t"), ("ll", "l"), ("nn", "n"), ("en", "e"), ("er", "e"),
]  # fmt: skip
FILLERS = {
    "nl": ("de", "en", "het", "op", "een", "dat", "ik", "eh"),
    "en": ("the", "a", "and", "to", "of", "i", "uh"),
}
DUTCH_HINTS = frozenset(
    "de het een ik mijn wanneer waar hoe wat is van voor bij wordt krijg moet kan ik "
    "ben niet geen ook nog dat die met op aan heb wil".split()
)


def is_dutch(text: str) -> bool:
    words = re.findall(r"[a-zà-ÿ]+", text.lower())
    return sum(w in DUTCH_HINTS for w in words) >= max(1, len(words) // 4)


def questions(language: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(topic, text): held-out unseen phrasings, and training examples, in ``language``."""
    dutch = language == "nl"
    unseen = []
    for line in UNSEEN.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            expected, text = (part.strip() for part in line.split("|", 1))
            faq = [e for e in expected.split() if e.startswith("faq/")]
            if len(faq) == 1 and is_dutch(text) == dutch:
                unseen.append((faq[0][4:], text))
    trained = []
    for path in sorted((RASA_DIR / "data" / "nlu" / "faq").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for item in data.get("nlu", []):
            topic = str(item.get("intent", ""))[4:]
            for line in str(item.get("examples", "")).splitlines():
                text = line.strip().removeprefix("- ")
                if text and is_dutch(text) == dutch:
                    trained.append((topic, text))
    return unseen, trained


def words_of(text: str) -> list[str]:
    return re.findall(r"[\w'-]+", text.lower())


class Mishearing:
    """Corrupts a sentence like Whisper base does on Dutch, at about ``rate`` WER."""

    def __init__(
        self, lexicon: list[str], rate: float, seed: int, fillers: tuple[str, ...]
    ) -> None:
        self.lexicon, self.rate, self.fillers = lexicon, rate, fillers
        self.rng = random.Random(seed)

    def sound_alike(self, word: str) -> str:
        for _ in range(self.rng.choice((1, 1, 2))):
            options = [(a, b) for a, b in SOUND_ALIKES if a in word[1:] or word.startswith(a)]
            if not options:
                break
            a, b = self.rng.choice(options)
            spots = [m.start() for m in re.finditer(re.escape(a), word)]
            at = self.rng.choice(spots)
            word = word[:at] + b + word[at + len(a) :]
        return word

    def real_word(self, word: str) -> str:
        near = sorted((edits(word, w), w) for w in self.lexicon if w != word and w[:1] == word[:1])[
            :4
        ]
        return self.rng.choice(near)[1] if near else word

    def __call__(self, text: str) -> str:
        words, out = words_of(text), []
        i = 0
        while i < len(words):
            word = words[i]
            if self.rng.random() >= self.rate:
                out.append(word)
                i += 1
                continue
            kind = self.rng.choices(
                ("sound", "real", "drop", "merge", "split", "insert"), (45, 20, 15, 8, 4, 8)
            )[0]
            if kind == "sound":
                changed = self.sound_alike(word)
                out.append(changed if changed != word else self.real_word(word))
            elif kind == "real":
                out.append(self.real_word(word))
            elif kind == "merge" and i + 1 < len(words):
                out.append(word + words[i + 1])
                i += 1
            elif kind == "split" and len(word) > 5:
                cut = self.rng.randrange(2, len(word) - 2)
                out += [word[:cut], word[cut:]]
            elif kind == "insert":
                out += [self.rng.choice(self.fillers), word]
            # "drop" (and a merge/split that does not fit) leaves the word out
            i += 1
        return " ".join(out)


def parse(url: str, text: str) -> dict[str, Any]:
    req = urllib.request.Request(
        f"{url}/model/parse",
        data=json.dumps({"text": text}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        result: dict[str, Any] = json.loads(resp.read())
        return result


def verdict(parsed: dict[str, Any]) -> tuple[str, str | None, float]:
    """(intent before confirmation, chosen topic, certainty) of a parse result."""
    intent = str(parsed["intent"]["name"])
    response = parsed.get("response_selector", {}).get("faq", {}).get("response", {})
    key = str(response.get("intent_response_key") or "")
    topic = key[4:] if key.startswith("faq/") else None
    if intent not in ("faq", "confirm_topic"):
        return intent, topic, 0.0
    faq = next((r for r in parsed.get("intent_ranking", []) if r["name"] == "faq"), None)
    certainty = min(float(faq["confidence"]) if faq else 0.0, float(response.get("confidence", 0)))
    return "faq", topic, certainty


def outcome(expected: str, got: tuple[str, str | None, float], threshold: float) -> str:
    intent, topic, certainty = got
    if intent == "faq":
        right = topic == expected
        if certainty >= threshold:
            return "answer_right" if right else "answer_wrong"
        return "confirm_right" if right else "confirm_wrong"
    return "rephrase" if intent in REPHRASE else "other_intent"


def summarise(rows: list[tuple[str, tuple[str, str | None, float]]]) -> dict[str, Any]:
    by_threshold = {}
    for threshold in THRESHOLDS:
        counts = Counter(outcome(expected, got, threshold) for expected, got in rows)
        n = len(rows)
        shares = {k: round(counts[k] / n, 3) for k in (
            "answer_right", "confirm_right", "confirm_wrong", "answer_wrong", "rephrase",
            "other_intent",
        )}  # fmt: skip
        # what the caller ends with: a "yes" to a right confirmation is the answer,
        # a "no" to a wrong one a person
        shares["ends_with_right_answer"] = round(
            (counts["answer_right"] + counts["confirm_right"]) / n, 3
        )
        shares["ends_with_person_after_no"] = shares["confirm_wrong"]
        by_threshold[str(threshold)] = shares
    bins: dict[str, dict[str, float | None]] = {}
    edges = (0.0, 0.2, 0.45, 0.6, 0.7, 0.8, 0.9, 0.95, 1.01)
    for low, high in itertools.pairwise(edges):
        inside = [(e, g) for e, g in rows if g[0] == "faq" and low <= g[2] < high]
        right = sum(1 for e, g in inside if g[1] == e)
        bins[f"{low:.2f}-{min(high, 1.0):.2f}"] = {
            "n": len(inside),
            "right_topic": round(right / len(inside), 3) if inside else None,
        }  # fmt: skip
    return {"n": len(rows), "by_threshold": by_threshold, "certainty_bins": bins}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unseen-copies", type=int, default=4, help="noisy copies per line")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    project = load_module("loket_rasa_project", ROOT / "scripts" / "rasa" / "project.py")

    model = project.current_model()
    started = time.monotonic()
    sets: dict[str, Any] = {}
    samples: list[dict[str, str]] = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        project.servers(
            rasa_port=PORTS[0],
            actions_port=PORTS[1],
            log_dir=Path(tmp),
            tracker_db=f"{tmp}/t.sqlite",
        ) as url,
    ):
        for language, level in ((lang, lv) for lang in LEVELS for lv in LEVELS[lang]):
            unseen, trained = questions(language)
            lexicon = sorted({w for _, t in unseen + trained for w in words_of(t)})
            for name, lines, copies in (
                ("unseen", unseen, 1 if level == 0 else args.unseen_copies),
                ("trained", trained, 1),
            ):
                rows, errors, words = [], 0, 0
                for copy in range(copies):
                    seed = (
                        args.seed * 10_000 + int(level * 100) * 100 + copy * 2 + (name == "trained")
                    )
                    hear = Mishearing(lexicon, level, seed, FILLERS[language])
                    for topic, text in lines:
                        heard = hear(text) if level else " ".join(words_of(text))
                        errors += edits(words_of(text), words_of(heard))
                        words += len(words_of(text))
                        rows.append((topic, verdict(parse(url, heard))))
                        if name == "unseen" and copy == 0 and level > 0.3 and len(samples) < 16:
                            samples.append({"text": text, "heard": heard, "got": str(rows[-1])})
                entry = summarise(rows)
                entry["wer"] = round(errors / max(1, words), 3)
                sets[f"{language}-{name}@{level}"] = entry
                chosen = entry["by_threshold"][str(CHOSEN[language])]
                print(
                    f"{language} {name:8s} WER {entry['wer']:.2f} n={entry['n']:4d}  at "
                    f"{CHOSEN[language]}: "
                    f"right {chosen['answer_right']:.2f} confirm+ {chosen['confirm_right']:.2f} "
                    f"confirm- {chosen['confirm_wrong']:.2f} wrong {chosen['answer_wrong']:.2f} "
                    f"rephrase {chosen['rephrase']:.2f} other {chosen['other_intent']:.2f}",
                    flush=True,
                )
    result = {
        "benchmark": "confirmation when unsure: questions with recogniser-like errors",
        "model": model.name if model else None,
        "method": __doc__.split("\n\n")[1].replace("\n", " "),
        "chosen_thresholds": CHOSEN,
        "fallback_threshold": 0.45,
        "seed": args.seed,
        "sets": sets,
        "samples": samples,
        "seconds": round(time.monotonic() - started, 1),
    }
    print(write_result("confirmation", result))


if __name__ == "__main__":
    main()
