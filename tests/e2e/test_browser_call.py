"""A citizen calls from the "bel ons via internet" page in a real headless Chromium.

Chromium's fake microphone plays a WAV (silence through the greeting, then a spoken
question); the page shows the bot's audio level. Audio must flow both ways through
the same voice pipeline, records and handoff as a phone call.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.desk_browser import CHROMIUM, CHROMIUM_ARGS, english_voice
from tests.gateway_fixture import gateway_env, running_gateway
from voice.audio import concat, silence, write_wav
from voice.resample import resample_chunk

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(CHROMIUM is None, reason="no chromium")]


async def test_citizen_page_calls_the_bot_and_audio_flows_both_ways(tmp_path: Path) -> None:
    from playwright.async_api import async_playwright

    question = english_voice().synthesize_sentence("When is the state pension paid?")
    wav = tmp_path / "mic.wav"
    write_wav(
        wav, concat([silence(9.0, 48000), resample_chunk(question, 48000), silence(20.0, 48000)])
    )
    env = gateway_env(tmp_path, DEFAULT_LANGUAGE="en", WEBRTC__HOST_ADDRESSES="[127.0.0.1]")
    async with running_gateway(env) as gw, async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[*CHROMIUM_ARGS, f"--use-file-for-fake-audio-capture={wav}"],
        )
        try:
            page = await browser.new_page()
            await page.add_init_script(
                "window.loketAudioConstraints = {echoCancellation: false,"
                " noiseSuppression: false, autoGainControl: false};"
            )
            await page.goto(f"http://127.0.0.1:{gw.settings.http.port}/bel")
            await page.click("#call")
            await page.wait_for_function("window.loket.state === 'connected'", timeout=20_000)
            # the bot's greeting reaches the browser
            await page.wait_for_function("window.loket.level > 0.02", timeout=15_000)
            call_id = await page.evaluate("window.loket.callId")
            # the caller's question reaches the bot
            deadline = time.monotonic() + 45
            said: list[str] = []
            while time.monotonic() < deadline and not said:
                said = [
                    str(e["text"]) for e in gw.records.events(call_id) if e["kind"] == "caller_said"
                ]
                await asyncio.sleep(0.5)
            assert any("pension" in s.lower() for s in said), said
            await page.click("#hangup")
            await page.wait_for_function("window.loket.state === 'ended'")
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and gw.records.call(call_id)["ended_at"] is None:  # type: ignore[index]
                await asyncio.sleep(0.2)
        finally:
            await browser.close()
        call = gw.records.call(call_id)
        assert call is not None and call["channel"] == "webrtc"
        assert call["ended_by"] == "caller"
        kinds = [e["kind"] for e in gw.records.events(call_id)]
        assert kinds[:2] == ["answered", "disclosure"]
