"""The engine time budgets' evidence: how long one recogniser decode and one sentence's
synthesis take, so ``voice.stt_timeout_s`` and ``voice.tts_timeout_s`` can be judged.

Run: ``.venv/bin/python -m bench.engine_budgets`` (under a minute, one thread per engine as
in the gateway). Piper (en_US-joe-medium) speaks an English passage; Whisper base (the
Dutch model from ``models/``) and tiny.en decode its first 3, 10 and 20 s (20 s is
``voice.max_turn_s``), three times each. Piper times a short and a long sentence. Writes
``bench/results/engine_budgets.json`` with the budgets in force and the worst case's
margin under each.
"""

from __future__ import annotations

import time
from typing import Any

from bench.common import write_result
from config.settings import load_settings
from tests.phone_helpers import piper_voice, whisper_tiny
from voice import engines
from voice.audio import concat
from voice.resample import resample_chunk

PASSAGE = (
    "When is the state pension paid? I would like to know more about the child benefit "
    "and the rent allowance, and also whether I can apply for health care allowance online "
    "with my DigiD, because my neighbour told me that the form has changed this year."
)
LONG_SENTENCE = (
    "You can apply for the allowance online with your DigiD, and if you have no DigiD "
    "you can ask the municipality or a relative to help you fill in the form."
)


def timed(fn: Any, *args: Any, repeat: int = 3) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn(*args)
        out.append(round(time.perf_counter() - started, 3))
    return out


def measure() -> dict[str, Any]:
    settings = load_settings()
    piper = piper_voice()
    once = resample_chunk(piper.synthesize_sentence(PASSAGE), 16000)
    speech = concat([once, once])  # past 20 s
    stt: dict[str, Any] = {"passage_audio_s": round(speech.seconds, 2)}
    base = engines.build_stt("whisper", settings.models.dir / "whisper-base", "nl")
    for name, engine in (("whisper-base", base), ("whisper-tiny.en", whisper_tiny())):
        stt[name] = {
            f"{s}s": timed(engine.transcribe, speech.pcm[: s * 16000 * 2])  # type: ignore[attr-defined]
            for s in (3, 10, 20)
        }
    tts: dict[str, Any] = {}
    for label, text in (("short", "Goodbye."), ("long", LONG_SENTENCE)):
        chunk = piper.synthesize_sentence(text)
        tts[label] = {
            "audio_s": round(chunk.seconds, 2),
            "synth_s": timed(piper.synthesize_sentence, text),
        }
    worst_stt = max(max(v) for k, r in stt.items() if k.startswith("whisper") for v in r.values())
    worst_tts = max(max(r["synth_s"]) for r in tts.values())
    vs = settings.voice
    return {
        "benchmark": "engine_budgets",
        "threads_per_engine": 1,
        "stt_decode_s": stt,
        "piper_sentence": tts,
        "budgets": {
            "stt_timeout_s": vs.stt_timeout_s,
            "stt_margin_x": round(vs.stt_timeout_s / worst_stt, 1),
            "tts_timeout_s": vs.tts_timeout_s,
            "tts_margin_x": round(vs.tts_timeout_s / worst_tts, 1),
        },
    }


if __name__ == "__main__":
    print(write_result("engine_budgets", measure()))
