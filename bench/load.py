"""Load benchmark: many real SIP callers at once against the real stack.

One stack (action server, Rasa, gateway with every fixed text synthesized), then for
each concurrency level N: N callers start on a ramp, each waits for the greeting,
presses 9, asks ``--turns`` questions spoken by Piper and hangs up. Measured per level
by the callers: turn latency (end of their speech → first bot audio on RTP)
p50/p95/p99, failed turns and calls; from the gateway process: CPU seconds per call
and memory per extra call. The largest N whose p95 stays ≤ 1,200 ms with no failures
is reported, and ``--profile`` records where the gateway spends its time at the
highest level (py-spy, speedscope JSON).

Run: ``.venv/bin/python -m bench.load [--levels 1 5 10 20] [--turns 4] [--profile]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import RESULTS, percentile, write_result
from bench.turn_latency import one_call, synthesize_questions, wait_warm
from tests.stack import Stack
from tests.tools.sip_caller import CallerAgent

TARGET_P95_MS = 1200.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def level(
    stack: Stack, pid: int, questions: list[Any], calls: int, turns: int, ramp_s: float
) -> dict[str, Any]:
    base_rss = rss_mb(pid)
    peak = [base_rss]
    stop = asyncio.Event()

    async def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], rss_mb(pid))
            await asyncio.sleep(0.25)

    sampler = asyncio.ensure_future(sample())
    cpu0, t0 = cpu_seconds(pid), time.monotonic()
    async with CallerAgent() as agent:
        results = await asyncio.gather(
            *(one_call(agent, stack.sip_uri, questions, turns, i * ramp_s) for i in range(calls)),
            return_exceptions=True,
        )
    wall = time.monotonic() - t0
    cpu = cpu_seconds(pid) - cpu0
    stop.set()
    await sampler
    pool = (stack.health() or {}).get("voice_pool", {}).get("jobs", {})
    failed_calls = [repr(r) for r in results if isinstance(r, BaseException)]
    turns_done = [t for r in results if isinstance(r, list) for t in r]
    latencies = [t["latency_ms"] for t in turns_done if "latency_ms" in t]
    return {
        "calls": calls,
        "turns_measured": len(latencies),
        "turns_failed": len(turns_done) - len(latencies) + (calls * turns - len(turns_done)),
        "calls_failed": failed_calls,
        "latency_ms": {
            "p50": percentile(latencies, 50),
            "p95": percentile(latencies, 95),
            "p99": percentile(latencies, 99),
            "max": max(latencies, default=None),
        },
        "wall_s": round(wall, 1),
        "gateway_cpu_s": round(cpu, 1),
        "gateway_cpu_s_per_call": round(cpu / calls, 2),
        "gateway_cpu_share_of_2_cores": round(cpu / wall / 2, 2),
        "gateway_rss_mb": {"before": round(base_rss, 1), "peak": round(peak[0], 1)},
        "memory_per_call_mb": round((peak[0] - base_rss) / calls, 1),
        "voice_pool_since_start": pool,
    }


async def run(levels: list[int], turns: int, ramp_s: float, profile: bool) -> dict[str, Any]:
    questions = synthesize_questions()
    out: list[dict[str, Any]] = []
    profile_file: str | None = None
    with tempfile.TemporaryDirectory(prefix="loket-load-") as tmp:
        if profile:
            profile_file = str(RESULTS / "load-profile.txt")
        with Stack(
            Path(tmp),
            VOICE__WARM_PROMPTS="true",
            SIP__MAX_CALLS="60",
            PROFILE=profile_file or "",  # LOKET_PROFILE: the gateway runs under pyinstrument
        ) as stack:
            await wait_warm(stack)
            pid = stack.procs["gateway"].popen.pid
            for n in levels:
                result = await level(stack, pid, questions, n, turns, ramp_s)
                out.append(result)
                lat = result["latency_ms"]
                print(
                    f"N={n}: p50 {lat['p50']} ms, p95 {lat['p95']} ms, failed turns "
                    f"{result['turns_failed']}, failed calls {len(result['calls_failed'])}, "
                    f"CPU {result['gateway_cpu_s_per_call']} s/call, "
                    f"{result['memory_per_call_mb']} MB/call",
                    flush=True,
                )
    ok = [
        r["calls"]
        for r in out
        if r["latency_ms"]["p95"] is not None
        and r["latency_ms"]["p95"] <= TARGET_P95_MS
        and r["turns_failed"] == 0
        and not r["calls_failed"]
    ]
    return {
        "benchmark": "load",
        "what": "turn latency under load, measured by real SIP callers "
        "(PCMU, English, cached answers)",
        "config": {"levels": levels, "turns_per_call": turns, "ramp_s": ramp_s},
        "levels": out,
        "largest_n_with_p95_le_1200ms_and_no_failures": max(ok, default=0),
        "profile": profile_file,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 5, 10, 20])
    parser.add_argument("--turns", type=int, default=4)
    parser.add_argument("--ramp", type=float, default=0.5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(run(args.levels, args.turns, args.ramp, args.profile))
    path = write_result("load", result)
    print(
        f"largest N with p95 ≤ 1200 ms and no failures: "
        f"{result['largest_n_with_p95_le_1200ms_and_no_failures']} → {path}"
    )


if __name__ == "__main__":
    main()
