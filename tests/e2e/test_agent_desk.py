"""An agent in a real headless Chromium takes a handed-off SIP call.

The agent logs in, connects their (fake) microphone, goes available. A real SIP
caller asks a question the assistant cannot answer (Rasa is down here, which is
one of the handoff paths), is queued, and the desk shows the offer with the
caller's own words. The agent accepts, hears the spoken summary, and then audio
flows both ways: the caller hears the agent's microphone, the agent hears the
caller. The agent hangs up, writes a wrap-up note, and it lands in the record.
A second test closes the agent's browser mid-call: the caller is told and put
back at the head of the queue.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from tests.desk_browser import (
    CHROMIUM,
    OFFERED,
    TALKING,
    accept_when_offered,
    add_agent,
    agent_page,
    microphone,
    question,
    until,
)
from tests.gateway_fixture import RunningGateway, gateway_env, running_gateway
from tests.tools.rtp_audio import Pcm
from tests.tools.sip_caller import SipCaller, dial

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(CHROMIUM is None, reason="no chromium")]


@pytest.fixture
async def desk_gateway(tmp_path: Path) -> AsyncIterator[RunningGateway]:
    env = gateway_env(
        tmp_path,
        DEFAULT_LANGUAGE="en",
        WEBRTC__HOST_ADDRESSES="[127.0.0.1]",
        QUEUE__WRAP_UP_S="600",
        QUEUE__HOLD_ANNOUNCEMENT_EVERY_S="60",
    )
    add_agent(env, "anna", "algemeen,english")
    async with running_gateway(env) as gw:
        yield gw


def dominant_hz(call: SipCaller, since: float) -> float:
    frames = [f.samples for f in call.media.received.frames if f.arrival >= since]
    pcm = np.concatenate(frames).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(pcm * np.hanning(len(pcm))))
    return float(
        np.fft.rfftfreq(len(pcm), 1 / call.media.received.rate)[int(np.argmax(spectrum[5:])) + 5]
    )


async def handed_off_call(gw: RunningGateway, text: str) -> SipCaller:
    call = await dial(gw.uri, codecs=["PCMU"])
    await call.wait_answered()
    await call.wait_for_audio(timeout=15)
    await call.wait_for_silence(1.0, timeout=40)  # the greeting
    await call.play(await question(text))
    return call


async def test_agent_accepts_hears_summary_talks_and_wraps_up(
    desk_gateway: RunningGateway, tmp_path: Path
) -> None:
    from playwright.async_api import async_playwright

    gw = desk_gateway
    async with async_playwright() as pw:
        browser, page = await agent_page(pw, gw, microphone(tmp_path))
        call = await handed_off_call(gw, "I have a question about my pension payment")
        try:
            handed_off = time.monotonic()
            await until(page, OFFERED)
            offer_s = time.monotonic() - handed_off
            card = await page.inner_text("#offer-card")
            assert "pension" in card.lower(), card  # the caller's own words, before accepting
            await page.click("#accept")
            await until(page, TALKING)
            bridged = time.monotonic()
            # the agent heard the spoken summary before being connected …
            assert await page.evaluate("window.desk.peak") > 0.01
            # … and then hears the caller
            await page.evaluate("window.desk.peak = 0")
            await call.play(Pcm.tone(700.0, 1.0, 8000))
            await until(page, "window.desk.peak > 0.01", 10_000)
            await asyncio.sleep(1.5)
            assert (
                abs(dominant_hz(call, bridged) - 300) < 15
            )  # the agent's microphone, on the phone
            await page.click("#hangup")
            assert await call.wait_ended(15) == "remote"
            await until(page, "window.desk.view.me.state === 'wrap_up'")
            await page.fill("#note", "Uitgelegd wanneer de AOW komt.")
            await page.click("#done")
            await until(page, "window.desk.view.me.state === 'available'")
        finally:
            await call.close()
            await browser.close()
        (record,) = gw.calls()
        events = gw.records.events(str(record["id"]))
        kinds = [e["kind"] for e in events]
        assert {"handoff", "queued", "agent_assigned", "bridged", "agent_hung_up"} <= set(kinds)
        note = next(e for e in events if e["kind"] == "wrap_up_note")
        assert note["agent"] == "anna" and note["note"] == "Uitgelegd wanneer de AOW komt."
        print(f"handoff → offer on the desk: {offer_s * 1000:.0f} ms")


async def test_agent_browser_closing_mid_call_requeues_the_caller_at_the_head(
    desk_gateway: RunningGateway, tmp_path: Path
) -> None:
    from playwright.async_api import async_playwright

    gw = desk_gateway
    async with async_playwright() as pw:
        browser, page = await agent_page(pw, gw, microphone(tmp_path))
        call = await handed_off_call(gw, "I want to talk about my allowance")
        try:
            await accept_when_offered(page)
            lost_at = time.monotonic()
            await browser.close()  # the agent's browser is gone, mid-call
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                (record,) = gw.calls()
                if "requeued" in gw.kinds(str(record["id"])):
                    break
                await asyncio.sleep(0.2)
            assert "requeued" in gw.kinds(str(record["id"]))
            assert not call.ended  # still on the line …
            await call.wait_for_audio(after=lost_at, timeout=10)  # … and told about it
            waiting = gw.gateway.queue.waiting()
            assert [t.call_id for t in waiting][:1] == [str(record["id"])]  # at the head
        finally:
            await call.close()


async def test_agent_transfers_to_another_organisation_with_the_summary(
    desk_gateway: RunningGateway, tmp_path: Path
) -> None:
    """The caller's phone (the test caller) refuses REFER, so the gateway places the call
    itself (a SIPp UAS echoing audio) with the context in X-Loket-Summary, and bridges."""
    from playwright.async_api import async_playwright

    from tests.tools.peers import SIPP, free_port

    assert SIPP is not None
    gw = desk_gateway
    uas_port = free_port()
    uas = subprocess.Popen(
        [SIPP, "-sn", "uas", "-rtp_echo", "-i", "127.0.0.1", "-p", str(uas_port),
         "-mp", str(free_port("udp", even=True)), "-m", "1", "-nostdin",
         "-trace_msg", "-message_file", str(tmp_path / "uas.log")],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    async with async_playwright() as pw:
        browser, page = await agent_page(pw, gw, microphone(tmp_path))
        call = await handed_off_call(gw, "I need the municipality about my passport")
        try:
            await accept_when_offered(page)
            await page.click("text=Doorverbinden")
            await page.fill("#transfer-uri", f"sip:balie@127.0.0.1:{uas_port}")
            await page.fill("#transfer-note", "paspoort verlopen")
            await page.click("#transfer")
            await until(page, "window.desk.view.call === null", 30_000)  # the agent is free
            (record,) = gw.calls()
            kinds = gw.kinds(str(record["id"]))
            assert "transferred" in kinds, kinds
            # the other organisation's line now carries the caller: SIPp echoes our audio
            sent = time.monotonic()
            await call.play(Pcm.tone(700.0, 1.0, 8000))
            await call.wait_for_audio(after=sent, timeout=5)
            assert abs(dominant_hz(call, sent) - 700) < 20
        finally:
            await call.close()
            await browser.close()
            if uas.poll() is None:
                uas.kill()
    invite = (tmp_path / "uas.log").read_text(errors="replace")
    assert "X-Loket-Summary:" in invite and "paspoort verlopen" in invite
    transferred = next(
        e for e in gw.records.events(str(record["id"])) if e["kind"] == "transferred"
    )
    assert transferred["method"] == "invite"
