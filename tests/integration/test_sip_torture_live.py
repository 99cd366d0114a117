"""RFC 4475 torture messages sent to the running gateway over UDP and TCP.

A UDP answer goes where the top Via says (RFC 3261 §18.2.2), so each message's top
Via sent-by is pointed at the test's socket; every other octet is the RFC's. Messages
that would start a call are left to the unit tests (their SDP names 192.0.2.x).
After the lot, both transports are still open and answer OPTIONS.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from telephony.sip.endpoint import read_stream_message
from telephony.sip.selfcheck import probe_tcp, probe_udp
from tests.gateway_fixture import RunningGateway, gateway_env, running_gateway
from tests.tools.rfc4475 import load

pytestmark = pytest.mark.interop

# name -> status (None: nothing comes back)
LIVE: dict[str, int | None] = {
    "wsinv": 481,
    "intmeth": 501,
    "lwsdisp": 200,
    "dblreq": 405,
    "badinv01": 400,
    "ncl": 400,
    "lwsruri": 400,
    "ltgtruri": 400,
    "quotbal": 400,
    "badvers": 505,
    "mismatch02": 501,
    "bext01": 420,
    "multi01": 400,
    "mcl01": 400,
    "unkscm": 416,
    "sdp01": 406,
    "unreason": None,
    "bigcode": None,
    "scalarlg": None,
}
# the first Via header (folded or not: wsinv), up to its sent-by
_TOP_VIA = re.compile(rb"^((?:Via|v)\s*:\s*SIP\s*/\s*[\d.]+\s*/\s*\w+\s+)([^;\s,]+)", re.I | re.M)
_STATUS = re.compile(rb"^SIP/2\.0 (\d{3})")


def aimed_at(data: bytes, port: int) -> bytes:
    """The message with its top Via's sent-by replaced by 127.0.0.1:*port*."""
    return _TOP_VIA.sub(lambda m: m.group(1) + f"127.0.0.1:{port}".encode(), data, 1)


@pytest.fixture
async def gw(tmp_path: Path) -> AsyncIterator[RunningGateway]:
    async with running_gateway(gateway_env(tmp_path)) as running:
        yield running


async def udp_answers(port: int, data: bytes, wait: float) -> list[int]:
    loop = asyncio.get_running_loop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        sock.sendto(aimed_at(data, sock.getsockname()[1]), ("127.0.0.1", port))
        got: list[int] = []
        try:
            while True:
                reply = await asyncio.wait_for(loop.sock_recv(sock, 65535), wait)
                m = _STATUS.match(reply)
                got.append(int(m.group(1)) if m else -1)
        except TimeoutError:
            return got


async def tcp_answer(port: int, data: bytes, wait: float) -> int | None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        reply = await asyncio.wait_for(read_stream_message(reader), wait)
    except TimeoutError:
        return None
    finally:
        writer.close()
    if reply is None:
        return None
    m = _STATUS.match(reply)
    return int(m.group(1)) if m else -1


async def test_torture_over_udp_and_tcp_answered_and_listener_stays(gw: RunningGateway) -> None:
    # distinct statuses: a final answer to an INVITE is resent until ACKed (Timer G)
    got_udp = {name: sorted(set(await udp_answers(gw.sip_port, load(name), 0.5))) for name in LIVE}
    got_tcp = {name: await tcp_answer(gw.sip_port, load(name), 1.0) for name in LIVE}
    want_udp = {name: [] if status is None else [status] for name, status in LIVE.items()}
    assert got_udp == want_udp
    # ncl on a stream: the framing cannot be recovered, the connection is closed (§3.1.2.3)
    assert got_tcp == {**LIVE, "ncl": None}
    endpoint = gw.gateway.calls.endpoint
    assert "core_error" not in endpoint.drops.counts, endpoint.drops.counts
    assert endpoint.state["udp"].open and endpoint.state["udp"].reopened == 0
    assert await probe_udp("127.0.0.1", gw.sip_port, 3.0) == 200
    assert await probe_tcp("127.0.0.1", gw.sip_port, 3.0) == 200


async def test_clerr_over_tcp_waits_for_the_body_then_the_connection_is_closed(
    gw: RunningGateway,
) -> None:
    """Content-Length 9999 on a stream: the rest never comes, so the message is not
    answered (RFC 4475 §3.1.2.2) and the connection is closed at the message bound."""
    endpoint = gw.gateway.calls.endpoint
    endpoint.tcp_message_s = 0.5
    reader, writer = await asyncio.open_connection("127.0.0.1", gw.sip_port)
    writer.write(load("clerr"))
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()
    assert await udp_answers(gw.sip_port, load("clerr"), 0.5) == [400]  # UDP: 400 at once
    assert await probe_tcp("127.0.0.1", gw.sip_port, 3.0) == 200
