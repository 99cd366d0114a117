"""How long ``make run``'s stack takes to stop on SIGTERM, with and without calls.

Starts the supervisor as ``make run`` does (Rasa, action server, gateway on free
loopback ports), optionally puts real SIP calls up (they hear the greeting), sends
SIGTERM to the supervisor and measures until every process of the stack has exited.
With calls, the gateway lets them go on for ``sip.shutdown_grace_s`` and then ends them
with a BYE: each caller's end and who ended it are reported. The issue's targets: ≤ 2 s
without calls, ≤ grace + 2 s with calls.

Run: ``.venv/bin/python -m bench.stop_time [--rounds 2] [--calls 3] [--grace 5]``.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import machine, write_result
from tests.tools.peers import pids_of
from tests.tools.sip_caller import SipCaller, dial
from tests.tools.supervised import Supervised, start_supervisor, stop_supervisor


def descendants(root: int) -> set[int]:
    """*root* and every process below it (each child runs in its own process group)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        kids = [p for p, parent in parents.items() if parent == pid and p not in found]
        found.update(kids)
        frontier += kids
    return found


def alive(pids: set[int]) -> set[int]:
    out = set()
    for pid in pids:
        try:
            state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            out.add(pid)
    return out


def stop_lines(running: Supervised) -> list[str]:
    """The supervisor's own account: "loket: rasa stopped in 2.1 s"."""
    return [line for line in running.output().splitlines() if " stopped in " in line]


async def one_round(calls: int, grace_s: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="loket-stop-") as tmp:
        running = start_supervisor(Path(tmp), LOKET_SIP__SHUTDOWN_GRACE_S=str(grace_s))
        callers: list[SipCaller] = []
        try:
            uri = f"sip:helpline@127.0.0.1:{running.sip_port}"
            for _ in range(calls):
                call = await dial(uri, codecs=["PCMU"])
                await call.wait_answered()
                callers.append(call)
            for call in callers:
                await call.wait_for_audio(timeout=20)
            stack = descendants(running.proc.pid)
            rasa = pids_of("run", "--enable-api", "-p", running.rasa_port)
            sent = time.monotonic()
            running.proc.send_signal(signal.SIGTERM)
            ends = await asyncio.gather(
                *(c.wait_ended(timeout=grace_s + 30) for c in callers), return_exceptions=True
            )
            ended_at = [c.event_time("ended") for c in callers]
            await asyncio.get_running_loop().run_in_executor(None, running.proc.wait, 120)
            supervisor_s = time.monotonic() - sent
            while alive(stack) and time.monotonic() - sent < 120:  # noqa: ASYNC110 (polls /proc)
                await asyncio.sleep(0.05)
            all_s = time.monotonic() - sent
            left = alive(stack)
            told = stop_lines(running)
        finally:
            for call in callers:
                await call.close()
            stop_supervisor(running)
    return {
        "calls": calls,
        "processes_before": len(stack),
        "rasa_was_running": bool(rasa),
        "supervisor_exit_s": round(supervisor_s, 2),
        "all_processes_gone_s": round(all_s, 2),
        "left_running": len(left),
        "supervisor_says": told,
        "callers_ended_by": [str(e) for e in ends],
        "callers_ended_after_s": [round(t - sent, 2) if t else None for t in ended_at],
    }


async def run(rounds: int, calls: int, grace_s: float) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for label, n in (("no_calls", 0), ("with_calls", calls)):
        done = [await one_round(n, grace_s) for _ in range(rounds)]
        times = [r["all_processes_gone_s"] for r in done]
        results[label] = {
            "rounds": done,
            "stop_s_max": max(times),
            "stop_s_mean": round(statistics.fmean(times), 2),
            "target_s": 2.0 if n == 0 else grace_s + 2.0,
        }
    return {
        "benchmark": "stop_time",
        "what": "SIGTERM to the supervisor (as make run gets it) until every process is gone",
        "config": {"rounds": rounds, "calls": calls, "shutdown_grace_s": grace_s},
        **results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--calls", type=int, default=3)
    parser.add_argument("--grace", type=float, default=5.0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    result = asyncio.run(run(args.rounds, args.calls, args.grace))
    result["machine"] = machine()
    path = write_result("stop_time", result, args.out)
    for label in ("no_calls", "with_calls"):
        r = result[label]
        print(f"{label}: stop in ≤ {r['stop_s_max']} s (target {r['target_s']} s)")
    print(f"→ {path}")


if __name__ == "__main__":
    main()
