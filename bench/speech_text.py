"""How long the spoken form of an answer takes (voice.speech_text, before every synthesis).

Run: ``.venv/bin/python -m bench.speech_text`` (a second). Every fixed text the gateway
speaks (``voice.prompts.fixed_texts``: its prompts and the Rasa answers), each
normalised ``--repeat`` times; the figure per text is its median. Writes
``bench/results/speech_text.json``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from bench.common import percentile, write_result
from config.settings import load_settings
from voice.prompts import fixed_texts
from voice.speech_text import for_speech


def measure(repeat: int) -> dict[str, Any]:
    texts = fixed_texts(load_settings())
    per_text: list[float] = []
    changed = 0
    for language, text in texts:
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            spoken = for_speech(text, language)
            times.append(time.perf_counter() - started)
        per_text.append(statistics.median(times) * 1e6)
        changed += spoken != text
    per_text.sort()
    return {
        "texts": len(texts),
        "changed_by_normalisation": changed,
        "repeat": repeat,
        "per_answer_us_p50": round(statistics.median(per_text), 1),
        "per_answer_us_p95": round(percentile(per_text, 95) or 0.0, 1),
        "per_answer_us_max": round(per_text[-1], 1),
        "all_texts_ms": round(sum(per_text) / 1000, 2),
        "chars_mean": round(statistics.mean(len(t) for _, t in texts), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=50)
    result = measure(parser.parse_args().repeat)
    print(result)
    print(f"wrote {write_result('speech_text', result)}")


if __name__ == "__main__":
    main()
