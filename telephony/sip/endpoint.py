"""asyncio adapter around :class:`SipCore`: UDP and TCP sockets and one timer."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import itertools
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass

from telephony.aio import TimerSlot, cancel_and_wait
from telephony.sip import events as ev
from telephony.sip.core import SipCore
from telephony.sip.transaction import Peer

log = logging.getLogger(__name__)

MAX_HEADER_BYTES = 16 * 1024
MAX_BODY_BYTES = 64 * 1024
KEEPALIVE_PING = b"\r\n\r\n"
UDP_RECEIVE_BUFFER = 4 * 1024 * 1024
"""Bytes asked for the SIP socket (the kernel doubles it, capped by net.core.rmem_max)."""
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
        try:
            peer = Peer("udp", str(addr[0]), int(str(addr[1])))
        except (IndexError, ValueError):
            return
        self.endpoint.receive(data, peer)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable from a caller that went away: nothing to do
        log.debug("sip.udp_error", extra={"error": str(exc)})

    def connection_lost(self, exc: Exception | None) -> None:
        self.endpoint.udp_lost(self, exc)


class _Drops:
    """Counts dropped messages by reason; logs each reason at most once a minute.

    A flood of bad packets must not become a flood of log lines (nor of personal
    data: only the reason and the count are logged)."""

    EVERY_S = 60.0

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self._logged: dict[str, float] = {}

    def drop(self, reason: str, now: float, *, exc: BaseException | None = None) -> None:
        self.counts[reason] = self.counts.get(reason, 0) + 1
        last = self._logged.get(reason)
        if last is not None and now - last < self.EVERY_S:
            return
        self._logged[reason] = now
        extra = {"reason": reason, "count": self.counts[reason]}
        if exc is not None:
            log.warning("sip.dropped", extra={**extra, "error": type(exc).__name__}, exc_info=exc)
        else:
            log.warning("sip.dropped", extra=extra)


def udp_destination(peer: Peer) -> tuple[str, int] | None:
    """*peer*'s address if a datagram can be sent there without a DNS look-up, else None.

    Responses go where the Via says (§18.2.2): a port out of range made asyncio close
    the whole UDP transport (an OverflowError in ``sendto`` is "fatal"), and a host name
    would be resolved by a blocking ``getaddrinfo`` on the event loop.
    """
    if not 0 < peer.port < 65536:
        return None
    try:
        ip = ipaddress.ip_address(peer.host)
    except ValueError:
        return None
    if ip.version != 4 or ip.is_multicast or ip.is_unspecified:
        return None  # the UDP socket is IPv4; never answer to a broadcast or 0.0.0.0
    return str(ip), peer.port


@dataclass
class TransportState:
    """What /healthz says of one listener."""

    open: bool = False
    reopened: int = 0
    last_error: str = ""


class SipEndpoint:
    """Owns the sockets; hands what arrives to the core and sends what it says.

    Nothing a peer sends may end a listener: every callback from asyncio and every
    timer is guarded, an address that cannot be sent to drops that one message, and
    a UDP transport that closes anyway is reopened on the same port.
    """

    REOPEN_DELAYS_S = (0.05, 0.2, 1.0, 2.0, 5.0)

    def __init__(
        self,
        core: SipCore,
        on_event: EventHandler,
        *,
        host: str,
        port: int,
        transports: list[str],
        public_host: str | None = None,
        tcp_idle_s: float = 300.0,
        tcp_message_s: float = 10.0,
        tcp_max_connections: int = 1000,
        tcp_max_per_source: int = 100,
    ) -> None:
        self.core = core
        self.on_event = on_event
        self.host = host
        self.port = port
        self.transports = transports
        self.public_host = public_host
        self.tcp_idle_s = tcp_idle_s
        """A connection that sends nothing (not even a keep-alive) this long is closed."""
        self.tcp_message_s = tcp_message_s
        """A message that has begun must be complete within this (slow senders)."""
        self.tcp_max_connections = tcp_max_connections
        self.tcp_max_per_source = tcp_max_per_source
        """One scanner's idle connections must not use up the room of every trunk."""
        self._tcp_per_source: dict[str, int] = {}
        self._udp: asyncio.DatagramTransport | None = None
        self._udp_protocol: _Udp | None = None
        self._tcp_server: asyncio.Server | None = None
        self._tcp_writers: dict[int, asyncio.StreamWriter] = {}
        self._conn_ids = itertools.count(1)
        self._timer = TimerSlot(self._on_timer)
        self._local_ips: dict[str, str] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._reopen_task: asyncio.Task[None] | None = None
        self.drops = _Drops()
        self.state: dict[str, TransportState] = {t: TransportState() for t in transports}

    @property
    def now(self) -> float:
        assert self._loop is not None
        return self._loop.time()

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = False
        if "udp" in self.transports:
            await self._open_udp()
            if self.port == 0:  # tests: learn the port the kernel chose
                assert self._udp is not None
                self.port = int(self._udp.get_extra_info("sockname")[1])
        if "tcp" in self.transports:
            self._tcp_server = await asyncio.start_server(
                self._serve_tcp, host=self.host, port=self.port, reuse_address=True
            )
            self.state["tcp"].open = True

    async def _open_udp(self) -> None:
        assert self._loop is not None
        transport, protocol = await self._loop.create_datagram_endpoint(
            lambda: _Udp(self), local_addr=(self.host, self.port)
        )
        assert isinstance(transport, asyncio.BaseTransport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # The default buffer holds ~90 datagrams: while the loop lags a few hundred ms
            # under load, ACKs and BYEs were dropped, dialogs waited for their ACK, and new
            # callers got 503 below max_calls (measured with SIPp at 200 set-ups/s).
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_RECEIVE_BUFFER)
        self._udp = transport
        self._udp_protocol = protocol
        self.state["udp"].open = True

    def udp_lost(self, protocol: _Udp, exc: Exception | None) -> None:
        """asyncio closed a UDP transport: reopen it unless we are stopping."""
        if protocol is not self._udp_protocol:
            return  # an old transport's late notice
        self._udp = None
        self._udp_protocol = None
        state = self.state["udp"]
        state.open = False
        if self._stopping or self._loop is None:
            return
        state.last_error = type(exc).__name__ if exc else "closed"
        log.error("sip.udp_lost", extra={"error": state.last_error})
        if self._reopen_task is None or self._reopen_task.done():
            self._reopen_task = self._loop.create_task(self._reopen_udp())

    async def _reopen_udp(self) -> None:
        for delay in itertools.chain(self.REOPEN_DELAYS_S, itertools.repeat(5.0)):
            await asyncio.sleep(delay)
            if self._stopping:
                return
            try:
                await self._open_udp()
            except OSError as exc:
                self.state["udp"].last_error = f"reopen: {exc.strerror or exc}"
                log.error("sip.udp_reopen_failed", extra={"error": str(exc)})
                continue
            self.state["udp"].reopened += 1
            log.warning("sip.udp_reopened", extra={"port": self.port})
            return

    def break_udp_for_test(self) -> None:
        """Close the UDP transport as a fatal error would (tests of the reopen path)."""
        if self._udp is not None:
            self._udp.abort()

    async def stop(self) -> None:
        self._stopping = True
        self._timer.cancel()
        await cancel_and_wait(self._reopen_task)
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        for state in self.state.values():
            state.open = False
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
            if len(self._local_ips) > 4096:  # many sources (a scan): bounded memory
                self._local_ips.clear()
            ip = self._local_ips[peer_host] = route_source_ip(peer_host)
        return ip, self.port

    def receive(self, data: bytes, peer: Peer) -> None:
        try:
            self.core.receive(data, peer, self.now, self.local_address(peer.host))
        except Exception as exc:  # a bug must not take the listener down for every caller
            self.drops.drop("core_error", self.now, exc=exc)
        self.flush()

    def flush(self) -> None:
        """Send what the core produced, dispatch its events, re-arm the timer."""
        try:
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
        finally:
            self._arm_timer()

    def _arm_timer(self) -> None:
        if self._loop is None or self._stopping:
            return
        try:
            when = self.core.next_timer()
        except Exception as exc:
            self.drops.drop("timer_error", self.now, exc=exc)
            when = self.now + 1.0  # try again soon rather than never
        self._timer.arm(when, self.now)

    def _on_timer(self) -> None:
        try:
            self.core.handle_timers(self.now)
        except Exception as exc:  # never lose the timer: retransmissions depend on it
            self.drops.drop("timer_error", self.now, exc=exc)
        self.flush()

    def _send(self, data: bytes, peer: Peer) -> None:
        if self._stopping and self._udp is None and not self._tcp_writers:
            return
        try:
            if peer.transport == "udp":
                self._send_udp(data, peer)
                return
            writer = self._tcp_writers.get(peer.conn)
            if writer is None or writer.is_closing():
                log.info("sip.tcp_gone")
                return
            writer.write(data)
        except Exception as exc:
            self.drops.drop("send_error", self.now, exc=exc)

    def _send_udp(self, data: bytes, peer: Peer) -> None:
        addr = udp_destination(peer)
        if addr is None:
            self.drops.drop("bad_destination", self.now)
            return
        udp = self._udp
        if udp is None or udp.is_closing():
            self.drops.drop("udp_closed", self.now)
            return
        udp.sendto(data, addr)

    # ------------------------------------------------------------------ TCP

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        name = writer.get_extra_info("peername")
        try:
            host, port = str(name[0]), int(name[1])
        except (TypeError, IndexError, ValueError):
            writer.close()
            return
        from_source = self._tcp_per_source.get(host, 0)
        if (
            len(self._tcp_writers) >= self.tcp_max_connections
            or from_source >= self.tcp_max_per_source
        ):
            self.drops.drop("tcp_too_many_connections", self.now)
            writer.close()
            return
        conn = next(self._conn_ids)
        peer = Peer("tcp", host, port, conn)
        self._tcp_writers[conn] = writer
        self._tcp_per_source[host] = from_source + 1
        try:
            while not self._stopping:
                data = await read_stream_message(
                    reader, idle_s=self.tcp_idle_s, message_s=self.tcp_message_s
                )
                if data is None:
                    break
                if data == KEEPALIVE_PING:  # RFC 5626 keep-alive ping: pong
                    writer.write(b"\r\n")
                    continue
                self.receive(data, peer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except TimeoutError:
            self.drops.drop("tcp_timeout", self.now)
        except ValueError:  # StreamReader.readline: a line over its limit
            self.drops.drop("tcp_line_too_long", self.now)
        except Exception as exc:
            self.drops.drop("tcp_error", self.now, exc=exc)
        finally:
            self._tcp_writers.pop(conn, None)
            left = self._tcp_per_source.get(host, 1) - 1
            if left > 0:
                self._tcp_per_source[host] = left
            else:
                self._tcp_per_source.pop(host, None)
            writer.close()


async def read_stream_message(
    reader: asyncio.StreamReader, *, idle_s: float | None = None, message_s: float | None = None
) -> bytes | None:
    """One message framed by Content-Length (RFC 3261 §18.3); None at EOF or abuse.

    Waits at most *idle_s* for a message to begin and *message_s* for the rest of it
    (TimeoutError): a slow or silent sender cannot hold a connection for ever.
    """
    while True:
        async with asyncio.timeout(idle_s):
            line = await reader.readline()
        if not line:
            return None
        if line == b"\n":
            continue
        if line == b"\r\n":
            # CRLF keep-alive: a double CRLF is a ping, a single one a pong
            async with asyncio.timeout(idle_s):
                nxt = await reader.readline()
            if nxt == b"\r\n":
                return KEEPALIVE_PING
            if not nxt:
                return None
            if nxt == b"\n":
                continue
            line = nxt
        break
    async with asyncio.timeout(message_s):
        return await _read_rest(reader, line)


async def _read_rest(reader: asyncio.StreamReader, first: bytes) -> bytes | None:
    head = bytearray()
    line = first
    while True:
        head += line
        if len(head) > MAX_HEADER_BYTES:
            log.warning("sip.tcp_header_too_large")
            return None
        if head.endswith(b"\r\n\r\n") or head.endswith(b"\n\n"):
            break
        line = await reader.readline()
        if not line:
            return None
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
