"""SIP load benchmark: SIPp calls at a set rate against a gateway in this process.

Runs (each with a fresh gateway, Rasa down so every answered call is handed to the
queue, start-up synthesis off as in the test gateways):

* ``signalling``: ``-r 250 -l 100`` with a 400 ms hold, ``sip.max_calls`` above 100: SIPp
  keeps 100 calls up and starts a new one as each ends, so the set-up rate is what
  the gateway sustains at 100 concurrent (capped near 210/s by the call length);
* ``media``: 100 concurrent calls playing SIPp's G.711 pcap (RTP both ways);
* ``media_short``: the signalling run's rate and concurrency with the pcap playing
  (RTP both ways, 400 ms a call): set-ups per second with media at 100 concurrent;
* ``over_max``: the signalling run with ``sip.max_calls`` below the concurrency, so
  503 must be the only thing that goes wrong.

Per run: calls, failures, 503s, set-up rate (mean and peak per second), and the
gateway's CPU seconds per call (this process; SIPp's own CPU apart).

Run: ``.venv/bin/python -m bench.sip_load [--calls 4000] [--rate 200]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.common import write_result
from tests.gateway_fixture import gateway_env, running_gateway
from tests.tools.sipp_load import run_sipp

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_s() -> float:
    """CPU seconds (user + system) of this process and its live children (the voice
    pool's workers) — SIPp's own apart."""
    me = os.getpid()
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = _stat(int(entry.name))
            cmd = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(entry.name) == me or (int(fields[1]) == me and b"sipp" not in cmd):
            total += (int(fields[11]) + int(fields[12])) / CLK_TCK
    return total


async def one_run(
    name: str, tmp: Path, *, max_calls: int, calls: int, rate: float, limit: int, **kw: Any
) -> dict[str, Any]:
    env = gateway_env(tmp / name, sip__max_calls=str(max_calls))
    # ports are held until a session has wound down, a little after its BYE
    env["LOKET_RTP__PORT_MAX"] = str(int(env["LOKET_RTP__PORT_MIN"]) + 1200)
    async with running_gateway(env) as gw:
        peak = {"calls": 0, "ports": 0}
        stop = asyncio.Event()

        async def sample() -> None:
            while not stop.is_set():
                peak["calls"] = max(peak["calls"], gw.gateway.calls.core.active_calls)
                peak["ports"] = max(peak["ports"], gw.gateway.calls.ports.in_use)
                await asyncio.sleep(0.1)

        sampler = asyncio.ensure_future(sample())
        cpu0, t0 = cpu_s(), time.monotonic()
        result = await run_sipp(
            gw.sip_port, tmp / name / "sipp", calls=calls, rate=rate, limit=limit, **kw
        )
        wall, cpu = time.monotonic() - t0, cpu_s() - cpu0
        stop.set()
        await sampler
        drops = dict(gw.gateway.calls.endpoint.drops.counts)
    out = asdict(result)
    out.update(
        name=name,
        max_calls=max_calls,
        rate_asked=rate,
        concurrency_limit=limit,
        peak_active_calls=peak["calls"],
        peak_rtp_ports=peak["ports"],
        gateway_cpu_s=round(cpu, 2),
        gateway_cpu_cores=round(cpu / wall, 2),
        gateway_cpu_ms_per_call=round(1000 * cpu / max(result.calls, 1), 2),
        endpoint_drops=drops,
        other_failures=result.failed,
    )
    print(
        f"{name}: {result.calls} calls, {result.failed} failed, {result.refused_503} × 503, "
        f"{result.setups_per_s}/s (peak {result.peak_setups_per_s}), gateway "
        f"{out['gateway_cpu_ms_per_call']} ms CPU per call, {out['gateway_cpu_cores']} cores",
        flush=True,
    )
    return out


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    runs = []
    with tempfile.TemporaryDirectory(prefix="sip-load-") as tmpdir:
        tmp = Path(tmpdir)
        runs.append(
            await one_run(
                "signalling", tmp, max_calls=150, calls=args.calls, rate=args.rate,
                limit=100, hold_ms=args.hold_ms,
            )
        )  # fmt: skip
        runs.append(
            await one_run(
                "media", tmp, max_calls=150, calls=args.media_calls, rate=args.media_rate,
                limit=100, media_ms=7000,
            )
        )  # fmt: skip
        runs.append(
            await one_run(
                "media_short", tmp, max_calls=150, calls=args.calls * 3 // 4, rate=args.rate,
                limit=100, media_ms=args.hold_ms,
            )
        )  # fmt: skip
        runs.append(
            await one_run(
                "over_max", tmp, max_calls=40, calls=args.calls // 2, rate=args.rate,
                limit=100, hold_ms=args.hold_ms,
            )
        )  # fmt: skip
    return {
        "what": "SIPp uac load against one gateway (Rasa down: answered calls go to the queue)",
        "runs": runs,
        "target": "100 concurrent, >= 200 set-ups/s, 0 failed calls, 503 only above max_calls",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=4000)
    parser.add_argument("--rate", type=float, default=250)
    parser.add_argument("--hold-ms", type=int, default=400)
    parser.add_argument("--media-calls", type=int, default=300)
    parser.add_argument("--media-rate", type=float, default=20)
    args = parser.parse_args()
    result = asyncio.run(main_async(args))
    print(write_result("sip_load", result))


if __name__ == "__main__":
    main()
