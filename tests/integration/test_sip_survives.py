"""No input ends a SIP listener: the running gateway under bad packets, fuzzing and TCP abuse.

Each test ends by proving the line still works for a real caller: OPTIONS over UDP
and TCP answered 200 (through the gateway's own socket and core), and where it
matters a real SIPp call.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from telephony.sip.selfcheck import probe_tcp, probe_udp
from tests.gateway_fixture import RunningGateway, gateway_env, running_gateway
from tests.tools.peers import SIPP, sipp_uac_call
from tests.tools.sip_fuzz import Addr, request
from tests.tools.sip_fuzz_live import fuzz_gateway

pytestmark = [pytest.mark.interop, pytest.mark.skipif(SIPP is None, reason="sipp not installed")]


@pytest.fixture
async def gw(tmp_path: Path) -> AsyncIterator[RunningGateway]:
    async with running_gateway(gateway_env(tmp_path, sip__selfcheck_s="0.5")) as running:
        yield running


async def wait_for(predicate: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def answers_options(gw: RunningGateway) -> None:
    assert await probe_udp("127.0.0.1", gw.sip_port, 3.0) == 200
    assert await probe_tcp("127.0.0.1", gw.sip_port, 3.0) == 200


async def healthz(gw: RunningGateway) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.get(f"http://127.0.0.1:{gw.settings.http.port}/healthz")


def send_udp(port: int, data: bytes) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.sendto(data, ("127.0.0.1", port))


@pytest.mark.parametrize(
    ("via", "undeliverable"),
    [
        # OverflowError in sendto: asyncio closed the UDP transport for every caller
        ("SIP/2.0/UDP 127.0.0.1:70000;branch=z9hG4bK-p1", True),
        ("SIP/2.0/UDP 127.0.0.1:99999999999;branch=z9hG4bK-p5", True),
        # answered to the source address (received=), the Via's host is not looked up
        ("SIP/2.0/UDP 127.0.0.1:0;branch=z9hG4bK-p2", False),
        ("SIP/2.0/UDP host.invalid:5060;branch=z9hG4bK-p3", False),
        ("SIP/2.0/UDP 255.255.255.255:5060;branch=z9hG4bK-p4", False),
    ],
)
async def test_answer_to_an_impossible_address_leaves_udp_open(
    gw: RunningGateway, via: str, undeliverable: bool
) -> None:
    data = request("OPTIONS", Addr()).replace(
        b"SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-fuzz-1;rport", via.encode()
    )
    assert via.encode() in data
    send_udp(gw.sip_port, data)
    endpoint = gw.gateway.calls.endpoint
    if undeliverable:
        await wait_for(lambda: endpoint.drops.counts.get("bad_destination"))
    else:
        await asyncio.sleep(0.2)
        assert not endpoint.drops.counts
    await answers_options(gw)
    assert endpoint.state["udp"].open and endpoint.state["udp"].reopened == 0


async def test_a_udp_transport_that_dies_is_reopened_and_healthz_tells(
    gw: RunningGateway, tmp_path: Path
) -> None:
    endpoint = gw.gateway.calls.endpoint
    assert (await healthz(gw)).status_code == 200
    real_open = endpoint._open_udp
    allowed = asyncio.Event()

    async def blocked_open() -> None:  # the port is taken: reopening fails for a while
        if not allowed.is_set():
            raise OSError(98, "Address already in use")
        await real_open()

    endpoint._open_udp = blocked_open  # type: ignore[method-assign]
    endpoint.break_udp_for_test()
    await wait_for(lambda: not endpoint.state["udp"].open)
    # two failed self-checks (0.5 s apart): SIP is not ready, /healthz says 503
    await wait_for(lambda: not gw.gateway.calls.selfcheck.ready, timeout=5)
    response = await healthz(gw)
    assert response.status_code == 503
    sip = response.json()["components"]["sip"]
    assert sip["ready"] is False and sip["transports"]["udp"]["open"] is False
    assert "reopen" in sip["transports"]["udp"]["last_error"]
    allowed.set()
    await wait_for(lambda: endpoint.state["udp"].open, timeout=10)
    await wait_for(lambda: gw.gateway.calls.selfcheck.ready, timeout=5)
    response = await healthz(gw)
    assert response.status_code == 200
    assert response.json()["components"]["sip"]["transports"]["udp"]["reopened"] == 1
    assert await sipp_uac_call(gw.sip_port, tmp_path / "call") is None


async def test_tcp_message_split_across_segments(gw: RunningGateway) -> None:
    data = request("OPTIONS", Addr(transport="TCP"))
    reader, writer = await asyncio.open_connection("127.0.0.1", gw.sip_port)
    try:
        for i in range(0, len(data), 7):
            writer.write(data[i : i + 7])
            await writer.drain()
            await asyncio.sleep(0.002)
        line = await asyncio.wait_for(reader.readline(), 3)
        assert line.startswith(b"SIP/2.0 200")
    finally:
        writer.close()


async def test_tcp_abuse_is_bounded_and_the_listener_stays(gw: RunningGateway) -> None:
    endpoint = gw.gateway.calls.endpoint
    endpoint.tcp_idle_s = 1.0
    endpoint.tcp_message_s = 0.5
    endpoint.tcp_max_per_source = 1000  # all from 127.0.0.1 here; the cap has its own test
    opened: list[asyncio.StreamWriter] = []
    # a huge Content-Length: the connection is closed, nothing is buffered
    reader, writer = await asyncio.open_connection("127.0.0.1", gw.sip_port)
    opened.append(writer)
    huge = request("OPTIONS", Addr(transport="TCP")).replace(
        b"Content-Length: 0", b"Content-Length: 99999999999"
    )
    writer.write(huge)
    assert await asyncio.wait_for(reader.read(), 3) == b""
    # a slow sender: half a message, then nothing
    reader, writer = await asyncio.open_connection("127.0.0.1", gw.sip_port)
    opened.append(writer)
    writer.write(request("OPTIONS", Addr(transport="TCP"))[:60])
    assert await asyncio.wait_for(reader.read(), 3) == b""
    # a partial message and a hang-up: no task left behind
    _, writer = await asyncio.open_connection("127.0.0.1", gw.sip_port)
    writer.write(b"INVITE sip:helpline@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 1")
    writer.close()
    # many idle connections: all closed after tcp_idle_s
    for _ in range(200):
        opened.append((await asyncio.open_connection("127.0.0.1", gw.sip_port))[1])
    await wait_for(lambda: len(endpoint._tcp_writers) >= 150, timeout=5)
    await answers_options(gw)  # a real peer is served meanwhile
    await wait_for(lambda: len(endpoint._tcp_writers) == 0, timeout=10)
    assert endpoint.drops.counts.get("tcp_timeout", 0) >= 200
    for w in opened:
        w.close()
    await answers_options(gw)


async def test_connections_per_source_are_capped(gw: RunningGateway) -> None:
    endpoint = gw.gateway.calls.endpoint
    endpoint.tcp_max_per_source = 20
    opened = [(await asyncio.open_connection("127.0.0.1", gw.sip_port))[1] for _ in range(30)]
    await wait_for(lambda: endpoint.drops.counts.get("tcp_too_many_connections", 0) >= 10)
    assert len(endpoint._tcp_writers) <= 20
    for w in opened:
        w.close()
    await wait_for(lambda: len(endpoint._tcp_writers) == 0)
    await answers_options(gw)


async def test_ten_thousand_fuzzed_messages_then_calls_still_work(
    gw: RunningGateway, tmp_path: Path
) -> None:
    """≥ 10k mutated messages over UDP and TCP in batches of 1000; after each batch
    OPTIONS over both transports gets 200 and a real SIPp call completes."""
    calls = 0

    async def real_call() -> str | None:
        nonlocal calls
        calls += 1
        return await sipp_uac_call(gw.sip_port, tmp_path / f"call-{calls}")

    result = await fuzz_gateway(
        "127.0.0.1", gw.sip_port, seed=2026, messages=10_000, batch=1000, real_call=real_call
    )
    assert result.batches == 10 and sum(result.sent.values()) == 10_000
    assert not result.checks_failed, result.checks_failed
    endpoint = gw.gateway.calls.endpoint
    assert endpoint.state["udp"].open and endpoint.state["udp"].reopened == 0
    assert "core_error" not in endpoint.drops.counts, endpoint.drops.counts
    # the gateway answered the fuzz (a silent gateway would also "survive")
    assert result.answers["400"] > 500 and result.answers["200"] > 50, result.answers
    assert (await healthz(gw)).status_code == 200


async def test_the_sip_socket_has_room_for_a_burst(gw: RunningGateway) -> None:
    """The kernel's default (~208 KB, ~90 small datagrams) dropped ACKs and BYEs while the
    loop lagged under SIPp load; the listener asks for megabytes."""
    udp = gw.gateway.calls.endpoint._udp
    assert udp is not None
    sock = udp.get_extra_info("socket")
    assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) >= 1024 * 1024
