"""The UAS side of a SIP dialog (RFC 3261 §12) and in-dialog requests we send."""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass, field

from aiosipua import SipRequest

from telephony.sip.message import MAGIC_COOKIE, ParsedRequest
from telephony.sip.transaction import Peer


class DialogState(enum.Enum):
    EARLY = "early"  # INVITE received, no final response yet
    ACCEPTED = "accepted"  # 2xx sent, waiting for the ACK
    CONFIRMED = "confirmed"
    TERMINATED = "terminated"


def new_tag() -> str:
    return secrets.token_hex(6)


def new_branch() -> str:
    return MAGIC_COOKIE + secrets.token_hex(8)


@dataclass(slots=True)
class Dialog:
    """One call's signalling state, created by an initial INVITE."""

    call_id: str
    local_tag: str
    remote_tag: str
    local_header: str
    """The INVITE's To header (without our tag): our From in requests we send."""
    remote_header: str
    """The INVITE's From header (with the caller's tag): our To in requests we send."""
    remote_target: str
    """The caller's Contact URI: Request-URI of requests we send."""
    route_set: list[str]
    peer: Peer
    local_host: str
    local_port: int
    invite: ParsedRequest | None
    """The caller's INVITE (we answer it); None for a call we placed."""
    invite_key: tuple[str, ...]
    state: DialogState = DialogState.EARLY
    remote_cseq: int = 0
    local_cseq: int = field(default_factory=lambda: secrets.randbelow(10_000) + 1)
    bye_pending: bool = False
    """Hang-up asked before the ACK arrived: the BYE waits for it (§15)."""
    offer_pending: bool = False
    """A re-INVITE/UPDATE offer the application has not answered yet."""
    reinvite_key: tuple[str, ...] | None = None
    offer_in_ack: bool = False
    """Late offer: our 200 carried the offer, the ACK carries the answer."""
    outgoing: bool = False
    """We placed this call (UAC): its INVITE branch is ``invite_key[0]``."""
    ack: bytes | None = None
    """Our ACK for the 2xx of a call we placed, resent if the 2xx is retransmitted."""

    def matches(self, request: ParsedRequest) -> bool:
        return request.to_tag == self.local_tag and request.from_tag == self.remote_tag

    def contact(self, transport: str) -> str:
        suffix = ";transport=tcp" if transport == "tcp" else ""
        return f"<sip:{self.local_host}:{self.local_port}{suffix}>"

    def build_request(
        self,
        method: str,
        *,
        user_agent: str,
        body: bytes = b"",
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
        cseq: int | None = None,
    ) -> tuple[SipRequest, str]:
        """A new in-dialog request (§12.2.1.1) and its branch.

        *cseq*: reuse a number (the ACK of an INVITE) instead of taking the next one."""
        if cseq is None:
            self.local_cseq += 1
            cseq = self.local_cseq
        branch = new_branch()
        transport = "TCP" if self.peer.transport == "tcp" else "UDP"
        req = SipRequest(method=method, uri=self.remote_target)
        req.headers.append(
            "Via", f"SIP/2.0/{transport} {self.local_host}:{self.local_port};branch={branch};rport"
        )
        for route in self.route_set:
            req.headers.append("Route", route)
        req.headers.set_single("Max-Forwards", "70")
        req.headers.set_single("From", f"{self.local_header};tag={self.local_tag}")
        req.headers.set_single("To", self.remote_header)
        req.headers.set_single("Call-ID", self.call_id)
        req.headers.set_single("CSeq", f"{cseq} {method}")
        req.headers.set_single("Contact", self.contact(self.peer.transport))
        req.headers.set_single("User-Agent", user_agent)
        for name, value in (headers or {}).items():
            req.headers.set_single(name, value)
        if body:
            req.headers.set_single("Content-Type", content_type or "application/sdp")
            req.body = body
        return req, branch


def dialog_from_invite(
    request: ParsedRequest, peer: Peer, key: tuple[str, ...], local_host: str, local_port: int
) -> Dialog:
    contacts = request.msg.contact
    target = ""
    if contacts:
        uri = contacts[0].uri
        target = f"{uri.scheme}:{uri.user + '@' if uri.user else ''}{uri.host}"
        if uri.port:
            target += f":{uri.port}"
        if uri.params.get("transport"):
            target += f";transport={uri.params['transport']}"
    if not target:
        target = request.from_addr.uri.scheme + ":" + (request.from_addr.uri.host or peer.host)
    to_header = request.msg.headers.get_first("to") or ""
    return Dialog(
        call_id=request.call_id,
        local_tag=new_tag(),
        remote_tag=request.from_tag,
        local_header=to_header,
        remote_header=request.msg.headers.get_first("from") or "",
        remote_target=target,
        route_set=list(request.msg.headers.get("record-route")),
        peer=peer,
        local_host=local_host,
        local_port=local_port,
        invite=request,
        invite_key=key,
        remote_cseq=request.cseq.seq,
    )


def dialog_for_outgoing(
    call_id: str,
    target: str,
    from_header: str,
    peer: Peer,
    local_host: str,
    local_port: int,
    branch: str,
) -> Dialog:
    """The dialog of a call we place; the remote tag and target come with the answer."""
    return Dialog(
        call_id=call_id,
        local_tag=new_tag(),
        remote_tag="",
        local_header=from_header,
        remote_header=f"<{target}>",
        remote_target=target,
        route_set=[],
        peer=peer,
        local_host=local_host,
        local_port=local_port,
        invite=None,
        invite_key=(branch, "", "INVITE"),
        remote_cseq=0,
        outgoing=True,
    )


def contact_uri(value: str | None) -> str | None:
    """The URI inside a Contact header value."""
    if not value:
        return None
    value = value.strip()
    if "<" in value and ">" in value:
        return value[value.index("<") + 1 : value.index(">")]
    return value.split(";", 1)[0].strip() or None
