"""Per-topic F1 from a Rasa NLU cross-validation (rasa test nlu --cross-validation).

Rasa reports the intent classifier (where every factual question is just `faq`) and
the ResponseSelector (which topic, among the `faq` examples only) separately. What a
caller gets depends on both, so this joins them into one label per example: the
intent, or `faq/<topic>` when the intent is `faq` — or `confirm_topic`, an unsure
`faq` the assistant asks about first ("U vraagt naar …, klopt dat?"), which counts as
the topic it names. A `faq` prediction for a message that is not a factual question has
no topic and counts as `faq/?`.

Usage: python scripts/rasa/nlu_report.py <cv output dir> [--min-f1 0.8] [--min-topic-f1 0.7]
Writes <dir>/summary.json and prints a table. Figures under the goals (--target-f1 0.9,
--target-topic-f1 0.8) are listed as "below target"; exit 1 only under the floors
(--min-f1, --min-topic-f1), which catch a change that makes the assistant clearly worse.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

FAQ = "faq"
CONFIRM = "confirm_topic"  # components/topic_confirmation.py: an unsure `faq`


def _load(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, list) else []


def joined_labels(out_dir: Path) -> list[tuple[str, str, str]]:
    """(text, gold label, predicted label) for every evaluated example."""
    selections: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for name in ("response_selection_successes.json", "response_selection_errors.json"):
        for row in _load(out_dir / name):
            selections[row["text"]].append(row)
    rows = []
    for name in ("intent_successes.json", "intent_errors.json"):
        for row in _load(out_dir / name):
            text = row["text"]
            gold = str(row["intent"])
            pred = str((row.get("intent_prediction") or {}).get("name"))
            selection = selections[text].pop(0) if gold == FAQ and selections[text] else None
            if gold == FAQ:
                gold = str(selection["intent_response_key_target"]) if selection else "faq/?"
            if pred in (FAQ, CONFIRM):
                chosen = (selection or {}).get("intent_response_key_prediction") or {}
                pred = str(chosen.get("name") or "faq/?")
            rows.append((text, gold, pred))
    return rows


def scores(rows: list[tuple[str, str, str]]) -> dict[str, Any]:
    """Precision, recall, F1 and support per label, plus overall figures."""
    tp: dict[str, int] = defaultdict(int)
    fp: dict[str, int] = defaultdict(int)
    fn: dict[str, int] = defaultdict(int)
    for _, gold, pred in rows:
        if gold == pred:
            tp[gold] += 1
        else:
            fn[gold] += 1
            fp[pred] += 1
    labels = sorted({gold for _, gold, _ in rows})
    per: dict[str, dict[str, float]] = {}
    for label in labels:
        p = tp[label] / (tp[label] + fp[label]) if tp[label] + fp[label] else 0.0
        r = tp[label] / (tp[label] + fn[label]) if tp[label] + fn[label] else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        per[label] = {
            "precision": round(p, 4),
            "recall": round(r, 4),
            "f1": round(f1, 4),
            "support": tp[label] + fn[label],
        }
    total = len(rows)
    weighted = sum(per[x]["f1"] * per[x]["support"] for x in labels) / total if total else 0.0
    macro = sum(per[x]["f1"] for x in labels) / len(labels) if labels else 0.0
    topics = {k[len(FAQ) + 1 :]: v for k, v in per.items() if k.startswith(FAQ + "/")}
    intents = {k: v for k, v in per.items() if not k.startswith(FAQ + "/")}
    return {
        "examples": total,
        "accuracy": round(sum(tp.values()) / total, 4) if total else 0.0,
        "weighted_f1": round(weighted, 4),
        "macro_f1": round(macro, 4),
        "topics": topics,
        "intents": intents,
        "confusions": _top_confusions(rows),
    }


def _top_confusions(rows: list[tuple[str, str, str]], n: int = 15) -> list[dict[str, Any]]:
    counts: dict[tuple[str, str], list[str]] = defaultdict(list)
    for text, gold, pred in rows:
        if gold != pred:
            counts[(gold, pred)].append(text)
    ranked = sorted(counts.items(), key=lambda kv: -len(kv[1]))[:n]
    return [{"gold": g, "predicted": p, "count": len(t), "examples": t[:3]} for (g, p), t in ranked]


def below(result: dict[str, Any], overall: float, topic: float) -> list[str]:
    """Figures under the given overall and per-topic F1."""
    found = []
    if result["weighted_f1"] < overall:
        found.append(f"overall weighted F1 {result['weighted_f1']:.3f} < {overall}")
    found += [
        f"topic {t} F1 {s['f1']:.3f} < {topic}"
        for t, s in sorted(result["topics"].items())
        if s["f1"] < topic
    ]
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--target-f1", type=float, default=0.9, help="overall weighted F1 goal")
    parser.add_argument("--target-topic-f1", type=float, default=0.8, help="per-topic F1 goal")
    parser.add_argument("--min-f1", type=float, default=0.8, help="fail below this overall F1")
    parser.add_argument("--min-topic-f1", type=float, default=0.7, help="fail below this per topic")
    parser.add_argument("--extra", type=str, default="{}", help="JSON merged into summary.json")
    args = parser.parse_args(argv)
    rows = joined_labels(args.out_dir)
    if not rows:
        print(f"no cross-validation results in {args.out_dir}", file=sys.stderr)
        return 1
    result = scores(rows)
    result.update(json.loads(args.extra))
    result["below_target"] = below(result, args.target_f1, args.target_topic_f1)
    (args.out_dir / "summary.json").write_text(json.dumps(result, indent=2) + "\n")

    print(f"{'label':32s} {'F1':>6s} {'prec':>6s} {'recall':>6s} {'n':>4s}")
    for group in ("topics", "intents"):
        prefix = "faq/" if group == "topics" else ""
        for label, s in sorted(result[group].items(), key=lambda kv: kv[1]["f1"]):
            print(
                f"{prefix + label:32s} {s['f1']:6.3f} {s['precision']:6.3f} "
                f"{s['recall']:6.3f} {s['support']:4d}"
            )
    print(
        f"overall: weighted F1 {result['weighted_f1']:.3f}, macro F1 {result['macro_f1']:.3f}, "
        f"accuracy {result['accuracy']:.3f} over {result['examples']} examples"
    )
    for line in result["below_target"]:
        print(f"below target: {line}")
    failed = below(result, args.min_f1, args.min_topic_f1)
    for line in failed:
        print(f"FAILED (regression floor): {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
