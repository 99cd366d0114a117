"""Agent desk timings: handoff → offer on the agent's screen, and caller → agent audio delay.

A real gateway (Rasa down: the caller's question is handed off at once), a real agent in
headless Chromium (fake microphone), real SIP callers, one after the other. Writes
``bench/results/desk.json``.

* ``handoff_to_offer_ms``: from the session recording its handoff decision (the record's
  wall-clock time) to the desk page rendering the offer (``Date.now()`` in the page:
  the same host clock).
* ``caller_to_agent_ms``: the caller sends a tone burst (wall time of its first frame)
  until the agent page's audio level crosses 0.02: gateway jitter/playout + bridge +
  WebRTC + Chromium's own jitter buffer (≈ 30 ms) + the analyser window (≈ 21 ms).

Run: ``.venv/bin/python -m bench.desk [--calls 8]``.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import percentile, write_result
from tests.desk_browser import (
    OFFERED,
    TALKING,
    add_agent,
    agent_page,
    microphone,
    question,
    until,
)
from tests.gateway_fixture import gateway_env, running_gateway
from tests.tools.rtp_audio import Pcm
from tests.tools.sip_caller import dial


async def one_call(gw: Any, page: Any, text: Pcm) -> dict[str, float]:
    call = await dial(gw.uri, codecs=["PCMU"], keep_audio=False)
    try:
        await call.wait_answered()
        await call.wait_for_audio(timeout=15)
        await call.wait_for_silence(1.0, timeout=40)
        await call.play(text)
        await until(page, OFFERED)
        offer_seen = await page.evaluate("window.desk.offerSeenAt") / 1000
        calls = gw.calls()
        record = max(calls, key=lambda c: c["started_at"])
        handoff = next(e for e in gw.records.events(str(record["id"])) if e["kind"] == "handoff")
        await page.click("#accept")
        await until(page, TALKING)
        await asyncio.sleep(1.0)  # the whisper is over, the caller is silent
        await page.evaluate("window.desk.loudAt = null")
        sent = time.time()
        await call.play(Pcm.tone(700.0, 0.6, 8000, amplitude=16000.0))
        await until(page, "window.desk.loudAt !== null", 5000)
        loud_at = await page.evaluate("window.desk.loudAt") / 1000
        await page.click("#hangup")
        await call.wait_ended(15)
        await until(page, "window.desk.view.me.state === 'wrap_up'")
        await page.click("#done")
        await until(page, "window.desk.view.me.state === 'available'")
        return {
            "handoff_to_offer_ms": round((offer_seen - float(handoff["at"])) * 1000, 1),
            "caller_to_agent_ms": round((loud_at - sent) * 1000, 1),
        }
    finally:
        await call.close()


async def run(calls: int) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    with tempfile.TemporaryDirectory(prefix="loket-desk-bench-") as tmp:
        env = gateway_env(
            Path(tmp),
            DEFAULT_LANGUAGE="en",
            WEBRTC__HOST_ADDRESSES="[127.0.0.1]",
            QUEUE__WRAP_UP_S="600",
        )
        add_agent(env, "anna", "algemeen,english")
        text = await question("I have a question about my tax return")
        results = []
        async with running_gateway(env) as gw, async_playwright() as pw:
            browser, page = await agent_page(pw, gw, microphone(Path(tmp)))
            try:
                for _ in range(calls):
                    results.append(await one_call(gw, page, text))
            finally:
                await browser.close()
    offers = [r["handoff_to_offer_ms"] for r in results]
    delays = [r["caller_to_agent_ms"] for r in results]
    return {
        "benchmark": "desk",
        "calls": calls,
        "handoff_to_offer_ms": {"p50": percentile(offers, 50), "p95": percentile(offers, 95)},
        "caller_to_agent_ms": {"p50": percentile(delays, 50), "p95": percentile(delays, 95)},
        "note": "caller_to_agent includes Chromium's jitter buffer and a 21 ms analyser window",
        "runs": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=8)
    args = parser.parse_args()
    result = asyncio.run(run(args.calls))
    path = write_result("desk", result)
    print(
        f"handoff→offer p50 {result['handoff_to_offer_ms']['p50']} ms, "
        f"caller→agent audio p50 {result['caller_to_agent_ms']['p50']} ms → {path}"
    )


if __name__ == "__main__":
    main()
