"""Fuzz a running gateway over UDP and TCP, then prove it still answers.

The sender behaves like a careless but not malicious peer: it sends mutated
messages, counts the answers by status code, and ACKs and hangs up every call
the gateway answers (so capacity is not used up by calls nobody will ever end;
what a call left unACKed does is covered by Timer H in the core tests).
After each batch, OPTIONS over both transports must get 200 and a real call
must go through (the caller of the test supplies it).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import cast

from telephony.sip.endpoint import read_stream_message
from telephony.sip.selfcheck import probe_tcp, probe_udp
from tests.tools.sip_fuzz import Addr, campaign

_STATUS = re.compile(rb"^SIP/2\.0 (\d{3})")
_HEADER = re.compile(rb"^(Via|From|To|Call-ID|CSeq)\s*:\s*(.*)$", re.IGNORECASE | re.MULTILINE)


@dataclass
class LiveFuzzResult:
    sent: Counter[str] = field(default_factory=Counter)
    """Messages sent, by transport."""
    answers: Counter[str] = field(default_factory=Counter)
    batches: int = 0
    checks_failed: list[str] = field(default_factory=list)
    """What failed after a batch: OPTIONS per transport, the real call."""
    calls_hung_up: int = 0
    seconds: float = 0.0
    options_rtt_ms: list[float] = field(default_factory=list)


def end_answered_call(response: bytes, transport: str) -> list[bytes]:
    """ACK and BYE for a 2xx to an INVITE (the fuzzer hangs up what it was given)."""
    if not response.startswith(b"SIP/2.0 2"):
        return []
    headers: dict[str, bytes] = {}
    for m in _HEADER.finditer(response.split(b"\r\n\r\n", 1)[0]):
        headers.setdefault(m.group(1).decode().lower(), m.group(2).strip())
    cseq = headers.get("cseq", b"").split()
    if len(cseq) != 2 or cseq[1].upper() != b"INVITE" or b"tag=" not in headers.get("to", b""):
        return []
    via = headers.get("via", b"")
    out = []
    for method, num in ((b"ACK", cseq[0]), (b"BYE", str(int(cseq[0]) + 1).encode())):
        branch = b"z9hG4bK-fuzz-end-" + method + b"-" + headers.get("call-id", b"")[-12:]
        fixed_via = re.sub(rb"branch=[^;,\s]+", b"branch=" + branch, via)
        out.append(
            method
            + b" sip:helpline@127.0.0.1 SIP/2.0\r\nVia: "
            + fixed_via
            + b"\r\nMax-Forwards: 70\r\nFrom: "
            + headers.get("from", b"")
            + b"\r\nTo: "
            + headers.get("to", b"")
            + b"\r\nCall-ID: "
            + headers.get("call-id", b"")
            + b"\r\nCSeq: "
            + num
            + b" "
            + method
            + b"\r\nContent-Length: 0\r\n\r\n"
        )
    return out


class _UdpFuzzer(asyncio.DatagramProtocol):
    def __init__(self, result: LiveFuzzResult) -> None:
        self.result = result
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Python 3.11's selector UDP transport is no asyncio.DatagramTransport subclass:
        # an isinstance assert here left the transport unset, so UDP answers went
        # uncounted and the calls they answered were never hung up.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        m = _STATUS.match(data)
        self.result.answers[m.group(1).decode() if m else "request"] += 1
        for msg in end_answered_call(data, "udp"):
            assert self.transport is not None
            self.transport.sendto(msg, addr)
            self.result.calls_hung_up += msg.startswith(b"BYE")

    def error_received(self, exc: Exception) -> None:
        pass


async def _tcp_batch(
    host: str, port: int, messages: list[bytes], result: LiveFuzzResult, per_connection: int
) -> None:
    """Send over TCP, a fresh connection every *per_connection* messages (a broken frame
    makes the gateway close the connection, as it should)."""
    for start in range(0, len(messages), per_connection):
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError as exc:
            result.checks_failed.append(f"tcp connect: {exc}")
            return

        async def read_answers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while True:
                    data = await read_stream_message(reader)
                    if data is None:
                        return
                    m = _STATUS.match(data)
                    result.answers[m.group(1).decode() if m else "request"] += 1
                    for msg in end_answered_call(data, "tcp"):
                        writer.write(msg)
                        result.calls_hung_up += msg.startswith(b"BYE")

        reading = asyncio.ensure_future(read_answers(reader, writer))
        try:
            for data in messages[start : start + per_connection]:
                if writer.is_closing():
                    break
                writer.write(data)
                result.sent["tcp"] += 1
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        await asyncio.sleep(0.05)
        reading.cancel()
        with contextlib.suppress(BaseException):
            await reading
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def fuzz_gateway(
    host: str,
    port: int,
    *,
    seed: int,
    messages: int,
    batch: int = 1000,
    real_call: Callable[[], Awaitable[str | None]] | None = None,
    pace_s: float = 0.0002,
) -> LiveFuzzResult:
    """Send *messages* mutated messages (half UDP, half TCP) in batches; after each batch
    check OPTIONS over both transports and, if given, *real_call* (None means it worked,
    else what went wrong)."""
    result = LiveFuzzResult()
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: _UdpFuzzer(result), local_addr=(host, 0)
    )
    udp_port = int(transport.get_extra_info("sockname")[1])
    udp_addr, tcp_addr = Addr(host, udp_port, "UDP"), Addr(host, 5062, "TCP")
    started = time.perf_counter()
    try:
        done = 0
        while done < messages:
            n = min(batch, messages - done)
            seed_n = seed * 10_000 + result.batches
            half = n // 2
            for _, _, data in campaign(seed_n, half, udp_addr):
                transport.sendto(data[:65_000], (host, port))
                result.sent["udp"] += 1
                await asyncio.sleep(pace_s)  # a UDP burst beyond the socket buffer is lost
            tcp_messages = [data for _, _, data in campaign(seed_n + 1, n - half, tcp_addr)]
            await _tcp_batch(host, port, tcp_messages, result, per_connection=25)
            done += n
            result.batches += 1
            await asyncio.sleep(0.2)  # answers and hang-ups settle
            for name, probe in (("udp", probe_udp), ("tcp", probe_tcp)):
                t0 = time.perf_counter()
                try:
                    status = await probe(host, port, 3.0)
                except (OSError, TimeoutError, Exception) as exc:
                    result.checks_failed.append(f"batch {result.batches}: OPTIONS/{name}: {exc!r}")
                    continue
                result.options_rtt_ms.append((time.perf_counter() - t0) * 1000)
                if status != 200:
                    result.checks_failed.append(f"batch {result.batches}: OPTIONS/{name} {status}")
            if real_call is not None:
                problem = await real_call()
                if problem:
                    result.checks_failed.append(f"batch {result.batches}: call: {problem}")
    finally:
        transport.close()
        result.seconds = time.perf_counter() - started
    return result
