"""``make soak``: ≥ 30 minutes of mixed calls against one gateway; its resources must stay flat.

Load, all at once against a gateway in this process (Rasa down: calls go to the
queue, as in the test gateways): SIPp calls with RTP from its G.711 pcap, short
signalling-only SIPp calls, OPTIONS over UDP and TCP every 2 s, and a small batch
of fuzzed messages every minute. Every ``--every`` seconds: RSS, open descriptors,
RTP ports in use, asyncio tasks, threads. At the end the load stops and, once the
transaction timers have run out, the idle figures are compared with those after
warm-up; RSS's slope (least squares, after warm-up) must stay under a bound.
The JSON (``bench/results/soak.json``) is rewritten at every sample.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.common import write_result
from bench.gateway_figures import figures
from telephony.sip.selfcheck import probe_tcp, probe_udp
from tests.gateway_fixture import gateway_env, running_gateway
from tests.tools.sip_fuzz_live import fuzz_gateway
from tests.tools.sipp_load import run_sipp

WARMUP_S = 300.0
RSS_SLOPE_MB_PER_H = 20.0
IDLE_KEYS = ("open_fds", "asyncio_tasks", "threads", "rtp_ports_in_use", "sip_dialogs")


def slope_per_hour(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value), per hour."""
    if len(points) < 3:
        return 0.0
    n = len(points)
    mx = sum(t for t, _ in points) / n
    my = sum(v for _, v in points) / n
    var = sum((t - mx) ** 2 for t, _ in points)
    cov = sum((t - mx) * (v - my) for t, v in points)
    return round(3600 * cov / var, 2) if var else 0.0


def verdict(
    samples: list[dict[str, Any]], start: dict[str, Any], end: dict[str, Any]
) -> dict[str, Any]:
    late = [s for s in samples if s["t_s"] >= WARMUP_S]
    slopes = {
        key: slope_per_hour([(s["t_s"], float(s[key])) for s in late])
        for key in ("rss_mb", *IDLE_KEYS)
    }
    idle_grew = {k: end[k] - start[k] for k in IDLE_KEYS if end.get(k, 0) > start.get(k, 0) + 2}
    flat = abs(slopes["rss_mb"]) <= RSS_SLOPE_MB_PER_H and not idle_grew
    return {
        "flat": flat,
        "slope_per_hour_after_warmup": slopes,
        "rss_bound_mb_per_hour": RSS_SLOPE_MB_PER_H,
        "idle_figures_that_grew": idle_grew,
    }


async def repeat(stop: asyncio.Event, pause_s: float, job: Callable[[], Awaitable[None]]) -> None:
    while not stop.is_set():
        await job()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), pause_s)


async def soak(duration_s: float, every_s: float, settle_s: float) -> dict[str, Any]:
    tally: Counter[str] = Counter()
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="soak-") as tmpdir:
        tmp = Path(tmpdir)
        env = gateway_env(tmp, sip__max_calls="60")
        env["LOKET_RTP__PORT_MAX"] = str(int(env["LOKET_RTP__PORT_MIN"]) + 400)
        async with running_gateway(env) as gw:
            port = gw.sip_port
            stop = asyncio.Event()
            runs = Counter[str]()

            async def sipp(kind: str, **kw: Any) -> None:
                runs[kind] += 1
                r = await run_sipp(port, tmp / f"{kind}-{runs[kind] % 3}", **kw)
                tally[f"{kind}_calls"] += r.calls
                tally[f"{kind}_failed"] += r.failed
                tally[f"{kind}_503"] += r.refused_503
                if r.failed:
                    failures.append(
                        f"{kind} run {runs[kind]}: {r.failed} failed: {r.errors[-300:]}"
                    )

            async def media() -> None:
                await sipp("media", calls=20, rate=2, limit=10, media_ms=7000)

            async def signalling() -> None:
                await sipp("signalling", calls=200, rate=20, limit=20, hold_ms=1000)

            async def options() -> None:
                for name, probe in (("udp", probe_udp), ("tcp", probe_tcp)):
                    tally["options"] += 1
                    try:
                        ok = await probe("127.0.0.1", port, 3.0) == 200
                    except Exception as exc:  # a probe that cannot even be sent counts too
                        ok = False
                        failures.append(f"OPTIONS/{name}: {exc!r}")
                    tally["options_failed"] += not ok

            async def fuzz() -> None:
                r = await fuzz_gateway(
                    "127.0.0.1", port, seed=tally["fuzz_batches"] + 77, messages=400, batch=400
                )
                tally["fuzz_batches"] += 1
                tally["fuzz_messages"] += sum(r.sent.values())
                failures.extend(r.checks_failed)

            t0 = time.monotonic()
            samples: list[dict[str, Any]] = []
            start_idle = figures(gw.gateway)
            jobs = [
                asyncio.ensure_future(repeat(stop, 1.0, media)),
                asyncio.ensure_future(repeat(stop, 5.0, signalling)),
                asyncio.ensure_future(repeat(stop, 2.0, options)),
                asyncio.ensure_future(repeat(stop, 60.0, fuzz)),
            ]

            def result(end: dict[str, Any] | None) -> dict[str, Any]:
                return {
                    "duration_s": round(time.monotonic() - t0, 1),
                    "asked_duration_s": duration_s,
                    "sample_every_s": every_s,
                    "start_idle": start_idle,
                    "end_idle": end,
                    "start": samples[0] if samples else None,
                    "end": samples[-1] if samples else None,
                    "load": dict(tally),
                    "failures": failures[:50],
                    "verdict": verdict(samples, start_idle, end) if end else None,
                    "samples": samples,
                }

            while time.monotonic() - t0 < duration_s:
                await asyncio.sleep(every_s)
                sample = {"t_s": round(time.monotonic() - t0, 1), **figures(gw.gateway)}
                samples.append(sample)
                write_result("soak", result(None))
                print(sample, dict(tally), flush=True)
            stop.set()
            await asyncio.gather(*jobs)
            await asyncio.sleep(settle_s)  # the last calls end, Timers H/J run out
            end_idle = figures(gw.gateway)
            # the reference is the idle gateway before load; after warm-up caches exist,
            # so the idle figures are compared, RSS by its slope
            return result(end_idle)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--every", type=float, default=10.0)
    parser.add_argument("--settle-s", type=float, default=45.0)
    args = parser.parse_args()
    out = asyncio.run(soak(args.minutes * 60, args.every, args.settle_s))
    print(write_result("soak", out))
    print(out["verdict"])
    if not (out["verdict"] or {}).get("flat"):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
