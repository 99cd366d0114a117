"""Call a SIP URI from the command line with a script of steps, print a JSON report.

    python -m tests.tools.caller_cli sip:helpline@127.0.0.1:5060 \\
        --wait-audio --wait-silence --dtmf 9 --wait-audio --wait-silence \\
        --play question.wav --wait-audio --wait-silence --record bot.wav

Steps run in the order given; with none, the caller listens to the greeting
(``--wait-audio --wait-silence``). A ``--wait-audio`` after a ``--play`` measures the turn
latency: first bot audio after the caller's speech ended minus the end of that speech.
``--calls N`` runs N such calls at once from one process (``--ramp`` seconds apart) and adds
latency percentiles and the process CPU per call to the report.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import resource
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .rtp_audio import SPEECH_RMS
from .sip_caller import CallerAgent, CallFailed, SipCaller


class _Step(argparse.Action):
    """Collects step options into one ordered list."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        steps = getattr(namespace, "steps", None) or []
        steps.append((self.dest, values if values is not None else self.const))
        namespace.steps = steps


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m tests.tools.caller_cli",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("uri", help="e.g. sip:helpline@127.0.0.1:5060 (;transport=tcp allowed)")
    p.add_argument(
        "--codec", action="append", help="PCMU, PCMA, G722; repeat for a preference list"
    )
    p.add_argument("--transport", choices=["udp", "tcp"])
    p.add_argument("--host", default="127.0.0.1", help="local address to bind and advertise")
    p.add_argument(
        "--rtp-ports", default="40000-40999", help="RTP port range (default %(default)s)"
    )
    p.add_argument(
        "--record", help="save the received audio to this WAV (NAME-<i>.wav with --calls)"
    )
    p.add_argument("--record-rate", type=int, help="resample the recording (e.g. 16000)")
    p.add_argument("--min-rms", type=float, default=SPEECH_RMS, help="speech threshold (int16 RMS)")
    p.add_argument("--timeout", type=float, default=10.0, help="answer / audio timeout, seconds")
    p.add_argument("--calls", type=int, default=1, help="parallel calls (load mode)")
    p.add_argument("--ramp", type=float, default=0.0, help="seconds between call starts")
    p.add_argument(
        "--per-call-ticker", action="store_true", help="one 20 ms timer per call (to compare)"
    )
    p.add_argument("--cancel-after", type=float, help="CANCEL this long after ringing starts")
    g = p.add_argument_group("steps (in order)")
    g.add_argument("--play", action=_Step, metavar="WAV", help="say a WAV file (any rate)")
    g.add_argument("--dtmf", action=_Step, metavar="DIGITS", help="RFC 4733 digits")
    g.add_argument("--info-dtmf", action=_Step, metavar="DIGITS", help="SIP INFO digits")
    g.add_argument(
        "--wait-audio",
        action=_Step,
        nargs="?",
        const=None,
        type=float,
        metavar="TIMEOUT",
        help="wait for bot audio (after the last --play)",
    )
    g.add_argument(
        "--wait-silence",
        action=_Step,
        nargs="?",
        const=0.8,
        type=float,
        metavar="SECONDS",
        help="wait until the bot was quiet this long (default 0.8)",
    )
    g.add_argument("--sleep", action=_Step, type=float, metavar="SECONDS", help="stay on the line")
    p.set_defaults(steps=None)
    return p


@dataclass
class CallReport:
    index: int
    status: int | None = None
    reason: str = ""
    error: str = ""
    codec: str = ""
    ended_by: str | None = None
    bye_status: int | None = None
    turn_latency_ms: list[float] = field(default_factory=list)
    dtmf_received: list[str] = field(default_factory=list)
    events: list[tuple[str, float, str]] = field(default_factory=list)
    packets_sent: int = 0
    packets_received: int = 0


async def run_call(
    agent: CallerAgent, args: argparse.Namespace, index: int, steps: list[tuple[str, Any]]
) -> CallReport:
    report = CallReport(index)
    call: SipCaller = await agent.call(
        args.uri,
        codecs=args.codec or ["PCMU"],
        transport=args.transport,
        keep_audio=args.record is not None,  # levels are always kept for onset detection
    )
    try:
        if args.cancel_after is not None:
            await call.wait_ringing(args.timeout)
            await asyncio.sleep(args.cancel_after)
            await call.cancel()
        await call.wait_answered(args.timeout)
        report.codec = call.media.codec.name
        speech_end: float | None = None
        for name, value in steps:
            if name == "play":
                speech_end = await call.play(value, speech_rms=args.min_rms)
            elif name == "dtmf":
                speech_end = await call.send_dtmf(value)
            elif name == "info_dtmf":
                speech_end = await call.send_dtmf(value, method="info")
            elif name == "wait_audio":
                onset = await call.wait_for_audio(
                    speech_end or 0.0, min_rms=args.min_rms, timeout=value or args.timeout
                )
                if speech_end is not None:
                    report.turn_latency_ms.append(round((onset - speech_end) * 1000, 1))
                speech_end = None
            elif name == "wait_silence":
                await call.wait_for_silence(value, max_rms=args.min_rms, timeout=60)
            elif name == "sleep":
                await asyncio.sleep(value)
        if not call.ended:
            report.bye_status = await call.hangup()
    except CallFailed as exc:
        report.error = str(exc)
    except TimeoutError as exc:
        report.error = f"timeout: {exc or 'no answer / no audio'}"
    except (RuntimeError, OSError, ValueError) as exc:
        report.error = f"{type(exc).__name__}: {exc}"
    finally:
        await call.close()
        t0 = call.events[0].time if call.events else 0.0
        report.status, report.reason, report.ended_by = call.status, call.reason, call.ended_by
        report.events = [(e.name, round(e.time - t0, 3), e.detail) for e in call.events]
        report.dtmf_received = [d for d, _ in call.media.dtmf_received]
        report.packets_sent = call.media.stats.packets_sent
        report.packets_received = call.media.stats.packets_received
        if args.record:
            path = args.record if args.calls == 1 else args.record.replace(".wav", f"-{index}.wav")
            call.save_received(path, args.record_rate)
    return report


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1], 1)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    steps = args.steps or [("wait_audio", None), ("wait_silence", 0.8)]
    lo, hi = (int(x) for x in args.rtp_ports.split("-"))
    async with CallerAgent(
        args.host, rtp_ports=(lo, hi), shared_ticker=not args.per_call_ticker
    ) as agent:
        cpu0, wall0 = time.process_time(), time.monotonic()

        async def start(i: int) -> CallReport:
            await asyncio.sleep(i * args.ramp)
            return await run_call(agent, args, i, steps)

        reports = await asyncio.gather(*(start(i) for i in range(args.calls)))
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
        ticker = {"late_ticks": agent.ticker.late_ticks, "skipped": agent.ticker.skipped_ticks}
    latencies = [x for r in reports for x in r.turn_latency_ms]
    failed = [r for r in reports if r.error or not (r.status and 200 <= r.status < 300)]
    result: dict[str, Any] = {
        "uri": args.uri,
        "calls": args.calls,
        "answered": sum(1 for r in reports if r.status and 200 <= r.status < 300),
        "failed": len(failed),
        "turn_latency_ms": {
            "n": len(latencies),
            "p50": percentile(latencies, 50),
            "p95": percentile(latencies, 95),
            "max": max(latencies) if latencies else None,
        },
        "process": {
            "cpu_seconds": round(cpu, 3),
            "wall_seconds": round(wall, 3),
            "cpu_percent_per_call": round(100 * cpu / wall / args.calls, 3) if wall else None,
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "ticker": "per-call" if args.per_call_ticker else "shared",
            "shared_ticker_late_ticks": ticker,
            "python": platform.python_version(),
        },
        "call_reports": [r.__dict__ for r in reports],
    }
    return result


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result = asyncio.run(main_async(args))
    if args.calls > 1:  # keep the load report readable: per-call detail only for failures
        result["call_reports"] = [r for r in result["call_reports"] if r["error"]]
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0 if result["failed"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
