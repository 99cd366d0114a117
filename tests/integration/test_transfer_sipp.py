"""Onward transfer against SIPp: REFER to the caller's phone, or a call we place and bridge."""

from __future__ import annotations

import asyncio
import math
import struct
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from telephony.call import Call
from telephony.outbound import DialFailed, dial, refer, summary_header
from tests.gateway_fixture import RunningGateway, gateway_env, running_gateway
from tests.integration.test_sipp_interop import SCENARIOS, sipp, wait_for
from tests.tools.peers import SIPP, free_port

pytestmark = [pytest.mark.interop, pytest.mark.skipif(SIPP is None, reason="sipp not installed")]


@pytest.fixture
async def gw(tmp_path: Path) -> AsyncIterator[RunningGateway]:
    async with running_gateway(gateway_env(tmp_path)) as running:
        yield running


def start_uas(cwd: Path, *args: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen(
        [str(SIPP), "-i", "127.0.0.1", "-p", str(port), "-mp", str(free_port("udp", even=True)),
         "-m", "1", "-nostdin", "-timeout", "30s", "-timeout_error", "-trace_err", *args],
        cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return proc, port


def tone(rate: int, seconds: float, freq: float = 440.0) -> bytes:
    n = int(rate * seconds)
    return b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * freq * i / rate))) for i in range(n)
    )


async def the_call(gw: RunningGateway) -> Call:
    await wait_for(lambda: len(gw.gateway.calls.calls) == 1)
    return next(iter(gw.gateway.calls.calls.values()))


async def test_dial_a_sipp_uas_hear_the_echo_and_hang_up(
    gw: RunningGateway, tmp_path: Path
) -> None:
    uas, port = start_uas(tmp_path, "-sn", "uas", "-rtp_echo")
    try:
        await asyncio.sleep(0.3)
        leg = await dial(
            gw.gateway.calls,
            f"sip:desk@127.0.0.1:{port}",
            headers={"X-Loket-Summary": summary_header("Beller vraagt naar AOW.\nTaal: NL")},
        )
        heard: list[bytes] = []
        leg.stream.on_audio = heard.append
        await leg.stream.play(tone(leg.stream.sample_rate, 1.0))
        await asyncio.sleep(0.5)
        level = np.abs(np.frombuffer(b"".join(heard), dtype="<i2")).mean() if heard else 0
        assert level > 1000, level  # our tone came back through SIPp's RTP echo
        leg.hangup("transfer done")
        await wait_for(lambda: leg.ended.is_set())
        assert await asyncio.to_thread(uas.wait, 20) == 0  # SIPp saw INVITE, ACK and our BYE
    finally:
        if uas.poll() is None:
            uas.kill()


async def test_dial_a_busy_target_fails_cleanly(gw: RunningGateway, tmp_path: Path) -> None:
    uas, port = start_uas(tmp_path, "-sf", str(SCENARIOS / "busy_uas.xml"))
    try:
        await asyncio.sleep(0.3)
        with pytest.raises(DialFailed) as err:
            await dial(gw.gateway.calls, f"sip:desk@127.0.0.1:{port}")
        assert err.value.status == 486
        assert await asyncio.to_thread(uas.wait, 20) == 0  # and it got its ACK
        assert gw.gateway.calls.ports.in_use == 0
    finally:
        if uas.poll() is None:
            uas.kill()


async def test_refer_accepted_by_the_callers_phone(gw: RunningGateway, tmp_path: Path) -> None:
    caller = asyncio.ensure_future(sipp(gw.sip_port, tmp_path, scenario="refer_accept.xml"))
    call = await the_call(gw)
    assert await refer(gw.gateway.calls, call, "sip:desk@org.example")
    code, log = await caller
    assert code == 0, log


async def test_refer_refused_falls_back_to_us(gw: RunningGateway, tmp_path: Path) -> None:
    caller = asyncio.ensure_future(sipp(gw.sip_port, tmp_path, scenario="refer_reject.xml"))
    call = await the_call(gw)
    assert not await refer(gw.gateway.calls, call, "sip:desk@org.example")
    call.hangup("test over")
    code, log = await caller
    assert code == 0, log
