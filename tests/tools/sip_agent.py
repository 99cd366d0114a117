"""The test caller's user agent: SIP transports, aiosipua's UAC, RTP ports and the ticker,
shared by every call it makes (one process, one loop, many calls).

Workarounds for aiosipua 0.7.1 live here and in ``sip_caller``; each is named in a comment
and has a test in ``tests/integration/test_sip_caller.py``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from aiosipua import SipRequest, SipResponse, SipUAC, TcpSipTransport, UdpSipTransport
from aiosipua.transport import _UdpProtocol

from .rtp_media import RtpPortPool, Ticker
from .sip_messages import ALLOW, Target, build_response

if TYPE_CHECKING:
    from .sip_caller import SipCaller

log = logging.getLogger(__name__)

USER_AGENT = "loket-test-caller/0.1 (aiosipua)"


class _QuietUdpProtocol(_UdpProtocol):
    # Workaround (aiosipua 0.7.1 transport.py:138): connection_made asserts the transport is
    # an asyncio.DatagramTransport, which Python 3.11's selector UDP transport is not, so
    # every start logs an AssertionError. Same behaviour, no assert.
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._owner._udp_transport = transport  # type: ignore[assignment]


class UdpTransport(UdpSipTransport):
    """aiosipua's UDP transport without the assertion noise, reporting its real port."""

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _QuietUdpProtocol(self), local_addr=self.local_addr
        )
        self._udp_transport = transport
        sock = transport.get_extra_info("sockname")
        self.local_addr = (str(sock[0]), int(sock[1]))


class TcpTransport(TcpSipTransport):
    """aiosipua's TCP transport, fixing what its UAC writes for UDP only.

    Workaround: SipUAC 0.7.1 hard-codes ``SIP/2.0/UDP`` in the Via of INVITE and ACK
    (uac.py ``_build_invite``, uac_responses.py ``_send_ack``) and Dialog.create_request's
    default transport is UDP; a server that routes responses by Via would answer over UDP.
    Requests leaving here get TCP in the top Via and ``;transport=tcp`` in the Contact.
    """

    def send(self, message: SipRequest | SipResponse, addr: tuple[str, int]) -> None:
        if isinstance(message, SipRequest):
            vias = message.headers.get("via")
            if vias and vias[0].upper().startswith("SIP/2.0/UDP"):
                rest = [v for v in vias[1:]]
                message.headers.remove("Via")
                message.headers.append("Via", "SIP/2.0/TCP" + vias[0][len("SIP/2.0/UDP") :])
                for v in rest:
                    message.headers.append("Via", v)
            contact = message.headers.get_first("contact")
            if contact and "transport=" not in contact.lower():
                message.headers.set_single("Contact", contact.replace(">", ";transport=tcp>", 1))
        super().send(message, addr)

    async def start(self) -> None:
        await super().start()
        assert self._server is not None
        sock = self._server.sockets[0].getsockname()
        self.local_addr = (str(sock[0]), int(sock[1]))

    def connected(self, addr: tuple[str, int]) -> bool:
        return addr in self._connections


class CallerAgent:
    """One SIP user agent (UDP socket, TCP on demand) making any number of calls.

    ``shared_ticker=False`` gives every call its own 20 ms timer instead of one for all
    (kept to measure the difference).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        *,
        sip_port: int = 0,
        rtp_ports: tuple[int, int] = (40000, 40999),
        shared_ticker: bool = True,
        user_agent: str = USER_AGENT,
    ) -> None:
        self.host = host
        self.user_agent = user_agent
        self.shared_ticker = shared_ticker
        self.ticker = Ticker()
        self.ports = RtpPortPool(host, rtp_ports[0], rtp_ports[1])
        self.udp = UdpTransport(local_addr=(host, sip_port), on_message=self._on_message)
        self.udp_uac = SipUAC(self.udp)
        self.tcp: TcpTransport | None = None
        self.tcp_uac: SipUAC | None = None
        self.calls: dict[str, SipCaller] = {}
        self._started = False
        self._tcp_lock = asyncio.Lock()

    async def start(self) -> CallerAgent:
        if not self._started:
            await self.udp.start()
            self._started = True
        return self

    async def close(self) -> None:
        """Hang up (or cancel) every call still up, then close the sockets."""
        await asyncio.gather(
            *(c.close() for c in list(self.calls.values())), return_exceptions=True
        )
        self.udp_uac.close()
        await self.udp.stop()
        if self.tcp is not None:
            assert self.tcp_uac is not None
            self.tcp_uac.close()
            await self.tcp.stop()
        self._started = False

    async def __aenter__(self) -> CallerAgent:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def call(
        self,
        uri: str,
        *,
        codecs: Sequence[str] = ("PCMU",),
        transport: str | None = None,
        dtmf_pt: int | None = 101,
        from_user: str = "caller",
        keep_audio: bool = True,
    ) -> SipCaller:
        """Send an INVITE to ``uri`` and return the call at once (not yet answered).

        ``codecs``: preference order (PCMU, PCMA, G722); ``transport``: udp/tcp (default
        from the URI, else udp); ``dtmf_pt``: telephone-event payload type offered (None:
        none); ``keep_audio=False`` keeps only levels of what is received (long load runs).
        """
        from .sip_caller import SipCaller

        await self.start()
        caller = SipCaller(
            self,
            uri,
            codecs=codecs,
            transport=transport,
            dtmf_pt=dtmf_pt,
            from_user=from_user,
            keep_audio=keep_audio,
        )
        await caller.invite()
        return caller

    async def sip_for(self, target: Target) -> tuple[UdpSipTransport | TcpTransport, SipUAC]:
        """Transport and UAC for a target; TCP listens and connects on first use."""
        if target.transport == "udp":
            return self.udp, self.udp_uac
        async with self._tcp_lock:
            if self.tcp is None:
                self.tcp = TcpTransport(local_addr=(self.host, 0), on_message=self._on_message)
                await self.tcp.start()
                self.tcp_uac = SipUAC(self.tcp)
            addr = (target.host, target.port)
            if not self.tcp.connected(addr):
                await self.tcp.connect(addr)
        assert self.tcp_uac is not None
        return self.tcp, self.tcp_uac

    def register(self, caller: SipCaller) -> None:
        self.calls[caller.call_id] = caller

    def forget(self, caller: SipCaller) -> None:
        self.calls.pop(caller.call_id, None)

    def _on_message(self, msg: SipRequest | SipResponse, addr: tuple[str, int]) -> None:
        caller = self.calls.get(msg.call_id or "")
        if caller is not None:
            if isinstance(msg, SipResponse):
                caller.on_response(msg, addr)
            else:
                caller.on_request(msg, addr)
            return
        if isinstance(msg, SipResponse):
            log.debug("response for unknown call %s dropped", msg.call_id)
            return
        if msg.method == "ACK":
            return
        # Out-of-dialog request (e.g. an OPTIONS keep-alive) or one for a call we forgot.
        transport = self.tcp if self.tcp is not None and self.tcp.connected(addr) else self.udp
        if msg.method == "OPTIONS":
            resp = build_response(
                msg, 200, "OK", headers={"Allow": ALLOW, "Accept": "application/sdp"}
            )
        else:
            resp = build_response(msg, 481, "Call/Transaction Does Not Exist")
        transport.send(resp, addr)
