"""The gateway against SIPp (Debian ``sip-tester``): a real SIP peer judges our signalling.

Rasa is deliberately down here (a closed port): that is not the layer under test,
and it shows at the same time that such callers are handed off, not dropped.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.gateway_fixture import RunningGateway, gateway_env, running_gateway
from tests.tools.peers import SIPP, SIPP_PCAPS, run_sipp

SCENARIOS = Path(__file__).parent / "sipp"
pytestmark = [pytest.mark.interop, pytest.mark.skipif(SIPP is None, reason="sipp not installed")]


@pytest.fixture
async def gw(tmp_path: Path) -> AsyncIterator[RunningGateway]:
    async with running_gateway(gateway_env(tmp_path)) as running:
        yield running


async def sipp(
    gw_port: int,
    cwd: Path,
    *args: str,
    scenario: str | None = None,
    timeout: float = 60,
) -> tuple[int, str]:
    """Run SIPp to completion against the gateway; (exit code, its error log).

    *scenario*: a file in tests/integration/sipp, or a SIPp built-in; default ``uac``."""
    where = SCENARIOS / scenario if scenario and scenario.endswith(".xml") else scenario or "uac"
    return await run_sipp(gw_port, cwd, where, *args, timeout_s=timeout)


async def wait_for(predicate: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


def only_call(gw: RunningGateway) -> dict[str, object]:
    calls = gw.calls()
    assert len(calls) == 1, calls
    return calls[0]


async def test_plain_call_invite_ack_bye(gw: RunningGateway, tmp_path: Path) -> None:
    code, log = await sipp(gw.sip_port, tmp_path, "-d", "1500")
    assert code == 0, log
    await wait_for(lambda: only_call(gw)["ended_by"] is not None)
    call = only_call(gw)
    assert call["ended_by"] == "caller" and call["channel"] == "sip"
    assert call["caller_hash"] and call["caller_hash"] != "sipp"
    assert gw.gateway.calls.ports.in_use == 0  # RTP ports released


async def test_plain_call_over_tcp(gw: RunningGateway, tmp_path: Path) -> None:
    code, log = await sipp(gw.sip_port, tmp_path, "-t", "t1", "-d", "500")
    assert code == 0, log
    await wait_for(lambda: only_call(gw)["ended_by"] == "caller")


async def test_cancel_before_answer_gets_487(tmp_path: Path) -> None:
    env = gateway_env(tmp_path, SIP__RING_MS="3000")
    async with running_gateway(env) as gw:
        code, log = await sipp(gw.sip_port, tmp_path, scenario="cancel.xml")
        assert code == 0, log
        assert gw.calls() == []  # never answered, so no call record
        await wait_for(lambda: gw.gateway.calls.ports.in_use == 0)


async def test_options_lists_methods(gw: RunningGateway, tmp_path: Path) -> None:
    code, log = await sipp(gw.sip_port, tmp_path, scenario="options.xml")
    assert code == 0, log


async def test_malformed_requests_get_400_and_garbage_is_survived(
    gw: RunningGateway, tmp_path: Path
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as junk:
        for data in (b"\x00\x01\x02 not sip", os.urandom(600), b"INVITE\r\n\r\n"):
            junk.sendto(data, ("127.0.0.1", gw.sip_port))
    code, log = await sipp(gw.sip_port, tmp_path, scenario="malformed.xml")
    assert code == 0, log


async def test_no_common_codec_gets_488(gw: RunningGateway, tmp_path: Path) -> None:
    code, log = await sipp(gw.sip_port, tmp_path, scenario="no_common_codec.xml")
    assert code == 0, log
    assert gw.gateway.calls.ports.in_use == 0


async def test_bye_for_unknown_dialog_gets_481(gw: RunningGateway, tmp_path: Path) -> None:
    code, log = await sipp(gw.sip_port, tmp_path, scenario="unknown_dialog.xml")
    assert code == 0, log


async def test_more_calls_than_max_calls_get_503(tmp_path: Path) -> None:
    async with running_gateway(gateway_env(tmp_path, SIP__MAX_CALLS="1")) as gw:
        first_dir = tmp_path / "first"
        first_dir.mkdir()
        first = asyncio.ensure_future(sipp(gw.sip_port, first_dir, "-d", "4000"))
        await wait_for(lambda: len(gw.gateway.calls.calls) == 1)
        code, log = await sipp(gw.sip_port, tmp_path, scenario="busy.xml")
        assert code == 0, log
        assert (await first)[0] == 0


async def test_g722_hold_unhold_refresh_info_dtmf(gw: RunningGateway, tmp_path: Path) -> None:
    code, log = await sipp(gw.sip_port, tmp_path, scenario="hold_info_bye.xml")
    assert code == 0, log
    await wait_for(lambda: only_call(gw)["ended_by"] == "caller")
    events = gw.records.events(str(only_call(gw)["id"]))
    assert {"kind": "dtmf", "digit": "5"}.items() <= next(
        e for e in events if e["kind"] == "dtmf"
    ).items()


async def test_rtp_audio_and_rfc4733_dtmf_from_sipp_pcaps(tmp_path: Path) -> None:
    (tmp_path / "pcap").symlink_to(SIPP_PCAPS)
    async with running_gateway(gateway_env(tmp_path, DEFAULT_LANGUAGE="en")) as gw:
        code, log = await sipp(gw.sip_port, tmp_path, scenario="uac_pcap")
        assert code == 0, log
        await wait_for(lambda: only_call(gw)["ended_by"] == "caller", timeout=20)
        call_id = str(only_call(gw)["id"])
        events = gw.records.events(call_id)
        kinds = [e["kind"] for e in events]
        # The pcap's audio reached the voice pipeline (VAD saw speech) …
        assert "caller_said" in kinds or "caller_spoke" in kinds, kinds
        # … and the RFC 4733 digit from dtmf_2833_1.pcap arrived as "1".
        assert [e["digit"] for e in events if e["kind"] == "dtmf"] == ["1"]
        # Rasa is down: the caller was told and queued, not dropped.
        assert "handoff" in kinds
