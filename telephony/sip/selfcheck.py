"""SIP readiness proven, not assumed: the gateway sends itself OPTIONS over each transport.

A listener can be open and still deaf (a closed transport, a wedged core, a full
event loop). So every ``interval_s`` an OPTIONS goes out from a fresh socket to the
listening address, through the real socket, the real parser and the real core, and
must come back 200 within ``timeout_s``. ``/healthz`` reports the result per
transport; two failures in a row make SIP not ready (503), and the supervisor
restarts a gateway that stays so.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from dataclasses import dataclass

from telephony.aio import cancel_and_wait
from telephony.sip.endpoint import read_stream_message

log = logging.getLogger(__name__)

USER_AGENT = "Loket-selfcheck"


class ProbeFailed(Exception):
    pass


@dataclass
class ProbeState:
    ok: bool = False
    checked: int = 0
    failures_in_row: int = 0
    last_ok_at: float | None = None
    """Wall-clock time of the last 200."""
    rtt_ms: float | None = None
    error: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "failures_in_row": self.failures_in_row,
            "rtt_ms": self.rtt_ms,
            "last_ok_age_s": None
            if self.last_ok_at is None
            else round(time.time() - self.last_ok_at, 1),
            "error": self.error,
        }


def options_request(transport: str, host: str, port: int, local: tuple[str, int]) -> bytes:
    """An OPTIONS to ourselves with fresh branch, tag and Call-ID."""
    token = secrets.token_hex(8)
    proto = transport.upper()
    return (
        f"OPTIONS sip:selfcheck@{host}:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/{proto} {local[0]}:{local[1]};branch=z9hG4bK-self-{token};rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:selfcheck@{local[0]}>;tag={token}\r\n"
        f"To: <sip:selfcheck@{host}:{port}>\r\n"
        f"Call-ID: selfcheck-{token}\r\n"
        "CSeq: 1 OPTIONS\r\n"
        f"User-Agent: {USER_AGENT}\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def status_of(data: bytes) -> int:
    line = data.split(b"\r\n", 1)[0].split()
    if len(line) < 2 or line[0] != b"SIP/2.0" or not line[1].isdigit():
        raise ProbeFailed(f"not a SIP response: {data[:40]!r}")
    return int(line[1])


class _Answer(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.got: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        if not self.got.done():
            self.got.set_result(data)

    def error_received(self, exc: Exception) -> None:
        if not self.got.done():
            self.got.set_exception(ProbeFailed(f"udp: {exc}"))


async def probe_udp(host: str, port: int, timeout_s: float) -> int:
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(
        _Answer, local_addr=(host, 0), remote_addr=(host, port)
    )
    try:
        local = transport.get_extra_info("sockname")
        transport.sendto(options_request("udp", host, port, (local[0], local[1])))
        async with asyncio.timeout(timeout_s):
            return status_of(await proto.got)
    finally:
        transport.close()


async def probe_tcp(host: str, port: int, timeout_s: float) -> int:
    async with asyncio.timeout(timeout_s):
        reader, writer = await asyncio.open_connection(host, port)
        try:
            local = writer.get_extra_info("sockname")
            writer.write(options_request("tcp", host, port, (local[0], local[1])))
            await writer.drain()
            data = await read_stream_message(reader)
            if data is None:
                raise ProbeFailed("tcp: connection closed without an answer")
            return status_of(data)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


class SelfCheck:
    """Probes each transport every *interval_s*; :attr:`ready` is the verdict."""

    def __init__(
        self,
        host: str,
        port: int,
        transports: list[str],
        *,
        interval_s: float = 5.0,
        timeout_s: float = 2.0,
        failures_allowed: int = 1,
    ) -> None:
        # a wildcard listener answers on loopback too
        self.host = "127.0.0.1" if host in ("0.0.0.0", "") else host
        self.port = port
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.failures_allowed = failures_allowed
        self.states = {t: ProbeState() for t in transports}
        self._task: asyncio.Task[None] | None = None

    @property
    def ready(self) -> bool:
        """Every transport answered, and none has failed more than allowed since."""
        return all(
            s.last_ok_at is not None and s.failures_in_row <= self.failures_allowed
            for s in self.states.values()
        )

    def start(self, port: int) -> None:
        self.port = port
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    async def check_once(self) -> None:
        for transport, state in self.states.items():
            started = time.perf_counter()
            try:
                probe = probe_udp if transport == "udp" else probe_tcp
                status = await probe(self.host, self.port, self.timeout_s)
                if status != 200:
                    raise ProbeFailed(f"answered {status}")
            except (ProbeFailed, OSError, TimeoutError) as exc:
                state.ok = False
                state.failures_in_row += 1
                state.error = str(exc) or type(exc).__name__
                if state.failures_in_row in (1, self.failures_allowed + 1):
                    log.error(
                        "sip.selfcheck_failed",
                        extra={"transport": transport, "error": state.error},
                    )
            else:
                if state.failures_in_row:
                    log.warning("sip.selfcheck_recovered", extra={"transport": transport})
                state.ok = True
                state.failures_in_row = 0
                state.error = ""
                state.last_ok_at = time.time()
                state.rtt_ms = round((time.perf_counter() - started) * 1000, 1)
            state.checked += 1

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.check_once()
            except Exception:  # the checker itself must not die silently
                log.exception("sip.selfcheck_error")

    def as_dict(self) -> dict[str, object]:
        return {t: s.as_dict() for t, s in self.states.items()}
