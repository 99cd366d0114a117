"""Is Whisper's confidence worth passing to Rasa? WER by exp(avg_logprob) on real Dutch speech.

The gateway sends each transcript's confidence (exp of Whisper's average token
log-probability; transcripts below exp(-1.2) are already dropped by the guard) to Rasa
as metadata `asr_confidence`; below TopicConfirmation's `asr_threshold` even a sure NLU
asks "U vraagt naar …, klopt dat?". This measures, on the fillets-ng voice actors
(bench/dutch_stt.py's subset, 16 kHz and after G.711, as the gateway decodes: beam 1,
no prompt), how the word error rate of a line depends on that confidence.
Writes bench/results/asr_confidence.json.

    flock /tmp/loket-heavy.lock .venv/bin/python -m bench.asr_confidence
"""

from __future__ import annotations

import argparse
import itertools
import statistics
from typing import Any

import yaml

from bench.common import ROOT, write_result
from bench.dutch_stt import edits, fillets_lines, g711_round_trip, load_pcm, normalise, subset
from config.settings import load_settings
from voice.model_registry import ENTRIES, resolve
from voice.stt_whisper import WhisperStt

EDGES = (0.0, 0.37, 0.45, 0.55, 0.7, 1.01)


def asr_threshold() -> float:
    config = yaml.safe_load((ROOT / "dialogue" / "rasa" / "config.yml").read_text())
    part = next(c for c in config["pipeline"] if c["name"].endswith("TopicConfirmation"))
    return float(part.get("asr_threshold", 0.0))


def bins(rows: list[tuple[float, float]]) -> dict[str, dict[str, float | int | None]]:
    out: dict[str, dict[str, float | int | None]] = {}
    for low, high in itertools.pairwise(EDGES):
        wers = [w for c, w in rows if low <= c < high]
        out[f"{low:.2f}-{min(high, 1.0):.2f}"] = {
            "lines": len(wers),
            "median_wer": round(statistics.median(wers), 3) if wers else None,
            "share_wer_over_half": round(sum(w > 0.5 for w in wers) / len(wers), 3)
            if wers
            else None,
        }
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--lines", type=int, default=120)
    args = parser.parse_args(argv)
    entry = next(e for e in ENTRIES if e.name == "whisper-base")
    found = resolve(entry, load_settings().models.dir)
    if found.path is None:
        raise SystemExit(f"whisper-base not present: {found.problem}")
    engine = WhisperStt(found.path, "nl")
    lines = subset(fillets_lines(), args.lines)
    threshold = asr_threshold()
    result: dict[str, Any] = {
        "benchmark": "WER by Whisper confidence (exp(avg_logprob)), whisper-base, beam 1",
        "lines": len(lines),
        "asr_threshold": threshold,
    }
    for name, convert in (("16k", None), ("g711", g711_round_trip)):
        rows: list[tuple[float, float]] = []
        empty = 0
        for line in lines:
            pcm = load_pcm(line.path)
            heard = engine.transcribe(convert(pcm) if convert else pcm)
            ref = normalise(line.text)
            if heard.confidence is None:
                empty += 1
                continue
            rows.append((heard.confidence, edits(ref, normalise(heard.text)) / max(1, len(ref))))
        below = [w for c, w in rows if c < threshold]
        above = [w for c, w in rows if c >= threshold]
        result[name] = {
            "transcribed": len(rows),
            "empty": empty,
            "below_threshold": len(below),
            "median_wer_below": round(statistics.median(below), 3) if below else None,
            "median_wer_above": round(statistics.median(above), 3) if above else None,
            "median_confidence": round(statistics.median(c for c, _ in rows), 3),
            "bins": bins(rows),
        }
        print(name, {k: v for k, v in result[name].items() if k != "bins"}, flush=True)
        for label, b in result[name]["bins"].items():
            print(f"  {label}: {b}", flush=True)
    print(write_result("asr_confidence", result))


if __name__ == "__main__":
    main()
