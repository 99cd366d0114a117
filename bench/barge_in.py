"""Barge-in: how fast the bot stops when the caller talks over it, and whether "hm" stops it.

Real stack, a real SIP caller in English. While the bot reads a long answer the caller
(a) interrupts with a sentence: the time from the caller's first voiced frame to the bot's
audio stopping on the line is measured; (b) makes backchannel sounds ("yes", "hmm",
"okay", "uh-huh", "right", a cough): a false barge-in is one after which the gateway
recorded a barge-in (the rest of the answer dropped). Writes ``bench/results/barge_in.json``.

Run: ``.venv/bin/python -m bench.barge_in [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import percentile, write_result
from bench.turn_latency import past_greeting_in_english, wait_warm
from tests.desk_browser import english_voice
from tests.stack import Stack
from tests.tools.rtp_audio import Pcm
from tests.tools.sip_caller import SipCaller, dial
from voice.audio import trim_silence

LONG_QUESTION = "How do I apply for a new passport?"
INTERRUPTION = "Sorry, I have another question about my tax return."
BACKCHANNELS = ["Yes.", "Hmm.", "Okay.", "Uh-huh.", "Right."]
QUIET_RMS = 150.0


def spoken(text: str) -> Pcm:
    chunk = english_voice().synthesize_sentence(text)
    pcm = trim_silence(chunk.pcm, chunk.rate, margin_s=0.0)
    return Pcm(np.frombuffer(pcm, dtype="<i2").copy(), chunk.rate)


def cough() -> Pcm:
    rng = np.random.default_rng(7)
    n = int(0.18 * 8000)
    envelope = np.exp(-np.linspace(0, 6, n))
    return Pcm((rng.normal(0, 9000, n) * envelope).astype(np.int16), 8000)


def stopped_at(call: SipCaller, after: float, quiet_s: float = 0.2) -> float | None:
    """Arrival time of the first frame of a ≥ quiet_s quiet stretch after *after*."""
    frames = [f for f in call.media.received.frames if f.arrival >= after]
    start: float | None = None
    for f in frames:
        if f.level < QUIET_RMS:
            start = f.arrival if start is None else start
            if f.arrival - start >= quiet_s:
                return start
        else:
            start = None
    return None


def barge_ins(records: Path) -> int:
    with sqlite3.connect(records) as db:
        return int(db.execute("SELECT count(*) FROM events WHERE kind='barge_in'").fetchone()[0])


async def answer_started(call: SipCaller, question: Pcm) -> float:
    end = await call.play(question)
    return await call.wait_for_audio(after=end, timeout=15)


async def run(rounds: int) -> dict[str, Any]:
    question, interruption = spoken(LONG_QUESTION), spoken(INTERRUPTION)
    clips = {text: spoken(text) for text in BACKCHANNELS} | {"(cough)": cough()}
    stops: list[float] = []
    false_barge_ins: dict[str, int] = {name: 0 for name in clips}
    with tempfile.TemporaryDirectory(prefix="loket-barge-") as tmp:
        with Stack(Path(tmp), VOICE__WARM_PROMPTS="true") as stack:
            await wait_warm(stack)
            call = await dial(stack.sip_uri, codecs=["PCMU"])
            try:
                await past_greeting_in_english(call)
                for _ in range(rounds):
                    onset = await answer_started(call, question)
                    await asyncio.sleep(1.0)
                    talk = time.monotonic()
                    await call.play(interruption)
                    stop = stopped_at(call, talk)
                    if stop is not None:
                        stops.append((stop - talk) * 1000)
                    await call.wait_for_silence(0.8, after=onset, timeout=30)
                    for name, clip in clips.items():
                        before = barge_ins(stack.records_path)
                        await answer_started(call, question)
                        await asyncio.sleep(1.0)
                        await call.play(clip)
                        await asyncio.sleep(1.5)
                        if barge_ins(stack.records_path) > before:
                            false_barge_ins[name] += 1
                        await call.wait_for_silence(0.8, timeout=30)
            finally:
                await call.close()
            with sqlite3.connect(stack.records_path) as db:
                kinds = [k for (k,) in db.execute("SELECT kind FROM events")]
    return {
        "benchmark": "barge_in",
        "rounds": rounds,
        "stop_after_speech_onset_ms": {
            "p50": percentile(stops, 50),
            "p95": percentile(stops, 95),
            "max": max(stops, default=None),
            "all": [round(s) for s in stops],
        },
        "false_barge_ins": false_barge_ins,
        "false_barge_ins_total": sum(false_barge_ins.values()),
        "backchannels_recorded": kinds.count("backchannel"),
        "note": "stop = first frame of a ≥200 ms quiet stretch on the caller's line after its "
        "first voiced frame; includes RTP pacing both ways and the caller's 20 ms ticks",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    result = asyncio.run(run(args.rounds))
    path = write_result("barge_in", result)
    print(json.dumps({k: result[k] for k in ("stop_after_speech_onset_ms", "false_barge_ins")}))
    print(f"→ {path}")


if __name__ == "__main__":
    main()
