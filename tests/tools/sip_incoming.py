"""Requests the far end sends inside the test caller's call: BYE, re-INVITE, OPTIONS, INFO,
UPDATE, NOTIFY, ACK — answered like a sensible phone.

aiosipua's UAS would build a fresh dialog for these (and a BYE closes a copy of it, see the
notes on ``uas_requests.py``), so the caller answers them itself from its own dialog.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiosipua import SipRequest, SipResponse, parse_sdp, serialize_sdp

from .sip_messages import (
    ALLOW,
    ANSWER_DIRECTION,
    T1,
    T2,
    TIMEOUT,
    SdpError,
    build_offer,
    build_response,
    parse_dtmf_info,
    read_remote_sdp,
)

if TYPE_CHECKING:
    from .sip_caller import SipCaller


def answer_request(caller: SipCaller, req: SipRequest, addr: tuple[str, int]) -> None:
    """Answer one request for this call; a retransmission gets the same response again."""
    method = req.method.upper()
    if method == "ACK":
        _on_ack(caller, req)
        return
    key = (branch_of(req), method)
    cached = caller.server_responses.get(key)
    if cached is not None:
        caller.send(cached, addr)
        return
    resp = _respond(caller, req, method, addr)
    caller.server_responses[key] = resp
    caller.send(resp, addr)


def _respond(caller: SipCaller, req: SipRequest, method: str, addr: tuple[str, int]) -> SipResponse:
    assert caller.call is not None
    dialog = caller.call.dialog
    to = req.to_addr
    in_dialog = to is not None and to.tag == dialog.local_tag and bool(dialog.remote_tag)
    tag = dialog.local_tag
    if method == "OPTIONS":
        caller.record("options_received")
        return build_response(req, 200, "OK", to_tag=tag, headers=_capabilities(caller))
    if method == "CANCEL" or not in_dialog or caller.ended:
        return build_response(req, 481, "Call/Transaction Does Not Exist", to_tag=tag)
    if method == "BYE":
        caller.record("bye_received")
        caller.finish("remote")
        return build_response(req, 200, "OK", to_tag=tag)
    if method in ("INVITE", "UPDATE"):
        return _session_update(caller, req, method, addr)
    if method == "INFO":
        ctype = (req.content_type or "").lower()
        if "dtmf-relay" in ctype:
            digit = parse_dtmf_info(req.text)
            if digit:
                caller.record("dtmf_received", f"{digit} INFO")
        return build_response(req, 200, "OK", to_tag=tag)
    if method == "NOTIFY":
        return build_response(req, 200, "OK", to_tag=tag)
    return build_response(req, 405, "Method Not Allowed", to_tag=tag, headers={"Allow": ALLOW})


def _capabilities(caller: SipCaller) -> dict[str, str]:
    return {
        "Allow": ALLOW,
        "Accept": "application/sdp, application/dtmf-relay",
        "Contact": caller.contact(),
    }


def _session_update(
    caller: SipCaller, req: SipRequest, method: str, addr: tuple[str, int]
) -> SipResponse:
    """re-INVITE / UPDATE: hold, resume, codec or address change, session refresh."""
    assert caller.call is not None
    tag = caller.call.dialog.local_tag
    if not caller.answered:
        return build_response(req, 491, "Request Pending", to_tag=tag)
    contact = req.contact
    if contact and method == "INVITE":  # target refresh (RFC 3261 §12.2.2)
        from aiosipua import stringify_uri

        caller.call.dialog.remote_target = stringify_uri(contact[0].uri)
    host, port = caller.agent.host, caller.media.local_port
    caller.sdp_version += 1
    body = req.text if req.body else ""
    if body:
        try:
            params = read_remote_sdp(parse_sdp(body), caller.codecs)
        except SdpError as exc:
            caller.record("reinvite_rejected", str(exc))
            return build_response(req, 488, "Not Acceptable Here", to_tag=tag)
        caller.media.remote = params.remote
        caller.media.set_codec(params.codec, params.dtmf_pt)
        caller.media.sending = params.direction in ("sendrecv", "recvonly")
        direction = ANSWER_DIRECTION.get(params.direction, "sendrecv")
        sdp = build_offer(
            host,
            port,
            [params.codec],
            dtmf_pt=params.dtmf_pt,
            session_id=caller.session_id,
            version=caller.sdp_version,
            direction=direction,
        )
        caller.record(
            "reinvite_received" if method == "INVITE" else "update_received", params.direction
        )
    elif method == "INVITE":
        # Offer-less re-INVITE: we offer in the 200, the answer comes in the ACK.
        sdp = build_offer(
            host,
            port,
            caller.codecs,
            dtmf_pt=caller.offer_dtmf_pt,
            session_id=caller.session_id,
            version=caller.sdp_version,
        )
        caller.awaiting_ack_sdp = True
        caller.record("reinvite_received", "no offer")
    else:  # UPDATE without SDP: a session refresh
        caller.record("update_received", "refresh")
        return build_response(req, 200, "OK", to_tag=tag, headers={"Contact": caller.contact()})
    resp = build_response(
        req,
        200,
        "OK",
        to_tag=tag,
        headers={"Contact": caller.contact()},
        body=serialize_sdp(sdp),
        content_type="application/sdp",
    )
    if method == "INVITE" and not caller.transport.reliable:
        cseq = req.cseq
        seq = cseq.seq if cseq else 0
        caller.reinvite_pending[seq] = asyncio.create_task(_retransmit_2xx(caller, resp, addr))
    return resp


async def _retransmit_2xx(caller: SipCaller, resp: SipResponse, addr: tuple[str, int]) -> None:
    """The UAS core resends its 2xx until the ACK (RFC 3261 §13.3.1.4): T1 doubling to T2."""
    gap, elapsed = T1, 0.0
    while elapsed + gap < TIMEOUT:
        await asyncio.sleep(gap)
        elapsed += gap
        caller.send(resp, addr)
        gap = min(gap * 2, T2)
    caller.record("ack_timeout")


def _on_ack(caller: SipCaller, req: SipRequest) -> None:
    cseq = req.cseq
    task = caller.reinvite_pending.pop(cseq.seq if cseq else -1, None)
    if task is not None:
        task.cancel()
    if caller.awaiting_ack_sdp and req.body:
        caller.awaiting_ack_sdp = False
        try:
            params = read_remote_sdp(parse_sdp(req.text), caller.codecs)
        except SdpError as exc:
            caller.record("media_error", str(exc))
            return
        caller.media.remote = params.remote
        caller.media.set_codec(params.codec, params.dtmf_pt)
        caller.media.sending = params.direction in ("sendrecv", "recvonly")


def branch_of(msg: SipRequest | SipResponse) -> str:
    top = msg.headers.get_first("via") or ""
    for part in top.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "branch":
            return value
    return ""
