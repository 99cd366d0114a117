"""The SIP user agent server core, sans-IO (in the manner of h11 and aioquic).

Feed it what arrived (:meth:`SipCore.receive`) and the time (:meth:`handle_timers`);
take out what to send (:meth:`datagrams`) and what happened (:meth:`events`). The
application answers calls with method calls (:meth:`ring`, :meth:`accept`,
:meth:`reject`, :meth:`hangup`). Nothing here does I/O or reads a clock, so every
path — retransmissions, CANCEL races, ACK timeouts — is tested deterministically.
"""

from __future__ import annotations

import logging
import re
from collections import deque
from dataclasses import dataclass

from aiosipua import SipRequest, SipResponse
from aiosipua.headers import parse_via

from telephony.sip import events as ev
from telephony.sip.admission import Admission, Incoming
from telephony.sip.dialog import Dialog, DialogState, dialog_from_invite, new_tag
from telephony.sip.message import (
    KNOWN_METHODS,
    MAGIC_COOKIE,
    ParsedRequest,
    SipSyntaxError,
    build_response,
    check_request,
    parse,
    response_destination,
    response_usable,
    salvage_request,
)
from telephony.sip.timer_heap import TimerHeap
from telephony.sip.transaction import ClientTransaction, Peer, ServerTransaction, TxState
from telephony.sip.uac import OutgoingCalls

log = logging.getLogger(__name__)

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, NOTIFY"
SUPPORTED_EXTENSIONS = frozenset({"timer", "replaces"})
# [ \t]*, not \s*, after ^: \s* runs across line ends, so a body of 60k newlines took
# the search 44 s (every line start scanned the rest of the body).
_DTMF_RELAY = re.compile(r"^[ \t]*signal[ \t]*=[ \t]*([0-9*#A-Da-d])\s*$", re.I | re.M)
_DTMF_DURATION = re.compile(r"^[ \t]*duration[ \t]*=[ \t]*(\d+)\s*$", re.I | re.M)
_SIPFRAG = re.compile(r"^\s*SIP/2\.0\s+(\d{3})")


@dataclass(frozen=True, slots=True)
class CoreConfig:
    user_agent: str = "Loket"
    max_calls: int = 40
    retry_after_s: int = 30


class SipCore:
    """One UAS: many dialogs, their transactions, and the timers between them."""

    def __init__(
        self, config: CoreConfig | None = None, admission: Admission | None = None
    ) -> None:
        self.config = config or CoreConfig()
        self.admission = admission
        """Who may talk to us (allowlist, digest, rate limits, scanners); None: everyone."""
        self.dialogs: dict[str, Dialog] = {}
        self._server_tx: dict[tuple[str, ...], ServerTransaction] = {}
        self._client_tx: dict[str, ClientTransaction] = {}
        self._server_timers = TimerHeap[tuple[str, ...]](self._server_deadline)
        self._client_timers = TimerHeap[str](self._client_deadline)
        self._out: list[tuple[bytes, Peer]] = []
        self._events: deque[ev.Event] = deque()
        self.accepting = True
        """False while shutting down: new INVITEs get 503."""
        self.uac = OutgoingCalls(self)

    # ------------------------------------------------------------------ outputs

    def datagrams(self) -> list[tuple[bytes, Peer]]:
        out, self._out = self._out, []
        return out

    def events(self) -> list[ev.Event]:
        out = list(self._events)
        self._events.clear()
        return out

    @property
    def active_calls(self) -> int:
        return sum(1 for d in self.dialogs.values() if d.state is not DialogState.TERMINATED)

    def next_timer(self) -> float | None:
        deadlines = [
            t
            for t in (
                self._server_timers.earliest(),
                self._client_timers.earliest(),
                self.uac.next_timer(),
            )
            if t is not None
        ]
        return min(deadlines) if deadlines else None

    def _server_deadline(self, key: tuple[str, ...]) -> float | None:
        stx = self._server_tx.get(key)
        return None if stx is None else stx.next_deadline()

    def _client_deadline(self, branch: str) -> float | None:
        ctx = self._client_tx.get(branch)
        return None if ctx is None else ctx.next_deadline()

    def _watch(self, stx: ServerTransaction) -> None:
        """Called after anything that may move a server transaction's timers."""
        self._server_timers.watch(stx.key, stx.next_deadline())

    def _watch_client(self, branch: str) -> None:
        """Called after anything that may move a client transaction's timers."""
        self._client_timers.watch(branch, self._client_deadline(branch))

    # ------------------------------------------------------------------ input

    def receive(self, data: bytes, peer: Peer, now: float, local: tuple[str, int]) -> None:
        """Handle one message; *local* is the address it arrived on (for Contact)."""
        if not data.strip():
            return  # keep-alive (RFC 5626 CRLF) or empty datagram
        try:
            msg = parse(data)
        except ValueError as exc:
            salvaged = salvage_request(data)
            if salvaged is not None and salvaged.method.upper() != "ACK":
                self._send_stateless(salvaged, peer, 400, reason=f"Bad Request ({exc})"[:120])
            else:
                log.debug("sip.drop_unparseable", extra={"size": len(data)})
            return
        if isinstance(msg, SipResponse):
            if response_usable(msg):
                self._on_response(msg, now)
            else:
                log.debug("sip.drop_bad_response", extra={"size": len(data)})
            return
        try:
            request = check_request(msg)
        except SipSyntaxError as err:
            if msg.method.upper() != "ACK":  # never answer an ACK (§17.2.1 / §8.2)
                reason = f"{'Bad Request' if err.status == 400 else ''} ({err.detail})".strip()
                self._send_stateless(
                    msg, peer, err.status, reason=reason if err.status == 400 else None
                )
            return
        self._on_request(request, peer, now, local)

    def handle_timers(self, now: float) -> None:
        self.uac.handle_timers(now)
        for key in self._server_timers.due(now):
            stx = self._server_tx[key]
            resend = stx.on_timer(now)
            if resend is not None:
                self._out.append((resend, stx.destination))
            if stx.state is TxState.TERMINATED:
                del self._server_tx[key]
                if stx.timed_out:
                    self._on_ack_timeout(key, now)
            else:
                self._watch(stx)
        for branch in self._client_timers.due(now):
            ctx = self._client_tx[branch]
            resend, timed_out = ctx.on_timer(now)
            if resend is not None:
                self._out.append((resend, ctx.peer))
            if timed_out:
                self._events.append(ev.RequestDone(ctx.call_id, ctx.method, 408))
            if ctx.state is TxState.TERMINATED:
                del self._client_tx[branch]
            else:
                self._watch_client(branch)

    # ------------------------------------------------------------------ commands

    def ring(self, call_id: str, now: float) -> None:
        early = self._early(call_id)
        if early is not None:
            self._respond(early[0], early[1], 180, now, with_contact=True)

    def accept(self, call_id: str, sdp: bytes, now: float) -> None:
        """200 OK with our SDP (an answer, or an offer when the INVITE had none)."""
        early = self._early(call_id)
        if early is None:
            return
        dialog, invite = early
        dialog.offer_in_ack = not invite.msg.body
        dialog.state = DialogState.ACCEPTED
        self._respond(dialog, invite, 200, now, with_contact=True, body=sdp)

    def reject(
        self,
        call_id: str,
        status: int,
        now: float,
        *,
        reason: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        early = self._early(call_id)
        if early is None:
            return
        dialog, invite = early
        self._respond(dialog, invite, status, now, reason=reason, headers=headers)
        self._terminate(dialog, "gateway", f"rejected {status}")

    def adopt(self, dialog: Dialog) -> bool:
        """Take over a confirmed dialog another process left (to send its BYE); False if
        a dialog with its Call-ID is already here."""
        if dialog.call_id in self.dialogs:
            return False
        self.dialogs[dialog.call_id] = dialog
        return True

    def hangup(self, call_id: str, now: float, reason: str = "hangup") -> None:
        """End the call from our side: BYE if answered, 480 while still ringing."""
        dialog = self.dialogs.get(call_id)
        if dialog is None or dialog.state is DialogState.TERMINATED:
            return
        if dialog.state is DialogState.EARLY and dialog.outgoing:
            self.uac.cancel(call_id, now)
            self._terminate(dialog, "gateway", reason)
            return
        if dialog.state is DialogState.EARLY:
            self.reject(call_id, 480, now, reason="Temporarily Unavailable")
            return
        if dialog.state is DialogState.ACCEPTED:
            dialog.bye_pending = True  # §15: wait for the ACK (or its timeout) first
            return
        self._send_bye(dialog, now)
        self._terminate(dialog, "gateway", reason)

    def answer_session(
        self, event: ev.SessionOffer, status: int, sdp: bytes | None, now: float
    ) -> None:
        """Answer a re-INVITE or UPDATE reported as a :class:`SessionOffer`."""
        dialog = self.dialogs.get(event.call_id)
        if dialog is None:
            return
        dialog.offer_pending = False
        self._respond(
            dialog, event.request, status, now, with_contact=status < 300, body=sdp or b""
        )

    def send_in_dialog(
        self,
        call_id: str,
        method: str,
        now: float,
        *,
        body: bytes = b"",
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> bool:
        dialog = self.dialogs.get(call_id)
        if dialog is None or dialog.state is not DialogState.CONFIRMED:
            return False
        self._send_request(
            dialog, method, now, body=body, content_type=content_type, headers=headers
        )
        return True

    # ------------------------------------------------------------------ requests

    def _tx_key(self, request: ParsedRequest, method: str | None = None) -> tuple[str, ...]:
        method = (method or request.method).upper()
        via = request.top_via
        sent_by = f"{via.host}:{via.port or ''}"
        if request.branch.startswith(MAGIC_COOKIE):
            return (request.branch, sent_by, method)
        # RFC 2543 peers: match on the fields §17.2.3 lists for them
        return ("2543", request.call_id, str(request.cseq.seq), request.from_tag, sent_by, method)

    def _on_request(
        self, request: ParsedRequest, peer: Peer, now: float, local: tuple[str, int]
    ) -> None:
        if self.admission is not None and not self._admitted(request, peer, now):
            return
        method = request.method.upper()
        if method == "ACK":
            self._on_ack(request, now)
            return
        key = self._tx_key(request)
        existing = self._server_tx.get(key)
        if existing is not None:
            resend = existing.on_retransmission()
            if resend is not None:
                self._out.append((resend, existing.destination))
            return
        if method == "CANCEL":
            self._on_cancel(request, peer, now)
            return
        unsupported = _unsupported_required(request.msg)
        if unsupported:  # §8.2.2.3: any request but ACK and CANCEL (RFC 4475 bext01)
            self._reply(request, peer, 420, now, headers={"Unsupported": ", ".join(unsupported)})
            return
        if request.to_tag:
            self._on_in_dialog(request, peer, now)
            return
        self._on_out_of_dialog(request, peer, now, local)

    def _admitted(self, request: ParsedRequest, peer: Peer, now: float) -> bool:
        """Ask the admission policy; carry out a refusal (drop, 401/403, stateless 503)."""
        assert self.admission is not None
        method = request.method.upper()
        dialog = self.dialogs.get(request.call_id)
        ongoing = (
            dialog is not None
            and dialog.state is not DialogState.TERMINATED
            and request.from_tag == dialog.remote_tag
            and request.to_tag in ("", dialog.local_tag)
        )
        decision = self.admission.check(
            Incoming(
                source=peer.host,
                transport=peer.transport,
                method=method,
                user_agent=request.msg.headers.get_first("user-agent") or "",
                dialog=request.call_id if ongoing else None,
                retransmission=method not in ("ACK", "CANCEL")
                and self._tx_key(request) in self._server_tx,
                authorization=request.msg.headers.get("authorization"),
            ),
            now,
        )
        if decision.action == "admit":
            return True
        if decision.action == "reply":
            resp = build_response(
                request.msg,
                decision.status,
                reason=decision.phrase,
                to_tag=new_tag(),
                headers={"Server": self.config.user_agent},
            )
            for name, value in decision.headers:
                resp.headers.append(name, value)
            data = bytes(resp)
            if decision.stateless:  # a flood: no transaction state for it
                host, port = response_destination(request.top_via, peer.addr)
                self._out.append((data, peer if peer.reliable else Peer("udp", host, port)))
            else:  # absorbs retransmissions, and the ACK of a 401 (§17.2.1)
                stx = self._new_server_tx(request, peer)
                stx.respond(data, decision.status, now)
                self._watch(stx)
                self._out.append((data, stx.destination))
        return False

    def _new_server_tx(self, request: ParsedRequest, peer: Peer) -> ServerTransaction:
        if peer.reliable:
            destination = peer
        else:
            host, port = response_destination(request.top_via, peer.addr)
            destination = Peer("udp", host, port)
        key = self._tx_key(request)
        stx = ServerTransaction(
            key=key, method=request.method.upper(), peer=peer, destination=destination
        )
        self._server_tx[key] = stx
        return stx

    def _reply(
        self,
        request: ParsedRequest,
        peer: Peer,
        status: int,
        now: float,
        *,
        to_tag: str | None = None,
        reason: str | None = None,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
    ) -> None:
        """Respond through a (new or existing) server transaction."""
        stx = self._server_tx.get(self._tx_key(request)) or self._new_server_tx(request, peer)
        hdrs = {"Server": self.config.user_agent}
        hdrs.update(headers or {})
        tag = (
            to_tag
            if to_tag is not None
            else (new_tag() if status > 100 and not request.to_tag else None)
        )
        resp = build_response(
            request.msg, status, reason=reason, to_tag=tag, headers=hdrs, body=body
        )
        data = bytes(resp)
        stx.respond(data, status, now)
        self._watch(stx)
        self._out.append((data, stx.destination))

    def _respond(
        self,
        dialog: Dialog,
        request: ParsedRequest,
        status: int,
        now: float,
        *,
        with_contact: bool = False,
        reason: str | None = None,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
    ) -> None:
        hdrs: dict[str, str] = {}
        if with_contact:
            hdrs["Contact"] = dialog.contact(dialog.peer.transport)
            hdrs["Allow"] = ALLOW
            hdrs["Supported"] = "replaces"
        hdrs.update(headers or {})
        self._reply(
            request,
            dialog.peer,
            status,
            now,
            to_tag=dialog.local_tag,
            reason=reason,
            headers=hdrs,
            body=body,
        )

    def _send_stateless(
        self, msg: SipRequest, peer: Peer, status: int, *, reason: str | None = None
    ) -> None:
        """An error response outside any transaction (the request was unusable)."""
        resp = build_response(
            msg, status, reason=reason, to_tag=new_tag(), headers={"Server": self.config.user_agent}
        )
        if peer.reliable:
            self._out.append((bytes(resp), peer))
            return
        try:
            host, port = response_destination(parse_via(msg.headers.get("via")[0]), peer.addr)
        except (ValueError, IndexError):
            host, port = peer.addr
        self._out.append((bytes(resp), Peer("udp", host, port)))

    def _on_out_of_dialog(
        self, request: ParsedRequest, peer: Peer, now: float, local: tuple[str, int]
    ) -> None:
        method = request.method.upper()
        if method == "INVITE":
            self._on_invite(request, peer, now, local)
        elif method == "OPTIONS":
            self._reply(
                request,
                peer,
                200,
                now,
                headers={"Allow": ALLOW, "Accept": "application/sdp", "Supported": "replaces"},
            )
        elif method in ("BYE", "INFO", "UPDATE", "PRACK", "NOTIFY"):
            self._reply(request, peer, 481, now)
        elif method in KNOWN_METHODS:
            self._reply(request, peer, 405, now, headers={"Allow": ALLOW})
        else:
            self._reply(request, peer, 501, now, headers={"Allow": ALLOW})

    def _on_invite(
        self, request: ParsedRequest, peer: Peer, now: float, local: tuple[str, int]
    ) -> None:
        existing = self.dialogs.get(request.call_id)
        if existing is not None and existing.state is not DialogState.TERMINATED:
            # Same Call-ID, no To-tag, new branch: a merged or looped request (§8.2.2.2).
            self._reply(request, peer, 482, now)
            return
        ctype = (request.msg.content_type or "").split(";")[0].strip().lower()
        if request.msg.body and ctype != "application/sdp":
            self._reply(request, peer, 415, now, headers={"Accept": "application/sdp"})
            return
        if not _accepts_sdp(request.msg):
            # our 200 must carry SDP, which the caller says it cannot take (RFC 4475 sdp01)
            self._reply(request, peer, 406, now, headers={"Accept": "application/sdp"})
            return
        if not self.accepting or self.active_calls >= self.config.max_calls:
            self._reply(
                request, peer, 503, now, headers={"Retry-After": str(self.config.retry_after_s)}
            )
            return
        key = self._tx_key(request)
        dialog = dialog_from_invite(request, peer, key, local[0], local[1])
        self.dialogs[request.call_id] = dialog
        stx = self._new_server_tx(request, peer)
        # 100 Trying at once, so the caller's Timer A stops (§17.2.1)
        resp = build_response(request.msg, 100, headers={"Server": self.config.user_agent})
        data = bytes(resp)
        stx.respond(data, 100, now)
        self._watch(stx)
        self._out.append((data, stx.destination))
        sdp = request.msg.body or None
        self._events.append(ev.IncomingCall(request.call_id, request, peer, local, sdp))

    def _on_ack(self, request: ParsedRequest, now: float) -> None:
        # ACK for a non-2xx final: same branch as the INVITE (§17.2.1)
        stx = self._server_tx.get(self._tx_key(request, "INVITE"))
        if stx is not None and stx.state is TxState.COMPLETED:
            stx.on_ack(now)
            self._watch(stx)
            return
        dialog = self.dialogs.get(request.call_id)
        if dialog is None or not dialog.matches(request):
            return  # stray ACK: never answered
        for key in (dialog.invite_key, dialog.reinvite_key):
            tx = self._server_tx.get(key) if key else None
            if tx is not None and tx.state is TxState.ACCEPTED:
                tx.on_ack(now)
                self._watch(tx)
        if dialog.state is DialogState.ACCEPTED:
            dialog.state = DialogState.CONFIRMED
            answer = request.msg.body if dialog.offer_in_ack else None
            self._events.append(ev.CallConfirmed(dialog.call_id, answer or None))
            if dialog.bye_pending:
                self._send_bye(dialog, now)
                self._terminate(dialog, "gateway", "hangup")

    def _on_cancel(self, request: ParsedRequest, peer: Peer, now: float) -> None:
        stx = self._server_tx.get(self._tx_key(request, "INVITE"))
        dialog = self.dialogs.get(request.call_id)
        if stx is None or dialog is None or dialog.invite_key != stx.key:
            self._reply(request, peer, 481, now)
            return
        self._reply(request, peer, 200, now, to_tag=dialog.local_tag)
        if dialog.state is DialogState.EARLY and dialog.invite is not None:
            self._respond(dialog, dialog.invite, 487, now)
            self._terminate(dialog, "caller", "cancelled")
            self._events.append(ev.CallCancelled(dialog.call_id))

    def _on_in_dialog(self, request: ParsedRequest, peer: Peer, now: float) -> None:
        dialog = self.dialogs.get(request.call_id)
        method = request.method.upper()
        if dialog is None or dialog.state is DialogState.TERMINATED or not dialog.matches(request):
            self._reply(request, peer, 481, now)
            return
        if request.cseq.seq <= dialog.remote_cseq:
            self._reply(request, peer, 500, now, reason="Server Internal Error (CSeq out of order)")
            return
        dialog.remote_cseq = request.cseq.seq
        if method == "BYE":
            self._reply(request, peer, 200, now)
            self._terminate(dialog, "caller", "bye")
        elif method in ("INVITE", "UPDATE"):
            if dialog.offer_pending:
                # §14.2: an offer while the previous one is unanswered
                self._reply(request, peer, 500, now, headers={"Retry-After": "1"})
                return
            ctype = (request.msg.content_type or "").split(";")[0].strip().lower()
            if request.msg.body and ctype != "application/sdp":
                self._reply(request, peer, 415, now, headers={"Accept": "application/sdp"})
                return
            self._new_server_tx(request, peer)
            dialog.offer_pending = True
            if method == "INVITE":
                dialog.reinvite_key = self._tx_key(request)
            self._events.append(ev.SessionOffer(dialog.call_id, request, request.msg.body or None))
        elif method == "INFO":
            self._on_info(dialog, request, peer, now)
        elif method == "NOTIFY":
            self._on_notify(dialog, request, peer, now)
        elif method == "OPTIONS":
            self._reply(
                request, peer, 200, now, headers={"Allow": ALLOW, "Accept": "application/sdp"}
            )
        elif method in KNOWN_METHODS:
            self._reply(request, peer, 405, now, headers={"Allow": ALLOW})
        else:
            self._reply(request, peer, 501, now, headers={"Allow": ALLOW})

    def _on_info(self, dialog: Dialog, request: ParsedRequest, peer: Peer, now: float) -> None:
        ctype = (request.msg.content_type or "").split(";")[0].strip().lower()
        body = request.msg.text
        digit: str | None = None
        duration = 160
        if ctype == "application/dtmf-relay":
            match = _DTMF_RELAY.search(body)
            if match:
                digit = match.group(1).upper()
            dur = _DTMF_DURATION.search(body)
            if dur:
                duration = int(dur.group(1))
        elif ctype == "application/dtmf":
            text = body.strip()
            if len(text) == 1 and text.upper() in "0123456789*#ABCD":
                digit = text.upper()
        elif request.msg.body:
            self._reply(request, peer, 415, now, headers={"Accept": "application/dtmf-relay"})
            return
        if request.msg.body and digit is None:
            self._reply(request, peer, 400, now, reason="Bad Request (no DTMF signal in body)")
            return
        self._reply(request, peer, 200, now)
        if digit is not None:
            self._events.append(ev.Dtmf(dialog.call_id, digit, duration, "info"))

    def _on_notify(self, dialog: Dialog, request: ParsedRequest, peer: Peer, now: float) -> None:
        event = (request.msg.headers.get_first("event") or "").split(";")[0].strip().lower()
        if event != "refer":
            self._reply(request, peer, 489, now, reason="Bad Event")
            return
        self._reply(request, peer, 200, now)
        match = _SIPFRAG.match(request.msg.text)
        state = (request.msg.headers.get_first("subscription-state") or "").lower()
        if match:
            status = int(match.group(1))
            final = status >= 200 or state.startswith("terminated")
            self._events.append(ev.ReferNotify(dialog.call_id, status, final))

    # ------------------------------------------------------------------ responses

    def _on_response(self, resp: SipResponse, now: float) -> None:
        if self.uac.on_response(resp, now):
            return
        vias = resp.via
        if not vias or not vias[0].branch:
            return
        ctx = self._client_tx.get(vias[0].branch)
        if ctx is None:
            return  # a retransmitted or unknown response: dropped (§17.1.3)
        done = ctx.on_response(resp.status_code, now)
        self._watch_client(vias[0].branch)
        if done:
            self._events.append(ev.RequestDone(ctx.call_id, ctx.method, resp.status_code))

    # ------------------------------------------------------------------ helpers

    def _early(self, call_id: str) -> tuple[Dialog, ParsedRequest] | None:
        """An incoming call not answered yet (ours to ring, accept or reject)."""
        dialog = self.dialogs.get(call_id)
        if dialog is None or dialog.state is not DialogState.EARLY or dialog.invite is None:
            return None
        return dialog, dialog.invite

    def _send_request(
        self,
        dialog: Dialog,
        method: str,
        now: float,
        *,
        body: bytes = b"",
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        req, branch = dialog.build_request(
            method,
            user_agent=self.config.user_agent,
            body=body,
            content_type=content_type,
            headers=headers,
        )
        data = bytes(req)
        self._client_tx[branch] = ClientTransaction(
            branch=branch,
            method=method,
            data=data,
            peer=dialog.peer,
            call_id=dialog.call_id,
            started=now,
        )
        self._watch_client(branch)
        self._out.append((data, dialog.peer))

    def _send_bye(self, dialog: Dialog, now: float) -> None:
        self._send_request(dialog, "BYE", now)

    def _terminate(self, dialog: Dialog, by: str, reason: str) -> None:
        if dialog.state is DialogState.TERMINATED:
            return
        dialog.state = DialogState.TERMINATED
        self._events.append(ev.CallEnded(dialog.call_id, by, reason))

    def _on_ack_timeout(self, key: tuple[str, ...], now: float) -> None:
        for dialog in self.dialogs.values():
            if dialog.invite_key == key and dialog.state is DialogState.ACCEPTED:
                # §13.3.1.4: no ACK for our 2xx — the session is ended with a BYE.
                dialog.state = DialogState.CONFIRMED
                self._send_bye(dialog, now)
                self._terminate(dialog, "timeout", "no ACK")
                return

    def forget(self, call_id: str) -> None:
        """Drop a terminated dialog once the application has released the call."""
        dialog = self.dialogs.get(call_id)
        if dialog is not None and dialog.state is DialogState.TERMINATED:
            del self.dialogs[call_id]
            self.uac.forget(call_id)

    # ------------------------------------------------------------------ calls we place

    def refer(
        self, call_id: str, target: str, now: float, headers: dict[str, str] | None = None
    ) -> bool:
        """Ask the far end to call *target* itself (RFC 3515); progress comes as ReferNotify."""
        hdrs = {"Refer-To": f"<{target}>"}
        hdrs.update(headers or {})
        return self.send_in_dialog(call_id, "REFER", now, headers=hdrs)


def _unsupported_required(msg: SipRequest) -> list[str]:
    """Option tags in Require we lack; one header may list several ("timer, replaces")."""
    required = [t.strip() for v in msg.headers.get("require") for t in v.split(",")]
    return [t for t in required if t and t.lower() not in SUPPORTED_EXTENSIONS]


def _accepts_sdp(msg: SipRequest) -> bool:
    """No Accept header means application/sdp (RFC 3261 §20.1)."""
    values = msg.headers.get("accept")
    if not values:
        return True
    ranges = {r.split(";")[0].strip().lower() for v in values for r in v.split(",")}
    return bool(ranges & {"application/sdp", "application/*", "*/*"})
