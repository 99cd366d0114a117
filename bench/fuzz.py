"""``make fuzz``: a long mutation-fuzzing campaign of the SIP core and the live gateway.

* core: ``fuzz_core`` over seeds until ``--core`` messages (≥ 1M) have been fed;
* live: a gateway in this process, ``fuzz_gateway`` over UDP and TCP (``--live``
  messages, ≥ 200k) in batches, each followed by OPTIONS over both transports and
  a real SIPp call; the gateway's RSS, descriptors, tasks and threads before and
  after (after the transaction timers have run out).

Crashes are exceptions out of the core (with seed and index to replay them); hangs
are messages taking > 0.5 s (core) or checks failing after a batch (live).
Writes ``bench/results/fuzz.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import write_result
from bench.gateway_figures import figures
from tests.gateway_fixture import gateway_env, running_gateway
from tests.tools.peers import sipp_uac_call
from tests.tools.sip_fuzz_core import fuzz_core
from tests.tools.sip_fuzz_live import fuzz_gateway

PER_SEED = 100_000


def core_campaign(total: int) -> dict[str, Any]:
    answers: Counter[str] = Counter()
    crashes: list[dict[str, Any]] = []
    unparseable: list[dict[str, Any]] = []
    messages = hangs = left = crash_count = 0
    slowest = 0.0
    t0 = time.perf_counter()
    seed = 1000
    while messages < total:
        n = min(PER_SEED, total - messages)
        r = fuzz_core(seed, n)
        messages += r.messages
        answers.update(r.answers)
        hangs += r.hangs
        slowest = max(slowest, r.slowest_ms)
        left += r.left_dialogs + r.left_transactions
        crash_count += len(r.crashes)
        crashes += [
            {"seed": c.seed, "index": c.index, "kind": c.kind, "error": c.error}
            for c in r.crashes[:20]
        ]
        unparseable += [
            {"seed": c.seed, "index": c.index, "kind": c.kind, "answer": c.error,
             "message": c.message[:2000].decode("latin-1")}
            for c in r.unparseable
        ]  # fmt: skip
        print(f"core seed {seed}: {messages} messages, {crash_count} crashes", flush=True)
        seed += 1
    return {
        "messages": messages,
        "seeds": list(range(1000, seed)),
        "crashes": crash_count,
        "crash_examples": crashes[:20],
        "unparseable_answers": unparseable[:20],
        "hangs": hangs,
        "slowest_message_ms": round(slowest, 2),
        "left_dialogs_or_transactions": left,
        "answers_by_status": dict(sorted(answers.items())),
        "seconds": round(time.perf_counter() - t0, 1),
    }


async def live_campaign(total: int, batch: int, settle_s: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="fuzz-live-") as tmpdir:
        tmp = Path(tmpdir)
        async with running_gateway(gateway_env(tmp)) as gw:
            await asyncio.sleep(1.0)
            before = figures(gw.gateway)
            calls = 0

            async def real_call() -> str | None:
                nonlocal calls
                calls += 1
                return await sipp_uac_call(gw.sip_port, tmp / f"call-{calls}")

            r = await fuzz_gateway(
                "127.0.0.1", gw.sip_port, seed=9, messages=total, batch=batch, real_call=real_call
            )
            await asyncio.sleep(settle_s)  # Timers H/J (32 s) let every transaction go
            after = figures(gw.gateway)
            endpoint = gw.gateway.calls.endpoint
            transports = {
                k: {"open": v.open, "reopened": v.reopened} for k, v in endpoint.state.items()
            }
            drops = dict(endpoint.drops.counts)
    rtt = sorted(r.options_rtt_ms)
    return {
        "messages": sum(r.sent.values()),
        "sent_by_transport": dict(r.sent),
        "batches": r.batches,
        "real_calls_after_batches": calls,
        "checks_failed": r.checks_failed,
        "crashes": drops.get("core_error", 0),
        "hangs": len(r.checks_failed),
        "answers_by_status": dict(sorted(r.answers.items())),
        "calls_hung_up_by_fuzzer": r.calls_hung_up,
        "options_rtt_ms_p50_max": [rtt[len(rtt) // 2], rtt[-1]] if rtt else [],
        "endpoint_drops": drops,
        "transports": transports,
        "gateway_before": before,
        "gateway_after": after,
        "settle_s": settle_s,
        "seconds": round(r.seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--core", type=int, default=1_000_000)
    parser.add_argument("--live", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--settle-s", type=float, default=40.0)
    args = parser.parse_args()
    result: dict[str, Any] = {"core": core_campaign(args.core)}
    result["live"] = asyncio.run(live_campaign(args.live, args.batch, args.settle_s))
    result["crashes"] = result["core"]["crashes"] + result["live"]["crashes"]
    result["hangs"] = result["core"]["hangs"] + result["live"]["hangs"]
    print(write_result("fuzz", result))
    if result["crashes"] or result["hangs"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
