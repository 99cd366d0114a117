"""asyncio adapter around :class:`SipCore`: UDP and TCP sockets and one timer."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import socket
from collections.abc import Callable

from telephony.aio import TimerSlot
from telephony.sip import events as ev
from telephony.sip.core import SipCore
from telephony.sip.transaction import Peer

log = logging.getLogger(__name__)

MAX_HEADER_BYTES = 16 * 1024
MAX_BODY_BYTES = 64 * 1024
EventHandler = Callable[[ev.Event], None]


def route_source_ip(peer_ip: str) -> str:
    """The local address the kernel would use to reach *peer_ip*."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((peer_ip, 9))
            return str(probe.getsockname()[0])
        except OSError:
            return "127.0.0.1"


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, endpoint: SipEndpoint) -> None:
        self.endpoint = endpoint

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        peer = Peer("udp", str(addr[0]), int(str(addr[1])))
        self.endpoint.receive(data, peer)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable from a caller that went away: nothing to do
        log.debug("sip.udp_error", extra={"error": str(exc)})


class SipEndpoint:
    """Owns the sockets; hands what arrives to the core and sends what it says."""

    def __init__(
        self,
        core: SipCore,
        on_event: EventHandler,
        *,
        host: str,
        port: int,
        transports: list[str],
        public_host: str | None = None,
    ) -> None:
        self.core = core
        self.on_event = on_event
        self.host = host
        self.port = port
        self.transports = transports
        self.public_host = public_host
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp_server: asyncio.Server | None = None
        self._tcp_writers: dict[int, asyncio.StreamWriter] = {}
        self._conn_ids = itertools.count(1)
        self._timer = TimerSlot(self._on_timer)
        self._local_ips: dict[str, str] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def now(self) -> float:
        assert self._loop is not None
        return self._loop.time()

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if "udp" in self.transports:
            transport, _ = await self._loop.create_datagram_endpoint(
                lambda: _Udp(self), local_addr=(self.host, self.port)
            )
            assert isinstance(transport, asyncio.BaseTransport)
            self._udp = transport
            if self.port == 0:  # tests: learn the port the kernel chose
                self.port = int(transport.get_extra_info("sockname")[1])
        if "tcp" in self.transports:
            self._tcp_server = await asyncio.start_server(
                self._serve_tcp, host=self.host, port=self.port, reuse_address=True
            )

    async def stop(self) -> None:
        self._timer.cancel()
        if self._udp is not None:
            self._udp.close()
        if self._tcp_server is not None:
            self._tcp_server.close()
            for writer in list(self._tcp_writers.values()):
                writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._tcp_server.wait_closed(), 2)

    # ------------------------------------------------------------------ core glue

    def local_address(self, peer_host: str) -> tuple[str, int]:
        if self.public_host:
            return self.public_host, self.port
        if self.host not in ("0.0.0.0", ""):
            return self.host, self.port
        ip = self._local_ips.get(peer_host)
        if ip is None:
            ip = self._local_ips[peer_host] = route_source_ip(peer_host)
        return ip, self.port

    def receive(self, data: bytes, peer: Peer) -> None:
        try:
            self.core.receive(data, peer, self.now, self.local_address(peer.host))
        except Exception:  # a bug must not take the listener down for every caller
            log.exception("sip.core_error", extra={"peer": peer.host})
        self.flush()

    def flush(self) -> None:
        """Send what the core produced, dispatch its events, re-arm the timer."""
        for data, peer in self.core.datagrams():
            self._send(data, peer)
        for event in self.core.events():
            try:
                self.on_event(event)
            except Exception:
                log.exception("sip.event_handler_error", extra={"event": type(event).__name__})
        # handlers may have issued commands
        for data, peer in self.core.datagrams():
            self._send(data, peer)
        self._arm_timer()

    def _arm_timer(self) -> None:
        if self._loop is not None:
            self._timer.arm(self.core.next_timer(), self.now)

    def _on_timer(self) -> None:
        self.core.handle_timers(self.now)
        self.flush()

    def _send(self, data: bytes, peer: Peer) -> None:
        if peer.transport == "udp":
            if self._udp is not None:
                self._udp.sendto(data, peer.addr)
            return
        writer = self._tcp_writers.get(peer.conn)
        if writer is None or writer.is_closing():
            log.info("sip.tcp_gone", extra={"peer": peer.host})
            return
        writer.write(data)

    # ------------------------------------------------------------------ TCP

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = next(self._conn_ids)
        name = writer.get_extra_info("peername")
        peer = Peer("tcp", str(name[0]), int(name[1]), conn)
        self._tcp_writers[conn] = writer
        try:
            while True:
                data = await read_stream_message(reader)
                if data is None:
                    break
                if data == b"\r\n\r\n":  # RFC 5626 keep-alive ping: pong
                    writer.write(b"\r\n")
                    continue
                self.receive(data, peer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self._tcp_writers.pop(conn, None)
            writer.close()


async def read_stream_message(reader: asyncio.StreamReader) -> bytes | None:
    """One message framed by Content-Length (RFC 3261 §18.3); None at EOF or abuse."""
    head = bytearray()
    while True:
        line = await reader.readline()
        if not line:
            return None
        if not head and line in (b"\r\n", b"\n"):
            # CRLF keep-alive: a double CRLF is a ping, a single one a pong
            nxt = await reader.readline() if line == b"\r\n" else b""
            if nxt == b"\r\n":
                return b"\r\n\r\n"
            if not nxt:
                continue
            line = nxt
        head += line
        if len(head) > MAX_HEADER_BYTES:
            log.warning("sip.tcp_header_too_large")
            return None
        if head.endswith(b"\r\n\r\n") or head.endswith(b"\n\n"):
            break
    length = 0
    for raw in bytes(head).split(b"\n"):
        name, _, value = raw.partition(b":")
        if name.strip().lower() in (b"content-length", b"l"):
            try:
                length = int(value.strip())
            except ValueError:
                length = 0
            break
    if length < 0 or length > MAX_BODY_BYTES:
        log.warning("sip.tcp_body_too_large", extra={"length": length})
        return None
    body = await reader.readexactly(length) if length else b""
    return bytes(head) + body
