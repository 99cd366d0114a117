"""Start-up synthesis from an empty speech cache: when is each greeting ready?

Run: ``.venv/bin/python -m bench.warmup`` (under a minute). Loads the voices the way the
gateway does (``loket.app.load_voices``), then warms every fixed text with the gateway's
own loop (``Speaker.warm_in_order``, the order of ``voice.prompts.fixed_texts``) into a
fresh temporary cache directory. Writes ``bench/results/warmup.json``: seconds until
each language's greeting is ready, until every gateway prompt is, and until all texts are.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import write_result
from config.settings import load_settings
from loket.app import LINE_RATES, load_voices
from voice.prompt_cache import PromptCache
from voice.prompts import fixed_texts, settings_texts
from voice.speaker import Speaker


async def measure() -> dict[str, Any]:
    settings = load_settings()
    voices = load_voices(settings)
    texts = fixed_texts(settings)
    own = {(lang, t) for lang, conf in settings.languages.items() for t in settings_texts(conf)}
    greetings = {(lang, conf.greeting): lang for lang, conf in settings.languages.items()}
    ready: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as cache_dir:
        speaker = Speaker(voices.voices, PromptCache(directory=Path(cache_dir)))
        started = time.perf_counter()
        left = set(own)
        async for item in speaker.warm_in_order(texts, LINE_RATES):
            seconds = round(time.perf_counter() - started, 2)
            if item in greetings:
                ready[f"greeting_{greetings[item]}_s"] = seconds
            left.discard(item)
            if not left and "gateway_prompts_s" not in ready:
                ready["gateway_prompts_s"] = seconds
        ready["all_texts_s"] = round(time.perf_counter() - started, 2)
    voice_names = {lang: [e.name for e in voices.voices(lang)] for lang in settings.languages}
    return {
        "texts": len(texts),
        "gateway_prompts": len(own),
        "line_rates": list(LINE_RATES),
        "voices": voice_names,
        **ready,
    }


def main() -> None:
    result = asyncio.run(measure())
    print(result)
    print(f"wrote {write_result('warmup', result)}")


if __name__ == "__main__":
    main()
