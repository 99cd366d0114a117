"""Onward transfer of a call: REFER where the caller's side accepts it, else a call we place.

Both wait on the call's SIP events through :meth:`CallManager.watch`. The audio of a
placed call is bridged by whoever asked for it (see ``voice.bridge``); this module
only signals and opens the RTP stream.
"""

from __future__ import annotations

import asyncio
import logging
import socket

from aiosipua.headers import parse_uri

from telephony.call import Call
from telephony.calls import CallManager
from telephony.rtp import PortsExhausted, RtpStream
from telephony.sip import events as ev
from telephony.sip.sdp import SdpError, make_offer, plan_from_answer
from telephony.sip.transaction import Peer

log = logging.getLogger(__name__)

MAX_HEADER_CHARS = 512


class DialFailed(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason


def summary_header(text: str) -> str:
    """``X-Loket-Summary``: one line, printable, size-limited (no raw personal data is
    the caller's job: pass the summary meant for agents, never a number or a name)."""
    flat = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return flat[:MAX_HEADER_CHARS]


async def refer(manager: CallManager, call: Call, target: str, *, within_s: float = 30.0) -> bool:
    """Ask the caller's side to call *target* itself. True when it reports success."""
    events: asyncio.Queue[ev.Event] = asyncio.Queue()
    unwatch = manager.watch(call.sip_call_id, events.put_nowait)
    try:
        if not manager.core.refer(call.sip_call_id, target, manager.endpoint.now):
            return False
        manager.endpoint.flush()
        accepted = False
        async with asyncio.timeout(within_s):
            while True:
                event = await events.get()
                if isinstance(event, ev.RequestDone) and event.method == "REFER":
                    if event.status >= 300:
                        return False  # 405/501/603: the phone does not do transfers
                    accepted = True
                elif isinstance(event, ev.ReferNotify) and event.final:
                    return 200 <= event.status < 300
                elif isinstance(event, ev.CallEnded):
                    return accepted  # it left after accepting: transferred
    except TimeoutError:
        return False
    finally:
        unwatch()


async def _resolve(host: str, port: int) -> str:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, family=socket.AF_INET, type=socket.SOCK_DGRAM)
    return str(infos[0][4][0])


async def dial(
    manager: CallManager,
    target: str,
    *,
    headers: dict[str, str] | None = None,
    ring_s: float = 45.0,
) -> Call:
    """Place a call to *target* (sip:user@host[:port], UDP); the answered call, or DialFailed."""
    uri = parse_uri(target)
    if uri.scheme not in ("sip", "sips") or not uri.host:
        raise DialFailed(400, f"not a SIP URI: {target!r}")
    port = uri.port or 5060
    try:
        host = await _resolve(uri.host, port)
    except OSError as exc:
        raise DialFailed(404, f"cannot resolve {uri.host}: {exc}") from None
    try:
        rtp_sock, rtcp_sock, rtp_port = manager.ports.bind_pair()
    except PortsExhausted as exc:
        raise DialFailed(503, str(exc)) from None
    local = manager.endpoint.local_address(host)
    offer = make_offer(manager.config.codecs, local[0], rtp_port)
    call_id = manager.core.uac.invite(
        target, Peer("udp", host, port), local, offer, manager.endpoint.now, headers=headers
    )
    events: asyncio.Queue[ev.Event] = asyncio.Queue()
    unwatch = manager.watch(call_id, events.put_nowait)
    manager.endpoint.flush()
    answered: ev.OutgoingAnswered | None = None
    try:
        async with asyncio.timeout(ring_s):
            while answered is None:
                event = await events.get()
                if isinstance(event, ev.OutgoingAnswered):
                    answered = event
                elif isinstance(event, ev.OutgoingFailed):
                    raise DialFailed(event.status, event.reason)
                elif isinstance(event, ev.CallEnded):
                    raise DialFailed(487, event.reason)
        plan = plan_from_answer(answered.answer or b"", manager.config.codecs)
    except (TimeoutError, SdpError, DialFailed, asyncio.CancelledError) as exc:
        rtp_sock.close()
        rtcp_sock.close()
        manager.ports.release(rtp_port)
        manager.core.hangup(call_id, manager.endpoint.now, "transfer failed")
        manager.endpoint.flush()
        if isinstance(exc, DialFailed):
            raise
        if isinstance(exc, asyncio.CancelledError):
            raise
        if isinstance(exc, SdpError):
            raise DialFailed(488, exc.detail) from None
        raise DialFailed(408, "no answer") from None
    finally:
        unwatch()
    stream = RtpStream(plan, rtp_port)
    await stream.open(rtp_sock, rtcp_sock)
    return manager.adopt_outgoing(call_id, target, stream)
