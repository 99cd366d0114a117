"""Keeping strangers out, with SIPp (Debian ``sip-tester``) as the stranger.

The gateway listens on 127.0.0.1 and trusts 127.0.0.1/32 only; SIPp sends from other
loopback addresses (127.0.0.2, 127.0.0.3: all of 127/8 is local on Linux), so to the
gateway it is a source outside the allowlist.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from telephony.sip import digest
from tests.gateway_fixture import RunningGateway, gateway_env, running_gateway
from tests.tools.peers import SIPP, run_sipp

SCENARIOS = Path(__file__).parent / "sipp"
STRANGER = "127.0.0.2"
FLOODER = "127.0.0.3"
pytestmark = [pytest.mark.interop, pytest.mark.skipif(SIPP is None, reason="sipp not installed")]

SECURITY = {
    "SIP__SECURITY__TRUSTED": "[127.0.0.1/32]",
    "SIP__SECURITY__USERS": "[{username: trunk, password: s3cret}]",
}


def strangers_env(tmp: Path, **overrides: str) -> dict[str, str]:
    return gateway_env(tmp, **{**SECURITY, **overrides})


@pytest.fixture
async def gw(tmp_path: Path) -> AsyncIterator[RunningGateway]:
    async with running_gateway(strangers_env(tmp_path)) as running:
        yield running


async def sipp_from(
    source: str,
    gw_port: int,
    cwd: Path,
    scenario: str,
    *args: str,
    timeout: float = 30,
) -> tuple[int, str]:
    """SIPp from *source* to the gateway, to completion; (exit code, its error output).

    *scenario*: a file in tests/integration/sipp, or a SIPp built-in (``uac``)."""
    where = SCENARIOS / scenario if scenario.endswith(".xml") else scenario
    return await run_sipp(gw_port, cwd, where, *args, source=source, timeout_s=timeout)


async def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


def counts(gw: RunningGateway) -> dict[str, int]:
    admission = gw.gateway.calls.core.admission
    assert admission is not None
    return admission.counts


async def test_stranger_with_md5_credentials_gets_the_call(tmp_path: Path) -> None:
    # Debian's SIPp 3.6.1 answers only MD5, and only the first challenge it is given
    # (src/auth.cpp createAuthHeader reads the first "algorithm="): MD5 is offered first
    # here. The SHA-256 path is tested below with the RFC 7616 maths.
    env = strangers_env(tmp_path, SIP__SECURITY__ALGORITHMS="[MD5, SHA-256]")
    async with running_gateway(env) as gw:
        code, log = await sipp_from(
            STRANGER, gw.sip_port, tmp_path / "s", "auth_call.xml",
            "-au", "trunk", "-ap", "s3cret", "-m", "1", "-d", "500",
        )  # fmt: skip
        assert code == 0, log
        await wait_for(lambda: len(gw.calls()) == 1 and gw.calls()[0]["ended_by"] is not None)
        assert gw.calls()[0]["ended_by"] == "caller"
        assert counts(gw).get("digest_ok") == 1


async def test_stranger_with_a_wrong_password_gets_no_call(tmp_path: Path) -> None:
    env = strangers_env(tmp_path, SIP__SECURITY__ALGORITHMS="[MD5]")
    async with running_gateway(env) as gw:
        code, _ = await sipp_from(
            STRANGER, gw.sip_port, tmp_path / "s", "auth_call.xml",
            "-au", "trunk", "-ap", "guess", "-m", "1", "-timeout", "8s",
        )  # fmt: skip
        assert code != 0  # SIPp got a second 401 where it wanted 200
        assert gw.calls() == [] and counts(gw).get("digest_wrong", 0) >= 1


async def test_stranger_without_credentials_gets_401_and_no_call(
    gw: RunningGateway, tmp_path: Path
) -> None:
    code, log = await sipp_from(STRANGER, gw.sip_port, tmp_path, "auth_refused.xml", "-m", "1")
    assert code == 0, log  # the 401 came, its first challenge SHA-256
    assert gw.calls() == [] and gw.gateway.calls.ports.in_use == 0
    assert counts(gw) == {"digest_no_credentials": 1}


async def test_trusted_source_calls_without_credentials(gw: RunningGateway, tmp_path: Path) -> None:
    code, log = await sipp_from("127.0.0.1", gw.sip_port, tmp_path, "uac", "-m", "1", "-d", "300")
    assert code == 0, log  # SIPp's plain uac: no 401 for the trusted trunk
    await wait_for(lambda: len(gw.calls()) == 1 and gw.calls()[0]["ended_by"] == "caller")
    assert counts(gw) == {}


async def test_scanner_gets_nothing(gw: RunningGateway, tmp_path: Path) -> None:
    code, log = await sipp_from(STRANGER, gw.sip_port, tmp_path, "scanner.xml", "-m", "3")
    assert code == 0, log  # any answer would have aborted SIPp's calls as unexpected
    assert counts(gw) == {"scanner": 6} and gw.calls() == []


async def test_flood_is_limited_and_the_call_in_progress_goes_on(tmp_path: Path) -> None:
    env = strangers_env(tmp_path, SIP__SECURITY__ALGORITHMS="[MD5, SHA-256]")  # SIPp 3.6.1
    async with running_gateway(env) as gw:
        # an authenticated stranger's call, up for 4 s …
        call = asyncio.ensure_future(
            sipp_from(
                STRANGER,
                gw.sip_port,
                tmp_path / "call",
                "auth_call.xml",
                "-au",
                "trunk",
                "-ap",
                "s3cret",
                "-m",
                "1",
                "-d",
                "4000",
            )
        )
        await wait_for(lambda: len(gw.gateway.calls.calls) == 1)
        # … while another source sends 1500 INVITEs at 500 a second
        started = time.monotonic()
        await sipp_from(
            FLOODER, gw.sip_port, tmp_path / "flood", "flood.xml", "-r", "500", "-m", "1500"
        )
        flood_s = time.monotonic() - started
        code, log = await call
        assert code == 0, log
        c = counts(gw)
        refused = c.get("rate_invites", 0) + c.get("rate_requests", 0)
        assert refused >= 1000, c
        assert len(gw.calls()) == 1 and gw.calls()[0]["ended_by"] == "caller"
        assert flood_s < 15


SDP = (
    "v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
    "m=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
)


def sha256_caller(port: int) -> list[int]:
    """A stranger answering the SHA-256 challenge (the first one) over UDP: statuses seen."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((STRANGER, 0))
        sock.settimeout(5)
        me = f"{STRANGER}:{sock.getsockname()[1]}"
        uri = f"sip:helpline@127.0.0.1:{port}"

        def send(method: str, cseq: int, extra: str = "", to_tag: str = "") -> None:
            to = f"<{uri}>" + (f";tag={to_tag}" if to_tag else "")
            body = SDP.format(ip=STRANGER) if method == "INVITE" else ""
            sock.sendto(
                (
                    f"{method} {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK-sha-{cseq}"
                    f"{method}\r\nMax-Forwards: 70\r\nFrom: <sip:sha@{me}>;tag=sha\r\n"
                    f"To: {to}\r\nCall-ID: sha256-call\r\nCSeq: {cseq} {method}\r\n"
                    f"Contact: <sip:sha@{me}>\r\n{extra}"
                    + ("Content-Type: application/sdp\r\n" if body else "")
                    + f"Content-Length: {len(body)}\r\n\r\n{body}"
                ).encode(),
                ("127.0.0.1", port),
            )

        def response() -> str:
            while True:  # the gateway's own requests (a BYE of its own) are not ours to judge
                data = sock.recv(65535).decode()
                if data.startswith("SIP/2.0 "):
                    return data

        def until_final() -> tuple[list[int], str]:
            seen = []
            while True:
                data = response()
                seen.append(int(data.split()[1]))
                if seen[-1] >= 200:
                    return seen, data

        send("INVITE", 1)
        seen, resp = until_final()
        challenge = next(
            line.split(":", 1)[1] for line in resp.split("\r\n") if line.startswith("WWW-Auth")
        )
        send("ACK", 1, to_tag=resp.split(";tag=")[1].split("\r\n")[0])
        params = digest.parse_params(challenge)
        assert params is not None and params["algorithm"] == "SHA-256"
        ha1 = digest.ha1("SHA-256", "trunk", "loket", "s3cret")
        answer = digest.response("SHA-256", ha1, params["nonce"], "00000001", "ab", "INVITE", uri)
        send(
            "INVITE",
            2,
            f'Authorization: Digest username="trunk", realm="loket", nonce="{params["nonce"]}", '
            f'uri="{uri}", response="{answer}", algorithm=SHA-256, qop=auth, nc=00000001, '
            'cnonce="ab"\r\n',
        )
        more, resp = until_final()
        if more[-1] == 200:  # hang up what we were given
            tag = resp.split("\r\nTo:")[1].split(";tag=")[1].split("\r\n")[0]
            send("ACK", 2, to_tag=tag)
            send("BYE", 3, to_tag=tag)
            more.append(int(response().split()[1]))
        return seen + more


async def test_stranger_answering_sha256_gets_the_call(gw: RunningGateway) -> None:
    statuses = await asyncio.to_thread(sha256_caller, gw.sip_port)
    assert statuses[0] in (100, 401) and 401 in statuses and statuses[-2:] == [200, 200]
    assert counts(gw).get("digest_ok") == 1
    await wait_for(lambda: len(gw.calls()) == 1)
